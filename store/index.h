/*
 * index.h: the search index's hooks into the store's write transactions
 * (internal to store/). The store calls hx_index_update in the same write
 * transaction that changes a document's current version, then
 * hx_index_commit just before committing it (or hx_index_abort after
 * aborting it), so the index can never disagree with the entries. Updates
 * are gathered in memory during the transaction and written by
 * hx_index_commit, which makes a bulk load of many entries per transaction
 * cheap. Table layouts: store/ix_int.h.
 */
#ifndef HX_INDEX_H
#define HX_INDEX_H

#include <lmdb.h>
#include "proto/entry.h"
#include "store/zentry.h"

struct hx_ix_pending; /* work gathered during one write transaction */

struct hx_index {
	MDB_dbi meta, docs, ids, norms, post, attr, stem, wstem;
	MDB_dbi ftext; /* the store's "ftext" table (ftext.c), set by the store */
	int has_ftext; /* 0: no such table (a read-only open of an older store) */
	int stale;     /* schema differs or index missing: run reindex */
	struct hx_ix_pending *pend;
	/* The write transactions' stemmers (tokenize.h), kept from one to
	 * the next: on this side a word's stem depends on nothing but its
	 * language and spelling (no lookup in the index, unlike a search's
	 * stemmers), so its cache stays true across transactions, aborted
	 * ones too, and each bulk commit stems only the words that are new
	 * to this handle. Bounded as every stem cache is (tokenize.c
	 * CACHE_MAX); freed by hx_index_close. */
	struct hx_stemmers *stemmers;
};

/* Frees what the index keeps between transactions (the store's close). */
void hx_index_close(struct hx_index *ix);

/* Opens (creating when create is set) the index tables in txn. */
int hx_index_open(struct hx_index *ix, MDB_txn *txn, int create) HX_WUR;

/* The current version of a document changes from old to new. Either may be
 * NULL (new document; deleted document). Tombstones are never passed. */
int hx_index_update(struct hx_index *ix, MDB_txn *txn, const hx_entry *old,
                    const hx_entry *new_) HX_WUR;

/* The files field of e: its attachments' names, then the text extracted
 * from each (the "ftext" table, ftext.c), "\n" between them; *out gets
 * NULL when e has no attachments, else a string the caller frees. The one
 * place that says what the index holds of attachments: every writer and
 * fsck go through it, so they all see the same text. */
int hx_ix_files(struct hx_index *ix, MDB_txn *txn, const hx_entry *e, char **out) HX_WUR;

/* Writes what the updates of txn gathered; call just before
 * committing txn. On error abort the transaction. */
int hx_index_commit(struct hx_index *ix, MDB_txn *txn) HX_WUR;

/* Forgets what the updates of an aborted write transaction gathered. */
void hx_index_abort(struct hx_index *ix);

/* Empties the index (before a rebuild) and makes it current. */
int hx_index_clear(struct hx_index *ix, MDB_txn *txn) HX_WUR;

/* Empties the index and indexes every current document of the store (docs:
 * its versions table, walked with hx_docs_each of docs.h; entries: its
 * entries) again, all in txn (ix_rebuild.c); *documents
 * gets how many. On error the caller aborts txn. */
int hx_index_rebuild(struct hx_index *ix, MDB_txn *txn, MDB_dbi docs, struct hx_zent *entries,
                     uint64_t *documents) HX_WUR;

/* fsck: checks the index against the live documents, reporting problems. */
int hx_index_check(struct hx_index *ix, MDB_txn *txn, MDB_dbi docs, struct hx_zent *entries,
                   void (*report)(void *, const char *), void *arg, uint64_t *problems) HX_WUR;

#endif
