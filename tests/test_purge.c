/*
 * test_purge.c: purge records in the store (docs/FORMAT.md §1.8.4): only the
 * author's record is accepted (another partner's is refused with its
 * reason), a purged version leaves a stub (not readable, still in the
 * reconciliation items, refused when it arrives again), the document falls
 * back to its newest version left or goes, a purge of a version the node
 * does not hold yet makes a stub that keeps it out, a stub made by someone
 * else's record gives way to the real entry, and fsck accepts all of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/purge.h"
#include "store/store.h"
#include "tests/check.h"
#include "tests/rmtree.h"

static uint8_t sk_a[HX_SECRET_LEN], pk_a[HX_KEY_LEN];
static uint8_t sk_b[HX_SECRET_LEN], pk_b[HX_KEY_LEN];

typedef struct ent {
	hx_entry e;
	uint8_t *raw;
	size_t len;
	char path[80], body[4096];
	hx_meta meta;
} ent;

static ent *mk(const uint8_t *sk, const char *path, uint64_t ts, const char *body)
{
	ent *x = calloc(1, sizeof *x);
	if (!x)
		abort();
	snprintf(x->path, sizeof x->path, "%s", path);
	snprintf(x->body, sizeof x->body, "%s", body);
	x->e = (hx_entry){ .path = x->path,
		           .timestamp = ts,
		           .kind = "note",
		           .title = "T",
		           .body = x->body,
		           .lang = "en" };
	if (hx_entry_sign(&x->e, sk, &x->raw, &x->len))
		abort();
	return x;
}

/* A purge record signed with sk for doc, listing the given entries. */
static ent *mk_purge(const uint8_t *sk, const char *doc, uint64_t ts, ent **v, size_t n)
{
	hx_purge_ver pv[8];
	char hex[2 * HX_ID_LEN + 1];
	ent *x = calloc(1, sizeof *x);
	if (!x || n > 8)
		abort();
	for (size_t i = 0; i < n; i++) {
		memcpy(pv[i].id, v[i]->e.id, HX_ID_LEN);
		pv[i].timestamp = v[i]->e.timestamp;
	}
	char *b = hx_purge_body(pv, n);
	snprintf(x->body, sizeof x->body, "%s", b);
	free(b);
	snprintf(x->path, sizeof x->path, "%s%s", HX_PURGE_PREFIX,
	         hx_hex(hex, pv[0].id, HX_ID_LEN));
	x->meta = (hx_meta){ "path", (char *)doc };
	x->e = (hx_entry){ .path = x->path,
		           .timestamp = ts,
		           .kind = HX_KIND_PURGE,
		           .title = "",
		           .body = x->body,
		           .lang = "und",
		           .meta = &x->meta,
		           .nmeta = 1 };
	if (hx_entry_sign(&x->e, sk, &x->raw, &x->len))
		abort();
	return x;
}

static int put1(hx_store *s, const ent *x, const char **why)
{
	hx_put p = { .raw = x->raw, .rawlen = x->len, .entry = &x->e };
	int rc = hx_store_put_batch(s, &p, 1, 0, NULL);
	if (why)
		*why = p.why;
	return rc ? rc : p.result;
}

static int count_cb(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	(void)e;
	(void)raw;
	(void)len;
	++*(size_t *)arg;
	return 0;
}

static int item_cb(void *arg, uint64_t ts, const uint8_t id[HX_ID_LEN])
{
	const uint8_t *want = arg;
	(void)ts;
	return !memcmp(id, want, HX_ID_LEN) ? 7 : 0;
}

static size_t history(hx_store *s, const uint8_t *author, const char *path)
{
	size_t n = 0;
	CHECK_RC(hx_store_history(s, author, path, count_cb, &n), HX_OK);
	return n;
}

static void fsck_clean(hx_store *s)
{
	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, NULL, NULL, &problems), HX_OK);
	CHECK(problems == 0);
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

	char t[] = "/tmp/hx-test-purge.XXXXXX", dir[256];
	if (!mkdtemp(t))
		return 1;
	snprintf(dir, sizeof dir, "%s/store", t);
	hx_store *s;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);

	ent *v1 = mk(sk_a, "people/x", 100, "Call Zanzibar-7731 telephone.");
	ent *v2 = mk(sk_a, "people/x", 200, "Corrected.");
	ent *y = mk(sk_a, "people/y", 150, "Only version.");
	CHECK_RC(put1(s, v1, NULL), HX_OK);
	CHECK_RC(put1(s, v2, NULL), HX_OK);
	CHECK_RC(put1(s, y, NULL), HX_OK);

	/* another partner's purge of A's version: refused, with its reason */
	const char *why = NULL;
	ent *bad = mk_purge(sk_b, "people/x", 300, &v1, 1);
	CHECK_RC(put1(s, bad, &why), HX_EPERM);
	CHECK(why && strstr(why, "only the author may purge"));
	CHECK_RC(hx_store_get(s, v1->e.id, NULL, NULL, NULL), HX_OK);
	/* malformed: wrong path for its first version */
	ent *odd = mk_purge(sk_a, "people/x", 300, &v1, 1);
	snprintf(odd->path, sizeof odd->path, "%s", HX_PURGE_PREFIX "elsewhere");
	free(odd->raw);
	if (hx_entry_sign(&odd->e, sk_a, &odd->raw, &odd->len))
		abort();
	CHECK_RC(put1(s, odd, &why), HX_EINVAL);
	CHECK(why && strstr(why, "path"));
	/* a listed version of another document */
	ent *wrongdoc = mk_purge(sk_a, "people/z", 300, &v1, 1);
	CHECK_RC(put1(s, wrongdoc, &why), HX_EPERM);

	/* the author purges v1: gone, v2 stays current */
	ent *p1 = mk_purge(sk_a, "people/x", 300, &v1, 1);
	CHECK_RC(put1(s, p1, NULL), HX_OK);
	CHECK_RC(hx_store_get(s, v1->e.id, NULL, NULL, NULL), HX_ENOTFOUND);
	hx_purged st;
	CHECK_RC(hx_store_purged(s, v1->e.id, &st), HX_OK);
	CHECK(st.timestamp == 100 && !memcmp(st.author, pk_a, HX_KEY_LEN) &&
	      !strcmp(st.path, "people/x") && !memcmp(st.purge, p1->e.id, HX_ID_LEN));
	CHECK(history(s, pk_a, "people/x") == 1);
	hx_entry cur;
	CHECK_RC(hx_store_current(s, pk_a, "people/x", &cur, NULL), HX_OK);
	CHECK(!memcmp(cur.id, v2->e.id, HX_ID_LEN));
	hx_entry_clear(&cur);
	CHECK_RC(hx_store_items(s, item_cb, v1->e.id), 7); /* still reconciled */
	CHECK_RC(put1(s, v1, NULL), HX_EEXIST);            /* refused when it comes back */
	CHECK_RC(put1(s, p1, NULL), HX_EEXIST);
	fsck_clean(s);

	/* purging the current and only version: the document goes */
	ent *p2 = mk_purge(sk_a, "people/y", 301, &y, 1);
	CHECK_RC(put1(s, p2, NULL), HX_OK);
	CHECK_RC(hx_store_current(s, pk_a, "people/y", &cur, NULL), HX_ENOTFOUND);
	size_t listed = 0;
	CHECK_RC(hx_store_list(s, NULL, count_cb, &listed), HX_OK);
	CHECK(listed == 1); /* people/x only */
	fsck_clean(s);

	/* a purge of a version this node never had: a stub keeps it out */
	ent *w = mk(sk_a, "people/w", 400, "Never seen here.");
	ent *p3 = mk_purge(sk_a, "people/w", 401, &w, 1);
	CHECK_RC(put1(s, p3, NULL), HX_OK);
	CHECK_RC(hx_store_items(s, item_cb, w->e.id), 7);
	CHECK_RC(put1(s, w, NULL), HX_EEXIST);
	CHECK(history(s, pk_a, "people/w") == 0);
	fsck_clean(s);

	/* B lists A's version that this node lacks (it cannot check then):
	 * when A's entry arrives, the stub gives way and it is stored */
	ent *u = mk(sk_a, "people/u", 500, "A's, not B's.");
	ent *pb = mk_purge(sk_b, "people/u", 501, &u, 1);
	CHECK_RC(put1(s, pb, NULL), HX_OK);
	CHECK_RC(put1(s, u, NULL), HX_OK);
	CHECK_RC(hx_store_purged(s, u->e.id, &st), HX_ENOTFOUND);
	CHECK(history(s, pk_a, "people/u") == 1);
	fsck_clean(s);

	/* reopened: all of it is still so */
	hx_store_close(&s);
	CHECK_RC(hx_store_open(&s, dir, 0), HX_OK);
	CHECK_RC(hx_store_get(s, v1->e.id, NULL, NULL, NULL), HX_ENOTFOUND);
	fsck_clean(s);
	hx_store_close(&s);

	ent *all[] = { v1, v2, y, bad, odd, wrongdoc, p1, p2, w, p3, u, pb };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		free(all[i]->raw);
		free(all[i]);
	}
	rmtree(t);
	return check_done();
}
