/*
 * upgrade6.c: the store's schema 5 -> 6 step, in the open's write
 * transaction (store.c), from nothing whatever the new tables held (but
 * for a log without the old tables, which is kept):
 *  - the entries move from "entries" (id -> value), written in random id
 *    order, into "log" (seq -> id ‖ value) in the order of "changes"
 *    (seq -> id), appended, and "ids" finds them (zentry.c); a change row
 *    of a purged version keeps its id alone, an entry without a change
 *    row (damage) comes after the last;
 *  - a document's versions go under one key, path ‖ 00 ‖ author number,
 *    in "versions", and "authors" numbers the authors (docs.c): the tables
 *    docs, paths and hist repeated the 32-byte author and the path in each.
 *    The versions are rebuilt from the entries themselves (every stored
 *    entry is a version), sorted by key and appended, so pages come out
 *    full;
 *  - the old tables are dropped, and the values are compressed when the
 *    store has no dictionary yet (a store from before schema 5).
 */
#include <stdlib.h>
#include <string.h>
#include "store/store_int.h"

struct row {
	uint8_t key[HX_VER_KEYMAX];
	uint8_t val[HX_VER_LEN];
	uint16_t kl;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	size_t n = x->kl < y->kl ? x->kl : y->kl;
	int c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	if (x->kl != y->kl)
		return x->kl < y->kl ? -1 : 1;
	return memcmp(x->val, y->val, HX_VER_LEN);
}

/* One row per stored entry, from the log. */
static int gather(hx_store *s, MDB_txn *txn, struct row **rows, size_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t cap = 0;
	int rc = mdb_cursor_open(txn, s->z.log, &c);
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val raw;
		uint8_t *owned;
		hx_entry e;
		if (v.mv_size == HX_ID_LEN)
			continue; /* purged */
		v.mv_data = (uint8_t *)v.mv_data + HX_ID_LEN;
		v.mv_size -= HX_ID_LEN;
		if (v.mv_size > ((size_t)1 << 30) || hx_zent_unpack(&s->z, txn, &v, &raw, &owned)) {
			rc = HX_ECORRUPT;
			break;
		}
		int bad = hx_entry_decode(&e, raw.mv_data, raw.mv_size);
		free(owned);
		if (bad) {
			rc = HX_ECORRUPT;
			break;
		}
		struct row *r = hx_grow(*rows, &cap, *n + 1, sizeof **rows);
		size_t kl = 0;
		if (!r)
			rc = HX_ENOMEM;
		else if (!(rc = hx_ver_doc_key(s, txn, e.author, e.path, 1, r[*n].key, &kl))) {
			*rows = r;
			r[*n].kl = (uint16_t)kl;
			hx_ver_val(r[*n].val, &e);
			++*n;
		} else {
			*rows = r;
		}
		hx_entry_clear(&e);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? HX_OK : rc < 0 && rc > -1000 ? rc : hx_mdb_err(rc);
}

/* Appends the entry id, with value v, to the log as seq. */
static int move_one(hx_store *s, MDB_txn *txn, uint64_t seq, const uint8_t *id, const MDB_val *v)
{
	uint64_t had;
	int rc = hx_zent_find(&s->z, txn, id, &had, NULL);
	if (rc != HX_ENOTFOUND)
		return rc; /* HX_OK: a second change row of one entry (damage): once */
	return hx_zent_put(&s->z, txn, seq, id, v);
}

/* The entries and changes tables into log and ids. */
static int move_entries(hx_store *s, MDB_txn *txn)
{
	MDB_dbi ent, chg;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t last = 0;
	int rc = mdb_dbi_open(txn, "entries", 0, &ent), rc2 = mdb_dbi_open(txn, "changes", 0, &chg);
	if (rc == MDB_NOTFOUND && rc2 == MDB_NOTFOUND)
		return HX_OK; /* the entries are in the log already (a store relabelled older) */
	if (rc || rc2)
		return rc == MDB_NOTFOUND || rc2 == MDB_NOTFOUND ? HX_ECORRUPT
		                                                 : hx_mdb_err(rc ? rc : rc2);
	MDB_dbi mine[] = { s->z.log, s->z.ids };
	for (size_t i = 0; i < sizeof mine / sizeof mine[0] && !rc; i++)
		rc = hx_mdb_err(mdb_drop(txn, mine[i], 0));
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, chg, &c)))
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val ev, id = v;
		if (k.mv_size != 8 || v.mv_size != HX_ID_LEN) {
			rc = HX_ECORRUPT;
			break;
		}
		last = hx_be64_get(k.mv_data);
		int r = mdb_get(txn, ent, &id, &ev);
		if (r == MDB_NOTFOUND) { /* a purged version keeps its id */
			uint8_t sk[8];
			hx_be64_put(sk, last);
			MDB_val lk = { 8, sk };
			r = mdb_put(txn, s->z.log, &lk, &id, MDB_APPEND);
			rc = hx_mdb_err(r);
		} else {
			rc = r ? hx_mdb_err(r) : move_one(s, txn, last, id.mv_data, &ev);
		}
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc < 0 && rc > -1000 ? rc : hx_mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, ent, &c)))
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t had;
		if (k.mv_size != HX_ID_LEN) {
			rc = HX_ECORRUPT;
			break;
		}
		if ((rc = hx_zent_find(&s->z, txn, k.mv_data, &had, NULL)) == HX_ENOTFOUND)
			rc = hx_zent_put(&s->z, txn, ++last, k.mv_data, &v);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? HX_OK : rc < 0 && rc > -1000 ? rc : hx_mdb_err(rc);
}

int hx_upgrade_6(hx_store *s, MDB_txn *txn)
{
	struct row *rows = NULL;
	size_t n = 0;
	int64_t live = 0;
	MDB_val lk = { sizeof HX_LIVE_KEY - 1, HX_LIVE_KEY };
	/* from nothing, whatever the tables held (a store relabelled older) */
	int rc = HX_OK;
	MDB_dbi mine[] = { s->versions, s->authors };
	for (size_t i = 0; i < sizeof mine / sizeof mine[0] && !rc; i++)
		rc = hx_mdb_err(mdb_drop(txn, mine[i], 0));
	if (!rc && (rc = mdb_del(txn, s->meta, &lk, NULL)))
		rc = rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
	if (rc || (rc = move_entries(s, txn)) || (rc = gather(s, txn, &rows, &n)))
		goto out;
	if (n)
		qsort(rows, n, sizeof *rows, row_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		MDB_val k = { rows[i].kl, rows[i].key }, v = { HX_VER_LEN, rows[i].val };
		if (i && !row_cmp(&rows[i - 1], &rows[i]))
			continue; /* cannot happen: one row per entry */
		rc = hx_mdb_err(mdb_put(txn, s->versions, &k, &v, MDB_APPENDDUP));
		int last = i + 1 == n || rows[i + 1].kl != rows[i].kl ||
		           memcmp(rows[i + 1].key, rows[i].key, rows[i].kl);
		live += last && (rows[i].val[8 + HX_ID_LEN] & HX_VER_LISTED);
	}
	if (!rc)
		rc = hx_live_add(s, txn, live);
	static const char *const old[] = { "entries", "changes", "docs", "paths", "hist" };
	for (size_t i = 0; i < sizeof old / sizeof old[0] && !rc; i++) {
		MDB_dbi dbi;
		rc = mdb_dbi_open(txn, old[i], 0, &dbi);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (!rc)
			rc = mdb_drop(txn, dbi, 1);
		rc = hx_mdb_err(rc);
	}
	/* a store from before schema 5: its values compressed now */
	if (!rc && !(rc = hx_zent_begin(&s->z, txn)))
		rc = hx_zent_train(&s->z, txn);
out:
	free(rows);
	return rc;
}
