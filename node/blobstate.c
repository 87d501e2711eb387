/*
 * blobstate.c: the blob replication's records in the store's kv table,
 * shared with the commands in other processes (node/blobsync.h): `hansa
 * fetch` requests ("blob-want/<hex>": size u64 BE) and refusals
 * ("blob-refused/<hex>": the reason, text), the gauges ("blob/status":
 * updated, wanted, active, bytes wanted, bytes held, u64 BE each) and the
 * counters ("blob-*", and "blob-bad/<member hex>" per member).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "node/blob_int.h"

void hx_nd_blob_key(char *out, size_t len, const char *prefix, const uint8_t hash[HX_ID_LEN])
{
	char hex[2 * HX_ID_LEN + 1];
	snprintf(out, len, "%s%s", prefix, hx_hex(hex, hash, HX_ID_LEN));
}

int hx_blob_request(hx_store *s, const uint8_t hash[HX_ID_LEN], uint64_t size)
{
	char k[128];
	uint8_t v[8];
	hx_be64_put(v, size);
	hx_nd_blob_key(k, sizeof k, "blob-refused/", hash);
	int rc = hx_store_kv_del(s, k);
	if (rc && rc != HX_ENOTFOUND)
		return rc;
	hx_nd_blob_key(k, sizeof k, "blob-want/", hash);
	if ((rc = hx_store_kv_put(s, k, v, sizeof v)))
		return rc;
	hx_store_wake_config(s);
	return HX_OK;
}

int hx_blob_refusal(hx_store *s, const uint8_t hash[HX_ID_LEN], char *why, size_t whylen)
{
	char k[128];
	void *v;
	size_t len;
	hx_nd_blob_key(k, sizeof k, "blob-refused/", hash);
	int rc = hx_store_kv_get(s, k, &v, &len);
	if (rc)
		return rc;
	snprintf(why, whylen, "%.*s", (int)len, (const char *)v);
	free(v);
	return HX_OK;
}

static const char *const COUNTERS[] = { "blob-done",       "blob-refused",    "blob-bytes-in",
	                                "blob-chunks-in",  "blob-bytes-out",  "blob-chunks-out",
	                                "blob-bad-chunks", "blob-hashed-out", "blob-scrubbed",
	                                "blob-scrub-bad" };

int hx_blob_status_get(hx_store *s, hx_blob_status *st)
{
	void *v;
	size_t len;
	uint64_t *c[] = { &st->done,      &st->refused,    &st->bytes_in,   &st->chunks_in,
		          &st->bytes_out, &st->chunks_out, &st->bad_chunks, &st->hashed_out,
		          &st->scrubbed,  &st->scrub_bad };
	memset(st, 0, sizeof *st);
	int rc = hx_store_kv_get(s, "blob/status", &v, &len);
	if (rc == HX_OK) {
		if (len == 40) {
			const uint8_t *b = v;
			st->updated = hx_be64_get(b);
			st->wanted = hx_be64_get(b + 8);
			st->active = hx_be64_get(b + 16);
			st->bytes_wanted = hx_be64_get(b + 24);
			st->bytes_held = hx_be64_get(b + 32);
		}
		free(v);
	} else if (rc != HX_ENOTFOUND) {
		return rc;
	}
	for (size_t i = 0; i < sizeof c / sizeof *c; i++)
		if ((rc = hx_counter_get(s, COUNTERS[i], c[i])))
			return rc;
	return HX_OK;
}

int hx_blob_is_whole(hx_store *s, const uint8_t hash[HX_ID_LEN])
{
	int st;
	return hx_blob_state(s, hash, &st, NULL, NULL) == HX_OK && st == HX_BLOB_WHOLE;
}

int hx_nd_blob_held(hx_store *s, const uint8_t hash[HX_ID_LEN], uint32_t n, uint8_t **bitmap)
{
	size_t bl = ((size_t)n + 7) / 8, count;
	uint32_t *miss = malloc(((size_t)n + 1) * sizeof *miss);
	uint8_t *bm = malloc(bl + 1);
	int rc = miss && bm ? hx_blob_missing(s, hash, miss, n, &count) : HX_ENOMEM;
	if (rc) {
		free(miss);
		free(bm);
		return rc;
	}
	memset(bm, 0xff, bl);
	if (n % 8)
		bm[bl - 1] = (uint8_t)((1u << (n % 8)) - 1);
	for (size_t i = 0; i < count && i < n; i++)
		if (miss[i] < n)
			bm[miss[i] / 8] &= (uint8_t) ~(1u << (miss[i] % 8));
	free(miss);
	*bitmap = bm;
	return HX_OK;
}

int hx_blob_bad_get(hx_store *s, const uint8_t key[HX_KEY_LEN], uint64_t *v)
{
	char k[128];
	hx_nd_blob_key(k, sizeof k, "blob-bad/", key);
	return hx_counter_get(s, k, v);
}

void hx_nd_blob_flush(hx_node *n, uint64_t now)
{
	struct hx_nd_blobs *b = n->bl;
	uint64_t *c[] = { &b->done,      &b->refused,    &b->bytes_in, &b->chunks_in,
		          &b->bytes_out, &b->chunks_out, &b->bad,      &b->hashed_out };
	uint8_t v[40] = { 0 };
	uint64_t active = 0, bytes = 0, held = 0;
	for (size_t i = 0; i < sizeof c / sizeof *c; i++)
		if (*c[i] && hx_counter_add(n->store, COUNTERS[i], *c[i]) == HX_OK)
			*c[i] = 0;
	for (size_t i = 0; i < b->nx; i++) {
		active += b->x[i]->active;
		bytes += b->x[i]->size;
		held += b->x[i]->held;
	}
	hx_be64_put(v, now);
	hx_be64_put(v + 8, b->nx);
	hx_be64_put(v + 16, active);
	hx_be64_put(v + 24, bytes);
	hx_be64_put(v + 32, held);
	if (hx_store_kv_put(n->store, "blob/status", v, sizeof v) == HX_OK)
		b->dirty = 0;
}
