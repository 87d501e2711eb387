/*
 * test_writer.c: the writer thread of bulk loads (hx_writer, store.h) and
 * hx_store_space. Batches handed to the writer while the next is being
 * built end up exactly as hx_store_put_batch would store them: every
 * entry, its result (new, already stored), the added counts, the change
 * sequence, a clean fsck and a search that finds the documents of every
 * batch; a poll loop learns from the writer's descriptor that a batch is
 * done (hx_writer_fd, hx_writer_busy). hx_store_space counts free pages that a compacted copy
 * leaves out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "store/search.h"
#include "store/store.h"
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

static void mk(struct item *x, int i)
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
		           .lang = "en" };
	if (hx_entry_sign(&x->e, sk, &x->raw, &x->len))
		abort();
}

static void report(void *arg, const char *problem)
{
	(void)arg;
	fprintf(stderr, "fsck: %s\n", problem);
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
	CHECK_RC(hx_store_copy(s, copy), HX_OK);
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&s, copy, 0), HX_OK);
	uint64_t cfile = 0, cfree = 0;
	CHECK_RC(s ? hx_store_space(s, &cfile, &cfree) : HX_EIO, HX_OK);
	CHECK(cfile > 0 && cfile <= file - free_b + 4 * 4096);
	CHECK(cfree <= 4 * 4096);
	hx_store_close(&s);
	rmtree(copy);
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

int main(void)
{
	char base[] = "/tmp/hx-test-writer.XXXXXX", dir[4200];
	if (sodium_init() < 0 || !mkdtemp(base))
		return 1;
	crypto_sign_keypair(pk, sk);
	snprintf(dir, sizeof dir, "%s/store", base);
	test_writer(dir);
	test_error(dir);
	rmtree(base);
	return check_done();
}
