/*
 * verify.c: the verification pool (see verify.h). Workers sleep on a
 * condition variable; a batch is a shared job array with a next-index
 * counter that the caller and the workers take jobs from, so that a slow
 * job never holds back the others. A hand-written pool rather than a
 * library: it is 100 lines of pthreads and the project has no thread-pool
 * dependency.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "node/verify.h"

#define MAX_WORKERS 7
#define INLINE_BELOW 8 /* smaller batches are not worth waking threads */
#define CHUNK 16       /* jobs a thread takes at once, at most */

struct hx_vpool {
	pthread_mutex_t mu;
	pthread_cond_t work, finished;
	pthread_t tid[MAX_WORKERS];
	unsigned nthreads;
	int quit;
	uint64_t generation;
	hx_vjob *jobs;
	size_t n, next, done;
	uint64_t max_ts;
	hx_vknown_fn known;
	void *known_arg;
	/* the stream (hx_vpool_submit): jobs queued, taken from qhead on */
	hx_vjob **q;
	size_t qhead, qn, qcap;
	uint64_t streamed; /* hx_vpool_streamed (atomic) */
	unsigned waiting;  /* threads in hx_vpool_wait */
};

/* Decodes, checks and verifies the k jobs js (at most CHUNK), asking
 * known once for those that decoded, and marks each done (for a stream's
 * jobs, stream 1) as soon as it is. */
static void some(hx_vpool *p, hx_vjob *const *js, size_t k, int stream)
{
	const uint8_t *ids[CHUNK];
	uint8_t known[CHUNK];
	hx_vjob *dec[CHUNK];
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		hx_vjob *j = js[i];
		if ((j->rc = hx_entry_decode(&j->e, j->raw, j->len))) {
			crypto_generichash(j->id, HX_ID_LEN, j->raw, j->len, NULL, 0);
			if (stream)
				__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
			continue;
		}
		memcpy(j->id, j->e.id, HX_ID_LEN);
		ids[m] = j->id;
		dec[m++] = j;
	}
	memset(known, 0, m);
	/* a hash and a lookup are cheaper than a verification */
	if (p->known && m)
		p->known(p->known_arg, ids, m, known);
	for (size_t i = 0; i < m; i++) {
		hx_vjob *j = dec[i];
		if (known[i])
			j->rc = HX_EEXIST;
		else if ((j->rc = hx_entry_verify(&j->e)) == HX_OK && j->e.timestamp > j->max_ts)
			j->rc = HX_EFUTURE;
		if (j->rc)
			hx_entry_clear(&j->e);
		if (stream)
			__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	}
}

/* How many jobs a thread takes at once out of left: its share of them,
 * 1 to CHUNK, so that every thread has work and a short queue (a live
 * push) waits for no one. */
static size_t take(const hx_vpool *p, size_t left)
{
	size_t k = left / (p->nthreads + 1);
	return k < 1 ? 1 : k > CHUNK ? CHUNK : k;
}

/* Takes and does jobs until none is left; returns with mu held. */
static void drain(hx_vpool *p)
{
	while (p->next < p->n) {
		hx_vjob *js[CHUNK];
		size_t k = take(p, p->n - p->next);
		for (size_t i = 0; i < k; i++) {
			js[i] = &p->jobs[p->next++];
			js[i]->max_ts = p->max_ts;
		}
		pthread_mutex_unlock(&p->mu);
		some(p, js, k, 0);
		pthread_mutex_lock(&p->mu);
		if ((p->done += k) == p->n)
			pthread_cond_broadcast(&p->finished);
	}
}

/* Takes and does a few jobs of the stream, with mu held (released while
 * working); 0 when none is queued. */
static int stream_one(hx_vpool *p)
{
	if (p->qhead == p->qn)
		return 0;
	hx_vjob *js[CHUNK];
	size_t k = take(p, p->qn - p->qhead);
	memcpy(js, p->q + p->qhead, k * sizeof *js);
	p->qhead += k;
	if (p->qhead == p->qn)
		p->qhead = p->qn = 0;
	pthread_mutex_unlock(&p->mu);
	some(p, js, k, 1);
	__atomic_add_fetch(&p->streamed, k, __ATOMIC_RELAXED);
	pthread_mutex_lock(&p->mu);
	if (p->waiting)
		pthread_cond_broadcast(&p->finished);
	return 1;
}

static void *worker(void *arg)
{
	hx_vpool *p = arg;
	uint64_t seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->generation == seen && p->qhead == p->qn)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit)
			break;
		if (stream_one(p))
			continue;
		seen = p->generation;
		drain(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int hx_vpool_new(hx_vpool **out, unsigned threads)
{
	hx_vpool *p = calloc(1, sizeof *p);
	*out = NULL;
	if (!p)
		return HX_ENOMEM;
	if (threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 1 ? (unsigned)cpus : 1;
	}
	threads--; /* the caller works too */
	if (threads > MAX_WORKERS)
		threads = MAX_WORKERS;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->finished, NULL);
	for (; p->nthreads < threads; p->nthreads++)
		if (pthread_create(&p->tid[p->nthreads], NULL, worker, p))
			break; /* fewer workers still work */
	*out = p;
	return HX_OK;
}

void hx_vpool_destroy(hx_vpool **pp)
{
	if (!pp || !*pp)
		return;
	hx_vpool *p = *pp;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->tid[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->finished);
	free(p->q);
	free(p);
	*pp = NULL;
}

void hx_vpool_start(hx_vpool *p, hx_vjob *jobs, size_t n, uint64_t max_ts)
{
	pthread_mutex_lock(&p->mu);
	p->jobs = jobs;
	p->n = n;
	p->next = p->done = 0;
	p->max_ts = max_ts;
	p->generation++;
	if (p->nthreads)
		pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void hx_vpool_finish(hx_vpool *p)
{
	pthread_mutex_lock(&p->mu);
	drain(p);
	while (p->done < p->n)
		pthread_cond_wait(&p->finished, &p->mu);
	p->jobs = NULL;
	p->n = p->next = p->done = 0;
	pthread_mutex_unlock(&p->mu);
}

void hx_vpool_run(hx_vpool *p, hx_vjob *jobs, size_t n, uint64_t max_ts)
{
	if (n < INLINE_BELOW || p->nthreads == 0) {
		for (size_t i = 0; i < n; i += CHUNK) {
			hx_vjob *js[CHUNK];
			size_t k = n - i < CHUNK ? n - i : CHUNK;
			for (size_t t = 0; t < k; t++) {
				js[t] = &jobs[i + t];
				js[t]->max_ts = max_ts;
			}
			some(p, js, k, 0);
		}
		return;
	}
	hx_vpool_start(p, jobs, n, max_ts);
	hx_vpool_finish(p);
}

void hx_vpool_set_known(hx_vpool *p, hx_vknown_fn known, void *arg)
{
	p->known = known;
	p->known_arg = arg;
}

unsigned hx_vpool_threads(const hx_vpool *p)
{
	return p->nthreads + 1;
}

int hx_vpool_submit(hx_vpool *p, hx_vjob *jobs, size_t n)
{
	pthread_mutex_lock(&p->mu);
	if (p->qhead) { /* what was taken makes room */
		memmove(p->q, p->q + p->qhead, (p->qn - p->qhead) * sizeof *p->q);
		p->qn -= p->qhead;
		p->qhead = 0;
	}
	hx_vjob **q = hx_grow(p->q, &p->qcap, p->qn + n, sizeof *q);
	if (!q) {
		pthread_mutex_unlock(&p->mu);
		return HX_ENOMEM;
	}
	p->q = q;
	for (size_t i = 0; i < n; i++) {
		jobs[i].done = 0;
		p->q[p->qn++] = &jobs[i];
	}
	if (p->nthreads)
		pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	return HX_OK;
}

int hx_vpool_help(hx_vpool *p)
{
	pthread_mutex_lock(&p->mu);
	int r = stream_one(p);
	pthread_mutex_unlock(&p->mu);
	return r;
}

int hx_vjob_done(const hx_vjob *j)
{
	return __atomic_load_n(&j->done, __ATOMIC_ACQUIRE);
}

void hx_vpool_wait(hx_vpool *p, hx_vjob *j)
{
	pthread_mutex_lock(&p->mu);
	while (!hx_vjob_done(j)) {
		if (stream_one(p))
			continue;
		p->waiting++;
		if (!hx_vjob_done(j))
			pthread_cond_wait(&p->finished, &p->mu);
		p->waiting--;
	}
	pthread_mutex_unlock(&p->mu);
}

uint64_t hx_vpool_streamed(hx_vpool *p)
{
	return __atomic_load_n(&p->streamed, __ATOMIC_RELAXED);
}

size_t hx_vpool_queued(hx_vpool *p)
{
	pthread_mutex_lock(&p->mu);
	size_t k = p->qn - p->qhead;
	pthread_mutex_unlock(&p->mu);
	return k;
}
