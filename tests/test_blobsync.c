/*
 * test_blobsync.c: blob replication between two nodes in threads of this
 * process, on 127.0.0.1 (docs/PROTOCOL.md §9): while B fetches A's blob
 * (A serving slowly, --blob-rate), B's partial blob is taken away under the
 * running transfer, as gc in another process may do:
 *   1. dropped and begun again (an empty partial blob with the same hash
 *      list): the chunks B took as present are asked for again, and the
 *      blob becomes whole without a restart;
 *   2. dropped for good: B begins it again and fetches it whole.
 * Before, B kept those chunks as done, its finish failed, and the blob was
 * given up until the node restarted. And:
 *   3. a node that starts on a store of thousands of entries (imported,
 *      or synced while it was down) reads its change log a slice at a time
 *      (blobsync.c scan): blobs attached past the first slice are fetched,
 *      and a blob only a superseded version attached is not;
 *   4. the blob gc of a serving node's start (on its scrub thread): a blob
 *      no current version names, older than the grace, goes; one a
 *      current version names, and a fresh one, stay.
 * Waits are conditions with deadlines.
 * HX_TEST_LOG=1 prints the nodes' log lines.
 */
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <string.h>
#include <sodium.h>

#include "check.h"
#include "rmtree.h"
#include "threadnodes.h"
#include "node/blobsync.h"
#include "node/state.h"
#include "store/blob.h"

static char tmpdir[] = "/tmp/hx-test-blobsync.XXXXXX";

#define BLOB_SIZE (16u * HX_CHUNK_SIZE) /* 4 MiB */
#define RATE (1u << 20)                 /* A serves 1 MiB/s: 4 s for the blob */

static hx_store *open_store(const char *name)
{
	hx_store *s = NULL;
	CHECK_RC(tn_open_store(&s, tmpdir, name), HX_OK);
	return s;
}

static double t_start;

static void log_line(void *arg, const char *line)
{
	fprintf(stderr, "%7.3f %s: %s\n", tn_wall() - t_start, (const char *)arg, line);
}

static void start(struct running *r, hx_store *s, const struct who *w, const char *bind)
{
	hx_node_config cfg = { .pk = w->pk,
		               .sk = w->sk,
		               .curve_pk = w->cpk,
		               .curve_sk = w->csk,
		               .bind = bind,
		               .blob_auto = 1ull << 30,
		               .blob_rate = bind ? RATE : 0 };
	if (getenv("HX_TEST_LOG")) {
		cfg.log = log_line;
		cfg.log_arg = bind ? "A" : "B";
	}
	CHECK_RC(tn_start(r, s, &cfg), HX_OK);
}

static uint32_t present(hx_store *s, const uint8_t *hash)
{
	int st;
	uint32_t have = 0;
	if (hx_blob_state(s, hash, &st, NULL, &have))
		return 0;
	return st == HX_BLOB_PARTIAL ? have : 0;
}

/* Waits (up to secs) until B holds at least k chunks of the partial blob. */
static int wait_present(hx_store *s, const uint8_t *hash, uint32_t k, double secs)
{
	for (double t0 = tn_wall(); tn_wall() - t0 < secs; usleep(5000))
		if (present(s, hash) >= k)
			return 1;
	return 0;
}

static int wait_whole(hx_store *s, const uint8_t *hash, double secs)
{
	for (double t0 = tn_wall(); tn_wall() - t0 < secs; usleep(10000))
		if (hx_blob_is_whole(s, hash))
			return 1;
	return 0;
}

/* w signs and s stores, now, a document at path that attaches *at. */
static void put_attached(hx_store *s, const struct who *w, char *path, hx_attach *at)
{
	hx_entry e = { .path = path,
		       .kind = "toolkit",
		       .title = "A file",
		       .body = "",
		       .lang = "en",
		       .timestamp = hx_now_us(),
		       .attach = at,
		       .nattach = 1 };
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	CHECK_RC(hx_entry_sign(&e, w->sk, &raw, &rawlen), HX_OK);
	hx_put put = { .raw = raw, .rawlen = rawlen, .entry = &e };
	CHECK_RC(hx_store_put_batch(s, &put, 1, 0, NULL), HX_OK);
	free(raw);
}

/* One round: A publishes a new random blob, B starts fetching it; once B
 * holds a few chunks its partial blob is dropped (and begun again when
 * rebegin); B must end with the whole blob, every chunk checked. */
static void round_drop(const char *name, int rebegin)
{
	struct who wa, wb;
	char na[32], nb[32], ep[64];
	snprintf(na, sizeof na, "%s-a", name);
	snprintf(nb, sizeof nb, "%s-b", name);
	CHECK_RC(tn_make_who(&wa, "A"), HX_OK);
	CHECK_RC(tn_make_who(&wb, "B"), HX_OK);
	hx_store *sa = open_store(na), *sb = open_store(nb);
	CHECK_RC(hx_store_member_put(sa, wa.pk, wa.rec, wa.reclen), HX_OK);
	CHECK_RC(hx_store_member_put(sa, wb.pk, wb.rec, wb.reclen), HX_OK);
	CHECK_RC(hx_store_member_put(sb, wa.pk, wa.rec, wa.reclen), HX_OK);
	CHECK_RC(hx_store_member_put(sb, wb.pk, wb.rec, wb.reclen), HX_OK);
	CHECK(tn_free_endpoint(ep, sizeof ep) != 0);
	CHECK_RC(hx_peer_add(sb, ep, wa.pk), HX_OK);

	uint8_t *data = malloc(BLOB_SIZE), *hashes = NULL;
	uint64_t size = 0;
	uint32_t nch = 0;
	randombytes_buf(data, BLOB_SIZE);
	hx_attach at = { .name = "file.bin",
		         .type = "application/octet-stream",
		         .size = BLOB_SIZE };
	CHECK_RC(hx_blob_add_mem(sa, data, BLOB_SIZE, at.hash), HX_OK);
	CHECK_RC(hx_blob_hashes(sa, at.hash, &size, &hashes, &nch), HX_OK);

	struct running ra, rb;
	t_start = tn_wall();
	start(&ra, sa, &wa, ep);
	start(&rb, sb, &wb, NULL);
	char path[] = "files/one";
	put_attached(sa, &wa, path, &at);

	/* mid-transfer: a few chunks present, far from all (1 MiB/s) */
	CHECK(wait_present(sb, at.hash, 3, 120));
	CHECK(!hx_blob_is_whole(sb, at.hash));
	CHECK_RC(hx_blob_drop(sb, at.hash), HX_OK);
	if (rebegin)
		CHECK_RC(hx_blob_begin(sb, at.hash, size, hashes), HX_OK);

	double t0 = tn_wall();
	CHECK(wait_whole(sb, at.hash, 180));
	fprintf(stderr, "%s: whole %.1f s after the drop\n", name, tn_wall() - t0);
	uint8_t *buf = malloc(HX_CHUNK_SIZE);
	for (uint32_t i = 0; i < nch; i++) {
		size_t len = 0;
		CHECK_RC(hx_blob_read_chunk(sb, at.hash, i, buf, &len), HX_OK);
		CHECK(len == HX_CHUNK_SIZE && !memcmp(buf, data + (size_t)i * HX_CHUNK_SIZE, len));
	}
	free(buf);
	CHECK_RC(tn_stop(&rb), HX_OK);
	CHECK_RC(tn_stop(&ra), HX_OK);
	hx_store_close(&sa);
	hx_store_close(&sb);
	free(hashes);
	free(data);
	free(wa.rec);
	free(wb.rec);
}

#define LOG_ENTRIES 5000 /* more than two slices of the change-log scan */

/* A small random blob added to s; its attachment record in *at. */
static void small_blob(hx_store *s, hx_attach *at, char *name)
{
	uint8_t data[3000];
	randombytes_buf(data, sizeof data);
	*at = (hx_attach){ .name = name, .type = "application/octet-stream", .size = sizeof data };
	CHECK_RC(hx_blob_add_mem(s, data, sizeof data, at->hash), HX_OK);
}

static void log_slices(void)
{
	struct who wa, wb;
	char ep[64];
	CHECK_RC(tn_make_who(&wa, "A"), HX_OK);
	CHECK_RC(tn_make_who(&wb, "B"), HX_OK);
	hx_store *sa = open_store("slices-a"), *sb = open_store("slices-b");
	hx_store *both[2] = { sa, sb };
	for (int i = 0; i < 2; i++) {
		CHECK_RC(hx_store_member_put(both[i], wa.pk, wa.rec, wa.reclen), HX_OK);
		CHECK_RC(hx_store_member_put(both[i], wb.pk, wb.rec, wb.reclen), HX_OK);
	}
	CHECK(tn_free_endpoint(ep, sizeof ep) != 0);
	CHECK_RC(hx_peer_add(sb, ep, wa.pk), HX_OK);

	/* the blobs at A only; their entries in both stores before the start:
	 * old is attached by entry 10 and superseded at entry 20, mid at
	 * entry 3000, last at entry 4990 */
	static char nold[] = "old.bin", nmid[] = "mid.bin", nlast[] = "last.bin";
	hx_attach old, mid, last;
	small_blob(sa, &old, nold);
	small_blob(sa, &mid, nmid);
	small_blob(sa, &last, nlast);
	uint8_t **raws = calloc(LOG_ENTRIES, sizeof *raws);
	hx_entry *ents = calloc(LOG_ENTRIES, sizeof *ents);
	hx_put *puts = calloc(LOG_ENTRIES, sizeof *puts);
	char(*paths)[32] = calloc(LOG_ENTRIES, sizeof *paths);
	uint64_t t = hx_now_us() - LOG_ENTRIES;
	for (size_t i = 0; i < LOG_ENTRIES; i++) {
		size_t len = 0;
		snprintf(paths[i], sizeof paths[i], "notes/%zu", i == 20 ? (size_t)10 : i);
		ents[i] = (hx_entry){ .path = paths[i],
			              .kind = "note",
			              .title = "A note",
			              .body = "text",
			              .lang = "en",
			              .timestamp = t + i };
		hx_attach *a = i == 10 ? &old : i == 3000 ? &mid : i == 4990 ? &last : NULL;
		if (a) {
			ents[i].attach = a;
			ents[i].nattach = 1;
		}
		CHECK_RC(hx_entry_sign(&ents[i], wa.sk, &raws[i], &len), HX_OK);
		puts[i] = (hx_put){ .raw = raws[i], .rawlen = len, .entry = &ents[i] };
	}
	for (int i = 0; i < 2; i++)
		for (size_t k = 0; k < LOG_ENTRIES; k += 1000)
			CHECK_RC(hx_store_put_batch(both[i], puts + k, 1000, 0, NULL), HX_OK);

	struct running ra, rb;
	t_start = tn_wall();
	start(&ra, sa, &wa, ep);
	start(&rb, sb, &wb, NULL);
	CHECK(wait_whole(sb, mid.hash, 120));
	CHECK(wait_whole(sb, last.hash, 120));
	int st = -1;
	/* the scan reads the log in order: old's entries came before */
	CHECK_RC(hx_blob_state(sb, old.hash, &st, NULL, NULL), HX_OK);
	CHECK(st == HX_BLOB_NONE);
	CHECK_RC(tn_stop(&rb), HX_OK);
	CHECK_RC(tn_stop(&ra), HX_OK);
	hx_store_close(&sa);
	hx_store_close(&sb);
	for (size_t i = 0; i < LOG_ENTRIES; i++)
		free(raws[i]);
	free(raws);
	free(ents);
	free(puts);
	free(paths);
	free(wa.rec);
	free(wb.rec);
}

/* Sets the times of blob hash's file in store dir to an hour ago. */
static void age_blob(const char *dir, const uint8_t *hash)
{
	char hex[2 * HX_ID_LEN + 1], p[700];
	hx_hex(hex, hash, HX_ID_LEN);
	snprintf(p, sizeof p, "%s/%s/blobs/%.2s/%s", tmpdir, dir, hex, hex);
	struct timeval tv[2] = { { .tv_sec = time(NULL) - 3600 }, { .tv_sec = time(NULL) - 3600 } };
	CHECK(utimes(p, tv) == 0);
}

static int blob_state(hx_store *s, const uint8_t *hash)
{
	int st = -1;
	CHECK_RC(hx_blob_state(s, hash, &st, NULL, NULL), HX_OK);
	return st;
}

static void start_gc(void)
{
	struct who wa;
	char ep[64];
	CHECK_RC(tn_make_who(&wa, "A"), HX_OK);
	hx_store *sa = open_store("gc-a");
	CHECK_RC(hx_store_member_put(sa, wa.pk, wa.rec, wa.reclen), HX_OK);
	static char nu[] = "unnamed.bin", nn[] = "named.bin", nf[] = "fresh.bin";
	hx_attach un, named, fresh;
	small_blob(sa, &un, nu);
	small_blob(sa, &named, nn);
	small_blob(sa, &fresh, nf);
	age_blob("gc-a", un.hash);
	age_blob("gc-a", named.hash);
	char path[] = "files/named";
	put_attached(sa, &wa, path, &named);
	CHECK(tn_free_endpoint(ep, sizeof ep) != 0);

	struct running ra;
	t_start = tn_wall();
	start(&ra, sa, &wa, ep);
	int gone = 0;
	for (double t0 = tn_wall(); !gone && tn_wall() - t0 < 60; usleep(10000))
		gone = blob_state(sa, un.hash) == HX_BLOB_NONE;
	CHECK(gone);
	CHECK(blob_state(sa, named.hash) == HX_BLOB_WHOLE);
	CHECK(blob_state(sa, fresh.hash) == HX_BLOB_WHOLE);
	CHECK_RC(tn_stop(&ra), HX_OK);
	hx_store_close(&sa);
	free(wa.rec);
}

int main(void)
{
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		return 1;
	round_drop("rebegin", 1);
	round_drop("dropped", 0);
	log_slices();
	start_gc();
	rmtree(tmpdir);
	return check_done();
}
