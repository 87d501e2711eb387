/*
 * search.c (bench_search): hansa's search index against SQLite FTS5 on the
 * same documents and queries, in the same run. Loads the corpus (or its
 * first N lines) into a fresh hansa store (entries signed beforehand, so
 * the build time is storing + indexing, no signature work) and into an FTS5
 * table (unicode61 remove_diacritics 2, bm25 with the same field weights),
 * then runs one query set on both and prints per query and overall median
 * and p99 latency and their ratio, build time and size ratios, and MRR@10
 * of known-item queries made from a document's rarest title words.
 *
 *   bench_search [--corpus FILE.jsonl[.xz]] [--docs N] [--batch N]
 *                [--reps N] [--known N] [--dir DIR] [--verbose]
 *
 * The corpus defaults to ../shared/data/tools-corpus.jsonl.xz (run from the
 * repository root). Latencies are wall-clock per query (parse, rank, and
 * fetch path and title of the top 10), each query run --reps times on each
 * engine in turn after one warm-up run.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include <sqlite3.h>
#include "store/store.h"
#include "store/search.h"
#include "store/tokenize.h"

#define NPARTNERS 8

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bench_search: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* ---- corpus -------------------------------------------------------------- */

struct doc {
	char *path, *title, *body, *lang, *org, *country, *url, *kind;
	char **tags;
	size_t ntags;
	char *tagtext; /* tags joined by spaces, for FTS5 */
	int partner;
	hx_meta meta[3];
	hx_entry e;
	uint8_t *raw;
	size_t rawlen;
};

static char *dupstr(const cJSON *o, const char *k, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	const char *s = cJSON_IsString(v) ? v->valuestring : dflt;
	return s ? strdup(s) : NULL;
}

static size_t load_corpus(const char *file, size_t max, struct doc **out)
{
	char cmd[4200];
	FILE *f;
	int piped = 0;
	size_t l = strlen(file);
	if (l > 3 && !strcmp(file + l - 3, ".xz")) {
		snprintf(cmd, sizeof cmd, "xz -dc '%s'", file);
		f = popen(cmd, "r");
		piped = 1;
	} else {
		f = fopen(file, "r");
	}
	if (!f)
		die("cannot read %s", file);
	size_t n = 0, cap = 1024;
	struct doc *d = calloc(cap, sizeof *d);
	char *line = NULL;
	size_t lcap = 0;
	while (n < max && getline(&line, &lcap, f) > 0) {
		cJSON *o = cJSON_Parse(line);
		if (!o)
			continue;
		if (n == cap) {
			cap *= 2;
			d = realloc(d, cap * sizeof *d);
			memset(d + n, 0, (cap - n) * sizeof *d);
		}
		struct doc *x = &d[n];
		x->path = dupstr(o, "doc", NULL);
		x->title = dupstr(o, "title", NULL);
		x->body = dupstr(o, "body", "");
		x->lang = dupstr(o, "lang", "en");
		x->kind = dupstr(o, "kind", "toolkit");
		x->org = dupstr(o, "org", "");
		x->country = dupstr(o, "country", "");
		x->url = dupstr(o, "url", "");
		const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags"), *it;
		size_t nt = (size_t)cJSON_GetArraySize(tags), tl = 1;
		x->tags = calloc(nt + 1, sizeof *x->tags);
		cJSON_ArrayForEach(it, tags)
			if (cJSON_IsString(it) && x->ntags < HX_TAGS_MAX) {
				x->tags[x->ntags++] = strdup(it->valuestring);
				tl += strlen(it->valuestring) + 1;
			}
		x->tagtext = calloc(tl, 1);
		for (size_t i = 0; i < x->ntags; i++) {
			if (i)
				strcat(x->tagtext, " ");
			strcat(x->tagtext, x->tags[i]);
		}
		cJSON_Delete(o);
		if (!x->path || !x->title)
			continue;
		/* ~2,100 organisations onto a handful of partner keys. */
		unsigned h = 5381;
		for (const char *p = x->org; *p; p++)
			h = h * 33 + (unsigned char)*p;
		x->partner = (int)(h % NPARTNERS);
		n++;
	}
	free(line);
	if (piped)
		pclose(f);
	else
		fclose(f);
	*out = d;
	return n;
}

/* ---- signing (not timed) ---------------------------------------------------- */

struct signer {
	struct doc *d;
	size_t from, to;
	uint8_t (*sk)[HX_SECRET_LEN];
	size_t bad;
};

static void *sign_range(void *arg)
{
	struct signer *s = arg;
	for (size_t i = s->from; i < s->to; i++) {
		struct doc *x = &s->d[i];
		hx_entry *e = &x->e;
		memset(e, 0, sizeof *e);
		e->path = x->path;
		e->timestamp = 1700000000000000ull + i * 1000;
		e->kind = x->kind;
		e->title = x->title;
		e->body = x->body;
		e->tags = x->tags;
		e->ntags = x->ntags;
		e->lang = x->lang;
		size_t nm = 0;
		if (*x->org)
			x->meta[nm++] = (hx_meta){ "org", x->org };
		if (*x->country)
			x->meta[nm++] = (hx_meta){ "country", x->country };
		if (*x->url)
			x->meta[nm++] = (hx_meta){ "url", x->url };
		e->meta = x->meta;
		e->nmeta = nm;
		if (hx_entry_sign(e, s->sk[x->partner], &x->raw, &x->rawlen)) {
			x->raw = NULL;
			s->bad++;
		}
	}
	return NULL;
}

/* ---- main ------------------------------------------------------------------ */

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void sql_ok(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "bench_search: sqlite %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

/* The FTS5 anchor: same documents, same fields, same weights. */
static sqlite3 *fts_build(const char *file, struct doc *d, size_t n, double *wall, double *cpu)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	unlink(file);
	sql_ok(NULL, sqlite3_open(file, &db), "open");
	sql_ok(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", 0, 0, 0), "pragma");
	sql_ok(db, sqlite3_exec(db,
		"CREATE VIRTUAL TABLE t USING fts5(title, tags, body, lang UNINDEXED, "
		"kind UNINDEXED, country UNINDEXED, org UNINDEXED, path UNINDEXED, "
		"tokenize='unicode61 remove_diacritics 2')", 0, 0, 0), "create");
	double w0 = now_s(), c0 = cpu_s();
	sql_ok(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin");
	sql_ok(db, sqlite3_prepare_v2(db, "INSERT INTO t(rowid, title, tags, body, lang, kind, "
				      "country, org, path) VALUES (?,?,?,?,?,?,?,?,?)", -1, &st, 0), "prepare");
	for (size_t i = 0; i < n; i++) {
		if (!d[i].raw)
			continue;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
		sqlite3_bind_text(st, 2, d[i].title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d[i].tagtext, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, d[i].body, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, d[i].lang, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, d[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, d[i].country, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, d[i].org, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, d[i].path, -1, SQLITE_STATIC);
		sql_ok(db, sqlite3_step(st), "insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	sql_ok(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit");
	*wall = now_s() - w0;
	*cpu = cpu_s() - c0;
	return db;
}


/* ---- the query set ------------------------------------------------------------ */

/* Each query in hansa's syntax and in FTS5's (MATCH expression and an SQL
 * condition on the unindexed columns for filters). */
static const struct bq {
	const char *cat, *hx, *fts, *where;
} queries[] = {
	{ "common", "python", "python", NULL },
	{ "common", "library", "library", NULL },
	{ "common", "data", "data", NULL },
	{ "common", "file", "file", NULL },
	{ "common", "server", "server", NULL },
	{ "common", "support", "support", NULL },
	{ "common", "development", "development", NULL },
	{ "common", "til", "til", NULL },
	{ "common", "und", "und", NULL },
	{ "rare", "chargebee", "chargebee", NULL },
	{ "rare", "wxwidgets", "wxwidgets", NULL },
	{ "rare", "zeroconf", "zeroconf", NULL },
	{ "rare", "sudoku", "sudoku", NULL },
	{ "rare", "fiasco", "fiasco", NULL },
	{ "rare", "bittorrent", "bittorrent", NULL },
	{ "rare", "kerberos", "kerberos", NULL },
	{ "rare", "quaternion", "quaternion", NULL },
	{ "and", "python library", "python library", NULL },
	{ "and", "xml parser", "xml parser", NULL },
	{ "and", "web server", "web server", NULL },
	{ "and", "image viewer", "image viewer", NULL },
	{ "and", "audio player", "audio player", NULL },
	{ "and", "network monitor", "network monitor", NULL },
	{ "and", "file manager", "file manager", NULL },
	{ "and", "game engine", "game engine", NULL },
	{ "phrase", "\"command line\"", "\"command line\"", NULL },
	{ "phrase", "\"web browser\"", "\"web browser\"", NULL },
	{ "phrase", "\"text editor\"", "\"text editor\"", NULL },
	{ "phrase", "\"development files\"", "\"development files\"", NULL },
	{ "phrase", "\"shared library\"", "\"shared library\"", NULL },
	{ "phrase", "\"this package contains\"", "\"this package contains\"", NULL },
	{ "prefix", "lib*", "lib*", NULL },
	{ "prefix", "net*", "net*", NULL },
	{ "prefix", "pyth*", "pyth*", NULL },
	{ "prefix", "crypt*", "crypt*", NULL },
	{ "prefix", "compil*", "compil*", NULL },
	{ "prefix", "spil*", "spil*", NULL },
	{ "filter", "python lang:en", "python", "lang = 'en'" },
	{ "filter", "bibliotek lang:da", "bibliotek", "lang = 'da'" },
	{ "filter", "bibliothek lang:de", "bibliothek", "lang = 'de'" },
	{ "filter", "editor country:de", "editor", "country = 'DE'" },
	{ "filter", "server -lang:en", "server", "lang <> 'en'" },
	{ "filter", "game kind:toolkit", "game", "kind = 'toolkit'" },
	{ "places", "kobenhavn", "kobenhavn", NULL },
	{ "places", "nurnberg", "nurnberg", NULL },
	{ "places", "lubeck", "lubeck", NULL },
	{ "places", "sao paulo", "sao paulo", NULL },
	{ "places", "worterbuch", "worterbuch", NULL },
	{ "places", "vaerktoj", "vaerktoj", NULL },
	{ "places", "narzedzie", "narzedzie", NULL },
	{ "places", "oberflache", "oberflache", NULL },
	{ "other", "python -perl", "python NOT perl", NULL },
	{ "other", "perl OR ruby", "perl OR ruby", NULL },
};
#define NQ (sizeof queries / sizeof queries[0])

struct fts {
	sqlite3 *db;
	sqlite3_stmt *plain;
};

/* Runs one FTS5 query; returns the rowids of the top 10 in ids. */
static int fts_run(struct fts *f, const char *match, const char *where, long *ids, int max)
{
	sqlite3_stmt *st = f->plain, *own = NULL;
	if (where) {
		char sql[512];
		snprintf(sql, sizeof sql, "SELECT rowid, title, path FROM t WHERE t MATCH ?1 AND %s "
			 "ORDER BY rank LIMIT 10", where);
		sql_ok(f->db, sqlite3_prepare_v2(f->db, sql, -1, &own, 0), "prepare");
		st = own;
	}
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *title = sqlite3_column_text(st, 1);
		const unsigned char *path = sqlite3_column_text(st, 2);
		(void)title;
		(void)path;
		if (n < max)
			ids[n] = (long)sqlite3_column_int64(st, 0);
		n++;
	}
	if (rc != SQLITE_DONE)
		n = -1;
	sqlite3_reset(st);
	if (own)
		sqlite3_finalize(own);
	return n;
}

/* One hansa query; docs[] of the top 10 as corpus indices (via paths). */
struct pathmap {
	char **keys;
	size_t *vals;
	size_t cap;
};

static uint64_t strhash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static void pm_put(struct pathmap *m, char *k, size_t v)
{
	size_t j = strhash(k) & (m->cap - 1);
	while (m->keys[j])
		j = (j + 1) & (m->cap - 1);
	m->keys[j] = k;
	m->vals[j] = v;
}

static long pm_get(const struct pathmap *m, const char *k)
{
	size_t j = strhash(k) & (m->cap - 1);
	while (m->keys[j]) {
		if (!strcmp(m->keys[j], k))
			return (long)m->vals[j];
		j = (j + 1) & (m->cap - 1);
	}
	return -1;
}

static int hx_run(hx_searcher *sr, const char *q, const struct pathmap *pm, long *ids, int max)
{
	hx_search_opts o = { 10, 0, 0, 1, 1 }; /* like FTS5: no snippets, no suggestions */
	hx_results r;
	char err[256];
	int rc = hx_search(sr, q, &o, &r, err, sizeof err);
	if (rc) {
		fprintf(stderr, "bench_search: hansa query [%s]: %s\n", q, err);
		return -1;
	}
	int n = (int)r.nhits;
	for (int i = 0; i < n && i < max; i++)
		ids[i] = pm_get(pm, r.hits[i].path) + 1; /* rowid = index + 1 */
	hx_results_clear(&r);
	return n;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof *v, cmp_dbl);
	size_t i = (size_t)ceil(p * (double)n) - 1;
	if (i >= n)
		i = n - 1;
	return v[i];
}

/* ---- known-item queries -------------------------------------------------------- */

struct dfmap {
	char **keys;
	uint32_t *df, *last;
	size_t cap, n;
};

static uint32_t *df_slot(struct dfmap *m, const char *w, size_t len, int add)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)w[i]) * 1099511628211ull;
	size_t j = h & (m->cap - 1);
	while (m->keys[j]) {
		if (strlen(m->keys[j]) == len && !memcmp(m->keys[j], w, len))
			return &m->df[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!add)
		return NULL;
	m->keys[j] = strndup(w, len);
	m->df[j] = 0;
	m->last[j] = UINT32_MAX;
	m->n++;
	return &m->df[j];
}

static void df_count(struct dfmap *m, const char *text, uint32_t doc)
{
	hx_tokenizer t;
	hx_token k;
	hx_tok_init(&t, text, strlen(text));
	while (hx_tok_next(&t, &k)) {
		uint32_t *df = df_slot(m, k.word, k.len, 1);
		size_t j = (size_t)(df - m->df);
		if (m->last[j] != doc) {
			m->last[j] = doc;
			(*df)++;
		}
	}
}

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	const char *corpus = "../shared/data/tools-corpus.jsonl.xz";
	size_t maxdocs = (size_t)-1, batch = 200000, nknown = 1000;
	int reps = 5, verbose = 0;
	char dir[4096] = "";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--corpus") && i + 1 < argc)
			corpus = argv[++i];
		else if (!strcmp(argv[i], "--docs") && i + 1 < argc)
			maxdocs = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
			batch = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--known") && i + 1 < argc)
			nknown = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			snprintf(dir, sizeof dir, "%s", argv[++i]);
		else if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else {
			fprintf(stderr, "usage: bench_search [--corpus FILE.jsonl[.xz]] [--docs N] [--batch N] "
				"[--reps N] [--known N] [--dir DIR] [--verbose]\n");
			return 2;
		}
	}
	if (sodium_init() < 0)
		die("%s", "libsodium failed");
	if (batch == 0)
		batch = 1;
	if (reps < 1)
		reps = 1;

	double t0 = now_s();
	struct doc *docs;
	size_t n = load_corpus(corpus, maxdocs, &docs);
	printf("corpus: %zu documents from %s (%.1f s to read)\n", n, corpus, now_s() - t0);
	if (!n)
		die("%s", "no documents");

	/* Keys and signatures, on two threads; not part of any timing. */
	uint8_t sk[NPARTNERS][HX_SECRET_LEN], pk[HX_KEY_LEN];
	for (int i = 0; i < NPARTNERS; i++)
		crypto_sign_keypair(pk, sk[i]);
	t0 = now_s();
	struct signer sg[2] = { { docs, 0, n / 2, sk, 0 }, { docs, n / 2, n, sk, 0 } };
	pthread_t th;
	pthread_create(&th, NULL, sign_range, &sg[1]);
	sign_range(&sg[0]);
	pthread_join(th, NULL);
	printf("signed in %.1f s (not timed below); %zu refused\n\n", now_s() - t0, sg[0].bad + sg[1].bad);

	char tmpl[] = "/tmp/hx-bench-search-XXXXXX";
	int own_dir = !*dir;
	if (own_dir) {
		if (!mkdtemp(tmpl))
			die("%s", "mkdtemp failed");
		snprintf(dir, sizeof dir, "%s/store", tmpl);
	}

	/* ---- builds ---- */
	double fts_wall, fts_cpu;
	char ftsfile[4200];
	snprintf(ftsfile, sizeof ftsfile, "%s.fts5.db", dir);
	struct fts f = { 0 };
	f.db = fts_build(ftsfile, docs, n, &fts_wall, &fts_cpu);
	sql_ok(f.db, sqlite3_exec(f.db, "INSERT INTO t(t, rank) VALUES('rank', 'bm25(4.0, 2.0, 1.0, 0, 0, 0, 0, 0)')",
				  0, 0, 0), "rank");
	sql_ok(f.db, sqlite3_prepare_v2(f.db, "SELECT rowid, title, path FROM t WHERE t MATCH ?1 "
					"ORDER BY rank LIMIT 10", -1, &f.plain, 0), "prepare");

	hx_store *s;
	if (hx_store_open(&s, dir, HX_STORE_CREATE))
		die("cannot create store in %s", dir);
	hx_put *puts = calloc(batch, sizeof *puts);
	double build = 0, build_cpu = 0;
	size_t stored = 0;
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		for (; i < n && k < batch; i++) {
			if (!docs[i].raw)
				continue;
			puts[k].raw = docs[i].raw;
			puts[k].rawlen = docs[i].rawlen;
			puts[k].entry = &docs[i].e;
			k++;
		}
		size_t added = 0;
		double a = now_s(), ac = cpu_s();
		int rc = hx_store_put_batch(s, puts, k, 0, &added);
		build += now_s() - a;
		build_cpu += cpu_s() - ac;
		if (rc)
			die("put_batch: %s", hx_strerror(rc));
		stored += added;
	}
	free(puts);
	uint64_t ndocs = 0;
	t0 = now_s();
	double c0 = cpu_s();
	int rc = hx_store_reindex(s, &ndocs);
	double reindex = now_s() - t0, reindex_cpu = cpu_s() - c0;
	if (rc)
		die("reindex: %s", hx_strerror(rc));

	uint64_t ix_bytes = 0, store_bytes = 0;
	if (hx_search_sizes(s, &ix_bytes, &store_bytes))
		die("%s", "sizes");
	sqlite3_stmt *st;
	uint64_t fts_ix = 0, fts_all = 0;
	if (sqlite3_prepare_v2(f.db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name", -1, &st, 0) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			uint64_t b = (uint64_t)sqlite3_column_int64(st, 1);
			fts_all += b;
			if (strcmp(name, "t_content"))
				fts_ix += b;
		}
		sqlite3_finalize(st);
	}

	printf("build (%zu documents)             hansa        fts5    hansa/fts5\n", stored);
	printf("  index only, wall s      %10.2f  %10.2f  %8.2f   (hansa: reindex from stored entries)\n",
	       reindex, fts_wall, reindex / fts_wall);
	printf("  index only, cpu s       %10.2f  %10.2f  %8.2f\n", reindex_cpu, fts_cpu, reindex_cpu / fts_cpu);
	printf("  store+index, wall s     %10.2f  %10.2f  %8.2f   (hansa: put_batch of signed entries, batches of %zu)\n",
	       build, fts_wall, build / fts_wall, batch);
	printf("  store+index, cpu s      %10.2f  %10.2f  %8.2f\n", build_cpu, fts_cpu, build_cpu / fts_cpu);
	printf("  index size, MB          %10.1f  %10.1f  %8.2f   (fts5: all but t_content)\n",
	       (double)ix_bytes / 1e6, (double)fts_ix / 1e6, (double)ix_bytes / (double)fts_ix);
	printf("  whole store, MB         %10.1f  %10.1f  %8.2f   (pages in use; hansa keeps signed entries and history)\n\n",
	       (double)store_bytes / 1e6, (double)fts_all / 1e6, (double)store_bytes / (double)fts_all);

	/* ---- latency ---- */
	struct pathmap pm = { 0 };
	pm.cap = 1;
	while (pm.cap < 2 * n)
		pm.cap <<= 1;
	pm.keys = calloc(pm.cap, sizeof *pm.keys);
	pm.vals = calloc(pm.cap, sizeof *pm.vals);
	for (size_t i = 0; i < n; i++)
		pm_put(&pm, docs[i].path, i);

	hx_searcher *sr;
	if (hx_searcher_new(&sr, s))
		die("%s", "searcher");
	size_t nsamp = NQ * (size_t)reps;
	double *hs = calloc(nsamp, sizeof *hs), *fs = calloc(nsamp, sizeof *fs);
	double *qh = calloc((size_t)reps, sizeof *qh), *qf = calloc((size_t)reps, sizeof *qf);
	size_t ns = 0;
	printf("%-7s %-26s %6s %6s %10s %10s %7s\n", "kind", "query", "hits", "fts", "hansa us", "fts5 us",
	       "ratio");
	for (size_t q = 0; q < NQ; q++) {
		long hid[10], fid[10];
		int hn = hx_run(sr, queries[q].hx, &pm, hid, 10);
		int fn = fts_run(&f, queries[q].fts, queries[q].where, fid, 10);
		for (int r = 0; r < reps; r++) {
			double a = now_s();
			hx_run(sr, queries[q].hx, &pm, hid, 10);
			qh[r] = (now_s() - a) * 1e6;
			a = now_s();
			fts_run(&f, queries[q].fts, queries[q].where, fid, 10);
			qf[r] = (now_s() - a) * 1e6;
			hs[ns] = qh[r];
			fs[ns++] = qf[r];
		}
		double mh = pct(qh, (size_t)reps, 0.5), mf = pct(qf, (size_t)reps, 0.5);
		printf("%-7s %-26s %6d %6d %10.1f %10.1f %7.3f\n", queries[q].cat, queries[q].hx, hn, fn, mh,
		       mf, mh / mf);
		if (verbose) {
			for (int i = 0; i < 3 && (i < hn || i < fn); i++)
				printf("        %d: %-36s %s\n", i + 1, i < hn && hid[i] > 0 ? docs[hid[i] - 1].path : "-",
				       i < fn && fid[i] > 0 ? docs[fid[i] - 1].path : "-");
		}
	}
	double h50 = pct(hs, ns, 0.5), f50 = pct(fs, ns, 0.5);
	double h99 = pct(hs, ns, 0.99), f99 = pct(fs, ns, 0.99);
	printf("\nlatency over %zu queries x %d runs   hansa us    fts5 us   hansa/fts5\n", NQ, reps);
	printf("  median                         %9.1f  %9.1f   %8.3f\n", h50, f50, h50 / f50);
	printf("  p99                            %9.1f  %9.1f   %8.3f\n\n", h99, f99, h99 / f99);

	/* ---- known items: MRR@10 ---- */
	struct dfmap dm = { 0 };
	dm.cap = 1 << 22;
	dm.keys = calloc(dm.cap, sizeof *dm.keys);
	dm.df = calloc(dm.cap, sizeof *dm.df);
	dm.last = calloc(dm.cap, sizeof *dm.last);
	for (size_t i = 0; i < n; i++) {
		df_count(&dm, docs[i].title, (uint32_t)i);
		df_count(&dm, docs[i].tagtext, (uint32_t)i);
		df_count(&dm, docs[i].body, (uint32_t)i);
	}
	unsigned seed = 42;
	double mrr_h = 0, mrr_f = 0;
	size_t asked = 0, found_h = 0, found_f = 0;
	for (size_t t = 0; t < nknown; t++) {
		seed = seed * 1103515245u + 12345u;
		size_t di = ((size_t)(seed >> 4)) % n;
		/* the two rarest distinct words of the title */
		char w[2][HX_TOKEN_MAX + 1];
		uint32_t best[2] = { UINT32_MAX, UINT32_MAX };
		hx_tokenizer tk;
		hx_token k;
		hx_tok_init(&tk, docs[di].title, strlen(docs[di].title));
		while (hx_tok_next(&tk, &k)) {
			uint32_t *df = df_slot(&dm, k.word, k.len, 0);
			uint32_t d = df ? *df : 0;
			if ((best[0] != UINT32_MAX && !strcmp(w[0], k.word)) ||
			    (best[1] != UINT32_MAX && !strcmp(w[1], k.word)))
				continue;
			if (d < best[0]) {
				best[1] = best[0];
				memcpy(w[1], w[0], sizeof w[0]);
				best[0] = d;
				snprintf(w[0], sizeof w[0], "%s", k.word);
			} else if (d < best[1]) {
				best[1] = d;
				snprintf(w[1], sizeof w[1], "%s", k.word);
			}
		}
		if (best[0] == UINT32_MAX)
			continue;
		char hq[160], fq[160];
		if (best[1] != UINT32_MAX) {
			snprintf(hq, sizeof hq, "%s %s", w[0], w[1]);
			snprintf(fq, sizeof fq, "\"%s\" \"%s\"", w[0], w[1]);
		} else {
			snprintf(hq, sizeof hq, "%s", w[0]);
			snprintf(fq, sizeof fq, "\"%s\"", w[0]);
		}
		long hid[10], fid[10];
		int hn = hx_run(sr, hq, &pm, hid, 10), fn = fts_run(&f, fq, NULL, fid, 10);
		asked++;
		int hr = 0, fr = 0;
		for (int i = 0; i < hn && i < 10; i++)
			if (hid[i] == (long)di + 1) {
				mrr_h += 1.0 / (i + 1);
				found_h++;
				hr = i + 1;
				break;
			}
		for (int i = 0; i < fn && i < 10; i++)
			if (fid[i] == (long)di + 1) {
				mrr_f += 1.0 / (i + 1);
				found_f++;
				fr = i + 1;
				break;
			}
		if (verbose && hr != fr) {
			printf("  known %-32s [%s] rank hansa %d fts5 %d (0 = not in top 10)\n", docs[di].path, hq,
			       hr, fr);
			for (int i = 0; i < 3; i++)
				printf("        %d: %-40s %s\n", i + 1, i < hn ? docs[hid[i] - 1].title : "-",
				       i < fn ? docs[fid[i] - 1].title : "-");
		}
	}
	printf("known items (%zu queries from the 2 rarest title words)   hansa    fts5\n", asked);
	printf("  MRR@10                                                %6.3f  %6.3f\n",
	       asked ? mrr_h / (double)asked : 0, asked ? mrr_f / (double)asked : 0);
	printf("  found in top 10                                       %6zu  %6zu\n\n", found_h, found_f);

	printf("targets: median %.3f (<= 0.5), p99 %.3f (<= 1), index build %.2f (<= 1), MRR %.3f vs %.3f (>=)\n",
	       h50 / f50, h99 / f99, reindex / fts_wall, asked ? mrr_h / (double)asked : 0,
	       asked ? mrr_f / (double)asked : 0);

	hx_searcher_free(&sr);
	hx_store_close(&s);
	sqlite3_finalize(f.plain);
	sqlite3_close(f.db);
	if (own_dir) {
		char cmd[4300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
		if (system(cmd))
			fprintf(stderr, "bench_search: could not remove %s\n", tmpl);
	}
	return 0;
}
