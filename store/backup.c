/*
 * backup.c: a consistent copy of the store while it is in use (see
 * hx_store_copy in store.h). LMDB copies from one read transaction, so
 * writers go on and the copy shows the store as of the copy's start.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include "store/store_int.h"

int hx_store_copy(hx_store *s, const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		return errno == ENOSPC || errno == EDQUOT ? HX_EFULL : HX_EIO;
	/* MDB_CP_COMPACT: free pages are left out and the copy is renumbered */
	return hx_mdb_err(mdb_env_copy2(s->env, dir, MDB_CP_COMPACT));
}
