/*
 * state.h: the state file, a compact description of the entries a store
 * holds, so that another office can write a bundle of only what is missing
 * (`hansa state`, `hansa export --bundle F --missing-from STATE`).
 *
 * The store's (timestamp, id) items, in order, are cut into buckets of about
 * bucket_size items; the file holds each bucket's lower bound (as in
 * Negentropy: a timestamp and the shortest id prefix that separates it from
 * the item before), its item count, a fingerprint of its ids and the low 64
 * bits of their sum. The exporter groups its own items by the same bounds.
 * Where a bucket differs only because the office lacks one or two of the
 * exporter's items, the sum difference names them (checked against the
 * fingerprint) and only they are sent; any other differing bucket is sent
 * whole. Errors only ever add entries (at most bucket_size per differing
 * bucket), never drop one, except for a 2^-64 fingerprint collision. Pure
 * encoding, no I/O; bytes in state.c and docs/FORMAT.md §5.
 */
#ifndef HX_STATE_H
#define HX_STATE_H

#include "proto/entry.h"
#include "proto/negentropy.h"

#define HX_STATE_MAGIC "\x89HXS\r\n\x1a\n"
#define HX_STATE_MAGIC_LEN 8
#define HX_STATE_VERSION 2 /* written; version 1 (no blob list) is still read */
#define HX_STATE_VERSION_1 1
#define HX_STATE_FP_LEN 8
#define HX_STATE_BUCKET_DEFAULT 16
#define HX_STATE_BUCKET_MAX 65536

typedef struct hx_state_bucket {
	uint64_t ts;               /* lower bound: timestamp ... */
	uint8_t prefix[HX_ID_LEN]; /* ... and id prefix (zero-padded) */
	uint8_t prefix_len;
	uint64_t count; /* items in the bucket, >= 1 */
	uint8_t fp[HX_STATE_FP_LEN];
	uint64_t sum64; /* low 64 bits of the ids' sum (little-endian) */
} hx_state_bucket;

/* Bucket i holds the items x with bound(i) <= x < bound(i+1); bucket 0's
 * bound is (0, empty), the last bucket is open above. */
typedef struct hx_state {
	uint8_t owner[HX_KEY_LEN]; /* the office's identity key (informative) */
	uint64_t created;          /* microseconds since the epoch */
	uint64_t items;            /* total items (= sum of counts) */
	uint64_t bucket_size;      /* the target size used to cut buckets */
	hx_state_bucket *b;        /* owned; hx_state_clear frees */
	size_t n;
	/* Version 2: the hashes of the whole blobs the office has, HX_ID_LEN
	 * bytes each, strictly increasing (owned; hx_state_clear frees). A
	 * version 1 file has none and has_blobs 0: it cannot say. */
	uint8_t *blobs;
	size_t nblobs;
	int has_blobs;
	uint8_t digest[32]; /* decode/encode: the file's checksum */
} hx_state;

/* Fingerprint of a bucket: the first 8 bytes of Negentropy's fingerprint
 * (SHA-256 of the 256-bit little-endian sum of the ids ‖ varint(count)). */
void hx_state_fp(const uint8_t sum[32], uint64_t count, uint8_t fp[HX_STATE_FP_LEN]);

/* Cuts items (strictly increasing (ts, id) order, else HX_EINVAL) into
 * buckets of bucket_size (1..HX_STATE_BUCKET_MAX, else HX_EINVAL) into *st
 * (zeroed first; owner and created are left zero for the caller). */
int hx_state_build(hx_state *st, const hx_ne_item *items, size_t n, uint64_t bucket_size) HX_WUR;

/* The file bytes of st in *out (caller frees with free()); sets
 * st->digest. Always version 2: st->blobs must be strictly increasing
 * (else HX_EINVAL); an empty list says the office has no blob. */
int hx_state_encode(hx_state *st, uint8_t **out, size_t *len) HX_WUR;

/* Decodes a state file into *st (zeroed first; on error nothing to free).
 * HX_EPROTO (not a state file, damaged, non-canonical: *why says which, if
 * why is not NULL), HX_EVERSION, HX_ENOMEM. */
int hx_state_decode(hx_state *st, const uint8_t *buf, size_t len, const char **why) HX_WUR;

void hx_state_clear(hx_state *st); /* NULL-safe */

/* 1 when st lists blob hash among the office's whole blobs. */
int hx_state_has_blob(const hx_state *st, const uint8_t hash[HX_ID_LEN]);

/*
 * The exporter's side: items are its own (strictly increasing, else
 * HX_EINVAL). Sets send[i] to 1 for each item the office may lack (every
 * item when st has no bucket), else 0: in a bucket whose count or
 * fingerprint differs from st's, the one or two items that explain the
 * difference, else all of them. *excess_max (may be NULL) gets an upper
 * bound of how many sent items the office may already hold: the sum over
 * buckets sent whole of min(our count, its count).
 */
int hx_state_select(const hx_state *st, const hx_ne_item *items, size_t n, uint8_t *send,
                    uint64_t *excess_max) HX_WUR;

#endif
