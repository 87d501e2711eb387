/*
 * test_entry.c: the entry codec: round trips, the test vectors of
 * docs/FORMAT.md (tests/vectors/entries.txt), every non-canonical and
 * over-limit form rejected, and tamper detection on every byte.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/cbor.h"
#include "proto/entry.h"
#include "tests/check.h"

static uint8_t sk[64], pk[32];

static void keys(void)
{
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(pk, sk, seed);
}

static char *tags3[] = { "innovation", "smes", "brokerage" };
static hx_meta meta2[] = { { "org", "Region Zealand" }, { "country", "DK" } };

static hx_entry sample(void)
{
	hx_entry e = {
		.path = "practices/innovation-brokerage",
		.timestamp = 1767225600000000ull,
		.kind = "practice",
		.title = "Innovation brokerage for SMEs",
		.body = "Brokers match SMEs in Białystok with research partners.",
		.tags = tags3,
		.ntags = 3,
		.lang = "en",
		.meta = meta2,
		.nmeta = 2,
	};
	return e;
}

static void expect_sign_rc(hx_entry *e, int want)
{
	uint8_t *raw = NULL;
	size_t len;
	CHECK_RC(hx_entry_sign(e, sk, &raw, &len), want);
	free(raw);
}

static void test_round_trip(void)
{
	hx_entry e = sample(), d;
	uint8_t *raw;
	size_t len;

	CHECK_RC(hx_entry_sign(&e, sk, &raw, &len), HX_OK);
	CHECK(!memcmp(e.author, pk, 32));
	CHECK_RC(hx_entry_open(&d, raw, len), HX_OK);
	CHECK(!memcmp(d.id, e.id, 32));
	CHECK(!strcmp(d.path, e.path) && !strcmp(d.title, e.title) && !strcmp(d.body, e.body));
	CHECK(d.timestamp == e.timestamp && d.ntags == 3 && d.nmeta == 2);
	CHECK(!strcmp(d.tags[2], "brokerage"));
	/* metadata comes back in canonical order: shorter keys first */
	CHECK(!strcmp(d.meta[0].key, "org") && !strcmp(d.meta[1].key, "country"));
	CHECK(!strcmp(hx_entry_meta(&d, "country"), "DK"));
	hx_entry_clear(&d);
	free(raw);
}

/* Builds signed bytes around a hand-made field map, so that only the
 * map's own canonicality is under test. */
static uint8_t *wrap(hx_buf *fields, size_t *len)
{
	uint8_t id[32], sig[64];
	hx_buf b = { 0 };
	crypto_generichash(id, 32, fields->data, fields->len, NULL, 0);
	crypto_sign_ed25519_detached(sig, NULL, id, 32, sk);
	hx_buf_put(&b, "\x82", 1);
	hx_buf_put(&b, fields->data, fields->len);
	hx_cbor_bytes(&b, sig, 64);
	free(fields->data);
	*len = b.len;
	return b.data;
}

enum mutation {
	M_NONE,
	M_LONG_TS,
	M_INDEF_MAP,
	M_UNSORTED_META,
	M_DUP_META,
	M_EXTRA_KEY,
	M_VERSION3,
	M_V2_BARE,
	M_V1_SIGNER,
	M_SIGNER_IS_AUTHOR,
	M_EMPTY_ATTACH,
	M_ATTACH_SLASH,
	M_ATTACH_OK,
	M_ATTACH_BEFORE_SIGNER,
	M_BAD_UTF8,
	M_SHORT_AUTHOR,
	M_KEY_ORDER,
	M_OVERLONG_UTF8,
	M_SURROGATE,
	M_NUL,
	M_BAD_PATH,
	M_LONG_LEN,
};

static uint64_t npairs(enum mutation m)
{
	switch (m) {
	case M_EXTRA_KEY:
	case M_V1_SIGNER:
	case M_SIGNER_IS_AUTHOR:
	case M_EMPTY_ATTACH:
	case M_ATTACH_SLASH:
	case M_ATTACH_OK: return 11;
	case M_ATTACH_BEFORE_SIGNER: return 12;
	default: return 10;
	}
}

static void put_attach(hx_buf *b, const char *name)
{
	static const uint8_t hash[32] = { 7 };
	hx_cbor_uint(b, 11);
	hx_cbor_head(b, HX_CBOR_ARRAY, 1);
	hx_cbor_head(b, HX_CBOR_MAP, 4);
	hx_cbor_uint(b, 0);
	hx_cbor_text(b, name, strlen(name));
	hx_cbor_uint(b, 1);
	hx_cbor_uint(b, 1000);
	hx_cbor_uint(b, 2);
	hx_cbor_text(b, "application/pdf", 15);
	hx_cbor_uint(b, 3);
	hx_cbor_bytes(b, hash, 32);
}

/* Format 2's optional keys after the ten fields. */
static void build_v2(hx_buf *b, enum mutation m)
{
	static const uint8_t other[32] = { 1, 2, 3 };
	switch (m) {
	case M_V1_SIGNER:
		hx_cbor_uint(b, 10);
		hx_cbor_bytes(b, other, 32);
		break;
	case M_SIGNER_IS_AUTHOR:
		hx_cbor_uint(b, 10);
		hx_cbor_bytes(b, pk, 32);
		break;
	case M_EMPTY_ATTACH:
		hx_cbor_uint(b, 11);
		hx_cbor_head(b, HX_CBOR_ARRAY, 0);
		break;
	case M_ATTACH_SLASH: put_attach(b, "../toolkit.pdf"); break;
	case M_ATTACH_OK: put_attach(b, "toolkit.pdf"); break;
	case M_ATTACH_BEFORE_SIGNER:
		put_attach(b, "toolkit.pdf");
		hx_cbor_uint(b, 10);
		hx_cbor_bytes(b, other, 32);
		break;
	default: break;
	}
}

static uint8_t *build(enum mutation m, size_t *len)
{
	hx_buf b = { 0 };
	if (m == M_INDEF_MAP)
		hx_buf_put(&b, "\xbf", 1);
	else
		hx_cbor_head(&b, HX_CBOR_MAP, npairs(m));
	hx_cbor_uint(&b, 0);
	hx_cbor_uint(&b, m == M_VERSION3                                                     ? 3
	                 : m >= M_V2_BARE && m <= M_ATTACH_BEFORE_SIGNER && m != M_V1_SIGNER ? 2
	                                                                                     : 1);
	hx_cbor_uint(&b, 1);
	hx_cbor_bytes(&b, pk, m == M_SHORT_AUTHOR ? 31 : 32);
	if (m == M_KEY_ORDER) {
		hx_cbor_uint(&b, 3);
		hx_cbor_uint(&b, 5);
		hx_cbor_uint(&b, 2);
		hx_cbor_text(&b, "a/b", 3);
	} else {
		hx_cbor_uint(&b, 2);
		if (m == M_BAD_PATH)
			hx_cbor_text(&b, "A/../b", 6);
		else
			hx_cbor_text(&b, "a/b", 3);
		hx_cbor_uint(&b, 3);
		if (m == M_LONG_TS)
			hx_buf_put(&b, "\x1b\x00\x00\x00\x00\x00\x00\x00\x05", 9);
		else
			hx_cbor_uint(&b, 5);
	}
	hx_cbor_uint(&b, 4);
	hx_cbor_text(&b, "note", 4);
	hx_cbor_uint(&b, 5);
	if (m == M_BAD_UTF8)
		hx_cbor_text(&b, "\xff\xfe", 2);
	else if (m == M_OVERLONG_UTF8)
		hx_cbor_text(&b, "\xc0\xaf", 2);
	else if (m == M_SURROGATE)
		hx_cbor_text(&b, "\xed\xa0\x80", 3);
	else if (m == M_NUL)
		hx_cbor_text(&b, "a\0b", 3);
	else if (m == M_LONG_LEN)
		hx_buf_put(&b, "\x78\x01T", 3); /* length 1 in a 1-byte extension */
	else
		hx_cbor_text(&b, "T", 1);
	hx_cbor_uint(&b, 6);
	hx_cbor_text(&b, "", 0);
	hx_cbor_uint(&b, 7);
	hx_cbor_head(&b, HX_CBOR_ARRAY, 0);
	hx_cbor_uint(&b, 8);
	hx_cbor_text(&b, "en", 2);
	hx_cbor_uint(&b, 9);
	if (m == M_UNSORTED_META || m == M_DUP_META) {
		hx_cbor_head(&b, HX_CBOR_MAP, 2);
		hx_cbor_text(&b, "url", 3);
		hx_cbor_text(&b, "x", 1);
		hx_cbor_text(&b, m == M_DUP_META ? "url" : "org", 3);
		hx_cbor_text(&b, "y", 1);
	} else {
		hx_cbor_head(&b, HX_CBOR_MAP, 0);
	}
	if (m == M_EXTRA_KEY) {
		hx_cbor_uint(&b, 10);
		hx_cbor_uint(&b, 0);
	}
	build_v2(&b, m);
	if (m == M_INDEF_MAP)
		hx_buf_put(&b, "\xff", 1);
	return wrap(&b, len);
}

/* A device signs for its organisation: format 2, the signer's signature,
 * and neither the signer nor the author can be swapped afterwards. Signing
 * with the organisation's own key stays format 1. */
static void test_device(void)
{
	uint8_t dpk[32], dsk[64], *raw;
	size_t len;
	hx_entry e = sample(), d;

	crypto_sign_keypair(dpk, dsk);
	CHECK_RC(hx_entry_sign_for(&e, pk, dsk, &raw, &len), HX_OK);
	CHECK(e.version == 2 && e.has_signer && !memcmp(hx_entry_signer(&e), dpk, 32));
	CHECK_RC(hx_entry_open(&d, raw, len), HX_OK);
	CHECK(d.has_signer && !memcmp(d.signer, dpk, 32) && !memcmp(d.author, pk, 32));
	hx_entry_clear(&d);
	/* the signer's key sits 32 bytes before the signature's head */
	raw[len - 66 - 1] ^= 1;
	CHECK(hx_entry_open(&d, raw, len) != HX_OK);
	free(raw);

	e = sample();
	CHECK_RC(hx_entry_sign_for(&e, pk, sk, &raw, &len), HX_OK);
	CHECK(e.version == 1 && !e.has_signer);
	free(raw);

	hx_attach a[2] = { { "toolkit.pdf", 10, "application/pdf", { 1 } },
		           { "toolkit.pdf", 20, "application/pdf", { 2 } } };
	e = sample();
	e.attach = a;
	e.nattach = 2;
	expect_sign_rc(&e, HX_EINVAL); /* duplicate name */
	a[1].name = "casebook.pdf";
	a[1].type = "PDF";
	expect_sign_rc(&e, HX_EINVAL);
	a[1].type = "application/pdf";
	a[1].size = HX_ATTACH_SIZE_MAX + 1;
	expect_sign_rc(&e, HX_ELIMIT);
	a[1].size = 20;
	expect_sign_rc(&e, HX_OK);
	CHECK(e.version == 2);
}

static void test_canonical(void)
{
	static const struct {
		enum mutation m;
		int want;
		const char *what;
	} cases[] = {
		{ M_NONE, HX_OK, "the hand-built canonical entry" },
		{ M_LONG_TS, HX_EPROTO, "timestamp in a longer head" },
		{ M_INDEF_MAP, HX_EPROTO, "indefinite-length map" },
		{ M_UNSORTED_META, HX_EPROTO, "unsorted metadata keys" },
		{ M_DUP_META, HX_EPROTO, "duplicate metadata key" },
		{ M_EXTRA_KEY, HX_EPROTO, "unknown field key" },
		{ M_VERSION3, HX_EVERSION, "unknown format version" },
		{ M_V2_BARE, HX_EPROTO, "format 2 without an optional field" },
		{ M_V1_SIGNER, HX_EPROTO, "format 1 with a signer" },
		{ M_SIGNER_IS_AUTHOR, HX_EINVAL, "signer equal to the author" },
		{ M_EMPTY_ATTACH, HX_EPROTO, "empty attachment list" },
		{ M_ATTACH_SLASH, HX_EINVAL, "attachment name with a slash" },
		{ M_ATTACH_OK, HX_OK, "format 2 with one attachment" },
		{ M_ATTACH_BEFORE_SIGNER, HX_EPROTO, "optional keys out of order" },
		{ M_BAD_UTF8, HX_EPROTO, "invalid UTF-8" },
		{ M_OVERLONG_UTF8, HX_EPROTO, "overlong UTF-8" },
		{ M_SURROGATE, HX_EPROTO, "UTF-8 surrogate" },
		{ M_NUL, HX_EPROTO, "NUL in text" },
		{ M_SHORT_AUTHOR, HX_EPROTO, "31-byte author" },
		{ M_KEY_ORDER, HX_EPROTO, "fields out of order" },
		{ M_BAD_PATH, HX_EINVAL, "path with capitals and .." },
		{ M_LONG_LEN, HX_EPROTO, "text length in a longer head" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len;
		hx_entry d;
		uint8_t *raw = build(cases[i].m, &len);
		int rc = hx_entry_open(&d, raw, len);
		if (rc != cases[i].want)
			fprintf(stderr, "case '%s': got %d\n", cases[i].what, rc);
		CHECK(rc == cases[i].want);
		if (!rc)
			hx_entry_clear(&d);
		/* trailing bytes after any entry */
		uint8_t *more = malloc(len + 1);
		memcpy(more, raw, len);
		more[len] = 0;
		CHECK(hx_entry_decode(&d, more, len + 1) != HX_OK);
		free(more);
		free(raw);
	}
}

static void test_limits(void)
{
	hx_entry e = sample();
	char *big = malloc(HX_BODY_MAX + 2);
	memset(big, 'a', HX_BODY_MAX + 1);
	big[HX_BODY_MAX + 1] = 0;

	big[HX_TITLE_MAX] = 0;
	e.title = big;
	expect_sign_rc(&e, HX_OK); /* exactly at the limit */
	big[HX_TITLE_MAX] = 'a';
	big[HX_TITLE_MAX + 1] = 0;
	expect_sign_rc(&e, HX_ELIMIT);
	e = sample();
	big[HX_TITLE_MAX + 1] = 'a';
	e.body = big; /* HX_BODY_MAX + 1 */
	expect_sign_rc(&e, HX_ELIMIT);
	big[HX_BODY_MAX] = 0;
	expect_sign_rc(&e, HX_OK);
	big[HX_BODY_MAX] = 'a';

	e = sample();
	char path[HX_PATH_MAX + 2];
	memset(path, 'p', sizeof path);
	path[HX_PATH_MAX + 1] = 0;
	e.path = path;
	expect_sign_rc(&e, HX_ELIMIT);
	const char *bad_paths[] = { "", "/a", "a/", "a//b", "a/./b", "a/../b", "A", "a b", "é" };
	for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
		e.path = (char *)bad_paths[i];
		expect_sign_rc(&e, HX_EINVAL);
	}

	e = sample();
	char *many[HX_TAGS_MAX + 1], names[HX_TAGS_MAX + 1][8];
	for (int i = 0; i <= HX_TAGS_MAX; i++) {
		snprintf(names[i], sizeof names[i], "t%d", i);
		many[i] = names[i];
	}
	e.tags = many;
	e.ntags = HX_TAGS_MAX;
	expect_sign_rc(&e, HX_OK);
	e.ntags = HX_TAGS_MAX + 1;
	expect_sign_rc(&e, HX_ELIMIT);
	char longtag[HX_TAG_MAX + 2];
	memset(longtag, 'x', sizeof longtag);
	longtag[HX_TAG_MAX + 1] = 0;
	many[0] = longtag;
	e.ntags = 1;
	expect_sign_rc(&e, HX_ELIMIT);
	many[0] = "same";
	many[1] = "same";
	e.ntags = 2;
	expect_sign_rc(&e, HX_EINVAL);

	e = sample();
	hx_meta m[HX_META_MAX + 1];
	char keys_[HX_META_MAX + 1][8];
	for (int i = 0; i <= HX_META_MAX; i++) {
		snprintf(keys_[i], sizeof keys_[i], "k%d", i);
		m[i].key = keys_[i];
		m[i].value = "v";
	}
	e.meta = m;
	e.nmeta = HX_META_MAX;
	expect_sign_rc(&e, HX_OK);
	e.nmeta = HX_META_MAX + 1;
	expect_sign_rc(&e, HX_ELIMIT);
	m[0].key = "Org";
	e.nmeta = 1;
	expect_sign_rc(&e, HX_EINVAL);
	free(big);
}

static void test_tamper(void)
{
	hx_entry e = sample(), d;
	uint8_t *raw;
	size_t len, caught = 0;

	CHECK_RC(hx_entry_sign(&e, sk, &raw, &len), HX_OK);
	for (size_t i = 0; i < len; i++) {
		static const uint8_t flips[] = { 0x01, 0x80, 0xff };
		for (size_t f = 0; f < sizeof flips; f++) {
			raw[i] ^= flips[f];
			int rc = hx_entry_open(&d, raw, len);
			if (rc == HX_OK)
				hx_entry_clear(&d);
			else
				caught++;
			raw[i] ^= flips[f];
		}
	}
	CHECK(caught == len * 3);
	CHECK_RC(hx_entry_open(&d, raw, len), HX_OK);
	hx_entry_clear(&d);
	/* truncation at every length */
	size_t trunc_ok = 0;
	for (size_t n = 0; n < len; n++)
		trunc_ok += hx_entry_decode(&d, raw, n) != HX_OK;
	CHECK(trunc_ok == len);
	free(raw);
}

/* ---- test vectors ----------------------------------------------------- */

static char *field(char *line, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(line, name, n) || line[n] != ':')
		return NULL;
	line += n + 1;
	while (*line == ' ')
		line++;
	line[strcspn(line, "\n")] = 0;
	return line;
}

static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/* Format 2's optional vector lines: author-seed (a device signs for that
 * organisation) and attach (name|size|type|hash;...). Empty when absent. */
static char v_author_seed[4096], v_attach[4096];

static size_t parse_attach(char *s, hx_attach *a)
{
	size_t n = 0;
	char *save, *save2;
	for (char *one = strtok_r(s, ";", &save); one; one = strtok_r(NULL, ";", &save), n++) {
		a[n].name = strtok_r(one, "|", &save2);
		a[n].size = strtoull(strtok_r(NULL, "|", &save2), NULL, 10);
		a[n].type = strtok_r(NULL, "|", &save2);
		CHECK_RC(hx_unhex(a[n].hash, 32, strtok_r(NULL, "|", &save2)), HX_OK);
	}
	return n;
}

static void check_vector(char v[][4096])
{
	/* v: seed path timestamp kind title body tags lang meta bytes id sig */
	uint8_t seed[32], vpk[32], vsk[64], *raw, want[8192];
	char *tags[HX_TAGS_MAX], *save;
	hx_meta meta[HX_META_MAX];
	size_t ntags = 0, nmeta = 0, len, wantlen;
	char hex[2 * 8192 + 1];

	CHECK_RC(hx_unhex(seed, 32, v[0]), HX_OK);
	crypto_sign_seed_keypair(vpk, vsk, seed);
	unescape(v[5]);
	for (char *t = strtok_r(v[6], ",", &save); t; t = strtok_r(NULL, ",", &save))
		tags[ntags++] = t;
	for (char *m = strtok_r(v[8], ";", &save); m; m = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(m, '=');
		*eq = 0;
		meta[nmeta].key = m;
		meta[nmeta++].value = eq + 1;
	}
	hx_entry e = {
		.path = v[1],
		.timestamp = strtoull(v[2], NULL, 10),
		.kind = v[3],
		.title = v[4],
		.body = v[5],
		.tags = tags,
		.ntags = ntags,
		.lang = v[7],
		.meta = meta,
		.nmeta = nmeta,
	};
	hx_attach att[HX_ATTACH_MAX];
	e.attach = att;
	e.nattach = parse_attach(v_attach, att);
	if (v_author_seed[0]) {
		uint8_t oseed[32], opk[32], osk[64];
		CHECK_RC(hx_unhex(oseed, 32, v_author_seed), HX_OK);
		crypto_sign_seed_keypair(opk, osk, oseed);
		CHECK_RC(hx_entry_sign_for(&e, opk, vsk, &raw, &len), HX_OK);
		CHECK(e.has_signer && !memcmp(e.signer, vpk, 32) && !memcmp(e.author, opk, 32));
	} else {
		CHECK_RC(hx_entry_sign(&e, vsk, &raw, &len), HX_OK);
	}
	wantlen = strlen(v[9]) / 2;
	CHECK(wantlen <= sizeof want && !hx_unhex(want, wantlen, v[9]));
	if (len != wantlen || memcmp(raw, want, len))
		fprintf(stderr, "vector %s: bytes differ: got %s\n", v[1], hx_hex(hex, raw, len));
	CHECK(len == wantlen && !memcmp(raw, want, len));
	CHECK(!strcmp(hx_hex(hex, e.id, 32), v[10]));
	CHECK(!strcmp(hx_hex(hex, e.sig, 64), v[11]));
	hx_entry d;
	CHECK_RC(hx_entry_open(&d, want, wantlen), HX_OK);
	CHECK(d.nattach == e.nattach && d.has_signer == e.has_signer);
	for (size_t i = 0; i < d.nattach; i++)
		CHECK(!strcmp(d.attach[i].name, att[i].name) && d.attach[i].size == att[i].size &&
		      !memcmp(d.attach[i].hash, att[i].hash, 32));
	hx_entry_clear(&d);
	free(raw);
}

/* The "blob: SIZE HASH" vector: SIZE bytes of i % 251, hashed as §1.7 says. */
static void check_blob_vector(const char *line)
{
	uint64_t size = strtoull(line, NULL, 10);
	const char *hex = strchr(line, ' ');
	uint64_t n = hx_blob_chunks(size);
	uint8_t *data = malloc(size + 1), *hashes = malloc(n * 32 + 1), got[32], want[32];
	char out[65];
	for (uint64_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i % 251);
	for (uint64_t c = 0; c < n; c++) {
		uint64_t off = c * HX_CHUNK_SIZE,
		         len = size - off < HX_CHUNK_SIZE ? size - off : HX_CHUNK_SIZE;
		crypto_generichash(hashes + c * 32, 32, data + off, len, NULL, 0);
	}
	hx_blob_hash(got, size, hashes);
	CHECK(hex && !hx_unhex(want, 32, hex + 1));
	if (memcmp(got, want, 32))
		fprintf(stderr, "blob vector: got %s\n", hx_hex(out, got, 32));
	CHECK(n == 2 && !memcmp(got, want, 32));
	free(data);
	free(hashes);
}

/* hx_grow: room for what is asked, power-of-two steps, and on overflow a
 * NULL that leaves the array and its capacity untouched. */
/* hx_utf8_valid reads ASCII eight bytes at a time: a bad or multi-byte
 * sequence at every offset of a long ASCII run, against what it is. */
static void test_utf8(void)
{
	static const struct {
		const char *seq;
		int valid;
	} cases[] = {
		{ "\xc3\xa9", 1 },         /* é */
		{ "\xe2\x82\xac", 1 },     /* € */
		{ "\xf0\x9f\x99\x82", 1 }, /* an emoji */
		{ "\x80", 0 },             /* a continuation byte alone */
		{ "\xc3", 0 },             /* cut short */
		{ "\xc0\xaf", 0 },         /* overlong */
		{ "\xed\xa0\x80", 0 },     /* a surrogate */
		{ "\xf4\x90\x80\x80", 0 }, /* over U+10FFFF */
		{ "\xff", 0 },
	};
	char buf[64];
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
		for (size_t at = 0; at < 24; at++) {
			size_t sl = strlen(cases[c].seq);
			memset(buf, 'a', sizeof buf);
			memcpy(buf + at, cases[c].seq, sl);
			CHECK(hx_utf8_valid(buf, 40) == cases[c].valid);
			/* ending right after it, and cut inside it */
			CHECK(hx_utf8_valid(buf, at + sl) == cases[c].valid);
			if (sl > 1)
				CHECK(!hx_utf8_valid(buf, at + sl - 1));
		}
	for (size_t at = 0; at < 24; at++) {
		memset(buf, 'a', sizeof buf);
		buf[at] = 0; /* a NUL is refused wherever it is */
		CHECK(!hx_utf8_valid(buf, 40));
		CHECK(hx_utf8_valid(buf, at));
	}
	CHECK(hx_utf8_valid("", 0));
}

static void test_grow(void)
{
	size_t cap = 0;
	int *v = hx_grow(NULL, &cap, 1, sizeof *v);
	CHECK(v && cap == 16);
	for (int i = 0; v && i < 1000; i++) {
		int *nv = hx_grow(v, &cap, (size_t)i + 1, sizeof *v);
		CHECK(nv);
		if (!nv)
			break;
		v = nv;
		v[i] = i;
	}
	CHECK(cap == 1024 && v && v[999] == 999);
	int *same = hx_grow(v, &cap, 1024, sizeof *v);
	CHECK(same == v && cap == 1024);
	CHECK(hx_grow(v, &cap, SIZE_MAX / 2 + 2, sizeof *v) == NULL && cap == 1024);
	CHECK(v[500] == 500);
	free(v);
}

static void test_vectors(void)
{
	static const char *names[] = { "seed", "path", "timestamp", "kind",  "title", "body",
		                       "tags", "lang", "meta",      "bytes", "id",    "sig" };
	FILE *f = fopen("vectors/entries.txt", "r");
	static char v[12][4096];
	char line[8192];
	int have = 0, count = 0, blobs = 0;

	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *opt;
		if ((opt = field(line, "blob"))) {
			check_blob_vector(opt);
			blobs++;
		}
		if ((opt = field(line, "author-seed")))
			snprintf(v_author_seed, sizeof v_author_seed, "%.4000s", opt);
		if ((opt = field(line, "attach")))
			snprintf(v_attach, sizeof v_attach, "%.4000s", opt);
		for (int i = 0; i < 12; i++) {
			char *val = field(line, names[i]);
			if (val) {
				snprintf(v[i], sizeof v[i], "%s", val);
				have |= 1 << i;
			}
		}
		if (have == (1 << 12) - 1) {
			check_vector(v);
			count++;
			have = 0;
			memset(v, 0, sizeof v);
			v_author_seed[0] = v_attach[0] = 0;
		}
	}
	fclose(f);
	CHECK(count >= 6 && blobs == 1);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	keys();
	test_round_trip();
	test_device();
	test_canonical();
	test_limits();
	test_tamper();
	test_vectors();
	test_grow();
	test_utf8();
	return check_done();
}
