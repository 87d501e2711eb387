/*
 * receive.c: received entries on their way to the store (docs/PROTOCOL.md
 * §6.3). ENTRIES (bulk transfer) go through a pipeline: each batch is
 * queued for verification on every core as it arrives (an entry already
 * stored is dropped before its signature is checked), and this thread
 * commits the verified batches in order of arrival, many in one
 * transaction while a backlog exists (COMMIT_ENTRIES, fewer while commits
 * are slow), so that the
 * verification of the next batches overlaps the commit of these. A PUSH
 * (live) is verified and committed at once. What was new is relayed to the
 * other members: before the commit, as PUSH to eager members and ANNOUNCE
 * to lazy ones (those that understand it), unless the commit may refuse it
 * for records it reads (then after the commit, when stored); after it as
 * PUSH to older nodes. Calls transfer.c, conn.c and idq.c.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/roster.h"
#include "node/node_int.h"

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
 * for what they lack (WANT, read after the commit). */
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
	hx_nd_announce(n, source, ids, k);
	for (size_t i = 0; i < n->npeers; i++)
		n->peers[i]->pushed = 0;
}

/* One received batch on its way to the store. */
struct stage {
	struct conn *c;
	hx_vjob *jobs; /* as the pool left them */
	size_t k;
	int live;
	size_t first, m;                 /* its entries to store: n->puts[first, first + m) */
	uint8_t (*ids)[HX_ID_LEN];       /* their ids (then those stored), or NULL */
	int fwd;                         /* there are members to forward to (forward) */
	uint8_t late[HX_WIRE_BATCH_MAX]; /* 1: forwarded after the commit, if stored */
	struct batch_out o;
};

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
			puts[i] = n->puts[s->first + idx[i]];
			memcpy(ids[i], puts[i].entry->id, HX_ID_LEN);
		}
		forward(n, s->c->peer, (const uint8_t(*)[HX_ID_LEN])ids, puts, k);
	}
	free(ids);
	free(puts);
}

/* Sorts out a batch before its commit: entries known or refused are
 * counted, the others appended to n->puts and forwarded (see forward). */
static void prepare(hx_node *n, struct stage *s, size_t first)
{
	struct peer *p = s->c->peer;
	struct batch_out *o = &s->o;
	size_t logged = 0;
	int reloaded = 0;

	memset(o, 0, sizeof *o);
	s->first = first;
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
		n->puts[first + s->m++] =
		        (hx_put){ .raw = j->raw, .rawlen = j->len, .entry = &j->e };
	}
	if (logged > REFUSED_LOG_PER_BATCH)
		hx_nd_log(n, "refused %zu more entries from %s", logged - REFUSED_LOG_PER_BATCH,
		          p->name);
	if (s->m && (s->ids = malloc(s->m * sizeof *s->ids)))
		for (size_t i = 0; i < s->m; i++)
			memcpy(s->ids[i], n->puts[first + i].entry->id, HX_ID_LEN);
	s->fwd = s->m && forward_targets(n, p);
	if (s->fwd) {
		size_t idx[HX_WIRE_BATCH_MAX], k = 0;
		for (size_t i = 0; i < s->m; i++) {
			s->late[i] = !forward_early(n, n->puts[first + i].entry);
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
		hx_put *put = &n->puts[s->first + i];
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
			if (put->entry->nattach)
				hx_nd_blob_news(n);
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

/* Stores the verified entries of ns batches in one transaction and relays
 * what was new to the other members. */
static void commit(hx_node *n, struct stage *s, size_t ns)
{
	size_t total = 0, added;
	for (size_t i = 0; i < ns; i++)
		total += s[i].k;
	hx_put *puts = hx_grow(n->puts, &n->capputs, total, sizeof *puts);
	if (!puts) { /* one transaction per batch (n->puts holds one) */
		for (size_t i = 0; ns > 1 && i < ns; i++)
			commit(n, &s[i], 1);
		return;
	}
	n->puts = puts;
	total = 0;
	for (size_t i = 0; i < ns; i++) {
		prepare(n, &s[i], total);
		total += s[i].m;
	}
	int rc = total ? hx_store_put_batch(n->store, n->puts, total,
	                                    HX_PUT_MEMBERS_ONLY | HX_PUT_NO_WAKE, &added)
	               : HX_OK;
	for (size_t i = 0; i < ns; i++)
		settle(n, &s[i], rc);
}

/* Verifies (on every core) and stores a batch, now. */
static void take_batch(hx_node *n, struct conn *c, zmq_msg_t *f, size_t k, int live,
                       struct stage *s)
{
	for (size_t i = 0; i < k; i++) {
		n->jobs[i].raw = zmq_msg_data(&f[i]);
		n->jobs[i].len = zmq_msg_size(&f[i]);
	}
	hx_vpool_run(n->pool, n->jobs, k, hx_now_us() + FUTURE_US);
	*s = (struct stage){ .c = c, .jobs = n->jobs, .k = k, .live = live };
	commit(n, s, 1);
}

/* ---- the ENTRIES pipeline ------------------------------------------------------ */

#define SPARE_MAX 4 /* batches kept for reuse */

static struct pend *pend_new(hx_node *n)
{
	struct pend *b = n->pipe_spare;
	if (b) {
		n->pipe_spare = b->next;
		return b;
	}
	return malloc(sizeof *b);
}

/* b, committed: its frames closed, kept for reuse or freed. */
static void pend_done(hx_node *n, struct pend *b)
{
	size_t spare = 0;
	hx_nd_close_frames(b->f, b->k);
	for (struct pend *x = n->pipe_spare; x; x = x->next)
		spare++;
	if (spare >= SPARE_MAX) {
		free(b);
		return;
	}
	b->next = n->pipe_spare;
	n->pipe_spare = b;
}

void hx_nd_pipe_free(hx_node *n)
{
	while (n->pipe_spare) {
		struct pend *b = n->pipe_spare;
		n->pipe_spare = b->next;
		free(b);
	}
}

static int verified(const struct pend *b)
{
	for (size_t i = b->k; i > 0; i--)
		if (!hx_vjob_done(&b->jobs[i - 1]))
			return 0;
	return 1;
}

/* The verified batches at the head of the pipeline, up to a bulk commit:
 * how many (*np) and whether that is all of it. */
static int ready(hx_node *n, size_t *np, int *full)
{
	size_t k = 0, bytes = 0;
	*np = 0;
	*full = 0;
	for (struct pend *b = n->pipe; b; b = b->next) {
		if (k >= n->commit_max || bytes >= COMMIT_BYTES) {
			*full = 1;
			return 0;
		}
		if (!verified(b))
			return 0;
		k += b->k;
		bytes += b->bytes;
		(*np)++;
	}
	*full = k >= n->commit_max || bytes >= COMMIT_BYTES;
	return 1;
}

/* A WANT is in flight whose last ENTRIES has not come yet. */
static int more_coming(hx_node *n)
{
	for (size_t i = 0; i < n->nconns; i++)
		for (unsigned j = 0; j < n->conns[i]->nwants; j++)
			if (!n->conns[i]->wants[j].got_last)
				return 1;
	return 0;
}

/* Commits the first np batches of the pipeline, in one transaction. */
static void commit_head(hx_node *n, size_t np)
{
	struct stage *s = calloc(np, sizeof *s);
	struct pend **bs = calloc(np, sizeof *bs);
	if (!s || !bs) {
		free(s);
		free(bs);
		s = malloc(sizeof *s); /* one batch, then */
		bs = malloc(sizeof *bs);
		np = 1;
		if (!s || !bs) {
			free(s);
			free(bs);
			return; /* the next call tries again */
		}
	}
	for (size_t i = 0; i < np; i++) {
		struct pend *b = n->pipe;
		n->pipe = b->next;
		if (!n->pipe)
			n->pipe_tail = NULL;
		n->pipe_n -= b->k;
		n->pipe_bytes -= b->bytes;
		bs[i] = b;
		s[i] = (struct stage){ .c = b->c, .jobs = b->jobs, .k = b->k };
	}
	uint64_t t0 = hx_now_us();
	size_t ke = 0;
	for (size_t i = 0; i < np; i++)
		ke += s[i].k;
	commit(n, s, np);
	uint64_t took = hx_now_us() - t0;
	if (n->cfg.verbose)
		hx_nd_log(n, "committed %zu received entries (%zu batches) in %.1f ms; %zu wait",
		          ke, np, (double)took / 1000, n->pipe_n);
	/* Commits stay short on a slow or busy machine: a long one delays
	 * the next WANTs (the window frees at commit), and a sender whose
	 * transfers seem to rest for 2 s reconciles and pushes again what is
	 * still on its way (PROTOCOL.md §6.2). */
	if (took > COMMIT_SLOW_MS * 1000ull && ke > HX_WIRE_BATCH_MAX)
		n->commit_max = ke / 2 > HX_WIRE_BATCH_MAX ? ke / 2 : HX_WIRE_BATCH_MAX;
	else if (took < COMMIT_SLOW_MS * 500ull && ke >= n->commit_max)
		n->commit_max =
		        n->commit_max * 2 < COMMIT_ENTRIES ? n->commit_max * 2 : COMMIT_ENTRIES;
	for (size_t i = 0; i < np; i++) {
		struct pend *b = bs[i];
		struct conn *c = b->c;
		struct peer *p = c->peer;
		uint64_t got = s[i].o.stored + s[i].o.known;
		p->st.we_lack = p->st.we_lack > got ? p->st.we_lack - got : 0;
		if (c->result) {
			c->result->fetched += got + s[i].o.refused;
			hx_nd_progress(n);
		}
		for (unsigned j = 0; b->last && j < c->nwants; j++) {
			if (c->wants[j].id == b->request) {
				c->wants[j] = c->wants[--c->nwants];
				break;
			}
		}
		pend_done(n, b);
	}
	/* the window has room again: the next requests go out at once */
	for (size_t i = 0; i < np; i++) {
		size_t j = 0;
		while (j < i && s[j].c != s[i].c)
			j++;
		if (j == i)
			hx_nd_pump(n, s[i].c, hx_now_us());
	}
	free(s);
	free(bs);
}

void hx_nd_on_entries(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f)
{
	/* The windows bound what members send when asked; ENTRIES that answer
	 * no request (or a peer that ignores the window) must not make the
	 * pipeline grow without end: it is emptied first. */
	if (n->pipe_n >= PIPE_MAX_ENTRIES || n->pipe_bytes >= PIPE_MAX_BYTES)
		hx_nd_flush_pending(n);
	struct pend *b = pend_new(n);
	if (!b) {
		/* dropped: the request times out and a reconciliation follows */
		hx_nd_log(n, "out of memory: entries from %s dropped", c->peer->name);
		return;
	}
	*b = (struct pend){ .c = c,
		            .k = w->count,
		            .arrived = hx_now_us(),
		            .request = w->request,
		            .last = w->flags & HX_ENTRIES_LAST };
	uint64_t max_ts = b->arrived + FUTURE_US;
	for (size_t i = 0; i < b->k; i++) {
		zmq_msg_init(&b->f[i]);
		zmq_msg_move(&b->f[i], &f[1 + i]);
		b->jobs[i].raw = zmq_msg_data(&b->f[i]);
		b->jobs[i].len = zmq_msg_size(&b->f[i]);
		b->jobs[i].max_ts = max_ts;
		b->bytes += b->jobs[i].len;
		/* a slow mean (1/64 per entry): sizes the want window */
		n->entry_mean = n->entry_mean - n->entry_mean / 64 + b->jobs[i].len / 64;
	}
	if (hx_vpool_submit(n->pool, b->jobs, b->k)) {
		hx_vpool_run(n->pool, b->jobs, b->k, max_ts); /* on this thread, now */
		for (size_t i = 0; i < b->k; i++)
			b->jobs[i].done = 1;
	}
	for (unsigned i = 0; b->last && i < c->nwants; i++)
		if (c->wants[i].id == b->request)
			c->wants[i].got_last = 1;
	if (n->pipe_tail)
		n->pipe_tail->next = b;
	else
		n->pipe = b;
	n->pipe_tail = b;
	n->pipe_n += b->k;
	n->pipe_bytes += b->bytes;
}

/* Helps with the first job of the pipeline not yet verified, or waits
 * for the thread that took it. */
static void help(hx_node *n)
{
	if (hx_vpool_help(n->pool))
		return;
	for (struct pend *b = n->pipe; b; b = b->next)
		for (size_t i = 0; i < b->k; i++)
			if (!hx_vjob_done(&b->jobs[i])) {
				hx_vpool_wait(n->pool, &b->jobs[i]);
				return;
			}
}

void hx_nd_pipe_work(hx_node *n, uint64_t now)
{
	uint64_t until = hx_now_us() + 20000; /* then the sockets are read again */
	while (n->pipe) {
		size_t np;
		int full, all = ready(n, &np, &full);
		if (np && (full || (all && (!more_coming(n) ||
		                            now >= n->pipe->arrived + COMMIT_WAIT_MS * 1000ull)))) {
			commit_head(n, np);
			return;
		}
		if (all || hx_now_us() > until)
			return; /* verified, and more is coming: wait for it */
		help(n);
	}
}

uint64_t hx_nd_pipe_deadline(hx_node *n, uint64_t now)
{
	size_t np;
	int full;
	if (!n->pipe)
		return UINT64_MAX;
	if (!ready(n, &np, &full) || full || !more_coming(n))
		return now;
	return n->pipe->arrived + COMMIT_WAIT_MS * 1000ull;
}

void hx_nd_flush_pending(hx_node *n)
{
	while (n->pipe) {
		size_t np;
		int full;
		ready(n, &np, &full);
		if (np)
			commit_head(n, np);
		else
			help(n);
	}
}

void hx_nd_on_push(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f)
{
	struct stage s;
	uint8_t a[HX_ACK_LEN];
	take_batch(n, c, f + 1, w->count, w->flags & HX_PUSH_LIVE, &s);
	if (!(w->flags & HX_PUSH_LIVE)) {
		/* a reconciliation's result: what we lacked less what came */
		hx_peer_stats *st = &c->peer->st;
		uint64_t got = s.o.stored + s.o.known;
		st->we_lack = st->we_lack > got ? st->we_lack - got : 0;
	}
	hx_wire_ack(a, w->seq, (uint16_t)s.o.stored, (uint16_t)s.o.known, (uint16_t)s.o.refused);
	hx_nd_send1(n, c, a, sizeof a);
}
