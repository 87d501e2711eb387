/*
 * blob.c (bench_blob): where attached files should live, measured:
 *   - folder: hx_blob_add_mem (copy into blobs/tmp, hash every chunk,
 *     fsync, rename into blobs/ab/..., one LMDB commit for its state) and
 *     reading it back whole with every chunk checked (hx_blob_write_fd);
 *   - lmdb: the same file as 256 KiB chunk values in an LMDB table of the
 *     same environment kind, one synced commit, hashed the same way, and
 *     read back with every chunk checked;
 * against the anchor: write() + fsync() of the same bytes to a plain file
 * and reading it back. Also the size of data.mdb after the LMDB variant
 * stored and then deleted the file (LMDB never gives pages back to the file
 * system). Prints MiB/s and ratios to the anchor; never fails on speed.
 *
 *   bench_blob [MiB [ROUNDS]]      (defaults 64 MiB, 3 rounds, best kept)
 */
#include <fcntl.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store/blob.h"
#include "tests/rmtree.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bench_blob: %s failed\n", what);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 64, len = mib << 20;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	char tmpl[] = "/tmp/hx-bench-blob-XXXXXX", p[4200];
	uint8_t *data = malloc(len), *back = malloc(len), h[32];
	double best[3][2] = { { 1e9, 1e9 }, { 1e9, 1e9 }, { 1e9, 1e9 } };
	struct stat st;
	off_t mdb_after = 0;

	must(sodium_init() >= 0 && data && back && mkdtemp(tmpl), "setup");
	randombytes_buf(data, len);
	for (int r = 0; r < rounds; r++) {
		/* anchor: a plain file */
		snprintf(p, sizeof p, "%s/plain", tmpl);
		double t0 = now();
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		must(fd >= 0 && write(fd, data, len) == (ssize_t)len && !fsync(fd), "plain write");
		close(fd);
		double t1 = now();
		fd = open(p, O_RDONLY);
		must(fd >= 0 && read(fd, back, len) == (ssize_t)len, "plain read");
		close(fd);
		double t2 = now();
		unlink(p);
		best[0][0] = t1 - t0 < best[0][0] ? t1 - t0 : best[0][0];
		best[0][1] = t2 - t1 < best[0][1] ? t2 - t1 : best[0][1];

		/* the blob folder */
		hx_store *s;
		snprintf(p, sizeof p, "%s/store%d", tmpl, r);
		must(!hx_store_open(&s, p, HX_STORE_CREATE), "store");
		t0 = now();
		must(!hx_blob_add_mem(s, data, len, h), "add");
		t1 = now();
		snprintf(p, sizeof p, "%s/out", tmpl);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		must(fd >= 0 && !hx_blob_write_fd(s, h, fd), "read back");
		close(fd);
		t2 = now();
		unlink(p);
		hx_store_close(&s);
		best[1][0] = t1 - t0 < best[1][0] ? t1 - t0 : best[1][0];
		best[1][1] = t2 - t1 < best[1][1] ? t2 - t1 : best[1][1];

		/* LMDB values */
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		snprintf(p, sizeof p, "%s/lmdb%d", tmpl, r);
		mkdir(p, 0700);
		must(!mdb_env_create(&env) && !mdb_env_set_mapsize(env, (size_t)16 << 30) &&
		             !mdb_env_set_maxdbs(env, 4) && !mdb_env_open(env, p, 0, 0600),
		     "lmdb open");
		t0 = now();
		must(!mdb_txn_begin(env, NULL, 0, &txn) &&
		             !mdb_dbi_open(txn, "c", MDB_CREATE, &dbi),
		     "lmdb txn");
		for (size_t off = 0, i = 0; off < len; off += HX_CHUNK_SIZE, i++) {
			size_t n = len - off < HX_CHUNK_SIZE ? len - off : HX_CHUNK_SIZE;
			uint8_t key[40];
			crypto_generichash(h, 32, data + off, n, NULL, 0);
			memcpy(key, h, 32);
			hx_be64_put(key + 32, i);
			MDB_val k = { 40, key }, v = { n, data + off };
			must(!mdb_put(txn, dbi, &k, &v, 0), "lmdb put");
		}
		must(!mdb_txn_commit(txn), "lmdb commit");
		t1 = now();
		must(!mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "lmdb read");
		MDB_cursor *c;
		MDB_val k, v;
		size_t off = 0;
		must(!mdb_cursor_open(txn, dbi, &c), "cursor");
		while (!mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			crypto_generichash(h, 32, v.mv_data, v.mv_size, NULL, 0);
			must(!memcmp(h, k.mv_data, 32), "lmdb chunk check");
			memcpy(back + off % len, v.mv_data, v.mv_size);
			off += v.mv_size;
		}
		mdb_cursor_close(c);
		mdb_txn_abort(txn);
		t2 = now();
		must(!mdb_txn_begin(env, NULL, 0, &txn) && !mdb_drop(txn, dbi, 0) &&
		             !mdb_txn_commit(txn),
		     "lmdb delete");
		mdb_env_close(env);
		snprintf(p, sizeof p, "%s/lmdb%d/data.mdb", tmpl, r);
		if (!stat(p, &st))
			mdb_after = st.st_size;
		best[2][0] = t1 - t0 < best[2][0] ? t1 - t0 : best[2][0];
		best[2][1] = t2 - t1 < best[2][1] ? t2 - t1 : best[2][1];
	}
	const char *names[3] = { "plain file (anchor)", "blob folder", "LMDB values" };
	printf("bench_blob: %zu MiB, best of %d rounds\n", mib, rounds);
	printf("%-22s %10s %8s %10s %8s\n", "", "write MiB/s", "x anchor", "read MiB/s",
	       "x anchor");
	for (int i = 0; i < 3; i++)
		printf("%-22s %10.0f %8.2f %10.0f %8.2f\n", names[i], (double)mib / best[i][0],
		       best[0][0] / best[i][0], (double)mib / best[i][1], best[0][1] / best[i][1]);
	printf("data.mdb after the LMDB variant deleted the file: %.1f MiB (the folder: 0)\n",
	       (double)mdb_after / (1 << 20));
	rmtree(tmpl);
	free(data);
	free(back);
	return 0;
}
