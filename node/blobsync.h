/*
 * blobsync.h: what the node's blob replication (node/blobsync.c,
 * docs/PROTOCOL.md §9) shares with the commands in other processes: the
 * on-demand fetch requests `hansa fetch` leaves for the running node, and
 * the counters and gauges `hansa status` and /metrics show. All of it
 * lives in the store's kv table ("blob-want/<hex>", "blob-refused/<hex>",
 * "blob/status", and counters "blob-*").
 */
#ifndef HX_NODE_BLOBSYNC_H
#define HX_NODE_BLOBSYNC_H

#include "store/store.h"

/* Default limits (hansa serve --blob-auto, --blob-max, --blob-space,
 * --blob-transfers). */
#define HX_BLOB_AUTO_DEFAULT (25ull << 20) /* fetched without being asked */
#define HX_BLOB_TRANSFERS_DEFAULT 4        /* blobs fetched at once */
/* The scrub (hansa serve --scrub-rate, --scrub-every): whole blobs are
 * re-hashed in the background at most this fast, each again after this
 * long (the first time as soon as a node serves a blob never checked). */
#define HX_SCRUB_RATE_DEFAULT (16ull << 20)       /* bytes/s */
#define HX_SCRUB_EVERY_DEFAULT (7ull * 24 * 3600) /* seconds */
/* The largest file and the space of all: store/blob.h's HX_BLOB_FILE_MAX
 * and HX_BLOB_SPACE_MAX. */

/* Asks the node serving this store to fetch a blob (kept until the blob
 * is whole or refused, so it survives restarts) and wakes it. */
int hx_blob_request(hx_store *s, const uint8_t hash[HX_ID_LEN], uint64_t size) HX_WUR;
/* HX_OK when the node refused that blob (reason copied into why),
 * HX_ENOTFOUND when it did not. */
int hx_blob_refusal(hx_store *s, const uint8_t hash[HX_ID_LEN], char *why, size_t whylen) HX_WUR;

/* Whether the blob is here whole. */
int hx_blob_is_whole(hx_store *s, const uint8_t hash[HX_ID_LEN]);

/* What the node's blob replication is doing, and what it did. */
typedef struct hx_blob_status {
	uint64_t updated;      /* µs; 0: never written */
	uint64_t wanted;       /* blobs to fetch (queued and in flight) */
	uint64_t active;       /* blobs being fetched now */
	uint64_t bytes_wanted; /* their total size */
	uint64_t bytes_held;   /* of which held already */
	/* counters since the store was made */
	uint64_t done;                  /* blobs fetched whole */
	uint64_t refused;               /* blobs refused (over a limit) */
	uint64_t bytes_in, chunks_in;   /* verified chunks received */
	uint64_t bytes_out, chunks_out; /* chunks served */
	uint64_t bad_chunks;            /* chunks that did not match their hash */
	uint64_t hashed_out;            /* chunks hashed when served (not marked checked) */
	uint64_t scrubbed, scrub_bad;   /* blobs re-hashed by the scrub; found damaged */
} hx_blob_status;
int hx_blob_status_get(hx_store *s, hx_blob_status *st) HX_WUR;
/* Chunks that did not match their hash, sent by one member. */
int hx_blob_bad_get(hx_store *s, const uint8_t key[HX_KEY_LEN], uint64_t *v) HX_WUR;

#endif
