/*
 * web_search.c: bench_web_search, the in-process anchor of bench/web.sh:
 * the same queries the web app's /api/search answers (10 results with
 * snippets, no facets), run directly with hx_search on THREADS threads for
 * SECONDS, each thread with its own searcher as the web app's threads have.
 * Prints searches per second and the p50 and p99 latency.
 *   bench_web_search HOME QUERIES-FILE [SECONDS] [THREADS]
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store/search.h"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_web_search: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct worker {
	pthread_t th;
	hx_store *s;
	char **q;
	size_t nq, start;
	double until;
	double *lat; /* seconds per search */
	size_t n, cap;
};

static void *run(void *arg)
{
	struct worker *w = arg;
	hx_searcher *sr;
	if (hx_searcher_new(&sr, w->s))
		die("cannot make a searcher");
	hx_search_opts o = { .limit = 10 };
	char err[256];
	for (size_t i = w->start; now_s() < w->until; i++) {
		hx_results r;
		double t0 = now_s();
		if (hx_search(sr, w->q[i % w->nq], &o, &r, err, sizeof err))
			die("search '%s' failed: %s", w->q[i % w->nq], err);
		hx_results_clear(&r);
		double *nl = hx_grow(w->lat, &w->cap, w->n + 1, sizeof *w->lat);
		if (!nl)
			die("out of memory");
		w->lat = nl;
		w->lat[w->n++] = now_s() - t0;
	}
	hx_searcher_free(&sr);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("usage: bench_web_search HOME QUERIES-FILE [SECONDS] [THREADS]");
	double secs = argc > 3 ? atof(argv[3]) : 10;
	int threads = argc > 4 ? atoi(argv[4]) : 1;
	if (secs <= 0 || threads < 1 || threads > 64)
		die("bad SECONDS or THREADS");
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/store", argv[1]);
	hx_store *s;
	if (hx_store_open(&s, dir, HX_STORE_RDONLY))
		die("cannot open %s", dir);
	FILE *f = fopen(argv[2], "r");
	if (!f)
		die("cannot read %s", argv[2]);
	char line[1024], **q = NULL;
	size_t nq = 0, capq = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!*line)
			continue;
		char **nv = hx_grow(q, &capq, nq + 1, sizeof *q);
		if (!nv || !(nv[nq] = strdup(line)))
			die("out of memory");
		q = nv;
		nq++;
	}
	fclose(f);
	if (!nq)
		die("no queries in %s", argv[2]);
	struct worker *w = calloc((size_t)threads, sizeof *w);
	double t0 = now_s();
	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){
			.s = s, .q = q, .nq = nq, .start = (size_t)i * 7, .until = t0 + secs
		};
		pthread_create(&w[i].th, NULL, run, &w[i]);
	}
	size_t total = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].n;
	}
	double el = now_s() - t0;
	double *all = malloc((total ? total : 1) * sizeof *all);
	size_t k = 0;
	for (int i = 0; i < threads; i++) {
		memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
		k += w[i].n;
		free(w[i].lat);
	}
	qsort(all, total, sizeof *all, cmp_d);
	printf("in-process searches/s %.0f p50_ms %.3f p99_ms %.3f threads %d searches %zu\n",
	       (double)total / el, total ? all[total / 2] * 1e3 : 0,
	       total ? all[(size_t)((double)total * 0.99)] * 1e3 : 0, threads, total);
	free(all);
	free(w);
	for (size_t i = 0; i < nq; i++)
		free(q[i]);
	free(q);
	hx_store_close(&s);
	return 0;
}
