/*
 * blobscrub.c: the background scrub of a serving node (docs/PROTOCOL.md
 * §9.2, FORMAT.md §3.2). A node serves the chunks of a blob marked checked
 * without hashing them while the file's stat is unchanged; so that damage
 * the stat does not show (a bad sector, a bit flip) still stops being
 * served without a full `hansa fsck`, one thread at the lowest CPU and I/O
 * priority re-hashes whole blobs, the one checked longest ago first, each
 * at most once per cfg.scrub_every, reading at most cfg.scrub_rate bytes a
 * second and pausing while the node is sending or fetching blobs. A blob
 * that fails becomes partial without its damaged chunks (store/blob_scrub.c),
 * which are fetched again from peers (a `hansa fetch` request); it is
 * counted ("blob-scrub-bad", `hansa status`, /metrics) and logged.
 * Before its first blob, the thread of a serving node runs the start's
 * blob gc (the automatic policy, FORMAT.md §3.2): its read of every
 * current version then holds neither the loop nor a transfer up.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include "node/blob_int.h"

#define SCRUB_IDLE_MS 60000 /* look again for a blob due at least this often */
#define SCRUB_RETRY_MS 1000 /* a blob that changed while read, or a busy node */

struct hx_nd_scrub {
	hx_node *n;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	atomic_int busy; /* the loop is sending or fetching blobs */
	uint64_t rate;   /* bytes/s */
	uint64_t every;  /* µs between two checks of one blob */
};

/* Waits ms milliseconds or until stopped: 1 when stopped. */
static int nap(struct hx_nd_scrub *sc, uint64_t ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sc->mu);
	while (!sc->stop && pthread_cond_timedwait(&sc->cv, &sc->mu, &t) == 0)
		;
	int stop = sc->stop;
	pthread_mutex_unlock(&sc->mu);
	return stop;
}

/* After each chunk: the time len bytes take at the rate, and no reading
 * while the node moves blobs. */
static int pace(void *arg, size_t len)
{
	struct hx_nd_scrub *sc = arg;
	if (nap(sc, (uint64_t)len * 1000 / sc->rate))
		return 1;
	while (atomic_load(&sc->busy))
		if (nap(sc, SCRUB_RETRY_MS))
			return 1;
	return 0;
}

/* The lowest priorities for the calling thread: nice 19, and the idle I/O
 * class (ioprio_set(2); glibc has no wrapper). Best effort. */
static void lowest_priority(void)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	(void)!setpriority(PRIO_PROCESS, (id_t)tid, 19);
	(void)!syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, tid,
	               3 << 13 /* IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT */);
}

static void *scrub_main(void *arg)
{
	struct hx_nd_scrub *sc = arg;
	hx_node *n = sc->n;
	uint8_t hash[HX_ID_LEN];
	char hex[17];
	uint64_t at, wait;
	uint32_t bad;
	lowest_priority();
	if (n->cfg.bind) {
		uint64_t removed = 0, bytes = 0;
		int rc = hx_blob_gc(n->store, HX_BLOB_GC_GRACE_US, &removed, &bytes);
		if (rc)
			hx_nd_log(n, "blob gc: %s", hx_strerror(rc));
		else if (removed)
			hx_nd_log(
			        n,
			        "blob gc: removed %llu blob%s no current version names (%llu bytes)",
			        (unsigned long long)removed, removed == 1 ? "" : "s",
			        (unsigned long long)bytes);
	}
	for (;;) {
		int rc = hx_blob_scrub_next(n->store, hash, &at);
		uint64_t now = hx_now_us();
		if (rc || (at && at + sc->every > now)) {
			wait = rc ? SCRUB_IDLE_MS : (at + sc->every - now) / 1000 + 1;
			if (nap(sc, wait < SCRUB_IDLE_MS ? wait : SCRUB_IDLE_MS))
				break;
			continue;
		}
		rc = hx_blob_scrub(n->store, hash, pace, sc, &bad);
		hx_nd_short_hex(hex, hash);
		if (rc == HX_OK) {
			(void)!hx_counter_add(n->store, "blob-scrubbed", 1);
			if (bad) {
				uint64_t size = 0;
				int st;
				(void)!hx_counter_add(n->store, "blob-scrub-bad", 1);
				if (!hx_blob_state(n->store, hash, &st, &size, NULL))
					(void)!hx_blob_request(n->store, hash, size);
				hx_nd_log(n,
				          "blob %s: %u chunk%s damaged on disk (scrub); no longer "
				          "served whole, fetched again from peers",
				          hex, bad, bad == 1 ? "" : "s");
			}
		} else if (rc != HX_EBUSY && rc != HX_ENOTFOUND) {
			hx_nd_log(n, "cannot scrub blob %s: %s", hex, hx_strerror(rc));
			if (nap(sc, SCRUB_IDLE_MS))
				break;
		} else if (nap(sc, SCRUB_RETRY_MS)) {
			break;
		}
	}
	return NULL;
}

void hx_nd_scrub_tick(hx_node *n)
{
	struct hx_nd_blobs *b = n->bl;
	struct hx_nd_scrub *sc = b->scrub;
	if (!sc && !b->scrub_failed) {
		if (!(sc = calloc(1, sizeof *sc))) {
			b->scrub_failed = 1;
			return;
		}
		sc->n = n;
		sc->rate = n->cfg.scrub_rate ? n->cfg.scrub_rate : HX_SCRUB_RATE_DEFAULT;
		sc->every = (n->cfg.scrub_every_s ? n->cfg.scrub_every_s : HX_SCRUB_EVERY_DEFAULT) *
		            1000000ull;
		pthread_mutex_init(&sc->mu, NULL);
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&sc->cv, &ca);
		pthread_condattr_destroy(&ca);
		if (pthread_create(&sc->thread, NULL, scrub_main, sc)) {
			pthread_mutex_destroy(&sc->mu);
			pthread_cond_destroy(&sc->cv);
			free(sc);
			b->scrub_failed = 1;
			hx_nd_log(n, "cannot start the blob scrub");
			return;
		}
		b->scrub = sc;
	}
	if (!sc)
		return;
	/* moving: chunks queued to send, or asked of a member and not in yet
	 * (a fetch that waits for a source does not hold the scrub up) */
	int busy = b->nq > 0;
	for (size_t i = 0; i < b->nx && !busy; i++)
		for (size_t k = 0; b->x[i]->active && k < b->x[i]->nsrc && !busy; k++)
			busy = b->x[i]->src[k].flight > 0;
	atomic_store(&sc->busy, busy);
}

void hx_nd_scrub_stop(struct hx_nd_blobs *b)
{
	struct hx_nd_scrub *sc = b->scrub;
	if (!sc)
		return;
	pthread_mutex_lock(&sc->mu);
	sc->stop = 1;
	pthread_cond_broadcast(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	pthread_join(sc->thread, NULL);
	pthread_mutex_destroy(&sc->mu);
	pthread_cond_destroy(&sc->cv);
	free(sc);
	b->scrub = NULL;
}
