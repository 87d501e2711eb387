/*
 * test_store.c: the LMDB store through its public API (store/store.h):
 * version ordering by (timestamp, id), late and equal-time versions,
 * tombstones, next_timestamp, put_batch idempotence and the members-only
 * refusal, the change sequence, the schema check, fsck on stores damaged
 * through liblmdb directly, and a randomised comparison of the documents
 * the store keeps with a brute-force model computed from all the entries.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lmdb.h>
#include <sodium.h>
#include "store/store.h"
#include "store/ix_int.h"
#include "tests/check.h"
#include "tests/rmtree.h"

#define MAPSIZE ((size_t)16 << 30)

static uint8_t sk_a[HX_SECRET_LEN], pk_a[HX_KEY_LEN];
static uint8_t sk_b[HX_SECRET_LEN], pk_b[HX_KEY_LEN];

/* ---- helpers ---------------------------------------------------------- */

/* A signed entry and its bytes, kept together. */
typedef struct ent {
	hx_entry e; /* fields point at the strings below, or at literals */
	uint8_t *raw;
	size_t len;
	char title[64];
	char path[64];
} ent;

static ent *mk(const uint8_t *sk, const char *path, uint64_t ts, const char *kind,
               const char *title)
{
	static char *tags[] = { "smes", "brokerage" };
	static hx_meta meta[] = { { "org", "Region Test" }, { "country", "DK" } };
	ent *x = calloc(1, sizeof *x);
	if (!x)
		abort();
	snprintf(x->title, sizeof x->title, "%s", title);
	snprintf(x->path, sizeof x->path, "%s", path);
	x->e = (hx_entry){
		.path = x->path,
		.timestamp = ts,
		.kind = (char *)kind,
		.title = x->title,
		.body = "Some *Markdown* body.",
		.tags = tags,
		.ntags = 2,
		.lang = "en",
		.meta = meta,
		.nmeta = 2,
	};
	if (hx_entry_sign(&x->e, sk, &x->raw, &x->len))
		abort();
	return x;
}

static void ent_free(ent **x)
{
	if (*x) {
		free((*x)->raw);
		free(*x);
		*x = NULL;
	}
}

/* Stores one entry in its own transaction; returns its put result (or
 * the batch error). */
static int put1(hx_store *s, const ent *x, unsigned flags)
{
	hx_put p = { .raw = x->raw, .rawlen = x->len, .entry = &x->e };
	size_t added = 99;
	int rc = hx_store_put_batch(s, &p, 1, flags, &added);
	if (rc)
		return rc;
	if ((p.result == HX_OK) != (added == 1))
		return -1000; /* added disagrees with the result */
	return p.result;
}

static char *tmpdir(void)
{
	char t[] = "/tmp/hx-test-store.XXXXXX";
	char *d = mkdtemp(t);
	if (!d)
		abort();
	return strdup(d);
}

static hx_store *open_new(char **dir)
{
	hx_store *s = NULL;
	*dir = tmpdir();
	char sub[4200];
	snprintf(sub, sizeof sub, "%s/store", *dir);
	int rc = hx_store_open(&s, sub, HX_STORE_CREATE);
	CHECK_RC(rc, HX_OK);
	if (rc)
		abort();
	return s;
}

static int reopen(hx_store **s, const char *dir)
{
	char sub[4200];
	hx_store_close(s);
	snprintf(sub, sizeof sub, "%s/store", dir);
	return hx_store_open(s, sub, 0);
}

/* Collects titles (or ids) from iterations. */
struct got {
	char titles[64][64];
	uint8_t ids[64][HX_ID_LEN];
	uint64_t ts[64];
	uint8_t authors[64][HX_KEY_LEN];
	size_t n;
};

static int collect(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct got *g = arg;
	(void)raw;
	(void)len;
	if (g->n < 64) {
		snprintf(g->titles[g->n], 64, "%s", e->title);
		memcpy(g->ids[g->n], e->id, HX_ID_LEN);
		memcpy(g->authors[g->n], e->author, HX_KEY_LEN);
		g->ts[g->n] = e->timestamp;
	}
	g->n++;
	return 0;
}

static int current_title(hx_store *s, const uint8_t *author, const char *path, char *out, size_t n,
                         int *deleted)
{
	hx_entry e;
	int rc = hx_store_current(s, author, path, &e, deleted);
	if (!rc) {
		snprintf(out, n, "%s", e.title);
		hx_entry_clear(&e);
	} else {
		out[0] = 0;
	}
	return rc;
}

/* ---- version ordering ------------------------------------------------- */

static void test_versions(void)
{
	char *dir, t[64];
	hx_store *s = open_new(&dir);
	int deleted = -1;
	struct got g = { 0 };

	ent *v1 = mk(sk_a, "practices/x", 1000, "practice", "v1");
	ent *v2 = mk(sk_a, "practices/x", 2000, "practice", "v2");
	ent *v0 = mk(sk_a, "practices/x", 500, "practice", "v0 (late)");

	CHECK_RC(current_title(s, pk_a, "practices/x", t, sizeof t, &deleted), HX_ENOTFOUND);
	CHECK(deleted == 0);
	CHECK_RC(put1(s, v1, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "practices/x", t, sizeof t, NULL), HX_OK);
	CHECK(!strcmp(t, "v1"));
	CHECK_RC(put1(s, v2, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "practices/x", t, sizeof t, NULL), HX_OK);
	CHECK(!strcmp(t, "v2"));
	/* An older version arriving late goes into history only. */
	CHECK_RC(put1(s, v0, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "practices/x", t, sizeof t, NULL), HX_OK);
	CHECK(!strcmp(t, "v2"));
	CHECK_RC(hx_store_history(s, pk_a, "practices/x", collect, &g), HX_OK);
	CHECK(g.n == 3);
	CHECK(!strcmp(g.titles[0], "v0 (late)") && !strcmp(g.titles[1], "v1") &&
	      !strcmp(g.titles[2], "v2"));
	/* The list has the document once, at its current version. */
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_list(s, NULL, collect, &g), HX_OK);
	CHECK(g.n == 1 && !strcmp(g.titles[0], "v2"));

	/* Equal timestamps: the greater id wins, whatever the arrival order. */
	ent *p = mk(sk_a, "practices/tie", 7000, "practice", "tie-p");
	ent *q = mk(sk_a, "practices/tie", 7000, "practice", "tie-q");
	ent *hi = memcmp(p->e.id, q->e.id, HX_ID_LEN) > 0 ? p : q;
	ent *lo = hi == p ? q : p;
	CHECK_RC(put1(s, hi, 0), HX_OK);
	CHECK_RC(put1(s, lo, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "practices/tie", t, sizeof t, NULL), HX_OK);
	CHECK(!strcmp(t, hi->title));
	ent *p2 = mk(sk_a, "practices/tie2", 7000, "practice", "tie-p");
	ent *q2 = mk(sk_a, "practices/tie2", 7000, "practice", "tie-q");
	ent *hi2 = memcmp(p2->e.id, q2->e.id, HX_ID_LEN) > 0 ? p2 : q2;
	ent *lo2 = hi2 == p2 ? q2 : p2;
	CHECK_RC(put1(s, lo2, 0), HX_OK);
	CHECK_RC(put1(s, hi2, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "practices/tie2", t, sizeof t, NULL), HX_OK);
	CHECK(!strcmp(t, hi2->title));
	/* history orders equal timestamps by id too */
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_history(s, pk_a, "practices/tie2", collect, &g), HX_OK);
	CHECK(g.n == 2 && !memcmp(g.ids[0], lo2->e.id, HX_ID_LEN) &&
	      !memcmp(g.ids[1], hi2->e.id, HX_ID_LEN));

	/* Another author's document at the same path is its own document. */
	ent *b1 = mk(sk_b, "practices/x", 100, "toolkit", "b's x");
	CHECK_RC(put1(s, b1, 0), HX_OK);
	CHECK_RC(current_title(s, pk_b, "practices/x", t, sizeof t, NULL), HX_OK);
	CHECK(!strcmp(t, "b's x"));
	CHECK_RC(current_title(s, pk_a, "practices/x", t, sizeof t, NULL), HX_OK);
	CHECK(!strcmp(t, "v2"));
	uint8_t au[4][HX_KEY_LEN];
	size_t na = 0;
	CHECK_RC(hx_store_path_authors(s, "practices/x", au, 4, &na), HX_OK);
	CHECK(na == 2);
	CHECK(na == 2 && ((!memcmp(au[0], pk_a, 32) && !memcmp(au[1], pk_b, 32)) ||
	                  (!memcmp(au[0], pk_b, 32) && !memcmp(au[1], pk_a, 32))));
	/* max smaller than the count: count is still the total */
	CHECK_RC(hx_store_path_authors(s, "practices/x", au, 1, &na), HX_OK);
	CHECK(na == 2);
	/* a path that is a prefix of another is not confused with it */
	CHECK_RC(hx_store_path_authors(s, "practices", au, 4, &na), HX_OK);
	CHECK(na == 0);
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_list(s, pk_b, collect, &g), HX_OK);
	CHECK(g.n == 1 && !strcmp(g.titles[0], "b's x"));
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_list(s, pk_a, collect, &g), HX_OK);
	CHECK(g.n == 3);
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_list(s, NULL, collect, &g), HX_OK);
	CHECK(g.n == 4);

	/* scan: every entry in (timestamp, id) order */
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_scan(s, 0, collect, &g), HX_OK);
	CHECK(g.n == 8);
	int ordered = 1;
	for (size_t i = 1; i < g.n && i < 64; i++)
		if (g.ts[i - 1] > g.ts[i] ||
		    (g.ts[i - 1] == g.ts[i] && memcmp(g.ids[i - 1], g.ids[i], HX_ID_LEN) >= 0))
			ordered = 0;
	CHECK(ordered);
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_scan(s, 1001, collect, &g), HX_OK);
	CHECK(g.n == 5 && g.ts[0] == 2000);

	/* get by id, with its bytes */
	hx_entry e;
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	CHECK_RC(hx_store_get(s, v1->e.id, &e, &raw, &rawlen), HX_OK);
	CHECK(raw && rawlen == v1->len && !memcmp(raw, v1->raw, rawlen));
	CHECK(!strcmp(e.title, "v1") && !memcmp(e.id, v1->e.id, HX_ID_LEN));
	hx_entry_clear(&e);
	free(raw);
	uint8_t nope[HX_ID_LEN] = { 0 };
	CHECK_RC(hx_store_get(s, nope, &e, NULL, NULL), HX_ENOTFOUND);

	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, NULL, NULL, &problems), HX_OK);
	CHECK(problems == 0);

	ent *all[] = { v0, v1, v2, p, q, p2, q2, b1 };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ent_free(&all[i]);
	hx_store_close(&s);
	CHECK(s == NULL);
	hx_store_close(&s); /* NULL-safe */
	rmtree(dir);
	free(dir);
}

/* ---- tombstones ------------------------------------------------------- */

/* A system record (FORMAT.md §1.8) has a current version, but no path row
 * and no place in lists or in the index. */
/* (A path and kind no rules of their own check: a device record at
 * .hansa/device/ must name a key, FORMAT.md §1.8.1.) */
static void test_system(void)
{
	char *dir, t[64];
	hx_store *s = open_new(&dir);
	int deleted = -1;
	struct got g = { 0 };
	uint8_t au[2][HX_KEY_LEN];
	size_t na = 9;
	ent *rec = mk(sk_a, ".hansa/test/laptop", 1000, "hansa-test", "office laptop");
	ent *doc = mk(sk_a, "toolkits/t", 1000, "toolkit", "laptop toolkit");

	CHECK(hx_entry_is_system(&rec->e) && !hx_entry_is_listed(&rec->e));
	CHECK_RC(put1(s, rec, 0), HX_OK);
	CHECK_RC(put1(s, doc, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, ".hansa/test/laptop", t, sizeof t, &deleted), HX_OK);
	CHECK(!strcmp(t, "office laptop") && deleted == 0);
	CHECK_RC(hx_store_path_authors(s, ".hansa/test/laptop", au, 2, &na), HX_OK);
	CHECK(na == 0);
	CHECK_RC(hx_store_list(s, NULL, collect, &g), HX_OK);
	CHECK(g.n == 1 && !strcmp(g.titles[0], "laptop toolkit"));
	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, NULL, NULL, &problems), HX_OK);
	CHECK(problems == 0);
	ent_free(&rec);
	ent_free(&doc);
	hx_store_close(&s);
	rmtree(dir);
	free(dir);
}

static void test_tombstones(void)
{
	char *dir, t[64];
	hx_store *s = open_new(&dir);
	int deleted = -1;
	struct got g = { 0 };
	uint8_t au[2][HX_KEY_LEN];
	size_t na;

	ent *v1 = mk(sk_a, "toolkits/t", 1000, "toolkit", "live");
	ent *other = mk(sk_a, "toolkits/other", 1000, "toolkit", "other");
	ent *dead = mk(sk_a, "toolkits/t", 2000, HX_KIND_TOMBSTONE, "");
	ent *late = mk(sk_a, "toolkits/t", 1500, "toolkit", "late but older than the tombstone");
	ent *again = mk(sk_a, "toolkits/t", 3000, "toolkit", "published again");
	ent *old_dead = mk(sk_a, "toolkits/other", 900, HX_KIND_TOMBSTONE, "");

	CHECK_RC(put1(s, v1, 0), HX_OK);
	CHECK_RC(put1(s, other, 0), HX_OK);
	CHECK_RC(put1(s, dead, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "toolkits/t", t, sizeof t, &deleted), HX_ENOTFOUND);
	CHECK(deleted == 1);
	CHECK_RC(hx_store_path_authors(s, "toolkits/t", au, 2, &na), HX_OK);
	CHECK(na == 0);
	CHECK_RC(hx_store_list(s, NULL, collect, &g), HX_OK);
	CHECK(g.n == 1 && !strcmp(g.titles[0], "other"));
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_history(s, pk_a, "toolkits/t", collect, &g), HX_OK);
	CHECK(g.n == 2 && !strcmp(g.titles[0], "live") && g.ts[1] == 2000);
	/* The deleted version can still be read by id. */
	hx_entry e;
	CHECK_RC(hx_store_get(s, v1->e.id, &e, NULL, NULL), HX_OK);
	hx_entry_clear(&e);

	/* An older version arriving after the tombstone does not revive it. */
	CHECK_RC(put1(s, late, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "toolkits/t", t, sizeof t, &deleted), HX_ENOTFOUND);
	CHECK(deleted == 1);
	CHECK_RC(hx_store_path_authors(s, "toolkits/t", au, 2, &na), HX_OK);
	CHECK(na == 0);

	/* A tombstone older than the current version changes nothing. */
	CHECK_RC(put1(s, old_dead, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "toolkits/other", t, sizeof t, &deleted), HX_OK);
	CHECK(!strcmp(t, "other") && deleted == 0);

	/* A newer version brings the document back. */
	CHECK_RC(put1(s, again, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "toolkits/t", t, sizeof t, &deleted), HX_OK);
	CHECK(!strcmp(t, "published again") && deleted == 0);
	CHECK_RC(hx_store_path_authors(s, "toolkits/t", au, 2, &na), HX_OK);
	CHECK(na == 1 && !memcmp(au[0], pk_a, HX_KEY_LEN));
	memset(&g, 0, sizeof g);
	CHECK_RC(hx_store_history(s, pk_a, "toolkits/t", collect, &g), HX_OK);
	CHECK(g.n == 4);

	hx_store_stats st;
	CHECK_RC(hx_store_stats_get(s, &st), HX_OK);
	CHECK(st.entries == 6 && st.documents == 2 && st.last_seq == 6);

	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, NULL, NULL, &problems), HX_OK);
	CHECK(problems == 0);
	ent *all[] = { v1, other, dead, late, again, old_dead };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ent_free(&all[i]);
	hx_store_close(&s);
	rmtree(dir);
	free(dir);
}

/* ---- next_timestamp --------------------------------------------------- */

static void test_next_timestamp(void)
{
	char *dir;
	hx_store *s = open_new(&dir);
	uint64_t ts = 0;

	/* no document yet: now */
	CHECK_RC(hx_store_next_timestamp(s, pk_a, "a/b", 12345, &ts), HX_OK);
	CHECK(ts == 12345);
	ent *v = mk(sk_a, "a/b", 5000, "note", "v");
	CHECK_RC(put1(s, v, 0), HX_OK);
	CHECK_RC(hx_store_next_timestamp(s, pk_a, "a/b", 100, &ts), HX_OK);
	CHECK(ts == 5001); /* clock behind the last version: prev + 1 */
	CHECK_RC(hx_store_next_timestamp(s, pk_a, "a/b", 5000, &ts), HX_OK);
	CHECK(ts == 5001);
	CHECK_RC(hx_store_next_timestamp(s, pk_a, "a/b", 5001, &ts), HX_OK);
	CHECK(ts == 5001);
	CHECK_RC(hx_store_next_timestamp(s, pk_a, "a/b", 9999999, &ts), HX_OK);
	CHECK(ts == 9999999);
	/* other author, other path: unaffected */
	CHECK_RC(hx_store_next_timestamp(s, pk_b, "a/b", 100, &ts), HX_OK);
	CHECK(ts == 100);
	CHECK_RC(hx_store_next_timestamp(s, pk_a, "a/bc", 100, &ts), HX_OK);
	CHECK(ts == 100);
	/* after a tombstone too */
	ent *d = mk(sk_a, "a/b", 8000, HX_KIND_TOMBSTONE, "");
	CHECK_RC(put1(s, d, 0), HX_OK);
	CHECK_RC(hx_store_next_timestamp(s, pk_a, "a/b", 100, &ts), HX_OK);
	CHECK(ts == 8001);
	/* a late older version does not lower it */
	ent *old = mk(sk_a, "a/b", 10, "note", "old");
	CHECK_RC(put1(s, old, 0), HX_OK);
	CHECK_RC(hx_store_next_timestamp(s, pk_a, "a/b", 100, &ts), HX_OK);
	CHECK(ts == 8001);
	/* the wall clock helper is in microseconds (after 2020) */
	CHECK(hx_now_us() > 1577836800ull * 1000000u);
	ent_free(&v);
	ent_free(&d);
	ent_free(&old);
	hx_store_close(&s);
	rmtree(dir);
	free(dir);
}

/* ---- put_batch: idempotence, members, changes ------------------------- */

struct chg {
	uint64_t seq[64];
	uint8_t ids[64][HX_ID_LEN];
	size_t n;
	size_t stop_after; /* 0: never */
};

static int chg_cb(void *arg, uint64_t seq, const uint8_t id[HX_ID_LEN])
{
	struct chg *c = arg;
	if (c->n < 64) {
		c->seq[c->n] = seq;
		memcpy(c->ids[c->n], id, HX_ID_LEN);
	}
	c->n++;
	return c->stop_after && c->n == c->stop_after ? 77 : 0;
}

static void test_batches(void)
{
	char *dir;
	hx_store *s = open_new(&dir);
	ent *x[6];
	hx_put p[8];
	size_t added = 99;

	for (int i = 0; i < 6; i++) {
		char path[32], title[32];
		snprintf(path, sizeof path, "b/%d", i);
		snprintf(title, sizeof title, "t%d", i);
		/* arrival order differs from time order on purpose */
		x[i] = mk(i % 2 ? sk_b : sk_a, path, (uint64_t)(100 - i), "note", title);
	}
	for (int i = 0; i < 3; i++)
		p[i] = (hx_put){ .raw = x[i]->raw, .rawlen = x[i]->len, .entry = &x[i]->e };
	/* the same entry twice in one batch: the second is "already there" */
	p[3] = p[0];
	CHECK_RC(hx_store_put_batch(s, p, 4, 0, &added), HX_OK);
	CHECK(added == 3);
	CHECK_RC(p[0].result, HX_OK);
	CHECK_RC(p[1].result, HX_OK);
	CHECK_RC(p[2].result, HX_OK);
	CHECK_RC(p[3].result, HX_EEXIST);
	CHECK(p[0].seq == 1 && p[1].seq == 2 && p[2].seq == 3 && p[3].seq == 0);

	/* Putting the same batch again changes nothing. */
	added = 99;
	CHECK_RC(hx_store_put_batch(s, p, 3, 0, &added), HX_OK);
	CHECK(added == 0);
	for (int i = 0; i < 3; i++)
		CHECK_RC(p[i].result, HX_EEXIST);
	hx_store_stats st;
	CHECK_RC(hx_store_stats_get(s, &st), HX_OK);
	CHECK(st.entries == 3 && st.last_seq == 3 && st.documents == 3);

	/* An empty batch commits nothing and says so. */
	added = 99;
	CHECK_RC(hx_store_put_batch(s, p, 0, 0, &added), HX_OK);
	CHECK(added == 0);

	/* Members only: refused without a member row, each on its own. */
	p[0] = (hx_put){ .raw = x[3]->raw, .rawlen = x[3]->len, .entry = &x[3]->e }; /* b */
	p[1] = (hx_put){ .raw = x[4]->raw, .rawlen = x[4]->len, .entry = &x[4]->e }; /* a */
	added = 99;
	CHECK_RC(hx_store_put_batch(s, p, 2, HX_PUT_MEMBERS_ONLY, &added), HX_OK);
	CHECK(added == 0);
	CHECK_RC(p[0].result, HX_EPERM);
	CHECK_RC(p[1].result, HX_EPERM);
	hx_entry e;
	CHECK_RC(hx_store_get(s, x[3]->e.id, &e, NULL, NULL), HX_ENOTFOUND);
	CHECK_RC(hx_store_get(s, x[4]->e.id, &e, NULL, NULL), HX_ENOTFOUND);
	/* a's member row: a's entry goes in, b's is still refused */
	CHECK_RC(hx_store_member_put(s, pk_a, (const uint8_t *)"rec-a", 5), HX_OK);
	added = 99;
	CHECK_RC(hx_store_put_batch(s, p, 2, HX_PUT_MEMBERS_ONLY, &added), HX_OK);
	CHECK(added == 1);
	CHECK_RC(p[0].result, HX_EPERM);
	CHECK_RC(p[1].result, HX_OK);
	CHECK(p[1].seq == 4);
	CHECK_RC(hx_store_get(s, x[3]->e.id, &e, NULL, NULL), HX_ENOTFOUND);
	CHECK_RC(hx_store_get(s, x[4]->e.id, &e, NULL, NULL), HX_OK);
	hx_entry_clear(&e);
	/* a member row removed: refused again */
	CHECK_RC(hx_store_member_del(s, pk_a), HX_OK);
	CHECK_RC(put1(s, x[5], HX_PUT_MEMBERS_ONLY), HX_EPERM); /* b, never a member */
	/* without the flag anyone's entry is stored */
	CHECK_RC(put1(s, x[3], 0), HX_OK);
	CHECK_RC(put1(s, x[5], 0), HX_OK);
	/* a member's duplicate: EEXIST, not EPERM and not stored twice */
	CHECK_RC(hx_store_member_put(s, pk_b, (const uint8_t *)"rec-b", 5), HX_OK);
	CHECK_RC(put1(s, x[5], HX_PUT_MEMBERS_ONLY), HX_EEXIST);
	uint8_t *rec = NULL;
	size_t rl = 0;
	CHECK_RC(hx_store_member_get(s, pk_b, &rec, &rl), HX_OK);
	CHECK(rl == 5 && rec && !memcmp(rec, "rec-b", 5));
	free(rec);
	CHECK_RC(hx_store_member_get(s, pk_a, &rec, &rl), HX_ENOTFOUND);

	/* Changes: arrival order, sequence numbers 1..6 without gaps. */
	const ent *order[] = { x[0], x[1], x[2], x[4], x[3], x[5] };
	struct chg c = { 0 };
	uint64_t last = 0;
	CHECK_RC(hx_store_changes(s, 0, chg_cb, &c, &last), HX_OK);
	CHECK(c.n == 6 && last == 6);
	for (size_t i = 0; i < 6 && i < c.n; i++) {
		CHECK(c.seq[i] == i + 1);
		CHECK(!memcmp(c.ids[i], order[i]->e.id, HX_ID_LEN));
	}
	memset(&c, 0, sizeof c);
	CHECK_RC(hx_store_changes(s, 4, chg_cb, &c, &last), HX_OK);
	CHECK(c.n == 2 && c.seq[0] == 5 && c.seq[1] == 6 && last == 6);
	memset(&c, 0, sizeof c);
	CHECK_RC(hx_store_changes(s, 6, chg_cb, &c, &last), HX_OK);
	CHECK(c.n == 0 && last == 6);
	/* the callback's non-zero value stops the walk and is returned */
	memset(&c, 0, sizeof c);
	c.stop_after = 2;
	CHECK_RC(hx_store_changes(s, 0, chg_cb, &c, &last), 77);
	CHECK(c.n == 2 && last == 2);

	/* The sequence goes on after a reopen. */
	CHECK_RC(reopen(&s, dir), HX_OK);
	ent *y = mk(sk_a, "b/after-reopen", 1, "note", "y");
	hx_put py = { .raw = y->raw, .rawlen = y->len, .entry = &y->e };
	CHECK_RC(hx_store_put_batch(s, &py, 1, 0, NULL), HX_OK);
	CHECK(py.result == HX_OK && py.seq == 7);

	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, NULL, NULL, &problems), HX_OK);
	CHECK(problems == 0);
	for (int i = 0; i < 6; i++)
		ent_free(&x[i]);
	ent_free(&y);
	hx_store_close(&s);
	rmtree(dir);
	free(dir);
}

/* ---- opening: missing, read-only, schema, not a store ----------------- */

/* Opens the store's LMDB environment directly. */
static MDB_env *raw_open(const char *dir)
{
	char sub[4200];
	MDB_env *env = NULL;
	snprintf(sub, sizeof sub, "%s/store", dir);
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 32) ||
	    mdb_env_set_mapsize(env, MAPSIZE) || mdb_env_open(env, sub, 0, 0600)) {
		fprintf(stderr, "cannot open %s with liblmdb\n", sub);
		abort();
	}
	return env;
}

static void raw_put(const char *dir, const char *db, const void *k, size_t kl, const void *v,
                    size_t vl)
{
	MDB_env *env = raw_open(dir);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
	CHECK_RC(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_RC(mdb_dbi_open(txn, db, 0, &dbi), 0);
	CHECK_RC(mdb_put(txn, dbi, &key, &val, 0), 0);
	CHECK_RC(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Writes log row seq as id ‖ bytes. */
static void raw_put_entry(const char *dir, uint64_t seq, const uint8_t *id, const void *b, size_t n)
{
	uint8_t k[8], *v = malloc(HX_ID_LEN + n);
	if (!v)
		abort();
	hx_be64_put(k, seq);
	memcpy(v, id, HX_ID_LEN);
	memcpy(v + HX_ID_LEN, b, n);
	raw_put(dir, "log", k, sizeof k, v, HX_ID_LEN + n);
	free(v);
}

/* Deletes the first key (or the first with a key of exactly klen bytes
 * starting with prefix) of table db. */
static void raw_del_first(const char *dir, const char *db, const void *prefix, size_t plen)
{
	MDB_env *env = raw_open(dir);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k = { plen, (void *)prefix }, v;
	CHECK_RC(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_RC(mdb_dbi_open(txn, db, 0, &dbi), 0);
	CHECK_RC(mdb_cursor_open(txn, dbi, &c), 0);
	CHECK_RC(mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST), 0);
	CHECK_RC(mdb_cursor_del(c, 0), 0);
	mdb_cursor_close(c);
	CHECK_RC(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_open(void)
{
	char *dir = tmpdir(), sub[4200];
	hx_store *s = (hx_store *)&s;

	snprintf(sub, sizeof sub, "%s/store", dir);
	/* without CREATE, a missing store is not found (and not created) */
	CHECK_RC(hx_store_open(&s, sub, 0), HX_ENOTFOUND);
	CHECK(s == NULL);
	CHECK(access(sub, F_OK) != 0);
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_CREATE), HX_OK);
	ent *x = mk(sk_a, "o/x", 10, "note", "x");
	CHECK_RC(put1(s, x, 0), HX_OK);
	hx_store_close(&s);

	/* read-only: reads work, writes are refused */
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_RDONLY), HX_OK);
	char t[64];
	CHECK_RC(current_title(s, pk_a, "o/x", t, sizeof t, NULL), HX_OK);
	ent *y = mk(sk_a, "o/y", 10, "note", "y");
	CHECK_RC(put1(s, y, 0), HX_EPERM);
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "o/y", t, sizeof t, NULL), HX_ENOTFOUND);
	hx_store_close(&s);

	/* another schema version: refused, never misread */
	const uint8_t newer[4] = { 0, 0, 0, HX_STORE_SCHEMA + 1 };
	const uint8_t older[4] = { 0, 0, 0, 0 };
	const uint8_t mine[4] = { 0, 0, 0, HX_STORE_SCHEMA };
	raw_put(dir, "meta", "schema", 6, newer, 4);
	s = (hx_store *)&s;
	CHECK_RC(hx_store_open(&s, sub, 0), HX_EVERSION);
	CHECK(s == NULL);
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_CREATE), HX_EVERSION);
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_RDONLY), HX_EVERSION);
	raw_put(dir, "meta", "schema", 6, older, 4);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_EVERSION);
	/* a schema value of the wrong size is damage */
	raw_put(dir, "meta", "schema", 6, "\1", 1);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_ECORRUPT);
	/* put back: the store opens and its entry is still there */
	raw_put(dir, "meta", "schema", 6, mine, 4);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_OK);
	CHECK_RC(current_title(s, pk_a, "o/x", t, sizeof t, NULL), HX_OK);
	hx_store_close(&s);
	/* schema 1 (before "purged"): a backup copy of the data file first,
	 * then upgraded in place, also when opened read-only */
	const uint8_t one[4] = { 0, 0, 0, 1 };
	char bak[4300];
	struct stat bst;
	snprintf(bak, sizeof bak, "%s/data.mdb.schema1.bak", sub);
	raw_put(dir, "meta", "schema", 6, one, 4);
	CHECK(stat(bak, &bst) != 0);
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_RDONLY), HX_OK);
	CHECK(stat(bak, &bst) == 0 && bst.st_size > 0);
	CHECK_RC(current_title(s, pk_a, "o/x", t, sizeof t, NULL), HX_OK);
	hx_store_close(&s);
	unlink(bak);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_OK); /* upgraded: no second backup */
	CHECK(stat(bak, &bst) != 0);
	hx_store_close(&s);
	/* no schema row at all */
	raw_del_first(dir, "meta", "schema", 6);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_ECORRUPT);
	rmtree(dir);
	free(dir);

	/* an LMDB environment that is not a hansa store */
	dir = tmpdir();
	snprintf(sub, sizeof sub, "%s/store", dir);
	CHECK(mkdir(sub, 0700) == 0);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	CHECK_RC(mdb_env_create(&env), 0);
	CHECK_RC(mdb_env_open(env, sub, 0, 0600), 0);
	CHECK_RC(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CHECK_RC(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	MDB_val k = { 3, "foo" }, v = { 3, "bar" };
	CHECK_RC(mdb_put(txn, dbi, &k, &v, 0), 0);
	CHECK_RC(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_ECORRUPT);
	rmtree(dir);
	free(dir);

	/* a file of junk where data.mdb should be */
	dir = tmpdir();
	snprintf(sub, sizeof sub, "%s/store", dir);
	CHECK(mkdir(sub, 0700) == 0);
	char file[4300];
	snprintf(file, sizeof file, "%s/data.mdb", sub);
	FILE *f = fopen(file, "wb");
	uint8_t junk[16384];
	randombytes_buf(junk, sizeof junk);
	CHECK(f && fwrite(junk, 1, sizeof junk, f) == sizeof junk);
	if (f)
		fclose(f);
	CHECK_RC(hx_store_open(&s, sub, 0), HX_ECORRUPT);
	CHECK(s == NULL);
	rmtree(dir);
	free(dir);
	ent_free(&x);
	ent_free(&y);
}

/* ---- fsck on damaged stores ------------------------------------------- */

/* memmem is a GNU extension */
static uint8_t *find(uint8_t *hay, size_t n, const char *needle)
{
	size_t l = strlen(needle);
	for (size_t i = 0; i + l <= n; i++)
		if (!memcmp(hay + i, needle, l))
			return hay + i;
	return NULL;
}

struct reports {
	char text[4096];
	size_t n;
};

static void report(void *arg, const char *line)
{
	struct reports *r = arg;
	size_t l = strlen(r->text);
	snprintf(r->text + l, sizeof r->text - l, "%s\n", line);
	r->n++;
}

/* A small store: a live document with two versions, a deleted one, and
 * another author's document. Its directory in *dir. */
static void build(char **dir, ent **e, size_t *n)
{
	hx_store *s = open_new(dir);
	size_t i = 0;
	e[i++] = mk(sk_a, "f/live", 100, "practice", "live v1");
	e[i++] = mk(sk_a, "f/live", 200, "practice", "live v2");
	e[i++] = mk(sk_a, "f/gone", 150, "case", "gone");
	e[i++] = mk(sk_a, "f/gone", 250, HX_KIND_TOMBSTONE, "");
	e[i++] = mk(sk_b, "f/live", 120, "toolkit", "b's");
	for (size_t j = 0; j < i; j++)
		CHECK_RC(put1(s, e[j], 0), HX_OK);
	*n = i;
	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, NULL, NULL, &problems), HX_OK);
	CHECK(problems == 0);
	hx_store_close(&s);
}

/* Runs fsck on dir; checks it reports at least one problem and that some
 * line contains want. */
static void expect_fsck(const char *dir, const char *want, const char *what)
{
	hx_store *s = NULL;
	struct reports r = { "", 0 };
	uint64_t problems = 0;
	char sub[4200];
	snprintf(sub, sizeof sub, "%s/store", dir);
	int rc = hx_store_open(&s, sub, 0);
	CHECK_RC(rc, HX_OK);
	if (rc)
		return;
	CHECK_RC(hx_store_fsck(s, report, &r, &problems), HX_OK);
	CHECK(problems > 0);
	CHECK(r.n == problems);
	if (!strstr(r.text, want)) {
		fprintf(stderr, "fsck after %s: want a line with \"%s\", got:\n%s", what, want,
		        r.text);
		CHECK(!"fsck names the problem");
	}
	hx_store_close(&s);
}

static void test_fsck(void)
{
	ent *e[8];
	size_t n;
	char *dir, hex[2 * HX_ID_LEN + 1];
	uint8_t key[8 + HX_ID_LEN];

	/* a bytime row deleted */
	build(&dir, e, &n);
	hx_be64_put(key, e[1]->e.timestamp);
	memcpy(key + 8, e[1]->e.id, HX_ID_LEN);
	raw_del_first(dir, "bytime", key, sizeof key);
	expect_fsck(dir, hx_hex(hex, e[1]->e.id, HX_ID_LEN), "deleting a bytime row");
	expect_fsck(dir, "time order", "deleting a bytime row");
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);

	/* a version row deleted (the current version of b's f/live; a is
	 * author number 1, b number 2) */
	build(&dir, e, &n);
	raw_del_first(dir, "versions", "f/live\0\2", 8);
	expect_fsck(dir, "f/live", "deleting a version row");
	expect_fsck(dir, "live", "deleting a version row");
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);

	/* an entry's bytes changed (one byte of its title) */
	build(&dir, e, &n);
	uint8_t *bad = malloc(e[0]->len);
	memcpy(bad, e[0]->raw, e[0]->len);
	uint8_t *at = find(bad, e[0]->len, "live v1");
	CHECK(at != NULL);
	if (at)
		at[5] = 'X';
	raw_put_entry(dir, 1, e[0]->e.id, bad, e[0]->len); /* e[0] came first: log row 1 */
	expect_fsck(dir, hx_hex(hex, e[0]->e.id, HX_ID_LEN), "changing an entry's title");
	expect_fsck(dir, hx_strerror(HX_EFORGED), "changing an entry's title");
	/* the signature itself changed */
	memcpy(bad, e[0]->raw, e[0]->len);
	bad[e[0]->len - 1] ^= 1;
	raw_put_entry(dir, 1, e[0]->e.id, bad, e[0]->len);
	expect_fsck(dir, hx_strerror(HX_EFORGED), "changing an entry's signature");
	/* not an entry at all */
	raw_put_entry(dir, 1, e[0]->e.id, "junk", 4);
	expect_fsck(dir, hx_hex(hex, e[0]->e.id, HX_ID_LEN), "replacing an entry with junk");
	/* a valid entry stored under another's id */
	raw_put_entry(dir, 1, e[0]->e.id, e[1]->raw, e[1]->len);
	expect_fsck(dir, "wrong id", "storing an entry under another id");
	free(bad);
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);

	/* an ids row deleted: the tables that refer to the entry are named */
	build(&dir, e, &n);
	raw_del_first(dir, "ids", e[2]->e.id, 8);
	expect_fsck(dir, "missing entry", "deleting an ids row");
	expect_fsck(dir, "missing from ids", "deleting an ids row");
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);

	/* a history row deleted (the first version of a's f/gone) */
	build(&dir, e, &n);
	raw_del_first(dir, "versions", "f/gone\0\1", 8);
	expect_fsck(dir, "history", "deleting a history row");
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);

	/* the live documents miscounted */
	build(&dir, e, &n);
	uint8_t five[8];
	hx_be64_put(five, 5);
	raw_put(dir, "meta", "live", 4, five, sizeof five);
	expect_fsck(dir, "the store counts 5", "miscounting the live documents");
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);

	/* a deleted document's tombstone flagged as listed */
	build(&dir, e, &n);
	uint8_t ver[8 + HX_ID_LEN + 1];
	hx_be64_put(ver, e[3]->e.timestamp);
	memcpy(ver + 8, e[3]->e.id, HX_ID_LEN);
	ver[8 + HX_ID_LEN] = 1;
	raw_put(dir, "versions", "f/gone\0\1", 8, ver, sizeof ver);
	expect_fsck(dir, "3 live, the store counts 2", "listing a deleted document");
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);

	/* a log row deleted */
	build(&dir, e, &n);
	raw_del_first(dir, "log", NULL, 0);
	expect_fsck(dir, "ids: 5 rows for 4 entries", "deleting a log row");
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);

	/* a document of an author number that names nobody */
	build(&dir, e, &n);
	hx_be64_put(ver, e[0]->e.timestamp);
	memcpy(ver + 8, e[0]->e.id, HX_ID_LEN);
	ver[8 + HX_ID_LEN] = 1;
	raw_put(dir, "versions", "f/live\0\x09", 8, ver, sizeof ver);
	expect_fsck(dir, "author number 9", "a version of an unknown author");
	rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		ent_free(&e[i]);
}

/* ---- randomised: the store against a brute-force model ---------------- */

/* Entries of 2 authors x 3 paths with timestamps from a small range (so
 * that equal timestamps happen), some tombstones, in random order with
 * duplicates, over several batches. The model: for each document, the
 * entry with the greatest (timestamp, id) among all stored entries. */
static void test_model(void)
{
	enum { N = 48 };
	static const char *paths[] = { "m/a", "m/b", "m/a/b" };
	const uint8_t *sks[] = { sk_a, sk_b }, *pks[] = { pk_a, pk_b };

	for (int round = 0; round < 12; round++) {
		char *dir;
		hx_store *s = open_new(&dir);
		ent *x[N];
		int order[N];
		for (int i = 0; i < N; i++) {
			char title[32];
			snprintf(title, sizeof title, "r%d-%d", round, i);
			int dead = randombytes_uniform(5) == 0;
			x[i] = mk(sks[randombytes_uniform(2)], paths[randombytes_uniform(3)],
			          1 + randombytes_uniform(6), dead ? HX_KIND_TOMBSTONE : "note",
			          dead ? "" : title);
			order[i] = i;
		}
		/* identical entries (same tombstone twice) are one entry */
		int dup[N] = { 0 }, distinct = 0;
		for (int i = 0; i < N; i++) {
			for (int j = 0; j < i && !dup[i]; j++)
				dup[i] = !memcmp(x[i]->e.id, x[j]->e.id, HX_ID_LEN);
			distinct += !dup[i];
		}
		for (int i = N - 1; i > 0; i--) {
			int j = (int)randombytes_uniform((uint32_t)i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		/* batches of random size; some entries sent twice */
		for (int i = 0; i < N;) {
			hx_put p[16];
			int k = 0, m = 1 + (int)randombytes_uniform(8);
			for (; k < m && i < N; k++, i++) {
				const ent *y = x[order[i]];
				p[k] = (hx_put){ .raw = y->raw, .rawlen = y->len, .entry = &y->e };
				if (randombytes_uniform(4) == 0 && k + 1 < 16) {
					p[k + 1] = p[k];
					k++;
				}
			}
			CHECK_RC(hx_store_put_batch(s, p, (size_t)k, 0, NULL), HX_OK);
		}
		size_t live = 0;
		for (int a = 0; a < 2; a++) {
			for (int q = 0; q < 3; q++) {
				const ent *best = NULL;
				size_t versions = 0;
				for (int i = 0; i < N; i++) {
					const ent *y = x[i];
					if (dup[i] || memcmp(y->e.author, pks[a], HX_KEY_LEN) ||
					    strcmp(y->e.path, paths[q]))
						continue;
					versions++;
					if (!best || y->e.timestamp > best->e.timestamp ||
					    (y->e.timestamp == best->e.timestamp &&
					     memcmp(y->e.id, best->e.id, HX_ID_LEN) > 0))
						best = y;
				}
				hx_entry e;
				int deleted = -1;
				int rc = hx_store_current(s, pks[a], paths[q], &e, &deleted);
				if (!best) {
					CHECK_RC(rc, HX_ENOTFOUND);
					CHECK(deleted == 0);
				} else if (hx_entry_is_tombstone(&best->e)) {
					CHECK_RC(rc, HX_ENOTFOUND);
					CHECK(deleted == 1);
				} else {
					CHECK_RC(rc, HX_OK);
					CHECK(!rc && !memcmp(e.id, best->e.id, HX_ID_LEN));
					live++;
				}
				if (!rc)
					hx_entry_clear(&e);
				struct got g = { 0 };
				CHECK_RC(hx_store_history(s, pks[a], paths[q], collect, &g), HX_OK);
				CHECK(g.n == versions);
				if (best && g.n && g.n <= 64)
					CHECK(!memcmp(g.ids[g.n - 1], best->e.id, HX_ID_LEN));
				uint64_t next;
				CHECK_RC(hx_store_next_timestamp(s, pks[a], paths[q], 0, &next),
				         HX_OK);
				CHECK(next == (best ? best->e.timestamp + 1 : 0));
			}
		}
		struct got g = { 0 };
		CHECK_RC(hx_store_list(s, NULL, collect, &g), HX_OK);
		CHECK(g.n == live);
		hx_store_stats st;
		CHECK_RC(hx_store_stats_get(s, &st), HX_OK);
		CHECK(st.entries == (uint64_t)distinct && st.documents == live &&
		      st.last_seq == (uint64_t)distinct);
		uint64_t problems = 99;
		CHECK_RC(hx_store_fsck(s, NULL, NULL, &problems), HX_OK);
		CHECK(problems == 0);
		for (int i = 0; i < N; i++)
			ent_free(&x[i]);
		hx_store_close(&s);
		rmtree(dir);
		free(dir);
	}
}

/* ---- kv ---------------------------------------------------------------- */

struct kvs {
	char keys[8][32];
	size_t n;
};

static int kv_cb(void *arg, const char *key, const void *val, size_t len)
{
	struct kvs *k = arg;
	(void)val;
	(void)len;
	if (k->n < 8)
		snprintf(k->keys[k->n], 32, "%s", key);
	k->n++;
	return 0;
}

static void test_kv(void)
{
	char *dir;
	hx_store *s = open_new(&dir);
	void *v = NULL;
	size_t len = 0;
	struct kvs k = { 0 };

	CHECK_RC(hx_store_kv_put(s, "peer/one", "1", 1), HX_OK);
	CHECK_RC(hx_store_kv_put(s, "peer/two", "22", 2), HX_OK);
	CHECK_RC(hx_store_kv_put(s, "peers", "x", 1), HX_OK);
	CHECK_RC(hx_store_kv_put(s, "stat/a", "", 0), HX_OK);
	CHECK_RC(hx_store_kv_get(s, "peer/two", &v, &len), HX_OK);
	CHECK(len == 2 && v && !strcmp(v, "22"));
	free(v);
	CHECK_RC(hx_store_kv_list(s, "peer/", kv_cb, &k), HX_OK);
	CHECK(k.n == 2 && !strcmp(k.keys[0], "peer/one") && !strcmp(k.keys[1], "peer/two"));
	CHECK_RC(hx_store_kv_del(s, "peer/one"), HX_OK);
	CHECK_RC(hx_store_kv_get(s, "peer/one", &v, &len), HX_ENOTFOUND);
	CHECK_RC(hx_store_kv_del(s, "peer/one"), HX_ENOTFOUND);
	CHECK_RC(hx_store_kv_put(s, "", "x", 1), HX_EINVAL);
	hx_store_close(&s);
	rmtree(dir);
	free(dir);
}

/* Appending postings to a stored block without decoding it gives the same
 * bytes as encoding the whole block at once (so the format is unchanged),
 * for every split point, with tfs that need the varint escapes. */
static void test_block_append(void)
{
	hx_posting all[HX_IX_BLOCK];
	uint32_t x = 12345, doc = 70000;
	for (int i = 0; i < HX_IX_BLOCK; i++) {
		x = x * 1103515245u + 12345u;
		doc += 1 + (x >> 8) % (i % 7 == 0 ? 100000 : 50);
		all[i].doc = doc;
		all[i].tf[HX_F_TITLE] = (x >> 4) % 5;
		all[i].tf[HX_F_TAGS] = (x >> 12) % 4;
		all[i].tf[HX_F_BODY] = 1 + (x >> 16) % (i % 5 == 0 ? 400 : 20);
	}
	int bad = 0;
	for (int n = 1; n <= HX_IX_BLOCK; n++) {
		for (int k = 1; k < n; k++) {
			uint8_t whole[HX_IX_BLOCK_MAXBYTES], part[HX_IX_BLOCK_MAXBYTES];
			hx_posting back[HX_IX_BLOCK];
			int got;
			size_t wl = hx_ix_block_encode(whole, all, n, (float)(n % 3 ? k : n));
			size_t pl = hx_ix_block_encode(part, all, k, (float)k);
			pl = hx_ix_block_append(part, pl, all + k, n - k, (float)(n % 3 ? 1 : n));
			if (pl != wl || memcmp(part, whole, wl) ||
			    hx_ix_block_decode(part, pl, all[0].doc, back, &got) || got != n ||
			    memcmp(back, all, (size_t)n * sizeof *back))
				bad++;
		}
	}
	CHECK(bad == 0);
}

/* A posting block with every byte changed in turn, and cut at every
 * length, decodes or is refused as corrupt, never read out of bounds
 * (the sanitizer build says so); the tfs of attachments (files) round-
 * trip too. */
static void test_block_corrupt(void)
{
	hx_posting p[40], back[HX_IX_BLOCK];
	uint8_t b[HX_IX_BLOCK_MAXBYTES], m[HX_IX_BLOCK_MAXBYTES];
	int got, ok = 0, refused = 0;
	for (int i = 0; i < 40; i++) {
		p[i].doc = 1000 + (uint32_t)(i * i * 37);
		p[i].tf[HX_F_TITLE] = (uint32_t)(i % 6);
		p[i].tf[HX_F_TAGS] = (uint32_t)(i % 4);
		p[i].tf[HX_F_BODY] = 1 + (uint32_t)(i * 13 % 300);
		p[i].tf[HX_F_FILES] = (uint32_t)(i % 3 ? 0 : 200 + i);
	}
	size_t len = hx_ix_block_encode(b, p, 40, 1.5f);
	CHECK(!hx_ix_block_decode(b, len, p[0].doc, back, &got) && got == 40 &&
	      !memcmp(back, p, sizeof p));
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(m, b, len);
			m[i] ^= (uint8_t)(1u << bit);
			if (hx_ix_block_decode(m, len, p[0].doc, back, &got) == HX_OK)
				ok += got >= 1 && got <= HX_IX_BLOCK;
			else
				refused++;
		}
	for (size_t l = 0; l < len; l++)
		CHECK(hx_ix_block_decode(b, l, p[0].doc, back, &got) == HX_ECORRUPT);
	CHECK(refused > 0 && ok + refused == (int)len * 8);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	uint8_t seed[32];
	memset(seed, 0xa1, sizeof seed);
	crypto_sign_seed_keypair(pk_a, sk_a, seed);
	memset(seed, 0xb2, sizeof seed);
	crypto_sign_seed_keypair(pk_b, sk_b, seed);

	test_versions();
	test_tombstones();
	test_system();
	test_next_timestamp();
	test_batches();
	test_open();
	test_fsck();
	test_model();
	test_kv();
	test_block_append();
	test_block_corrupt();
	return check_done();
}
