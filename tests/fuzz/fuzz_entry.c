/*
 * fuzz_entry.c: libFuzzer target for the entry decoder (proto/entry.c).
 * Whatever the input, decode must not crash or leak and must answer with
 * one of its documented codes. When it accepts the input, the input must be
 * the one canonical encoding of what it decoded: decoding again gives the
 * same fields and id, hx_entry_check agrees, and signing the decoded fields
 * with a fixed key reproduces the input byte for byte except for the
 * author key and the signature (which belong to that key).
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "proto/entry.h"

static uint8_t pk[HX_KEY_LEN], sk[HX_SECRET_LEN], pk2[HX_KEY_LEN], sk2[HX_SECRET_LEN];

static void setup(void)
{
	static int done;
	uint8_t seed[32];
	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	memset(seed, 0x5e, sizeof seed);
	crypto_sign_seed_keypair(pk, sk, seed);
	memset(seed, 0x5f, sizeof seed);
	crypto_sign_seed_keypair(pk2, sk2, seed);
	done = 1;
}

static int str_eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static int same_fields(const hx_entry *a, const hx_entry *b)
{
	if (a->version != b->version || a->timestamp != b->timestamp || !str_eq(a->path, b->path) ||
	    !str_eq(a->kind, b->kind) || !str_eq(a->title, b->title) || !str_eq(a->body, b->body) ||
	    !str_eq(a->lang, b->lang) || a->ntags != b->ntags || a->nmeta != b->nmeta ||
	    a->nattach != b->nattach || a->has_signer != b->has_signer)
		return 0;
	for (size_t i = 0; i < a->nattach; i++)
		if (!str_eq(a->attach[i].name, b->attach[i].name) ||
		    !str_eq(a->attach[i].type, b->attach[i].type) ||
		    a->attach[i].size != b->attach[i].size ||
		    memcmp(a->attach[i].hash, b->attach[i].hash, HX_ID_LEN))
			return 0;
	for (size_t i = 0; i < a->ntags; i++)
		if (!str_eq(a->tags[i], b->tags[i]))
			return 0;
	for (size_t i = 0; i < a->nmeta; i++)
		if (!str_eq(a->meta[i].key, b->meta[i].key) ||
		    !str_eq(a->meta[i].value, b->meta[i].value))
			return 0;
	return 1;
}

/* Canonical for a device-signed entry: re-signing for the same author with
 * the fixed key gives back the input apart from the signer key (after
 * 0a 58 20) and the signature. */
static void check_device_signed(const hx_entry *e, const uint8_t *data, size_t size)
{
	hx_entry copy = *e, again;
	uint8_t *out = NULL;
	size_t outlen = 0, at = 0;
	/* the fixed key must not be the author's, or there is no signer */
	int first = memcmp(e->author, pk, HX_KEY_LEN) != 0;
	const uint8_t *dpk = first ? pk : pk2;
	if (hx_entry_sign_for(&copy, e->author, first ? sk : sk2, &out, &outlen) != HX_OK ||
	    outlen != size)
		abort();
	for (size_t i = 0; i + 3 + HX_KEY_LEN <= size; i++)
		if (!memcmp(out + i, "\x0a\x58\x20", 3) && !memcmp(out + i + 3, dpk, HX_KEY_LEN)) {
			at = i + 3;
			break;
		}
	if (!at || memcmp(out, data, at) || memcmp(data + at, e->signer, HX_KEY_LEN) ||
	    memcmp(out + at + HX_KEY_LEN, data + at + HX_KEY_LEN,
	           size - at - HX_KEY_LEN - HX_SIG_LEN))
		abort();
	if (hx_entry_open(&again, out, outlen) != HX_OK || !same_fields(e, &again))
		abort();
	hx_entry_clear(&again);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hx_entry e, again;
	int rc;

	setup();
	rc = hx_entry_decode(&e, data, size);
	if (rc != HX_OK) {
		if (rc != HX_EPROTO && rc != HX_ELIMIT && rc != HX_EVERSION && rc != HX_EINVAL &&
		    rc != HX_ENOMEM)
			abort(); /* an undocumented answer */
		/* on error, e holds nothing: clearing it is harmless */
		hx_entry_clear(&e);
		if (hx_entry_open(&e, data, size) == HX_OK)
			abort(); /* open accepted what decode refused */
		return 0;
	}
	if (hx_entry_check(&e) != HX_OK)
		abort(); /* decode accepted fields that break the rules */
	if (e.version != (e.has_signer || e.nattach ? HX_ENTRY_VERSION_2 : HX_ENTRY_VERSION))
		abort();
	rc = hx_entry_verify(&e); /* any answer, but no crash */
	if (rc != HX_OK && rc != HX_EFORGED)
		abort();
	int orc = hx_entry_open(&again, data, size);
	if (orc != rc)
		abort(); /* open = decode + verify */
	if (!orc)
		hx_entry_clear(&again);

	/* Deterministic: decoding the same bytes again gives the same entry. */
	if (hx_entry_decode(&again, data, size) != HX_OK)
		abort();
	if (!same_fields(&e, &again) || memcmp(e.id, again.id, HX_ID_LEN) ||
	    memcmp(e.sig, again.sig, HX_SIG_LEN) || memcmp(e.author, again.author, HX_KEY_LEN))
		abort();
	hx_entry_clear(&again);

	if (e.has_signer) {
		check_device_signed(&e, data, size);
		hx_entry_clear(&e);
		return 0;
	}
	/* Canonical: re-signing the fields gives back the input, apart from
	 * the author key (bytes 7..38: 82 aa 00 01 01 58 20 <key>) and the
	 * signature (the last 64 bytes, after 58 40). */
	if (size < 7 + HX_KEY_LEN + 2 + HX_SIG_LEN || data[5] != 0x58 || data[6] != 0x20 ||
	    data[size - HX_SIG_LEN - 2] != 0x58 || data[size - HX_SIG_LEN - 1] != 0x40)
		abort();
	hx_entry copy = e;
	uint8_t *out = NULL;
	size_t outlen = 0;
	if (hx_entry_sign(&copy, sk, &out, &outlen) != HX_OK)
		abort();
	if (outlen != size || memcmp(out, data, 7) || memcmp(out + 7, pk, HX_KEY_LEN) ||
	    memcmp(out + 7 + HX_KEY_LEN, data + 7 + HX_KEY_LEN, size - 7 - HX_KEY_LEN - HX_SIG_LEN))
		abort();
	/* and what it signed decodes and verifies */
	if (hx_entry_open(&again, out, outlen) != HX_OK || !same_fields(&e, &again))
		abort();
	hx_entry_clear(&again);
	free(out);
	hx_entry_clear(&e);
	return 0;
}
