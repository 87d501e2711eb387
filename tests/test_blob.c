/*
 * test_blob.c: the blob store (store/blob.h): adding and reading back,
 * receiving chunk by chunk with a wrong hash list and a wrong chunk
 * refused, resume after reopening, batched writes present only once
 * committed (also across a SIGKILL), limits refused and counted, a child
 * killed with SIGKILL in the middle of adding and of receiving (no half
 * blob passes as whole, fsck stays clean), fsck finding a damaged file,
 * gc keeping referenced blobs, and the in-place upgrade from schema 1.
 * Trusting what was checked: a blob added or assembled from checked chunks
 * is served unhashed, also after the store is reopened; a file changed
 * behind the store's back (one byte flipped, size kept, mtime put back) is
 * hashed when served and its damaged chunk refused; the scrub turns it
 * into a partial blob without that chunk, which is received again and
 * finishes whole and marked; adding the file again replaces a damaged
 * copy; a missing file loses every chunk; a stopped scrub changes nothing;
 * drop removes the mark.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <lmdb.h>
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
		p[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
	return p;
}

/* The chunk hashes and blob hash of data, as a sender computes them. */
static uint8_t *hash_list(const uint8_t *data, size_t len, uint8_t hash[HX_ID_LEN])
{
	uint64_t n = hx_blob_chunks(len);
	uint8_t *h = malloc(n * HX_ID_LEN + 1);
	if (!h)
		abort();
	for (uint64_t i = 0; i < n; i++) {
		size_t off = i * HX_CHUNK_SIZE,
		       l = len - off < HX_CHUNK_SIZE ? len - off : HX_CHUNK_SIZE;
		crypto_generichash(h + i * HX_ID_LEN, HX_ID_LEN, data + off, l, NULL, 0);
	}
	hx_blob_hash(hash, len, h);
	return h;
}

static size_t clen(size_t len, uint32_t i)
{
	size_t off = (size_t)i * HX_CHUNK_SIZE;
	return len - off < HX_CHUNK_SIZE ? len - off : HX_CHUNK_SIZE;
}

static int same_file(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	uint8_t *b = malloc(len + 1);
	size_t got = fread(b, 1, len + 1, f);
	fclose(f);
	int ok = got == len && !memcmp(b, data, len);
	free(b);
	return ok;
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

/* The blob copied out to the file name in dir holds data; fsck is clean. */
static void check_copy(hx_store *s, const uint8_t *hash, const char *name, const uint8_t *data,
                       size_t len)
{
	char out[4200];
	snprintf(out, sizeof out, "%s/%s", dir, name);
	CHECK_RC(hx_blob_copy_out(s, hash, out), HX_OK);
	CHECK(same_file(out, data, len));
	CHECK(fsck(s) == 0);
}

static void test_add_read(hx_store *s)
{
	size_t len = 3 * HX_CHUNK_SIZE + 1234;
	uint8_t *data = pattern(len, 1), hash[HX_ID_LEN], want[HX_ID_LEN], buf[HX_CHUNK_SIZE];
	uint8_t *hl = hash_list(data, len, want);
	uint64_t size;
	uint32_t have;
	int state;
	size_t got;

	CHECK_RC(hx_blob_state(s, want, &state, NULL, NULL), HX_OK);
	CHECK(state == HX_BLOB_NONE);
	CHECK_RC(hx_blob_add_mem(s, data, len, hash), HX_OK);
	CHECK(!memcmp(hash, want, HX_ID_LEN));
	CHECK_RC(hx_blob_state(s, hash, &state, &size, &have), HX_OK);
	CHECK(state == HX_BLOB_WHOLE && size == len && have == 4);
	CHECK_RC(hx_blob_read_chunk(s, hash, 3, buf, &got), HX_OK);
	CHECK(got == 1234 && !memcmp(buf, data + 3 * HX_CHUNK_SIZE, 1234));
	CHECK_RC(hx_blob_read_chunk(s, hash, 4, buf, &got), HX_ENOTFOUND);
	/* adding it again is fine and changes nothing */
	CHECK_RC(hx_blob_add_mem(s, data, len, hash), HX_OK);
	char out[4200];
	snprintf(out, sizeof out, "%s/out.bin", dir);
	CHECK_RC(hx_blob_copy_out(s, hash, out), HX_OK);
	CHECK(same_file(out, data, len));
	/* adding from a file gives the same hash and size */
	uint8_t h2[HX_ID_LEN];
	CHECK_RC(hx_blob_add_file(s, out, h2, &size), HX_OK);
	CHECK(!memcmp(h2, hash, HX_ID_LEN) && size == len);
	/* empty file */
	CHECK_RC(hx_blob_add_mem(s, "", 0, h2), HX_OK);
	CHECK_RC(hx_blob_state(s, h2, &state, &size, NULL), HX_OK);
	CHECK(state == HX_BLOB_WHOLE && size == 0);
	CHECK_RC(hx_blob_copy_out(s, h2, out), HX_OK);
	CHECK(same_file(out, (const uint8_t *)"", 0));
	CHECK(fsck(s) == 0);
	free(hl);
	free(data);
}

static void test_receive(void)
{
	hx_store *s;
	size_t len = 5 * HX_CHUNK_SIZE + 77;
	uint8_t *data = pattern(len, 2), hash[HX_ID_LEN], buf[HX_CHUNK_SIZE];
	uint8_t *hl = hash_list(data, len, hash);
	uint32_t idx[8], have;
	size_t n, got;
	int state;

	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	/* a hash list that does not hash to the name */
	hl[0] ^= 1;
	CHECK_RC(hx_blob_begin(s, hash, len, hl), HX_EFORGED);
	hl[0] ^= 1;
	CHECK_RC(hx_blob_begin(s, hash, len + 1, hl), HX_EFORGED);
	CHECK_RC(hx_blob_write_chunk(s, hash, 0, data, HX_CHUNK_SIZE), HX_ENOTFOUND);
	CHECK_RC(hx_blob_begin(s, hash, len, hl), HX_OK);
	CHECK_RC(hx_blob_state(s, hash, &state, NULL, &have), HX_OK);
	CHECK(state == HX_BLOB_PARTIAL && have == 0);
	/* a wrong chunk: refused with its own code and counted */
	CHECK_RC(hx_blob_write_chunk(s, hash, 1, data, HX_CHUNK_SIZE), HX_EFORGED);
	CHECK_RC(hx_blob_write_chunk(s, hash, 5, data, 76), HX_EINVAL);
	CHECK_RC(hx_blob_write_chunk(s, hash, 6, data, 77), HX_EINVAL);
	hx_blob_stats st;
	CHECK_RC(hx_blob_stats_get(s, &st), HX_OK);
	CHECK(st.bad_chunks == 1 && st.partial == 1);
	CHECK_RC(hx_blob_write_chunk(s, hash, 0, data, HX_CHUNK_SIZE), HX_OK);
	CHECK_RC(hx_blob_write_chunk(s, hash, 0, data, HX_CHUNK_SIZE), HX_EEXIST);
	CHECK_RC(hx_blob_write_chunk(s, hash, 5, data + 5 * HX_CHUNK_SIZE, 77), HX_OK);
	CHECK_RC(hx_blob_read_chunk(s, hash, 5, buf, &got), HX_OK);
	CHECK(got == 77);
	CHECK_RC(hx_blob_read_chunk(s, hash, 1, buf, &got), HX_ENOTFOUND);
	CHECK_RC(hx_blob_finish(s, hash), HX_EBUSY);
	CHECK_RC(hx_blob_open(s, hash, &(int){ 0 }, &(uint64_t){ 0 }), HX_ENOTFOUND);
	hx_store_close(&s);

	/* resume: reopened, the finished chunks are kept */
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_begin(s, hash, len, hl), HX_OK);
	CHECK_RC(hx_blob_missing(s, hash, idx, 8, &n), HX_OK);
	CHECK(n == 4 && idx[0] == 1 && idx[3] == 4);
	CHECK(fsck(s) == 0);
	for (size_t i = 0; i < n; i++)
		CHECK_RC(hx_blob_write_chunk(s, hash, idx[i], data + (size_t)idx[i] * HX_CHUNK_SIZE,
		                             clen(len, idx[i])),
		         HX_OK);
	CHECK_RC(hx_blob_missing(s, hash, idx, 8, &n), HX_OK);
	CHECK(n == 0);
	CHECK_RC(hx_blob_finish(s, hash), HX_OK);
	CHECK_RC(hx_blob_finish(s, hash), HX_OK);
	CHECK_RC(hx_blob_state(s, hash, &state, NULL, &have), HX_OK);
	CHECK(state == HX_BLOB_WHOLE && have == 6);
	CHECK_RC(hx_blob_begin(s, hash, len, hl), HX_EEXIST);
	check_copy(s, hash, "out2.bin", data, len);
	hx_store_close(&s);
	free(hl);
	free(data);
}

static uint32_t have_now(const uint8_t *hash)
{
	hx_store *s;
	uint32_t have = UINT32_MAX;
	int state;
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_state(s, hash, &state, NULL, &have), HX_OK);
	CHECK(state == HX_BLOB_PARTIAL);
	hx_store_close(&s);
	return have;
}

/* Batched writes: a chunk written to a batch is present only once the
 * batch is committed. A child that commits two chunks and is killed with
 * SIGKILL after writing two more leaves exactly the two committed present
 * (their bytes on disk do not count), fsck clean; a batch freed without a
 * commit leaves nothing; a batch whose blob was dropped and begun again
 * meanwhile marks nothing in the new one. */
static void test_batch(void)
{
	hx_store *s;
	hx_blob_batch *b;
	size_t len = 6 * HX_CHUNK_SIZE;
	uint8_t *data = pattern(len, 5), hash[HX_ID_LEN], buf[HX_CHUNK_SIZE];
	uint8_t *hl = hash_list(data, len, hash);
	uint32_t idx[8];
	size_t n, got;

	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_begin(s, hash, len, hl), HX_OK);
	hx_store_close(&s);
	pid_t pid = fork();
	if (pid == 0) {
		hx_store *c;
		hx_blob_batch *cb;
		if (hx_store_open(&c, dir, 0) || hx_blob_batch_new(&cb))
			_exit(1);
		for (uint32_t i = 0; i < 4; i++) {
			if (hx_blob_batch_write(c, cb, hash, i, data + (size_t)i * HX_CHUNK_SIZE,
			                        HX_CHUNK_SIZE))
				_exit(1);
			if (i == 1 && hx_blob_batch_commit(c, cb))
				_exit(1);
		}
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(have_now(hash) == 2);

	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_missing(s, hash, idx, 8, &n), HX_OK);
	CHECK(n == 4 && idx[0] == 2 && idx[3] == 5);
	CHECK_RC(hx_blob_read_chunk(s, hash, 2, buf, &got), HX_ENOTFOUND);
	CHECK(fsck(s) == 0);
	/* written, not committed: absent, and gone with the batch */
	CHECK_RC(hx_blob_batch_new(&b), HX_OK);
	CHECK_RC(hx_blob_batch_write(s, b, hash, 2, data + 2 * HX_CHUNK_SIZE, HX_CHUNK_SIZE),
	         HX_OK);
	CHECK_RC(hx_blob_batch_write(s, b, hash, 2, data + 2 * HX_CHUNK_SIZE, HX_CHUNK_SIZE),
	         HX_EEXIST);
	CHECK_RC(hx_blob_batch_write(s, b, hash, 0, data, HX_CHUNK_SIZE), HX_EEXIST);
	CHECK_RC(hx_blob_batch_write(s, b, hash, 3, data, HX_CHUNK_SIZE), HX_EFORGED);
	CHECK(hx_blob_batch_pending(b) == 1);
	CHECK_RC(hx_blob_finish(s, hash), HX_EBUSY);
	hx_blob_batch_free(b);
	hx_store_close(&s);
	CHECK(have_now(hash) == 2);

	/* dropped and begun again between the write and the commit */
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_batch_new(&b), HX_OK);
	CHECK_RC(hx_blob_batch_write(s, b, hash, 2, data + 2 * HX_CHUNK_SIZE, HX_CHUNK_SIZE),
	         HX_OK);
	CHECK_RC(hx_blob_drop(s, hash), HX_OK);
	CHECK_RC(hx_blob_begin(s, hash, len, hl), HX_OK);
	CHECK_RC(hx_blob_batch_commit(s, b), HX_OK);
	CHECK(hx_blob_batch_pending(b) == 0);
	hx_store_close(&s);
	CHECK(have_now(hash) == 0);

	/* the rest in one batch, one commit */
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	for (uint32_t i = 0; i < 6; i++)
		CHECK_RC(hx_blob_batch_write(s, b, hash, i, data + (size_t)i * HX_CHUNK_SIZE,
		                             HX_CHUNK_SIZE),
		         HX_OK);
	CHECK(hx_blob_batch_pending(b) == 6);
	CHECK_RC(hx_blob_batch_commit(s, b), HX_OK);
	CHECK_RC(hx_blob_finish(s, hash), HX_OK);
	check_copy(s, hash, "out-batch.bin", data, len);
	hx_store_close(&s);
	hx_blob_batch_free(b);
	free(hl);
	free(data);
}

static void test_limits(void)
{
	hx_store *s;
	uint8_t *data = pattern(HX_CHUNK_SIZE * 2, 3), hash[HX_ID_LEN];
	hx_blob_stats before, after;

	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_stats_get(s, &before), HX_OK);
	hx_blob_set_limits(s, HX_CHUNK_SIZE, 0);
	CHECK_RC(hx_blob_add_mem(s, data, HX_CHUNK_SIZE * 2, hash), HX_ELIMIT);
	uint8_t *hl = hash_list(data, HX_CHUNK_SIZE * 2, hash);
	CHECK_RC(hx_blob_begin(s, hash, HX_CHUNK_SIZE * 2, hl), HX_ELIMIT);
	hx_blob_set_limits(s, HX_BLOB_FILE_MAX, before.bytes + HX_CHUNK_SIZE);
	CHECK_RC(hx_blob_add_mem(s, data, HX_CHUNK_SIZE * 2, hash), HX_ELIMIT);
	CHECK_RC(hx_blob_stats_get(s, &after), HX_OK);
	CHECK(after.refused == before.refused + 3);
	CHECK(after.whole == before.whole && after.partial == before.partial);
	int state;
	CHECK_RC(hx_blob_state(s, hash, &state, NULL, NULL), HX_OK);
	CHECK(state == HX_BLOB_NONE);
	hx_store_close(&s);
	free(hl);
	free(data);
}

static void wait_until(int (*cond)(void *), void *arg)
{
	for (int i = 0; i < 30000 && !cond(arg); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
}

static int tmp_has_bytes(void *arg)
{
	(void)arg;
	char p[4200];
	snprintf(p, sizeof p, "%s/blobs/tmp", dir);
	DIR *d = opendir(p);
	struct dirent *de;
	int found = 0;
	while (d && (de = readdir(d))) {
		struct stat st;
		char f[4600];
		snprintf(f, sizeof f, "%s/%s", p, de->d_name);
		if (de->d_name[0] != '.' && !stat(f, &st) && st.st_size > 0)
			found = 1;
	}
	if (d)
		closedir(d);
	return found;
}

struct partial {
	const uint8_t *hash;
};

static int some_chunks(void *arg)
{
	struct partial *p = arg;
	hx_store *s;
	uint32_t have = 0;
	int state;
	if (hx_store_open(&s, dir, HX_STORE_RDONLY))
		return 0;
	if (hx_blob_state(s, p->hash, &state, NULL, &have))
		have = 0;
	hx_store_close(&s);
	return have >= 3;
}

/* Crash safety: a child adding a blob from a pipe that never ends and a
 * child receiving chunk after chunk are killed; what is left is never a
 * whole blob, fsck is clean, gc removes the debris, the receive resumes. */
static void test_crash(void)
{
	hx_store *s;
	int fds[2];
	size_t len = 40 * HX_CHUNK_SIZE;
	uint8_t *data = pattern(len, 4), hash[HX_ID_LEN];
	uint8_t *hl = hash_list(data, len, hash);
	hx_blob_stats st0, st1;

	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_stats_get(s, &st0), HX_OK);
	hx_store_close(&s);

	if (pipe(fds))
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		hx_store *c;
		uint8_t h[HX_ID_LEN];
		if (hx_store_open(&c, dir, 0))
			_exit(1);
		(void)!hx_blob_add_fd(c, fds[0], h, NULL);
		_exit(0);
	}
	close(fds[0]);
	/* feed it forever from another child so the parent can watch */
	pid_t feeder = fork();
	if (feeder == 0) {
		for (;;)
			if (write(fds[1], data, HX_CHUNK_SIZE) < 0)
				_exit(0);
	}
	close(fds[1]);
	wait_until(tmp_has_bytes, NULL);
	CHECK(tmp_has_bytes(NULL));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	kill(feeder, SIGKILL);
	waitpid(feeder, NULL, 0);

	/* the receiving child, killed after some chunks */
	pid = fork();
	if (pid == 0) {
		hx_store *c;
		if (hx_store_open(&c, dir, 0) || hx_blob_begin(c, hash, len, hl))
			_exit(1);
		/* every chunk but the last, paced so the kill lands mid-way */
		for (uint32_t i = 0; i < 39; i++) {
			(void)!hx_blob_write_chunk(c, hash, i, data + (size_t)i * HX_CHUNK_SIZE,
			                           HX_CHUNK_SIZE);
			nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
		}
		pause();
		_exit(0);
	}
	struct partial p = { hash };
	wait_until(some_chunks, &p);
	CHECK(some_chunks(&p));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_stats_get(s, &st1), HX_OK);
	CHECK(st1.whole == st0.whole);
	int state;
	uint32_t have;
	CHECK_RC(hx_blob_state(s, hash, &state, NULL, &have), HX_OK);
	CHECK(state == HX_BLOB_PARTIAL && have >= 3 && have < 40);
	CHECK_RC(hx_blob_finish(s, hash), HX_EBUSY);
	CHECK(fsck(s) == 0);
	/* resume: only the missing chunks are written */
	uint32_t idx[40];
	size_t n;
	CHECK_RC(hx_blob_missing(s, hash, idx, 40, &n), HX_OK);
	CHECK(n == 40 - have);
	for (size_t i = 0; i < n; i++)
		CHECK_RC(hx_blob_write_chunk(s, hash, idx[i], data + (size_t)idx[i] * HX_CHUNK_SIZE,
		                             HX_CHUNK_SIZE),
		         HX_OK);
	CHECK_RC(hx_blob_finish(s, hash), HX_OK);
	CHECK(fsck(s) == 0);
	/* gc with no grace: nothing references these blobs; all go, and the
	 * killed add's temp file too */
	uint64_t removed, bytes;
	CHECK_RC(hx_blob_gc(s, 0, &removed, &bytes), HX_OK);
	CHECK(removed >= 1 && bytes >= len);
	CHECK(!tmp_has_bytes(NULL));
	CHECK_RC(hx_blob_stats_get(s, &st1), HX_OK);
	CHECK(st1.whole == 0 && st1.partial == 0 && st1.bytes == 0);
	hx_store_close(&s);
	free(hl);
	free(data);
}

/* fsck finds a damaged blob file; gc keeps a blob an entry references and
 * (with the default grace) a young unreferenced one. */
static void test_fsck_gc(void)
{
	hx_store *s;
	uint8_t sk[HX_SECRET_LEN], pk[HX_KEY_LEN], keep[HX_ID_LEN], lose[HX_ID_LEN];
	uint8_t *a = pattern(1000, 5), *b = pattern(2000, 6);
	crypto_sign_keypair(pk, sk);

	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_blob_add_mem(s, a, 1000, keep), HX_OK);
	CHECK_RC(hx_blob_add_mem(s, b, 2000, lose), HX_OK);
	hx_attach at = { .name = "a.bin", .size = 1000, .type = "application/octet-stream" };
	memcpy(at.hash, keep, HX_ID_LEN);
	hx_entry e = { .path = "t/a",
		       .timestamp = 1,
		       .kind = "toolkit",
		       .title = "A",
		       .body = "",
		       .lang = "en",
		       .attach = &at,
		       .nattach = 1 };
	uint8_t *raw;
	size_t rawlen;
	CHECK_RC(hx_entry_sign(&e, sk, &raw, &rawlen), HX_OK);
	hx_put put = { .raw = raw, .rawlen = rawlen, .entry = &e };
	CHECK_RC(hx_store_put_batch(s, &put, 1, HX_PUT_NO_WAKE, NULL), HX_OK);
	uint64_t removed;
	CHECK_RC(hx_blob_gc(s, HX_BLOB_GC_GRACE_US, &removed, NULL), HX_OK);
	CHECK(removed == 0);
	CHECK_RC(hx_blob_gc(s, 0, &removed, NULL), HX_OK);
	CHECK(removed == 1);
	int state;
	CHECK_RC(hx_blob_state(s, keep, &state, NULL, NULL), HX_OK);
	CHECK(state == HX_BLOB_WHOLE);
	CHECK_RC(hx_blob_state(s, lose, &state, NULL, NULL), HX_OK);
	CHECK(state == HX_BLOB_NONE);
	CHECK(fsck(s) == 0);

	/* damage the kept blob's file */
	char hex[2 * HX_ID_LEN + 1], p[4300];
	hx_hex(hex, keep, HX_ID_LEN);
	snprintf(p, sizeof p, "%s/blobs/%.2s/%s", dir, hex, hex);
	int fd = open(p, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "X", 1, 10) == 1);
	close(fd);
	CHECK(fsck(s) == 1);
	char out[4300];
	snprintf(out, sizeof out, "%s/out3.bin", dir);
	CHECK_RC(hx_blob_copy_out(s, keep, out), HX_ECORRUPT);
	CHECK(access(out, F_OK) != 0);
	unlink(p);
	CHECK(fsck(s) == 1);
	CHECK_RC(hx_blob_drop(s, keep), HX_OK);
	CHECK(fsck(s) == 0);
	hx_store_close(&s);
	free(raw);
	free(a);
	free(b);
}

/* A schema 1 store (no blobs table) opens read-only without blobs and is
 * upgraded in place by a writable open. */
static void test_upgrade(void)
{
	char sub[4200];
	hx_store *s;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	snprintf(sub, sizeof sub, "%s/old", dir);
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_CREATE), HX_OK);
	hx_store_close(&s);
	/* make it schema 1: drop the blobs table, write version 1 */
	CHECK(!mdb_env_create(&env) && !mdb_env_set_maxdbs(env, 32) &&
	      !mdb_env_set_mapsize(env, (size_t)16 << 30) && !mdb_env_open(env, sub, 0, 0600));
	CHECK(!mdb_txn_begin(env, NULL, 0, &txn));
	CHECK(!mdb_dbi_open(txn, "blobs", 0, &dbi) && !mdb_drop(txn, dbi, 1));
	CHECK(!mdb_dbi_open(txn, "meta", 0, &dbi));
	MDB_val k = { 6, "schema" }, v = { 4, (void *)"\0\0\0\1" };
	CHECK(!mdb_put(txn, dbi, &k, &v, 0) && !mdb_txn_commit(txn));
	mdb_env_close(env);

	int state;
	uint8_t h[HX_ID_LEN] = { 1 };
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_RDONLY), HX_OK);
	CHECK_RC(hx_blob_state(s, h, &state, NULL, NULL), HX_OK);
	CHECK(state == HX_BLOB_NONE);
	CHECK_RC(hx_blob_add_mem(s, "x", 1, h), HX_EPERM);
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_OK);
	CHECK_RC(hx_blob_add_mem(s, "x", 1, h), HX_OK);
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_RDONLY), HX_OK);
	CHECK_RC(hx_blob_state(s, h, &state, NULL, NULL), HX_OK);
	CHECK(state == HX_BLOB_WHOLE);
	hx_store_close(&s);
}

static void whole_path(char *p, size_t cap, const uint8_t *hash)
{
	char hex[2 * HX_ID_LEN + 1];
	hx_hex(hex, hash, HX_ID_LEN);
	snprintf(p, cap, "%s/scrub/blobs/%.2s/%s", dir, hex, hex);
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

/* Trusting what was checked (the checked mark) and the scrub. */
static void test_marks_scrub(void)
{
	char sub[4200];
	hx_store *s;
	uint8_t hash[HX_ID_LEN], got[HX_ID_LEN], buf[HX_CHUNK_SIZE];
	size_t len = 4 * HX_CHUNK_SIZE + 777, n = hx_blob_chunks(len), glen;
	uint8_t *data = pattern(len, 3);
	int state, hashed;
	uint64_t at;
	uint32_t bad, have;

	snprintf(sub, sizeof sub, "%s/scrub", dir);
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_blob_add_mem(s, data, len, hash), HX_OK);

	/* added = hashed on the way in: served unhashed, also after a reopen */
	CHECK(serve_all(s, hash, data, len) == 0);
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_OK);
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
}

int main(void)
{
	char tmpl[] = "/tmp/hx-test-blob-XXXXXX";
	hx_store *s;

	if (sodium_init() < 0 || !(dir = mkdtemp(tmpl)))
		return 1;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	test_add_read(s);
	hx_store_close(&s);
	test_receive();
	test_batch();
	test_limits();
	test_crash();
	test_fsck_gc();
	test_upgrade();
	test_marks_scrub();
	rmtree(dir);
	return check_done();
}
