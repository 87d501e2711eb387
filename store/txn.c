/*
 * txn.c: beginning a transaction on the store's environment, adopting a
 * map another process has grown (MDB_MAP_RESIZED). Apart from store.c so
 * that the store's other modules (org.c) can read without calling back
 * into the file that calls them.
 */
#include "store/store_int.h"

int hx_txn_begin(hx_store *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size and retry. */
		if (mdb_env_set_mapsize(s->env, 0) == 0)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return hx_mdb_err(rc);
}
