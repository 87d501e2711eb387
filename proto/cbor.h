/*
 * cbor.h: the small subset of deterministic CBOR (RFC 8949 §4.2.1) that
 * hansa's formats use: unsigned integers, byte and text strings, arrays and
 * maps of definite length, heads always in their shortest form.
 *
 * Written by hand rather than with libcbor because the formats must be
 * byte-exact and the decoder must *reject* every non-canonical form
 * (longer-than-needed heads, indefinite lengths, unsorted or duplicate map
 * keys); libcbor's decoder accepts all of those and would need the same
 * checks wrapped around each of its callbacks.
 */
#ifndef HX_CBOR_H
#define HX_CBOR_H

#include "proto/hx.h"

enum {
	HX_CBOR_UINT = 0,
	HX_CBOR_BYTES = 2,
	HX_CBOR_TEXT = 3,
	HX_CBOR_ARRAY = 4,
	HX_CBOR_MAP = 5,
};

/* A growable output buffer. Errors stick: after the first failure every
 * write is ignored and err stays set. */
typedef struct hx_buf {
	uint8_t *data; /* owned; free() it, or take it */
	size_t len, cap;
	int err;
} hx_buf;

void hx_buf_put(hx_buf *b, const void *p, size_t n);
void hx_cbor_head(hx_buf *b, int major, uint64_t v);
void hx_cbor_uint(hx_buf *b, uint64_t v);
void hx_cbor_bytes(hx_buf *b, const void *p, size_t n);
void hx_cbor_text(hx_buf *b, const char *s, size_t n);

/* A bounds-checked reader over borrowed bytes. */
typedef struct hx_rd {
	const uint8_t *p, *end;
} hx_rd;

/* Reads one head of the expected major type in shortest form: HX_OK or
 * HX_EPROTO (wrong type, truncated, non-shortest, indefinite). */
int hx_cbor_read_head(hx_rd *r, int major, uint64_t *v) HX_WUR;
int hx_cbor_read_uint(hx_rd *r, uint64_t *v) HX_WUR;
/* Borrows a byte or text string's content (no copy, no UTF-8 check). */
int hx_cbor_read_str(hx_rd *r, int major, const uint8_t **p, size_t *n) HX_WUR;
/* Reads an unsigned map key: HX_OK when it is want, else HX_EPROTO. */
int hx_cbor_read_key(hx_rd *r, uint64_t want) HX_WUR;
/* Copies a text string of at most max bytes of strict UTF-8 (hx_utf8_valid)
 * into a new NUL-terminated *out, which the caller frees; *out is left alone
 * on error (HX_EPROTO, HX_ELIMIT when longer than max, HX_ENOMEM). */
int hx_cbor_read_text(hx_rd *r, size_t max, char **out) HX_WUR;

#endif
