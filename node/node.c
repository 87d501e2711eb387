/*
 * node.c: the replication daemon (see node.h; docs/PROTOCOL.md §6 is the
 * conversation): setup, the loop, dispatching messages and timers. One thread polls the ZAP
 * handler, the ROUTER, and a DEALER and its monitor per peer; a verification pool shares batches
 * with the other cores. Local writes (found in the store's change log) and entries received from
 * one member are pushed to the others by the same path; what a push misses,
 * periodic reconciliation finds. The rest lives in conn.c, session.c,
 * transfer.c, local.c and idq.c (node_int.h says what each holds).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "node/node_int.h"
#include "store/blob.h"
#include "proto/blobwire.h"
#include "node/roster.h"
#include "store/org.h"

/* ---- dispatch --------------------------------------------------------------------- */

static void bad_message(hx_node *n, struct conn *c, const char *what, int rc)
{
	c->peer->st.bad_messages++;
	c->peer->dirty = 1;
	hx_nd_log(n, "bad message from %s: %s (%s)", c->peer->name, what, hx_strerror(rc));
}

static void dispatch(hx_node *n, struct conn *c, zmq_msg_t *f, size_t k, int over)
{
	uint64_t now = hx_now_us();
	hx_wire_msg w;

	c->last_rx = now;
	/* not dirty: last_seen alone is written once a minute (SEEN_FLUSH_MS),
	 * with other news, and when the connection drops */
	c->peer->st.last_seen = now;
	if (over) {
		bad_message(n, c, "too many frames", HX_ELIMIT);
		return;
	}
	if (c->up && zmq_msg_size(&f[0]) >= 2 &&
	    ((uint8_t *)zmq_msg_data(&f[0]))[1] >= HX_BWIRE_FIRST &&
	    ((uint8_t *)zmq_msg_data(&f[0]))[1] <= HX_BWIRE_LAST) {
		hx_nd_blob_on_msg(n, c, f, k); /* blobsync.c */
		return;
	}
	int rc = hx_wire_decode(&w, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), k);
	if (rc == HX_EVERSION && w.type == HX_MSG_HELLO) {
		hx_nd_log(n, "%s speaks wire version %u; answering with ours (%d)", c->peer->name,
		          w.version, HX_WIRE_VERSION);
		hx_nd_send_hello(n, c);
		return;
	}
	if (rc) {
		bad_message(n, c,
		            hx_wire_type_name(zmq_msg_size(&f[0]) > 1
		                                      ? ((uint8_t *)zmq_msg_data(&f[0]))[1]
		                                      : 0),
		            rc);
		return;
	}
	if (!c->up && w.type != HX_MSG_HELLO) {
		if (n->cfg.verbose)
			hx_nd_log(n, "%s message from %s before hello: ignored",
			          hx_wire_type_name(w.type), c->peer->name);
		if (!c->out)
			hx_nd_send_hello(n, c); /* it may have missed ours */
		return;
	}
	/* keep the order of everything else (what the pipeline holds is
	 * committed first), bar what does not touch the store, a PUSH (it
	 * waits for what it needs, pipe.c), the first query of a
	 * reconciliation that will be answered busy (session.c), a WANT
	 * (what it may ask for was announced when its commit began, so that
	 * commit is awaited, not the batches behind it) and a HELLO (it
	 * writes the member's statistics, after the commit in flight; a
	 * member's second connection coming up during a transfer otherwise
	 * held the loop while the whole pipeline was committed) */
	int busy_query = w.type == HX_MSG_NE_QUERY && (!c->rne || c->rsession != w.session) &&
	                 !hx_nd_member_idle(n, c->peer);
	if (w.type == HX_MSG_WANT || w.type == HX_MSG_HELLO)
		hx_nd_pipe_settle(n);
	else if (w.type != HX_MSG_ENTRIES && w.type != HX_MSG_PING && w.type != HX_MSG_ACK &&
	         w.type != HX_MSG_PUSH && !busy_query)
		hx_nd_flush_pending(n);
	if (w.type == HX_MSG_WANT || w.type == HX_MSG_ENTRIES || w.type == HX_MSG_PUSH ||
	    w.type == HX_MSG_ACK)
		c->peer->busy_until = now + BUSY_MS * 1000ull;
	switch (w.type) {
	case HX_MSG_HELLO: hx_nd_on_hello(n, c, &w, now); break;
	case HX_MSG_PING: break;
	case HX_MSG_NE_QUERY: hx_nd_on_ne_query(n, c, &w, now); break;
	case HX_MSG_NE_REPLY: hx_nd_on_ne_reply(n, c, &w, now); break;
	case HX_MSG_NE_DONE: hx_nd_on_ne_done(n, c, &w, now); break;
	case HX_MSG_NE_ERROR: hx_nd_on_ne_error(n, c, &w, now); break;
	case HX_MSG_WANT: hx_nd_on_want(n, c, &w); break;
	case HX_MSG_ENTRIES: hx_nd_on_entries(n, c, &w, f); break;
	case HX_MSG_PUSH: hx_nd_on_push(n, c, &w, f); break;
	case HX_MSG_ACK: hx_nd_on_ack(n, c, &w); break;
	case HX_MSG_ANNOUNCE: hx_nd_on_announce(n, c, &w, now); break;
	case HX_MSG_REFUSED: hx_nd_on_refused(n, c, &w, now); break;
	}
}

/* How often an open connection of a device is checked against its record. */
#define DEVICE_RECHECK_US 10000000u

/* key is a current (not revoked) device of a member (store/org.h). */
static int device_ok(hx_node *n, const uint8_t key[HX_KEY_LEN])
{
	hx_device d;
	uint64_t now = hx_now_us();
	for (size_t i = 0; i < n->nmembers; i++)
		if (!hx_store_device_get(n->store, n->members[i].key, key, &d) && now < d.revoked)
			return 1;
	return 0;
}

static void on_router(hx_node *n)
{
	zmq_msg_t *f = malloc(MAXF * sizeof *f);
	size_t k;
	int over;
	if (!f)
		return;
	for (int round = 0; round < 64 && !hx_nd_recv_msg(n->router, f, MAXF, &k, &over); round++) {
		if (k < 2) {
			hx_nd_close_frames(f, k);
			continue;
		}
		int fd = zmq_msg_get(&f[1], ZMQ_SRCFD);
		hx_nd_router_authed(n, fd);
		const char *uid = zmq_msg_gets(&f[1], "User-Id");
		uint8_t key[HX_KEY_LEN];
		if (!uid || hx_unhex(key, HX_KEY_LEN, uid)) {
			hx_nd_close_frames(f, k);
			continue;
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
		/* a member, or a current device of one (its connection was
		 * admitted by its device record; checked again when it is new) */
		if (!hx_nd_member_by_key(n, key) && (!c || !c->device) && !device_ok(n, key)) {
			hx_nd_close_frames(f, k);
			continue; /* its member was removed since it connected */
		}
		if (c && c->device && !c->device_revoked &&
		    hx_now_us() - c->device_checked > DEVICE_RECHECK_US) {
			/* a device revoked while connected loses its connection,
			 * and nothing it sends on it counts any more */
			c->device_checked = hx_now_us();
			if (!device_ok(n, key)) {
				hx_nd_log(n, "%s: device revoked; dropping its connection",
				          c->peer->name);
				hx_nd_conn_down(n, c, "device revoked");
				c->device_revoked = 1;
			}
		}
		if (c && c->device_revoked) {
			hx_nd_close_frames(f, k);
			continue;
		}
		if (!c && rl <= sizeof c->rid) {
			struct peer *p = hx_nd_peer_get(n, key);
			if (p && (c = hx_nd_conn_new(n, p, 0))) {
				memcpy(c->rid, zmq_msg_data(&f[0]), rl);
				c->ridlen = rl;
				c->connected = 1;
				c->device = !hx_nd_member_by_key(n, key);
				c->device_checked = hx_now_us();
				snprintf(c->endpoint, sizeof c->endpoint, "incoming");
			}
		}
		if (c) {
			c->rfd = fd;
			dispatch(n, c, f + 1, k - 1, over);
		}
		hx_nd_close_frames(f, k);
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
	for (int round = 0; round < 64 && c->sock && !hx_nd_recv_msg(c->sock, f, MAXF, &k, &over);
	     round++) {
		dispatch(n, c, f, k, over);
		hx_nd_close_frames(f, k);
	}
	free(f);
}

/* ---- timers --------------------------------------------------------------------- */

static void flush_stats(hx_node *n, uint64_t now)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i]->dirty)
			hx_nd_peer_flush(n, n->peers[i], now);
	if (n->zap_refused && hx_counter_add(n->store, "zap-refused", n->zap_refused) == HX_OK)
		n->zap_refused = 0;
	if (n->junk && hx_counter_add(n->store, "junk", n->junk) == HX_OK)
		n->junk = 0;
	if (n->push_hist_dirty && hx_push_hist_put(n->store, &n->push_hist) == HX_OK)
		n->push_hist_dirty = 0;
}

/* Periodic work (pings, re-reads) runs early when the loop is awake
 * anyway and it is due within SLACK_MS, so that timers close to each
 * other share one wake-up. The polling fallback (a short period) runs on
 * time. */
static int due(uint64_t now, uint64_t at)
{
	return now + SLACK_MS * 1000ull >= at;
}

/* The peer's last_seen, or a routine reconciliation's time and count
 * (session.c, recon_stats), moved since they were last written. */
static int seen_unsaved(const struct peer *p)
{
	return p->st.last_seen != p->seen_saved || p->routine;
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

/* Whether c starts a reconciliation now: on connect and every interval from
 * the connecting side; from the accepting side only when pushing fell
 * behind or when nobody reconciled for two intervals. If not now, *at is
 * the time it may be (UINT64_MAX: only after a message). */
static int recon_now(hx_node *n, struct conn *c, uint64_t now, uint64_t *at)
{
	uint64_t interval = n->cfg.recon_interval_ms * 1000ull;
	struct peer *p = c->peer;

	*at = UINT64_MAX;
	if (c->ine || peer_session_active(n, p) || peer_responding(n, p))
		return 0;
	if (n->cfg.once) {
		if (now < c->next_recon) { /* the peer was busy (NE_ERROR) */
			*at = c->next_recon;
			return 0;
		}
		return c->recon_due && !c->synced && hx_nd_transfers_idle(c);
	}
	/* Not while entries move with that member on any connection (ours or
	 * its): what is queued or in flight would be found missing and asked
	 * for, or pushed, a second time. */
	if (!hx_nd_member_idle(n, p))
		return 0;
	if (now < p->busy_until || now < c->busy_retry) {
		*at = p->busy_until > c->busy_retry ? p->busy_until : c->busy_retry;
		return 0;
	}
	if (!c->out) {
		if (c->recon_due)
			return 1;
		uint64_t a = p->last_recon_any + 2 * interval + 1,
		         b = c->connected_at + interval + 1;
		*at = a > b ? a : b;
		return now >= *at;
	}
	if (!c->recon_due && now < c->next_recon) {
		*at = c->next_recon;
		return 0;
	}
	/* When both nodes connect to each other, one reconciliation serves
	 * both: skip ours if the member just reconciled with us, and on
	 * connect let the node with the smaller key go first. */
	int recent = p->last_recon_any && p->last_recon_any >= c->connected_at &&
	             now - p->last_recon_any < interval / 2;
	if (c->recon_due != 2 && recent) {
		c->recon_due = 0;
		c->next_recon = p->last_recon_any + interval;
		*at = c->next_recon;
		return 0;
	}
	if (c->recon_due == 1 && now - c->connected_at < 500000 &&
	    memcmp(n->cfg.pk, p->key, HX_KEY_LEN) > 0) {
		*at = c->connected_at + 500000;
		return 0;
	}
	return 1;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return b < a ? b : a;
}

/* The next time tick_conn has something to do for c without a message
 * (the checks there are "now > deadline": hence the + 1). */
static uint64_t conn_deadline(hx_node *n, struct conn *c, uint64_t now)
{
	uint64_t t = UINT64_MAX, at;

	if (c->finished)
		return t;
	if (c->retry_at)
		t = c->retry_at;
	if (n->cfg.once)
		t = earliest(t,
		             (c->up ? c->last_rx : c->created) + n->cfg.timeout_ms * 1000ull + 1);
	if (!c->up)
		return t;
	for (unsigned i = 0; i < c->npushes; i++)
		t = earliest(t, c->pushes[i].deadline + 1);
	for (unsigned i = 0; i < c->nwants; i++)
		t = earliest(t, c->wants[i].deadline + 1);
	if (c->later_q.n)
		t = earliest(t, c->later_at);
	if (c->ine)
		t = earliest(t, c->istarted + SESSION_TIMEOUT_MS * 1000ull + 1);
	if (c->rne)
		t = earliest(t, c->rlast + SESSION_TIMEOUT_MS * 1000ull + 1);
	if (recon_now(n, c, now, &at))
		return now;
	t = earliest(t, at);
	if (c->out)
		t = earliest(t, c->last_tx + PING_MS * 1000ull + 1);
	if (!c->out)
		t = earliest(t, hx_nd_in_due(c));
	return t;
}

/* How often members and peers are re-read without a writer's wake-up. */
static unsigned reload_ms(const hx_node *n)
{
	return n->wake_fd >= 0 ? MEMBERS_RELOAD_MS : MEMBERS_POLL_MS;
}

/* How long the loop may sleep: until the next timer (timers are deadlines,
 * not polling), at most until the members reload. */
static int sleep_ms(hx_node *n, uint64_t now)
{
	uint64_t t = n->next_reload;
	if (hx_nd_pipe_writing(n)) {
		/* what waits for the writer: its descriptor wakes the loop */
		t = UINT64_MAX;
	} else {
		if (!n->cfg.once)
			t = earliest(t, n->next_changes);
		if (n->zap_refused || n->junk)
			t = earliest(t, n->next_flush);
		for (size_t i = 0; i < n->npeers; i++) {
			if (n->peers[i]->dirty)
				t = earliest(t, n->next_flush);
			if (seen_unsaved(n->peers[i]))
				t = earliest(t, n->next_seen);
		}
	}
	for (size_t i = 0; i < n->nconns; i++)
		t = earliest(t, conn_deadline(n, n->conns[i], now));
	t = earliest(t, hx_nd_blob_deadline(n, now));
	t = earliest(t, hx_nd_pipe_deadline(n, now));
	if (t <= now)
		return 0;
	uint64_t ms = (t - now + 999) / 1000;
	return ms > reload_ms(n) ? (int)reload_ms(n) : (int)ms;
}

static void tick_conn(hx_node *n, struct conn *c, uint64_t now)
{
	if (c->finished)
		return;
	if (c->retry_at && now >= c->retry_at)
		hx_nd_conn_retry(n, c);
	if (!c->up) {
		if (n->cfg.once && now - c->created > n->cfg.timeout_ms * 1000ull)
			hx_nd_finish(n, c, 0,
			             c->connected ? "no answer to hello" : "cannot connect");
		return;
	}
	/* timeouts */
	for (unsigned i = 0; i < c->npushes; i++) {
		if (now > c->pushes[i].deadline) {
			hx_nd_log(n, "%s did not acknowledge a push: reconciling", c->peer->name);
			c->npushes = 0;
			c->recon_due = 2;
			break;
		}
	}
	for (unsigned i = 0; i < c->nwants; i++) {
		if (now > c->wants[i].deadline) {
			hx_nd_log(n, "%s did not answer a request: reconciling", c->peer->name);
			c->nwants = 0;
			c->recon_due = 2;
			break;
		}
	}
	if (c->ine && now - c->istarted > SESSION_TIMEOUT_MS * 1000ull) {
		hx_nd_log(n, "reconciliation with %s timed out", c->peer->name);
		hx_nd_session_end_initiator(c);
	}
	if (c->rne && now - c->rlast > SESSION_TIMEOUT_MS * 1000ull)
		hx_nd_session_end_responder(c);
	hx_nd_announced_due(n, c, now);
	hx_nd_pump(n, c, now);
	uint64_t at;
	if (recon_now(n, c, now, &at)) {
		hx_nd_flush_pending(n); /* what came is in the store's item set */
		hx_nd_recon_start(n, c, now);
	}
	if (n->cfg.once && c->synced && !c->ine && hx_nd_transfers_idle(c))
		hx_nd_finish(n, c, 1, NULL);
	if (c->out && due(now, c->last_tx + PING_MS * 1000ull)) {
		uint8_t p[HX_PING_LEN];
		hx_wire_ping(p, now);
		hx_nd_send1(n, c, p, sizeof p);
	}
	if (n->cfg.once && now - c->last_rx > n->cfg.timeout_ms * 1000ull)
		hx_nd_finish(n, c, 0, "the peer stopped answering");
}

static void tick(hx_node *n, uint64_t now)
{
	/* A bulk commit done is settled first. While one runs on the writer
	 * thread, what would open a write transaction (statistics, the
	 * roster) or read the change log (what the commit stored is not
	 * settled) waits for it to end; the next one is handed over last. */
	hx_nd_pipe_collect(n);
	int writing = hx_nd_pipe_writing(n);
	if (!n->cfg.once && !writing && (n->changes_due || due(now, n->next_changes))) {
		n->changes_due = 0;
		hx_nd_poll_changes(n);
		if (due(now, n->next_changes)) /* a wake-up leaves the timer alone */
			n->next_changes = now + n->cfg.poll_ms * 1000ull;
	}
	/* what a member was sent may go again once its transfers rested (a
	 * reconciliation then says what it still lacks) */
	for (size_t i = 0; i < n->npeers; i++) {
		struct peer *p = n->peers[i];
		if (p->sent.n && now >= p->busy_until && hx_nd_member_idle(n, p))
			hx_nd_idset_free(&p->sent);
	}
	for (size_t i = 0; i < n->nconns; i++)
		tick_conn(n, n->conns[i], now);
	/* forget incoming connections that went silent */
	for (size_t i = 0; i < n->nconns;) {
		struct conn *c = n->conns[i];
		if (!c->out && hx_nd_in_gone(n, c, now)) {
			hx_nd_flush_pending(n); /* the pipeline may hold its entries */
			hx_nd_conn_down(n, c, "silent");
			hx_nd_conn_remove(n, i);
		} else {
			i++;
		}
	}
	if (!writing && (n->reload_due || due(now, n->next_reload))) {
		n->reload_due = 0;
		size_t changed = 0;
		int rc = n->cfg.once ? HX_OK : hx_roster_apply(n->store, n->cfg.pk, &changed);
		if (rc)
			hx_nd_log(n, "cannot apply the roster: %s", hx_strerror(rc));
		else if (changed)
			hx_nd_log(n, "roster: %zu member%s added or removed", changed,
			          changed == 1 ? "" : "s");
		hx_nd_members_reload(n);
		if (!n->cfg.once) {
			hx_nd_reload_peers(n);
			hx_nd_blob_requests(n);
		}
		n->next_reload = now + reload_ms(n) * 1000ull;
	}
	hx_nd_blob_tick(n, now, !writing && now >= n->next_flush);
	if (!writing && now >= n->next_flush) {
		flush_stats(n, now);
		n->next_flush = now + STATS_FLUSH_MS * 1000ull;
	}
	if (!writing && now + SLACK_MS * 1000ull >= n->next_seen) {
		for (size_t i = 0; i < n->npeers; i++)
			if (seen_unsaved(n->peers[i]))
				hx_nd_peer_flush(n, n->peers[i], now);
		n->next_seen = now + SEEN_FLUSH_MS * 1000ull;
	}
	hx_nd_pipe_work(n, now);
}

/* For the verify pool (any thread): stored entries are dropped unverified;
 * one read transaction for the ids a thread takes at once (errors: verify). */
static void known_entries(void *arg, const uint8_t *const ids[], size_t k, uint8_t *found)
{
	hx_node *n = arg;
	(void)!hx_store_has_many(n->store, ids, k, found);
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
		n->cfg.poll_ms = CHANGES_SAFETY_MS;
	n->wake_fd = -1;
	if (!n->cfg.timeout_ms)
		n->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
	n->next_session = (uint32_t)hx_now_us();
	n->entry_mean = 2048; /* until entries come */
	if (!(n->jobs = calloc(HX_WIRE_BATCH_MAX, sizeof *n->jobs)) ||
	    !(n->puts = calloc(HX_WIRE_BATCH_MAX, sizeof *n->puts))) {
		hx_node_destroy(&n);
		return HX_ENOMEM;
	}
	if ((rc = hx_vpool_new(&n->pool, cfg->threads)) || (rc = hx_nd_pipe_start(n)) ||
	    (rc = hx_nd_members_reload(n)) || (rc = hx_nd_blob_new(n))) {
		hx_node_destroy(&n);
		return rc;
	}
	hx_vpool_set_known(n->pool, known_entries, n);
	*out = n;
	return HX_OK;
}

void hx_node_destroy(hx_node **np)
{
	if (!np || !*np)
		return;
	hx_node *n = *np;
	if (n->pool && n->wputs)
		hx_nd_flush_pending(n);
	hx_nd_pipe_free(n);
	hx_nd_ftext_stop(n, 0);
	hx_nd_blob_destroy(n);
	while (n->nconns)
		hx_nd_conn_remove(n, n->nconns - 1);
	free(n->conns);
	for (size_t i = 0; i < n->npeers; i++) {
		hx_nd_idset_free(&n->peers[i]->sent);
		hx_nd_idset_free(&n->peers[i]->announced);
		hx_nd_idset_free(&n->peers[i]->refused_ids);
		free(n->peers[i]);
	}
	free(n->peers);
	hx_nd_router_mon_close(n);
	hx_nd_sock_close(n, &n->router);
	hx_nd_sock_close(n, &n->zap);
	hx_nd_wake_close(n);
	while (n->zctx && zmq_ctx_term(n->zctx) && errno == EINTR)
		;
	hx_members_free(n->members, n->nmembers);
	hx_vpool_destroy(&n->pool);
	free(n->jobs);
	free(n->puts);
	free(n->handled);
	hx_nd_idq_free(&n->fresh);
	free(n->results);
	free(n);
	*np = NULL;
}

size_t hx_node_results(const hx_node *n, const hx_sync_result **out)
{
	*out = n->results;
	return n->nresults;
}

uint64_t hx_node_entry_bytes(const hx_node *n)
{
	return __atomic_load_n(&n->entry_bytes, __ATOMIC_RELAXED);
}

uint64_t hx_node_push_peak(const hx_node *n)
{
	return __atomic_load_n(&n->push_peak, __ATOMIC_RELAXED);
}

void hx_node_pipe_counts(const hx_node *n, uint64_t *taken, uint64_t *verified, uint64_t *commits)
{
	*taken = __atomic_load_n(&n->taken, __ATOMIC_RELAXED);
	*verified = n->pool ? hx_vpool_streamed(n->pool) : 0;
	*commits = __atomic_load_n(&n->commits, __ATOMIC_RELAXED);
}

uint64_t hx_node_announced(const hx_node *n)
{
	return __atomic_load_n(&n->announced, __ATOMIC_RELAXED);
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
	if (n->cfg.bind && (rc = hx_nd_listen(n)))
		return rc;
	if (!n->cfg.once)
		hx_nd_wake_open(n);
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
		rc = hx_nd_conn_open_out(n, &pcs[i], r);
		if (rc == HX_ENOMEM || rc == HX_EIO) {
			if (rc == HX_EIO)
				snprintf(n->error, sizeof n->error, "%s", n->sock_error);
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
	size_t cap = 0, capo = 0;
	int rc = start(n);

	if (rc || (rc = hx_nd_ftext_start(n, n->cfg.bind != NULL)))
		goto out;
	if (n->cfg.bind) {
		hx_daemon_info d = { .pid = (uint64_t)getpid(), .started = hx_now_us() };
		snprintf(d.bind, sizeof d.bind, "%s", n->endpoint);
		(void)!hx_daemon_put(n->store, &d);
		/* the blob gc of a serving node's start runs on the scrub
		 * thread (blobscrub.c), not before this loop */
	}
	while (!*stop) {
		size_t k = 0, need = 6 + 2 * n->nconns;
		int bfd = hx_nd_blob_fd(n), wfd = hx_nd_pipe_fd(n);
		zmq_pollitem_t *a = hx_grow(items, &cap, need, sizeof *a);
		if (a)
			items = a;
		struct conn **b = a ? hx_grow(owner, &capo, need, sizeof *b) : NULL;
		if (b)
			owner = b;
		if (!a || !b) {
			rc = HX_ENOMEM;
			break;
		}
		if (n->zap) {
			items[k] = (zmq_pollitem_t){ .socket = n->zap, .events = ZMQ_POLLIN };
			owner[k++] = NULL;
		}
		if (n->router) {
			items[k] = (zmq_pollitem_t){ .socket = n->router, .events = ZMQ_POLLIN };
			owner[k++] = NULL;
		}
		if (n->router_mon) {
			items[k] =
			        (zmq_pollitem_t){ .socket = n->router_mon, .events = ZMQ_POLLIN };
			owner[k++] = NULL;
		}
		if (n->wake_fd >= 0) {
			items[k] = (zmq_pollitem_t){ .fd = n->wake_fd, .events = ZMQ_POLLIN };
			owner[k++] = NULL;
		}
		if (bfd >= 0) {
			items[k] = (zmq_pollitem_t){ .fd = bfd, .events = ZMQ_POLLIN };
			owner[k++] = NULL;
		}
		if (wfd >= 0) {
			items[k] = (zmq_pollitem_t){ .fd = wfd, .events = ZMQ_POLLIN };
			owner[k++] = NULL;
		}
		for (size_t i = 0; i < n->nconns; i++) {
			struct conn *c = n->conns[i];
			if (!c->out || c->finished || !c->sock)
				continue;
			items[k] = (zmq_pollitem_t){ .socket = c->sock, .events = ZMQ_POLLIN };
			owner[k++] = c;
			items[k] = (zmq_pollitem_t){ .socket = c->mon, .events = ZMQ_POLLIN };
			owner[k++] = c;
		}
		if (zmq_poll(items, (int)k, sleep_ms(n, hx_now_us())) < 0 && errno != EINTR) {
			snprintf(n->error, sizeof n->error, "cannot poll the sockets: %s",
			         zmq_strerror(errno));
			rc = HX_EIO;
			break;
		}
		for (size_t i = 0; i < k && !*stop; i++) {
			if (!(items[i].revents & ZMQ_POLLIN))
				continue;
			if (!items[i].socket && items[i].fd == bfd)
				hx_nd_blob_on_commit(n); /* blobcommit.c */
			else if (!items[i].socket && items[i].fd == wfd)
				hx_nd_pipe_on_writer(n); /* a bulk commit is done */
			else if (!items[i].socket)
				hx_nd_on_wake(n);
			else if (items[i].socket == n->zap)
				hx_nd_on_zap(n);
			else if (items[i].socket == n->router)
				on_router(n);
			else if (items[i].socket == n->router_mon)
				hx_nd_on_router_monitor(n);
			else if (items[i].socket == owner[i]->mon)
				hx_nd_on_monitor(n, owner[i]);
			else
				on_dealer(n, owner[i]);
		}
		tick(n, hx_now_us());
		if (n->cfg.once) {
			int left = 0;
			for (size_t i = 0; i < n->nconns; i++)
				left += n->conns[i]->out && !n->conns[i]->finished;
			if (!left)
				break;
		}
	}
out:
	hx_nd_flush_pending(n);
	/* a sync's fetched blobs are searchable when it returns */
	hx_nd_ftext_stop(n, n->cfg.once);
	for (size_t i = 0; i < n->npeers; i++) {
		n->peers[i]->st.connected = 0;
		n->peers[i]->dirty = 1;
	}
	flush_stats(n, hx_now_us());
	if (n->cfg.bind && n->router)
		(void)!hx_daemon_clear(n->store);
	free(items);
	free(owner);
	return rc;
}
