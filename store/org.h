/*
 * org.h: the organisation behind an author key, as the store knows it from
 * the system records it holds (docs/FORMAT.md §1.8): its devices (certified,
 * admin, revoked since), its current signing key after rotations, and who
 * signed an entry in words. The store applies the same rules when an entry
 * arrives (store/org.c): a signer must be the organisation's current key or
 * one of its devices, not revoked at the entry's time.
 */
#ifndef HX_STORE_ORG_H
#define HX_STORE_ORG_H

#include "proto/device.h"
#include "store/store.h"

/* A device as its stored records say: the newest version's name, admin
 * and transport key, the time of the first one, the earliest revocation. */
typedef struct hx_device {
	uint8_t key[HX_KEY_LEN];
	char name[HX_DEVICE_NAME_MAX + 1];
	int admin;
	int has_transport;
	uint8_t transport[32];
	uint64_t since;                   /* µs, timestamp of its first record */
	uint64_t revoked;                 /* µs, earliest revocation; HX_NEVER when none */
	uint8_t certified_by[HX_KEY_LEN]; /* signer of its first record */
} hx_device;

/* HX_ENOTFOUND when org has no record of dev. */
int hx_store_device_get(hx_store *s, const uint8_t org[HX_KEY_LEN], const uint8_t dev[HX_KEY_LEN],
                        hx_device *d) HX_WUR;
/* Every device of org in key order; *out malloc'd (caller frees), NULL
 * when *n is 0. */
int hx_store_device_list(hx_store *s, const uint8_t org[HX_KEY_LEN], hx_device **out,
                         size_t *n) HX_WUR;
/* The device of a member (or of this node's own organisation, which is a
 * member of its own network) whose node uses transport key t and that is
 * not revoked at now: HX_OK with org and dev, or HX_ENOTFOUND. */
int hx_store_device_by_transport(hx_store *s, const uint8_t t[32], uint64_t now,
                                 uint8_t org[HX_KEY_LEN], uint8_t dev[HX_KEY_LEN]) HX_WUR;
/* The key that signs for org as the organisation at time t: org itself, or
 * the successor named by its latest rotation record dated before t. */
int hx_store_signing_key(hx_store *s, const uint8_t org[HX_KEY_LEN], uint64_t t,
                         uint8_t key[HX_KEY_LEN]) HX_WUR;
/* Who signed e, in words, into out: "" when the organisation key itself
 * signed; else the device's name, "organisation key (rotated)" or the
 * first 16 hex digits of an unknown signer. */
void hx_store_signer_name(hx_store *s, const hx_entry *e, char *out, size_t n);

#endif
