/*
 * entry.h: the entry, hansa's unit of knowledge and of replication, and its
 * canonical deterministic-CBOR encoding (docs/FORMAT.md is the byte-level
 * spec). An entry is immutable once signed; its id is BLAKE2b-256 of the
 * encoded field map, and the Ed25519 signature is over that id.
 */
#ifndef HX_ENTRY_H
#define HX_ENTRY_H

#include "proto/hx.h"

/* Format 1: the ten fields. Format 2: the ten fields and at least one of
 * the optional fields signer (10) and attachments (11). hx_entry_sign writes
 * format 1 whenever neither is present, so entries that need nothing new
 * stay readable by nodes that know only format 1. */
#define HX_ENTRY_VERSION 1
#define HX_ENTRY_VERSION_2 2
#define HX_KEY_LEN 32    /* Ed25519 public key */
#define HX_SECRET_LEN 64 /* Ed25519 secret key (libsodium layout) */
#define HX_ID_LEN 32     /* BLAKE2b-256 */
#define HX_SIG_LEN 64    /* Ed25519 signature */

#define HX_PATH_MAX 256  /* bytes of [a-z0-9._+/-] */
#define HX_KIND_MAX 32   /* bytes of [a-z0-9_-] */
#define HX_TITLE_MAX 512 /* bytes of UTF-8 */
#define HX_BODY_MAX (256 * 1024)
#define HX_TAGS_MAX 64         /* tags per entry */
#define HX_TAG_MAX 64          /* bytes per tag */
#define HX_LANG_MAX 16         /* bytes of [a-z0-9-], e.g. "en", "pt-br", "und" */
#define HX_META_MAX 32         /* metadata keys per entry */
#define HX_META_KEY_MAX 64     /* bytes of [a-z0-9_.-] */
#define HX_META_VALUE_MAX 2048 /* bytes of UTF-8 */
/* No valid entry is longer than this (all limits at once, plus headers). */
#define HX_ENTRY_MAX (HX_BODY_MAX + 256 * 1024)

/* Attachments (format 2, docs/FORMAT.md §1.7). */
#define HX_ATTACH_MAX 32                /* attachments per entry */
#define HX_ATTACH_NAME_MAX 255          /* bytes of UTF-8, a file name */
#define HX_ATTACH_TYPE_MAX 127          /* bytes of a media type, e.g. application/pdf */
#define HX_ATTACH_SIZE_MAX (1ULL << 40) /* format limit; nodes set lower policies */
#define HX_CHUNK_SIZE (256 * 1024)      /* a blob's chunk, the last one shorter */

#define HX_KIND_TOMBSTONE "tombstone"
/* System records (docs/FORMAT.md §1.8) live under this path prefix, have
 * kinds starting with "hansa-", and are not documents a user sees. */
#define HX_SYSTEM_PREFIX ".hansa/"

typedef struct hx_meta {
	char *key;
	char *value;
} hx_meta;

/* One attached file: its name, size, media type and blob hash (the
 * BLAKE2b-256 of its size and chunk hashes, hx_blob_hash). */
typedef struct hx_attach {
	char *name;
	uint64_t size;
	char *type;
	uint8_t hash[HX_ID_LEN];
} hx_attach;

/*
 * All strings are NUL-terminated UTF-8 without embedded NULs. After
 * hx_entry_decode the entry owns every string and array (free with
 * hx_entry_clear). Callers building an entry to sign may point the fields at
 * their own memory and must then not call hx_entry_clear on it.
 */
typedef struct hx_entry {
	uint64_t version;
	uint8_t author[HX_KEY_LEN];
	char *path;
	uint64_t timestamp; /* microseconds since the Unix epoch, author's clock */
	char *kind;
	char *title;
	char *body; /* Markdown */
	char **tags;
	size_t ntags;
	char *lang;
	hx_meta *meta;
	size_t nmeta;
	/* Format 2 only. has_signer: the entry was signed by signer (a device
	 * key of the author's organisation) rather than by author itself. */
	int has_signer;
	uint8_t signer[HX_KEY_LEN];
	hx_attach *attach;
	size_t nattach;
	/* Filled by hx_entry_sign and hx_entry_decode. */
	uint8_t id[HX_ID_LEN];
	uint8_t sig[HX_SIG_LEN];
} hx_entry;

/* Checks every field against the format's rules and limits.
 * HX_OK, HX_ELIMIT (too long/many) or HX_EINVAL (bad characters, empty path,
 * duplicate tag or metadata key). */
int hx_entry_check(const hx_entry *e) HX_WUR;
/* The same, and *why (if not NULL) gets a static one-line reason. */
int hx_entry_check_why(const hx_entry *e, const char **why) HX_WUR;

/*
 * Signs e with sk (the author's 64-byte secret key): sets e->author from sk,
 * e->version to HX_ENTRY_VERSION, e->id and e->sig, and returns the signed
 * canonical bytes in *out (caller frees with free()). Metadata may be given
 * in any order; it is written sorted.
 */
int hx_entry_sign(hx_entry *e, const uint8_t sk[HX_SECRET_LEN], uint8_t **out,
                  size_t *outlen) HX_WUR;

/*
 * Signs e for the organisation key author with sk, the secret key of one
 * of its devices (or of author itself, which is then hx_entry_sign). The
 * entry records the device's public key as its signer. Whether that device
 * may sign for author is the store's question (device records), not the
 * codec's.
 */
int hx_entry_sign_for(hx_entry *e, const uint8_t author[HX_KEY_LEN],
                      const uint8_t sk[HX_SECRET_LEN], uint8_t **out, size_t *outlen) HX_WUR;

/* The key whose signature e carries: signer when present, else author. */
const uint8_t *hx_entry_signer(const hx_entry *e);

/*
 * A blob's hash (docs/FORMAT.md §1.7): BLAKE2b-256 of u64 BE size followed
 * by the BLAKE2b-256 of each HX_CHUNK_SIZE chunk in order. chunk_hashes
 * holds hx_blob_chunks(size) hashes of HX_ID_LEN bytes.
 */
uint64_t hx_blob_chunks(uint64_t size);
void hx_blob_hash(uint8_t out[HX_ID_LEN], uint64_t size, const uint8_t *chunk_hashes);

/* Finds an attachment by name; NULL when absent. Borrowed from e. */
const hx_attach *hx_entry_attach(const hx_entry *e, const char *name);

/* 1 when e is a system record (path under HX_SYSTEM_PREFIX). */
int hx_entry_is_system(const hx_entry *e);

/*
 * Decodes signed canonical bytes into e (zeroed first) and computes e->id.
 * Rejects with HX_EPROTO anything that is not the one canonical encoding
 * (non-shortest lengths, indefinite lengths, unsorted or unknown keys,
 * invalid UTF-8, trailing bytes), HX_EVERSION an unknown format version,
 * HX_ELIMIT a field over its limit. Does not check the signature.
 * On error e holds nothing to free.
 */
int hx_entry_decode(hx_entry *e, const uint8_t *buf, size_t len) HX_WUR;

/* HX_OK when e->sig is the signer's (hx_entry_signer) signature of e->id,
 * else HX_EFORGED. */
int hx_entry_verify(const hx_entry *e) HX_WUR;

/* hx_entry_decode, then hx_entry_verify. */
int hx_entry_open(hx_entry *e, const uint8_t *buf, size_t len) HX_WUR;

/* Frees what hx_entry_decode allocated and zeroes e. NULL-safe. */
void hx_entry_clear(hx_entry *e);

/* Looks up a metadata value; NULL when absent. Borrowed from e. */
const char *hx_entry_meta(const hx_entry *e, const char *key);

int hx_entry_is_tombstone(const hx_entry *e);
/* 1 when e, as its document's current version, is listed, indexed and
 * exported: neither a tombstone nor a system record. */
int hx_entry_is_listed(const hx_entry *e);

/* Lower-case hex of n bytes into out (2n+1 bytes). Returns out. */
char *hx_hex(char *out, const uint8_t *bin, size_t n);
/* Parses exactly 2n hex digits; HX_OK or HX_EINVAL. */
int hx_unhex(uint8_t *bin, size_t n, const char *hex) HX_WUR;

#endif
