/*
 * ftext_set.c: changing a blob's ftext row together with the index
 * (hx_ft_set, store_int.h): the current documents attaching the blob are
 * taken out of the index, the row changes, and they are put back, all in
 * the caller's write transaction.
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include "store/ftext_int.h"

/* ---- documents attaching a blob ------------------------------------------ */

struct attachers {
	hx_store *s;
	MDB_txn *txn;
	const uint8_t *hash;
	int (*cb)(void *, hx_entry *, const hx_attach *);
	void *arg;
};

static int attacher_one(void *arg, const MDB_val *key, const uint8_t *cur)
{
	struct attachers *w = arg;
	MDB_val ev;
	uint8_t *owned = NULL;
	(void)key;
	int err = hx_zent_get(&w->s->z, w->txn, cur + 8, &ev, &owned);
	if (err)
		return err == HX_ENOTFOUND ? HX_ECORRUPT
		                           : err; /* a current version without its entry */
	/* the signed bytes (decompressed when stored compressed) */
	if (!memmem(ev.mv_data, ev.mv_size, w->hash, HX_ID_LEN)) {
		free(owned);
		return HX_OK;
	}
	hx_entry e;
	int bad = hx_entry_decode(&e, ev.mv_data, ev.mv_size);
	free(owned);
	if (bad)
		return HX_ECORRUPT;
	const hx_attach *a = NULL;
	for (size_t i = 0; i < e.nattach && !a; i++)
		if (!memcmp(e.attach[i].hash, w->hash, HX_ID_LEN))
			a = &e.attach[i];
	int stop = a ? w->cb(w->arg, &e, a) : 0;
	hx_entry_clear(&e);
	return stop;
}

/* The bytes are searched for the hash before anything is
 * decoded, so a scan of a large store costs little more than reading it. */
int hx_ft_each_attacher(hx_store *s, MDB_txn *txn, const uint8_t *hash,
                        int (*cb)(void *, hx_entry *, const hx_attach *), void *arg)
{
	struct attachers w = { s, txn, hash, cb, arg };
	return hx_docs_each(txn, s->versions, NULL, 0, attacher_one, &w);
}

struct idlist {
	hx_store *s;
	MDB_txn *txn;
	uint8_t *ids;
	size_t n, cap;
};

/* Collects the ids of the attachers the index holds, and takes them out. */
static int unindex_cb(void *arg, hx_entry *e, const hx_attach *a)
{
	struct idlist *l = arg;
	MDB_val k = { HX_ID_LEN, e->id }, v;
	(void)a;
	int rc = mdb_get(l->txn, l->s->ix.ids, &k, &v);
	if (rc == MDB_NOTFOUND || l->s->ix.stale)
		return HX_OK; /* not indexed: a system record, or a stale index */
	if (rc)
		return hx_mdb_err(rc);
	uint8_t *ni = hx_grow(l->ids, &l->cap, l->n + 1, HX_ID_LEN);
	if (!ni)
		return HX_ENOMEM;
	l->ids = ni;
	memcpy(l->ids + l->n++ * HX_ID_LEN, e->id, HX_ID_LEN);
	return hx_index_update(&l->s->ix, l->txn, e, NULL);
}

int hx_ft_set(hx_store *s, MDB_txn *txn, const uint8_t *hash, const uint8_t *row, size_t len)
{
	struct idlist l = { s, txn, NULL, 0, 0 };
	MDB_val k = { HX_ID_LEN, (void *)hash }, v = { len, (void *)row };
	int rc;
	if (!s->ix.has_ftext)
		return HX_OK;
	if (!row) { /* a blob without text (gc, a give-up) has nothing indexed */
		MDB_val cur;
		rc = mdb_get(txn, s->ix.ftext, &k, &cur);
		if (rc == MDB_NOTFOUND)
			return HX_OK;
		if (rc)
			return hx_mdb_err(rc);
	}
	if ((rc = hx_ft_each_attacher(s, txn, hash, unindex_cb, &l)))
		goto out;
	rc = row ? mdb_put(txn, s->ix.ftext, &k, &v, 0) : mdb_del(txn, s->ix.ftext, &k, NULL);
	if ((rc = rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc)))
		goto out;
	for (size_t i = 0; i < l.n && !rc; i++) {
		hx_entry e;
		if (hx_zent_decode(&s->z, txn, l.ids + i * HX_ID_LEN, &e)) {
			rc = HX_ECORRUPT;
			break;
		}
		rc = hx_index_update(&s->ix, txn, NULL, &e);
		hx_entry_clear(&e);
	}
out:
	free(l.ids);
	return rc;
}
