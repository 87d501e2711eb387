/*
 * device.h: the organisation's system records (docs/FORMAT.md §1.8): a
 * device record .hansa/device/<hex key> (kind hansa-device) certifies one
 * person's or machine's signing key for the organisation, and the rotation
 * record .hansa/org-key (kind hansa-rotate) names the organisation's next
 * signing key. Parsing and checking them is here (no I/O); the store
 * decides who may sign them (store/device.c). Also the printable key codes
 * (recovery code, device code): base32 in groups with a BLAKE2b checksum.
 */
#ifndef HX_DEVICE_H
#define HX_DEVICE_H

#include "proto/entry.h"

#define HX_DEVICE_PREFIX ".hansa/device/"
#define HX_ORGKEY_PATH ".hansa/org-key"
#define HX_KIND_DEVICE "hansa-device"
#define HX_KIND_ROTATE "hansa-rotate"
#define HX_DEVICE_NAME_MAX 200 /* bytes of UTF-8 */
#define HX_NEVER UINT64_MAX    /* "not revoked" */

/* A device record's fields. name is borrowed from the entry. */
typedef struct hx_device_rec {
	uint8_t device[HX_KEY_LEN]; /* from the path */
	const char *name;           /* meta "name", 1-200 bytes */
	int admin;                  /* meta "admin" "1" (else "0" or absent) */
	uint8_t transport[32];      /* meta "transport", 64 hex: its node's CURVE key */
	int has_transport;
	uint64_t revoked; /* meta "revoked", decimal µs; HX_NEVER when absent */
} hx_device_rec;

/* 1 when e is at a device record's path or has its kind; 2 the same for the
 * rotation record; 0 otherwise. */
int hx_org_record_type(const hx_entry *e);

/* Checks a device record's path, kind and meta: HX_OK, or HX_ERECORD with
 * a static one-line reason in *why. */
int hx_device_rec_parse(const hx_entry *e, hx_device_rec *r, const char **why) HX_WUR;
/* The same for a rotation record; successor gets meta "successor". */
int hx_rotate_rec_parse(const hx_entry *e, uint8_t successor[HX_KEY_LEN], const char **why) HX_WUR;
/* ".hansa/device/<64 hex>" into out (HX_PATH_MAX + 1 bytes). */
char *hx_device_path(char *out, const uint8_t dev[HX_KEY_LEN]);

/* ---- printable key codes ------------------------------------------------ */

/* A code is prefix, then base32 (RFC 4648 alphabet, no padding) of
 * payload ‖ check in groups of five separated by '-', where check is the
 * first 4 bytes of BLAKE2b-256(prefix ‖ payload). */
#define HX_CODE_PAYLOAD_MAX 2048
/* *out: caller frees (sodium_memzero first: it is a secret). */
int hx_code_encode(const char *prefix, const uint8_t *payload, size_t n, char **out) HX_WUR;
/* Decodes a code made with prefix: letters in either case; '-', spaces and
 * line breaks are ignored. HX_EINVAL when the prefix differs or a character
 * is not of the alphabet (*bad = its offset in text), HX_ECRYPTO when the
 * checksum differs (a typo), HX_ELIMIT when too long. *n: payload bytes. */
int hx_code_decode(const char *prefix, const char *text, uint8_t *payload, size_t max, size_t *n,
                   size_t *bad) HX_WUR;

#endif
