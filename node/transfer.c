/*
 * transfer.c: sending entries (docs/PROTOCOL.md §6.3). The push queue of each
 * connection (local changes, relays, reconciliation results) goes out as
 * PUSH batches acknowledged by ACK; the want queue as WANT requests answered
 * by ENTRIES, with as many requests in flight as a window of entries and
 * bytes holds; ANNOUNCE and REFUSED from the peer. Receiving and storing
 * is receive.c's. Calls conn.c and idq.c.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/roster.h"
#include "node/node_int.h"

/* ---- sending: hx_nd_relay, push and want queues ------------------------------------ */

/* Queues ids for every connected member except source (and itself): with
 * ann, on the announce queue of the members that understand ANNOUNCE;
 * else on the push queue, of all of them, or (source set, live: a relay
 * after the commit) of those that do not understand ANNOUNCE, as
 * forward() reached the others before the commit. This node's own writes
 * (no source) go to a lazy member that understands ANNOUNCE as ANNOUNCE
 * too: the tree brings it the entry, and a PUSH besides was the duplicate
 * body most of a mesh's fan-out overhead came from (bench/fanout.c). */
static void enqueue(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN],
                    size_t k, int live, int ann)
{
	if (!k || n->cfg.once)
		return;
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		if (p == source || (ann && p->pushed) || !memcmp(p->key, n->cfg.pk, HX_KEY_LEN))
			continue;
		struct conn *c = hx_nd_primary_conn(n, p, NULL);
		int cap = c && (c->peer_caps & HX_CAP_ANNOUNCE);
		if (!c || (ann ? !cap : source && live && cap))
			continue;
		int to_ann = ann || (!source && live && cap && p->lazy);
		struct idq *q = to_ann ? &c->ann_q : &c->push_q;
		if (q->n + k > PUSH_BACKLOG_MAX) {
			/* Too much to push one by one: reconcile instead. */
			hx_nd_idq_clear(q);
			c->recon_due = 2;
			continue;
		}
		for (size_t j = 0; j < k; j++)
			if (hx_nd_idq_push(q, ids[j], live))
				break;
		if (to_ann)
			hx_nd_pump(n, c, hx_now_us());
	}
}

void hx_nd_relay(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN], size_t k,
                 int live)
{
	enqueue(n, source, ids, k, live, 0);
}

void hx_nd_announce(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN],
                    size_t k)
{
	enqueue(n, source, ids, k, 1, 1);
}

/* A fast author check on a stored (hence valid) entry: the author key is
 * at a fixed offset in the canonical encoding (docs/FORMAT.md §1.2: map of
 * 10 to 12 pairs, version 1 or 2). */
static const uint8_t *raw_author(const uint8_t *raw, size_t len)
{
	static const uint8_t pre[4] = { 0x01, 0x58, 0x20 };
	if (len < 7 + HX_KEY_LEN || raw[0] != 0x82 || raw[1] < 0xaa || raw[1] > 0xac ||
	    raw[2] != 0x00 || raw[3] < 1 || raw[3] > 2 || memcmp(raw + 4, pre, 3))
		return NULL;
	return raw + 7;
}

/* Reads up to max entries of q for c's member p (skipping ones we no
 * longer have, whose author is no longer a member, that are longer than
 * the frames c's other side accepts, or that p was sent since its
 * transfers last rested) into raws, and their ids into ids. *used: how many
 * ids of q that consumed; the caller pops them, and marks the ids as sent
 * (sent_mark) once the batch is out, so that what a failed send leaves in
 * the queue can still go out, on this connection or another. */
static size_t take_entries(hx_node *n, struct conn *c, struct idq *q, size_t max, uint8_t **raws,
                           size_t *lens, uint8_t (*ids)[HX_ID_LEN], int *live, size_t *used_out)
{
	struct peer *p = c->peer;
	size_t k = 0, bytes = 0, used = 0;
	*live = 0;
	while (used < q->n && k < max && bytes < HX_WIRE_BATCH_BYTES) {
		const uint8_t *id = q->id[q->head + used];
		int l = q->live[q->head + used];
		used++;
		uint8_t *raw;
		size_t len;
		if (hx_nd_idset_has(&p->sent, id) || hx_store_get(n->store, id, NULL, &raw, &len))
			continue;
		const uint8_t *a = raw_author(raw, len);
		if ((a && !hx_nd_member_by_key(n, a)) || len > c->peer_max_frame) {
			free(raw);
			continue;
		}
		memcpy(ids[k], id, HX_ID_LEN);
		raws[k] = raw;
		lens[k] = len;
		bytes += len;
		*live |= l;
		k++;
	}
	*used_out = used;
	return k;
}

void hx_nd_sent_mark(struct peer *p, uint8_t (*ids)[HX_ID_LEN], size_t k)
{
	for (size_t i = 0; i < k; i++)
		(void)hx_nd_idset_add(&p->sent, ids[i]);
}

static int send_batch(hx_node *n, struct conn *c, uint8_t *hdr, size_t hlen, uint8_t **raws,
                      size_t *lens, size_t k)
{
	const void *parts[MAXF];
	size_t pl[MAXF];
	parts[0] = hdr;
	pl[0] = hlen;
	for (size_t i = 0; i < k; i++) {
		parts[1 + i] = raws[i];
		pl[1 + i] = lens[i];
	}
	int rc = hx_nd_send_parts(n, c, parts, pl, 1 + k);
	for (size_t i = 0; i < k; i++)
		free(raws[i]);
	return rc;
}

/* Whether ids entries in flight leave room in the transfer window:
 * within WANT_WINDOW_IDS and, at the mean size of the entries received so
 * far, WANT_WINDOW_BYTES. */
static int window_room(const hx_node *n, uint64_t ids)
{
	return ids < WANT_WINDOW_IDS && ids * n->entry_mean < WANT_WINDOW_BYTES;
}

/* Whether another WANT may go out on c: the entries requested and not yet
 * committed (a request leaves the window when its last batch is stored)
 * leave room in the window: enough that the sender never waits while this
 * node commits (receive.c), and a bound on what it holds. */
static int want_room(const hx_node *n, const struct conn *c)
{
	uint64_t ids = 0;
	for (unsigned i = 0; i < c->nwants; i++)
		ids += c->wants[i].count;
	return window_room(n, ids);
}

/* Whether another PUSH may go out on c: up to WINDOW in flight; more, up
 * to PUSHES_MAX, when they and the next one carry a reconciliation's
 * result (no LIVE flag) and stay within the want window's entries and
 * bytes, so that the receiver can commit them in bulk (pipe.c). The bytes
 * are those of the PUSHes in flight: the mean of the entries received,
 * which sizes the WANT window, is a guess of 2 KiB at a node that has
 * received nothing, which held an initial sync's sender to 16,384
 * entries in flight, one bulk commit: the receiver then had nothing to
 * verify while it committed, and the sender nothing to send. */
static int push_room(const struct conn *c)
{
	if (c->npushes < WINDOW)
		return 1;
	if (c->npushes >= PUSHES_MAX || c->push_q.live[c->push_q.head])
		return 0;
	uint64_t ids = 0, bytes = 0;
	for (unsigned i = 0; i < c->npushes; i++) {
		if (!c->pushes[i].transfer)
			return 0;
		ids += c->pushes[i].count;
		bytes += c->pushes[i].bytes;
	}
	return ids < WANT_WINDOW_IDS && bytes < WANT_WINDOW_BYTES;
}

/* k ids went to p in an ANNOUNCE: remembered (the last ANNOUNCED_MAX or
 * so; the set starts again when full), so that its WANT of one of them
 * tells a graft from a reconciliation's WANT (hx_nd_on_want). */
static void note_announced(hx_node *n, struct peer *p, const uint8_t *ids, size_t k)
{
	__atomic_add_fetch(&n->announced, k, __ATOMIC_RELAXED);
	if (p->announced.n + k > ANNOUNCED_MAX)
		hx_nd_idset_free(&p->announced);
	for (size_t i = 0; i < k; i++)
		if (hx_nd_idset_add(&p->announced, ids + i * HX_ID_LEN) < 0)
			break; /* out of memory: a graft may come later */
}

void hx_nd_pump(hx_node *n, struct conn *c, uint64_t now)
{
	if (!c->up)
		return;
	size_t maxb = c->peer_max_batch < HX_WIRE_BATCH_MAX ? c->peer_max_batch : HX_WIRE_BATCH_MAX;
	while (c->ann_q.n) {
		/* ids the member is not known to have; no window, no answer */
		size_t max = c->ann_q.n < HX_WIRE_WANT_MAX ? c->ann_q.n : HX_WIRE_WANT_MAX;
		uint8_t *ids = malloc(max * HX_ID_LEN),
		        *buf = malloc(HX_ANNOUNCE_HDR_LEN + max * HX_ID_LEN);
		size_t k = 0, used = 0;
		int rc = !ids || !buf;
		while (!rc && used < c->ann_q.n && k < max) {
			const uint8_t *id = c->ann_q.id[c->ann_q.head + used++];
			if (!hx_nd_idset_has(&c->peer->sent, id))
				memcpy(ids + k++ * HX_ID_LEN, id, HX_ID_LEN);
		}
		if (!rc && k &&
		    !(rc = hx_nd_send1(n, c, buf, hx_wire_announce(buf, ids, (uint16_t)k))))
			note_announced(n, c->peer, ids, k);
		free(ids);
		free(buf);
		if (rc)
			return;
		hx_nd_idq_pop(&c->ann_q, used);
	}
	while (c->push_q.n && push_room(c)) {
		uint8_t *raws[HX_WIRE_BATCH_MAX], ids[HX_WIRE_BATCH_MAX][HX_ID_LEN];
		size_t lens[HX_WIRE_BATCH_MAX];
		int live;
		size_t used,
		        k = take_entries(n, c, &c->push_q, maxb, raws, lens, ids, &live, &used);
		if (!k) {
			hx_nd_idq_pop(&c->push_q, used);
			continue;
		}
		uint8_t h[HX_PUSH_LEN];
		uint64_t seq = ++c->next_seq;
		hx_wire_push(h, seq, (uint16_t)k, live ? HX_PUSH_LIVE : 0);
		if (send_batch(n, c, h, sizeof h, raws, lens, k))
			return; /* the ids stay queued (or went to another connection) */
		hx_nd_idq_pop(&c->push_q, used);
		hx_nd_sent_mark(c->peer, ids, k);
		/* a transfer's ACK comes after its bulk commit (PROTOCOL.md §6.4) */
		uint64_t ms = live ? ACK_TIMEOUT_MS : WANT_TIMEOUT_MS, bytes = 0;
		for (size_t i = 0; i < k; i++)
			bytes += lens[i];
		c->pushes[c->npushes++] = (struct inflight){ .id = seq,
			                                     .deadline = now + ms * 1000ull,
			                                     .count = (uint32_t)k,
			                                     .bytes = bytes,
			                                     .transfer = !live };
		uint64_t flying = 0;
		for (unsigned i = 0; !live && i < c->npushes; i++)
			flying += c->pushes[i].transfer ? c->pushes[i].count : 0;
		if (flying > n->push_peak)
			__atomic_store_n(&n->push_peak, flying, __ATOMIC_RELAXED);
		c->peer->st.sent += k;
		c->peer->dirty = 1;
		if (n->cfg.verbose)
			hx_nd_log(n, "pushed %zu entr%s to %s", k, k == 1 ? "y" : "ies",
			          c->peer->name);
	}
	size_t maxw = maxb < HX_WIRE_WANT_MAX ? maxb : HX_WIRE_WANT_MAX;
	while (c->nwants < WANTS_MAX && c->want_q.n && want_room(n, c)) {
		size_t k = c->want_q.n < maxw ? c->want_q.n : maxw;
		uint8_t *buf = malloc(HX_WANT_HDR_LEN + k * HX_ID_LEN);
		if (!buf)
			return;
		uint32_t req = ++c->next_req;
		size_t len = hx_wire_want(buf, req, c->want_q.id[c->want_q.head], (uint16_t)k);
		int rc = hx_nd_send1(n, c, buf, len);
		free(buf);
		if (rc)
			return;
		hx_nd_idq_pop(&c->want_q, k);
		c->wants[c->nwants++] = (struct inflight){
			.id = req, .deadline = now + WANT_TIMEOUT_MS * 1000ull, .count = (uint32_t)k
		};
	}
}

void hx_nd_on_want(hx_node *n, struct conn *c, const hx_wire_msg *w)
{
	/* it lacked an id we announced: the tree missed it, push to it again
	 * (GRAFT); what a reconciliation asks for leaves the tree as it is */
	for (size_t i = 0; i < w->count && c->peer->lazy; i++)
		if (hx_nd_idset_has(&c->peer->announced, w->ids + i * HX_ID_LEN))
			c->peer->lazy = 0;
	struct idq q = { 0 };
	size_t maxb = c->peer_max_batch < HX_WIRE_BATCH_MAX ? c->peer_max_batch : HX_WIRE_BATCH_MAX;
	for (size_t i = 0; i < w->count; i++)
		if (hx_nd_idq_push(&q, w->ids + i * HX_ID_LEN, 0))
			break;
	do {
		uint8_t *raws[HX_WIRE_BATCH_MAX], ids[HX_WIRE_BATCH_MAX][HX_ID_LEN];
		size_t lens[HX_WIRE_BATCH_MAX];
		int live;
		size_t used, k = take_entries(n, c, &q, maxb, raws, lens, ids, &live, &used);
		hx_nd_idq_pop(&q, used);
		uint8_t h[HX_ENTRIES_LEN];
		hx_wire_entries(h, w->request, (uint16_t)k, q.n ? 0 : HX_ENTRIES_LAST);
		if (send_batch(n, c, h, sizeof h, raws, lens, k))
			break;
		hx_nd_sent_mark(c->peer, ids, k);
		hx_peer_stats *st = &c->peer->st;
		st->sent += k;
		/* what the peer lacked (as of the last reconciliation) less what
		 * it fetched since: the answering side counts here */
		st->they_lack = st->they_lack > k ? st->they_lack - k : 0;
		c->peer->dirty = 1;
		if (c->result)
			c->result->sent += k;
	} while (q.n);
	hx_nd_idq_free(&q);
}

void hx_nd_on_ack(hx_node *n, struct conn *c, const hx_wire_msg *w)
{
	(void)n;
	for (unsigned i = 0; i < c->npushes; i++) {
		if (c->pushes[i].id != w->seq)
			continue;
		if (!c->pushes[i].transfer && w->known && !w->stored)
			c->peer->lazy = 1; /* it had them: announce, not push, from now on */
		if (c->pushes[i].transfer) {
			uint64_t got = c->pushes[i].count;
			hx_peer_stats *st = &c->peer->st;
			st->they_lack = st->they_lack > got ? st->they_lack - got : 0;
		}
		if (c->result)
			c->result->sent += c->pushes[i].count;
		c->pushes[i] = c->pushes[--c->npushes];
		return;
	}
}

/* Announced ids that found the backlog full (later_q, or the want queue
 * they move to): not asked for one by one, but not forgotten either, as
 * nothing else would bring them before the next periodic reconciliation;
 * a reconciliation is due once the transfers with that member rest, as
 * for a relay backlog over PUSH_BACKLOG_MAX (PROTOCOL.md §6.3). A member
 * relaying a bulk transfer announces far more than that between two
 * looks at the backlog when this node is slower than it (they were
 * dropped here, and the entries stayed missing for a whole interval). */
static void announced_over(hx_node *n, struct conn *c, size_t over)
{
	if (!over)
		return;
	if (c->recon_due != 2 || n->cfg.verbose)
		hx_nd_log(n, "%zu entries announced by %s over the backlog: reconciling instead",
		          over, c->peer->name);
	c->recon_due = 2;
}

void hx_nd_on_announce(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	struct peer *p = c->peer;
	size_t over = 0;
	for (size_t i = 0; i < w->count; i++) {
		const uint8_t *id = w->ids + i * HX_ID_LEN;
		/* it has it: not pushed or announced to it (bounded: announcing
		 * is no way to make us hold memory) */
		if (p->sent.n < PUSH_BACKLOG_MAX)
			(void)hx_nd_idset_add(&p->sent, id);
		if (hx_store_get(n->store, id, NULL, NULL, NULL) == HX_OK)
			continue;
		if (c->later_q.n >= PUSH_BACKLOG_MAX) {
			over++;
			continue;
		}
		if (!c->later_q.n)
			c->later_at = now + GRAFT_MS * 1000ull;
		if (hx_nd_idq_push_at(&c->later_q, id, 1, now)) {
			over += w->count - i;
			break;
		}
	}
	announced_over(n, c, over);
}

/* The announced ids whose push did not come within GRAFT_MS of their
 * ANNOUNCE: asked for from the member that announced them, unless held or
 * asked for already (from another member: a direct-mapped cache of recent
 * requests); the ids announced since wait their own GRAFT_MS. The WANT
 * also makes us a member it pushes to again (hx_nd_on_want), and it one we
 * push to (Plumtree's GRAFT). */
void hx_nd_announced_due(hx_node *n, struct conn *c, uint64_t now)
{
	struct idq *q = &c->later_q;
	size_t over = 0, done = 0;
	if (!q->n || now < c->later_at)
		return;
	for (; done < q->n; done++) {
		size_t at = q->head + done;
		if (q->at && q->at[at] + GRAFT_MS * 1000ull > now)
			break; /* and those after it, which came later */
		const uint8_t *id = q->id[at];
		if (hx_store_get(n->store, id, NULL, NULL, NULL) == HX_OK)
			continue;
		if (c->want_q.n >= PUSH_BACKLOG_MAX) {
			over++;
			continue;
		}
		size_t h = ((size_t)id[0] << 8 | id[1]) % WANTED_SLOTS; /* ids are hashes */
		if (!memcmp(n->wanted[h].id, id, HX_ID_LEN) &&
		    now - n->wanted[h].at < WANTED_MS * 1000ull)
			continue;
		memcpy(n->wanted[h].id, id, HX_ID_LEN);
		n->wanted[h].at = now;
		c->peer->lazy = 0; /* the tree missed us: this edge joins it, both ways */
		if (hx_nd_idq_push(&c->want_q, id, 1)) {
			over += q->n - done;
			done = q->n;
			break;
		}
	}
	hx_nd_idq_pop(q, done);
	if (q->n)
		c->later_at = (q->at ? q->at[q->head] : now) + GRAFT_MS * 1000ull;
	announced_over(n, c, over);
}

/* ---- refusals reported by the peer ----------------------------------------------- */

/* 1 when the stored entry id was authored by this node. */
static int ours(hx_node *n, const uint8_t id[HX_ID_LEN])
{
	uint8_t *raw;
	size_t len;
	if (hx_store_get(n->store, id, NULL, &raw, &len))
		return 0;
	const uint8_t *a = raw_author(raw, len);
	int r = a && !memcmp(a, n->cfg.pk, HX_KEY_LEN);
	free(raw);
	return r;
}

void hx_nd_on_refused(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	struct peer *p = c->peer;
	hx_peer_stats *st = &p->st;
	unsigned fresh = 0, mine = 0;
	int last = -1;

	st->skew_us = (int64_t)(w->time - now);
	st->skew_at = now;
	st->they_refused_at = now;
	for (size_t i = 0; i < w->count; i++) {
		const uint8_t *it = w->items + i * HX_REFUSED_ITEM_LEN;
		int r = hx_refuse_from_wire(it[0]);
		if (r < 0 || p->refused_ids.n >= REFUSED_IDS_MAX ||
		    hx_nd_idset_add(&p->refused_ids, it + 1))
			continue; /* a reason we do not know, or counted already */
		st->they_refused[r]++;
		fresh++;
		last = r;
		if (ours(n, it + 1)) {
			st->they_refused_ours[r]++;
			mine++;
		}
	}
	p->dirty = 1;
	if (fresh && now - p->refused_logged >= 60000000) {
		p->refused_logged = now;
		int64_t ahead = -st->skew_us;
		hx_nd_log(
		        n,
		        "%s refused %u entr%s we sent (%u of ours), e.g. %s; our clock is %.0f s %s "
		        "theirs",
		        p->name, fresh, fresh == 1 ? "y" : "ies", mine, hx_refuse_words(last),
		        (double)(ahead < 0 ? -ahead : ahead) / 1e6,
		        ahead < 0 ? "behind" : "ahead of");
	}
}
