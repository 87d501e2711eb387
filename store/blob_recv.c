/*
 * blob_recv.c: receiving a blob chunk by chunk (blob.h), for blob
 * replication: begin with a hash list checked against the blob's name,
 * write verified chunks into blobs/part/, list the missing ones, finish
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
		mdb_txn_abort(txn);
		return b.state == HX_BLOB_WHOLE ? HX_EEXIST : HX_OK;
	}
	if (rc != HX_ENOTFOUND || (rc = hx_bl_limits(s, txn, size))) {
		mdb_txn_abort(txn);
		if (rc == HX_ELIMIT)
			hx_bl_count(s, "blob_refused");
		return rc;
	}
	/* The file first, then the state that names it. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		mdb_txn_abort(txn);
		return HX_EIO;
	}
	close(fd);
	if ((rc = hx_bl_put_state(s, txn, hash, HX_BLOB_PARTIAL, size, hx_now_us(), hashes, NULL))) {
		mdb_txn_abort(txn);
		return rc;
	}
	return hx_mdb_err(mdb_txn_commit(txn));
}

int hx_blob_write_chunk(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t i, const uint8_t *data,
                        size_t len)
{
	MDB_txn *txn;
	struct hx_bstate b;
	uint8_t got[HX_ID_LEN];
	char path[4096];
	int rc;

	if (!s->has_blobs)
		return HX_ENOTFOUND;
	if ((rc = hx_bl_part_path(s, hash, path, sizeof path)))
		return rc;
	/* Check against the hash list (read), write and sync the bytes, then
	 * mark the chunk present (write): the mark never precedes the data. */
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
	mdb_txn_abort(txn);
	if (rc == HX_EFORGED)
		hx_bl_count(s, "blob_badchunk");
	if (rc)
		return rc;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return HX_EIO;
	size_t done = 0;
	while (done < len && !rc) {
		ssize_t w = pwrite(fd, data + done, len - done, (off_t)i * HX_CHUNK_SIZE + (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = errno == ENOSPC ? HX_EFULL : HX_EIO;
		else
			done += (size_t)w;
	}
	if (!rc && fdatasync(fd))
		rc = HX_EIO;
	close(fd);
	if (rc)
		return rc;
	if ((rc = hx_bl_write_begin(s, &txn)))
		return rc;
	if (!(rc = hx_bl_load(s, txn, hash, &b))) {
		if (b.state == HX_BLOB_WHOLE || i >= b.n) {
			rc = HX_EEXIST;
		} else {
			size_t nb = (b.n + 7) / 8;
			uint8_t *bits = malloc(nb + 1);
			if (!bits) {
				rc = HX_ENOMEM;
			} else {
				memcpy(bits, b.bits, nb);
				bits[i >> 3] |= (uint8_t)(1u << (i & 7));
				/* copies: b points into the page being rewritten */
				uint8_t *hashes = malloc((size_t)b.n * HX_ID_LEN + 1);
				if (!hashes) {
					rc = HX_ENOMEM;
				} else {
					memcpy(hashes, b.hashes, (size_t)b.n * HX_ID_LEN);
					rc = hx_bl_put_state(s, txn, hash, HX_BLOB_PARTIAL, b.size, b.added,
					                 hashes, bits);
					free(hashes);
				}
				free(bits);
			}
		}
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return hx_mdb_err(mdb_txn_commit(txn));
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
	if ((rc = hx_bl_part_path(s, hash, from, sizeof from)) || (rc = hx_bl_whole_path(s, hash, to, sizeof to)))
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
	/* Every chunk was verified and synced when written. A crash after
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
	rc = hx_bl_put_state(s, txn, hash, HX_BLOB_WHOLE, b.size, b.added, hashes, NULL);
	free(hashes);
	if (rc)
		goto out;
	return hx_mdb_err(mdb_txn_commit(txn));
out:
	mdb_txn_abort(txn);
	return rc;
}
