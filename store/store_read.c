/*
 * store_read.c: reading the store's tables in order: every (timestamp, id)
 * for reconciliation, the local change log (the log table), and purged
 * stubs (store.c has the tables' layout).
 */
#include <string.h>
#include "store/store_int.h"
#include "proto/purge.h"

int hx_store_items(hx_store *s, hx_item_cb cb, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, stop = 0;

	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, s->bytime, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 + HX_ID_LEN) {
			rc = HX_ECORRUPT;
			break;
		}
		if ((stop = cb(arg, hx_be64_get(k.mv_data), (uint8_t *)k.mv_data + 8)))
			break;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? HX_OK : rc == HX_ECORRUPT ? rc : hx_mdb_err(rc);
}

int hx_store_changes(hx_store *s, uint64_t after, hx_change_cb cb, void *arg, uint64_t *last)
{
	MDB_txn *txn;
	MDB_cursor *c;
	uint8_t start[8];
	MDB_val k = { 8, start }, v;
	int rc, stop = 0;

	*last = after;
	hx_be64_put(start, after + 1);
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, s->z.log, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size < HX_ID_LEN) { /* id[32] ‖ stored value */
			rc = HX_ECORRUPT;
			break;
		}
		*last = hx_be64_get(k.mv_data);
		if ((stop = cb(arg, *last, v.mv_data)))
			break;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? HX_OK : rc == HX_ECORRUPT ? rc : hx_mdb_err(rc);
}

int hx_store_purged(hx_store *s, const uint8_t id[HX_ID_LEN], hx_purged *out)
{
	MDB_txn *txn;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	rc = hx_purge_stub_get(s, txn, id, out);
	hx_txn_abort(s, txn);
	return rc;
}
