/*
 * blob_add.c: local files as blobs (blob.h): adding a file hashes it while
 * copying it into blobs/tmp/ and renames it into place; opening a whole
 * blob; copying one out with every chunk checked. Layouts: blob.c.
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

typedef int (*reader_fn)(void *arg, uint8_t *buf, size_t cap, size_t *got);

static int add(hx_store *s, reader_fn rd, void *arg, uint8_t hash[HX_ID_LEN], uint64_t *size_out)
{
	char tmp[4096], to[4096];
	uint8_t *buf = NULL, *hashes = NULL;
	size_t cap = 0, n = 0;
	uint64_t size = 0;
	MDB_txn *txn = NULL;
	struct hx_bstate b;
	int fd = -1, rc;

	if (!s->has_blobs)
		return HX_EPERM;
	if ((rc = hx_bl_make_dir(s, "tmp")))
		return rc;
	snprintf(tmp, sizeof tmp, "%s/blobs/tmp/add-XXXXXX", s->dir);
	if ((fd = mkstemp(tmp)) < 0)
		return HX_EIO;
	if (!(buf = malloc(HX_CHUNK_SIZE))) {
		rc = HX_ENOMEM;
		goto fail;
	}
	for (;;) {
		size_t got = 0, g;
		/* fill a whole chunk: the hash list needs chunk boundaries */
		while (got < HX_CHUNK_SIZE) {
			if ((rc = rd(arg, buf + got, HX_CHUNK_SIZE - got, &g)))
				goto fail;
			if (!g)
				break;
			got += g;
		}
		if (!got)
			break;
		size += got;
		if (size > s->blob_file_max) {
			hx_bl_count(s, "blob_refused");
			rc = HX_ELIMIT;
			goto fail;
		}
		uint8_t *nh = hx_grow(hashes, &cap, n + 1, HX_ID_LEN);
		if (!nh) {
			rc = HX_ENOMEM;
			goto fail;
		}
		hashes = nh;
		hx_bl_chunk_hash(hashes + n * HX_ID_LEN, buf, got);
		n++;
		if ((rc = hx_bl_write(fd, buf, got)))
			goto fail;
		if (got < HX_CHUNK_SIZE)
			break;
	}
	if (fsync(fd)) {
		rc = HX_EIO;
		goto fail;
	}
	close(fd);
	fd = -1;
	hx_blob_hash(hash, size, hashes);
	if (size_out)
		*size_out = size;
	if ((rc = hx_bl_whole_path(s, hash, to, sizeof to)))
		goto fail;
	char sub[3];
	snprintf(sub, sizeof sub, "%.2s", strrchr(to, '/') + 1);
	if ((rc = hx_bl_make_dir(s, sub)) || (rc = hx_bl_write_begin(s, &txn)))
		goto fail;
	rc = hx_bl_load(s, txn, hash, &b);
	int had_whole = !rc && b.state == HX_BLOB_WHOLE, had_partial = !rc && !had_whole;
	if (rc && rc != HX_ENOTFOUND)
		goto fail;
	/* Already here: the copy just hashed replaces the file (whatever became
	 * of the old one), new, so gc's grace covers this use, and marked. */
	if (!had_whole && !had_partial && (rc = hx_bl_limits(s, txn, size))) {
		if (rc == HX_ELIMIT) {
			hx_txn_abort(s, txn);
			txn = NULL;
			hx_bl_count(s, "blob_refused");
		}
		goto fail;
	}
	if (rename(tmp, to)) {
		rc = HX_EIO;
		goto fail;
	}
	tmp[0] = 0;
	/* every chunk of the file was hashed on its way in: marked checked */
	if ((rc = hx_bl_sync_dir(to)) || (rc = hx_bl_mark_put_path(s, txn, hash, to)) ||
	    (!had_whole &&
	     (rc = hx_bl_put_state(s, txn, hash, HX_BLOB_WHOLE, size, hx_now_us(), hashes, NULL))))
		goto fail;
	rc = hx_mdb_err(hx_txn_commit(s, txn));
	txn = NULL;
	if (!rc && had_partial) {
		char part[4096];
		if (!hx_bl_part_path(s, hash, part, sizeof part))
			unlink(part);
	}
fail:
	if (txn)
		hx_txn_abort(s, txn);
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlink(tmp);
	free(buf);
	free(hashes);
	return rc;
}

static int read_fd(void *arg, uint8_t *buf, size_t cap, size_t *got)
{
	int fd = *(int *)arg;
	for (;;) {
		ssize_t r = read(fd, buf, cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return HX_EIO;
		*got = (size_t)r;
		return HX_OK;
	}
}

struct mem_rd {
	const uint8_t *p;
	size_t left;
};

static int read_mem(void *arg, uint8_t *buf, size_t cap, size_t *got)
{
	struct mem_rd *m = arg;
	*got = m->left < cap ? m->left : cap;
	memcpy(buf, m->p, *got);
	m->p += *got;
	m->left -= *got;
	return HX_OK;
}

int hx_blob_add_fd(hx_store *s, int fd, uint8_t hash[HX_ID_LEN], uint64_t *size)
{
	return add(s, read_fd, &fd, hash, size);
}

int hx_blob_add_mem(hx_store *s, const void *data, size_t len, uint8_t hash[HX_ID_LEN])
{
	struct mem_rd m = { data, len };
	return add(s, read_mem, &m, hash, NULL);
}

int hx_blob_add_file(hx_store *s, const char *path, uint8_t hash[HX_ID_LEN], uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? HX_ENOTFOUND : HX_EIO;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return HX_EINVAL;
	}
	if ((uint64_t)st.st_size > s->blob_file_max) {
		close(fd);
		hx_bl_count(s, "blob_refused");
		return HX_ELIMIT;
	}
	int rc = hx_blob_add_fd(s, fd, hash, size);
	close(fd);
	return rc;
}

/* ---- whole blobs -------------------------------------------------------- */

int hx_blob_open(hx_store *s, const uint8_t hash[HX_ID_LEN], int *fd, uint64_t *size)
{
	int state, rc;
	char path[4096];
	struct stat st;

	*fd = -1;
	if ((rc = hx_blob_state(s, hash, &state, size, NULL)))
		return rc;
	if (state != HX_BLOB_WHOLE)
		return HX_ENOTFOUND;
	if ((rc = hx_bl_whole_path(s, hash, path, sizeof path)))
		return rc;
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? HX_ECORRUPT : HX_EIO;
	if (fstat(*fd, &st) || (uint64_t)st.st_size != *size) {
		close(*fd);
		*fd = -1;
		return HX_ECORRUPT;
	}
	return HX_OK;
}

int hx_blob_write_fd(hx_store *s, const uint8_t hash[HX_ID_LEN], int fd)
{
	uint8_t *hashes = NULL, *buf = NULL, got[HX_ID_LEN];
	uint32_t n;
	uint64_t size;
	int in = -1, rc;

	if ((rc = hx_blob_hashes(s, hash, &size, &hashes, &n)) ||
	    (rc = hx_blob_open(s, hash, &in, &size)))
		goto out;
	if (!(buf = malloc(HX_CHUNK_SIZE))) {
		rc = HX_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n && !rc; i++) {
		size_t len = hx_bl_chunk_len(size, i);
		if (hx_bl_pread(in, buf, len, (uint64_t)i * HX_CHUNK_SIZE)) {
			rc = HX_ECORRUPT;
			break;
		}
		hx_bl_chunk_hash(got, buf, len);
		if (sodium_memcmp(got, hashes + (size_t)i * HX_ID_LEN, HX_ID_LEN))
			rc = HX_ECORRUPT;
		else
			rc = hx_bl_write(fd, buf, len);
	}
out:
	if (in >= 0)
		close(in);
	free(buf);
	free(hashes);
	return rc;
}

int hx_blob_copy_out(hx_store *s, const uint8_t hash[HX_ID_LEN], const char *out)
{
	char tmp[4096];
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", out) >= sizeof tmp)
		return HX_ELIMIT;
	if ((fd = mkstemp(tmp)) < 0)
		return HX_EIO;
	rc = hx_blob_write_fd(s, hash, fd);
	if (!rc && (fchmod(fd, 0644) || fsync(fd)))
		rc = HX_EIO;
	close(fd);
	if (!rc && rename(tmp, out))
		rc = HX_EIO;
	if (rc)
		unlink(tmp);
	return rc;
}
