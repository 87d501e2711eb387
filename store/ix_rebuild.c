/*
 * ix_rebuild.c: rebuilding the search index from the store's current
 * documents inside a write transaction the caller owns: `hansa reindex`
 * (fsck.c) and the store's open, when it finds an index written by
 * another HX_INDEX_SCHEMA (store.c). Either the whole rebuild commits with
 * the transaction or nothing does, so the index never lags the store.
 */
#include "store/ix_write_int.h"
#include "store/docs.h"

struct rebuild {
	struct hx_index *ix;
	MDB_txn *txn;
	struct hx_zent *entries;
	uint64_t *documents;
};

static int rebuild_one(void *arg, const MDB_val *key, const uint8_t *cur)
{
	struct rebuild *r = arg;
	hx_entry e;
	(void)key;
	if (!(cur[8 + HX_ID_LEN] & HX_VER_LISTED))
		return HX_OK;
	if (hx_zent_decode(r->entries, r->txn, cur + 8, &e))
		return HX_ECORRUPT;
	int rc = hx_index_update(r->ix, r->txn, NULL, &e);
	++*r->documents;
	hx_entry_clear(&e);
	return rc;
}

int hx_index_rebuild(struct hx_index *ix, MDB_txn *txn, MDB_dbi docs, struct hx_zent *entries,
                     uint64_t *documents)
{
	struct rebuild r = { ix, txn, entries, documents };
	int rc;

	*documents = 0;
	if ((rc = hx_index_clear(ix, txn)))
		return rc;
	if ((rc = hx_docs_each(txn, docs, NULL, 0, rebuild_one, &r))) {
		hx_index_abort(ix);
		return rc;
	}
	if ((rc = hx_index_commit(ix, txn)))
		hx_index_abort(ix);
	return rc;
}
