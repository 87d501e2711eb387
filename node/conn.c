/*
 * conn.c: members, peers and connections. The members this node knows
 * (reloaded as `hansa member` changes them) and its per-member statistics;
 * the DEALER (with its monitor) of each configured peer and the connections
 * accepted on the ROUTER (what its monitor tells: router.c); sending messages and reading whole
 * ones; the ZAP handler, which lets only members' transport keys in. The lowest of the node's
 * files: it calls only idq.c and log.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "node/node_int.h"
#include "store/org.h"

/* ---- members and peers ----------------------------------------------------- */

int hx_nd_members_reload(hx_node *n)
{
	hx_member *m;
	size_t k;
	int rc = hx_members_load(n->store, &m, &k, NULL);
	if (rc)
		return rc;
	hx_members_free(n->members, n->nmembers);
	n->members = m;
	n->nmembers = k;
	return HX_OK;
}

const hx_member *hx_nd_member_by_key(hx_node *n, const uint8_t key[HX_KEY_LEN])
{
	for (size_t i = 0; i < n->nmembers; i++)
		if (!memcmp(n->members[i].key, key, HX_KEY_LEN))
			return &n->members[i];
	return NULL;
}

static const hx_member *member_by_transport(hx_node *n, const uint8_t t[32])
{
	for (size_t i = 0; i < n->nmembers; i++)
		if (n->members[i].has_transport && !memcmp(n->members[i].transport, t, 32))
			return &n->members[i];
	return NULL;
}

struct peer *hx_nd_peer_get(hx_node *n, const uint8_t key[HX_KEY_LEN])
{
	for (size_t i = 0; i < n->npeers; i++)
		if (!memcmp(n->peers[i]->key, key, HX_KEY_LEN))
			return n->peers[i];
	struct peer **a = hx_grow(n->peers, &n->cappeers, n->npeers + 1, sizeof *a);
	if (!a)
		return NULL;
	n->peers = a;
	struct peer *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	memcpy(p->key, key, HX_KEY_LEN);
	p->lazy = n->cfg.start_lazy;
	if (hx_stats_load(n->store, key, &p->st))
		memset(&p->st, 0, sizeof p->st);
	/* counted against refused_ids, which starts empty in this process */
	memset(p->st.they_refused, 0, sizeof p->st.they_refused);
	memset(p->st.they_refused_ours, 0, sizeof p->st.they_refused_ours);
	const hx_member *m = hx_nd_member_by_key(n, key);
	const char *name = m ? hx_member_field(m, "name") : NULL;
	char hex[17];
	hx_device d;
	for (size_t i = 0; !m && !name && i < n->nmembers; i++)
		if (!hx_store_device_get(n->store, n->members[i].key, key, &d)) {
			/* a device's node (FORMAT.md §1.8.1): its name */
			snprintf(p->name, sizeof p->name, "%.*s (%s)", (int)sizeof p->name - 20,
			         d.name, hx_nd_short_hex(hex, key));
			n->peers[n->npeers++] = p;
			return p;
		}
	if (name && *name)
		snprintf(p->name, sizeof p->name, "%s (%s)", name, hx_nd_short_hex(hex, key));
	else
		snprintf(p->name, sizeof p->name, "%s", hx_nd_short_hex(hex, key));
	n->peers[n->npeers++] = p;
	return p;
}

void hx_nd_stats_error(struct peer *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->st.last_error, sizeof p->st.last_error, fmt, ap);
	va_end(ap);
	p->st.last_error_at = hx_now_us();
	p->dirty = 1;
}

void hx_nd_peer_flush(hx_node *n, struct peer *p, uint64_t now)
{
	p->st.updated = now;
	if (!p->st.pid || p->st.connected)
		p->st.pid = (uint64_t)getpid();
	if (hx_stats_save(n->store, p->key, &p->st) == HX_OK) {
		p->dirty = 0;
		p->routine = 0;
		p->seen_saved = p->st.last_seen;
	}
}

void hx_nd_progress(hx_node *n)
{
	uint64_t done = 0, total = 0;
	if (!n->cfg.progress)
		return;
	for (size_t i = 0; i < n->nresults; i++) {
		done += n->results[i].fetched;
		total += n->results[i].we_lacked;
	}
	n->cfg.progress(n->cfg.progress_arg, done, total);
}

void hx_nd_finish(hx_node *n, struct conn *c, int ok, const char *why)
{
	c->finished = 1;
	if (c->result) {
		c->result->ok = ok;
		if (why && !c->result->error[0])
			snprintf(c->result->error, sizeof c->result->error, "%s", why);
	}
	if (!ok && why) {
		hx_nd_stats_error(c->peer, "%s", why);
		hx_nd_log(n, "sync with %s at %s failed: %s", c->peer->name, c->endpoint, why);
	}
}

/* ---- sending ----------------------------------------------------------------- */

/* Sends a message of k frames; 0 or -1 (the connection is then marked down
 * or the message dropped because the peer is too slow). */
/* zmq frees a frame handed over with zmq_msg_init_data through this. */
static void free_frame(void *data, void *hint)
{
	(void)hint;
	free(data);
}

int hx_nd_send_parts_owned(hx_node *n, struct conn *c, const void *const *parts, const size_t *lens,
                           size_t k, void *owned)
{
	void *s = c->out ? c->sock : n->router;
	if (!c->out && zmq_send(s, c->rid, c->ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		goto fail;
	for (size_t i = 0; i < k; i++) {
		/* after the first frame the rest of a message always goes */
		int flags = (i + 1 < k ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT;
		zmq_msg_t m;
		if (owned && i + 1 == k) { /* zmq sends it from there and frees it */
			if (zmq_msg_init_data(&m, owned, lens[i], free_frame, NULL))
				goto fail;
			owned = NULL;
			if (zmq_msg_send(&m, s, flags) < 0) {
				zmq_msg_close(&m);
				goto fail;
			}
		} else if (zmq_send(s, parts[i], lens[i], flags) < 0) {
			goto fail;
		}
	}
	c->last_tx = hx_now_us();
	uint8_t t = k && lens[0] >= 2 ? ((const uint8_t *)parts[0])[1] : 0;
	if (t == HX_MSG_WANT || t == HX_MSG_ENTRIES || t == HX_MSG_ANNOUNCE || t == HX_MSG_PUSH) {
		size_t bytes = 0;
		for (size_t i = 0; i < k; i++)
			bytes += lens[i];
		__atomic_fetch_add(&n->entry_bytes, bytes, __ATOMIC_RELAXED);
	}
	return 0;
fail:
	free(owned);
	if (errno == EHOSTUNREACH || (c->out && errno == EAGAIN && !c->connected)) {
		hx_nd_conn_down(n, c, "unreachable");
	} else if (n->cfg.verbose) {
		hx_nd_log(n, "send to %s failed: %s", c->peer->name, zmq_strerror(errno));
	}
	return -1;
}

int hx_nd_send_parts(hx_node *n, struct conn *c, const void *const *parts, const size_t *lens,
                     size_t k)
{
	return hx_nd_send_parts_owned(n, c, parts, lens, k, NULL);
}

int hx_nd_send1(hx_node *n, struct conn *c, const void *buf, size_t len)
{
	const void *p[1] = { buf };
	size_t l[1] = { len };
	return hx_nd_send_parts(n, c, p, l, 1);
}

int hx_nd_send_hello(hx_node *n, struct conn *c)
{
	uint8_t h[HX_HELLO_LEN];
	uint32_t caps = HX_CAP_NEGENTROPY | HX_CAP_PUSH | HX_CAP_REFUSED |
	                (n->cfg.no_announce ? 0 : HX_CAP_ANNOUNCE) |
	                (n->cfg.once ? 0 : HX_CAP_RELAY);
	hx_wire_hello(h, caps, HX_WIRE_FRAME_MAX, n->cfg.ne_frame_limit, n->cfg.max_batch,
	              n->cfg.pk, hx_now_us());
	return hx_nd_send1(n, c, h, sizeof h);
}

/* ---- connections ------------------------------------------------------------ */

void hx_nd_session_end_initiator(struct conn *c)
{
	hx_ne_free(&c->ine);
	hx_recon_view_close(&c->iview);
	hx_ne_ids_clear(&c->have);
	hx_ne_ids_clear(&c->need);
}

void hx_nd_session_end_responder(struct conn *c)
{
	hx_ne_free(&c->rne);
	hx_recon_view_close(&c->rview);
}

static int peer_connected(hx_node *n, const struct peer *p)
{
	for (size_t i = 0; i < n->nconns; i++)
		if (n->conns[i]->peer == p && n->conns[i]->up)
			return 1;
	return 0;
}

static void conn_reset(hx_node *n, struct conn *c)
{
	hx_nd_session_end_initiator(c);
	hx_nd_session_end_responder(c);
	hx_nd_idq_clear(&c->want_q);
	hx_nd_idq_clear(&c->push_q);
	hx_nd_idq_clear(&c->ann_q);
	hx_nd_idq_clear(&c->later_q);
	c->nwants = c->npushes = 0;
	c->synced = 0; /* once: what was cleared must be reconciled again */
	int was_up = c->up;
	c->up = 0;
	/* what went out on c may not have arrived: it may be sent again */
	if (c->peer)
		hx_nd_idset_free(&c->peer->sent);
	if (was_up && !peer_connected(n, c->peer)) {
		c->peer->st.connected = 0;
		c->peer->dirty = 1;
	}
}

/* What c still had to send goes to another open connection of the same
 * member, if there is one: e.g. when a `hansa sync` process, the member's
 * newest connection, has gone while its daemon's stays. What went out on
 * c may not have arrived, or was heard by the process that went (WANTs
 * not answered, PUSHes not acknowledged, ids announced and not yet asked
 * for): the other connection reconciles once the transfers rest. */
static void handover(hx_node *n, struct conn *c)
{
	struct conn *to;
	if (!c->up || !(to = hx_nd_primary_conn(n, c->peer, c)))
		return;
	to->recon_due = 2;
	/* announcements go as pushes when the other connection does not
	 * understand them (a member may run two versions at once); what the
	 * member announced on c is asked for on the other */
	struct idq *ann = to->peer_caps & HX_CAP_ANNOUNCE ? &to->ann_q : &to->push_q;
	if (c->later_q.n && !to->later_q.n)
		to->later_at = c->later_at;
	struct idq *from[4] = { &c->push_q, &c->want_q, &c->ann_q, &c->later_q },
	           *into[4] = { &to->push_q, &to->want_q, ann, &to->later_q };
	for (int j = 0; j < 4; j++)
		(void)hx_nd_idq_append(into[j], from[j]);
	if (n->cfg.verbose)
		hx_nd_log(n, "%zu entries to push and %zu to fetch moved to %s's other connection",
		          c->push_q.n, c->want_q.n, c->peer->name);
}

void hx_nd_conn_down(hx_node *n, struct conn *c, const char *why)
{
	if (c->up)
		hx_nd_log(n, "peer %s down (%s%s%s)", c->peer->name,
		          c->out ? c->endpoint : "incoming", why ? ": " : "", why ? why : "");
	handover(n, c);
	c->connected = 0;
	conn_reset(n, c);
}

static void dealer_close(hx_node *n, struct conn *c);

static void conn_free(hx_node *n, struct conn *c)
{
	conn_reset(n, c);
	if (c->out)
		dealer_close(n, c);
	hx_nd_idq_free(&c->want_q);
	hx_nd_idq_free(&c->push_q);
	hx_nd_idq_free(&c->ann_q);
	hx_nd_idq_free(&c->later_q);
	free(c);
}

void hx_nd_conn_remove(hx_node *n, size_t i)
{
	conn_free(n, n->conns[i]);
	n->conns[i] = n->conns[--n->nconns];
}

struct conn *hx_nd_conn_new(hx_node *n, struct peer *p, int out)
{
	struct conn **a = hx_grow(n->conns, &n->capconns, n->nconns + 1, sizeof *a);
	if (!a)
		return NULL;
	n->conns = a;
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->out = out;
	c->peer = p;
	c->created = c->last_rx = hx_now_us();
	c->peer_max_frame = HX_WIRE_FRAME_MAX;
	c->peer_max_batch = HX_WIRE_BATCH_MAX;
	n->conns[n->nconns++] = c;
	return c;
}

/* Records and logs a failed socket call (what, and zmq's reason for errno);
 * returns HX_EIO. */
static int sock_fail(hx_node *n, const char *what)
{
	snprintf(n->sock_error, sizeof n->sock_error, "%s: %s", what, zmq_strerror(errno));
	hx_nd_log(n, "%s", n->sock_error);
	return HX_EIO;
}

static int setopt(hx_node *n, void *s, int opt, const char *name, const void *v, size_t len)
{
	char what[64];
	if (!zmq_setsockopt(s, opt, v, len))
		return HX_OK;
	snprintf(what, sizeof what, "cannot set %s", name);
	return sock_fail(n, what);
}
#define SETOPT(n, s, opt, v, len) setopt(n, s, opt, #opt, v, len)

void hx_nd_sock_close(hx_node *n, void **s)
{
	if (*s && zmq_close(*s))
		sock_fail(n, "cannot close a socket");
	*s = NULL;
}

/* The options of every peer socket. RECONNECT_IVL_MAX and CONNECT_TIMEOUT
 * bound how long a healed link stays idle: a connect that hangs (SYN-SENT
 * while the path drops packets) is abandoned after CONNECT_TIMEOUT_MS and
 * retried within RECONNECT_IVL_MAX_MS plus libzmq's jitter (up to
 * RECONNECT_IVL_MS), so traffic flows again within about 2 s. */
static int sockopts_common(hx_node *n, void *s)
{
	int linger = 0, hb = 5000, hbt = 5000, hbttl = 15000, hs = 10000, rc = RECONNECT_IVL_MS,
	    rcmax = RECONNECT_IVL_MAX_MS, cto = CONNECT_TIMEOUT_MS, hwm = 4000;
	int64_t maxmsg = HX_WIRE_FRAME_MAX;
	if (SETOPT(n, s, ZMQ_LINGER, &linger, sizeof linger) ||
	    SETOPT(n, s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
	    SETOPT(n, s, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb) ||
	    SETOPT(n, s, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof hbt) ||
	    SETOPT(n, s, ZMQ_HEARTBEAT_TTL, &hbttl, sizeof hbttl) ||
	    SETOPT(n, s, ZMQ_HANDSHAKE_IVL, &hs, sizeof hs) ||
	    SETOPT(n, s, ZMQ_RECONNECT_IVL, &rc, sizeof rc) ||
	    SETOPT(n, s, ZMQ_RECONNECT_IVL_MAX, &rcmax, sizeof rcmax) ||
	    SETOPT(n, s, ZMQ_CONNECT_TIMEOUT, &cto, sizeof cto) ||
	    SETOPT(n, s, ZMQ_SNDHWM, &hwm, sizeof hwm) ||
	    SETOPT(n, s, ZMQ_RCVHWM, &hwm, sizeof hwm))
		return HX_EIO;
	return HX_OK;
}

/* Stops the monitor and closes c's DEALER and monitor socket. */
static void dealer_close(hx_node *n, struct conn *c)
{
	if (c->mon && zmq_socket_monitor(c->sock, NULL, 0))
		sock_fail(n, "cannot stop a monitor");
	hx_nd_sock_close(n, &c->mon);
	hx_nd_sock_close(n, &c->sock);
}

/* Opens c's DEALER with its monitor and starts connecting to c->endpoint
 * with the transport key c->server_key. HX_EINVAL: a bad endpoint; HX_EIO:
 * a socket call failed (logged). On failure nothing stays open. */
static int dealer_open(hx_node *n, struct conn *c)
{
	int one = 1, zero = 0, rc = HX_EIO;
	if (!(c->sock = zmq_socket(n->zctx, ZMQ_DEALER)))
		return sock_fail(n, "cannot create a DEALER socket");
	if (sockopts_common(n, c->sock) || SETOPT(n, c->sock, ZMQ_IMMEDIATE, &one, sizeof one) ||
	    SETOPT(n, c->sock, ZMQ_CURVE_SERVERKEY, c->server_key, 32) ||
	    SETOPT(n, c->sock, ZMQ_CURVE_PUBLICKEY, n->cfg.curve_pk, 32) ||
	    SETOPT(n, c->sock, ZMQ_CURVE_SECRETKEY, n->cfg.curve_sk, 32))
		goto fail;
	snprintf(c->mon_ep, sizeof c->mon_ep, "inproc://hx-mon-%d", ++n->mon_seq);
	if (zmq_socket_monitor(c->sock, c->mon_ep,
	                       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_CONNECT_RETRIED |
	                               ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
		sock_fail(n, "cannot monitor a DEALER socket");
		goto fail;
	}
	if (!(c->mon = zmq_socket(n->zctx, ZMQ_PAIR))) {
		sock_fail(n, "cannot create a monitor socket");
		goto fail;
	}
	if (SETOPT(n, c->mon, ZMQ_LINGER, &zero, sizeof zero))
		goto fail;
	if (zmq_connect(c->mon, c->mon_ep)) {
		sock_fail(n, "cannot connect to a monitor");
		goto fail;
	}
	if (zmq_connect(c->sock, c->endpoint)) {
		int e = errno;
		hx_nd_log(n, "cannot connect to %s: %s", c->endpoint, zmq_strerror(e));
		if (c->result)
			snprintf(c->result->error, sizeof c->result->error, "bad endpoint: %s",
			         zmq_strerror(e));
		rc = e == EINVAL || e == EPROTONOSUPPORT || e == ENOCOMPATPROTO ? HX_EINVAL
		                                                                : HX_EIO;
		goto fail;
	}
	return HX_OK;
fail:
	dealer_close(n, c);
	return rc;
}

/* Opens the DEALER of a configured peer. */
int hx_nd_conn_open_out(hx_node *n, const hx_peer_conf *pc, hx_sync_result *res)
{
	const hx_member *m = hx_nd_member_by_key(n, pc->key);
	struct peer *p = hx_nd_peer_get(n, pc->key);
	char hex[17];
	if (!p)
		return HX_ENOMEM;
	if (!m || !m->has_transport) {
		const char *why = m ? "its transport key is unknown (add its invite code with "
		                      "'hansa member add CODE')"
		                    : "it is not a member";
		hx_nd_log(n, "cannot connect to %s (%s): %s", pc->endpoint,
		          hx_nd_short_hex(hex, pc->key), why);
		if (res) {
			snprintf(res->error, sizeof res->error, "%s",
			         m ? "transport key unknown" : "not a member");
		}
		hx_nd_stats_error(p, "%s", m ? "transport key unknown" : "not a member");
		return HX_EPERM;
	}
	struct conn *c = hx_nd_conn_new(n, p, 1);
	if (!c)
		return HX_ENOMEM;
	snprintf(c->endpoint, sizeof c->endpoint, "%s", pc->endpoint);
	c->result = res;
	memcpy(c->server_key, m->transport, 32);
	int rc = dealer_open(n, c);
	if (rc) {
		/* not polled, not retried: a bad endpoint stays until the peer
		 * is changed; a socket failure is logged and, at start, fatal */
		c->finished = 1;
		if (res && !res->error[0])
			snprintf(res->error, sizeof res->error, "%.120s", n->sock_error);
	}
	return rc;
}

/* After a refused or failed handshake libzmq gives up on the endpoint (it
 * reconnects only after network errors), so the node opens the DEALER
 * again itself: after 1 s, then twice as long each time up to 30 s, until
 * the handshake succeeds (the peer has made this node a member). */
static void retry_later(hx_node *n, struct conn *c)
{
	c->retry_ms = !c->retry_ms                      ? RETRY_MIN_MS
	              : c->retry_ms >= RETRY_MAX_MS / 2 ? RETRY_MAX_MS
	                                                : 2 * c->retry_ms;
	c->retry_at = hx_now_us() + c->retry_ms * 1000ull;
	if (n->cfg.verbose)
		hx_nd_log(n, "trying %s at %s again in %u s", c->peer->name, c->endpoint,
		          c->retry_ms / 1000);
}

void hx_nd_conn_retry(hx_node *n, struct conn *c)
{
	c->retry_at = 0;
	hx_nd_conn_down(n, c, NULL);
	dealer_close(n, c);
	if (dealer_open(n, c))
		retry_later(n, c);
}

struct conn *hx_nd_primary_conn(hx_node *n, const struct peer *p, const struct conn *except)
{
	struct conn *best = NULL;
	for (size_t i = 0; i < n->nconns; i++) {
		struct conn *c = n->conns[i];
		if (c != except && c->peer == p && c->up && (!best || c->last_rx > best->last_rx))
			best = c;
	}
	return best;
}

int hx_nd_listen(hx_node *n)
{
	int one = 1, zero = 0;
	/* The ZAP handler first: without it libzmq admits any CURVE client. */
	if (!(n->zap = zmq_socket(n->zctx, ZMQ_REP)) ||
	    SETOPT(n, n->zap, ZMQ_LINGER, &zero, sizeof zero) || zmq_bind(n->zap, ZAP_ENDPOINT)) {
		snprintf(n->error, sizeof n->error, "cannot bind the ZAP handler: %s",
		         zmq_strerror(errno));
		return HX_EIO;
	}
	if (!(n->router = zmq_socket(n->zctx, ZMQ_ROUTER))) {
		snprintf(n->error, sizeof n->error, "cannot create the ROUTER socket: %s",
		         zmq_strerror(errno));
		return HX_EIO;
	}
	if (sockopts_common(n, n->router) ||
	    SETOPT(n, n->router, ZMQ_CURVE_SERVER, &one, sizeof one) ||
	    SETOPT(n, n->router, ZMQ_CURVE_SECRETKEY, n->cfg.curve_sk, 32) ||
	    SETOPT(n, n->router, ZMQ_ZAP_DOMAIN, "hansa", 5) ||
	    SETOPT(n, n->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one)) {
		snprintf(n->error, sizeof n->error, "%s", n->sock_error);
		return HX_EIO;
	}
	if (zmq_bind(n->router, n->cfg.bind)) {
		snprintf(n->error, sizeof n->error, "cannot listen on %s: %s", n->cfg.bind,
		         zmq_strerror(errno));
		return HX_EIO;
	}
	/* junk before authentication: libzmq reports it only to a monitor */
	int zero2 = 0;
	if (zmq_socket_monitor(n->router, "inproc://hx-router-mon",
	                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_DISCONNECTED) ||
	    !(n->router_mon = zmq_socket(n->zctx, ZMQ_PAIR)) ||
	    SETOPT(n, n->router_mon, ZMQ_LINGER, &zero2, sizeof zero2) ||
	    zmq_connect(n->router_mon, "inproc://hx-router-mon")) {
		snprintf(n->error, sizeof n->error, "cannot monitor the ROUTER socket: %s",
		         zmq_strerror(errno));
		return HX_EIO;
	}
	size_t el = sizeof n->endpoint;
	if (zmq_getsockopt(n->router, ZMQ_LAST_ENDPOINT, n->endpoint, &el))
		snprintf(n->endpoint, sizeof n->endpoint, "%s", n->cfg.bind);
	hx_nd_log(n, "listening on %s", n->endpoint);
	return HX_OK;
}

/* ---- receiving ----------------------------------------------------------------- */

/* Reads one whole message (all its frames) without blocking. Returns 0 with
 * a message, 1 when there is none. Frames beyond MAXF are read and dropped
 * (*over set). */
int hx_nd_recv_msg(void *sock, zmq_msg_t *f, size_t max, size_t *k, int *over)
{
	*k = 0;
	*over = 0;
	for (;;) {
		zmq_msg_t tmp, *dst = *k < max ? &f[*k] : &tmp;
		zmq_msg_init(dst);
		if (zmq_msg_recv(dst, sock, *k == 0 ? ZMQ_DONTWAIT : 0) < 0) {
			zmq_msg_close(dst);
			return *k ? 0 : 1;
		}
		int more = zmq_msg_more(dst);
		if (dst == &tmp) {
			zmq_msg_close(&tmp);
			*over = 1;
		} else {
			++*k;
		}
		if (!more)
			return 0;
	}
}

void hx_nd_close_frames(zmq_msg_t *f, size_t k)
{
	for (size_t i = 0; i < k; i++)
		zmq_msg_close(&f[i]);
}

int hx_nd_mon_event(hx_node *n, void *mon, uint16_t *event, uint32_t *value)
{
	zmq_msg_t ev, addr;
	zmq_msg_init(&ev);
	if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&ev);
		return 1;
	}
	*event = 0;
	*value = 0;
	if (zmq_msg_size(&ev) >= 6) {
		memcpy(event, zmq_msg_data(&ev), 2);
		memcpy(value, (uint8_t *)zmq_msg_data(&ev) + 2, 4);
	}
	int more = zmq_msg_more(&ev);
	zmq_msg_close(&ev);
	if (more) { /* the endpoint */
		zmq_msg_init(&addr);
		if (zmq_msg_recv(&addr, mon, 0) < 0)
			sock_fail(n, "cannot read a monitor event");
		zmq_msg_close(&addr);
	}
	return 0;
}

void hx_nd_router_mon_close(hx_node *n)
{
	if (n->router_mon && n->router && zmq_socket_monitor(n->router, NULL, 0))
		sock_fail(n, "cannot stop a monitor");
	hx_nd_sock_close(n, &n->router_mon);
	free(n->authed);
	n->authed = NULL;
	n->nauthed = n->capauthed = 0;
}

void hx_nd_on_monitor(hx_node *n, struct conn *c)
{
	uint16_t event;
	uint32_t value;
	while (!hx_nd_mon_event(n, c->mon, &event, &value)) {
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			c->connected = 1;
			c->connected_at = hx_now_us();
			c->unreachable = 0;
			c->retry_ms = 0;
			c->retry_at = 0;
			hx_nd_send_hello(n, c);
		} else if (event == ZMQ_EVENT_CONNECT_RETRIED) {
			/* nobody listens there (yet): libzmq retries by itself */
			if (!c->unreachable++) {
				hx_nd_log(n, "cannot reach %s at %s; retrying", c->peer->name,
				          c->endpoint);
				hx_nd_stats_error(c->peer, "cannot reach %s (retrying)",
				                  c->endpoint);
			}
		} else if (event == ZMQ_EVENT_DISCONNECTED) {
			hx_nd_conn_down(n, c, "disconnected");
		} else if (event &
		           (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
		            ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
			const char *why =
			        event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
			                ? "refused by the peer (is this node a member there?)"
			                : "CURVE handshake failed (wrong transport key?)";
			if (!c->auth_failed++)
				hx_nd_log(n, "cannot connect to %s at %s: %s", c->peer->name,
				          c->endpoint, why);
			hx_nd_stats_error(c->peer, "%s", why);
			if (c->result && n->cfg.once) {
				snprintf(c->result->error, sizeof c->result->error, "%s", why);
				c->finished = 1;
			} else if (event != ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && !c->retry_at) {
				/* NO_DETAIL (a network error or timeout while
				 * handshaking): libzmq reconnects by itself */
				retry_later(n, c);
			}
		}
	}
}

/* ---- ZAP: only members' transport keys get in ------------------------------------ */

static int zap_reply(void *s, const zmq_msg_t *reqid, const char *code, const char *text,
                     const char *uid)
{
	if (zmq_send(s, "1.0", 3, ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, zmq_msg_data((zmq_msg_t *)reqid), zmq_msg_size((zmq_msg_t *)reqid),
	             ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, code, 3, ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, text, strlen(text), ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, uid, strlen(uid), ZMQ_SNDMORE) < 0 || zmq_send(s, "", 0, 0) < 0)
		return -1;
	return 0;
}

void hx_nd_on_zap(hx_node *n)
{
	for (;;) {
		zmq_msg_t f[8];
		size_t k;
		int over;
		if (hx_nd_recv_msg(n->zap, f, 8, &k, &over))
			return;
		/* version, request id, domain, address, identity, mechanism, credentials */
		if (k < 6 || over) {
			hx_nd_close_frames(f, k);
			continue; /* not a ZAP request: no reply possible */
		}
		const char *code = "400", *text = "not a member";
		char uid[2 * HX_KEY_LEN + 1] = "";
		char addr[64] = "?";
		size_t al = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3])
		                                                  : sizeof addr - 1;
		memcpy(addr, zmq_msg_data(&f[3]), al);
		addr[al] = 0;
		if (zmq_msg_size(&f[0]) != 3 || memcmp(zmq_msg_data(&f[0]), "1.0", 3)) {
			hx_nd_close_frames(f, k);
			continue;
		}
		if (zmq_msg_size(&f[5]) != 5 || memcmp(zmq_msg_data(&f[5]), "CURVE", 5) || k != 7 ||
		    zmq_msg_size(&f[6]) != 32) {
			text = "CURVE required";
		} else {
			const uint8_t *ck = zmq_msg_data(&f[6]);
			const hx_member *m = member_by_transport(n, ck);
			if (!m && !hx_nd_members_reload(n))
				m = member_by_transport(n, ck);
			uint8_t org[HX_KEY_LEN], dev[HX_KEY_LEN];
			if (m) {
				code = "200";
				text = "OK";
				hx_hex(uid, m->key, HX_KEY_LEN);
			} else if (hx_store_device_by_transport(n->store, ck, hx_now_us(), org,
			                                        dev) == HX_OK) {
				/* a current device of a member (FORMAT.md §1.8): its
				 * node speaks as the device key */
				code = "200";
				text = "OK";
				hx_hex(uid, dev, HX_KEY_LEN);
			} else {
				uint64_t now = hx_now_us();
				n->zap_refused++;
				if (memcmp(n->zap_logged_key, ck, 32) ||
				    now - n->zap_logged_at > 60000000) {
					char hex[65];
					hx_nd_log(n,
					          "refused connection from %s: transport key %s is "
					          "not a member's",
					          addr, hx_hex(hex, ck, 32));
					memcpy(n->zap_logged_key, ck, 32);
					n->zap_logged_at = now;
				}
			}
		}
		if (zap_reply(n->zap, &f[1], code, text, uid))
			sock_fail(n, "cannot answer a ZAP request");
		hx_nd_close_frames(f, k);
	}
}
