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
 *                [--reps N] [--known N] [--dir DIR | --keep DIR] [--verbose] [--no-proximity]
 *                [--stride K | --full] [--queries N] [--tune] [--lang-only]
 *                [--xapian-ids] [--hansa-only] [--variant K=V,...]... [--dump FILE]
 *                [--slowest N [--rerun-slowest R]] [--rerun-set LANG:KIND R]
 *                [--worse] [--ties-reversed] [--translations]
 *
 * The corpus defaults to ../shared/data/tools-corpus.jsonl.xz (run from the
 * repository root). Latencies are wall-clock per query (parse, rank, and
 * fetch the stored fields of the top 10: hansa's hits carry path, title,
 * kind, language and organisation, Xapian reads the same fields stored as
 * each document's data, unless --xapian-ids), each query run --reps times
 * on each engine in turn after one warm-up run. --keep DIR builds the store and
 * the anchors in DIR once and reuses them in later runs over the same
 * documents; --lang-only runs the per-language sets alone (no 53-query
 * table, no 1,000 known items); --dump FILE writes hansa's result of each
 * per-language query (total, correction, hits with their exact scores), so
 * that two builds can be diffed; --slowest N prints hansa's N slowest
 * queries of each language (what makes its p99), and --rerun-slowest R
 * runs them R more times at the end, for a profile of them alone;
 * --rerun-set LANG:KIND R runs one language's queries of one kind (known,
 * inflected, ascii, typo) R more times, for a profile of that set; --worse
 * prints each per-language query where hansa ranks the target below the
 * best anchor, with every system's rank and top 3, and --ties-reversed
 * counts hansa's exactly tied hits in the reverse order (what a set owes
 * to the order of ties); --translations makes each document whose path is
 * another's plus a language suffix (tools/0ad.da of tools/0ad: 67,961 in
 * the corpus) declare itself a translation of it (translation_of), so
 * that hansa collapses them as a partner's store would, and every system's
 * hit then counts when it is the target or one of its translations.
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
#include <libstemmer.h>
#include "store/store.h"
#include "store/search.h"
#include "store/tokenize.h"
#ifdef HX_BENCH_XAPIAN
#include "bench/xapian.h"
#endif

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
	char *tr; /* --translations: the path it is a translation of */
	hx_meta meta[4];
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

/* Reads at most max documents; of each language the first SAMPLE_ALL
 * and then one in stride (the corpus comes grouped by language, so the
 * first N lines would be English only). */
#define SAMPLE_ALL 4000

static size_t load_corpus(const char *file, size_t max, size_t stride, struct doc **out)
{
	char seen[16][8] = { { 0 } };
	size_t seen_n[16] = { 0 }, nseen = 0;
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
		const cJSON *lj = cJSON_GetObjectItemCaseSensitive(o, "lang");
		const char *lang = cJSON_IsString(lj) ? lj->valuestring : "en";
		size_t li = 0;
		while (li < nseen && strncmp(seen[li], lang, sizeof seen[li] - 1))
			li++;
		if (li == nseen && nseen < 16)
			snprintf(seen[nseen++], sizeof seen[0], "%s", lang);
		if (li < 16 && seen_n[li]++ >= SAMPLE_ALL && (seen_n[li] - 1) % stride) {
			cJSON_Delete(o);
			continue;
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
		cJSON_ArrayForEach(it, tags) if (cJSON_IsString(it) && x->ntags < HX_TAGS_MAX)
		{
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
		if (x->tr)
			x->meta[nm++] = (hx_meta){ "translation_of", x->tr };
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

static double thread_cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

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

/* A copy of s folded the way hansa folds words (ø->o, æ->ae, marks
 * stripped, lower case), for the anchors over pre-folded text. */
static char *folded(const char *s)
{
	size_t l = strlen(s), cap = 3 * l + 16;
	char *o = malloc(cap);
	if (!o)
		die("%s", "out of memory");
	hx_fold_str(o, cap, s, l);
	return o;
}

/* The FTS5 anchor: same documents, same fields, same weights; with fold,
 * over text pre-folded to ASCII by hansa's folding. */
/* --keep DIR: the store and the anchors are built once in DIR and reused
 * by later runs with the same corpus options (build figures are then
 * those of the first run, printed as 0). */
static int keep_built;

static sqlite3 *fts_build(const char *file, struct doc *d, size_t n, int fold, double *wall,
                          double *cpu)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct stat sb;
	*wall = *cpu = 0;
	if (keep_built && !stat(file, &sb)) {
		sql_ok(NULL, sqlite3_open(file, &db), "open");
		return db;
	}
	unlink(file);
	sql_ok(NULL, sqlite3_open(file, &db), "open");
	sql_ok(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", 0, 0, 0),
	       "pragma");
	sql_ok(db,
	       sqlite3_exec(db,
	                    "CREATE VIRTUAL TABLE t USING fts5(title, tags, body, lang UNINDEXED, "
	                    "kind UNINDEXED, country UNINDEXED, org UNINDEXED, path UNINDEXED, "
	                    "tokenize='unicode61 remove_diacritics 2')",
	                    0, 0, 0),
	       "create");
	double w0 = now_s(), c0 = cpu_s();
	sql_ok(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin");
	sql_ok(db,
	       sqlite3_prepare_v2(db,
	                          "INSERT INTO t(rowid, title, tags, body, lang, kind, "
	                          "country, org, path) VALUES (?,?,?,?,?,?,?,?,?)",
	                          -1, &st, 0),
	       "prepare");
	for (size_t i = 0; i < n; i++) {
		if (!d[i].raw)
			continue;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
		if (fold) {
			sqlite3_bind_text(st, 2, folded(d[i].title), -1, free);
			sqlite3_bind_text(st, 3, folded(d[i].tagtext), -1, free);
			sqlite3_bind_text(st, 4, folded(d[i].body), -1, free);
		} else {
			sqlite3_bind_text(st, 2, d[i].title, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, d[i].tagtext, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, d[i].body, -1, SQLITE_STATIC);
		}
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

/* Builds the table next to the store in dir (over folded text with fold),
 * sets its ranking (bm25 with the field weights) and prepares its plain
 * query. */
static void fts_open(struct fts *f, const char *dir, struct doc *d, size_t n, int fold,
                     double *wall, double *cpu)
{
	char file[4200];
	snprintf(file, sizeof file, "%s.fts5%s.db", dir, fold ? "-fold" : "");
	f->db = fts_build(file, d, n, fold, wall, cpu);
	sql_ok(f->db,
	       sqlite3_exec(f->db,
	                    "INSERT INTO t(t, rank) VALUES('rank', "
	                    "'bm25(4.0, 2.0, 1.0, 0, 0, 0, 0, 0)')",
	                    0, 0, 0),
	       "rank");
	sql_ok(f->db,
	       sqlite3_prepare_v2(f->db,
	                          "SELECT rowid, title, path FROM t WHERE t MATCH ?1 "
	                          "ORDER BY rank LIMIT 10",
	                          -1, &f->plain, 0),
	       "prepare");
}

/* Runs one FTS5 query; returns the rowids of the top 10 in ids. */
static int fts_run(struct fts *f, const char *match, const char *where, long *ids, int max)
{
	sqlite3_stmt *st = f->plain, *own = NULL;
	if (where) {
		char sql[512];
		snprintf(sql, sizeof sql,
		         "SELECT rowid, title, path FROM t WHERE t MATCH ?1 AND %s "
		         "ORDER BY rank LIMIT 10",
		         where);
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

/* --no-proximity: hansa ranks by BM25F alone (to measure the boost). */
static int no_proximity;
/* --xapian-ids: Xapian's timed path returns docids only, without reading
 * the stored data of its top 10 (how it was timed before; hansa's hits
 * always carry path, title, kind, language and organisation). */
static int xap_ids_only;
/* --hansa-only: the per-language sets time hansa alone (for perf record;
 * the anchors' columns are then empty). */
static int hansa_only;
/* --translations: tr_group[i] is the corpus index of the document that
 * document i is a translation of, or i (a hit counts when its group is
 * the target's). NULL without --translations. */
static long *tr_group;

/* Whether a hit (a rowid: corpus index + 1) is the target document or,
 * with --translations, one of its translations. */
static int hit_is(long id, size_t doc)
{
	return id == (long)doc + 1 || (tr_group && id > 0 && tr_group[id - 1] == tr_group[doc]);
}

/* --translations: a document whose path is another's plus "." and a
 * suffix of 2-3 bytes (a language tag: of the corpus's 67,961, 11 are
 * other suffixes, as tools/python3.11 of tools/python3) declares itself
 * that one's translation. */
static void mark_translations(struct doc *docs, size_t n, const struct pathmap *pm)
{
	size_t nt = 0;
	if (!(tr_group = malloc(n * sizeof *tr_group)))
		die("%s", "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *p = docs[i].path, *dot = strrchr(p, '.'), *sl = strrchr(p, '/');
		size_t tl = dot ? strlen(dot + 1) : 0;
		long base = -1;
		tr_group[i] = (long)i;
		if (dot && (!sl || dot > sl) && tl >= 2 && tl <= 3) {
			char *b = strndup(p, (size_t)(dot - p));
			if (!b)
				die("%s", "out of memory");
			base = pm_get(pm, b);
			if (base >= 0) {
				docs[i].tr = b;
				tr_group[i] = base;
				nt++;
			} else {
				free(b);
			}
		}
	}
	printf("--translations: %zu documents declare the one they translate\n", nt);
}

/* --dump FILE: each hansa query's results (total, correction, and each
 * hit's path and score, exactly) written once, on its warm-up run, so that
 * two builds can be diffed: a speed change must leave them identical. */
static FILE *dump_f;
static int dump_now;
/* The last hansa query's total and correction (for --slowest). */
static uint64_t last_total;
static char last_corrected[256];
/* The last hansa query's scores of its top 10 (for --worse). */
static double last_score[10];
/* --ties-reversed: hansa's hits of exactly equal score are counted in the
 * reverse of their order (the later indexed document first), to measure
 * how much of a set's MRR is the order of ties, which no query word can
 * decide (siblings and translations whose titles hold the query words
 * alike: docs/SEARCH.md, "Finnish known items"). */
static int ties_reversed;

/* With suggest, a query that finds nothing runs its typo correction, as
 * the CLI does (the per-language sets); without, it is like FTS5. */
static int hx_run(hx_searcher *sr, const char *q, const struct pathmap *pm, long *ids, int max,
                  int suggest)
{
	hx_search_opts o = { 10, 0, 0, 1, !suggest, no_proximity }; /* no snippets */
	hx_results r;
	char err[256];
	int rc = hx_search(sr, q, &o, &r, err, sizeof err);
	if (rc) {
		fprintf(stderr, "bench_search: hansa query [%s]: %s\n", q, err);
		return -1;
	}
	int n = (int)r.nhits;
	last_total = r.total;
	snprintf(last_corrected, sizeof last_corrected, "%s", r.corrected ? r.corrected : "");
	for (int i = 0; i < n && i < max; i++)
		ids[i] = pm_get(pm, r.hits[i].path) + 1; /* rowid = index + 1 */
	for (int i = 0; i < 10; i++)
		last_score[i] = i < n && i < max ? r.hits[i].score : 0;
	for (int i = 0, j; ties_reversed && i < n && i < max; i = j) {
		for (j = i + 1; j < n && j < max && last_score[j] == last_score[i]; j++)
			;
		for (int a = i, b = j - 1; a < b; a++, b--) {
			long t = ids[a];
			ids[a] = ids[b];
			ids[b] = t;
		}
	}
	if (dump_f && dump_now) {
		fprintf(dump_f, "[%s] total %llu%s corrected [%s] suggest %zu\n", q,
		        (unsigned long long)r.total, r.total_exact ? "" : "+",
		        r.corrected ? r.corrected : "", r.nsuggest);
		for (size_t i = 0; i < r.nhits; i++)
			fprintf(dump_f, "  %a %s\n", r.hits[i].score, r.hits[i].path);
	}
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

/* The two rarest distinct words of title (folded) into w[0] (rarest) and
 * w[1]; returns how many there are (0..2). With asc, the first word that
 * has ä ö ü å ø æ goes there in its ASCII spelling (ascii_spelling)
 * instead and takes no part in the choice. */
#define WBUF (HX_TOKEN_MAX * 3)
static int ascii_spelling(const char *s, size_t len, char *out, size_t cap);

static int rarest2(struct dfmap *dm, const char *title, char w[2][WBUF], char *asc)
{
	uint32_t best[2] = { UINT32_MAX, UINT32_MAX };
	hx_tokenizer tk;
	hx_token k;
	if (asc)
		*asc = 0;
	hx_tok_init(&tk, title, strlen(title));
	while (hx_tok_next(&tk, &k)) {
		char a[WBUF];
		if (asc && !*asc && k.len >= 3 &&
		    ascii_spelling(title + k.start, k.end - k.start, a, sizeof a)) {
			snprintf(asc, WBUF, "%s", a);
			continue;
		}
		uint32_t *df = df_slot(dm, k.word, k.len, 0);
		uint32_t d = df ? *df : 0;
		if ((best[0] != UINT32_MAX && !strcmp(w[0], k.word)) ||
		    (best[1] != UINT32_MAX && !strcmp(w[1], k.word)))
			continue;
		if (d < best[0]) {
			best[1] = best[0];
			memcpy(w[1], w[0], WBUF);
			best[0] = d;
			snprintf(w[0], WBUF, "%s", k.word);
		} else if (d < best[1]) {
			best[1] = d;
			snprintf(w[1], WBUF, "%s", k.word);
		}
	}
	return best[0] == UINT32_MAX ? 0 : best[1] == UINT32_MAX ? 1 : 2;
}

/* ---- per-language query sets (issue 13) ------------------------------------------ */

/* Four query types per language, made from the corpus: a known item (the
 * two rarest title words of a document, typed without diacritics, as
 * hansa folds them), the same with one word in another inflected form (a
 * word of the same language's documents that shares all but at most 3
 * final letters with it, at least 4, the most frequent such: found without
 * any system's stemmer, so no system is favoured), with its ä ö ü å ø æ
 * typed as ae oe ue aa oe ae (titles that have such a letter), and with
 * one typo (a letter dropped, two swapped or one replaced) in the rarer
 * word. Each system gets the words in its own syntax (hansa with its typo
 * correction on, as the CLI runs it); Xapian parses them
 * with the stemmer of the query's language. */

enum { QT_KNOWN, QT_INFL, QT_ASCII, QT_TYPO, NQT };
static const char *const qt_name[NQT] = { "known", "inflected", "ascii ae/oe/aa", "one typo" };
static const char *const bench_langs[] = { "en", "da", "de", "pl", "fi", "sv" };
#define NBL (sizeof bench_langs / sizeof bench_langs[0])
enum { SYS_HX, SYS_FTS, SYS_FOLD, SYS_XAP, NSYS };
static const char *const sys_name[NSYS] = { "hansa", "fts5", "fts5-fold", "xapian" };

struct engines {
	hx_searcher *sr;
	const struct pathmap *pm;
	struct fts *fts, *fold;
	void *xap; /* hxb_xapian, or NULL */
};

/* --worse: the per-language queries where hansa ranks the target below
 * the best anchor, with each system's rank and top 3 (run_sys keeps each
 * system's last top 3 in last_top, 0 for an empty place). */
static int show_worse;
static long last_top[NSYS][3];

/* Runs words (space separated, already in the form to test) on system
 * sys; returns the rank (1..10) of doc, 0 when not in the top 10. */
static int run_sys(const struct engines *en, int sys, const char *words, const char *lang,
                   size_t doc)
{
	long ids[10];
	int n = 0;
	char q[512], w[HX_TOKEN_MAX * 3];
	size_t ql = 0;
	const char *p = words;
	if (sys == SYS_HX) {
		n = hx_run(en->sr, words, en->pm, ids, 10, 1);
	} else if (sys == SYS_XAP) {
#ifdef HX_BENCH_XAPIAN
		long r = hxb_xapian_search(en->xap, words, lang, ids, 10, !xap_ids_only);
		n = r < 0 ? -1 : r > 10 ? 10 : (int)r;
#else
		(void)lang;
		return 0;
#endif
	} else {
		/* FTS5: each word quoted; folded first for the folded table */
		while (*p) {
			size_t l = strcspn(p, " ");
			if (l && l < sizeof w / 3) {
				if (sys == SYS_FOLD)
					hx_fold_str(w, sizeof w, p, l);
				else
					snprintf(w, sizeof w, "%.*s", (int)l, p);
				ql += (size_t)snprintf(q + ql, sizeof q - ql, "%s\"%s\"",
				                       ql ? " " : "", w);
				if (ql >= sizeof q)
					return 0;
			}
			p += l;
			while (*p == ' ')
				p++;
		}
		n = fts_run(sys == SYS_FOLD ? en->fold : en->fts, q, NULL, ids, 10);
	}
	for (int i = 0; i < 3; i++)
		last_top[sys][i] = i < n ? ids[i] : 0;
	for (int i = 0; i < n && i < 10; i++)
		if (hit_is(ids[i], doc))
			return i + 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The words of one language's documents, sorted, with their df. */
struct lvocab {
	char **w;
	uint32_t *df;
	size_t n;
};

/* The most frequent other form of w in v (see above), or NULL. */
static const char *sibling(const struct lvocab *v, const char *w)
{
	size_t wl = strlen(w), pl = wl > 7 ? wl - 3 : 4;
	if (wl < 5)
		return NULL;
	size_t lo = 0, hi = v->n;
	while (lo < hi) { /* first word >= the prefix */
		size_t mid = (lo + hi) / 2;
		if (strncmp(v->w[mid], w, pl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	const char *best = NULL;
	uint32_t bdf = 0;
	for (size_t i = lo; i < v->n && !strncmp(v->w[i], w, pl); i++) {
		size_t l = strlen(v->w[i]);
		if (!strcmp(v->w[i], w) || l + 3 < wl || l > wl + 3)
			continue;
		if (v->df[i] > bdf) {
			bdf = v->df[i];
			best = v->w[i];
		}
	}
	return best;
}

/* The ASCII spelling of the word at s[0..len): ä ö ü å ø æ as ae oe ue aa
 * oe ae, everything else folded as hansa does. 1 when it had such a letter. */
static int ascii_spelling(const char *s, size_t len, char *out, size_t cap)
{
	static const char *const from[] = { "ä", "ö", "ü", "å", "ø", "æ",
		                            "Ä", "Ö", "Ü", "Å", "Ø", "Æ" };
	static const char *const to[] = { "ae", "oe", "ue", "aa", "oe", "ae" };
	char tmp[HX_TOKEN_MAX * 4];
	size_t n = 0;
	int had = 0;
	for (size_t i = 0; i < len && n + 8 < sizeof tmp;) {
		size_t k;
		for (k = 0; k < 12; k++)
			if (!strncmp(s + i, from[k], 2))
				break;
		if (k < 12) {
			memcpy(tmp + n, to[k % 6], 2);
			n += 2;
			i += 2;
			had = 1;
		} else {
			tmp[n++] = s[i++];
		}
	}
	hx_fold_str(out, cap, tmp, n);
	return had;
}

struct lquery {
	size_t doc;
	char q[2 * HX_TOKEN_MAX * 3 + 4];
};

/* Makes up to max queries of type qt for language lang. */
static size_t make_queries(int qt, const char *lang, const struct doc *docs, size_t n,
                           struct dfmap *dm, const struct lvocab *v, struct lquery *out, size_t max)
{
	size_t made = 0;
	unsigned seed = 7u + (unsigned)qt * 7919u + (unsigned)lang[0] * 31u + (unsigned)lang[1];
	size_t *cand = calloc(n, sizeof *cand), nc = 0;
	for (size_t i = 0; i < n; i++)
		if (docs[i].raw && !strcmp(docs[i].lang, lang))
			cand[nc++] = i;
	for (size_t tries = 0; made < max && tries < 20 * max && nc; tries++) {
		seed = seed * 1103515245u + 12345u;
		size_t di = cand[(seed >> 4) % nc];
		char w[2][WBUF], asc[WBUF];
		int nw = rarest2(dm, docs[di].title, w, qt == QT_ASCII ? asc : NULL);
		if (!nw)
			continue;
		const char *other = nw == 2 ? w[1] : "";
		char q[sizeof out->q];
		if (qt == QT_KNOWN) {
			snprintf(q, sizeof q, "%s %s", w[0], other);
		} else if (qt == QT_INFL) {
			const char *sib = sibling(v, w[0]);
			if (sib)
				snprintf(q, sizeof q, "%s %s", sib, other);
			else if (*other && (sib = sibling(v, other)))
				snprintf(q, sizeof q, "%s %s", w[0], sib);
			else
				continue;
		} else if (qt == QT_ASCII) {
			if (!*asc)
				continue;
			snprintf(q, sizeof q, "%s %s", asc, w[0]);
		} else {
			char t[WBUF];
			int which = strlen(w[0]) >= 5 ? 0 : (*other && strlen(other) >= 5) ? 1 : -1;
			if (which < 0)
				continue;
			snprintf(t, sizeof t, "%s", w[which]);
			size_t l = strlen(t), p = 1 + (seed >> 8) % (l - 2);
			switch ((seed >> 16) % 3) {
			case 0: memmove(t + p, t + p + 1, l - p); break;
			case 1:
				if (t[p] == t[p + 1])
					continue;
				char c = t[p];
				t[p] = t[p + 1];
				t[p + 1] = c;
				break;
			default: t[p] = t[p] == 'e' ? 'a' : 'e'; break;
			}
			snprintf(q, sizeof q, "%s %s", t, which ? w[0] : other);
		}
		size_t ql = strlen(q);
		while (ql && q[ql - 1] == ' ')
			q[--ql] = 0;
		int dup = 0;
		for (size_t j = 0; j < made && !dup; j++)
			dup = out[j].doc == di;
		if (dup)
			continue;
		out[made].doc = di;
		snprintf(out[made].q, sizeof out[made].q, "%s", q);
		made++;
	}
	free(cand);
	return made;
}

/* The words of language lang's documents (titles and bodies), sorted,
 * with their df; lm owns the strings. */
static void lvocab_build(struct dfmap *lm, struct lvocab *v, const struct doc *docs, size_t n,
                         const char *lang)
{
	memset(lm, 0, sizeof *lm);
	lm->cap = 1 << 21;
	lm->keys = calloc(lm->cap, sizeof *lm->keys);
	lm->df = calloc(lm->cap, sizeof *lm->df);
	lm->last = calloc(lm->cap, sizeof *lm->last);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(docs[i].lang, lang) && lm->n < lm->cap / 2) {
			df_count(lm, docs[i].title, (uint32_t)i);
			df_count(lm, docs[i].body, (uint32_t)i);
		}
	v->w = calloc(lm->n + 1, sizeof(char *));
	v->n = 0;
	for (size_t j = 0; j < lm->cap; j++)
		if (lm->keys[j])
			v->w[v->n++] = lm->keys[j];
	qsort(v->w, v->n, sizeof *v->w, cmp_str);
	v->df = calloc(v->n + 1, sizeof *v->df);
	for (size_t j = 0; j < v->n; j++)
		v->df[j] = *df_slot(lm, v->w[j], strlen(v->w[j]), 0);
}

static void lvocab_free(struct dfmap *lm, struct lvocab *v)
{
	for (size_t j = 0; j < lm->cap; j++)
		free(lm->keys[j]);
	free(lm->keys);
	free(lm->df);
	free(lm->last);
	free(v->w);
	free(v->df);
}

/* Precision of the stems: per language, the words of the corpus whose
 * hansa stem (ASCII spellings folded, Hunspell lemma, German -em) joins
 * them to a word that Snowball alone keeps apart, with the documents those
 * words are in, and the largest such groups, to be read by eye. A word
 * joined wrongly is where an ordinary query gains false hits. */
struct wstem {
	const char *w, *old, *new_;
	uint32_t df;
};

static int cmp_wstem(const void *a, const void *b)
{
	const struct wstem *x = a, *y = b;
	int c = strcmp(x->new_, y->new_);
	return c ? c : strcmp(x->old, y->old);
}

static void stem_merges(const struct doc *docs, size_t n)
{
	static const char *const lg[][2] = {
		{ "de", "german" }, { "da", "danish" }, { "sv", "swedish" }, { "fi", "finnish" }
	};
	hx_stemmers *hs;
	if (hx_stemmers_new(&hs))
		die("%s", "stemmers");
	printf("\nstems joined beyond Snowball (ASCII spellings; de: -em kept; sv: Hunspell lemma "
	       "first)\n");
	for (size_t l = 0; l < sizeof lg / sizeof lg[0]; l++) {
		struct dfmap lm;
		struct lvocab v;
		struct sb_stemmer *sb = sb_stemmer_new(lg[l][1], "UTF_8");
		lvocab_build(&lm, &v, docs, n, lg[l][0]);
		struct wstem *ws = calloc(v.n + 1, sizeof *ws);
		int li = hx_stem_lang(lg[l][0]);
		for (size_t i = 0; i < v.n; i++) {
			size_t sl;
			const char *ns = hx_stem(hs, li, v.w[i], strlen(v.w[i]), &sl);
			const sb_symbol *os =
			        sb_stemmer_stem(sb, (const sb_symbol *)v.w[i], (int)strlen(v.w[i]));
			ws[i] = (struct wstem){ v.w[i], strdup(os ? (const char *)os : v.w[i]),
				                strndup(ns ? ns : v.w[i], ns ? sl : strlen(v.w[i])),
				                v.df[i] };
		}
		qsort(ws, v.n, sizeof *ws, cmp_wstem);
		size_t joined = 0, shown = 0;
		uint64_t jdf = 0, alldf = 0;
		for (size_t i = 0, j; i < v.n; i = j) {
			int mixed = 0;
			for (j = i + 1; j < v.n && !strcmp(ws[j].new_, ws[i].new_); j++)
				mixed |= strcmp(ws[j].old, ws[i].old) != 0;
			for (size_t k = i; k < j; k++)
				alldf += ws[k].df;
			if (!mixed)
				continue;
			joined += j - i;
			for (size_t k = i; k < j; k++)
				jdf += ws[k].df;
			if (shown < 6 && j - i <= 6) {
				printf("    %s:", lg[l][0]);
				for (size_t k = i; k < j; k++)
					printf(" %s(%u)", ws[k].w, ws[k].df);
				printf("\n");
				shown++;
			}
		}
		printf("  %s: %zu of %zu words (%.2f%%) in a stem group Snowball splits; %.2f%% of "
		       "word occurrences by df\n",
		       lg[l][0], joined, v.n, v.n ? 100.0 * (double)joined / (double)v.n : 0,
		       alldf ? 100.0 * (double)jdf / (double)alldf : 0);
		for (size_t i = 0; i < v.n; i++) {
			free((char *)ws[i].old);
			free((char *)ws[i].new_);
		}
		free(ws);
		sb_stemmer_delete(sb);
		lvocab_free(&lm, &v);
	}
	hx_stemmers_free(&hs);
}

/* One row of p50/p99 per language, and hansa's ratio to the anchor. */
static void lat_rows(double p50[NBL][NSYS], double p99[NBL][NSYS], int nsys, int anchor)
{
	for (size_t l = 0; l < NBL; l++) {
		printf("  %s                                  ", bench_langs[l]);
		for (int s = 0; s < nsys; s++)
			printf(" %7.0f/%7.0f", p50[l][s], p99[l][s]);
		printf("   %.2f / %.2f\n", p50[l][SYS_HX] / p50[l][anchor],
		       p99[l][SYS_HX] / p99[l][anchor]);
	}
}

/* One table of p50/p99 (what: wall or CPU): over all kinds, without the
 * typo kind, and hansa's typo kind against the others. */
static void lat_table(const char *what, double p50[NBL][NSYS], double p99[NBL][NSYS],
                      double q50[NBL][NSYS], double q99[NBL][NSYS], const double t50[NBL], int nsys,
                      int anchor)
{
	printf("\nper language: %s, p50 / p99", what);
	for (int s = 0; s < nsys; s++)
		printf(" %15s", sys_name[s]);
	printf("   hansa/%s\n", anchor == SYS_XAP ? "xapian" : "fts5");
	lat_rows(p50, p99, nsys, anchor);
	/* Xapian and FTS5 correct no typos: like with like, without that kind */
	printf("without the typo kind (hansa corrects, the anchors do not)\n");
	lat_rows(q50, q99, nsys, anchor);
	/* A query with a typo finds nothing as typed, is corrected and runs
	 * again (issue 13: it costs at most 2x a normal query) */
	printf("hansa, one typo (no hits as typed) against the other kinds, p50\n");
	for (size_t l = 0; l < NBL; l++)
		printf("  %s  %7.0f / %7.0f = %.2f\n", bench_langs[l], t50[l], q50[l][SYS_HX],
		       t50[l] / q50[l][SYS_HX]);
}

/* --slowest N: hansa's N slowest queries of each language (by the median
 * of their timed runs' thread CPU time), with their kind, words, total,
 * correction, and how many of their runs reach the language's p99 over
 * all kinds (the queries that make the p99); --rerun-slowest R then runs
 * each of them R more times in slow_rerun (hansa alone), so that a
 * profile can be cut to the stacks under it (perf report --parent). */
struct slowq {
	double med, max;
	size_t at;   /* its first timed run in the language's samples */
	int qt, top; /* kind; runs at or above the p99 */
	uint64_t total;
	char q[2 * HX_TOKEN_MAX * 3 + 4];
	char corr[256];
};
static size_t nslowest;
static int rerun_slowest;
/* --rerun-set LANG:KIND R: that language's queries of that kind (known,
 * inflected, ascii, typo) run R more times in set_rerun (hansa alone),
 * for a profile of one set (perf report --parent=set_rerun). */
static const char *rerun_lang;
static int rerun_qt = -1, rerun_set;

static int cmp_slowq(const void *a, const void *b)
{
	const struct slowq *x = a, *y = b;
	return x->med < y->med ? 1 : x->med > y->med ? -1 : 0;
}

/* Prints the language's slowest queries; sq[0..n) are its queries, cpu
 * their runs' CPU times in the order they ran (reps each). */
static void slow_print(const char *lang, struct slowq *sq, size_t n, const double *cpu, int reps,
                       double p99)
{
	int topk[NQT] = { 0 }, tops = 0;
	for (size_t i = 0; i < n; i++) {
		sq[i].top = 0;
		for (int r = 0; r < reps; r++)
			sq[i].top += cpu[sq[i].at + (size_t)r] >= p99;
		topk[sq[i].qt] += sq[i].top;
		tops += sq[i].top;
	}
	qsort(sq, n, sizeof *sq, cmp_slowq);
	printf("  %s: runs at or above the p99 (%.0f us CPU): %d (known %d, inflected %d, ascii "
	       "%d, one typo %d)\n",
	       lang, p99, tops, topk[QT_KNOWN], topk[QT_INFL], topk[QT_ASCII], topk[QT_TYPO]);
	for (size_t i = 0; i < n && i < nslowest; i++)
		printf("    %7.0f us (max %7.0f, %d at p99) %-9s %-36s total %6llu%s%s\n",
		       sq[i].med, sq[i].max, sq[i].top, qt_name[sq[i].qt], sq[i].q,
		       (unsigned long long)sq[i].total, sq[i].corr[0] ? " corrected to " : "",
		       sq[i].corr);
}

/* Runs each language's slowest queries rerun_slowest more times. */
static void __attribute__((noinline))
slow_rerun(const struct engines *en, struct slowq *const sq[NBL], const size_t nsq[NBL])
{
	for (size_t l = 0; l < NBL; l++)
		for (size_t i = 0; i < nsq[l] && i < nslowest; i++)
			for (int r = 0; r < rerun_slowest; r++)
				run_sys(en, SYS_HX, sq[l][i].q, bench_langs[l], 0);
}

/* Runs each of the m queries of one set rerun_set more times in a row
 * (--rerun-set), as the timed runs do: what a profile shows is what the
 * timed runs measure (a query's data warm in the caches). */
static void __attribute__((noinline))
set_rerun(const struct engines *en, const struct lquery *qs, size_t m, const char *lang)
{
	double c = thread_cpu_s();
	for (size_t i = 0; i < m; i++) /* each query in a row, as the timed runs */
		for (int r = 0; r < rerun_set; r++)
			run_sys(en, SYS_HX, qs[i].q, lang, 0);
	printf("  --rerun-set %s:%s: %zu queries %d times: %.1f us CPU a query\n", lang,
	       qt_name[rerun_qt], m, rerun_set,
	       (thread_cpu_s() - c) * 1e6 / (double)(m * (size_t)rerun_set + !m));
}

/* --worse: prints the query when hansa's rank of the target (0: not in
 * the top 10) is worse than the best anchor's, with every system's rank
 * and top 3 (titles; the target marked *), and how many of the hits above
 * the target hansa scored exactly as high (a tie: they go in index order).
 * Returns 1 when hansa ranks the target above the best anchor, -1 when
 * below, 0 when level. */
static int worse_print(const struct doc *docs, const char *lang, int qt, const char *q, size_t doc,
                       const int rank[NSYS], long top[NSYS][3], const double score[10], int nsys)
{
	int best = 0, hx = rank[SYS_HX]; /* the best anchor's rank, 0 when none has it */
	for (int s = 0; s < nsys; s++)
		if (s != SYS_HX && rank[s] && (!best || rank[s] < best))
			best = rank[s];
	if (hx == best)
		return 0;
	if (hx && (!best || hx < best))
		return 1;
	int tied = 0;
	for (int k = 0; hx > 1 && k < hx - 1; k++)
		tied += score[k] == score[hx - 1];
	printf("  worse %s %-9s [%s] target %s \"%s\"; tied with %d above\n", lang, qt_name[qt], q,
	       docs[doc].path, docs[doc].title, tied);
	for (int s = 0; s < nsys; s++) {
		printf("    %-9s rank %2d:", sys_name[s], rank[s]);
		for (int k = 0; k < 3 && top[s][k] > 0; k++) {
			const struct doc *d = &docs[top[s][k] - 1];
			size_t tl = strlen(d->title);
			if (tl > 40) /* cut at a character's start */
				for (tl = 40; tl && (d->title[tl] & 0xC0) == 0x80; tl--)
					;
			printf(" %s%s (%s, %.*s)", hit_is(top[s][k], doc) ? "*" : "", d->path,
			       d->lang, (int)tl, d->title);
		}
		printf("\n");
	}
	return -1;
}

/* Prints MRR@10 per language, query type and system, latency p50/p99 per
 * language and system, and hansa's ratio to Xapian. */
static void lang_bench(const struct engines *en, const struct doc *docs, size_t n, struct dfmap *dm,
                       size_t qper, int reps, int verbose)
{
	int nsys = en->xap ? NSYS : NSYS - 1;
	struct lquery *qs = calloc(qper, sizeof *qs);
	double *lat[NSYS], *cpu[NSYS]; /* wall and thread CPU time per run */
	for (int s = 0; s < NSYS; s++) {
		lat[s] = calloc(qper * NQT * (size_t)reps + 1, sizeof **lat);
		cpu[s] = calloc(qper * NQT * (size_t)reps + 1, sizeof **cpu);
	}
	double mrr[NBL][NQT][NSYS] = { { { 0 } } }, p50[NBL][NSYS], p99[NBL][NSYS];
	double q50[NBL][NSYS], q99[NBL][NSYS]; /* without the typo kind */
	double t50[NBL];                       /* hansa, the typo kind alone */
	double c50[NBL][NSYS], c99[NBL][NSYS], cq50[NBL][NSYS], cq99[NBL][NSYS], ct50[NBL];
	struct slowq *sq[NBL] = { 0 };
	size_t nsq[NBL] = { 0 };
	double *tmp = calloc((size_t)reps, sizeof *tmp);

	printf("per language: MRR@10 (queries)        ");
	for (int s = 0; s < nsys; s++)
		printf(" %9s", sys_name[s]);
	printf("   hansa-best anchor\n");
	for (size_t l = 0; l < NBL; l++) {
		const char *lang = bench_langs[l];
		struct dfmap lm;
		struct lvocab v;
		lvocab_build(&lm, &v, docs, n, lang);

		size_t nl = 0, nl_typo = 0;
		if (nslowest)
			sq[l] = calloc(qper * NQT + 1, sizeof *sq[l]);
		for (int qt = 0; qt < NQT; qt++) {
			if (qt == QT_TYPO)
				nl_typo = nl; /* the typo kind comes last */
			size_t m = make_queries(qt, lang, docs, n, dm, &v, qs, qper);
			size_t nbetter = 0, nworse = 0; /* --worse: against the best anchor */
			for (size_t i = 0; i < m; i++) {
				int rank[NSYS] = { 0 };
				long top[NSYS][3] = { { 0 } };
				double score[10] = { 0 };
				for (int s = 0; s < nsys; s++) {
					if (hansa_only && s != SYS_HX)
						continue;
					dump_now = s == SYS_HX;
					rank[s] =
					        run_sys(en, s, qs[i].q, lang, qs[i].doc); /* warm */
					dump_now = 0;
					memcpy(top[s], last_top[s], sizeof top[s]);
					if (s == SYS_HX)
						memcpy(score, last_score, sizeof score);
					for (int r = 0; r < reps; r++) {
						double c = thread_cpu_s(), a = now_s();
						run_sys(en, s, qs[i].q, lang, qs[i].doc);
						lat[s][nl + (size_t)r] = (now_s() - a) * 1e6;
						cpu[s][nl + (size_t)r] = (thread_cpu_s() - c) * 1e6;
					}
					if (s == SYS_HX && sq[l]) {
						struct slowq *e = &sq[l][nsq[l]++];
						memcpy(tmp, cpu[s] + nl,
						       (size_t)reps * sizeof *tmp);
						e->med = pct(tmp, (size_t)reps, 0.5);
						e->max = tmp[reps - 1];
						e->at = nl;
						e->qt = qt;
						e->total = last_total;
						snprintf(e->q, sizeof e->q, "%s", qs[i].q);
						snprintf(e->corr, sizeof e->corr, "%s",
						         last_corrected);
					}
					if (rank[s])
						mrr[l][qt][s] += 1.0 / rank[s];
				}
				nl += (size_t)reps;
				if (show_worse) {
					int c = worse_print(docs, lang, qt, qs[i].q, qs[i].doc,
					                    rank, top, score, nsys);
					nbetter += c > 0;
					nworse += c < 0;
				}
				if (verbose &&
				    (rank[SYS_HX] != 1 || (en->xap && rank[SYS_XAP] != 1)))
					printf("  %s %-9s %-40s %-34s hansa %d fts5 %d fold %d "
					       "xapian %d\n",
					       lang, qt_name[qt], qs[i].q, docs[qs[i].doc].title,
					       rank[0], rank[1], rank[2], rank[3]);
			}
			if (rerun_set && qt == rerun_qt && !strcmp(lang, rerun_lang))
				set_rerun(en, qs, m, lang);
			printf("  %s %-14s (%4zu)            ", lang, qt_name[qt], m);
			double besta = 0;
			for (int s = 0; s < nsys; s++) {
				mrr[l][qt][s] = m ? mrr[l][qt][s] / (double)m : 0;
				printf(" %9.3f", mrr[l][qt][s]);
				if (s != SYS_HX && mrr[l][qt][s] > besta)
					besta = mrr[l][qt][s];
			}
			printf("   %+8.3f", mrr[l][qt][SYS_HX] - besta);
			if (show_worse)
				printf("   (hansa better %zu, worse %zu)", nbetter, nworse);
			printf("\n");
		}
		if (sq[l]) {
			/* before the percentiles below sort the runs */
			double *all = malloc((nl + 1) * sizeof *all);
			if (!all)
				die("%s", "out of memory");
			memcpy(all, cpu[SYS_HX], nl * sizeof *all);
			slow_print(lang, sq[l], nsq[l], cpu[SYS_HX], reps, pct(all, nl, 0.99));
			free(all);
		}
		t50[l] = pct(lat[SYS_HX] + nl_typo, nl - nl_typo, 0.5);
		ct50[l] = pct(cpu[SYS_HX] + nl_typo, nl - nl_typo, 0.5);
		for (int s = 0; s < nsys; s++) {
			cq50[l][s] = pct(cpu[s], nl_typo, 0.5);
			cq99[l][s] = pct(cpu[s], nl_typo, 0.99);
			c50[l][s] = pct(cpu[s], nl, 0.5);
			c99[l][s] = pct(cpu[s], nl, 0.99);
		}
		for (int s = 0; s < nsys; s++) {
			q50[l][s] = pct(lat[s], nl_typo, 0.5); /* sorts only that part */
			q99[l][s] = pct(lat[s], nl_typo, 0.99);
			p50[l][s] = pct(lat[s], nl, 0.5);
			p99[l][s] = pct(lat[s], nl, 0.99);
		}
		lvocab_free(&lm, &v);
	}

	int anchor = en->xap ? SYS_XAP : SYS_FTS;
	printf("\ntimed per query: hansa parses, ranks and fills its top 10 with path, title, kind, "
	       "language and organisation (no snippets)%s\n",
	       !en->xap ? ""
	       : xap_ids_only
	               ? "; xapian returns docids only (--xapian-ids: less work than hansa's)"
	               : "; xapian reads the same five fields, stored as each document's "
	                 "data, of its top 10 (Document::get_data)");
	lat_table("latency us", p50, p99, q50, q99, t50, nsys, anchor);
	/* the same in thread CPU time, which a loaded machine disturbs less
	 * (a preempted query's wall time counts the other processes' turn) */
	lat_table("thread CPU us", c50, c99, cq50, cq99, ct50, nsys, anchor);
	if (rerun_slowest && nslowest) {
		double c = thread_cpu_s();
		slow_rerun(en, sq, nsq);
		printf("\n--rerun-slowest: the %zu slowest of each language, %d times: %.2f s CPU\n",
		       nslowest, rerun_slowest, thread_cpu_s() - c);
	}
	for (size_t l = 0; l < NBL; l++)
		free(sq[l]);
	free(tmp);
	for (int s = 0; s < NSYS; s++) {
		free(lat[s]);
		free(cpu[s]);
	}
	free(qs);
}

/* ---- --tune: the ranking constants on a training half ---------------------------- */

/* The known-item queries of every language (kinds known, inflected and
 * ascii; the typo kind runs corrections and is left out) are split by the
 * target document's corpus line: even lines train, odd lines are held
 * out. Coordinate descent over a small grid per constant (body weight
 * fixed at 1), three rounds, maximises the mean of the per-set MRR@10 on
 * the training half; then both halves are printed for the defaults, the
 * chosen constants and the best anchor. */
struct tq {
	size_t doc;
	int l, qt;
	char q[sizeof((struct lquery *)0)->q];
};

/* Mean over the (language, kind) sets of hansa's MRR@10 on one half;
 * per[l][qt] gets each set's. */
static double tune_mrr(const struct engines *en, const struct tq *t, size_t n, int half,
                       double per[NBL][NQT])
{
	double sum[NBL][NQT] = { { 0 } }, cnt[NBL][NQT] = { { 0 } }, mean = 0;
	int sets = 0;
	for (size_t i = 0; i < n; i++) {
		if ((int)(t[i].doc & 1) != half)
			continue;
		int r = run_sys(en, SYS_HX, t[i].q, bench_langs[t[i].l], t[i].doc);
		sum[t[i].l][t[i].qt] += r ? 1.0 / r : 0;
		cnt[t[i].l][t[i].qt]++;
	}
	for (size_t l = 0; l < NBL; l++)
		for (int q = 0; q < NQT; q++) {
			per[l][q] = cnt[l][q] ? sum[l][q] / cnt[l][q] : -1;
			if (cnt[l][q]) {
				mean += per[l][q];
				sets++;
			}
		}
	return sets ? mean / sets : 0;
}

static void tune_print(const char *what, const hx_rank *r, double tr[NBL][NQT], double ho[NBL][NQT],
                       double mtr, double mho)
{
	printf("  %-9s k1 %.2f b %.2f title %.1f tags %.1f body %.1f exact %.2f prox %.2f texact "
	       "%.2f: train %.4f, held out %.4f\n",
	       what, r->k1, r->b, r->w[0], r->w[1], r->w[2], r->exact, r->prox, r->title_exact, mtr,
	       mho);
	for (size_t l = 0; l < NBL; l++)
		for (int q = 0; q < QT_TYPO; q++)
			if (tr[l][q] >= 0)
				printf("    %s %-14s train %.3f held out %.3f\n", bench_langs[l],
				       qt_name[q], tr[l][q], ho[l][q]);
}

/* --variant K=V,K=V (repeatable; keys k1 b title tags body exact prox
 * texact): instead of the grid, the defaults and each variant of them on
 * both halves, with every set's margin over its best anchor (all its
 * queries) and its training/held-out MRR@10; then the program ends. */
#define MAXVAR 32
static const char *variant_spec[MAXVAR];
static int nvariants;

static void variant_set(hx_rank *r, const char *spec)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof buf, "%s", spec);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			die("variant: %s", kv);
		*eq = 0;
		double v = atof(eq + 1);
		if (!strcmp(kv, "k1"))
			r->k1 = v;
		else if (!strcmp(kv, "b"))
			r->b = v;
		else if (!strcmp(kv, "title"))
			r->w[0] = v;
		else if (!strcmp(kv, "tags"))
			r->w[1] = v;
		else if (!strcmp(kv, "body"))
			r->w[2] = v;
		else if (!strcmp(kv, "exact"))
			r->exact = v;
		else if (!strcmp(kv, "prox"))
			r->prox = v;
		else if (!strcmp(kv, "texact"))
			r->title_exact = v;
		else
			die("variant: unknown %s", kv);
	}
}
static int do_variants;

static void tune(const struct engines *en, const struct doc *docs, size_t n, struct dfmap *dm,
                 size_t qper)
{
	struct lquery *qs = calloc(qper, sizeof *qs);
	struct tq *t = calloc(NBL * QT_TYPO * qper + 1, sizeof *t);
	size_t nt = 0;
	for (size_t l = 0; l < NBL; l++) {
		struct dfmap lm;
		struct lvocab v;
		lvocab_build(&lm, &v, docs, n, bench_langs[l]);
		for (int qt = 0; qt < QT_TYPO; qt++) {
			size_t m = make_queries(qt, bench_langs[l], docs, n, dm, &v, qs, qper);
			for (size_t i = 0; i < m; i++) {
				t[nt].doc = qs[i].doc;
				t[nt].l = (int)l;
				t[nt].qt = qt;
				memcpy(t[nt].q, qs[i].q, sizeof t[nt].q);
				nt++;
			}
		}
		lvocab_free(&lm, &v);
	}
	/* the best anchor per set and half, for comparison */
	double an[2][NBL][NQT] = { { { 0 } } }, ac[2][NBL][NQT] = { { { 0 } } };
	double anall[NBL][NQT] = { { 0 } };
	int nsys = en->xap ? NSYS : NSYS - 1;
	for (size_t i = 0; i < nt; i++)
		ac[t[i].doc & 1][t[i].l][t[i].qt]++;
	for (int s = SYS_FTS; s < nsys; s++) {
		double m[2][NBL][NQT] = { { { 0 } } };
		for (size_t i = 0; i < nt; i++) {
			int r = run_sys(en, s, t[i].q, bench_langs[t[i].l], t[i].doc);
			m[t[i].doc & 1][t[i].l][t[i].qt] += r ? 1.0 / r : 0;
		}
		for (int h = 0; h < 2; h++)
			for (size_t l = 0; l < NBL; l++)
				for (int q = 0; q < QT_TYPO; q++)
					if (ac[h][l][q] && m[h][l][q] / ac[h][l][q] > an[h][l][q])
						an[h][l][q] = m[h][l][q] / ac[h][l][q];
		for (size_t l = 0; l < NBL; l++)
			for (int q = 0; q < QT_TYPO; q++) {
				double c = ac[0][l][q] + ac[1][l][q];
				if (c && (m[0][l][q] + m[1][l][q]) / c > anall[l][q])
					anall[l][q] = (m[0][l][q] + m[1][l][q]) / c;
			}
	}

	if (do_variants) {
		printf("A best anchor train/held:");
		for (size_t l = 0; l < NBL; l++)
			for (int q = 0; q < QT_TYPO; q++)
				if (ac[0][l][q] && ac[1][l][q])
					printf(" %s%c %.3f/%.3f", bench_langs[l], "kia"[q],
					       an[0][l][q], an[1][l][q]);
		printf("\n");
		for (int vi = -1; vi < nvariants; vi++) {
			hx_rank r;
			double tr[NBL][NQT], ho[NBL][NQT];
			hx_rank_default(&r);
			if (vi >= 0)
				variant_set(&r, variant_spec[vi]);
			hx_searcher_set_rank(en->sr, &r);
			double mtr = tune_mrr(en, t, nt, 0, tr), mho = tune_mrr(en, t, nt, 1, ho);
			printf("V %-24s train %.4f held %.4f |",
			       vi < 0 ? "default" : variant_spec[vi], mtr, mho);
			double worst = 9;
			for (size_t l = 0; l < NBL; l++)
				for (int q = 0; q < QT_TYPO; q++) {
					if (!ac[0][l][q] || !ac[1][l][q])
						continue;
					double c0 = ac[0][l][q], c1 = ac[1][l][q];
					double h = (tr[l][q] * c0 + ho[l][q] * c1) / (c0 + c1);
					double a = anall[l][q]; /* best anchor, all queries */
					printf(" %s%c %+.3f", bench_langs[l], "kia"[q], h - a);
					if (h - a < worst)
						worst = h - a;
				}
			printf(" | worst %+.3f\n  train/held:", worst);
			for (size_t l = 0; l < NBL; l++)
				for (int q = 0; q < QT_TYPO; q++)
					if (ac[0][l][q] && ac[1][l][q])
						printf(" %s%c %.3f/%.3f", bench_langs[l], "kia"[q],
						       tr[l][q], ho[l][q]);
			printf("\n");
			fflush(stdout);
		}
		hx_rank def;
		hx_rank_default(&def);
		hx_searcher_set_rank(en->sr, &def);
		free(t);
		free(qs);
		return;
	}
	static const double grid[7][8] = {
		{ 0.6, 0.9, 1.2, 1.6, 2.0, 3.0 },  /* k1 */
		{ 0.3, 0.5, 0.6, 0.75, 0.9, 1.0 }, /* b */
		{ 2, 3, 4, 6, 8, 12 },             /* title weight */
		{ 0.5, 1, 2, 3, 4 },               /* tags weight */
		{ 0, 0.25, 0.5, 1, 2, 4 },         /* exact boost */
		{ 0.05, 0.1, 0.2, 0.3, 0.5 },      /* proximity (kept on: 0 is no boost) */
		{ 0, 0.1, 0.2, 0.4 },              /* title as typed */
	};
	static const int ngrid[7] = { 6, 6, 6, 5, 6, 5, 4 };
	static const char *const gname[7] = {
		"k1", "b", "title", "tags", "exact", "prox", "texact"
	};
	hx_rank r, def;
	hx_rank_default(&def);
	r = def;
	double tr[NBL][NQT], ho[NBL][NQT];
	size_t ntrain = 0;
	for (size_t i = 0; i < nt; i++)
		ntrain += !(t[i].doc & 1);
	printf("tuning on %zu training queries (%zu held out)\n", ntrain, nt - ntrain);
	hx_searcher_set_rank(en->sr, &r);
	double best = tune_mrr(en, t, nt, 0, tr);
	for (int round = 0; round < 3; round++) {
		int moved = 0;
		for (int g = 0; g < 7; g++) {
			double *slot = g == 0   ? &r.k1
			               : g == 1 ? &r.b
			               : g == 2 ? &r.w[0]
			               : g == 3 ? &r.w[1]
			               : g == 4 ? &r.exact
			               : g == 5 ? &r.prox
			                        : &r.title_exact;
			double keep = *slot, bestv = keep;
			for (int j = 0; j < ngrid[g]; j++) {
				if (grid[g][j] == keep)
					continue;
				*slot = grid[g][j];
				hx_searcher_set_rank(en->sr, &r);
				double m = tune_mrr(en, t, nt, 0, tr);
				if (m > best + 1e-9) {
					best = m;
					bestv = grid[g][j];
				}
			}
			*slot = bestv;
			moved |= bestv != keep;
			printf("  round %d: %-5s %.2f (train %.4f)\n", round + 1, gname[g], bestv,
			       best);
		}
		if (!moved)
			break;
	}
	double mtr, mho;
	hx_searcher_set_rank(en->sr, &def);
	mtr = tune_mrr(en, t, nt, 0, tr);
	mho = tune_mrr(en, t, nt, 1, ho);
	tune_print("default", &def, tr, ho, mtr, mho);
	hx_searcher_set_rank(en->sr, &r);
	mtr = tune_mrr(en, t, nt, 0, tr);
	mho = tune_mrr(en, t, nt, 1, ho);
	tune_print("chosen", &r, tr, ho, mtr, mho);
	double atr = 0, aho = 0;
	int sets = 0;
	for (size_t l = 0; l < NBL; l++)
		for (int q = 0; q < QT_TYPO; q++)
			if (ac[0][l][q] && ac[1][l][q]) {
				atr += an[0][l][q];
				aho += an[1][l][q];
				sets++;
			}
	printf("  best anchor per set: train %.4f, held out %.4f\n", sets ? atr / sets : 0,
	       sets ? aho / sets : 0);
	for (size_t l = 0; l < NBL; l++)
		for (int q = 0; q < QT_TYPO; q++)
			if (ac[0][l][q])
				printf("    %s %-14s train %.3f held out %.3f\n", bench_langs[l],
				       qt_name[q], an[0][l][q], an[1][l][q]);
	hx_searcher_set_rank(en->sr, &def);
	free(t);
	free(qs);
}

/* ---- main ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	const char *corpus = "../shared/data/tools-corpus.jsonl.xz";
	size_t maxdocs = (size_t)-1, batch = 200000, nknown = 1000, stride = 8, qper = 100;
	int reps = 5, verbose = 0, do_tune = 0, keep = 0, lang_only = 0, translations = 0;
	char dir[4096] = "", stamp[4200];

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
		else if (!strcmp(argv[i], "--keep") && i + 1 < argc) {
			snprintf(dir, sizeof dir, "%s", argv[++i]);
			keep = 1;
		} else if (!strcmp(argv[i], "--stride") && i + 1 < argc)
			stride = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--full"))
			stride = 1;
		else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
			qper = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else if (!strcmp(argv[i], "--worse"))
			show_worse = 1;
		else if (!strcmp(argv[i], "--ties-reversed"))
			ties_reversed = 1;
		else if (!strcmp(argv[i], "--translations"))
			translations = 1;
		else if (!strcmp(argv[i], "--lang-only"))
			lang_only = 1;
		else if (!strcmp(argv[i], "--hansa-only"))
			hansa_only = 1;
		else if (!strcmp(argv[i], "--xapian-ids"))
			xap_ids_only = 1;
		else if (!strcmp(argv[i], "--no-proximity"))
			no_proximity = 1;
		else if (!strcmp(argv[i], "--tune"))
			do_tune = 1;
		else if (!strcmp(argv[i], "--slowest") && i + 1 < argc)
			nslowest = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--rerun-slowest") && i + 1 < argc)
			rerun_slowest = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rerun-set") && i + 2 < argc) {
			const char *c = strchr(argv[++i], ':');
			static const char *const kinds[NQT] = { "known", "inflected", "ascii",
				                                "typo" };
			for (int q = 0; c && q < NQT; q++)
				if (!strcmp(c + 1, kinds[q]))
					rerun_qt = q;
			if (!c || rerun_qt < 0 || (rerun_set = atoi(argv[++i])) < 1)
				die("--rerun-set LANG:KIND R: KIND is known, inflected, ascii or typo; R >= 1");
			static char lbuf[16];
			snprintf(lbuf, sizeof lbuf, "%.*s", (int)(c - argv[i - 1]), argv[i - 1]);
			rerun_lang = lbuf;
		} else if (!strcmp(argv[i], "--dump") && i + 1 < argc) {
			if (!(dump_f = fopen(argv[++i], "w")))
				die("cannot write %s", argv[i]);
		} else if (!strcmp(argv[i], "--variant") && i + 1 < argc && nvariants < MAXVAR)
			do_tune = do_variants = 1, variant_spec[nvariants++] = argv[++i];
		else {
			fprintf(stderr,
			        "usage: bench_search [--corpus FILE.jsonl[.xz]] [--docs N] [--batch N] "
			        "[--reps N] [--known N] [--dir DIR | --keep DIR] [--stride K | --full] [--queries "
			        "N] [--verbose] [--no-proximity] [--xapian-ids] [--hansa-only] [--tune] [--lang-only] "
			        "[--variant K=V,...] [--dump FILE] [--slowest N [--rerun-slowest R]] [--rerun-set LANG:KIND R] [--worse] "
			        "[--ties-reversed] [--translations]\n");
			return 2;
		}
	}
	if (sodium_init() < 0)
		die("%s", "libsodium failed");
	if (batch == 0)
		batch = 1;
	if (reps < 1)
		reps = 1;
	if (lang_only)
		nknown = 0;
	if (stride < 1)
		stride = 1;

	double t0 = now_s();
	struct doc *docs;
	size_t n = load_corpus(corpus, maxdocs, stride, &docs);
	printf("corpus: %zu documents from %s (%.1f s to read; of each language the first %d, then "
	       "1 in %zu%s)\n",
	       n, corpus, now_s() - t0, SAMPLE_ALL, stride, stride > 1 ? "; --full for all" : "");
	if (!n)
		die("%s", "no documents");

	struct pathmap pm = { 0 };
	pm.cap = 1;
	while (pm.cap < 2 * n)
		pm.cap <<= 1;
	pm.keys = calloc(pm.cap, sizeof *pm.keys);
	pm.vals = calloc(pm.cap, sizeof *pm.vals);
	if (!pm.keys || !pm.vals)
		die("%s", "out of memory");
	for (size_t i = 0; i < n; i++)
		pm_put(&pm, docs[i].path, i);
	if (translations)
		mark_translations(docs, n, &pm);

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
	printf("signed in %.1f s (not timed below); %zu refused\n\n", now_s() - t0,
	       sg[0].bad + sg[1].bad);

	char tmpl[] = "/tmp/hx-bench-search-XXXXXX";
	int own_dir = !*dir;
	if (own_dir) {
		if (!mkdtemp(tmpl))
			die("%s", "mkdtemp failed");
		snprintf(dir, sizeof dir, "%s/store", tmpl);
	}
	/* --keep: built before from the same documents (the stamp says how many) */
	snprintf(stamp, sizeof stamp, "%s.built", dir);
	if (keep) {
		FILE *sf = fopen(stamp, "r");
		size_t was = 0;
		if (sf && fscanf(sf, "%zu", &was) == 1 && was == n) {
			int wtr; /* a stamp of before --translations has the count alone */
			if (fscanf(sf, "%d", &wtr) != 1)
				wtr = 0;
			keep_built = wtr == translations;
		}
		if (sf)
			fclose(sf);
		printf("--keep %s: %s\n\n", dir,
		       keep_built ? "reusing the store and anchors built before (build figures 0)"
		                  : "building");
	}

	/* ---- builds ---- */
	double fts_wall, fts_cpu, fold_wall, fold_cpu;
	struct fts f = { 0 }, ff = { 0 };
	fts_open(&f, dir, docs, n, 0, &fts_wall, &fts_cpu);
	fts_open(&ff, dir, docs, n, 1, &fold_wall, &fold_cpu);
	void *xap = NULL;
	double xap_wall = 0, xap_cpu = 0;
	unsigned long long xap_bytes = 0;
#ifdef HX_BENCH_XAPIAN
	{
		char xdir[4200];
		snprintf(xdir, sizeof xdir, "%s.xapian", dir);
		unsigned long xn = 0;
		hxb_xapian *x = hxb_xapian_new(xdir, keep_built, &xn);
		double w0 = now_s(), c0 = cpu_s();
		for (size_t i = 0; x && !xn && i < n; i++) {
			if (!docs[i].raw)
				continue;
			/* stored: what hansa's hits carry, NUL-separated */
			char data[8192];
			int dl = snprintf(data, sizeof data, "%s%c%s%c%s%c%s%c%s", docs[i].path, 0,
			                  docs[i].title, 0, docs[i].kind, 0, docs[i].lang, 0,
			                  docs[i].org ? docs[i].org : "");
			if (dl < 0 || (size_t)dl >= sizeof data)
				dl = (int)sizeof data - 1;
			if (hxb_xapian_add(x, (unsigned)i + 1, docs[i].title, docs[i].tagtext,
			                   docs[i].body, docs[i].lang, data, (size_t)dl))
				die("%s", "xapian add");
		}
		if (x)
			xap_bytes = hxb_xapian_commit(x);
		xap_wall = now_s() - w0;
		xap_cpu = cpu_s() - c0;
		xap = x;
	}
#endif

	hx_store *s;
	if (hx_store_open(&s, dir, HX_STORE_CREATE))
		die("cannot create store in %s", dir);
	hx_put *puts = calloc(batch, sizeof *puts);
	double build = 0, build_cpu = 0;
	size_t stored = 0;
	for (size_t i = keep_built ? n : 0; i < n;) {
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
	int rc = keep_built ? 0 : hx_store_reindex(s, &ndocs);
	double reindex = now_s() - t0, reindex_cpu = cpu_s() - c0;
	if (rc)
		die("reindex: %s", hx_strerror(rc));

	if (keep && !keep_built) {
		FILE *sf = fopen(stamp, "w");
		if (!sf || fprintf(sf, "%zu %d\n", n, translations) < 0 || fclose(sf))
			die("cannot write %s", stamp);
	}
	uint64_t ix_bytes = 0, store_bytes = 0;
	if (hx_search_sizes(s, &ix_bytes, &store_bytes))
		die("%s", "sizes");
	sqlite3_stmt *st;
	uint64_t fts_ix = 0, fts_all = 0;
	if (sqlite3_prepare_v2(f.db, "SELECT name, sum(pgsize) FROM dbstat GROUP BY name", -1, &st,
	                       0) == SQLITE_OK) {
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
	printf("  index only, wall s      %10.2f  %10.2f  %8.2f   (hansa: reindex from stored "
	       "entries)\n",
	       reindex, fts_wall, reindex / fts_wall);
	printf("  index only, cpu s       %10.2f  %10.2f  %8.2f\n", reindex_cpu, fts_cpu,
	       reindex_cpu / fts_cpu);
	printf("  store+index, wall s     %10.2f  %10.2f  %8.2f   (hansa: put_batch of signed "
	       "entries, batches of %zu)\n",
	       build, fts_wall, build / fts_wall, batch);
	printf("  store+index, cpu s      %10.2f  %10.2f  %8.2f\n", build_cpu, fts_cpu,
	       build_cpu / fts_cpu);
	printf("  index size, MB          %10.1f  %10.1f  %8.2f   (fts5: all but t_content)\n",
	       (double)ix_bytes / 1e6, (double)fts_ix / 1e6, (double)ix_bytes / (double)fts_ix);
	printf("  whole store, MB         %10.1f  %10.1f  %8.2f   (pages in use; hansa keeps "
	       "signed entries and history)\n",
	       (double)store_bytes / 1e6, (double)fts_all / 1e6,
	       (double)store_bytes / (double)fts_all);
	printf("  fts5 over folded text: index %.2f s wall, %.2f s cpu\n", fold_wall, fold_cpu);
	if (xap)
		printf("  xapian: index %.2f s wall, %.2f s cpu, %.1f MB on disk (hansa/xapian "
		       "build %.2f)\n",
		       xap_wall, xap_cpu, (double)xap_bytes / 1e6, reindex / xap_wall);
	else
		printf("  xapian: not built (no libxapian-dev)\n");
	printf("\n");

	/* ---- latency ---- */

	hx_searcher *sr;
	if (hx_searcher_new(&sr, s))
		die("%s", "searcher");
	size_t nsamp = NQ * (size_t)reps;
	double *hs = calloc(nsamp, sizeof *hs), *fs = calloc(nsamp, sizeof *fs);
	double *qh = calloc((size_t)reps, sizeof *qh), *qf = calloc((size_t)reps, sizeof *qf);
	size_t ns = 0;
	printf("%-7s %-26s %6s %6s %10s %10s %7s\n", "kind", "query", "hits", "fts", "hansa us",
	       "fts5 us", "ratio");
	for (size_t q = 0; q < (lang_only ? 0 : NQ); q++) {
		long hid[10], fid[10];
		int hn = hx_run(sr, queries[q].hx, &pm, hid, 10, 0);
		int fn = fts_run(&f, queries[q].fts, queries[q].where, fid, 10);
		for (int r = 0; r < reps; r++) {
			double a = now_s();
			hx_run(sr, queries[q].hx, &pm, hid, 10, 0);
			qh[r] = (now_s() - a) * 1e6;
			a = now_s();
			fts_run(&f, queries[q].fts, queries[q].where, fid, 10);
			qf[r] = (now_s() - a) * 1e6;
			hs[ns] = qh[r];
			fs[ns++] = qf[r];
		}
		double mh = pct(qh, (size_t)reps, 0.5), mf = pct(qf, (size_t)reps, 0.5);
		printf("%-7s %-26s %6d %6d %10.1f %10.1f %7.3f\n", queries[q].cat, queries[q].hx,
		       hn, fn, mh, mf, mh / mf);
		if (verbose) {
			for (int i = 0; i < 3 && (i < hn || i < fn); i++)
				printf("        %d: %-36s %s\n", i + 1,
				       i < hn && hid[i] > 0 ? docs[hid[i] - 1].path : "-",
				       i < fn && fid[i] > 0 ? docs[fid[i] - 1].path : "-");
		}
	}
	double h50 = pct(hs, ns, 0.5), f50 = pct(fs, ns, 0.5);
	double h99 = pct(hs, ns, 0.99), f99 = pct(fs, ns, 0.99);
	printf("\nlatency over %zu queries x %d runs   hansa us    fts5 us   hansa/fts5\n", NQ,
	       reps);
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
		char w[2][WBUF];
		int nw = rarest2(&dm, docs[di].title, w, NULL);
		if (!nw)
			continue;
		char hq[2 * WBUF + 8], fq[2 * WBUF + 8];
		if (nw == 2) {
			snprintf(hq, sizeof hq, "%s %s", w[0], w[1]);
			snprintf(fq, sizeof fq, "\"%s\" \"%s\"", w[0], w[1]);
		} else {
			snprintf(hq, sizeof hq, "%s", w[0]);
			snprintf(fq, sizeof fq, "\"%s\"", w[0]);
		}
		long hid[10], fid[10];
		int hn = hx_run(sr, hq, &pm, hid, 10, 0), fn = fts_run(&f, fq, NULL, fid, 10);
		asked++;
		int hr = 0, fr = 0;
		for (int i = 0; i < hn && i < 10; i++)
			if (hit_is(hid[i], di)) {
				mrr_h += 1.0 / (i + 1);
				found_h++;
				hr = i + 1;
				break;
			}
		for (int i = 0; i < fn && i < 10; i++)
			if (hit_is(fid[i], di)) {
				mrr_f += 1.0 / (i + 1);
				found_f++;
				fr = i + 1;
				break;
			}
		if (verbose && hr != fr) {
			printf("  known %-32s [%s] rank hansa %d fts5 %d (0 = not in top 10)\n",
			       docs[di].path, hq, hr, fr);
			for (int i = 0; i < 3; i++)
				printf("        %d: %-40s %s\n", i + 1,
				       i < hn ? docs[hid[i] - 1].title : "-",
				       i < fn ? docs[fid[i] - 1].title : "-");
		}
	}
	printf("known items (%zu queries from the 2 rarest title words)   hansa    fts5\n", asked);
	printf("  MRR@10                                                %6.3f  %6.3f\n",
	       asked ? mrr_h / (double)asked : 0, asked ? mrr_f / (double)asked : 0);
	printf("  found in top 10                                       %6zu  %6zu\n\n", found_h,
	       found_f);

	printf("targets: median %.3f (<= 0.5), p99 %.3f (<= 1), index build %.2f (<= 1), MRR %.3f "
	       "vs %.3f (>=)\n",
	       h50 / f50, h99 / f99, reindex / fts_wall, asked ? mrr_h / (double)asked : 0,
	       asked ? mrr_f / (double)asked : 0);

	struct engines en = { sr, &pm, &f, &ff, xap };
	if (do_tune)
		tune(&en, docs, n, &dm, qper);
	if (do_variants)
		return 0;
	lang_bench(&en, docs, n, &dm, qper, reps, verbose);
	size_t tw, tb;
	hx_searcher_typo_index(en.sr, &tw, &tb);
	printf("typo index: %zu words, %.1f MB\n", tw, (double)tb / 1e6);
	if (dump_f && fclose(dump_f))
		die("%s", "could not write the --dump file");
	dump_f = NULL;
	stem_merges(docs, n);
	double la[3];
	if (getloadavg(la, 3) == 3)
		printf("\nload average at the end: %.2f %.2f %.2f (2 cores)\n", la[0], la[1],
		       la[2]);

	hx_searcher_free(&sr);
	hx_store_close(&s);
	sqlite3_finalize(f.plain);
	sqlite3_close(f.db);
	sqlite3_finalize(ff.plain);
	sqlite3_close(ff.db);
#ifdef HX_BENCH_XAPIAN
	{
		hxb_xapian *x = xap;
		hxb_xapian_free(&x);
	}
#endif
	if (own_dir) {
		char cmd[4300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
		if (system(cmd))
			fprintf(stderr, "bench_search: could not remove %s\n", tmpl);
	}
	return 0;
}
