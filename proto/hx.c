/*
 * hx.c: what every module shares (see hx.h): the text of each error code,
 * the strict UTF-8 check and the growth helper for arrays.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/hx.h"

const char *hx_strerror(int err)
{
	switch (err) {
	case HX_OK: return "success";
	case HX_ENOMEM: return "out of memory";
	case HX_EINVAL: return "invalid argument";
	case HX_EPROTO: return "malformed or non-canonical encoding";
	case HX_ELIMIT: return "over a size limit";
	case HX_EFORGED: return "signature does not verify";
	case HX_ENOTFOUND: return "not found";
	case HX_ECORRUPT: return "store is corrupt";
	case HX_EIO: return "I/O error";
	case HX_EVERSION: return "unsupported format or schema version";
	case HX_EEXIST: return "already exists";
	case HX_EPERM: return "not permitted";
	case HX_EFUTURE: return "timestamp too far in the future";
	case HX_EFULL: return "store map is full";
	case HX_EBUSY: return "busy";
	case HX_ECRYPTO: return "cryptographic check failed";
	case HX_ETIMEOUT: return "timed out";
	case HX_ERECORD: return "a system record that breaks its rules";
	case HX_EDEVICE: return "unknown device";
	case HX_EREVOKED: return "revoked device";
	}
	return "unknown error";
}

int hx_utf8_valid(const char *str, size_t len)
{
	const uint8_t *s = (const uint8_t *)str, *end = s + len;

	while (s < end) {
		/* eight bytes at a time while they are ASCII and none is 0: most
		 * of an entry's text, decoded at each verification */
		const uint64_t hi = 0x8080808080808080ull, lo = 0x0101010101010101ull;
		uint64_t w;
		while (end - s >= 8 && (memcpy(&w, s, 8), !(w & hi) && !((w - lo) & ~w & hi)))
			s += 8;
		if (s == end)
			break;
		uint8_t c = *s;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			s++;
			continue;
		}
		size_t n;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return 0;
		}
		if ((size_t)(end - s) < n)
			return 0;
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n;
	}
	return 1;
}

void *hx_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need == 0)
		need = 1;
	if (arr && need <= *cap)
		return arr;
	size_t ncap = *cap >= 16 ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return NULL;
		ncap *= 2;
	}
	if (!elem || ncap > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(arr, ncap * elem);
	if (p)
		*cap = ncap;
	return p;
}
