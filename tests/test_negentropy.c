/*
 * test_negentropy.c: unit tests of proto/negentropy.c: varint, accumulator
 * and fingerprint vectors (derived independently with Python's hashlib),
 * a hand-derived message with id-prefix bounds, message traces of the
 * reference implementation replayed byte for byte (vectors/negentropy.txt,
 * made by vectors/gen-negentropy.py), random-set reconciliations with and
 * without frame size limits, and malformed input.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "proto/negentropy.h"
#include "tests/check.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	/* xorshift64*: repeatable, good enough for test data */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static int ids_push_test(hx_ne_ids *l, const uint8_t id[32])
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		void *p = realloc(l->ids, cap * 32);
		if (!p)
			return HX_ENOMEM;
		l->ids = p;
		l->cap = cap;
	}
	memcpy(l->ids[l->n++], id, 32);
	return HX_OK;
}

static int cmp_id32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Sorts and removes duplicates; returns the new count. */
static size_t uniq(hx_ne_ids *l)
{
	if (!l->n)
		return 0;
	qsort(l->ids, l->n, 32, cmp_id32);
	size_t k = 1;
	for (size_t i = 1; i < l->n; i++)
		if (memcmp(l->ids[i], l->ids[k - 1], 32))
			memcpy(l->ids[k++], l->ids[i], 32);
	return l->n = k;
}

/* Checks that got (deduplicated in place) is exactly want (as sets). */
static int same_set(hx_ne_ids *got, hx_ne_ids *want)
{
	uniq(got);
	uniq(want);
	return got->n == want->n && (!got->n || !memcmp(got->ids, want->ids, got->n * 32));
}

static void unhex(uint8_t *out, const char *hex, size_t n)
{
	size_t got = 0;
	if (sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL) || got != n)
		abort();
}

static void test_varint(void)
{
	static const struct {
		uint64_t v;
		const char *hex;
	} vec[] = {
		{ 0, "00" },
		{ 1, "01" },
		{ 127, "7f" },
		{ 128, "8100" },
		{ 255, "817f" },
		{ 16383, "ff7f" },
		{ 16384, "818000" },
		{ 4294967296ull, "9080808000" },
		{ UINT64_MAX, "81ffffffffffffffff7f" },
	};
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		uint8_t buf[10], want[10];
		size_t n = hx_ne_varint_put(buf, vec[i].v);
		CHECK(n == strlen(vec[i].hex) / 2);
		unhex(want, vec[i].hex, n);
		CHECK(!memcmp(buf, want, n));
		const uint8_t *p = want;
		uint64_t v = 1234;
		CHECK_RC(hx_ne_varint_get(&p, want + n, &v), HX_OK);
		CHECK(v == vec[i].v && p == want + n);
	}
	/* malformed: empty, truncated, leading zero digit, over 64 bits */
	static const char *bad[] = {
		"", "81", "ffff", "8001", "8000", "82808080808080808000", "ffffffffffffffffffff7f"
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t b[16];
		size_t n = strlen(bad[i]) / 2;
		if (n)
			unhex(b, bad[i], n);
		const uint8_t *p = b;
		uint64_t v;
		CHECK_RC(hx_ne_varint_get(&p, b + n, &v), HX_EPROTO);
		CHECK(p == b);
	}
}

static void test_fingerprint(void)
{
	uint8_t acc[32] = { 0 }, x[32], fp[16], want[16];

	hx_ne_fingerprint(acc, 0, fp);
	unhex(want, "7f9c9e31ac8256ca2f258583df262dbc", 16);
	CHECK(!memcmp(fp, want, 16));

	memset(x, 0, 32);
	x[0] = 1;
	hx_ne_acc_add(acc, x);
	hx_ne_fingerprint(acc, 1, fp);
	unhex(want, "2e255099d6d6bee307c8e7075acc78f9", 16);
	CHECK(!memcmp(fp, want, 16));

	/* carry out of every byte, wrapping mod 2^256 */
	memset(acc, 0, 32);
	memset(x, 0xff, 32);
	hx_ne_acc_add(acc, x);
	memset(x, 0, 32);
	x[0] = 2;
	hx_ne_acc_add(acc, x);
	CHECK(acc[0] == 1);
	for (int i = 1; i < 32; i++)
		CHECK(acc[i] == 0);
	hx_ne_fingerprint(acc, 2, fp);
	unhex(want, "6092a26dea6bc7bdc57a942f1df2d0d7", 16);
	CHECK(!memcmp(fp, want, 16));

	/* 1000 ids: SHA-256("hansa-ne" ‖ le32(i)) */
	uint8_t sum[32] = { 0 }, wsum[32];
	for (uint32_t i = 0; i < 1000; i++) {
		uint8_t in[12] = "hansa-ne", id[32];
		in[8] = (uint8_t)i;
		in[9] = (uint8_t)(i >> 8);
		in[10] = (uint8_t)(i >> 16);
		in[11] = (uint8_t)(i >> 24);
		crypto_hash_sha256(id, in, sizeof in);
		hx_ne_acc_add(sum, id);
	}
	unhex(wsum, "a58ed53a1b8d44831785f8879659862946f9b77d0a1937e03331c589b64059d5", 32);
	CHECK(!memcmp(sum, wsum, 32));
	hx_ne_fingerprint(sum, 1000, fp);
	unhex(want, "2c0768d7f79fe9ad92c17918a3eedf23", 16);
	CHECK(!memcmp(fp, want, 16));

	/* subtraction undoes addition, with borrows */
	uint8_t a[32], b[32], c[32];
	for (int k = 0; k < 100; k++) {
		for (int i = 0; i < 32; i++) {
			a[i] = (uint8_t)rnd();
			b[i] = (uint8_t)rnd();
		}
		memcpy(c, a, 32);
		hx_ne_acc_add(c, b);
		hx_ne_acc_sub(c, b);
		CHECK(!memcmp(c, a, 32));
	}
}

/* Distinct ids for the malformed-message test: SHA-256("hansa-ne" ‖ le32(i)). */
static void make_id(uint32_t i, uint8_t id[32])
{
	uint8_t in[12] = "hansa-ne";
	in[8] = (uint8_t)i;
	in[9] = (uint8_t)(i >> 8);
	in[10] = (uint8_t)(i >> 16);
	in[11] = (uint8_t)(i >> 24);
	crypto_hash_sha256(id, in, sizeof in);
}

/* 32 items, ts = 10 + (i+1)/2, id = i ‖ 0...: 16 buckets of 2 items whose
 * boundaries fall between equal timestamps, so every bound carries a
 * 1-byte id prefix. Expected bytes derived by hand from the spec. */
static void test_hand_message(void)
{
	hx_ne_vec *v;
	hx_ne *ne;
	uint8_t id[32] = { 0 }, *m;
	size_t len;

	CHECK_RC(hx_ne_vec_new(&v), HX_OK);
	for (int i = 31; i >= 0; i--) { /* any insertion order */
		id[0] = (uint8_t)i;
		CHECK_RC(hx_ne_vec_add(v, 10 + (uint64_t)(i + 1) / 2, id), HX_OK);
	}
	CHECK_RC(hx_ne_vec_seal(v), HX_OK);
	hx_ne_storage st = hx_ne_vec_storage(v);
	CHECK_RC(hx_ne_new(&ne, &st, 0), HX_OK);
	CHECK_RC(hx_ne_initiate(ne, &m, &len), HX_OK);
	/* 0x61, then 15 x (ts delta+1, 01, prefix byte, 01, fp[16]) and
	 * (00, 00, 01, fp[16]) for the last bucket up to infinity */
	CHECK(len == 1 + 15 * 20 + 19);
	CHECK(m[0] == 0x61);
	const uint8_t *p = m + 1;
	for (int k = 0; k < 16 && len == 320; k++) {
		uint8_t sum[32] = { 0 }, fp[16];
		sum[0] = (uint8_t)(2 * k + 2 * k + 1); /* ids 2k and 2k+1 */
		hx_ne_fingerprint(sum, 2, fp);
		if (k < 15) {
			/* bound: ts 11+k: first delta 11 (+1 = 0x0c), then 1 (+1) */
			CHECK(p[0] == (k == 0 ? 0x0c : 0x02));
			CHECK(p[1] == 0x01 && p[2] == 2 * k + 2);
			p += 3;
		} else {
			CHECK(p[0] == 0x00 && p[1] == 0x00);
			p += 2;
		}
		CHECK(p[0] == HX_NE_FINGERPRINT);
		CHECK(!memcmp(p + 1, fp, 16));
		p += 17;
	}
	free(m);
	hx_ne_free(&ne);

	/* one item: infinity bound, IdList of one id */
	hx_ne_vec_free(&v);
	CHECK(v == NULL);
	CHECK_RC(hx_ne_vec_new(&v), HX_OK);
	memset(id, 0xee, 32);
	CHECK_RC(hx_ne_vec_add(v, 12345, id), HX_OK);
	CHECK_RC(hx_ne_vec_seal(v), HX_OK);
	st = hx_ne_vec_storage(v);
	CHECK_RC(hx_ne_new(&ne, &st, 0), HX_OK);
	CHECK_RC(hx_ne_initiate(ne, &m, &len), HX_OK);
	CHECK(len == 37 && !memcmp(m, "\x61\x00\x00\x02\x01", 5) && m[5] == 0xee && m[36] == 0xee);
	free(m);
	CHECK_RC(hx_ne_initiate(ne, &m, &len), HX_EINVAL); /* twice */
	hx_ne_free(&ne);

	/* responder: full-range empty IdList -> our one id, bound echoed */
	CHECK_RC(hx_ne_new(&ne, &st, 0), HX_OK);
	CHECK_RC(hx_ne_reconcile(ne, (const uint8_t *)"\x61\x00\x00\x02\x00", 5, &m, &len, NULL,
	                         NULL),
	         HX_OK);
	CHECK(len == 37 && !memcmp(m, "\x61\x00\x00\x02\x01", 5));
	free(m);
	/* a newer protocol version: answer with ours alone */
	CHECK_RC(hx_ne_reconcile(ne, (const uint8_t *)"\x62\xaa\xbb", 3, &m, &len, NULL, NULL),
	         HX_OK);
	CHECK(len == 1 && m[0] == 0x61);
	free(m);
	CHECK_RC(hx_ne_initiate(ne, &m, &len), HX_EINVAL); /* responder now */
	hx_ne_free(&ne);
	hx_ne_free(&ne); /* NULL-safe */

	/* duplicates and infinity are refused */
	CHECK_RC(hx_ne_vec_add(v, 1, id), HX_EINVAL); /* sealed */
	hx_ne_vec_free(&v);
	CHECK_RC(hx_ne_vec_new(&v), HX_OK);
	CHECK_RC(hx_ne_vec_add(v, HX_NE_TS_INF, id), HX_EINVAL);
	CHECK_RC(hx_ne_vec_add(v, 5, id), HX_OK);
	CHECK_RC(hx_ne_vec_add(v, 5, id), HX_OK);
	CHECK_RC(hx_ne_vec_seal(v), HX_EEXIST);
	hx_ne_vec_free(&v);

	CHECK_RC(hx_ne_new(&ne, &st, 4095), HX_EINVAL);
	CHECK(ne == NULL);
}

static int sha_match(const uint8_t *m, size_t len, size_t wlen, const char *whex)
{
	uint8_t h[32], w[32];
	if (len != wlen)
		return 0;
	crypto_hash_sha256(h, m, len);
	unhex(w, whex, 32);
	return !memcmp(h, w, 32);
}

/* Replays vectors/negentropy.txt: our messages must equal the reference
 * implementation's, byte for byte, round after round. */
static void test_reference_traces(void)
{
	FILE *f = fopen("vectors/negentropy.txt", "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	int cases = 0, msgs = 0;
	hx_ne_vec *va = NULL, *vb = NULL;
	hx_ne *a = NULL, *b = NULL;
	hx_ne_storage sa, sb;
	uint8_t *last = NULL; /* the last message produced, awaiting its check */
	size_t lastlen = 0;
	hx_ne_ids have = { 0 }, need = { 0 };
	char name[64] = "";
	unsigned long long limit = 0;

	int started = 0;
	hx_ne_ids wh = { 0 }, wn = { 0 }; /* the a and b items: have and need */

	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		if (!strncmp(line, "case ", 5)) {
			CHECK(sscanf(line, "case %63s %*u %*s %llu", name, &limit) == 2);
			CHECK_RC(hx_ne_vec_new(&va), HX_OK);
			CHECK_RC(hx_ne_vec_new(&vb), HX_OK);
			started = 0;
			cases++;
		} else if (!strncmp(line, "item ", 5)) {
			unsigned long long ts;
			char hex[65], sides[3];
			uint8_t id[32];
			CHECK(!started && va && vb);
			CHECK(sscanf(line, "item %llu %64s %2s", &ts, hex, sides) == 3 &&
			      strlen(hex) == 64);
			unhex(id, hex, 32);
			int ina = strchr(sides, 'a') != NULL, inb = strchr(sides, 'b') != NULL;
			CHECK(ina || inb);
			if (ina)
				CHECK_RC(hx_ne_vec_add(va, ts, id), HX_OK);
			if (inb)
				CHECK_RC(hx_ne_vec_add(vb, ts, id), HX_OK);
			if (ina && !inb)
				CHECK_RC(ids_push_test(&wh, id), HX_OK);
			if (inb && !ina)
				CHECK_RC(ids_push_test(&wn, id), HX_OK);
		} else if ((line[0] == 'i' || line[0] == 'r') && line[1] == ' ') {
			if (!started && va && vb) { /* the items are in: seal, initiate */
				started = 1;
				CHECK_RC(hx_ne_vec_seal(va), HX_OK);
				CHECK_RC(hx_ne_vec_seal(vb), HX_OK);
				sa = hx_ne_vec_storage(va);
				sb = hx_ne_vec_storage(vb);
				CHECK_RC(hx_ne_new(&a, &sa, limit), HX_OK);
				CHECK_RC(hx_ne_new(&b, &sb, limit), HX_OK);
				CHECK_RC(hx_ne_initiate(a, &last, &lastlen), HX_OK);
			}
			size_t wlen;
			char sha[65], hex[1024];
			int k = sscanf(line + 2, "%zu %64s %1023s", &wlen, sha, hex);
			CHECK(k >= 2);
			CHECK(last != NULL);
			if (!last || k < 2)
				break;
			int ok = sha_match(last, lastlen, wlen, sha);
			if (k == 3) {
				uint8_t w[512];
				ok = ok && strlen(hex) == 2 * wlen && wlen <= sizeof w;
				if (ok) {
					unhex(w, hex, wlen);
					ok = !memcmp(w, last, wlen);
				}
			}
			if (!ok)
				fprintf(stderr, "trace %s: message %d (%c) differs\n", name,
				        msgs + 1, line[0]);
			CHECK(ok);
			msgs++;
			uint8_t *next = NULL;
			size_t nl = 0;
			if (line[0] == 'i')
				CHECK_RC(hx_ne_reconcile(b, last, lastlen, &next, &nl, NULL, NULL),
				         HX_OK);
			else
				CHECK_RC(
				        hx_ne_reconcile(a, last, lastlen, &next, &nl, &have, &need),
				        HX_OK);
			free(last);
			last = next;
			lastlen = nl;
		} else if (!strcmp(line, "end")) {
			CHECK(started);
			CHECK(last == NULL); /* the initiator is done */
			free(last);
			last = NULL;
			/* have = the a items (A \ B), need = the b items (B \ A) */
			CHECK(same_set(&have, &wh));
			CHECK(same_set(&need, &wn));
			hx_ne_ids_clear(&wh);
			hx_ne_ids_clear(&wn);
			hx_ne_ids_clear(&have);
			hx_ne_ids_clear(&need);
			hx_ne_free(&a);
			hx_ne_free(&b);
			hx_ne_vec_free(&va);
			hx_ne_vec_free(&vb);
		} else {
			fprintf(stderr, "vectors/negentropy.txt: unknown line '%.40s'\n", line);
			CHECK(0);
		}
	}
	free(last);
	free(line);
	fclose(f);
	CHECK(cases == 7);
	CHECK(msgs > 100);
	printf("reference traces: %d cases, %d messages identical\n", cases, msgs);
}

/* Reconciles two random sets drawn from a universe of n items (each item
 * only in A with probability pa/16, only in B pb/16, else in both) and
 * checks that have/need are exactly A\B and B\A, that no frame exceeds
 * its limit and that the session ends. */
static void run_random(size_t n, int pa, int pb, uint64_t la, uint64_t lb, int same_ts)
{
	hx_ne_vec *va, *vb;
	hx_ne_ids want_have = { 0 }, want_need = { 0 }, have = { 0 }, need = { 0 };
	CHECK_RC(hx_ne_vec_new(&va), HX_OK);
	CHECK_RC(hx_ne_vec_new(&vb), HX_OK);
	for (size_t i = 0; i < n; i++) {
		uint8_t id[32];
		for (int k = 0; k < 32; k += 8) {
			uint64_t r = rnd();
			memcpy(id + k, &r, 8);
		}
		if (same_ts) /* long runs of one timestamp, shared prefixes */
			id[0] = id[1] = 0x42;
		uint64_t ts = same_ts ? 5 + i / 500 : 1000000 + rnd() % (n + 1);
		int r = (int)(rnd() % 16);
		if (r < pa) {
			CHECK_RC(hx_ne_vec_add(va, ts, id), HX_OK);
			CHECK_RC(ids_push_test(&want_have, id), HX_OK);
		} else if (r < pa + pb) {
			CHECK_RC(hx_ne_vec_add(vb, ts, id), HX_OK);
			CHECK_RC(ids_push_test(&want_need, id), HX_OK);
		} else {
			CHECK_RC(hx_ne_vec_add(va, ts, id), HX_OK);
			CHECK_RC(hx_ne_vec_add(vb, ts, id), HX_OK);
		}
	}
	CHECK_RC(hx_ne_vec_seal(va), HX_OK);
	CHECK_RC(hx_ne_vec_seal(vb), HX_OK);
	hx_ne_storage sa = hx_ne_vec_storage(va), sb = hx_ne_vec_storage(vb);
	hx_ne *a, *b;
	CHECK_RC(hx_ne_new(&a, &sa, la), HX_OK);
	CHECK_RC(hx_ne_new(&b, &sb, lb), HX_OK);
	uint8_t *m, *r;
	size_t ml, rl;
	int rounds = 0;
	CHECK_RC(hx_ne_initiate(a, &m, &ml), HX_OK);
	CHECK(hx_ne_is_initiator(a) && !hx_ne_is_initiator(b));
	while (m && rounds < 10000) {
		CHECK(!la || ml <= la);
		CHECK_RC(hx_ne_reconcile(b, m, ml, &r, &rl, NULL, NULL), HX_OK);
		free(m);
		CHECK(r != NULL);
		if (!r)
			break;
		CHECK(!lb || rl <= lb);
		CHECK_RC(hx_ne_reconcile(a, r, rl, &m, &ml, &have, &need), HX_OK);
		free(r);
		rounds++;
	}
	CHECK(m == NULL);
	free(m);
	size_t nh = have.n, nn = need.n;
	CHECK(same_set(&have, &want_have));
	CHECK(same_set(&need, &want_need));
	if (!la && !lb)
		CHECK(nh == have.n && nn == need.n); /* no duplicates */
	hx_ne_ids_clear(&have);
	hx_ne_ids_clear(&need);
	hx_ne_ids_clear(&want_have);
	hx_ne_ids_clear(&want_need);
	hx_ne_free(&a);
	hx_ne_free(&b);
	hx_ne_vec_free(&va);
	hx_ne_vec_free(&vb);
}

/* Malformed messages: HX_EPROTO (never a crash), on both sides. */
static void test_malformed(void)
{
	hx_ne_vec *v;
	uint8_t id[32];
	CHECK_RC(hx_ne_vec_new(&v), HX_OK);
	for (uint32_t i = 0; i < 100; i++) {
		make_id(i, id);
		CHECK_RC(hx_ne_vec_add(v, 100 + i / 3, id), HX_OK);
	}
	CHECK_RC(hx_ne_vec_seal(v), HX_OK);
	hx_ne_storage st = hx_ne_vec_storage(v);
	static const struct {
		const char *hex;
		int rc;
	} cases[] = {
		{ "", HX_EPROTO },   /* no version byte */
		{ "5f", HX_EPROTO }, /* not a version byte */
		{ "70", HX_EPROTO },
		{ "6100", HX_EPROTO },                         /* bound without id length */
		{ "610000", HX_EPROTO },                       /* bound without mode */
		{ "61000003", HX_EPROTO },                     /* unknown mode */
		{ "6100000100", HX_EPROTO },                   /* truncated fingerprint */
		{ "61000002", HX_EPROTO },                     /* IdList without count */
		{ "6100000201", HX_EPROTO },                   /* count 1, no id */
		{ "61000002ffffffffffffffffff7f", HX_EPROTO }, /* huge count */
		{ "610021", HX_EPROTO },                       /* id prefix of 33 bytes */
		{ "61000541", HX_EPROTO },                     /* prefix longer than message */
		{ "61800100", HX_EPROTO },                     /* non-minimal varint */
		{ "61ffffffffffffffffffff7f0000", HX_EPROTO }, /* varint > 64 bits */
		{ "61", HX_OK },                               /* nothing to say: fine */
		{ "6100000200", HX_OK },
		{ "610000000a0000", HX_OK }, /* ranges after infinity */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t msg[64], *out;
		size_t ml = strlen(cases[i].hex) / 2, ol;
		unhex(msg, cases[i].hex, ml);
		for (int init = 0; init < 2; init++) {
			hx_ne *ne;
			hx_ne_ids have = { 0 }, need = { 0 };
			CHECK_RC(hx_ne_new(&ne, &st, 0), HX_OK);
			if (init) {
				CHECK_RC(hx_ne_initiate(ne, &out, &ol), HX_OK);
				free(out);
			}
			int rc = hx_ne_reconcile(ne, msg, ml, &out, &ol, &have, &need);
			if (rc != cases[i].rc)
				fprintf(stderr, "malformed case %s (%s): %d\n", cases[i].hex,
				        init ? "initiator" : "responder", rc);
			CHECK(rc == cases[i].rc);
			if (rc)
				CHECK(out == NULL && ol == 0);
			free(out);
			hx_ne_ids_clear(&have);
			hx_ne_ids_clear(&need);
			hx_ne_free(&ne);
		}
	}
	/* the initiator refuses another protocol version */
	hx_ne *ne;
	uint8_t *out;
	size_t ol;
	hx_ne_ids have = { 0 }, need = { 0 };
	CHECK_RC(hx_ne_new(&ne, &st, 0), HX_OK);
	CHECK_RC(hx_ne_initiate(ne, &out, &ol), HX_OK);
	free(out);
	CHECK_RC(hx_ne_reconcile(ne, (const uint8_t *)"\x62", 1, &out, &ol, &have, &need),
	         HX_EVERSION);
	CHECK_RC(hx_ne_reconcile(ne, (const uint8_t *)"\x61", 1, &out, &ol, NULL, NULL),
	         HX_EINVAL); /* initiator needs have/need */
	hx_ne_free(&ne);

	/* random bytes after a valid version byte: no crash, clean result */
	for (int k = 0; k < 3000; k++) {
		uint8_t msg[200];
		size_t ml = 1 + rnd() % sizeof msg;
		msg[0] = 0x61;
		for (size_t i = 1; i < ml; i++) {
			uint64_t r = rnd();
			/* mostly small bytes, so that structures parse deeper */
			msg[i] = (uint8_t)(r % 4 ? r % 4 == 1 ? (r >> 8) & 3 : (r >> 8) & 0x21
			                         : r >> 8);
		}
		int init = k & 1;
		CHECK_RC(hx_ne_new(&ne, &st, k % 3 ? 0 : 4096), HX_OK);
		if (init) {
			CHECK_RC(hx_ne_initiate(ne, &out, &ol), HX_OK);
			free(out);
		}
		int rc = hx_ne_reconcile(ne, msg, ml, &out, &ol, &have, &need);
		CHECK(rc == HX_OK || rc == HX_EPROTO);
		free(out);
		hx_ne_free(&ne);
	}
	hx_ne_ids_clear(&have);
	hx_ne_ids_clear(&need);
	hx_ne_vec_free(&v);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_varint();
	test_fingerprint();
	test_hand_message();
	test_reference_traces();
	test_malformed();

	/* random sets: sizes around the 32-item IdList threshold and larger */
	static const size_t sizes[] = { 0, 1, 2, 31, 32, 33, 100, 1000, 20000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		run_random(sizes[i], 1, 1, 0, 0, 0);
		run_random(sizes[i], 16, 0, 0, 0, 0); /* B empty */
		run_random(sizes[i], 0, 16, 0, 0, 0); /* A empty */
		run_random(sizes[i], 3, 2, 0, 0, 1);
	}
	/* frame size limits: asymmetric, minimal, and on clustered stamps */
	run_random(30000, 1, 1, 4096, 0, 0);
	run_random(30000, 1, 1, 0, 4096, 0);
	run_random(30000, 2, 3, 4096, 5000, 0);
	run_random(20000, 8, 0, 4096, 4096, 0);
	run_random(20000, 0, 8, 4096, 4096, 0);
	run_random(20000, 2, 2, 4096, 4096, 1);
	return check_done();
}
