/*
 * hello.c: what a HELLO does to a connection: the peer's limits, capabilities
 * and clock (skew warned over a minute, PROTOCOL.md §5), and the connection
 * comes up (PROTOCOL.md §6.1).
 */
#include <string.h>
#include <unistd.h>
#include "node/node_int.h"

/* A HELLO: the peer's limits and clock, and the connection is up. */
void hx_nd_on_hello(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	if (memcmp(w->key, c->peer->key, HX_KEY_LEN)) {
		char a[17], b[17];
		hx_nd_log(n, "hello from %s claims identity %s but the connection is %s's: dropped",
		          c->out ? c->endpoint : "incoming", hx_nd_short_hex(a, w->key),
		          hx_nd_short_hex(b, c->peer->key));
		c->peer->st.bad_messages++;
		return;
	}
	c->peer_max_frame = w->max_frame < HX_WIRE_FRAME_MAX ? w->max_frame : HX_WIRE_FRAME_MAX;
	c->peer_ne_limit = w->ne_frame_limit;
	c->peer_max_batch = w->max_batch;
	c->peer_caps = w->caps & (n->cfg.no_announce ? ~(uint32_t)HX_CAP_ANNOUNCE : ~0u);
	int64_t skew = (int64_t)(w->time - now);
	c->peer->st.skew_us = skew;
	c->peer->st.skew_at = now;
	if (skew > (int64_t)SKEW_WARN_US || skew < -(int64_t)SKEW_WARN_US)
		hx_nd_log(n,
		          "clock of %s is %.0f s %s ours: entries dated more than 10 minutes "
		          "ahead are refused",
		          c->peer->name, (double)(skew < 0 ? -skew : skew) / 1e6,
		          skew < 0 ? "behind" : "ahead of");
	if (!c->out)
		hx_nd_send_hello(n, c);
	/* A second HELLO on an open connection (the listening side repeats
	 * its own when a message came before the HELLO, as it ignored that
	 * message) updates the limits and, on the connecting side, asks for
	 * a reconciliation, so that whatever was ignored is found again. The
	 * connection's start stays when it was. */
	if (c->out)
		c->recon_due = 1;
	if (c->up)
		return;
	/* A new connection of the member: what went out on its others may be
	 * lost (the member reconnected after a cut that the older connection
	 * has not noticed yet), so it may be sent again. */
	hx_nd_idset_free(&c->peer->sent);
	c->up = 1;
	c->connected = 1;
	c->connected_at = now;
	c->auth_failed = 0;
	c->peer->st.connected = 1;
	c->peer->st.pid = (uint64_t)getpid();
	c->peer->st.last_connect = now;
	c->peer->st.last_error[0] = 0; /* status shows current problems only */
	c->peer->dirty = 1;
	hx_nd_log(n, "peer %s up (%s)", c->peer->name, c->out ? c->endpoint : "incoming");
	hx_nd_peer_flush(n, c->peer, now); /* so that `hansa status` says so at once */
}
