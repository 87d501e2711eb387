/*
 * tables.c: the store's small tables: members (identity key -> member
 * record, opaque here) and kv (named values for peers, counters and
 * settings of other modules). Each call is its own short transaction.
 */
#include <stdlib.h>
#include <string.h>
#include "store/store_int.h"

static int put(hx_store *s, MDB_dbi dbi, const void *k, size_t kl, const void *v, size_t vl)
{
	MDB_txn *txn;
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	int rc;

	if (kl == 0 || kl > 511)
		return HX_EINVAL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = hx_txn_begin(s, 0, &txn)))
			return rc;
		if ((rc = mdb_put(txn, dbi, &key, &val, 0))) {
			hx_txn_abort(s, txn);
			return hx_mdb_err(rc);
		}
		rc = hx_mdb_err(hx_txn_commit(s, txn));
		if (rc != HX_EFULL || hx_store_grow_map(s))
			return rc;
	}
	return rc;
}

static int get(hx_store *s, MDB_dbi dbi, const void *k, size_t kl, void **v, size_t *vl)
{
	MDB_txn *txn;
	MDB_val key = { kl, (void *)k }, val;
	int rc;

	*v = NULL;
	*vl = 0;
	if (kl == 0 || kl > 511)
		return HX_ENOTFOUND;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	rc = hx_mdb_err(mdb_get(txn, dbi, &key, &val));
	if (!rc) {
		/* one spare NUL byte so that text values can be used as strings */
		if (!(*v = malloc(val.mv_size + 1))) {
			rc = HX_ENOMEM;
		} else {
			memcpy(*v, val.mv_data, val.mv_size);
			((char *)*v)[val.mv_size] = 0;
			*vl = val.mv_size;
		}
	}
	hx_txn_abort(s, txn);
	return rc;
}

static int del(hx_store *s, MDB_dbi dbi, const void *k, size_t kl)
{
	MDB_txn *txn;
	MDB_val key = { kl, (void *)k };
	int rc;

	if (kl == 0 || kl > 511)
		return HX_ENOTFOUND;
	if ((rc = hx_txn_begin(s, 0, &txn)))
		return rc;
	if ((rc = mdb_del(txn, dbi, &key, NULL))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	return hx_mdb_err(hx_txn_commit(s, txn));
}

/* Calls cb for each key starting with prefix (all keys when plen is 0). */
static int each(hx_store *s, MDB_dbi dbi, const void *prefix, size_t plen,
                int (*cb)(void *arg, const MDB_val *k, const MDB_val *v), void *arg)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k = { plen, (void *)prefix }, v;
	int rc, stop = 0;

	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
			break;
		if ((stop = cb(arg, &k, &v)))
			break;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

int hx_store_member_put(hx_store *s, const uint8_t key[HX_KEY_LEN], const uint8_t *rec, size_t len)
{
	int rc = put(s, s->members, key, HX_KEY_LEN, rec, len);
	if (!rc)
		hx_store_wake_config(s);
	return rc;
}

int hx_store_member_get(hx_store *s, const uint8_t key[HX_KEY_LEN], uint8_t **rec, size_t *len)
{
	return get(s, s->members, key, HX_KEY_LEN, (void **)rec, len);
}

int hx_store_member_del(hx_store *s, const uint8_t key[HX_KEY_LEN])
{
	int rc = del(s, s->members, key, HX_KEY_LEN);
	if (!rc)
		hx_store_wake_config(s);
	return rc;
}

struct member_walk {
	hx_member_cb cb;
	void *arg;
};

static int member_step(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct member_walk *w = arg;
	if (k->mv_size != HX_KEY_LEN)
		return HX_ECORRUPT;
	return w->cb(w->arg, k->mv_data, v->mv_data, v->mv_size);
}

int hx_store_member_list(hx_store *s, hx_member_cb cb, void *arg)
{
	struct member_walk w = { cb, arg };
	return each(s, s->members, NULL, 0, member_step, &w);
}

int hx_store_kv_put(hx_store *s, const char *key, const void *val, size_t len)
{
	return put(s, s->kv, key, strlen(key), val, len);
}

int hx_store_kv_get(hx_store *s, const char *key, void **val, size_t *len)
{
	return get(s, s->kv, key, strlen(key), val, len);
}

int hx_store_kv_del(hx_store *s, const char *key)
{
	return del(s, s->kv, key, strlen(key));
}

struct kv_walk {
	hx_kv_cb cb;
	void *arg;
};

static int kv_step(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct kv_walk *w = arg;
	char name[512];
	if (k->mv_size >= sizeof name)
		return HX_ECORRUPT;
	memcpy(name, k->mv_data, k->mv_size);
	name[k->mv_size] = 0;
	return w->cb(w->arg, name, v->mv_data, v->mv_size);
}

int hx_store_kv_list(hx_store *s, const char *prefix, hx_kv_cb cb, void *arg)
{
	struct kv_walk w = { cb, arg };
	return each(s, s->kv, prefix, strlen(prefix), kv_step, &w);
}
