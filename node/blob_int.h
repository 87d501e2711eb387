/*
 * blob_int.h: what the node's blob files share (blobstate.c: the kv records
 * and counters; blobserve.c: serving chunks; blobwant.c: finding wanted
 * blobs; blobsync.c: fetching them, on top of all three).
 * docs/PROTOCOL.md §9.
 */
#ifndef HX_NODE_BLOB_INT_H
#define HX_NODE_BLOB_INT_H

#include "node/node_int.h"
#include "node/blobsync.h"
#include "proto/blobwire.h"
#include "store/blob.h"

#define BL_WINDOW 16        /* chunks in flight per member */
#define BL_SEND_PER_PASS 4  /* chunks a connection is sent per pass of the loop */
#define BL_BATCH_MAX 32     /* chunks received before one sync marks them present */
#define BL_SERVE_QUEUE 64   /* chunk requests queued per connection */
#define BL_CHECKED_BLOBS 16 /* blobs whose chunks checked in this run are remembered */
#define BL_CHUNK_TIMEOUT_MS 30000
#define BL_ASK_TIMEOUT_MS 30000
#define BL_REASK_MS 5000       /* BLOB_GET again after NONE or a partial list */
#define BL_SCAN_MS 200         /* new entries looked at for attachments at most this often */
#define BL_SCAN_SLICE 2048     /* entries read back per scan of the change log */
#define BL_SCAN_SLICE_BUSY 128 /* ... while entries are moving (blobsync.c scan) */
#define BL_REQUESTS_MS 10000   /* `hansa fetch` requests re-read without a wake-up */

enum { SRC_NEW, SRC_ASKED, SRC_LIST, SRC_NONE };
/* A chunk is MISSING, asked for (FLIGHT), received and written but not yet
 * committed (WRITTEN: absent for the store until its batch commits), or
 * present (DONE). */
enum { CH_MISSING, CH_FLIGHT, CH_WRITTEN, CH_DONE };

/* A member as a source of one blob. */
struct bsrc {
	struct peer *peer;
	struct conn *c; /* the connection it was asked on, and when that came up */
	uint64_t c_at;
	int state;
	uint64_t at;     /* SRC_ASKED: when; SRC_NONE/partial: ask again then */
	uint8_t *have;   /* bitmap of chunks it holds; NULL: all (with SRC_LIST) */
	uint8_t *bad;    /* bitmap of chunks it sent that did not match */
	unsigned flight; /* chunks asked of it, not answered */
};

/* A blob this node wants. */
struct bx {
	uint8_t hash[HX_ID_LEN];
	uint64_t size;
	uint32_t n; /* chunks */
	int ondemand, active;
	uint8_t *hashes;    /* the chunk hash list, once known */
	uint8_t *st;        /* CH_* per chunk */
	uint16_t *who;      /* CH_FLIGHT: index into src */
	uint64_t *deadline; /* CH_FLIGHT: µs */
	struct bsrc *src;
	size_t nsrc, capsrc;
	uint32_t left, cursor; /* left: chunks not DONE */
	uint64_t held;         /* bytes held (DONE) */
	uint64_t started;
};

/* A chunk a member asked for, to be sent. */
struct bserve {
	struct conn *c;
	uint64_t c_at;
	uint32_t request, index;
	uint8_t hash[HX_ID_LEN];
	int sent; /* in this pass */
};

/* The chunks of a blob that this node checked against their hashes in
 * this run (when it served or received them): served again unhashed. */
struct bchecked {
	uint8_t hash[HX_ID_LEN];
	uint8_t *bits; /* chunk i checked iff bit i % 8 of byte i / 8 */
	size_t cap;    /* bytes of bits */
};

struct hx_nd_blobs {
	struct bx **x;
	size_t nx, capx;
	struct bserve *q;
	size_t nq, capq;
	uint64_t seq; /* change log read up to here */
	uint64_t last_scan, next_requests;
	int scan_due;
	int news; /* entries with attachments stored since the last scan */
	/* seqs of entries this node stored itself (receive.c), ascending,
	 * whose attachments were looked at then: the scan passes over them
	 * without reading them back */
	uint64_t *mine;
	size_t nmine, capmine;
	uint32_t next_req;
	/* not yet added to the stored counters */
	uint64_t done, refused, bytes_in, chunks_in, bytes_out, chunks_out, bad, hashed_out;
	int dirty;
	struct hx_nd_bcommit *bc; /* chunks written, synced and marked present (blobcommit.c) */
	struct bchecked *chk;     /* the last BL_CHECKED_BLOBS blobs served or received */
	size_t nchk, capchk;
	struct hx_nd_scrub *scrub; /* the scrub thread (blobscrub.c), once started */
	int scrub_failed;
	double tokens;   /* with cfg.blob_rate: bytes that may be sent now */
	uint64_t refill; /* µs tokens were last added */
};

/* ---- blobstate.c ---- */

/* out = prefix followed by the 64 hex digits of hash (a kv key). */
void hx_nd_blob_key(char *out, size_t len, const char *prefix, const uint8_t hash[HX_ID_LEN]);
/* The chunks of a partial blob of n chunks that are present, as a bitmap
 * (bit i = byte i / 8, bit i % 8; caller frees). */
int hx_nd_blob_held(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t n,
                    uint8_t **bitmap) HX_WUR;
/* Adds the counters gathered to the store's and writes "blob/status". */
void hx_nd_blob_flush(hx_node *n, uint64_t now);

/* ---- blobwant.c ---- */

/* The wanted list: x freed (NULL-safe); the wanted blob with hash, or
 * NULL; x taken off the list and freed. */
void hx_nd_bx_free(struct bx *x);
struct bx *hx_nd_bx_find(struct hx_nd_blobs *b, const uint8_t hash[HX_ID_LEN]);
void hx_nd_bx_remove(struct hx_nd_blobs *b, struct bx *x);
/* The blob is not fetched, for why: counted, logged, recorded
 * ("blob-refused/<hex>"), and its `hansa fetch` request dropped. */
void hx_nd_blob_refuse(hx_node *n, const uint8_t hash[HX_ID_LEN], uint64_t size, const char *why);
/* Reads the change log on from the last scan (a slice, BL_SCAN_SLICE or
 * BL_SCAN_SLICE_BUSY entries) for attachments of current versions. */
void hx_nd_blob_scan(hx_node *n, uint64_t now);

/* ---- blobcommit.c ---- */

/* A chunk of a batch. */
struct hx_nd_bchunk {
	uint8_t hash[HX_ID_LEN];
	uint32_t index;
};

int hx_nd_bc_new(struct hx_nd_bcommit **c, hx_store *s) HX_WUR;
/* Stops the thread (after the commit it is on) and frees; NULL-safe. */
void hx_nd_bc_free(struct hx_nd_bcommit **c);
/* The eventfd that becomes readable when a commit is done (-1: none). */
int hx_nd_bc_fd(const struct hx_nd_bcommit *c);
/* hx_blob_batch_write into the batch being filled (same results); a chunk
 * written or HX_EEXIST is listed with the batch for hx_nd_bc_take. */
int hx_nd_bc_write(struct hx_nd_bcommit *c, const uint8_t hash[HX_ID_LEN], uint32_t i,
                   const uint8_t *data, size_t len) HX_WUR;
/* Chunks in the batch being filled; whether a commit is under way. */
size_t hx_nd_bc_filling(const struct hx_nd_bcommit *c);
int hx_nd_bc_busy(const struct hx_nd_bcommit *c);
/* Hands the filled batch to the thread unless it is still committing the
 * previous one (or the batch is empty). */
int hx_nd_bc_kick(struct hx_nd_bcommit *c) HX_WUR;
/* 1 when the thread finished a commit since the last call: its result in
 * *rc and its chunks in *chunks[*k] (valid until the next kick); 0 else. */
int hx_nd_bc_take(struct hx_nd_bcommit *c, const struct hx_nd_bchunk **chunks, size_t *k,
                  int *rc) HX_WUR;
/* Waits for the thread's commit and commits the batch being filled here;
 * for the end of the node (its chunks are not reported). */
int hx_nd_bc_drain(struct hx_nd_bcommit *c) HX_WUR;

/* ---- blobserve.c ---- */

/* Whether c is still an up connection of n, the one that was up at c_at. */
int hx_nd_blob_conn_alive(hx_node *n, const struct conn *c, uint64_t c_at);
void hx_nd_blob_on_get(hx_node *n, struct conn *c, const hx_bwire_msg *m);
void hx_nd_blob_on_want(hx_node *n, struct conn *c, const hx_bwire_msg *m);
/* Notes that chunk i of blob hash was checked against its hash in this run. */
void hx_nd_blob_mark_checked(hx_node *n, const uint8_t hash[HX_ID_LEN], uint32_t i);
void hx_nd_blob_checked_free(struct hx_nd_blobs *b);
/* Sends queued chunks: a few per connection, within cfg.blob_rate. */
void hx_nd_blob_serve(hx_node *n, uint64_t now);

/* ---- blobscrub.c ---- */

/* Starts the scrub thread on the first call, and tells it whether the
 * node is moving blobs now (it pauses then). */
void hx_nd_scrub_tick(hx_node *n);
/* Stops the scrub thread (after the chunk it is on) and frees it. */
void hx_nd_scrub_stop(struct hx_nd_blobs *b);

#endif
