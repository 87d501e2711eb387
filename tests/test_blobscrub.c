/*
 * test_blobscrub.c: trusting what was checked (store/blob.h): a blob added
 * or assembled from checked chunks is served unhashed, also after the store
 * is reopened; a file changed behind the store's back (one byte flipped,
 * size kept, mtime put back) is hashed when served and its damaged chunk
 * refused; the scrub turns it into a partial blob without that chunk,
 * which is received again and finishes whole and marked; adding the file
 * again replaces a damaged copy; a missing file loses every chunk; a
 * stopped scrub changes nothing; drop removes the mark.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "store/blob.h"
#include "tests/check.h"
#include "tests/rmtree.h"

static char *dir;

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len + 1);
	if (!p)
		abort();
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 2654435761u + seed) >> 11);
	return p;
}

static void report(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "  fsck: %s\n", line);
}

static uint64_t fsck(hx_store *s)
{
	uint64_t p = 0;
	CHECK_RC(hx_blob_fsck(s, report, NULL, &p), HX_OK);
	return p;
}

static void whole_path(char *p, size_t cap, const uint8_t *hash)
{
	char hex[2 * HX_ID_LEN + 1];
	hx_hex(hex, hash, HX_ID_LEN);
	snprintf(p, cap, "%s/blobs/%.2s/%s", dir, hex, hex);
}

/* Reads every chunk for serving: how many were hashed; each must read. */
static unsigned serve_all(hx_store *s, const uint8_t *hash, const uint8_t *data, size_t len)
{
	static uint8_t buf[HX_CHUNK_SIZE];
	unsigned hashed_n = 0;
	for (uint32_t i = 0; i < hx_blob_chunks(len); i++) {
		size_t got;
		int hashed = -1;
		CHECK_RC(hx_blob_read_chunk_serve(s, hash, i, buf, &got, &hashed), HX_OK);
		CHECK(hashed == 0 || hashed == 1);
		CHECK(got && !memcmp(buf, data + (size_t)i * HX_CHUNK_SIZE, got));
		hashed_n += (unsigned)hashed;
	}
	return hashed_n;
}

/* Flips one byte at off, keeping the size and putting the mtime back. */
static void flip(const uint8_t *hash, off_t off)
{
	char p[4300];
	struct stat st;
	uint8_t c;
	whole_path(p, sizeof p, hash);
	CHECK(!stat(p, &st));
	int fd = open(p, O_RDWR);
	CHECK(fd >= 0 && pread(fd, &c, 1, off) == 1);
	c ^= 0x40;
	CHECK(pwrite(fd, &c, 1, off) == 1);
	close(fd);
	struct timespec t[2] = { st.st_atim, st.st_mtim };
	CHECK(!utimensat(AT_FDCWD, p, t, 0));
	struct stat now;
	CHECK(!stat(p, &now) && now.st_size == st.st_size &&
	      now.st_mtim.tv_sec == st.st_mtim.tv_sec && now.st_mtim.tv_nsec == st.st_mtim.tv_nsec);
}

static int stop_now(void *arg, size_t len)
{
	(void)len;
	return ++*(int *)arg >= 2;
}

static int count_pace(void *arg, size_t len)
{
	*(size_t *)arg += len;
	return 0;
}

int main(void)
{
	char tmpl[] = "/tmp/hx-test-blobscrub-XXXXXX";
	hx_store *s;
	uint8_t hash[HX_ID_LEN], got[HX_ID_LEN], buf[HX_CHUNK_SIZE];
	size_t len = 4 * HX_CHUNK_SIZE + 777, n = hx_blob_chunks(len), glen;
	uint8_t *data = pattern(len, 3);
	int state, hashed;
	uint64_t at;
	uint32_t bad, have;

	if (sodium_init() < 0 || !(dir = mkdtemp(tmpl)))
		return 1;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_blob_add_mem(s, data, len, hash), HX_OK);

	/* added = hashed on the way in: served unhashed, also after a reopen */
	CHECK(serve_all(s, hash, data, len) == 0);
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK(serve_all(s, hash, data, len) == 0);
	CHECK_RC(hx_blob_scrub_next(s, got, &at), HX_OK);
	CHECK(!memcmp(got, hash, HX_ID_LEN) && at > 0);

	/* one byte of chunk 2 flipped behind the store's back, mtime put back:
	 * the stat (ctime) shows it, so every chunk is hashed and chunk 2 is
	 * refused; fsck reports it */
	flip(hash, 2 * HX_CHUNK_SIZE + 5);
	CHECK_RC(hx_blob_read_chunk_serve(s, hash, 0, buf, &glen, &hashed), HX_OK);
	CHECK(hashed == 1);
	CHECK_RC(hx_blob_read_chunk_serve(s, hash, 2, buf, &glen, &hashed), HX_ECORRUPT);
	CHECK(hashed == 1);
	CHECK(fsck(s) == 1);
	CHECK_RC(hx_blob_scrub_next(s, got, &at), HX_OK);
	CHECK(!memcmp(got, hash, HX_ID_LEN) && at == 0); /* changed: due first */

	/* a scrub stopped part-way changes nothing */
	int calls = 0;
	CHECK_RC(hx_blob_scrub(s, hash, stop_now, &calls, &bad), HX_EBUSY);
	CHECK_RC(hx_blob_state(s, hash, &state, NULL, NULL), HX_OK);
	CHECK(state == HX_BLOB_WHOLE);

	/* the scrub: partial without chunk 2, which is no longer served */
	size_t paced = 0;
	CHECK_RC(hx_blob_scrub(s, hash, count_pace, &paced, &bad), HX_OK);
	CHECK(bad == 1 && paced == len);
	CHECK_RC(hx_blob_state(s, hash, &state, NULL, &have), HX_OK);
	CHECK(state == HX_BLOB_PARTIAL && have == n - 1);
	uint32_t miss[8];
	size_t nmiss;
	CHECK_RC(hx_blob_missing(s, hash, miss, 8, &nmiss), HX_OK);
	CHECK(nmiss == 1 && miss[0] == 2);
	CHECK_RC(hx_blob_read_chunk_serve(s, hash, 2, buf, &glen, &hashed), HX_ENOTFOUND);
	CHECK_RC(hx_blob_read_chunk_serve(s, hash, 3, buf, &glen, &hashed), HX_OK);
	CHECK(hashed == 1 && !memcmp(buf, data + 3 * HX_CHUNK_SIZE, glen));
	char p[4300];
	whole_path(p, sizeof p, hash);
	CHECK(access(p, F_OK) != 0);
	CHECK(fsck(s) == 0);
	CHECK_RC(hx_blob_scrub_next(s, got, &at), HX_ENOTFOUND); /* no whole blob */

	/* received again from a peer: whole and marked, served unhashed */
	CHECK_RC(hx_blob_write_chunk(s, hash, 2, data + 2 * HX_CHUNK_SIZE, HX_CHUNK_SIZE), HX_OK);
	CHECK_RC(hx_blob_finish(s, hash), HX_OK);
	CHECK(serve_all(s, hash, data, len) == 0);
	CHECK(fsck(s) == 0);

	/* a good scrub renews the mark */
	uint64_t before;
	CHECK_RC(hx_blob_scrub_next(s, got, &before), HX_OK);
	usleep(2000);
	CHECK_RC(hx_blob_scrub(s, hash, NULL, NULL, &bad), HX_OK);
	CHECK(bad == 0);
	CHECK_RC(hx_blob_scrub_next(s, got, &at), HX_OK);
	CHECK(at > before);

	/* damage, then the same file added again: the checked copy replaces it */
	flip(hash, 7);
	CHECK_RC(hx_blob_read_chunk_serve(s, hash, 0, buf, &glen, &hashed), HX_ECORRUPT);
	CHECK(hashed == 1);
	uint8_t again[HX_ID_LEN];
	CHECK_RC(hx_blob_add_mem(s, data, len, again), HX_OK);
	CHECK(!memcmp(again, hash, HX_ID_LEN));
	CHECK(serve_all(s, hash, data, len) == 0);
	CHECK(fsck(s) == 0);

	/* the file gone: every chunk is missing after the scrub */
	CHECK(!unlink(p));
	CHECK_RC(hx_blob_scrub(s, hash, NULL, NULL, &bad), HX_OK);
	CHECK(bad == n);
	CHECK_RC(hx_blob_state(s, hash, &state, NULL, &have), HX_OK);
	CHECK(state == HX_BLOB_PARTIAL && have == 0);
	CHECK(fsck(s) == 0);

	/* drop takes the mark with it */
	CHECK_RC(hx_blob_add_mem(s, data, len, hash), HX_OK);
	char key[100], hex[2 * HX_ID_LEN + 1];
	void *v;
	size_t vlen;
	snprintf(key, sizeof key, "blob-checked/%s", hx_hex(hex, hash, HX_ID_LEN));
	CHECK_RC(hx_store_kv_get(s, key, &v, &vlen), HX_OK);
	CHECK(vlen == 41);
	free(v);
	CHECK_RC(hx_blob_drop(s, hash), HX_OK);
	CHECK_RC(hx_store_kv_get(s, key, &v, &vlen), HX_ENOTFOUND);

	hx_store_close(&s);
	free(data);
	rmtree(dir);
	return check_done();
}
