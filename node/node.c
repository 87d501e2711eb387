/*
 * node.c: the replication daemon (see node.h; docs/PROTOCOL.md §6 is the
 * conversation). One thread polls the ZAP handler, the ROUTER, and a DEALER
 * and its monitor per peer; a verification pool shares batches with the
 * other cores. Local writes (found in the store's change log) and entries
 * received from one member are pushed to the others by the same path; what
 * a push misses, periodic reconciliation finds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "proto/negentropy.h"
#include "store/recon.h"
#include "node/node.h"
#include "node/state.h"
#include "node/verify.h"

#define DEFAULT_INTERVAL_MS 30000
#define DEFAULT_NE_LIMIT (256u * 1024)
#define DEFAULT_TIMEOUT_MS 20000
#define WINDOW 4                    /* WANTs / PUSHes in flight per connection */
#define PUSH_BACKLOG_MAX 8192       /* larger relay backlogs go to reconciliation */
#define PING_MS 10000
#define IN_IDLE_MS 35000            /* a silent incoming connection is gone */
#define ACK_TIMEOUT_MS 15000
#define WANT_TIMEOUT_MS 30000
#define SESSION_TIMEOUT_MS 60000
#define FUTURE_US (10ull * 60 * 1000000)
#define STATS_FLUSH_MS 1000
#define MEMBERS_RELOAD_MS 2000
#define REFUSED_LOG_PER_BATCH 5
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MAXF (HX_WIRE_FRAMES_MAX + 1) /* + the ROUTER's routing id */

/* ---- small containers ---------------------------------------------------- */

/* A FIFO of ids, each with a "live" flag. */
struct idq {
	uint8_t (*id)[HX_ID_LEN];
	uint8_t *live;
	size_t head, n, cap;
};

static int idq_push(struct idq *q, const uint8_t id[HX_ID_LEN], int live)
{
	if (q->head + q->n == q->cap) {
		if (q->head > q->cap / 2) { /* compact */
			memmove(q->id, q->id + q->head, q->n * HX_ID_LEN);
			memmove(q->live, q->live + q->head, q->n);
			q->head = 0;
		} else {
			size_t cap = q->cap ? 2 * q->cap : 256;
			void *a = realloc(q->id, cap * HX_ID_LEN), *b;
			if (!a)
				return HX_ENOMEM;
			q->id = a;
			if (!(b = realloc(q->live, cap)))
				return HX_ENOMEM;
			q->live = b;
			q->cap = cap;
		}
	}
	memcpy(q->id[q->head + q->n], id, HX_ID_LEN);
	q->live[q->head + q->n] = (uint8_t)live;
	q->n++;
	return HX_OK;
}

static void idq_pop(struct idq *q, size_t k)
{
	q->head += k;
	q->n -= k;
	if (!q->n)
		q->head = 0;
}

static void idq_clear(struct idq *q)
{
	q->head = q->n = 0;
}

static void idq_free(struct idq *q)
{
	free(q->id);
	free(q->live);
	memset(q, 0, sizeof *q);
}

/* ---- peers and connections ------------------------------------------------ */

/* A member this node talks to (statistics are per member). */
struct peer {
	uint8_t key[HX_KEY_LEN];
	char name[80];
	hx_peer_stats st;
	int dirty;
	uint64_t last_recon_any; /* µs of the last reconciliation, either role */
	uint64_t not_member_logged; /* µs: such refusals are logged once a minute */
	uint64_t last_have, last_need; /* of the last reconciliation, to log changes */
};

struct inflight {
	uint64_t id;       /* WANT request or PUSH seq */
	uint64_t deadline; /* µs */
	uint32_t count;
	int transfer;      /* PUSH of reconciliation results (not live) */
};

struct conn {
	int out;                  /* our DEALER, else an incoming peer on the ROUTER */
	void *sock, *mon;         /* DEALER and its monitor (out) */
	char mon_ep[64];
	uint8_t rid[256];         /* ROUTER routing id (in) */
	size_t ridlen;
	char endpoint[HX_ENDPOINT_MAX + 1];
	uint8_t server_key[32];   /* out: the transport key we expect there */
	struct peer *peer;
	int connected;            /* transport up (out: handshake done) */
	int up;                   /* HELLOs exchanged */
	int auth_failed;          /* logged once per failure streak */
	int unreachable;          /* likewise */
	uint64_t created, connected_at, last_rx, last_tx;
	uint32_t peer_max_frame, peer_ne_limit;
	uint16_t peer_max_batch;
	/* initiator session */
	hx_ne *ine;
	hx_recon_view *iview;
	hx_ne_storage ist;
	uint32_t isession;
	uint64_t istarted;
	unsigned irounds;
	uint64_t ibytes;
	hx_ne_ids have, need;
	int recon_due;            /* 1: on connect, 2: needed (a push fell behind) */
	uint64_t next_recon;
	/* responder session */
	hx_ne *rne;
	hx_recon_view *rview;
	hx_ne_storage rst;
	uint32_t rsession;
	uint64_t rlast;
	/* transfers */
	struct idq want_q, push_q;
	struct inflight wants[WINDOW], pushes[WINDOW];
	unsigned nwants, npushes;
	uint32_t next_req;
	uint64_t next_seq;
	/* once mode */
	int synced;               /* one reconciliation completed */
	int finished;
	hx_sync_result *result;
};

/* A batch of ENTRIES being verified or waiting to be stored. */
struct pend {
	struct conn *c;
	zmq_msg_t f[HX_WIRE_BATCH_MAX]; /* owned: the entries' frames */
	hx_vjob jobs[HX_WIRE_BATCH_MAX];
	size_t k;
	uint32_t request;
	int last;
};

struct hx_node {
	hx_store *store;
	hx_node_config cfg;
	void *zctx, *zap, *router;
	char endpoint[HX_ENDPOINT_MAX + 1];
	struct conn **conns;
	size_t nconns, capconns;
	struct peer **peers;
	size_t npeers, cappeers;
	hx_member *members;
	size_t nmembers;
	hx_vpool *pool;
	hx_vjob *jobs;
	hx_put *puts;
	struct pend *pend;        /* two: one verifying, one storing */
	struct pend *verifying;   /* the one in the pool, or NULL */
	/* local change log */
	uint64_t last_seq;
	uint64_t *handled;        /* seqs this node stored itself, ascending */
	size_t nhandled, caphandled;
	struct idq fresh;
	size_t fresh_over;
	uint32_t next_session;
	uint64_t next_flush, next_reload, next_changes;
	uint64_t zap_refused;     /* not yet added to the stored counter */
	uint64_t zap_logged_at;
	uint8_t zap_logged_key[32];
	hx_sync_result *results;
	size_t nresults;
	int mon_seq;
	char error[300];          /* why hx_node_run failed */
};

static uint64_t now_us(void)
{
	return hx_now_us();
}

static void logf_(hx_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(hx_node *n, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (!n->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	n->cfg.log(n->cfg.log_arg, line);
}

static const char *short_hex(char out[17], const uint8_t *b)
{
	hx_hex(out, b, 8);
	return out;
}

/* ---- members -------------------------------------------------------------- */

static int reload_members(hx_node *n)
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

static const hx_member *member_by_key(hx_node *n, const uint8_t key[HX_KEY_LEN])
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

static struct peer *peer_get(hx_node *n, const uint8_t key[HX_KEY_LEN])
{
	for (size_t i = 0; i < n->npeers; i++)
		if (!memcmp(n->peers[i]->key, key, HX_KEY_LEN))
			return n->peers[i];
	if (n->npeers == n->cappeers) {
		size_t cap = n->cappeers ? 2 * n->cappeers : 8;
		struct peer **a = realloc(n->peers, cap * sizeof *a);
		if (!a)
			return NULL;
		n->peers = a;
		n->cappeers = cap;
	}
	struct peer *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	memcpy(p->key, key, HX_KEY_LEN);
	if (hx_stats_load(n->store, key, &p->st))
		memset(&p->st, 0, sizeof p->st);
	const hx_member *m = member_by_key(n, key);
	const char *name = m ? hx_member_field(m, "name") : NULL;
	char hex[17];
	if (name && *name)
		snprintf(p->name, sizeof p->name, "%s (%s)", name, short_hex(hex, key));
	else
		snprintf(p->name, sizeof p->name, "%s", short_hex(hex, key));
	n->peers[n->npeers++] = p;
	return p;
}

static void stats_error(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void stats_error(struct peer *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->st.last_error, sizeof p->st.last_error, fmt, ap);
	va_end(ap);
	p->st.last_error_at = now_us();
	p->dirty = 1;
}

static void flush_peer(hx_node *n, struct peer *p, uint64_t now);
static void progress(hx_node *n);
static void close_frames(zmq_msg_t *f, size_t k);
static void finish(hx_node *n, struct conn *c, int ok, const char *why);

/* ---- sending ----------------------------------------------------------------- */

static void conn_down(hx_node *n, struct conn *c, const char *why);

/* Sends a message of k frames; 0 or -1 (the connection is then marked down
 * or the message dropped because the peer is too slow). */
static int send_parts(hx_node *n, struct conn *c, const void *const *parts,
		      const size_t *lens, size_t k)
{
	void *s = c->out ? c->sock : n->router;
	if (!c->out && zmq_send(s, c->rid, c->ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		goto fail;
	for (size_t i = 0; i < k; i++) {
		if (zmq_send(s, parts[i], lens[i], (i + 1 < k ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
			if (i == 0 && c->out)
				goto fail;
			/* after the first frame the rest of a message always goes */
			goto fail;
		}
	}
	c->last_tx = now_us();
	return 0;
fail:
	if (errno == EHOSTUNREACH || (c->out && errno == EAGAIN && !c->connected)) {
		conn_down(n, c, "unreachable");
	} else if (n->cfg.verbose) {
		logf_(n, "send to %s failed: %s", c->peer->name, zmq_strerror(errno));
	}
	return -1;
}

static int send1(hx_node *n, struct conn *c, const void *buf, size_t len)
{
	const void *p[1] = { buf };
	size_t l[1] = { len };
	return send_parts(n, c, p, l, 1);
}

static int send_hello(hx_node *n, struct conn *c)
{
	uint8_t h[HX_HELLO_LEN];
	uint32_t caps = HX_CAP_NEGENTROPY | HX_CAP_PUSH | (n->cfg.once ? 0 : HX_CAP_RELAY);
	hx_wire_hello(h, caps, HX_WIRE_FRAME_MAX, n->cfg.ne_frame_limit, n->cfg.max_batch,
		      n->cfg.pk, now_us());
	return send1(n, c, h, sizeof h);
}

/* ---- connections ------------------------------------------------------------ */

static void session_end_initiator(struct conn *c)
{
	hx_ne_free(&c->ine);
	hx_recon_view_close(&c->iview);
	hx_ne_ids_clear(&c->have);
	hx_ne_ids_clear(&c->need);
}

static void session_end_responder(struct conn *c)
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
	session_end_initiator(c);
	session_end_responder(c);
	idq_clear(&c->want_q);
	idq_clear(&c->push_q);
	c->nwants = c->npushes = 0;
	c->synced = 0; /* once: what was cleared must be reconciled again */
	int was_up = c->up;
	c->up = 0;
	if (was_up && !peer_connected(n, c->peer)) {
		c->peer->st.connected = 0;
		c->peer->dirty = 1;
	}
}

static void conn_down(hx_node *n, struct conn *c, const char *why)
{
	if (c->up)
		logf_(n, "peer %s down (%s%s%s)", c->peer->name, c->out ? c->endpoint : "incoming",
		      why ? ": " : "", why ? why : "");
	c->connected = 0;
	conn_reset(n, c);
}

static void conn_free(hx_node *n, struct conn *c)
{
	conn_reset(n, c);
	if (c->mon) {
		zmq_socket_monitor(c->sock, NULL, 0);
		zmq_close(c->mon);
	}
	if (c->out && c->sock)
		zmq_close(c->sock);
	idq_free(&c->want_q);
	idq_free(&c->push_q);
	free(c);
}

static void conn_remove(hx_node *n, size_t i)
{
	conn_free(n, n->conns[i]);
	n->conns[i] = n->conns[--n->nconns];
}

static struct conn *conn_new(hx_node *n, struct peer *p, int out)
{
	if (n->nconns == n->capconns) {
		size_t cap = n->capconns ? 2 * n->capconns : 8;
		struct conn **a = realloc(n->conns, cap * sizeof *a);
		if (!a)
			return NULL;
		n->conns = a;
		n->capconns = cap;
	}
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->out = out;
	c->peer = p;
	c->created = c->last_rx = now_us();
	c->peer_max_frame = HX_WIRE_FRAME_MAX;
	c->peer_max_batch = HX_WIRE_BATCH_MAX;
	n->conns[n->nconns++] = c;
	return c;
}

static void sockopts_common(void *s)
{
	int linger = 0, hb = 2000, hbt = 6000, hs = 10000, rc = 250, rcmax = 5000;
	int64_t maxmsg = HX_WIRE_FRAME_MAX;
	int hwm = 4000;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb);
	zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof hbt);
	zmq_setsockopt(s, ZMQ_HEARTBEAT_TTL, &hbt, sizeof hbt);
	zmq_setsockopt(s, ZMQ_HANDSHAKE_IVL, &hs, sizeof hs);
	zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &rc, sizeof rc);
	zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &rcmax, sizeof rcmax);
	zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
}

/* Opens the DEALER of a configured peer. */
static int conn_open_out(hx_node *n, const hx_peer_conf *pc, hx_sync_result *res)
{
	const hx_member *m = member_by_key(n, pc->key);
	struct peer *p = peer_get(n, pc->key);
	char hex[17];
	if (!p)
		return HX_ENOMEM;
	if (!m || !m->has_transport) {
		const char *why = m ? "its transport key is unknown (add its invite code with 'hansa member add CODE')"
				    : "it is not a member";
		logf_(n, "cannot connect to %s (%s): %s", pc->endpoint, short_hex(hex, pc->key), why);
		if (res) {
			snprintf(res->error, sizeof res->error, "%s", m ? "transport key unknown" : "not a member");
		}
		stats_error(p, "%s", m ? "transport key unknown" : "not a member");
		return HX_EPERM;
	}
	struct conn *c = conn_new(n, p, 1);
	if (!c)
		return HX_ENOMEM;
	snprintf(c->endpoint, sizeof c->endpoint, "%s", pc->endpoint);
	c->result = res;
	c->sock = zmq_socket(n->zctx, ZMQ_DEALER);
	if (!c->sock)
		return HX_EIO;
	sockopts_common(c->sock);
	int one = 1;
	zmq_setsockopt(c->sock, ZMQ_IMMEDIATE, &one, sizeof one);
	zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, m->transport, 32);
	memcpy(c->server_key, m->transport, 32);
	zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, n->cfg.curve_pk, 32);
	zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, n->cfg.curve_sk, 32);
	snprintf(c->mon_ep, sizeof c->mon_ep, "inproc://hx-mon-%d", ++n->mon_seq);
	if (zmq_socket_monitor(c->sock, c->mon_ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
			       ZMQ_EVENT_CONNECT_RETRIED |
			       ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
			       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
			       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
		return HX_EIO;
	c->mon = zmq_socket(n->zctx, ZMQ_PAIR);
	if (!c->mon)
		return HX_EIO;
	zmq_setsockopt(c->mon, ZMQ_LINGER, &(int){ 0 }, sizeof(int));
	if (zmq_connect(c->mon, c->mon_ep))
		return HX_EIO;
	if (zmq_connect(c->sock, pc->endpoint)) {
		logf_(n, "cannot connect to %s: %s", pc->endpoint, zmq_strerror(errno));
		if (res)
			snprintf(res->error, sizeof res->error, "bad endpoint: %s", zmq_strerror(errno));
		c->finished = 1;
		return HX_EINVAL;
	}
	return HX_OK;
}

/* The connection to push to for a member: the up one heard from last. */
static struct conn *primary_conn(hx_node *n, const struct peer *p)
{
	struct conn *best = NULL;
	for (size_t i = 0; i < n->nconns; i++) {
		struct conn *c = n->conns[i];
		if (c->peer == p && c->up && (!best || c->last_rx > best->last_rx))
			best = c;
	}
	return best;
}

/* ---- relay / push queues ----------------------------------------------------- */

/* Queues ids for every connected member except source. */
static void relay(hx_node *n, const struct peer *source, const uint8_t (*ids)[HX_ID_LEN],
		  size_t k, int live)
{
	if (!k || n->cfg.once)
		return;
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		if (p == source || !memcmp(p->key, n->cfg.pk, HX_KEY_LEN))
			continue;
		struct conn *c = primary_conn(n, p);
		if (!c)
			continue;
		if (c->push_q.n + k > PUSH_BACKLOG_MAX) {
			/* Too much to push one by one: reconcile instead. */
			idq_clear(&c->push_q);
			c->recon_due = 2;
			continue;
		}
		for (size_t j = 0; j < k; j++)
			if (idq_push(&c->push_q, ids[j], live))
				break;
	}
}

/* A fast author check on a stored (hence valid) entry: the author key is
 * at a fixed offset in the canonical encoding (docs/FORMAT.md). */
static const uint8_t *raw_author(const uint8_t *raw, size_t len)
{
	static const uint8_t pre[7] = { 0x82, 0xaa, 0x00, 0x01, 0x01, 0x58, 0x20 };
	if (len < 7 + HX_KEY_LEN || memcmp(raw, pre, 7))
		return NULL;
	return raw + 7;
}

/* Reads up to max entries of q (skipping ones we no longer have or whose
 * author is no longer a member) into raws. Pops what it consumed. */
static size_t take_entries(hx_node *n, struct idq *q, size_t max, uint8_t **raws,
			   size_t *lens, int *live)
{
	size_t k = 0, bytes = 0, used = 0;
	*live = 0;
	while (used < q->n && k < max && bytes < HX_WIRE_BATCH_BYTES) {
		const uint8_t *id = q->id[q->head + used];
		int l = q->live[q->head + used];
		used++;
		uint8_t *raw;
		size_t len;
		if (hx_store_get(n->store, id, NULL, &raw, &len))
			continue;
		const uint8_t *a = raw_author(raw, len);
		if (a && !member_by_key(n, a)) {
			free(raw);
			continue;
		}
		raws[k] = raw;
		lens[k] = len;
		bytes += len;
		*live |= l;
		k++;
	}
	idq_pop(q, used);
	return k;
}

static int send_batch(hx_node *n, struct conn *c, uint8_t *hdr, size_t hlen,
		      uint8_t **raws, size_t *lens, size_t k)
{
	const void *parts[MAXF];
	size_t pl[MAXF];
	parts[0] = hdr;
	pl[0] = hlen;
	for (size_t i = 0; i < k; i++) {
		parts[1 + i] = raws[i];
		pl[1 + i] = lens[i];
	}
	int rc = send_parts(n, c, parts, pl, 1 + k);
	for (size_t i = 0; i < k; i++)
		free(raws[i]);
	return rc;
}

static void pump(hx_node *n, struct conn *c, uint64_t now)
{
	if (!c->up)
		return;
	size_t maxb = c->peer_max_batch < HX_WIRE_BATCH_MAX ? c->peer_max_batch : HX_WIRE_BATCH_MAX;
	while (c->npushes < WINDOW && c->push_q.n) {
		uint8_t *raws[HX_WIRE_BATCH_MAX];
		size_t lens[HX_WIRE_BATCH_MAX];
		int live;
		size_t k = take_entries(n, &c->push_q, maxb, raws, lens, &live);
		if (!k)
			continue;
		uint8_t h[HX_PUSH_LEN];
		uint64_t seq = ++c->next_seq;
		hx_wire_push(h, seq, (uint16_t)k, live ? HX_PUSH_LIVE : 0);
		if (send_batch(n, c, h, sizeof h, raws, lens, k))
			return;
		c->pushes[c->npushes++] = (struct inflight){ seq, now + ACK_TIMEOUT_MS * 1000ull,
							     (uint32_t)k, !live };
		c->peer->st.sent += k;
		c->peer->dirty = 1;
		if (n->cfg.verbose)
			logf_(n, "pushed %zu entr%s to %s", k, k == 1 ? "y" : "ies", c->peer->name);
	}
	size_t maxw = maxb < HX_WIRE_WANT_MAX ? maxb : HX_WIRE_WANT_MAX;
	while (c->nwants < WINDOW && c->want_q.n) {
		size_t k = c->want_q.n < maxw ? c->want_q.n : maxw;
		uint8_t *buf = malloc(HX_WANT_HDR_LEN + k * HX_ID_LEN);
		if (!buf)
			return;
		uint32_t req = ++c->next_req;
		size_t len = hx_wire_want(buf, req, c->want_q.id[c->want_q.head], (uint16_t)k);
		int rc = send1(n, c, buf, len);
		free(buf);
		if (rc)
			return;
		idq_pop(&c->want_q, k);
		c->wants[c->nwants++] = (struct inflight){ req, now + WANT_TIMEOUT_MS * 1000ull,
							   (uint32_t)k, 0 };
	}
}

/* ---- reconciliation ------------------------------------------------------------ */

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

static int send_ne(hx_node *n, struct conn *c, uint8_t type, uint32_t session,
		   const uint8_t *msg, size_t len)
{
	uint8_t *buf;
	size_t blen;
	if (hx_wire_ne(&buf, &blen, type, session, msg, len))
		return -1;
	int rc = send1(n, c, buf, blen);
	free(buf);
	return rc;
}

static void recon_start(hx_node *n, struct conn *c, uint64_t now)
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
		logf_(n, "cannot reconcile with %s: %s", c->peer->name, hx_strerror(rc));
		session_end_initiator(c);
		if (n->cfg.once)
			finish(n, c, 0, "cannot read this node's reconciliation table");
		return;
	}
	c->isession = ++n->next_session;
	c->istarted = now;
	c->irounds = 1;
	c->ibytes = len;
	rc = send_ne(n, c, HX_MSG_NE_QUERY, c->isession, msg, len);
	free(msg);
	if (rc)
		session_end_initiator(c);
}

static void recon_done(hx_node *n, struct conn *c, uint64_t now)
{
	struct peer *p = c->peer;
	uint8_t d[HX_NE_DONE_LEN];
	size_t have = c->have.n, need = c->need.n;

	for (size_t i = 0; i < need; i++)
		if (idq_push(&c->want_q, c->need.ids[i], 0))
			break;
	for (size_t i = 0; i < have; i++)
		if (idq_push(&c->push_q, c->have.ids[i], 0))
			break;
	hx_wire_ne_done(d, c->isession, (uint32_t)have, (uint32_t)need);
	send1(n, c, d, sizeof d);
	p->st.last_recon = now;
	p->st.recon_ok++;
	p->st.lack_known = 1;
	p->st.we_lack = need;
	p->st.they_lack = have;
	p->last_recon_any = now;
	p->dirty = 1;
	c->synced = 1;
	if (c->result) {
		c->result->we_lacked += need;
		c->result->they_lacked += have;
		c->result->rounds += c->irounds;
		c->result->recon_bytes += c->ibytes;
		progress(n);
	}
	int changed = have != p->last_have || need != p->last_need;
	p->last_have = have;
	p->last_need = need;
	if (((have || need) && changed) || n->cfg.verbose)
		logf_(n, "reconciled with %s: %u round trip%s, %llu bytes, %.1f ms; we lack %zu, they lack %zu",
		      p->name, c->irounds, c->irounds == 1 ? "" : "s", (unsigned long long)c->ibytes,
		      (double)(now - c->istarted) / 1000.0, need, have);
	session_end_initiator(c);
	flush_peer(n, p, now);
}

static void on_ne_reply(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	uint8_t *out;
	size_t outlen;
	if (!c->ine || w->session != c->isession)
		return; /* a late reply to an abandoned session */
	c->ibytes += w->nelen;
	int rc = hx_ne_reconcile(c->ine, w->ne, w->nelen, &out, &outlen, &c->have, &c->need);
	if (rc) {
		uint8_t e[HX_NE_ERROR_LEN];
		logf_(n, "reconciliation with %s failed: %s", c->peer->name, hx_strerror(rc));
		stats_error(c->peer, "reconciliation failed: %s", hx_strerror(rc));
		if (rc == HX_EPROTO || rc == HX_EVERSION)
			c->peer->st.bad_messages++;
		hx_wire_ne_error(e, c->isession, rc == HX_EPROTO ? HX_NEERR_MALFORMED : HX_NEERR_INTERNAL);
		send1(n, c, e, sizeof e);
		session_end_initiator(c);
		if (n->cfg.once)
			finish(n, c, 0, "reconciliation failed");
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
		session_end_initiator(c);
}

static void on_ne_query(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	uint8_t *out;
	size_t outlen;
	uint8_t e[HX_NE_ERROR_LEN];
	int rc;

	if (!c->rne || c->rsession != w->session) {
		session_end_responder(c);
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
		logf_(n, "malformed reconciliation message from %s", c->peer->name);
		hx_wire_ne_error(e, w->session, HX_NEERR_MALFORMED);
		send1(n, c, e, sizeof e);
		session_end_responder(c);
		return;
	}
	if (rc)
		goto internal;
	send_ne(n, c, HX_MSG_NE_REPLY, w->session, out, outlen);
	free(out);
	return;
internal:
	logf_(n, "cannot answer reconciliation from %s: %s", c->peer->name, hx_strerror(rc));
	hx_wire_ne_error(e, w->session, HX_NEERR_INTERNAL);
	send1(n, c, e, sizeof e);
	session_end_responder(c);
}

/* ---- receiving entries ----------------------------------------------------------- */

struct batch_out {
	unsigned stored, known, refused;
};

static void handled_add(hx_node *n, uint64_t seq)
{
	if (n->nhandled == n->caphandled) {
		size_t cap = n->caphandled ? 2 * n->caphandled : 1024;
		uint64_t *a = realloc(n->handled, cap * sizeof *a);
		if (!a)
			return; /* then it is pushed back once more: harmless */
		n->handled = a;
		n->caphandled = cap;
	}
	n->handled[n->nhandled++] = seq;
}

/* Decodes, verifies and stores the entries of a batch from c; relays what
 * was new to the other members. */
/* Stores the verified entries of a batch from c (jobs as hx_vpool left
 * them) and relays what was new to the other members. */
static void store_batch(hx_node *n, struct conn *c, hx_vjob *jobs, size_t k, int live,
			struct batch_out *o)
{
	struct peer *p = c->peer;
	size_t m = 0, logged = 0;
	uint8_t (*ids)[HX_ID_LEN] = NULL;

	memset(o, 0, sizeof *o);
	if (!k)
		return;
	int reloaded = 0;
	for (size_t i = 0; i < k; i++) {
		hx_vjob *j = &jobs[i];
		if (!j->rc && !member_by_key(n, j->e.author)) {
			/* `hansa member add` may have run since the last reload */
			if (!reloaded++ && reload_members(n) == HX_OK && member_by_key(n, j->e.author))
				goto member;
			hx_entry_clear(&j->e);
			j->rc = HX_EPERM;
		}
member:
		if (j->rc) {
			int r = hx_refuse_reason(j->rc);
			p->st.refused[r]++;
			o->refused++;
			int quiet = j->rc == HX_EPERM && now_us() - p->not_member_logged < 60000000;
			if (j->rc == HX_EPERM && !quiet)
				p->not_member_logged = now_us();
			if (!quiet && logged++ < REFUSED_LOG_PER_BATCH) {
				logf_(n, "refused entry from %s: %s (%s)", p->name, hx_refuse_name(r),
				      hx_strerror(j->rc));
			}
			continue;
		}
		n->puts[m++] = (hx_put){ .raw = j->raw, .rawlen = j->len, .entry = &j->e };
	}
	if (logged > REFUSED_LOG_PER_BATCH)
		logf_(n, "refused %zu more entries from %s", logged - REFUSED_LOG_PER_BATCH, p->name);
	if (m) {
		size_t added;
		int rc = hx_store_put_batch(n->store, n->puts, m, HX_PUT_MEMBERS_ONLY, &added);
		if (rc) {
			logf_(n, "cannot store entries from %s: %s", p->name, hx_strerror(rc));
			stats_error(p, "store failed: %s", hx_strerror(rc));
		} else {
			ids = malloc(m * sizeof *ids);
			for (size_t i = 0; i < m; i++) {
				int r = n->puts[i].result;
				if (r == HX_OK) {
					if (ids)
						memcpy(ids[o->stored], n->puts[i].entry->id, HX_ID_LEN);
					o->stored++;
					handled_add(n, n->puts[i].seq);
				} else if (r == HX_EEXIST) {
					o->known++;
				} else {
					p->st.refused[hx_refuse_reason(r)]++;
					o->refused++;
					logf_(n, "refused entry from %s: %s", p->name,
					      hx_refuse_name(hx_refuse_reason(r)));
				}
			}
		}
	}
	for (size_t i = 0; i < k; i++)
		if (!jobs[i].rc)
			hx_entry_clear(&jobs[i].e);
	p->st.received += o->stored;
	if (o->refused || o->stored)
		p->dirty = 1;
	if (o->stored && (n->cfg.verbose || live))
		logf_(n, "received %u new entr%s from %s%s", o->stored, o->stored == 1 ? "y" : "ies",
		      p->name, live ? " (live)" : "");
	if (ids)
		relay(n, p, (const uint8_t (*)[HX_ID_LEN])ids, o->stored, live);
	free(ids);
	if (c->result) {
		c->result->received += o->stored;
		c->result->refused += o->refused;
	}
}

/* Verifies (on every core) and stores a batch, now. */
static void take_batch(hx_node *n, struct conn *c, zmq_msg_t *f, size_t k, int live,
		       struct batch_out *o)
{
	for (size_t i = 0; i < k; i++) {
		n->jobs[i].raw = zmq_msg_data(&f[i]);
		n->jobs[i].len = zmq_msg_size(&f[i]);
	}
	hx_vpool_run(n->pool, n->jobs, k, now_us() + FUTURE_US);
	store_batch(n, c, n->jobs, k, live, o);
}

static void on_want(hx_node *n, struct conn *c, const hx_wire_msg *w)
{
	struct idq q = { 0 };
	size_t maxb = c->peer_max_batch < HX_WIRE_BATCH_MAX ? c->peer_max_batch : HX_WIRE_BATCH_MAX;
	for (size_t i = 0; i < w->count; i++)
		if (idq_push(&q, w->ids + i * HX_ID_LEN, 0))
			break;
	do {
		uint8_t *raws[HX_WIRE_BATCH_MAX];
		size_t lens[HX_WIRE_BATCH_MAX];
		int live;
		size_t k = take_entries(n, &q, maxb, raws, lens, &live);
		uint8_t h[HX_ENTRIES_LEN];
		hx_wire_entries(h, w->request, (uint16_t)k, q.n ? 0 : HX_ENTRIES_LAST);
		if (send_batch(n, c, h, sizeof h, raws, lens, k))
			break;
		c->peer->st.sent += k;
		c->peer->dirty = 1;
		if (c->result)
			c->result->sent += k;
	} while (q.n);
	idq_free(&q);
}

static void progress(hx_node *n)
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

/* ENTRIES (bulk transfer) are pipelined: while the main thread stores
 * one batch, the pool's workers verify the next. */
static void entries_stored(hx_node *n, struct pend *b)
{
	struct batch_out o;
	struct conn *c = b->c;
	store_batch(n, c, b->jobs, b->k, 0, &o);
	close_frames(b->f, b->k);
	b->k = 0;
	uint64_t got = o.stored + o.known;
	struct peer *p = c->peer;
	p->st.we_lack = p->st.we_lack > got ? p->st.we_lack - got : 0;
	if (c->result) {
		c->result->fetched += o.stored + o.known + o.refused;
		progress(n);
	}
	if (!b->last)
		return;
	for (unsigned i = 0; i < c->nwants; i++) {
		if (c->wants[i].id == b->request) {
			c->wants[i] = c->wants[--c->nwants];
			pump(n, c, now_us()); /* the next request goes out at once */
			break;
		}
	}
}

/* Finishes the batch being verified, if any, and stores it. */
static void flush_pending(hx_node *n)
{
	struct pend *b = n->verifying;
	if (!b)
		return;
	hx_vpool_finish(n->pool);
	n->verifying = NULL;
	entries_stored(n, b);
}

static void on_entries(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f)
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
	hx_vpool_start(n->pool, b->jobs, b->k, now_us() + FUTURE_US);
	n->verifying = b;
	if (prev)
		entries_stored(n, prev);
}

static void on_push(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f)
{
	struct batch_out o;
	uint8_t a[HX_ACK_LEN];
	take_batch(n, c, f + 1, w->count, w->flags & HX_PUSH_LIVE, &o);
	hx_wire_ack(a, w->seq, (uint16_t)o.stored, (uint16_t)o.known, (uint16_t)o.refused);
	send1(n, c, a, sizeof a);
}

static void on_ack(hx_node *n, struct conn *c, const hx_wire_msg *w)
{
	(void)n;
	for (unsigned i = 0; i < c->npushes; i++) {
		if (c->pushes[i].id != w->seq)
			continue;
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

/* ---- dispatch --------------------------------------------------------------------- */

static void bad_message(hx_node *n, struct conn *c, const char *what, int rc)
{
	c->peer->st.bad_messages++;
	c->peer->dirty = 1;
	logf_(n, "bad message from %s: %s (%s)", c->peer->name, what, hx_strerror(rc));
}

static void on_hello(hx_node *n, struct conn *c, const hx_wire_msg *w, uint64_t now)
{
	if (memcmp(w->key, c->peer->key, HX_KEY_LEN)) {
		char a[17], b[17];
		logf_(n, "hello from %s claims identity %s but the connection is %s's: dropped",
		      c->out ? c->endpoint : "incoming", short_hex(a, w->key), short_hex(b, c->peer->key));
		c->peer->st.bad_messages++;
		return;
	}
	c->peer_max_frame = w->max_frame < HX_WIRE_FRAME_MAX ? w->max_frame : HX_WIRE_FRAME_MAX;
	c->peer_ne_limit = w->ne_frame_limit;
	c->peer_max_batch = w->max_batch;
	int64_t skew = (int64_t)(w->time - now);
	if (skew > 300000000 || skew < -300000000)
		logf_(n, "clock of %s is %+.0f s off ours", c->peer->name, (double)skew / 1e6);
	if (!c->out)
		send_hello(n, c);
	int was_up = c->up;
	c->up = 1;
	c->connected = 1;
	c->connected_at = now;
	c->auth_failed = 0;
	c->peer->st.connected = 1;
	c->peer->st.pid = (uint64_t)getpid();
	c->peer->st.last_connect = now;
	c->peer->st.last_error[0] = 0; /* status shows current problems only */
	c->peer->dirty = 1;
	if (!was_up) {
		logf_(n, "peer %s up (%s)", c->peer->name, c->out ? c->endpoint : "incoming");
		flush_peer(n, c->peer, now); /* so that `hansa status` says so at once */
	}
	if (c->out)
		c->recon_due = 1;
}

static void dispatch(hx_node *n, struct conn *c, zmq_msg_t *f, size_t k, int over)
{
	uint64_t now = now_us();
	hx_wire_msg w;

	c->last_rx = now;
	c->peer->st.last_seen = now;
	c->peer->dirty = 1;
	if (over) {
		bad_message(n, c, "too many frames", HX_ELIMIT);
		return;
	}
	int rc = hx_wire_decode(&w, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), k);
	if (rc == HX_EVERSION && w.type == HX_MSG_HELLO) {
		logf_(n, "%s speaks wire version %u; answering with ours (%d)", c->peer->name,
		      w.version, HX_WIRE_VERSION);
		send_hello(n, c);
		return;
	}
	if (rc) {
		bad_message(n, c, hx_wire_type_name(zmq_msg_size(&f[0]) > 1 ?
						   ((uint8_t *)zmq_msg_data(&f[0]))[1] : 0), rc);
		return;
	}
	if (!c->up && w.type != HX_MSG_HELLO) {
		if (n->cfg.verbose)
			logf_(n, "%s message from %s before hello: ignored", hx_wire_type_name(w.type),
			      c->peer->name);
		if (!c->out)
			send_hello(n, c); /* it may have missed ours */
		return;
	}
	if (w.type != HX_MSG_ENTRIES)
		flush_pending(n); /* keep the order of everything else */
	switch (w.type) {
	case HX_MSG_HELLO: on_hello(n, c, &w, now); break;
	case HX_MSG_PING: break;
	case HX_MSG_NE_QUERY: on_ne_query(n, c, &w, now); break;
	case HX_MSG_NE_REPLY: on_ne_reply(n, c, &w, now); break;
	case HX_MSG_NE_DONE:
		if (c->rne && c->rsession == w.session) {
			struct peer *p = c->peer;
			p->st.last_recon = now;
			p->st.recon_ok++;
			p->st.lack_known = 1;
			p->st.we_lack = w.have;
			p->st.they_lack = w.need;
			p->last_recon_any = now;
			p->dirty = 1;
			int changed = w.have != p->last_have || w.need != p->last_need;
			p->last_have = w.have;
			p->last_need = w.need;
			if (((w.have || w.need) && changed) || n->cfg.verbose)
				logf_(n, "%s reconciled with us: we lack %u, they lack %u", p->name,
				      w.have, w.need);
			session_end_responder(c);
			flush_peer(n, p, now);
		}
		break;
	case HX_MSG_NE_ERROR:
		if (c->ine && w.session == c->isession) {
			logf_(n, "%s abandoned our reconciliation (reason %u)", c->peer->name, w.reason);
			session_end_initiator(c);
			c->next_recon = now + 5000000;
			if (n->cfg.once)
				finish(n, c, 0, "the peer abandoned the reconciliation");
		} else if (c->rne && w.session == c->rsession) {
			session_end_responder(c);
		}
		break;
	case HX_MSG_WANT: on_want(n, c, &w); break;
	case HX_MSG_ENTRIES: on_entries(n, c, &w, f); break;
	case HX_MSG_PUSH: on_push(n, c, &w, f); break;
	case HX_MSG_ACK: on_ack(n, c, &w); break;
	}
}

/* Reads one whole message (all its frames) without blocking. Returns 0 with
 * a message, 1 when there is none. Frames beyond MAXF are read and dropped
 * (*over set). */
static int recv_msg(void *sock, zmq_msg_t *f, size_t *k, int *over)
{
	*k = 0;
	*over = 0;
	for (;;) {
		zmq_msg_t tmp, *dst = *k < MAXF ? &f[*k] : &tmp;
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

static void close_frames(zmq_msg_t *f, size_t k)
{
	for (size_t i = 0; i < k; i++)
		zmq_msg_close(&f[i]);
}

static void on_router(hx_node *n)
{
	zmq_msg_t *f = malloc(MAXF * sizeof *f);
	size_t k;
	int over;
	if (!f)
		return;
	for (int round = 0; round < 64 && !recv_msg(n->router, f, &k, &over); round++) {
		if (k < 2) {
			close_frames(f, k);
			continue;
		}
		const char *uid = zmq_msg_gets(&f[1], "User-Id");
		uint8_t key[HX_KEY_LEN];
		if (!uid || hx_unhex(key, HX_KEY_LEN, uid) || !member_by_key(n, key)) {
			close_frames(f, k);
			continue; /* its member was removed since it connected */
		}
		struct conn *c = NULL;
		size_t rl = zmq_msg_size(&f[0]);
		for (size_t i = 0; i < n->nconns && !c; i++) {
			struct conn *x = n->conns[i];
			if (!x->out && x->ridlen == rl && !memcmp(x->rid, zmq_msg_data(&f[0]), rl))
				c = x;
		}
		if (c && memcmp(c->peer->key, key, HX_KEY_LEN))
			c = NULL;
		if (!c && rl <= sizeof c->rid) {
			struct peer *p = peer_get(n, key);
			if (p && (c = conn_new(n, p, 0))) {
				memcpy(c->rid, zmq_msg_data(&f[0]), rl);
				c->ridlen = rl;
				c->connected = 1;
				snprintf(c->endpoint, sizeof c->endpoint, "incoming");
			}
		}
		if (c)
			dispatch(n, c, f + 1, k - 1, over);
		close_frames(f, k);
	}
	free(f);
}

static void on_dealer(hx_node *n, struct conn *c)
{
	zmq_msg_t *f = malloc(MAXF * sizeof *f);
	size_t k;
	int over;
	if (!f)
		return;
	for (int round = 0; round < 64 && c->sock && !recv_msg(c->sock, f, &k, &over); round++) {
		dispatch(n, c, f, k, over);
		close_frames(f, k);
	}
	free(f);
}

static void on_monitor(hx_node *n, struct conn *c)
{
	for (;;) {
		zmq_msg_t ev, addr;
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, c->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&ev);
			return;
		}
		uint16_t event = 0;
		if (zmq_msg_size(&ev) >= 2)
			memcpy(&event, zmq_msg_data(&ev), 2);
		int more = zmq_msg_more(&ev);
		zmq_msg_close(&ev);
		if (more) { /* the endpoint */
			zmq_msg_init(&addr);
			zmq_msg_recv(&addr, c->mon, 0);
			zmq_msg_close(&addr);
		}
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			c->connected = 1;
			c->connected_at = now_us();
			c->unreachable = 0;
			send_hello(n, c);
		} else if (event == ZMQ_EVENT_CONNECT_RETRIED) {
			/* nobody listens there (yet): libzmq retries by itself */
			if (!c->unreachable++) {
				logf_(n, "cannot reach %s at %s; retrying", c->peer->name, c->endpoint);
				stats_error(c->peer, "cannot reach %s (retrying)", c->endpoint);
			}
		} else if (event == ZMQ_EVENT_DISCONNECTED) {
			conn_down(n, c, "disconnected");
		} else if (event & (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
			const char *why = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
				? "refused by the peer (is this node a member there?)"
				: "CURVE handshake failed (wrong transport key?)";
			if (!c->auth_failed++)
				logf_(n, "cannot connect to %s at %s: %s", c->peer->name, c->endpoint, why);
			stats_error(c->peer, "%s", why);
			if (c->result && n->cfg.once) {
				snprintf(c->result->error, sizeof c->result->error, "%s", why);
				c->finished = 1;
			}
		}
	}
}

/* ---- ZAP: only members' transport keys get in ------------------------------------ */

static void zap_reply(void *s, const zmq_msg_t *reqid, const char *code, const char *text,
		      const char *uid)
{
	zmq_send(s, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(s, zmq_msg_data((zmq_msg_t *)reqid), zmq_msg_size((zmq_msg_t *)reqid), ZMQ_SNDMORE);
	zmq_send(s, code, 3, ZMQ_SNDMORE);
	zmq_send(s, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(s, uid, strlen(uid), ZMQ_SNDMORE);
	zmq_send(s, "", 0, 0);
}

static void on_zap(hx_node *n)
{
	for (;;) {
		zmq_msg_t f[8];
		size_t k;
		int over;
		if (recv_msg(n->zap, f, &k, &over))
			return;
		/* version, request id, domain, address, identity, mechanism, credentials */
		if (k < 6 || over) {
			close_frames(f, k);
			continue; /* not a ZAP request: no reply possible */
		}
		const char *code = "400", *text = "not a member";
		char uid[2 * HX_KEY_LEN + 1] = "";
		char addr[64] = "?";
		size_t al = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3]) : sizeof addr - 1;
		memcpy(addr, zmq_msg_data(&f[3]), al);
		addr[al] = 0;
		if (zmq_msg_size(&f[0]) != 3 || memcmp(zmq_msg_data(&f[0]), "1.0", 3)) {
			close_frames(f, k);
			continue;
		}
		if (zmq_msg_size(&f[5]) != 5 || memcmp(zmq_msg_data(&f[5]), "CURVE", 5) || k != 7 ||
		    zmq_msg_size(&f[6]) != 32) {
			text = "CURVE required";
		} else {
			const uint8_t *ck = zmq_msg_data(&f[6]);
			const hx_member *m = member_by_transport(n, ck);
			if (!m && !reload_members(n))
				m = member_by_transport(n, ck);
			if (m) {
				code = "200";
				text = "OK";
				hx_hex(uid, m->key, HX_KEY_LEN);
			} else {
				uint64_t now = now_us();
				n->zap_refused++;
				if (memcmp(n->zap_logged_key, ck, 32) || now - n->zap_logged_at > 60000000) {
					char hex[65];
					logf_(n, "refused connection from %s: transport key %s is not a member's",
					      addr, hx_hex(hex, ck, 32));
					memcpy(n->zap_logged_key, ck, 32);
					n->zap_logged_at = now;
				}
			}
		}
		zap_reply(n->zap, &f[1], code, text, uid);
		close_frames(f, k);
	}
}

/* ---- local changes ------------------------------------------------------------- */

static int change_cb(void *arg, uint64_t seq, const uint8_t id[HX_ID_LEN])
{
	hx_node *n = arg;
	size_t i = 0;
	while (i < n->nhandled && n->handled[i] < seq)
		i++;
	if (i < n->nhandled && n->handled[i] == seq) {
		memmove(n->handled, n->handled + i + 1, (n->nhandled - i - 1) * sizeof *n->handled);
		n->nhandled -= i + 1;
		return 0;
	}
	if (i) {
		memmove(n->handled, n->handled + i, (n->nhandled - i) * sizeof *n->handled);
		n->nhandled -= i;
	}
	if (n->fresh.n >= PUSH_BACKLOG_MAX) {
		n->fresh_over++;
		return 0;
	}
	idq_push(&n->fresh, id, 1);
	return 0;
}

static void poll_changes(hx_node *n)
{
	uint64_t last;
	if (hx_store_changes(n->store, n->last_seq, change_cb, n, &last))
		return;
	n->last_seq = last;
	/* what this node stored itself is already queued */
	n->nhandled = 0;
	if (n->fresh_over) {
		if (n->cfg.verbose)
			logf_(n, "%zu new local entries: reconciling instead of pushing",
			      n->fresh.n + n->fresh_over);
		for (size_t i = 0; i < n->nconns; i++)
			n->conns[i]->recon_due = 2;
	} else if (n->fresh.n) {
		relay(n, NULL, (const uint8_t (*)[HX_ID_LEN])(n->fresh.id + n->fresh.head), n->fresh.n, 1);
	}
	idq_clear(&n->fresh);
	n->fresh_over = 0;
}

/* ---- timers --------------------------------------------------------------------- */

static void flush_peer(hx_node *n, struct peer *p, uint64_t now)
{
	p->st.updated = now;
	if (!p->st.pid || p->st.connected)
		p->st.pid = (uint64_t)getpid();
	if (hx_stats_save(n->store, p->key, &p->st) == HX_OK)
		p->dirty = 0;
}

static void flush_stats(hx_node *n, uint64_t now)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i]->dirty)
			flush_peer(n, n->peers[i], now);
	if (n->zap_refused && hx_counter_add(n->store, "zap-refused", n->zap_refused) == HX_OK)
		n->zap_refused = 0;
}

static int peer_session_active(hx_node *n, const struct peer *p)
{
	for (size_t i = 0; i < n->nconns; i++)
		if (n->conns[i]->peer == p && n->conns[i]->ine)
			return 1;
	return 0;
}

static int peer_responding(hx_node *n, const struct peer *p)
{
	for (size_t i = 0; i < n->nconns; i++)
		if (n->conns[i]->peer == p && n->conns[i]->rne)
			return 1;
	return 0;
}

static int transfers_idle(const struct conn *c)
{
	return !c->want_q.n && !c->push_q.n && !c->nwants && !c->npushes;
}

static void finish(hx_node *n, struct conn *c, int ok, const char *why)
{
	c->finished = 1;
	if (c->result) {
		c->result->ok = ok;
		if (why && !c->result->error[0])
			snprintf(c->result->error, sizeof c->result->error, "%s", why);
	}
	if (!ok && why) {
		stats_error(c->peer, "%s", why);
		logf_(n, "sync with %s at %s failed: %s", c->peer->name, c->endpoint, why);
	}
}

static void tick_conn(hx_node *n, struct conn *c, uint64_t now)
{
	uint64_t interval = n->cfg.recon_interval_ms * 1000ull;

	if (c->finished)
		return;
	if (!c->up) {
		if (n->cfg.once && now - c->created > n->cfg.timeout_ms * 1000ull)
			finish(n, c, 0, c->connected ? "no answer to hello" : "cannot connect");
		return;
	}
	/* timeouts */
	for (unsigned i = 0; i < c->npushes; i++) {
		if (now > c->pushes[i].deadline) {
			logf_(n, "%s did not acknowledge a push: reconciling", c->peer->name);
			c->npushes = 0;
			c->recon_due = 2;
			break;
		}
	}
	for (unsigned i = 0; i < c->nwants; i++) {
		if (now > c->wants[i].deadline) {
			logf_(n, "%s did not answer a request: reconciling", c->peer->name);
			c->nwants = 0;
			c->recon_due = 2;
			break;
		}
	}
	if (c->ine && now - c->istarted > SESSION_TIMEOUT_MS * 1000ull) {
		logf_(n, "reconciliation with %s timed out", c->peer->name);
		session_end_initiator(c);
	}
	if (c->rne && now - c->rlast > SESSION_TIMEOUT_MS * 1000ull)
		session_end_responder(c);
	pump(n, c, now);
	/* reconciliation: on connect and every interval from the connecting
	 * side; from the accepting side only when pushing fell behind or when
	 * nobody reconciled for two intervals */
	if (!c->ine && transfers_idle(c) && !peer_session_active(n, c->peer) &&
	    !peer_responding(n, c->peer)) {
		struct peer *p = c->peer;
		int due = c->recon_due;
		if (n->cfg.once) {
			due = due && !c->synced;
		} else if (c->out) {
			due = due || now >= c->next_recon;
			/* When both nodes connect to each other, one reconciliation
			 * serves both: skip ours if the member just reconciled with
			 * us, and on connect let the node with the smaller key go
			 * first. */
			int recent = p->last_recon_any && p->last_recon_any >= c->connected_at &&
				     now - p->last_recon_any < interval / 2;
			if (due && c->recon_due != 2 && recent) {
				due = 0;
				c->recon_due = 0;
				c->next_recon = p->last_recon_any + interval;
			} else if (due && c->recon_due == 1 && now - c->connected_at < 500000 &&
				   memcmp(n->cfg.pk, p->key, HX_KEY_LEN) > 0) {
				due = 0;
			}
		} else {
			due = due || (now - p->last_recon_any > 2 * interval &&
				      now - c->connected_at > interval);
		}
		if (due)
			recon_start(n, c, now);
	}
	if (n->cfg.once && c->synced && !c->ine && transfers_idle(c))
		finish(n, c, 1, NULL);
	if (now - c->last_tx > PING_MS * 1000ull) {
		uint8_t p[HX_PING_LEN];
		hx_wire_ping(p, now);
		send1(n, c, p, sizeof p);
	}
	if (n->cfg.once && now - c->last_rx > n->cfg.timeout_ms * 1000ull)
		finish(n, c, 0, "the peer stopped answering");
}

/* Follows `hansa peer add/remove`, `join` and `member add/remove` made
 * while the node runs: connects to new peers, drops removed ones and
 * reconnects when a member's transport key changed. */
static void reload_peers(hx_node *n)
{
	hx_peer_conf *pcs;
	size_t npc;
	if (hx_peer_list(n->store, &pcs, &npc))
		return;
	for (size_t i = 0; i < n->nconns;) {
		struct conn *c = n->conns[i];
		const hx_member *m = c->out ? member_by_key(n, c->peer->key) : NULL;
		int keep = !c->out;
		for (size_t j = 0; !keep && j < npc; j++)
			keep = !strcmp(pcs[j].endpoint, c->endpoint) &&
			       !memcmp(pcs[j].key, c->peer->key, HX_KEY_LEN) && m && m->has_transport &&
			       !memcmp(m->transport, c->server_key, 32);
		if (keep) {
			i++;
			continue;
		}
		logf_(n, "no longer connecting to %s at %s", c->peer->name, c->endpoint);
		conn_down(n, c, "peer removed or its key changed");
		conn_remove(n, i);
	}
	for (size_t j = 0; j < npc; j++) {
		const hx_member *m = member_by_key(n, pcs[j].key);
		int have = 0;
		if (!m || !m->has_transport || !memcmp(pcs[j].key, n->cfg.pk, HX_KEY_LEN))
			continue;
		for (size_t i = 0; i < n->nconns && !have; i++)
			have = n->conns[i]->out && !strcmp(n->conns[i]->endpoint, pcs[j].endpoint);
		if (have)
			continue;
		logf_(n, "connecting to new peer at %s", pcs[j].endpoint);
		/* a bad endpoint is logged and stays, finished, not retried */
		(void)conn_open_out(n, &pcs[j], NULL);
	}
	free(pcs);
}

static void tick(hx_node *n, uint64_t now)
{
	flush_pending(n);
	if (!n->cfg.once && now >= n->next_changes) {
		poll_changes(n);
		n->next_changes = now + n->cfg.poll_ms * 1000ull;
	}
	for (size_t i = 0; i < n->nconns; i++)
		tick_conn(n, n->conns[i], now);
	/* forget incoming connections that went silent */
	for (size_t i = 0; i < n->nconns;) {
		struct conn *c = n->conns[i];
		if (!c->out && now - c->last_rx > IN_IDLE_MS * 1000ull) {
			conn_down(n, c, "silent");
			conn_remove(n, i);
		} else {
			i++;
		}
	}
	if (now >= n->next_reload) {
		reload_members(n);
		if (!n->cfg.once)
			reload_peers(n);
		n->next_reload = now + MEMBERS_RELOAD_MS * 1000ull;
	}
	if (now >= n->next_flush) {
		flush_stats(n, now);
		n->next_flush = now + STATS_FLUSH_MS * 1000ull;
	}
}

/* ---- setup and the loop ------------------------------------------------------------ */

int hx_node_new(hx_node **out, hx_store *store, const hx_node_config *cfg)
{
	hx_node *n = calloc(1, sizeof *n);
	int rc;

	*out = NULL;
	if (!n)
		return HX_ENOMEM;
	n->store = store;
	n->cfg = *cfg;
	if (!n->cfg.recon_interval_ms)
		n->cfg.recon_interval_ms = DEFAULT_INTERVAL_MS;
	if (!n->cfg.ne_frame_limit)
		n->cfg.ne_frame_limit = DEFAULT_NE_LIMIT;
	if (n->cfg.ne_frame_limit < HX_NE_FRAME_MIN)
		n->cfg.ne_frame_limit = HX_NE_FRAME_MIN;
	if (!n->cfg.max_batch || n->cfg.max_batch > HX_WIRE_BATCH_MAX)
		n->cfg.max_batch = HX_WIRE_BATCH_MAX;
	if (!n->cfg.poll_ms)
		n->cfg.poll_ms = 20;
	if (!n->cfg.timeout_ms)
		n->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
	n->next_session = (uint32_t)now_us();
	if (!(n->jobs = calloc(HX_WIRE_BATCH_MAX, sizeof *n->jobs)) ||
	    !(n->puts = calloc(HX_WIRE_BATCH_MAX, sizeof *n->puts)) ||
	    !(n->pend = calloc(2, sizeof *n->pend))) {
		hx_node_destroy(&n);
		return HX_ENOMEM;
	}
	if ((rc = hx_vpool_new(&n->pool, cfg->threads)) || (rc = reload_members(n))) {
		hx_node_destroy(&n);
		return rc;
	}
	*out = n;
	return HX_OK;
}

void hx_node_destroy(hx_node **np)
{
	if (!np || !*np)
		return;
	hx_node *n = *np;
	if (n->pool)
		flush_pending(n);
	while (n->nconns)
		conn_remove(n, n->nconns - 1);
	free(n->conns);
	for (size_t i = 0; i < n->npeers; i++)
		free(n->peers[i]);
	free(n->peers);
	if (n->router)
		zmq_close(n->router);
	if (n->zap)
		zmq_close(n->zap);
	if (n->zctx)
		zmq_ctx_term(n->zctx);
	hx_members_free(n->members, n->nmembers);
	hx_vpool_destroy(&n->pool);
	free(n->jobs);
	free(n->puts);
	free(n->pend);
	free(n->handled);
	idq_free(&n->fresh);
	free(n->results);
	free(n);
	*np = NULL;
}

size_t hx_node_results(const hx_node *n, const hx_sync_result **out)
{
	*out = n->results;
	return n->nresults;
}

const char *hx_node_endpoint(const hx_node *n)
{
	return n->endpoint;
}

const char *hx_node_error(const hx_node *n)
{
	return n->error[0] ? n->error : NULL;
}

static int peer_selected(const hx_node *n, const hx_peer_conf *pc)
{
	const char *sel = n->cfg.only_peer;
	char hex[2 * HX_KEY_LEN + 1];
	if (!sel)
		return 1;
	if (!strcmp(sel, pc->endpoint))
		return 1;
	size_t l = strlen(sel);
	hx_hex(hex, pc->key, HX_KEY_LEN);
	return l >= 8 && l <= 64 && !strncmp(hex, sel, l);
}

static int start(hx_node *n)
{
	hx_peer_conf *pcs;
	size_t npc;
	int rc;

	if (!(n->zctx = zmq_ctx_new()))
		return HX_ENOMEM;
	if (n->cfg.bind) {
		/* The ZAP handler first: without it libzmq admits any CURVE client. */
		n->zap = zmq_socket(n->zctx, ZMQ_REP);
		if (n->zap)
			zmq_setsockopt(n->zap, ZMQ_LINGER, &(int){ 0 }, sizeof(int));
		if (!n->zap || zmq_bind(n->zap, ZAP_ENDPOINT)) {
			snprintf(n->error, sizeof n->error, "cannot bind the ZAP handler: %s",
				 zmq_strerror(errno));
			return HX_EIO;
		}
		int one = 1;
		n->router = zmq_socket(n->zctx, ZMQ_ROUTER);
		if (!n->router)
			return HX_EIO;
		sockopts_common(n->router);
		zmq_setsockopt(n->router, ZMQ_CURVE_SERVER, &one, sizeof one);
		zmq_setsockopt(n->router, ZMQ_CURVE_SECRETKEY, n->cfg.curve_sk, 32);
		zmq_setsockopt(n->router, ZMQ_ZAP_DOMAIN, "hansa", 5);
		zmq_setsockopt(n->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
		if (zmq_bind(n->router, n->cfg.bind)) {
			snprintf(n->error, sizeof n->error, "cannot listen on %s: %s", n->cfg.bind,
				 zmq_strerror(errno));
			return HX_EIO;
		}
		size_t el = sizeof n->endpoint;
		if (zmq_getsockopt(n->router, ZMQ_LAST_ENDPOINT, n->endpoint, &el))
			snprintf(n->endpoint, sizeof n->endpoint, "%s", n->cfg.bind);
		logf_(n, "listening on %s", n->endpoint);
	}
	if ((rc = hx_peer_list(n->store, &pcs, &npc)))
		return rc;
	size_t sel = 0;
	for (size_t i = 0; i < npc; i++)
		sel += peer_selected(n, &pcs[i]) && memcmp(pcs[i].key, n->cfg.pk, HX_KEY_LEN);
	if (n->cfg.once && !sel) {
		free(pcs);
		return HX_EINVAL;
	}
	if (sel && !(n->results = calloc(sel, sizeof *n->results))) {
		free(pcs);
		return HX_ENOMEM;
	}
	for (size_t i = 0; i < npc; i++) {
		if (!peer_selected(n, &pcs[i]) || !memcmp(pcs[i].key, n->cfg.pk, HX_KEY_LEN))
			continue;
		hx_sync_result *r = &n->results[n->nresults++];
		snprintf(r->endpoint, sizeof r->endpoint, "%s", pcs[i].endpoint);
		memcpy(r->key, pcs[i].key, HX_KEY_LEN);
		rc = conn_open_out(n, &pcs[i], r);
		if (rc == HX_ENOMEM || rc == HX_EIO) {
			free(pcs);
			return rc;
		}
	}
	free(pcs);
	hx_store_stats st;
	if (!n->cfg.once && hx_store_stats_get(n->store, &st) == HX_OK)
		n->last_seq = st.last_seq;
	return HX_OK;
}

int hx_node_run(hx_node *n, volatile sig_atomic_t *stop)
{
	zmq_pollitem_t *items = NULL;
	struct conn **owner = NULL;
	size_t cap = 0;
	int rc = start(n);

	if (rc)
		goto out;
	if (n->cfg.bind) {
		hx_daemon_info d = { .pid = (uint64_t)getpid(), .started = now_us() };
		snprintf(d.bind, sizeof d.bind, "%s", n->endpoint);
		(void)!hx_daemon_put(n->store, &d);
	}
	while (!*stop) {
		size_t k = 0, need = 2 + 2 * n->nconns;
		if (need > cap) {
			cap = need * 2;
			zmq_pollitem_t *a = realloc(items, cap * sizeof *a);
			struct conn **b = realloc(owner, cap * sizeof *b);
			if (a)
				items = a;
			if (b)
				owner = b;
			if (!a || !b) {
				rc = HX_ENOMEM;
				break;
			}
		}
		if (n->zap) {
			items[k] = (zmq_pollitem_t){ .socket = n->zap, .events = ZMQ_POLLIN };
			owner[k++] = NULL;
		}
		if (n->router) {
			items[k] = (zmq_pollitem_t){ .socket = n->router, .events = ZMQ_POLLIN };
			owner[k++] = NULL;
		}
		for (size_t i = 0; i < n->nconns; i++) {
			struct conn *c = n->conns[i];
			if (!c->out || c->finished)
				continue;
			items[k] = (zmq_pollitem_t){ .socket = c->sock, .events = ZMQ_POLLIN };
			owner[k++] = c;
			items[k] = (zmq_pollitem_t){ .socket = c->mon, .events = ZMQ_POLLIN };
			owner[k++] = c;
		}
		if (zmq_poll(items, (int)k, n->cfg.poll_ms) < 0 && errno != EINTR) {
			rc = HX_EIO;
			break;
		}
		for (size_t i = 0; i < k && !*stop; i++) {
			if (!(items[i].revents & ZMQ_POLLIN))
				continue;
			if (items[i].socket == n->zap)
				on_zap(n);
			else if (items[i].socket == n->router)
				on_router(n);
			else if (items[i].socket == owner[i]->mon)
				on_monitor(n, owner[i]);
			else
				on_dealer(n, owner[i]);
		}
		tick(n, now_us());
		if (n->cfg.once) {
			int left = 0;
			for (size_t i = 0; i < n->nconns; i++)
				left += n->conns[i]->out && !n->conns[i]->finished;
			if (!left)
				break;
		}
	}
out:
	flush_pending(n);
	for (size_t i = 0; i < n->npeers; i++) {
		n->peers[i]->st.connected = 0;
		n->peers[i]->dirty = 1;
	}
	flush_stats(n, now_us());
	if (n->cfg.bind && n->router)
		(void)!hx_daemon_clear(n->store);
	free(items);
	free(owner);
	return rc;
}
