/*
 * scrub.c: hx_store_scrub (store.h). LMDB copies a page before it changes
 * it and puts the old copy on its free list, where the old bytes stay
 * until the page is used again. After a purge (store/purge.c) this fills
 * every free page with zeros: a scratch table of one-page values written
 * and committed, then emptied. Pages freed by the last commits become
 * usable two transactions later, and pages that a reader still sees are
 * not usable at all, hence a few rounds and "best effort" when other
 * processes hold old snapshots open.
 */
#include <string.h>
#include "store/store_int.h"

#define ROUNDS 3
#define PAGE_HEAD                                               \
	16 /* LMDB's page header on 64-bit builds: one value of \
	    * psize - PAGE_HEAD bytes fills one overflow page */

/* Pages on the free list (LMDB reads it only in a read-only txn). */
static int free_pages(hx_store *s, size_t *n)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	*n = 0;
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, 0 /* FREE_DBI */, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		size_t count;
		if (v.mv_size < sizeof count)
			continue;
		memcpy(&count, v.mv_data, sizeof count);
		*n += count;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

static int fill(hx_store *s, MDB_dbi *dbi, size_t psize)
{
	MDB_txn *txn;
	size_t n;
	int rc = free_pages(s, &n);
	if (rc || (rc = hx_txn_begin(s, 0, &txn)))
		return rc;
	if ((rc = mdb_dbi_open(txn, "scrub", MDB_CREATE, dbi)))
		goto abort;
	/* each value also costs a share of a leaf page: a few more than the
	 * free list held covers those */
	for (size_t i = 0; i < n + n / 64 + 4; i++) {
		uint8_t key[8];
		hx_be64_put(key, i);
		MDB_val k = { sizeof key, key }, v = { psize - PAGE_HEAD, NULL };
		if ((rc = mdb_put(txn, *dbi, &k, &v, MDB_RESERVE)))
			goto abort;
		memset(v.mv_data, 0, v.mv_size);
	}
	return hx_mdb_err(hx_txn_commit(s, txn));
abort:
	hx_txn_abort(s, txn);
	return hx_mdb_err(rc);
}

int hx_store_scrub(hx_store *s)
{
	MDB_stat ms;
	MDB_dbi dbi;
	MDB_txn *txn;
	int rc = hx_mdb_err(mdb_env_stat(s->env, &ms));
	for (int r = 0; !rc && r < ROUNDS; r++) {
		if ((rc = fill(s, &dbi, ms.ms_psize)))
			break;
		if (!(rc = hx_txn_begin(s, 0, &txn))) {
			if ((rc = hx_mdb_err(mdb_drop(txn, dbi, 0))))
				hx_txn_abort(s, txn);
			else
				rc = hx_mdb_err(hx_txn_commit(s, txn));
		}
	}
	return rc;
}
