/*
 * test_writer.c: the writer thread of bulk loads (hx_writer, store.h) and
 * hx_store_space. Batches handed to the writer while the next is being
 * built end up exactly as hx_store_put_batch would store them: every
 * entry, its result (new, already stored), the added counts, the change
 * sequence, a clean fsck and a search that finds the documents of every
 * batch; a poll loop learns from the writer's descriptor that a batch is
 * done (hx_writer_fd, hx_writer_busy). hx_store_space counts free pages that a compacted copy
 * leaves out. The index writer's key sort (hx_ix_sort_skeys) puts keys in
 * the order qsort with hx_ix_cmp_skey gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lmdb.h>
#include <sodium.h>
#include "store/search.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/ix_write_int.h"
#include "tests/check.h"
#include "tests/rmtree.h"

#define N 3000    /* entries */
#define BATCH 700 /* per batch: the last is short */

static uint8_t sk[HX_SECRET_LEN], pk[HX_KEY_LEN];

struct item {
	hx_entry e;
	uint8_t *raw;
	size_t len;
	char path[32], title[64];
};

static void mk_attached(struct item *x, int i, hx_attach *at)
{
	static char *tags[] = { "bulk" };
	snprintf(x->path, sizeof x->path, "tools/w%05d", i);
	snprintf(x->title, sizeof x->title, "Writer tool %d zq%dword", i, i / BATCH);
	x->e = (hx_entry){ .path = x->path,
		           .timestamp = 1000000 + (uint64_t)i,
		           .kind = "toolkit",
		           .title = x->title,
		           .body = "A body about peer learning between regions.",
		           .tags = tags,
		           .ntags = 1,
		           .lang = "en",
		           .attach = at,
		           .nattach = at != NULL };
	if (hx_entry_sign(&x->e, sk, &x->raw, &x->len))
		abort();
}

static void mk(struct item *x, int i)
{
	mk_attached(x, i, NULL);
}

static void report(void *arg, const char *problem)
{
	(void)arg;
	fprintf(stderr, "fsck: %s\n", problem);
}

/* A digest of every row of every table of the store in dir (name, key,
 * value, in key order), and the file's size; 0 on success. */
static int digest_of(const char *dir, uint8_t out[32], uint64_t *size)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi main, t;
	MDB_cursor *c, *tc;
	MDB_val k, v, tk, tv;
	crypto_generichash_state h;
	char path[4300];
	struct stat st;
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (stat(path, &st) || mdb_env_create(&env))
		return -1;
	*size = (uint64_t)st.st_size;
	crypto_generichash_init(&h, NULL, 0, 32);
	int rc = mdb_env_set_maxdbs(env, 64) || mdb_env_open(env, dir, MDB_RDONLY, 0600) ||
	         mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (!rc && !(rc = mdb_dbi_open(txn, NULL, 0, &main) || mdb_cursor_open(txn, main, &c))) {
		while (!rc && !mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			char name[64];
			snprintf(name, sizeof name, "%.*s", (int)k.mv_size, (char *)k.mv_data);
			unsigned fl = 0;
			crypto_generichash_update(&h, k.mv_data, k.mv_size);
			if ((rc = mdb_dbi_open(txn, name, 0, &t) || mdb_dbi_flags(txn, t, &fl) ||
			          mdb_cursor_open(txn, t, &tc)))
				break;
			crypto_generichash_update(&h, (const uint8_t *)&fl, sizeof fl);
			while (!mdb_cursor_get(tc, &tk, &tv, MDB_NEXT)) {
				uint64_t n[2] = { tk.mv_size, tv.mv_size };
				crypto_generichash_update(&h, (const uint8_t *)n, sizeof n);
				crypto_generichash_update(&h, tk.mv_data, tk.mv_size);
				crypto_generichash_update(&h, tv.mv_data, tv.mv_size);
			}
			mdb_cursor_close(tc);
		}
		mdb_cursor_close(c);
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	crypto_generichash_final(&h, out, 32);
	return rc;
}

/* Hits of a one-word query (all of them: at most BATCH). */
static size_t hits(hx_store *s, const char *q)
{
	hx_searcher *sr = NULL;
	hx_search_opts o = { 0 };
	hx_results r = { 0 };
	char err[200];
	size_t n = (size_t)-1;
	o.limit = BATCH + 10;
	if (!hx_searcher_new(&sr, s) && !hx_search(sr, q, &o, &r, err, sizeof err))
		n = r.nhits;
	hx_results_clear(&r);
	hx_searcher_free(&sr);
	return n;
}

static void test_writer(const char *dir)
{
	hx_store *s = NULL;
	hx_writer *w = NULL;
	struct item *it = calloc(N, sizeof *it);
	hx_put *put[2] = { calloc(BATCH, sizeof(hx_put)), calloc(BATCH, sizeof(hx_put)) };
	if (!it || !put[0] || !put[1])
		abort();
	for (int i = 0; i < N; i++)
		mk(&it[i], i);
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_writer_start(&w, s, 0), HX_OK);
	if (!s || !w)
		abort();
	/* double-buffered as `hansa import` does: build, wait for the one in
	 * flight, hand over; the second batch repeats 5 entries of the first */
	size_t added_all = 0, nb = 0, inflight = 0;
	int cur = 0;
	for (int at = 0; at < N; nb++) {
		size_t n = 0;
		if (nb == 1)
			for (int i = 0; i < 5; i++, n++)
				put[cur][n] = (hx_put){ .raw = it[i].raw,
					                .rawlen = it[i].len,
					                .entry = &it[i].e };
		for (; n < BATCH && at < N; n++, at++)
			put[cur][n] = (hx_put){ .raw = it[at].raw,
				                .rawlen = it[at].len,
				                .entry = &it[at].e };
		size_t added = 0;
		if (inflight) {
			CHECK_RC(hx_writer_wait(w, &added), HX_OK);
			added_all += added;
		}
		if (nb == 2) /* batch 1 is in: the repeated five say so */
			for (int i = 0; i < 5; i++)
				CHECK(put[1][i].result == HX_EEXIST &&
				      put[1][i + 5].result == HX_OK);
		hx_writer_submit(w, put[cur], n);
		inflight = n;
		cur ^= 1;
	}
	/* a poll loop's way (the node's): the descriptor turns readable when
	 * the batch is done, busy then says 0 and clears it */
	struct pollfd pfd = { .fd = hx_writer_fd(w), .events = POLLIN };
	CHECK(pfd.fd >= 0);
	CHECK(poll(&pfd, 1, 120000) == 1);
	CHECK(hx_writer_busy(w) == 0);
	CHECK(poll(&pfd, 1, 0) == 0);
	size_t added = 0;
	CHECK_RC(hx_writer_wait(w, &added), HX_OK);
	added_all += added;
	/* nothing in flight: wait says HX_OK and adds nothing */
	CHECK_RC(hx_writer_wait(w, &added), HX_OK);
	CHECK(added == 0);
	hx_writer_stop(&w);
	CHECK(w == NULL);
	hx_writer_stop(&w); /* NULL-safe */
	CHECK(added_all == N);
	hx_store_stats st;
	CHECK_RC(hx_store_stats_get(s, &st), HX_OK);
	CHECK(st.entries == N && st.documents == N && st.last_seq == N);
	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, report, NULL, &problems), HX_OK);
	CHECK(problems == 0);
	/* every batch's documents are in the index */
	for (int b = 0; b * BATCH < N; b++) {
		char q[32];
		size_t want = (size_t)((b + 1) * BATCH <= N ? BATCH : N - b * BATCH);
		snprintf(q, sizeof q, "zq%dword", b);
		CHECK(hits(s, q) == want);
	}

	/* space: many small commits leave free pages; a compacted copy has
	 * (almost) none, and its file is what the store had in use */
	uint64_t file = 0, free_b = 0;
	CHECK_RC(hx_store_space(s, &file, &free_b), HX_OK);
	CHECK(file > 0 && free_b > 0 && free_b < file);
	char copy[4300];
	snprintf(copy, sizeof copy, "%s.copy", dir);
	hx_store_copy_txn_rows = 97; /* tables copied across transactions */
	CHECK_RC(hx_store_copy(s, copy), HX_OK);
	CHECK_RC(hx_store_copy(s, copy), HX_EEXIST); /* never into a file there */
	hx_store_copy_txn_rows = 200000;
	hx_store_close(&s);
	/* the copy holds every row of every table, and its pages are full:
	 * smaller than LMDB's own compacting copy, which keeps each page as
	 * full as it was (the writes of random ids, versions and postings
	 * left them far from full) */
	char lcopy[4300];
	uint8_t d1[32], d2[32], d3[32];
	uint64_t sz1 = 0, sz2 = 0, sz3 = 0;
	MDB_env *le;
	snprintf(lcopy, sizeof lcopy, "%s.lmdbcopy", dir);
	CHECK(mkdir(lcopy, 0700) == 0);
	CHECK(!mdb_env_create(&le) && !mdb_env_set_maxdbs(le, 64) &&
	      !mdb_env_open(le, dir, MDB_RDONLY, 0600) &&
	      !mdb_env_copy2(le, lcopy, MDB_CP_COMPACT));
	mdb_env_close(le);
	CHECK(digest_of(dir, d1, &sz1) == 0 && digest_of(copy, d2, &sz2) == 0 &&
	      digest_of(lcopy, d3, &sz3) == 0);
	CHECK(!memcmp(d1, d2, 32) && !memcmp(d1, d3, 32));
	printf("copy: %llu bytes; LMDB's compacting copy %llu\n", (unsigned long long)sz2,
	       (unsigned long long)sz3);
	CHECK(sz2 < sz3);
	CHECK_RC(hx_store_open(&s, copy, 0), HX_OK);
	uint64_t cfile = 0, cfree = 0;
	CHECK_RC(s ? hx_store_space(s, &cfile, &cfree) : HX_EIO, HX_OK);
	/* each of the copy's many small commits (97 rows) frees the pages
	 * its appends rewrote: a few per commit, reused by the next ones */
	printf("copy: %llu bytes free of %llu\n", (unsigned long long)cfree,
	       (unsigned long long)cfile);
	CHECK(cfile > 0 && cfile <= file - free_b + 4 * 4096);
	CHECK(cfree <= cfile / 20);
	CHECK_RC(s ? hx_store_fsck(s, report, NULL, &problems) : HX_EIO, HX_OK);
	CHECK(problems == 0);
	hx_store_close(&s);
	rmtree(copy);
	rmtree(lcopy);
	for (int i = 0; i < N; i++)
		free(it[i].raw);
	free(it);
	free(put[0]);
	free(put[1]);
}

/* A batch that fails as a whole (a read-only store) reports its error
 * through hx_writer_wait, and the writer takes the next batch. */
static void test_error(const char *dir)
{
	hx_store *s = NULL;
	hx_writer *w = NULL;
	struct item x;
	mk(&x, 99999);
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_RDONLY), HX_OK);
	if (!s)
		abort();
	CHECK_RC(hx_writer_start(&w, s, 0), HX_OK);
	hx_put p = { .raw = x.raw, .rawlen = x.len, .entry = &x.e };
	size_t added = 7;
	hx_writer_submit(w, &p, 1);
	CHECK_RC(hx_writer_wait(w, &added), HX_EPERM);
	CHECK(added == 0);
	hx_writer_submit(w, &p, 1);
	CHECK_RC(hx_writer_wait(w, NULL), HX_EPERM);
	hx_writer_stop(&w);
	hx_store_close(&s);
	free(x.raw);
}

/* The blob scan's read of the change log (hx_store_changes_attached) and
 * the verify pool's "already stored?" (hx_store_has_many), on a store
 * whose dictionary is trained (its values compressed): every entry that
 * attaches a file comes decoded, and only those; a row skipped is not
 * read; stored ids are found, others not. */
static int skip_third(void *arg, uint64_t seq)
{
	(void)arg;
	return seq % 3 == 0;
}

struct seen {
	size_t calls, decoded, wrong;
	const struct item *xs;
};

static int attached_cb(void *arg, uint64_t seq, const hx_entry *e)
{
	struct seen *z = arg;
	const struct item *x = &z->xs[seq - 1]; /* the log's rows are 1, 2, ... */
	z->calls++;
	z->wrong += seq % 3 == 0 || !e != !x->e.nattach ||
	            (e && (memcmp(e->id, x->e.id, HX_ID_LEN) || e->nattach != 1 ||
	                   strcmp(e->attach[0].name, "f.bin")));
	z->decoded += e != NULL;
	return 0;
}

static void test_scans(const char *dir)
{
	enum { M = HX_ZENT_TRAIN_MIN + 500, UNSTORED = 40 };
	struct item *xs = calloc(M + UNSTORED, sizeof *xs);
	hx_put *puts = calloc(M, sizeof *puts);
	hx_attach *ats = calloc(M + UNSTORED, sizeof *ats);
	hx_store *s = NULL;
	if (!xs || !puts || !ats)
		abort();
	for (int i = 0; i < M + UNSTORED; i++) {
		hx_attach *at = NULL;
		if (i % 97 == 5) { /* format 2: a field map of 11 pairs */
			at = &ats[i];
			*at = (hx_attach){ .name = "f.bin",
				           .size = 3,
				           .type = "application/octet-stream" };
			randombytes_buf(at->hash, sizeof at->hash);
		}
		mk_attached(&xs[i], 200000 + i, at);
		if (i < M)
			puts[i] = (hx_put){ .raw = xs[i].raw,
				            .rawlen = xs[i].len,
				            .entry = &xs[i].e };
	}
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	if (!s)
		abort();
	for (int i = 0; i < M; i += 500)
		CHECK_RC(hx_store_put_batch(s, puts + i, M - i < 500 ? (size_t)(M - i) : 500, 0,
		                            NULL),
		         HX_OK);

	/* the dictionary was trained: the log's values are compressed */
	MDB_txn *txn;
	uint8_t sk8[8];
	hx_be64_put(sk8, M);
	MDB_val k = { 8, sk8 }, v;
	CHECK_RC(hx_txn_begin(s, MDB_RDONLY, &txn), HX_OK);
	CHECK(mdb_get(txn, s->z.log, &k, &v) == 0 && v.mv_size > HX_ID_LEN &&
	      ((uint8_t *)v.mv_data)[HX_ID_LEN] == 0);
	hx_txn_abort(s, txn);

	struct seen z = { .xs = xs };
	uint64_t last = 0;
	size_t want = 0, attaching = 0;
	for (int i = 0; i < M; i++) {
		want += (i + 1) % 3 != 0;
		attaching += (i + 1) % 3 != 0 && xs[i].e.nattach;
	}
	CHECK_RC(hx_store_changes_attached(s, 0, skip_third, attached_cb, &z, &last), HX_OK);
	CHECK(last == M);
	CHECK(z.calls == want);
	CHECK(z.wrong == 0);
	CHECK(z.decoded == attaching && attaching > 5);

	const uint8_t *ids[M + UNSTORED];
	static uint8_t found[M + UNSTORED];
	for (int i = 0; i < M + UNSTORED; i++)
		ids[i] = xs[i].e.id;
	CHECK_RC(hx_store_has_many(s, ids, M + UNSTORED, found), HX_OK);
	size_t right = 0;
	for (int i = 0; i < M + UNSTORED; i++)
		right += found[i] == (i < M);
	CHECK(right == M + UNSTORED);

	hx_store_close(&s);
	for (int i = 0; i < M + UNSTORED; i++)
		free(xs[i].raw);
	free(xs);
	free(puts);
	free(ats);
}

/* Keys like the writer's, many sharing long prefixes, zero bytes (a stem
 * key's separator), keys that are prefixes of others and runs that end
 * together: the radix sort against qsort, for sizes on both sides of its
 * cut-over to qsort. */
static void test_sort(void)
{
	enum { MAX = 20000 };
	static char buf[MAX * 40];
	static struct skey a[MAX], b[MAX];
	const size_t sizes[] = { 0, 1, 2, 47, 48, 49, 500, MAX };
	uint32_t r = 12345;
	for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
		size_t n = sizes[z], off = 0;
		for (size_t i = 0; i < n; i++) {
			r = r * 1103515245u + 12345u;
			size_t len = 1 + (r >> 8) % 30;
			char *k = buf + off;
			/* a shared head of 0 to 20 bytes, then bytes from both ends of
			 * the range (folded keys are UTF-8: a byte read as signed
			 * would put 0x80 and above first) */
			static const uint8_t tail[] = {
				0x00, 0x01, 'a', 'b', 0x7f, 0x80, 0xc3, 0xff
			};
			size_t head = (r >> 16) % 21 < len ? (r >> 16) % 21 : len;
			memcpy(k, "Wconfigurationsmanag", head);
			for (size_t j = head; j < len; j++) {
				r = r * 1103515245u + 12345u;
				k[j] = (char)tail[(r >> 20) % sizeof tail];
			}
			a[i] = (struct skey){ .k = k, .len = (uint32_t)len, .idx = (uint32_t)i };
			off += len;
		}
		memcpy(b, a, n * sizeof *a);
		hx_ix_sort_skeys(a, n);
		if (n)
			qsort(b, n, sizeof *b, hx_ix_cmp_skey);
		size_t same = 0;
		for (size_t i = 0; i < n; i++)
			same += a[i].len == b[i].len && !memcmp(a[i].k, b[i].k, a[i].len);
		CHECK(same == n);
	}
}

int main(void)
{
	char base[] = "/tmp/hx-test-writer.XXXXXX", dir[4200];
	if (sodium_init() < 0 || !mkdtemp(base))
		return 1;
	crypto_sign_keypair(pk, sk);
	snprintf(dir, sizeof dir, "%s/store", base);
	test_writer(dir);
	test_error(dir);
	test_sort();
	snprintf(dir, sizeof dir, "%s/scans", base);
	test_scans(dir);
	rmtree(base);
	return check_done();
}
