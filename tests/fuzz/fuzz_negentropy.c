/*
 * fuzz_negentropy.c: libFuzzer target for the Negentropy message decoder
 * (proto/negentropy.c). The input is a message given to a responder and to
 * an initiator over a small fixed set (with equal timestamps, so that id
 * prefixes matter), with and without a frame size limit; the responder's
 * reply is then fed to the initiator, as a peer would. Any result but
 * HX_OK/HX_EPROTO/HX_EVERSION, a crash or a sanitizer report is a bug.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "proto/negentropy.h"

static hx_ne_vec *vec;

static void setup(void)
{
	if (vec)
		return;
	if (hx_ne_vec_new(&vec))
		abort();
	for (uint32_t i = 0; i < 300; i++) {
		uint8_t id[32];
		memset(id, 0, sizeof id);
		id[0] = (uint8_t)(i * 37);
		id[1] = (uint8_t)(i >> 3);
		id[31] = (uint8_t)i;
		if (hx_ne_vec_add(vec, 1000 + i / 20, id))
			abort();
	}
	if (hx_ne_vec_seal(vec))
		abort();
}

static void check(int rc)
{
	if (rc != HX_OK && rc != HX_EPROTO && rc != HX_EVERSION)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	hx_ne_storage st = hx_ne_vec_storage(vec);
	for (int limited = 0; limited < 2; limited++) {
		hx_ne *resp = NULL, *init = NULL;
		hx_ne_ids have = { 0 }, need = { 0 };
		uint8_t *out = NULL, *first = NULL, *reply = NULL;
		size_t ol, fl;
		uint64_t limit = limited ? HX_NE_FRAME_MIN : 0;

		if (hx_ne_new(&resp, &st, limit) || hx_ne_new(&init, &st, limit))
			abort();
		int rc = hx_ne_reconcile(resp, data, size, &out, &ol, NULL, NULL);
		check(rc);
		if (rc == HX_OK && (!out || (limit && ol > limit)))
			abort();

		if (hx_ne_initiate(init, &first, &fl))
			abort();
		check(hx_ne_reconcile(init, data, size, &reply, &fl, &have, &need));
		free(reply);
		if (out) { /* a well-formed reply to the initiator */
			hx_ne *i2 = NULL;
			if (hx_ne_new(&i2, &st, limit) || hx_ne_initiate(i2, &reply, &fl))
				abort();
			free(reply);
			check(hx_ne_reconcile(i2, out, ol, &reply, &fl, &have, &need));
			free(reply);
			hx_ne_free(&i2);
		}
		free(out);
		free(first);
		hx_ne_ids_clear(&have);
		hx_ne_ids_clear(&need);
		hx_ne_free(&resp);
		hx_ne_free(&init);
	}
	return 0;
}
