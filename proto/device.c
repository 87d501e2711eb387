/*
 * device.c: the organisation's system records (device, rotation) checked
 * field by field, and the printable key codes (recovery and device codes):
 * base32 in groups of five with a 4-byte BLAKE2b checksum, so that a wrong
 * character gives one clear error rather than a wrong key.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/device.h"

int hx_org_record_type(const hx_entry *e)
{
	if (!strncmp(e->path, HX_DEVICE_PREFIX, strlen(HX_DEVICE_PREFIX)) ||
	    !strcmp(e->kind, HX_KIND_DEVICE))
		return 1;
	if (!strcmp(e->path, HX_ORGKEY_PATH) || !strcmp(e->kind, HX_KIND_ROTATE))
		return 2;
	return 0;
}

char *hx_device_path(char *out, const uint8_t dev[HX_KEY_LEN])
{
	char hex[2 * HX_KEY_LEN + 1];
	strcpy(out, HX_DEVICE_PREFIX);
	strcat(out, hx_hex(hex, dev, HX_KEY_LEN));
	return out;
}

/* A lower-case 64-hex-digit key (the form hansa writes: one encoding). */
static int key_hex(uint8_t key[HX_KEY_LEN], const char *s)
{
	if (!s || strlen(s) != 2 * HX_KEY_LEN || strspn(s, "0123456789abcdef") != 2 * HX_KEY_LEN)
		return -1;
	return hx_unhex(key, HX_KEY_LEN, s) ? -1 : 0;
}

/* Decimal without sign or leading zeros, no overflow. */
static int parse_u64(const char *s, uint64_t *v)
{
	size_t n = strlen(s);
	if (!n || n > 20 || strspn(s, "0123456789") != n || (s[0] == '0' && n > 1))
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

#define BAD(reason)                    \
	do {                           \
		if (why)               \
			*why = reason; \
		return HX_ERECORD;     \
	} while (0)

int hx_device_rec_parse(const hx_entry *e, hx_device_rec *r, const char **why)
{
	size_t pl = strlen(HX_DEVICE_PREFIX);
	const char *v;

	memset(r, 0, sizeof *r);
	r->revoked = HX_NEVER;
	if (strncmp(e->path, HX_DEVICE_PREFIX, pl) || key_hex(r->device, e->path + pl))
		BAD("a device record's path is .hansa/device/ and 64 hex digits");
	if (strcmp(e->kind, HX_KIND_DEVICE))
		BAD("a device record's kind is hansa-device");
	if (!memcmp(r->device, e->author, HX_KEY_LEN))
		BAD("the organisation key is no device of its own");
	r->name = hx_entry_meta(e, "name");
	if (!r->name || !*r->name || strlen(r->name) > HX_DEVICE_NAME_MAX)
		BAD("a device record needs a name of 1-200 bytes");
	if ((v = hx_entry_meta(e, "admin")) && strcmp(v, "0") && strcmp(v, "1"))
		BAD("a device record's admin is 0 or 1");
	r->admin = v && !strcmp(v, "1");
	if ((v = hx_entry_meta(e, "transport"))) {
		if (key_hex(r->transport, v))
			BAD("a device record's transport key is 64 hex digits");
		r->has_transport = 1;
	}
	if ((v = hx_entry_meta(e, "revoked")) &&
	    (parse_u64(v, &r->revoked) || r->revoked == HX_NEVER))
		BAD("a device record's revoked is a time in microseconds");
	return HX_OK;
}

int hx_rotate_rec_parse(const hx_entry *e, uint8_t successor[HX_KEY_LEN], const char **why)
{
	if (strcmp(e->path, HX_ORGKEY_PATH))
		BAD("a rotation record's path is .hansa/org-key");
	if (strcmp(e->kind, HX_KIND_ROTATE))
		BAD("a rotation record's kind is hansa-rotate");
	if (key_hex(successor, hx_entry_meta(e, "successor")))
		BAD("a rotation record's successor is a 64-hex-digit key");
	if (!memcmp(successor, e->author, HX_KEY_LEN) ||
	    !memcmp(successor, hx_entry_signer(e), HX_KEY_LEN))
		BAD("a rotation record names a new key as successor");
	return HX_OK;
}

/* ---- codes ---------------------------------------------------------------- */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void checksum(uint8_t out[4], const char *prefix, const uint8_t *p, size_t n)
{
	crypto_generichash_state st;
	uint8_t h[32];
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)prefix, strlen(prefix));
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, h, sizeof h);
	memcpy(out, h, 4);
}

int hx_code_encode(const char *prefix, const uint8_t *payload, size_t n, char **out)
{
	uint8_t buf[HX_CODE_PAYLOAD_MAX + 4];
	if (n > HX_CODE_PAYLOAD_MAX)
		return HX_ELIMIT;
	memcpy(buf, payload, n);
	checksum(buf + n, prefix, payload, n);
	n += 4;
	size_t chars = (n * 8 + 4) / 5, pl = strlen(prefix);
	char *s = malloc(pl + chars + chars / 5 + 2);
	if (!s) {
		sodium_memzero(buf, sizeof buf);
		return HX_ENOMEM;
	}
	memcpy(s, prefix, pl);
	size_t o = pl;
	unsigned acc = 0, bits = 0;
	for (size_t i = 0, c = 0; c < chars; c++) {
		while (bits < 5) {
			acc = (acc << 8) | (i < n ? buf[i] : 0);
			i++;
			bits += 8;
		}
		if (c && c % 5 == 0)
			s[o++] = '-';
		s[o++] = b32[(acc >> (bits - 5)) & 31];
		bits -= 5;
	}
	s[o] = 0;
	sodium_memzero(buf, sizeof buf);
	acc = 0;
	*out = s;
	return HX_OK;
}

int hx_code_decode(const char *prefix, const char *text, uint8_t *payload, size_t max, size_t *n,
                   size_t *bad)
{
	uint8_t buf[HX_CODE_PAYLOAD_MAX + 4 + 1];
	size_t pl = strlen(prefix), o = 0;
	unsigned acc = 0, bits = 0;
	int rc = HX_OK;

	*n = 0;
	*bad = 0;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	if (strncmp(text, prefix, pl))
		return HX_EINVAL;
	for (size_t i = pl; text[i]; i++) {
		char ch = text[i];
		if (ch == '-' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
			continue;
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		const char *p = ch ? strchr(b32, ch) : NULL;
		if (!p) {
			*bad = i;
			rc = HX_EINVAL;
			goto out;
		}
		acc = (acc << 5) | (unsigned)(p - b32);
		bits += 5;
		if (bits >= 8) {
			if (o >= sizeof buf) {
				rc = HX_ELIMIT;
				goto out;
			}
			buf[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* leftover bits are the padding of the last character: zero */
	if (o < 4 || o - 4 > max || (acc & ((1u << bits) - 1))) {
		rc = o - 4 > max && o >= 4 ? HX_ELIMIT : HX_ECRYPTO;
		goto out;
	}
	uint8_t want[4];
	checksum(want, prefix, buf, o - 4);
	if (sodium_memcmp(want, buf + o - 4, 4)) {
		rc = HX_ECRYPTO;
		goto out;
	}
	memcpy(payload, buf, o - 4);
	*n = o - 4;
out:
	sodium_memzero(buf, sizeof buf);
	return rc;
}
