/*
 * blobwant.c: which blobs this node wants (docs/PROTOCOL.md §9): the
 * attachments of current versions up to the size policy, found in the
 * store and its change log, and the `hansa fetch` requests; the wanted
 * list's entries and refusals. blobsync.c fetches them. Calls
 * blobstate.c and the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "node/blob_int.h"

void hx_nd_bx_free(struct bx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nsrc; i++) {
		free(x->src[i].have);
		free(x->src[i].bad);
	}
	free(x->src);
	free(x->hashes);
	free(x->st);
	free(x->who);
	free(x->deadline);
	free(x);
}

struct bx *hx_nd_bx_find(struct hx_nd_blobs *b, const uint8_t hash[HX_ID_LEN])
{
	for (size_t i = 0; i < b->nx; i++)
		if (!memcmp(b->x[i]->hash, hash, HX_ID_LEN))
			return b->x[i];
	return NULL;
}

void hx_nd_bx_remove(struct hx_nd_blobs *b, struct bx *x)
{
	for (size_t i = 0; i < b->nx; i++)
		if (b->x[i] == x) {
			memmove(b->x + i, b->x + i + 1, (b->nx - i - 1) * sizeof *b->x);
			b->nx--;
			break;
		}
	hx_nd_bx_free(x);
	b->dirty = 1;
}

void hx_nd_blob_refuse(hx_node *n, const uint8_t hash[HX_ID_LEN], uint64_t size, const char *why)
{
	char hex[17], k[128];
	n->bl->refused++;
	n->bl->dirty = 1;
	hx_nd_log(n, "blob %s (%llu bytes) refused: %s", hx_nd_short_hex(hex, hash),
	          (unsigned long long)size, why);
	hx_nd_blob_key(k, sizeof k, "blob-refused/", hash);
	(void)!hx_store_kv_put(n->store, k, why, strlen(why));
	hx_nd_blob_key(k, sizeof k, "blob-want/", hash);
	(void)!hx_store_kv_del(n->store, k);
}

/* Adds a blob to the wanted list unless it is held whole or over a limit. */
static void want(hx_node *n, const uint8_t hash[HX_ID_LEN], uint64_t size, int ondemand)
{
	struct hx_nd_blobs *b = n->bl;
	struct bx *x = hx_nd_bx_find(b, hash);
	if (x) {
		x->ondemand |= ondemand;
		return;
	}
	if (hx_blob_is_whole(n->store, hash))
		return;
	if (!ondemand && size > n->cfg.blob_auto)
		return; /* over the policy: fetched on demand only */
	if (size > n->cfg.blob_max) {
		hx_nd_blob_refuse(n, hash, size, "larger than the largest file this node fetches");
		return;
	}
	if (hx_blob_chunks(size) > HX_BWIRE_CHUNKS_MAX) {
		hx_nd_blob_refuse(n, hash, size, "too many chunks");
		return;
	}
	struct bx **a = hx_grow(b->x, &b->capx, b->nx + 1, sizeof *a);
	if (!a || !(x = calloc(1, sizeof *x)))
		return;
	b->x = a;
	memcpy(x->hash, hash, HX_ID_LEN);
	x->size = size;
	x->n = (uint32_t)hx_blob_chunks(size);
	x->ondemand = ondemand;
	b->x[b->nx++] = x;
	b->dirty = 1;
}

static int want_entry(hx_node *n, const hx_entry *e)
{
	for (size_t i = 0; i < e->nattach; i++)
		want(n, e->attach[i].hash, e->attach[i].size, 0);
	return 0;
}

static int list_cb(void *arg, const hx_entry *e, const uint8_t *raw, size_t rawlen)
{
	(void)raw;
	(void)rawlen;
	return want_entry(arg, e);
}

static int change_cb(void *arg, uint64_t seq, const uint8_t id[HX_ID_LEN])
{
	hx_node *n = arg;
	hx_entry e, cur;
	(void)seq;
	if (hx_store_get(n->store, id, &e, NULL, NULL))
		return 0;
	if (e.nattach && hx_store_current(n->store, e.author, e.path, &cur, NULL) == HX_OK) {
		if (!memcmp(cur.id, e.id, HX_ID_LEN))
			want_entry(n, &e);
		hx_entry_clear(&cur);
	}
	hx_entry_clear(&e);
	return 0;
}

static int request_cb(void *arg, const char *key, const void *val, size_t len)
{
	hx_node *n = arg;
	uint8_t hash[HX_ID_LEN];
	if (len != 8 || hx_unhex(hash, HX_ID_LEN, key + strlen("blob-want/")))
		return 0;
	if (hx_blob_is_whole(n->store, hash)) {
		char k[128];
		hx_nd_blob_key(k, sizeof k, "blob-want/", hash);
		(void)!hx_store_kv_del(n->store, k);
		return 0;
	}
	want(n, hash, hx_be64_get(val), 1);
	return 0;
}

/* Finds new wanted blobs: every current version once at the start, then
 * new entries from the change log, and the `hansa fetch` requests. */
void hx_nd_blob_scan(hx_node *n, uint64_t now)
{
	struct hx_nd_blobs *b = n->bl;
	uint64_t last;
	if (!b->scanned_all) {
		hx_store_stats st;
		if (hx_store_stats_get(n->store, &st) == HX_OK)
			b->seq = st.last_seq;
		(void)!hx_store_list(n->store, NULL, list_cb, n);
		b->scanned_all = 1;
	}
	if (hx_store_changes(n->store, b->seq, change_cb, n, &last) == HX_OK)
		b->seq = last;
	b->last_scan = now;
	b->scan_due = 0;
	b->news = 0;
}

void hx_nd_blob_news(hx_node *n)
{
	n->bl->news = 1;
}

void hx_nd_blob_requests(hx_node *n)
{
	(void)!hx_store_kv_list(n->store, "blob-want/", request_cb, n);
	n->bl->next_requests = hx_now_us() + BL_REQUESTS_MS * 1000ull;
}
