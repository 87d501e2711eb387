/*
 * test_sync.c: two or three nodes in threads of this process, on 127.0.0.1:
 *   1. a quiet initial sync of N entries between two nodes that list each
 *      other as peers, with a reconciliation interval far shorter than the
 *      transfer, sends each entry once: sent (at the giver) = received (at
 *      the taker) = N (docs/PROTOCOL.md §6.2);
 *   2. a local write wakes the running node, which pushes it: with the
 *      change-log timer and the reconciliation interval set to ten minutes,
 *      an entry written at A arrives at B (§6.3);
 *   3. a live push during a bulk transfer is stored and relayed at once,
 *      not behind the transfer (§6.4); the end of a transfer is one commit,
 *      also when every commit is slow (tail_commit, tail_commit_busy);
 *   4. a node that stalls while a bulk transfer is relayed to it gets
 *      every entry without waiting for the periodic reconciliation (§6.3);
 *   5. relays in a triangle, and writes at every node of a mesh, carry few
 *      bodies twice (ANNOUNCE, the eager tree).
 * Waits are conditions with deadlines, never timings.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "check.h"
#include "rmtree.h"
#include "threadnodes.h"
#include "node/state.h"
#include "store/store_int.h"
#include "extract/extract.h"

static char tmpdir[] = "/tmp/hx-test-sync.XXXXXX";

static hx_store *open_store(const char *name)
{
	char dir[256];
	hx_store *s = NULL;
	snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	return s;
}

static unsigned commit_entries; /* for the nodes start() starts; 0: the default */
static unsigned commit_slow_ms; /* ditto */
static int start_lazy;          /* ditto */

/* HX_TEST_LOG=1: the nodes' log lines (verbose) on stderr. */
static void log_line(void *arg, const char *line)
{
	fprintf(stderr, "[%.3f] %s: %s\n", tn_wall(), (const char *)arg, line);
}

/* A test's own reader of the log lines (verbose) of the nodes start()
 * starts, instead of HX_TEST_LOG's; NULL: none. */
static void (*capture)(void *label, const char *line);

/* label: the node's name in the log lines (HX_TEST_LOG). */
static void start(struct running *r, hx_store *s, const struct who *w, const char *label,
                  const char *bind, unsigned interval_ms, unsigned poll_ms)
{
	hx_node_config cfg = {
		.commit_entries = commit_entries,
		.commit_slow_ms = commit_slow_ms,
		.start_lazy = start_lazy,
		.log = capture                 ? capture
		       : getenv("HX_TEST_LOG") ? log_line
		                               : NULL,
		.log_arg = (void *)label,
		.verbose = capture || getenv("HX_TEST_LOG") != NULL,
		.pk = w->pk,
		.sk = w->sk,
		.curve_pk = w->cpk,
		.curve_sk = w->csk,
		.bind = bind,
		.recon_interval_ms = interval_ms,
		.poll_ms = poll_ms,
	};
	CHECK_RC(tn_start(r, s, &cfg), HX_OK);
}

static void finish(struct running *r)
{
	CHECK_RC(tn_stop(r), HX_OK);
}

static uint8_t *sign(const struct who *w, int i, size_t *len, hx_entry *e)
{
	char path[64], title[64];
	snprintf(path, sizeof path, "test/sync-%d", i);
	snprintf(title, sizeof title, "Entry number %d", i);
	hx_entry d = { .path = path,
		       .kind = "note",
		       .title = title,
		       .body = "A body long enough to look like a note.",
		       .lang = "en",
		       .timestamp = hx_now_us() - 3600000000ull + (uint64_t)i };
	uint8_t *raw = NULL;
	if (hx_entry_sign(&d, w->sk, &raw, len) || hx_entry_decode(e, raw, *len))
		return NULL;
	return raw;
}

static int put(hx_store *s, const struct who *w, int from, int n)
{
	hx_put *p = calloc((size_t)n, sizeof *p);
	hx_entry *e = calloc((size_t)n, sizeof *e);
	uint8_t **raws = calloc((size_t)n, sizeof *raws);
	size_t added = 0, len;
	int rc = HX_ENOMEM;
	if (!p || !e || !raws)
		goto out;
	for (int i = 0; i < n; i++) {
		if (!(raws[i] = sign(w, from + i, &len, &e[i])))
			goto out;
		p[i] = (hx_put){ .raw = raws[i], .rawlen = len, .entry = &e[i] };
	}
	rc = hx_store_put_batch(s, p, (size_t)n, 0, &added);
	if (!rc && added != (size_t)n)
		rc = HX_EEXIST;
out:
	for (int i = 0; i < n && e && raws; i++) {
		hx_entry_clear(&e[i]);
		free(raws[i]);
	}
	free(p);
	free(e);
	free(raws);
	return rc;
}

static uint64_t entries(hx_store *s)
{
	hx_store_stats st;
	return hx_store_stats_get(s, &st) ? 0 : st.entries;
}

/* Waits until s holds want entries; 1 when it does. */
static int wait_entries(hx_store *s, uint64_t want, double secs)
{
	double t0 = tn_wall();
	while (entries(s) < want) {
		if (tn_wall() - t0 > secs)
			return 0;
		usleep(20000);
	}
	return 1;
}

/* Partners A and B, each a member in both of the new stores NA (A's)
 * and NB (B's); A's store holds N entries of A's. */
static void two_partners(struct who *a, struct who *b, hx_store **sa, hx_store **sb, const char *na,
                         const char *nb, int n)
{
	CHECK_RC(tn_make_who(a, "A"), HX_OK);
	CHECK_RC(tn_make_who(b, "B"), HX_OK);
	*sa = open_store(na);
	*sb = open_store(nb);
	hx_store *all[2] = { *sa, *sb };
	for (int i = 0; i < 2; i++) {
		CHECK_RC(hx_store_member_put(all[i], a->pk, a->rec, a->reclen), HX_OK);
		CHECK_RC(hx_store_member_put(all[i], b->pk, b->rec, b->reclen), HX_OK);
	}
	for (int i = 0; i < n; i += 1000)
		CHECK_RC(put(*sa, a, i, n - i < 1000 ? n - i : 1000), HX_OK);
}

static void quiet_initial_sync(void)
{
	enum { N = 3000 };
	struct who a, b;
	hx_store *sa, *sb;
	two_partners(&a, &b, &sa, &sb, "qa", "qb", N);
	char ea[64], eb[64];
	tn_free_endpoint(ea, sizeof ea);
	tn_free_endpoint(eb, sizeof eb);
	CHECK_RC(hx_peer_add(sb, ea, a.pk), HX_OK);
	CHECK_RC(hx_peer_add(sa, eb, b.pk), HX_OK);
	struct running ra, rb;
	/* an interval of 50 ms: many periodic reconciliations fall due while
	 * the entries move */
	start(&ra, sa, &a, "A", ea, 50, 0);
	start(&rb, sb, &b, "B", eb, 50, 0);
	CHECK(wait_entries(sb, N, 300));
	finish(&rb);
	finish(&ra);
	hx_peer_stats sta, stb;
	CHECK_RC(hx_stats_load(sa, b.pk, &sta), HX_OK);
	CHECK_RC(hx_stats_load(sb, a.pk, &stb), HX_OK);
	printf("quiet sync of %d entries: A sent %llu, B received %llu, B sent %llu\n", N,
	       (unsigned long long)sta.sent, (unsigned long long)stb.received,
	       (unsigned long long)stb.sent);
	CHECK(stb.received == N);
	CHECK(sta.sent == N);
	CHECK(stb.sent == 0);
	hx_store_close(&sa);
	hx_store_close(&sb);
	free(a.rec);
	free(b.rec);
}

/* A reconciliation's PUSHes fill a window of 60,000 entries and 32 MiB
 * of them (PROTOCOL.md §6.2): A, which has received nothing, pushes N
 * small entries to B while B cannot commit (the test holds B's store
 * write lock once the pushes have begun, so no ACK comes back). Every
 * entry B had not committed by then must be in flight at once. With the
 * bytes counted at the mean size of the entries A had received (a guess
 * of 2 KiB, as A received none) A stopped at 16,384 + 256, and B then had
 * nothing to verify while it committed. */
static void push_window(void)
{
	enum { N = 30000 };
	struct who a, b;
	hx_store *sa, *sb;
	two_partners(&a, &b, &sa, &sb, "pwa", "pwb", N);
	uint64_t base = entries(sb);
	char eb[64];
	tn_free_endpoint(eb, sizeof eb);
	CHECK_RC(hx_peer_add(sa, eb, b.pk), HX_OK); /* A connects: it reconciles, and pushes */
	struct running ra, rb;
	start(&rb, sb, &b, "B", eb, 600000, 600000);
	start(&ra, sa, &a, "A", NULL, 600000, 600000);
	double t0 = tn_wall();
	while (!hx_node_push_peak(ra.node) && tn_wall() - t0 < 120)
		usleep(1000);
	MDB_txn *hold;
	CHECK_RC(hx_txn_begin(sb, 0, &hold), HX_OK);
	uint64_t stored = entries(sb) - base; /* at B before the lock: acknowledged at most */
	while (hx_node_push_peak(ra.node) + stored < N && tn_wall() - t0 < 60)
		usleep(2000);
	uint64_t peak = hx_node_push_peak(ra.node);
	hx_txn_abort(sb, hold);
	printf("push window: %llu of %d in flight at once (%llu stored at B before its "
	       "commits stopped)\n",
	       (unsigned long long)peak, N, (unsigned long long)stored);
	CHECK(peak + stored >= N);
	CHECK(wait_entries(sb, base + N, 300));
	finish(&ra);
	finish(&rb);
	hx_store_close(&sa);
	hx_store_close(&sb);
	free(a.rec);
	free(b.rec);
}

/* B's commits that began after tail.from (tn_wall), read from its log. */
static struct {
	pthread_mutex_t mu;
	double from;
	int after, entries;
} tail = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void tail_log(void *label, const char *line)
{
	unsigned long k;
	double ms;
	double now = tn_wall();
	if (getenv("HX_TEST_LOG"))
		log_line(label, line);
	if (strcmp(label, "B") ||
	    sscanf(line, "committed %lu received entries (%*u batches) in %lf ms", &k, &ms) != 2)
		return;
	pthread_mutex_lock(&tail.mu);
	if (tail.from > 0 && now - ms / 1000 > tail.from) {
		tail.after++;
		tail.entries += (int)k;
	}
	pthread_mutex_unlock(&tail.mu);
}

/* The end of a transfer goes in one commit: B connects to A and asks for
 * A's N entries while the test holds B's write lock; once B has them all,
 * verified, and the lock is let go, B finishes the commit that waited for
 * it, then begins one more for everything else, not commits of 4,096,
 * 8,192 and 16,384 entries (the sizes a transfer's commits start with).
 * slow_ms: when a commit counts as slow (cfg.commit_slow_ms); with no live
 * write lately, slow commits shrink nothing (tail_commit_busy: every
 * commit is slow, as on a loaded machine). */
static void tail_commit_run(unsigned slow_ms)
{
	enum { N = 28000 };
	struct who a, b;
	hx_store *sa, *sb;
	char na[16], nb[16];
	snprintf(na, sizeof na, "tca%u", slow_ms);
	snprintf(nb, sizeof nb, "tcb%u", slow_ms);
	two_partners(&a, &b, &sa, &sb, na, nb, N);
	uint64_t base = entries(sb), taken = 0, verified, commits;
	char ea[64];
	tn_free_endpoint(ea, sizeof ea);
	CHECK_RC(hx_peer_add(sb, ea, a.pk), HX_OK); /* B connects: it reconciles, and asks */
	struct running ra, rb;
	start(&ra, sa, &a, "A", ea, 600000, 600000);
	capture = tail_log;
	commit_slow_ms = slow_ms;
	tail.from = 0;
	tail.after = tail.entries = 0;
	start(&rb, sb, &b, "B", NULL, 600000, 600000);
	capture = NULL;
	commit_slow_ms = 0;
	double t0 = tn_wall();
	while (!taken && tn_wall() - t0 < 120) {
		usleep(1000);
		hx_node_pipe_counts(rb.node, &taken, &verified, &commits);
	}
	MDB_txn *hold;
	CHECK_RC(hx_txn_begin(sb, 0, &hold), HX_OK);
	do {
		usleep(2000);
		hx_node_pipe_counts(rb.node, &taken, &verified, &commits);
	} while ((taken < N || verified < taken) && tn_wall() - t0 < 120);
	pthread_mutex_lock(&tail.mu);
	tail.from = tn_wall();
	pthread_mutex_unlock(&tail.mu);
	hx_txn_abort(sb, hold);
	CHECK(wait_entries(sb, base + N, 300));
	finish(&ra);
	finish(&rb);
	printf("tail commit: B had %llu entries verified when its lock was let go; %d commits "
	       "began after it, of %d entries\n",
	       (unsigned long long)verified, tail.after, tail.entries);
	CHECK(verified >= taken && taken >= N);
	CHECK(tail.after == 1);
	hx_store_close(&sa);
	hx_store_close(&sb);
	free(a.rec);
	free(b.rec);
}

static void tail_commit(void)
{
	tail_commit_run(600000);
}

static void tail_commit_busy(void)
{
	tail_commit_run(1);
}

static void wake_pushes(void)
{
	struct who a, b;
	hx_store *sa, *sb;
	two_partners(&a, &b, &sa, &sb, "wa", "wb", 0);
	CHECK(hx_store_wake_path(sa) != NULL);
	CHECK_RC(put(sa, &a, 0, 1), HX_OK);
	char ea[64];
	tn_free_endpoint(ea, sizeof ea);
	CHECK_RC(hx_peer_add(sb, ea, a.pk), HX_OK);
	struct running ra, rb;
	/* ten minutes: neither the change-log timer nor anti-entropy runs
	 * during the test; only the writer's wake-up can move the entry */
	start(&ra, sa, &a, "A", ea, 600000, 600000);
	start(&rb, sb, &b, "B", NULL, 600000, 600000);
	/* the first entry comes by the reconciliation on connect */
	CHECK(wait_entries(sb, 1, 120));
	CHECK_RC(put(sa, &a, 1, 1), HX_OK);
	CHECK(wait_entries(sb, 2, 60));
	CHECK_RC(put(sa, &a, 2, 3), HX_OK);
	CHECK(wait_entries(sb, 5, 60));
	finish(&rb);
	finish(&ra);
	CHECK(access(hx_store_wake_path(sa), F_OK) != 0); /* removed at exit */
	hx_store_close(&sa);
	hx_store_close(&sb);
	free(a.rec);
	free(b.rec);
}

/* A line A <- B <- C (B connects to A, C to B; A and B listen at ep),
 * three partners in stores PREFIX-a, -b, -c that list each other as
 * members, with n entries at A (numbered from first); base: B's entry
 * count before any arrives (the member records, if counted). */
struct line {
	struct who w[3];
	hx_store *s[3];
	struct running r[3];
	char ep[2][64];
	uint64_t base;
};

static void line_of_three(struct line *l, const char *prefix, int n, int first)
{
	char name[16];
	for (int i = 0; i < 3; i++) {
		CHECK_RC(tn_make_who(&l->w[i], (const char[]){ (char)('A' + i), 0 }), HX_OK);
		snprintf(name, sizeof name, "%s%c", prefix, 'a' + i);
		l->s[i] = open_store(name);
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			CHECK_RC(hx_store_member_put(l->s[i], l->w[j].pk, l->w[j].rec,
			                             l->w[j].reclen),
			         HX_OK);
	for (int i = 0; i < n; i += 3000)
		CHECK_RC(put(l->s[0], &l->w[0], first + i, n - i < 3000 ? n - i : 3000), HX_OK);
	l->base = entries(l->s[1]);
	for (int i = 0; i < 2; i++)
		tn_free_endpoint(l->ep[i], sizeof l->ep[i]);
	CHECK_RC(hx_peer_add(l->s[1], l->ep[0], l->w[0].pk), HX_OK);
	CHECK_RC(hx_peer_add(l->s[2], l->ep[1], l->w[1].pk), HX_OK);
}

static void line_stop(struct line *l)
{
	for (int i = 2; i >= 0; i--)
		finish(&l->r[i]);
}

/* Closes the three stores, each holding want entries. */
static void line_close(struct line *l, uint64_t want)
{
	for (int i = 0; i < 3; i++) {
		CHECK(entries(l->s[i]) == want);
		hx_store_close(&l->s[i]);
		free(l->w[i].rec);
	}
}

/* A live push during a bulk transfer (docs/PROTOCOL.md §6.4): B fetches
 * N entries from A, committed in bulk on B's writer thread, and relays
 * what it stores to C; an entry written at A while the transfer runs is
 * pushed to B, stored there in a transaction of its own (not behind the
 * bulk batches received before it) and relayed to C, within a deadline.
 * Nothing moves twice: A sent N + 1 entries to B, B received N + 1. */
static void push_during_bulk(void)
{
	enum { N = 12000 };
	struct line l;
	line_of_three(&l, "pb", N, 50000);
	/* C first, so that it is up at B when the transfer begins; the
	 * intervals are long: only the first reconciliation and pushes run;
	 * B commits at most 2,000 entries at once, so that N makes many */
	commit_entries = 2000;
	start(&l.r[2], l.s[2], &l.w[2], "C", NULL, 600000, 600000);
	start(&l.r[0], l.s[0], &l.w[0], "A", l.ep[0], 600000, 600000);
	start(&l.r[1], l.s[1], &l.w[1], "B", l.ep[1], 600000, 600000);
	commit_entries = 0;
	double t0 = tn_wall();
	while (entries(l.s[1]) == l.base && tn_wall() - t0 < 120)
		usleep(2000);
	uint64_t at_write = entries(l.s[1]);
	CHECK(at_write > l.base); /* the transfer runs */
	hx_entry e;
	size_t len, added;
	uint8_t *raw = sign(&l.w[0], 1, &len, &e);
	CHECK(raw != NULL);
	hx_put p = { .raw = raw, .rawlen = len, .entry = &e };
	CHECK_RC(hx_store_put_batch(l.s[0], &p, 1, 0, &added), HX_OK);
	double t1 = tn_wall();
	int at_b = 0, at_c = 0;
	uint64_t at_stored = 0;
	double tb = 0;
	while ((!at_b || !at_c) && tn_wall() - t1 < 120) {
		if (!at_b && hx_store_get(l.s[1], e.id, NULL, NULL, NULL) == HX_OK) {
			at_b = 1;
			at_stored = entries(l.s[1]);
			tb = tn_wall() - t1;
		}
		at_c = at_c || hx_store_get(l.s[2], e.id, NULL, NULL, NULL) == HX_OK;
		if (at_b && at_c)
			break;
		usleep(2000);
	}
	printf("push during a bulk transfer: written when B had %llu of %d, stored at B in %.2f s "
	       "(when B had %llu), at C in %.2f s\n",
	       (unsigned long long)(at_write - l.base), N, tb,
	       (unsigned long long)(at_stored - l.base), tn_wall() - t1);
	CHECK(at_b && at_c);
	CHECK(wait_entries(l.s[1], l.base + N + 1, 300));
	CHECK(wait_entries(l.s[2], l.base + N + 1, 300));
	line_stop(&l);
	hx_peer_stats ab, ba;
	CHECK_RC(hx_stats_load(l.s[0], l.w[1].pk, &ab), HX_OK);
	CHECK_RC(hx_stats_load(l.s[1], l.w[0].pk, &ba), HX_OK);
	printf("  A sent B %llu, B received from A %llu\n", (unsigned long long)ab.sent,
	       (unsigned long long)ba.received);
	CHECK(ab.sent == N + 1);
	CHECK(ba.received == N + 1);
	hx_entry_clear(&e);
	free(raw);
	line_close(&l, l.base + N + 1);
}

/* A relay target slower than its relay (docs/PROTOCOL.md §6.3): B
 * fetches N entries from A and relays them to C while C's loop stands
 * still (the test holds C's store write lock, so C blocks in its first
 * commit). B pushes what came in bulk while no push to C is in flight
 * and announces the rest: more ids than C keeps to ask for one by one,
 * which C reads in one go once it moves again. What is over its backlog must make C reconcile once
 * the transfers rest (it was dropped, and with ten-minute intervals C lacked it for ten minutes:
 * 9,216 of 10,500 before either change). An ACK timeout (15 s) would also lead to a reconciliation:
 * the lock is held only until B has the entries, a few seconds. */
static void stalled_relay_target(void)
{
	enum { N = 10500 };
	struct line l;
	line_of_three(&l, "st", N, 70000);
	/* B and C first, reconciled (nothing to move), then C stalls */
	start(&l.r[2], l.s[2], &l.w[2], "C", NULL, 600000, 600000);
	start(&l.r[1], l.s[1], &l.w[1], "B", l.ep[1], 600000, 600000);
	hx_peer_stats cb = { 0 };
	double t0 = tn_wall();
	while (!(hx_stats_load(l.s[2], l.w[1].pk, &cb) == HX_OK && cb.recon_ok) &&
	       tn_wall() - t0 < 120)
		usleep(20000);
	CHECK(cb.recon_ok > 0);
	MDB_txn *hold = NULL;
	CHECK_RC(hx_txn_begin(l.s[2], 0, &hold), HX_OK);
	start(&l.r[0], l.s[0], &l.w[0], "A", l.ep[0], 600000, 600000);
	CHECK(wait_entries(l.s[1], l.base + N, 300));
	if (hold)
		hx_txn_abort(l.s[2], hold);
	int all = wait_entries(l.s[2], l.base + N, 120);
	printf("relay to a stalled node: C has %llu of %d\n",
	       (unsigned long long)(entries(l.s[2]) - l.base), N);
	CHECK(all);
	line_stop(&l);
	line_close(&l, l.base + N);
}

/* Bodies (entries in PUSH or ENTRIES) all nodes sent to each other. */
static uint64_t bodies_sent(hx_store **s, struct who *w, int n)
{
	uint64_t t = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			hx_peer_stats st;
			if (i != j && hx_stats_load(s[i], w[j].pk, &st) == HX_OK)
				t += st.sent;
		}
	return t;
}

/* A triangle A, B, C (B and C connect to A, C to B), or a mesh of ten
 * (a ring, each node connecting to the one before it and J to A, and five
 * chords i to i + 5: three members each); N entries published one after
 * the other, each awaited everywhere. A relay is not pushed to a member
 * that sent the entry already, and ANNOUNCE makes redundant edges carry
 * ids only: close to one body per entry and receiving node, where pushing
 * every relay sends 4 N in the triangle. The mode: TRI_NEW, every entry at
 * A; TRI_OLD_C, the same with C acting as a node without ANNOUNCE (PUSH
 * alone), which still gets everything; TRI_ROUND, in the mesh, at every
 * node in turn: a node's own writes go along the tree too (ANNOUNCE to a
 * lazy member), else each one pushed to a lazy member meets the relay of
 * another along the tree there (PROTOCOL.md §6.3). */
enum { TRI_NEW, TRI_OLD_C, TRI_ROUND };
static int tri_edge(int mode, int nn, int i, int j)
{
	return mode != TRI_ROUND || i - j == 1 || (i == nn - 1 && j == 0) || i - j == nn / 2;
}

static void triangle(int mode)
{
	enum { MAXN = 10 };
	int old_c = mode == TRI_OLD_C, nn = mode == TRI_ROUND ? 10 : 3,
	    N = mode == TRI_ROUND ? 60 : 20;
	struct who w[MAXN];
	hx_store *s[MAXN];
	struct running r[MAXN];
	char ep[MAXN][64], name[16];
	for (int i = 0; i < nn; i++) {
		CHECK_RC(tn_make_who(&w[i], (const char[]){ (char)('A' + i), 0 }), HX_OK);
		snprintf(name, sizeof name, "t%d%c", mode, 'a' + i);
		s[i] = open_store(name);
		tn_free_endpoint(ep[i], sizeof ep[i]);
	}
	for (int i = 0; i < nn; i++)
		for (int j = 0; j < nn; j++)
			CHECK_RC(hx_store_member_put(s[i], w[j].pk, w[j].rec, w[j].reclen), HX_OK);
	for (int i = 0; i < nn; i++)
		for (int j = 0; j < i; j++)
			if (tri_edge(mode, nn, i, j))
				CHECK_RC(hx_peer_add(s[i], ep[j], w[j].pk), HX_OK);
	static const char *const label[MAXN] = { "A", "B", "C", "D", "E", "F", "G", "H", "I", "J" };
	for (int i = 0; i < nn; i++) {
		hx_node_config cfg = { .log = getenv("HX_TEST_LOG") ? log_line : NULL,
			               .log_arg = (void *)label[i],
			               .verbose = getenv("HX_TEST_LOG") != NULL,
			               .pk = w[i].pk,
			               .sk = w[i].sk,
			               .curve_pk = w[i].cpk,
			               .curve_sk = w[i].csk,
			               .bind = ep[i],
			               .no_announce = old_c && i == 2 };
		CHECK_RC(tn_start(&r[i], s[i], &cfg), HX_OK);
	}
	double t0 = tn_wall();
	for (int up = 0, all = 1; up < all && tn_wall() - t0 < 60; usleep(20000)) {
		hx_peer_stats x;
		up = all = 0;
		for (int i = 0; i < nn; i++)
			for (int j = 0; j < i; j++)
				if (tri_edge(mode, nn, i, j)) {
					all++;
					up += !hx_stats_load(s[i], w[j].pk, &x) && x.connected;
				}
	}
	uint64_t base = entries(s[0]); /* the member records, if counted */
	for (int i = 0; i < N; i++) {
		int at = mode == TRI_ROUND ? (i * 3) % nn : 0;
		CHECK_RC(put(s[at], &w[at], 100 * mode + i, 1), HX_OK);
		for (int j = 0; j < nn; j++)
			CHECK(wait_entries(s[j], base + (uint64_t)i + 1, 60));
	}
	for (int i = nn - 1; i >= 0; i--)
		finish(&r[i]);
	uint64_t sent = bodies_sent(s, w, nn), least = (uint64_t)N * (nn - 1);
	printf("%s%s: %d entries %s, %llu bodies sent in all (%llu needed)\n",
	       nn == 3 ? "triangle" : "mesh of 10", old_c ? " (C without ANNOUNCE)" : "", N,
	       mode == TRI_ROUND ? "from each node in turn" : "from A", (unsigned long long)sent,
	       (unsigned long long)least);
	CHECK(sent >= least);
	/* pushing every relay sends 4 N. About 2 N on a quiet machine; under
	 * load B's relay to C can still race A's push to C before the edge
	 * turns lazy (53-62 bodies seen at a load of 9-12), hence less than
	 * 3.5 N */
	if (mode == TRI_NEW)
		CHECK(sent < (uint64_t)(3 * N + N / 2));
	/* in the mesh, 552-568 bodies for 540 needed (ASan with two busy
	 * loops alongside included); 623-625 with the code before own writes
	 * went as ANNOUNCE to lazy members, 668 with that rule alone taken
	 * out */
	if (mode == TRI_ROUND)
		CHECK(sent < least + (uint64_t)N * 3 / 4);
	for (int i = 0; i < nn; i++) {
		CHECK(entries(s[i]) == base + N);
		hx_store_close(&s[i]);
		free(w[i].rec);
	}
}

static void triangle_new(void)
{
	triangle(TRI_NEW);
}

static void triangle_old(void)
{
	triangle(TRI_OLD_C);
}

static void triangle_round(void)
{
	triangle(TRI_ROUND);
}

/* The push-latency record (docs/FORMAT.md §3): a round trip, and a record
 * of another length, version or bucket count is read as empty. */
static void push_hist_codec(void)
{
	hx_push_hist h = { 0 }, g;
	uint8_t b[HX_PUSH_HIST_LEN + 1];
	hx_push_hist_add(&h, 0);                    /* first bucket: le 0.005 */
	hx_push_hist_add(&h, 5000);                 /* the bound belongs to its bucket */
	hx_push_hist_add(&h, 5001);                 /* le 0.01 */
	hx_push_hist_add(&h, 60000000);             /* le 60 */
	hx_push_hist_add(&h, UINT64_C(3600000000)); /* +Inf */
	CHECK(h.count == 5 && h.bucket[0] == 2 && h.bucket[1] == 1);
	CHECK(h.bucket[HX_PUSH_HIST_N - 2] == 1 && h.bucket[HX_PUSH_HIST_N - 1] == 1);
	CHECK(h.sum_us == 0 + 5000 + 5001 + 60000000 + UINT64_C(3600000000));
	hx_push_hist_encode(&h, b);
	CHECK(b[0] == 1 && b[1] == HX_PUSH_HIST_N && b[9] == 5); /* BE count */
	CHECK_RC(hx_push_hist_decode(&g, b, HX_PUSH_HIST_LEN), HX_OK);
	CHECK(!memcmp(&g, &h, sizeof h));
	CHECK_RC(hx_push_hist_decode(&g, b, HX_PUSH_HIST_LEN - 1), HX_ECORRUPT);
	CHECK(g.count == 0);
	CHECK_RC(hx_push_hist_decode(&g, b, HX_PUSH_HIST_LEN + 1), HX_ECORRUPT);
	CHECK(g.count == 0);
	b[0] = 2;
	CHECK_RC(hx_push_hist_decode(&g, b, HX_PUSH_HIST_LEN), HX_ECORRUPT);
	CHECK(g.count == 0);
	/* through the store: none, then a record, then one of another length */
	hx_store *s = open_store("wh");
	CHECK_RC(hx_push_hist_get(s, &g), HX_OK);
	CHECK(g.count == 0);
	CHECK_RC(hx_push_hist_put(s, &h), HX_OK);
	CHECK_RC(hx_push_hist_get(s, &g), HX_OK);
	CHECK(!memcmp(&g, &h, sizeof h));
	CHECK_RC(hx_store_kv_put(s, "push-latency", "\x01\x0e", 2), HX_OK);
	CHECK_RC(hx_push_hist_get(s, &g), HX_OK);
	CHECK(g.count == 0);
	hx_store_close(&s);
}

/* This binary runs nodes in-process but does not host the extractor's
 * worker (no hx_extract_dispatch): an extraction is one clear error, not
 * this program started again as its own worker (which re-ran main, whose
 * nodes extracted again, and so on). */
static void no_self_worker(void)
{
	char path[600];
	struct hx_extract_limits lim;
	hx_extract_result r;
	snprintf(path, sizeof path, "%s/note.txt", tmpdir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("plain text\n", f);
	fclose(f);
	hx_extract_limits_default(&lim);
	CHECK(hx_extract_path(path, NULL, NULL, &lim, &r) != HX_OK);
	CHECK(strstr(r.why, "does not host the worker") != NULL);
	hx_extract_result_free(&r);
}

static volatile int recon_lines; /* B's "reconciled with" log lines */

static void count_recon(void *arg, const char *line)
{
	(void)arg;
	if (strstr(line, "reconciled with"))
		__atomic_add_fetch(&recon_lines, 1, __ATOMIC_SEQ_CST);
}

/* Routine reconciliations (both sides as before) are not written one by
 * one (an idle node would commit a dozen times a minute): while the nodes
 * run, B's stored count stays at the first one; when B stops, it is
 * written whole (node/session.c, recon_stats). */
static void routine_stats(void)
{
	struct who a, b;
	hx_store *sa, *sb;
	two_partners(&a, &b, &sa, &sb, "ra", "rb", 0);
	CHECK_RC(put(sa, &a, 0, 5), HX_OK);
	char ea[64];
	tn_free_endpoint(ea, sizeof ea);
	CHECK_RC(hx_peer_add(sb, ea, a.pk), HX_OK);
	struct running ra, rb;
	start(&ra, sa, &a, "A", ea, 100, 0);
	hx_node_config cfg = {
		.log = count_recon,
		.verbose = 1, /* every reconciliation is logged */
		.pk = b.pk,
		.sk = b.sk,
		.curve_pk = b.cpk,
		.curve_sk = b.csk,
		.recon_interval_ms = 100,
	};
	CHECK_RC(tn_start(&rb, sb, &cfg), HX_OK);
	CHECK(wait_entries(sb, 5, 120));
	double t0 = tn_wall();
	while (__atomic_load_n(&recon_lines, __ATOMIC_SEQ_CST) < 12 && tn_wall() - t0 < 120)
		usleep(20000);
	hx_peer_stats st;
	CHECK_RC(hx_stats_load(sb, a.pk, &st), HX_OK);
	int seen = __atomic_load_n(&recon_lines, __ATOMIC_SEQ_CST);
	printf("routine reconciliations: %d logged at B, %llu written while it runs\n", seen,
	       (unsigned long long)st.recon_ok);
	CHECK(seen >= 12);
	CHECK(st.recon_ok >= 1 && st.recon_ok <= 4); /* the first ones moved entries */
	finish(&rb);
	seen = __atomic_load_n(&recon_lines, __ATOMIC_SEQ_CST);
	CHECK_RC(hx_stats_load(sb, a.pk, &st), HX_OK);
	printf("  after B stopped: %d logged, %llu written\n", seen,
	       (unsigned long long)st.recon_ok);
	CHECK(st.recon_ok == (uint64_t)seen);
	finish(&ra);
	hx_store_close(&sa);
	hx_store_close(&sb);
	free(a.rec);
	free(b.rec);
}

/* The node of the store s has w up and has reconciled with it. */
static int reconciled_with(hx_store *s, const struct who *w)
{
	hx_peer_stats x;
	return !hx_stats_load(s, w->pk, &x) && x.connected && x.recon_ok >= 1;
}

/* A member's connection closes while another of its stays, as when a
 * `hansa sync` process of B goes while B's daemon stays: here B1 and B2,
 * a second node with B's keys and a store of its own, both connect to A.
 * A learns of the close at once (router.c: the ROUTER's monitor names the
 * descriptor, and a PING to the connection fails), and what went out on
 * the closed connection, or came in on it, reaches the one that stays: A
 * reconciles with B1 when B2 goes. B2 writes an entry (A stores it and relays it to
 * no one: the member it came from is B), then A writes one, which goes as
 * ANNOUNCE (members start lazy at A: cfg.start_lazy) on one of the two
 * connections; the periodic interval is 10 minutes. B1 gets both only
 * through that reconciliation (without it, one or both stay away). */
static void closed_connection(void)
{
	struct who a, b;
	hx_store *sa, *sb1, *sb2;
	two_partners(&a, &b, &sa, &sb1, "cca", "ccb1", 0);
	sb2 = open_store("ccb2");
	CHECK_RC(hx_store_member_put(sb2, a.pk, a.rec, a.reclen), HX_OK);
	CHECK_RC(hx_store_member_put(sb2, b.pk, b.rec, b.reclen), HX_OK);
	uint64_t base = entries(sb1), base_a = entries(sa);
	char ea[64];
	tn_free_endpoint(ea, sizeof ea);
	CHECK_RC(hx_peer_add(sb1, ea, a.pk), HX_OK);
	CHECK_RC(hx_peer_add(sb2, ea, a.pk), HX_OK);
	struct running ra, rb1, rb2;
	start(&rb1, sb1, &b, "B1", NULL, 600000, 0);
	start(&rb2, sb2, &b, "B2", NULL, 600000, 0);
	start_lazy = 1;
	start(&ra, sa, &a, "A", ea, 600000, 0);
	start_lazy = 0;
	double t0 = tn_wall();
	while (!(reconciled_with(sb1, &a) && reconciled_with(sb2, &a)) && tn_wall() - t0 < 60)
		usleep(20000);
	CHECK(reconciled_with(sb1, &a) && reconciled_with(sb2, &a));
	CHECK_RC(put(sb2, &b, 0, 1), HX_OK); /* B2's write, pushed to A */
	CHECK(wait_entries(sa, base_a + 1, 60));
	CHECK_RC(put(sa, &a, 1, 1), HX_OK); /* A's own write */
	while (!hx_node_announced(ra.node) && tn_wall() - t0 < 60)
		usleep(2000);
	uint64_t announced = hx_node_announced(ra.node);
	finish(&rb2);
	int arrived = wait_entries(sb1, base + 2, 20); /* 35 s of silence without the PING */
	printf("closed connection: A announced %llu id(s); B1 has %llu of 2 entries after B2 "
	       "went\n",
	       (unsigned long long)announced, (unsigned long long)(entries(sb1) - base));
	CHECK(announced == 1);
	CHECK(arrived);
	finish(&rb1);
	finish(&ra);
	hx_store_close(&sa);
	hx_store_close(&sb1);
	hx_store_close(&sb2);
	free(a.rec);
	free(b.rec);
}

/* A WANT that a reconciliation sends does not graft (PROTOCOL.md §6.3):
 * B, new, fetches A's N entries by WANT; members start lazy at A
 * (cfg.start_lazy), and stay so, so A's next own write goes to B as
 * ANNOUNCE (B asks for it 15 ms later, a graft), not as PUSH. */
static void recon_want_no_graft(void)
{
	enum { N = 50 };
	struct who a, b;
	hx_store *sa, *sb;
	two_partners(&a, &b, &sa, &sb, "rga", "rgb", N);
	uint64_t base = entries(sb);
	char ea[64];
	tn_free_endpoint(ea, sizeof ea);
	CHECK_RC(hx_peer_add(sb, ea, a.pk), HX_OK); /* B connects: it reconciles, and asks */
	struct running ra, rb;
	start_lazy = 1;
	start(&ra, sa, &a, "A", ea, 600000, 0);
	start_lazy = 0;
	start(&rb, sb, &b, "B", NULL, 600000, 0);
	CHECK(wait_entries(sb, base + N, 60));
	uint64_t before = hx_node_announced(ra.node);
	CHECK_RC(put(sa, &a, N, 1), HX_OK); /* A's own write */
	CHECK(wait_entries(sb, base + N + 1, 60));
	uint64_t after = hx_node_announced(ra.node);
	printf("reconciliation's WANT: A announced %llu id(s) before its write, %llu after\n",
	       (unsigned long long)before, (unsigned long long)after);
	CHECK(before == 0 && after == 1);
	finish(&rb);
	finish(&ra);
	hx_store_close(&sa);
	hx_store_close(&sb);
	free(a.rec);
	free(b.rec);
}

/* With an argument, only the case of that name runs (e.g. `test_sync
 * stalled_relay_target`, to repeat one under load). */
int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} cases[] = {
		{ "no_self_worker", no_self_worker },
		{ "push_hist_codec", push_hist_codec },
		{ "wake_pushes", wake_pushes },
		{ "quiet_initial_sync", quiet_initial_sync },
		{ "push_window", push_window },
		{ "tail_commit", tail_commit },
		{ "tail_commit_busy", tail_commit_busy },
		{ "push_during_bulk", push_during_bulk },
		{ "stalled_relay_target", stalled_relay_target },
		{ "triangle", triangle_new },
		{ "triangle_old_c", triangle_old },
		{ "triangle_round", triangle_round },
		{ "routine_stats", routine_stats },
		{ "closed_connection", closed_connection },
		{ "recon_want_no_graft", recon_want_no_graft },
	};
	int ran = 0;
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		return 1;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (argc < 2 || !strcmp(argv[1], cases[i].name)) {
			cases[i].run();
			ran++;
		}
	rmtree(tmpdir);
	if (!ran) {
		fprintf(stderr, "test_sync: no case named %s\n", argv[1]);
		return 2;
	}
	return check_done();
}
