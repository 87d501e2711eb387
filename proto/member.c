/*
 * member.c: the member record's canonical encoding and signature (see
 * member.h; docs/PROTOCOL.md §Member record is the spec).
 *
 * Signed record (made by the member itself):
 *   82                        array(2)
 *      A5                     map(5), keys 0..4 in order
 *         00 01               0 version        uint (1)
 *         01 58 20 <32>       1 identity key   bytes(32), Ed25519
 *         02 58 20 <32>       2 transport key  bytes(32), Curve25519 (ZMQ CURVE)
 *         03 <uint>           3 timestamp      uint, µs since the epoch
 *         04 <map>            4 profile        map text -> text, canonical order
 *      58 40 <sig:64>         Ed25519 signature by the identity key of
 *                             "hansa/member/v1" (15 ASCII bytes) ‖ <map bytes>
 * Local record (kept only in this node's members table, never sent):
 *   81 A4 00 01 01 58 20 <32> 03 <uint> 04 <map>      no transport key, no sig
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/cbor.h"
#include "proto/member.h"

#define CONTEXT "hansa/member/v1"
#define CONTEXT_LEN 15

enum { K_VERSION, K_KEY, K_TRANSPORT, K_TIMESTAMP, K_PROFILE };

int hx_meta_key_cmp(const void *a, const void *b)
{
	const hx_meta *x = a, *y = b;
	size_t lx = strlen(x->key), ly = strlen(y->key);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(x->key, y->key, lx);
}

static int key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0)
		return HX_EINVAL;
	if (n > HX_PROFILE_KEY_MAX)
		return HX_ELIMIT;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' ||
		      *k == '-'))
			return HX_EINVAL;
	return HX_OK;
}

int hx_member_check(const hx_member *m)
{
	int rc;
	if (m->nprofile > HX_PROFILE_MAX)
		return HX_ELIMIT;
	if (m->nprofile && !m->profile)
		return HX_EINVAL;
	for (size_t i = 0; i < m->nprofile; i++) {
		const char *k = m->profile[i].key, *v = m->profile[i].value;
		if (!k || !v)
			return HX_EINVAL;
		if ((rc = key_ok(k)))
			return rc;
		if (strlen(v) > HX_PROFILE_VALUE_MAX)
			return HX_ELIMIT;
		if (!hx_utf8_valid(v, strlen(v)))
			return HX_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(k, m->profile[j].key))
				return HX_EINVAL;
	}
	return HX_OK;
}

/* The field map: 5 entries with the transport key, else 4. */
static int encode_map(const hx_member *m, hx_buf *b)
{
	hx_meta *p = NULL;
	if (m->nprofile) {
		if (!(p = malloc(m->nprofile * sizeof *p)))
			return HX_ENOMEM;
		memcpy(p, m->profile, m->nprofile * sizeof *p);
		qsort(p, m->nprofile, sizeof *p, hx_meta_key_cmp);
	}
	hx_cbor_head(b, HX_CBOR_MAP, m->has_transport ? 5 : 4);
	hx_cbor_uint(b, K_VERSION);
	hx_cbor_uint(b, HX_MEMBER_VERSION);
	hx_cbor_uint(b, K_KEY);
	hx_cbor_bytes(b, m->key, HX_KEY_LEN);
	if (m->has_transport) {
		hx_cbor_uint(b, K_TRANSPORT);
		hx_cbor_bytes(b, m->transport, HX_CURVE_KEY_LEN);
	}
	hx_cbor_uint(b, K_TIMESTAMP);
	hx_cbor_uint(b, m->timestamp);
	hx_cbor_uint(b, K_PROFILE);
	hx_cbor_head(b, HX_CBOR_MAP, m->nprofile);
	for (size_t i = 0; i < m->nprofile; i++) {
		hx_cbor_text(b, p[i].key, strlen(p[i].key));
		hx_cbor_text(b, p[i].value, strlen(p[i].value));
	}
	free(p);
	return b->err;
}

/* Ed25519 over CONTEXT ‖ map, without copying the map twice. */
static int signed_message(const uint8_t *map, size_t n, uint8_t **msg)
{
	if (!(*msg = malloc(CONTEXT_LEN + n)))
		return HX_ENOMEM;
	memcpy(*msg, CONTEXT, CONTEXT_LEN);
	memcpy(*msg + CONTEXT_LEN, map, n);
	return HX_OK;
}

int hx_member_sign(hx_member *m, const uint8_t sk[HX_SECRET_LEN], uint8_t **out, size_t *outlen)
{
	hx_buf b = { 0 };
	uint8_t *msg;
	int rc;

	*out = NULL;
	*outlen = 0;
	m->version = HX_MEMBER_VERSION;
	m->has_transport = 1;
	crypto_sign_ed25519_sk_to_pk(m->key, sk);
	if ((rc = hx_member_check(m)))
		return rc;
	hx_buf_put(&b, "\x82", 1);
	if ((rc = encode_map(m, &b)) || (rc = signed_message(b.data + 1, b.len - 1, &msg))) {
		free(b.data);
		return rc;
	}
	crypto_sign_ed25519_detached(m->sig, NULL, msg, CONTEXT_LEN + b.len - 1, sk);
	free(msg);
	hx_cbor_bytes(&b, m->sig, HX_SIG_LEN);
	if (b.err) {
		free(b.data);
		return b.err;
	}
	*out = b.data;
	*outlen = b.len;
	return HX_OK;
}

int hx_member_encode_local(const hx_member *m, uint8_t **out, size_t *outlen)
{
	hx_buf b = { 0 };
	int rc;

	*out = NULL;
	*outlen = 0;
	if (m->has_transport)
		return HX_EINVAL;
	if ((rc = hx_member_check(m)))
		return rc;
	hx_buf_put(&b, "\x81", 1);
	if ((rc = encode_map(m, &b))) {
		free(b.data);
		return rc;
	}
	*out = b.data;
	*outlen = b.len;
	return HX_OK;
}

static int read_key32(hx_rd *r, uint8_t out[32])
{
	const uint8_t *p;
	size_t n;
	int rc = hx_cbor_read_str(r, HX_CBOR_BYTES, &p, &n);
	if (rc)
		return rc;
	if (n != 32)
		return HX_EPROTO;
	memcpy(out, p, 32);
	return HX_OK;
}

static int decode_map(hx_member *m, hx_rd *r, int signed_rec)
{
	uint64_t n;
	int rc;

	if ((rc = hx_cbor_read_head(r, HX_CBOR_MAP, &n)))
		return rc;
	if (n != (signed_rec ? 5u : 4u))
		return HX_EPROTO;
	if ((rc = hx_cbor_read_key(r, K_VERSION)) || (rc = hx_cbor_read_uint(r, &m->version)))
		return rc;
	if (m->version != HX_MEMBER_VERSION)
		return HX_EVERSION;
	if ((rc = hx_cbor_read_key(r, K_KEY)) || (rc = read_key32(r, m->key)))
		return rc;
	if (signed_rec) {
		if ((rc = hx_cbor_read_key(r, K_TRANSPORT)) || (rc = read_key32(r, m->transport)))
			return rc;
		m->has_transport = 1;
	}
	if ((rc = hx_cbor_read_key(r, K_TIMESTAMP)) || (rc = hx_cbor_read_uint(r, &m->timestamp)))
		return rc;
	if ((rc = hx_cbor_read_key(r, K_PROFILE)) || (rc = hx_cbor_read_head(r, HX_CBOR_MAP, &n)))
		return rc;
	if (n > HX_PROFILE_MAX)
		return HX_ELIMIT;
	if (n && !(m->profile = calloc(n, sizeof *m->profile)))
		return HX_ENOMEM;
	for (; m->nprofile < n; m->nprofile++) {
		hx_meta *p = &m->profile[m->nprofile];
		if ((rc = hx_cbor_read_text(r, HX_PROFILE_KEY_MAX, &p->key)) ||
		    (rc = hx_cbor_read_text(r, HX_PROFILE_VALUE_MAX, &p->value))) {
			m->nprofile++; /* so that clear frees what was read */
			return rc;
		}
		if (m->nprofile && hx_meta_key_cmp(&m->profile[m->nprofile - 1], p) >= 0) {
			m->nprofile++;
			return HX_EPROTO;
		}
	}
	return HX_OK;
}

int hx_member_decode(hx_member *m, const uint8_t *buf, size_t len)
{
	hx_rd r = { buf, buf + len };
	uint64_t n;
	const uint8_t *map, *sig;
	size_t siglen;
	int rc;

	memset(m, 0, sizeof *m);
	if (len > HX_MEMBER_MAX)
		return HX_ELIMIT;
	if ((rc = hx_cbor_read_head(&r, HX_CBOR_ARRAY, &n)))
		goto fail;
	if (n != 1 && n != 2) {
		rc = HX_EPROTO;
		goto fail;
	}
	map = r.p;
	if ((rc = decode_map(m, &r, n == 2)))
		goto fail;
	size_t maplen = (size_t)(r.p - map);
	if (n == 2) {
		if ((rc = hx_cbor_read_str(&r, HX_CBOR_BYTES, &sig, &siglen)))
			goto fail;
		if (siglen != HX_SIG_LEN) {
			rc = HX_EPROTO;
			goto fail;
		}
		memcpy(m->sig, sig, HX_SIG_LEN);
	}
	if (r.p != r.end) {
		rc = HX_EPROTO;
		goto fail;
	}
	if ((rc = hx_member_check(m)))
		goto fail;
	if (n == 2) {
		uint8_t *msg;
		if ((rc = signed_message(map, maplen, &msg)))
			goto fail;
		int bad = crypto_sign_ed25519_verify_detached(m->sig, msg, CONTEXT_LEN + maplen,
		                                              m->key);
		free(msg);
		if (bad) {
			rc = HX_EFORGED;
			goto fail;
		}
	}
	return HX_OK;
fail:
	hx_member_clear(m);
	return rc;
}

void hx_member_clear(hx_member *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nprofile; i++) {
		free(m->profile[i].key);
		free(m->profile[i].value);
	}
	free(m->profile);
	memset(m, 0, sizeof *m);
}

const char *hx_member_field(const hx_member *m, const char *key)
{
	for (size_t i = 0; i < m->nprofile; i++)
		if (!strcmp(m->profile[i].key, key))
			return m->profile[i].value;
	return NULL;
}
