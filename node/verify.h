/*
 * verify.h: decoding and verifying received entries on every core. Ed25519
 * verification is the ceiling of ingest (about 14,000/s per core here and
 * libsodium has no batch verification), so a batch is shared between the
 * calling thread and a few worker threads.
 */
#ifndef HX_NODE_VERIFY_H
#define HX_NODE_VERIFY_H

#include "proto/entry.h"

typedef struct hx_vpool hx_vpool;

/* One received entry. In: raw, len (borrowed). Out: rc and, when rc is
 * HX_OK, the decoded entry e (caller clears with hx_entry_clear). */
typedef struct hx_vjob {
	const uint8_t *raw;
	size_t len;
	hx_entry e;
	int rc;
	/* out: the entry's id when it decoded, else BLAKE2b-256 of raw (so a
	 * refusal can name what it refused) */
	uint8_t id[HX_ID_LEN];
	uint64_t max_ts; /* in (hx_vpool_submit; run and start set it): see hx_vpool_run */
	int done;        /* out (hx_vpool_submit): 1 once rc and e are set (atomic) */
} hx_vjob;

/* threads: how many threads work on a batch, the caller's included (so
 * threads - 1 workers are started); 0 = the number of online CPUs. At most
 * 8. */
int hx_vpool_new(hx_vpool **out, unsigned threads) HX_WUR;
void hx_vpool_destroy(hx_vpool **p); /* NULL-safe, clears *p */

/* Decodes and verifies every job: rc is HX_OK, a decode error (HX_EPROTO,
 * HX_EVERSION, HX_ELIMIT), HX_EFORGED (signature), HX_EFUTURE when the
 * timestamp is after max_ts, or HX_EEXIST (see hx_vpool_set_known). Returns when all are done. */
void hx_vpool_run(hx_vpool *p, hx_vjob *jobs, size_t n, uint64_t max_ts);

/* The same in two steps, so that the caller can do something else while
 * the workers verify: start hands the jobs to the workers and returns at
 * once; finish makes the caller help with what is left and returns when
 * all are done. jobs must stay valid until finish. Every start needs its
 * finish before the next start or run. */
void hx_vpool_start(hx_vpool *p, hx_vjob *jobs, size_t n, uint64_t max_ts);
void hx_vpool_finish(hx_vpool *p);

/* A stream of jobs, for a pipeline: submit queues jobs (with their
 * max_ts set) behind those queued before, and the workers take them in
 * that order as they come; each job's done turns 1 when it is finished
 * (read it with hx_vjob_done). The jobs must stay valid and in place until
 * done; n consecutive jobs are queued at once. help does one queued job on the calling thread and
 * returns 1, or 0 when none is queued; wait returns once j is done, helping meanwhile. A batch
 * (run, or start/finish) may run on one thread while a stream is queued (a PUSH during a
 * transfer): the workers take stream jobs first, and the batch's caller does what they leave. */
int hx_vpool_submit(hx_vpool *p, hx_vjob *jobs, size_t n) HX_WUR; /* HX_ENOMEM: none queued */
int hx_vpool_help(hx_vpool *p);
void hx_vpool_wait(hx_vpool *p, hx_vjob *j);
int hx_vjob_done(const hx_vjob *j);
/* Jobs submitted and not yet taken by a thread. */
size_t hx_vpool_queued(hx_vpool *p);
/* Jobs submitted (hx_vpool_submit) and done since the pool was made; may
 * be read from any thread. */
uint64_t hx_vpool_streamed(hx_vpool *p);

/* Optional (NULL to unset): known(arg, ids, n, found) sets found[i] to 1
 * when the entry with ids[i] is stored already, else 0, for n ids at once
 * (a thread takes a few jobs at a time from a long queue and asks once for
 * them all, so that a store answers in one read transaction). A job whose
 * entry is known gets rc HX_EEXIST after decoding, without its signature
 * being verified (and no e to clear). Called from every thread of the
 * pool, so it must be thread-safe. */
typedef void (*hx_vknown_fn)(void *arg, const uint8_t *const ids[], size_t n, uint8_t *found);
void hx_vpool_set_known(hx_vpool *p, hx_vknown_fn known, void *arg);

/* Threads working on a batch, the caller's included. */
unsigned hx_vpool_threads(const hx_vpool *p);

#endif
