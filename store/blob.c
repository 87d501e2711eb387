/*
 * blob.c: the blob store (blob.h). Files live in a content-addressed
 * folder next to data.mdb; LMDB's "blobs" table says what is there, so a
 * file counts only once its state says whole, and the state says whole only
 * after the file was verified, synced and renamed into place.
 *
 * Folder (in the store's directory):
 *   blobs/ab/<64 hex of hash>   whole blobs (ab = the first two hex digits)
 *   blobs/part/<64 hex>         partial blobs, chunks at i * HX_CHUNK_SIZE
 *   blobs/tmp/<random>          files being added; never referenced
 *
 * Table blobs: hash[32] -> state, integers big-endian:
 *   offset  size      field
 *   0       1         state: 1 partial, 2 whole (enum hx_blob_state)
 *   1       8         size in bytes
 *   9       8         added: microseconds since the epoch (gc grace)
 *   17      32 * n    chunk hashes, n = hx_blob_chunks(size)
 *   17+32n  (n+7)/8   partial only: chunk i present iff bit (i & 7) of
 *                     byte i >> 3 is set
 * Counters in the meta table: "blob_refused", "blob_badchunk" (u64).
 * A whole blob's checked mark (the stat of its file when every chunk was
 * last checked) is a kv record (below).
 *
 * This file: the state table, paths and reading; receiving chunks is in
 * blob_recv.c, adding local files in blob_add.c, fsck and gc in blob_gc.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/store_int.h"
#include "store/blob_int.h"

void hx_blob_set_limits(hx_store *s, uint64_t file_max, uint64_t space_max)
{
	if (file_max)
		s->blob_file_max = file_max;
	if (space_max)
		s->blob_space_max = space_max;
}

/* ---- paths -------------------------------------------------------------- */

int hx_bl_whole_path(hx_store *s, const uint8_t *hash, char *buf, size_t cap)
{
	char hex[2 * HX_ID_LEN + 1];
	hx_hex(hex, hash, HX_ID_LEN);
	int n = snprintf(buf, cap, "%s/blobs/%.2s/%s", s->dir, hex, hex);
	return n < 0 || (size_t)n >= cap ? HX_ELIMIT : HX_OK;
}

int hx_bl_part_path(hx_store *s, const uint8_t *hash, char *buf, size_t cap)
{
	char hex[2 * HX_ID_LEN + 1];
	hx_hex(hex, hash, HX_ID_LEN);
	int n = snprintf(buf, cap, "%s/blobs/part/%s", s->dir, hex);
	return n < 0 || (size_t)n >= cap ? HX_ELIMIT : HX_OK;
}

/* Makes blobs/ and sub (a folder name under it) when missing. */
int hx_bl_make_dir(hx_store *s, const char *sub)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/blobs", s->dir);
	if (mkdir(p, 0700) && errno != EEXIST)
		return HX_EIO;
	if ((size_t)snprintf(p, sizeof p, "%s/blobs/%s", s->dir, sub) >= sizeof p)
		return HX_ELIMIT;
	if (mkdir(p, 0700) && errno != EEXIST)
		return HX_EIO;
	return HX_OK;
}

/* fsyncs the folder holding path, so that a rename into it is durable. */
int hx_bl_sync_dir(const char *path)
{
	char d[4096];
	snprintf(d, sizeof d, "%s", path);
	char *slash = strrchr(d, '/');
	if (!slash)
		return HX_EINVAL;
	*slash = 0;
	int fd = open(d, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return HX_EIO;
	int rc = fsync(fd) ? HX_EIO : HX_OK;
	close(fd);
	return rc;
}

/* ---- the state table ---------------------------------------------------- */

static int parse(const MDB_val *v, struct hx_bstate *b)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < HDR)
		return HX_ECORRUPT;
	b->state = p[0];
	b->size = hx_be64_get(p + 1);
	b->added = hx_be64_get(p + 9);
	if (b->size > HX_ATTACH_SIZE_MAX ||
	    (b->state != HX_BLOB_PARTIAL && b->state != HX_BLOB_WHOLE))
		return HX_ECORRUPT;
	uint64_t n = hx_blob_chunks(b->size);
	size_t want = HDR + (size_t)n * HX_ID_LEN;
	if (b->state == HX_BLOB_PARTIAL)
		want += (size_t)(n + 7) / 8;
	if (v->mv_size != want || n > UINT32_MAX)
		return HX_ECORRUPT;
	b->n = (uint32_t)n;
	b->hashes = p + HDR;
	b->bits = b->state == HX_BLOB_PARTIAL ? p + HDR + (size_t)n * HX_ID_LEN : NULL;
	return HX_OK;
}

int hx_bl_has(const struct hx_bstate *b, uint32_t i)
{
	return b->state == HX_BLOB_WHOLE || (b->bits[i >> 3] >> (i & 7) & 1);
}

uint32_t hx_bl_present(const struct hx_bstate *b)
{
	uint32_t have = 0;
	for (uint32_t i = 0; i < b->n; i++)
		have += (uint32_t)hx_bl_has(b, i);
	return have;
}

/* Reads the state of hash in txn: HX_ENOTFOUND when absent. */
int hx_bl_load(hx_store *s, MDB_txn *txn, const uint8_t *hash, struct hx_bstate *b)
{
	MDB_val k = { HX_ID_LEN, (void *)hash }, v;
	int rc = mdb_get(txn, s->blobs, &k, &v);
	if (rc)
		return hx_mdb_err(rc);
	return parse(&v, b);
}

/* Writes a state record; for a partial blob bits holds (n+7)/8 bytes, or
 * is NULL for none present. */
int hx_bl_put_state(hx_store *s, MDB_txn *txn, const uint8_t *hash, int state, uint64_t size,
                    uint64_t added, const uint8_t *hashes, const uint8_t *bits)
{
	uint64_t n = hx_blob_chunks(size);
	size_t len =
	        HDR + (size_t)n * HX_ID_LEN + (state == HX_BLOB_PARTIAL ? (size_t)(n + 7) / 8 : 0);
	MDB_val k = { HX_ID_LEN, (void *)hash }, v = { len, NULL };
	uint8_t *tmp = malloc(len);
	if (!tmp)
		return HX_ENOMEM;
	tmp[0] = (uint8_t)state;
	hx_be64_put(tmp + 1, size);
	hx_be64_put(tmp + 9, added);
	if (n)
		memcpy(tmp + HDR, hashes, (size_t)n * HX_ID_LEN);
	if (state == HX_BLOB_PARTIAL) {
		if (bits)
			memcpy(tmp + HDR + n * HX_ID_LEN, bits, (size_t)(n + 7) / 8);
		else
			memset(tmp + HDR + n * HX_ID_LEN, 0, (size_t)(n + 7) / 8);
	}
	v.mv_data = tmp;
	int rc = hx_mdb_err(mdb_put(txn, s->blobs, &k, &v, 0));
	free(tmp);
	return rc;
}

/* Adds 1 to the meta counter name (its own short transaction). */
void hx_bl_count(hx_store *s, const char *name)
{
	MDB_txn *txn;
	if (hx_txn_begin(s, 0, &txn))
		return;
	MDB_val k = { strlen(name), (void *)name }, v;
	uint64_t c = 0;
	if (!mdb_get(txn, s->meta, &k, &v) && v.mv_size == 8)
		c = hx_be64_get(v.mv_data);
	uint8_t be[8];
	hx_be64_put(be, c + 1);
	v.mv_size = 8;
	v.mv_data = be;
	if (mdb_put(txn, s->meta, &k, &v, 0))
		hx_txn_abort(s, txn);
	else
		hx_txn_commit(s, txn); /* a counter: best effort */
}

static uint64_t counter(hx_store *s, MDB_txn *txn, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	if (!mdb_get(txn, s->meta, &k, &v) && v.mv_size == 8)
		return hx_be64_get(v.mv_data);
	return 0;
}

/* Space taken by every blob in the table (whole and partial sizes). */
static int space_used(hx_store *s, MDB_txn *txn, uint64_t *total)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;
	*total = 0;
	if ((rc = mdb_cursor_open(txn, s->blobs, &c)))
		return hx_mdb_err(rc);
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)))
		if (v.mv_size >= HDR)
			*total += hx_be64_get((const uint8_t *)v.mv_data + 1);
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

/* HX_ELIMIT (and counted) when a new blob of size bytes is over a limit. */
int hx_bl_limits(hx_store *s, MDB_txn *txn, uint64_t size)
{
	uint64_t used;
	int rc;
	if (size > s->blob_file_max)
		return HX_ELIMIT;
	if ((rc = space_used(s, txn, &used)))
		return rc;
	return used + size > s->blob_space_max ? HX_ELIMIT : HX_OK;
}

int hx_bl_write_begin(hx_store *s, MDB_txn **txn)
{
	if (!s->has_blobs)
		return HX_EPERM; /* read-only open of a schema 1 store */
	return hx_txn_begin(s, 0, txn);
}

/* ---- checked marks ------------------------------------------------------
 *
 * A whole blob that was hashed as it was added, or assembled from chunks
 * each checked on arrival, or scrubbed (blob_scrub.c), has a checked mark
 * in the kv table holding the stat of its file taken then, as git's index
 * and Syncthing do: serving a chunk reads it without hashing while the
 * file's stat is still that one (hx_blob_read_chunk_serve).
 *
 * kv "blob-checked/<64 hex of the blob hash>", 41 bytes, big-endian:
 *   offset  size  field
 *   0       1     layout: 1
 *   1       8     checked: microseconds since the epoch
 *   9       8     st_size of the whole blob's file
 *   17      8     st_ino
 *   25      8     st_mtime in nanoseconds
 *   33      8     st_ctime in nanoseconds
 * Any other length or layout reads as no mark (hashed, then marked again).
 */

#define MARK_LEN 41

static void mark_key(char out[80], const uint8_t *hash)
{
	char hex[2 * HX_ID_LEN + 1];
	snprintf(out, 80, "blob-checked/%s", hx_hex(hex, hash, HX_ID_LEN));
}

static uint64_t ns(struct timespec t)
{
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int hx_bl_mark_get(hx_store *s, MDB_txn *txn, const uint8_t *hash, struct hx_bmark *m)
{
	char key[80];
	mark_key(key, hash);
	MDB_val k = { strlen(key), key }, v;
	int rc = mdb_get(txn, s->kv, &k, &v);
	if (rc)
		return hx_mdb_err(rc);
	const uint8_t *p = v.mv_data;
	if (v.mv_size != MARK_LEN || p[0] != 1)
		return HX_ENOTFOUND;
	m->at = hx_be64_get(p + 1);
	m->size = hx_be64_get(p + 9);
	m->ino = hx_be64_get(p + 17);
	m->mtime_ns = hx_be64_get(p + 25);
	m->ctime_ns = hx_be64_get(p + 33);
	return HX_OK;
}

int hx_bl_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       ns(a->st_mtim) == ns(b->st_mtim) && ns(a->st_ctim) == ns(b->st_ctim);
}

int hx_bl_mark_same(const struct hx_bmark *m, const struct stat *st)
{
	return m->size == (uint64_t)st->st_size && m->ino == (uint64_t)st->st_ino &&
	       m->mtime_ns == ns(st->st_mtim) && m->ctime_ns == ns(st->st_ctim);
}

int hx_bl_mark_put(hx_store *s, MDB_txn *txn, const uint8_t *hash, const struct stat *st)
{
	char key[80];
	uint8_t p[MARK_LEN];
	mark_key(key, hash);
	p[0] = 1;
	hx_be64_put(p + 1, hx_now_us());
	hx_be64_put(p + 9, (uint64_t)st->st_size);
	hx_be64_put(p + 17, (uint64_t)st->st_ino);
	hx_be64_put(p + 25, ns(st->st_mtim));
	hx_be64_put(p + 33, ns(st->st_ctim));
	MDB_val k = { strlen(key), key }, v = { sizeof p, p };
	return hx_mdb_err(mdb_put(txn, s->kv, &k, &v, 0));
}

int hx_bl_mark_put_path(hx_store *s, MDB_txn *txn, const uint8_t *hash, const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return HX_EIO;
	return hx_bl_mark_put(s, txn, hash, &st);
}

int hx_bl_mark_del(hx_store *s, MDB_txn *txn, const uint8_t *hash)
{
	char key[80];
	mark_key(key, hash);
	MDB_val k = { strlen(key), key };
	int rc = mdb_del(txn, s->kv, &k, NULL);
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

/* ---- reading ------------------------------------------------------------ */

int hx_bl_get(hx_store *s, const uint8_t *hash, struct hx_bstate *b, uint8_t **mem)
{
	MDB_txn *txn;
	int rc;

	*mem = NULL;
	if (!s->has_blobs)
		return HX_ENOTFOUND;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if (!(rc = hx_bl_load(s, txn, hash, b))) {
		size_t len = (size_t)b->n * HX_ID_LEN + (b->bits ? (b->n + 7) / 8 : 0);
		if (!(*mem = malloc(len + 1))) {
			rc = HX_ENOMEM;
		} else {
			memcpy(*mem, b->hashes, len);
			b->hashes = *mem;
			if (b->bits)
				b->bits = *mem + (size_t)b->n * HX_ID_LEN;
		}
	}
	hx_txn_abort(s, txn);
	return rc;
}

int hx_blob_state(hx_store *s, const uint8_t hash[HX_ID_LEN], int *state, uint64_t *size,
                  uint32_t *have)
{
	struct hx_bstate b;
	uint8_t *mem;
	int rc = hx_bl_get(s, hash, &b, &mem);

	*state = rc ? HX_BLOB_NONE : b.state;
	if (size)
		*size = rc ? 0 : b.size;
	if (have)
		*have = rc ? 0 : hx_bl_present(&b);
	free(mem);
	return rc == HX_ENOTFOUND ? HX_OK : rc;
}

int hx_blob_hashes(hx_store *s, const uint8_t hash[HX_ID_LEN], uint64_t *size, uint8_t **hashes,
                   uint32_t *n)
{
	struct hx_bstate b;
	int rc = hx_bl_get(s, hash, &b, hashes);

	*n = rc ? 0 : b.n;
	if (!rc && size)
		*size = b.size;
	return rc;
}

size_t hx_bl_chunk_len(uint64_t size, uint32_t i)
{
	uint64_t off = (uint64_t)i * HX_CHUNK_SIZE;
	return (size_t)(size - off < HX_CHUNK_SIZE ? size - off : HX_CHUNK_SIZE);
}

void hx_bl_chunk_hash(uint8_t out[HX_ID_LEN], const uint8_t *data, size_t len)
{
	crypto_generichash(out, HX_ID_LEN, data, len, NULL, 0);
}

/* Reads exactly len bytes at off; HX_EIO on error or a short file. */
int hx_bl_pread(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return HX_EIO;
		got += (size_t)r;
	}
	return HX_OK;
}

int hx_bl_write(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno == ENOSPC ? HX_EFULL : HX_EIO;
		buf += w;
		len -= (size_t)w;
	}
	return HX_OK;
}

enum { RD_CHECK, RD_NOCHECK, RD_SERVE };

static int read_chunk(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, uint8_t *buf,
                      size_t *len, int mode, int *hashed)
{
	MDB_txn *txn;
	struct hx_bstate b;
	struct hx_bmark mark;
	struct stat st;
	uint8_t want[HX_ID_LEN], got[HX_ID_LEN];
	char path[4096];
	uint64_t size;
	int rc, state, marked = 0;

	*len = 0;
	if (!s->has_blobs)
		return HX_ENOTFOUND;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if (!(rc = hx_bl_load(s, txn, hash, &b))) {
		if (i >= b.n || !hx_bl_has(&b, i))
			rc = HX_ENOTFOUND;
		else
			memcpy(want, b.hashes + (size_t)i * HX_ID_LEN, HX_ID_LEN);
	}
	state = b.state;
	size = b.size;
	if (!rc && mode == RD_SERVE && state == HX_BLOB_WHOLE)
		marked = !hx_bl_mark_get(s, txn, hash, &mark);
	hx_txn_abort(s, txn);
	if (rc)
		return rc;
	rc = state == HX_BLOB_WHOLE ? hx_bl_whole_path(s, hash, path, sizeof path)
	                            : hx_bl_part_path(s, hash, path, sizeof path);
	if (rc)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? HX_ECORRUPT : HX_EIO;
	/* the stat of the descriptor read from, so a file swapped after the
	 * check is not trusted */
	if (mode == RD_SERVE)
		mode = marked && !fstat(fd, &st) && hx_bl_mark_same(&mark, &st) ? RD_NOCHECK
		                                                                : RD_CHECK;
	size_t n = hx_bl_chunk_len(size, i);
	rc = hx_bl_pread(fd, buf, n, (uint64_t)i * HX_CHUNK_SIZE);
	close(fd);
	if (rc)
		return rc == HX_EIO ? HX_ECORRUPT : rc;
	if (hashed)
		*hashed = mode == RD_CHECK;
	if (mode == RD_CHECK) {
		hx_bl_chunk_hash(got, buf, n);
		if (sodium_memcmp(got, want, HX_ID_LEN))
			return HX_ECORRUPT;
	}
	*len = n;
	return HX_OK;
}

int hx_blob_read_chunk(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, uint8_t *buf,
                       size_t *len)
{
	return read_chunk(s, hash, i, buf, len, RD_CHECK, NULL);
}

int hx_blob_read_chunk_checked_before(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i,
                                      uint8_t *buf, size_t *len)
{
	return read_chunk(s, hash, i, buf, len, RD_NOCHECK, NULL);
}

int hx_blob_read_chunk_serve(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, uint8_t *buf,
                             size_t *len, int *hashed)
{
	*hashed = 0;
	return read_chunk(s, hash, i, buf, len, RD_SERVE, hashed);
}

int hx_blob_drop(hx_store *s, const uint8_t hash[HX_ID_LEN])
{
	MDB_txn *txn;
	MDB_val k = { HX_ID_LEN, (void *)hash };
	char path[4096];
	int rc;

	if ((rc = hx_bl_write_begin(s, &txn)))
		return rc;
	/* Its text goes with it (re-indexing whatever still attaches it). */
	if ((rc = hx_mdb_err(mdb_del(txn, s->blobs, &k, NULL))) ||
	    (rc = hx_bl_mark_del(s, txn, hash)) || (rc = hx_ft_set(s, txn, hash, NULL, 0)) ||
	    (rc = hx_index_commit(&s->ix, txn))) {
		hx_index_abort(&s->ix); /* before the abort lets another writer in */
		hx_txn_abort(s, txn);
		return rc;
	}
	/* State first: a file without state is a stray that gc removes. */
	if ((rc = hx_mdb_err(hx_txn_commit(s, txn))))
		return rc;
	if (!hx_bl_whole_path(s, hash, path, sizeof path))
		unlink(path);
	if (!hx_bl_part_path(s, hash, path, sizeof path))
		unlink(path);
	return HX_OK;
}

int hx_blob_list(hx_store *s, hx_blob_cb cb, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	struct hx_bstate b;
	int rc, stop = 0;

	if (!s->has_blobs)
		return HX_OK;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, s->blobs, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
		if (k.mv_size != HX_ID_LEN || parse(&v, &b)) {
			stop = HX_ECORRUPT;
			break;
		}
		if ((stop = cb(arg, k.mv_data, b.state, b.size)))
			break;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

static int stats_step(void *arg, const uint8_t *hash, int state, uint64_t size)
{
	hx_blob_stats *st = arg;
	(void)hash;
	if (state == HX_BLOB_WHOLE)
		st->whole++;
	else
		st->partial++;
	st->bytes += size;
	return 0;
}

int hx_blob_stats_get(hx_store *s, hx_blob_stats *st)
{
	MDB_txn *txn;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = hx_blob_list(s, stats_step, st)))
		return rc;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	st->refused = counter(s, txn, "blob_refused");
	st->bad_chunks = counter(s, txn, "blob_badchunk");
	hx_txn_abort(s, txn);
	return HX_OK;
}
