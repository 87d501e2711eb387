/*
 * cbor.c: encoder and strict decoder for hansa's deterministic CBOR subset
 * (see cbor.h for why this is not libcbor).
 */
#include <stdlib.h>
#include <string.h>
#include "proto/cbor.h"

void hx_buf_put(hx_buf *b, const void *p, size_t n)
{
	if (b->err || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *d = realloc(b->data, cap);
		if (!d) {
			b->err = HX_ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void hx_cbor_head(hx_buf *b, int major, uint64_t v)
{
	uint8_t h[9];
	size_t n;
	uint8_t m = (uint8_t)(major << 5);

	if (v < 24) {
		h[0] = m | (uint8_t)v;
		n = 1;
	} else if (v <= 0xff) {
		h[0] = m | 24;
		h[1] = (uint8_t)v;
		n = 2;
	} else if (v <= 0xffff) {
		h[0] = m | 25;
		h[1] = (uint8_t)(v >> 8);
		h[2] = (uint8_t)v;
		n = 3;
	} else if (v <= 0xffffffffu) {
		h[0] = m | 26;
		for (int i = 0; i < 4; i++)
			h[1 + i] = (uint8_t)(v >> (24 - 8 * i));
		n = 5;
	} else {
		h[0] = m | 27;
		for (int i = 0; i < 8; i++)
			h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
		n = 9;
	}
	hx_buf_put(b, h, n);
}

void hx_cbor_uint(hx_buf *b, uint64_t v)
{
	hx_cbor_head(b, HX_CBOR_UINT, v);
}

void hx_cbor_bytes(hx_buf *b, const void *p, size_t n)
{
	hx_cbor_head(b, HX_CBOR_BYTES, n);
	hx_buf_put(b, p, n);
}

void hx_cbor_text(hx_buf *b, const char *s, size_t n)
{
	hx_cbor_head(b, HX_CBOR_TEXT, n);
	hx_buf_put(b, s, n);
}

int hx_cbor_read_head(hx_rd *r, int major, uint64_t *v)
{
	if (r->p >= r->end)
		return HX_EPROTO;
	uint8_t h = *r->p++;
	if ((h >> 5) != major)
		return HX_EPROTO;
	uint8_t ai = h & 0x1f;
	if (ai < 24) {
		*v = ai;
		return HX_OK;
	}
	if (ai > 27) /* 28-30 reserved, 31 indefinite length */
		return HX_EPROTO;
	size_t n = (size_t)1 << (ai - 24);
	if ((size_t)(r->end - r->p) < n)
		return HX_EPROTO;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++)
		x = (x << 8) | *r->p++;
	/* Shortest form: the value must not fit a smaller head. */
	static const uint64_t min[4] = { 24, 0x100, 0x10000, 0x100000000ull };
	if (x < min[ai - 24])
		return HX_EPROTO;
	*v = x;
	return HX_OK;
}

int hx_cbor_read_uint(hx_rd *r, uint64_t *v)
{
	return hx_cbor_read_head(r, HX_CBOR_UINT, v);
}

int hx_cbor_read_str(hx_rd *r, int major, const uint8_t **p, size_t *n)
{
	uint64_t len;
	int rc = hx_cbor_read_head(r, major, &len);
	if (rc)
		return rc;
	if (len > (uint64_t)(r->end - r->p))
		return HX_EPROTO;
	*p = r->p;
	*n = (size_t)len;
	r->p += len;
	return HX_OK;
}

int hx_cbor_read_key(hx_rd *r, uint64_t want)
{
	uint64_t k;
	int rc = hx_cbor_read_uint(r, &k);
	if (rc)
		return rc;
	return k == want ? HX_OK : HX_EPROTO;
}

int hx_cbor_read_text(hx_rd *r, size_t max, char **out)
{
	const uint8_t *p;
	size_t n;
	int rc = hx_cbor_read_str(r, HX_CBOR_TEXT, &p, &n);
	if (rc)
		return rc;
	if (n > max)
		return HX_ELIMIT;
	if (!hx_utf8_valid((const char *)p, n))
		return HX_EPROTO;
	char *s = malloc(n + 1);
	if (!s)
		return HX_ENOMEM;
	memcpy(s, p, n);
	s[n] = 0;
	*out = s;
	return HX_OK;
}
