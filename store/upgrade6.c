/*
 * upgrade6.c: the store's schema 5 -> 6 step, in the open's write
 * transaction (store.c). Schema 6 keeps a document's versions under one
 * key, path ‖ 00 ‖ author number, in "versions" and numbers the authors in
 * "authors" (docs.c); the tables docs, paths and hist of schema 5 repeated
 * the 32-byte author and the path in each and are dropped. The versions
 * are rebuilt from the stored entries themselves (every stored entry is a
 * version; purged ones have no entry), sorted by key and appended, so the
 * table's pages come out full.
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

/* One row per stored entry, from the entries table. */
static int gather(hx_store *s, MDB_txn *txn, struct row **rows, size_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t cap = 0;
	int rc = mdb_cursor_open(txn, s->entries, &c);
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val raw;
		uint8_t *owned;
		hx_entry e;
		if (k.mv_size != HX_ID_LEN || hx_zent_unpack(&s->z, txn, &v, &raw, &owned)) {
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

int hx_upgrade_docs(hx_store *s, MDB_txn *txn)
{
	struct row *rows = NULL;
	size_t n = 0;
	int64_t live = 0;
	MDB_val lk = { sizeof HX_LIVE_KEY - 1, HX_LIVE_KEY };
	/* from nothing, whatever the tables held (a store relabelled older) */
	int rc = hx_mdb_err(mdb_drop(txn, s->versions, 0));
	if (!rc)
		rc = hx_mdb_err(mdb_drop(txn, s->authors, 0));
	if (!rc && (rc = mdb_del(txn, s->meta, &lk, NULL)))
		rc = rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
	if (rc || (rc = gather(s, txn, &rows, &n)))
		goto out;
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
	static const char *const old[] = { "docs", "paths", "hist" };
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
out:
	free(rows);
	return rc;
}
