/*
 * index.h: the search index's hooks into the store's write transactions
 * (internal to store/). The store calls hx_index_update in the same write
 * transaction that changes a document's current version, so the index can
 * never disagree with the entries.
 */
#ifndef HX_INDEX_H
#define HX_INDEX_H

#include <lmdb.h>
#include "proto/entry.h"

struct hx_index {
	MDB_dbi dummy; /* placeholder until the search index lands */
};

/* Opens (creating when create is set) the index tables in txn. */
int hx_index_open(struct hx_index *ix, MDB_txn *txn, int create) HX_WUR;

/* The current version of a document changes from old to new. Either may be
 * NULL (new document; deleted document). Tombstones are never passed. */
int hx_index_update(struct hx_index *ix, MDB_txn *txn, const hx_entry *old,
		    const hx_entry *new_) HX_WUR;

/* Empties the index (before a rebuild). */
int hx_index_clear(struct hx_index *ix, MDB_txn *txn) HX_WUR;

/* fsck: checks the index against the live documents, reporting problems. */
int hx_index_check(struct hx_index *ix, MDB_txn *txn, MDB_dbi docs,
		   MDB_dbi entries, void (*report)(void *, const char *),
		   void *arg, uint64_t *problems) HX_WUR;

#endif
