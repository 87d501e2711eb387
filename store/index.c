/*
 * index.c: writing the full-text search index inside the store's write
 * transactions (tables: store/ix_int.h). A new current version is
 * tokenized into terms (exact words and stems) and its postings gathered in
 * memory; hx_index_commit appends them to the terms' posting blocks in key
 * order, with the norms, attribute bitmaps and stats, just before the
 * store commits. A replaced or deleted version is removed from every one of
 * its terms at once, so only current versions are ever searchable and the
 * statistics are exact. hx_index_check (fsck) recomputes everything from
 * the entries and compares.
 */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <roaring/roaring.h>
#include "store/index.h"
#include "store/ix_int.h"
#include "store/store_int.h"

/* Pending postings are written out when this many have gathered, so a huge
 * transaction stays within memory (about 20 bytes each). A variable so that
 * tests can make it small. */
size_t hx_ix_flush_postings = 16u << 20;

/* ---- a string table: key bytes -> small record ----------------------- */

/* Open addressing with the records in the slots themselves and the first
 * bytes of the key inline, so that a lookup of a common short term costs
 * one cache miss (this lookup is the hot spot of a bulk load). Indices are
 * slot numbers; when the table grows they change and on_grow is told. */
#define KIN 12

struct tent {
	uint32_t h;     /* low bits of the hash */
	uint16_t klen;  /* 0 = empty slot */
	uint32_t langs; /* for a word: bit i = seen in a document of stemming language i */
	uint32_t aux;   /* for an attribute: its bitmap's index */
	uint32_t cur;   /* docnum + 1 whose tfs are in tf[] */
	uint32_t count; /* pending postings */
	uint32_t koff;  /* whole key in the arena */
	uint32_t tf[HX_NFIELDS];
	char kin[KIN];  /* the key's first bytes */
};

struct ttab {
	struct tent *e;
	uint32_t nslots, n;
	char *arena;
	size_t alen, acap;
	/* Told old index -> new index after a growth. */
	void (*on_grow)(void *arg, const uint32_t *remap, uint32_t nold);
	void *grow_arg;
};

/* Eight bytes at a time with a multiply-xorshift mix: terms are short,
 * and this runs for every word of every document. */
static uint64_t hash_bytes(const void *k, size_t n)
{
	const uint8_t *p = k;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 32);
}

static void ttab_free(struct ttab *t)
{
	free(t->e);
	free(t->arena);
	t->e = NULL;
	t->arena = NULL;
	t->nslots = t->n = 0;
	t->alen = t->acap = 0;
}

static inline uint32_t slot_of(uint32_t h, uint32_t n)
{
	return (h * 2654435761u) >> 7 & (n - 1);
}

static int ttab_grow(struct ttab *t)
{
	uint32_t nn = t->nslots ? t->nslots * 2 : 4096, old = t->nslots;
	struct tent *ne = calloc(nn, sizeof *ne);
	uint32_t *remap = old ? malloc((size_t)old * sizeof *remap) : NULL;
	if (!ne || (old && !remap)) {
		free(ne);
		free(remap);
		return HX_ENOMEM;
	}
	for (uint32_t i = 0; i < old; i++) {
		if (!t->e[i].klen)
			continue;
		uint32_t j = slot_of(t->e[i].h, nn);
		while (ne[j].klen)
			j = (j + 1) & (nn - 1);
		ne[j] = t->e[i];
		remap[i] = j;
	}
	free(t->e);
	t->e = ne;
	t->nslots = nn;
	if (old && t->on_grow)
		t->on_grow(t->grow_arg, remap, old);
	free(remap);
	return HX_OK;
}

static inline int key_eq(const struct ttab *t, const struct tent *e, const char *key,
			 size_t klen)
{
	if (klen <= KIN)
		return !memcmp(e->kin, key, klen);
	return !memcmp(e->kin, key, KIN) &&
	       !memcmp(t->arena + e->koff + KIN, key + KIN, klen - KIN);
}

/* Finds or adds key; *idx gets its slot. */
static int ttab_get(struct ttab *t, const char *key, size_t klen, uint32_t *idx)
{
	if ((t->n + 1) * 2 > t->nslots && ttab_grow(t))
		return HX_ENOMEM;
	uint32_t h = (uint32_t)hash_bytes(key, klen);
	uint32_t j = slot_of(h, t->nslots);
	struct tent *e;
	for (; (e = &t->e[j])->klen; j = (j + 1) & (t->nslots - 1)) {
		if (e->h == h && e->klen == klen && key_eq(t, e, key, klen)) {
			*idx = j;
			return HX_OK;
		}
	}
	if (t->alen + klen > t->acap) {
		size_t nc = t->acap ? t->acap * 2 : 1 << 16;
		while (nc < t->alen + klen)
			nc *= 2;
		char *na = realloc(t->arena, nc);
		if (!na)
			return HX_ENOMEM;
		t->arena = na;
		t->acap = nc;
	}
	memcpy(t->arena + t->alen, key, klen);
	memset(e, 0, sizeof *e);
	e->h = h;
	e->koff = (uint32_t)t->alen;
	e->klen = (uint16_t)klen;
	memcpy(e->kin, key, klen < KIN ? klen : KIN);
	t->alen += klen;
	t->n++;
	*idx = j;
	return HX_OK;
}

/* ---- a document's terms ---------------------------------------------- */

/* Terms of one document with their tfs: indices into a ttab. */
struct docterms {
	uint32_t *idx;
	size_t n, cap;
	uint32_t len[HX_NFIELDS];
};

static int bump(struct ttab *t, struct docterms *dt, uint32_t doc1, uint32_t i, int field)
{
	struct tent *e = &t->e[i];
	if (e->cur != doc1) {
		e->cur = doc1;
		memset(e->tf, 0, sizeof e->tf);
		if (dt->n == dt->cap) {
			size_t nc = dt->cap ? dt->cap * 2 : 256;
			uint32_t *ni = realloc(dt->idx, nc * sizeof *ni);
			if (!ni)
				return HX_ENOMEM;
			dt->idx = ni;
			dt->cap = nc;
		}
		dt->idx[dt->n++] = i;
	}
	e->tf[field]++;
	return HX_OK;
}

static void dt_remap(void *arg, const uint32_t *remap, uint32_t nold)
{
	struct docterms *dt = arg;
	(void)nold;
	for (size_t i = 0; i < dt->n; i++)
		dt->idx[i] = remap[dt->idx[i]];
}

static int tokenize_field(struct ttab *t, struct docterms *dt, int lang, uint32_t doc1,
			  int field, const char *text)
{
	hx_tokenizer tk;
	hx_token tok;
	char key[HX_TOKEN_MAX + 16];
	uint32_t bit = lang >= 0 && lang < 32 ? 1u << lang : 0;
	int rc;
	hx_tok_init(&tk, text, strlen(text));
	while (hx_tok_next(&tk, &tok)) {
		uint32_t wi;
		size_t kl = hx_ix_wkey(key, tok.word, tok.len);
		if ((rc = ttab_get(t, key, kl, &wi)) || (rc = bump(t, dt, doc1, wi, field)))
			return rc;
		t->e[wi].langs |= bit;
		dt->len[field]++;
	}
	return HX_OK;
}

/* Tokenizes e's title, tags and body as document doc into t; dt gets the
 * terms (fresh tfs in t->e[...].tf) and the field lengths. */
static int doc_terms(struct ttab *t, struct docterms *dt, const hx_entry *e, uint32_t doc)
{
	int lang = hx_stem_lang(e->lang), rc;
	uint32_t doc1 = doc + 1;
	dt->n = 0;
	memset(dt->len, 0, sizeof dt->len);
	if ((rc = tokenize_field(t, dt, lang, doc1, HX_F_TITLE, e->title ? e->title : "")))
		return rc;
	for (size_t i = 0; i < e->ntags; i++)
		if ((rc = tokenize_field(t, dt, lang, doc1, HX_F_TAGS, e->tags[i])))
			return rc;
	return tokenize_field(t, dt, lang, doc1, HX_F_BODY, e->body ? e->body : "");
}

/* The attribute keys of e (filters and facets), one call of cb each. */
static int doc_attrs(const hx_entry *e, int (*cb)(void *, const char *, size_t), void *arg)
{
	char key[HX_IX_KEY_MAX];
	char hex[2 * HX_KEY_LEN + 1];
	const char *org = hx_entry_meta(e, "org");
	const char *country = hx_entry_meta(e, "country");
	int rc;
	if ((rc = cb(arg, key, hx_ix_akey(key, "kind", e->kind ? e->kind : ""))))
		return rc;
	if ((rc = cb(arg, key, hx_ix_akey(key, "lang", e->lang ? e->lang : ""))))
		return rc;
	if ((rc = cb(arg, key, hx_ix_akey(key, "author", hx_hex(hex, e->author, HX_KEY_LEN)))))
		return rc;
	if (org && (rc = cb(arg, key, hx_ix_akey(key, "org", org))))
		return rc;
	if (country && (rc = cb(arg, key, hx_ix_akey(key, "country", country))))
		return rc;
	for (size_t i = 0; i < e->ntags; i++)
		if ((rc = cb(arg, key, hx_ix_akey(key, "tag", e->tags[i]))))
			return rc;
	return HX_OK;
}

static uint32_t day1_of(uint64_t ts_us)
{
	uint64_t d = ts_us / (86400ull * 1000000ull) + 1;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* ---- pending work of one write transaction ---------------------------- */

struct plog {
	uint32_t term, doc;
	uint32_t tf[HX_NFIELDS];
};

/* A new document waiting for the tokenizer: a copy of what it needs of
 * the entry, which the caller frees when hx_index_update returns. */
struct job {
	struct job *next;   /* jobs travel in chains of up to BATCH */
	uint32_t doc;
	hx_entry e;
	hx_meta meta[2];
};

#define QCAP 64         /* chains of jobs waiting at most */
#define BATCH 32        /* jobs per chain: one hand-over per chain */
#define SYNC_DOCS 256   /* documents per transaction tokenized inline */

struct hx_ix_pending {
	MDB_txn *txn;
	hx_ix_stats st;
	uint32_t first_doc;     /* docnums >= this are pending */
	uint32_t ndocs_txn;     /* documents added in this transaction */
	uint8_t *recs;          /* id ‖ author per pending docnum */
	size_t caprecs;
	/* Owned by the tokenizer (the worker thread while it runs): */
	hx_stemmers *stem;
	struct ttab terms;
	struct plog *log;
	size_t nlog, caplog;
	hx_ix_norm *norms;      /* docs first_doc .. st.next_doc - 1 */
	size_t capnorms;
	struct ttab attrs;      /* an entry's aux indexes abm */
	roaring_bitmap_t **abm;
	uint32_t nabm, capabm;
	struct docterms dt;
	int werr;               /* first error of the worker */
	/* The worker: tokenizes new documents while the store goes on. */
	int have_worker, stop, busy;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv_job, cv_idle, cv_space;
	struct job *q[QCAP];
	unsigned qhead, qlen;
	struct job *bhead, *btail; /* the chain being filled */
	unsigned bn;
	size_t published_log;   /* p->nlog as of the last finished job */
};

static void log_remap(void *arg, const uint32_t *remap, uint32_t nold)
{
	struct hx_ix_pending *p = arg;
	(void)nold;
	for (size_t i = 0; i < p->nlog; i++)
		p->log[i].term = remap[p->log[i].term];
	for (size_t i = 0; i < p->dt.n; i++)
		p->dt.idx[i] = remap[p->dt.idx[i]];
}

static void free_attrs(struct hx_ix_pending *p)
{
	for (uint32_t i = 0; i < p->nabm; i++)
		roaring_bitmap_free(p->abm[i]);
	p->nabm = 0;
	ttab_free(&p->attrs);
}

static void *worker_main(void *arg);

static void worker_stop(struct hx_ix_pending *p)
{
	if (!p->have_worker)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv_job);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	for (unsigned i = 0; i <= p->qlen; i++) {
		struct job *j = i < p->qlen ? p->q[(p->qhead + i) % QCAP] : p->bhead;
		while (j) {
			struct job *nx = j->next;
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

static void pending_free(struct hx_ix_pending **pp)
{
	struct hx_ix_pending *p = *pp;
	if (!p)
		return;
	worker_stop(p);
	hx_stemmers_free(&p->stem);
	ttab_free(&p->terms);
	free(p->log);
	free(p->norms);
	free(p->recs);
	free_attrs(p);
	free(p->abm);
	free(p->dt.idx);
	free(p);
	*pp = NULL;
}

/* Forgets the gathered postings after they were written (keeps stats). */
static void pending_reset(struct hx_ix_pending *p)
{
	ttab_free(&p->terms);
	p->nlog = 0;
	p->published_log = 0;
	free_attrs(p);
	p->first_doc = p->st.next_doc;
}

/* Waits until the worker has tokenized every queued document; returns
 * its first error. */
static void hand_over(struct hx_ix_pending *p);

static int drain(struct hx_ix_pending *p)
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

static int load_stats(struct hx_index *ix, MDB_txn *txn, hx_ix_stats *st)
{
	MDB_val k = { 5, "stats" }, v;
	int rc = mdb_get(txn, ix->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(st, 0, sizeof *st);
		return HX_OK;
	}
	if (rc)
		return HX_EIO;
	return hx_ix_stats_decode(st, v.mv_data, v.mv_size);
}

/* hx_mdb_err, except MDB_KEYEXIST: here it only comes from an MDB_APPEND
 * put out of key order, i.e. a broken index, not "already exists". */
static int mdb_rc(int rc)
{
	return rc == MDB_KEYEXIST ? HX_EIO : hx_mdb_err(rc);
}

/* The pending state for txn, created on first use. */
static int pending_get(struct hx_index *ix, MDB_txn *txn, struct hx_ix_pending **out)
{
	struct hx_ix_pending *p = ix->pend;
	int rc;
	if (p && p->txn == txn) {
		*out = p;
		return HX_OK;
	}
	/* A different transaction: whatever was gathered belonged to one that
	 * ended without hx_index_commit, i.e. was aborted. */
	pending_free(&ix->pend);
	if (!(p = calloc(1, sizeof *p)))
		return HX_ENOMEM;
	if ((rc = hx_stemmers_new(&p->stem)) || (rc = load_stats(ix, txn, &p->st))) {
		pending_free(&p);
		return rc;
	}
	p->txn = txn;
	p->first_doc = p->st.next_doc;
	p->terms.on_grow = log_remap;
	p->terms.grow_arg = p;
	ix->pend = p;
	*out = p;
	return HX_OK;
}

/* ---- writing postings -------------------------------------------------- */

static float bound_up(double x)
{
	float f = (float)x;
	if ((double)f < x)
		f = nextafterf(f, INFINITY);
	return f;
}

/* Per pending document, each field's weight over its length
 * normalisation under the reference averages: a posting's weighted tf for
 * the block bound is then three multiplications. */
static double (*norm_factors(struct hx_ix_pending *p, const double ref[HX_NFIELDS]))[HX_NFIELDS]
{
	size_t n = p->st.next_doc - p->first_doc;
	double (*nf)[HX_NFIELDS] = malloc((n ? n : 1) * sizeof *nf);
	if (!nf)
		return NULL;
	for (size_t d = 0; d < n; d++)
		for (int f = 0; f < HX_NFIELDS; f++) {
			double a = ref[f] > 0 ? ref[f] : 1.0;
			nf[d][f] = hx_ix_fw[f] / (1.0 - HX_BM25_B + HX_BM25_B * (double)p->norms[d].len[f] / a);
		}
	return nf;
}

static int write_norms(struct hx_index *ix, struct hx_ix_pending *p)
{
	uint32_t d = p->first_doc;
	while (d < p->st.next_doc) {
		uint32_t chunk = d / HX_IX_CHUNK;
		uint8_t ck[4], buf[HX_IX_CHUNK * HX_IX_NORM_SIZE];
		hx_be32_put(ck, chunk);
		MDB_val k = { 4, ck }, v;
		int rc = mdb_get(p->txn, ix->norms, &k, &v);
		if (rc == 0 && v.mv_size == sizeof buf)
			memcpy(buf, v.mv_data, sizeof buf);
		else if (rc == 0 || rc == MDB_NOTFOUND)
			memset(buf, 0, sizeof buf);
		else
			return mdb_rc(rc);
		for (; d < p->st.next_doc && d / HX_IX_CHUNK == chunk; d++)
			hx_ix_norm_put(buf, d, &p->norms[d - p->first_doc]);
		v.mv_size = sizeof buf;
		v.mv_data = buf;
		if ((rc = mdb_put(p->txn, ix->norms, &k, &v, 0)))
			return mdb_rc(rc);
	}
	return HX_OK;
}

struct skey {
	const char *k;
	uint32_t len, idx;
};

static int cmp_term(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->k, y->k, n);
	return c ? c : (int)x->len - (int)y->len;
}

static int put_block(struct hx_index *ix, MDB_txn *txn, const char *term, size_t tl,
		     const hx_posting *ps, int n, float bound, unsigned flags)
{
	uint8_t key[HX_IX_KEY_MAX], val[HX_IX_BLOCK_MAXBYTES];
	MDB_val k = { hx_ix_pkey(key, term, tl, ps[0].doc), key };
	MDB_val v = { hx_ix_block_encode(val, ps, n, bound), val };
	return mdb_rc(mdb_put(txn, ix->post, &k, &v, flags));
}

/* Appends the pending postings of one term (cnt entries of lg, docnums
 * increasing and above every stored one). With append set the table held
 * no postings when this flush began and keys arrive in order. */
static int flush_term(struct hx_index *ix, struct hx_ix_pending *p, const char *term,
		      size_t tl, const struct plog *lg, size_t cnt,
		      const double (*nf)[HX_NFIELDS], int append)
{
	MDB_txn *txn = p->txn;
	hx_posting blk[HX_IX_BLOCK];
	hx_ix_term ti = { 0, 0, 0, 0 };
	int n = 0, rc;
	float bound = 0;
	unsigned flags = append ? MDB_APPEND : 0;

	if (!append) {
		rc = hx_ix_term_lookup(txn, ix->post, term, tl, &ti);
		if (rc == HX_ENOTFOUND)
			memset(&ti, 0, sizeof ti);
		else if (rc)
			return rc;
		else if (ti.lastn < HX_IX_BLOCK) {
			uint8_t key[HX_IX_KEY_MAX];
			MDB_val k = { hx_ix_pkey(key, term, tl, ti.lastfirst), key }, v;
			if ((rc = mdb_get(txn, ix->post, &k, &v)))
				return rc == MDB_NOTFOUND ? HX_ECORRUPT : mdb_rc(rc);
			if ((rc = hx_ix_block_decode(v.mv_data, v.mv_size, ti.lastfirst, blk, &n)))
				return rc;
			if (n != ti.lastn || blk[n - 1].doc >= lg[0].doc)
				return HX_ECORRUPT;
			bound = hx_ix_block_bound(v.mv_data);
		}
	}
	/* The merged tail: n old postings then cnt new ones, in blocks. */
	size_t total = (size_t)n + cnt, lastoff = (total - 1) / HX_IX_BLOCK * HX_IX_BLOCK;
	int multi = ti.header || total > HX_IX_BLOCK || ti.df > (uint32_t)n;
	if (multi) {
		uint8_t key[HX_IX_KEY_MAX], h[12];
		hx_ix_term nt;
		nt.df = ti.df + (uint32_t)cnt;
		nt.lastfirst = lastoff < (size_t)n ? blk[lastoff].doc : lg[lastoff - (size_t)n].doc;
		nt.lastn = (int)(total - lastoff);
		hx_ix_term_header(h, &nt);
		memcpy(key, term, tl);
		key[tl] = 0;
		MDB_val k = { tl + 1, key }, v = { 12, h };
		if ((rc = mdb_put(txn, ix->post, &k, &v, flags)))
			return mdb_rc(rc);
	}
	for (size_t i = 0; i < cnt; i++) {
		hx_posting *q = &blk[n++];
		q->doc = lg[i].doc;
		memcpy(q->tf, lg[i].tf, sizeof q->tf);
		const double *w = nf[q->doc - p->first_doc];
		/* the tfn of hx_ix_tfn; rounding differences stay far inside
		 * the margin search adds to every bound */
		float b = bound_up(q->tf[0] * w[0] + q->tf[1] * w[1] + q->tf[2] * w[2]);
		if (b > bound)
			bound = b;
		if (n == HX_IX_BLOCK || i + 1 == cnt) {
			if ((rc = put_block(ix, txn, term, tl, blk, n, bound, flags)))
				return rc;
			n = 0;
			bound = 0;
		}
	}
	return HX_OK;
}

static int flush_attrs(struct hx_index *ix, struct hx_ix_pending *p)
{
	int rc = HX_OK;
	char *buf = NULL;
	size_t cap = 0;
	for (uint32_t i = 0; i < p->attrs.nslots && !rc; i++) {
		struct tent *e = &p->attrs.e[i];
		if (!e->klen)
			continue;
		MDB_val k = { e->klen, p->attrs.arena + e->koff }, v;
		roaring_bitmap_t *bm = p->abm[e->aux];
		rc = mdb_get(p->txn, ix->attr, &k, &v);
		if (rc == 0) {
			roaring_bitmap_t *old = roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
			if (!old) {
				rc = HX_ECORRUPT;
				break;
			}
			roaring_bitmap_or_inplace(bm, old);
			roaring_bitmap_free(old);
		} else if (rc != MDB_NOTFOUND) {
			rc = mdb_rc(rc);
			break;
		}
		roaring_bitmap_run_optimize(bm);
		size_t need = roaring_bitmap_portable_size_in_bytes(bm);
		if (need > cap) {
			free(buf);
			cap = need * 2;
			if (!(buf = malloc(cap))) {
				rc = HX_ENOMEM;
				break;
			}
		}
		v.mv_size = roaring_bitmap_portable_serialize(bm, buf);
		v.mv_data = buf;
		rc = mdb_rc(mdb_put(p->txn, ix->attr, &k, &v, 0));
	}
	free(buf);
	return rc;
}

static int put_stats(struct hx_index *ix, MDB_txn *txn, const hx_ix_stats *st)
{
	uint8_t b[HX_IX_STATS_SIZE];
	hx_ix_stats_encode(b, st);
	MDB_val k = { 5, "stats" }, v = { sizeof b, b };
	return mdb_rc(mdb_put(txn, ix->meta, &k, &v, 0));
}

/* ix.docs and ix.ids records of the pending documents. */
struct idord {
	const uint8_t *id;
	uint32_t doc;
};

static int cmp_idord(const void *a, const void *b)
{
	return memcmp(((const struct idord *)a)->id, ((const struct idord *)b)->id, HX_ID_LEN);
}

static int write_recs(struct hx_index *ix, struct hx_ix_pending *p)
{
	size_t n = p->st.next_doc - p->first_doc, rl = HX_ID_LEN + HX_KEY_LEN;
	int rc;
	for (size_t i = 0; i < n; i++) {
		uint8_t dk[4];
		hx_be32_put(dk, p->first_doc + (uint32_t)i);
		MDB_val k = { 4, dk }, v = { rl, p->recs + i * rl };
		if ((rc = mdb_put(p->txn, ix->docs, &k, &v, MDB_APPEND)))
			return mdb_rc(rc);
	}
	/* ix.ids in id order: appended to an empty table, else at least
	 * touching each page once rather than at random. */
	struct idord *ord = malloc((n ? n : 1) * sizeof *ord);
	if (!ord)
		return HX_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ord[i].id = p->recs + i * rl;
		ord[i].doc = p->first_doc + (uint32_t)i;
	}
	if (n > 1)
		qsort(ord, n, sizeof *ord, cmp_idord);
	MDB_stat ms;
	unsigned flags = !mdb_stat(p->txn, ix->ids, &ms) && ms.ms_entries == 0 ? MDB_APPEND : 0;
	rc = HX_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t dv[4];
		hx_le32_put(dv, ord[i].doc);
		MDB_val k = { HX_ID_LEN, (void *)ord[i].id }, v = { 4, dv };
		rc = mdb_rc(mdb_put(p->txn, ix->ids, &k, &v, flags));
	}
	free(ord);
	return rc;
}

/* The stem dictionary entries of the pending words, one per word and
 * stemming language it was seen in, sorted. Computed on a helper thread
 * while the postings are written (it only reads the term table and uses
 * the stemmers, which nothing else touches then). */
struct stemjob {
	struct hx_ix_pending *p;
	struct skey *keys;
	char *buf;
	size_t n;
	int rc;
};

static void *stem_keys(void *arg)
{
	struct stemjob *sj = arg;
	struct hx_ix_pending *p = sj->p;
	size_t cap = 0, blen = 0, bcap = 0;
	int rc = HX_OK;
	for (uint32_t i = 0; i < p->terms.nslots && !rc; i++) {
		struct tent *e = &p->terms.e[i];
		if (!e->klen || !e->langs)
			continue;
		const char *w = p->terms.arena + e->koff + 1;
		size_t wl = e->klen - 1u;
		for (int l = 0; l < 32 && !rc; l++) {
			if (!(e->langs & (1u << l)))
				continue;
			size_t sl;
			const char *st = hx_stem(p->stem, l, w, wl, &sl);
			if (!st) {
				rc = HX_ENOMEM;
				break;
			}
			if (sj->n == cap) {
				size_t nc = cap ? cap * 2 : 4096;
				struct skey *nk = realloc(sj->keys, nc * sizeof *nk);
				if (!nk) {
					rc = HX_ENOMEM;
					break;
				}
				sj->keys = nk;
				cap = nc;
			}
			if (blen + 2 * HX_TOKEN_MAX + 16 > bcap) {
				size_t nc = bcap ? bcap * 2 : 1 << 16;
				char *nb = realloc(sj->buf, nc);
				if (!nb) {
					rc = HX_ENOMEM;
					break;
				}
				sj->buf = nb;
				bcap = nc;
			}
			size_t kl = hx_ix_dkey(sj->buf + blen, l, st, sl, w, wl);
			if (!kl)
				continue;
			sj->keys[sj->n].len = (uint32_t)kl;
			sj->keys[sj->n].idx = (uint32_t)blen; /* an offset: buf may still move */
			blen += kl;
			sj->n++;
		}
	}
	if (!rc && sj->n) {
		for (size_t i = 0; i < sj->n; i++)
			sj->keys[i].k = sj->buf + sj->keys[i].idx;
		qsort(sj->keys, sj->n, sizeof *sj->keys, cmp_term);
	}
	sj->rc = rc;
	return NULL;
}

static int put_stems(struct hx_index *ix, struct hx_ix_pending *p, struct stemjob *sj)
{
	int rc = sj->rc;
	MDB_stat ms;
	unsigned flags = !mdb_stat(p->txn, ix->stem, &ms) && ms.ms_entries == 0 ? MDB_APPEND
										  : MDB_NOOVERWRITE;
	for (size_t i = 0; i < sj->n && !rc; i++) {
		MDB_val k = { sj->keys[i].len, (void *)sj->keys[i].k }, v = { 0, "" };
		int r = mdb_put(p->txn, ix->stem, &k, &v, flags);
		if (r && r != MDB_KEYEXIST)
			rc = mdb_rc(r);
	}
	free(sj->keys);
	free(sj->buf);
	sj->keys = NULL;
	sj->buf = NULL;
	return rc;
}

/* Writes everything pending into the transaction (the worker is idle). */
static int flush(struct hx_index *ix, struct hx_ix_pending *p)
{
	int rc;
	hx_ix_stats *st = &p->st;
	if ((rc = drain(p)))
		return rc;
	for (uint32_t d = p->first_doc; d < st->next_doc; d++)
		for (int f = 0; f < HX_NFIELDS; f++)
			st->sumlen[f] += p->norms[d - p->first_doc].len[f];
	if (st->ndocs && st->ref_avg[0] == 0 && st->ref_avg[1] == 0 && st->ref_avg[2] == 0)
		for (int f = 0; f < HX_NFIELDS; f++) {
			double a = (double)st->sumlen[f] / (double)st->ndocs;
			st->ref_avg[f] = (float)(a < 1.0 ? 1.0 : a);
		}
	double ref[HX_NFIELDS];
	for (int f = 0; f < HX_NFIELDS; f++)
		ref[f] = st->ref_avg[f];

	/* The stem dictionary on a helper thread when there is much to do. */
	struct stemjob sj = { p, NULL, NULL, 0, 0 };
	pthread_t th;
	int threaded = p->terms.n > 4096 && !pthread_create(&th, NULL, stem_keys, &sj);
	if (!threaded)
		stem_keys(&sj);
	rc = HX_OK;
	if (p->nlog) {
		/* Group the log by term (a counting sort keeps docnum order),
		 * then write the terms in key order. */
		uint32_t ns = p->terms.nslots, nt = 0;
		size_t *start = calloc((size_t)ns + 1, sizeof *start);
		struct skey *order = malloc((size_t)p->terms.n * sizeof *order);
		struct plog *sorted = malloc(p->nlog * sizeof *sorted);
		double (*nf)[HX_NFIELDS] = norm_factors(p, ref);
		if (!start || !order || !sorted || !nf) {
			free(start);
			free(order);
			free(sorted);
			free(nf);
			rc = HX_ENOMEM;
			goto stems;
		}
		for (uint32_t i = 0; i < ns; i++) {
			struct tent *e = &p->terms.e[i];
			start[i + 1] = start[i] + e->count;
			if (e->count) {
				order[nt].k = p->terms.arena + e->koff;
				order[nt].len = e->klen;
				order[nt].idx = i;
				nt++;
			}
		}
		for (size_t i = 0; i < p->nlog; i++)
			sorted[start[p->log[i].term]++] = p->log[i];
		for (uint32_t i = ns; i > 0; i--)
			start[i] = start[i - 1];
		start[0] = 0;
		qsort(order, nt, sizeof *order, cmp_term);
		MDB_stat ms;
		int append = !mdb_stat(p->txn, ix->post, &ms) && ms.ms_entries == 0;
		rc = HX_OK;
		for (uint32_t j = 0; j < nt && !rc; j++) {
			uint32_t i = order[j].idx;
			struct tent *e = &p->terms.e[i];
			rc = flush_term(ix, p, p->terms.arena + e->koff, e->klen,
					sorted + start[i], e->count, (const double (*)[HX_NFIELDS])nf, append);
		}
		free(start);
		free(order);
		free(sorted);
		free(nf);
	}
stems:
	if (threaded)
		pthread_join(th, NULL);
	if (rc) {
		free(sj.keys);
		free(sj.buf);
		return rc;
	}
	if ((rc = put_stems(ix, p, &sj)) || (rc = write_norms(ix, p)) || (rc = write_recs(ix, p)) ||
	    (rc = flush_attrs(ix, p)) || (rc = put_stats(ix, p->txn, st)))
		return rc;
	pending_reset(p);
	return HX_OK;
}

/* ---- adding and removing documents -------------------------------------- */

struct attr_add {
	struct hx_ix_pending *p;
	uint32_t doc;
};

static int attr_add_cb(void *arg, const char *key, size_t klen)
{
	struct attr_add *a = arg;
	struct hx_ix_pending *p = a->p;
	uint32_t i;
	int rc = ttab_get(&p->attrs, key, klen, &i);
	if (rc)
		return rc;
	struct tent *e = &p->attrs.e[i];
	if (e->count == 0) {
		if (p->nabm == p->capabm) {
			uint32_t nc = p->capabm ? p->capabm * 2 : 256;
			roaring_bitmap_t **nb = realloc(p->abm, nc * sizeof *nb);
			if (!nb)
				return HX_ENOMEM;
			p->abm = nb;
			p->capabm = nc;
		}
		if (!(p->abm[p->nabm] = roaring_bitmap_create()))
			return HX_ENOMEM;
		e->aux = p->nabm++;
		e->count = 1;
	}
	roaring_bitmap_add(p->abm[e->aux], a->doc);
	return HX_OK;
}

/* Tokenizes a new document into the pending postings, norms and filter
 * bitmaps (on the worker thread, or inline). */
static int accumulate(struct hx_ix_pending *p, const hx_entry *e, uint32_t doc)
{
	int rc;
	if ((rc = doc_terms(&p->terms, &p->dt, e, doc)))
		return rc;
	if (p->nlog + p->dt.n > p->caplog) {
		size_t nc = p->caplog ? p->caplog * 2 : 1 << 16;
		while (nc < p->nlog + p->dt.n)
			nc *= 2;
		struct plog *nl = realloc(p->log, nc * sizeof *nl);
		if (!nl)
			return HX_ENOMEM;
		p->log = nl;
		p->caplog = nc;
	}
	for (size_t i = 0; i < p->dt.n; i++) {
		struct tent *t = &p->terms.e[p->dt.idx[i]];
		struct plog *l = &p->log[p->nlog++];
		l->term = p->dt.idx[i];
		l->doc = doc;
		memcpy(l->tf, t->tf, sizeof l->tf);
		t->count++;
	}
	size_t k = doc - p->first_doc;
	if (k >= p->capnorms) {
		size_t nc = p->capnorms ? p->capnorms * 2 : 1024;
		while (nc <= k)
			nc *= 2;
		hx_ix_norm *nn = realloc(p->norms, nc * sizeof *nn);
		if (!nn)
			return HX_ENOMEM;
		p->norms = nn;
		p->capnorms = nc;
	}
	hx_ix_norm *nm = &p->norms[k];
	memcpy(nm->len, p->dt.len, sizeof nm->len);
	nm->day1 = day1_of(e->timestamp);
	nm->lang = hx_stem_lang(e->lang);
	struct attr_add aa = { p, doc };
	return doc_attrs(e, attr_add_cb, &aa);
}

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
		p->qhead = (p->qhead + 1) % QCAP;
		p->qlen--;
		p->busy = 1;
		pthread_cond_signal(&p->cv_space);
		pthread_mutex_unlock(&p->mu);
		int rc = HX_OK;
		while (j) {
			struct job *nx = j->next;
			if (!rc && !p->werr)
				rc = accumulate(p, &j->e, j->doc);
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
	while (p->qlen == QCAP)
		pthread_cond_wait(&p->cv_space, &p->mu);
	p->q[(p->qhead + p->qlen) % QCAP] = p->bhead;
	p->qlen++;
	pthread_cond_signal(&p->cv_job);
	pthread_mutex_unlock(&p->mu);
	p->bhead = p->btail = NULL;
	p->bn = 0;
}

static int worker_start(struct hx_ix_pending *p)
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

static int add_doc(struct hx_index *ix, struct hx_ix_pending *p, const hx_entry *e)
{
	uint32_t doc = p->st.next_doc;
	int rc;
	if (doc == UINT32_MAX)
		return HX_ELIMIT; /* reindex renumbers */
	size_t k = doc - p->first_doc, rl = HX_ID_LEN + HX_KEY_LEN;
	if (k >= p->caprecs) {
		size_t nc = p->caprecs ? p->caprecs * 2 : 256;
		uint8_t *nr = realloc(p->recs, nc * rl);
		if (!nr)
			return HX_ENOMEM;
		p->recs = nr;
		p->caprecs = nc;
	}
	memcpy(p->recs + k * rl, e->id, HX_ID_LEN);
	memcpy(p->recs + k * rl + HX_ID_LEN, e->author, HX_KEY_LEN);

	/* Small transactions tokenize inline; a bulk load hands documents to
	 * a second thread so that tokenizing overlaps the store's own work. */
	if (!p->have_worker && p->ndocs_txn >= SYNC_DOCS && sysconf(_SC_NPROCESSORS_ONLN) > 1)
		worker_start(p); /* on failure, go on inline */
	if (p->have_worker) {
		struct job *j = job_new(e, doc);
		if (!j)
			return HX_ENOMEM;
		if (p->btail)
			p->btail->next = j;
		else
			p->bhead = j;
		p->btail = j;
		size_t nlog = 0;
		int werr = 0;
		if (++p->bn == BATCH) {
			hand_over(p);
			pthread_mutex_lock(&p->mu);
			nlog = p->published_log;
			werr = p->werr;
			pthread_mutex_unlock(&p->mu);
		}
		if (werr)
			return werr;
		rc = HX_OK;
		p->st.next_doc = doc + 1;
		if (nlog >= hx_ix_flush_postings)
			rc = flush(ix, p);
	} else {
		rc = accumulate(p, e, doc);
		p->st.next_doc = doc + 1;
		if (!rc && p->nlog >= hx_ix_flush_postings)
			rc = flush(ix, p);
	}
	p->ndocs_txn++;
	p->st.ndocs++;
	int sl = hx_stem_lang(e->lang);
	if (sl >= 0 && sl < HX_IX_NLANG)
		p->st.lang_docs[sl]++;
	return rc;
}

/* Removes docnum doc from one term's postings. */
static int remove_posting(struct hx_index *ix, MDB_txn *txn, const char *term,
			  size_t tl, uint32_t doc)
{
	MDB_val k, v;
	MDB_cursor *c;
	uint8_t key[HX_IX_KEY_MAX];
	hx_posting blk[HX_IX_BLOCK];
	hx_ix_term ti;
	int n, rc;

	if ((rc = hx_ix_term_lookup(txn, ix->post, term, tl, &ti)))
		return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
	if ((rc = mdb_cursor_open(txn, ix->post, &c)))
		return mdb_rc(rc);
	/* The block holding doc: the last one whose first docnum <= doc. */
	k.mv_size = hx_ix_pkey(key, term, tl, doc);
	k.mv_data = key;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && !(k.mv_size == tl + 5 && !memcmp(k.mv_data, key, tl + 1) &&
			 hx_be32_get((uint8_t *)k.mv_data + tl + 1) == doc))
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc || k.mv_size != tl + 5 || memcmp(k.mv_data, key, tl + 1)) {
		mdb_cursor_close(c);
		return rc && rc != MDB_NOTFOUND ? mdb_rc(rc) : HX_ECORRUPT;
	}
	uint32_t first = hx_be32_get((uint8_t *)k.mv_data + tl + 1);
	float bound = v.mv_size >= 9 ? hx_ix_block_bound(v.mv_data) : 0;
	if ((rc = hx_ix_block_decode(v.mv_data, v.mv_size, first, blk, &n))) {
		mdb_cursor_close(c);
		return rc;
	}
	int at = -1;
	for (int i = 0; i < n; i++)
		if (blk[i].doc == doc)
			at = i;
	if (at < 0) {
		mdb_cursor_close(c);
		return HX_ECORRUPT;
	}
	/* Delete the block and put it back without the posting (its key
	 * changes when the first posting goes); the bound stays an upper
	 * bound. When the last block goes, the one before becomes the last. */
	rc = mdb_cursor_del(c, 0);
	hx_ix_term nt = ti;
	nt.df--;
	if (!rc && first == ti.lastfirst && n == 1 && nt.df > 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
		if (rc == 0 && k.mv_size == tl + 5 && !memcmp(k.mv_data, key, tl + 1) && v.mv_size >= 9) {
			nt.lastfirst = hx_be32_get((uint8_t *)k.mv_data + tl + 1);
			nt.lastn = hx_ix_block_n(v.mv_data);
		} else {
			rc = rc ? rc : MDB_CORRUPTED;
		}
	}
	mdb_cursor_close(c);
	if (rc)
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : mdb_rc(rc);
	memmove(blk + at, blk + at + 1, (size_t)(n - at - 1) * sizeof *blk);
	n--;
	if (n > 0 && (rc = put_block(ix, txn, term, tl, blk, n, bound, 0)))
		return rc;
	if (first == ti.lastfirst && n > 0) {
		nt.lastfirst = blk[0].doc;
		nt.lastn = n;
	}
	if (!ti.header)
		return nt.df == (uint32_t)n ? HX_OK : HX_ECORRUPT;
	memcpy(key, term, tl);
	key[tl] = 0;
	k.mv_size = tl + 1;
	k.mv_data = key;
	if (nt.df == 0)
		return mdb_rc(mdb_del(txn, ix->post, &k, NULL));
	uint8_t h[12];
	hx_ix_term_header(h, &nt);
	v.mv_size = 12;
	v.mv_data = h;
	return mdb_rc(mdb_put(txn, ix->post, &k, &v, 0));
}

struct attr_del {
	struct hx_index *ix;
	MDB_txn *txn;
	uint32_t doc;
};

static int attr_del_cb(void *arg, const char *key, size_t klen)
{
	struct attr_del *a = arg;
	MDB_val k = { klen, (void *)key }, v;
	int rc = mdb_get(a->txn, a->ix->attr, &k, &v);
	if (rc == MDB_NOTFOUND)
		return HX_ECORRUPT;
	if (rc)
		return mdb_rc(rc);
	roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
	if (!bm)
		return HX_ECORRUPT;
	roaring_bitmap_remove(bm, a->doc);
	if (roaring_bitmap_is_empty(bm)) {
		roaring_bitmap_free(bm);
		return mdb_rc(mdb_del(a->txn, a->ix->attr, &k, NULL));
	}
	roaring_bitmap_run_optimize(bm);
	size_t need = roaring_bitmap_portable_size_in_bytes(bm);
	char *buf = malloc(need);
	if (!buf) {
		roaring_bitmap_free(bm);
		return HX_ENOMEM;
	}
	v.mv_size = roaring_bitmap_portable_serialize(bm, buf);
	v.mv_data = buf;
	rc = mdb_rc(mdb_put(a->txn, a->ix->attr, &k, &v, 0));
	free(buf);
	roaring_bitmap_free(bm);
	return rc;
}

static int del_doc(struct hx_index *ix, struct hx_ix_pending *p, const hx_entry *e)
{
	MDB_txn *txn = p->txn;
	MDB_val ik = { HX_ID_LEN, (void *)e->id }, iv;
	int rc;
	if ((rc = drain(p)))
		return rc;
	rc = mdb_get(txn, ix->ids, &ik, &iv);
	if (rc == MDB_NOTFOUND && p->st.next_doc > p->first_doc) {
		/* Added earlier in this same transaction: write it out first. */
		if ((rc = flush(ix, p)))
			return rc;
		rc = mdb_get(txn, ix->ids, &ik, &iv);
	}
	if (rc == MDB_NOTFOUND || (!rc && iv.mv_size != 4))
		return HX_ECORRUPT; /* a current version the index never saw */
	if (rc)
		return mdb_rc(rc);
	uint32_t doc = hx_le32_get(iv.mv_data);
	if (doc >= p->first_doc)
		return HX_ECORRUPT;

	struct ttab t = { 0 };
	struct docterms dt = { 0 };
	t.on_grow = dt_remap;
	t.grow_arg = &dt;
	rc = doc_terms(&t, &dt, e, doc);
	for (size_t i = 0; i < dt.n && !rc; i++) {
		struct tent *te = &t.e[dt.idx[i]];
		rc = remove_posting(ix, txn, t.arena + te->koff, te->klen, doc);
	}
	ttab_free(&t);
	free(dt.idx);
	if (rc)
		return rc;
	struct attr_del ad = { ix, txn, doc };
	if ((rc = doc_attrs(e, attr_del_cb, &ad)))
		return rc;

	uint8_t ck[4], buf[HX_IX_CHUNK * HX_IX_NORM_SIZE];
	hx_be32_put(ck, doc / HX_IX_CHUNK);
	MDB_val k = { 4, ck }, v;
	if ((rc = mdb_get(txn, ix->norms, &k, &v)) || v.mv_size != sizeof buf)
		return rc && rc != MDB_NOTFOUND ? mdb_rc(rc) : HX_ECORRUPT;
	memcpy(buf, v.mv_data, sizeof buf);
	hx_ix_norm nm, zero = { { 0, 0, 0 }, 0, -1 };
	hx_ix_norm_get(&nm, buf, sizeof buf, doc);
	hx_ix_norm_put(buf, doc, &zero);
	v.mv_data = buf;
	if ((rc = mdb_put(txn, ix->norms, &k, &v, 0)))
		return mdb_rc(rc);
	uint8_t dk[4];
	hx_be32_put(dk, doc);
	MDB_val k1 = { 4, dk };
	if ((rc = mdb_del(txn, ix->docs, &k1, NULL)) || (rc = mdb_del(txn, ix->ids, &ik, NULL)))
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : mdb_rc(rc);

	hx_ix_stats *st = &p->st;
	if (st->ndocs == 0)
		return HX_ECORRUPT;
	st->ndocs--;
	for (int f = 0; f < HX_NFIELDS; f++)
		st->sumlen[f] -= nm.len[f] <= st->sumlen[f] ? nm.len[f] : st->sumlen[f];
	int sl = hx_stem_lang(e->lang);
	if (sl >= 0 && sl < HX_IX_NLANG && st->lang_docs[sl])
		st->lang_docs[sl]--;
	return HX_OK;
}

/* ---- hooks -------------------------------------------------------------- */

int hx_index_open(struct hx_index *ix, MDB_txn *txn, int create)
{
	struct { const char *name; MDB_dbi *dbi; } t[] = {
		{ "ix.meta", &ix->meta }, { "ix.docs", &ix->docs }, { "ix.ids", &ix->ids },
		{ "ix.norms", &ix->norms }, { "ix.post", &ix->post },
		{ "ix.attr", &ix->attr }, { "ix.stem", &ix->stem },
	};
	int rc;
	ix->stale = 0;
	ix->pend = NULL;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		rc = mdb_dbi_open(txn, t[i].name, create ? MDB_CREATE : 0, t[i].dbi);
		if (rc == MDB_NOTFOUND) {
			ix->stale = 1; /* a store written before the index existed */
			return HX_OK;
		}
		if (rc)
			return mdb_rc(rc);
	}
	MDB_val k = { 6, "schema" }, v;
	uint8_t want[4];
	hx_le32_put(want, HX_INDEX_SCHEMA);
	rc = mdb_get(txn, ix->meta, &k, &v);
	if (rc == MDB_NOTFOUND && create) {
		MDB_cursor *c;
		MDB_val ck, cv;
		/* Fresh tables of a new store, or tables of an older program
		 * that left the schema out: only the first is current. */
		if ((rc = mdb_cursor_open(txn, ix->docs, &c)))
			return mdb_rc(rc);
		rc = mdb_cursor_get(c, &ck, &cv, MDB_FIRST);
		mdb_cursor_close(c);
		if (rc == 0) {
			ix->stale = 1;
			return HX_OK;
		}
		v.mv_size = 4;
		v.mv_data = want;
		return mdb_rc(mdb_put(txn, ix->meta, &k, &v, 0));
	}
	if (rc == MDB_NOTFOUND || (!rc && (v.mv_size != 4 || memcmp(v.mv_data, want, 4)))) {
		ix->stale = 1;
		return HX_OK;
	}
	return mdb_rc(rc);
}

int hx_index_update(struct hx_index *ix, MDB_txn *txn, const hx_entry *old,
		    const hx_entry *new_)
{
	struct hx_ix_pending *p;
	int rc;
	if (ix->stale)
		return HX_OK; /* nothing to keep in step until reindex */
	if ((rc = pending_get(ix, txn, &p)))
		return rc;
	if (old && (rc = del_doc(ix, p, old)))
		return rc;
	if (new_ && (rc = add_doc(ix, p, new_)))
		return rc;
	return HX_OK;
}

int hx_index_commit(struct hx_index *ix, MDB_txn *txn)
{
	int rc = HX_OK;
	if (ix->pend && ix->pend->txn == txn)
		rc = flush(ix, ix->pend);
	pending_free(&ix->pend);
	return rc;
}

void hx_index_abort(struct hx_index *ix)
{
	pending_free(&ix->pend);
}

int hx_index_clear(struct hx_index *ix, MDB_txn *txn)
{
	MDB_dbi *t[] = { &ix->meta, &ix->docs, &ix->ids, &ix->norms, &ix->post, &ix->attr,
			 &ix->stem };
	const char *names[] = { "ix.meta", "ix.docs", "ix.ids", "ix.norms", "ix.post", "ix.attr",
				"ix.stem" };
	int rc;
	pending_free(&ix->pend);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if ((rc = mdb_dbi_open(txn, names[i], MDB_CREATE, t[i])))
			return mdb_rc(rc);
		if ((rc = mdb_drop(txn, *t[i], 0)))
			return mdb_rc(rc);
	}
	MDB_val k = { 6, "schema" }, v;
	uint8_t want[4];
	hx_le32_put(want, HX_INDEX_SCHEMA);
	v.mv_size = 4;
	v.mv_data = want;
	if ((rc = mdb_put(txn, ix->meta, &k, &v, 0)))
		return mdb_rc(rc);
	ix->stale = 0;
	return HX_OK;
}

/* ---- fsck ------------------------------------------------------------------ */

struct checker {
	void (*report)(void *, const char *);
	void *arg;
	uint64_t problems;
};

static void problem(struct checker *ck, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct checker *ck, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ck->problems++;
	if (ck->report)
		ck->report(ck->arg, line);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static uint64_t posting_hash(const char *term, size_t tl, const hx_posting *q)
{
	uint64_t h = hash_bytes(term, tl);
	h = mix(h ^ q->doc);
	for (int f = 0; f < HX_NFIELDS; f++)
		h = mix(h ^ ((uint64_t)q->tf[f] << (8 * f + 1)));
	return h;
}

struct attr_sum {
	uint64_t sum, n;
	uint32_t doc;
};

static int attr_sum_cb(void *arg, const char *key, size_t klen)
{
	struct attr_sum *a = arg;
	a->sum += mix(hash_bytes(key, klen) ^ a->doc);
	a->n++;
	return HX_OK;
}

/* Every word of a live document of a stemming language must be in the
 * stem dictionary under that language. */
static int check_stems(struct hx_index *ix, MDB_txn *txn, const struct ttab *t,
		       hx_stemmers *stem, struct checker *ck)
{
	char key[2 * HX_TOKEN_MAX + 16];
	uint64_t missing = 0;
	for (uint32_t i = 0; i < t->nslots; i++) {
		const struct tent *e = &t->e[i];
		if (!e->klen || !e->langs)
			continue;
		const char *w = t->arena + e->koff + 1;
		size_t wl = e->klen - 1u;
		for (int l = 0; l < 32; l++) {
			if (!(e->langs & (1u << l)))
				continue;
			size_t sl;
			const char *st = hx_stem(stem, l, w, wl, &sl);
			if (!st)
				return HX_ENOMEM;
			MDB_val k = { hx_ix_dkey(key, l, st, sl, w, wl), key }, v;
			int rc = mdb_get(txn, ix->stem, &k, &v);
			if (rc == MDB_NOTFOUND) {
				if (!missing++)
					problem(ck, "search index: '%.*s' (%s) is missing from the stem dictionary",
						(int)wl, w, hx_stem_lang_code(l));
			} else if (rc) {
				return mdb_rc(rc);
			}
		}
	}
	if (missing > 1)
		problem(ck, "search index: %llu more words missing from the stem dictionary",
			(unsigned long long)missing - 1);
	return HX_OK;
}

static int count_entries(MDB_txn *txn, MDB_dbi dbi, uint64_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(txn, dbi, &st);
	*n = rc ? 0 : st.ms_entries;
	return mdb_rc(rc);
}

int hx_index_check(struct hx_index *ix, MDB_txn *txn, MDB_dbi docs,
		   MDB_dbi entries, void (*report)(void *, const char *),
		   void *arg, uint64_t *problems)
{
	struct checker ck = { report, arg, 0 };
	hx_ix_stats st;
	hx_stemmers *stem = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc;
	uint64_t live = 0, sumlen[HX_NFIELDS] = { 0 }, want_post = 0, want_sum = 0;
	uint32_t langs[HX_IX_NLANG] = { 0 };
	struct attr_sum as = { 0, 0, 0 };

	*problems = 0;
	if (ix->stale) {
		problem(&ck, "search index: missing or from another version (run 'hansa reindex')");
		*problems = ck.problems;
		return HX_OK;
	}
	if ((rc = load_stats(ix, txn, &st))) {
		problem(&ck, "search index: stats record is damaged");
		*problems = ck.problems;
		return HX_OK;
	}
	if ((rc = hx_stemmers_new(&stem)))
		return rc;

	/* 1. From the documents: what the index must hold. */
	struct ttab t = { 0 };
	struct docterms dt = { 0 };
	t.on_grow = dt_remap;
	t.grow_arg = &dt;
	if ((rc = mdb_cursor_open(txn, docs, &c)))
		goto out_mdb;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		hx_entry e;
		MDB_val ek = { HX_ID_LEN, (uint8_t *)v.mv_data + 8 }, ev;
		if (v.mv_size != 8 + HX_ID_LEN || mdb_get(txn, entries, &ek, &ev) ||
		    hx_entry_decode(&e, ev.mv_data, ev.mv_size))
			continue; /* the store's own check reports these */
		if (hx_entry_is_tombstone(&e)) {
			hx_entry_clear(&e);
			continue;
		}
		live++;
		MDB_val iv;
		char hex[2 * HX_ID_LEN + 1];
		int r2 = mdb_get(txn, ix->ids, &ek, &iv);
		if (r2 || iv.mv_size != 4) {
			problem(&ck, "search index: document %s (%s) is not indexed",
				e.path, hx_hex(hex, e.id, HX_ID_LEN));
			hx_entry_clear(&e);
			continue;
		}
		uint32_t doc = hx_le32_get(iv.mv_data);
		uint8_t dk[4];
		hx_be32_put(dk, doc);
		MDB_val k1 = { 4, dk }, v1;
		if (mdb_get(txn, ix->docs, &k1, &v1) || v1.mv_size != HX_ID_LEN + HX_KEY_LEN ||
		    memcmp(v1.mv_data, e.id, HX_ID_LEN) ||
		    memcmp((uint8_t *)v1.mv_data + HX_ID_LEN, e.author, HX_KEY_LEN))
			problem(&ck, "search index: docnum %u does not point back to %s", doc, e.path);
		if ((rc = doc_terms(&t, &dt, &e, doc))) {
			hx_entry_clear(&e);
			goto out;
		}
		for (size_t i = 0; i < dt.n; i++) {
			struct tent *te = &t.e[dt.idx[i]];
			hx_posting q = { doc, { te->tf[0], te->tf[1], te->tf[2] } };
			want_sum += posting_hash(t.arena + te->koff, te->klen, &q);
			want_post++;
		}
		hx_ix_norm nm;
		uint8_t ckey[4];
		hx_be32_put(ckey, doc / HX_IX_CHUNK);
		MDB_val nk = { 4, ckey }, nv;
		if (mdb_get(txn, ix->norms, &nk, &nv))
			nv.mv_size = 0, nv.mv_data = NULL;
		hx_ix_norm_get(&nm, nv.mv_data, nv.mv_size, doc);
		uint32_t w0 = dt.len[0] > 65535 ? 65535 : dt.len[0];
		uint32_t w1 = dt.len[1] > 65535 ? 65535 : dt.len[1];
		if (nm.day1 != day1_of(e.timestamp) || nm.len[0] != w0 || nm.len[1] != w1 ||
		    nm.len[2] != dt.len[2] || nm.lang != hx_stem_lang(e.lang))
			problem(&ck, "search index: lengths, date or language of %s are wrong", e.path);
		for (int f = 0; f < HX_NFIELDS; f++)
			sumlen[f] += f < 2 ? (f ? w1 : w0) : dt.len[2];
		int sl = hx_stem_lang(e.lang);
		if (sl >= 0 && sl < HX_IX_NLANG)
			langs[sl]++;
		as.doc = doc;
		doc_attrs(&e, attr_sum_cb, &as);
		hx_entry_clear(&e);
		/* keep the table small: terms are per document here */
		if (t.n > (1u << 20)) {
			if ((rc = check_stems(ix, txn, &t, stem, &ck)))
				goto out;
			ttab_free(&t);
		}
	}
	mdb_cursor_close(c);
	c = NULL;
	if (rc != MDB_NOTFOUND)
		goto out_mdb;
	if ((rc = check_stems(ix, txn, &t, stem, &ck)))
		goto out;

	if (st.ndocs != live)
		problem(&ck, "search index: %llu documents counted, %llu live",
			(unsigned long long)st.ndocs, (unsigned long long)live);
	for (int f = 0; f < HX_NFIELDS; f++)
		if (st.sumlen[f] != sumlen[f])
			problem(&ck, "search index: field %d length sum %llu, want %llu", f,
				(unsigned long long)st.sumlen[f], (unsigned long long)sumlen[f]);
	if (memcmp(st.lang_docs, langs, sizeof langs))
		problem(&ck, "search index: documents per language are wrong");
	uint64_t n1, n2;
	if (!count_entries(txn, ix->ids, &n1) && !count_entries(txn, ix->docs, &n2) &&
	    (n1 != live || n2 != live))
		problem(&ck, "search index: %llu ids and %llu docnums for %llu documents",
			(unsigned long long)n1, (unsigned long long)n2, (unsigned long long)live);

	/* 2. From the postings: what the index holds. */
	uint64_t have_post = 0, have_sum = 0;
	{
		char term[HX_IX_KEY_MAX];
		size_t tl = 0;
		uint32_t df = 0, prev_last = 0, lastfirst = 0;
		int lastn = 0, have_term = 0, bad_term = 0, nblocks = 0;
		hx_ix_term hdr = { 0, 0, 0, 0 };
		hx_posting blk[HX_IX_BLOCK];
		if ((rc = mdb_cursor_open(txn, ix->post, &c)))
			goto out_mdb;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			const uint8_t *kb = k.mv_data;
			int same = rc == 0 && have_term && k.mv_size == tl + 5 &&
				   !memcmp(kb, term, tl) && kb[tl] == 0;
			if (!same && have_term) {
				/* close the previous term */
				if (hdr.header ? (hdr.df != df || hdr.lastfirst != lastfirst ||
						  hdr.lastn != lastn || nblocks == 0)
					       : nblocks != 1)
					problem(&ck, "search index: term '%.*s' header disagrees with its postings",
						(int)tl, term);
				have_term = 0;
			}
			if (rc)
				break;
			if (!same) {
				const uint8_t *z = memchr(kb, 0, k.mv_size);
				if (!z || z == kb || ((size_t)(z - kb) + 5 != k.mv_size &&
						      (size_t)(z - kb) + 1 != k.mv_size)) {
					problem(&ck, "search index: malformed posting key");
					continue;
				}
				tl = (size_t)(z - kb);
				memcpy(term, kb, tl);
				have_term = 1;
				bad_term = 0;
				df = 0;
				nblocks = 0;
				prev_last = 0;
				memset(&hdr, 0, sizeof hdr);
				if (k.mv_size == tl + 1) {
					const uint8_t *vb = v.mv_data;
					if (v.mv_size != 12) {
						problem(&ck, "search index: bad header of '%.*s'", (int)tl, term);
					} else {
						hdr.header = 1;
						hdr.df = hx_le32_get(vb);
						hdr.lastfirst = hx_le32_get(vb + 4);
						hdr.lastn = vb[8];
					}
					continue;
				}
			}
			uint32_t first = hx_be32_get(kb + tl + 1);
			int n;
			if (hx_ix_block_decode(v.mv_data, v.mv_size, first, blk, &n)) {
				if (!bad_term)
					problem(&ck, "search index: damaged block of '%.*s'", (int)tl, term);
				bad_term = 1;
				continue;
			}
			if (nblocks && first <= prev_last)
				problem(&ck, "search index: blocks of '%.*s' overlap", (int)tl, term);
			nblocks++;
			prev_last = blk[n - 1].doc;
			lastfirst = first;
			lastn = n;
			df += (uint32_t)n;
			for (int i = 0; i < n; i++) {
				have_sum += posting_hash(term, tl, &blk[i]);
				have_post++;
			}
		}
		mdb_cursor_close(c);
		c = NULL;
		if (rc != MDB_NOTFOUND)
			goto out_mdb;
	}
	if (have_post != want_post || have_sum != want_sum)
		problem(&ck, "search index: postings disagree with the documents (%llu held, %llu expected)",
			(unsigned long long)have_post, (unsigned long long)want_post);

	/* 3. Attribute bitmaps. */
	{
		uint64_t sum = 0, n = 0;
		if ((rc = mdb_cursor_open(txn, ix->attr, &c)))
			goto out_mdb;
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
			if (!bm) {
				problem(&ck, "search index: damaged bitmap '%.*s'", (int)k.mv_size,
					(char *)k.mv_data);
				continue;
			}
			roaring_uint32_iterator_t *it = roaring_create_iterator(bm);
			uint64_t hk0 = hash_bytes(k.mv_data, k.mv_size);
			while (it && it->has_value) {
				sum += mix(hk0 ^ it->current_value);
				n++;
				roaring_advance_uint32_iterator(it);
			}
			roaring_free_uint32_iterator(it);
			roaring_bitmap_free(bm);
		}
		mdb_cursor_close(c);
		c = NULL;
		if (rc != MDB_NOTFOUND)
			goto out_mdb;
		if (n != as.n || sum != as.sum)
			problem(&ck, "search index: filter bitmaps disagree with the documents");
	}
	rc = HX_OK;
	goto out;
out_mdb:
	rc = mdb_rc(rc);
out:
	if (c)
		mdb_cursor_close(c);
	ttab_free(&t);
	free(dt.idx);
	hx_stemmers_free(&stem);
	*problems = ck.problems;
	return rc;
}
