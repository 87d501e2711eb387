/*
 * transfer.c: moving entries (docs/PROTOCOL.md §6.3). The push queue of each
 * connection (local changes, relays, reconciliation results) goes out as
 * PUSH batches acknowledged by ACK; the want queue as WANT requests answered
 * by ENTRIES. Received batches are verified on every core and stored, and
 * what was new is relayed to the other members: before the commit, as PUSH
 * to eager members and ANNOUNCE to lazy ones (those that understand it),
 * after it as PUSH to older nodes. ENTRIES are pipelined: the
 * pool verifies one batch while this thread stores the previous one. Calls
 * conn.c and idq.c.
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
 * forward() reached the others before the commit. */
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
		struct idq *q = ann ? &c->ann_q : &c->push_q;
		if (q->n + k > PUSH_BACKLOG_MAX) {
			/* Too much to push one by one: reconcile instead. */
			hx_nd_idq_clear(q);
			c->recon_due = 2;
			continue;
		}
		for (size_t j = 0; j < k; j++)
			if (hx_nd_idq_push(q, ids[j], live))
				break;
		if (ann)
			hx_nd_pump(n, c, hx_now_us());
	}
}

void hx_nd_relay(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN], size_t k,
                 int live)
{
	enqueue(n, source, ids, k, live, 0);
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

/* The k ids of a batch that went out: not sent to p again until its
 * transfers rest (out of memory: one may go twice, which is harmless). */
static void sent_mark(struct peer *p, uint8_t (*ids)[HX_ID_LEN], size_t k)
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
		if (!rc && k)
			rc = hx_nd_send1(n, c, buf, hx_wire_announce(buf, ids, (uint16_t)k));
		free(ids);
		free(buf);
		if (rc)
			return;
		hx_nd_idq_pop(&c->ann_q, used);
	}
	while (c->npushes < WINDOW && c->push_q.n) {
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
		sent_mark(c->peer, ids, k);
		c->pushes[c->npushes++] = (struct inflight){ seq, now + ACK_TIMEOUT_MS * 1000ull,
			                                     (uint32_t)k, !live };
		c->peer->st.sent += k;
		c->peer->dirty = 1;
		if (n->cfg.verbose)
			hx_nd_log(n, "pushed %zu entr%s to %s", k, k == 1 ? "y" : "ies",
			          c->peer->name);
	}
	size_t maxw = maxb < HX_WIRE_WANT_MAX ? maxb : HX_WIRE_WANT_MAX;
	while (c->nwants < WINDOW && c->want_q.n) {
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
		c->wants[c->nwants++] =
		        (struct inflight){ req, now + WANT_TIMEOUT_MS * 1000ull, (uint32_t)k, 0 };
	}
}

void hx_nd_on_want(hx_node *n, struct conn *c, const hx_wire_msg *w)
{
	c->peer->lazy = 0; /* it lacked what we announced: push to it again */
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
		sent_mark(c->peer, ids, k);
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

/* ---- receiving entries ----------------------------------------------------------- */

struct batch_out {
	unsigned stored, known, refused;
	/* what was refused, for the REFUSED message */
	uint8_t reason[HX_WIRE_BATCH_MAX];
	uint8_t ids[HX_WIRE_BATCH_MAX][HX_ID_LEN];
};

static void refused_add(struct batch_out *o, int reason, const uint8_t id[HX_ID_LEN])
{
	if (o->refused < HX_WIRE_BATCH_MAX) {
		o->reason[o->refused] = hx_refuse_wire(reason);
		memcpy(o->ids[o->refused], id, HX_ID_LEN);
	}
	o->refused++;
}

/* Tells the sender of a batch what we refused of it and why, when it
 * understands REFUSED (older nodes would count it as malformed). */
static void refused_send(hx_node *n, struct conn *c, const struct batch_out *o)
{
	if (!o->refused || !(c->peer_caps & HX_CAP_REFUSED))
		return;
	uint16_t k = o->refused < HX_WIRE_REFUSED_MAX ? (uint16_t)o->refused : HX_WIRE_REFUSED_MAX;
	uint8_t *b = malloc(HX_REFUSED_HDR_LEN + (size_t)k * HX_REFUSED_ITEM_LEN);
	if (!b)
		return;
	size_t len =
	        hx_wire_refused(b, hx_now_us(), o->reason, (const uint8_t(*)[HX_ID_LEN])o->ids, k);
	(void)hx_nd_send1(n, c, b, len);
	free(b);
}

static void handled_add(hx_node *n, uint64_t seq)
{
	uint64_t *a = hx_grow(n->handled, &n->caphandled, n->nhandled + 1, sizeof *a);
	if (!a)
		return; /* then it is pushed back once more: harmless */
	n->handled = a;
	n->handled[n->nhandled++] = seq;
}

/* Adds the latency of an entry that came by LIVE push to the histogram
 * (written to the store once per batch, in store_batch). */
static void push_latency(hx_node *n, uint64_t timestamp)
{
	uint64_t now = hx_now_us();
	if (!n->push_hist_loaded)
		n->push_hist_loaded = hx_push_hist_get(n->store, &n->push_hist) == HX_OK;
	hx_push_hist_add(&n->push_hist, now > timestamp ? now - timestamp : 0);
}

/* Pushes entries verified but not yet committed to c's member at once
 * (LIVE), those it is not known to have; 0 when sent or nothing to send,
 * -1 when not (too many, or the send failed). */
static int push_now(hx_node *n, struct conn *c, const uint8_t (*ids)[HX_ID_LEN], const hx_put *puts,
                    size_t k, uint64_t now)
{
	const void *parts[MAXF];
	size_t pl[MAXF], m = 0;
	uint8_t sent[HX_WIRE_BATCH_MAX][HX_ID_LEN], h[HX_PUSH_LEN];
	if (k > c->peer_max_batch || k > HX_WIRE_BATCH_MAX)
		return -1;
	for (size_t i = 0; i < k; i++) {
		if (hx_nd_idset_has(&c->peer->sent, ids[i]) || puts[i].rawlen > c->peer_max_frame)
			continue;
		memcpy(sent[m], ids[i], HX_ID_LEN);
		parts[1 + m] = puts[i].raw;
		pl[1 + m++] = puts[i].rawlen;
	}
	if (!m)
		return 0;
	uint64_t seq = ++c->next_seq;
	parts[0] = h;
	pl[0] = hx_wire_push(h, seq, (uint16_t)m, HX_PUSH_LIVE);
	if (hx_nd_send_parts(n, c, parts, pl, 1 + m))
		return -1;
	sent_mark(c->peer, sent, m);
	c->pushes[c->npushes++] =
	        (struct inflight){ seq, now + ACK_TIMEOUT_MS * 1000ull, (uint32_t)m, 0 };
	c->peer->st.sent += m;
	c->peer->dirty = 1;
	return 0;
}

/* Relays entries from source, verified and about to be committed, to the
 * members that understand ANNOUNCE, at once, so that the next hop does not
 * wait for this one's disk: as PUSH to those not lazy (a spanning tree
 * forms as members whose ACK says they had the entries already turn
 * lazy), as ANNOUNCE to the others, who ask for what they lack (WANT, read
 * after the commit). What the commit then refuses is left out of the
 * ENTRIES, as any id a node does not hold. */
static void forward(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN],
                    const hx_put *puts, size_t k)
{
	if (!k || n->cfg.once)
		return;
	uint64_t now = hx_now_us();
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		if (p == source || p->lazy || !memcmp(p->key, n->cfg.pk, HX_KEY_LEN))
			continue;
		struct conn *c = hx_nd_primary_conn(n, p, NULL);
		if (c && (c->peer_caps & HX_CAP_ANNOUNCE) && c->npushes < WINDOW &&
		    !push_now(n, c, ids, puts, k, now))
			p->pushed = 1; /* no ANNOUNCE as well */
	}
	enqueue(n, source, ids, k, 1, 1);
	for (size_t i = 0; i < n->npeers; i++)
		n->peers[i]->pushed = 0;
}

/* Stores the verified entries of a batch from c (jobs as hx_vpool left
 * them) and relays what was new to the other members. */
static void store_batch(hx_node *n, struct conn *c, hx_vjob *jobs, size_t k, int live,
                        struct batch_out *o)
{
	struct peer *p = c->peer;
	size_t m = 0, logged = 0;
	uint8_t(*ids)[HX_ID_LEN] = NULL;

	memset(o, 0, sizeof *o);
	if (!k)
		return;
	int reloaded = 0;
	for (size_t i = 0; i < k; i++) {
		hx_vjob *j = &jobs[i];
		/* p has it: not sent back to it (bounded, as for ANNOUNCE) */
		if ((!j->rc || j->rc == HX_EEXIST) && p->sent.n < PUSH_BACKLOG_MAX)
			(void)hx_nd_idset_add(&p->sent, j->id);
		if (j->rc == HX_EEXIST) { /* found stored before its verification */
			o->known++;
			continue;
		}
		if (!j->rc && !hx_nd_member_by_key(n, j->e.author)) {
			/* `hansa member add` may have run since the last reload */
			if (!reloaded++ && hx_nd_members_reload(n) == HX_OK &&
			    hx_nd_member_by_key(n, j->e.author))
				goto member;
			hx_entry_clear(&j->e);
			j->rc = HX_EPERM;
		}
	member:
		if (j->rc) {
			int r = hx_refuse_reason(j->rc);
			p->st.refused[r]++;
			refused_add(o, r, j->id);
			int quiet =
			        j->rc == HX_EPERM && hx_now_us() - p->not_member_logged < 60000000;
			if (j->rc == HX_EPERM && !quiet)
				p->not_member_logged = hx_now_us();
			if (!quiet && logged++ < REFUSED_LOG_PER_BATCH) {
				hx_nd_log(n, "refused entry from %s: %s (%s)", p->name,
				          hx_refuse_name(r), hx_strerror(j->rc));
			}
			continue;
		}
		n->puts[m++] = (hx_put){ .raw = j->raw, .rawlen = j->len, .entry = &j->e };
	}
	if (logged > REFUSED_LOG_PER_BATCH)
		hx_nd_log(n, "refused %zu more entries from %s", logged - REFUSED_LOG_PER_BATCH,
		          p->name);
	if (m) {
		size_t added;
		ids = malloc(m * sizeof *ids);
		if (ids) {
			for (size_t i = 0; i < m; i++)
				memcpy(ids[i], n->puts[i].entry->id, HX_ID_LEN);
			forward(n, p, (const uint8_t(*)[HX_ID_LEN])ids, n->puts, m);
		}
		int rc = hx_store_put_batch(n->store, n->puts, m,
		                            HX_PUT_MEMBERS_ONLY | HX_PUT_NO_WAKE, &added);
		if (rc) {
			hx_nd_log(n, "cannot store entries from %s: %s", p->name, hx_strerror(rc));
			hx_nd_stats_error(p, "store failed: %s", hx_strerror(rc));
		} else {
			for (size_t i = 0; i < m; i++) {
				int r = n->puts[i].result;
				if (r == HX_OK) {
					if (!strncmp(n->puts[i].entry->path, HX_ROSTER_PREFIX,
					             strlen(HX_ROSTER_PREFIX)))
						n->reload_due = 1; /* the roster changed */
					if (ids)
						memcpy(ids[o->stored], n->puts[i].entry->id,
						       HX_ID_LEN);
					o->stored++;
					handled_add(n, n->puts[i].seq);
					if (n->puts[i].entry->nattach)
						hx_nd_blob_news(n);
					if (live)
						push_latency(n, n->puts[i].entry->timestamp);
				} else if (r == HX_EEXIST) {
					o->known++;
				} else {
					p->st.refused[hx_refuse_reason(r)]++;
					refused_add(o, hx_refuse_reason(r), n->puts[i].entry->id);
					hx_nd_log(n, "refused entry from %s: %s", p->name,
					          n->puts[i].why
					                  ? n->puts[i].why
					                  : hx_refuse_name(hx_refuse_reason(r)));
				}
			}
		}
	}
	for (size_t i = 0; i < k; i++)
		if (!jobs[i].rc)
			hx_entry_clear(&jobs[i].e);
	p->st.received += o->stored;
	if (live && o->stored && n->push_hist_loaded)
		n->push_hist_dirty = 1; /* written with the stats (node.c), not per batch */
	if (o->refused || o->stored)
		p->dirty = 1;
	if (o->stored && (n->cfg.verbose || live))
		hx_nd_log(n, "received %u new entr%s from %s%s", o->stored,
		          o->stored == 1 ? "y" : "ies", p->name, live ? " (live)" : "");
	if (ids && o->stored)
		/* a relay is always LIVE, however the entry came (PROTOCOL.md
		 * §6.3); to members without ANNOUNCE, after the commit */
		hx_nd_relay(n, p, (const uint8_t(*)[HX_ID_LEN])ids, o->stored, 1);
	free(ids);
	if (c->result) {
		c->result->received += o->stored;
		c->result->refused += o->refused;
	}
	refused_send(n, c, o);
}

/* Verifies (on every core) and stores a batch, now. */
static void take_batch(hx_node *n, struct conn *c, zmq_msg_t *f, size_t k, int live,
                       struct batch_out *o)
{
	for (size_t i = 0; i < k; i++) {
		n->jobs[i].raw = zmq_msg_data(&f[i]);
		n->jobs[i].len = zmq_msg_size(&f[i]);
	}
	hx_vpool_run(n->pool, n->jobs, k, hx_now_us() + FUTURE_US);
	store_batch(n, c, n->jobs, k, live, o);
}

/* ENTRIES (bulk transfer) are pipelined: while the main thread stores
 * one batch, the pool's workers verify the next. */
static void entries_stored(hx_node *n, struct pend *b)
{
	struct batch_out o;
	struct conn *c = b->c;
	store_batch(n, c, b->jobs, b->k, 0, &o);
	hx_nd_close_frames(b->f, b->k);
	b->k = 0;
	uint64_t got = o.stored + o.known;
	struct peer *p = c->peer;
	p->st.we_lack = p->st.we_lack > got ? p->st.we_lack - got : 0;
	if (c->result) {
		c->result->fetched += o.stored + o.known + o.refused;
		hx_nd_progress(n);
	}
	if (!b->last)
		return;
	for (unsigned i = 0; i < c->nwants; i++) {
		if (c->wants[i].id == b->request) {
			c->wants[i] = c->wants[--c->nwants];
			hx_nd_pump(n, c, hx_now_us()); /* the next request goes out at once */
			break;
		}
	}
}

/* Finishes the batch being verified, if any, and stores it. */
void hx_nd_flush_pending(hx_node *n)
{
	struct pend *b = n->verifying;
	if (!b)
		return;
	hx_vpool_finish(n->pool);
	n->verifying = NULL;
	entries_stored(n, b);
}

void hx_nd_on_entries(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f)
{
	struct pend *prev = n->verifying;
	struct pend *b = prev == &n->pend[0] ? &n->pend[1] : &n->pend[0];
	b->c = c;
	b->k = w->count;
	b->request = w->request;
	b->last = w->flags & HX_ENTRIES_LAST;
	for (size_t i = 0; i < b->k; i++) {
		zmq_msg_init(&b->f[i]);
		zmq_msg_move(&b->f[i], &f[1 + i]);
		b->jobs[i].raw = zmq_msg_data(&b->f[i]);
		b->jobs[i].len = zmq_msg_size(&b->f[i]);
	}
	if (prev)
		hx_vpool_finish(n->pool);
	hx_vpool_start(n->pool, b->jobs, b->k, hx_now_us() + FUTURE_US);
	n->verifying = b;
	if (prev)
		entries_stored(n, prev);
}

void hx_nd_on_push(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f)
{
	struct batch_out o;
	uint8_t a[HX_ACK_LEN];
	take_batch(n, c, f + 1, w->count, w->flags & HX_PUSH_LIVE, &o);
	if (!(w->flags & HX_PUSH_LIVE)) {
		/* a reconciliation's result: what we lacked less what came */
		hx_peer_stats *st = &c->peer->st;
		uint64_t got = o.stored + o.known;
		st->we_lack = st->we_lack > got ? st->we_lack - got : 0;
	}
	hx_wire_ack(a, w->seq, (uint16_t)o.stored, (uint16_t)o.known, (uint16_t)o.refused);
	hx_nd_send1(n, c, a, sizeof a);
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

void hx_nd_on_announce(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	struct peer *p = c->peer;
	for (size_t i = 0; i < w->count; i++) {
		const uint8_t *id = w->ids + i * HX_ID_LEN;
		/* it has it: not pushed or announced to it (bounded: announcing
		 * is no way to make us hold memory) */
		if (p->sent.n < PUSH_BACKLOG_MAX)
			(void)hx_nd_idset_add(&p->sent, id);
		if (c->later_q.n >= PUSH_BACKLOG_MAX ||
		    hx_store_get(n->store, id, NULL, NULL, NULL) == HX_OK)
			continue;
		if (!c->later_q.n)
			c->later_at = now + GRAFT_MS * 1000ull;
		if (hx_nd_idq_push(&c->later_q, id, 1))
			break;
	}
}

/* The announced ids whose push did not come within GRAFT_MS: asked for
 * from the member that announced them, unless held or asked for already
 * (from another member: a direct-mapped cache of recent requests). The
 * WANT also makes us a member it pushes to again (hx_nd_on_want). */
void hx_nd_announced_due(hx_node *n, struct conn *c, uint64_t now)
{
	if (!c->later_q.n || now < c->later_at)
		return;
	for (size_t i = 0; i < c->later_q.n; i++) {
		const uint8_t *id = c->later_q.id[c->later_q.head + i];
		if (c->want_q.n >= PUSH_BACKLOG_MAX ||
		    hx_store_get(n->store, id, NULL, NULL, NULL) == HX_OK)
			continue;
		size_t h = ((size_t)id[0] << 8 | id[1]) % WANTED_SLOTS; /* ids are hashes */
		if (!memcmp(n->wanted[h].id, id, HX_ID_LEN) &&
		    now - n->wanted[h].at < WANTED_MS * 1000ull)
			continue;
		memcpy(n->wanted[h].id, id, HX_ID_LEN);
		n->wanted[h].at = now;
		if (hx_nd_idq_push(&c->want_q, id, 1))
			break;
	}
	hx_nd_idq_clear(&c->later_q);
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
