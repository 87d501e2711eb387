/*
 * hx.h: what every hansa module shares: the error codes and hx_strerror.
 * Every function in proto/, store/ and node/ returns HX_OK (0) or one of the
 * negative codes below; errno and MDB_* values are translated where they
 * enter and never passed up.
 */
#ifndef HX_H
#define HX_H

#include <stddef.h>
#include <stdint.h>

#define HX_WUR __attribute__((warn_unused_result))

enum hx_err {
	HX_OK = 0,
	HX_ENOMEM = -1,    /* allocation failed */
	HX_EINVAL = -2,    /* bad argument or bad user input */
	HX_EPROTO = -3,    /* malformed bytes: not the canonical encoding */
	HX_ELIMIT = -4,    /* a field or message over its limit */
	HX_EFORGED = -5,   /* signature does not verify */
	HX_ENOTFOUND = -6, /* no such entry, document, member, ... */
	HX_ECORRUPT = -7,  /* the store is inconsistent or damaged */
	HX_EIO = -8,       /* an I/O error (see errno at the edge) */
	HX_EVERSION = -9,  /* unknown format or schema version */
	HX_EEXIST = -10,   /* already there */
	HX_EPERM = -11,    /* not allowed: not a member, not the author, key file mode */
	HX_EFUTURE = -12,  /* timestamp too far in the future */
	HX_EFULL = -13,    /* the LMDB map is full and could not grow */
	HX_EBUSY = -14,    /* locked or in use by another process */
	HX_ECRYPTO = -15,  /* wrong passphrase or a crypto primitive failed */
	HX_ETIMEOUT = -16, /* a peer did not answer in time */
	HX_ERECORD = -17,  /* a system record (.hansa/...) that breaks its kind's rules */
	/* Devices and organisation keys (store/device.c, FORMAT.md §1.8); apart
	 * from the numbers before them so that other branches can add theirs. */
	HX_EDEVICE = -20,  /* signed by a key that is no device of the author */
	HX_EREVOKED = -21, /* signed by a revoked device or a retired organisation key */
};

/* A short English description of an hx_err; never NULL, static storage. */
const char *hx_strerror(int err);

/* Strict UTF-8 check (no overlongs, no surrogates, no NUL); 1 if valid. */
int hx_utf8_valid(const char *s, size_t len);

/* Makes room for need (at least 1) elements of elem bytes in arr, whose
 * capacity is *cap elements: one helper instead of a doubling loop per array.
 * Returns arr when it already has room, else arr realloc'ed to the next power
 * of two (at least 16) with *cap updated; NULL when out of memory or the size
 * overflows, and then arr and *cap are unchanged and arr is still the
 * caller's to free. Use:
 *     T *nv = hx_grow(v, &cap, n + 1, sizeof *v);
 *     if (!nv) return HX_ENOMEM;
 *     v = nv;                                                               */
void *hx_grow(void *arr, size_t *cap, size_t need, size_t elem) HX_WUR;

/* Big-endian integers, as every hansa format and LMDB key writes them (so
 * that byte order is numeric order). */
static inline void hx_be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t hx_be16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void hx_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t hx_be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void hx_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t hx_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif
