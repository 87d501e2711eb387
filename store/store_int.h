/*
 * store_int.h: the inside of hx_store, shared by the store's own modules
 * (store.c, the search index, the reconciliation tree). Nothing outside
 * store/ includes this file.
 */
#ifndef HX_STORE_INT_H
#define HX_STORE_INT_H

#include <lmdb.h>
#include "store/store.h"
#include "store/index.h"
#include "store/fpt.h"
#include "store/mdb_err.h" /* hx_mdb_err, for the modules that include this file */

struct hx_store {
	MDB_env *env;
	unsigned flags;
	MDB_dbi meta;       /* "schema" etc. -> value */
	MDB_dbi entries;    /* id[32] -> signed canonical bytes */
	MDB_dbi bytime;     /* ts u64 BE ‖ id[32] -> "" */
	MDB_dbi docs;       /* author[32] ‖ path -> ts u64 BE ‖ id[32] of the current version */
	MDB_dbi paths;      /* path ‖ 0x00 ‖ author[32] -> "" for live documents */
	MDB_dbi hist;       /* author[32] ‖ path ‖ 0x00 ‖ ts u64 BE ‖ id[32] -> "" */
	MDB_dbi changes;    /* seq u64 BE -> id[32] */
	MDB_dbi members;    /* key[32] -> member record */
	MDB_dbi kv;         /* name -> value */
	struct hx_index ix; /* search index tables (store/index.c) */
	struct hx_fpt fpt;  /* reconciliation fingerprint tree (store/fpt.c) */
	char wake[108];     /* the node's wake-up socket, "" when too long (wake.c) */
	int reindexed;      /* the open rebuilt the search index */
	uint64_t reindexed_docs;
	double reindexed_s;
};

/* Sets s->wake from the store's directory (wake.c). */
void hx_store_wake_init(hx_store *s, const char *dir);

/* Begins a transaction, handling MDB_MAP_RESIZED. */
int hx_txn_begin(hx_store *s, unsigned flags, MDB_txn **txn) HX_WUR;

/* Big-endian key helpers (hx_be64_put, ...) are in proto/hx.h. */

#endif
