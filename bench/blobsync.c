/*
 * blobsync.c (bench_blobsync): attachment blob throughput between two
 * nodes on 127.0.0.1 (docs/PROTOCOL.md §9), against the anchor of raw
 * ZeroMQ CURVE throughput measured in the same run: a plain DEALER/ROUTER
 * pair with CURVE carrying the same bytes in frames of the same size
 * (256 KiB), as fast as the pair goes. Node A holds a blob and publishes
 * an entry with it attached; node B (A's peer, policy large enough) fetches
 * it; the clock runs from the publish to the moment B's blob store holds
 * the blob whole (entry replication included). Prints MiB/s of both and
 * their ratio (goal >= 0.5), and how many of the chunks A served it hashed
 * (A is a fresh node: 0 when the store's checked mark is trusted). A
 * second anchor is the blob store alone:
 * the same chunks begun, written (each checked; synced and marked 32 at a
 * time, as replication commits them at most, and for comparison one by
 * one) and finished in a fresh store without any network, the ceiling the
 * store sets. Nodes run in threads of this process.
 *
 *   bench_blobsync [MIB [ROUNDS [nodes|raw]]]   defaults: 64 MiB, 3 rounds (best of)
 *
 * With "nodes" (or "raw") only the transfer between the nodes (or the raw
 * CURVE anchor) runs, for `perf record -g` of one path alone;
 * HX_BENCH_LOG=1 prints the nodes' log lines with the time since the
 * publish. The anchor is a fair one: the same socket types as the nodes
 * (the bound ROUTER sends, the connecting DEALER receives), one direction,
 * one 256 KiB frame per chunk where a node sends the same frame after a
 * 43-byte header frame; its clock includes the CURVE handshake, the
 * nodes' clock the entry push and the BLOB_GET round trip.
 *
 * Nothing here fails on speed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "node/blobsync.h"
#include "store/blob.h"
#include "proto/blobwire.h"
#include "tests/threadnodes.h"

static char tmpdir[] = "/tmp/hx-bench-blobsync.XXXXXX";

static void die(const char *what, int rc) __attribute__((noreturn));
static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_blobsync: %s: %s\n", what, rc ? hx_strerror(rc) : "failed");
	exit(1);
}

/* ---- the anchor: raw CURVE ------------------------------------------------------------ */

struct raw {
	void *ctx;
	uint8_t spk[32], ssk[32];
	int port;
	const uint8_t *data;
	size_t size;
};

static void *raw_server(void *arg)
{
	struct raw *r = arg;
	void *s = zmq_socket(r->ctx, ZMQ_ROUTER);
	int one = 1, linger = 0;
	char ep[64], id[256], go[8];
	zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, r->ssk, 32);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", r->port);
	if (zmq_bind(s, ep))
		die("raw bind", 0);
	int il = zmq_recv(s, id, sizeof id, 0);
	if (il <= 0 || zmq_recv(s, go, sizeof go, 0) < 0)
		die("raw go", 0);
	for (size_t off = 0; off < r->size; off += HX_CHUNK_SIZE) {
		size_t l = r->size - off < HX_CHUNK_SIZE ? r->size - off : HX_CHUNK_SIZE;
		zmq_send(s, id, (size_t)il, ZMQ_SNDMORE);
		zmq_send(s, r->data + off, l, 0);
	}
	zmq_recv(s, id, sizeof id, 0); /* the client's "done" */
	zmq_recv(s, go, sizeof go, 0);
	zmq_close(s);
	return NULL;
}

/* Seconds to move size bytes over one CURVE DEALER/ROUTER pair. */
static double raw_curve(const uint8_t *data, size_t size)
{
	struct raw r = { .ctx = zmq_ctx_new(), .data = data, .size = size };
	uint8_t cpk[32], csk[32];
	char ep[64];
	pthread_t t;
	crypto_box_keypair(r.spk, r.ssk);
	crypto_box_keypair(cpk, csk);
	if (!(r.port = tn_free_port()))
		die("port", 0);
	pthread_create(&t, NULL, raw_server, &r);
	void *c = zmq_socket(r.ctx, ZMQ_DEALER);
	int linger = 0;
	zmq_setsockopt(c, ZMQ_CURVE_SERVERKEY, r.spk, 32);
	zmq_setsockopt(c, ZMQ_CURVE_PUBLICKEY, cpk, 32);
	zmq_setsockopt(c, ZMQ_CURVE_SECRETKEY, csk, 32);
	zmq_setsockopt(c, ZMQ_LINGER, &linger, sizeof linger);
	snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", r.port);
	zmq_connect(c, ep);
	uint8_t *buf = malloc(HX_CHUNK_SIZE);
	zmq_send(c, "go", 2, 0);
	double t0 = tn_wall();
	size_t got = 0;
	while (got < size) {
		int l = zmq_recv(c, buf, HX_CHUNK_SIZE, 0);
		if (l < 0)
			die("raw recv", 0);
		got += (size_t)l;
	}
	double dt = tn_wall() - t0;
	zmq_send(c, "done", 4, 0);
	pthread_join(t, NULL);
	zmq_close(c);
	zmq_ctx_term(r.ctx);
	free(buf);
	return dt;
}

static hx_store *open_store(const char *name);

/* ---- the second anchor: the blob store alone ------------------------------------------ */

/* Seconds to receive the blob into a fresh store without a network: begin,
 * every chunk written (checked), per chunks at a time synced and marked
 * present in one commit (1: chunk by chunk; a node commits up to 32, what
 * arrived in one pass of its loop), finish. The ceiling the blob store sets. */
static double store_only(const uint8_t *data, size_t size, int round, uint64_t per)
{
	char name[32];
	uint64_t n = hx_blob_chunks(size);
	uint8_t *hs = malloc((size_t)n * HX_ID_LEN + 1), hash[HX_ID_LEN];
	hx_blob_batch *b;
	if (!hs || hx_blob_batch_new(&b))
		die("memory", HX_ENOMEM);
	for (uint64_t i = 0; i < n; i++)
		crypto_generichash(hs + i * HX_ID_LEN, HX_ID_LEN, data + i * HX_CHUNK_SIZE,
		                   hx_bwire_chunk_len(size, (uint32_t)i), NULL, 0);
	hx_blob_hash(hash, size, hs);
	snprintf(name, sizeof name, "s%d-%llu", round, (unsigned long long)per);
	hx_store *s = open_store(name);
	double t0 = tn_wall();
	int rc = hx_blob_begin(s, hash, size, hs);
	for (uint64_t i = 0; !rc && i < n; i++) {
		rc = hx_blob_batch_write(s, b, hash, (uint32_t)i, data + i * HX_CHUNK_SIZE,
		                         hx_bwire_chunk_len(size, (uint32_t)i));
		if (!rc && ((i + 1) % per == 0 || i + 1 == n))
			rc = hx_blob_batch_commit(s, b);
	}
	if (rc || (rc = hx_blob_finish(s, hash)))
		die("store only", rc);
	double dt = tn_wall() - t0;
	hx_store_close(&s);
	hx_blob_batch_free(b);
	free(hs);
	return dt;
}

/* ---- two nodes ------------------------------------------------------------------------- */

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

static double log_t0;

/* HX_BENCH_LOG=1: the nodes' log lines on stderr, with seconds since the publish. */
static void log_line(void *arg, const char *line)
{
	fprintf(stderr, "%8.3f %s: %s\n", tn_wall() - log_t0, (const char *)arg, line);
}

static void start(struct running *r, hx_store *s, const struct who *w, const char *bind)
{
	hx_node_config cfg = { .pk = w->pk,
		               .sk = w->sk,
		               .curve_pk = w->cpk,
		               .curve_sk = w->csk,
		               .bind = bind,
		               .blob_auto = 1ull << 40,
		               .blob_max = 1ull << 40 };
	if (getenv("HX_BENCH_LOG")) {
		cfg.log = log_line;
		cfg.log_arg = bind ? "A" : "B";
		cfg.verbose = 1;
	}
	int rc = tn_start(r, s, &cfg);
	if (rc)
		die("node", rc);
}

/* Chunks node A served, and of those the ones it hashed as it read them
 * (A is a fresh node that never read the blob: whether it hashes comes
 * from the store's checked mark alone). */
static uint64_t sender_served, sender_hashed;

/* Seconds from publishing an entry with the blob attached at a node to the
 * moment its peer holds the blob whole. */
static double nodes(const char *file, int round)
{
	struct who wa, wb;
	char na[32], nb[32], bind[64], ep[64];
	int rc;
	snprintf(na, sizeof na, "a%d", round);
	snprintf(nb, sizeof nb, "b%d", round);
	if (tn_make_who(&wa, "A") || tn_make_who(&wb, "B"))
		die("keys", 0);
	hx_store *sa = open_store(na), *sb = open_store(nb);
	if ((rc = hx_store_member_put(sa, wb.pk, wb.rec, wb.reclen)) ||
	    (rc = hx_store_member_put(sa, wa.pk, wa.rec, wa.reclen)) ||
	    (rc = hx_store_member_put(sb, wa.pk, wa.rec, wa.reclen)) ||
	    (rc = hx_store_member_put(sb, wb.pk, wb.rec, wb.reclen)))
		die("members", rc);
	int port = tn_free_port();
	snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", port);
	snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
	if ((rc = hx_peer_add(sb, ep, wa.pk)))
		die("peer", rc);
	hx_attach at = { .name = "big.bin", .type = "application/octet-stream" };
	if ((rc = hx_blob_add_file(sa, file, at.hash, &at.size)))
		die("blob put", rc);
	struct running ra, rb;
	start(&ra, sa, &wa, bind);
	start(&rb, sb, &wb, NULL);
	/* connected: wait for the first reconciliation to be done */
	for (double t = tn_wall(); tn_wall() - t < 30;) {
		hx_peer_stats st;
		if (hx_stats_load(sb, wa.pk, &st) == HX_OK && st.recon_ok)
			break;
		usleep(10000);
	}
	hx_entry e = { .path = "bench/blob",
		       .kind = "toolkit",
		       .title = "Blob",
		       .body = "",
		       .lang = "en",
		       .timestamp = hx_now_us(),
		       .attach = &at,
		       .nattach = 1 };
	uint8_t *raw;
	size_t rawlen;
	if ((rc = hx_entry_sign(&e, wa.sk, &raw, &rawlen)))
		die("sign", rc);
	hx_put put = { .raw = raw, .rawlen = rawlen, .entry = &e };
	double t0 = log_t0 = tn_wall();
	if ((rc = hx_store_put_batch(sa, &put, 1, 0, NULL)))
		die("publish", rc);
	while (!hx_blob_is_whole(sb, at.hash)) {
		if (tn_wall() - t0 > 600)
			die("the blob did not arrive", 0);
		usleep(2000);
	}
	double dt = tn_wall() - t0;
	free(raw);
	tn_stop(&rb);
	tn_stop(&ra);
	hx_blob_status bs; /* A's counters, written when its node stopped */
	if (hx_blob_status_get(sa, &bs) == HX_OK) {
		sender_served += bs.chunks_out;
		sender_hashed += bs.hashed_out;
	}
	hx_store_close(&sa);
	hx_store_close(&sb);
	free(wa.rec);
	free(wb.rec);
	return dt;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 64;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	const char *only = argc > 3 ? argv[3] : "";
	int only_nodes = !strcmp(only, "nodes"), only_raw = !strcmp(only, "raw");
	char file[300], cmd[400];
	if (sodium_init() < 0 || !mib || rounds < 1)
		die("usage: bench_blobsync [MIB [ROUNDS]]", 0);
	if (!mkdtemp(tmpdir))
		die("temp dir", 0);
	size_t size = mib << 20;
	uint8_t *data = malloc(size);
	if (!data)
		die("memory", HX_ENOMEM);
	randombytes_buf(data, size);
	snprintf(file, sizeof file, "%s/big.bin", tmpdir);
	FILE *f = fopen(file, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		die("write the file", 0);
	double best_raw = 1e9, best_node = 1e9, best_one = 1e9, best_store = 1e9;
	for (int i = 0; i < rounds && only_nodes; i++)
		printf("round %d: blob between nodes %.1f MiB/s\n", i + 1,
		       (double)mib / nodes(file, i));
	for (int i = 0; i < rounds && only_raw; i++)
		printf("round %d: raw CURVE %.1f MiB/s\n", i + 1,
		       (double)mib / raw_curve(data, size));
	for (int i = 0; i < rounds && !only_nodes && !only_raw; i++) {
		double r = raw_curve(data, size), o = store_only(data, size, i, 1),
		       w = store_only(data, size, i, 32), n = nodes(file, i);
		best_raw = r < best_raw ? r : best_raw;
		best_one = o < best_one ? o : best_one;
		best_store = w < best_store ? w : best_store;
		best_node = n < best_node ? n : best_node;
		printf("round %d: raw CURVE %.1f MiB/s, blob store alone %.1f MiB/s (chunk by chunk "
		       "%.1f), blob between nodes %.1f MiB/s\n",
		       i + 1, (double)mib / r, (double)mib / w, (double)mib / o, (double)mib / n);
		fflush(stdout);
	}
	if (!only_nodes && !only_raw) {
		printf("blob of %zu MiB, best of %d: raw ZeroMQ CURVE %.1f MiB/s; blob store alone "
		       "(synced 32 chunks at a time) %.1f MiB/s, chunk by chunk %.1f MiB/s; node to node "
		       "%.1f MiB/s\n",
		       mib, rounds, (double)mib / best_raw, (double)mib / best_store,
		       (double)mib / best_one, (double)mib / best_node);
		printf("ratio node to node / raw CURVE: %.2f (goal >= 0.5); node to node / blob store "
		       "alone: %.2f\n",
		       best_raw / best_node, best_store / best_node);
		printf("sender: %llu of the %llu chunks it served were hashed as they were read "
		       "(a fresh node; the blob was marked checked when it was added)\n",
		       (unsigned long long)sender_hashed, (unsigned long long)sender_served);
		printf("(raw CURVE: one ROUTER -> DEALER pair on 127.0.0.1, the same 256 KiB "
		       "frames one way, handshake included; node to node: from the publish at A "
		       "to the blob whole and committed at B)\n");
	}
	free(data);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "bench_blobsync: could not remove %s\n", tmpdir);
	return 0;
}
