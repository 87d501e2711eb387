/*
 * zentry.h: how the store keeps entry values (internal to store/): the
 * signed canonical bytes as they are, or compressed with zstd and a
 * dictionary trained from the store's own entries and kept in its meta
 * table. Readers always get the exact signed bytes back; what is verified,
 * hashed and relayed never changes. Since schema 6 the values are kept in
 * local arrival order in "log" and found by id through "ids". Layout in
 * zentry.c and FORMAT.md §3.
 */
#ifndef HX_ZENTRY_H
#define HX_ZENTRY_H

#include <lmdb.h>
#include <pthread.h>
#include "proto/entry.h"

/* Entries a store holds before it trains its dictionary: below this the
 * entries stay as they are. */
#define HX_ZENT_TRAIN_MIN 2048

struct hx_zent {
	MDB_dbi log, ids, meta; /* the store's tables (since schema 6; FORMAT.md §3) */
	/* reading: the dictionary, loaded at first need (under mu) */
	pthread_mutex_t mu;
	void *ddict;  /* ZSTD_DDict */
	void *dspare; /* a ZSTD_DCtx kept for the next read */
	uint32_t dict_id;
	/* writing (only inside a write transaction, which LMDB serializes) */
	void *cdict;     /* ZSTD_CDict of the committed dictionary, or NULL (under mu) */
	void *cur;       /* the one this write txn packs with, or NULL */
	void *cdict_new; /* trained in the open write txn; adopted at commit */
	void *cctx;      /* ZSTD_CCtx */
	uint8_t *wbuf;   /* the last packed value */
	size_t wcap;
	uint64_t retrain_at; /* entries at which to try training again */
};

/* Writing the log's values again in blocks, for a copy of the store
 * (hx_store_copy), with a compression context of its own. */
struct hx_zrepack {
	void *cdict, *cctx; /* ZSTD_CDict of the store's dictionary, ZSTD_CCtx */
	uint8_t *buf;       /* the last row written again */
	size_t cap;
};

/* Sets up z; the caller sets its tables once they are open. */
int hx_zent_init(struct hx_zent *z) HX_WUR;
/* Frees what z holds. */
void hx_zent_free(struct hx_zent *z);

/* The signed bytes of a stored value: *raw points at them; *owned is NULL
 * when they are the stored bytes themselves (valid as long as the txn),
 * else a buffer the caller frees. HX_ECORRUPT for a value that does not
 * decompress. */
int hx_zent_unpack(struct hx_zent *z, MDB_txn *txn, const MDB_val *stored, MDB_val *raw,
                   uint8_t **owned) HX_WUR;
/* hx_zent_unpack of the first want bytes alone: for a compressed value of
 * more than want bytes in several blocks (zentry.c) *raw gets exactly its
 * first want bytes, in a buffer *owned, and *whole 0; for any other value
 * (and for want 0) what hx_zent_unpack gives, and *whole 1. */
int hx_zent_unpack_head(struct hx_zent *z, MDB_txn *txn, const MDB_val *stored, size_t want,
                        MDB_val *raw, uint8_t **owned, int *whole) HX_WUR;
/* Where the entry with id is: its log row's *seq and, if stored is not
 * NULL, its stored value (valid as long as the txn). HX_ENOTFOUND. */
int hx_zent_find(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, uint64_t *seq,
                 MDB_val *stored) HX_WUR;
/* hx_zent_find of the entry with id, then hx_zent_unpack. HX_ENOTFOUND. */
int hx_zent_get(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, MDB_val *raw,
                uint8_t **owned) HX_WUR;
/* The same, decoded into *e (caller clears): HX_ECORRUPT when the bytes
 * do not decode. */
int hx_zent_decode(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, hx_entry *e) HX_WUR;

/* Writing, in a write txn. hx_zent_begin loads the committed dictionary
 * if another process trained it. hx_zent_pack sets *out to the value to
 * store for raw (valid until the next call). hx_zent_train trains the
 * dictionary when the table has grown enough and none exists, and packs
 * every stored value with it. hx_zent_end after the commit (committed 1)
 * or the abort (0). */
int hx_zent_begin(struct hx_zent *z, MDB_txn *txn) HX_WUR;
/* Stores the entry id with stored value v (from hx_zent_pack) as log row
 * seq, greater than every row's, and its ids row. */
int hx_zent_put(struct hx_zent *z, MDB_txn *txn, uint64_t seq, const uint8_t *id,
                const MDB_val *v) HX_WUR;
/* Deletes the entry id: its ids row, and its log row, or with keep_id
 * (a purge) its bytes, zeroed first, keeping the row's id. */
int hx_zent_del(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, int keep_id) HX_WUR;
int hx_zent_pack(struct hx_zent *z, const uint8_t *raw, size_t len, MDB_val *out) HX_WUR;
/* r for the store's dictionary as txn has it (none yet, or a damaged
 * one: r repacks nothing). Free with hx_zrepack_free. */
int hx_zent_repacker(struct hx_zent *z, MDB_txn *txn, struct hx_zrepack *r) HX_WUR;
void hx_zrepack_free(struct hx_zrepack *r);
/* *out: the log row value row (id ‖ stored value), or, when its value is
 * compressed in one block of more than 2,048 bytes (a hansa before blocks
 * wrote it), the same row with the value compressed in blocks, which is
 * kept only when it reads back as the same bytes (valid until the next
 * call). A value that cannot be read is left as it is. */
int hx_zent_repack_row(struct hx_zent *z, MDB_txn *txn, struct hx_zrepack *r, const MDB_val *row,
                       MDB_val *out) HX_WUR;
int hx_zent_train(struct hx_zent *z, MDB_txn *txn) HX_WUR;
void hx_zent_end(struct hx_zent *z, int committed);

#endif
