/*
 * recon.c (bench_recon): CPU cost of a whole Negentropy reconciliation
 * between two LMDB stores of N items that differ by D (D/2 only in each),
 * using the fingerprint table of store/fpt.c exactly as the node does
 * (a view per side over a read transaction). Anchors measured in the same
 * run: the same reconciliation over in-memory sorted vectors with prefix
 * sums, a plain scan of the N (ts, id) keys of one store, and SHA-256 of
 * N fingerprint inputs (what a store without aggregates would hash).
 *
 *   bench_recon [N [D]]        defaults: N = 100000, D = 20
 *
 * The stores are bare LMDB environments holding the store's two tables
 * (`bytime` and `fpt`), filled through the same hx_fpt_add hook the store
 * calls; building full signed entries would only time signing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "store/fpt.h"

static uint64_t rng = 0x853c49e6748fea9bull;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc) __attribute__((noreturn));
static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_recon: %s: %s\n", what, rc < 0 ? hx_strerror(rc) : mdb_strerror(rc));
	exit(1);
}

struct side {
	char dir[64];
	MDB_env *env;
	struct hx_fpt fpt;
};

static void side_open(struct side *s)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;
	snprintf(s->dir, sizeof s->dir, "/tmp/hx-bench-recon-XXXXXX");
	if (!mkdtemp(s->dir))
		die("mkdtemp", HX_EIO);
	if ((rc = mdb_env_create(&s->env)))
		die("env", rc);
	mdb_env_set_maxdbs(s->env, 4);
	mdb_env_set_mapsize(s->env, (size_t)8 << 30);
	if ((rc = mdb_env_open(s->env, s->dir, MDB_NOSYNC, 0600)) ||
	    (rc = mdb_txn_begin(s->env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, "bytime", MDB_CREATE, &dbi)))
		die("open", rc);
	if ((rc = hx_fpt_open(&s->fpt, txn, 1)))
		die("fpt open", rc);
	if ((rc = mdb_txn_commit(txn)))
		die("commit", rc);
}

static void side_fill(struct side *s, const hx_ne_item *items, size_t n, const uint8_t *skip)
{
	MDB_txn *txn = NULL;
	int rc;
	for (size_t i = 0; i < n; i++) {
		if (skip[i])
			continue;
		if (!txn && (rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
			die("txn", rc);
		uint8_t key[40];
		for (int b = 0; b < 8; b++)
			key[b] = (uint8_t)(items[i].ts >> (56 - 8 * b));
		memcpy(key + 8, items[i].id, 32);
		MDB_val k = { 40, key }, v = { 0, "" };
		if ((rc = mdb_put(txn, s->fpt.bytime, &k, &v, 0)))
			die("put", rc);
		if ((rc = hx_fpt_add(&s->fpt, txn, items[i].ts, items[i].id)))
			die("fpt add", rc);
		if (i % 10000 == 9999) { /* batches, as put_batch does */
			if ((rc = mdb_txn_commit(txn)))
				die("commit", rc);
			txn = NULL;
		}
	}
	if (txn && (rc = mdb_txn_commit(txn)))
		die("commit", rc);
}

static void side_close(struct side *s)
{
	char p[128];
	mdb_env_close(s->env);
	snprintf(p, sizeof p, "%s/data.mdb", s->dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", s->dir);
	unlink(p);
	rmdir(s->dir);
}

struct result {
	int rounds;
	size_t up, down, have, need;
};

static struct result reconcile(hx_ne_storage a, hx_ne_storage b, uint64_t limit)
{
	struct result r = { 0 };
	hx_ne *na, *nb;
	hx_ne_ids have = { 0 }, need = { 0 };
	uint8_t *m, *q;
	size_t ml, ql;
	int rc;
	if ((rc = hx_ne_new(&na, &a, limit)) || (rc = hx_ne_new(&nb, &b, limit)))
		die("ne new", rc);
	if ((rc = hx_ne_initiate(na, &m, &ml)))
		die("initiate", rc);
	while (m) {
		r.up += ml;
		if ((rc = hx_ne_reconcile(nb, m, ml, &q, &ql, NULL, NULL)))
			die("respond", rc);
		free(m);
		r.down += ql;
		if ((rc = hx_ne_reconcile(na, q, ql, &m, &ml, &have, &need)))
			die("reconcile", rc);
		free(q);
		r.rounds++;
	}
	r.have = have.n;
	r.need = need.n;
	hx_ne_ids_clear(&have);
	hx_ne_ids_clear(&need);
	hx_ne_free(&na);
	hx_ne_free(&nb);
	return r;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	size_t d = argc > 2 ? strtoull(argv[2], NULL, 10) : 20;
	if (n < 2 * d || sodium_init() < 0) {
		fprintf(stderr, "usage: bench_recon [N [D]] (N >= 2D)\n");
		return 2;
	}
	/* N + D/2 items; the first D/2 marked "only in A", the next D/2
	 * "only in B", at random positions; microsecond timestamps in
	 * roughly arrival order, as entries have */
	size_t total = n + d / 2;
	hx_ne_item *items = malloc(total * sizeof *items);
	uint8_t *skip_a = calloc(total, 1), *skip_b = calloc(total, 1);
	if (!items || !skip_a || !skip_b)
		die("malloc", HX_ENOMEM);
	for (size_t i = 0; i < total; i++) {
		items[i].ts = 1700000000000000ull + i * 1000 + rnd() % 1000;
		for (int k = 0; k < 32; k += 8) {
			uint64_t r = rnd();
			memcpy(items[i].id + k, &r, 8);
		}
	}
	for (size_t k = 0; k < d; k++) {
		size_t i;
		do
			i = rnd() % total;
		while (skip_a[i] || skip_b[i]);
		if (k < d / 2)
			skip_b[i] = 1; /* only in A */
		else
			skip_a[i] = 1; /* only in B */
	}

	printf("bench_recon: N = %zu items per side, D = %zu differences\n", n, d);
	struct side A, B;
	side_open(&A);
	side_open(&B);
	double w0 = wall_now();
	side_fill(&A, items, total, skip_a);
	side_fill(&B, items, total, skip_b);
	double fill = wall_now() - w0;
	printf("  fill both stores: %.2f s wall (%.0f items/s, with fpt updates)\n", fill,
	       2.0 * n / fill);

	/* 1. the LMDB stores: open views, reconcile, close (both sides) */
	MDB_txn *ta, *tb;
	hx_fpt_view *va, *vb;
	int rc;
	double c0 = cpu_now();
	if ((rc = mdb_txn_begin(A.env, NULL, MDB_RDONLY, &ta)) ||
	    (rc = mdb_txn_begin(B.env, NULL, MDB_RDONLY, &tb)))
		die("read txn", rc);
	if ((rc = hx_fpt_view_open(&va, ta, &A.fpt)) || (rc = hx_fpt_view_open(&vb, tb, &B.fpt)))
		die("view", rc);
	struct result r = reconcile(hx_fpt_view_storage(va), hx_fpt_view_storage(vb), 0);
	hx_fpt_view_close(&va);
	hx_fpt_view_close(&vb);
	mdb_txn_abort(ta);
	mdb_txn_abort(tb);
	double lmdb_cpu = cpu_now() - c0;
	if (r.have != d / 2 || r.need != d - d / 2) {
		fprintf(stderr, "bench_recon: wrong result: have %zu need %zu\n", r.have, r.need);
		return 1;
	}
	printf("  LMDB reconciliation: %.1f ms CPU (both sides), %d rounds, "
	       "%zu B up, %zu B down, have %zu, need %zu\n",
	       lmdb_cpu * 1e3, r.rounds, r.up, r.down, r.have, r.need);

	/* the same with a 64 KiB frame size limit */
	c0 = cpu_now();
	if ((rc = mdb_txn_begin(A.env, NULL, MDB_RDONLY, &ta)) ||
	    (rc = mdb_txn_begin(B.env, NULL, MDB_RDONLY, &tb)) ||
	    (rc = hx_fpt_view_open(&va, ta, &A.fpt)) || (rc = hx_fpt_view_open(&vb, tb, &B.fpt)))
		die("view", rc);
	struct result rl = reconcile(hx_fpt_view_storage(va), hx_fpt_view_storage(vb), 65536);
	hx_fpt_view_close(&va);
	hx_fpt_view_close(&vb);
	mdb_txn_abort(ta);
	mdb_txn_abort(tb);
	double lmdb_lim_cpu = cpu_now() - c0;
	printf("  LMDB reconciliation, frame limit 65536: %.1f ms CPU, %d rounds\n",
	       lmdb_lim_cpu * 1e3, rl.rounds);

	/* anchor 1: a plain scan of one store's N keys (what computing
	 * fingerprints without aggregates must at least do per side) */
	c0 = cpu_now();
	{
		MDB_cursor *c;
		MDB_val k, v;
		uint8_t acc[32] = { 0 };
		if ((rc = mdb_txn_begin(A.env, NULL, MDB_RDONLY, &ta)) ||
		    (rc = mdb_cursor_open(ta, A.fpt.bytime, &c)))
			die("scan", rc);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			hx_ne_acc_add(acc, (const uint8_t *)k.mv_data + 8);
		mdb_cursor_close(c);
		mdb_txn_abort(ta);
	}
	double scan_cpu = cpu_now() - c0;

	/* anchor 2: SHA-256 of N fingerprint inputs (33-35 bytes each) */
	c0 = cpu_now();
	{
		uint8_t in[35] = { 0 }, h[32];
		for (size_t i = 0; i < n; i++) {
			memcpy(in, &i, sizeof i);
			crypto_hash_sha256(h, in, sizeof in);
			in[20] ^= h[0];
		}
	}
	double sha_cpu = cpu_now() - c0;

	/* anchor 3: in-memory vectors with prefix sums (build excluded) */
	hx_ne_vec *ma, *mb;
	if ((rc = hx_ne_vec_new(&ma)) || (rc = hx_ne_vec_new(&mb)))
		die("vec", rc);
	for (size_t i = 0; i < total; i++) {
		if (!skip_a[i] && (rc = hx_ne_vec_add(ma, items[i].ts, items[i].id)))
			die("vec add", rc);
		if (!skip_b[i] && (rc = hx_ne_vec_add(mb, items[i].ts, items[i].id)))
			die("vec add", rc);
	}
	c0 = cpu_now();
	if ((rc = hx_ne_vec_seal(ma)) || (rc = hx_ne_vec_seal(mb)))
		die("seal", rc);
	double seal_cpu = cpu_now() - c0;
	c0 = cpu_now();
	struct result rm = reconcile(hx_ne_vec_storage(ma), hx_ne_vec_storage(mb), 0);
	double mem_cpu = cpu_now() - c0;
	if (rm.up != r.up || rm.down != r.down || rm.rounds != r.rounds) {
		fprintf(stderr, "bench_recon: LMDB and memory sessions differ\n");
		return 1;
	}

	printf("  anchor: scan of one store's %zu keys: %.1f ms CPU\n", n, scan_cpu * 1e3);
	printf("  anchor: SHA-256 of %zu fingerprint inputs: %.1f ms CPU\n", n, sha_cpu * 1e3);
	printf("  anchor: in-memory reconciliation: %.2f ms CPU (+ %.1f ms to sort and sum both "
	       "sides)\n",
	       mem_cpu * 1e3, seal_cpu * 1e3);
	printf("  ratio LMDB reconciliation / one store scan:       %.3f\n", lmdb_cpu / scan_cpu);
	printf("  ratio LMDB reconciliation / SHA-256 of N inputs:  %.3f\n", lmdb_cpu / sha_cpu);
	printf("  ratio LMDB reconciliation / in-memory (sealed):   %.1f\n", lmdb_cpu / mem_cpu);

	hx_ne_vec_free(&ma);
	hx_ne_vec_free(&mb);
	side_close(&A);
	side_close(&B);
	free(items);
	free(skip_a);
	free(skip_b);
	return 0;
}
