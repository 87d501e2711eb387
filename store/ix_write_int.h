/*
 * ix_write_int.h: the index writer's internals, shared by its files:
 * index.c (the hooks, adding and removing documents), ix_strtab.c (the
 * string table), ix_doc.c (a document's terms and attribute keys),
 * ix_worker.c (tokenizing on a worker thread), ix_stems.c (the stem
 * dictionary), ix_flush.c (writing the gathered postings) and ix_check.c
 * (fsck). search.c does not include it. Table layouts: ix_int.h.
 */
#ifndef HX_IX_WRITE_INT_H
#define HX_IX_WRITE_INT_H

#include <pthread.h>
#include <roaring/roaring.h>
#include "store/index.h"
#include "store/ix_int.h"
#include "store/mdb_err.h"

/* hx_mdb_err, except MDB_KEYEXIST: in the index it only comes from an
 * MDB_APPEND put out of key order, i.e. a broken index, not "already
 * exists". */
static inline int hx_ix_err(int rc)
{
	return rc == MDB_KEYEXIST ? HX_EIO : hx_mdb_err(rc);
}

/* ---- a string table: key bytes -> small record (ix_strtab.c) ------------ */

/* Open addressing with the records in the slots themselves and the first
 * bytes of the key inline, so that a lookup of a common short term costs
 * one cache miss (this lookup is the hot spot of a bulk load). Indices are
 * slot numbers; when the table grows they change and on_grow is told. */
#define HX_IX_KIN 12

struct tent {
	uint32_t h;     /* low bits of the hash */
	uint16_t klen;  /* 0 = empty slot */
	uint32_t langs; /* for a word: bit i = seen in a document of stemming language i */
	uint32_t aux;   /* for an attribute: its bitmap's index */
	uint32_t cur;   /* docnum + 1 whose tfs are in tf[] */
	uint32_t count; /* pending postings */
	uint32_t koff;  /* whole key in the arena */
	uint32_t tf[HX_NFIELDS];
	char kin[HX_IX_KIN]; /* the key's first bytes */
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

/* Finds or adds key; *idx gets its slot. HX_OK or HX_ENOMEM. */
int hx_ix_tab_get(struct ttab *t, const char *key, size_t klen, uint32_t *idx) HX_WUR;
/* The same with h = (uint32_t)hx_ix_hash(key, klen) computed before, so
 * that a caller can hx_ix_tab_prefetch the slots of the next keys while
 * it works on this one (a large table is mostly out of the caches). */
int hx_ix_tab_get_h(struct ttab *t, const char *key, size_t klen, uint32_t h, uint32_t *idx) HX_WUR;

/* The first slot of a key whose hash is h in a table of n slots. */
static inline uint32_t hx_ix_slot_of(uint32_t h, uint32_t n)
{
	return (h * 2654435761u) >> 7 & (n - 1);
}

static inline void hx_ix_tab_prefetch(const struct ttab *t, uint32_t h)
{
	if (t->nslots)
		__builtin_prefetch(&t->e[hx_ix_slot_of(h, t->nslots)]);
}
/* Frees the slots and keys; t can be used again (callbacks stay). */
void hx_ix_tab_free(struct ttab *t);

/* Sorting keys: a key, its length and the slot (or an offset) it came from. */
struct skey {
	const char *k;
	uint32_t len, idx;
	uint32_t vlen; /* ix.wstem keys: the value's length (it follows the key) */
};
/* qsort comparison of struct skey: bytewise, shorter first. */
int hx_ix_cmp_skey(const void *a, const void *b);
/* Sorts n keys in hx_ix_cmp_skey's order, by a radix sort of their bytes
 * (a bulk flush sorts hundreds of thousands; qsort's comparisons, each
 * reading two keys from all over the heap, took a tenth of the flush). */
void hx_ix_sort_skeys(struct skey *a, size_t n);

/* ---- a document's terms (ix_doc.c) ---------------------------------------- */

/* Terms of one document with their tfs: indices into a ttab. */
struct docterms {
	uint32_t *idx;
	size_t n, cap;
	uint32_t len[HX_NFIELDS];
};

/* Tokenizes e's title, tags and body, and files (its attachments' names
 * and text, hx_ix_files; may be NULL), as document doc into t; dt gets the
 * terms (fresh tfs in t->e[...].tf) and the field lengths. */
int hx_ix_doc_terms(struct ttab *t, struct docterms *dt, const hx_entry *e, const char *files,
                    uint32_t doc) HX_WUR;
/* An on_grow callback for a ttab whose indices only a docterms holds
 * (arg is the docterms). */
void hx_ix_dt_remap(void *arg, const uint32_t *remap, uint32_t nold);
/* The attribute keys of e (filters and facets), one call of cb each. */
int hx_ix_doc_attrs(const hx_entry *e, int (*cb)(void *, const char *, size_t), void *arg);
/* Day of a timestamp + 1, as the norm records keep it. */
uint32_t hx_ix_day1(uint64_t ts_us);

/* ---- pending work of one write transaction (index.c) ---------------------- */

struct plog {
	uint32_t term, doc;
	uint32_t tf[HX_NFIELDS];
};

/* A new document waiting for the tokenizer: a copy of what it needs of
 * the entry, which the caller frees when hx_index_update returns. */
struct job {
	struct job *next; /* jobs travel in chains of up to HX_IX_BATCH */
	uint32_t doc;
	char *files; /* owned: hx_ix_files of the entry */
	hx_entry e;
	hx_meta meta[2];
};

#define HX_IX_QCAP 64                 /* chains of jobs waiting at most */
#define HX_IX_BATCH 32                /* jobs per chain: one hand-over per chain */
#define HX_IX_SYNC_DOCS 256           /* documents per transaction tokenized inline */
#define HX_IX_QUEUE_FILES (64u << 10) /* more files text is tokenized inline */

struct hx_ix_pending {
	MDB_txn *txn;
	hx_ix_stats st;
	uint32_t first_doc; /* docnums >= this are pending */
	uint32_t ndocs_txn; /* documents added in this transaction */
	uint8_t *recs;      /* the ix.docs records of the pending docnums, */
	size_t caprecs;     /* one after the other: */
	size_t *roff;       /* docnum first_doc + k's from roff[k] to roff[k + 1] */
	size_t caproff;
	/* Owned by the tokenizer (the worker thread while it runs): */
	hx_stemmers *stem;
	struct ttab terms;
	struct plog *log;
	size_t nlog, caplog;
	hx_ix_norm *norms; /* docs first_doc .. st.next_doc - 1 */
	size_t capnorms;
	struct ttab attrs; /* an entry's aux indexes abm */
	roaring_bitmap_t **abm;
	size_t nabm, capabm;
	struct docterms dt;
	int werr; /* first error of the worker */
	/* The worker: tokenizes new documents while the store goes on. */
	int have_worker, stop, busy;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv_job, cv_idle, cv_space;
	struct job *q[HX_IX_QCAP];
	unsigned qhead, qlen;
	struct job *bhead, *btail; /* the chain being filled */
	unsigned bn;
	size_t published_log; /* p->nlog as of the last finished job */
};

/* Forgets the gathered postings after they were written (keeps stats). */
void hx_ix_pending_reset(struct hx_ix_pending *p);
/* Frees the pending attribute bitmaps and their table (ix_flush.c). */
void hx_ix_free_attrs(struct hx_ix_pending *p);
/* The stats record, zeroes when absent. */
int hx_ix_load_stats(struct hx_index *ix, MDB_txn *txn, hx_ix_stats *st) HX_WUR;

/* ---- tokenizing new documents (ix_worker.c) -------------------------------- */

/* Tokenizes a new document into the pending postings, norms and filter
 * bitmaps (on the worker thread, or inline). */
int hx_ix_accumulate(struct hx_ix_pending *p, const hx_entry *e, const char *files,
                     uint32_t doc) HX_WUR;
/* Starts the worker thread; -1 when it could not (go on inline). */
int hx_ix_worker_start(struct hx_ix_pending *p);
/* Queues a copy of e as document doc for the worker, which takes files
 * (freed even on error); *nlog gets the
 * postings the worker has gathered so far when a chain was handed over
 * (else 0). Returns the worker's first error, or HX_ENOMEM. */
int hx_ix_worker_add(struct hx_ix_pending *p, const hx_entry *e, char *files, uint32_t doc,
                     size_t *nlog) HX_WUR;
/* Waits until the worker has tokenized every queued document; returns
 * its first error. */
int hx_ix_drain(struct hx_ix_pending *p) HX_WUR;
/* Stops the worker and frees what it had not tokenized yet. */
void hx_ix_worker_stop(struct hx_ix_pending *p);

/* ---- the stem dictionary (ix_stems.c) ---------------------------------------- */

/* The stem dictionary entries of the pending words, one per word and
 * stemming language it was seen in, sorted. hx_ix_stem_keys only reads
 * the term table and uses the stemmers, so it can run on a helper thread
 * while the postings are written. */
struct stemjob {
	struct hx_ix_pending *p;
	struct skey *keys, *wkeys; /* ix.stem, ix.wstem */
	char *buf;
	size_t n, nw;
	int rc;
};
/* Fills sj (a pthread start routine: arg is the stemjob); sets sj->rc. */
void *hx_ix_stem_keys(void *arg);
/* Frees sj's keys (after an error; hx_ix_put_stems frees them itself). */
void hx_ix_stemjob_free(struct stemjob *sj);
/* Writes sj's keys into ix.stem and ix.wstem and frees them; returns
 * sj->rc or the first write error. */
int hx_ix_put_stems(struct hx_index *ix, struct hx_ix_pending *p, struct stemjob *sj) HX_WUR;

/* ---- writing postings (ix_flush.c) -------------------------------------------- */

/* Writes one posting block (n postings, docnums increasing) of term
 * through a cursor on ix.post (a flush's, kept on the leaf page its
 * sorted terms walk). */
int hx_ix_put_block(MDB_cursor *post, const char *term, size_t tl, const hx_posting *ps, int n,
                    float bound, unsigned flags) HX_WUR;
/* Writes everything pending into the transaction (waits for the worker
 * first) and resets the pending postings. */
int hx_ix_flush(struct hx_index *ix, struct hx_ix_pending *p) HX_WUR;

#endif
