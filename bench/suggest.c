/*
 * suggest.c (bench_suggest): what a typo costs. For known-item queries made
 * from a document's two longest title words, runs each query as typed and
 * with one typo in one word (a letter dropped, doubled, swapped with the
 * next or replaced), on a library built beforehand with `hansa import`,
 * and prints the median and p90 latency of both and their ratio (the
 * anchor is the normal query, measured in the same run), the one-time costs
 * (a searcher's first correction walks the vocabulary, the second builds
 * the typo index), and how often the correction gave back the query as
 * intended.
 *
 *   xz -dc ../shared/data/tools-corpus.jsonl.xz > /tmp/c.jsonl
 *   hansa --home /tmp/hb init --name Bench && hansa --home /tmp/hb import /tmp/c.jsonl
 *   bench_suggest --home /tmp/hb --corpus /tmp/c.jsonl [--queries N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "store/store.h"
#include "store/search.h"
#include "store/tokenize.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof *v, cmp_dbl);
	return n ? v[(size_t)(p * (double)(n - 1))] : 0;
}

/* The two longest folded title words (5 bytes or more, letters only),
 * as "a b"; 0 when the title has fewer. */
static int query_of(const char *title, char *out, size_t cap)
{
	hx_tokenizer t;
	hx_token k;
	char w[2][HX_TOKEN_MAX + 1] = { "", "" };
	hx_tok_init(&t, title, strlen(title));
	while (hx_tok_next(&t, &k)) {
		int letters = 1;
		for (size_t i = 0; i < k.len; i++)
			letters &= k.word[i] >= 'a' && k.word[i] <= 'z';
		if (!letters || k.len < 5 || !strcmp(w[0], k.word) || !strcmp(w[1], k.word))
			continue;
		int at = k.len > strlen(w[0]) ? 0 : k.len > strlen(w[1]) ? 1 : -1;
		if (at == 0)
			memcpy(w[1], w[0], sizeof w[0]);
		if (at >= 0)
			memcpy(w[at], k.word, k.len + 1);
	}
	if (!w[1][0])
		return 0;
	snprintf(out, cap, "%s %s", w[0], w[1]);
	return 1;
}

/* One typo in the first word of q (position 1 or later). */
static void typo(const char *q, char *out, size_t cap, unsigned r)
{
	size_t wl = strcspn(q, " "), p = 1 + r / 4 % (wl - 2);
	char w[HX_TOKEN_MAX + 2];
	memcpy(w, q, wl);
	w[wl] = 0;
	switch (r % 4) {
	case 0: /* dropped */ memmove(w + p, w + p + 1, wl - p); break;
	case 1: /* doubled */ memmove(w + p + 1, w + p, wl - p + 1); break;
	case 2: { /* swapped */
		char c = w[p];
		w[p] = w[p + 1];
		w[p + 1] = c;
		break;
	}
	default: /* replaced */ w[p] = (char)(w[p] == 'e' ? 'a' : 'e');
	}
	snprintf(out, cap, "%s%s", w, q + wl);
}

int main(int argc, char **argv)
{
	const char *home = NULL, *corpus = NULL;
	size_t nq = 300;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--home") && i + 1 < argc)
			home = argv[++i];
		else if (!strcmp(argv[i], "--corpus") && i + 1 < argc)
			corpus = argv[++i];
		else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
			nq = strtoull(argv[++i], NULL, 10);
		else
			home = NULL, i = argc;
	}
	if (!home || !corpus || !nq) {
		fprintf(stderr,
		        "usage: bench_suggest --home DIR --corpus FILE.jsonl [--queries N]\n");
		return 2;
	}
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/store", home);
	hx_store *s;
	hx_searcher *sr;
	if (hx_store_open(&s, dir, HX_STORE_RDONLY) || hx_searcher_new(&sr, s)) {
		fprintf(stderr, "bench_suggest: cannot open the store in %s\n", dir);
		return 1;
	}

	/* Queries: every step-th document with two long title words. */
	FILE *f = fopen(corpus, "r");
	if (!f) {
		fprintf(stderr, "bench_suggest: cannot read %s\n", corpus);
		return 1;
	}
	size_t lines = 0, n = 0, cap = 0;
	char *line = NULL;
	while (getline(&line, &cap, f) > 0)
		lines++;
	rewind(f);
	size_t step = lines / (nq * 2) ? lines / (nq * 2) : 1;
	char(*q)[2 * HX_TOKEN_MAX + 4] = calloc(nq, sizeof *q);
	char(*tq)[2 * HX_TOKEN_MAX + 8] = calloc(nq, sizeof *tq);
	for (size_t l = 0; n < nq && getline(&line, &cap, f) > 0; l++) {
		if (l % step)
			continue;
		cJSON *o = cJSON_Parse(line);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "title");
		if (cJSON_IsString(t) && query_of(t->valuestring, q[n], sizeof q[n])) {
			typo(q[n], tq[n], sizeof tq[n], (unsigned)(l * 2654435761u >> 7));
			n++;
		}
		cJSON_Delete(o);
	}
	fclose(f);
	free(line);

	hx_search_opts o = { 10, 0, 0, 1, 0, 0 };
	hx_results r;
	char err[256];
	double *tn = calloc(n, sizeof *tn), *tt = calloc(n, sizeof *tt);
	double *cn = calloc(n, sizeof *cn), *ct = calloc(n, sizeof *ct);
	size_t corrected = 0, right = 0, hits_as_typed = 0, nothing = 0;
	/* Warm up (page cache, stemmers), then the typo index's one-time build. */
	for (size_t i = 0; i < n; i++)
		if (!hx_search(sr, q[i], &o, &r, err, sizeof err))
			hx_results_clear(&r);
	/* The first correction of a searcher walks the vocabulary (what a
	 * one-shot CLI search pays); the second builds the typo index. */
	double t0 = now_s(), c0 = cpu_s();
	if (!hx_search(sr, "zzqqxxw", &o, &r, err, sizeof err))
		hx_results_clear(&r);
	double walk = now_s() - t0, walk_cpu = cpu_s() - c0;
	t0 = now_s();
	c0 = cpu_s();
	if (!hx_search(sr, "zzqqxxw", &o, &r, err, sizeof err))
		hx_results_clear(&r);
	double build = now_s() - t0, build_cpu = cpu_s() - c0;
	size_t words, bytes;
	hx_searcher_typo_index(sr, &words, &bytes);
	for (size_t i = 0; i < n; i++) {
		t0 = now_s();
		c0 = cpu_s();
		if (hx_search(sr, q[i], &o, &r, err, sizeof err))
			continue;
		tn[i] = now_s() - t0;
		cn[i] = cpu_s() - c0;
		hx_results_clear(&r);
		t0 = now_s();
		c0 = cpu_s();
		if (hx_search(sr, tq[i], &o, &r, err, sizeof err))
			continue;
		tt[i] = now_s() - t0;
		ct[i] = cpu_s() - c0;
		if (r.corrected) {
			corrected++;
			right += !strcmp(r.corrected, q[i]);
		} else if (r.nhits) {
			hits_as_typed++;
		} else {
			nothing++;
		}
		hx_results_clear(&r);
	}
	double n50 = pct(tn, n, 0.5), n90 = pct(tn, n, 0.9);
	double t50 = pct(tt, n, 0.5), t90 = pct(tt, n, 0.9);
	double cn50 = pct(cn, n, 0.5), cn90 = pct(cn, n, 0.9);
	double ct50 = pct(ct, n, 0.5), ct90 = pct(ct, n, 0.9);
	printf("queries: %zu (two title words; the typo query has one edit in the first)\n", n);
	printf("first correction of a searcher (walks the vocabulary): %.0f ms (%.0f ms CPU)\n",
	       walk * 1e3, walk_cpu * 1e3);
	printf("typo index: %zu words, %.1f MB, built in %.0f ms (%.0f ms CPU; once per searcher)\n",
	       words, (double)bytes / 1e6, build * 1e3, build_cpu * 1e3);
	printf("%-22s %10s %10s\n", "", "median", "p90");
	printf("%-22s %8.0f µs %8.0f µs\n", "as typed (anchor)", n50 * 1e6, n90 * 1e6);
	printf("%-22s %8.0f µs %8.0f µs\n", "with a typo", t50 * 1e6, t90 * 1e6);
	printf("%-22s %10.2f %10.2f   (target <= 2)\n", "ratio", n50 > 0 ? t50 / n50 : 0,
	       n90 > 0 ? t90 / n90 : 0);
	printf("%-22s %8.0f µs %8.0f µs\n", "CPU as typed", cn50 * 1e6, cn90 * 1e6);
	printf("%-22s %8.0f µs %8.0f µs\n", "CPU with a typo", ct50 * 1e6, ct90 * 1e6);
	printf("%-22s %10.2f %10.2f   (CPU time: steadier on a loaded machine)\n", "CPU ratio",
	       cn50 > 0 ? ct50 / cn50 : 0, cn90 > 0 ? ct90 / cn90 : 0);
	printf("typo queries: %zu corrected (%zu to the intended query, %.0f%%), %zu found hits as "
	       "typed, %zu nothing\n",
	       corrected, right, n ? 100.0 * (double)right / (double)n : 0, hits_as_typed, nothing);
	free(tn);
	free(tt);
	free(cn);
	free(ct);
	free(q);
	free(tq);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	return 0;
}
