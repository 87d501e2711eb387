/*
 * sync.c (bench_sync): replication speed, with anchors measured in the same
 * run, on 127.0.0.1 with nodes running in threads of this process:
 *   1. propagation latency publish -> visible two hops away: nodes A <- B <- C
 *      (B connects to A, C to B); an entry is signed and committed at A and
 *      the clock stops when C's store has it; p50 and p99 over many entries;
 *   2. initial sync throughput: a slice of the corpus, published by 5
 *      partner keys (the corpus `org` values mapped onto them) into node D,
 *      fetched by an empty node E, both serving and each the other's peer
 *      (anti-entropy every 2 s, so that it falls due during the transfer);
 *      entries/s next to the raw Ed25519 verification rate of the same
 *      entries on one core and on all cores (the ceiling; measured before
 *      and after the sync, and compared with their mean) and the rate of
 *      storing them locally, as ratios, and the entries sent (both ways)
 *      per entry E stored;
 *   3. Negentropy reconciliation cost for 10k, 100k and 1M items with 0, 20
 *      and 1% differences (half only on each side): round trips and bytes,
 *      over in-memory item sets (bytes and rounds do not depend on the
 *      storage; bench_recon measures the LMDB side's CPU).
 *
 *   bench_sync [CORPUS.jsonl.xz [LINES [SAMPLES]]]
 *
 * Defaults: ../shared/data/tools-corpus.jsonl.xz next to the repository,
 * 20000 lines (0: the whole corpus), 200 latency samples (0: the initial
 * sync alone, without parts 1 and 3). Nothing here fails on speed.
 * HX_BENCH_LOG=1 prints the nodes' log lines (verbose) on stderr.
 * HX_BENCH_PERF_CTL=FIFO writes "enable" and "disable" to a perf control
 * fifo around the initial sync, so that a profile holds its window alone:
 *   mkfifo ctl; HX_BENCH_PERF_CTL=ctl perf record -D -1 --control fifo:ctl ...
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "node/node.h"
#include "node/state.h"
#include "tests/threadnodes.h"
#include "node/verify.h"
#include "proto/negentropy.h"

#define PARTNERS 5

static char tmpdir[] = "/tmp/hx-bench-sync.XXXXXX";

static void die(const char *what, int rc) __attribute__((noreturn));
static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_sync: %s: %s\n", what, rc ? hx_strerror(rc) : "failed");
	exit(1);
}

/* Tells a perf control fifo (HX_BENCH_PERF_CTL) cmd, if one is given and
 * perf reads it (opened without blocking: a fifo nobody reads is skipped,
 * where fopen would wait for a reader for ever). */
static void perf_ctl(const char *cmd)
{
	const char *path = getenv("HX_BENCH_PERF_CTL");
	int fd = path && *path ? open(path, O_WRONLY | O_NONBLOCK) : -1;
	if (fd < 0)
		return;
	char line[32];
	int n = snprintf(line, sizeof line, "%s\n", cmd);
	if (write(fd, line, (size_t)n) != n)
		fprintf(stderr, "bench_sync: %s: could not tell perf %s", path, line);
	close(fd);
}

static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_who(struct who *w, const char *name)
{
	int rc = tn_make_who(w, name);
	if (rc)
		die("member record", rc);
}

static hx_store *open_store(const char *name)
{
	char dir[256];
	hx_store *s;
	snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
	int rc = hx_store_open(&s, dir, HX_STORE_CREATE);
	if (rc)
		die("store", rc);
	return s;
}

static void add_member(hx_store *s, const struct who *w)
{
	int rc = hx_store_member_put(s, w->pk, w->rec, w->reclen);
	if (rc)
		die("member", rc);
}

/* A local (authorship-only) member record. */
static void add_author(hx_store *s, const uint8_t pk[32])
{
	hx_member m = { .timestamp = 1 };
	uint8_t *rec;
	size_t len;
	memcpy(m.key, pk, 32);
	if (hx_member_encode_local(&m, &rec, &len) || hx_store_member_put(s, pk, rec, len))
		die("author", 0);
	free(rec);
}

static int free_port(void)
{
	int port = tn_free_port();
	if (!port)
		die("free port", 0);
	return port;
}

/* HX_BENCH_LOG=1: the nodes' log lines (verbose) on stderr, with the
 * time since the start, to see commits and stalls. */
static double t_start;
static void log_line(void *arg, const char *line)
{
	fprintf(stderr, "[%8.3f] %s: %s\n", tn_wall() - t_start, (const char *)arg, line);
}

static void start(struct running *r, hx_store *s, const struct who *w, const char *bind, int once)
{
	int logging = getenv("HX_BENCH_LOG") != NULL;
	hx_node_config cfg = {
		.log = logging ? log_line : NULL,
		.log_arg = (void *)bind,
		.verbose = logging,
		.pk = w->pk,
		.sk = w->sk,
		.curve_pk = w->cpk,
		.curve_sk = w->csk,
		.bind = bind,
		.once = once,
		.recon_interval_ms = 2000,
		.timeout_ms = 60000,
	};
	int rc = tn_start(r, s, &cfg);
	if (rc)
		die("node", rc);
}

static void finish(struct running *r)
{
	(void)tn_stop(r);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static uint8_t *sign_entry(const struct who *w, const char *path, const char *title,
                           const char *body, uint64_t ts, size_t *len, hx_entry *e)
{
	hx_entry d = { .path = (char *)path,
		       .kind = "practice",
		       .title = (char *)title,
		       .body = (char *)body,
		       .lang = "en",
		       .timestamp = ts };
	uint8_t *raw;
	int rc = hx_entry_sign(&d, w->sk, &raw, len);
	if (rc)
		die("sign", rc);
	if ((rc = hx_entry_decode(e, raw, *len)))
		die("decode", rc);
	return raw;
}

/* ---- 1. latency, two hops ------------------------------------------------- */

static void latency(int samples)
{
	struct who a, b, c;
	make_who(&a, "A");
	make_who(&b, "B");
	make_who(&c, "C");
	hx_store *sa = open_store("a"), *sb = open_store("b"), *sc = open_store("c");
	hx_store *all[3] = { sa, sb, sc };
	for (int i = 0; i < 3; i++) {
		add_member(all[i], &a);
		add_member(all[i], &b);
		add_member(all[i], &c);
	}
	char ea[64], eb[64];
	snprintf(ea, sizeof ea, "tcp://127.0.0.1:%d", free_port());
	snprintf(eb, sizeof eb, "tcp://127.0.0.1:%d", free_port());
	if (hx_peer_add(sb, ea, a.pk) || hx_peer_add(sc, eb, b.pk))
		die("peer", 0);
	struct running ra, rb, rcn;
	start(&ra, sa, &a, ea, 0);
	start(&rb, sb, &b, eb, 0);
	start(&rcn, sc, &c, NULL, 0);
	usleep(1500000); /* connections up */

	double *lat = calloc((size_t)samples, sizeof *lat);
	int got = 0;
	for (int i = 0; i < samples; i++) {
		char path[64], title[64];
		snprintf(path, sizeof path, "bench/latency-%d", i);
		snprintf(title, sizeof title, "Latency probe %d", i);
		double t0 = tn_wall();
		hx_entry e;
		size_t len, added;
		uint8_t *raw = sign_entry(&a, path, title, "Measured.", hx_now_us(), &len, &e);
		hx_put p = { .raw = raw, .rawlen = len, .entry = &e };
		if (hx_store_put_batch(sa, &p, 1, 0, &added) || p.result)
			die("publish", p.result);
		for (;;) {
			if (hx_store_get(sc, e.id, NULL, NULL, NULL) == HX_OK) {
				lat[got++] = (tn_wall() - t0) * 1e3;
				break;
			}
			if (tn_wall() - t0 > 10) {
				fprintf(stderr, "bench_sync: probe %d did not arrive in 10 s\n", i);
				break;
			}
			usleep(500);
		}
		hx_entry_clear(&e);
		free(raw);
		usleep(10000 + (useconds_t)randombytes_uniform(30000));
	}
	finish(&rcn);
	finish(&rb);
	finish(&ra);
	qsort(lat, (size_t)got, sizeof *lat, cmp_double);
	if (got) {
		printf("latency publish at A -> stored at C (two hops, live push + relay), %d "
		       "samples:\n",
		       got);
		printf("  p50 %.1f ms, p99 %.1f ms, max %.1f ms (the writer wakes the node)\n",
		       lat[got / 2], lat[(got * 99) / 100 < got ? (got * 99) / 100 : got - 1],
		       lat[got - 1]);
	}
	free(lat);
	hx_store_close(&sa);
	hx_store_close(&sb);
	hx_store_close(&sc);
	free(a.rec);
	free(b.rec);
	free(c.rec);
}

/* ---- 2. initial sync of the corpus ----------------------------------------- */

static const char *str(const cJSON *o, const char *k, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : def;
}

/* Entries verified per second on all cores (hx_vpool, as a node does),
 * in batches of 256; *threads: the pool's threads. */
static double verify_all(uint8_t **raws, const size_t *lens, size_t total, unsigned *threads)
{
	hx_vpool *pool;
	if (hx_vpool_new(&pool, 0))
		die("pool", 0);
	hx_vjob *jobs = calloc(256, sizeof *jobs);
	if (!jobs)
		die("pool", 0);
	double t0 = tn_wall();
	for (size_t i = 0; i < total; i += 256) {
		size_t k = total - i < 256 ? total - i : 256;
		for (size_t j = 0; j < k; j++) {
			jobs[j].raw = raws[i + j];
			jobs[j].len = lens[i + j];
		}
		hx_vpool_run(pool, jobs, k, UINT64_MAX);
		for (size_t j = 0; j < k; j++)
			if (!jobs[j].rc)
				hx_entry_clear(&jobs[j].e);
	}
	double rate = (double)total / (tn_wall() - t0);
	*threads = hx_vpool_threads(pool);
	hx_vpool_destroy(&pool);
	free(jobs);
	return rate;
}

static void throughput(const char *corpus, long lines)
{
	struct who d, e, partner[PARTNERS];
	make_who(&d, "D");
	make_who(&e, "E");
	for (int i = 0; i < PARTNERS; i++)
		make_who(&partner[i], "partner");
	hx_store *sd = open_store("d"), *se = open_store("e");
	add_member(sd, &d);
	add_member(sd, &e);
	add_member(se, &d);
	add_member(se, &e);
	for (int i = 0; i < PARTNERS; i++) {
		add_author(sd, partner[i].pk);
		add_author(se, partner[i].pk);
	}

	char cmd[4200];
	if (lines > 0)
		snprintf(cmd, sizeof cmd, "xz -dc '%s' | head -n %ld", corpus, lines);
	else
		snprintf(cmd, sizeof cmd, "xz -dc '%s'", corpus);
	FILE *f = popen(cmd, "r");
	if (!f)
		die("cannot read the corpus", 0);
	enum { BATCH = 1000 };
	hx_put *put = calloc(BATCH, sizeof *put);
	hx_entry *ent = calloc(BATCH, sizeof *ent);
	uint8_t **raws = NULL;
	size_t *lens = NULL, n = 0, total = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t ll;
	uint64_t ts = hx_now_us() - 86400ull * 1000000;
	double store_s = 0, store_c = 0;
	for (;;) {
		ll = getline(&line, &lcap, f);
		if (ll > 0) {
			cJSON *o = cJSON_Parse(line);
			const char *doc = str(o, "doc", NULL), *title = str(o, "title", NULL);
			if (doc && title) {
				const char *org = str(o, "org", "none");
				unsigned h = 5381;
				for (const char *c = org; *c; c++)
					h = h * 33 + (unsigned char)*c;
				hx_entry dr = { .path = (char *)doc,
					        .kind = "toolkit",
					        .title = (char *)title,
					        .body = (char *)str(o, "body", ""),
					        .lang = (char *)str(o, "lang", "en"),
					        .timestamp = ts++ };
				if (total == cap) {
					cap = cap ? 2 * cap : 4096;
					raws = realloc(raws, cap * sizeof *raws);
					lens = realloc(lens, cap * sizeof *lens);
				}
				if (hx_entry_check(&dr) == HX_OK &&
				    hx_entry_sign(&dr, partner[h % PARTNERS].sk, &raws[total],
				                  &lens[total]) == HX_OK &&
				    hx_entry_decode(&ent[n], raws[total], lens[total]) == HX_OK) {
					put[n] = (hx_put){ .raw = raws[total],
						           .rawlen = lens[total],
						           .entry = &ent[n] };
					n++;
					total++;
				}
			}
			cJSON_Delete(o);
		}
		if (n == BATCH || (ll < 0 && n)) {
			size_t added;
			double s0 = tn_wall(), c0 = cpu();
			if (hx_store_put_batch(sd, put, n, 0, &added))
				die("store", 0);
			store_s += tn_wall() - s0;
			store_c += cpu() - c0;
			for (size_t i = 0; i < n; i++)
				hx_entry_clear(&ent[i]);
			n = 0;
		}
		if (ll < 0)
			break;
	}
	pclose(f);
	free(line);
	if (!total)
		die("no entries from the corpus", 0);

	/* anchors: verification of the same entries, one core and all cores */
	double t0 = tn_wall(), vc0 = cpu();
	for (size_t i = 0; i < total; i++) {
		hx_entry x;
		if (hx_entry_open(&x, raws[i], lens[i]))
			die("verify", 0);
		hx_entry_clear(&x);
	}
	double v1 = (double)total / (tn_wall() - t0), verify_c = cpu() - vc0;
	unsigned threads;
	double vn0 = verify_all(raws, lens, total, &threads);

	/* two serving nodes that list each other as peers, as partners run
	 * them; the periodic reconciliation (every 2 s here) falls due many
	 * times during the transfer */
	char ed[64], ee[64];
	snprintf(ed, sizeof ed, "tcp://127.0.0.1:%d", free_port());
	snprintf(ee, sizeof ee, "tcp://127.0.0.1:%d", free_port());
	if (hx_peer_add(se, ed, d.pk) || hx_peer_add(sd, ee, e.pk))
		die("peer", 0);
	struct running rd, re;
	start(&rd, sd, &d, ed, 0);
	usleep(300000);
	perf_ctl("enable");
	t0 = tn_wall();
	double sc0 = cpu();
	start(&re, se, &e, ee, 0);
	uint64_t got = 0;
	hx_store_stats sst;
	while (got < total && tn_wall() - t0 < 3600) {
		usleep(2000);
		if (hx_store_stats_get(se, &sst) == HX_OK)
			got = sst.entries;
	}
	double dt = tn_wall() - t0, sync_c = cpu() - sc0;
	perf_ctl("disable");
	int ok = got == total;
	uint64_t taken, verified, commits;
	hx_node_pipe_counts(re.node, &taken, &verified, &commits);
	finish(&re);
	finish(&rd);
	hx_peer_stats dst, est;
	uint64_t sent = (hx_stats_load(sd, e.pk, &dst) == HX_OK ? dst.sent : 0) +
	                (hx_stats_load(se, d.pk, &est) == HX_OK ? est.sent : 0);
	double rate = (double)got / dt;
	/* the anchor again right after the sync: this machine's speed drifts
	 * (one core's verify took 52 to 95 us an entry on the same day), so
	 * the sync is compared with the mean of the runs on either side */
	double vn1 = verify_all(raws, lens, total, &threads), vn = (vn0 + vn1) / 2;
	printf("initial sync of %zu corpus entries (5 partner keys) from D to an empty E (two "
	       "serving nodes):\n",
	       total);
	printf("  %s: %llu entries in %.2f s = %.0f entries/s (connect, reconcile, fetch, verify, "
	       "store + index)\n",
	       ok ? "complete" : "INCOMPLETE", (unsigned long long)got, dt, rate);
	printf("  entries sent (both ways) / stored at E = %llu / %llu = %.3f (goal <= 1.01)\n",
	       (unsigned long long)sent, (unsigned long long)got,
	       got ? (double)sent / (double)got : 0.0);
	printf("  E stored them in %llu commits\n", (unsigned long long)commits);
	printf("  anchor: Ed25519 verification of the same entries: %.0f/s on 1 core; on %u threads "
	       "%.0f/s before the sync, %.0f/s after (mean %.0f/s)\n",
	       v1, threads, vn0, vn1, vn);
	printf("  anchor: storing the same entries at D (put_batch, 1000 per transaction, with the\n"
	       "          search index and fingerprint table): %.0f/s\n",
	       (double)total / store_s);
	printf("  ratio sync / verify (1 core) = %.2f, sync / verify (%u threads) = %.2f (%.2f against "
	       "the run before, %.2f after), sync / store = %.2f\n",
	       rate / v1, threads, rate / vn, rate / vn0, rate / vn1,
	       rate / ((double)total / store_s));
	/* CPU time counts this process's work alone, though it moves with
	 * the load as well (caches, frequency: 132-161 us per entry of sync
	 * in six runs at load 1-2): with every core busy, the sync runs at
	 * about verify / sync CPU of the all-core verify rate */
	printf("  CPU per entry (this process, both nodes): sync %.1f us, verify (1 core) %.1f us, "
	       "store at D %.1f us; verify / sync CPU = %.2f\n",
	       sync_c / (double)total * 1e6, verify_c / (double)total * 1e6,
	       store_c / (double)total * 1e6, verify_c / sync_c);
	for (size_t i = 0; i < total; i++)
		free(raws[i]);
	free(raws);
	free(lens);
	free(put);
	free(ent);
	hx_store_close(&sd);
	hx_store_close(&se);
	free(d.rec);
	free(e.rec);
	for (int i = 0; i < PARTNERS; i++)
		free(partner[i].rec);
}

/* ---- 3. reconciliation bytes and round trips ------------------------------- */

static void item(uint64_t i, uint64_t *ts, uint8_t id[32])
{
	uint64_t seed[2] = { i, 0x5eed };
	crypto_generichash(id, 32, (const uint8_t *)seed, sizeof seed, NULL, 0);
	*ts = 1700000000000000ull + i * 1000 + (id[0] & 0x3f);
}

static void recon_case(size_t n, size_t diff, uint64_t limit)
{
	hx_ne_vec *va, *vb;
	if (hx_ne_vec_new(&va) || hx_ne_vec_new(&vb))
		die("vec", 0);
	/* n - diff items on both sides, then diff more: even ones only in A,
	 * odd ones only in B */
	size_t common = n - diff;
	uint64_t ts;
	uint8_t id[32];
	for (size_t i = 0; i < n; i++) {
		item(i, &ts, id);
		int in_a = i < common || (i - common) % 2 == 0;
		int in_b = i < common || (i - common) % 2 == 1;
		if ((in_a && hx_ne_vec_add(va, ts, id)) || (in_b && hx_ne_vec_add(vb, ts, id)))
			die("add", 0);
	}
	if (hx_ne_vec_seal(va) || hx_ne_vec_seal(vb))
		die("seal", 0);
	hx_ne_storage sa = hx_ne_vec_storage(va), sb = hx_ne_vec_storage(vb);
	hx_ne *ia, *rb;
	uint8_t *msg, *reply;
	size_t len, rlen;
	hx_ne_ids have = { 0 }, need = { 0 };
	uint64_t up = 0, down = 0;
	unsigned rounds = 0;
	double c0 = cpu();
	if (hx_ne_new(&ia, &sa, limit) || hx_ne_new(&rb, &sb, limit) ||
	    hx_ne_initiate(ia, &msg, &len))
		die("ne", 0);
	while (msg) {
		rounds++;
		up += len + 6;
		if (hx_ne_reconcile(rb, msg, len, &reply, &rlen, NULL, NULL))
			die("responder", 0);
		free(msg);
		down += rlen + 6;
		if (hx_ne_reconcile(ia, reply, rlen, &msg, &len, &have, &need))
			die("initiator", 0);
		free(reply);
	}
	double c1 = cpu();
	printf("  %8zu items %7zu differ: %2u round trip%s, %9llu bytes up, %9llu down, %7.1f ms "
	       "CPU; found %zu + %zu\n",
	       n, diff, rounds, rounds == 1 ? " " : "s", (unsigned long long)up,
	       (unsigned long long)down, (c1 - c0) * 1e3, have.n, need.n);
	if (have.n + need.n != diff)
		printf("  !! expected %zu differences\n", diff);
	hx_ne_ids_clear(&have);
	hx_ne_ids_clear(&need);
	hx_ne_free(&ia);
	hx_ne_free(&rb);
	hx_ne_vec_free(&va);
	hx_ne_vec_free(&vb);
}

static void reconciliation(void)
{
	static const size_t sizes[] = { 10000, 100000, 1000000 };
	uint64_t limit = 256 * 1024;
	printf("Negentropy reconciliation (frame size limit %llu, the node's default; bytes "
	       "include the 6-byte wire header):\n",
	       (unsigned long long)limit);
	for (int s = 0; s < 3; s++) {
		size_t n = sizes[s];
		size_t diffs[3] = { 0, 20, n / 100 };
		for (int d = 0; d < 3; d++)
			recon_case(n, diffs[d], limit);
	}
}

int main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] : "../shared/data/tools-corpus.jsonl.xz";
	long lines = argc > 2 ? atol(argv[2]) : 20000;
	int samples = argc > 3 ? atoi(argv[3]) : 200;
	t_start = tn_wall();
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		die("setup", 0);
	if (access(corpus, R_OK))
		corpus = "/work/shared/data/tools-corpus.jsonl.xz";
	if (samples > 0)
		latency(samples);
	if (access(corpus, R_OK))
		printf("initial sync: no corpus at %s (give its path)\n", corpus);
	else
		throughput(corpus, lines);
	if (samples > 0)
		reconciliation();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "bench_sync: could not remove %s\n", tmpdir);
	return 0;
}
