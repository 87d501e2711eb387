/*
 * test_zentry.c: compressed entry values (store/zentry.c). A store that
 * grows past HX_ZENT_TRAIN_MIN entries trains its dictionary and
 * compresses every value, and still gives back byte-identical signed
 * entries through get, scan, history and search; a store written without
 * compression (schema 3) is upgraded in place and compressed; a damaged
 * compressed value is reported by fsck and refused by get, never crashed
 * on. A long value is compressed in blocks, so that its start reads alone
 * (hx_zent_unpack_head), and the search's re-rank, which reads only the
 * start of a long body, ranks as it does from whole entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <lmdb.h>
#include <sodium.h>
#include <zstd.h>
#include "store/store.h"
#include "store/search.h"
#include "store/zentry.h"
#include "store/store_int.h"
#include "tests/check.h"
#include "tests/rmtree.h"

#define N (HX_ZENT_TRAIN_MIN + 700)
#define BATCH 500
/* Every LONG_EVERY-th entry is long: a body of several thousand bytes
 * with two rare words at varied places (long_body). */
#define LONG_EVERY 50
#define IS_LONG(i) ((i) % LONG_EVERY == 7)

static uint8_t sk[HX_SECRET_LEN], pk[HX_KEY_LEN];
static uint8_t *raws[N];
static size_t lens[N];
static uint8_t ids[N][HX_ID_LEN];

static const char *words[] = { "innovation", "brokerage", "municipal", "toolkit",  "region",
	                       "partners",   "Białystok", "Cēsis",     "learning", "casebook" };

/* The rare pairs of the long entries: entry i has pair i / LONG_EVERY % 4,
 * so each pair is in a dozen of them (all re-ranked). */
static const char *pairs[4][2] = { { "quokka", "wombat" },
	                           { "numbat", "dingo" },
	                           { "bilby", "wallaby" },
	                           { "kowari", "dunnart" } };

/* A long body: 700 words; in one entry of three long words first (so the
 * first 200 words are more than the first 4 KiB read), with multibyte
 * letters; the pair at positions around the 200th word, near each other
 * or not, one or both past it. */
static size_t long_body(size_t i, char *body, size_t cap)
{
	static const char *fill[] = { "Białystok", "Cēsis", "region", "łódź", "x", "naïve" };
	size_t bl = 0, j = i / LONG_EVERY, a = 150 + (j * 13) % 70, b = a + 1 + (j % 5) * (j % 3);
	const char *const *pr = pairs[j % 4];
	for (size_t w = 0; w < 700 && bl + 64 < cap; w++) {
		const char *word = w == a ? pr[0] : w == b ? pr[1] : fill[(w * 7 + j) % 6];
		if (w != a && w != b && j % 3 == 0 && w < 220)
			bl += (size_t)snprintf(body + bl, cap - bl, "supercalifragilistic%zu ", w);
		else
			bl += (size_t)snprintf(body + bl, cap - bl, "%s%s", word,
			                       w % 11 == 3 ? ", " : " ");
	}
	return bl;
}

/* Entry i: a document of its own, with a body that varies. */
static void make(size_t i)
{
	char path[64], title[96], body[16384];
	size_t bl = 0;
	snprintf(path, sizeof path, "z/doc-%zu", i);
	snprintf(title, sizeof title, "%s %s number %zu", words[i % 10], words[(i / 10) % 10], i);
	if (IS_LONG(i))
		bl = long_body(i, body, sizeof body);
	for (size_t w = 0; w < 60 && !IS_LONG(i); w++)
		bl += (size_t)snprintf(body + bl, sizeof body - bl, "%s ",
		                       words[(i * 7 + w * (i % 5 + 1)) % 10]);
	static char *tags[] = { "smes", "peer-learning" };
	hx_meta meta[] = { { "org", "Region Test" }, { "country", "DK" } };
	hx_entry e = { .path = path,
		       .timestamp = 1000 + i,
		       .kind = "practice",
		       .title = title,
		       .body = body,
		       .tags = tags,
		       .ntags = 2,
		       .lang = "en",
		       .meta = meta,
		       .nmeta = 2 };
	if (hx_entry_sign(&e, sk, &raws[i], &lens[i]))
		abort();
	hx_entry d;
	if (hx_entry_decode(&d, raws[i], lens[i]))
		abort();
	memcpy(ids[i], d.id, HX_ID_LEN);
	hx_entry_clear(&d);
}

static void put_all(hx_store *s, size_t from, size_t to)
{
	hx_put p[BATCH];
	hx_entry e[BATCH];
	for (size_t i = from; i < to; i += BATCH) {
		size_t n = to - i < BATCH ? to - i : BATCH, added = 0;
		for (size_t j = 0; j < n; j++) {
			if (hx_entry_decode(&e[j], raws[i + j], lens[i + j]))
				abort();
			p[j] = (hx_put){ .raw = raws[i + j],
				         .rawlen = lens[i + j],
				         .entry = &e[j] };
		}
		CHECK_RC(hx_store_put_batch(s, p, n, HX_PUT_NO_WAKE, &added), HX_OK);
		CHECK(added == n);
		for (size_t j = 0; j < n; j++)
			hx_entry_clear(&e[j]);
	}
}

/* Through liblmdb: how many values are compressed, their bytes, and
 * whether the dictionary is there. */
static void raw_stats(const char *dir, size_t *packed, size_t *bytes, int *dict)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi, meta;
	MDB_cursor *c;
	MDB_val k, v;
	*packed = *bytes = 0;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 64) ||
	    mdb_env_open(env, dir, MDB_RDONLY, 0600) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_dbi_open(txn, "log", 0, &dbi) ||
	    mdb_dbi_open(txn, "meta", 0, &meta) || mdb_cursor_open(txn, dbi, &c))
		abort();
	/* log rows: id[32] ‖ stored value */
	while (!mdb_cursor_get(c, &k, &v, *bytes ? MDB_NEXT : MDB_FIRST)) {
		*packed += ((uint8_t *)v.mv_data)[HX_ID_LEN] == 0;
		*bytes += v.mv_size - HX_ID_LEN;
	}
	k.mv_size = 5;
	k.mv_data = "zdict";
	*dict = !mdb_get(txn, meta, &k, &v);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* Through liblmdb: writes every entry as the signed bytes into the
 * tables "entries" (id -> value) and "changes" (seq -> id) of schema 5 and
 * before, empties "log" and "ids", drops the dictionary and says schema
 * 3: the entries as schema 3 kept them (the upgrade rebuilds the rest). */
static void make_schema3(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi, chg, log, idx, meta;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 64) ||
	    mdb_env_set_mapsize(env, (size_t)16 << 30) || mdb_env_open(env, dir, 0, 0600) ||
	    mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "entries", MDB_CREATE, &dbi) ||
	    mdb_dbi_open(txn, "changes", MDB_CREATE, &chg) || mdb_dbi_open(txn, "log", 0, &log) ||
	    mdb_dbi_open(txn, "ids", 0, &idx) || mdb_drop(txn, log, 0) || mdb_drop(txn, idx, 0) ||
	    mdb_dbi_open(txn, "meta", 0, &meta))
		abort();
	for (size_t i = 0; i < N; i++) {
		uint8_t seq[8];
		hx_be64_put(seq, i + 1);
		MDB_val k = { HX_ID_LEN, ids[i] }, v = { lens[i], raws[i] }, seqk = { 8, seq };
		CHECK_RC(mdb_put(txn, dbi, &k, &v, 0), 0);
		CHECK_RC(mdb_put(txn, chg, &seqk, &k, 0), 0);
	}
	uint8_t three[4] = { 0, 0, 0, 3 };
	MDB_val dk = { 5, "zdict" }, sk3 = { 6, "schema" }, sv = { 4, three };
	CHECK_RC(mdb_del(txn, meta, &dk, NULL), 0);
	CHECK_RC(mdb_put(txn, meta, &sk3, &sv, 0), 0);
	CHECK_RC(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Every entry reads back byte-identical through get, scan and history. */
struct scan {
	size_t n, bad;
};
static int scan_cb(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct scan *sc = arg;
	size_t i = (size_t)(e->timestamp - 1000);
	sc->bad += i >= N || len != lens[i] || memcmp(raw, raws[i], len);
	sc->n++;
	return 0;
}

static void check_exact(hx_store *s)
{
	size_t bad = 0;
	for (size_t i = 0; i < N; i++) {
		uint8_t *raw = NULL;
		size_t len = 0;
		hx_entry e;
		int rc = hx_store_get(s, ids[i], &e, &raw, &len);
		bad += rc || len != lens[i] || memcmp(raw, raws[i], len);
		if (!rc)
			hx_entry_clear(&e);
		free(raw);
	}
	CHECK(bad == 0);
	struct scan sc = { 0, 0 };
	CHECK_RC(hx_store_scan(s, 0, scan_cb, &sc), HX_OK);
	CHECK(sc.n == N && sc.bad == 0);
	sc = (struct scan){ 0, 0 };
	CHECK_RC(hx_store_history(s, pk, "z/doc-7", scan_cb, &sc), HX_OK);
	CHECK(sc.n == 1 && sc.bad == 0);
	sc = (struct scan){ 0, 0 };
	CHECK_RC(hx_store_list(s, pk, scan_cb, &sc), HX_OK);
	CHECK(sc.n == N && sc.bad == 0);
	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, NULL, NULL, &problems), HX_OK);
	CHECK(problems == 0);
	/* search reads titles and snippets from the entries */
	hx_searcher *sr;
	hx_results res;
	char err[200];
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	hx_search_opts o = { .limit = 20 };
	CHECK_RC(hx_search(sr, "casebook number 2049", &o, &res, err, sizeof err), HX_OK);
	CHECK(res.nhits > 0 && strstr(res.hits[0].title, "2049"));
	hx_results_clear(&res);
	hx_searcher_free(&sr);
}

/* The stored value of entry i in a read txn of s. */
static MDB_val stored_of(hx_store *s, MDB_txn *txn, size_t i)
{
	MDB_val v = { 0, NULL };
	uint64_t seq;
	CHECK_RC(hx_zent_find(&s->z, txn, ids[i], &seq, &v), HX_OK);
	return v;
}

/* hx_zent_unpack_head: the first want bytes of a long value exactly
 * (*whole 0), the whole value when want reaches it or the value is short. */
static void check_heads(hx_store *s)
{
	MDB_txn *txn;
	size_t bad = 0, nlong = 0;
	CHECK_RC(hx_txn_begin(s, MDB_RDONLY, &txn), HX_OK);
	for (size_t i = 0; i < N; i++) {
		MDB_val st = stored_of(s, txn, i), raw;
		size_t wants[] = { 1, 2048, 4096, lens[i] - 1, lens[i] };
		for (size_t w = 0; w < sizeof wants / sizeof wants[0]; w++) {
			uint8_t *owned = NULL;
			int whole = -1;
			if (hx_zent_unpack_head(&s->z, txn, &st, wants[w], &raw, &owned, &whole)) {
				bad++;
				continue;
			}
			size_t expect = IS_LONG(i) && wants[w] < lens[i] ? wants[w] : lens[i];
			bad += whole != (expect == lens[i]) || raw.mv_size != expect ||
			       memcmp(raw.mv_data, raws[i], expect);
			free(owned);
		}
		nlong += IS_LONG(i);
	}
	hx_txn_abort(s, txn);
	CHECK(bad == 0);
	CHECK(nlong > 40 && lens[7] > 2 * 4096);
}

/* Through liblmdb: a write transaction on the store in dir, and its log. */
static MDB_env *log_open(const char *dir, MDB_txn **txn, MDB_dbi *log)
{
	MDB_env *env;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 64) ||
	    mdb_env_set_mapsize(env, (size_t)16 << 30) || mdb_env_open(env, dir, 0, 0600) ||
	    mdb_txn_begin(env, NULL, 0, txn) || mdb_dbi_open(*txn, "log", 0, log))
		abort();
	return env;
}

/* The log row of entry i: its key into seq, its value into *v. */
static void log_row(MDB_txn *txn, MDB_dbi log, size_t i, uint8_t seq[8], MDB_val *v)
{
	MDB_cursor *c;
	MDB_val k;
	int r;
	if (mdb_cursor_open(txn, log, &c))
		abort();
	for (r = mdb_cursor_get(c, &k, v, MDB_FIRST); !r; r = mdb_cursor_get(c, &k, v, MDB_NEXT))
		if (v->mv_size > HX_ID_LEN && !memcmp(v->mv_data, ids[i], HX_ID_LEN))
			break;
	mdb_cursor_close(c);
	if (r || k.mv_size != 8)
		abort();
	memcpy(seq, k.mv_data, 8);
}

/* Through liblmdb: every long value of the store in dir packed again as
 * one block (as a hansa before blocks wrote it). */
static void one_block(const char *dir)
{
	MDB_txn *txn;
	MDB_dbi log, meta;
	MDB_val v, dk = { 5, "zdict" }, dv;
	MDB_env *env = log_open(dir, &txn, &log);
	if (mdb_dbi_open(txn, "meta", 0, &meta) || mdb_get(txn, meta, &dk, &dv))
		abort();
	ZSTD_CDict *cd = ZSTD_createCDict(dv.mv_data, dv.mv_size, 3);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	/* as hx_zent_pack made every value before blocks: one call */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_refCDict(cc, cd)))
		abort();
	static uint8_t out[32768];
	size_t n = 0;
	for (size_t i = 0; i < N; i++) {
		if (!IS_LONG(i))
			continue;
		uint8_t seq[8];
		log_row(txn, log, i, seq, &v);
		memcpy(out, ids[i], HX_ID_LEN);
		out[HX_ID_LEN] = 0;
		size_t z = ZSTD_compress2(cc, out + HX_ID_LEN + 1, sizeof out - HX_ID_LEN - 1,
		                          raws[i], lens[i]);
		if (ZSTD_isError(z))
			abort();
		MDB_val sk2 = { 8, seq }, nv = { HX_ID_LEN + 1 + z, out };
		CHECK_RC(mdb_put(txn, log, &sk2, &nv, 0), 0);
		n++;
	}
	CHECK_RC(mdb_txn_commit(txn), 0);
	ZSTD_freeCCtx(cc);
	ZSTD_freeCDict(cd);
	mdb_env_close(env);
	CHECK(n > 40);
}

/* A copy of the store (hansa compact, backup) writes its long values of
 * one block (in the store at dir, as a hansa before blocks wrote them) in
 * blocks: every entry reads back as it was signed (fsck clean, searches
 * answer) and the start of each long value is read alone. A value that
 * cannot be read is copied as it is: the copy is made, and its fsck names
 * that entry as the store's would. So is every row of a store whose
 * dictionary cannot be read. */
static void damage(const char *dir, size_t i, long cut);
static void report(void *arg, const char *line);

static void check_compact(const char *dir)
{
	char c1[4400], c2[4400];
	snprintf(c1, sizeof c1, "%s-c1", dir);
	snprintf(c2, sizeof c2, "%s-c2", dir);
	hx_store *s, *c;
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_store_copy(s, c1), HX_OK);
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&c, c1, 0), HX_OK);
	check_exact(c);
	check_heads(c);
	hx_store_close(&c);
	size_t bad = 7 + LONG_EVERY, good = 7 + 2 * LONG_EVERY;
	damage(dir, bad, -1);
	MDB_txn *txn;
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_store_copy(s, c2), HX_OK);
	CHECK_RC(hx_txn_begin(s, MDB_RDONLY, &txn), HX_OK);
	MDB_val was = stored_of(s, txn, bad);
	static uint8_t keep[65536];
	CHECK(was.mv_size <= sizeof keep);
	size_t wl = was.mv_size < sizeof keep ? was.mv_size : sizeof keep;
	memcpy(keep, was.mv_data, wl);
	hx_txn_abort(s, txn);
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&c, c2, 0), HX_OK);
	CHECK_RC(hx_txn_begin(c, MDB_RDONLY, &txn), HX_OK);
	MDB_val now = stored_of(c, txn, bad), raw;
	CHECK(now.mv_size == wl && !memcmp(now.mv_data, keep, wl));
	MDB_val st = stored_of(c, txn, good);
	uint8_t *owned = NULL;
	int whole = -1;
	CHECK_RC(hx_zent_unpack_head(&c->z, txn, &st, 2048, &raw, &owned, &whole), HX_OK);
	CHECK(whole == 0 && raw.mv_size == 2048 && !memcmp(raw.mv_data, raws[good], 2048));
	free(owned);
	hx_txn_abort(c, txn);
	static char out[4096];
	char hex[2 * HX_ID_LEN + 1];
	uint64_t problems = 0;
	out[0] = 0;
	CHECK_RC(hx_store_fsck(c, report, out, &problems), HX_OK);
	hx_hex(hex, ids[bad], HX_ID_LEN);
	CHECK(problems >= 1 && strstr(out, hex) != NULL);
	hx_store_close(&c);
	/* a damaged dictionary: the copy is made, every row as it was */
	MDB_env *env;
	MDB_dbi meta;
	MDB_val dk = { 5, "zdict" }, dv;
	static uint8_t dict[65536];
	env = log_open(dir, &txn, &meta);
	if (mdb_dbi_open(txn, "meta", 0, &meta) || mdb_get(txn, meta, &dk, &dv) ||
	    dv.mv_size > sizeof dict)
		abort();
	memcpy(dict, dv.mv_data, dv.mv_size);
	dict[0] ^= 0xff; /* no dictionary id: unreadable */
	dv.mv_data = dict;
	CHECK_RC(mdb_put(txn, meta, &dk, &dv, 0), 0);
	CHECK_RC(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	char c3[4400];
	snprintf(c3, sizeof c3, "%s-c3", dir);
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	int made = hx_store_copy(s, c3) == HX_OK;
	CHECK(made);
	if (made) {
		MDB_txn *t2;
		size_t same = 0;
		CHECK_RC(hx_store_open(&c, c3, 0), HX_OK);
		CHECK_RC(hx_txn_begin(s, MDB_RDONLY, &txn), HX_OK);
		CHECK_RC(hx_txn_begin(c, MDB_RDONLY, &t2), HX_OK);
		for (size_t i = 7; i < N; i += LONG_EVERY) {
			MDB_val a = stored_of(s, txn, i), b = stored_of(c, t2, i);
			same += a.mv_size == b.mv_size && !memcmp(a.mv_data, b.mv_data, a.mv_size);
		}
		hx_txn_abort(c, t2);
		hx_txn_abort(s, txn);
		CHECK(same == (N - 7 + LONG_EVERY - 1) / LONG_EVERY);
		hx_store_close(&c);
	}
	hx_store_close(&s);
	rmtree(c1);
	rmtree(c2);
	rmtree(c3);
}

/* The re-rank of the long entries' pairs, from their starts read alone,
 * against the same store whose long values are one block each (read
 * whole): the same hits with the same scores, and the boost given to some
 * and not to others. */
static void check_rerank(hx_store *s, const char *dir)
{
	char copy[4300];
	snprintf(copy, sizeof copy, "%s-one", dir);
	CHECK_RC(mkdir(copy, 0700), 0);
	CHECK_RC(mdb_env_copy(s->env, copy), 0);
	one_block(copy);
	hx_store *o;
	CHECK_RC(hx_store_open(&o, copy, 0), HX_OK);
	/* the copy's long values are one block: read whole */
	MDB_txn *txn;
	CHECK_RC(hx_txn_begin(o, MDB_RDONLY, &txn), HX_OK);
	MDB_val st = stored_of(o, txn, 7), raw;
	uint8_t *owned = NULL;
	int whole = 0;
	CHECK_RC(hx_zent_unpack_head(&o->z, txn, &st, 4096, &raw, &owned, &whole), HX_OK);
	CHECK(whole == 1 && raw.mv_size == lens[7] && !memcmp(raw.mv_data, raws[7], lens[7]));
	free(owned);
	hx_txn_abort(o, txn);
	hx_searcher *a, *b;
	CHECK_RC(hx_searcher_new(&a, s), HX_OK);
	CHECK_RC(hx_searcher_new(&b, o), HX_OK);
	size_t boosted = 0, plain = 0, same = 0, hits = 0;
	for (int p = 0; p < 4; p++) {
		char q[64], err[200];
		snprintf(q, sizeof q, "%s %s", pairs[p][0], pairs[p][1]);
		hx_search_opts with = { .limit = 20, .no_snippets = 1 },
		               without = { .limit = 20, .no_snippets = 1, .no_proximity = 1 };
		hx_results ra, rb, rn;
		CHECK_RC(hx_search(a, q, &with, &ra, err, sizeof err), HX_OK);
		CHECK_RC(hx_search(b, q, &with, &rb, err, sizeof err), HX_OK);
		CHECK_RC(hx_search(a, q, &without, &rn, err, sizeof err), HX_OK);
		CHECK(ra.nhits == rb.nhits && ra.nhits == rn.nhits && ra.nhits > 8);
		for (size_t h = 0; h < ra.nhits && h < rb.nhits; h++) {
			hits++;
			same += !strcmp(ra.hits[h].path, rb.hits[h].path) &&
			        ra.hits[h].score == rb.hits[h].score;
			for (size_t j = 0; j < rn.nhits; j++)
				if (!strcmp(rn.hits[j].path, ra.hits[h].path)) {
					boosted += ra.hits[h].score > rn.hits[j].score;
					plain += ra.hits[h].score == rn.hits[j].score;
				}
		}
		hx_results_clear(&ra);
		hx_results_clear(&rb);
		hx_results_clear(&rn);
	}
	printf("re-rank of long entries: %zu hits, %zu the same, %zu boosted, %zu not\n", hits,
	       same, boosted, plain);
	CHECK(same == hits && boosted > 5 && plain > 5);
	hx_searcher_free(&a);
	hx_searcher_free(&b);
	hx_store_close(&o);
	check_compact(copy);
	rmtree(copy);
}

/* Through liblmdb: damages the stored value of entry i, a byte flipped at
 * its middle (cut -1) or 8 bytes before its end (cut -2: in its last
 * block), else cut to cut bytes. */
static void damage(const char *dir, size_t i, long cut)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val v;
	static uint8_t copy[65536];
	uint8_t seq[8];
	MDB_env *env = log_open(dir, &txn, &dbi);
	log_row(txn, dbi, i, seq, &v);
	if (v.mv_size > sizeof copy)
		abort();
	MDB_val k = { 8, seq };
	memcpy(copy, v.mv_data, v.mv_size);
	if (cut < 0)
		copy[cut == -1 ? v.mv_size / 2 : v.mv_size - 8] ^= 0x5a;
	else
		v.mv_size = HX_ID_LEN + (size_t)cut;
	v.mv_data = copy;
	CHECK_RC(mdb_put(txn, dbi, &k, &v, 0), 0);
	CHECK_RC(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Long values damaged past their start and cut short: the start of the
 * first still reads (its blocks are whole; the whole value is refused by
 * its checksum), the second is refused, and a search that meets them
 * fails or answers, never reads past what is there (ASan). */
static void check_damaged_heads(const char *dir)
{
	damage(dir, 7 + 3 * LONG_EVERY, -2);
	damage(dir, 7 + 4 * LONG_EVERY, 40);
	hx_store *s;
	MDB_txn *txn;
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_txn_begin(s, MDB_RDONLY, &txn), HX_OK);
	size_t a = 7 + 3 * LONG_EVERY, b = 7 + 4 * LONG_EVERY;
	MDB_val st = stored_of(s, txn, a), raw;
	uint8_t *owned = NULL;
	int whole = -1;
	CHECK_RC(hx_zent_unpack_head(&s->z, txn, &st, 2048, &raw, &owned, &whole), HX_OK);
	CHECK(whole == 0 && raw.mv_size == 2048 && !memcmp(raw.mv_data, raws[a], 2048));
	free(owned);
	CHECK_RC(hx_zent_unpack(&s->z, txn, &st, &raw, &owned), HX_ECORRUPT);
	st = stored_of(s, txn, b);
	CHECK_RC(hx_zent_unpack_head(&s->z, txn, &st, 4096, &raw, &owned, &whole), HX_ECORRUPT);
	hx_txn_abort(s, txn);
	hx_searcher *sr;
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	for (int p = 0; p < 4; p++) {
		char q[64], err[200];
		hx_results r;
		snprintf(q, sizeof q, "%s %s", pairs[p][0], pairs[p][1]);
		int rc = hx_search(sr, q, NULL, &r, err, sizeof err);
		CHECK(rc == HX_OK || rc == HX_ECORRUPT);
		if (!rc)
			hx_results_clear(&r);
	}
	hx_searcher_free(&sr);
	hx_store_close(&s);
}

static void report(void *arg, const char *line)
{
	char *out = arg;
	size_t l = strlen(out);
	snprintf(out + l, 4096 - l, "%s\n", line);
}

int main(void)
{
	char base[] = "/tmp/hx-test-zentry.XXXXXX", dir[4200];
	if (sodium_init() < 0 || !mkdtemp(base))
		return 1;
	crypto_sign_keypair(pk, sk);
	for (size_t i = 0; i < N; i++)
		make(i);
	snprintf(dir, sizeof dir, "%s/store", base);
	hx_store *s = NULL;
	size_t packed, bytes, rawbytes = 0;
	int dict;
	for (size_t i = 0; i < N; i++)
		rawbytes += lens[i];

	/* below the threshold nothing is compressed */
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	put_all(s, 0, HX_ZENT_TRAIN_MIN - BATCH);
	raw_stats(dir, &packed, &bytes, &dict);
	CHECK(packed == 0 && !dict);
	/* past it, everything is, the entries from before too */
	put_all(s, HX_ZENT_TRAIN_MIN - BATCH, N);
	raw_stats(dir, &packed, &bytes, &dict);
	CHECK(dict && packed == N);
	CHECK(bytes < rawbytes * 3 / 4);
	printf("%zu entries: %zu bytes signed, %zu stored (%.2f)\n", (size_t)N, rawbytes, bytes,
	       (double)bytes / (double)rawbytes);
	check_exact(s);
	check_heads(s);
	check_rerank(s, dir);
	/* another handle (as another process) reads and writes with it */
	hx_store *s2 = NULL;
	CHECK_RC(hx_store_open(&s2, dir, 0), HX_OK);
	check_exact(s2);
	hx_store_close(&s2);
	hx_store_close(&s);

	/* a schema 3 store upgrades in place and comes out compressed */
	make_schema3(dir);
	raw_stats(dir, &packed, &bytes, &dict);
	CHECK(packed == 0 && !dict);
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	raw_stats(dir, &packed, &bytes, &dict);
	CHECK(dict && packed == N);
	check_exact(s);
	hx_store_close(&s);

	/* a damaged compressed value: fsck names it, get refuses it */
	damage(dir, 5, -1);
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	static char out[4096];
	uint64_t problems = 0;
	CHECK_RC(hx_store_fsck(s, report, out, &problems), HX_OK);
	CHECK(problems >= 1);
	char hex[2 * HX_ID_LEN + 1];
	hx_hex(hex, ids[5], HX_ID_LEN);
	CHECK(strstr(out, hex) != NULL);
	hx_entry e;
	uint8_t *raw = NULL;
	size_t len;
	int rc = hx_store_get(s, ids[5], &e, &raw, &len);
	CHECK(rc == HX_ECORRUPT);
	if (!rc) {
		hx_entry_clear(&e);
		free(raw);
	}
	hx_store_close(&s);
	check_damaged_heads(dir);

	for (size_t i = 0; i < N; i++)
		free(raws[i]);
	rmtree(base);
	return check_done();
}
