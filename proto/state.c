/*
 * state.c: the state file (see state.h; docs/FORMAT.md §5).
 *
 *   magic[8]  89 48 58 53 0d 0a 1a 0a   ("\x89HXS\r\n\x1a\n")
 *   body      deterministic CBOR (proto/cbor.h), map(8) (version 1: map(7)
 *             without key 7):
 *               0: version          uint, 2 (1 is still read)
 *               1: owner            bytes(32)
 *               2: created          uint, microseconds
 *               3: items            uint
 *               4: bucket_size      uint
 *               5: fp_len           uint, 8
 *               6: buckets          array(N) of array(5):
 *                    [ts_delta uint, prefix bytes(0..32), count uint,
 *                     fp bytes(8), sum uint]
 *               7: blobs            bytes(32 * k): the hashes of the whole
 *                                   blobs the office has, strictly increasing
 *   digest[32] BLAKE2b-256 of magic ‖ body
 *
 * ts_delta is the bound's timestamp minus the previous bucket's (the first
 * bucket's bound is (0, empty)). Bounds are strictly increasing; counts are
 * at least 1 and add up to items. fp is the first 8 bytes of Negentropy's
 * fingerprint of the bucket; sum the low 64 bits of its 256-bit id sum
 * (= the sum mod 2^64 of each id's first 8 bytes read little-endian).
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/cbor.h"
#include "proto/state.h"

#define FIELDS_1 7
#define FIELDS 8
#define PAIRS_MAX 256 /* look for two missing items in buckets up to this size */

void hx_state_fp(const uint8_t sum[32], uint64_t count, uint8_t fp[HX_STATE_FP_LEN])
{
	uint8_t full[HX_NE_FP_LEN];
	hx_ne_fingerprint(sum, count, full);
	memcpy(fp, full, HX_STATE_FP_LEN);
}

static uint64_t low64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

void hx_state_clear(hx_state *st)
{
	if (!st)
		return;
	free(st->b);
	free(st->blobs);
	memset(st, 0, sizeof *st);
}

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, HX_ID_LEN);
}

int hx_state_has_blob(const hx_state *st, const uint8_t hash[HX_ID_LEN])
{
	return st->nblobs && bsearch(hash, st->blobs, st->nblobs, HX_ID_LEN, cmp_hash) != NULL;
}

/* 1 when the n hashes at h are strictly increasing. */
static int blobs_increasing(const uint8_t *h, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(h + (i - 1) * HX_ID_LEN, h + i * HX_ID_LEN, HX_ID_LEN) >= 0)
			return 0;
	return 1;
}

/* 1 when item (ts, id) sorts below bucket b's lower bound. */
static int below(uint64_t ts, const uint8_t *id, const hx_state_bucket *b)
{
	if (ts != b->ts)
		return ts < b->ts;
	return memcmp(id, b->prefix, b->prefix_len) < 0;
}

/* The shortest bound between item a and the next item c (a < c). */
static void bound_between(hx_state_bucket *b, const hx_ne_item *a, const hx_ne_item *c)
{
	memset(b->prefix, 0, sizeof b->prefix);
	b->ts = c->ts;
	b->prefix_len = 0;
	if (a->ts != c->ts)
		return;
	size_t k = 0;
	while (k < HX_ID_LEN && a->id[k] == c->id[k])
		k++;
	/* a < c with equal timestamps, so they differ at byte k < 32. */
	b->prefix_len = (uint8_t)(k + 1);
	memcpy(b->prefix, c->id, k + 1);
}

static int increasing(const hx_ne_item *items, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (hx_ne_item_cmp(&items[i - 1], &items[i]) >= 0)
			return 0;
	return 1;
}

int hx_state_build(hx_state *st, const hx_ne_item *items, size_t n, uint64_t bucket_size)
{
	memset(st, 0, sizeof *st);
	if (bucket_size < 1 || bucket_size > HX_STATE_BUCKET_MAX)
		return HX_EINVAL;
	if (!increasing(items, n))
		return HX_EINVAL;
	st->bucket_size = bucket_size;
	st->items = n;
	size_t nb = (size_t)((n + bucket_size - 1) / bucket_size);
	if (nb && !(st->b = calloc(nb, sizeof *st->b)))
		return HX_ENOMEM;
	for (size_t i = 0; i < nb; i++) {
		hx_state_bucket *b = &st->b[i];
		size_t first = i * (size_t)bucket_size;
		size_t end = first + (size_t)bucket_size < n ? first + (size_t)bucket_size : n;
		uint8_t sum[32] = { 0 };
		if (i > 0)
			bound_between(b, &items[first - 1], &items[first]);
		for (size_t j = first; j < end; j++)
			hx_ne_acc_add(sum, items[j].id);
		b->count = end - first;
		hx_state_fp(sum, b->count, b->fp);
		b->sum64 = low64(sum);
	}
	st->n = nb;
	return HX_OK;
}

int hx_state_encode(hx_state *st, uint8_t **out, size_t *len)
{
	hx_buf b = { 0 };
	uint64_t prev = 0;

	*out = NULL;
	*len = 0;
	if (!blobs_increasing(st->blobs, st->nblobs))
		return HX_EINVAL;
	hx_buf_put(&b, HX_STATE_MAGIC, HX_STATE_MAGIC_LEN);
	hx_cbor_head(&b, HX_CBOR_MAP, FIELDS);
	hx_cbor_uint(&b, 0);
	hx_cbor_uint(&b, HX_STATE_VERSION);
	hx_cbor_uint(&b, 1);
	hx_cbor_bytes(&b, st->owner, HX_KEY_LEN);
	hx_cbor_uint(&b, 2);
	hx_cbor_uint(&b, st->created);
	hx_cbor_uint(&b, 3);
	hx_cbor_uint(&b, st->items);
	hx_cbor_uint(&b, 4);
	hx_cbor_uint(&b, st->bucket_size);
	hx_cbor_uint(&b, 5);
	hx_cbor_uint(&b, HX_STATE_FP_LEN);
	hx_cbor_uint(&b, 6);
	hx_cbor_head(&b, HX_CBOR_ARRAY, st->n);
	for (size_t i = 0; i < st->n; i++) {
		const hx_state_bucket *k = &st->b[i];
		hx_cbor_head(&b, HX_CBOR_ARRAY, 5);
		hx_cbor_uint(&b, k->ts - prev);
		hx_cbor_bytes(&b, k->prefix, k->prefix_len);
		hx_cbor_uint(&b, k->count);
		hx_cbor_bytes(&b, k->fp, HX_STATE_FP_LEN);
		hx_cbor_uint(&b, k->sum64);
		prev = k->ts;
	}
	hx_cbor_uint(&b, 7);
	hx_cbor_bytes(&b, st->nblobs ? st->blobs : (const uint8_t *)"", st->nblobs * HX_ID_LEN);
	if (!b.err) {
		crypto_generichash(st->digest, 32, b.data, b.len, NULL, 0);
		hx_buf_put(&b, st->digest, 32);
	}
	if (b.err) {
		free(b.data);
		return b.err;
	}
	*out = b.data;
	*len = b.len;
	return HX_OK;
}

/* Strict order of bounds: (ts, prefix zero-padded to 32 bytes). */
static int bound_cmp(const hx_state_bucket *a, const hx_state_bucket *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return memcmp(a->prefix, b->prefix, HX_ID_LEN);
}

#define FAIL(code, text)         \
	do {                     \
		rc = (code);     \
		reason = (text); \
		goto fail;       \
	} while (0)

static int key(hx_rd *r, uint64_t want)
{
	uint64_t k;
	int rc = hx_cbor_read_uint(r, &k);
	return rc ? rc : k == want ? HX_OK : HX_EPROTO;
}

int hx_state_decode(hx_state *st, const uint8_t *buf, size_t len, const char **why)
{
	const char *reason = NULL;
	uint8_t digest[32];
	uint64_t v, nb, fields, total = 0;
	const uint8_t *p;
	size_t n;
	int rc;

	memset(st, 0, sizeof *st);
	if (len < HX_STATE_MAGIC_LEN || memcmp(buf, HX_STATE_MAGIC, HX_STATE_MAGIC_LEN))
		FAIL(HX_EPROTO, "not a hansa state file");
	if (len < HX_STATE_MAGIC_LEN + 1 + 32)
		FAIL(HX_EPROTO, "state file is truncated");
	crypto_generichash(digest, 32, buf, len - 32, NULL, 0);
	if (memcmp(digest, buf + len - 32, 32))
		FAIL(HX_EPROTO, "state file is damaged or truncated (checksum mismatch)");
	memcpy(st->digest, digest, 32);
	hx_rd r = { buf + HX_STATE_MAGIC_LEN, buf + len - 32 };
	if ((rc = hx_cbor_read_head(&r, HX_CBOR_MAP, &fields)))
		FAIL(HX_EPROTO, "state file: not a map");
	if (key(&r, 0) || hx_cbor_read_uint(&r, &v))
		FAIL(HX_EPROTO, "state file: bad version field");
	if (v != HX_STATE_VERSION && v != HX_STATE_VERSION_1)
		FAIL(HX_EVERSION, "state file of an unknown version");
	if (fields != (v == HX_STATE_VERSION ? FIELDS : FIELDS_1))
		FAIL(HX_EPROTO, v == HX_STATE_VERSION ? "state file: not a map of 8 fields"
		                                      : "state file: not a map of 7 fields");
	st->has_blobs = v == HX_STATE_VERSION;
	if (key(&r, 1) || hx_cbor_read_str(&r, HX_CBOR_BYTES, &p, &n) || n != HX_KEY_LEN)
		FAIL(HX_EPROTO, "state file: bad owner key");
	memcpy(st->owner, p, HX_KEY_LEN);
	if (key(&r, 2) || hx_cbor_read_uint(&r, &st->created) || key(&r, 3) ||
	    hx_cbor_read_uint(&r, &st->items) || key(&r, 4) ||
	    hx_cbor_read_uint(&r, &st->bucket_size))
		FAIL(HX_EPROTO, "state file: bad header field");
	if (key(&r, 5) || hx_cbor_read_uint(&r, &v) || v != HX_STATE_FP_LEN)
		FAIL(HX_EPROTO, "state file: unsupported fingerprint length");
	if (key(&r, 6) || hx_cbor_read_head(&r, HX_CBOR_ARRAY, &nb))
		FAIL(HX_EPROTO, "state file: bad bucket list");
	/* Each bucket takes at least 14 bytes: bounds the allocation. */
	if (nb > (uint64_t)(r.end - r.p) / 14 || nb > st->items)
		FAIL(HX_EPROTO, "state file: more buckets than it can hold");
	if (nb && !(st->b = calloc((size_t)nb, sizeof *st->b)))
		FAIL(HX_ENOMEM, "out of memory");
	for (uint64_t i = 0; i < nb; i++) {
		hx_state_bucket *b = &st->b[i];
		uint64_t delta;
		if (hx_cbor_read_head(&r, HX_CBOR_ARRAY, &v) || v != 5 ||
		    hx_cbor_read_uint(&r, &delta) || hx_cbor_read_str(&r, HX_CBOR_BYTES, &p, &n) ||
		    n > HX_ID_LEN || hx_cbor_read_uint(&r, &b->count))
			FAIL(HX_EPROTO, "state file: malformed bucket");
		memcpy(b->prefix, p, n);
		b->prefix_len = (uint8_t)n;
		if (hx_cbor_read_str(&r, HX_CBOR_BYTES, &p, &n) || n != HX_STATE_FP_LEN)
			FAIL(HX_EPROTO, "state file: malformed bucket");
		memcpy(b->fp, p, n);
		if (hx_cbor_read_uint(&r, &b->sum64))
			FAIL(HX_EPROTO, "state file: malformed bucket");
		if (b->count == 0 || b->count > st->items - total)
			FAIL(HX_EPROTO, "state file: bucket counts do not add up");
		total += b->count;
		if (i == 0) {
			if (delta || b->prefix_len)
				FAIL(HX_EPROTO, "state file: the first bucket must start at 0");
			b->ts = 0;
		} else {
			uint64_t prev = st->b[i - 1].ts;
			if (delta > UINT64_MAX - 1 - prev)
				FAIL(HX_EPROTO, "state file: timestamp out of range");
			b->ts = prev + delta;
			if (bound_cmp(&st->b[i - 1], b) >= 0)
				FAIL(HX_EPROTO, "state file: bucket bounds out of order");
		}
		st->n = (size_t)i + 1;
	}
	if (total != st->items)
		FAIL(HX_EPROTO, "state file: bucket counts do not add up");
	if (st->has_blobs) {
		if (key(&r, 7) || hx_cbor_read_str(&r, HX_CBOR_BYTES, &p, &n) || n % HX_ID_LEN)
			FAIL(HX_EPROTO, "state file: bad blob list");
		if (!blobs_increasing(p, n / HX_ID_LEN))
			FAIL(HX_EPROTO, "state file: blob list out of order");
		if (n && !(st->blobs = malloc(n)))
			FAIL(HX_ENOMEM, "out of memory");
		if (n)
			memcpy(st->blobs, p, n);
		st->nblobs = n / HX_ID_LEN;
	}
	if (r.p != r.end)
		FAIL(HX_EPROTO, "state file: trailing bytes");
	return HX_OK;
fail:
	hx_state_clear(st);
	if (why)
		*why = reason;
	return rc ? rc : HX_EPROTO;
}

/* 1 when our bucket items[0..n) (sum over all of them) without the items
 * at skip[0..k) has the office's count and fingerprint. */
static int explains(const hx_state_bucket *b, const hx_ne_item *items, const uint8_t sum[32],
                    const size_t *skip, size_t k)
{
	uint8_t rest[32], fp[HX_STATE_FP_LEN];
	memcpy(rest, sum, 32);
	for (size_t i = 0; i < k; i++)
		hx_ne_acc_sub(rest, items[skip[i]].id);
	hx_state_fp(rest, b->count, fp);
	return !memcmp(fp, b->fp, HX_STATE_FP_LEN);
}

/* Marks in send[0..n) what the office lacks of our bucket items[0..n),
 * which differs from b; returns how many sent items it may hold. */
static uint64_t differing(const hx_state_bucket *b, const hx_ne_item *items, size_t n,
                          const uint8_t sum[32], uint8_t *send)
{
	/* One or two missing: the difference of the sums' low 64 bits is
	 * their low 64 bits; the fingerprint confirms. */
	uint64_t diff = low64(sum) - b->sum64;
	size_t pick[2];
	if (n == b->count + 1) {
		for (size_t j = 0; j < n; j++) {
			pick[0] = j;
			if (low64(items[j].id) == diff && explains(b, items, sum, pick, 1)) {
				send[j] = 1;
				return 0;
			}
		}
	} else if (n == b->count + 2 && n <= PAIRS_MAX) {
		for (size_t j = 0; j < n; j++)
			for (size_t l = j + 1; l < n; l++) {
				pick[0] = j;
				pick[1] = l;
				if (low64(items[j].id) + low64(items[l].id) == diff &&
				    explains(b, items, sum, pick, 2)) {
					send[j] = send[l] = 1;
					return 0;
				}
			}
	}
	memset(send, 1, n);
	return n < b->count ? n : b->count;
}

int hx_state_select(const hx_state *st, const hx_ne_item *items, size_t n, uint8_t *send,
                    uint64_t *excess_max)
{
	uint64_t excess = 0;

	if (excess_max)
		*excess_max = 0;
	if (!increasing(items, n))
		return HX_EINVAL;
	if (st->n == 0) {
		memset(send, 1, n);
		return HX_OK;
	}
	memset(send, 0, n);
	size_t i = 0;
	for (size_t k = 0; k < st->n && i < n; k++) {
		const hx_state_bucket *next = k + 1 < st->n ? &st->b[k + 1] : NULL;
		uint8_t sum[32] = { 0 }, fp[HX_STATE_FP_LEN];
		size_t first = i;
		while (i < n && (!next || below(items[i].ts, items[i].id, next)))
			hx_ne_acc_add(sum, items[i++].id);
		uint64_t count = i - first;
		if (!count)
			continue;
		hx_state_fp(sum, count, fp);
		if (count == st->b[k].count && !memcmp(fp, st->b[k].fp, HX_STATE_FP_LEN))
			continue;
		excess += differing(&st->b[k], items + first, (size_t)count, sum, send + first);
	}
	if (excess_max)
		*excess_max = excess;
	return HX_OK;
}
