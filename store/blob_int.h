/*
 * blob_int.h: what the blob store's files (blob.c, blob_recv.c,
 * blob_add.c) share: the parsed state record and the helpers for paths,
 * the state table, limits and chunk I/O. Nothing outside store/ includes it.
 */
#ifndef HX_BLOB_INT_H
#define HX_BLOB_INT_H

#include "store/store_int.h"
#include "store/blob.h"

#define HDR 17

struct hx_bstate {
	int state;
	uint64_t size, added;
	uint32_t n;
	const uint8_t *hashes; /* n * 32, borrowed from the transaction */
	const uint8_t *bits;   /* partial only */
};

/* Paths of a whole and of a partial blob: HX_ELIMIT when too long. */
int hx_bl_whole_path(hx_store *s, const uint8_t *hash, char *buf, size_t cap) HX_WUR;
int hx_bl_part_path(hx_store *s, const uint8_t *hash, char *buf, size_t cap) HX_WUR;
/* Makes blobs/ and blobs/sub when missing. */
int hx_bl_make_dir(hx_store *s, const char *sub) HX_WUR;
/* fsyncs the folder holding path, so that a rename into it is durable. */
int hx_bl_sync_dir(const char *path) HX_WUR;

/* Whether chunk i is present; how many are. */
int hx_bl_has(const struct hx_bstate *b, uint32_t i);
uint32_t hx_bl_present(const struct hx_bstate *b);
/* Reads the state of hash in txn (HX_ENOTFOUND when absent); b points
 * into the transaction's pages. */
int hx_bl_load(hx_store *s, MDB_txn *txn, const uint8_t *hash, struct hx_bstate *b) HX_WUR;
/* The state of hash copied out of the table: b points into *mem (caller
 * frees, also on error). HX_ENOTFOUND when absent. */
int hx_bl_get(hx_store *s, const uint8_t *hash, struct hx_bstate *b, uint8_t **mem) HX_WUR;
/* Writes a state record; for a partial blob bits holds (n+7)/8 bytes, or
 * is NULL for none present. hashes must not point into the table. */
int hx_bl_put_state(hx_store *s, MDB_txn *txn, const uint8_t *hash, int state, uint64_t size,
                    uint64_t added, const uint8_t *hashes, const uint8_t *bits) HX_WUR;
/* Adds 1 to the meta counter name, in its own transaction. */
void hx_bl_count(hx_store *s, const char *name);
/* HX_ELIMIT when a new blob of size bytes is over a limit (not counted). */
int hx_bl_limits(hx_store *s, MDB_txn *txn, uint64_t size) HX_WUR;
/* A write transaction; HX_EPERM on a read-only schema 1 store. */
int hx_bl_write_begin(hx_store *s, MDB_txn **txn) HX_WUR;

/* A whole blob's checked mark (blob.c): when it was checked and the
 * stat of its file then. */
struct stat;
struct hx_bmark {
	uint64_t at, size, ino, mtime_ns, ctime_ns;
};
/* The mark of hash in txn; HX_ENOTFOUND when none (or unreadable). */
int hx_bl_mark_get(hx_store *s, MDB_txn *txn, const uint8_t *hash, struct hx_bmark *m) HX_WUR;
/* Whether two stats are of the same, unchanged file. */
int hx_bl_stat_same(const struct stat *a, const struct stat *b);
/* Whether st is the file the mark was taken of. */
int hx_bl_mark_same(const struct hx_bmark *m, const struct stat *st);
/* Marks hash checked now with the stat st (or that of path), in txn; for
 * a caller that checked every chunk of that file. */
int hx_bl_mark_put(hx_store *s, MDB_txn *txn, const uint8_t *hash, const struct stat *st) HX_WUR;
int hx_bl_mark_put_path(hx_store *s, MDB_txn *txn, const uint8_t *hash, const char *path) HX_WUR;
/* Removes the mark (none is fine). */
int hx_bl_mark_del(hx_store *s, MDB_txn *txn, const uint8_t *hash) HX_WUR;

/* Length of chunk i of a blob of size bytes; a chunk's hash. */
size_t hx_bl_chunk_len(uint64_t size, uint32_t i);
void hx_bl_chunk_hash(uint8_t out[HX_ID_LEN], const uint8_t *data, size_t len);
/* Exactly len bytes at off (HX_EIO also for a short file); all of buf. */
int hx_bl_pread(int fd, uint8_t *buf, size_t len, uint64_t off) HX_WUR;
int hx_bl_write(int fd, const uint8_t *buf, size_t len) HX_WUR;

#endif
