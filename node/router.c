/*
 * router.c: the connections accepted on the ROUTER, as its monitor tells
 * of them: which descriptors authenticated (sent a message), which were
 * refused or junk, and an incoming connection that ended, which libzmq
 * names only by its descriptor (conn.c keeps the rest of a connection).
 */
#include <stdlib.h>
#include "node/node_int.h"

void hx_nd_router_authed(hx_node *n, int fd)
{
	if (fd < 0)
		return;
	for (size_t i = 0; i < n->nauthed; i++)
		if (n->authed[i] == fd)
			return;
	int *a = hx_grow(n->authed, &n->capauthed, n->nauthed + 1, sizeof *a);
	if (a) {
		n->authed = a;
		n->authed[n->nauthed++] = fd;
	}
}

#define PROBE_MS 1000    /* an ended descriptor's connection is pinged this long */
#define PROBE_STEP_MS 20 /* ... this often */

/* A ROUTER connection ended: junk unless it authenticated (sent a message)
 * or the ZAP handler refused it (counted as refused). libzmq tells the
 * descriptor only on accept and disconnect, hence the bookkeeping. The
 * incoming connection whose messages came on it is probed: PINGs for up
 * to PROBE_MS (hx_nd_in_gone), as the ROUTER lets go of its pipe a few
 * commands after the event. A PING fails and takes the connection down
 * (EHOSTUNREACH) once that one has gone, where its silence took
 * IN_IDLE_MS to tell; a descriptor reused since gets PINGs it ignores. */
static void router_gone(hx_node *n, int fd)
{
	uint64_t now = hx_now_us();
	for (size_t i = 0; i < n->nconns; i++) {
		struct conn *c = n->conns[i];
		if (!c->out && c->up && c->rfd == fd) {
			c->probe_until = now + PROBE_MS * 1000ull;
			c->probe_at = now;
		}
	}
	for (size_t i = 0; i < n->nauthed; i++)
		if (n->authed[i] == fd) {
			n->authed[i] = n->authed[--n->nauthed];
			return;
		}
	if (n->auth_failed)
		n->auth_failed--;
	else
		n->junk++;
}

void hx_nd_on_router_monitor(hx_node *n)
{
	uint16_t event;
	uint32_t value;
	while (!hx_nd_mon_event(n, n->router_mon, &event, &value)) {
		if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
			n->auth_failed++;
		else if (event == ZMQ_EVENT_DISCONNECTED)
			router_gone(n, (int)value);
	}
}

int hx_nd_in_gone(hx_node *n, struct conn *c, uint64_t now)
{
	if (c->probe_until && (now >= c->probe_until || !c->up))
		c->probe_until = 0;
	if (c->probe_until && now >= c->probe_at) {
		uint8_t ping[HX_PING_LEN];
		c->probe_at = now + PROBE_STEP_MS * 1000ull;
		(void)hx_nd_send1(n, c, ping, hx_wire_ping(ping, now));
	}
	return now - c->last_rx > IN_IDLE_MS * 1000ull;
}

uint64_t hx_nd_in_due(const struct conn *c)
{
	uint64_t idle = c->last_rx + IN_IDLE_MS * 1000ull + 1;
	return c->probe_until && c->probe_at < idle ? c->probe_at : idle;
}
