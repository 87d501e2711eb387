/*
 * wire.h: the messages two hansa nodes exchange over ZeroMQ (CURVE,
 * DEALER -> ROUTER): hello, ping, Negentropy reconciliation frames, entry
 * requests and batches, live push and its acknowledgement. A message is one
 * or more ZeroMQ frames; the first is a header that starts with the wire
 * version byte and the message type; batches carry one signed entry per
 * further frame. docs/PROTOCOL.md is the byte-level spec; wire.c has the
 * byte tables. No I/O: the node sends and receives, this encodes and
 * checks.
 */
#ifndef HX_WIRE_H
#define HX_WIRE_H

#include "proto/entry.h"

#define HX_WIRE_VERSION 1

/* Limits every node enforces on what it receives. */
#define HX_WIRE_FRAME_MAX (1u << 20) /* bytes per frame (ZMQ_MAXMSGSIZE) */
#define HX_WIRE_FRAME_MIN                                                                       \
	4102                  /* least max_frame in a HELLO: a 4096-byte Negentropy message + 6 \
	                       */
#define HX_WIRE_BATCH_MAX 256 /* entries per ENTRIES/PUSH message */
#define HX_WIRE_FRAMES_MAX (1 + HX_WIRE_BATCH_MAX) /* frames per message */
#define HX_WIRE_WANT_MAX 1024                      /* ids per WANT */
#define HX_WIRE_BATCH_BYTES (4u << 20)             /* a sender's target bytes per batch */

enum hx_wire_type {
	HX_MSG_HELLO = 0x01,
	HX_MSG_PING = 0x02,
	HX_MSG_NE_QUERY = 0x10, /* initiator -> responder */
	HX_MSG_NE_REPLY = 0x11, /* responder -> initiator */
	HX_MSG_NE_DONE = 0x12,  /* initiator -> responder: result */
	HX_MSG_NE_ERROR = 0x13, /* either side: the session is abandoned */
	HX_MSG_WANT = 0x20,
	HX_MSG_ENTRIES = 0x21,
	HX_MSG_ANNOUNCE = 0x22, /* ids of new entries the sender holds, bodies on WANT */
	HX_MSG_PUSH = 0x30,
	HX_MSG_ACK = 0x31,
	HX_MSG_REFUSED = 0x40, /* receiver of a batch -> its sender: why entries were refused */
};

/* HELLO capabilities (bit set = supported). */
enum {
	HX_CAP_NEGENTROPY = 1u << 0, /* Negentropy v1 over (timestamp, id) */
	HX_CAP_PUSH = 1u << 1,       /* live PUSH / ACK */
	HX_CAP_RELAY = 1u << 2,      /* stores and forwards others' entries */
	HX_CAP_REFUSED = 1u << 3,    /* understands REFUSED (older nodes count it as malformed) */
	HX_CAP_ANNOUNCE = 1u << 4,   /* understands ANNOUNCE: relays offered by id, not pushed */
};

/* REFUSED reasons on the wire (a receiver keeps codes it does not know
 * under their number). */
enum {
	HX_WREFUSE_MALFORMED = 1,  /* not the canonical encoding, unknown version */
	HX_WREFUSE_LIMIT = 2,      /* a field or the entry over its limit */
	HX_WREFUSE_SIGNATURE = 3,  /* the signature does not verify */
	HX_WREFUSE_NOT_MEMBER = 4, /* the author is not a member of the refusing node */
	HX_WREFUSE_FUTURE = 5,     /* dated more than 10 minutes after the refusing node's clock */
	HX_WREFUSE_RECORD = 6,     /* a system record (.hansa/...) that breaks its rules */
	HX_WREFUSE_DEVICE = 7,     /* signed by a key that is no device of the author */
	HX_WREFUSE_REVOKED = 8,    /* by a revoked device or a retired organisation key */
};
#define HX_WIRE_REFUSED_MAX HX_WIRE_BATCH_MAX /* ids per REFUSED */

/* ENTRIES flags. */
enum { HX_ENTRIES_LAST = 1u << 0 };
/* PUSH flags. */
enum { HX_PUSH_LIVE = 1u << 0 };

/* NE_ERROR reasons. */
enum {
	HX_NEERR_BUSY = 1,      /* too many sessions; try later */
	HX_NEERR_MALFORMED = 2, /* the Negentropy message did not decode */
	HX_NEERR_INTERNAL = 3,  /* a store error on the responder */
	HX_NEERR_SESSION = 4,   /* unknown or expired session */
};

#define HX_HELLO_LEN 56
#define HX_PING_LEN 10
#define HX_NE_HDR_LEN 6
#define HX_NE_DONE_LEN 14
#define HX_NE_ERROR_LEN 7
#define HX_WANT_HDR_LEN 8
#define HX_ENTRIES_LEN 9
#define HX_ANNOUNCE_HDR_LEN 4
#define HX_PUSH_LEN 13
#define HX_ACK_LEN 16
#define HX_REFUSED_HDR_LEN 12
#define HX_REFUSED_ITEM_LEN (1 + HX_ID_LEN)

/* A decoded message: the fields of its type are set; pointers borrow the
 * header frame. */
typedef struct hx_wire_msg {
	uint8_t version;
	uint8_t type;
	/* HELLO */
	uint32_t caps;
	uint32_t max_frame;      /* the sender accepts frames up to this */
	uint32_t ne_frame_limit; /* the sender's Negentropy frame size limit */
	uint16_t max_batch;      /* the sender accepts batches up to this */
	uint8_t key[HX_KEY_LEN]; /* the sender's identity key */
	uint64_t time;           /* HELLO, PING: the sender's clock, µs */
	/* NE_* */
	uint32_t session;
	const uint8_t *ne; /* NE_QUERY/NE_REPLY: Negentropy message */
	size_t nelen;
	uint32_t have, need; /* NE_DONE: ids the initiator has for the
	                      * responder / needs from it */
	uint8_t reason;      /* NE_ERROR */
	/* WANT / ENTRIES */
	uint32_t request;
	uint16_t count;     /* WANT/ANNOUNCE ids; ENTRIES/PUSH entry frames */
	const uint8_t *ids; /* WANT, ANNOUNCE: count * 32 bytes */
	uint8_t flags;      /* ENTRIES, PUSH */
	/* PUSH / ACK */
	uint64_t seq;
	uint16_t stored, known, refused; /* ACK */
	/* REFUSED: time is the refusing node's clock; count items of
	 * HX_REFUSED_ITEM_LEN bytes (reason u8, entry id) at items */
	const uint8_t *items;
} hx_wire_msg;

/*
 * Decodes a message's header frame. nframes is how many frames the whole
 * message has (the header included): batches must have exactly 1 + count,
 * every other type exactly 1. HX_EVERSION when the version byte is not
 * HX_WIRE_VERSION (m->version and m->type are still set, so that a HELLO
 * from a newer node can be answered), HX_EPROTO for any malformed header
 * (unknown type, wrong length, count out of range, frame count mismatch),
 * HX_ELIMIT when over a limit.
 */
int hx_wire_decode(hx_wire_msg *m, const uint8_t *hdr, size_t len, size_t nframes) HX_WUR;

/* Encoders write the header frame into out (room for the *_LEN constant,
 * or HX_WANT_HDR_LEN + 32 * count for WANT, HX_NE_HDR_LEN + nelen for NE
 * frames) and return its length. */
size_t hx_wire_hello(uint8_t out[HX_HELLO_LEN], uint32_t caps, uint32_t max_frame,
                     uint32_t ne_frame_limit, uint16_t max_batch, const uint8_t key[HX_KEY_LEN],
                     uint64_t now);
size_t hx_wire_ping(uint8_t out[HX_PING_LEN], uint64_t now);
/* NE_QUERY or NE_REPLY; *out is malloc'd (caller frees). */
int hx_wire_ne(uint8_t **out, size_t *outlen, uint8_t type, uint32_t session, const uint8_t *ne,
               size_t nelen) HX_WUR;
size_t hx_wire_ne_done(uint8_t out[HX_NE_DONE_LEN], uint32_t session, uint32_t have, uint32_t need);
size_t hx_wire_ne_error(uint8_t out[HX_NE_ERROR_LEN], uint32_t session, uint8_t reason);
/* WANT: count <= HX_WIRE_WANT_MAX ids (32 bytes each, consecutive). */
size_t hx_wire_want(uint8_t *out, uint32_t request, const uint8_t *ids, uint16_t count);
/* ANNOUNCE: count (1..HX_WIRE_WANT_MAX) ids; out has room for
 * HX_ANNOUNCE_HDR_LEN + 32 * count. */
size_t hx_wire_announce(uint8_t *out, const uint8_t *ids, uint16_t count);
size_t hx_wire_entries(uint8_t out[HX_ENTRIES_LEN], uint32_t request, uint16_t count,
                       uint8_t flags);
size_t hx_wire_push(uint8_t out[HX_PUSH_LEN], uint64_t seq, uint16_t count, uint8_t flags);
size_t hx_wire_ack(uint8_t out[HX_ACK_LEN], uint64_t seq, uint16_t stored, uint16_t known,
                   uint16_t refused);

/* REFUSED: count (1..HX_WIRE_REFUSED_MAX) items, reasons[i] (>= 1) for
 * ids[i]; out has room for HX_REFUSED_HDR_LEN + count * HX_REFUSED_ITEM_LEN. */
size_t hx_wire_refused(uint8_t *out, uint64_t now, const uint8_t *reasons,
                       const uint8_t (*ids)[HX_ID_LEN], uint16_t count);

/* A short name of a message type ("hello", "push", ...; "?" if unknown). */
const char *hx_wire_type_name(uint8_t type);

#endif
