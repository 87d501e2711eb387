/*
 * mdb_err.c: LMDB and errno return codes -> hx_err (mdb_err.h). Kept apart
 * from store.c so that the index, the fingerprint tree and the codec can
 * use it without calling back into the store that calls them.
 */
#include <errno.h>
#include <lmdb.h>
#include "proto/hx.h"
#include "store/mdb_err.h"

int hx_mdb_err(int rc)
{
	switch (rc) {
	case 0: return HX_OK;
	case MDB_NOTFOUND: return HX_ENOTFOUND;
	case MDB_KEYEXIST: return HX_EEXIST;
	case MDB_MAP_FULL: return HX_EFULL;
	case ENOSPC:
	case EDQUOT: return HX_EFULL; /* the disk: the CLI says how much is free */
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_BAD_TXN:
	case MDB_BAD_VALSIZE:
	case MDB_BAD_DBI: return HX_ECORRUPT;
	case MDB_VERSION_MISMATCH: return HX_EVERSION;
	case ENOMEM: return HX_ENOMEM;
	case EACCES:
	case EPERM: return HX_EPERM;
	case EAGAIN:
	case EBUSY: return HX_EBUSY;
	case ENOENT: return HX_ENOTFOUND;
	default: return HX_EIO;
	}
}
