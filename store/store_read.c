/*
 * store_read.c: reading the store's tables in order: every (timestamp, id)
 * for reconciliation, the local change log (the log table), and purged
 * stubs, and which ids are stored (store.c has the tables' layout).
 */
#include <stdlib.h>
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

/* Calls row(arg, txn, seq, value) for the log rows after seq after, in
 * one read transaction; *last: the greatest seq seen. */
typedef int (*log_row_fn)(void *arg, MDB_txn *txn, uint64_t seq, const MDB_val *v);

static int walk_log(hx_store *s, uint64_t after, log_row_fn row, void *arg, uint64_t *last)
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
		if ((stop = row(arg, txn, *last, &v)))
			break;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? HX_OK : rc == HX_ECORRUPT ? rc : hx_mdb_err(rc);
}

struct changes {
	hx_store *s;
	hx_seq_skip skip;
	hx_change_cb ccb;
	hx_attach_cb acb;
	void *arg;
};

static int change_row(void *arg, MDB_txn *txn, uint64_t seq, const MDB_val *v)
{
	struct changes *x = arg;
	(void)txn;
	return x->ccb(x->arg, seq, v->mv_data);
}

int hx_store_changes(hx_store *s, uint64_t after, hx_change_cb cb, void *arg, uint64_t *last)
{
	struct changes x = { .s = s, .ccb = cb, .arg = arg };
	return walk_log(s, after, change_row, &x, last);
}

/* Whether signed entry bytes may carry attachments (FORMAT.md §1.2, §1.3):
 * 0 only for array(2) then map(10), a format 1 field map, which the
 * decoder accepts only with keys 0 to 9, so without field 11. Anything
 * else (map(11) or map(12), or bytes that will not decode) is 1, and the
 * entry is decoded whole: this test never hides an attachment, written by
 * hand because it is two bytes of CBOR. */
static int may_attach(const uint8_t *raw, size_t len)
{
	return !(len >= 2 && raw[0] == 0x82 && raw[1] == 0xaa);
}

static int attached_row(void *arg, MDB_txn *txn, uint64_t seq, const MDB_val *v)
{
	struct changes *x = arg;
	if (x->skip && x->skip(x->arg, seq))
		return 0;
	if (v->mv_size == HX_ID_LEN) /* a purged version */
		return x->acb(x->arg, seq, NULL);
	MDB_val stored = { v->mv_size - HX_ID_LEN, (uint8_t *)v->mv_data + HX_ID_LEN }, raw;
	uint8_t *owned;
	hx_entry e;
	int stop;
	if (hx_zent_unpack(&x->s->z, txn, &stored, &raw, &owned))
		return x->acb(x->arg, seq, NULL);
	if (!may_attach(raw.mv_data, raw.mv_size) ||
	    hx_entry_decode(&e, raw.mv_data, raw.mv_size)) {
		stop = x->acb(x->arg, seq, NULL);
	} else {
		stop = x->acb(x->arg, seq, &e);
		hx_entry_clear(&e);
	}
	free(owned);
	return stop;
}

int hx_store_changes_attached(hx_store *s, uint64_t after, hx_seq_skip skip, hx_attach_cb cb,
                              void *arg, uint64_t *last)
{
	struct changes x = { .s = s, .skip = skip, .acb = cb, .arg = arg };
	return walk_log(s, after, attached_row, &x, last);
}

int hx_store_has_many(hx_store *s, const uint8_t *const ids[], size_t n, uint8_t *found)
{
	MDB_txn *txn;
	uint64_t seq;
	memset(found, 0, n);
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = hx_zent_find(&s->z, txn, ids[i], &seq, NULL);
		found[i] = rc == HX_OK;
		if (rc == HX_ENOTFOUND)
			rc = HX_OK;
	}
	hx_txn_abort(s, txn);
	return rc;
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
