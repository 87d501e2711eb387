/*
 * member.h: the member record, which says who a partner is: its Ed25519
 * identity key, its CURVE transport key (signed by the identity key, so
 * that a node admits a connection only from a key the partner vouched for)
 * and its profile. Canonical deterministic CBOR like the entry; byte table
 * in member.c and docs/PROTOCOL.md. No I/O.
 */
#ifndef HX_MEMBER_H
#define HX_MEMBER_H

#include "proto/entry.h"

#define HX_MEMBER_VERSION 1
#define HX_CURVE_KEY_LEN 32
#define HX_PROFILE_MAX 16        /* profile fields per record */
#define HX_PROFILE_KEY_MAX 32    /* bytes of [a-z0-9_-] */
#define HX_PROFILE_VALUE_MAX 256 /* bytes of UTF-8 */
/* No valid record is longer than this. */
#define HX_MEMBER_MAX (256 + HX_PROFILE_MAX * (HX_PROFILE_KEY_MAX + HX_PROFILE_VALUE_MAX + 6))

/*
 * A member. A *signed* record (has_transport = 1) is made by the member
 * itself and carries its transport key and signature; only those travel
 * between nodes. A *local* record (has_transport = 0, no signature) is what
 * `hansa member add KEY` stores: the key may author entries, but it cannot
 * connect until its signed record arrives (from an invite code).
 * After hx_member_decode the struct owns its strings (hx_member_clear).
 */
typedef struct hx_member {
	uint64_t version;
	uint8_t key[HX_KEY_LEN];
	int has_transport;
	uint8_t transport[HX_CURVE_KEY_LEN];
	uint64_t timestamp; /* µs since the epoch when the record was made */
	hx_meta *profile;   /* name, town, region, country, ... */
	size_t nprofile;
	uint8_t sig[HX_SIG_LEN]; /* valid when has_transport */
} hx_member;

/* Checks the fields (profile keys [a-z0-9_-], values UTF-8, limits,
 * no duplicates): HX_OK, HX_EINVAL or HX_ELIMIT. */
int hx_member_check(const hx_member *m) HX_WUR;

/* Signs m with sk: sets key (from sk), has_transport = 1, version and sig,
 * and returns the canonical bytes in *out (caller frees). m->transport and
 * m->timestamp must be set. Profile may be in any order. */
int hx_member_sign(hx_member *m, const uint8_t sk[HX_SECRET_LEN], uint8_t **out,
                   size_t *outlen) HX_WUR;

/* Encodes a local (unsigned) record of m->key, m->timestamp, m->profile;
 * m->has_transport must be 0. *out: caller frees. */
int hx_member_encode_local(const hx_member *m, uint8_t **out, size_t *outlen) HX_WUR;

/* Decodes a record (signed or local) into m and, for a signed one, checks
 * its signature: HX_EPROTO non-canonical bytes, HX_EVERSION, HX_ELIMIT,
 * HX_EFORGED bad signature. On error m holds nothing to free. */
int hx_member_decode(hx_member *m, const uint8_t *buf, size_t len) HX_WUR;

/* Frees what decode allocated and zeroes m. NULL-safe. */
void hx_member_clear(hx_member *m);

/* A profile value or NULL; borrowed from m. */
const char *hx_member_field(const hx_member *m, const char *key);

/* ---- shared with invite.c: canonical text maps ------------------------ */
/* Canonical order of text map keys (shorter first, then bytewise). */
int hx_meta_key_cmp(const void *a, const void *b);

#endif
