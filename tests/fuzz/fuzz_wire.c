/*
 * fuzz_wire.c: libFuzzer target for what a node decodes from the network
 * besides entries and Negentropy messages: wire message headers
 * (proto/wire.c), member records (proto/member.c) and invite codes
 * (proto/invite.c), REFUSED included. The first input byte chooses the decoder:
 *   0..127   a wire message: its low 3 bits + 1 is the frame count; the rest
 *            is the header frame (entry frames are empty: only the count
 *            matters to the header decoder)
 *   128..191 a member record
 *   192..255 an invite code (text)
 * Decoders must not crash or leak and must answer with a documented code;
 * an accepted fixed-layout message must encode back to the same bytes, an
 * accepted member record must re-sign to the same layout.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "proto/invite.h"
#include "proto/wire.h"

static int documented(int rc)
{
	return rc == HX_OK || rc == HX_EPROTO || rc == HX_ELIMIT || rc == HX_EVERSION ||
	       rc == HX_EFORGED || rc == HX_EINVAL || rc == HX_ENOMEM;
}

/* Re-encodes a decoded message; 0 when the bytes do not match. */
static int round_trip(const hx_wire_msg *m, const uint8_t *d, size_t n)
{
	uint8_t buf[64 + HX_WANT_HDR_LEN + HX_WIRE_WANT_MAX * HX_ID_LEN];
	uint8_t *ne = NULL;
	size_t len = 0;
	int ok;

	switch (m->type) {
	case HX_MSG_HELLO:
		len = hx_wire_hello(buf, m->caps, m->max_frame, m->ne_frame_limit, m->max_batch,
		                    m->key, m->time);
		return len <= n && !memcmp(buf, d, len); /* extra bytes are allowed */
	case HX_MSG_PING: len = hx_wire_ping(buf, m->time); break;
	case HX_MSG_NE_QUERY:
	case HX_MSG_NE_REPLY:
		if (hx_wire_ne(&ne, &len, m->type, m->session, m->ne, m->nelen))
			return 0;
		ok = len == n && !memcmp(ne, d, n);
		free(ne);
		return ok;
	case HX_MSG_NE_DONE: len = hx_wire_ne_done(buf, m->session, m->have, m->need); break;
	case HX_MSG_NE_ERROR: len = hx_wire_ne_error(buf, m->session, m->reason); break;
	case HX_MSG_WANT: len = hx_wire_want(buf, m->request, m->ids, m->count); break;
	case HX_MSG_ANNOUNCE: len = hx_wire_announce(buf, m->ids, m->count); break;
	case HX_MSG_ENTRIES: len = hx_wire_entries(buf, m->request, m->count, m->flags); break;
	case HX_MSG_PUSH: len = hx_wire_push(buf, m->seq, m->count, m->flags); break;
	case HX_MSG_ACK: len = hx_wire_ack(buf, m->seq, m->stored, m->known, m->refused); break;
	case HX_MSG_REFUSED: {
		uint8_t reasons[HX_WIRE_REFUSED_MAX], ids[HX_WIRE_REFUSED_MAX][HX_ID_LEN];
		uint8_t *out =
		        malloc(HX_REFUSED_HDR_LEN + HX_WIRE_REFUSED_MAX * HX_REFUSED_ITEM_LEN);
		if (!out)
			return 0;
		for (size_t i = 0; i < m->count; i++) {
			reasons[i] = m->items[i * HX_REFUSED_ITEM_LEN];
			memcpy(ids[i], m->items + i * HX_REFUSED_ITEM_LEN + 1, HX_ID_LEN);
		}
		len = hx_wire_refused(out, m->time, reasons, (const uint8_t(*)[HX_ID_LEN])ids,
		                      m->count);
		ok = len == n && !memcmp(out, d, n);
		free(out);
		return ok;
	}
	default: return 0;
	}
	return len == n && !memcmp(buf, d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = 1;
	}
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const uint8_t *d = data + 1;
	size_t n = size - 1;

	if (sel < 128) {
		hx_wire_msg m;
		size_t frames = (size_t)(sel & 7) + 1;
		if (sel & 8) /* sometimes a batch-sized frame count */
			frames = 1 + (n ? d[n - 1] : 0) + ((sel >> 4) & 7) * 37;
		int rc = hx_wire_decode(&m, d, n, frames);
		if (!documented(rc))
			abort();
		if (rc == HX_OK && !round_trip(&m, d, n))
			abort();
		if (rc == HX_OK && (m.type == HX_MSG_ENTRIES || m.type == HX_MSG_PUSH) &&
		    frames != 1u + m.count)
			abort();
		return 0;
	}
	if (sel < 192) {
		hx_member m;
		int rc = hx_member_decode(&m, d, n);
		if (!documented(rc))
			abort();
		if (rc == HX_OK) {
			if (hx_member_check(&m))
				abort();
			/* a local record re-encodes to the same bytes */
			if (!m.has_transport) {
				uint8_t *out;
				size_t ol;
				if (hx_member_encode_local(&m, &out, &ol) || ol != n ||
				    memcmp(out, d, n))
					abort();
				free(out);
			}
			hx_member_clear(&m);
		}
		return 0;
	}
	char *text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, d, n);
	text[n] = 0;
	hx_invite inv;
	uint8_t *rec;
	size_t rl;
	int rc = hx_invite_decode(&inv, text, &rec, &rl);
	if (!documented(rc))
		abort();
	if (rc == HX_OK) {
		if (!inv.nendpoints || !inv.member.has_transport)
			abort();
		free(rec);
		hx_invite_clear(&inv);
	}
	free(text);
	return 0;
}
