/*
 * ix_rebuild.c: rebuilding the search index from the store's current
 * documents inside a write transaction the caller owns: `hansa reindex`
 * (fsck.c) and the store's open, when it finds an index written by
 * another HX_INDEX_SCHEMA (store.c). Either the whole rebuild commits with
 * the transaction or nothing does, so the index never lags the store.
 */
#include "store/ix_write_int.h"

int hx_index_rebuild(struct hx_index *ix, MDB_txn *txn, MDB_dbi docs, struct hx_zent *entries,
                     uint64_t *documents)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	*documents = 0;
	if ((rc = hx_index_clear(ix, txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, docs, &c)))
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		hx_entry e;
		if (v.mv_size != 8 + HX_ID_LEN ||
		    hx_zent_decode(entries, txn, (uint8_t *)v.mv_data + 8, &e)) {
			rc = HX_ECORRUPT;
			break;
		}
		if (hx_entry_is_listed(&e)) {
			rc = hx_index_update(ix, txn, NULL, &e);
			++*documents;
		}
		hx_entry_clear(&e);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND) {
		hx_index_abort(ix);
		/* LMDB's own codes sit far below ours (around -30790) */
		return (rc > 0 || rc < -1000) ? hx_mdb_err(rc) : rc;
	}
	if ((rc = hx_index_commit(ix, txn)))
		hx_index_abort(ix);
	return rc;
}
