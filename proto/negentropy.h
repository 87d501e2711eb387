/*
 * negentropy.h: Negentropy protocol v1 set reconciliation over
 * (timestamp u64, id[32]) items, byte-identical on the wire to the reference
 * implementation (hoytech/negentropy, docs/negentropy-protocol-v1.md; our own
 * code). Pure protocol, no I/O: the items live behind a small storage
 * interface (in-memory vector here, LMDB in store/recon.h).
 * Byte tables: docs/PROTOCOL-negentropy.md.
 */
#ifndef HX_NEGENTROPY_H
#define HX_NEGENTROPY_H

#include "proto/hx.h"

#define HX_NE_VERSION 0x61 /* protocol version byte of v1 */
#define HX_NE_ID_LEN 32
#define HX_NE_FP_LEN 16         /* fingerprint bytes */
#define HX_NE_BUCKETS 16        /* a differing range splits into 16 */
#define HX_NE_IDLIST_BELOW 32   /* ranges of fewer items go as IdList */
#define HX_NE_FRAME_MIN 4096    /* smallest non-zero frame size limit */
#define HX_NE_FRAME_MARGIN 200  /* stop at frame_size_limit - 200 */
#define HX_NE_TS_INF UINT64_MAX /* "infinity": no item may use it */

enum hx_ne_mode { HX_NE_SKIP = 0, HX_NE_FINGERPRINT = 1, HX_NE_IDLIST = 2 };

/* One item. Order: ts ascending, then id bytewise ascending. */
typedef struct hx_ne_item {
	uint64_t ts;
	uint8_t id[HX_NE_ID_LEN];
} hx_ne_item;

/* Three-way comparison in item order (<0, 0, >0). */
int hx_ne_item_cmp(const hx_ne_item *a, const hx_ne_item *b);

/* ---- storage interface -------------------------------------------------
 * The protocol reads the sorted, duplicate-free item set only through these
 * four calls. Every call returns HX_OK or an hx_err (e.g. a store error),
 * which the protocol passes up unchanged. Indexes are 0..size-1 in item
 * order; ranges are half-open [begin, end) with begin <= end <= size.
 */
typedef struct hx_ne_storage_ops {
	/* Number of items. */
	int (*size)(void *ctx, size_t *n);
	/* First index i in [begin, end) with item(i) >= *bound, or end if none. */
	int (*lower_bound)(void *ctx, size_t begin, size_t end, const hx_ne_item *bound,
	                   size_t *out);
	/* Item at index i (i < size). */
	int (*item)(void *ctx, size_t i, hx_ne_item *out);
	/* Sum of the ids of items [begin, end), each read as a 256-bit
	 * little-endian integer, mod 2^256, written little-endian. The protocol
	 * turns it into a fingerprint with hx_ne_fingerprint(). */
	int (*sum)(void *ctx, size_t begin, size_t end, uint8_t sum[32]);
} hx_ne_storage_ops;

typedef struct hx_ne_storage {
	const hx_ne_storage_ops *ops;
	void *ctx;
} hx_ne_storage;

/* ---- 256-bit accumulator and fingerprint ------------------------------ */

/* acc += x mod 2^256 (both little-endian 32-byte integers). */
void hx_ne_acc_add(uint8_t acc[32], const uint8_t x[32]);
/* acc -= x mod 2^256. */
void hx_ne_acc_sub(uint8_t acc[32], const uint8_t x[32]);
/* fp = first 16 bytes of SHA-256(sum[32] ‖ varint(count)). */
void hx_ne_fingerprint(const uint8_t sum[32], uint64_t count, uint8_t fp[HX_NE_FP_LEN]);

/* ---- varints (exposed for tests and for the wire protocol docs) ------- */

/* Writes the varint of v into out (room for 10 bytes); returns its length. */
size_t hx_ne_varint_put(uint8_t out[10], uint64_t v);
/* Reads a varint at *p (< end), advancing *p. HX_EPROTO when truncated,
 * over 64 bits or not minimal (a leading 0x80 digit). */
int hx_ne_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v) HX_WUR;

/* ---- in-memory storage: a sorted vector with prefix sums ---------------
 * Add items, then seal (sorts, rejects duplicates with HX_EEXIST and
 * timestamp HX_NE_TS_INF with HX_EINVAL, builds prefix sums so that a range
 * sum is O(1)). Not usable before seal; no add after seal.
 */
typedef struct hx_ne_vec hx_ne_vec;
int hx_ne_vec_new(hx_ne_vec **out) HX_WUR;
void hx_ne_vec_free(hx_ne_vec **v); /* NULL-safe, clears *v */
int hx_ne_vec_add(hx_ne_vec *v, uint64_t ts, const uint8_t id[HX_NE_ID_LEN]) HX_WUR;
int hx_ne_vec_seal(hx_ne_vec *v) HX_WUR;
/* The storage view of a sealed vector; valid while v lives. */
hx_ne_storage hx_ne_vec_storage(hx_ne_vec *v);

/* ---- the protocol state machine ----------------------------------------
 * One hx_ne per reconciliation session and side. The storage must not
 * change during the session (use one read transaction for the LMDB view).
 *
 * Initiator (client):  hx_ne_initiate() -> first message; then for every
 *   reply: hx_ne_reconcile(reply, &next, have, need); when *next is NULL the
 *   reconciliation is complete. have/need accumulate over the rounds:
 *   have = ids we hold that the peer lacks, need = ids the peer holds that
 *   we lack.
 * Responder (server): hx_ne_reconcile(query, &reply, NULL, NULL) for every
 *   message; always produces a reply (at least the version byte). A query
 *   with an unsupported version 0x62..0x6f gets the one-byte reply 0x61.
 *
 * Errors: HX_EPROTO for any malformed message (bad version byte outside
 * 0x60..0x6f, truncation, varint overflow, id prefix > 32, unknown mode);
 * HX_EVERSION when the initiator is answered with another version;
 * HX_EINVAL on misuse; storage errors passed up. After an error the
 * session must be abandoned.
 */
typedef struct hx_ne hx_ne;

/* frame_size_limit: 0 = none, else >= HX_NE_FRAME_MIN (HX_EINVAL otherwise):
 * every message produced is at most this many bytes. The storage is
 * borrowed and must outlive the session. */
int hx_ne_new(hx_ne **out, const hx_ne_storage *st, uint64_t frame_size_limit) HX_WUR;
void hx_ne_free(hx_ne **ne); /* NULL-safe, clears *ne */

/* Makes this side the initiator and produces the first message into
 * *msg and *len (caller frees *msg with free()). HX_EINVAL if called twice or
 * after hx_ne_reconcile as a responder. */
int hx_ne_initiate(hx_ne *ne, uint8_t **msg, size_t *len) HX_WUR;

/* A growable list of ids; the caller owns it and frees with
 * hx_ne_ids_clear(). Start it zeroed ({0}). */
typedef struct hx_ne_ids {
	uint8_t (*ids)[HX_NE_ID_LEN];
	size_t n, cap;
} hx_ne_ids;
void hx_ne_ids_clear(hx_ne_ids *l);

/* Processes one incoming message and produces the next outgoing one in
 * *out and *outlen (caller frees *out with free()). Initiator: have and need
 * must not be NULL; *out == NULL (and *outlen 0) means done. Responder:
 * have and need are ignored (may be NULL); *out is never NULL on success. */
int hx_ne_reconcile(hx_ne *ne, const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
                    hx_ne_ids *have, hx_ne_ids *need) HX_WUR;

/* 1 after hx_ne_initiate, else 0. */
int hx_ne_is_initiator(const hx_ne *ne);

#endif
