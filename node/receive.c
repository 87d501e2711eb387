/*
 * receive.c: verified batches of received entries on their way into the
 * store, and relayed (docs/PROTOCOL.md §6.3, §6.4): what is known or
 * refused is counted (and REFUSED told), the rest stored; what was new is
 * relayed to the other members: before the commit, as PUSH to eager
 * members and ANNOUNCE to lazy ones (those that understand it; what came
 * in bulk is pushed only while nothing else is in flight), unless
 * the commit may refuse it for records it reads (then after the commit,
 * when stored); after it as PUSH to older nodes. The ENTRIES pipeline and
 * its writer thread are pipe.c's; a PUSH is stored here, on the node's
 * thread. Calls transfer.c, conn.c and idq.c.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/roster.h"
#include "node/node_int.h"

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
 * (written with the statistics, node.c). */
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
	hx_nd_sent_mark(c->peer, sent, m);
	c->pushes[c->npushes++] = (struct inflight){ .id = seq,
		                                     .deadline = now + ACK_TIMEOUT_MS * 1000ull,
		                                     .count = (uint32_t)m };
	c->peer->st.sent += m;
	c->peer->dirty = 1;
	return 0;
}

/* Relays entries from source, verified and about to be committed (see
 * forward_early) or just stored, to the members that understand ANNOUNCE,
 * at once, so that the next hop does not wait for this one's disk: as PUSH
 * to those not lazy (a spanning tree forms as members whose ACK says they
 * had the entries already turn lazy), as ANNOUNCE to the others, who ask
 * for what they lack (WANT, read after the commit). Entries that came in
 * bulk (live 0: ENTRIES, a transfer's PUSH) are pushed only while no other
 * push is in flight to that member, else announced (it fetches them into
 * its bulk commits): so 3 of the WINDOW pushes in flight stay free for new
 * entries, which waited behind a relayed transfer at the next hop (a LIVE
 * push is committed on its own, one at a time, there). */
static void forward(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN],
                    const hx_put *puts, size_t k, int live)
{
	if (!k || n->cfg.once)
		return;
	uint64_t now = hx_now_us();
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		if (p == source || p->lazy || !memcmp(p->key, n->cfg.pk, HX_KEY_LEN))
			continue;
		struct conn *c = hx_nd_primary_conn(n, p, NULL);
		if (c && (c->peer_caps & HX_CAP_ANNOUNCE) && c->npushes < (live ? WINDOW : 1) &&
		    !push_now(n, c, ids, puts, k, now))
			p->pushed = 1; /* no ANNOUNCE as well */
	}
	hx_nd_announce(n, source, ids, k);
	for (size_t i = 0; i < n->npeers; i++)
		n->peers[i]->pushed = 0;
}

/* Whether a member other than source (and this node) would get a
 * forward() now. */
static int forward_targets(hx_node *n, const struct peer *source)
{
	if (n->cfg.once)
		return 0;
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		if (p == source || !memcmp(p->key, n->cfg.pk, HX_KEY_LEN))
			continue;
		struct conn *c = hx_nd_primary_conn(n, p, NULL);
		if (c && (c->peer_caps & HX_CAP_ANNOUNCE))
			return 1;
	}
	return 0;
}

/* Whether an entry may be forwarded before its commit: when the commit
 * can refuse it only for what prepare checked already (a member's plain
 * entry, signed by the member's own key). Entries signed by a device,
 * system records (devices, key rotations, roster, purges) and purged
 * versions depend on records the commit reads, and are forwarded after
 * it, only when stored, so that a node never relays what it refused.
 * One case is left: a plain entry signed by an organisation key that a
 * rotation retired before the entry's time; that is refused at the next
 * hop as here, by the same records (PROTOCOL.md §6.3). */
static int forward_early(hx_node *n, const hx_entry *e)
{
	hx_purged st;
	return !memcmp(hx_entry_signer(e), e->author, HX_KEY_LEN) &&
	       strncmp(e->path, HX_SYSTEM_PREFIX, strlen(HX_SYSTEM_PREFIX)) &&
	       hx_store_purged(n->store, e->id, &st) == HX_ENOTFOUND;
}

/* Forwards the k entries of s (indexes idx into its puts and ids). */
static void forward_some(hx_node *n, struct stage *s, const size_t *idx, size_t k)
{
	uint8_t(*ids)[HX_ID_LEN] = malloc(k * sizeof *ids);
	hx_put *puts = malloc(k * sizeof *puts);
	if (k && ids && puts) {
		for (size_t i = 0; i < k; i++) {
			puts[i] = s->puts[idx[i]];
			memcpy(ids[i], puts[i].entry->id, HX_ID_LEN);
		}
		forward(n, s->c->peer, (const uint8_t(*)[HX_ID_LEN])ids, puts, k, s->live);
	}
	free(ids);
	free(puts);
}

/* Sorts out a batch before its commit: entries known or refused are
 * counted, the others written to s->puts and forwarded (see forward). */
static void prepare(hx_node *n, struct stage *s)
{
	struct peer *p = s->c->peer;
	struct batch_out *o = &s->o;
	size_t logged = 0;
	int reloaded = 0;

	memset(o, 0, sizeof *o);
	s->m = 0;
	s->ids = NULL;
	for (size_t i = 0; i < s->k; i++) {
		hx_vjob *j = &s->jobs[i];
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
		s->puts[s->m++] = (hx_put){ .raw = j->raw, .rawlen = j->len, .entry = &j->e };
	}
	if (logged > REFUSED_LOG_PER_BATCH)
		hx_nd_log(n, "refused %zu more entries from %s", logged - REFUSED_LOG_PER_BATCH,
		          p->name);
	if (s->m && (s->ids = malloc(s->m * sizeof *s->ids)))
		for (size_t i = 0; i < s->m; i++)
			memcpy(s->ids[i], s->puts[i].entry->id, HX_ID_LEN);
	s->fwd = s->m && forward_targets(n, p);
	if (s->fwd) {
		size_t idx[HX_WIRE_BATCH_MAX], k = 0;
		for (size_t i = 0; i < s->m; i++) {
			s->late[i] = !forward_early(n, s->puts[i].entry);
			if (!s->late[i])
				idx[k++] = i;
		}
		forward_some(n, s, idx, k);
	}
}

/* After the commit (rc: its outcome): counts, statistics, relays. */
static void settle(hx_node *n, struct stage *s, int rc)
{
	struct conn *c = s->c;
	struct peer *p = c->peer;
	struct batch_out *o = &s->o;

	if (s->m && rc) {
		hx_nd_log(n, "cannot store entries from %s: %s", p->name, hx_strerror(rc));
		hx_nd_stats_error(p, "store failed: %s", hx_strerror(rc));
	}
	size_t late[HX_WIRE_BATCH_MAX], nlate = 0;
	for (size_t i = 0; s->m && !rc && i < s->m; i++) {
		hx_put *put = &s->puts[i];
		int r = put->result;
		if (r == HX_OK && s->fwd && s->late[i])
			late[nlate++] = i;
		if (r == HX_OK) {
			if (!strncmp(put->entry->path, HX_ROSTER_PREFIX, strlen(HX_ROSTER_PREFIX)))
				n->reload_due = 1; /* the roster changed */
			if (s->ids)
				memcpy(s->ids[o->stored], put->entry->id, HX_ID_LEN);
			o->stored++;
			handled_add(n, put->seq);
			hx_nd_blob_stored(n, put->seq, put->entry);
			if (s->live)
				push_latency(n, put->entry->timestamp);
		} else if (r == HX_EEXIST) {
			o->known++;
		} else {
			p->st.refused[hx_refuse_reason(r)]++;
			refused_add(o, hx_refuse_reason(r), put->entry->id);
			hx_nd_log(n, "refused entry from %s: %s", p->name,
			          put->why ? put->why : hx_refuse_name(hx_refuse_reason(r)));
		}
	}
	forward_some(n, s, late, nlate);
	for (size_t i = 0; i < s->k; i++)
		if (!s->jobs[i].rc)
			hx_entry_clear(&s->jobs[i].e);
	p->st.received += o->stored;
	if (s->live && o->stored && n->push_hist_loaded)
		n->push_hist_dirty = 1; /* written with the stats (node.c), not per batch */
	if (o->refused || o->stored)
		p->dirty = 1;
	if (o->stored && (n->cfg.verbose || s->live))
		hx_nd_log(n, "received %u new entr%s from %s%s", o->stored,
		          o->stored == 1 ? "y" : "ies", p->name, s->live ? " (live)" : "");
	if (s->ids && o->stored)
		/* a relay is always LIVE, however the entry came (PROTOCOL.md
		 * §6.3); to members without ANNOUNCE, after the commit */
		hx_nd_relay(n, p, (const uint8_t(*)[HX_ID_LEN])s->ids, o->stored, 1);
	free(s->ids);
	s->ids = NULL;
	if (c->result) {
		c->result->received += o->stored;
		c->result->refused += o->refused;
	}
	refused_send(n, c, o);
}

size_t hx_nd_stages_prepare(hx_node *n, struct stage *s, size_t ns, hx_put *puts)
{
	size_t total = 0;
	for (size_t i = 0; i < ns; i++) {
		s[i].puts = puts + total;
		prepare(n, &s[i]);
		total += s[i].m;
	}
	return total;
}

void hx_nd_stages_settle(hx_node *n, struct stage *s, size_t ns, int rc)
{
	for (size_t i = 0; i < ns; i++)
		settle(n, &s[i], rc);
}

int hx_nd_push_verify(hx_node *n, zmq_msg_t *f, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		n->jobs[i].raw = zmq_msg_data(&f[i]);
		n->jobs[i].len = zmq_msg_size(&f[i]);
	}
	hx_vpool_run(n->pool, n->jobs, k, hx_now_us() + FUTURE_US);
	for (size_t i = 0; i < k; i++)
		if (!n->jobs[i].rc && !forward_early(n, &n->jobs[i].e))
			return 0;
	return 1;
}

void hx_nd_push_commit(hx_node *n, struct conn *c, size_t k, int live, struct stage *s)
{
	size_t added;
	*s = (struct stage){ .c = c, .jobs = n->jobs, .k = k, .live = live };
	size_t total = hx_nd_stages_prepare(n, s, 1, n->puts);
	int rc = total ? hx_store_put_batch(n->store, n->puts, total,
	                                    HX_PUT_MEMBERS_ONLY | HX_PUT_NO_WAKE, &added)
	               : HX_OK;
	settle(n, s, rc);
}
