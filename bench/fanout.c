/*
 * fanout.c (bench_fanout): how fast and how cheaply a new entry spreads
 * through a mesh, on 127.0.0.1, with nodes running in threads of this
 * process (tests/threadnodes.h):
 *   - 20 nodes, all members of each other, in a seeded random sparse mesh
 *     (a random tree plus random extra edges, about 3 edges per node; the
 *     lower-numbered node of an edge listens, the other connects);
 *   - 50 publishes, each at a random node, spaced apart: the time from the
 *     end of the publish's commit until every node's store has the entry
 *     (p50, p90, max), and the bytes of entry-moving messages (WANT,
 *     ENTRIES, ANNOUNCE, PUSH: headers and entry frames, as the nodes count
 *     them) per publish per receiving node, divided by the entry's size;
 *   - the same mesh with every node acting as one without ANNOUNCE
 *     (PUSH to every neighbour, the anchor these figures are read against);
 *   - the cost of one synced LMDB commit of one entry (each hop commits
 *     once, with fsync, before the entry counts as stored there), and of
 *     a bare write + fdatasync of 4 KiB on the same disk.
 *
 *   bench_fanout [NODES [PUBLISHES [SEED]]]
 *
 * Prints the load average before and after. Nothing here fails on speed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "tests/threadnodes.h"

#define MAXN 64
#define BODY_LEN 1000 /* about the size of a short knowledge entry */

static char tmpdir[] = "/tmp/hx-bench-fanout.XXXXXX";

static void die(const char *what, int rc) __attribute__((noreturn));
static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_fanout: %s: %s\n", what, rc ? hx_strerror(rc) : "failed");
	exit(1);
}

static void load(const char *when)
{
	char b[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(b, sizeof b, f))
			b[0] = 0;
		fclose(f);
	}
	b[strcspn(b, "\n")] = 0;
	printf("load average %s: %s\n", when, b);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static hx_store *open_store(const char *name)
{
	hx_store *s;
	int rc = tn_open_store(&s, tmpdir, name);
	if (rc)
		die("store", rc);
	return s;
}

/* A signed entry of about BODY_LEN bytes of text by w. */
static uint8_t *make_entry(const struct who *w, int i, const char *tag, size_t *len, hx_entry *e)
{
	char path[64], title[64], body[BODY_LEN + 1];
	snprintf(path, sizeof path, "bench/fanout-%s-%d", tag, i);
	snprintf(title, sizeof title, "Fan-out probe %d", i);
	for (size_t k = 0; k < BODY_LEN; k++)
		body[k] = "abcdefghij klmnopqrstuvwxyz. "[(k * 7 + (size_t)i) % 29];
	body[BODY_LEN] = 0;
	hx_entry d = { .path = path,
		       .kind = "practice",
		       .title = title,
		       .body = body,
		       .lang = "en",
		       .timestamp = hx_now_us() };
	uint8_t *raw;
	int rc = hx_entry_sign(&d, w->sk, &raw, len);
	if (rc || (rc = hx_entry_decode(e, raw, *len)))
		die("entry", rc);
	return raw;
}

struct mesh {
	int n;
	int edges;
	int a[4 * MAXN], b[4 * MAXN]; /* b connects to a (a < b) */
};

static int has_edge(const struct mesh *m, int x, int y)
{
	for (int i = 0; i < m->edges; i++)
		if ((m->a[i] == x && m->b[i] == y) || (m->a[i] == y && m->b[i] == x))
			return 1;
	return 0;
}

/* A random tree (connected) plus random edges up to 3 * n / 2 in all. */
static void make_mesh(struct mesh *m, int n, unsigned seed)
{
	srand(seed);
	m->n = n;
	m->edges = 0;
	for (int i = 1; i < n; i++) {
		m->a[m->edges] = rand() % i;
		m->b[m->edges++] = i;
	}
	while (m->edges < 3 * n / 2 && m->edges < n * (n - 1) / 2) {
		int x = rand() % n, y = rand() % n;
		if (x == y || has_edge(m, x, y))
			continue;
		m->a[m->edges] = x < y ? x : y;
		m->b[m->edges++] = x < y ? y : x;
	}
}

struct result {
	double p50, p90, max, bytes_ratio, per_node_bytes;
	int got, publishes;
	size_t entry_len;
};

/* HX_BENCH_LOG=1: the nodes' log lines on stderr, with the node's number
 * (verbose with HX_BENCH_LOG=2). */
static char node_no[MAXN][12];
static void log_line(void *arg, const char *line)
{
	fprintf(stderr, "[%.3f] node %s: %s\n", tn_wall(), (const char *)arg, line);
}

static void run(const struct mesh *m, struct who *w, int publishes, int no_announce,
                const char *tag, struct result *res)
{
	const char *logging = getenv("HX_BENCH_LOG");
	for (int i = 0; i < m->n; i++)
		snprintf(node_no[i], sizeof node_no[i], "%d", i);
	int n = m->n;
	hx_store *st[MAXN];
	struct running rn[MAXN];
	char ep[MAXN][64];
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, "%s-%d", tag, i);
		st[i] = open_store(name);
		for (int j = 0; j < n; j++)
			if (hx_store_member_put(st[i], w[j].pk, w[j].rec, w[j].reclen))
				die("member", 0);
		int port = tn_free_port();
		if (!port)
			die("free port", 0);
		snprintf(ep[i], sizeof ep[i], "tcp://127.0.0.1:%d", port);
	}
	for (int e = 0; e < m->edges; e++)
		if (hx_peer_add(st[m->b[e]], ep[m->a[e]], w[m->a[e]].pk))
			die("peer", 0);
	for (int i = 0; i < n; i++) {
		hx_node_config cfg = { .pk = w[i].pk,
			               .sk = w[i].sk,
			               .curve_pk = w[i].cpk,
			               .curve_sk = w[i].csk,
			               .bind = ep[i],
			               .log = logging ? log_line : NULL,
			               .log_arg = (void *)node_no[i],
			               .verbose = logging && !strcmp(logging, "2"),
			               .threads = 1,
			               .no_announce = no_announce };
		int rc = tn_start(&rn[i], st[i], &cfg);
		if (rc)
			die("node", rc);
	}
	/* every edge up at both ends (the node writes "connected" at once) */
	double t0 = tn_wall();
	for (;;) {
		int up = 0;
		for (int e = 0; e < m->edges; e++) {
			hx_peer_stats s1, s2;
			up += !hx_stats_load(st[m->a[e]], w[m->b[e]].pk, &s1) && s1.connected &&
			      !hx_stats_load(st[m->b[e]], w[m->a[e]].pk, &s2) && s2.connected;
		}
		if (up == m->edges)
			break;
		if (tn_wall() - t0 > 60) {
			for (int e = 0; e < m->edges; e++) {
				hx_peer_stats s1, s2;
				int a = !hx_stats_load(st[m->a[e]], w[m->b[e]].pk, &s1) &&
				        s1.connected;
				int b = !hx_stats_load(st[m->b[e]], w[m->a[e]].pk, &s2) &&
				        s2.connected;
				if (!a || !b)
					fprintf(stderr,
					        "bench_fanout: edge %d-%d (%d dials): %s at %d, %s at %d\n",
					        m->a[e], m->b[e], m->b[e], a ? "up" : "down",
					        m->a[e], b ? "up" : "down", m->b[e]);
			}
			for (int i = 0; i < n; i++)
				if (__atomic_load_n(&rn[i].done, __ATOMIC_ACQUIRE))
					fprintf(stderr, "bench_fanout: node %d stopped: %s\n", i,
					        hx_node_error(rn[i].node));
			die("the mesh did not come up in 60 s", 0);
		}
		usleep(20000);
	}
	usleep(500000); /* the first reconciliations (nothing to move) end */

	double *lat = calloc((size_t)publishes, sizeof *lat);
	uint64_t bytes0 = 0, bytes1 = 0;
	size_t entry_len = 0;
	int got = 0;
	for (int i = 0; i < n; i++)
		bytes0 += hx_node_entry_bytes(rn[i].node);
	for (int p = 0; p < publishes; p++) {
		int at = (int)randombytes_uniform((uint32_t)n);
		hx_entry e;
		size_t len, added;
		uint8_t *raw = make_entry(&w[at], p, tag, &len, &e);
		hx_put put = { .raw = raw, .rawlen = len, .entry = &e };
		entry_len = len;
		if (hx_store_put_batch(st[at], &put, 1, 0, &added) || put.result)
			die("publish", put.result);
		double start = tn_wall(), last = start;
		int have[MAXN] = { 0 }, left = n - 1;
		have[at] = 1;
		while (left && tn_wall() - start < 10) {
			for (int i = 0; i < n; i++) {
				if (!have[i] &&
				    hx_store_get(st[i], e.id, NULL, NULL, NULL) == HX_OK) {
					have[i] = 1;
					left--;
					last = tn_wall();
				}
			}
			if (left)
				usleep(200);
		}
		if (left)
			fprintf(stderr,
			        "bench_fanout: publish %d reached only %d of %d nodes in 10 s\n", p,
			        n - left, n);
		else
			lat[got++] = (last - start) * 1e3;
		hx_entry_clear(&e);
		free(raw);
		usleep(50000 + randombytes_uniform(50000)); /* spaced apart */
	}
	usleep(300000); /* late duplicates, if any, counted too */
	for (int i = 0; i < n; i++)
		bytes1 += hx_node_entry_bytes(rn[i].node);
	for (int i = 0; i < n; i++)
		(void)tn_stop(&rn[i]);
	for (int i = 0; i < n; i++)
		hx_store_close(&st[i]);
	qsort(lat, (size_t)got, sizeof *lat, cmp_double);
	res->got = got;
	res->publishes = publishes;
	res->entry_len = entry_len;
	res->p50 = got ? lat[got / 2] : 0;
	res->p90 = got ? lat[(got * 9) / 10 < got ? (got * 9) / 10 : got - 1] : 0;
	res->max = got ? lat[got - 1] : 0;
	res->per_node_bytes = (double)(bytes1 - bytes0) / publishes / (n - 1);
	res->bytes_ratio = res->per_node_bytes / (double)entry_len;
	free(lat);
}

static void print(const char *what, const struct result *r)
{
	printf("%s: %d of %d publishes everywhere; p50 %.1f ms, p90 %.1f ms, max %.1f ms;\n"
	       "  %.0f bytes per publish per receiving node = %.2f x the entry (%zu bytes)\n",
	       what, r->got, r->publishes, r->p50, r->p90, r->max, r->per_node_bytes,
	       r->bytes_ratio, r->entry_len);
}

/* One synced commit of one entry (put_batch: entry, index, fingerprints,
 * change log), median of 30, and a 4 KiB write + fdatasync. */
static void fsync_cost(const struct who *w)
{
	hx_store *s = open_store("fsync");
	if (hx_store_member_put(s, w->pk, w->rec, w->reclen))
		die("member", 0);
	double c[30], f[30];
	for (int i = 0; i < 30; i++) {
		hx_entry e;
		size_t len, added;
		uint8_t *raw = make_entry(w, i, "fsync", &len, &e);
		hx_put put = { .raw = raw, .rawlen = len, .entry = &e };
		double t0 = tn_wall();
		if (hx_store_put_batch(s, &put, 1, HX_PUT_NO_WAKE, &added) || put.result)
			die("commit", put.result);
		c[i] = (tn_wall() - t0) * 1e3;
		hx_entry_clear(&e);
		free(raw);
	}
	hx_store_close(&s);
	char path[256], buf[4096];
	snprintf(path, sizeof path, "%s/fsync.bin", tmpdir);
	memset(buf, 'x', sizeof buf);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("fsync file", 0);
	for (int i = 0; i < 30; i++) {
		double t0 = tn_wall();
		if (pwrite(fd, buf, sizeof buf, (off_t)i * 4096) != (ssize_t)sizeof buf ||
		    fdatasync(fd))
			die("fdatasync", 0);
		f[i] = (tn_wall() - t0) * 1e3;
	}
	close(fd);
	qsort(c, 30, sizeof *c, cmp_double);
	qsort(f, 30, sizeof *f, cmp_double);
	printf("per hop, on this disk: one synced commit of one entry p50 %.2f ms (max %.2f); "
	       "4 KiB write + fdatasync p50 %.2f ms\n",
	       c[15], c[29], f[15]);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20, publishes = argc > 2 ? atoi(argv[2]) : 50;
	unsigned seed = argc > 3 ? (unsigned)atoi(argv[3]) : 12;
	if (n < 2 || n > MAXN || publishes < 1)
		die("usage: bench_fanout [NODES (2..64) [PUBLISHES [SEED]]]", 0);
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		die("setup", 0);
	struct who w[MAXN];
	for (int i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof name, "N%d", i);
		if (tn_make_who(&w[i], name))
			die("member record", 0);
	}
	struct mesh m;
	make_mesh(&m, n, seed);
	load("before");
	printf("mesh: %d nodes, %d edges (seed %u), %d publishes at random nodes\n", n, m.edges,
	       seed, publishes);
	fsync_cost(&w[0]);
	struct result ann, push;
	run(&m, w, publishes, 0, "ann", &ann);
	print("announce (ids first, bodies on request; the publisher pushes to eager members)",
	      &ann);
	run(&m, w, publishes, 1, "push", &push);
	print("anchor: push to every neighbour (nodes without ANNOUNCE)", &push);
	printf("ratios announce / push: p50 %.2f, max %.2f, bytes %.2f\n",
	       push.p50 > 0 ? ann.p50 / push.p50 : 0, push.max > 0 ? ann.max / push.max : 0,
	       push.bytes_ratio > 0 ? ann.bytes_ratio / push.bytes_ratio : 0);
	load("after");
	for (int i = 0; i < n; i++)
		free(w[i].rec);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	(void)!system(cmd);
	return 0;
}
