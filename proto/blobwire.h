/*
 * blobwire.h: the wire messages that move attachment blobs between nodes
 * (docs/PROTOCOL.md §9, types 0x50-0x5f): ask a peer for a blob's chunk
 * hash list, its answer (the list and which chunks it holds) or "none",
 * ask for chunks by index, and the chunks themselves. Same framing as
 * wire.h (first frame a header: version byte, type byte); the hash list, the
 * holding bitmap and a chunk's bytes travel in further frames. No I/O.
 */
#ifndef HX_BLOBWIRE_H
#define HX_BLOBWIRE_H

#include "proto/wire.h"

enum hx_bwire_type {
	HX_MSG_BLOB_GET = 0x50,   /* send me the hash list of this blob */
	HX_MSG_BLOB_LIST = 0x51,  /* the hash list, and which chunks I hold */
	HX_MSG_BLOB_NONE = 0x52,  /* I do not serve this blob (reason) */
	HX_MSG_CHUNK_WANT = 0x53, /* send me these chunks */
	HX_MSG_CHUNK = 0x54,      /* one chunk, or "not held" */
};
#define HX_BWIRE_FIRST 0x50
#define HX_BWIRE_LAST 0x5f

/* BLOB_LIST flags. */
enum { HX_BLIST_WHOLE = 1u << 0 }; /* every chunk held: no bitmap frame */
/* CHUNK flags. */
enum { HX_CHUNK_NONE = 1u << 0 }; /* not held: no data frame */
/* BLOB_NONE reasons. */
enum {
	HX_BNONE_ABSENT = 1, /* not held at all */
	HX_BNONE_BUSY = 2,   /* held, but the sender serves too many now */
};

/* Limits. A hash list must fit one frame: 32768 chunks of 256 KiB, 8 GiB. */
#define HX_BWIRE_CHUNKS_MAX (HX_WIRE_FRAME_MAX / HX_ID_LEN)
#define HX_BWIRE_WANT_MAX 64 /* indexes per CHUNK_WANT */

#define HX_BLOB_GET_LEN 38
#define HX_BLOB_LIST_LEN 47
#define HX_BLOB_NONE_LEN 39
#define HX_CHUNK_WANT_HDR_LEN 40
#define HX_CHUNK_LEN 43

/* A decoded blob message; pointers borrow the frames given to the decoder. */
typedef struct hx_bwire_msg {
	uint8_t type;
	uint32_t request;
	uint8_t hash[HX_ID_LEN]; /* the blob */
	/* BLOB_LIST */
	uint64_t size;
	uint8_t flags;          /* BLOB_LIST, CHUNK */
	uint32_t nchunks;       /* hx_blob_chunks(size) */
	const uint8_t *hashes;  /* nchunks * 32 bytes */
	const uint8_t *bitmap;  /* (nchunks + 7) / 8 bytes, or NULL when WHOLE */
	uint8_t reason;         /* BLOB_NONE */
	uint16_t count;         /* CHUNK_WANT */
	const uint8_t *indexes; /* CHUNK_WANT: count u32 BE */
	uint32_t index;         /* CHUNK */
	const uint8_t *data;    /* CHUNK: the bytes (NULL with HX_CHUNK_NONE) */
	size_t datalen;
} hx_bwire_msg;

/*
 * Decodes a blob message. frames[i] / lens[i] are the message's frames, the
 * header first (nframes of them). HX_EVERSION (wrong version byte),
 * HX_EPROTO (unknown type, wrong length or frame count, bad flags or
 * bitmap), HX_ELIMIT (over a limit).
 */
int hx_bwire_decode(hx_bwire_msg *m, const uint8_t *const *frames, const size_t *lens,
                    size_t nframes) HX_WUR;

/* Encoders write a header frame (room for the *_LEN constant; CHUNK_WANT:
 * HX_CHUNK_WANT_HDR_LEN + 4 * count) and return its length. */
size_t hx_bwire_get(uint8_t out[HX_BLOB_GET_LEN], uint32_t request, const uint8_t hash[HX_ID_LEN]);
/* Followed by a frame of the chunk hashes and, unless flags has
 * HX_BLIST_WHOLE, one of the bitmap (bit i = byte i / 8, bit i % 8). */
size_t hx_bwire_list(uint8_t out[HX_BLOB_LIST_LEN], uint32_t request, const uint8_t hash[HX_ID_LEN],
                     uint64_t size, uint8_t flags);
size_t hx_bwire_none(uint8_t out[HX_BLOB_NONE_LEN], uint32_t request, const uint8_t hash[HX_ID_LEN],
                     uint8_t reason);
size_t hx_bwire_want(uint8_t *out, uint32_t request, const uint8_t hash[HX_ID_LEN],
                     const uint32_t *indexes, uint16_t count);
/* Followed by a frame of the chunk's bytes unless flags has HX_CHUNK_NONE. */
size_t hx_bwire_chunk(uint8_t out[HX_CHUNK_LEN], uint32_t request, const uint8_t hash[HX_ID_LEN],
                      uint32_t index, uint8_t flags);

/* The length of chunk index of a blob of size bytes (0 past the end). */
size_t hx_bwire_chunk_len(uint64_t size, uint32_t index);

/* "blob-get", "blob-list", ...; "?" when unknown. */
const char *hx_bwire_type_name(uint8_t type);

#endif
