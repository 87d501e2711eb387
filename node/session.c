/*
 * session.c: Negentropy reconciliation (docs/PROTOCOL.md §6.2). A connection
 * can run one session as initiator (NE_QUERY out, NE_REPLY in, NE_DONE at the
 * end, its results queued as WANTs and PUSHes) and one as responder at a
 * time. Calls conn.c and idq.c.
 */
#include <stdlib.h>
#include <string.h>
#include "node/node_int.h"

int hx_nd_transfers_idle(const struct conn *c)
{
	return !c->want_q.n && !c->push_q.n && !c->ann_q.n && !c->later_q.n && !c->nwants &&
	       !c->npushes;
}

int hx_nd_member_idle(hx_node *n, const struct peer *p)
{
	for (size_t i = 0; i < n->nconns; i++)
		if (n->conns[i]->peer == p && !hx_nd_transfers_idle(n->conns[i]))
			return 0;
	return 1;
}

static uint32_t frame_limit(hx_node *n, const struct conn *c)
{
	uint32_t lim = n->cfg.ne_frame_limit;
	uint32_t peer = c->peer_max_frame - HX_NE_HDR_LEN;
	if (lim == 0 || lim > peer)
		lim = peer;
	if (lim > HX_WIRE_FRAME_MAX - HX_NE_HDR_LEN)
		lim = HX_WIRE_FRAME_MAX - HX_NE_HDR_LEN;
	return lim < HX_NE_FRAME_MIN ? HX_NE_FRAME_MIN : lim;
}

static int send_ne(hx_node *n, struct conn *c, uint8_t type, uint32_t session, const uint8_t *msg,
                   size_t len)
{
	uint8_t *buf;
	size_t blen;
	if (hx_wire_ne(&buf, &blen, type, session, msg, len))
		return -1;
	int rc = hx_nd_send1(n, c, buf, blen);
	free(buf);
	return rc;
}

void hx_nd_recon_start(hx_node *n, struct conn *c, uint64_t now)
{
	uint8_t *msg;
	size_t len;
	int rc;

	c->recon_due = 0;
	c->next_recon = now + n->cfg.recon_interval_ms * 1000ull;
	if ((rc = hx_recon_view_open(&c->iview, n->store)) == HX_OK) {
		c->ist = hx_recon_view_storage(c->iview);
		if ((rc = hx_ne_new(&c->ine, &c->ist, frame_limit(n, c))) == HX_OK)
			rc = hx_ne_initiate(c->ine, &msg, &len);
	}
	if (rc) {
		hx_nd_log(n, "cannot reconcile with %s: %s", c->peer->name, hx_strerror(rc));
		hx_nd_session_end_initiator(c);
		if (n->cfg.once)
			hx_nd_finish(n, c, 0, "cannot read this node's reconciliation table");
		return;
	}
	c->isession = ++n->next_session;
	c->istarted = now;
	c->irounds = 1;
	c->ibytes = len;
	rc = send_ne(n, c, HX_MSG_NE_QUERY, c->isession, msg, len);
	free(msg);
	if (rc)
		hx_nd_session_end_initiator(c);
}

/* A reconciliation ended. Its counts are written at once when they say
 * something new (what either side lacks changed, the first one with this
 * peer, a one-off sync); a routine round that found both sides as before
 * moves only its time and count, written with last_seen once a minute
 * (SEEN_FLUSH_MS), with other news, or when the connection drops: an idle
 * node with three peers otherwise commits (and fdatasyncs) a dozen times
 * a minute for nothing `hansa status` needs at once. */
static void recon_stats(hx_node *n, struct peer *p, int changed, uint64_t now)
{
	if (changed || p->st.recon_ok == 1 || n->cfg.once) {
		p->dirty = 1;
		hx_nd_peer_flush(n, p, now);
	} else {
		p->routine = 1;
	}
}

static void recon_done(hx_node *n, struct conn *c, uint64_t now)
{
	struct peer *p = c->peer;
	uint8_t d[HX_NE_DONE_LEN];
	size_t have = c->have.n, need = c->need.n;

	for (size_t i = 0; i < need; i++)
		if (hx_nd_idq_push(&c->want_q, c->need.ids[i], 0))
			break;
	for (size_t i = 0; i < have; i++)
		if (hx_nd_idq_push(&c->push_q, c->have.ids[i], 0))
			break;
	hx_wire_ne_done(d, c->isession, (uint32_t)have, (uint32_t)need);
	hx_nd_send1(n, c, d, sizeof d);
	p->st.last_recon = now;
	p->st.recon_ok++;
	p->st.lack_known = 1;
	p->st.we_lack = need;
	p->st.they_lack = have;
	p->last_recon_any = now;
	c->synced = 1;
	if (c->result) {
		c->result->we_lacked += need;
		c->result->they_lacked += have;
		c->result->rounds += c->irounds;
		c->result->recon_bytes += c->ibytes;
		hx_nd_progress(n);
	}
	int changed = have != p->last_have || need != p->last_need;
	p->last_have = have;
	p->last_need = need;
	if (((have || need) && changed) || n->cfg.verbose)
		hx_nd_log(n,
		          "reconciled with %s: %u round trip%s, %llu bytes, %.1f ms; we lack %zu, "
		          "they lack %zu",
		          p->name, c->irounds, c->irounds == 1 ? "" : "s",
		          (unsigned long long)c->ibytes, (double)(now - c->istarted) / 1000.0, need,
		          have);
	hx_nd_session_end_initiator(c);
	recon_stats(n, p, changed, now);
}

void hx_nd_on_ne_reply(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	uint8_t *out;
	size_t outlen;
	if (!c->ine || w->session != c->isession)
		return; /* a late reply to an abandoned session */
	c->ibytes += w->nelen;
	int rc = hx_ne_reconcile(c->ine, w->ne, w->nelen, &out, &outlen, &c->have, &c->need);
	if (rc) {
		uint8_t e[HX_NE_ERROR_LEN];
		hx_nd_log(n, "reconciliation with %s failed: %s", c->peer->name, hx_strerror(rc));
		hx_nd_stats_error(c->peer, "reconciliation failed: %s", hx_strerror(rc));
		if (rc == HX_EPROTO || rc == HX_EVERSION)
			c->peer->st.bad_messages++;
		hx_wire_ne_error(e, c->isession,
		                 rc == HX_EPROTO ? HX_NEERR_MALFORMED : HX_NEERR_INTERNAL);
		hx_nd_send1(n, c, e, sizeof e);
		hx_nd_session_end_initiator(c);
		if (n->cfg.once)
			hx_nd_finish(n, c, 0, "reconciliation failed");
		return;
	}
	if (!out) {
		recon_done(n, c, now);
		return;
	}
	c->irounds++;
	c->ibytes += outlen;
	rc = send_ne(n, c, HX_MSG_NE_QUERY, c->isession, out, outlen);
	free(out);
	if (rc)
		hx_nd_session_end_initiator(c);
}

void hx_nd_on_ne_query(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	uint8_t *out;
	size_t outlen;
	uint8_t e[HX_NE_ERROR_LEN];
	int rc;

	if (!c->rne || c->rsession != w->session) {
		if (!hx_nd_member_idle(n, c->peer)) {
			/* Entries still move between us (we asked for them, or
			 * push them): a reconciliation now would find them
			 * missing and send them again. Later (§6.2). */
			hx_wire_ne_error(e, w->session, HX_NEERR_BUSY);
			hx_nd_send1(n, c, e, sizeof e);
			return;
		}
		hx_nd_session_end_responder(c);
		if ((rc = hx_recon_view_open(&c->rview, n->store)))
			goto internal;
		c->rst = hx_recon_view_storage(c->rview);
		if ((rc = hx_ne_new(&c->rne, &c->rst, frame_limit(n, c))))
			goto internal;
		c->rsession = w->session;
	}
	c->rlast = now;
	rc = hx_ne_reconcile(c->rne, w->ne, w->nelen, &out, &outlen, NULL, NULL);
	if (rc == HX_EPROTO) {
		c->peer->st.bad_messages++;
		c->peer->dirty = 1;
		hx_nd_log(n, "malformed reconciliation message from %s", c->peer->name);
		hx_wire_ne_error(e, w->session, HX_NEERR_MALFORMED);
		hx_nd_send1(n, c, e, sizeof e);
		hx_nd_session_end_responder(c);
		return;
	}
	if (rc)
		goto internal;
	send_ne(n, c, HX_MSG_NE_REPLY, w->session, out, outlen);
	free(out);
	return;
internal:
	hx_nd_log(n, "cannot answer reconciliation from %s: %s", c->peer->name, hx_strerror(rc));
	hx_wire_ne_error(e, w->session, HX_NEERR_INTERNAL);
	hx_nd_send1(n, c, e, sizeof e);
	hx_nd_session_end_responder(c);
}

/* The initiator's NE_DONE: its counts are ours mirrored. */
void hx_nd_on_ne_done(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	struct peer *p = c->peer;
	if (!c->rne || c->rsession != w->session)
		return;
	p->st.last_recon = now;
	p->st.recon_ok++;
	p->st.lack_known = 1;
	p->st.we_lack = w->have;
	p->st.they_lack = w->need;
	p->last_recon_any = now;
	int changed = w->have != p->last_have || w->need != p->last_need;
	p->last_have = w->have;
	p->last_need = w->need;
	if (((w->have || w->need) && changed) || n->cfg.verbose)
		hx_nd_log(n, "%s reconciled with us: we lack %u, they lack %u", p->name, w->have,
		          w->need);
	hx_nd_session_end_responder(c);
	recon_stats(n, p, changed, now);
}

void hx_nd_on_ne_error(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	if (c->ine && w->session == c->isession) {
		int busy = w->reason == HX_NEERR_BUSY;
		if (!busy || n->cfg.verbose)
			hx_nd_log(n, "%s abandoned our reconciliation (%s)", c->peer->name,
			          busy ? "busy: entries still move between us; again in 5 s"
			               : "an error on its side");
		hx_nd_session_end_initiator(c);
		c->next_recon = now + 5000000;
		if (busy)
			c->busy_retry = c->next_recon; /* whatever made it due */
		if (n->cfg.once && busy)
			c->recon_due = 1; /* hx_nd_recon_start cleared it */
		else if (n->cfg.once)
			hx_nd_finish(n, c, 0, "the peer abandoned the reconciliation");
	} else if (c->rne && w->session == c->rsession) {
		hx_nd_session_end_responder(c);
	}
}
