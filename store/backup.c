/*
 * backup.c: a consistent copy of the store while it is in use (see
 * hx_store_copy in store.h). The copy is read in one read transaction, so
 * writers go on and the copy shows the store as of the copy's start.
 * hx_store_space says how much of the data file such a compacted copy
 * would leave out (LMDB's free pages).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "store/store_int.h"

/* Rows and bytes put into the copy per write transaction: LMDB keeps a
 * transaction's dirty pages in memory, in a list of bounded length. */
size_t hx_store_copy_txn_rows = 200000;
#define COPY_TXN_BYTES ((size_t)64 << 20)

/* Appends every row of table name (open in the read transaction rt)
 * to the same table of the copy d, created with the same flags, in key
 * order, committing every hx_store_copy_txn_rows rows or COPY_TXN_BYTES
 * (*wt: the copy's write transaction, renewed; NULL after a failed
 * commit; *rows, *bytes: since the last commit). The rows copied must be
 * the rows the table has. With r, each value goes through
 * hx_zent_repack_row (the log); its error goes to *zerr. */
static int copy_table(struct hx_zent *z, MDB_env *d, MDB_txn **wt, MDB_txn *rt, const char *name,
                      struct hx_zrepack *r, int *zerr, size_t *rows, size_t *bytes)
{
	MDB_dbi a, b;
	unsigned fl;
	MDB_cursor *c = NULL, *w = NULL;
	MDB_stat st;
	MDB_val k, v;
	size_t n = 0;
	int rc = mdb_dbi_open(rt, name, 0, &a);
	if (rc)
		return rc == MDB_INCOMPATIBLE ? MDB_CORRUPTED : rc; /* a record, not a table */
	if ((rc = mdb_dbi_flags(rt, a, &fl)) || (rc = mdb_stat(rt, a, &st)) ||
	    (rc = mdb_dbi_open(*wt, name, fl | MDB_CREATE, &b)) ||
	    (rc = mdb_cursor_open(rt, a, &c)) || (rc = mdb_cursor_open(*wt, b, &w)))
		goto out;
	unsigned how = fl & MDB_DUPSORT ? MDB_APPENDDUP : MDB_APPEND;
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (r && (*zerr = hx_zent_repack_row(z, rt, r, &v, &v))) {
			rc = MDB_CORRUPTED; /* *zerr says which */
			goto out;
		}
		if ((rc = mdb_cursor_put(w, &k, &v, how)))
			goto out;
		n++;
		*bytes += k.mv_size + v.mv_size;
		if (++*rows >= hx_store_copy_txn_rows || *bytes >= COPY_TXN_BYTES) {
			*rows = *bytes = 0;
			mdb_cursor_close(w);
			w = NULL;
			rc = mdb_txn_commit(*wt);
			*wt = NULL; /* committed, or aborted by the failed commit */
			if (rc || (rc = mdb_txn_begin(d, NULL, 0, wt)) ||
			    (rc = mdb_cursor_open(*wt, b, &w)))
				goto out;
		}
	}
	rc = rc != MDB_NOTFOUND ? rc : n != st.ms_entries ? MDB_CORRUPTED : 0;
out:
	if (w)
		mdb_cursor_close(w);
	if (c)
		mdb_cursor_close(c);
	return rc;
}

/* The copy's map: the pages in use, twice (pages of another size than the
 * store's on this host: at least the store's own map). */
static size_t map_for(const MDB_envinfo *info, const MDB_stat *ms)
{
	size_t m = ((size_t)info->me_last_pgno + 64) * ms->ms_psize * 2;
	return m > info->me_mapsize ? m : info->me_mapsize;
}

/* The copy is written table by table in key order, every row appended,
 * so that its pages are full: LMDB's own compacting copy (mdb_env_copy2
 * with MDB_CP_COMPACT) keeps each page as full as it was, and a table
 * whose rows came in no key order (versions, ids, the search index)
 * fills its pages to 55-70 %. Over the corpus's store that is 20 % of the
 * file (docs/FORMAT.md 3.5). */
int hx_store_copy(hx_store *s, const char *dir)
{
	MDB_env *d = NULL;
	MDB_txn *rt = NULL, *wt = NULL;
	MDB_cursor *mc = NULL;
	MDB_dbi main;
	MDB_envinfo info;
	MDB_stat ms;
	MDB_val k, v;
	char path[4200];
	size_t rows = 0, bytes = 0;
	struct hx_zrepack zr;
	int rc, fd, zerr = 0;
	memset(&zr, 0, sizeof zr);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return errno == ENOSPC || errno == EDQUOT ? HX_EFULL : HX_EIO;
	/* the copy's file is new: never written into, nor removed, if it was
	 * there already */
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return errno == EEXIST ? HX_EEXIST : errno == ENOSPC ? HX_EFULL : HX_EIO;
	close(fd);
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &rt))) {
		unlink(path);
		return rc;
	}
	if ((rc = hx_zent_repacker(&s->z, rt, &zr))) {
		hx_txn_abort(s, rt);
		unlink(path);
		return rc;
	}
	/* the copy is no larger than the pages in use; MDB_NOLOCK: no
	 * lock.mdb next to it, as mdb_env_copy2 leaves none */
	if ((rc = mdb_env_info(s->env, &info)) || (rc = mdb_env_stat(s->env, &ms)) ||
	    (rc = mdb_env_create(&d)) || (rc = mdb_env_set_maxdbs(d, 64)) ||
	    (rc = mdb_env_set_mapsize(d, map_for(&info, &ms))) ||
	    (rc = mdb_env_open(d, dir, MDB_NOLOCK | MDB_NOSYNC, 0600)) ||
	    (rc = mdb_txn_begin(d, NULL, 0, &wt)) || (rc = mdb_dbi_open(rt, NULL, 0, &main)) ||
	    (rc = mdb_cursor_open(rt, main, &mc)))
		goto out;
	while (!(rc = mdb_cursor_get(mc, &k, &v, MDB_NEXT))) {
		char name[256];
		if (k.mv_size >= sizeof name || memchr(k.mv_data, 0, k.mv_size)) {
			rc = MDB_CORRUPTED; /* hansa names its tables itself */
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = 0;
		/* the log's values of one block are written in blocks */
		int log = !strcmp(name, "log");
		if (!wt || (rc = copy_table(&s->z, d, &wt, rt, name, log ? &zr : NULL, &zerr, &rows,
		                            &bytes)))
			break;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	mdb_cursor_close(mc);
	mc = NULL;
	if (!rc && !wt)
		rc = MDB_BAD_TXN;
	if (!rc) {
		rc = mdb_txn_commit(wt);
		wt = NULL;
	}
	if (!rc)
		rc = mdb_env_sync(d, 1);
out:
	if (mc)
		mdb_cursor_close(mc);
	if (wt)
		mdb_txn_abort(wt);
	if (d)
		mdb_env_close(d);
	hx_txn_abort(s, rt);
	hx_zrepack_free(&zr);
	if (rc)
		unlink(path);
	return zerr ? zerr : hx_mdb_err(rc);
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
