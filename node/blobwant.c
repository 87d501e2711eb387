/*
 * blobwant.c: which blobs this node wants (docs/PROTOCOL.md §9): the
 * attachments of current versions up to the size policy, found in the
 * change log (from its start, a slice at a time) and in what the node
 * itself stores, and the `hansa fetch` requests; the wanted list's
 * entries and refusals. blobsync.c fetches them. Calls blobstate.c and
 * the store.
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

/* The blobs of a stored entry e are wanted if e is still its document's
 * current version. */
static void want_if_current(hx_node *n, const hx_entry *e)
{
	hx_entry cur;
	if (e->nattach && hx_store_current(n->store, e->author, e->path, &cur, NULL) == HX_OK) {
		if (!memcmp(cur.id, e->id, HX_ID_LEN))
			want_entry(n, e);
		hx_entry_clear(&cur);
	}
}

/* The change log from the last scan on; at: how far into b->mine; read:
 * entries read back so far, at most max. */
struct scanning {
	hx_node *n;
	size_t at, read, max;
};

/* Whether this node stored the entry of log row seq itself (looked at
 * then), so that the scan need not read it. */
static int mine_cb(void *arg, uint64_t seq)
{
	struct scanning *x = arg;
	struct hx_nd_blobs *b = x->n->bl;
	while (x->at < b->nmine && b->mine[x->at] < seq)
		x->at++;
	return x->at < b->nmine && b->mine[x->at] == seq;
}

/* e: the entry, when it may attach files (hx_store_changes_attached) */
static int change_cb(void *arg, uint64_t seq, const hx_entry *e)
{
	struct scanning *x = arg;
	(void)seq;
	if (e)
		want_if_current(x->n, e);
	return ++x->read >= x->max; /* 1: the rest at the next scan */
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

/* Whether entries are moving: received ones in the pipeline or its
 * commit, a reconciliation open, WANTs and PUSHes queued or in flight on a
 * connection, or entries moved with its member in the last BUSY_MS. */
static int moving(const hx_node *n, uint64_t now)
{
	if (n->pipe_n || n->wbusy)
		return 1;
	for (size_t i = 0; i < n->nconns; i++) {
		const struct conn *c = n->conns[i];
		if (c->ine || c->rne || c->nwants || c->npushes || c->want_q.n || c->push_q.n ||
		    (c->peer && now < c->peer->busy_until))
			return 1;
	}
	return 0;
}

/* Finds new wanted blobs: the change log from the start, then new entries
 * as they come, and the `hansa fetch` requests. An entry is read back
 * unless this node stored it itself, and decoded only when its bytes may
 * attach files; a log of many thousands
 * (every start reads the whole log) is read a slice per scan, small while
 * entries are moving, so that neither the loop nor a transfer waits. */
void hx_nd_blob_scan(hx_node *n, uint64_t now)
{
	struct hx_nd_blobs *b = n->bl;
	int busy = moving(n, now);
	struct scanning x = { n, 0, 0, busy ? BL_SCAN_SLICE_BUSY : BL_SCAN_SLICE };
	uint64_t last;
	int rc = hx_store_changes_attached(n->store, b->seq, mine_cb, change_cb, &x, &last);
	if (rc == HX_OK || rc == 1)
		b->seq = last;
	/* what the log has been read past is done with */
	size_t drop = 0;
	while (drop < b->nmine && b->mine[drop] <= b->seq)
		drop++;
	if (drop) {
		memmove(b->mine, b->mine + drop, (b->nmine - drop) * sizeof *b->mine);
		b->nmine -= drop;
	}
	b->last_scan = now;
	/* more to read: at once while nothing moves, else after BL_SCAN_MS */
	b->news = rc == 1 && !busy;
	b->scan_due = rc == 1 && busy;
}

void hx_nd_blob_stored(hx_node *n, uint64_t seq, const hx_entry *e)
{
	struct hx_nd_blobs *b = n->bl;
	if (n->cfg.once)
		return; /* a one-shot sync fetches no blobs (hx_nd_blob_tick) */
	/* out of memory, seq is not recorded: the scan reads it back */
	uint64_t *a = hx_grow(b->mine, &b->capmine, b->nmine + 1, sizeof *a);
	if (a) {
		b->mine = a;
		if (!b->nmine || b->mine[b->nmine - 1] < seq)
			b->mine[b->nmine++] = seq;
	}
	if (e->nattach) {
		want_if_current(n, e);
		b->news = 1;
	}
}

void hx_nd_blob_requests(hx_node *n)
{
	(void)!hx_store_kv_list(n->store, "blob-want/", request_cb, n);
	n->bl->next_requests = hx_now_us() + BL_REQUESTS_MS * 1000ull;
}
