/*
 * store_int.h: the inside of hx_store, shared by the store's own modules
 * (store.c, the search index, the reconciliation tree). Nothing outside
 * store/ includes this file.
 */
#ifndef HX_STORE_INT_H
#define HX_STORE_INT_H

#include <lmdb.h>
#include <string.h>
#include "store/store.h"
#include "store/index.h"
#include "store/fpt.h"
#include "store/zentry.h"
#include "store/mdb_err.h" /* hx_mdb_err, for the modules that include this file */

struct hx_store {
	MDB_env *env;
	unsigned flags;
	MDB_dbi meta;       /* "schema" etc. -> value */
	MDB_dbi entries;    /* id[32] -> signed canonical bytes, maybe compressed (zentry.c) */
	MDB_dbi bytime;     /* ts u64 BE ‖ id[32] -> "" */
	MDB_dbi docs;       /* author[32] ‖ path -> ts u64 BE ‖ id[32] of the current version */
	MDB_dbi paths;      /* path ‖ 0x00 ‖ author[32] -> "" for live documents */
	MDB_dbi hist;       /* author[32] ‖ path ‖ 0x00 ‖ ts u64 BE ‖ id[32] -> "" */
	MDB_dbi changes;    /* seq u64 BE -> id[32] */
	MDB_dbi members;    /* key[32] -> member record */
	MDB_dbi kv;         /* name -> value */
	MDB_dbi purged;     /* id[32] -> purged stub (store/purge.c) */
	struct hx_index ix; /* search index tables (store/index.c) */
	struct hx_fpt fpt;  /* reconciliation fingerprint tree (store/fpt.c) */
	struct hx_zent z;   /* entry values, compressed (store/zentry.c) */
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
};

/* Sets s->wake from the store's directory (wake.c). */
void hx_store_wake_init(hx_store *s, const char *dir);

/* Begins a transaction, handling MDB_MAP_RESIZED. */
int hx_txn_begin(hx_store *s, unsigned flags, MDB_txn **txn) HX_WUR;

#define KEYBUF (HX_KEY_LEN + HX_PATH_MAX + 1 + 8 + HX_ID_LEN)

/* ---- keys of store.c's tables (also used by purge.c and device.c)
 * ------------------------------------------------------------- */

static inline size_t doc_key(uint8_t *k, const uint8_t *author, const char *path)
{
	size_t n = strlen(path);
	memcpy(k, author, HX_KEY_LEN);
	memcpy(k + HX_KEY_LEN, path, n);
	return HX_KEY_LEN + n;
}

static inline size_t hist_key(uint8_t *k, const hx_entry *e)
{
	size_t n = doc_key(k, e->author, e->path);
	k[n++] = 0;
	hx_be64_put(k + n, e->timestamp);
	memcpy(k + n + 8, e->id, HX_ID_LEN);
	return n + 8 + HX_ID_LEN;
}

static inline size_t path_key(uint8_t *k, const char *path, const uint8_t *author)
{
	size_t n = strlen(path);
	memcpy(k, path, n);
	k[n] = 0;
	memcpy(k + n + 1, author, HX_KEY_LEN);
	return n + 1 + HX_KEY_LEN;
}

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
