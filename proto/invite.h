/*
 * invite.h: the invite code, one line that makes two offices partners:
 * "hansa1:" followed by base64url (no padding) of a signed CBOR blob with
 * the inviter's signed member record (identity key, transport key, profile)
 * and the endpoints where its node listens. Byte table in invite.c and
 * docs/PROTOCOL.md. No I/O.
 */
#ifndef HX_INVITE_H
#define HX_INVITE_H

#include "proto/member.h"

#define HX_INVITE_PREFIX "hansa1:"
#define HX_INVITE_VERSION 1
#define HX_ENDPOINTS_MAX 8
#define HX_ENDPOINT_MAX 256
/* The longest code a valid invite can be (prefix + base64 of the blob). */
#define HX_INVITE_TEXT_MAX \
	(16 + 4 * (HX_MEMBER_MAX + HX_ENDPOINTS_MAX * (HX_ENDPOINT_MAX + 3) + 128) / 3)

typedef struct hx_invite {
	hx_member member;                  /* decoded, signature checked */
	char *endpoints[HX_ENDPOINTS_MAX]; /* owned after decode */
	size_t nendpoints;
	uint64_t timestamp; /* when the code was made, µs */
} hx_invite;

/* Checks an endpoint: "tcp://HOST:PORT" (HOST a name, an IPv4 address or
 * [IPv6], PORT 1..65535) or "ipc://PATH". HX_OK or HX_EINVAL. */
int hx_endpoint_check(const char *ep) HX_WUR;

/* Makes a code: member_rec is this node's signed member record (its bytes
 * are embedded as they are), sk the identity secret key that signed it.
 * *out is a NUL-terminated string (caller frees). */
int hx_invite_encode(const uint8_t *member_rec, size_t reclen, const char *const *endpoints,
                     size_t nendpoints, uint64_t timestamp, const uint8_t sk[HX_SECRET_LEN],
                     char **out) HX_WUR;

/* Parses and verifies a code (surrounding whitespace allowed): HX_EINVAL
 * when it is not a hansa1: code or not base64url, HX_EPROTO malformed,
 * HX_EVERSION, HX_ELIMIT, HX_EFORGED when a signature fails or the code is
 * not signed by the member it carries. rec and reclen (when rec is not NULL)
 * get a copy of the embedded member record (caller frees). On error inv
 * holds nothing to free. */
int hx_invite_decode(hx_invite *inv, const char *code, uint8_t **rec, size_t *reclen) HX_WUR;

/* Frees what decode allocated; NULL-safe. */
void hx_invite_clear(hx_invite *inv);

#endif
