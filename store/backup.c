/*
 * backup.c: a consistent copy of the store while it is in use (see
 * hx_store_copy in store.h). LMDB copies from one read transaction, so
 * writers go on and the copy shows the store as of the copy's start.
 * hx_store_space says how much of the data file such a compacted copy
 * would leave out (LMDB's free pages).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "store/store_int.h"

int hx_store_copy(hx_store *s, const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		return errno == ENOSPC || errno == EDQUOT ? HX_EFULL : HX_EIO;
	/* MDB_CP_COMPACT: free pages are left out and the copy is renumbered */
	return hx_mdb_err(mdb_env_copy2(s->env, dir, MDB_CP_COMPACT));
}

int hx_store_space(hx_store *s, uint64_t *file_bytes, uint64_t *free_bytes)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_dbi main;
	MDB_envinfo info;
	MDB_stat ms;
	MDB_val k, v;
	struct stat st;
	char path[4200];
	uint64_t pages;
	int rc;

	*file_bytes = *free_bytes = 0;
	snprintf(path, sizeof path, "%s/data.mdb", s->dir);
	if (stat(path, &st))
		return HX_EIO;
	*file_bytes = (uint64_t)st.st_size;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main)) || (rc = mdb_stat(txn, main, &ms)) ||
	    (rc = mdb_env_info(s->env, &info)) || (rc = mdb_cursor_open(txn, main, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	/* the pages of every table (the main table names them), and the two
	 * meta pages; the rest up to the last page in use is free */
	pages = ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages + 2;
	uint64_t psize = ms.ms_psize, used = ((uint64_t)info.me_last_pgno + 1) * psize;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char name[64];
		MDB_dbi dbi;
		MDB_stat ts;
		if (k.mv_size >= sizeof name)
			continue;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = 0;
		if (mdb_dbi_open(txn, name, 0, &dbi) || mdb_stat(txn, dbi, &ts))
			continue;
		pages += ts.ms_branch_pages + ts.ms_leaf_pages + ts.ms_overflow_pages;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	if (rc != MDB_NOTFOUND)
		return hx_mdb_err(rc);
	uint64_t held = pages * psize;
	/* pages past the last in use (a file grown ahead) are free as well */
	*free_bytes =
	        (used > held ? used - held : 0) + (*file_bytes > used ? *file_bytes - used : 0);
	return HX_OK;
}
