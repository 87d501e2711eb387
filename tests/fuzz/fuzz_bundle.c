/*
 * fuzz_bundle.c: libFuzzer target for the offline-office formats: the
 * bundle reader (proto/bundle.c) and the state file decoder
 * (proto/state.c). The first input byte chooses the mode, the rest is:
 *   0  a state file, its checksum fixed up (so that the CBOR inside is
 *      explored, not the hash)
 *   1  a bundle file as it is
 *   2  chunks separated by 0xff, framed by the writer into a valid bundle
 *      (the records' hashes are then right), then damaged as the first
 *      three bytes say (flip, truncate or insert a byte at a position)
 * Bundle: whatever the bytes, the reader must walk to its end without
 * reading outside the buffer, every event must lie inside the file and move
 * forward, and with only a flip every chunk but at most one comes out
 * intact. State: a file it accepts must be the one canonical encoding of
 * what it decoded (re-encoding gives the same bytes), and selecting against
 * it must not fail on sorted items.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "proto/bundle.h"
#include "proto/state.h"

/* Reads the bundle; returns how many intact records came out. */
static size_t bundle(const uint8_t *d, size_t n)
{
	hx_bundle_manifest m;
	hx_bundle_reader *r;
	size_t intact = 0;
	if (hx_bundle_reader_new(&r, d, n, &m))
		return 0;
	size_t last = 0;
	for (size_t guard = 0;; guard++) {
		hx_bundle_rec rec;
		if (hx_bundle_next(r, &rec) || guard > n + 2)
			abort(); /* no allocation can fail here; no endless walk */
		if (rec.offset > n || rec.offset < last)
			abort();
		if (rec.event == HX_BUNDLE_END)
			break;
		if (rec.event == HX_BUNDLE_DAMAGED &&
		    (!rec.skipped || rec.offset + rec.skipped > n))
			abort();
		if (rec.entry && (rec.entry < d || rec.entry + rec.len > d + n || !rec.len))
			abort();
		if (rec.event == HX_BUNDLE_ENTRY) {
			hx_entry e;
			if (hx_entry_open(&e, rec.entry, rec.len) == HX_OK)
				hx_entry_clear(&e);
			intact++;
		}
		last = rec.offset;
	}
	hx_bundle_reader_free(&r);
	return intact;
}

static void built(const uint8_t *d, size_t n)
{
	static const uint8_t seed[32] = { 7 };
	uint8_t pk[HX_KEY_LEN], sk[HX_SECRET_LEN];
	if (n < 3)
		return;
	uint8_t op = d[0];
	size_t at = (size_t)d[1] << 8 | d[2];
	d += 3;
	n -= 3;
	crypto_sign_seed_keypair(pk, sk, seed);
	hx_bundle_writer *w;
	if (hx_bundle_writer_new(&w))
		abort();
	size_t cap = HX_BUNDLE_HEADER_LEN + n * (HX_BUNDLE_REC_HEAD + 1) + HX_BUNDLE_REC_HEAD + 1;
	uint8_t *b = calloc(1, cap + 1);
	size_t len = HX_BUNDLE_HEADER_LEN, chunks = 0;
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && d[j] != 0xff)
			j++;
		if (j > i) {
			if (hx_bundle_writer_record(w, d + i, j - i, b + len))
				abort();
			memcpy(b + len + HX_BUNDLE_REC_HEAD, d + i, j - i);
			len += HX_BUNDLE_REC_HEAD + j - i;
			chunks++;
		}
		i = j + 1;
	}
	hx_bundle_manifest m = { .created = 1 };
	if (hx_bundle_writer_finish(w, &m, sk, b))
		abort();
	hx_bundle_writer_free(&w);
	size_t got;
	/* A chunk holding a record marker may hide a record of its own, which
	 * resynchronisation after damage can take for a real one. */
	int nested = 0;
	for (size_t i = 0; i + 4 <= n; i++)
		nested |= !memcmp(d + i, HX_BUNDLE_REC_MARK, 4);
	switch (op % 3) {
	case 0: /* flip one byte: at most one record is lost */
		b[at % len] ^= (uint8_t)(op | 1);
		got = bundle(b, len);
		if (!nested &&
		    (at % len >= HX_BUNDLE_HEADER_LEN ? got + 1 < chunks
		                                      : (at % len >= 10 && got != chunks)))
			abort();
		break;
	case 1: /* truncate */ bundle(b, at % (len + 1)); break;
	default: /* insert a byte */
		at %= len + 1;
		memmove(b + at + 1, b + at, len - at);
		b[at] = op;
		bundle(b, len + 1);
	}
	free(b);
}

static void state(const uint8_t *d, size_t n)
{
	hx_state st;
	const char *why = NULL;
	if (hx_state_decode(&st, d, n, &why)) {
		if (!why)
			abort();
		return;
	}
	uint8_t *again;
	size_t len;
	uint8_t digest[32];
	memcpy(digest, st.digest, 32);
	if (hx_state_encode(&st, &again, &len) || len != n || memcmp(again, d, n) ||
	    memcmp(digest, st.digest, 32))
		abort();
	free(again);
	/* Items from the input's hash, sorted: selecting must work. */
	hx_ne_item items[40];
	uint8_t send[40], h[32];
	crypto_generichash(h, sizeof h, d, n, NULL, 0);
	for (size_t i = 0; i < 40; i++) {
		items[i].ts = i < 20 ? i : (uint64_t)h[i % 32] << 20 | i;
		crypto_generichash(items[i].id, 32, h, sizeof h, (uint8_t *)&i, sizeof i);
	}
	for (size_t i = 1; i < 40; i++)
		for (size_t j = i; j > 0 && hx_ne_item_cmp(&items[j - 1], &items[j]) > 0; j--) {
			hx_ne_item t = items[j];
			items[j] = items[j - 1];
			items[j - 1] = t;
		}
	uint64_t excess;
	if (hx_state_select(&st, items, 40, send, &excess))
		abort();
	hx_state_clear(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: {
		uint8_t *c = malloc(size);
		memcpy(c, data + 1, size - 1);
		if (size - 1 > 40)
			crypto_generichash(c + size - 1 - 32, 32, c, size - 1 - 32, NULL, 0);
		state(c, size - 1);
		free(c);
		break;
	}
	case 1: bundle(data + 1, size - 1); break;
	default: built(data + 1, size - 1);
	}
	return 0;
}
