/*
 * blob_recv.c: receiving a blob chunk by chunk (blob.h), for blob
 * replication: begin with a hash list checked against the blob's name,
 * write verified chunks into blobs/part/ in batches (one sync and one LMDB
 * commit marks a batch's chunks present), list the missing ones, finish
 * by renaming the file into place. Layouts: blob.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/blob_int.h"

int hx_blob_begin(hx_store *s, const uint8_t hash[HX_ID_LEN], uint64_t size, const uint8_t *hashes)
{
	uint8_t h[HX_ID_LEN];
	char path[4096];
	MDB_txn *txn;
	struct hx_bstate b;
	int rc;

	if (size > HX_ATTACH_SIZE_MAX)
		return HX_ELIMIT;
	hx_blob_hash(h, size, hashes);
	if (sodium_memcmp(h, hash, HX_ID_LEN))
		return HX_EFORGED;
	if ((rc = hx_bl_make_dir(s, "part")) || (rc = hx_bl_part_path(s, hash, path, sizeof path)))
		return rc;
	if ((rc = hx_bl_write_begin(s, &txn)))
		return rc;
	rc = hx_bl_load(s, txn, hash, &b);
	if (!rc) {
		hx_txn_abort(s, txn);
		return b.state == HX_BLOB_WHOLE ? HX_EEXIST : HX_OK;
	}
	if (rc != HX_ENOTFOUND || (rc = hx_bl_limits(s, txn, size))) {
		hx_txn_abort(s, txn);
		if (rc == HX_ELIMIT)
			hx_bl_count(s, "blob_refused");
		return rc;
	}
	/* The file first, then the state that names it. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		hx_txn_abort(s, txn);
		return HX_EIO;
	}
	close(fd);
	if ((rc = hx_bl_put_state(s, txn, hash, HX_BLOB_PARTIAL, size, hx_now_us(), hashes,
	                          NULL))) {
		hx_txn_abort(s, txn);
		return rc;
	}
	return hx_mdb_err(hx_txn_commit(s, txn));
}

/* ---- writing chunks in batches ------------------------------------------ */

/* A partial blob's file that chunks of the batch went to: the descriptor,
 * the file it was (a blob dropped and begun again meanwhile is a new file)
 * and the chunks written. */
struct bb_file {
	uint8_t hash[HX_ID_LEN];
	int fd;
	dev_t dev;
	ino_t ino;
	uint32_t *idx;
	size_t n, cap;
};

struct hx_blob_batch {
	struct bb_file *f;
	size_t n, cap;
	size_t chunks;
};

int hx_blob_batch_new(hx_blob_batch **b)
{
	*b = calloc(1, sizeof **b);
	return *b ? HX_OK : HX_ENOMEM;
}

static void bb_clear(hx_blob_batch *b)
{
	for (size_t k = 0; k < b->n; k++) {
		close(b->f[k].fd);
		free(b->f[k].idx);
	}
	b->n = 0;
	b->chunks = 0;
}

void hx_blob_batch_free(hx_blob_batch *b)
{
	if (!b)
		return;
	bb_clear(b);
	free(b->f);
	free(b);
}

size_t hx_blob_batch_pending(const hx_blob_batch *b)
{
	return b->chunks;
}

static struct bb_file *bb_find(hx_blob_batch *b, const uint8_t *hash)
{
	for (size_t k = 0; k < b->n; k++)
		if (!memcmp(b->f[k].hash, hash, HX_ID_LEN))
			return &b->f[k];
	return NULL;
}

static int bb_has(const struct bb_file *f, uint32_t i)
{
	for (size_t j = 0; j < f->n; j++)
		if (f->idx[j] == i)
			return 1;
	return 0;
}

/* The batch's file for hash, opened on first use. */
static int bb_open(hx_store *s, hx_blob_batch *b, const uint8_t *hash, struct bb_file **out)
{
	char path[4096];
	struct stat st;
	int rc;

	if ((*out = bb_find(b, hash)))
		return HX_OK;
	if ((rc = hx_bl_part_path(s, hash, path, sizeof path)))
		return rc;
	struct bb_file *a = hx_grow(b->f, &b->cap, b->n + 1, sizeof *a);
	if (!a)
		return HX_ENOMEM;
	b->f = a;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return HX_EIO;
	if (fstat(fd, &st)) {
		close(fd);
		return HX_EIO;
	}
	*out = &b->f[b->n++];
	**out = (struct bb_file){ .fd = fd, .dev = st.st_dev, .ino = st.st_ino };
	memcpy((*out)->hash, hash, HX_ID_LEN);
	return HX_OK;
}

/* Checks chunk i of a partial blob against its hash list (no write). */
static int chunk_check(hx_store *s, const uint8_t *hash, uint32_t i, const uint8_t *data,
                       size_t len)
{
	MDB_txn *txn;
	struct hx_bstate b;
	uint8_t got[HX_ID_LEN];
	int rc;

	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if (!(rc = hx_bl_load(s, txn, hash, &b))) {
		if (b.state == HX_BLOB_WHOLE)
			rc = HX_EEXIST;
		else if (i >= b.n || len != hx_bl_chunk_len(b.size, i))
			rc = HX_EINVAL;
		else if (hx_bl_has(&b, i))
			rc = HX_EEXIST;
		else {
			hx_bl_chunk_hash(got, data, len);
			if (sodium_memcmp(got, b.hashes + (size_t)i * HX_ID_LEN, HX_ID_LEN))
				rc = HX_EFORGED;
		}
	}
	hx_txn_abort(s, txn);
	if (rc == HX_EFORGED)
		hx_bl_count(s, "blob_badchunk");
	return rc;
}

int hx_blob_batch_write(hx_store *s, hx_blob_batch *b, const uint8_t hash[HX_ID_LEN], uint32_t i,
                        const uint8_t *data, size_t len)
{
	struct bb_file *f = bb_find(b, hash);
	int rc;

	if (!s->has_blobs)
		return HX_ENOTFOUND;
	if (f && bb_has(f, i))
		return HX_EEXIST;
	if ((rc = chunk_check(s, hash, i, data, len)) || (rc = bb_open(s, b, hash, &f)))
		return rc;
	uint32_t *a = hx_grow(f->idx, &f->cap, f->n + 1, sizeof *a);
	if (!a)
		return HX_ENOMEM;
	f->idx = a;
	size_t done = 0;
	while (done < len) {
		ssize_t w = pwrite(f->fd, data + done, len - done,
		                   (off_t)i * HX_CHUNK_SIZE + (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno == ENOSPC ? HX_EFULL : HX_EIO;
		done += (size_t)w;
	}
	f->idx[f->n++] = i;
	b->chunks++;
	return HX_OK;
}

/* Marks f's chunks present in txn, unless its blob is gone, whole, or no
 * longer the file written to. */
static int bb_mark(hx_store *s, MDB_txn *txn, const struct bb_file *f)
{
	struct hx_bstate b;
	struct stat st;
	char path[4096];
	int rc = hx_bl_load(s, txn, f->hash, &b);

	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc || b.state == HX_BLOB_WHOLE)
		return rc;
	if ((rc = hx_bl_part_path(s, f->hash, path, sizeof path)))
		return rc;
	if (stat(path, &st) || st.st_dev != f->dev || st.st_ino != f->ino)
		return HX_OK;
	size_t nb = (b.n + 7) / 8;
	/* copies: b points into the page being rewritten */
	uint8_t *bits = malloc(nb + 1), *hashes = malloc((size_t)b.n * HX_ID_LEN + 1);
	if (bits && hashes) {
		memcpy(bits, b.bits, nb);
		memcpy(hashes, b.hashes, (size_t)b.n * HX_ID_LEN);
		for (size_t j = 0; j < f->n; j++)
			if (f->idx[j] < b.n)
				bits[f->idx[j] >> 3] |= (uint8_t)(1u << (f->idx[j] & 7));
		rc = hx_bl_put_state(s, txn, f->hash, HX_BLOB_PARTIAL, b.size, b.added, hashes,
		                     bits);
	} else {
		rc = HX_ENOMEM;
	}
	free(bits);
	free(hashes);
	return rc;
}

int hx_blob_batch_commit(hx_store *s, hx_blob_batch *b)
{
	MDB_txn *txn;
	int rc = HX_OK;

	if (!b->chunks) {
		bb_clear(b);
		return HX_OK;
	}
	/* The bytes of every file first, then all the marks in one commit: a
	 * mark never precedes its data. */
	for (size_t k = 0; k < b->n && !rc; k++)
		if (b->f[k].n && fdatasync(b->f[k].fd))
			rc = HX_EIO;
	if (!rc && !(rc = hx_bl_write_begin(s, &txn))) {
		for (size_t k = 0; k < b->n && !rc; k++)
			rc = bb_mark(s, txn, &b->f[k]);
		if (rc)
			hx_txn_abort(s, txn);
		else
			rc = hx_mdb_err(hx_txn_commit(s, txn));
	}
	bb_clear(b);
	return rc;
}

int hx_blob_write_chunk(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, const uint8_t *data,
                        size_t len)
{
	hx_blob_batch *b;
	int rc = hx_blob_batch_new(&b);

	if (!rc && !(rc = hx_blob_batch_write(s, b, hash, i, data, len)))
		rc = hx_blob_batch_commit(s, b);
	hx_blob_batch_free(b);
	return rc;
}

int hx_blob_missing(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t *idx, size_t max,
                    size_t *count_out)
{
	struct hx_bstate b;
	uint8_t *mem;
	int rc = hx_bl_get(s, hash, &b, &mem);

	*count_out = 0;
	for (uint32_t i = 0; !rc && i < b.n; i++) {
		if (hx_bl_has(&b, i))
			continue;
		if (*count_out < max)
			idx[*count_out] = i;
		(*count_out)++;
	}
	free(mem);
	return rc;
}

int hx_blob_finish(hx_store *s, const uint8_t hash[HX_ID_LEN])
{
	MDB_txn *txn;
	struct hx_bstate b;
	char from[4096], to[4096];
	struct stat st;
	int rc;

	if (!s->has_blobs)
		return HX_ENOTFOUND;
	if ((rc = hx_bl_part_path(s, hash, from, sizeof from)) ||
	    (rc = hx_bl_whole_path(s, hash, to, sizeof to)))
		return rc;
	char sub[3];
	snprintf(sub, sizeof sub, "%.2s", strrchr(to, '/') + 1);
	if ((rc = hx_bl_make_dir(s, sub)))
		return rc;
	if ((rc = hx_bl_write_begin(s, &txn)))
		return rc;
	if ((rc = hx_bl_load(s, txn, hash, &b)))
		goto out;
	if (b.state == HX_BLOB_WHOLE)
		goto out;
	if (hx_bl_present(&b) != b.n) {
		rc = HX_EBUSY;
		goto out;
	}
	/* Every chunk was verified and synced before it was marked. A crash after
	 * the rename but before the commit leaves the whole file and a
	 * partial state with every chunk: finishing again finds it. */
	if (rename(from, to) && !(errno == ENOENT && !stat(to, &st))) {
		rc = HX_EIO;
		goto out;
	}
	if (!b.size) {
		int fd = open(to, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	if ((rc = hx_bl_sync_dir(to)))
		goto out;
	uint8_t *hashes = malloc((size_t)b.n * HX_ID_LEN + 1);
	if (!hashes) {
		rc = HX_ENOMEM;
		goto out;
	}
	memcpy(hashes, b.hashes, (size_t)b.n * HX_ID_LEN);
	/* each chunk was checked on arrival: the whole file is marked checked */
	rc = hx_bl_put_state(s, txn, hash, HX_BLOB_WHOLE, b.size, b.added, hashes, NULL);
	free(hashes);
	if (!rc)
		rc = hx_bl_mark_put_path(s, txn, hash, to);
	if (rc)
		goto out;
	return hx_mdb_err(hx_txn_commit(s, txn));
out:
	hx_txn_abort(s, txn);
	return rc;
}
