/*
 * ix_worker.c: tokenizing new documents into the pending postings, norms
 * and filter bitmaps of a write transaction (ix_write_int.h). A small
 * transaction does it inline; a bulk load hands copies of the documents,
 * in chains, to one worker thread so that tokenizing overlaps the store's
 * own work. The worker owns the term table, the log and the norms while it
 * runs; hx_ix_drain waits for it before anyone else reads them.
 */
#include <stdlib.h>
#include <string.h>
#include "store/ix_write_int.h"

struct attr_add {
	struct hx_ix_pending *p;
	uint32_t doc;
};

static int attr_add_cb(void *arg, const char *key, size_t klen)
{
	struct attr_add *a = arg;
	struct hx_ix_pending *p = a->p;
	uint32_t i;
	int rc = hx_ix_tab_get(&p->attrs, key, klen, &i);
	if (rc)
		return rc;
	struct tent *e = &p->attrs.e[i];
	if (e->count == 0) {
		roaring_bitmap_t **nb = hx_grow(p->abm, &p->capabm, p->nabm + 1, sizeof *nb);
		if (!nb)
			return HX_ENOMEM;
		p->abm = nb;
		if (!(p->abm[p->nabm] = roaring_bitmap_create()))
			return HX_ENOMEM;
		e->aux = (uint32_t)p->nabm++;
		e->count = 1;
	}
	roaring_bitmap_add(p->abm[e->aux], a->doc);
	return HX_OK;
}

int hx_ix_accumulate(struct hx_ix_pending *p, const hx_entry *e, const char *files, uint32_t doc)
{
	int rc;
	if ((rc = hx_ix_doc_terms(&p->terms, &p->dt, e, files, doc)))
		return rc;
	struct plog *nl = hx_grow(p->log, &p->caplog, p->nlog + p->dt.n, sizeof *nl);
	if (!nl)
		return HX_ENOMEM;
	p->log = nl;
	for (size_t i = 0; i < p->dt.n; i++) {
		struct tent *t = &p->terms.e[p->dt.idx[i]];
		struct plog *l = &p->log[p->nlog++];
		l->term = p->dt.idx[i];
		l->doc = doc;
		memcpy(l->tf, t->tf, sizeof l->tf);
		t->count++;
	}
	size_t k = doc - p->first_doc;
	hx_ix_norm *nn = hx_grow(p->norms, &p->capnorms, k + 1, sizeof *nn);
	if (!nn)
		return HX_ENOMEM;
	p->norms = nn;
	hx_ix_norm *nm = &p->norms[k];
	memcpy(nm->len, p->dt.len, sizeof nm->len);
	if (nm->len[HX_F_FILES] > 0xffffff) /* as the norm record keeps it */
		nm->len[HX_F_FILES] = 0xffffff;
	nm->day1 = hx_ix_day1(e->timestamp);
	nm->lang = hx_stem_lang(e->lang);
	struct attr_add aa = { p, doc };
	return hx_ix_doc_attrs(e, attr_add_cb, &aa);
}

/* A copy of what the tokenizer needs of e, in one allocation. */
static struct job *job_new(const hx_entry *e, uint32_t doc)
{
	size_t need = sizeof(struct job), nt = e->ntags;
	const char *org = hx_entry_meta(e, "org"), *country = hx_entry_meta(e, "country");
	const char *strs[6] = { e->title, e->body, e->lang, e->kind, org, country };
	for (int i = 0; i < 6; i++)
		need += strs[i] ? strlen(strs[i]) + 1 : 0;
	need += nt * sizeof(char *);
	for (size_t i = 0; i < nt; i++)
		need += strlen(e->tags[i]) + 1;
	struct job *j = malloc(need);
	if (!j)
		return NULL;
	memset(j, 0, sizeof *j);
	j->doc = doc;
	j->e.timestamp = e->timestamp;
	memcpy(j->e.author, e->author, HX_KEY_LEN);
	memcpy(j->e.id, e->id, HX_ID_LEN);
	char **tags = (char **)(j + 1);
	char *w = (char *)(tags + nt);
	char *dst[6];
	for (int i = 0; i < 6; i++) {
		dst[i] = NULL;
		if (strs[i]) {
			size_t l = strlen(strs[i]) + 1;
			memcpy(w, strs[i], l);
			dst[i] = w;
			w += l;
		}
	}
	for (size_t i = 0; i < nt; i++) {
		size_t l = strlen(e->tags[i]) + 1;
		memcpy(w, e->tags[i], l);
		tags[i] = w;
		w += l;
	}
	j->e.title = dst[0];
	j->e.body = dst[1];
	j->e.lang = dst[2];
	j->e.kind = dst[3];
	j->e.tags = tags;
	j->e.ntags = nt;
	j->e.meta = j->meta;
	if (dst[4])
		j->meta[j->e.nmeta++] = (hx_meta){ "org", dst[4] };
	if (dst[5])
		j->meta[j->e.nmeta++] = (hx_meta){ "country", dst[5] };
	return j;
}

static void *worker_main(void *arg)
{
	struct hx_ix_pending *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->qlen && !p->stop)
			pthread_cond_wait(&p->cv_job, &p->mu);
		if (!p->qlen)
			break;
		struct job *j = p->q[p->qhead];
		p->qhead = (p->qhead + 1) % HX_IX_QCAP;
		p->qlen--;
		p->busy = 1;
		pthread_cond_signal(&p->cv_space);
		pthread_mutex_unlock(&p->mu);
		int rc = HX_OK;
		while (j) {
			struct job *nx = j->next;
			if (!rc && !p->werr)
				rc = hx_ix_accumulate(p, &j->e, j->files, j->doc);
			free(j->files);
			free(j);
			j = nx;
		}
		pthread_mutex_lock(&p->mu);
		if (rc && !p->werr)
			p->werr = rc;
		p->busy = 0;
		p->published_log = p->nlog;
		if (!p->qlen)
			pthread_cond_broadcast(&p->cv_idle);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Queues the chain being filled (waits while the queue is full). */
static void hand_over(struct hx_ix_pending *p)
{
	if (!p->bhead)
		return;
	pthread_mutex_lock(&p->mu);
	while (p->qlen == HX_IX_QCAP)
		pthread_cond_wait(&p->cv_space, &p->mu);
	p->q[(p->qhead + p->qlen) % HX_IX_QCAP] = p->bhead;
	p->qlen++;
	pthread_cond_signal(&p->cv_job);
	pthread_mutex_unlock(&p->mu);
	p->bhead = p->btail = NULL;
	p->bn = 0;
}

int hx_ix_worker_start(struct hx_ix_pending *p)
{
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_job, NULL);
	pthread_cond_init(&p->cv_idle, NULL);
	pthread_cond_init(&p->cv_space, NULL);
	p->stop = p->busy = 0;
	p->qhead = p->qlen = 0;
	if (pthread_create(&p->thread, NULL, worker_main, p)) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv_job);
		pthread_cond_destroy(&p->cv_idle);
		pthread_cond_destroy(&p->cv_space);
		return -1;
	}
	p->have_worker = 1;
	return 0;
}

int hx_ix_worker_add(struct hx_ix_pending *p, const hx_entry *e, char *files, uint32_t doc,
                     size_t *nlog)
{
	struct job *j = job_new(e, doc);
	int werr = 0;
	*nlog = 0;
	if (!j) {
		free(files);
		return HX_ENOMEM;
	}
	j->files = files;
	if (p->btail)
		p->btail->next = j;
	else
		p->bhead = j;
	p->btail = j;
	if (++p->bn == HX_IX_BATCH) {
		hand_over(p);
		pthread_mutex_lock(&p->mu);
		*nlog = p->published_log;
		werr = p->werr;
		pthread_mutex_unlock(&p->mu);
	}
	return werr;
}

int hx_ix_drain(struct hx_ix_pending *p)
{
	if (p->have_worker) {
		hand_over(p);
		pthread_mutex_lock(&p->mu);
		while (p->qlen || p->busy)
			pthread_cond_wait(&p->cv_idle, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	return p->werr;
}

void hx_ix_worker_stop(struct hx_ix_pending *p)
{
	if (!p->have_worker)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv_job);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	for (unsigned i = 0; i <= p->qlen; i++) {
		struct job *j = i < p->qlen ? p->q[(p->qhead + i) % HX_IX_QCAP] : p->bhead;
		while (j) {
			struct job *nx = j->next;
			free(j->files);
			free(j);
			j = nx;
		}
	}
	p->qlen = 0;
	p->bhead = p->btail = NULL;
	p->bn = 0;
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv_job);
	pthread_cond_destroy(&p->cv_idle);
	pthread_cond_destroy(&p->cv_space);
	p->have_worker = 0;
}
