/*
 * test_search.c: the search index and query evaluation through the public
 * API (store/search.h): folding and stemming per language, phrases,
 * prefixes, exclusions, OR and every filter, the index following new
 * versions and tombstones (fsck clean after each step), did-you-mean,
 * facets, bad queries, snippets of Markdown bodies as plain text, and a
 * differential test: random documents and random queries ranked by the
 * index and by a brute-force scan of the same documents with the same
 * scoring, after bulk loads, updates, deletions and a reindex.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lmdb.h>
#include <sodium.h>
#include "store/store.h"
#include "store/search.h"
#include "store/query.h"
#include "store/tokenize.h"
#include "store/ix_int.h"
#include "store/search_int.h"
#include "store/lemma.h"
#include "store/sugix.h"
#include "tests/check.h"

static uint8_t sk[3][HX_SECRET_LEN], pk[3][HX_KEY_LEN];

/* ---- documents -------------------------------------------------------------- */

typedef struct doc {
	char path[64], title[256], body[2048], lang[8], kind[16], org[32], country[8];
	char tagbuf[4][32];
	char *tags[4];
	char tr[64]; /* translation_of, "" when none */
	size_t ntags;
	int author;
	uint64_t ts;
	hx_meta meta[3];
	hx_entry e;
	uint8_t *raw;
	size_t rawlen;
	int live; /* current, not deleted (for the model) */
} doc;

static void doc_sign(doc *d)
{
	size_t nm = 0;
	for (size_t i = 0; i < d->ntags; i++)
		d->tags[i] = d->tagbuf[i];
	if (*d->org)
		d->meta[nm++] = (hx_meta){ "org", d->org };
	if (*d->country)
		d->meta[nm++] = (hx_meta){ "country", d->country };
	if (*d->tr)
		d->meta[nm++] = (hx_meta){ "translation_of", d->tr };
	memset(&d->e, 0, sizeof d->e);
	d->e.path = d->path;
	d->e.timestamp = d->ts;
	d->e.kind = d->kind;
	d->e.title = d->title;
	d->e.body = d->body;
	d->e.tags = d->tags;
	d->e.ntags = d->ntags;
	d->e.lang = d->lang;
	d->e.meta = d->meta;
	d->e.nmeta = nm;
	free(d->raw);
	if (hx_entry_sign(&d->e, sk[d->author], &d->raw, &d->rawlen))
		abort();
}

static int put_docs(hx_store *s, doc **ds, size_t n)
{
	hx_put *p = calloc(n, sizeof *p);
	for (size_t i = 0; i < n; i++) {
		p[i].raw = ds[i]->raw;
		p[i].rawlen = ds[i]->rawlen;
		p[i].entry = &ds[i]->e;
	}
	int rc = hx_store_put_batch(s, p, n, 0, NULL);
	for (size_t i = 0; i < n && !rc; i++)
		if (p[i].result != HX_OK)
			rc = p[i].result;
	free(p);
	return rc;
}

static doc *mkdoc(int author, const char *path, uint64_t ts, const char *lang, const char *title,
                  const char *body, const char *tags, const char *org, const char *country)
{
	doc *d = calloc(1, sizeof *d);
	d->author = author;
	snprintf(d->path, sizeof d->path, "%s", path);
	d->ts = ts;
	snprintf(d->lang, sizeof d->lang, "%s", lang);
	snprintf(d->kind, sizeof d->kind, "practice");
	snprintf(d->title, sizeof d->title, "%s", title);
	snprintf(d->body, sizeof d->body, "%s", body);
	snprintf(d->org, sizeof d->org, "%s", org ? org : "");
	snprintf(d->country, sizeof d->country, "%s", country ? country : "");
	if (tags) {
		char tmp[128];
		snprintf(tmp, sizeof tmp, "%s", tags);
		for (char *t = strtok(tmp, ","); t && d->ntags < 4; t = strtok(NULL, ","))
			snprintf(d->tagbuf[d->ntags++], sizeof d->tagbuf[0], "%s", t);
	}
	doc_sign(d);
	d->live = 1;
	return d;
}

static void doc_free(doc *d)
{
	if (d) {
		free(d->raw);
		free(d);
	}
}

static char *tmpdir(void)
{
	char *t = strdup("/tmp/hx-test-search-XXXXXX");
	if (!mkdtemp(t))
		abort();
	return t;
}

static void rmrf(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

static uint64_t fsck_problems(hx_store *s)
{
	uint64_t n = 0;
	if (hx_store_fsck(s, NULL, NULL, &n))
		return 999;
	return n;
}

/* Paths of the hits of q, joined by spaces ("" when none; "ERR:..." on
 * error). */
static const char *paths(hx_searcher *sr, const char *q)
{
	static char out[4096];
	hx_results r;
	char err[256];
	hx_search_opts o = { 20, 0, 0, 1, 0, 0 };
	int rc = hx_search(sr, q, &o, &r, err, sizeof err);
	if (rc) {
		snprintf(out, sizeof out, "ERR:%s", err);
		return out;
	}
	out[0] = 0;
	for (size_t i = 0; i < r.nhits; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, r.hits[i].path);
	}
	hx_results_clear(&r);
	return out;
}

static int bad_query(hx_searcher *sr, const char *q, const char *want)
{
	hx_results r;
	char err[256];
	int rc = hx_search(sr, q, NULL, &r, err, sizeof err);
	if (rc != HX_EINVAL || !strstr(err, want) || strchr(err, '\n')) {
		fprintf(stderr, "query [%s]: rc %d err [%s], want [%s]\n", q, rc, err, want);
		if (!rc)
			hx_results_clear(&r);
		return 0;
	}
	return 1;
}

/* ---- fixed cases ------------------------------------------------------------------ */

static void fixed_cases(void)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);

	doc *d[12];
	d[0] = mkdoc(0, "places/bialystok", 1000, "pl", "Białystok innovation brokerage",
	             "The region of Białystok runs an innovation brokerage for SMEs.",
	             "smes,brokerage", "Podlaskie Region", "PL");
	d[1] = mkdoc(0, "places/strasse", 2000, "de", "Die Straße der Kooperation",
	             "Kooperation zwischen Gemeinden entlang der Straße.", "kooperation",
	             "Stadt Rostock", "DE");
	d[2] = mkdoc(1, "places/cesis", 3000, "en", "Cēsis toolkit for municipalities",
	             "A toolkit from Cēsis with good practices for small municipalities.",
	             "toolkit,municipalities", "Cesis Municipality", "LV");
	d[3] = mkdoc(1, "places/stovring", 4000, "da", "Støvring erhvervsudvikling",
	             "Erhvervsudvikling i Støvring med fokus på iværksættere.", "erhverv",
	             "Rebild Kommune", "DK");
	d[4] = mkdoc(2, "places/louna", 5000, "et", "Lõuna-Eesti koostöö",
	             "Lõuna-Eesti ja Peipsiääre piirkonna koostöö.", "koostoo", "Tartu Agency",
	             "EE");
	d[5] = mkdoc(2, "practices/one", 6000, "en", "One practice for SMEs",
	             "A single practice, described once.", "smes", "Tartu Agency", "EE");
	d[6] = mkdoc(2, "practices/many", 7000, "en", "Many practices for SMEs",
	             "Several practices, described in turn.", "smes", "Tartu Agency", "EE");
	d[7] = mkdoc(0, "notes/brokerage-innovation", 8000, "en", "Notes",
	             "We talked about brokerage; innovation came later.", NULL, "Podlaskie Region",
	             "PL");
	CHECK_RC(put_docs(s, d, 8), HX_OK);
	CHECK(fsck_problems(s) == 0);

	/* Folding: names typed without diacritics. */
	CHECK(!strcmp(paths(sr, "bialystok"), "places/bialystok"));
	CHECK(!strcmp(paths(sr, "Białystok"), "places/bialystok"));
	CHECK(!strcmp(paths(sr, "strasse"), "places/strasse"));
	CHECK(!strcmp(paths(sr, "cesis"), "places/cesis"));
	CHECK(!strcmp(paths(sr, "stovring"), "places/stovring"));
	CHECK(!strcmp(paths(sr, "louna"), "places/louna"));
	CHECK(!strcmp(paths(sr, "eesti"), "places/louna"));
	CHECK(!strcmp(paths(sr, "louna-eesti"), "places/louna"));
	CHECK(!strcmp(paths(sr, "peipsiaare"), "places/louna"));
	/* Stemming in the entry's language; exact forms rank first. */
	CHECK(!strcmp(paths(sr, "Kooperationen"), "places/strasse"));
	CHECK(!strcmp(paths(sr, "practices"), "practices/many practices/one places/cesis"));
	CHECK(!strcmp(paths(sr, "practice"), "practices/one practices/many places/cesis"));
	CHECK(!strcmp(paths(sr, "municipality"), "places/cesis"));
	/* Phrases: adjacent exact words; a hyphenated word is a phrase. */
	CHECK(!strcmp(paths(sr, "\"innovation brokerage\""), "places/bialystok"));
	CHECK(!strcmp(paths(sr, "innovation brokerage"),
	              "places/bialystok notes/brokerage-innovation"));
	CHECK(!strcmp(paths(sr, "\"practice\""), "practices/one"));
	/* Prefix, exclusion, OR. */
	CHECK(!strcmp(paths(sr, "broker*"), "places/bialystok notes/brokerage-innovation"));
	CHECK(!strcmp(paths(sr, "innovation -smes"), "notes/brokerage-innovation"));
	CHECK(!strcmp(paths(sr, "innovation -\"innovation brokerage\""),
	              "notes/brokerage-innovation"));
	CHECK(!strcmp(paths(sr, "cesis OR stovring"), "places/cesis places/stovring") ||
	      !strcmp(paths(sr, "cesis OR stovring"), "places/stovring places/cesis"));
	CHECK(!strcmp(paths(sr, "smes -practice*"), "places/bialystok"));
	/* Filters. */
	CHECK(!strcmp(paths(sr, "smes lang:pl"), "places/bialystok"));
	CHECK(!strcmp(paths(sr, "smes -lang:pl"), "practices/many practices/one") ||
	      !strcmp(paths(sr, "smes -lang:pl"), "practices/one practices/many"));
	CHECK(!strcmp(paths(sr, "tag:kooperation"), "places/strasse"));
	CHECK(!strcmp(paths(sr, "tag:KOOP*"), "places/strasse"));
	CHECK(!strcmp(paths(sr, "kind:practice country:dk"), "places/stovring"));
	CHECK(!strcmp(paths(sr, "org:\"rebild kommune\""), "places/stovring"));
	CHECK(!strcmp(paths(sr, "country:lv OR country:dk"), "places/stovring places/cesis"));
	CHECK(!strcmp(paths(sr, "org:podlaskie*"), "notes/brokerage-innovation places/bialystok"));
	{
		char q[128], hex[2 * HX_KEY_LEN + 1];
		hx_hex(hex, pk[1], HX_KEY_LEN);
		snprintf(q, sizeof q, "author:%s", hex);
		CHECK(!strcmp(paths(sr, q), "places/stovring places/cesis"));
		snprintf(q, sizeof q, "toolkit author:%.10s", hex);
		CHECK(!strcmp(paths(sr, q), "places/cesis"));
	}
	/* Timestamps are 1970 here: day 1 of the epoch. */
	CHECK(!strcmp(paths(sr, "smes since:1970-01-01 until:1970-01-01"),
	              "practices/many practices/one places/bialystok") ||
	      strstr(paths(sr, "smes since:1970-01-01"), "practices"));
	CHECK(!strcmp(paths(sr, "smes since:1970-01-02"), ""));
	CHECK(!strcmp(paths(sr, "zzzz"), ""));

	/* Bad queries: one clear line each. */
	CHECK(bad_query(sr, "\"innovation brokerage", "unclosed quote"));
	CHECK(bad_query(sr, "innovation - smes", "lone '-'"));
	CHECK(bad_query(sr, "colour:red", "unknown filter 'colour:'"));
	CHECK(bad_query(sr, "since:2024-13-01", "since: wants a date"));
	CHECK(bad_query(sr, "until:yesterday", "until: wants a date"));
	CHECK(bad_query(sr, "since:2023-02-29", "wants a date"));
	CHECK(bad_query(sr, "", "empty query"));
	CHECK(bad_query(sr, "-smes", "nothing to search for"));
	CHECK(bad_query(sr, "OR smes", "OR needs a word"));
	CHECK(bad_query(sr, "smes OR", "OR needs a word"));
	CHECK(bad_query(sr, "smes OR lang:de", "not both"));
	CHECK(bad_query(sr, "a*", "prefix too short"));
	CHECK(bad_query(sr, "author:xyz", "hex"));
	CHECK(bad_query(sr, "tag:", "needs a value"));
	CHECK(bad_query(sr, "\"\"", "empty phrase"));
	CHECK(bad_query(sr, "ab\xff", "UTF-8"));
	/* Parentheses group; where a flat list of clauses cannot say what
	 * they mean, one line says so (issue 13: "editor (lang:de)" used to
	 * find nothing, silently). */
	CHECK(!strcmp(paths(sr, "smes (lang:pl)"), "places/bialystok"));
	CHECK(!strcmp(paths(sr, "(cesis OR stovring) toolkit"), "places/cesis"));
	CHECK(!strcmp(paths(sr, "toolkit (cesis)"), "places/cesis"));
	CHECK(!strcmp(paths(sr, "(smes (lang:pl))"), "places/bialystok"));
	CHECK(bad_query(sr, "()", "empty group"));
	CHECK(bad_query(sr, "smes ( )", "empty group"));
	CHECK(bad_query(sr, "(smes practice) OR cesis", "OR joins"));
	CHECK(bad_query(sr, "cesis OR (smes practice)", "OR joins"));
	CHECK(bad_query(sr, "(smes", "unclosed '('"));
	CHECK(bad_query(sr, "smes )", "unbalanced ')'"));
	CHECK(bad_query(sr, "-(smes)", "cannot be excluded"));
	CHECK(bad_query(sr, "(smes OR) cesis", "OR needs a word"));

	/* Did you mean. */
	{
		hx_results r;
		char err[128];
		/* Since issue 13 a typo corrects itself: the hits are those of
		 * the corrected query, and the query as typed can be run with
		 * the corrected word quoted. */
		CHECK_RC(hx_search(sr, "inovation brokerage", NULL, &r, err, sizeof err), HX_OK);
		CHECK(r.nhits == 2 && r.corrected && !strcmp(r.corrected, "innovation brokerage") &&
		      r.instead && !strcmp(r.instead, "\"inovation\" brokerage"));
		hx_results_clear(&r);
		CHECK_RC(hx_search(sr, "\"inovation\" brokerage", NULL, &r, err, sizeof err),
		         HX_OK);
		CHECK(r.nhits == 0 && !r.corrected && r.nsuggest == 0);
		hx_results_clear(&r);
		CHECK_RC(hx_search(sr, "smes -lang:pl bialystock", NULL, &r, err, sizeof err),
		         HX_OK);
		CHECK(r.nhits == 0 && r.nsuggest >= 1 &&
		      !strcmp(r.suggest[0], "smes -lang:pl bialystok"));
		hx_results_clear(&r);
		CHECK_RC(hx_search(sr, "qqqqqqqq", NULL, &r, err, sizeof err), HX_OK);
		CHECK(r.nhits == 0 && r.nsuggest == 0);
		hx_results_clear(&r);
	}
	/* Snippets, limit/offset, facets. */
	{
		hx_results r;
		char err[128];
		hx_search_opts o = { 1, 1, 1, 0, 0, 0 };
		CHECK_RC(hx_search(sr, "smes", &o, &r, err, sizeof err), HX_OK);
		CHECK(r.nhits == 1 && r.hits[0].rank == 2 && r.total == 3 && r.total_exact);
		CHECK(r.nfacets == 4 && !strcmp(r.facets[0].name, "tag") && r.facets[0].n >= 2 &&
		      !strcmp(r.facets[0].v[0].value, "smes") && r.facets[0].v[0].count == 3);
		CHECK(!strcmp(r.facets[2].name, "lang") && r.facets[2].n == 2 &&
		      !strcmp(r.facets[2].v[0].value, "en") && r.facets[2].v[0].count == 2);
		hx_results_clear(&r);
		hx_search_opts o2 = { 5, 0, 0, 0, 0, 0 };
		CHECK_RC(hx_search(sr, "cesis toolkit", &o2, &r, err, sizeof err), HX_OK);
		CHECK(r.nhits == 1 && r.hits[0].org &&
		      !strcmp(r.hits[0].org, "Cesis Municipality"));
		CHECK(r.nhits == 1 && strstr(r.hits[0].snippet, "toolkit from Cēsis") &&
		      r.hits[0].nhl == 2);
		if (r.nhits == 1 && r.hits[0].nhl == 2) {
			const hx_hit *h = &r.hits[0];
			CHECK(!strncmp(h->snippet + h->hl[0].start, "toolkit", 7) &&
			      h->hl[0].end - h->hl[0].start == 7);
			CHECK(!strncmp(h->snippet + h->hl[1].start, "Cēsis",
			               h->hl[1].end - h->hl[1].start));
		}
		hx_results_clear(&r);
	}

	/* Versions and tombstones: only the current version is found. */
	doc *v2 = mkdoc(0, "places/bialystok", 9000, "pl", "Białystok cluster",
	                "Cluster management in Podlasie.", "clusters", "Podlaskie Region", "PL");
	CHECK_RC(put_docs(s, &v2, 1), HX_OK);
	CHECK(!strcmp(paths(sr, "bialystok"), "places/bialystok"));
	CHECK(!strcmp(paths(sr, "cluster"), "places/bialystok"));
	CHECK(!strcmp(paths(sr, "\"innovation brokerage\""), ""));
	CHECK(!strcmp(paths(sr, "tag:brokerage"), ""));
	CHECK(fsck_problems(s) == 0);
	/* An older version arriving late changes nothing. */
	doc *v0 = mkdoc(0, "places/bialystok", 500, "pl", "Białystok ancient", "Old.", NULL, NULL,
	                NULL);
	CHECK_RC(put_docs(s, &v0, 1), HX_OK);
	CHECK(!strcmp(paths(sr, "ancient"), ""));
	/* Two versions of one document in one batch: the last wins. */
	doc *b1 = mkdoc(1, "notes/batch", 10000, "en", "Batch first", "alpha", NULL, NULL, NULL);
	doc *b2 = mkdoc(1, "notes/batch", 10001, "en", "Batch second", "beta", NULL, NULL, NULL);
	doc *bb[2] = { b1, b2 };
	CHECK_RC(put_docs(s, bb, 2), HX_OK);
	CHECK(!strcmp(paths(sr, "alpha"), ""));
	CHECK(!strcmp(paths(sr, "beta"), "notes/batch"));
	CHECK(fsck_problems(s) == 0);
	/* A tombstone hides the document. */
	doc *tomb = mkdoc(0, "places/bialystok", 9500, "pl", "", "", NULL, NULL, NULL);
	snprintf(tomb->kind, sizeof tomb->kind, "tombstone");
	doc_sign(tomb);
	CHECK_RC(put_docs(s, &tomb, 1), HX_OK);
	CHECK(!strcmp(paths(sr, "bialystok"), ""));
	CHECK(!strcmp(paths(sr, "cluster"), ""));
	CHECK(!strcmp(paths(sr, "lang:pl"), ""));
	CHECK(fsck_problems(s) == 0);
	/* Reindex gives the same answers. */
	uint64_t nd = 0;
	CHECK_RC(hx_store_reindex(s, &nd), HX_OK);
	CHECK(nd == 8);
	CHECK(!strcmp(paths(sr, "beta"), "notes/batch"));
	CHECK(!strcmp(paths(sr, "practices"), "practices/many practices/one places/cesis"));
	CHECK(fsck_problems(s) == 0);

	/* A metadata value longer than the index keeps is cut the same way in
	 * the query. */
	{
		doc *lo = mkdoc(2, "notes/long-org", 20000, "en", "Long organisation", "x", NULL,
		                "", "EE");
		char org[700], q[800];
		for (int i = 0; i < 600; i++)
			org[i] = (char)('a' + i % 26);
		strcpy(org + 600, "Ą");
		lo->meta[0] = (hx_meta){ "org", org };
		lo->meta[1] = (hx_meta){ "country", "EE" };
		lo->e.meta = lo->meta;
		lo->e.nmeta = 2;
		free(lo->raw);
		CHECK_RC(hx_entry_sign(&lo->e, sk[2], &lo->raw, &lo->rawlen), HX_OK);
		CHECK_RC(put_docs(s, &lo, 1), HX_OK);
		snprintf(q, sizeof q, "org:\"%s\"", org);
		CHECK(!strcmp(paths(sr, q), "notes/long-org"));
		doc_free(lo);
	}

	/* An index written by another schema: a read-only open leaves it (a
	 * search asks for a rebuild, fsck reports it), a writable open
	 * rebuilds it, once. Three times: an index of schema 3 (no ix.wstem
	 * table), one whose schema number alone differs, and one of schema 5
	 * (an ix.docs record is id ‖ author, 64 bytes: no fields of a hit). */
	for (int round = 0; round < 3; round++) {
		hx_searcher_free(&sr);
		hx_store_close(&s);
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi, ws, dd;
		uint8_t old[4] = { round == 0 ? 3 : round == 1 ? 1 : 5, 0, 0, 0 };
		MDB_val k = { 6, "schema" }, v = { 4, old };
		CHECK(!mdb_env_create(&env) && !mdb_env_set_maxdbs(env, 64) &&
		      !mdb_env_set_mapsize(env, (size_t)16 << 30) &&
		      !mdb_env_open(env, dir, 0, 0600));
		CHECK(!mdb_txn_begin(env, NULL, 0, &txn) &&
		      !mdb_dbi_open(txn, "ix.meta", 0, &dbi) && !mdb_put(txn, dbi, &k, &v, 0) &&
		      (round != 0 ||
		       (!mdb_dbi_open(txn, "ix.wstem", 0, &ws) && !mdb_drop(txn, ws, 1))) &&
		      !mdb_dbi_open(txn, "ix.docs", 0, &dd));
		if (round == 2) { /* the records as schema 5 wrote them */
			MDB_cursor *c;
			MDB_val ck, cv;
			size_t cut = 0;
			CHECK(!mdb_cursor_open(txn, dd, &c));
			while (!mdb_cursor_get(c, &ck, &cv, MDB_NEXT)) {
				uint8_t rec[HX_ID_LEN + HX_KEY_LEN];
				CHECK(cv.mv_size > sizeof rec);
				memcpy(rec, cv.mv_data, sizeof rec);
				MDB_val nv = { sizeof rec, rec };
				cut += !mdb_cursor_put(c, &ck, &nv, MDB_CURRENT);
			}
			mdb_cursor_close(c);
			CHECK(cut == 9);
		}
		CHECK(!mdb_txn_commit(txn));
		mdb_env_close(env);
		double secs;
		CHECK_RC(hx_store_open(&s, dir, HX_STORE_RDONLY), HX_OK);
		CHECK(!hx_store_reindexed(s, &nd, &secs));
		CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
		CHECK(!strcmp(paths(sr, "beta"), "ERR:the search index needs a rebuild"));
		CHECK(fsck_problems(s) == 1);
		hx_searcher_free(&sr);
		hx_store_close(&s);
		CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
		CHECK(hx_store_reindexed(s, &nd, &secs) && nd == 9 && secs >= 0);
		CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
		CHECK(!strcmp(paths(sr, "beta"), "notes/batch"));
		CHECK(fsck_problems(s) == 0);
		hx_searcher_free(&sr);
		hx_store_close(&s);
		CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
		CHECK(!hx_store_reindexed(s, &nd, &secs));
		CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
		CHECK(!strcmp(paths(sr, "beta"), "notes/batch"));
	}

	for (int i = 0; i < 8; i++)
		doc_free(d[i]);
	doc_free(v2);
	doc_free(v0);
	doc_free(b1);
	doc_free(b2);
	doc_free(tomb);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* ---- the brute-force model ------------------------------------------------------------- */

/* Snippets of Markdown bodies read as plain text: no heading, quote, list,
 * emphasis, code or link markup, and the highlights still on the words. */
static const char *snippet_of(hx_searcher *sr, const char *q, char *buf, size_t cap,
                              const char *word)
{
	hx_results r;
	char err[128];
	hx_search_opts o = { 1, 0, 0, 0, 1, 0 };
	snprintf(buf, cap, "ERR");
	if (hx_search(sr, q, &o, &r, err, sizeof err) || r.nhits != 1)
		return buf;
	const hx_hit *h = &r.hits[0];
	snprintf(buf, cap, "%s", h->snippet);
	CHECK(h->nhl >= 1);
	for (size_t i = 0; i < h->nhl; i++)
		CHECK(h->hl[i].end - h->hl[i].start == strlen(word) &&
		      !strncmp(h->snippet + h->hl[i].start, word, strlen(word)));
	hx_results_clear(&r);
	return buf;
}

static void markdown_snippets(void)
{
	char *dir = tmpdir(), buf[512];
	hx_store *s;
	hx_searcher *sr;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	doc *d = mkdoc(0, "md/toolkit", 1000, "en", "Markdown",
	               "# Regional toolkit #\n\n> A **toolkit** for `small` towns, see "
	               "[the guide](https://example.org/a_(b)) and ![a map](m.png).\n\n"
	               "- first _item_\n2. next ~~step~~\n\n---\n"
	               "```sh\nmake\n```\n"
	               "snake_case, 2 * 3, \\*stars\\* and C# stay.",
	               NULL, NULL, NULL);
	CHECK_RC(put_docs(s, &d, 1), HX_OK);
	CHECK(!strcmp(snippet_of(sr, "toolkit", buf, sizeof buf, "toolkit"),
	              "Regional toolkit A toolkit for small towns, see the guide and a map. "
	              "first item next step make snake_case, 2 * 3, *stars* and C# stay."));
	CHECK(!strcmp(snippet_of(sr, "guide", buf, sizeof buf, "guide"),
	              "... towns, see the guide and a map. first item next step make snake_case, "
	              "2 * 3, *stars* and C# stay."));
	CHECK(strstr(snippet_of(sr, "item", buf, sizeof buf, "item"), "first item next"));
	doc_free(d);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

#define MAXTOK 512

typedef struct mdoc {
	const doc *d;
	uint32_t docnum;
	int lang; /* stemming language or -1 */
	size_t n;
	char *tok[MAXTOK];
	int field[MAXTOK];  /* 0 title, 1.. tags, then body */
	int fclass[MAXTOK]; /* HX_F_* */
	uint32_t len[HX_NFIELDS];
} mdoc;

static hx_stemmers *mst;

/* The stem dictionary as the index keeps it: (language, word) of every
 * version indexed since the last reindex. */
static struct dent {
	int lang;
	char word[HX_TOKEN_MAX + 1];
} * dict;
static size_t ndict, capdict;

static void dict_add(const doc *d)
{
	int lang = hx_stem_lang(d->lang);
	const char *texts[6] = { d->title, d->body, NULL, NULL, NULL, NULL };
	for (size_t i = 0; i < d->ntags && i < 4; i++)
		texts[2 + i] = d->tagbuf[i];
	if (lang < 0 || !strcmp(d->kind, "tombstone"))
		return;
	for (int t = 0; t < 6 && texts[t]; t++) {
		hx_tokenizer tz;
		hx_token k;
		hx_tok_init(&tz, texts[t], strlen(texts[t]));
		while (hx_tok_next(&tz, &k)) {
			size_t i;
			for (i = 0; i < ndict; i++)
				if (dict[i].lang == lang && !strcmp(dict[i].word, k.word))
					break;
			if (i < ndict)
				continue;
			if (ndict == capdict) {
				capdict = capdict ? capdict * 2 : 256;
				dict = realloc(dict, capdict * sizeof *dict);
			}
			dict[ndict].lang = lang;
			snprintf(dict[ndict].word, sizeof dict[0].word, "%s", k.word);
			ndict++;
		}
	}
}

/* df of the words of the current query, computed once each. */
static struct dfc {
	char word[HX_TOKEN_MAX + 1];
	int kind;
	uint32_t df;
} dfcache[64];
static int ndfc;

static void mdoc_add(mdoc *m, const char *text, int field, int fclass)
{
	hx_tokenizer t;
	hx_token k;
	hx_tok_init(&t, text, strlen(text));
	while (hx_tok_next(&t, &k) && m->n < MAXTOK) {
		m->tok[m->n] = strndup(k.word, k.len);
		m->field[m->n] = field;
		m->fclass[m->n] = fclass;
		m->len[fclass]++;
		m->n++;
	}
}

static void mdoc_build(mdoc *m, const doc *d)
{
	memset(m, 0, sizeof *m);
	m->d = d;
	m->lang = hx_stem_lang(d->lang);
	mdoc_add(m, d->title, 0, HX_F_TITLE);
	for (size_t i = 0; i < d->ntags; i++)
		mdoc_add(m, d->tagbuf[i], 1 + (int)i, HX_F_TAGS);
	mdoc_add(m, d->body, 99, HX_F_BODY);
}

static void mdoc_clear(mdoc *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->tok[i]);
}

struct model {
	mdoc *m;
	size_t n;
	double avg[HX_NFIELDS];
	int langs[HX_IX_NLANG];
};

/* Whether word a counts as a form of query word b in language lang: the
 * same stem, or in English b's stem plus "or"/"er" (or, when b's stem has 5
 * bytes or more and ends so, without them), as store/ix_mbuild.c joins an
 * agent noun to its verb. */
static int same_stem(int lang, const char *a, const char *b)
{
	size_t la, lb;
	const char *sa = hx_stem(mst, lang, a, strlen(a), &la);
	char tmp[HX_TOKEN_MAX + 1];
	memcpy(tmp, sa, la);
	tmp[la] = 0;
	const char *sb = hx_stem(mst, lang, b, strlen(b), &lb);
	if (la == lb && !memcmp(tmp, sb, la))
		return 1;
	if (lang != hx_stem_lang("en"))
		return 0;
	if (lb >= 5 && (!memcmp(sb + lb - 2, "or", 2) || !memcmp(sb + lb - 2, "er", 2)))
		return la == lb - 2 && !memcmp(tmp, sb, la);
	return la == lb + 2 && !memcmp(tmp, sb, lb) &&
	       (!strcmp(tmp + lb, "or") || !strcmp(tmp + lb, "er"));
}

/* Score of one word in a document; 0 with *match 0 when it does not occur. */
static double word_score(const struct model *md, const mdoc *m, const char *w, int exact_only,
                         int *match)
{
	double e[HX_NFIELDS] = { 0 }, st[HX_NFIELDS] = { 0 }, tf[HX_NFIELDS];
	int any = 0;
	for (size_t i = 0; i < m->n; i++) {
		int ex = !strcmp(m->tok[i], w);
		e[m->fclass[i]] += ex;
		if (!exact_only && m->lang >= 0 && same_stem(m->lang, m->tok[i], w))
			st[m->fclass[i]]++;
	}
	for (int f = 0; f < HX_NFIELDS; f++) {
		if (exact_only || m->lang < 0)
			st[f] = e[f];
		tf[f] = exact_only ? (1.0 + HX_EXACT_BOOST) * e[f] : st[f] + HX_EXACT_BOOST * e[f];
		any |= tf[f] > 0;
	}
	*match = any;
	if (!any)
		return 0;
	/* df as the index counts it: the sum of the document frequencies of
	 * the word and of the words the stem dictionary gives for it */
	uint32_t df = 0;
	int c;
	for (c = 0; c < ndfc; c++)
		if (dfcache[c].kind == exact_only && !strcmp(dfcache[c].word, w))
			break;
	if (c < ndfc) {
		df = dfcache[c].df;
	} else {
		const char *forms[256];
		size_t nf = 0;
		forms[nf++] = w;
		if (!exact_only)
			for (size_t i = 0; i < ndict; i++) {
				if (!md->langs[dict[i].lang] ||
				    !same_stem(dict[i].lang, dict[i].word, w))
					continue;
				size_t j;
				for (j = 0; j < nf && strcmp(forms[j], dict[i].word); j++)
					;
				if (j == nf && nf < 256)
					forms[nf++] = dict[i].word;
			}
		uint64_t sum = 0;
		for (size_t j = 0; j < nf; j++)
			for (size_t k = 0; k < md->n; k++) {
				const mdoc *o = &md->m[k];
				for (size_t i = 0; i < o->n; i++)
					if (!strcmp(o->tok[i], forms[j])) {
						sum++;
						break;
					}
			}
		df = sum > md->n ? (uint32_t)md->n : (uint32_t)sum;
		if (ndfc < 64) {
			snprintf(dfcache[ndfc].word, sizeof dfcache[0].word, "%s", w);
			dfcache[ndfc].kind = exact_only;
			dfcache[ndfc++].df = df;
		}
	}
	double idf = hx_ix_idf((double)md->n, (double)df);
	return idf * hx_ix_sat(hx_ix_tfn(tf, m->len, md->avg));
}

static double prefix_score(const struct model *md, const mdoc *m, const char *p, int *match)
{
	double tf[HX_NFIELDS] = { 0 };
	size_t pl = strlen(p);
	*match = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!strncmp(m->tok[i], p, pl)) {
			tf[m->fclass[i]] += 1.0 + HX_EXACT_BOOST;
			*match = 1;
		}
	if (!*match)
		return 0;
	uint32_t df = 0;
	int c;
	for (c = 0; c < ndfc; c++)
		if (dfcache[c].kind == 2 && !strcmp(dfcache[c].word, p))
			break;
	if (c < ndfc) {
		df = dfcache[c].df;
	} else {
		for (size_t j = 0; j < md->n; j++)
			for (size_t i = 0; i < md->m[j].n; i++)
				if (!strncmp(md->m[j].tok[i], p, pl)) {
					df++;
					break;
				}
		if (ndfc < 64) {
			snprintf(dfcache[ndfc].word, sizeof dfcache[0].word, "%s", p);
			dfcache[ndfc].kind = 2;
			dfcache[ndfc++].df = df;
		}
	}
	return hx_ix_idf((double)md->n, (double)df) * hx_ix_sat(hx_ix_tfn(tf, m->len, md->avg));
}

static double text_score(const struct model *md, const mdoc *m, const hx_q_text *t, int *match)
{
	if (t->kind == HX_Q_WORD)
		return word_score(md, m, t->words[0], 0, match);
	if (t->kind == HX_Q_PREFIX)
		return prefix_score(md, m, t->words[0], match);
	double s = 0;
	for (size_t i = 0; i < t->nwords; i++) {
		int mt;
		s += word_score(md, m, t->words[i], 1, &mt);
		if (!mt) {
			*match = 0;
			return 0;
		}
	}
	*match = t->nwords == 1;
	for (size_t i = 0; !*match && i + t->nwords <= m->n; i++) {
		size_t j = 0;
		while (j < t->nwords && m->field[i + j] == m->field[i] &&
		       !strcmp(m->tok[i + j], t->words[j]))
			j++;
		*match = j == t->nwords;
	}
	return *match ? s : 0;
}

static int filter_has(const mdoc *m, const hx_q_filter *f)
{
	char v[512], hex[2 * HX_KEY_LEN + 1];
	const doc *d = m->d;
	const char *vals[8];
	size_t nv = 0;
	switch (f->field) {
	case HX_QF_TAG:
		for (size_t i = 0; i < d->ntags; i++)
			vals[nv++] = d->tagbuf[i];
		break;
	case HX_QF_KIND: vals[nv++] = d->kind; break;
	case HX_QF_LANG: vals[nv++] = d->lang; break;
	case HX_QF_ORG:
		if (*d->org)
			vals[nv++] = d->org;
		break;
	case HX_QF_COUNTRY:
		if (*d->country)
			vals[nv++] = d->country;
		break;
	case HX_QF_AUTHOR: vals[nv++] = hx_hex(hex, pk[d->author], HX_KEY_LEN); break;
	}
	for (size_t i = 0; i < nv; i++) {
		hx_fold_str(v, sizeof v, vals[i], strlen(vals[i]));
		size_t fl = strlen(f->value);
		if (f->prefix ? !strncmp(v, f->value, fl) : !strcmp(v, f->value))
			return 1;
	}
	return 0;
}

/* Matches and scores doc m for q; *match. */
static double model_score(const struct model *md, const mdoc *m, const hx_query *q, int *match)
{
	double s = 0;
	*match = 0;
	int has_text = 0;
	for (size_t i = 0; i < q->nclauses; i++) {
		const hx_q_clause *c = &q->clauses[i];
		int any = 0;
		double cs = 0;
		for (size_t j = 0; j < c->nfilters; j++)
			any |= filter_has(m, &c->filters[j]);
		for (size_t j = 0; j < c->ntext; j++) {
			int mt;
			double ts = text_score(md, m, &c->text[j], &mt);
			if (mt) {
				any = 1;
				cs += ts;
			}
		}
		if (c->negated ? any : !any)
			return 0;
		if (!c->negated) {
			s += cs;
			has_text |= c->ntext > 0;
		}
	}
	/* dates */
	uint32_t day1 = (uint32_t)(m->d->ts / 86400000000ull + 1);
	if ((q->since_day1 && day1 < q->since_day1) || (q->until_day1 && day1 > q->until_day1))
		return 0;
	*match = 1;
	return has_text ? s : 0;
}

/* ---- the differential test ------------------------------------------------------------------ */

static const char *base_en[] = { "practice",     "toolkit", "region",  "innovation", "broker",
	                         "municipality", "cluster", "network", "partner",    "library",
	                         "python",       "tool",    "case",    "event",      "contact",
	                         "peer",         "learn" };
static const char *suf_en[] = { "", "", "s", "ing", "ed", "er" };
static const char *base_de[] = { "kooperation", "gemeinde", "region", "werkzeug",
	                         "netz",        "bildung",  "stadt",  "praxis" };
static const char *suf_de[] = { "", "", "en", "e", "ung", "s" };
static const char *odd[] = { "Białystok",   "Straße",     "Cēsis", "Støvring",
	                     "Lõuna-Eesti", "Peipsiääre", "Œuvre", "Þing",
	                     "naïve",       "x11",        "0ad" };

static unsigned rnd_state = 12345;
static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void rnd_word(char *out, size_t cap, int de)
{
	if (rnd(12) == 0) {
		snprintf(out, cap, "%s", odd[rnd(sizeof odd / sizeof odd[0])]);
		return;
	}
	if (de)
		snprintf(out, cap, "%s%s", base_de[rnd(8)], suf_de[rnd(6)]);
	else
		snprintf(out, cap, "%s%s", base_en[rnd(17)], suf_en[rnd(6)]);
	if (rnd(8) == 0 && out[0] >= 'a')
		out[0] = (char)(out[0] - 32);
}

static void rnd_text(char *out, size_t cap, int nwords, int de)
{
	out[0] = 0;
	for (int i = 0; i < nwords; i++) {
		char w[64];
		rnd_word(w, sizeof w, de);
		if (strlen(out) + strlen(w) + 2 >= cap)
			break;
		if (i)
			strcat(out, rnd(6) ? " " : ", ");
		strcat(out, w);
	}
}

static const char *langs[] = { "en", "en", "de", "da", "pl", "et" };
static const char *tagset[] = { "smes", "brokerage", "toolkit", "games", "role::program" };
static const char *orgs[] = { "Region Nord", "Stadt Kiel", "Tartu Agency" };
static const char *countries[] = { "DK", "DE", "EE" };

static void rnd_doc(doc *d, int i, uint64_t ts)
{
	memset(d, 0, sizeof *d);
	d->author = (int)rnd(3);
	snprintf(d->path, sizeof d->path, "docs/d%d", i);
	d->ts = ts;
	snprintf(d->lang, sizeof d->lang, "%s", langs[rnd(6)]);
	int de = !strcmp(d->lang, "de");
	snprintf(d->kind, sizeof d->kind, "%s", rnd(3) ? "practice" : "toolkit");
	rnd_text(d->title, sizeof d->title, 1 + (int)rnd(6), de);
	rnd_text(d->body, sizeof d->body, (int)rnd(60), de);
	d->ntags = rnd(4);
	for (size_t t = 0; t < d->ntags; t++)
		snprintf(d->tagbuf[t], sizeof d->tagbuf[0], "%s", tagset[(t + rnd(5)) % 5]);
	/* no duplicate tags */
	for (size_t t = 1; t < d->ntags; t++)
		for (size_t u = 0; u < t; u++)
			if (!strcmp(d->tagbuf[t], d->tagbuf[u]))
				snprintf(d->tagbuf[t], sizeof d->tagbuf[0], "t%zu", t);
	if (rnd(4))
		snprintf(d->org, sizeof d->org, "%s", orgs[rnd(3)]);
	if (rnd(4))
		snprintf(d->country, sizeof d->country, "%s", countries[rnd(3)]);
	doc_sign(d);
	d->live = 1;
}

/* A random query made of words that exist (or nearly). */
static void rnd_query(char *q, size_t cap, doc *docs, size_t nd)
{
	int nitems = 1 + (int)rnd(3);
	q[0] = 0;
	for (int i = 0; i < nitems; i++) {
		char item[256], w[64];
		int r = (int)rnd(20);
		rnd_word(w, sizeof w, rnd(4) == 0);
		if (r < 9) {
			snprintf(item, sizeof item, "%s", w);
		} else if (r < 11) {
			/* a phrase from a document */
			const doc *d = &docs[rnd((unsigned)nd)];
			hx_tokenizer t;
			hx_token k;
			char a[64] = "", b[64] = "";
			hx_tok_init(&t, d->body, strlen(d->body));
			int skip = (int)rnd(8);
			while (hx_tok_next(&t, &k)) {
				snprintf(a, sizeof a, "%s", b);
				snprintf(b, sizeof b, "%.*s", (int)k.len, k.word);
				if (*a && skip-- <= 0)
					break;
			}
			if (*a)
				snprintf(item, sizeof item, "\"%s %s\"", a, b);
			else
				snprintf(item, sizeof item, "%s", w);
		} else if (r < 13) {
			char pre[8];
			hx_tokenizer t;
			hx_token k;
			hx_tok_init(&t, w, strlen(w));
			if (hx_tok_next(&t, &k) && k.len >= 3)
				snprintf(pre, sizeof pre, "%.*s", 2 + (int)rnd(2), k.word);
			else
				snprintf(pre, sizeof pre, "to");
			snprintf(item, sizeof item, "%s*", pre);
		} else if (r < 15) {
			char w2[64];
			rnd_word(w2, sizeof w2, 0);
			snprintf(item, sizeof item, "%s OR %s", w, w2);
		} else if (r < 16 && i > 0) {
			snprintf(item, sizeof item, "-%s", w);
		} else if (r < 17) {
			snprintf(item, sizeof item, "lang:%s", langs[rnd(6)]);
		} else if (r < 18) {
			snprintf(item, sizeof item, "tag:%s", tagset[rnd(5)]);
		} else if (r < 19) {
			snprintf(item, sizeof item, "-kind:toolkit");
		} else {
			snprintf(item, sizeof item, "country:%s OR org:\"%s\"", countries[rnd(3)],
			         orgs[rnd(3)]);
		}
		if (strlen(q) + strlen(item) + 2 < cap) {
			if (i)
				strcat(q, " ");
			strcat(q, item);
		}
	}
}

static int cmp_score(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return x[0] < y[0] ? 1 : x[0] > y[0] ? -1 : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

/* Compares the index with the model on nq random queries. Returns the
 * number of disagreements. */
/* compare's queries when set (nq of them), else random ones */
static const char *const *compare_fixed;

static int compare(hx_searcher *sr, doc *docs, size_t nd, int nq, size_t limit)
{
	struct model md = { 0 };
	int bad = 0;
	md.m = calloc(nd, sizeof *md.m);
	double sum[HX_NFIELDS] = { 0 };
	for (size_t i = 0; i < nd; i++) {
		if (!docs[i].live)
			continue;
		mdoc *m = &md.m[md.n];
		mdoc_build(m, &docs[i]);
		if (hx_search_docnum(sr, docs[i].e.id, &m->docnum)) {
			fprintf(stderr, "doc %s not indexed\n", docs[i].path);
			bad++;
		}
		for (int f = 0; f < HX_NFIELDS; f++)
			sum[f] += m->len[f];
		md.n++;
	}
	for (int f = 0; f < HX_NFIELDS; f++)
		md.avg[f] = md.n ? sum[f] / (double)md.n : 0;
	for (size_t i = 0; i < md.n; i++)
		if (md.m[i].lang >= 0)
			md.langs[md.m[i].lang] = 1;
	double *want = malloc(md.n * 2 * sizeof *want);
	for (int qi = 0; qi < nq; qi++) {
		char qs[512];
		if (compare_fixed)
			snprintf(qs, sizeof qs, "%s", compare_fixed[qi]);
		else
			rnd_query(qs, sizeof qs, docs, nd);
		hx_query *q;
		char err[256];
		hx_results r;
		int prc = hx_query_parse(&q, qs, err, sizeof err);
		hx_search_opts o = { limit, 0, qi % 5 == 0, 1, 1, 1 };
		int src = hx_search(sr, qs, &o, &r, err, sizeof err);
		if (prc) {
			if (src != prc) {
				fprintf(stderr, "query [%s]: parse %d, search %d\n", qs, prc, src);
				bad++;
			}
			continue;
		}
		if (src) {
			fprintf(stderr, "query [%s]: search failed: %s\n", qs, err);
			bad++;
			hx_query_free(&q);
			continue;
		}
		size_t nw = 0;
		int has_text = 0;
		ndfc = 0;
		for (size_t c = 0; c < q->nclauses; c++)
			has_text |= !q->clauses[c].negated && q->clauses[c].ntext > 0;
		for (size_t i = 0; i < md.n; i++) {
			int match;
			double s = model_score(&md, &md.m[i], q, &match);
			if (match) {
				want[2 * nw] = has_text ? s : (double)md.m[i].docnum;
				want[2 * nw + 1] = has_text ? (double)md.m[i].docnum : 0;
				nw++;
			}
		}
		qsort(want, nw, 2 * sizeof *want, cmp_score);
		size_t expect = nw < limit ? nw : limit;
		int qbad = r.nhits != expect;
		if (o.facets && r.total != nw)
			qbad = 1;
		for (size_t i = 0; i < r.nhits && !qbad; i++) {
			uint32_t dn;
			if (hx_search_docnum(sr, r.hits[i].id, &dn)) {
				qbad = 1;
				break;
			}
			double ws = has_text ? want[2 * i] : 0;
			if (fabs(r.hits[i].score - ws) > 1e-9 * (1 + fabs(ws)))
				qbad = 1;
			if (!has_text && dn != (uint32_t)want[2 * i])
				qbad = 1;
			/* the hit must match with that score in the model */
			for (size_t j = 0; j < md.n; j++)
				if (md.m[j].docnum == dn) {
					int match;
					double s = model_score(&md, &md.m[j], q, &match);
					if (!match || (has_text && fabs(s - r.hits[i].score) >
					                                   1e-9 * (1 + fabs(s))))
						qbad = 1;
				}
		}
		if (qbad) {
			bad++;
			fprintf(stderr, "query [%s]: %zu hits (total %llu), model %zu\n", qs,
			        r.nhits, (unsigned long long)r.total, nw);
			for (size_t i = 0; i < r.nhits || i < expect; i++)
				fprintf(stderr, "  %zu: index %s %.12f | model doc %.0f %.12f\n", i,
				        i < r.nhits ? r.hits[i].path : "-",
				        i < r.nhits ? r.hits[i].score : 0,
				        i < expect ? want[2 * i + 1] : -1,
				        i < expect ? want[2 * i] : 0);
		}
		hx_results_clear(&r);
		hx_query_free(&q);
	}
	free(want);
	for (size_t i = 0; i < md.n; i++)
		mdoc_clear(&md.m[i]);
	free(md.m);
	return bad;
}

/* A store and searcher for a test against the model, and its end: the
 * documents' bytes, the model's stem dictionary and the store go. */
static void model_begin(char **dir, hx_store **s, hx_searcher **sr, size_t nd, doc **docs,
                        doc ***ptr)
{
	*docs = calloc(nd, sizeof **docs);
	*ptr = calloc(nd, sizeof **ptr);
	*dir = tmpdir();
	CHECK_RC(hx_stemmers_new(&mst), HX_OK);
	CHECK_RC(hx_store_open(s, *dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(sr, *s), HX_OK);
}

static void model_end(char *dir, hx_store **s, hx_searcher **sr, doc *docs, doc **ptr, size_t nd)
{
	for (size_t i = 0; i < nd; i++)
		free(docs[i].raw);
	free(docs);
	free(ptr);
	hx_searcher_free(sr);
	hx_store_close(s);
	hx_stemmers_free(&mst);
	free(dict);
	dict = NULL;
	ndict = capdict = 0;
	rmrf(dir);
	free(dir);
}

static void differential(void)
{
	char *dir;
	hx_store *s;
	hx_searcher *sr;
	doc *docs, **ptr;
	const size_t nd = 400;
	model_begin(&dir, &s, &sr, nd, &docs, &ptr);

	/* A bulk load (over the inline threshold, so the tokenizer thread
	 * runs), then small batches. */
	for (size_t i = 0; i < nd; i++) {
		rnd_doc(&docs[i], (int)i, 1000000ull * 86400 * (i % 50) + i);
		ptr[i] = &docs[i];
	}
	hx_ix_flush_postings = 3000; /* several early flushes inside the bulk load */
	CHECK_RC(put_docs(s, ptr, 300), HX_OK);
	hx_ix_flush_postings = 16u << 20;
	for (size_t i = 300; i < nd; i += 10)
		CHECK_RC(put_docs(s, ptr + i, 10), HX_OK);
	for (size_t i = 0; i < nd; i++)
		dict_add(&docs[i]);
	CHECK(fsck_problems(s) == 0);
	CHECK(compare(sr, docs, nd, 150, 10) == 0);
	CHECK(compare(sr, docs, nd, 30, 1000) == 0);

	/* New versions, deletions, in mixed batches. */
	for (int round = 0; round < 3; round++) {
		doc *nv = calloc(40, sizeof *nv);
		doc **np = calloc(40, sizeof *np);
		for (int j = 0; j < 40; j++) {
			size_t i = rnd((unsigned)nd);
			if (!docs[i].live)
				continue;
			if (rnd(3) == 0) {
				/* delete */
				doc *t = &nv[j];
				*t = docs[i];
				t->raw = NULL;
				snprintf(t->kind, sizeof t->kind, "tombstone");
				t->title[0] = t->body[0] = 0;
				t->ntags = 0;
				t->ts = docs[i].ts + 1000 + (uint64_t)round;
				doc_sign(t);
				docs[i].live = 0;
			} else {
				rnd_doc(&nv[j], (int)i, docs[i].ts + 1000 + (uint64_t)round);
				nv[j].author = docs[i].author;
				doc_sign(&nv[j]);
				free(docs[i].raw);
				docs[i] = nv[j];
				docs[i].raw = NULL;
				doc_sign(&docs[i]);
			}
			np[j] = &nv[j];
		}
		size_t m = 0;
		for (int j = 0; j < 40; j++)
			if (np[j])
				np[m++] = np[j];
		CHECK_RC(put_docs(s, np, m), HX_OK);
		for (size_t j = 0; j < m; j++)
			dict_add(np[j]);
		for (int j = 0; j < 40; j++)
			free(nv[j].raw);
		free(nv);
		free(np);
		CHECK(fsck_problems(s) == 0);
		CHECK(compare(sr, docs, nd, 60, 10) == 0);
	}
	uint64_t n = 0;
	hx_ix_flush_postings = 5000;
	CHECK_RC(hx_store_reindex(s, &n), HX_OK);
	hx_ix_flush_postings = 16u << 20;
	ndict = 0;
	for (size_t i = 0; i < nd; i++)
		if (docs[i].live)
			dict_add(&docs[i]);
	CHECK(fsck_problems(s) == 0);
	CHECK(compare(sr, docs, nd, 60, 10) == 0);
	model_end(dir, &s, &sr, docs, ptr, nd);
}

/* ---- typos, word forms, translations (issue 13) ---------------------------------- */

static int has_hit(const hx_results *r, const char *path)
{
	for (size_t i = 0; i < r->nhits; i++)
		if (!strcmp(r->hits[i].path, path))
			return 1;
	return 0;
}

static int has_also(const hx_hit *h, const char *lang)
{
	for (size_t i = 0; i < h->nalso; i++)
		if (!strcmp(h->also_in[i], lang))
			return 1;
	return 0;
}

static const hx_hit *hit_of(const hx_results *r, const char *path)
{
	for (size_t i = 0; i < r->nhits; i++)
		if (!strcmp(r->hits[i].path, path))
			return &r->hits[i];
	return NULL;
}

static void issue13(void)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	hx_results r;
	char err[256];
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	doc *d[13];
	size_t n = 0;
	d[n++] = mkdoc(0, "tools/pdf1", 1000, "en", "PDF viewer for the desktop",
	               "Shows PDF documents.", NULL, NULL, NULL);
	d[n++] = mkdoc(0, "tools/pdf2", 1001, "en", "Light PDF viewer",
	               "A small viewer for PDF files.", NULL, NULL, NULL);
	d[n++] = mkdoc(0, "tools/pdf3", 1002, "en", "Evince document viewer",
	               "Views PDF and PostScript documents.", NULL, NULL, NULL);
	d[n++] = mkdoc(0, "tools/ssh", 1003, "en", "SSH client", "Connects to servers with SSH.",
	               NULL, NULL, NULL);
	d[n++] = mkdoc(0, "tools/sshd", 1004, "en", "SSH server",
	               "The OpenSSH daemon and its keys.", NULL, NULL, NULL);
	d[n++] = mkdoc(0, "people/clint", 1005, "en", "Notes by Clint",
	               "Clint writes about gardens.", NULL, NULL, NULL);
	d[n++] = mkdoc(0, "tools/audacity", 1006, "en", "Audacity: sound and audio editor",
	               "A cross-platform recorder.", NULL, NULL, NULL);
	/* One practice in three languages by partner 1, and partner 2's copy
	 * that claims to translate it. */
	d[n++] = mkdoc(1, "practices/cluster", 2000, "en", "Cluster management in Białystok",
	               "How the cluster of Białystok is run (Danish: klyngeledelse).", NULL, NULL,
	               NULL);
	d[n++] = mkdoc(1, "practices/cluster-da", 2001, "da", "Klyngeledelse i Białystok",
	               "Sådan ledes klyngen i Białystok (cluster management).", NULL, NULL, NULL);
	d[n++] = mkdoc(1, "practices/cluster-pl", 2002, "pl", "Zarządzanie klastrem w Białymstoku",
	               "Białystok: cluster management, klyngeledelse.", NULL, NULL, NULL);
	d[n++] = mkdoc(2, "practices/copy", 2003, "en", "A copy",
	               "Białystok cluster management and "
	               "klyngeledelse, copied.",
	               NULL, NULL, NULL);
	snprintf(d[8]->tr, sizeof d[8]->tr, "practices/cluster");
	snprintf(d[9]->tr, sizeof d[9]->tr, "practices/cluster");
	snprintf(d[10]->tr, sizeof d[10]->tr, "practices/cluster");
	for (size_t i = 8; i <= 10; i++)
		doc_sign(d[i]);
	CHECK_RC(put_docs(s, d, n), HX_OK);

	/* A word no document has, that another word is one letter from. */
	CHECK_RC(hx_search(sr, "pdf viewr", NULL, &r, err, sizeof err), HX_OK);
	CHECK(r.corrected && !strcmp(r.corrected, "pdf viewer") && r.nhits == 3 &&
	      !strcmp(r.instead, "pdf \"viewr\""));
	hx_results_clear(&r);
	/* Every word is known, but not together. */
	CHECK_RC(hx_search(sr, "ssh clint", NULL, &r, err, sizeof err), HX_OK);
	CHECK(r.corrected && !strcmp(r.corrected, "ssh client") && r.nhits == 1 &&
	      !strcmp(r.hits[0].path, "tools/ssh") && !strcmp(r.instead, "ssh \"clint\""));
	hx_results_clear(&r);
	/* Turned off (the benchmarks' setting): did-you-mean only. */
	hx_search_opts nosug = { 10, 0, 0, 0, 1, 0 };
	CHECK_RC(hx_search(sr, "pdf viewr", &nosug, &r, err, sizeof err), HX_OK);
	CHECK(!r.corrected && r.nhits == 0 && r.nsuggest == 0);
	hx_results_clear(&r);
	/* A word with hits of its own is not corrected. */
	CHECK_RC(hx_search(sr, "clint", NULL, &r, err, sizeof err), HX_OK);
	CHECK(!r.corrected && r.nhits == 1);
	hx_results_clear(&r);
	/* An agent noun and its verb: editing finds editor, and back. */
	CHECK(!strcmp(paths(sr, "audio editing"), "tools/audacity"));
	CHECK(!strcmp(paths(sr, "edit"), "tools/audacity"));
	CHECK(!strcmp(paths(sr, "viewing"), "tools/pdf2 tools/pdf1 tools/pdf3") ||
	      strstr(paths(sr, "viewing"), "tools/pdf1"));

	/* Translations: one hit, in the query's language (its best match),
	 * the others listed; partner 2's claim does not hide its copy. */
	CHECK_RC(hx_search(sr, "klyngeledelse bialystok", NULL, &r, err, sizeof err), HX_OK);
	CHECK(r.nhits == 2 && has_hit(&r, "practices/cluster-da") && has_hit(&r, "practices/copy"));
	const hx_hit *h = hit_of(&r, "practices/cluster-da");
	CHECK(h && h->nalso == 2 && has_also(h, "en") && has_also(h, "pl"));
	h = hit_of(&r, "practices/copy");
	CHECK(h && h->nalso == 0);
	hx_results_clear(&r);
	CHECK_RC(hx_search(sr, "cluster management bialystok", NULL, &r, err, sizeof err), HX_OK);
	CHECK(r.nhits == 2 && has_hit(&r, "practices/cluster") && has_hit(&r, "practices/copy"));
	hx_results_clear(&r);
	/* A preferred language (hansa search --lang pl). */
	CHECK_RC(hx_searcher_set_lang(sr, "pl"), HX_OK);
	CHECK_RC(hx_search(sr, "cluster management bialystok", NULL, &r, err, sizeof err), HX_OK);
	CHECK(r.nhits == 2 && has_hit(&r, "practices/cluster-pl"));
	h = hit_of(&r, "practices/cluster-pl");
	CHECK(h && h->nalso == 2 && has_also(h, "en") && has_also(h, "da"));
	hx_results_clear(&r);
	/* ... or the language of a lang: filter. */
	CHECK_RC(hx_searcher_set_lang(sr, NULL), HX_OK);
	CHECK(!strcmp(paths(sr, "bialystok lang:da"), "practices/cluster-da"));
	CHECK(hx_searcher_set_lang(sr, "a-language-code-far-too-long") == HX_EINVAL);

	/* Proximity: BM25F alone puts the shorter text first; the one with
	 * the query's words side by side wins with the boost. */
	doc *px[2];
	px[0] = mkdoc(0, "notes/far", 3000, "en", "Notes B",
	              "solar words of cluster panel things and other guide to read later", NULL,
	              NULL, NULL);
	px[1] = mkdoc(0, "notes/near", 3001, "en", "Notes A",
	              "cluster of words solar panel guide and other things to read later on", NULL,
	              NULL, NULL);
	CHECK_RC(put_docs(s, px, 2), HX_OK);
	hx_search_opts bm25 = { 10, 0, 0, 1, 1, 1 };
	CHECK_RC(hx_search(sr, "solar panel", &bm25, &r, err, sizeof err), HX_OK);
	CHECK(r.nhits == 2 && !strcmp(r.hits[0].path, "notes/far"));
	hx_results_clear(&r);
	CHECK(!strcmp(paths(sr, "solar panel"), "notes/near notes/far"));
	CHECK(!strcmp(paths(sr, "panel solar"), "notes/near notes/far"));
	doc_free(px[0]);
	doc_free(px[1]);

	for (size_t i = 0; i < n; i++)
		doc_free(d[i]);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* Format 2 entries (here: with an attachment) are searchable like format 1
 * ones: the result view reads past the optional fields. (A device's
 * signature needs its device record first: test_org.c.) */
static void format2(void)
{
	char *dir = tmpdir(), sub[512];
	hx_store *s = NULL;
	hx_searcher *sr = NULL;
	snprintf(sub, sizeof sub, "%s/store", dir);
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_CREATE), HX_OK);
	doc *d = mkdoc(0, "toolkits/laptop", 100, "en", "Resilience toolkit", "from the laptop",
	               NULL, NULL, NULL);
	hx_attach a = { "toolkit.pdf", 3, "application/pdf", { 9 } };
	d->e.attach = &a;
	d->e.nattach = 1;
	free(d->raw);
	CHECK_RC(hx_entry_sign(&d->e, sk[0], &d->raw, &d->rawlen), HX_OK);
	CHECK(d->e.version == 2 && !d->e.has_signer);
	CHECK_RC(put_docs(s, &d, 1), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	CHECK(!strcmp(paths(sr, "resilience"), "toolkits/laptop"));
	hx_searcher_free(&sr);
	CHECK(fsck_problems(s) == 0);
	hx_store_close(&s);
	doc_free(d);
	rmrf(dir);
	free(dir);
}

/* A search for words the index knows takes their stems from the index
 * (ix.wstem): neither the query nor the snippets of Polish and Swedish
 * documents go to Hunspell; a form the index does not know does. */
static void known_words(void)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	hx_results r;
	char err[256];
	hx_search_opts o = { 10, 0, 0, 0, 1, 0 };
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	doc *d[2];
	d[0] = mkdoc(0, "pl/przegladarka", 1000, "pl", "Przeglądarka plików",
	             "Prosta przeglądarka plików dla urzędów gminy.", NULL, NULL, NULL);
	d[1] = mkdoc(0, "sv/arkiv", 1001, "sv", "Ett arkiv för kommunen",
	             "Kommunens arkiv och bibliotek samlade.", NULL, NULL, NULL);
	unsigned long before = hx_lemma_calls;
	CHECK_RC(put_docs(s, d, 2), HX_OK);
	if (hx_lemma_calls == before) {
		fprintf(stderr, "known_words: no Hunspell dictionaries (pl_PL, sv_SE), skipped\n");
	} else {
		CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
		const char *known[] = { "przeglądarka plików", "przegladarka", "arkiv kommunen",
			                "kommunens bibliotek" };
		const char *want[] = { "pl/przegladarka", "pl/przegladarka", "sv/arkiv",
			               "sv/arkiv" };
		for (size_t i = 0; i < 4; i++) {
			before = hx_lemma_calls;
			CHECK_RC(hx_search(sr, known[i], &o, &r, err, sizeof err), HX_OK);
			CHECK(r.nhits == 1 && !strcmp(r.hits[0].path, want[i]) &&
			      r.hits[0].snippet && r.hits[0].nhl > 0);
			CHECK(hx_lemma_calls == before);
			hx_results_clear(&r);
		}
		/* An inflected form no document has needs its lemma. */
		before = hx_lemma_calls;
		CHECK_RC(hx_search(sr, "przegladarki", &o, &r, err, sizeof err), HX_OK);
		CHECK(r.nhits == 1 && !strcmp(r.hits[0].path, "pl/przegladarka"));
		CHECK(hx_lemma_calls > before);
		hx_results_clear(&r);
		CHECK(fsck_problems(s) == 0);
		hx_searcher_free(&sr);
	}
	doc_free(d[0]);
	doc_free(d[1]);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* hx_searcher_set_rank: other field weights change the order (and, the
 * stored block bounds no longer holding, nothing is skipped: every
 * document of a long list stays reachable); the defaults restore it. */
static void rank_constants(void)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	enum { N = 300 };
	doc *d[N];
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	d[0] = mkdoc(0, "t/title", 1000, "en", "Kiosk", "A kiosk toolkit.", NULL, NULL, NULL);
	d[1] = mkdoc(0, "t/body", 1001, "en", "A toolkit", "Kiosk kiosk kiosk toolkit.", NULL, NULL,
	             NULL);
	for (int i = 2; i < N; i++) {
		char path[32];
		snprintf(path, sizeof path, "t/other%d", i);
		d[i] = mkdoc(0, path, 1000 + (uint64_t)i, "en", "Other",
		             "A kiosk among many words.", NULL, NULL, NULL);
	}
	CHECK_RC(put_docs(s, d, N), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	CHECK(!strncmp(paths(sr, "kiosk"), "t/title t/body", 14));
	hx_rank rk, def;
	hx_rank_default(&def);
	rk = def;
	rk.w[0] = 0.1; /* title next to nothing */
	rk.w[2] = 4;
	hx_searcher_set_rank(sr, &rk);
	CHECK(!strncmp(paths(sr, "kiosk"), "t/body t/title", 14));
	hx_results r;
	char err[256];
	hx_search_opts o = { 1000, 0, 0, 1, 1, 0 };
	CHECK_RC(hx_search(sr, "kiosk", &o, &r, err, sizeof err), HX_OK);
	CHECK(r.nhits == N && r.total == N);
	hx_results_clear(&r);
	hx_searcher_set_rank(sr, &def);
	CHECK(!strncmp(paths(sr, "kiosk"), "t/title t/body", 14));
	hx_searcher_free(&sr);
	for (int i = 0; i < N; i++)
		doc_free(d[i]);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* Whether the hits are the two given, or (others) the two then t/other... */
static int two_first(const char *got, const char *two, int others)
{
	char want[64];
	snprintf(want, sizeof want, "%s%s", two, others ? " t/other" : "");
	return others ? !strncmp(got, want, strlen(want)) : !strcmp(got, want);
}

/* A title holding every query word as typed (a known item) ranks above
 * a shorter title with other forms of them; without the title boost the
 * shorter title wins, so the boost is what decides. With translated, the
 * shorter title's document has a translation and 25 more documents match
 * (more than the 20 hits asked for): the search then looks at more
 * candidates to collapse translations, and that wider run's candidates are
 * re-ranked as any others. */
static void title_as_typed_in(int translated)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	doc *d[32];
	size_t n = 0;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	d[n++] = mkdoc(0, "t/data", 1000, "en", "Data files for pingus, a free clone of lemmings",
	               "The data of the game.", NULL, NULL, NULL);
	d[n++] = mkdoc(0, "t/game", 1001, "en", "Pingus: clones of Lemming", "The game.", NULL,
	               NULL, NULL);
	if (translated) {
		d[n] = mkdoc(0, "t/game.da", 1002, "da", "Pingus: clones af Lemming", "Spillet.",
		             NULL, NULL, NULL);
		snprintf(d[n]->tr, sizeof d[n]->tr, "t/game");
		doc_sign(d[n++]);
	}
	for (int i = 0; i < (translated ? 25 : 10); i++) {
		char path[32];
		snprintf(path, sizeof path, "t/other%02d", i);
		d[n++] = mkdoc(0, path, 1003 + (uint64_t)i, "en", "Another game",
		               translated ? "A game with levels, which some call a clone of the "
		                            "game of the lemmings."
		                          : "A game with levels and sounds.",
		               NULL, NULL, NULL);
	}
	CHECK_RC(put_docs(s, d, n), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	/* the two first, then (translated) the others; t/game.da collapsed */
	const char *got = paths(sr, "clone lemmings");
	CHECK(two_first(got, "t/data t/game", translated));
	CHECK(!strstr(got, "t/game.da"));
	hx_rank rk, def;
	hx_rank_default(&def);
	rk = def;
	rk.title_exact = 0;
	hx_searcher_set_rank(sr, &rk);
	CHECK(two_first(paths(sr, "clone lemmings"), "t/game t/data", translated));
	hx_searcher_set_rank(sr, &def);
	/* the other forms, typed: the other title is now the one as typed */
	CHECK(two_first(paths(sr, "clones lemming"), "t/game t/data", translated));
	hx_searcher_free(&sr);
	for (size_t i = 0; i < n; i++)
		doc_free(d[i]);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* The proximity factor of each hit (its score with the re-rank over its
 * score without): all the words side by side in the body, one word in the
 * title and the other in the body (the body is then not read: the
 * postings say it holds one query word), the words apart, the title with
 * both as typed, stemmed forms side by side, and a pair side by side
 * early in a long body (the reading stops there). */
static void proximity_factors(void)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	hx_results r, b;
	char err[256];
	hx_rank rk;
	hx_rank_default(&rk);
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	char longbody[2048] = "zebra quagga";
	for (int i = 0; i < 150; i++)
		strcat(longbody, i == 100 ? " quagga zebra" : " word");
	struct {
		const char *path, *title, *body;
		double factor;
	} c[] = {
		{ "prox/body-near", "Alpha notes", "zebra quagga side by side and then more words",
		  1 + rk.prox },
		{ "prox/one-each", "Zebra notes", "the quagga alone here", 1 },
		{ "prox/far", "Beta notes", "zebra one two three quagga", 1 + rk.prox * 2 / 5 },
		{ "prox/title", "Zebra quagga", "nothing of the sort",
		  (1 + rk.prox) * (1 + rk.title_exact) },
		{ "prox/stems", "Gamma notes", "zebras quaggas are both here", 1 + rk.prox },
		{ "prox/long", "Delta notes", longbody, 1 + rk.prox },
	};
	size_t n = sizeof c / sizeof c[0];
	doc *d[8];
	for (size_t i = 0; i < n; i++)
		d[i] = mkdoc(0, c[i].path, 5000 + i, "en", c[i].title, c[i].body, NULL, NULL, NULL);
	CHECK_RC(put_docs(s, d, n), HX_OK);
	hx_search_opts with = { 10, 0, 0, 1, 1, 0 }, without = { 10, 0, 0, 1, 1, 1 };
	CHECK_RC(hx_search(sr, "zebra quagga", &with, &r, err, sizeof err), HX_OK);
	CHECK_RC(hx_search(sr, "zebra quagga", &without, &b, err, sizeof err), HX_OK);
	CHECK(r.nhits == n && b.nhits == n);
	for (size_t i = 0; i < n; i++) {
		const hx_hit *hw = hit_of(&r, c[i].path), *hb = hit_of(&b, c[i].path);
		CHECK(hw && hb);
		if (!hw || !hb)
			continue;
		double f = hw->score / hb->score;
		if (fabs(f - c[i].factor) > 1e-9) {
			fprintf(stderr, "%s: factor %.6f, expected %.6f\n", c[i].path, f,
			        c[i].factor);
			CHECK(0);
		}
	}
	hx_results_clear(&r);
	hx_results_clear(&b);
	for (size_t i = 0; i < n; i++)
		doc_free(d[i]);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* The stem dictionary's filter (ix_sfilter.c) is built at a search that
 * finds the index as the search before it did, and not at every search of
 * an index that changes between them. */
static void stem_filter_waits(void)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	doc *d[4];
	d[0] = mkdoc(0, "f/a", 1000, "en", "Garden planning", "Plans for gardens.", NULL, NULL,
	             NULL);
	CHECK_RC(put_docs(s, d, 1), HX_OK);
	CHECK(!strcmp(paths(sr, "gardens"), "f/a"));
	CHECK(sr->sf == NULL); /* a one-shot search never builds it */
	CHECK(!strcmp(paths(sr, "gardens"), "f/a"));
	CHECK(sr->sf != NULL); /* the index as before: built */
	for (int i = 1; i < 4; i++) {
		char path[16];
		snprintf(path, sizeof path, "f/%c", 'a' + i);
		d[i] = mkdoc(0, path, 1000 + (uint64_t)i, "en", "Garden tools",
		             "Tools for gardens.", NULL, NULL, NULL);
		CHECK_RC(put_docs(s, &d[i], 1), HX_OK);
		paths(sr, "gardens");
		CHECK(sr->sf == NULL); /* dropped with the change, not built again */
	}
	CHECK(!strcmp(paths(sr, "planning"), "f/a"));
	CHECK(sr->sf != NULL); /* the index as before again */
	for (int i = 0; i < 4; i++)
		doc_free(d[i]);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* A list counts only in the documents of its languages: a word's form in
 * one language is walked past the stretches of documents of the others
 * (hx_sr_lang_skip), which must never skip one of its own. Batches give
 * the documents of each language consecutive docnums: English ones with
 * "for", and between them Swedish ones with "för" (folded "for"), which
 * "foer" finds in Swedish only. */
static void lang_stretches(void)
{
	/* stretch lengths: English, Swedish, English, Swedish, English */
	static const size_t len[] = { 300, 2, 200, 1, 130 };
	size_t nd = 0, nsv = 0;
	doc *d[700];
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	for (size_t b = 0; b < sizeof len / sizeof len[0]; b++) {
		int sv = b % 2;
		size_t first = nd;
		for (size_t i = 0; i < len[b]; i++, nd++) {
			char path[32];
			snprintf(path, sizeof path, "%s/%zu", sv ? "sv" : "en", nd);
			d[nd] = sv ? mkdoc(0, path, 1000 + nd, "sv", "Program för skrivbordet",
			                   "Ett program för alla.", NULL, NULL, NULL)
			           : mkdoc(0, path, 1000 + nd, "en", "A program for the desktop",
			                   "Tools for everyone.", NULL, NULL, NULL);
		}
		nsv += sv ? len[b] : 0;
		CHECK_RC(put_docs(s, d + first, len[b]), HX_OK);
	}
	hx_search_opts o = { 100, 0, 0, 1, 1, 0 };
	hx_results r;
	char err[256];
	const char *qs[] = { "foer", "foer program", "program foer" };
	for (size_t q = 0; q < 3; q++) {
		CHECK_RC(hx_search(sr, qs[q], &o, &r, err, sizeof err), HX_OK);
		int ok = r.nhits == nsv && r.total == nsv;
		for (size_t i = 0; i < r.nhits; i++)
			ok &= !strncmp(r.hits[i].path, "sv/", 3);
		CHECK(ok);
		hx_results_clear(&r);
	}
	/* The skip itself, from every docnum: nothing of the mask's languages
	 * is passed over, and the English stretches are. */
	CHECK_RC(hx_txn_begin(s, MDB_RDONLY, &sr->txn), HX_OK);
	uint32_t svb = 1u << hx_stem_lang("sv"), enb = 1u << hx_stem_lang("en");
	uint32_t n = sr->st.next_doc, skipped = 0;
	int bad = 0;
	for (uint32_t dn = 0; dn <= n; dn++) {
		uint32_t t = hx_sr_lang_skip(sr, dn, svb, END), u = hx_sr_lang_skip(sr, dn, enb, n);
		for (uint32_t x = dn; x < t && x < n; x++)
			bad |= hx_sr_lang(sr, x) == hx_stem_lang("sv");
		for (uint32_t x = dn; x < u; x++)
			bad |= hx_sr_lang(sr, x) == hx_stem_lang("en");
		bad |= t < dn || u < dn || u > n;
		skipped += t > dn;
	}
	/* to the next Swedish document itself, across groups */
	CHECK(!bad && skipped > 600);
	CHECK(hx_sr_lang_skip(sr, 0, svb, END) == 300);
	CHECK(hx_sr_lang_skip(sr, 301, svb, END) == 301);
	CHECK(hx_sr_lang_skip(sr, 302, svb, END) == 502);
	CHECK(hx_sr_lang_skip(sr, 310, svb, END) == 502);
	CHECK(hx_sr_lang_skip(sr, 320, svb, END) == 502);
	CHECK(hx_sr_lang_skip(sr, 320, svb, 400) == 400);
	CHECK(hx_sr_lang_skip(sr, 512, svb, END) == END);
	CHECK(hx_sr_lang_skip(sr, 10, 0, END) == END);
	/* The entry cache keeps two docnums that collide modulo its size
	 * (each read once per search, not once per use). */
	hx_ix_view v;
	int both = 0;
	CHECK_RC(hx_sr_doc(sr, 3, &v, NULL), HX_OK);
	CHECK_RC(hx_sr_doc(sr, 3 + HX_VIEW_CACHE, &v, NULL), HX_OK);
	for (int i = 0; i < HX_VIEW_CACHE; i++)
		both += sr->vc[i].doc == 3 || sr->vc[i].doc == 3 + HX_VIEW_CACHE;
	CHECK(both == 2);
	hx_sr_vc_clear(sr);
	hx_txn_abort(s, sr->txn);
	sr->txn = NULL;
	for (size_t i = 0; i < nd; i++)
		doc_free(d[i]);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* Swedish documents scattered among English ones, several in a group of
 * HX_SR_GROUP docnums: the language skip lands on the next document of
 * the mask's languages itself, from every docnum, and an AND whose second
 * clause is a common word's form in Swedish only ("for" of "foer"), which
 * steps over one English document at a time (hx_m_step) where the first
 * clause's candidate lacks it, finds each Swedish document that has both
 * words and nothing else. */
static void lang_scattered(void)
{
	enum { N = 700 };
	static doc *d[N];
	static const char *svt[] = { "Ett verktyg", "Program", "Ett verktyg för alla",
		                     "Program för alla" };
	int sv[N], prog[N], foer[N];
	size_t want = 0;
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	for (int i = 0; i < N; i++) {
		char path[32];
		sv[i] = i % 7 == 3 || i % 11 == 0 || (i >= 400 && i < 420);
		prog[i] = sv[i] ? i % 2 == 0 : i % 5 == 0;
		foer[i] = sv[i] && i % 3 != 0; /* "for" is in every English one */
		want += sv[i] && prog[i] && foer[i];
		snprintf(path, sizeof path, "%s/%d", sv[i] ? "sv" : "en", i);
		d[i] = sv[i] ? mkdoc(0, path, 1000 + i, "sv", svt[prog[i] + 2 * foer[i]],
		                     "Mer text.", NULL, NULL, NULL)
		             : mkdoc(0, path, 1000 + i, "en",
		                     prog[i] ? "A program for the desktop" : "Tools for everyone",
		                     "More text for all.", NULL, NULL, NULL);
	}
	CHECK_RC(put_docs(s, d, N), HX_OK);
	hx_search_opts o = { 1000, 0, 0, 1, 1, 0 };
	hx_results r;
	char err[256];
	const char *qs[] = { "programmet foer", "foer programmet" };
	for (size_t q = 0; q < 2; q++) {
		CHECK_RC(hx_search(sr, qs[q], &o, &r, err, sizeof err), HX_OK);
		int ok = r.nhits == want && r.total == want;
		for (size_t i = 0; i < r.nhits; i++) {
			int n = atoi(r.hits[i].path + 3);
			ok &= !strncmp(r.hits[i].path, "sv/", 3) && prog[n] && foer[n];
		}
		CHECK(ok);
		hx_results_clear(&r);
	}
	CHECK_RC(hx_txn_begin(s, MDB_RDONLY, &sr->txn), HX_OK);
	uint32_t n = sr->st.next_doc, svl = (uint32_t)hx_stem_lang("sv"),
	         enl = (uint32_t)hx_stem_lang("en");
	uint32_t masks[] = { 1u << svl, 1u << enl, 1u << svl | 1u << enl };
	int bad = 0;
	for (size_t k = 0; k < 3; k++)
		for (uint32_t dn = 0; dn <= n; dn++) {
			uint32_t t = hx_sr_lang_skip(sr, dn, masks[k], END), x = dn;
			while (x < n && !(masks[k] >> hx_sr_lang(sr, x) & 1))
				x++;
			bad |= x < n ? t != x : t < n;
		}
	CHECK(!bad);
	hx_txn_abort(s, sr->txn);
	sr->txn = NULL;
	for (int i = 0; i < N; i++)
		doc_free(d[i]);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* A word of a typo test and the documents that hold it. */
struct vword {
	const char *w;
	int df;
};

/* Documents "Notes on W", df of them for each of the n words, into d
 * (at most max) from *nd on. */
static void vocab_docs(const struct vword *v, size_t n, doc **d, size_t *nd, size_t max)
{
	for (size_t k = 0; k < n; k++)
		for (int i = 0; i < v[k].df && *nd < max; i++, ++*nd) {
			char path[32], title[64];
			snprintf(path, sizeof path, "c/%zu", *nd);
			snprintf(title, sizeof title, "Notes on %s", v[k].w);
			d[*nd] = mkdoc(0, path, 1000 + *nd, "en", title, "Plain text.", NULL, NULL,
			               NULL);
		}
}

/* A new store in a new directory (returned; vocab_done removes it). */
static char *vocab_store(hx_store **s)
{
	char *dir = tmpdir();
	CHECK_RC(hx_store_open(s, dir, HX_STORE_CREATE), HX_OK);
	return dir;
}

/* Frees the nd documents, closes the store and removes its directory. */
static void vocab_done(hx_store **s, doc **d, size_t nd, char *dir)
{
	for (size_t i = 0; i < nd; i++)
		doc_free(d[i]);
	hx_store_close(s);
	rmrf(dir);
	free(dir);
}

/* Typo candidates: those that cannot be kept (too rare for the distance
 * their length or letters allow) are let go before the distance is
 * computed; the corrections are the ones expected, and the same from a
 * searcher's first correction (a walk over the vocabulary) and from its
 * typo index (built at its second). Many forms share a prefix, as in
 * an inflected language, so that they fill the same buckets, and the
 * best is not the first found (the walk goes in byte order: three rarer
 * ones near "configuraton" come before "configuration"). */
static void typo_candidates(void)
{
	static const struct vword vocab[] = {
		{ "configurat", 1 },     { "configurata", 1 },    { "configurated", 1 },
		{ "configuration", 12 }, { "configurations", 3 }, { "configurator", 1 },
		{ "configure", 5 },      { "configured", 2 },     { "configures", 1 },
		{ "configuring", 1 },    { "configurable", 1 },   { "configurability", 1 },
		{ "conformance", 4 },    { "confirmation", 6 },   { "confirmations", 1 }
	};
	static const char *typo[] = { "configuraton", "confgure",     "configurd",
		                      "confirmaton",  "conformanse",  "configurabel",
		                      "configuratio", "cnofiguration" };
	static const char *want[] = { "configuration", "configure",    "configure",
		                      "confirmation",  "conformance",  "configurable",
		                      "configuration", "configuration" };
	const size_t nt = sizeof typo / sizeof typo[0];
	doc *d[64];
	size_t nd = 0;
	hx_store *s;
	char *dir = vocab_store(&s);
	vocab_docs(vocab, sizeof vocab / sizeof vocab[0], d, &nd, 64);
	CHECK_RC(put_docs(s, d, nd), HX_OK);
	hx_search_opts o = { 10, 0, 0, 1, 0, 0 };
	hx_results r;
	char err[256];
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: a new searcher for each (its first correction walks);
		 * pass 1: one searcher, its typo index built by the first two */
		hx_searcher *sr = NULL;
		if (pass)
			CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
		for (size_t t = 0; t < nt + 2 * pass; t++) {
			const char *q = t < 2 * (size_t)pass ? "configurtion" : typo[t - 2 * pass];
			if (!pass)
				CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
			CHECK_RC(hx_search(sr, q, &o, &r, err, sizeof err), HX_OK);
			if (t >= 2 * (size_t)pass)
				CHECK(r.corrected && !strcmp(r.corrected, want[t - 2 * pass]));
			hx_results_clear(&r);
			if (!pass)
				hx_searcher_free(&sr);
		}
		if (pass) {
			size_t words, bytes;
			hx_searcher_typo_index(sr, &words, &bytes);
			CHECK(words > 0); /* the last ones went through the index */
			hx_searcher_free(&sr);
		}
	}
	vocab_done(&s, d, nd, dir);
}

/* q, searched three times on one searcher, is corrected to want each
 * time: its first correction walks the vocabulary, the second builds the
 * typo index, the third goes through it (of at least min_words words). */
static void corrected_thrice(hx_store *s, const char *q, const char *want, size_t min_words)
{
	hx_searcher *sr;
	hx_search_opts o = { 10, 0, 0, 1, 0, 0 };
	hx_results r;
	char err[256];
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	for (int i = 0; i < 3; i++) {
		CHECK_RC(hx_search(sr, q, &o, &r, err, sizeof err), HX_OK);
		CHECK(r.corrected && !strcmp(r.corrected, want));
		hx_results_clear(&r);
	}
	size_t words, bytes;
	hx_searcher_typo_index(sr, &words, &bytes);
	CHECK(words >= min_words);
	hx_searcher_free(&sr);
}

/* A look-up of the typo index gathers the groups it meets a batch at a
 * time (SX_BATCH, 64) before reading them: here one bucket (the delete
 * "abcde") holds over 600 groups (the words "abcde" + two letters), and
 * the two best candidates of "abcdepq", equal in score, are the last two
 * groups of that bucket (in its last, partial batch) and in no other
 * bucket of the query's deletes. The first met ("abcdezy") is kept, by
 * the walk over the vocabulary, by the look-up that builds the index and
 * by the next. */
static void typo_batches(void)
{
	static const struct vword vocab[] = { { "abcdezy", 20 }, { "abcdezz", 20 } };
	doc *d[64];
	size_t nd = 0;
	hx_store *s;
	char *dir = vocab_store(&s);
	vocab_docs(vocab, sizeof vocab / sizeof vocab[0], d, &nd, 56);
	/* the others: rare, at distance 2 (none with p or q where the query
	 * has them, nor the two swapped) */
	char body[100 * 8 + 1];
	size_t bl = 0, nw = 0;
	for (char x = 'a'; x <= 'z'; x++)
		for (char y = 'a'; y <= 'z'; y++) {
			if (x == 'p' || y == 'q' || (x == 'q' && y == 'p') ||
			    (x == 'z' && y >= 'y'))
				continue;
			bl += (size_t)snprintf(body + bl, sizeof body - bl, "abcde%c%c ", x, y);
			if (++nw % 100 == 0 || (x == 'z' && y == 'x')) {
				char path[32];
				snprintf(path, sizeof path, "f/%zu", nw);
				d[nd++] =
				        mkdoc(0, path, 999, "en", "Filler", body, NULL, NULL, NULL);
				bl = 0;
			}
		}
	CHECK(nw > 600);
	CHECK_RC(put_docs(s, d, nd), HX_OK);
	corrected_thrice(s, "abcdepq", "abcdezy", 601);
	vocab_done(&s, d, nd, dir);
}

/* A group of the typo index (words sharing their first 7 bytes) is let
 * go whole only when not even its most frequent word could be kept: here
 * the group's first word is rare, its last the best candidate, and three
 * fair candidates are kept before the look-up reaches the group. */
static void typo_group_skip(void)
{
	static const struct vword vocab[] = { { "zbcdefgaaaa", 1 },
		                              { "zbcdefgzzzz", 50 },
		                              { "bbcdefxzzzz", 20 },
		                              { "cbcdefxzzzz", 20 },
		                              { "dbcdefxzzzz", 20 } };
	doc *d[128];
	size_t nd = 0;
	hx_store *s;
	char *dir = vocab_store(&s);
	vocab_docs(vocab, sizeof vocab / sizeof vocab[0], d, &nd, 127);
	/* and words far from the query (as many as the test document's body
	 * holds: over 200), so that the index has many buckets (few of them
	 * shared by chance) */
	char *body = malloc(3000 * 9 + 1);
	CHECK(body != NULL);
	for (int i = 0; i < 3000; i++) {
		char *w = body + i * 9;
		for (int k = 0, v = i; k < 8; k++) {
			w[k] = (char)(k < 3 ? 'q' : 'k' + v % 7);
			if (k >= 3)
				v /= 7; /* 7^5 words: no two alike */
		}
		w[8] = ' ';
	}
	body[3000 * 9] = 0;
	d[nd] = mkdoc(0, "g/filler", 999, "en", "Filler", body, NULL, NULL, NULL);
	nd++;
	free(body);
	CHECK_RC(put_docs(s, d, nd), HX_OK);
	corrected_thrice(s, "zbcdefxzzzz", "zbcdefgzzzz", 200);
	vocab_done(&s, d, nd, dir);
}

/* The query's language reads what the matchers' walks of this search
 * found of its words (hx_sr_in_note), never a search's before: the index
 * may have changed in between. A first search walks "kompass" in English
 * and Danish when only the English guide has it; then its Danish
 * translation, with the word, is added. A phrase is not walked, so the
 * second search looks the word up: known in English and Danish alike, the
 * query has no language, and the collapse shows the best scored version,
 * the Danish one with the shorter title. A memo kept from the first search
 * would say English. */
static void query_lang_fresh(void)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	doc *d[3];
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	d[0] = mkdoc(0, "p/guide", 1000, "en", "A kompass for the sea, the hills and the mountains",
	             "How to find the way.", NULL, NULL, NULL);
	d[1] = mkdoc(0, "p/other.da", 1001, "da", "Et andet dokument", "Noget tekst.", NULL, NULL,
	             NULL);
	d[2] = mkdoc(0, "p/guide.da", 1002, "da", "Kompass", "Find vejen.", NULL, NULL, NULL);
	snprintf(d[2]->tr, sizeof d[2]->tr, "p/guide");
	doc_sign(d[2]);
	CHECK_RC(put_docs(s, d, 2), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	CHECK(!strcmp(paths(sr, "kompass"), "p/guide"));
	CHECK_RC(put_docs(s, d + 2, 1), HX_OK);
	CHECK(!strcmp(paths(sr, "\"kompass\""), "p/guide.da"));
	hx_searcher_free(&sr);
	for (size_t i = 0; i < 3; i++)
		doc_free(d[i]);
	hx_store_close(&s);
	rmrf(dir);
	free(dir);
}

/* The query's language, from the languages that know its words, favours
 * a typo's candidates of that language: "handbuch" is German only, so
 * for "handbuch qwertz" the German "qwertx" (2 documents) comes before the
 * English "qwerty" (8), which would win without the language. Neither
 * correction finds a document with both words, so both are offered as
 * did-you-mean, in that order. */
static void typo_query_lang(void)
{
	doc *d[16];
	size_t nd = 0;
	hx_store *s;
	char *dir = vocab_store(&s);
	hx_searcher *sr;
	for (int i = 0; i < 2; i++, nd++)
		d[nd] = mkdoc(0, i ? "l/h1" : "l/h0", 1000 + nd, "de", "Handbuch eins", "Ein Text.",
		              NULL, NULL, NULL);
	for (int i = 0; i < 2; i++, nd++)
		d[nd] = mkdoc(0, i ? "l/x1" : "l/x0", 1000 + nd, "de", "qwertx zwei", "Ein Text.",
		              NULL, NULL, NULL);
	for (int i = 0; i < 8; i++, nd++) {
		char path[16];
		snprintf(path, sizeof path, "l/y%d", i);
		d[nd] = mkdoc(0, path, 1000 + nd, "en", "Notes on qwerty", "Plain text.", NULL,
		              NULL, NULL);
	}
	CHECK_RC(put_docs(s, d, nd), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	hx_search_opts o = { 10, 0, 0, 1, 0, 0 };
	hx_results r;
	char err[256];
	for (int i = 0; i < 3; i++) { /* the walk, the index built, the index */
		CHECK_RC(hx_search(sr, "handbuch qwertz", &o, &r, err, sizeof err), HX_OK);
		CHECK(r.total == 0 && !r.corrected && r.nsuggest >= 2);
		CHECK(r.nsuggest >= 2 && !strcmp(r.suggest[0], "handbuch qwertx") &&
		      !strcmp(r.suggest[1], "handbuch qwerty"));
		hx_results_clear(&r);
	}
	hx_searcher_free(&sr);
	vocab_done(&s, d, nd, dir);
}

/* The bit-parallel distance of the typo candidates against the table of
 * optimal string alignment (a naive model), on random strings of a few
 * letters (so that repeats and swaps are common), up to 64 bytes. */
static int osa_table(const char *a, size_t la, const char *b, size_t lb)
{
	static int d[65][65];
	for (size_t i = 0; i <= la; i++)
		for (size_t j = 0; j <= lb; j++) {
			if (!i || !j) {
				d[i][j] = (int)(i + j);
				continue;
			}
			int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

static void osa_bits(void)
{
	char a[64], b[64];
	uint64_t peq[256];
	int bad = 0;
	for (int t = 0; t < 20000; t++) {
		size_t la = 1 + rnd(t % 5 ? 12 : 64), lb = 1 + rnd(t % 5 ? 12 : 64);
		unsigned letters = 2 + rnd(4);
		for (size_t i = 0; i < la; i++)
			a[i] = (char)('a' + rnd(letters));
		for (size_t i = 0; i < lb; i++)
			b[i] = (char)('a' + rnd(letters));
		if (t % 3 == 0 && la > 2) { /* b: a with two bytes swapped */
			memcpy(b, a, la);
			lb = la;
			size_t p = rnd((unsigned)la - 1);
			char c = b[p];
			b[p] = b[p + 1];
			b[p + 1] = c;
		}
		hx_osa_peq(peq, a, la);
		bad += hx_osa_distance(peq, la, b, lb) != osa_table(a, la, b, lb);
	}
	CHECK(bad == 0);
	hx_osa_peq(peq, "", 0);
	CHECK(hx_osa_distance(peq, 0, "abc", 3) == 3);
}

/* Rewrites the ix.docs record that holds path: its byte at (from the
 * end, when negative) flipped, or, with cut, its last byte dropped. */
/* The store at dir opened by LMDB itself, and a cursor on its table in a
 * write transaction: 1, or 0 (*env NULL when not opened). */
static int table_cursor(const char *dir, const char *table, MDB_env **env, MDB_txn **txn,
                        MDB_cursor **c)
{
	MDB_dbi dbi;
	if (mdb_env_create(env) || mdb_env_set_maxdbs(*env, 64) ||
	    mdb_env_set_mapsize(*env, (size_t)16 << 30) || mdb_env_open(*env, dir, 0, 0600)) {
		mdb_env_close(*env);
		*env = NULL;
		return 0;
	}
	return !mdb_txn_begin(*env, NULL, 0, txn) && !mdb_dbi_open(*txn, table, 0, &dbi) &&
	       !mdb_cursor_open(*txn, dbi, c);
}

static int ixdoc_damage(const char *dir, const char *path, long at, int cut)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int done = 0;
	if (table_cursor(dir, "ix.docs", &env, &txn, &c)) {
		while (!done && !mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			size_t pl = strlen(path);
			if (v.mv_size < 74 + pl || memcmp((uint8_t *)v.mv_data + 74, path, pl))
				continue;
			uint8_t rec[4096];
			if (v.mv_size > sizeof rec)
				break;
			memcpy(rec, v.mv_data, v.mv_size);
			/* cut 2: the record of schema 5, id and author alone */
			size_t n = cut == 2 ? HX_ID_LEN + HX_KEY_LEN : v.mv_size - (cut ? 1 : 0);
			if (!cut)
				rec[at < 0 ? (long)n + at : at] ^= 0x01;
			MDB_val nv = { n, rec };
			done = !mdb_cursor_put(c, &k, &nv, MDB_CURRENT);
		}
		mdb_cursor_close(c);
		done = done && !mdb_txn_commit(txn);
	}
	mdb_env_close(env);
	return done;
}

/* A hit's fields come from the document's ix.docs record, not from its
 * entry: they are the entry's (org and translation_of present or not);
 * fsck finds a record that is not its entry's, and a search that meets a
 * malformed one says so. */
/* One search for q must find d alone, with every field of its hit. */
static void check_hit(hx_searcher *sr, const char *q, const doc *d)
{
	hx_results r;
	char err[256];
	hx_search_opts o = { 10, 0, 0, 1, 1, 0 };
	CHECK_RC(hx_search(sr, q, &o, &r, err, sizeof err), HX_OK);
	CHECK(r.nhits == 1);
	if (r.nhits == 1) {
		const hx_hit *h = &r.hits[0];
		CHECK(!strcmp(h->path, d->path) && !strcmp(h->title, d->title) &&
		      !strcmp(h->kind, d->kind) && !strcmp(h->lang, d->lang));
		CHECK(*d->org ? h->org && !strcmp(h->org, d->org) : h->org == NULL);
		CHECK(h->timestamp == d->ts && !memcmp(h->id, d->e.id, HX_ID_LEN) &&
		      !memcmp(h->author, pk[d->author], HX_KEY_LEN));
	}
	hx_results_clear(&r);
}

static void hit_records(void)
{
	char *dir = tmpdir();
	hx_store *s;
	hx_searcher *sr;
	doc *d[3];
	d[0] = mkdoc(0, "rec/with-org", 1234567, "de", "Kooperation der Gemeinden",
	             "Gemeinden arbeiten zusammen.", "a,b", "Stadt Rostock", "DE");
	snprintf(d[0]->tr, sizeof d[0]->tr, "rec/original");
	doc_sign(d[0]);
	d[1] = mkdoc(1, "rec/no-org", 7654321, "pl", "Współpraca gmin",
	             "Gminy współpracują ze sobą.", NULL, NULL, NULL);
	d[2] = mkdoc(2, "rec/original", 555, "en", "Cooperation of municipalities",
	             "Municipalities work together.", NULL, "Stadt Rostock", NULL);
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	CHECK_RC(put_docs(s, d, 3), HX_OK);
	const char *qs[3] = { "kooperation", "współpraca", "municipalities" };
	for (int i = 0; i < 3; i++)
		check_hit(sr, qs[i], d[i]);
	CHECK(fsck_problems(s) == 0);
	hx_searcher_free(&sr);
	hx_store_close(&s);

	/* the title's last byte changed (after it: lang "pl", then no org and
	 * no translation_of, 2 + 2 + 2 + 2 bytes): the record still parses,
	 * and fsck reports that record alone */
	CHECK(ixdoc_damage(dir, "rec/no-org", -9, 0));
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK(fsck_problems(s) == 1);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	CHECK(!strcmp(paths(sr, "współpraca"), "rec/no-org"));
	hx_searcher_free(&sr);
	hx_store_close(&s);
	CHECK(ixdoc_damage(dir, "rec/no-org", -9, 0)); /* flipped back */
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK(fsck_problems(s) == 0);
	hx_store_close(&s);
	/* a record of schema 5 (id and author), as a process of an older
	 * hansa still running writes after a newer one rebuilt the index:
	 * the hit comes from the entry, the same in every field; fsck
	 * reports the record */
	CHECK(ixdoc_damage(dir, "rec/with-org", 0, 2));
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	check_hit(sr, "kooperation", d[0]);
	CHECK(fsck_problems(s) == 1);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	/* a record cut short: the search that meets it fails, fsck reports it */
	CHECK(ixdoc_damage(dir, "rec/no-org", 0, 1));
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	CHECK(!strncmp(paths(sr, "współpraca"), "ERR:", 4));
	CHECK(!strcmp(paths(sr, "kooperation"), "rec/with-org"));
	CHECK(fsck_problems(s) == 2);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	for (int i = 0; i < 3; i++)
		doc_free(d[i]);
	rmrf(dir);
	free(dir);
}

/* The re-rank's field scanner (hx_pscan) against the tokenizer: over
 * random text of ASCII words and separators, Latin letters, combining
 * marks, ideographs, invalid bytes and words past HX_TOKEN_MAX, it gives
 * the tokenizer's tokens (word, byte range, position) whose first byte
 * is wanted, and stops at the word at the limit. */
static void prox_scan(void)
{
	static const char *pieces[] = { "abc",  "Zebra", "x11",       "0AD",      " ",
		                        "  ",   ",",     "-",         ".\n",      "ł",
		                        "Łódź", "é",     "e\xcc\x81", "\xcc\x81", "日本",
		                        "\xff", "\xc3",  "ß",         "Œuvre",    "\xe2\x80\x94",
		                        "'",    "_",     "Ab9" };
	char text[1024], lw[200];
	int bad = 0;
	for (int t = 0; t < 30000; t++) {
		size_t n = 0;
		int np = 1 + (int)rnd(40);
		for (int i = 0; i < np; i++) {
			const char *pc = pieces[rnd(sizeof pieces / sizeof pieces[0])];
			if (rnd(50) == 0) { /* a word past HX_TOKEN_MAX */
				size_t l = 55 + rnd(20);
				for (size_t j = 0; j < l; j++)
					lw[j] = (char)('a' + rnd(3));
				lw[l] = 0;
				pc = lw;
			}
			size_t l = strlen(pc);
			if (n + l >= sizeof text)
				break;
			memcpy(text + n, pc, l);
			n += l;
		}
		uint64_t want[4] = { 0, 0, 0, 0 };
		int all = t % 4 == 0;
		for (int b = 0; b < 256; b++)
			if (all || rnd(3) == 0)
				want[b >> 6] |= 1ull << (b & 63);
		uint32_t limit = t % 3 ? UINT32_MAX : rnd(12);
		hx_tokenizer tk;
		hx_pscan ps;
		hx_token a, b;
		hx_tok_init(&tk, text, n);
		hx_pscan_init(&ps, text, n, want, limit);
		for (;;) {
			int ra;
			while ((ra = hx_tok_next(&tk, &a)) && a.pos < limit &&
			       !(want[(uint8_t)a.word[0] >> 6] >> ((uint8_t)a.word[0] & 63) & 1))
				;
			ra = ra && a.pos < limit;
			int rb = hx_pscan_next(&ps, &b);
			if (ra != rb || (ra && (a.len != b.len || memcmp(a.word, b.word, a.len) ||
			                        b.word[b.len] || a.pos != b.pos ||
			                        a.start != b.start || a.end != b.end))) {
				if (!bad++)
					fprintf(stderr, "prox_scan: %.*s: %s/%s at %u/%u\n", (int)n,
					        text, ra ? a.word : "-", rb ? b.word : "-",
					        ra ? a.pos : 0, rb ? b.pos : 0);
				break;
			}
			if (!ra)
				break;
		}
	}
	CHECK(bad == 0);
}

/* ---- posting lists read two bytes a posting (twelfth session) ----------------- */

/* Changes the first posting block of term in the store at dir: how 1,
 * the first posting's delta 0 -> 1 (-1 back); how 2, a byte 00 after its
 * last posting (-2 takes it away); how 3, the sixth posting's delta 1 ->
 * 127, past the block's last docnum when it holds documents 0-127 (-3
 * back). 1 when done. */
static int post_damage(const char *dir, const char *term, int how)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
	char key[HX_IX_KEY_MAX];
	size_t tl = hx_ix_wkey(key, term, strlen(term));
	int done = 0;
	if (table_cursor(dir, "ix.post", &env, &txn, &c)) {
		MDB_val k = { tl, key }, v;
		for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc && !done;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (k.mv_size < tl || memcmp(k.mv_data, key, tl))
				break;
			if (k.mv_size != tl + 5 || v.mv_size < 11 || v.mv_size > 4096)
				continue; /* the term's header */
			uint8_t b[4097] = { 0 };
			memcpy(b, v.mv_data, v.mv_size);
			if (how == 1 || how == -1)
				b[9] = how == 1;
			if ((how == 3 || how == -3) && v.mv_size > 20)
				b[19] = how == 3 ? 127 : 1;
			MDB_val nv = { v.mv_size + (how == 2) - (how == -2), b };
			done = !mdb_cursor_put(c, &k, &nv, MDB_CURRENT);
		}
		mdb_cursor_close(c);
		done = done && !mdb_txn_commit(txn);
	}
	mdb_env_close(env);
	return done;
}

/* 0 when the search of q succeeds, else its error */
static int search_rc(const char *dir, const char *q)
{
	hx_store *s;
	hx_searcher *sr;
	hx_results r;
	char err[256];
	hx_search_opts o = { 1000, 0, 0, 1, 1, 1 };
	int rc = hx_store_open(&s, dir, 0);
	if (!rc && !(rc = hx_searcher_new(&sr, s))) {
		if (!(rc = hx_search(sr, q, &o, &r, err, sizeof err)))
			hx_results_clear(&r);
		hx_searcher_free(&sr);
	}
	hx_store_close(&s);
	return rc;
}

/* The seek's fast path (ix_cursor.c plist_fast) against the model: one
 * word in most documents with every tf around the limits of a two-byte
 * posting (title and tags 0-4, body 0-9: 3 and 7 need a varint), docnum
 * gaps of 1 to 128 (a delta of 128 or more is two bytes), rare words
 * that make the evaluation seek over it, and a word whose postings are
 * all fast but for the blocks' first and last. */
static void posting_steps(void)
{
	const size_t nd = 700;
	char *dir;
	doc *docs, **ptr;
	hx_store *s;
	hx_searcher *sr;
	model_begin(&dir, &s, &sr, nd, &docs, &ptr);
	for (size_t i = 0; i < nd; i++) {
		doc *d = &docs[i];
		/* alpha is missing from docs 300-426 (from 299 to 427: a delta
		 * of 128, two bytes 80 01), 480-678 (from 479 to 679: 200, two
		 * bytes c8 01) and every 11th */
		int has = (i < 300 || i >= 427) && (i < 480 || i >= 679) && i % 11 != 5;
		int tt = has ? (int)(i % 5) : 0, bt = has ? (int)((i / 5) % 10) : 0;
		if (has && tt == 0 && bt == 0 && i % 4)
			bt = 1; /* some are in the tags alone (i % 4 == 0) */
		size_t tl = 0, bl = 0;
		memset(d, 0, sizeof *d);
		d->author = (int)(i % 3);
		snprintf(d->path, sizeof d->path, "steps/d%zu", i);
		d->ts = 1000 + i;
		snprintf(d->lang, sizeof d->lang, "en");
		snprintf(d->kind, sizeof d->kind, "practice");
		tl += (size_t)snprintf(d->title + tl, sizeof d->title - tl, "page");
		for (int k = 0; k < tt; k++)
			tl += (size_t)snprintf(d->title + tl, sizeof d->title - tl, " alpha");
		bl += (size_t)snprintf(d->body + bl, sizeof d->body - bl, "text%zu", i % 13);
		for (int k = 0; k < bt; k++)
			bl += (size_t)snprintf(d->body + bl, sizeof d->body - bl, " alpha word");
		if (i % 7 == 3)
			bl += (size_t)snprintf(d->body + bl, sizeof d->body - bl, " beta");
		if (i % 53 == 7)
			bl += (size_t)snprintf(d->body + bl, sizeof d->body - bl, " gamma");
		if (has && i % 4 == 0)
			snprintf(d->tagbuf[d->ntags++], sizeof d->tagbuf[0], "alpha");
		if (i % 9 == 2)
			snprintf(d->tagbuf[d->ntags++], sizeof d->tagbuf[0], "delta");
		doc_sign(d);
		d->live = 1;
		ptr[i] = d;
	}
	CHECK_RC(put_docs(s, ptr, nd), HX_OK);
	for (size_t i = 0; i < nd; i++)
		dict_add(&docs[i]);
	static const char *const qs[] = { "alpha",         "alpha gamma", "gamma alpha",
		                          "alpha beta",    "beta alpha",  "alpha delta",
		                          "page alpha",    "word gamma",  "alpha -beta",
		                          "alpha OR gamma" };
	const int nq = (int)(sizeof qs / sizeof qs[0]);
	compare_fixed = qs;
	CHECK(compare(sr, docs, nd, nq, 10) == 0);
	CHECK(compare(sr, docs, nd, nq, 1000) == 0);
	compare_fixed = NULL;
	CHECK(fsck_problems(s) == 0);
	hx_searcher_free(&sr);
	hx_store_close(&s);
	/* "page" is in every title once: all its postings are two bytes. A
	 * first posting whose delta is not 0, a block with a byte after its
	 * last posting, and a posting past the block's last docnum fail the
	 * search that reads them. */
	CHECK_RC(search_rc(dir, "page"), HX_OK);
	for (int how = 1; how <= 3; how++) {
		CHECK(post_damage(dir, "page", how));
		CHECK_RC(search_rc(dir, "page"), HX_ECORRUPT);
		CHECK(post_damage(dir, "page", -how));
		CHECK_RC(search_rc(dir, "page"), HX_OK);
	}
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	model_end(dir, &s, &sr, docs, ptr, nd);
}

/* The look-up walks the groups it meets best first (by the best score
 * their words could have), but of two candidates of equal score the one
 * met first in bucket order is kept, as by a walk in that order.
 * "abcdefgh" and "abcdyfgh" (5 documents each, distance 1 from
 * "abcdxfgh") tie; "abcdefgh" is met first, but the group of "abcdyfgh"
 * is walked first (its "abcdyfgzzz", far from the query, is frequent),
 * and "abcdxfgi" and "abcdxfgj" (better) fill the first two places
 * before either is considered: "abcdefgh" must then be kept third
 * against a tie with the third kept. "zzqword" is in no document with
 * any of them, so the three corrections are offered as did-you-mean, in
 * order, by the walk over the vocabulary, the look-up that builds the
 * index and the next. */
static void typo_best_first(void)
{
	static const struct vword vocab[] = { { "abcdefgh", 5 },    { "abcdyfgh", 5 },
		                              { "abcdyfgzzz", 50 }, { "abcdxfgi", 30 },
		                              { "abcdxfgj", 30 },   { "zzqword", 1 } };
	static const char *want[] = { "abcdxfgi zzqword", "abcdxfgj zzqword", "abcdefgh zzqword" };
	doc *d[128];
	size_t nd = 0;
	hx_store *s;
	hx_searcher *sr;
	char *dir = vocab_store(&s);
	vocab_docs(vocab, sizeof vocab / sizeof vocab[0], d, &nd, 128);
	CHECK_RC(put_docs(s, d, nd), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	/* the walk, the index built, the index */
	for (int i = 0, same; i < 3; i++) {
		hx_results r;
		hx_search_opts o = { .limit = 10, .no_snippets = 1 };
		CHECK_RC(hx_search(sr, "abcdxfgh zzqword", &o, &r, NULL, 0), HX_OK);
		same = r.total == 0 && !r.corrected && r.nsuggest == 3;
		for (size_t k = 0; same && k < 3; k++)
			same = !strcmp(r.suggest[k], want[k]);
		CHECK(same);
		hx_results_clear(&r);
	}
	size_t words, bytes;
	hx_searcher_typo_index(sr, &words, &bytes);
	CHECK(words >= 6);
	hx_searcher_free(&sr);
	vocab_done(&s, d, nd, dir);
}

/* A word one edit away beats a word two edits away, however common that
 * one is: `kider` is `kinder` (in one document; an inserted letter), not
 * `der` (in 90; two letters dropped), through the walk, the index built
 * and the index. */
static void typo_nearest_first(void)
{
	static const struct vword vocab[] = { { "der", 90 }, { "kinder", 1 } };
	doc *d[128];
	size_t nd = 0;
	hx_store *s;
	char *dir = vocab_store(&s);
	vocab_docs(vocab, sizeof vocab / sizeof vocab[0], d, &nd, 128);
	CHECK_RC(put_docs(s, d, nd), HX_OK);
	corrected_thrice(s, "kider", "kinder", 2);
	vocab_done(&s, d, nd, dir);
}

/* What hx_search offers for q (its total, correction and did-you-mean),
 * as one line into out. */
static void typo_outcome(hx_searcher *sr, const char *q, char *out, size_t cap)
{
	hx_results r;
	hx_search_opts o = { .limit = 10, .no_snippets = 1 };
	CHECK_RC(hx_search(sr, q, &o, &r, NULL, 0), HX_OK);
	size_t n = (size_t)snprintf(out, cap, "%llu [%s]", (unsigned long long)r.total,
	                            r.corrected ? r.corrected : "");
	for (size_t i = 0; i < r.nsuggest && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, " [%s]", r.suggest[i]);
	hx_results_clear(&r);
}

/* The set of typo-index groups a look-up has met (sugix.h): a group met
 * in the first walk (the deletes of at most one byte) is still known
 * after the second walk's growth, and past SX_SEEN / 2 groups a new one
 * is reported each time, as a plain model of the set says: its slots
 * double from 64 while under twice the bucket entries walked so far (at
 * most SX_SEEN), and it keeps a group while fewer than half are taken. */
static void typo_seen_set(void)
{
	struct hx_sx_seen *st = malloc(sizeof *st);
	CHECK(st != NULL);
	if (!st)
		return;
	hx_sx_seen_init(st);
	hx_sx_seen_room(st, 20);
	CHECK(st->ns == 64);
	for (uint32_t g = 0; g < 20; g++)
		CHECK(hx_sx_seen_first(st, g * 977));
	for (uint32_t g = 0; g < 20; g++)
		CHECK(!hx_sx_seen_first(st, g * 977));
	hx_sx_seen_room(st, 1500);
	CHECK(st->ns == SX_SEEN);
	int forgot = 0;
	for (uint32_t g = 0; g < 20; g++)
		forgot += hx_sx_seen_first(st, g * 977);
	CHECK(forgot == 0);
	uint32_t g = 1;
	while (st->n < SX_SEEN / 2)
		CHECK(hx_sx_seen_first(st, 100000 + g++));
	CHECK(hx_sx_seen_first(st, 7) && hx_sx_seen_first(st, 7)); /* full: not kept */
	CHECK(!hx_sx_seen_first(st, 100001));

	/* random walks (the file's fixed-seed rnd) against the model */
	uint32_t *kept = malloc(SX_SEEN * sizeof *kept);
	CHECK(kept != NULL);
	int bad = 0;
	for (int round = 0; round < 300 && kept; round++) {
		size_t nk = 0, all = 0;
		uint32_t ns = 0;
		hx_sx_seen_init(st);
		int walks = 1 + (int)rnd(3);
		for (int w = 0; w < walks; w++) {
			uint32_t entries = rnd(w ? 4000 : 200);
			all += entries;
			if (!ns)
				ns = 64;
			while (ns < SX_SEEN && ns < 2 * all)
				ns *= 2;
			hx_sx_seen_room(st, entries);
			if (st->ns != ns)
				bad++;
			uint32_t range = 1 + rnd(3000);
			for (uint32_t e = 0; e < entries; e++) {
				uint32_t gg = rnd(range) * 131u;
				int known = 0;
				for (size_t i = 0; i < nk && !known; i++)
					known = kept[i] == gg;
				if (hx_sx_seen_first(st, gg) != !known)
					bad++;
				if (!known && nk < ns / 2)
					kept[nk++] = gg;
			}
		}
		if (nk != (size_t)st->n)
			bad++;
	}
	CHECK(bad == 0);
	free(kept);
	free(st);
}

/* When a word one edit away is indexed, no word two edits away is
 * offered, however common: `abcdefgz` has `abcdefgh` (in 1 document) one
 * edit away and `abcdefxy` (40) and `abcdeqgy` (30) two away; `abcdefqq`
 * has none one edit away and is offered the two that are two away, the
 * commoner first (`abcdeqgy` is three away). "zzqword" is in no document
 * with them, so the corrections are offered as did-you-mean. Each query
 * through the walk, the index built and the index. */
static void typo_one_edit_only(void)
{
	static const struct vword vocab[] = {
		{ "abcdefgh", 1 }, { "abcdefxy", 40 }, { "abcdeqgy", 30 }, { "zzqword", 1 }
	};
	static const char *q[] = { "abcdefgz zzqword", "abcdefqq zzqword" };
	static const char *want[] = { "0 [] [abcdefgh zzqword]",
		                      "0 [] [abcdefxy zzqword] [abcdefgh zzqword]" };
	doc *d[128];
	size_t nd = 0;
	hx_store *s;
	char *dir = vocab_store(&s), out[512];
	vocab_docs(vocab, sizeof vocab / sizeof vocab[0], d, &nd, 128);
	CHECK_RC(put_docs(s, d, nd), HX_OK);
	for (int k = 0; k < 2; k++) {
		hx_searcher *sr;
		CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
		for (int i = 0; i < 3; i++) {
			typo_outcome(sr, q[k], out, sizeof out);
			CHECK(!strcmp(out, want[k]));
		}
		hx_searcher_free(&sr);
	}
	vocab_done(&s, d, nd, dir);
}

/* The typo index's look-up (its best-first walk, and the tests that let
 * a word go before its bytes are read) keeps the candidates that the walk
 * over the whole vocabulary keeps. Random words (three 7-byte prefixes
 * and a random tail, so that groups hold many words; word i in i + 1
 * documents, so that no two candidates tie) and random typos of them,
 * with a word no document shares so that the corrections are offered as
 * did-you-mean: a new searcher (its first correction walks) and one whose
 * typo index is built offer the same. */
static void typo_index_vs_walk(void)
{
	enum { NW = 120, NQ = 200 };
	static const char *pre[] = { "abcdefg", "abcxefg", "qbcdefg" };
	char vocab[NW][16], body[NW * 16 + 1], q[48], a[512], b[512];
	doc *d[NW + 1];
	hx_store *s;
	hx_searcher *sr, *fresh;
	char *dir = vocab_store(&s);
	for (int i = 0; i < NW;) {
		int n = snprintf(vocab[i], sizeof vocab[i], "%s", pre[rnd(3)]), dup = 0;
		for (unsigned k = rnd(4); k > 0; k--)
			vocab[i][n++] = (char)('a' + rnd(4));
		vocab[i][n] = 0;
		for (int j = 0; j < i && !dup; j++)
			dup = !strcmp(vocab[i], vocab[j]);
		i += !dup;
	}
	for (int j = 0; j < NW; j++) {
		size_t bl = 0;
		for (int i = j; i < NW; i++)
			bl += (size_t)snprintf(body + bl, sizeof body - bl, "%s ", vocab[i]);
		char path[16];
		snprintf(path, sizeof path, "v/%d", j);
		d[j] = mkdoc(0, path, 1000 + (uint64_t)j, "en", "Words", body, NULL, NULL, NULL);
	}
	d[NW] = mkdoc(0, "v/z", 999, "en", "Other", "zzqword", NULL, NULL, NULL);
	CHECK_RC(put_docs(s, d, NW + 1), HX_OK);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	for (int i = 0; i < 2; i++) /* the walk, then the index built */
		typo_outcome(sr, "abcdefgx zzqword", a, sizeof a);
	int differ = 0, offered = 0;
	for (int t = 0; t < NQ; t++) {
		char w[24];
		size_t wl = (size_t)snprintf(w, sizeof w, "%s", vocab[rnd(NW)]);
		for (unsigned e = 1 + rnd(2); e > 0; e--) { /* one or two typos */
			size_t at = rnd((unsigned)wl - 1), op = rnd(4);
			if (op == 0)
				w[at] = (char)('a' + rnd(7));
			else if (op == 1)
				memmove(w + at, w + at + 1, wl-- - at);
			else if (op == 2 && wl + 1 < sizeof w) {
				memmove(w + at + 1, w + at, ++wl - at);
				w[at] = (char)('a' + rnd(7));
			} else {
				char c = w[at];
				w[at] = w[at + 1];
				w[at + 1] = c;
			}
		}
		snprintf(q, sizeof q, "%s zzqword", w);
		CHECK_RC(hx_searcher_new(&fresh, s), HX_OK);
		typo_outcome(fresh, q, a, sizeof a);
		hx_searcher_free(&fresh);
		typo_outcome(sr, q, b, sizeof b);
		differ += strcmp(a, b) != 0;
		offered += strstr(b, "] [") != NULL;
	}
	CHECK(differ == 0);
	CHECK(offered > NQ / 2);
	size_t words, bytes;
	hx_searcher_typo_index(sr, &words, &bytes);
	CHECK(words >= NW);
	hx_searcher_free(&sr);
	vocab_done(&s, d, NW + 1, dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	for (int i = 0; i < 3; i++)
		crypto_sign_keypair(pk[i], sk[i]);
	fixed_cases();
	format2();
	issue13();
	stem_filter_waits();
	lang_stretches();
	lang_scattered();
	typo_candidates();
	typo_group_skip();
	typo_batches();
	typo_query_lang();
	query_lang_fresh();
	osa_bits();
	known_words();
	rank_constants();
	title_as_typed_in(0);
	title_as_typed_in(1);
	proximity_factors();
	prox_scan();
	hit_records();
	markdown_snippets();
	differential();
	posting_steps();
	typo_best_first();
	typo_nearest_first();
	typo_one_edit_only();
	typo_seen_set();
	typo_index_vs_walk();
	return check_done();
}
