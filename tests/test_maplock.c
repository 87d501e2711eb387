/*
 * test_maplock.c: growing the store's LMDB map while other threads read
 * (store/txn.c). A store opened with a 1 MiB map is filled in many small
 * batches, so its commits grow the map again and again, while two threads
 * read entries and search in a loop: no read sees an unmapped page
 * (AddressSanitizer would stop it), every read finds what was stored
 * before it began, and fsck is clean. A thread that holds a transaction
 * itself cannot grow the map (it would wait for itself): its batch fails
 * whole with HX_EFULL, and succeeds once that transaction is closed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "store/recon.h"
#include "store/search.h"
#include "store/store_int.h"
#include "tests/check.h"
#include "tests/rmtree.h"

#define N 1200   /* entries */
#define BATCH 40 /* per commit */

static uint8_t sk[HX_SECRET_LEN], pk[HX_KEY_LEN];

struct item {
	hx_entry e;
	uint8_t *raw;
	size_t len;
	char path[32], title[64], body[2048];
};

static struct item *items;
static atomic_size_t stored; /* items[0..stored) are committed */
static atomic_int stop;
static atomic_size_t reads, bad;

static void mk(struct item *x, int i)
{
	snprintf(x->path, sizeof x->path, "tools/m%05d", i);
	snprintf(x->title, sizeof x->title, "Map tool %d mq%dword", i, i % 7);
	/* a body of some 1.5 KB, so that a few hundred entries fill a map */
	size_t at = 0;
	for (int k = 0; at + 16 < sizeof x->body && k < 200; k++)
		at += (size_t)snprintf(x->body + at, sizeof x->body - at, "w%dx%d ", i, k);
	x->e = (hx_entry){ .path = x->path,
		           .timestamp = 1000000 + (uint64_t)i,
		           .kind = "toolkit",
		           .title = x->title,
		           .body = x->body,
		           .lang = "en" };
	if (hx_entry_sign(&x->e, sk, &x->raw, &x->len))
		abort();
}

static size_t mapsize(hx_store *s)
{
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	return info.me_mapsize;
}

static void *reader(void *arg)
{
	hx_store *s = arg;
	unsigned r = 1;
	while (!atomic_load(&stop)) {
		size_t n = atomic_load(&stored);
		if (!n)
			continue;
		r = r * 1103515245u + 12345u;
		const struct item *x = &items[(r >> 8) % n];
		hx_entry e;
		uint8_t *raw = NULL;
		size_t len = 0;
		if (hx_store_get(s, x->e.id, &e, &raw, &len) || len != x->len ||
		    memcmp(raw, x->raw, len))
			atomic_fetch_add(&bad, 1);
		else
			hx_entry_clear(&e);
		free(raw);
		hx_searcher *sr = NULL;
		hx_search_opts o = { 0 };
		hx_results res = { 0 };
		char err[200];
		o.limit = 5;
		if (hx_searcher_new(&sr, s) || hx_search(sr, "mq3word", &o, &res, err, sizeof err))
			atomic_fetch_add(&bad, 1);
		hx_results_clear(&res);
		hx_searcher_free(&sr);
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static int put(hx_store *s, size_t from, size_t n)
{
	hx_put p[BATCH];
	for (size_t i = 0; i < n; i++)
		p[i] = (hx_put){ .raw = items[from + i].raw,
			         .rawlen = items[from + i].len,
			         .entry = &items[from + i].e };
	size_t added = 0;
	int rc = hx_store_put_batch(s, p, n, 0, &added);
	return rc ? rc : (added == n ? HX_OK : HX_EINVAL);
}

static void report(void *arg, const char *problem)
{
	(void)arg;
	fprintf(stderr, "fsck: %s\n", problem);
}

static void test_grow_while_reading(const char *dir)
{
	hx_store *s = NULL;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	if (!s)
		abort();
	size_t before = mapsize(s);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK(!pthread_create(&t[i], NULL, reader, s));
	for (size_t at = 0; at < N; at += BATCH) {
		int rc = put(s, at, BATCH);
		CHECK_RC(rc, HX_OK);
		if (rc)
			break;
		atomic_store(&stored, at + BATCH);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	size_t after = mapsize(s);
	printf("map %zu -> %zu bytes, %zu reads meanwhile\n", before, after,
	       (size_t)atomic_load(&reads));
	CHECK(after >= 8 * before); /* at least three grows while reading */
	CHECK(atomic_load(&reads) > 0);
	CHECK(atomic_load(&bad) == 0);
	hx_store_stats st;
	CHECK_RC(hx_store_stats_get(s, &st), HX_OK);
	CHECK(st.entries == N);
	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, report, NULL, &problems), HX_OK);
	CHECK(problems == 0);
	hx_store_close(&s);
}

/* This thread holds a read transaction (a reconciliation view): its own
 * write cannot grow the map, fails whole, and goes through once the view
 * is closed. */
static void test_grow_blocked_by_own_txn(const char *dir)
{
	hx_store *s = NULL;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	if (!s)
		abort();
	hx_recon_view *v = NULL;
	CHECK_RC(hx_recon_view_open(&v, s), HX_OK);
	size_t at = 0, size = mapsize(s);
	int rc = HX_OK;
	while (at < N && (rc = put(s, at, BATCH)) == HX_OK)
		at += BATCH;
	CHECK_RC(rc, HX_EFULL);
	CHECK(mapsize(s) == size);
	hx_store_stats st;
	CHECK_RC(hx_store_stats_get(s, &st), HX_OK);
	CHECK(st.entries == at); /* the failed batch left nothing */
	hx_recon_view_close(&v);
	CHECK_RC(put(s, at, BATCH), HX_OK);
	CHECK(mapsize(s) > size);
	CHECK_RC(hx_store_stats_get(s, &st), HX_OK);
	CHECK(st.entries == at + BATCH);
	hx_store_close(&s);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	if (!(items = calloc(N, sizeof *items)))
		return 1;
	for (int i = 0; i < N; i++)
		mk(&items[i], i);
	hx_store_map_initial = (size_t)1 << 20;
	char tmpl[] = "/tmp/hx-test-maplock.XXXXXX", a[4200], b[4200];
	char *d = mkdtemp(tmpl);
	if (!d)
		return 1;
	snprintf(a, sizeof a, "%s/a", d);
	snprintf(b, sizeof b, "%s/b", d);
	test_grow_while_reading(a);
	test_grow_blocked_by_own_txn(b);
	rmtree(d);
	for (int i = 0; i < N; i++)
		free(items[i].raw);
	free(items);
	return check_done();
}
