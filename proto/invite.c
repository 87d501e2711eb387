/*
 * invite.c: invite codes (see invite.h; docs/PROTOCOL.md §Invite code).
 *
 *   code = "hansa1:" base64url-without-padding(blob)
 *   blob:
 *   82                       array(2)
 *      A4                    map(4), keys 0..3 in order
 *         00 01              0 version     uint (1)
 *         01 <bytes>         1 member      bytes: a signed member record
 *         02 <array>         2 endpoints   array(1..8) of text, each a
 *                                          "tcp://HOST:PORT" of at most 256 bytes
 *         03 <uint>          3 timestamp   uint, µs since the epoch
 *      58 40 <sig:64>        Ed25519 signature, by the member record's
 *                            identity key, of "hansa/invite/v1" ‖ <map bytes>
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/cbor.h"
#include "proto/invite.h"

#define CONTEXT "hansa/invite/v1"
#define CONTEXT_LEN 15
#define VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

int hx_endpoint_check(const char *ep)
{
	size_t n = strlen(ep);
	if (n > HX_ENDPOINT_MAX)
		return HX_EINVAL;
	if (!strncmp(ep, "ipc://", 6))
		return n > 6 && hx_utf8_valid(ep, n) ? HX_OK : HX_EINVAL;
	if (strncmp(ep, "tcp://", 6))
		return HX_EINVAL;
	const char *host = ep + 6, *colon = strrchr(host, ':');
	if (!colon || colon == host)
		return HX_EINVAL;
	if (host[0] == '[') {
		if (colon[-1] != ']' || colon - host < 3)
			return HX_EINVAL;
		for (const char *c = host + 1; c < colon - 1; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return HX_EINVAL;
	} else {
		for (const char *c = host; c < colon; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '*')
				return HX_EINVAL;
	}
	const char *port = colon + 1;
	if (!*port || strlen(port) > 5)
		return HX_EINVAL;
	long v = 0;
	for (const char *c = port; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return HX_EINVAL;
		v = v * 10 + (*c - '0');
	}
	return v >= 1 && v <= 65535 ? HX_OK : HX_EINVAL;
}

static int sign_or_verify(const uint8_t *map, size_t n, uint8_t sig[HX_SIG_LEN], const uint8_t *sk,
                          const uint8_t *pk)
{
	uint8_t *msg = malloc(CONTEXT_LEN + n);
	int rc = HX_OK;
	if (!msg)
		return HX_ENOMEM;
	memcpy(msg, CONTEXT, CONTEXT_LEN);
	memcpy(msg + CONTEXT_LEN, map, n);
	if (sk)
		crypto_sign_ed25519_detached(sig, NULL, msg, CONTEXT_LEN + n, sk);
	else if (!pk || crypto_sign_ed25519_verify_detached(sig, msg, CONTEXT_LEN + n, pk))
		rc = HX_EFORGED;
	free(msg);
	return rc;
}

int hx_invite_encode(const uint8_t *member_rec, size_t reclen, const char *const *endpoints,
                     size_t nendpoints, uint64_t timestamp, const uint8_t sk[HX_SECRET_LEN],
                     char **out)
{
	hx_member m;
	hx_buf b = { 0 };
	uint8_t sig[HX_SIG_LEN], pk[HX_KEY_LEN];
	int rc;

	*out = NULL;
	if (nendpoints == 0 || nendpoints > HX_ENDPOINTS_MAX)
		return HX_EINVAL;
	for (size_t i = 0; i < nendpoints; i++)
		if (hx_endpoint_check(endpoints[i]))
			return HX_EINVAL;
	if ((rc = hx_member_decode(&m, member_rec, reclen)))
		return rc;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	int ok = m.has_transport && !memcmp(m.key, pk, HX_KEY_LEN);
	hx_member_clear(&m);
	if (!ok)
		return HX_EINVAL;
	hx_buf_put(&b, "\x82", 1);
	hx_cbor_head(&b, HX_CBOR_MAP, 4);
	hx_cbor_uint(&b, 0);
	hx_cbor_uint(&b, HX_INVITE_VERSION);
	hx_cbor_uint(&b, 1);
	hx_cbor_bytes(&b, member_rec, reclen);
	hx_cbor_uint(&b, 2);
	hx_cbor_head(&b, HX_CBOR_ARRAY, nendpoints);
	for (size_t i = 0; i < nendpoints; i++)
		hx_cbor_text(&b, endpoints[i], strlen(endpoints[i]));
	hx_cbor_uint(&b, 3);
	hx_cbor_uint(&b, timestamp);
	if (b.err || (rc = sign_or_verify(b.data + 1, b.len - 1, sig, sk, NULL))) {
		rc = b.err ? b.err : rc;
		free(b.data);
		return rc;
	}
	hx_cbor_bytes(&b, sig, HX_SIG_LEN);
	if (b.err) {
		free(b.data);
		return b.err;
	}
	size_t plen = strlen(HX_INVITE_PREFIX);
	size_t tlen = sodium_base64_encoded_len(b.len, VARIANT);
	char *s = malloc(plen + tlen);
	if (!s) {
		free(b.data);
		return HX_ENOMEM;
	}
	memcpy(s, HX_INVITE_PREFIX, plen);
	sodium_bin2base64(s + plen, tlen, b.data, b.len, VARIANT);
	free(b.data);
	*out = s;
	return HX_OK;
}

static int decode_blob(hx_invite *inv, const uint8_t *buf, size_t len, uint8_t **rec,
                       size_t *reclen)
{
	hx_rd r = { buf, buf + len };
	uint64_t n, v;
	const uint8_t *map, *p, *sig;
	size_t plen, siglen;
	int rc;

	if ((rc = hx_cbor_read_head(&r, HX_CBOR_ARRAY, &n)))
		return rc;
	if (n != 2)
		return HX_EPROTO;
	map = r.p;
	if ((rc = hx_cbor_read_head(&r, HX_CBOR_MAP, &n)))
		return rc;
	if (n != 4)
		return HX_EPROTO;
	if ((rc = hx_cbor_read_key(&r, 0)) || (rc = hx_cbor_read_uint(&r, &v)))
		return rc;
	if (v != HX_INVITE_VERSION)
		return HX_EVERSION;
	if ((rc = hx_cbor_read_key(&r, 1)) || (rc = hx_cbor_read_str(&r, HX_CBOR_BYTES, &p, &plen)))
		return rc;
	if ((rc = hx_member_decode(&inv->member, p, plen)))
		return rc == HX_EFORGED ? HX_EFORGED : rc;
	if (!inv->member.has_transport)
		return HX_EPROTO;
	if (rec) {
		if (!(*rec = malloc(plen ? plen : 1)))
			return HX_ENOMEM;
		memcpy(*rec, p, plen);
		*reclen = plen;
	}
	if ((rc = hx_cbor_read_key(&r, 2)) || (rc = hx_cbor_read_head(&r, HX_CBOR_ARRAY, &n)))
		return rc;
	if (n == 0 || n > HX_ENDPOINTS_MAX)
		return n ? HX_ELIMIT : HX_EPROTO;
	for (; inv->nendpoints < n; inv->nendpoints++) {
		if ((rc = hx_cbor_read_str(&r, HX_CBOR_TEXT, &p, &plen)))
			return rc;
		if (plen > HX_ENDPOINT_MAX)
			return HX_ELIMIT;
		char *ep = malloc(plen + 1);
		if (!ep)
			return HX_ENOMEM;
		memcpy(ep, p, plen);
		ep[plen] = 0;
		inv->endpoints[inv->nendpoints] = ep;
		if (strlen(ep) != plen || hx_endpoint_check(ep)) {
			inv->nendpoints++;
			return HX_EPROTO;
		}
	}
	if ((rc = hx_cbor_read_key(&r, 3)) || (rc = hx_cbor_read_uint(&r, &inv->timestamp)))
		return rc;
	size_t maplen = (size_t)(r.p - map);
	if ((rc = hx_cbor_read_str(&r, HX_CBOR_BYTES, &sig, &siglen)))
		return rc;
	if (siglen != HX_SIG_LEN || r.p != r.end)
		return HX_EPROTO;
	uint8_t s[HX_SIG_LEN];
	memcpy(s, sig, HX_SIG_LEN);
	return sign_or_verify(map, maplen, s, NULL, inv->member.key);
}

int hx_invite_decode(hx_invite *inv, const char *code, uint8_t **rec, size_t *reclen)
{
	size_t plen = strlen(HX_INVITE_PREFIX), n, binlen;
	uint8_t *bin;
	int rc;

	memset(inv, 0, sizeof *inv);
	if (rec)
		*rec = NULL;
	while (isspace((unsigned char)*code))
		code++;
	n = strlen(code);
	while (n && isspace((unsigned char)code[n - 1]))
		n--;
	if (n < plen || strncmp(code, HX_INVITE_PREFIX, plen))
		return HX_EINVAL;
	code += plen;
	n -= plen;
	if (n > HX_INVITE_TEXT_MAX)
		return HX_ELIMIT;
	if (!(bin = malloc(n + 1)))
		return HX_ENOMEM;
	if (sodium_base642bin(bin, n + 1, code, n, NULL, &binlen, NULL, VARIANT)) {
		free(bin);
		return HX_EINVAL;
	}
	rc = decode_blob(inv, bin, binlen, rec, reclen);
	free(bin);
	if (rc) {
		hx_invite_clear(inv);
		if (rec) {
			free(*rec);
			*rec = NULL;
		}
	}
	return rc;
}

void hx_invite_clear(hx_invite *inv)
{
	if (!inv)
		return;
	hx_member_clear(&inv->member);
	for (size_t i = 0; i < inv->nendpoints; i++)
		free(inv->endpoints[i]);
	memset(inv, 0, sizeof *inv);
}
