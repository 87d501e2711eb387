/*
 * blobio.c: a stand-in blob store for the node's blob replication (see
 * blobio.h), until branch `blob`'s store/blob.c is merged. Files next to
 * the store, in HOME/store/blobs/: HEX (a whole blob, only ever made by a
 * rename, so a crash leaves no half blob under that name), and while one is
 * received HEX.part (chunks at their offsets), HEX.list (u64 BE size, then
 * the chunk hashes) and HEX.have (the bitmap of chunks kept; a chunk is
 * marked after it was written).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "node/blobio.h"

/* HOME/store/blobs/HEX + ext (the folder made when missing). */
static int path(hx_store *s, const uint8_t *h, const char *ext, char *out, size_t len)
{
	const char *w = hx_store_wake_path(s); /* HOME/store/node.sock */
	const char *slash = w ? strrchr(w, '/') : NULL;
	char hex[2 * HX_ID_LEN + 1];
	if (!slash)
		return HX_EINVAL;
	int n = snprintf(out, len, "%.*s/blobs", (int)(slash - w), w);
	if (n < 0 || (size_t)n >= len || (mkdir(out, 0700) && errno != EEXIST))
		return HX_EIO;
	if (!h)
		return HX_OK;
	n = snprintf(out, len, "%.*s/blobs/%s%s", (int)(slash - w), w, hx_hex(hex, h, HX_ID_LEN),
	             ext);
	return n < 0 || (size_t)n >= len ? HX_EINVAL : HX_OK;
}

static int read_all(const char *p, uint8_t **out, size_t *len)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	struct stat st;
	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? HX_ENOTFOUND : HX_EIO;
	if (fstat(fd, &st) || !(*out = malloc((size_t)st.st_size + 1)) ||
	    read(fd, *out, (size_t)st.st_size) != st.st_size) {
		close(fd);
		free(*out);
		*out = NULL;
		return HX_EIO;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return HX_OK;
}

static int write_at(const char *p, const void *d, size_t len, off_t off, int trunc)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | (trunc ? O_TRUNC : 0), 0600);
	if (fd < 0)
		return HX_EIO;
	int ok = pwrite(fd, d, len, off) == (ssize_t)len;
	return close(fd) || !ok ? HX_EIO : HX_OK;
}

int hx_bio_has(hx_store *s, const uint8_t h[HX_ID_LEN])
{
	char p[4200];
	struct stat st;
	if (path(s, h, "", p, sizeof p))
		return HX_EIO;
	return stat(p, &st) ? HX_ENOTFOUND : HX_OK;
}

int hx_bio_partial(hx_store *s, const uint8_t h[HX_ID_LEN], uint8_t **hashes)
{
	uint64_t size;
	*hashes = NULL;
	if (hx_bio_has(s, h) == HX_OK)
		return HX_ENOTFOUND; /* whole, not being received */
	return hx_bio_list(s, h, &size, hashes, NULL) ? HX_ENOTFOUND : HX_OK;
}

int hx_bio_recv_begin(hx_store *s, const uint8_t h[HX_ID_LEN], uint64_t size,
                      const uint8_t *hashes)
{
	char p[4200];
	struct stat st;
	uint64_t n = hx_blob_chunks(size);
	int rc;
	if ((rc = path(s, h, ".list", p, sizeof p)))
		return rc;
	if (!stat(p, &st))
		return HX_OK; /* resumed */
	uint8_t *bm = calloc((size_t)(n + 7) / 8 + 1, 1), *l = malloc(8 + (size_t)n * HX_ID_LEN);
	if (!bm || !l) {
		free(bm);
		free(l);
		return HX_ENOMEM;
	}
	hx_be64_put(l, size);
	memcpy(l + 8, hashes, (size_t)n * HX_ID_LEN);
	if (!(rc = path(s, h, ".have", p, sizeof p)) &&
	    !(rc = write_at(p, bm, (size_t)(n + 7) / 8, 0, 1)) &&
	    !(rc = path(s, h, ".part", p, sizeof p)) && !(rc = write_at(p, "", 0, 0, 1)) &&
	    !(rc = path(s, h, ".list", p, sizeof p)))
		rc = write_at(p, l, 8 + (size_t)n * HX_ID_LEN, 0, 1); /* last: the marker */
	free(bm);
	free(l);
	return rc;
}

int hx_bio_held(hx_store *s, const uint8_t h[HX_ID_LEN], uint8_t **bitmap)
{
	char p[4200];
	size_t len;
	int rc = path(s, h, ".have", p, sizeof p);
	return rc ? rc : read_all(p, bitmap, &len);
}

int hx_bio_recv_chunk(hx_store *s, const uint8_t h[HX_ID_LEN], uint32_t i, const uint8_t *d,
                      size_t len)
{
	char p[4200];
	uint8_t byte;
	int rc;
	if ((rc = path(s, h, ".part", p, sizeof p)) ||
	    (rc = write_at(p, d, len, (off_t)i * HX_CHUNK_SIZE, 0)) ||
	    (rc = path(s, h, ".have", p, sizeof p)))
		return rc;
	int fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return HX_EIO;
	int ok = pread(fd, &byte, 1, i / 8) == 1;
	byte |= (uint8_t)(1u << (i % 8));
	ok = ok && pwrite(fd, &byte, 1, i / 8) == 1;
	return close(fd) || !ok ? HX_EIO : HX_OK;
}

/* The chunk hashes of size bytes at d. */
static uint8_t *chunk_hashes(const uint8_t *d, uint64_t size)
{
	uint64_t n = hx_blob_chunks(size);
	uint8_t *hs = malloc((size_t)n * HX_ID_LEN + 1);
	for (uint64_t i = 0; hs && i < n; i++) {
		uint64_t off = i * HX_CHUNK_SIZE;
		crypto_generichash(hs + i * HX_ID_LEN, HX_ID_LEN, d + off,
		                   size - off < HX_CHUNK_SIZE ? size - off : HX_CHUNK_SIZE, NULL, 0);
	}
	return hs;
}

int hx_bio_recv_finish(hx_store *s, const uint8_t h[HX_ID_LEN])
{
	char p[4200], q[4200];
	uint8_t *d, *hs, sum[HX_ID_LEN];
	size_t len;
	int rc;
	if ((rc = path(s, h, ".part", p, sizeof p)) || (rc = read_all(p, &d, &len)))
		return rc;
	hs = chunk_hashes(d, len);
	if (hs)
		hx_blob_hash(sum, len, hs);
	free(d);
	free(hs);
	if (!hs)
		return HX_ENOMEM;
	if (memcmp(sum, h, HX_ID_LEN))
		return HX_ECORRUPT;
	if (path(s, h, "", q, sizeof q) || rename(p, q))
		return HX_EIO;
	if (!path(s, h, ".have", p, sizeof p))
		unlink(p);
	if (!path(s, h, ".list", p, sizeof p))
		unlink(p);
	return HX_OK;
}

int hx_bio_list(hx_store *s, const uint8_t h[HX_ID_LEN], uint64_t *size, uint8_t **hashes,
                uint8_t **held)
{
	char p[4200];
	uint8_t *d;
	size_t len;
	int rc;
	*hashes = NULL;
	if (held)
		*held = NULL;
	if (hx_bio_has(s, h) == HX_OK) {
		if ((rc = path(s, h, "", p, sizeof p)) || (rc = read_all(p, &d, &len)))
			return rc;
		*size = len;
		*hashes = chunk_hashes(d, len);
		free(d);
		return *hashes ? HX_OK : HX_ENOMEM;
	}
	if ((rc = path(s, h, ".list", p, sizeof p)) || (rc = read_all(p, &d, &len)))
		return rc;
	if (len < 8 || len != 8 + hx_blob_chunks(hx_be64_get(d)) * HX_ID_LEN) {
		free(d);
		return HX_ECORRUPT;
	}
	*size = hx_be64_get(d);
	memmove(d, d + 8, len - 8);
	*hashes = d;
	if (held && (rc = hx_bio_held(s, h, held))) {
		free(*hashes);
		*hashes = NULL;
		return rc;
	}
	return HX_OK;
}

int hx_bio_read_chunk(hx_store *s, const uint8_t h[HX_ID_LEN], uint32_t i, uint8_t *buf,
                      size_t *len)
{
	char p[4200];
	int whole = hx_bio_has(s, h) == HX_OK;
	if (!whole) { /* a partial blob serves the chunks it has */
		uint8_t *bm;
		if (hx_bio_held(s, h, &bm))
			return HX_ENOTFOUND;
		int have = bm[i / 8] >> (i % 8) & 1;
		free(bm);
		if (!have)
			return HX_ENOTFOUND;
	}
	if (path(s, h, whole ? "" : ".part", p, sizeof p))
		return HX_EIO;
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return HX_ENOTFOUND;
	ssize_t r = pread(fd, buf, HX_CHUNK_SIZE, (off_t)i * HX_CHUNK_SIZE);
	close(fd);
	if (r <= 0)
		return HX_ENOTFOUND;
	*len = (size_t)r;
	return HX_OK;
}

int hx_bio_space_used(hx_store *s, uint64_t *used)
{
	char p[4200], f[4500];
	struct dirent *e;
	struct stat st;
	*used = 0;
	if (path(s, NULL, "", p, sizeof p))
		return HX_EIO;
	DIR *d = opendir(p);
	if (!d)
		return HX_EIO;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && snprintf(f, sizeof f, "%s/%s", p, e->d_name) > 0 &&
		    !stat(f, &st))
			*used += (uint64_t)st.st_size;
	closedir(d);
	return HX_OK;
}

int hx_bio_put_file(hx_store *s, const char *file, uint8_t hash[HX_ID_LEN], uint64_t *size)
{
	char p[4200];
	uint8_t *d;
	size_t len;
	int rc = read_all(file, &d, &len);
	if (rc)
		return rc;
	uint8_t *hs = chunk_hashes(d, len);
	if (!hs) {
		free(d);
		return HX_ENOMEM;
	}
	hx_blob_hash(hash, len, hs);
	free(hs);
	*size = len;
	char tmp[4300];
	if (!(rc = path(s, hash, "", p, sizeof p))) {
		snprintf(tmp, sizeof tmp, "%s.new", p);
		rc = write_at(tmp, d, len, 0, 1);
		if (!rc && rename(tmp, p))
			rc = HX_EIO;
	}
	free(d);
	return rc;
}
