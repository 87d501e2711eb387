/*
 * fuzz_roster.c: libFuzzer target for the roster record's rules
 * (proto/roster.c). The input makes an entry under .hansa/member/:
 *   byte 0     flags: bit 0 kind "hansa-member" (else "note"), bit 1 a meta
 *              pair, bit 2 meta key "removed" (else "endpoints"), bit 3 the
 *              subject is the author, bit 4 the body is a valid signed
 *              member record of the subject (else the input's text), bit 5
 *              the path's key is the input's 64 bytes (else the subject's)
 *   bytes 1..  text, split at the first two NUL bytes into body, meta value
 *              and path key
 * hx_roster_parse must not crash or leak and answers HX_OK, HX_ENOTFOUND,
 * HX_ERECORD or HX_ENOMEM; an accepted record is made again by
 * hx_roster_make into a record that parses to the same subject, removal,
 * member record and endpoints.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "proto/roster.h"

static uint8_t apk[HX_KEY_LEN], ask[HX_SECRET_LEN], spk[HX_KEY_LEN], ssk[HX_SECRET_LEN];
static char valid_body[2 * HX_MEMBER_MAX];

static void setup(void)
{
	static int done;
	uint8_t seed[32], *rec;
	size_t len;
	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	memset(seed, 0x21, sizeof seed);
	crypto_sign_seed_keypair(apk, ask, seed);
	memset(seed, 0x22, sizeof seed);
	crypto_sign_seed_keypair(spk, ssk, seed);
	hx_meta prof[1] = { { "name", "Fuzz Region" } };
	hx_member m = { .timestamp = 1, .profile = prof, .nprofile = 1 };
	memset(m.transport, 0x33, sizeof m.transport);
	if (hx_member_sign(&m, ssk, &rec, &len))
		abort();
	sodium_bin2base64(valid_body, sizeof valid_body, rec, len,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	free(rec);
	done = 1;
}

/* The next NUL-terminated piece of [*p, end) (copied; caller frees). */
static char *piece(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *z = memchr(*p, 0, (size_t)(end - *p));
	size_t n = z ? (size_t)(z - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = 0;
	*p += n + (z ? 1 : 0);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	uint8_t f = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	char *text = piece(&p, end), *value = piece(&p, end), *pkey = piece(&p, end);
	char path[sizeof HX_ROSTER_PREFIX + 2 * HX_KEY_LEN + 64], hex[2 * HX_KEY_LEN + 1];
	hx_meta meta[1] = { { (f & 4) ? "removed" : "endpoints", value } };
	hx_entry e = { .version = 1,
		       .kind = (f & 1) ? HX_ROSTER_KIND : "note",
		       .title = "t",
		       .body = (f & 16) ? valid_body : text,
		       .lang = "und",
		       .meta = (f & 2) ? meta : NULL,
		       .nmeta = (f & 2) ? 1 : 0 };
	memcpy(e.author, (f & 8) ? spk : apk, HX_KEY_LEN);
	snprintf(path, sizeof path, "%s%.70s", HX_ROSTER_PREFIX,
	         (f & 32) ? pkey : hx_hex(hex, spk, HX_KEY_LEN));
	e.path = path;

	hx_roster r, again;
	int rc = hx_roster_parse(&r, &e, NULL);
	if (rc != HX_OK && rc != HX_ENOTFOUND && rc != HX_ERECORD && rc != HX_ENOMEM)
		abort();
	if (rc == HX_OK) {
		hx_entry m;
		if (hx_roster_make(&m, r.subject, r.removed ? NULL : r.rec, r.reclen,
		                   (const char *const *)r.endpoints, r.nendpoints, "again"))
			abort();
		memcpy(m.author, e.author, HX_KEY_LEN);
		if (hx_roster_parse(&again, &m, NULL) || again.removed != r.removed ||
		    memcmp(again.subject, r.subject, HX_KEY_LEN) || again.reclen != r.reclen ||
		    (r.reclen && memcmp(again.rec, r.rec, r.reclen)) ||
		    again.nendpoints != r.nendpoints)
			abort();
		for (size_t i = 0; i < r.nendpoints; i++)
			if (strcmp(again.endpoints[i], r.endpoints[i]))
				abort();
		hx_roster_clear(&again);
		hx_entry_clear(&m);
		hx_roster_clear(&r);
	}
	free(text);
	free(value);
	free(pkey);
	return 0;
}
