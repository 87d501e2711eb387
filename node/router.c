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

/* A ROUTER connection ended: junk unless it authenticated (sent a message)
 * or the ZAP handler refused it (counted as refused). libzmq tells the
 * descriptor only on accept and disconnect, hence the bookkeeping. The
 * incoming connection whose messages came on it is sent a PING: the send
 * fails and takes it down (EHOSTUNREACH) when it was that one, where its
 * silence took IN_IDLE_MS to tell; a descriptor reused since is pinged in
 * vain. */
static void router_gone(hx_node *n, int fd)
{
	uint8_t ping[HX_PING_LEN];
	hx_wire_ping(ping, hx_now_us());
	for (size_t i = 0; i < n->nconns; i++)
		if (!n->conns[i]->out && n->conns[i]->up && n->conns[i]->rfd == fd)
			(void)hx_nd_send1(n, n->conns[i], ping, sizeof ping);
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
