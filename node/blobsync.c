/*
 * blobsync.c: attachment blobs between nodes (docs/PROTOCOL.md §9). For
 * the blobs this node wants (blobwant.c), asking every connected member for a
 * blob's hash list, spreading the missing chunks over the members that hold
 * them with a window in flight per member, checking every chunk against
 * its hash before the blob store keeps it, counting members that send bad
 * chunks; and serving the chunks this node holds, a few per connection per
 * pass so that entry replication is not starved. Calls conn.c and the blob
 * store (store/blob.h), blobwant.c and blobstate.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "node/blob_int.h"

/* ---- fetching ------------------------------------------------------------------------ */

static int bit(const uint8_t *m, uint32_t i)
{
	return m[i / 8] >> (i % 8) & 1;
}

static void bit_set(uint8_t *m, uint32_t i, int v)
{
	if (v)
		m[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		m[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static struct bsrc *src_get(struct bx *x, struct peer *p)
{
	for (size_t i = 0; i < x->nsrc; i++)
		if (x->src[i].peer == p)
			return &x->src[i];
	struct bsrc *a = hx_grow(x->src, &x->capsrc, x->nsrc + 1, sizeof *a);
	if (!a)
		return NULL;
	x->src = a;
	memset(&a[x->nsrc], 0, sizeof *a);
	a[x->nsrc].peer = p;
	return &a[x->nsrc++];
}

/* Chunks in flight from source k go back to the missing set. */
static void src_drop(struct bx *x, size_t k)
{
	if (x->st)
		for (uint32_t i = 0; i < x->n; i++)
			if (x->st[i] == CH_FLIGHT && x->who[i] == k)
				x->st[i] = CH_MISSING;
	x->src[k].flight = 0;
}

/* The hash list is known (from the blob store or a checked BLOB_LIST):
 * sets up the chunk states, with what the store already holds as done. */
static int bx_begin(hx_node *n, struct bx *x, const uint8_t *hashes)
{
	uint8_t *held = NULL;
	int rc;
	if (!(x->hashes = malloc((size_t)x->n * HX_ID_LEN + 1)) || !(x->st = calloc(x->n + 1, 1)) ||
	    !(x->who = calloc(x->n + 1, sizeof *x->who)) ||
	    !(x->deadline = calloc(x->n + 1, sizeof *x->deadline)))
		return HX_ENOMEM;
	memcpy(x->hashes, hashes, (size_t)x->n * HX_ID_LEN);
	rc = hx_blob_begin(n->store, x->hash, x->size, hashes);
	if (rc == HX_EEXIST) { /* whole meanwhile (e.g. `hansa publish` of the same file) */
		x->left = 0;
		memset(x->st, CH_DONE, x->n);
		return HX_OK;
	}
	if (rc || (rc = hx_nd_blob_held(n->store, x->hash, x->n, &held)))
		return rc;
	x->left = x->n;
	x->held = 0;
	for (uint32_t i = 0; i < x->n; i++)
		if (held && bit(held, i)) {
			x->st[i] = CH_DONE;
			x->left--;
			x->held += hx_bwire_chunk_len(x->size, i);
		}
	free(held);
	return HX_OK;
}

static void bx_fail(hx_node *n, struct bx *x, int rc)
{
	char hex[17];
	if (rc == HX_ELIMIT) { /* the blob store's --blob-max or --blob-space */
		hx_nd_blob_refuse(n, x->hash, x->size, "over the largest file or the blob space");
		hx_nd_bx_remove(n->bl, x);
		return;
	}
	hx_nd_log(n, "blob %s: %s; dropped", hx_nd_short_hex(hex, x->hash), hx_strerror(rc));
	hx_nd_bx_remove(n->bl, x);
}

/* Starts a wanted blob, resumed from what the blob store holds when it
 * was begun before (the blob store refuses one over a limit when it is
 * begun, before anything is written). 1 when it became active. */
static int activate(hx_node *n, struct bx *x, uint64_t now)
{
	uint8_t *hashes = NULL;
	uint64_t size;
	uint32_t nch;
	int st, rc = hx_blob_state(n->store, x->hash, &st, NULL, NULL);
	if (rc) {
		bx_fail(n, x, rc);
		return 0;
	}
	if (st == HX_BLOB_PARTIAL) {
		if ((rc = hx_blob_hashes(n->store, x->hash, &size, &hashes, &nch)) == HX_OK &&
		    (size != x->size || nch != x->n))
			rc = HX_ECORRUPT;
		if (!rc)
			rc = bx_begin(n, x, hashes);
		free(hashes);
		if (rc) {
			bx_fail(n, x, rc);
			return 0;
		}
	}
	x->active = 1;
	x->started = now;
	return 1;
}

/* The blob's state went away under the transfer (dropped, e.g. by gc in
 * another process): starts it again from its hash list, every source asked
 * anew. */
static void bx_restart(hx_node *n, struct bx *x)
{
	char hex[17];
	hx_nd_log(n, "blob %s went away while it was fetched; starting again",
	          hx_nd_short_hex(hex, x->hash));
	for (size_t k = 0; k < x->nsrc; k++) {
		src_drop(x, k);
		x->src[k].state = SRC_NEW;
	}
	free(x->hashes);
	free(x->st);
	free(x->who);
	free(x->deadline);
	x->hashes = x->st = NULL;
	x->who = NULL;
	x->deadline = NULL;
	x->held = 0;
	x->active = 0;
}

/* Chunks taken as present that the store no longer holds (the blob was
 * dropped and begun again meanwhile) are missing again. */
static void forget_lost(struct bx *x, const uint8_t *held)
{
	for (uint32_t i = 0; i < x->n; i++)
		if (x->st[i] == CH_DONE && !bit(held, i)) {
			x->st[i] = CH_MISSING;
			x->left++;
			x->held -= hx_bwire_chunk_len(x->size, i);
		}
}

static void finish(hx_node *n, struct bx *x, uint64_t now)
{
	char hex[17], k[128];
	int rc = hx_blob_finish(n->store, x->hash);
	if (rc == HX_ENOTFOUND) { /* dropped meanwhile */
		bx_restart(n, x);
		return;
	}
	if (rc == HX_EBUSY) { /* dropped and begun again: ask for what it lacks */
		uint8_t *held = NULL;
		if ((rc = hx_nd_blob_held(n->store, x->hash, x->n, &held)) == HX_OK) {
			forget_lost(x, held);
			free(held);
			if (x->left)
				return;
			rc = HX_ECORRUPT; /* the store lacks what its bitmap holds */
		}
	}
	if (rc) {
		bx_fail(n, x, rc);
		return;
	}
	size_t nsrc = 0;
	for (size_t i = 0; i < x->nsrc; i++)
		nsrc += x->src[i].state == SRC_LIST;
	hx_nd_log(n, "blob %s fetched: %llu bytes in %.1f s, %zu source%s",
	          hx_nd_short_hex(hex, x->hash), (unsigned long long)x->size,
	          (double)(now - x->started) / 1e6, nsrc, nsrc == 1 ? "" : "s");
	n->bl->done++;
	hx_nd_ftext_want(n, x->hash); /* its text, on the extraction thread (ftextq.c) */
	hx_nd_blob_key(k, sizeof k, "blob-want/", x->hash);
	(void)!hx_store_kv_del(n->store, k);
	hx_nd_bx_remove(n->bl, x);
}

/* The chunks of a batch the commit thread synced and committed (rc its
 * result): those the store now holds are DONE, the others (a failed
 * commit, a blob dropped and begun again meanwhile) are missing again and
 * asked for at once; a blob whose state is gone starts again. */
static void resolve(hx_node *n, const struct hx_nd_bchunk *ch, size_t k, int rc, uint64_t now)
{
	struct hx_nd_blobs *b = n->bl;
	if (rc)
		hx_nd_log(n, "cannot keep received chunks: %s; asking for them again",
		          hx_strerror(rc));
	for (size_t j = 0; j < k; j++) {
		struct bx *x = hx_nd_bx_find(b, ch[j].hash);
		int seen = 0;
		for (size_t p = 0; p < j && !seen; p++)
			seen = !memcmp(ch[p].hash, ch[j].hash, HX_ID_LEN);
		if (seen || !x || !x->st)
			continue; /* each blob once; one no longer wanted */
		uint8_t *held = NULL;
		int r = hx_nd_blob_held(n->store, x->hash, x->n, &held);
		if (r == HX_ENOTFOUND) {
			bx_restart(n, x);
			continue;
		}
		for (size_t p = j; p < k; p++) {
			uint32_t i = ch[p].index;
			if (memcmp(ch[p].hash, x->hash, HX_ID_LEN) || i >= x->n ||
			    x->st[i] != CH_WRITTEN)
				continue;
			if (!r && bit(held, i)) {
				x->st[i] = CH_DONE;
				x->left--;
				x->held += hx_bwire_chunk_len(x->size, i);
			} else {
				x->st[i] = CH_MISSING;
			}
		}
		if (!r)
			forget_lost(x, held);
		free(held);
		b->dirty = 1;
		if (!x->left)
			finish(n, x, now);
	}
}

/* Takes the result of a commit the thread finished, and hands it the
 * chunks written since. */
static void commit_step(hx_node *n, uint64_t now)
{
	struct hx_nd_blobs *b = n->bl;
	const struct hx_nd_bchunk *ch;
	size_t k;
	int rc;
	if (hx_nd_bc_take(b->bc, &ch, &k, &rc))
		resolve(n, ch, k, rc, now);
	if (hx_nd_bc_kick(b->bc))
		hx_nd_log(n, "cannot start the thread that keeps received chunks");
}

void hx_nd_blob_on_commit(hx_node *n)
{
	commit_step(n, hx_now_us());
}

int hx_nd_blob_fd(const hx_node *n)
{
	return n->bl ? hx_nd_bc_fd(n->bl->bc) : -1;
}

static void ask(hx_node *n, struct bx *x, struct bsrc *s, struct conn *c, uint64_t now)
{
	uint8_t m[HX_BLOB_GET_LEN];
	hx_bwire_get(m, ++n->bl->next_req, x->hash);
	if (hx_nd_send1(n, c, m, sizeof m))
		return;
	s->c = c;
	s->c_at = c->connected_at;
	s->state = SRC_ASKED;
	s->at = now;
}

/* Hands missing chunks that source k holds to it, up to its window. */
static void assign(hx_node *n, struct bx *x, size_t k, uint64_t now)
{
	struct bsrc *s = &x->src[k];
	uint32_t ix[HX_BWIRE_WANT_MAX];
	uint16_t cnt = 0;
	if (hx_nd_bc_busy(n->bl->bc) && hx_nd_bc_filling(n->bl->bc) >= BL_BATCH_MAX)
		return; /* the disk lags: asked again once the commit is done */
	for (uint32_t j = 0; j < x->n && s->flight + cnt < BL_WINDOW; j++) {
		uint32_t i = (x->cursor + j) % x->n;
		if (x->st[i] != CH_MISSING || (s->have && !bit(s->have, i)) ||
		    (s->bad && bit(s->bad, i)))
			continue;
		ix[cnt++] = i;
	}
	if (!cnt)
		return;
	uint8_t m[HX_CHUNK_WANT_HDR_LEN + 4 * HX_BWIRE_WANT_MAX];
	size_t len = hx_bwire_want(m, ++n->bl->next_req, x->hash, ix, cnt);
	if (hx_nd_send1(n, s->c, m, len))
		return;
	for (uint16_t j = 0; j < cnt; j++) {
		x->st[ix[j]] = CH_FLIGHT;
		x->who[ix[j]] = (uint16_t)k;
		x->deadline[ix[j]] = now + BL_CHUNK_TIMEOUT_MS * 1000ull;
	}
	s->flight += cnt;
	/* the next source starts after these: sources fetch different runs */
	x->cursor = (ix[cnt - 1] + 1) % x->n;
}

static void bx_tick(hx_node *n, struct bx *x, uint64_t now)
{
	/* ask every connected member that was not asked, or said none */
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		struct conn *c = hx_nd_primary_conn(n, p, NULL);
		if (!c)
			continue;
		struct bsrc *s = src_get(x, p);
		if (!s)
			return;
		int partial = s->state == SRC_LIST && s->have;
		if (s->state == SRC_NEW ||
		    (s->state == SRC_ASKED && now - s->at > BL_ASK_TIMEOUT_MS * 1000ull) ||
		    ((s->state == SRC_NONE || partial) && now >= s->at))
			ask(n, x, s, c, now);
	}
	for (size_t k = 0; k < x->nsrc; k++) {
		struct bsrc *s = &x->src[k];
		if (s->state != SRC_NEW && !hx_nd_blob_conn_alive(n, s->c, s->c_at)) {
			src_drop(x, k);
			s->state = SRC_NEW;
		}
	}
	if (!x->st)
		return;
	if (!x->left) { /* an empty file, or the store had every chunk */
		finish(n, x, now);
		return;
	}
	for (uint32_t i = 0; i < x->n; i++)
		if (x->st[i] == CH_FLIGHT && now > x->deadline[i]) {
			x->st[i] = CH_MISSING;
			x->src[x->who[i]].flight--;
		}
	for (size_t k = 0; k < x->nsrc; k++)
		if (x->src[k].state == SRC_LIST)
			assign(n, x, k, now);
}

/* ---- messages ------------------------------------------------------------------------ */

static void bad_list(hx_node *n, struct conn *c, const char *why)
{
	c->peer->st.bad_messages++;
	c->peer->dirty = 1;
	hx_nd_log(n, "bad blob list from %s: %s", c->peer->name, why);
}

static void on_list(hx_node *n, struct conn *c, const hx_bwire_msg *m, uint64_t now)
{
	struct bx *x = hx_nd_bx_find(n->bl, m->hash);
	uint8_t h[HX_ID_LEN];
	if (!x || !x->active)
		return;
	struct bsrc *s = src_get(x, c->peer);
	if (!s)
		return;
	if (m->size != x->size)
		return bad_list(n, c, "its size is not the attachment's");
	hx_blob_hash(h, m->size, m->hashes);
	if (memcmp(h, x->hash, HX_ID_LEN))
		return bad_list(n, c, "its chunk hashes do not give the blob hash");
	if (!x->hashes) {
		int rc = bx_begin(n, x, m->hashes);
		if (rc)
			return bx_fail(n, x, rc);
	}
	size_t bl = ((size_t)x->n + 7) / 8;
	if (m->bitmap) {
		if (!s->have && !(s->have = malloc(bl + 1)))
			return;
		memcpy(s->have, m->bitmap, bl);
		s->at = now + BL_REASK_MS * 1000ull;
	} else {
		free(s->have);
		s->have = NULL;
	}
	if (!s->bad)
		s->bad = calloc(bl + 1, 1);
	s->c = c;
	s->c_at = c->connected_at;
	s->state = SRC_LIST;
}

static void on_none(hx_node *n, struct conn *c, const hx_bwire_msg *m, uint64_t now)
{
	struct bx *x = hx_nd_bx_find(n->bl, m->hash);
	struct bsrc *s = x ? src_get(x, c->peer) : NULL;
	if (!s)
		return;
	for (size_t k = 0; k < x->nsrc; k++)
		if (&x->src[k] == s)
			src_drop(x, k);
	s->state = SRC_NONE;
	s->at = now + BL_REASK_MS * 1000ull;
}

static void on_chunk(hx_node *n, struct conn *c, const hx_bwire_msg *m, uint64_t now)
{
	struct bx *x = hx_nd_bx_find(n->bl, m->hash);
	if (!x || !x->st || m->index >= x->n || x->st[m->index] != CH_FLIGHT)
		return; /* not asked for (any more) */
	size_t k = x->who[m->index];
	struct bsrc *s = &x->src[k];
	if (s->peer != c->peer)
		return; /* asked of another member */
	x->st[m->index] = CH_MISSING;
	s->flight--;
	if (m->flags & HX_CHUNK_NONE) {
		if (s->have)
			bit_set(s->have, m->index, 0);
		return;
	}
	/* the blob store checks the length and the hash (once) before it writes */
	int rc = hx_nd_bc_write(n->bl->bc, x->hash, m->index, m->data, m->datalen);
	if (rc == HX_EFORGED || rc == HX_EINVAL) {
		char hex[17], k2[128];
		bit_set(s->bad, m->index, 1);
		n->bl->bad++;
		n->bl->dirty = 1;
		hx_nd_blob_key(k2, sizeof k2, "blob-bad/", c->peer->key);
		(void)!hx_counter_add(n->store, k2, 1);
		hx_nd_log(n, "bad chunk %u of blob %s from %s: not asked of it again", m->index,
		          hx_nd_short_hex(hex, x->hash), c->peer->name);
		hx_nd_stats_error(c->peer, "sent a chunk that does not match its hash");
		return;
	}
	if (rc == HX_ENOTFOUND) { /* dropped under the transfer */
		bx_restart(n, x);
		return;
	}
	if (rc && rc != HX_EEXIST) {
		hx_nd_log(n, "cannot keep a chunk of a blob: %s", hx_strerror(rc));
		return;
	}
	if (!rc)
		hx_nd_blob_mark_checked(n, x->hash, m->index); /* served unhashed */
	/* present once the store says so, after its batch's commit (resolve) */
	x->st[m->index] = CH_WRITTEN;
	n->bl->bytes_in += m->datalen;
	n->bl->chunks_in++;
	n->bl->dirty = 1;
	commit_step(n, now); /* to the thread at once when it is idle */
	if (!x->left)
		finish(n, x, now);
	else
		assign(n, x, k, now);
}

void hx_nd_blob_on_msg(hx_node *n, struct conn *c, zmq_msg_t *f, size_t k)
{
	const uint8_t *fr[3];
	size_t lens[3];
	hx_bwire_msg m;
	uint64_t now = hx_now_us();
	if (k > 3) {
		c->peer->st.bad_messages++;
		return;
	}
	for (size_t i = 0; i < k; i++) {
		fr[i] = zmq_msg_data(&f[i]);
		lens[i] = zmq_msg_size(&f[i]);
	}
	int rc = hx_bwire_decode(&m, fr, lens, k);
	if (rc) {
		c->peer->st.bad_messages++;
		c->peer->dirty = 1;
		hx_nd_log(n, "bad message from %s: %s (%s)", c->peer->name,
		          hx_bwire_type_name(k && lens[0] > 1 ? fr[0][1] : 0), hx_strerror(rc));
		return;
	}
	switch (m.type) {
	case HX_MSG_BLOB_GET: hx_nd_blob_on_get(n, c, &m); break;
	case HX_MSG_BLOB_LIST: on_list(n, c, &m, now); break;
	case HX_MSG_BLOB_NONE: on_none(n, c, &m, now); break;
	case HX_MSG_CHUNK_WANT: hx_nd_blob_on_want(n, c, &m); break;
	case HX_MSG_CHUNK: on_chunk(n, c, &m, now); break;
	}
}

/* ---- the node's hooks -------------------------------------------------------------------- */

int hx_nd_blob_new(hx_node *n)
{
	if (!n->cfg.blob_auto)
		n->cfg.blob_auto = HX_BLOB_AUTO_DEFAULT;
	if (!n->cfg.blob_max)
		n->cfg.blob_max = HX_BLOB_FILE_MAX;
	if (!n->cfg.blob_space)
		n->cfg.blob_space = HX_BLOB_SPACE_MAX;
	hx_blob_set_limits(n->store, n->cfg.blob_max, n->cfg.blob_space);
	if (!n->cfg.blob_transfers)
		n->cfg.blob_transfers = HX_BLOB_TRANSFERS_DEFAULT;
	if (!(n->bl = calloc(1, sizeof *n->bl)) || hx_nd_bc_new(&n->bl->bc, n->store))
		return HX_ENOMEM;
	n->bl->next_req = (uint32_t)randombytes_random();
	n->bl->refill = hx_now_us();
	return HX_OK;
}

void hx_nd_blob_destroy(hx_node *n)
{
	struct hx_nd_blobs *b = n->bl;
	if (!b)
		return;
	hx_nd_scrub_stop(b);
	if (b->bc && hx_nd_bc_drain(b->bc))
		hx_nd_log(n, "cannot keep the last received chunks; they are fetched again");
	if (b->dirty || b->nx)
		hx_nd_blob_flush(n, hx_now_us());
	for (size_t i = 0; i < b->nx; i++)
		hx_nd_bx_free(b->x[i]);
	free(b->x);
	free(b->q);
	hx_nd_bc_free(&b->bc);
	hx_nd_blob_checked_free(b);
	free(b->mine);
	free(b);
	n->bl = NULL;
}

void hx_nd_blob_tick(hx_node *n, uint64_t now, int flush_now)
{
	struct hx_nd_blobs *b = n->bl;
	commit_step(n, now); /* what arrived in this pass of the loop */
	if (n->cfg.once)
		return;
	if (now >= b->next_requests)
		hx_nd_blob_requests(n);
	if (b->news || now - b->last_scan >= BL_SCAN_MS * 1000ull)
		hx_nd_blob_scan(n, now);
	else
		b->scan_due = 1;
	/* on-demand blobs first, then in the order found */
	unsigned active = 0;
	for (size_t i = 0; i < b->nx; i++)
		active += b->x[i]->active;
	for (int pass = 0; pass < 2 && active < n->cfg.blob_transfers; pass++)
		for (size_t i = 0; i < b->nx && active < n->cfg.blob_transfers; i++) {
			struct bx *x = b->x[i];
			if (!x->active && x->ondemand == !pass && activate(n, x, now))
				active++;
			if (i < b->nx && b->x[i] != x)
				i--; /* x was removed */
		}
	for (size_t i = 0; i < b->nx; i++) {
		struct bx *x = b->x[i];
		if (x->active)
			bx_tick(n, x, now);
		if (i < b->nx && b->x[i] != x)
			i--;
	}
	hx_nd_blob_serve(n, now);
	hx_nd_scrub_tick(n);
	if (flush_now && b->dirty)
		hx_nd_blob_flush(n, now);
}

uint64_t hx_nd_blob_deadline(hx_node *n, uint64_t now)
{
	struct hx_nd_blobs *b = n->bl;
	uint64_t t = b->next_requests;
	if (n->cfg.once)
		return UINT64_MAX;
	if (b->nq && n->cfg.blob_rate && b->tokens < HX_CHUNK_SIZE)
		t = now + (uint64_t)((HX_CHUNK_SIZE - b->tokens) * 1e6 / (double)n->cfg.blob_rate);
	else if (b->nq)
		return now;
	if (b->news)
		return now;
	if (b->scan_due && b->last_scan + BL_SCAN_MS * 1000ull < t)
		t = b->last_scan + BL_SCAN_MS * 1000ull;
	for (size_t i = 0; i < b->nx; i++) {
		struct bx *x = b->x[i];
		if (!x->active)
			continue;
		for (size_t k = 0; k < x->nsrc; k++) {
			uint64_t a = x->src[k].state == SRC_ASKED
			                     ? x->src[k].at + BL_ASK_TIMEOUT_MS * 1000ull
			             : x->src[k].state == SRC_NONE || x->src[k].have ? x->src[k].at
			                                                             : UINT64_MAX;
			if (a < t)
				t = a;
		}
		for (uint32_t j = 0; x->st && j < x->n; j++)
			if (x->st[j] == CH_FLIGHT && x->deadline[j] < t)
				t = x->deadline[j];
	}
	if (b->dirty)
		t = t < now + STATS_FLUSH_MS * 1000ull ? t : now + STATS_FLUSH_MS * 1000ull;
	return t + 1;
}
