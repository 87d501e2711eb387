/*
 * fuzz_blobwire.c: libFuzzer target for the blob messages a node decodes
 * from its peers (proto/blobwire.c). The input is cut into up to three
 * frames: the first byte's low 2 bits + 1 is the frame count, the next
 * two bytes (big-endian) the header length, the next two the second
 * frame's length; the rest is split in that order. The decoder must not
 * crash, must answer with a documented code, must never point outside the
 * frames, and an accepted message must encode back to the same header.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "proto/blobwire.h"

static int round_trip(const hx_bwire_msg *m, const uint8_t *h, size_t n)
{
	uint8_t b[HX_CHUNK_WANT_HDR_LEN + 4 * HX_BWIRE_WANT_MAX];
	uint32_t ix[HX_BWIRE_WANT_MAX];
	size_t len = 0;
	switch (m->type) {
	case HX_MSG_BLOB_GET: len = hx_bwire_get(b, m->request, m->hash); break;
	case HX_MSG_BLOB_LIST:
		len = hx_bwire_list(b, m->request, m->hash, m->size, m->flags);
		break;
	case HX_MSG_BLOB_NONE: len = hx_bwire_none(b, m->request, m->hash, m->reason); break;
	case HX_MSG_CHUNK_WANT:
		for (uint16_t i = 0; i < m->count; i++)
			ix[i] = hx_be32_get(m->indexes + 4 * (size_t)i);
		len = hx_bwire_want(b, m->request, m->hash, ix, m->count);
		break;
	case HX_MSG_CHUNK: len = hx_bwire_chunk(b, m->request, m->hash, m->index, m->flags); break;
	default: return 0;
	}
	return len == n && !memcmp(b, h, n);
}

static int inside(const uint8_t *p, size_t l, const uint8_t *f, size_t fl)
{
	return !p || (p >= f && p + l <= f + fl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	size_t nf = (size_t)(data[0] & 3) + 1;
	if (nf > 3)
		nf = 3;
	size_t l0 = ((size_t)data[1] << 8) | data[2], l1 = ((size_t)data[3] << 8) | data[4];
	const uint8_t *d = data + 5;
	size_t n = size - 5;
	if (l0 > n)
		l0 = n;
	if (l1 > n - l0)
		l1 = n - l0;
	const uint8_t *f[3] = { d, d + l0, d + l0 + l1 };
	size_t l[3] = { l0, l1, n - l0 - l1 };
	hx_bwire_msg m;
	int rc = hx_bwire_decode(&m, f, l, nf);
	if (rc != HX_OK && rc != HX_EPROTO && rc != HX_ELIMIT && rc != HX_EVERSION)
		abort();
	if (rc != HX_OK)
		return 0;
	if (!round_trip(&m, f[0], l[0]))
		abort();
	if (!inside(m.hashes, (size_t)m.nchunks * HX_ID_LEN, f[1], l[1]) ||
	    !inside(m.bitmap, ((size_t)m.nchunks + 7) / 8, f[2], l[2]) ||
	    !inside(m.data, m.datalen, f[1], l[1]) ||
	    !inside(m.indexes, 4 * (size_t)m.count, f[0], l[0]))
		abort();
	return 0;
}
