/*
 * extract.c (bench_extract): wall time to take the text out of a PDF with
 * hansa's sandboxed extractor (extract/extract.h: a child process, limits,
 * seccomp, per-page frames checked by the parent), per MiB of PDF, against
 * running `pdftotext FILE -` (poppler-utils, the same library underneath)
 * on the same file in the same run. Prints both and their ratio (median of
 * the runs), with the load average.
 *
 *   bench_extract [PDF [RUNS]]   default: a PDF of 400 pages made with
 *                                chromium --headless; RUNS = 5
 *
 * This program hosts the extractor's worker itself (it runs as the child
 * with argv[1] "extract-worker"), as the hansa binary does.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "extract/extract.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A PDF of pages of toolkit-like prose, printed by chromium. */
static int make_pdf(const char *dir, char *pdf, size_t n)
{
	char html[4096], cmd[8192];
	snprintf(html, sizeof html, "%s/book.html", dir);
	snprintf(pdf, n, "%s/book.pdf", dir);
	FILE *f = fopen(html, "w");
	if (!f)
		return -1;
	fputs("<html><body style=\"font-size: 11pt\">", f);
	for (int p = 1; p <= 400; p++) {
		fprintf(f, "<div style=\"page-break-after: always\"><h2>Chapter %d</h2>", p);
		for (int k = 0; k < 12; k++)
			fprintf(f,
			        "<p>Culture-driven social resilience in municipality %d: the "
			        "toolkit describes peer learning between regions, innovation "
			        "brokerage for SMEs, smart specialisation and the evaluation of "
			        "impact in Białystok, Cēsis and Peipsiääre (case %d).</p>",
			        p, k);
		fputs("</div>", f);
	}
	fputs("</body></html>", f);
	if (fclose(f))
		return -1;
	snprintf(
	        cmd, sizeof cmd,
	        "HOME=%.400s chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer "
	        "--user-data-dir=%.400s/chromium --print-to-pdf=%.400s %.400s >/dev/null 2>&1",
	        dir, dir, pdf, html);
	return system(cmd) == 0 && access(pdf, R_OK) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int rc;
	if (hx_extract_dispatch(argc, argv, &rc))
		return rc;

	char dir[] = "/tmp/hx-bench-extract.XXXXXX", pdf[4200], cmd[8400];
	int runs = argc > 2 ? atoi(argv[2]) : 5, made = 0;
	struct stat st;

	if (runs < 1 || runs > 100)
		runs = 5;
	if (argc > 1) {
		snprintf(pdf, sizeof pdf, "%s", argv[1]);
	} else {
		if (!mkdtemp(dir) || make_pdf(dir, pdf, sizeof pdf)) {
			fprintf(stderr,
			        "bench_extract: cannot make a PDF with chromium (give one)\n");
			return 1;
		}
		made = 1;
	}
	if (stat(pdf, &st)) {
		perror(pdf);
		return 1;
	}
	double mib = st.st_size / 1048576.0, ours[100], theirs[100];
	size_t bytes = 0, pages = 0;
	struct hx_extract_limits lim;
	hx_extract_limits_default(&lim);
	lim.text = (size_t)256 << 20; /* the bench measures speed, not the limit */
	lim.wall_ms = 600000;
	lim.cpu_s = 600;

	snprintf(cmd, sizeof cmd, "pdftotext '%.4000s' - >/dev/null 2>&1", pdf);
	for (int i = 0; i < runs; i++) {
		hx_extract_result r;
		double t0 = now();
		rc = hx_extract_path(pdf, NULL, NULL, &lim, &r);
		ours[i] = now() - t0;
		if (rc) {
			fprintf(stderr, "bench_extract: %s: %s\n", pdf, r.why);
			return 1;
		}
		bytes = r.total;
		pages = r.nparts;
		hx_extract_result_free(&r);
		t0 = now();
		if (system(cmd) != 0) {
			fprintf(stderr,
			        "bench_extract: pdftotext failed (apt-get install poppler-utils)\n");
			return 1;
		}
		theirs[i] = now() - t0;
	}
	double a = median(ours, runs), b = median(theirs, runs), load[3] = { 0 };
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("PDF: %s, %.2f MiB, %zu pages with text, %zu bytes of text; %d runs, load %.2f\n",
	       pdf, mib, pages, bytes, runs, load[0]);
	printf("%-34s %9s %10s\n", "", "median s", "s per MiB");
	printf("%-34s %9.3f %10.3f\n", "hansa extractor (sandboxed child)", a, a / mib);
	printf("%-34s %9.3f %10.3f\n", "pdftotext (anchor)", b, b / mib);
	printf("ratio extractor / pdftotext: %.2fx\n", a / b);
	if (made) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
