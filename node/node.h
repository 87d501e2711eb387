/*
 * node.h: the hansa node: replication between partners over ZeroMQ with
 * CURVE. A node binds one ROUTER for incoming peers (after its ZAP handler,
 * which admits only members' transport keys), connects one DEALER per
 * configured peer, reconciles with Negentropy on connect and every few
 * seconds, fetches what it lacks, pushes each new entry live, and relays
 * entries from one peer to the others. The same machinery, run once
 * without a listener, is `hansa sync`. docs/PROTOCOL.md is the protocol.
 */
#ifndef HX_NODE_H
#define HX_NODE_H

#include <signal.h>
#include "proto/wire.h"
#include "store/store.h"

typedef struct hx_node hx_node;

/* A log line (no newline) for the operator; the node never prints. */
typedef void (*hx_log_fn)(void *arg, const char *line);

typedef struct hx_node_config {
	const uint8_t *pk, *sk;             /* identity: Ed25519 32 + 64 bytes */
	const uint8_t *curve_pk, *curve_sk; /* transport: Curve25519 32 + 32 */
	const char *bind;                   /* "tcp://ADDR:PORT" to listen on; NULL: none */
	unsigned recon_interval_ms;         /* anti-entropy period; 0 = 30 s */
	uint32_t ne_frame_limit;            /* Negentropy frame size limit; 0 = 256 KiB */
	uint16_t max_batch;                 /* entries per batch we accept; 0 = 256 */
	unsigned threads;                   /* verifying threads; 0 = one per CPU */
	unsigned poll_ms;                   /* how often the change log is read without a
	                                     * writer's wake-up; 0 = 10 s (20 ms when the
	                                     * wake-up socket cannot be bound) */
	int once;                           /* sync once with the peers, then return */
	const char *only_peer;              /* once: only the peer with this endpoint or
	                                     * key (hex); NULL = all */
	unsigned timeout_ms;                /* once: give up on a silent peer; 0 = 20 s */
	hx_log_fn log;                      /* may be NULL */
	void *log_arg;
	/* once: called as entries this node lacked arrive (done of total,
	 * total as found by the reconciliations so far); may be NULL */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	int verbose;             /* log every transfer, not only events */
	int no_announce;         /* tests, benchmarks: act as a node without ANNOUNCE
	                          * (HX_CAP_ANNOUNCE), relaying by PUSH alone */
	unsigned commit_entries; /* tests: received entries per bulk commit at
	                          * most; 0 = 30,000 (docs/PROTOCOL.md §6.4) */
	unsigned commit_slow_ms; /* tests: a bulk commit slower than this is slow
	                          * (ibid.); 0 = 1,500 */
	int start_lazy;          /* tests: every member starts lazy (own writes and
	                          * relays go to it as ANNOUNCE until a WANT) */
	/* attachment blobs (docs/PROTOCOL.md §9); 0 = the defaults of
	 * node/blobsync.h */
	uint64_t blob_auto;      /* fetched without being asked up to this size */
	uint64_t blob_max;       /* the largest file fetched at all */
	uint64_t blob_space;     /* all blobs together */
	unsigned blob_transfers; /* blobs fetched at once */
	uint64_t blob_rate;      /* bytes/s of chunks served; 0 = no limit */
	uint64_t scrub_rate;     /* bytes/s the scrub re-hashes; 0 = the default */
	uint64_t scrub_every_s;  /* a blob is scrubbed again after this; 0 = the default */
} hx_node_config;

/* Creates the node over an open store (borrowed; it must outlive the
 * node). Nothing is bound or connected before hx_node_run. */
int hx_node_new(hx_node **out, hx_store *store, const hx_node_config *cfg) HX_WUR;
void hx_node_destroy(hx_node **n); /* NULL-safe, clears *n */

/* Runs until *stop becomes non-zero (serve) or, with cfg->once, until every
 * selected peer is synced or has failed. HX_EINVAL: nothing to do (no peer
 * matches only_peer); HX_EIO: the bind or another socket call failed (see
 * hx_node_error). */
int hx_node_run(hx_node *n, volatile sig_atomic_t *stop) HX_WUR;

/* After a once run: what happened with each peer. */
typedef struct hx_sync_result {
	char endpoint[260];
	uint8_t key[32];
	int ok;          /* reconciled and transferred everything */
	char error[128]; /* why not, when !ok */
	uint64_t sent, received, refused;
	uint64_t we_lacked, they_lacked; /* found by the reconciliation */
	unsigned rounds;                 /* Negentropy round trips */
	uint64_t recon_bytes;            /* Negentropy bytes both ways */
	uint64_t fetched;                /* entries answered to our requests */
} hx_sync_result;
/* Borrowed; valid until hx_node_destroy. */
size_t hx_node_results(const hx_node *n, const hx_sync_result **out);

/* Bytes the node has sent in messages that move entries (WANT, ENTRIES,
 * ANNOUNCE, PUSH: header and entry frames) since it was created; may be
 * read from another thread while it runs (for benchmarks and tests). */
uint64_t hx_node_entry_bytes(const hx_node *n);

/* The most entries a reconciliation's PUSHes (flag LIVE clear) had in
 * flight at once on one connection, unacknowledged, since the node was
 * created; may be read from another thread (for tests). */
uint64_t hx_node_push_peak(const hx_node *n);

/* Entries received into the pipeline (ENTRIES, PUSH without LIVE), how
 * many of them the verification pool has verified (not those verified on
 * the loop's own thread after an allocation failed), and the bulk write
 * transactions the pipeline began, since the node was created; may be
 * read from another thread while it runs (for tests and benchmarks). */
void hx_node_pipe_counts(const hx_node *n, uint64_t *taken, uint64_t *verified, uint64_t *commits);

/* Ids this node has sent in ANNOUNCE messages, since it was made (any
 * thread; tests). */
uint64_t hx_node_announced(const hx_node *n);

/* Why hx_node_run failed (one line), or NULL. Valid while n lives. */
const char *hx_node_error(const hx_node *n);

#endif
