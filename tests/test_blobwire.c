/*
 * test_blobwire.c: unit tests of the blob messages (proto/blobwire.c): the
 * byte vectors docs/PROTOCOL.md §9 shows, round trips, and that every
 * truncation, every wrong frame count and every single-bit flip of the
 * flags, reason and count fields is refused.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "check.h"
#include "proto/blobwire.h"

static uint8_t H[HX_ID_LEN];

static int hexeq(const uint8_t *b, size_t n, const char *want)
{
	char h[2 * 128 + 1];
	if (2 * n >= sizeof h)
		return 0;
	hx_hex(h, b, n);
	if (strcmp(h, want))
		fprintf(stderr, "got  %s\nwant %s\n", h, want);
	return !strcmp(h, want);
}

static int dec(hx_bwire_msg *m, const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
               const uint8_t *c, size_t cl, size_t n)
{
	const uint8_t *f[3] = { a, b, c };
	size_t l[3] = { al, bl, cl };
	return hx_bwire_decode(m, f, l, n);
}

#define HHEX "abababababababababababababababababababababababababababababababab"

static void test_vectors(void)
{
	uint8_t b[HX_CHUNK_WANT_HDR_LEN + 4 * HX_BWIRE_WANT_MAX];
	hx_bwire_msg m;

	size_t n = hx_bwire_get(b, 7, H);
	CHECK(n == HX_BLOB_GET_LEN && hexeq(b, n, "015000000007" HHEX));
	CHECK_RC(dec(&m, b, n, NULL, 0, NULL, 0, 1), HX_OK);
	CHECK(m.type == HX_MSG_BLOB_GET && m.request == 7 && !memcmp(m.hash, H, 32));
	CHECK_RC(dec(&m, b, n, b, 1, NULL, 0, 2), HX_EPROTO);

	n = hx_bwire_none(b, 7, H, HX_BNONE_ABSENT);
	CHECK(hexeq(b, n, "015200000007" HHEX "01"));
	CHECK_RC(dec(&m, b, n, NULL, 0, NULL, 0, 1), HX_OK);
	CHECK(m.reason == HX_BNONE_ABSENT);
	b[38] = 3;
	CHECK_RC(dec(&m, b, n, NULL, 0, NULL, 0, 1), HX_EPROTO);

	uint32_t ix[3] = { 0, 1, 0x01020304 };
	n = hx_bwire_want(b, 9, H, ix, 3);
	CHECK(n == 52 && hexeq(b, n, "015300000009" HHEX "0003000000000000000101020304"));
	CHECK_RC(dec(&m, b, n, NULL, 0, NULL, 0, 1), HX_OK);
	CHECK(m.count == 3 && hx_be32_get(m.indexes + 8) == 0x01020304);
	CHECK_RC(dec(&m, b, n - 1, NULL, 0, NULL, 0, 1), HX_EPROTO);
	b[39] = 0;
	CHECK_RC(dec(&m, b, HX_CHUNK_WANT_HDR_LEN, NULL, 0, NULL, 0, 1), HX_EPROTO);
	b[39] = HX_BWIRE_WANT_MAX + 1;
	CHECK_RC(dec(&m, b, HX_CHUNK_WANT_HDR_LEN + 4 * (HX_BWIRE_WANT_MAX + 1), NULL, 0, NULL, 0,
	             1),
	         HX_ELIMIT);

	/* a list of a 3-chunk blob (2 chunks and 1 byte), chunks 0 and 2 held */
	uint64_t size = 2 * HX_CHUNK_SIZE + 1;
	uint8_t hs[3 * HX_ID_LEN], bm[1] = { 0x05 };
	memset(hs, 0xcd, sizeof hs);
	n = hx_bwire_list(b, 1, H, size, 0);
	CHECK(hexeq(b, n, "015100000001" HHEX "000000000008000100"));
	CHECK_RC(dec(&m, b, n, hs, sizeof hs, bm, 1, 3), HX_OK);
	CHECK(m.size == size && m.nchunks == 3 && m.hashes == hs && m.bitmap == bm);
	CHECK_RC(dec(&m, b, n, hs, sizeof hs, bm, 1, 2), HX_EPROTO);
	CHECK_RC(dec(&m, b, n, hs, sizeof hs - 1, bm, 1, 3), HX_EPROTO);
	bm[0] = 0x0d; /* bit 3: no such chunk */
	CHECK_RC(dec(&m, b, n, hs, sizeof hs, bm, 1, 3), HX_EPROTO);
	n = hx_bwire_list(b, 1, H, size, HX_BLIST_WHOLE);
	CHECK_RC(dec(&m, b, n, hs, sizeof hs, NULL, 0, 2), HX_OK);
	CHECK(m.flags == HX_BLIST_WHOLE && !m.bitmap);
	CHECK_RC(dec(&m, b, n, hs, sizeof hs, bm, 1, 3), HX_EPROTO);
	b[46] = 2;
	CHECK_RC(dec(&m, b, n, hs, sizeof hs, NULL, 0, 2), HX_EPROTO);
	/* a size whose list cannot fit one frame */
	n = hx_bwire_list(b, 1, H, (uint64_t)HX_CHUNK_SIZE * (HX_BWIRE_CHUNKS_MAX + 1),
	                  HX_BLIST_WHOLE);
	CHECK_RC(dec(&m, b, n, hs, 0, NULL, 0, 2), HX_ELIMIT);

	uint8_t data[5] = "abcde";
	n = hx_bwire_chunk(b, 2, H, 5, 0);
	CHECK(hexeq(b, n, "015400000002" HHEX "0000000500"));
	CHECK_RC(dec(&m, b, n, data, 5, NULL, 0, 2), HX_OK);
	CHECK(m.index == 5 && m.data == data && m.datalen == 5);
	CHECK_RC(dec(&m, b, n, data, 0, NULL, 0, 2), HX_EPROTO);
	CHECK_RC(dec(&m, b, n, NULL, 0, NULL, 0, 1), HX_EPROTO);
	n = hx_bwire_chunk(b, 2, H, 5, HX_CHUNK_NONE);
	CHECK_RC(dec(&m, b, n, NULL, 0, NULL, 0, 1), HX_OK);
	CHECK(m.flags == HX_CHUNK_NONE && !m.data);
	CHECK_RC(dec(&m, b, n, data, 5, NULL, 0, 2), HX_EPROTO);
	static uint8_t big[HX_CHUNK_SIZE + 1];
	n = hx_bwire_chunk(b, 2, H, 5, 0);
	CHECK_RC(dec(&m, b, n, big, sizeof big, NULL, 0, 2), HX_ELIMIT);

	CHECK(hx_bwire_chunk_len(size, 0) == HX_CHUNK_SIZE);
	CHECK(hx_bwire_chunk_len(size, 2) == 1);
	CHECK(hx_bwire_chunk_len(size, 3) == 0);
	CHECK(!strcmp(hx_bwire_type_name(HX_MSG_CHUNK), "chunk"));
}

/* Every truncation of every message is refused; a wrong version is
 * HX_EVERSION; an unknown type in the blob range is HX_EPROTO. */
static void test_refusals(void)
{
	uint8_t msgs[4][HX_BLOB_LIST_LEN + 8];
	size_t lens[4];
	uint32_t ix = 1;
	hx_bwire_msg m;
	lens[0] = hx_bwire_get(msgs[0], 1, H);
	lens[1] = hx_bwire_none(msgs[1], 1, H, HX_BNONE_BUSY);
	lens[2] = hx_bwire_want(msgs[2], 1, H, &ix, 1);
	lens[3] = hx_bwire_chunk(msgs[3], 1, H, 1, HX_CHUNK_NONE);
	for (int k = 0; k < 4; k++) {
		CHECK_RC(dec(&m, msgs[k], lens[k], NULL, 0, NULL, 0, 1), HX_OK);
		for (size_t l = 0; l < lens[k]; l++)
			CHECK(dec(&m, msgs[k], l, NULL, 0, NULL, 0, 1) != HX_OK);
		CHECK(dec(&m, msgs[k], lens[k], msgs[k], 0, msgs[k], 0, 3) != HX_OK);
		msgs[k][0] = 2;
		CHECK_RC(dec(&m, msgs[k], lens[k], NULL, 0, NULL, 0, 1), HX_EVERSION);
		msgs[k][0] = 1;
	}
	msgs[0][1] = 0x5f;
	CHECK_RC(dec(&m, msgs[0], lens[0], NULL, 0, NULL, 0, 1), HX_EPROTO);
	CHECK_RC(hx_bwire_decode(&m, NULL, NULL, 0), HX_EPROTO);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	memset(H, 0xab, sizeof H);
	test_vectors();
	test_refusals();
	return check_done();
}
