/*
 * publish.c (bench_publish): how fast entries get into the store, next to
 * what the machine can do at all, measured in the same run:
 *   - publish: the `hansa publish` path per entry (next timestamp, sign,
 *     one put_batch = one fully synced write transaction);
 *   - import: the `hansa import` path over the corpus (xz -dc | JSON parse,
 *     next timestamp, sign; batches of HX_BULK_BYTES or HX_BULK_ENTRIES, or
 *     BATCH entries, per transaction, each stored by a writer thread while
 *     the next is built);
 *   - fsck of the imported store (re-verifies every signature);
 *   - the import's cost per entry over its first 10,000 entries and over
 *     all of them (goal: no more than 1.15x), and the store's size on disk,
 *     per table, against the JSON lines it came from;
 * against the anchors: raw libsodium Ed25519 sign and verify of 32-byte
 * ids, raw LMDB puts of the same sizes in one transaction and with one
 * fully synced commit per put, and SQLite loading the same JSON lines
 * (parsed with the same cJSON) into an FTS5 table (unicode61
 * remove_diacritics 2), 1000 rows per transaction. The corpus is
 * decompressed into memory first, so neither side pays for xz. Speeds are
 * printed as entries/s and as ratios to the anchors; nothing here fails on
 * speed.
 *
 *   bench_publish [CORPUS.jsonl.xz [LINES [BATCH]]]
 *
 * With HX_BENCH_KEEP=1 in the environment the imported store is kept
 * (its directory is printed) for bench_storesize.
 *
 * Defaults: the corpus next to the repository
 * (../shared/data/tools-corpus.jsonl.xz), all lines. Corpus `org` values
 * are mapped onto 5 partner keys, as the brief asks for publishing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <cjson/cJSON.h>
#include <lmdb.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store/store.h"
#include "tests/rmtree.h"

#define PARTNERS 5
/* entries per import transaction: 0 for the rule of cli/cmd-import.c
 * (HX_BULK_BYTES or HX_BULK_ENTRIES), or the third argument (the FTS5
 * anchor keeps 1000 rows per transaction) */
static size_t batch = 0;
#define ANCHOR_SECONDS 1.5 /* each rate anchor runs about this long */
#define PUBLISH_SECONDS 3.0
#define EARLY 10000 /* entries of the early cost per entry */

static uint8_t pks[PARTNERS][HX_KEY_LEN], sks[PARTNERS][HX_SECRET_LEN];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of this process so far, all threads (user + system): on a
 * busy machine a steadier measure than the wall clock. */
static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const char *why) __attribute__((noreturn));
static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_publish: %s: %s\n", what, why);
	exit(1);
}

/* ---- the corpus ------------------------------------------------------- */

/* One corpus line as an unsigned entry; strings borrowed from json. */
typedef struct draft {
	cJSON *json;
	hx_entry e;
	int partner;
} draft;

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is_field(const char *k)
{
	static const char *const f[] = { "doc", "kind", "title", "body", "tags", "lang", NULL };
	for (int i = 0; f[i]; i++)
		if (!strcmp(f[i], k))
			return 1;
	return 0;
}

/* The same mapping as `hansa import`; 0 on success. */
static int draft_parse(draft *d, const char *line, size_t len)
{
	const cJSON *it, *tags;
	memset(d, 0, sizeof *d);
	if (!(d->json = cJSON_ParseWithLength(line, len)) || !cJSON_IsObject(d->json))
		return -1;
	hx_entry *e = &d->e;
	if (!(e->path = (char *)str(d->json, "doc")) || !(e->title = (char *)str(d->json, "title")))
		return -1;
	e->kind = (char *)(str(d->json, "kind") ? str(d->json, "kind") : "toolkit");
	e->body = (char *)(str(d->json, "body") ? str(d->json, "body") : "");
	e->lang = (char *)(str(d->json, "lang") ? str(d->json, "lang") : "en");
	tags = cJSON_GetObjectItemCaseSensitive(d->json, "tags");
	size_t nt = (size_t)cJSON_GetArraySize(tags), nm = 0;
	cJSON_ArrayForEach(it, d->json) nm += !is_field(it->string);
	if (nt > HX_TAGS_MAX || nm > HX_META_MAX)
		return -1;
	e->tags = calloc(nt + 1, sizeof *e->tags);
	e->meta = calloc(nm + 1, sizeof *e->meta);
	if (!e->tags || !e->meta)
		return -1;
	cJSON_ArrayForEach(it, tags)
	{
		if (!cJSON_IsString(it))
			return -1;
		e->tags[e->ntags++] = it->valuestring;
	}
	cJSON_ArrayForEach(it, d->json)
	{
		if (is_field(it->string) || !cJSON_IsString(it) || !*it->valuestring)
			continue;
		e->meta[e->nmeta].key = it->string;
		e->meta[e->nmeta++].value = it->valuestring;
	}
	/* org -> one of a handful of partners */
	uint32_t h = 5381;
	for (const char *o = str(d->json, "org"); o && *o; o++)
		h = h * 33 + (uint8_t)*o;
	d->partner = (int)(h % PARTNERS);
	return hx_entry_check(e) ? -1 : 0;
}

static void draft_free(draft *d)
{
	free(d->e.tags);
	free(d->e.meta);
	cJSON_Delete(d->json);
	memset(d, 0, sizeof *d);
}

/* ---- anchors ---------------------------------------------------------- */

static double rate_sign(void)
{
	uint8_t id[32], sig[64];
	size_t n = 0;
	randombytes_buf(id, sizeof id);
	double t0 = now(), t;
	do {
		for (int i = 0; i < 256; i++, n++) {
			crypto_sign_ed25519_detached(sig, NULL, id, sizeof id, sks[0]);
			id[0] ^= sig[0];
		}
	} while ((t = now() - t0) < ANCHOR_SECONDS);
	return n / t;
}

static double rate_verify(void)
{
	uint8_t id[32], sig[64];
	size_t n = 0, good = 0;
	randombytes_buf(id, sizeof id);
	crypto_sign_ed25519_detached(sig, NULL, id, sizeof id, sks[0]);
	double t0 = now(), t;
	do {
		for (int i = 0; i < 128; i++, n++)
			good += !crypto_sign_ed25519_verify_detached(sig, id, sizeof id, pks[0]);
	} while ((t = now() - t0) < ANCHOR_SECONDS);
	if (good != n)
		die("verify anchor", "a good signature failed");
	return n / t;
}

/* Raw LMDB: random 32-byte keys, values of vsize bytes, in an environment
 * opened like the store's (full sync). per_commit: one commit per put. */
static double rate_lmdb(const char *base, size_t vsize, int per_commit, size_t *count)
{
	char dir[4200];
	MDB_env *env;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	uint8_t key[32], *val = malloc(vsize);
	size_t n = 0;
	int rc;

	snprintf(dir, sizeof dir, "%s/lmdb-%d", base, per_commit);
	mkdir(dir, 0700);
	randombytes_buf(val, vsize);
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_mapsize(env, (size_t)16 << 30)) ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) ||
	    (rc = mdb_txn_commit(txn)))
		die("lmdb anchor", mdb_strerror(rc));
	double t0 = now(), t = 0;
	if (per_commit) {
		do {
			for (int i = 0; i < 16; i++, n++) {
				MDB_val k = { sizeof key, key }, v = { vsize, val };
				randombytes_buf(key, sizeof key);
				if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
				    (rc = mdb_put(txn, dbi, &k, &v, 0)) ||
				    (rc = mdb_txn_commit(txn)))
					die("lmdb anchor", mdb_strerror(rc));
			}
		} while ((t = now() - t0) < ANCHOR_SECONDS);
	} else {
		/* as many puts as fit in the time, then one commit (counted) */
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
			die("lmdb anchor", mdb_strerror(rc));
		do {
			for (int i = 0; i < 1024; i++, n++) {
				MDB_val k = { sizeof key, key }, v = { vsize, val };
				randombytes_buf(key, sizeof key);
				if ((rc = mdb_put(txn, dbi, &k, &v, 0)))
					die("lmdb anchor", mdb_strerror(rc));
			}
		} while (now() - t0 < ANCHOR_SECONDS);
		if ((rc = mdb_txn_commit(txn)))
			die("lmdb anchor", mdb_strerror(rc));
		t = now() - t0;
	}
	mdb_env_close(env);
	free(val);
	*count = n;
	return n / t;
}

/* ---- hansa paths ------------------------------------------------------ */

static hx_store *store_new(const char *base, const char *name, char *dir, size_t dl)
{
	hx_store *s;
	snprintf(dir, dl, "%s/%s", base, name);
	int rc = hx_store_open(&s, dir, HX_STORE_CREATE);
	if (rc)
		die("store", hx_strerror(rc));
	return s;
}

/* Signs d as the next version of its path and fills put. */
static int sign_one(hx_store *s, draft *d, uint8_t **raw, hx_put *put, uint64_t *last_ts)
{
	uint64_t ts;
	size_t len;
	int rc = hx_store_next_timestamp(s, pks[d->partner], d->e.path, hx_now_us(), &ts);
	if (rc)
		return rc;
	d->e.timestamp = ts > *last_ts ? ts : *last_ts + 1;
	*last_ts = d->e.timestamp;
	if ((rc = hx_entry_sign(&d->e, sks[d->partner], raw, &len)))
		return rc;
	*put = (hx_put){ .raw = *raw, .rawlen = len, .entry = &d->e };
	return HX_OK;
}

struct import_stats {
	size_t lines, bad, added, bytes;
	double parse, sign, store, total;
	size_t entry_bytes;
	size_t early_n; /* entries when the early figures were taken */
	double early_total, early_store, early_cpu, cpu;
};

/* One batch of the import: built while the writer stores the other. */
struct ibatch {
	draft *d;
	uint8_t **raw;
	hx_put *put;
	size_t n, bytes;
};

static void ibatch_clear(struct ibatch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->raw[i]);
		draft_free(&b->d[i]);
	}
	b->n = b->bytes = 0;
}

/* Waits for the writer's batch b, counts it and frees its entries. */
static void ibatch_done(hx_writer *w, struct ibatch *b, struct import_stats *st, double t0,
                        double c0)
{
	size_t added;
	double t = now();
	int rc = hx_writer_wait(w, &added);
	st->store += now() - t;
	if (rc)
		die("import put_batch", hx_strerror(rc));
	st->added += added;
	if (!st->early_n && st->added >= EARLY) {
		st->early_n = st->added;
		st->early_total = now() - t0;
		st->early_store = st->store;
		st->early_cpu = cpu() - c0;
	}
	ibatch_clear(b);
}

/* As `hansa import`: batches of HX_BULK_BYTES or HX_BULK_ENTRIES (or of
 * `batch` entries when given), each stored by the writer thread while the
 * next is parsed and signed. */
static void import(hx_store *s, FILE *in, size_t max_lines, struct import_stats *st)
{
	size_t cap_n = batch ? batch : HX_BULK_ENTRIES;
	struct ibatch bb[2], *b = &bb[0], *prev = NULL;
	char *line = NULL;
	size_t cap = 0;
	uint64_t last_ts = 0;
	ssize_t len;
	double t0 = now(), c0 = cpu(), t;
	hx_writer *w;

	for (int i = 0; i < 2; i++) {
		bb[i] = (struct ibatch){ calloc(cap_n, sizeof(draft)),
			                 calloc(cap_n, sizeof(uint8_t *)),
			                 calloc(cap_n, sizeof(hx_put)), 0, 0 };
		if (!bb[i].d || !bb[i].raw || !bb[i].put)
			die("import", "out of memory");
	}
	if (hx_writer_start(&w, s, 0))
		die("import", "out of memory");
	memset(st, 0, sizeof *st);
	for (;;) {
		len = (st->lines < max_lines) ? getline(&line, &cap, in) : -1;
		if (len > 0) {
			size_t n = b->n;
			st->lines++;
			st->bytes += (size_t)len;
			t = now();
			int bad = draft_parse(&b->d[n], line, (size_t)len);
			st->parse += now() - t;
			if (!bad) {
				t = now();
				bad = sign_one(s, &b->d[n], &b->raw[n], &b->put[n], &last_ts);
				st->sign += now() - t;
			}
			if (bad) {
				st->bad++;
				draft_free(&b->d[n]);
				continue;
			}
			st->entry_bytes += b->put[n].rawlen;
			b->bytes += b->put[n].rawlen;
			b->n++;
		}
		int full = b->n == cap_n || (!batch && b->bytes >= HX_BULK_BYTES);
		if (full || (len < 0 && b->n)) {
			if (prev)
				ibatch_done(w, prev, st, t0, c0);
			hx_writer_submit(w, b->put, b->n);
			prev = b;
			b = b == &bb[0] ? &bb[1] : &bb[0];
		}
		if (len < 0)
			break;
	}
	if (prev)
		ibatch_done(w, prev, st, t0, c0);
	hx_writer_stop(&w);
	st->total = now() - t0;
	st->cpu = cpu() - c0;
	free(line);
	for (int i = 0; i < 2; i++) {
		free(bb[i].d);
		free(bb[i].raw);
		free(bb[i].put);
	}
}

/* `hansa publish`: one entry per transaction, as many as fit in the time. */
static double publish(hx_store *s, FILE *in, size_t *count)
{
	char *line = NULL;
	size_t cap = 0, n = 0;
	uint64_t last_ts = 0;
	ssize_t len;
	double busy = 0;

	while (busy < PUBLISH_SECONDS && (len = getline(&line, &cap, in)) > 0) {
		draft d;
		uint8_t *raw = NULL;
		hx_put put;
		size_t added;
		if (draft_parse(&d, line, (size_t)len)) {
			draft_free(&d);
			continue;
		}
		double t = now();
		int rc = sign_one(s, &d, &raw, &put, &last_ts);
		if (!rc)
			rc = hx_store_put_batch(s, &put, 1, 0, &added);
		if (!rc)
			rc = put.result;
		busy += now() - t;
		if (rc)
			die("publish", hx_strerror(rc));
		n++;
		free(raw);
		draft_free(&d);
	}
	free(line);
	*count = n;
	return n / busy;
}

static void fsck_report(void *arg, const char *problem)
{
	(void)arg;
	fprintf(stderr, "bench_publish: fsck: %s\n", problem);
}

/* The whole corpus, decompressed into memory (*len bytes). */
static char *read_corpus(const char *path, size_t *len)
{
	char cmd[4400];
	if (access(path, R_OK))
		die(path, "cannot read the corpus (give its path as the first argument)");
	snprintf(cmd, sizeof cmd, "xz -dc '%s'", path);
	FILE *f = popen(cmd, "r");
	if (!f)
		die("popen xz", "failed");
	size_t cap = 0, n = 0;
	char *buf = NULL;
	for (;;) {
		char *nb = hx_grow(buf, &cap, n + (1 << 20), 1);
		if (!nb)
			die("corpus", "out of memory");
		buf = nb;
		size_t r = fread(buf + n, 1, cap - n, f);
		if (!r)
			break;
		n += r;
	}
	if (pclose(f) != 0)
		die("xz -dc", "failed");
	*len = n;
	return buf;
}

static FILE *open_mem(char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "r");
	if (!f)
		die("fmemopen", "failed");
	return f;
}

/* The anchor: SQLite loads the same lines (same JSON parser) into an FTS5
 * table, 1000 rows per transaction. Returns seconds; *bytes the file size. */
static double fts5_load(const char *base, char *buf, size_t blen, size_t max_lines, size_t *rows,
                        size_t *bytes, double *cpu_s)
{
	char path[4200], *line = NULL;
	sqlite3 *db;
	sqlite3_stmt *ins;
	size_t cap = 0, n = 0, lines = 0;
	ssize_t len;
	snprintf(path, sizeof path, "%s/fts5.db", base);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
	                 "CREATE VIRTUAL TABLE t USING fts5(doc, kind, title, body, tags, lang, "
	                 "tokenize = 'unicode61 remove_diacritics 2')",
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", -1, &ins, NULL) !=
	            SQLITE_OK)
		die("sqlite", sqlite3_errmsg(db));
	FILE *in = open_mem(buf, blen);
	double t0 = now(), c0 = cpu();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	while (lines < max_lines && (len = getline(&line, &cap, in)) > 0) {
		draft d;
		char tags[8192];
		size_t tl = 0;
		lines++;
		if (draft_parse(&d, line, (size_t)len)) {
			draft_free(&d);
			continue;
		}
		tags[0] = 0;
		for (size_t i = 0; i < d.e.ntags; i++)
			tl += (size_t)snprintf(tags + tl, tl < sizeof tags ? sizeof tags - tl : 0,
			                       "%s%s", i ? " " : "", d.e.tags[i]);
		const char *col[6] = { d.e.path, d.e.kind, d.e.title, d.e.body, tags, d.e.lang };
		for (int i = 0; i < 6; i++)
			sqlite3_bind_text(ins, i + 1, col[i], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("sqlite insert", sqlite3_errmsg(db));
		sqlite3_reset(ins);
		draft_free(&d);
		if (++n % 1000 == 0 && (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK ||
		                        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK))
			die("sqlite commit", sqlite3_errmsg(db));
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die("sqlite commit", sqlite3_errmsg(db));
	double t = now() - t0;
	*cpu_s = cpu() - c0;
	sqlite3_finalize(ins);
	sqlite3_close(db);
	fclose(in);
	free(line);
	struct stat sb;
	*bytes = stat(path, &sb) ? 0 : (size_t)sb.st_size;
	*rows = n;
	return t;
}

/* Where the store's bytes go: each table's pages, and the pages no table
 * holds (LMDB's free list), from the environment in dir. */
static void store_sizes(const char *dir, size_t json_bytes, size_t entries, double import_s)
{
	char path[4300];
	struct stat sb;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi main;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_envinfo info;
	MDB_stat ms;
	int rc;
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (stat(path, &sb))
		die(path, "cannot stat");
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 64)) ||
	    (rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) ||
	    (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &main)) || (rc = mdb_env_info(env, &info)) ||
	    (rc = mdb_stat(txn, main, &ms)) || (rc = mdb_cursor_open(txn, main, &c)))
		die("store sizes", mdb_strerror(rc));
	double psize = ms.ms_psize, used = (double)(info.me_last_pgno + 1) * psize;
	double tables =
	        (double)(ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages) * psize;
	printf("  store on disk: %.1f MB (data.mdb, %.1f MB allocated) = %.2f x the %.1f MB of JSON"
	       " lines, %.0f B per entry\n",
	       sb.st_size / 1e6, (double)sb.st_blocks * 512 / 1e6, sb.st_size / (double)json_bytes,
	       json_bytes / 1e6, entries ? sb.st_size / (double)entries : 0);
	printf("      %-10s %9s %10s %10s\n", "table", "rows", "MB", "B/entry");
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char name[64];
		MDB_dbi dbi;
		MDB_stat ts;
		snprintf(name, sizeof name, "%.*s", (int)k.mv_size, (char *)k.mv_data);
		if (mdb_dbi_open(txn, name, 0, &dbi) || mdb_stat(txn, dbi, &ts))
			continue;
		double b = (double)(ts.ms_branch_pages + ts.ms_leaf_pages + ts.ms_overflow_pages) *
		           psize;
		tables += b;
		printf("      %-10s %9zu %10.1f %10.0f\n", name, ts.ms_entries, b / 1e6,
		       entries ? b / (double)entries : 0);
	}
	printf("      %-10s %9s %10.1f %10.0f   (pages no table holds: LMDB's free list)\n", "free",
	       "", (used - tables) / 1e6, entries ? (used - tables) / (double)entries : 0);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	/* what a compacted copy (hx_store_copy, as `hansa compact` makes it)
	 * keeps, and what it costs: `hansa import` ends with it when the
	 * free pages are over 15 % (cli/cmd-import.c), fsync included */
	snprintf(path, sizeof path, "%s.compact", dir);
	hx_store *st;
	double t0 = now();
	if (!hx_store_open(&st, dir, 0) && !hx_store_copy(st, path)) {
		double t = now() - t0;
		char f[4400];
		snprintf(f, sizeof f, "%s/data.mdb", path);
		if (!stat(f, &sb))
			printf("      compacted copy: %.1f MB = %.2f x the JSON lines; written and synced "
			       "in %.2f s = %.2f x the import's time\n",
			       sb.st_size / 1e6, sb.st_size / (double)json_bytes, t, t / import_s);
		hx_store_close(&st);
	}
}

int main(int argc, char **argv)
{
	char corpus[4096], base[] = "/tmp/hx-bench-publish.XXXXXX", dir[4200];
	size_t max_lines = (size_t)-1;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("usage: bench_publish [CORPUS.jsonl.xz [LINES [BATCH]]]");
		return 0;
	}
	if (argc > 1) {
		snprintf(corpus, sizeof corpus, "%s", argv[1]);
	} else {
		/* this file is SRC/bench/publish.c; the corpus is SRC/../shared/data */
		snprintf(corpus, sizeof corpus, "%s", __FILE__);
		char *slash = strrchr(corpus, '/');
		if (slash)
			*slash = 0;
		slash = strrchr(corpus, '/');
		if (slash)
			*slash = 0;
		strncat(corpus, "/../shared/data/tools-corpus.jsonl.xz",
		        sizeof corpus - strlen(corpus) - 1);
	}
	if (argc > 2)
		max_lines = strtoull(argv[2], NULL, 10);
	if (argc > 3 && !(batch = strtoull(argv[3], NULL, 10)))
		die("BATCH", "must be a positive number");
	if (sodium_init() < 0)
		die("libsodium", "init failed");
	for (int i = 0; i < PARTNERS; i++) {
		uint8_t seed[32];
		memset(seed, 0x30 + i, sizeof seed);
		crypto_sign_seed_keypair(pks[i], sks[i], seed);
	}
	if (!mkdtemp(base))
		die("mkdtemp", "failed");

	printf("bench_publish: corpus %s%s\n", corpus, max_lines == (size_t)-1 ? "" : " (slice)");
	printf("store and anchors in %s (same file system), full sync\n\n", base);

	/* hansa: publish, then import (the corpus is read twice, from memory) */
	size_t clen;
	char *cbuf = read_corpus(corpus, &clen);
	FILE *in = open_mem(cbuf, clen);
	hx_store *s = store_new(base, "publish", dir, sizeof dir);
	size_t published;
	double r_publish = publish(s, in, &published);
	hx_store_close(&s);
	fclose(in);

	in = open_mem(cbuf, clen);
	s = store_new(base, "import", dir, sizeof dir);
	struct import_stats st;
	import(s, in, max_lines, &st);
	fclose(in);
	double r_import = st.added / st.total;
	double avg = st.added ? (double)st.entry_bytes / st.added : 600;

	uint64_t problems = 0;
	double t = now();
	int rc = hx_store_fsck(s, fsck_report, NULL, &problems);
	double fsck_t = now() - t;
	if (rc || problems)
		die("fsck of the imported store", rc ? hx_strerror(rc) : "problems found");
	hx_store_stats ss;
	if (hx_store_stats_get(s, &ss))
		die("stats", "failed");
	hx_store_close(&s);
	double r_fsck = ss.entries / fsck_t;
	size_t fts_rows, fts_bytes;
	double fts_cpu,
	        fts_t = fts5_load(base, cbuf, clen, st.lines, &fts_rows, &fts_bytes, &fts_cpu);
	free(cbuf);

	/* anchors, with values of the imported entries' average size */
	double r_sign = rate_sign();
	double r_verify = rate_verify();
	size_t n_txn, n_commit;
	double r_lmdb_txn = rate_lmdb(base, (size_t)avg, 0, &n_txn);
	double r_lmdb_commit = rate_lmdb(base, (size_t)avg, 1, &n_commit);

	printf("anchors (this machine, this run):\n");
	printf("  libsodium Ed25519 sign (32 B id)     %10.0f /s\n", r_sign);
	printf("  libsodium Ed25519 verify             %10.0f /s\n", r_verify);
	printf("  LMDB put, one txn (%zu puts)      %10.0f /s   (32 B keys, %.0f B values)\n",
	       n_txn, r_lmdb_txn, avg);
	printf("  LMDB put, one synced commit each     %10.0f /s\n", r_lmdb_commit);
	printf("\nhansa:\n");
	printf("  publish (1 entry per txn, %zu)        %10.0f /s   = %.2f x LMDB commit each, "
	       "%.4f x sign\n",
	       published, r_publish, r_publish / r_lmdb_commit, r_publish / r_sign);
	if (batch)
		printf("  import  (%zu of %zu lines, batches of %zu)\n", st.added, st.lines, batch);
	else
		printf("  import  (%zu of %zu lines, batches of %zu MiB or %d entries)\n", st.added,
		       st.lines, HX_BULK_BYTES >> 20, HX_BULK_ENTRIES);
	printf("                                       %10.0f /s   = %.2f x sign, %.2f x verify, "
	       "%.3f x LMDB one-txn put\n",
	       r_import, r_import / r_sign, r_import / r_verify, r_import / r_lmdb_txn);
	printf("      time: %.1f s total; in this process: JSON %.1f s, next timestamp + sign %.1f "
	       "s, waiting for the writer thread %.1f s\n",
	       st.total, st.parse, st.sign, st.store);
	printf("      %.1f MB of JSON lines, %.0f B per signed entry, %zu bad lines, store map "
	       "%.0f MB\n",
	       st.bytes / 1e6, avg, st.bad, ss.map_used / 1e6);
	printf("  fsck of the imported store (%llu entries) %7.0f /s   = %.2f x verify\n",
	       (unsigned long long)ss.entries, r_fsck, r_fsck / r_verify);
	if (st.early_n && st.added > st.early_n) {
		double e1 = st.early_total / st.early_n, e2 = st.total / st.added;
		double s1 = st.early_store / st.early_n, s2 = st.store / st.added;
		double c1 = st.early_cpu / st.early_n, c2 = st.cpu / st.added;
		/* the wait for the writer thread, not the writer's own cost: 0
		 * while it keeps up (early on), so no ratio of it */
		printf("  import cost per entry: first %zu %.0f us, all %zu %.0f us = %.2f x"
		       " (goal <= 1.15 x; waiting for the writer thread: %.1f -> %.1f us)\n",
		       st.early_n, e1 * 1e6, st.added, e2 * 1e6, e2 / e1, s1 * 1e6, s2 * 1e6);
		printf("      in CPU time (all threads): %.0f -> %.0f us = %.2f x\n", c1 * 1e6,
		       c2 * 1e6, c2 / c1);
	}
	printf("  import vs SQLite FTS5 loading the same %zu lines (%zu rows, 1000 per txn):\n"
	       "      %.1f s vs %.1f s = %.2f x (goal <= 2 x); CPU %.1f s vs %.1f s = %.2f x\n"
	       "      FTS5 file %.1f MB = %.2f x the JSON\n",
	       st.lines, fts_rows, st.total, fts_t, st.total / fts_t, st.cpu, fts_cpu,
	       st.cpu / fts_cpu, fts_bytes / 1e6, fts_bytes / (double)st.bytes);
	store_sizes(dir, st.bytes, st.added, st.total);
	if (getenv("HX_BENCH_KEEP")) /* for bench_storesize */
		printf("  kept: %s\n", dir);
	else
		rmtree(base);
	return 0;
}
