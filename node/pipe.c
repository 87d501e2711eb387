/*
 * pipe.c: the pipeline of received ENTRIES (docs/PROTOCOL.md §6.2, §6.4).
 * Each batch is queued for verification on every core as it arrives (an
 * entry already stored is dropped before its signature is checked); the
 * verified batches are committed in order of arrival, many in one
 * transaction while a backlog exists (up to COMMIT_ENTRIES or
 * COMMIT_BYTES, as `hansa import` does), on the store's writer thread
 * (store.h hx_writer), so that the node keeps receiving, answering and
 * verifying the next batches while a large transaction commits. The
 * loop learns from the writer's descriptor that a commit is done, and
 * only then settles its batches (relays, ACK counts, REFUSED, the want
 * window): nothing counts as stored before its commit. While the writer
 * commits, the node opens no write transaction of its own and does not
 * read the change log (hx_nd_pipe_writing). A PUSH waits for the commit
 * in flight, not for the rest of the pipeline, unless it may depend on
 * it (receive.c hx_nd_push_verify). Calls receive.c, transfer.c, conn.c.
 */
#include <stdlib.h>
#include <string.h>
#include "node/node_int.h"

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

/* A bulk commit slower than this (us) is slow. */
static uint64_t slow_us(const hx_node *n)
{
	return (n->cfg.commit_slow_ms ? n->cfg.commit_slow_ms : COMMIT_SLOW_MS) * 1000ull;
}

/* A live write (a LIVE PUSH, a local write) came lately: one may be
 * waiting for the commit in flight, so commits are kept short. */
static int live_lately(const hx_node *n)
{
	return n->live_at && hx_now_us() - n->live_at < LIVE_RECENT_MS * 1000ull;
}

/* Entries per bulk commit at most. */
static size_t bulk_max(const hx_node *n)
{
	unsigned c = n->cfg.commit_entries;
	return c && c < COMMIT_ENTRIES ? c : COMMIT_ENTRIES;
}

int hx_nd_pipe_start(hx_node *n)
{
	/* the first commits are small, so that a transfer's first commit
	 * overlaps the verification of what follows; fast ones double it */
	n->commit_max = bulk_max(n) < COMMIT_MIN ? bulk_max(n) : COMMIT_MIN;
	n->capwputs = HX_WIRE_BATCH_MAX;
	if (!(n->wputs = calloc(n->capwputs, sizeof *n->wputs)))
		return HX_ENOMEM;
	return hx_writer_start(&n->wr, n->store, HX_PUT_MEMBERS_ONLY | HX_PUT_NO_WAKE);
}

void hx_nd_pipe_free(hx_node *n)
{
	hx_writer_stop(&n->wr);
	free(n->wputs);
	n->wputs = NULL;
	while (n->pipe_spare) {
		struct pend *b = n->pipe_spare;
		n->pipe_spare = b->next;
		free(b);
	}
}

/* Whether b's jobs are all verified (remembered: the pipeline is looked
 * at after each job this thread verifies). */
static int verified(struct pend *b)
{
	for (size_t i = b->k; !b->ok && i > 0; i--)
		if (!hx_vjob_done(&b->jobs[i - 1]))
			return 0;
	b->ok = 1;
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

/* The entries of a bulk commit at the end of a transfer, else 0: when
 * nothing more is coming that we asked for (every WANT in flight has its
 * last ENTRIES, none is waiting to go out) and the pipeline holds no
 * PUSH (a transfer pushed to us ends when the sender says nothing), what
 * is left goes in one commit rather than pieces of commit_max: a
 * commit's cost is mostly the posting lists it touches. Up to the bulk
 * size, and, when live writes came lately (they wait for the commit in
 * flight), as many as the last commit's pace commits within
 * COMMIT_SLOW_MS. */
static size_t tail_max(hx_node *n)
{
	if (n->pipe_pushes || more_coming(n))
		return 0;
	for (size_t i = 0; i < n->nconns; i++)
		if (n->conns[i]->want_q.n)
			return 0;
	if (!live_lately(n))
		return bulk_max(n);
	uint64_t paced = n->commit_us ? slow_us(n) / n->commit_us : 0;
	return paced < bulk_max(n) ? (size_t)paced : bulk_max(n);
}

/* The verified batches at the head of the pipeline, up to a bulk commit:
 * how many (*np) and whether that is all of it. */
static int ready(hx_node *n, size_t *np, int *full)
{
	size_t k = 0, bytes = 0, max = n->commit_max;
	int tail = 0;
	*np = 0;
	*full = 0;
	for (struct pend *b = n->pipe; b; b = b->next) {
		if (k >= max && !tail) {
			/* the end of a transfer, all of it verified: one commit */
			size_t t = tail_max(n);
			tail = 1;
			for (struct pend *x = b; t > max && x; x = x->next)
				if (!verified(x))
					t = 0;
			max = t > max ? t : max;
		}
		if (k >= max || bytes >= COMMIT_BYTES) {
			*full = 1;
			return 0;
		}
		if (!verified(b))
			return 0;
		k += b->k;
		bytes += b->bytes;
		(*np)++;
	}
	*full = k >= max || bytes >= COMMIT_BYTES;
	return 1;
}

int hx_nd_pipe_writing(const hx_node *n)
{
	return n->wbusy;
}

int hx_nd_pipe_fd(const hx_node *n)
{
	return hx_writer_fd(n->wr);
}

/* The bulk commit is done (rc: its outcome): its batches settled, their
 * requests out of the want window, the next requests sent. */
static void done(hx_node *n, int rc)
{
	struct stage *s = n->wst;
	struct pend **bs = n->wbs;
	size_t np = n->wnp, ke = n->wke;
	n->wbusy = 0;
	n->wst = NULL;
	n->wbs = NULL;
	n->wnp = n->wke = 0;
	hx_nd_stages_settle(n, s, np, rc);
	uint64_t took = hx_now_us() - n->wt0;
	if (ke >= COMMIT_MIN / 4) /* large enough to tell a pace */
		n->commit_us = took / ke > 0 ? took / ke : 1;
	if (n->cfg.verbose)
		hx_nd_log(n, "committed %zu received entries (%zu batches) in %.1f ms; %zu wait",
		          ke, np, (double)took / 1000, n->pipe_n);
	/* A live PUSH (and a local writer) waits for the commit in flight:
	 * while live writes come, a commit slower than COMMIT_SLOW_MS (a
	 * slow or busy machine, a large store) makes the next ones smaller,
	 * down to COMMIT_MIN, and fast ones let them grow back to the bulk
	 * size. With none lately, a full commit lets them grow however long
	 * it took: on a busy machine the halving kept a bulk transfer in
	 * commits of 4,096 entries, each rewriting the posting lists' tails,
	 * with nobody waiting. */
	size_t half = (ke < n->commit_max ? ke : n->commit_max) / 2; /* ke: maybe a tail */
	int live = live_lately(n);
	if (live && took > slow_us(n) && ke > COMMIT_MIN && n->commit_max > COMMIT_MIN)
		n->commit_max = half > COMMIT_MIN ? half : COMMIT_MIN;
	else if ((!live || took < slow_us(n) / 2) && ke >= n->commit_max)
		n->commit_max = n->commit_max * 2 < bulk_max(n) ? n->commit_max * 2 : bulk_max(n);
	for (size_t i = 0; i < np; i++) {
		struct pend *b = bs[i];
		struct conn *c = b->c;
		struct peer *p = c->peer;
		uint64_t got = s[i].o.stored + s[i].o.known;
		p->st.we_lack = p->st.we_lack > got ? p->st.we_lack - got : 0;
		if (b->push) { /* committed: now it can be acknowledged */
			uint8_t a[HX_ACK_LEN];
			hx_wire_ack(a, b->seq, (uint16_t)s[i].o.stored, (uint16_t)s[i].o.known,
			            (uint16_t)s[i].o.refused);
			hx_nd_send1(n, c, a, sizeof a);
		} else if (c->result) {
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

void hx_nd_pipe_settle(hx_node *n)
{
	if (n->wbusy) {
		size_t added;
		done(n, hx_writer_wait(n->wr, &added));
	}
}

void hx_nd_pipe_collect(hx_node *n)
{
	if (n->wbusy && !hx_writer_busy(n->wr))
		hx_nd_pipe_settle(n);
}

void hx_nd_pipe_on_writer(hx_node *n)
{
	(void)hx_writer_busy(n->wr); /* clears the descriptor */
	hx_nd_pipe_collect(n);
}

/* Hands the first np batches of the pipeline to the writer thread, in
 * one transaction (n->wbusy: none in flight). */
static void commit_head(hx_node *n, size_t np)
{
	struct stage *s = calloc(np, sizeof *s);
	struct pend **bs = calloc(np, sizeof *bs);
	if (!s || !bs) {
		free(s);
		free(bs);
		s = calloc(1, sizeof *s); /* one batch, then */
		bs = calloc(1, sizeof *bs);
		np = 1;
		if (!s || !bs) {
			free(s);
			free(bs);
			return; /* the next call tries again */
		}
	}
	size_t ke = 0;
	for (size_t i = 0; i < np; i++) {
		struct pend *b = n->pipe;
		n->pipe = b->next;
		if (!n->pipe)
			n->pipe_tail = NULL;
		n->pipe_n -= b->k;
		n->pipe_bytes -= b->bytes;
		n->pipe_pushes -= (size_t)b->push;
		bs[i] = b;
		s[i] = (struct stage){ .c = b->c, .jobs = b->jobs, .k = b->k };
		ke += b->k;
	}
	hx_put *puts = hx_grow(n->wputs, &n->capwputs, ke, sizeof *puts);
	if (puts) {
		n->wputs = puts;
	} else {
		/* back into the pipeline but the first (wputs holds one) */
		for (size_t i = np; i > 1; i--) {
			struct pend *b = bs[i - 1];
			b->next = n->pipe;
			n->pipe = b;
			if (!n->pipe_tail)
				n->pipe_tail = b;
			n->pipe_n += b->k;
			n->pipe_bytes += b->bytes;
			n->pipe_pushes += (size_t)b->push;
		}
		np = 1;
		ke = bs[0]->k;
	}
	n->wst = s;
	n->wbs = bs;
	n->wnp = np;
	n->wke = ke;
	n->wbusy = 1;
	n->wt0 = hx_now_us();
	size_t total = hx_nd_stages_prepare(n, s, np, n->wputs);
	if (!total) { /* nothing new: no transaction */
		done(n, HX_OK);
		return;
	}
	hx_writer_submit(n->wr, n->wputs, total);
	__atomic_add_fetch(&n->commits, 1, __ATOMIC_RELAXED);
	hx_nd_pipe_collect(n); /* without a thread it is done already */
}

/* Takes the k entries of frames f (after the header) into the pipeline:
 * the answer to a WANT (request, last) or a transfer's PUSH (seq). */
static void take(hx_node *n, struct conn *c, zmq_msg_t *f, size_t k, uint32_t request, int last,
                 int push, uint64_t seq)
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
	b->c = c;
	b->k = k;
	b->bytes = 0;
	b->arrived = hx_now_us();
	b->request = request;
	b->last = last;
	b->ok = 0;
	b->push = push;
	b->seq = seq;
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
	b->next = NULL;
	if (n->pipe_tail)
		n->pipe_tail->next = b;
	else
		n->pipe = b;
	n->pipe_tail = b;
	n->pipe_n += b->k;
	n->pipe_bytes += b->bytes;
	n->pipe_pushes += (size_t)b->push;
	__atomic_add_fetch(&n->taken, b->k, __ATOMIC_RELAXED);
}

void hx_nd_on_entries(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f)
{
	take(n, c, f, w->count, w->request, w->flags & HX_ENTRIES_LAST, 0, 0);
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
	hx_nd_pipe_collect(n);
	while (n->pipe) {
		size_t np = 0;
		int full = 0, all = 0;
		if (!n->wbusy)
			all = ready(n, &np, &full);
		if (np && (full || (all && (!more_coming(n) ||
		                            now >= n->pipe->arrived + COMMIT_WAIT_MS * 1000ull)))) {
			commit_head(n, np);
			continue;
		}
		if (hx_now_us() > until)
			return;
		if (hx_vpool_help(n->pool))
			continue;
		/* nothing queued: the pool's threads have the rest */
		if (all || n->wbusy)
			return; /* verified, and more is coming, or the writer is busy */
		help(n);
	}
}

uint64_t hx_nd_pipe_deadline(hx_node *n, uint64_t now)
{
	size_t np;
	int full;
	if (!n->pipe)
		return UINT64_MAX;
	if (hx_vpool_queued(n->pool))
		return now; /* to help verify */
	if (n->wbusy)
		return UINT64_MAX; /* the writer's descriptor wakes the loop */
	int all = ready(n, &np, &full);
	if (!all || full || !more_coming(n))
		return now;
	return n->pipe->arrived + COMMIT_WAIT_MS * 1000ull;
}

void hx_nd_flush_pending(hx_node *n)
{
	/* in bulk commits, as the loop makes them: a commit of what is
	 * verified so far, a batch or two, costs nearly as much as a full
	 * one (the index pages it rewrites) */
	for (;;) {
		hx_nd_pipe_settle(n);
		if (!n->pipe)
			return;
		size_t np;
		int full, all = ready(n, &np, &full);
		if (np && (full || all))
			commit_head(n, np);
		else
			help(n);
	}
}

void hx_nd_on_push(hx_node *n, struct conn *c, const hx_wire_msg *w, zmq_msg_t *f)
{
	struct stage s;
	uint8_t a[HX_ACK_LEN];
	int live = w->flags & HX_PUSH_LIVE;
	if (!live) {
		/* a reconciliation's result: a transfer, committed in bulk like
		 * ENTRIES and acknowledged after its commit (done) */
		take(n, c, f, w->count, 0, 0, 1, w->seq);
		return;
	}
	/* one write transaction at a time: the push is the next one */
	n->live_at = hx_now_us();
	hx_nd_pipe_settle(n);
	if (!hx_nd_push_verify(n, f + 1, w->count))
		hx_nd_flush_pending(n); /* it may need records the pipeline holds */
	hx_nd_push_commit(n, c, w->count, live, &s);
	hx_wire_ack(a, w->seq, (uint16_t)s.o.stored, (uint16_t)s.o.known, (uint16_t)s.o.refused);
	hx_nd_send1(n, c, a, sizeof a);
	/* it pushed what we had: the ACK makes us lazy there, and the edge
	 * is redundant this way too (Plumtree's PRUNE prunes both ends) */
	if (s.o.known && !s.o.stored && !s.o.refused)
		c->peer->lazy = 1;
}
