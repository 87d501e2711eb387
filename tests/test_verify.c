/*
 * test_verify.c: the verification pool's stream (node/verify.h), which the
 * node's receive pipeline feeds: jobs submitted in several chunks are all
 * done, each with its own outcome (valid, forged, undecodable, dated in the
 * future, already stored and so not verified), whether the workers or the
 * caller (help, wait) did them; the batch calls still work next to it.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "check.h"
#include "node/verify.h"

#define N 600

static uint8_t known_id[HX_ID_LEN];
static int known_calls;

static void known(void *arg, const uint8_t *const ids[], size_t n, uint8_t *found)
{
	(void)arg;
	__atomic_fetch_add(&known_calls, 1, __ATOMIC_RELAXED);
	for (size_t i = 0; i < n; i++)
		found[i] = !memcmp(ids[i], known_id, HX_ID_LEN);
}

static uint8_t *sign(const uint8_t sk[64], int i, uint64_t ts, size_t *len)
{
	char path[64];
	snprintf(path, sizeof path, "notes/n%d", i);
	hx_entry d = { .path = path,
		       .kind = "note",
		       .title = "T",
		       .body = "B",
		       .lang = "en",
		       .timestamp = ts };
	uint8_t *raw = NULL;
	CHECK_RC(hx_entry_sign(&d, sk, &raw, len), HX_OK);
	return raw;
}

/* What job i is made to be (i % 5): valid, forged, undecodable, future,
 * known (only i == 3 is the known one; other i % 5 == 3 are valid). */
static int expected(int i)
{
	switch (i % 5) {
	case 1: return HX_EFORGED;
	case 2: return HX_EPROTO;
	case 4: return HX_EFUTURE;
	default: return i == 3 ? HX_EEXIST : HX_OK;
	}
}

static void stream(unsigned threads)
{
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	uint8_t **raws = calloc(N, sizeof *raws);
	hx_vjob *jobs = calloc(N, sizeof *jobs);
	uint64_t now = 1700000000000000ull, max_ts = now + 1000000;
	for (int i = 0; i < N; i++) {
		size_t len;
		raws[i] = sign(sk, i, i % 5 == 4 ? max_ts + 1 : now + (uint64_t)i, &len);
		if (i % 5 == 1)
			raws[i][len - 1] ^= 1; /* the signature's last byte */
		if (i % 5 == 2)
			len = 5;
		jobs[i] = (hx_vjob){ .raw = raws[i], .len = len, .max_ts = max_ts };
	}
	/* job 3's entry is the one "already stored" */
	hx_entry e;
	CHECK_RC(hx_entry_decode(&e, raws[3], jobs[3].len), HX_OK);
	memcpy(known_id, e.id, HX_ID_LEN);
	hx_entry_clear(&e);

	hx_vpool *p;
	CHECK_RC(hx_vpool_new(&p, threads), HX_OK);
	hx_vpool_set_known(p, known, NULL);
	/* chunks of odd sizes, the caller helping now and then */
	size_t at = 0, chunk = 1;
	while (at < N) {
		size_t k = N - at < chunk ? N - at : chunk;
		CHECK_RC(hx_vpool_submit(p, jobs + at, k), HX_OK);
		at += k;
		chunk = chunk * 3 + 1;
		(void)hx_vpool_help(p);
	}
	hx_vpool_wait(p, &jobs[N - 1]);
	CHECK(hx_vjob_done(&jobs[N - 1]));
	for (int i = 0; i < N; i++)
		hx_vpool_wait(p, &jobs[i]);
	CHECK(hx_vpool_queued(p) == 0);
	CHECK(hx_vpool_help(p) == 0);
	int bad = 0;
	for (int i = 0; i < N; i++) {
		bad += !hx_vjob_done(&jobs[i]) || jobs[i].rc != expected(i);
		if (!jobs[i].rc)
			hx_entry_clear(&jobs[i].e);
	}
	CHECK(bad == 0);
	CHECK(known_calls > 0);

	/* a batch next to an idle stream */
	for (int i = 0; i < 40; i++)
		jobs[i].rc = -1;
	hx_vpool_run(p, jobs, 40, max_ts);
	bad = 0;
	for (int i = 0; i < 40; i++) {
		bad += jobs[i].rc != expected(i);
		if (!jobs[i].rc)
			hx_entry_clear(&jobs[i].e);
	}
	CHECK(bad == 0);
	hx_vpool_destroy(&p);
	CHECK(p == NULL);
	for (int i = 0; i < N; i++)
		free(raws[i]);
	free(raws);
	free(jobs);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	stream(1); /* the caller alone */
	stream(2);
	stream(4);
	return check_done();
}
