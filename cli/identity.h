/*
 * identity.h: this node's identity key file (Ed25519 signing key and the
 * CURVE transport key pair), optionally protected by a passphrase with
 * Argon2id + XSalsa20-Poly1305, and the partner profile (profile.json).
 */
#ifndef HX_IDENTITY_H
#define HX_IDENTITY_H

#include "proto/entry.h"

#define HX_KEYFILE "identity.key"
#define HX_PROFILEFILE "profile.json"
/* In a home whose key signs for an organisation (a device home, or the
 * organisation's home after `org rotate`): {"org": KEY, "device": bool}. */
#define HX_ORGFILE "org.json"
/* In a device home: the organisation's invite code it was made with,
 * handed on by `device add` on an admin device. */
#define HX_ORGINVITE "org-invite"
/* Printable codes (proto/device.h): a device (`device add`) and the
 * organisation's recovery code (`org export-key`). */
#define HX_DEVICE_CODE_PREFIX "hxdev1-"
#define HX_ORG_CODE_PREFIX "hxorg1-"
/* profile.json is a few hundred bytes; more is not a profile. */
#define HX_PROFILE_FILE_MAX ((size_t)1 << 20)

/* Profile fields, in the order of the partner directories. */
extern const char *const hx_profile_fields[];

/* Writes a new key file at path (0600, temp file + rename). passphrase may
 * be NULL for none. Fails with HX_EEXIST when path exists. */
int hx_keyfile_create(const char *path, const uint8_t seed[32], const uint8_t curve_sk[32],
                      const char *passphrase) HX_WUR;

/* Reads the key file; refuses (HX_EPERM) one readable by group or others.
 * *needs_pass is set when the file is protected and passphrase is NULL
 * (then HX_ECRYPTO is returned); a wrong passphrase is HX_ECRYPTO too;
 * a damaged file (magic, length, key derivation limits) is HX_ECORRUPT. */
int hx_keyfile_load(const char *path, const char *passphrase, uint8_t seed[32],
                    uint8_t curve_sk[32], int *needs_pass) HX_WUR;

/* Reads home/org.json: 0, or -1 when missing or damaged. */
int hx_org_file_load(const char *home, uint8_t org[HX_KEY_LEN], int *device);
/* Writes home/org-invite; 0, or prints the error and returns 1. */
int hx_org_invite_save(const char *home, const char *code);
/* Writes it (0600, temp file + rename): 0 or -1. */
int hx_org_file_save(const char *home, const uint8_t org[HX_KEY_LEN], int device);

#endif
