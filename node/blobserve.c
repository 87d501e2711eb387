/*
 * blobserve.c: serving attachment blobs to members (docs/PROTOCOL.md §9.2):
 * the hash list (with the bitmap of held chunks for a partial blob) for a
 * BLOB_GET, and the chunks asked for in CHUNK_WANTs, queued per connection
 * (at most BL_SERVE_QUEUE) and sent a few per connection per pass of the
 * loop, within the --blob-rate budget, so that entries are not starved.
 * A chunk of a whole blob marked checked in the store is sent unhashed
 * while its file's stat is unchanged; others are hashed once per run.
 */
#include <stdlib.h>
#include <string.h>
#include "node/blob_int.h"

/* Whether c is still an up connection of the node, the same one as at c_at. */
int hx_nd_blob_conn_alive(hx_node *n, const struct conn *c, uint64_t c_at)
{
	for (size_t i = 0; i < n->nconns; i++)
		if (n->conns[i] == c)
			return c->up && c->connected_at == c_at;
	return 0;
}

void hx_nd_blob_on_get(hx_node *n, struct conn *c, const hx_bwire_msg *m)
{
	uint8_t h[HX_BLOB_LIST_LEN], *hashes = NULL, *held = NULL;
	uint64_t size = 0;
	uint32_t nch = 0;
	int whole = hx_blob_is_whole(n->store, m->hash);
	int rc = hx_blob_hashes(n->store, m->hash, &size, &hashes, &nch);
	if (!rc && !whole)
		rc = hx_nd_blob_held(n->store, m->hash, nch, &held);
	if (rc) {
		free(hashes);
		uint8_t no[HX_BLOB_NONE_LEN];
		hx_bwire_none(no, m->request, m->hash, HX_BNONE_ABSENT);
		hx_nd_send1(n, c, no, sizeof no);
		return;
	}
	const void *parts[3] = { h, hashes, held };
	size_t lens[3] = { hx_bwire_list(h, m->request, m->hash, size, whole ? HX_BLIST_WHOLE : 0),
		           (size_t)nch * HX_ID_LEN, (size_t)(nch + 7) / 8 };
	hx_nd_send_parts(n, c, parts, lens, whole ? 2 : 3);
	free(hashes);
	free(held);
}

void hx_nd_blob_on_want(hx_node *n, struct conn *c, const hx_bwire_msg *m)
{
	struct hx_nd_blobs *b = n->bl;
	size_t queued = 0;
	for (size_t i = 0; i < b->nq; i++)
		queued += b->q[i].c == c;
	for (uint16_t i = 0; i < m->count && queued < BL_SERVE_QUEUE; i++, queued++) {
		struct bserve *a = hx_grow(b->q, &b->capq, b->nq + 1, sizeof *a);
		if (!a)
			return;
		b->q = a;
		struct bserve *e = &b->q[b->nq++];
		e->c = c;
		e->c_at = c->connected_at;
		e->request = m->request;
		e->index = hx_be32_get(m->indexes + 4 * (size_t)i);
		e->sent = 0;
		memcpy(e->hash, m->hash, HX_ID_LEN);
	}
}

/* ---- chunks checked once per run --------------------------------------------------- */

static struct bchecked *checked_find(struct hx_nd_blobs *b, const uint8_t *hash)
{
	for (size_t k = 0; k < b->nchk; k++)
		if (!memcmp(b->chk[k].hash, hash, HX_ID_LEN))
			return &b->chk[k];
	return NULL;
}

static int was_checked(hx_node *n, const uint8_t *hash, uint32_t i)
{
	struct bchecked *c = checked_find(n->bl, hash);
	return c && i / 8 < c->cap && c->bits[i / 8] >> (i % 8) & 1;
}

void hx_nd_blob_mark_checked(hx_node *n, const uint8_t hash[HX_ID_LEN], uint32_t i)
{
	struct hx_nd_blobs *b = n->bl;
	struct bchecked *c = checked_find(b, hash);
	if (!c) {
		if (b->nchk == BL_CHECKED_BLOBS) { /* forget the oldest */
			free(b->chk[0].bits);
			memmove(b->chk, b->chk + 1, --b->nchk * sizeof *b->chk);
		}
		struct bchecked *a = hx_grow(b->chk, &b->capchk, b->nchk + 1, sizeof *a);
		if (!a)
			return;
		b->chk = a;
		c = &a[b->nchk++];
		memset(c, 0, sizeof *c);
		memcpy(c->hash, hash, HX_ID_LEN);
	}
	size_t old = c->cap;
	if (i / 8 >= old) {
		uint8_t *bits = hx_grow(c->bits, &c->cap, (size_t)i / 8 + 1, 1);
		if (!bits)
			return;
		c->bits = bits;
		memset(bits + old, 0, c->cap - old);
	}
	c->bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

void hx_nd_blob_checked_free(struct hx_nd_blobs *b)
{
	for (size_t k = 0; k < b->nchk; k++)
		free(b->chk[k].bits);
	free(b->chk);
	b->chk = NULL;
	b->nchk = b->capchk = 0;
}

/* ---- sending ---------------------------------------------------------------------- */

/* Sends one chunk (or NONE); returns the bytes sent. Like Syncthing's
 * sender, which does not re-hash the blocks it serves (the puller verifies
 * each and asks another device when one does not match, as blobsync.c
 * does), a chunk of a whole blob marked checked in the store whose file's
 * stat is unchanged is read without hashing (hx_blob_read_chunk_serve);
 * any other chunk is hashed when read, so that damage is not passed on,
 * unless this node checked it earlier in this run (a relay serving what it
 * received). The scrub (blobscrub.c) catches damage the stat does not
 * show. */
static size_t serve_one(hx_node *n, const struct bserve *e)
{
	uint8_t h[HX_CHUNK_LEN];
	size_t len = 0;
	/* read into a buffer of its own that zmq sends from and frees (no copy
	 * into a message) */
	uint8_t *buf = malloc(HX_CHUNK_SIZE);
	int hashed = 0, checked = was_checked(n, e->hash, e->index);
	int rc =
	        !buf ? HX_ENOMEM
	        : checked
	                ? hx_blob_read_chunk_checked_before(n->store, e->hash, e->index, buf, &len)
	                : hx_blob_read_chunk_serve(n->store, e->hash, e->index, buf, &len, &hashed);
	if (hashed) {
		n->bl->hashed_out++;
		n->bl->dirty = 1;
		if (!rc)
			hx_nd_blob_mark_checked(n, e->hash, e->index);
	}
	const void *parts[2] = { h, buf };
	size_t lens[2] = { 0, len };
	lens[0] = hx_bwire_chunk(h, e->request, e->hash, e->index, rc ? HX_CHUNK_NONE : 0);
	if (rc) {
		free(buf);
		(void)!hx_nd_send_parts(n, e->c, parts, lens, 1);
		return 0;
	}
	if (hx_nd_send_parts_owned(n, e->c, parts, lens, 2, buf))
		return 0;
	n->bl->bytes_out += len;
	n->bl->chunks_out++;
	n->bl->dirty = 1;
	return len;
}

/* Sends up to BL_SEND_PER_PASS queued chunks per connection, in the order
 * asked; drops those of connections that went away. */
void hx_nd_blob_serve(hx_node *n, uint64_t now)
{
	struct hx_nd_blobs *b = n->bl;
	size_t w = 0;
	if (n->cfg.blob_rate) { /* a token bucket of at most one second */
		double cap =
		        n->cfg.blob_rate > HX_CHUNK_SIZE ? (double)n->cfg.blob_rate : HX_CHUNK_SIZE;
		b->tokens += (double)n->cfg.blob_rate * (double)(now - b->refill) / 1e6;
		b->tokens = b->tokens > cap ? cap : b->tokens;
		b->refill = now;
	}
	for (size_t i = 0; i < b->nq; i++) {
		struct bserve *e = &b->q[i];
		if (!hx_nd_blob_conn_alive(n, e->c, e->c_at))
			continue;
		unsigned sent = 0;
		for (size_t j = 0; j < i; j++)
			sent += b->q[j].c == e->c && b->q[j].sent;
		if (n->cfg.blob_rate && b->tokens < HX_CHUNK_SIZE)
			break;
		if (sent < BL_SEND_PER_PASS) {
			b->tokens -= (double)serve_one(n, e);
			e->sent = 1;
		}
	}
	for (size_t i = 0; i < b->nq; i++)
		if (!b->q[i].sent && hx_nd_blob_conn_alive(n, b->q[i].c, b->q[i].c_at))
			b->q[w++] = b->q[i];
	b->nq = w;
}
