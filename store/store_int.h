/*
 * store_int.h: the inside of hx_store, shared by the store's own modules
 * (store.c, the search index, the reconciliation tree). Nothing outside
 * store/ includes this file.
 */
#ifndef HX_STORE_INT_H
#define HX_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <string.h>
#include "store/store.h"
#include "store/index.h"
#include "store/fpt.h"
#include "store/zentry.h"
#include "store/docs.h"
#include "store/mdb_err.h" /* hx_mdb_err, for the modules that include this file */

struct hx_store {
	MDB_env *env;
	unsigned flags;
	MDB_dbi meta;       /* "schema" etc. -> value */
	MDB_dbi bytime;     /* ts u64 BE ‖ id[32] -> "" */
	MDB_dbi versions;   /* path ‖ 00 ‖ author number -> every version (docs.c) */
	MDB_dbi authors;    /* author[32] <-> author number (docs.c) */
	MDB_dbi members;    /* key[32] -> member record */
	MDB_dbi kv;         /* name -> value */
	MDB_dbi purged;     /* id[32] -> purged stub (store/purge.c) */
	struct hx_index ix; /* search index tables (store/index.c) */
	struct hx_fpt fpt;  /* reconciliation fingerprint tree (store/fpt.c) */
	struct hx_zent z;   /* the entries: log and ids tables (store/zentry.c) */
	int scrub_due;      /* a commit purged content: scrub free pages (scrub.c) */
	int scrub_retry;    /* the last scrub failed: try again after the next commit */
	char wake[108];     /* the node's wake-up socket, "" when too long (wake.c) */
	char *dir;          /* the store's directory (blob.c keeps blobs/ in it) */
	MDB_dbi blobs;      /* hash[32] -> blob state (store/blob.c) */
	int has_blobs;      /* 0 for a read-only open of a schema 1 store */
	uint64_t blob_file_max, blob_space_max; /* limits (blob.h) */
	int reindexed;                          /* the open rebuilt the search index */
	uint64_t reindexed_docs;
	double reindexed_s;
	pthread_rwlock_t maplock; /* shared by transactions, exclusive by a resize (txn.c) */
};

/* Sets s->wake from the store's directory (wake.c). */
void hx_store_wake_init(hx_store *s, const char *dir);

/* Transactions (txn.c). Every transaction on s->env begins with
 * hx_txn_begin (which adopts a map another process grew) and ends with
 * hx_txn_commit (LMDB's return code, as mdb_txn_commit) or hx_txn_abort,
 * never with mdb_txn_* directly: they hold s->maplock shared meanwhile. */
int hx_txn_begin(hx_store *s, unsigned flags, MDB_txn **txn) HX_WUR;
int hx_txn_commit(hx_store *s, MDB_txn *txn);
void hx_txn_abort(hx_store *s, MDB_txn *txn);
/* Doubles the map once no other thread holds a transaction (HX_EFULL if
 * one is kept open for seconds, or the caller holds one). */
int hx_store_grow_map(hx_store *s) HX_WUR;
/* The map a store opens with (16 GiB; twice the file if that is larger).
 * Tests lower it, so that commits grow the map (test_maplock.c). */
extern size_t hx_store_map_initial;
/* Rows hx_store_copy puts per write transaction at most (tests set it
 * low, so that a table is copied across several). */
extern size_t hx_store_copy_txn_rows;
/* Initialises s->maplock (hx_store_open). */
int hx_store_lock_init(hx_store *s) HX_WUR;

/* ---- documents: the versions and authors tables (docs.c) ---------------- */

#define HX_LIVE_KEY "live" /* meta: u64 BE count of live documents */

/* Opens (creates, with create MDB_CREATE) the versions and authors tables. */
int hx_docs_open(hx_store *s, MDB_txn *txn, unsigned create) HX_WUR;
/* The versions key of (path, author number num) into k; returns its length. */
size_t hx_ver_key(uint8_t *k, const char *path, uint32_t num);
/* Splits a versions key: the path is its first *pathlen bytes. */
int hx_ver_key_split(const MDB_val *k, size_t *pathlen, uint32_t *num) HX_WUR;
/* The versions value of e. */
void hx_ver_val(uint8_t v[HX_VER_LEN], const hx_entry *e);
/* The number of author; a new one when create. HX_ENOTFOUND otherwise. */
int hx_author_num(hx_store *s, MDB_txn *txn, const uint8_t *author, int create,
                  uint32_t *num) HX_WUR;
/* The author with number num (HX_ECORRUPT when there is none). */
int hx_author_key(hx_store *s, MDB_txn *txn, uint32_t num, uint8_t author[HX_KEY_LEN]) HX_WUR;
/* The versions key of (author, path) into k (HX_VER_KEYMAX bytes):
 * HX_ENOTFOUND when the author has no number and create is 0. */
int hx_ver_doc_key(hx_store *s, MDB_txn *txn, const uint8_t *author, const char *path, int create,
                   uint8_t *k, size_t *kl) HX_WUR;
/* The current (last) version under key k: HX_OK or HX_ENOTFOUND. */
int hx_ver_current(MDB_txn *txn, MDB_dbi versions, const uint8_t *k, size_t kl,
                   uint8_t cur[HX_VER_LEN]) HX_WUR;
/* Adds version e: *had_prev and prev the current version before, *current
 * whether e is the current version now; keeps the live count. */
int hx_ver_add(hx_store *s, MDB_txn *txn, const hx_entry *e, uint8_t prev[HX_VER_LEN],
               int *had_prev, int *current) HX_WUR;
/* Removes version e: when it was current (*was_current), *has_next and
 * next the version current now; keeps the live count. */
int hx_ver_del(hx_store *s, MDB_txn *txn, const hx_entry *e, int *was_current,
               uint8_t next[HX_VER_LEN], int *has_next) HX_WUR;
/* The live documents counter in meta. */
int hx_live_add(hx_store *s, MDB_txn *txn, int64_t delta) HX_WUR;
int hx_live_get(hx_store *s, MDB_txn *txn, uint64_t *n) HX_WUR;
/* The schema 5 -> 6 step (upgrade6.c). */
int hx_upgrade_6(hx_store *s, MDB_txn *txn) HX_WUR;

/* (ts, id) order: the order of document versions and of reconciliation. */
static inline int tsid_cmp(uint64_t ta, const uint8_t *ia, uint64_t tb, const uint8_t *ib)
{
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return memcmp(ia, ib, HX_ID_LEN);
}

/* ---- purge records (purge.c) ---- */
/* Opens (creates) the "purged" table. */
int hx_purge_open(hx_store *s, MDB_txn *txn, int create) HX_WUR;
/* The stub of a purged version: HX_OK, HX_ENOTFOUND or error. */
int hx_purge_stub_get(hx_store *s, MDB_txn *txn, const uint8_t *id, hx_purged *out) HX_WUR;
/* Before p is stored: refuses a purged version (HX_EEXIST) and a purge
 * record that breaks its rules (p->why says which). *done when p->result is
 * final and p must not be stored. */
int hx_purge_before(hx_store *s, MDB_txn *txn, hx_put *p, int *done) HX_WUR;
/* After a purge record was stored: purges what it lists; sets scrub_due. */
int hx_purge_after(hx_store *s, MDB_txn *txn, const hx_entry *rec) HX_WUR;
/* Takes version old (stored, decoded) out of its document; when it was
 * the current version, the newest remaining one becomes current, and the
 * search index follows. */
int hx_doc_drop(hx_store *s, MDB_txn *txn, const hx_entry *old) HX_WUR;

/* ---- text inside attachments (ftext.c) ---- */
/* Sets (row non-NULL) or removes the ftext row of hash in txn, taking the
 * current documents that attach the blob out of the index first and
 * putting them back after, so they are indexed with the new row. The
 * caller calls hx_index_commit before committing txn. */
int hx_ft_set(hx_store *s, MDB_txn *txn, const uint8_t *hash, const uint8_t *row,
              size_t len) HX_WUR;

/* Big-endian key helpers (hx_be64_put, ...) are in proto/hx.h. */

/* Devices and rotation (org.c), called by put_one in the entry's write
 * transaction. hx_org_check sets *refuse to HX_OK or the reason to refuse
 * e (HX_EDEVICE, HX_EREVOKED, HX_ERECORD) and *prev to the earliest
 * revocation stored for the device e certifies (HX_NEVER); after e is
 * stored, hx_org_after_put hides what it makes invalid. Both return an
 * error only when the transaction must fail. */
int hx_org_check(hx_store *s, MDB_txn *txn, const hx_entry *e, int *refuse, uint64_t *prev) HX_WUR;
int hx_org_after_put(hx_store *s, MDB_txn *txn, const hx_entry *e, uint64_t prev) HX_WUR;

#endif
