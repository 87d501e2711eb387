/*
 * wire.c: encoding and checking of the wire messages (see wire.h;
 * docs/PROTOCOL.md is the spec). Integers are big-endian. Every header
 * frame starts with:
 *
 *   offset size field
 *   0      1    version  0x01
 *   1      1    type     (below)
 *
 * HELLO 0x01 (56 bytes)        2 caps u32 | 6 max_frame u32 |
 *                              10 ne_frame_limit u32 | 14 max_batch u16 |
 *                              16 identity key[32] | 48 time u64
 *                              (longer HELLOs: the extra bytes are ignored,
 *                              so later versions can add fields)
 * PING 0x02 (10)               2 time u64
 * NE_QUERY 0x10, NE_REPLY 0x11 2 session u32 | 6 Negentropy message (>= 1 byte)
 * NE_DONE 0x12 (14)            2 session u32 | 6 have u32 | 10 need u32
 * NE_ERROR 0x13 (7)            2 session u32 | 6 reason u8
 * WANT 0x20 (8 + 32n)          2 request u32 | 6 count u16 (1..1024) | 8 ids[count][32]
 * ENTRIES 0x21 (9)             2 request u32 | 6 count u16 (0..256) | 8 flags u8
 *                              + count frames, one signed entry each
 * ANNOUNCE 0x22 (4 + 32n)      2 count u16 (1..1024) | 4 ids[count][32]
 * PUSH 0x30 (13)               2 seq u64 | 10 count u16 (1..256) | 12 flags u8
 *                              + count frames, one signed entry each
 * ACK 0x31 (16)                2 seq u64 | 10 stored u16 | 12 known u16 | 14 refused u16
 * REFUSED 0x40 (12 + 33n)      2 time u64 (the refusing node's clock) | 10 count u16 (1..256) |
 *                              12 count x (reason u8 (>= 1) | entry id[32])
 */
#include <stdlib.h>
#include <string.h>
#include "proto/wire.h"

static void head(uint8_t *out, uint8_t type)
{
	out[0] = HX_WIRE_VERSION;
	out[1] = type;
}

size_t hx_wire_hello(uint8_t out[HX_HELLO_LEN], uint32_t caps, uint32_t max_frame,
                     uint32_t ne_frame_limit, uint16_t max_batch, const uint8_t key[HX_KEY_LEN],
                     uint64_t now)
{
	head(out, HX_MSG_HELLO);
	hx_be32_put(out + 2, caps);
	hx_be32_put(out + 6, max_frame);
	hx_be32_put(out + 10, ne_frame_limit);
	hx_be16_put(out + 14, max_batch);
	memcpy(out + 16, key, HX_KEY_LEN);
	hx_be64_put(out + 48, now);
	return HX_HELLO_LEN;
}

size_t hx_wire_ping(uint8_t out[HX_PING_LEN], uint64_t now)
{
	head(out, HX_MSG_PING);
	hx_be64_put(out + 2, now);
	return HX_PING_LEN;
}

int hx_wire_ne(uint8_t **out, size_t *outlen, uint8_t type, uint32_t session, const uint8_t *ne,
               size_t nelen)
{
	*out = NULL;
	*outlen = 0;
	if ((type != HX_MSG_NE_QUERY && type != HX_MSG_NE_REPLY) || nelen == 0)
		return HX_EINVAL;
	if (nelen > HX_WIRE_FRAME_MAX - HX_NE_HDR_LEN)
		return HX_ELIMIT;
	uint8_t *b = malloc(HX_NE_HDR_LEN + nelen);
	if (!b)
		return HX_ENOMEM;
	head(b, type);
	hx_be32_put(b + 2, session);
	memcpy(b + HX_NE_HDR_LEN, ne, nelen);
	*out = b;
	*outlen = HX_NE_HDR_LEN + nelen;
	return HX_OK;
}

size_t hx_wire_ne_done(uint8_t out[HX_NE_DONE_LEN], uint32_t session, uint32_t have, uint32_t need)
{
	head(out, HX_MSG_NE_DONE);
	hx_be32_put(out + 2, session);
	hx_be32_put(out + 6, have);
	hx_be32_put(out + 10, need);
	return HX_NE_DONE_LEN;
}

size_t hx_wire_ne_error(uint8_t out[HX_NE_ERROR_LEN], uint32_t session, uint8_t reason)
{
	head(out, HX_MSG_NE_ERROR);
	hx_be32_put(out + 2, session);
	out[6] = reason;
	return HX_NE_ERROR_LEN;
}

size_t hx_wire_want(uint8_t *out, uint32_t request, const uint8_t *ids, uint16_t count)
{
	head(out, HX_MSG_WANT);
	hx_be32_put(out + 2, request);
	hx_be16_put(out + 6, count);
	memcpy(out + HX_WANT_HDR_LEN, ids, (size_t)count * HX_ID_LEN);
	return HX_WANT_HDR_LEN + (size_t)count * HX_ID_LEN;
}

size_t hx_wire_announce(uint8_t *out, const uint8_t *ids, uint16_t count)
{
	head(out, HX_MSG_ANNOUNCE);
	hx_be16_put(out + 2, count);
	memcpy(out + HX_ANNOUNCE_HDR_LEN, ids, (size_t)count * HX_ID_LEN);
	return HX_ANNOUNCE_HDR_LEN + (size_t)count * HX_ID_LEN;
}

size_t hx_wire_entries(uint8_t out[HX_ENTRIES_LEN], uint32_t request, uint16_t count, uint8_t flags)
{
	head(out, HX_MSG_ENTRIES);
	hx_be32_put(out + 2, request);
	hx_be16_put(out + 6, count);
	out[8] = flags;
	return HX_ENTRIES_LEN;
}

size_t hx_wire_push(uint8_t out[HX_PUSH_LEN], uint64_t seq, uint16_t count, uint8_t flags)
{
	head(out, HX_MSG_PUSH);
	hx_be64_put(out + 2, seq);
	hx_be16_put(out + 10, count);
	out[12] = flags;
	return HX_PUSH_LEN;
}

size_t hx_wire_ack(uint8_t out[HX_ACK_LEN], uint64_t seq, uint16_t stored, uint16_t known,
                   uint16_t refused)
{
	head(out, HX_MSG_ACK);
	hx_be64_put(out + 2, seq);
	hx_be16_put(out + 10, stored);
	hx_be16_put(out + 12, known);
	hx_be16_put(out + 14, refused);
	return HX_ACK_LEN;
}

size_t hx_wire_refused(uint8_t *out, uint64_t now, const uint8_t *reasons,
                       const uint8_t (*ids)[HX_ID_LEN], uint16_t count)
{
	head(out, HX_MSG_REFUSED);
	hx_be64_put(out + 2, now);
	hx_be16_put(out + 10, count);
	for (size_t i = 0; i < count; i++) {
		uint8_t *p = out + HX_REFUSED_HDR_LEN + i * HX_REFUSED_ITEM_LEN;
		p[0] = reasons[i];
		memcpy(p + 1, ids[i], HX_ID_LEN);
	}
	return HX_REFUSED_HDR_LEN + (size_t)count * HX_REFUSED_ITEM_LEN;
}

const char *hx_wire_type_name(uint8_t type)
{
	switch (type) {
	case HX_MSG_HELLO: return "hello";
	case HX_MSG_PING: return "ping";
	case HX_MSG_NE_QUERY: return "ne-query";
	case HX_MSG_NE_REPLY: return "ne-reply";
	case HX_MSG_NE_DONE: return "ne-done";
	case HX_MSG_NE_ERROR: return "ne-error";
	case HX_MSG_WANT: return "want";
	case HX_MSG_ENTRIES: return "entries";
	case HX_MSG_PUSH: return "push";
	case HX_MSG_ANNOUNCE: return "announce";
	case HX_MSG_ACK: return "ack";
	case HX_MSG_REFUSED: return "refused";
	}
	return "?";
}

int hx_wire_decode(hx_wire_msg *m, const uint8_t *h, size_t len, size_t nframes)
{
	memset(m, 0, sizeof *m);
	if (len < 2 || nframes == 0)
		return HX_EPROTO;
	if (nframes > HX_WIRE_FRAMES_MAX || len > HX_WIRE_FRAME_MAX)
		return HX_ELIMIT;
	m->version = h[0];
	m->type = h[1];
	if (m->version != HX_WIRE_VERSION)
		return HX_EVERSION;
	int batch = m->type == HX_MSG_ENTRIES || m->type == HX_MSG_PUSH;
	if (!batch && nframes != 1)
		return HX_EPROTO;
	switch (m->type) {
	case HX_MSG_HELLO:
		if (len < HX_HELLO_LEN)
			return HX_EPROTO;
		m->caps = hx_be32_get(h + 2);
		m->max_frame = hx_be32_get(h + 6);
		m->ne_frame_limit = hx_be32_get(h + 10);
		m->max_batch = hx_be16_get(h + 14);
		memcpy(m->key, h + 16, HX_KEY_LEN);
		m->time = hx_be64_get(h + 48);
		if (m->max_batch == 0 || m->max_frame < HX_WIRE_FRAME_MIN)
			return HX_EPROTO;
		return HX_OK;
	case HX_MSG_PING:
		if (len != HX_PING_LEN)
			return HX_EPROTO;
		m->time = hx_be64_get(h + 2);
		return HX_OK;
	case HX_MSG_NE_QUERY:
	case HX_MSG_NE_REPLY:
		if (len <= HX_NE_HDR_LEN)
			return HX_EPROTO;
		m->session = hx_be32_get(h + 2);
		m->ne = h + HX_NE_HDR_LEN;
		m->nelen = len - HX_NE_HDR_LEN;
		return HX_OK;
	case HX_MSG_NE_DONE:
		if (len != HX_NE_DONE_LEN)
			return HX_EPROTO;
		m->session = hx_be32_get(h + 2);
		m->have = hx_be32_get(h + 6);
		m->need = hx_be32_get(h + 10);
		return HX_OK;
	case HX_MSG_NE_ERROR:
		if (len != HX_NE_ERROR_LEN)
			return HX_EPROTO;
		m->session = hx_be32_get(h + 2);
		m->reason = h[6];
		return HX_OK;
	case HX_MSG_WANT:
		if (len < HX_WANT_HDR_LEN)
			return HX_EPROTO;
		m->request = hx_be32_get(h + 2);
		m->count = hx_be16_get(h + 6);
		if (m->count == 0)
			return HX_EPROTO;
		if (m->count > HX_WIRE_WANT_MAX)
			return HX_ELIMIT;
		if (len != HX_WANT_HDR_LEN + (size_t)m->count * HX_ID_LEN)
			return HX_EPROTO;
		m->ids = h + HX_WANT_HDR_LEN;
		return HX_OK;
	case HX_MSG_ANNOUNCE:
		if (len < HX_ANNOUNCE_HDR_LEN)
			return HX_EPROTO;
		m->count = hx_be16_get(h + 2);
		if (m->count == 0)
			return HX_EPROTO;
		if (m->count > HX_WIRE_WANT_MAX)
			return HX_ELIMIT;
		if (len != HX_ANNOUNCE_HDR_LEN + (size_t)m->count * HX_ID_LEN)
			return HX_EPROTO;
		m->ids = h + HX_ANNOUNCE_HDR_LEN;
		return HX_OK;
	case HX_MSG_ENTRIES:
		if (len != HX_ENTRIES_LEN)
			return HX_EPROTO;
		m->request = hx_be32_get(h + 2);
		m->count = hx_be16_get(h + 6);
		m->flags = h[8];
		if (m->count > HX_WIRE_BATCH_MAX)
			return HX_ELIMIT;
		if (m->flags & ~HX_ENTRIES_LAST || nframes != 1u + m->count)
			return HX_EPROTO;
		return HX_OK;
	case HX_MSG_PUSH:
		if (len != HX_PUSH_LEN)
			return HX_EPROTO;
		m->seq = hx_be64_get(h + 2);
		m->count = hx_be16_get(h + 10);
		m->flags = h[12];
		if (m->count > HX_WIRE_BATCH_MAX)
			return HX_ELIMIT;
		if (m->count == 0 || m->flags & ~HX_PUSH_LIVE || nframes != 1u + m->count)
			return HX_EPROTO;
		return HX_OK;
	case HX_MSG_ACK:
		if (len != HX_ACK_LEN)
			return HX_EPROTO;
		m->seq = hx_be64_get(h + 2);
		m->stored = hx_be16_get(h + 10);
		m->known = hx_be16_get(h + 12);
		m->refused = hx_be16_get(h + 14);
		return HX_OK;
	case HX_MSG_REFUSED:
		if (len < HX_REFUSED_HDR_LEN)
			return HX_EPROTO;
		m->time = hx_be64_get(h + 2);
		m->count = hx_be16_get(h + 10);
		if (m->count == 0)
			return HX_EPROTO;
		if (m->count > HX_WIRE_REFUSED_MAX)
			return HX_ELIMIT;
		if (len != HX_REFUSED_HDR_LEN + (size_t)m->count * HX_REFUSED_ITEM_LEN)
			return HX_EPROTO;
		m->items = h + HX_REFUSED_HDR_LEN;
		for (size_t i = 0; i < m->count; i++)
			if (m->items[i * HX_REFUSED_ITEM_LEN] == 0)
				return HX_EPROTO;
		return HX_OK;
	}
	return HX_EPROTO;
}
