/*
 * docs.h: what the search index needs of the store's documents (docs.c):
 * the layout of a version in the "versions" table and a walk over every
 * document's current version. The rest of docs.c is in store_int.h.
 */
#ifndef HX_DOCS_H
#define HX_DOCS_H

#include <lmdb.h>
#include "proto/entry.h"

#define HX_VER_LEN (8 + HX_ID_LEN + 1) /* ts u64 BE ‖ id[32] ‖ flags */
#define HX_VER_LISTED 1                /* flags: listed (not a tombstone or system record) */
#define HX_VER_KEYMAX (HX_PATH_MAX + 1 + 4)

/* Calls cb with each document's key and current version (HX_VER_LEN
 * bytes, valid during the call), in key order, from the keys starting with
 * prefix (all when plen is 0); a non-zero return stops the walk and is
 * returned. */
int hx_docs_each(MDB_txn *txn, MDB_dbi versions, const void *prefix, size_t plen,
                 int (*cb)(void *arg, const MDB_val *key, const uint8_t *cur), void *arg) HX_WUR;

#endif
