/*
 * test_org.c: devices, revocation and rotation (proto/device.h,
 * store/org.h, docs/FORMAT.md §1.8): the record checks field by field, the
 * printable codes (every one-character change is caught), and the store's
 * rules: a device's entry before its record is refused and accepted once
 * the record is there; only the organisation or an admin device certifies;
 * a revocation refuses later entries and hides those already stored
 * (fsck stays clean); the earliest revocation stands; a rotation retires
 * the old key and its successor signs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/device.h"
#include "store/org.h"
#include "tests/check.h"
#include "tests/rmtree.h"

static uint8_t org_sk[64], org_pk[32], d1_sk[64], d1_pk[32], d2_sk[64], d2_pk[32];
static uint8_t nk_sk[64], nk_pk[32]; /* the successor after a rotation */

typedef struct rec {
	hx_entry e;
	hx_meta meta[4];
	char path[HX_PATH_MAX + 1], thex[65], rev[24], title[64];
	uint8_t *raw;
	size_t len;
} rec;

/* Signs r->e with sk for org (sk == org_sk: by the organisation itself). */
static void sign(rec *r, const uint8_t *sk)
{
	int rc = sk == org_sk ? hx_entry_sign(&r->e, sk, &r->raw, &r->len)
	                      : hx_entry_sign_for(&r->e, org_pk, sk, &r->raw, &r->len);
	if (rc)
		abort();
}

static rec *device_rec(const uint8_t *dev, const char *name, int admin, uint64_t revoked,
                       uint64_t ts, const uint8_t *sk)
{
	rec *r = calloc(1, sizeof *r);
	size_t n = 0;
	uint8_t t[32];
	if (!r)
		abort();
	memset(t, 0x42, sizeof t);
	r->meta[n++] = (hx_meta){ "name", (char *)name };
	r->meta[n++] = (hx_meta){ "admin", admin ? "1" : "0" };
	r->meta[n++] = (hx_meta){ "transport", hx_hex(r->thex, t, 32) };
	if (revoked != HX_NEVER) {
		snprintf(r->rev, sizeof r->rev, "%llu", (unsigned long long)revoked);
		r->meta[n++] = (hx_meta){ "revoked", r->rev };
	}
	r->e = (hx_entry){ .path = hx_device_path(r->path, dev),
		           .timestamp = ts,
		           .kind = HX_KIND_DEVICE,
		           .title = (char *)name,
		           .body = "",
		           .lang = "und",
		           .meta = r->meta,
		           .nmeta = n };
	sign(r, sk);
	return r;
}

static rec *doc(const char *path, const char *title, uint64_t ts, const uint8_t *sk)
{
	rec *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	snprintf(r->path, sizeof r->path, "%s", path);
	snprintf(r->title, sizeof r->title, "%s", title);
	r->e = (hx_entry){ .path = r->path,
		           .timestamp = ts,
		           .kind = "practice",
		           .title = r->title,
		           .body = "body",
		           .lang = "en" };
	sign(r, sk);
	return r;
}

static rec *rotation(const uint8_t *successor, uint64_t ts, const uint8_t *sk)
{
	rec *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	r->meta[0] = (hx_meta){ "successor", hx_hex(r->thex, successor, 32) };
	r->e = (hx_entry){ .path = HX_ORGKEY_PATH,
		           .timestamp = ts,
		           .kind = HX_KIND_ROTATE,
		           .title = "rotation",
		           .body = "",
		           .lang = "und",
		           .meta = r->meta,
		           .nmeta = 1 };
	sign(r, sk);
	return r;
}

/* Stores r (freed) and returns its put result. */
static int put(hx_store *s, rec *r)
{
	hx_entry e;
	if (hx_entry_decode(&e, r->raw, r->len))
		abort();
	hx_put p = { .raw = r->raw, .rawlen = r->len, .entry = &e };
	int rc = hx_store_put_batch(s, &p, 1, 0, NULL);
	hx_entry_clear(&e);
	free(r->raw);
	free(r);
	return rc ? rc : p.result;
}

static uint64_t fsck_problems(hx_store *s)
{
	uint64_t n = 99;
	if (hx_store_fsck(s, NULL, NULL, &n))
		return 99;
	return n;
}

static const char *title_of(hx_store *s, const char *path)
{
	static char t[64];
	hx_entry e;
	if (hx_store_current(s, org_pk, path, &e, NULL))
		return "";
	snprintf(t, sizeof t, "%s", e.title);
	hx_entry_clear(&e);
	return t;
}

static void test_parse(void)
{
	hx_device_rec d;
	const char *why = NULL;
	rec *r = device_rec(d1_pk, "Anna", 1, 77, 1000, org_sk);
	CHECK_RC(hx_device_rec_parse(&r->e, &d, &why), HX_OK);
	CHECK(d.admin && d.revoked == 77 && !strcmp(d.name, "Anna") && d.has_transport);
	CHECK(!memcmp(d.device, d1_pk, 32));
	CHECK(hx_org_record_type(&r->e) == 1);
	/* each field broken in turn */
	struct {
		const char *key, *value;
	} bad[] = {
		{ "admin", "2" },      { "admin", "yes" }, { "revoked", "01" },
		{ "revoked", "abc" },  { "revoked", "" },  { "revoked", "99999999999999999999" },
		{ "transport", "00" }, { "name", "" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		hx_meta m[4];
		memcpy(m, r->meta, sizeof m);
		size_t n = r->e.nmeta, j;
		for (j = 0; j < n && strcmp(m[j].key, bad[i].key); j++)
			;
		if (j == n)
			n++;
		m[j] = (hx_meta){ (char *)bad[i].key, (char *)bad[i].value };
		hx_entry e = r->e;
		e.meta = m;
		e.nmeta = n;
		why = NULL;
		CHECK_RC(hx_device_rec_parse(&e, &d, &why), HX_ERECORD);
		CHECK(why != NULL);
	}
	char upper[65];
	hx_hex(upper, d1_pk, 32);
	for (char *c = upper; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	hx_entry e = r->e;
	char p2[100];
	snprintf(p2, sizeof p2, "%s%s", HX_DEVICE_PREFIX, upper);
	e.path = p2;
	CHECK_RC(hx_device_rec_parse(&e, &d, NULL), HX_ERECORD); /* one spelling of a key */
	e = r->e;
	e.kind = "note";
	CHECK_RC(hx_device_rec_parse(&e, &d, NULL), HX_ERECORD);
	CHECK(hx_org_record_type(&e) == 1); /* still judged by its path */
	hx_device_path(p2, org_pk);
	e = r->e;
	e.path = p2;
	CHECK_RC(hx_device_rec_parse(&e, &d, NULL), HX_ERECORD); /* the org is no device */
	free(r->raw);
	free(r);

	uint8_t next[32];
	r = rotation(nk_pk, 1000, org_sk);
	CHECK_RC(hx_rotate_rec_parse(&r->e, next, NULL), HX_OK);
	CHECK(!memcmp(next, nk_pk, 32) && hx_org_record_type(&r->e) == 2);
	hx_meta m = { "successor", r->thex };
	hx_hex(r->thex, org_pk, 32);
	e = r->e;
	e.meta = &m;
	CHECK_RC(hx_rotate_rec_parse(&e, next, NULL), HX_ERECORD); /* itself */
	e.nmeta = 0;
	CHECK_RC(hx_rotate_rec_parse(&e, next, NULL), HX_ERECORD);
	free(r->raw);
	free(r);
}

static void test_codes(void)
{
	uint8_t p[96], back[96];
	size_t n, bad;
	char *code;
	for (size_t i = 0; i < sizeof p; i++)
		p[i] = (uint8_t)(i * 37 + 11);
	CHECK_RC(hx_code_encode("hxorg1-", p, sizeof p, &code), HX_OK);
	CHECK_RC(hx_code_decode("hxorg1-", code, back, sizeof back, &n, &bad), HX_OK);
	CHECK(n == sizeof p && !memcmp(p, back, n));
	/* lower case and spaces are fine */
	char *lower = strdup(code);
	for (char *c = lower + 7; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
		else if (*c == '-')
			*c = ' ';
	CHECK_RC(hx_code_decode("hxorg1-", lower, back, sizeof back, &n, &bad), HX_OK);
	free(lower);
	/* every one-character change is caught */
	int caught = 0, tried = 0;
	for (size_t i = 7; code[i]; i++) {
		if (code[i] == '-')
			continue;
		char saved = code[i];
		code[i] = saved == 'A' ? 'B' : 'A';
		tried++;
		int rc = hx_code_decode("hxorg1-", code, back, sizeof back, &n, &bad);
		caught += rc == HX_ECRYPTO || rc == HX_EINVAL;
		code[i] = saved;
	}
	CHECK(tried > 100 && caught == tried);
	/* a character outside the alphabet: where it is */
	code[10] = '1';
	CHECK_RC(hx_code_decode("hxorg1-", code, back, sizeof back, &n, &bad), HX_EINVAL);
	CHECK(bad == 10);
	CHECK_RC(hx_code_decode("hxdev1-", code, back, sizeof back, &n, &bad), HX_EINVAL);
	CHECK(bad == 0);
	CHECK_RC(hx_code_decode("hxorg1-", "hxorg1-", back, sizeof back, &n, &bad), HX_ECRYPTO);
	free(code);
}

static void test_store(const char *dir)
{
	hx_store *s;
	hx_device d;
	rmtree(dir);
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	if (!s)
		return;
	/* the organisation's own entry; a device's entry before its record */
	CHECK_RC(put(s, doc("practices/a", "v1 by org", 1000, org_sk)), HX_OK);
	rec *early = doc("practices/a", "v2 by Anna", 2000, d1_sk);
	uint8_t *raw = malloc(early->len);
	size_t len = early->len;
	memcpy(raw, early->raw, len);
	CHECK_RC(put(s, early), HX_EDEVICE);
	/* a device record signed by a device that is not an admin: refused */
	CHECK_RC(put(s, device_rec(d2_pk, "Ben", 0, HX_NEVER, 1500, d1_sk)), HX_EDEVICE);
	CHECK_RC(put(s, device_rec(d1_pk, "Anna", 0, HX_NEVER, 1100, org_sk)), HX_OK);
	CHECK_RC(put(s, device_rec(d2_pk, "Ben", 0, HX_NEVER, 1500, d1_sk)), HX_ERECORD);
	/* the refused entry, offered again now that its record is here */
	rec *again = calloc(1, sizeof *again);
	again->raw = raw;
	again->len = len;
	hx_entry e;
	CHECK_RC(hx_entry_decode(&again->e, raw, len), HX_OK);
	hx_put p = { .raw = raw, .rawlen = len, .entry = &again->e };
	CHECK_RC(hx_store_put_batch(s, &p, 1, 0, NULL), HX_OK);
	CHECK_RC(p.result, HX_OK);
	hx_entry_clear(&again->e);
	free(raw);
	free(again);
	CHECK(!strcmp(title_of(s, "practices/a"), "v2 by Anna"));
	/* an admin device certifies another */
	CHECK_RC(put(s, device_rec(d1_pk, "Anna", 1, HX_NEVER, 2100, org_sk)), HX_OK);
	CHECK_RC(put(s, device_rec(d2_pk, "Ben", 0, HX_NEVER, 2200, d1_sk)), HX_OK);
	CHECK_RC(hx_store_device_get(s, org_pk, d2_pk, &d), HX_OK);
	CHECK(!strcmp(d.name, "Ben") && !memcmp(d.certified_by, d1_pk, 32) && d.since == 2200);
	char who[100];
	CHECK_RC(hx_store_current(s, org_pk, "practices/a", &e, NULL), HX_OK);
	hx_store_signer_name(s, &e, who, sizeof who);
	CHECK(!strcmp(who, "Anna"));
	hx_entry_clear(&e);

	/* Ben's entries at 3000 and 4000; revoked from 3500 */
	CHECK_RC(put(s, doc("practices/a", "v3 by Ben", 3000, d2_sk)), HX_OK);
	CHECK_RC(put(s, doc("practices/a", "v4 by Ben", 4000, d2_sk)), HX_OK);
	CHECK_RC(put(s, doc("notes/ben", "Ben's own", 4100, d2_sk)), HX_OK);
	hx_store_stats st0, st1;
	CHECK_RC(hx_store_stats_get(s, &st0), HX_OK);
	CHECK(!strcmp(title_of(s, "practices/a"), "v4 by Ben"));
	CHECK_RC(put(s, device_rec(d2_pk, "Ben", 0, 3500, 5000, org_sk)), HX_OK);
	CHECK(!strcmp(title_of(s, "practices/a"), "v3 by Ben")); /* falls back */
	CHECK(!*title_of(s, "notes/ben"));                       /* no version left */
	CHECK_RC(hx_store_stats_get(s, &st1), HX_OK);
	CHECK(st1.entries == st0.entries - 2 + 1);
	CHECK(fsck_problems(s) == 0);
	CHECK_RC(put(s, doc("practices/a", "v5 by Ben", 6000, d2_sk)), HX_EREVOKED);
	CHECK_RC(put(s, doc("practices/a", "v2b by Ben", 3400, d2_sk)), HX_OK); /* backdated */
	/* a later record cannot lift it, and an earlier time wins */
	CHECK_RC(put(s, device_rec(d2_pk, "Ben", 0, HX_NEVER, 7000, d1_sk)), HX_OK);
	CHECK_RC(put(s, doc("practices/a", "v6 by Ben", 7100, d2_sk)), HX_EREVOKED);
	CHECK_RC(put(s, device_rec(d2_pk, "Ben", 0, 2300, 7200, d1_sk)), HX_OK);
	CHECK_RC(hx_store_device_get(s, org_pk, d2_pk, &d), HX_OK);
	CHECK(d.revoked == 2300);
	CHECK(!strcmp(title_of(s, "practices/a"), "v2 by Anna")); /* from-first */
	CHECK(fsck_problems(s) == 0);

	/* rotation: the organisation key hands over to nk at 8000 */
	CHECK_RC(put(s, rotation(nk_pk, 8000, d1_sk)), HX_ERECORD); /* not a device's */
	CHECK_RC(put(s, rotation(nk_pk, 8000, org_sk)), HX_OK);
	uint8_t k[32];
	CHECK_RC(hx_store_signing_key(s, org_pk, 8001, k), HX_OK);
	CHECK(!memcmp(k, nk_pk, 32));
	CHECK_RC(hx_store_signing_key(s, org_pk, 8000, k), HX_OK);
	CHECK(!memcmp(k, org_pk, 32));
	CHECK_RC(put(s, doc("practices/a", "v7 by old key", 9000, org_sk)), HX_EREVOKED);
	CHECK_RC(put(s, rotation(d2_pk, 9100, org_sk)), HX_EREVOKED);
	CHECK_RC(put(s, doc("practices/a", "v7 by new key", 9000, nk_sk)), HX_OK);
	CHECK(!strcmp(title_of(s, "practices/a"), "v7 by new key"));
	CHECK_RC(put(s, device_rec(d1_pk, "Anna", 1, HX_NEVER, 9200, nk_sk)), HX_OK);
	CHECK_RC(put(s, doc("practices/a", "v8 by Anna", 9300, d1_sk)), HX_OK);
	/* the rotation arriving late hides the old key's entries after it */
	CHECK(fsck_problems(s) == 0);
	hx_store_close(&s);

	rmtree(dir);
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	CHECK_RC(put(s, doc("practices/b", "b1", 1000, org_sk)), HX_OK);
	CHECK_RC(put(s, doc("practices/b", "b2", 3000, org_sk)), HX_OK);
	CHECK_RC(put(s, rotation(nk_pk, 2000, org_sk)), HX_OK);
	CHECK(!strcmp(title_of(s, "practices/b"), "b1"));
	CHECK(fsck_problems(s) == 0);
	/* the device's transport key lets its node in only while it is not
	 * revoked, and only when its organisation is a member */
	uint8_t t[32], o[32], dv[32];
	memset(t, 0x42, sizeof t);
	CHECK_RC(put(s, device_rec(d1_pk, "Anna", 0, 5000, 4000, nk_sk)), HX_OK);
	CHECK_RC(hx_store_device_by_transport(s, t, 4500, o, dv), HX_ENOTFOUND);
	CHECK_RC(hx_store_member_put(s, org_pk, (const uint8_t *)"x", 1), HX_OK);
	CHECK_RC(hx_store_device_by_transport(s, t, 4500, o, dv), HX_OK);
	CHECK(!memcmp(o, org_pk, 32) && !memcmp(dv, d1_pk, 32));
	CHECK_RC(hx_store_device_by_transport(s, t, 5000, o, dv), HX_ENOTFOUND);
	hx_store_close(&s);
	rmtree(dir);
}

int main(void)
{
	char dir[] = "/tmp/hx-test-org.XXXXXX";
	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	crypto_sign_keypair(org_pk, org_sk);
	crypto_sign_keypair(d1_pk, d1_sk);
	crypto_sign_keypair(d2_pk, d2_sk);
	crypto_sign_keypair(nk_pk, nk_sk);
	test_parse();
	test_codes();
	char sub[64];
	snprintf(sub, sizeof sub, "%s/s", dir);
	test_store(sub);
	rmdir(dir);
	return check_done();
}
