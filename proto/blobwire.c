/*
 * blobwire.c: encoding and checking of the blob messages (see blobwire.h;
 * docs/PROTOCOL.md §9 is the spec). Integers are big-endian.
 *
 *   offset size field
 *   0      1    version 0x01
 *   1      1    type
 *
 * BLOB_GET 0x50 (38)        2 request u32 | 6 blob hash[32]
 * BLOB_LIST 0x51 (47)       2 request u32 | 6 blob hash[32] | 38 size u64 |
 *                           46 flags u8 (bit 0 WHOLE)
 *                           + frame: chunk hashes, 32 * chunks(size) bytes
 *                           + frame unless WHOLE: bitmap, (chunks + 7) / 8
 *                             bytes, bit i = chunk i held (byte i/8, bit i%8),
 *                             unused high bits 0
 * BLOB_NONE 0x52 (39)       2 request u32 | 6 blob hash[32] | 38 reason u8
 * CHUNK_WANT 0x53 (40 + 4n) 2 request u32 | 6 blob hash[32] | 38 count u16
 *                           (1..64) | 40 index u32 [count]
 * CHUNK 0x54 (43)           2 request u32 | 6 blob hash[32] | 38 index u32 |
 *                           42 flags u8 (bit 0 NONE)
 *                           + frame unless NONE: the chunk's bytes (1..256 KiB)
 */
#include <string.h>
#include "proto/blobwire.h"

static void head(uint8_t *out, uint8_t type, uint32_t request, const uint8_t hash[HX_ID_LEN])
{
	out[0] = HX_WIRE_VERSION;
	out[1] = type;
	hx_be32_put(out + 2, request);
	memcpy(out + 6, hash, HX_ID_LEN);
}

size_t hx_bwire_get(uint8_t out[HX_BLOB_GET_LEN], uint32_t request, const uint8_t hash[HX_ID_LEN])
{
	head(out, HX_MSG_BLOB_GET, request, hash);
	return HX_BLOB_GET_LEN;
}

size_t hx_bwire_list(uint8_t out[HX_BLOB_LIST_LEN], uint32_t request, const uint8_t hash[HX_ID_LEN],
                     uint64_t size, uint8_t flags)
{
	head(out, HX_MSG_BLOB_LIST, request, hash);
	hx_be64_put(out + 38, size);
	out[46] = flags;
	return HX_BLOB_LIST_LEN;
}

size_t hx_bwire_none(uint8_t out[HX_BLOB_NONE_LEN], uint32_t request, const uint8_t hash[HX_ID_LEN],
                     uint8_t reason)
{
	head(out, HX_MSG_BLOB_NONE, request, hash);
	out[38] = reason;
	return HX_BLOB_NONE_LEN;
}

size_t hx_bwire_want(uint8_t *out, uint32_t request, const uint8_t hash[HX_ID_LEN],
                     const uint32_t *indexes, uint16_t count)
{
	head(out, HX_MSG_CHUNK_WANT, request, hash);
	hx_be16_put(out + 38, count);
	for (uint16_t i = 0; i < count; i++)
		hx_be32_put(out + HX_CHUNK_WANT_HDR_LEN + 4 * (size_t)i, indexes[i]);
	return HX_CHUNK_WANT_HDR_LEN + 4 * (size_t)count;
}

size_t hx_bwire_chunk(uint8_t out[HX_CHUNK_LEN], uint32_t request, const uint8_t hash[HX_ID_LEN],
                      uint32_t index, uint8_t flags)
{
	head(out, HX_MSG_CHUNK, request, hash);
	hx_be32_put(out + 38, index);
	out[42] = flags;
	return HX_CHUNK_LEN;
}

size_t hx_bwire_chunk_len(uint64_t size, uint32_t index)
{
	uint64_t off = (uint64_t)index * HX_CHUNK_SIZE;
	if (off >= size)
		return 0;
	return size - off < HX_CHUNK_SIZE ? (size_t)(size - off) : HX_CHUNK_SIZE;
}

const char *hx_bwire_type_name(uint8_t type)
{
	switch (type) {
	case HX_MSG_BLOB_GET: return "blob-get";
	case HX_MSG_BLOB_LIST: return "blob-list";
	case HX_MSG_BLOB_NONE: return "blob-none";
	case HX_MSG_CHUNK_WANT: return "chunk-want";
	case HX_MSG_CHUNK: return "chunk";
	}
	return "?";
}

static int decode_list(hx_bwire_msg *m, const uint8_t *const *frames, const size_t *lens,
                       size_t nframes)
{
	const uint8_t *h = frames[0];
	m->size = hx_be64_get(h + 38);
	m->flags = h[46];
	if (m->flags & ~HX_BLIST_WHOLE)
		return HX_EPROTO;
	uint64_t n = hx_blob_chunks(m->size);
	if (n > HX_BWIRE_CHUNKS_MAX)
		return HX_ELIMIT;
	m->nchunks = (uint32_t)n;
	if (nframes != ((m->flags & HX_BLIST_WHOLE) ? 2u : 3u) || lens[1] != n * HX_ID_LEN)
		return HX_EPROTO;
	m->hashes = frames[1];
	if (m->flags & HX_BLIST_WHOLE)
		return HX_OK;
	size_t bl = (size_t)(n + 7) / 8;
	if (lens[2] != bl)
		return HX_EPROTO;
	if (n % 8 && bl && frames[2][bl - 1] >> (n % 8))
		return HX_EPROTO; /* bits past the last chunk */
	m->bitmap = frames[2];
	return HX_OK;
}

int hx_bwire_decode(hx_bwire_msg *m, const uint8_t *const *frames, const size_t *lens,
                    size_t nframes)
{
	memset(m, 0, sizeof *m);
	if (nframes == 0 || lens[0] < 2)
		return HX_EPROTO;
	const uint8_t *h = frames[0];
	size_t len = lens[0];
	m->type = h[1];
	if (h[0] != HX_WIRE_VERSION)
		return HX_EVERSION;
	if (nframes > 3)
		return HX_EPROTO;
	for (size_t i = 0; i < nframes; i++)
		if (lens[i] > HX_WIRE_FRAME_MAX)
			return HX_ELIMIT;
	if (len >= 38) {
		m->request = hx_be32_get(h + 2);
		memcpy(m->hash, h + 6, HX_ID_LEN);
	}
	switch (m->type) {
	case HX_MSG_BLOB_GET: return len == HX_BLOB_GET_LEN && nframes == 1 ? HX_OK : HX_EPROTO;
	case HX_MSG_BLOB_LIST:
		if (len != HX_BLOB_LIST_LEN || nframes < 2)
			return HX_EPROTO;
		return decode_list(m, frames, lens, nframes);
	case HX_MSG_BLOB_NONE:
		if (len != HX_BLOB_NONE_LEN || nframes != 1)
			return HX_EPROTO;
		m->reason = h[38];
		return m->reason == HX_BNONE_ABSENT || m->reason == HX_BNONE_BUSY ? HX_OK
		                                                                  : HX_EPROTO;
	case HX_MSG_CHUNK_WANT:
		if (len < HX_CHUNK_WANT_HDR_LEN || nframes != 1)
			return HX_EPROTO;
		m->count = hx_be16_get(h + 38);
		if (m->count == 0)
			return HX_EPROTO;
		if (m->count > HX_BWIRE_WANT_MAX)
			return HX_ELIMIT;
		if (len != HX_CHUNK_WANT_HDR_LEN + 4 * (size_t)m->count)
			return HX_EPROTO;
		m->indexes = h + HX_CHUNK_WANT_HDR_LEN;
		return HX_OK;
	case HX_MSG_CHUNK:
		if (len != HX_CHUNK_LEN)
			return HX_EPROTO;
		m->index = hx_be32_get(h + 38);
		m->flags = h[42];
		if (m->flags & ~HX_CHUNK_NONE)
			return HX_EPROTO;
		if (m->flags & HX_CHUNK_NONE)
			return nframes == 1 ? HX_OK : HX_EPROTO;
		if (nframes != 2 || lens[1] == 0)
			return HX_EPROTO;
		if (lens[1] > HX_CHUNK_SIZE)
			return HX_ELIMIT;
		m->data = frames[1];
		m->datalen = lens[1];
		return HX_OK;
	}
	return HX_EPROTO;
}
