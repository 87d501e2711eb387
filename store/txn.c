/*
 * txn.c: the store's transactions and its map size. LMDB maps the data
 * file, and changing the map's size (mdb_env_set_mapsize: growing it when
 * a commit finds it full, or adopting the size another process grew it
 * to, MDB_MAP_RESIZED) unmaps the old map: LMDB wants no transaction open
 * in the process then, or a reader in another thread reads unmapped pages.
 * The node has several threads with transactions (the node loop, the
 * verify pool's "already stored?" reads, the blob commit thread, the
 * extraction thread, a writer thread, the web app's searchers), so every
 * transaction holds s->maplock shared from its begin to its commit or
 * abort, and a resize holds it exclusively. Apart from store.c so that the
 * store's other modules can read without calling back into the file that
 * calls them.
 */
#include <errno.h>
#include <time.h>
#include "store/store_int.h"

/* How long a resize waits for the transactions open in other threads. */
#define RESIZE_WAIT_S 10

/* Transactions this thread holds open, on any store: a resize that waited
 * for them would wait for itself. */
static __thread unsigned txns_held;

int hx_store_lock_init(hx_store *s)
{
	pthread_rwlockattr_t a;
	int rc = pthread_rwlockattr_init(&a);
	/* readers first: a thread that holds a transaction and begins a
	 * second one is never stopped behind a waiting resize */
	if (!rc)
		rc = pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_READER_NP);
	if (!rc)
		rc = pthread_rwlock_init(&s->maplock, &a);
	pthread_rwlockattr_destroy(&a);
	return rc ? HX_ENOMEM : HX_OK;
}

/* Sets the map size (0: the size in the file, grown by another process)
 * with no transaction of this process open. HX_EFULL when another thread
 * kept one open for RESIZE_WAIT_S, or this thread holds one. */
static int resize(hx_store *s, size_t size)
{
	struct timespec until;
	if (txns_held)
		return HX_EFULL;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RESIZE_WAIT_S;
	if (pthread_rwlock_timedwrlock(&s->maplock, &until))
		return HX_EFULL;
	int rc = mdb_env_set_mapsize(s->env, size);
	pthread_rwlock_unlock(&s->maplock);
	return hx_mdb_err(rc);
}

int hx_store_grow_map(hx_store *s)
{
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	return resize(s, info.me_mapsize * 2);
}

int hx_txn_begin(hx_store *s, unsigned flags, MDB_txn **txn)
{
	pthread_rwlock_rdlock(&s->maplock);
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size and retry. */
		pthread_rwlock_unlock(&s->maplock);
		if (resize(s, 0))
			return HX_EFULL;
		pthread_rwlock_rdlock(&s->maplock);
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	if (rc) {
		pthread_rwlock_unlock(&s->maplock);
		return hx_mdb_err(rc);
	}
	txns_held++;
	return HX_OK;
}

static void txn_end(hx_store *s)
{
	txns_held--;
	pthread_rwlock_unlock(&s->maplock);
}

int hx_txn_commit(hx_store *s, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);
	txn_end(s);
	return rc;
}

void hx_txn_abort(hx_store *s, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	txn_end(s);
}
