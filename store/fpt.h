/*
 * fpt.h: the reconciliation fingerprint table (internal to store/, and to
 * bench/recon.c): per-block aggregates (count, 256-bit id sum) over the
 * time-ordered items of the `bytime` table, kept in LMDB and updated in the
 * entry's own write transaction, and a Negentropy storage view over a read
 * transaction that answers range fingerprints from them. Layout: fpt.c.
 * The node uses store/recon.h, not this file.
 */
#ifndef HX_FPT_H
#define HX_FPT_H

#include <lmdb.h>
#include "proto/entry.h"
#include "proto/negentropy.h"

#define HX_FPT_BLOCK_MAX 512 /* a block splits in two when it grows past this */

struct hx_fpt {
	MDB_dbi dbi;    /* "fpt": block start key[40] -> count u32 BE ‖ sum[32] */
	MDB_dbi bytime; /* the store's "bytime" table: ts u64 BE ‖ id[32] -> "" */
	int ready;      /* the table exists (else views fail with HX_ECORRUPT) */
};

/* Opens the "fpt" table in txn (and the existing "bytime" table). With
 * create (a write txn) it creates the table and, when it is new or empty
 * while bytime has items (a store written before this table existed),
 * builds it from bytime. Without create and without the table, the open
 * succeeds but t->ready is 0. */
int hx_fpt_open(struct hx_fpt *t, MDB_txn *txn, int create) HX_WUR;

/* Adds the item (ts, id) in the write txn that has just put it into
 * bytime (call it after that put: a block split scans bytime). ts must not
 * be UINT64_MAX (Negentropy's infinity): HX_EINVAL. */
int hx_fpt_add(struct hx_fpt *t, MDB_txn *txn, uint64_t ts, const uint8_t id[HX_ID_LEN]) HX_WUR;

/* Removes an item that has just been deleted from bytime (blocks may
 * shrink to 0 items; they are not merged). HX_ENOTFOUND if its block is
 * already empty. */
int hx_fpt_del(struct hx_fpt *t, MDB_txn *txn, uint64_t ts, const uint8_t id[HX_ID_LEN]) HX_WUR;

/* Rebuilds the whole table from bytime in the write txn. */
int hx_fpt_rebuild(struct hx_fpt *t, MDB_txn *txn) HX_WUR;

/* fsck: checks every block's count and sum against bytime; each problem
 * goes to report (may be NULL) and is counted in *problems. */
int hx_fpt_check(struct hx_fpt *t, MDB_txn *txn, void (*report)(void *, const char *), void *arg,
                 uint64_t *problems) HX_WUR;

/* A Negentropy storage view over a read (or write) txn, which the caller
 * keeps open, unchanged, for the view's whole life. Opening reads the block
 * table (about count/384 rows); item, lower-bound and range-sum calls then
 * read at most a block or two of bytime each (with a small block cache).
 * Blocks read are checked against their stored count and sum
 * (HX_ECORRUPT). */
typedef struct hx_fpt_view hx_fpt_view;
int hx_fpt_view_open(hx_fpt_view **out, MDB_txn *txn, const struct hx_fpt *t) HX_WUR;
void hx_fpt_view_close(hx_fpt_view **v); /* NULL-safe, clears *v */
/* Valid while the view lives. */
hx_ne_storage hx_fpt_view_storage(hx_fpt_view *v);
/* Number of items in the view. */
size_t hx_fpt_view_count(const hx_fpt_view *v);

#endif
