/*
 * bundle.h: the bundle, one file that carries signed entries between offices
 * without a network (a USB stick, a mail attachment). A signed manifest
 * (who exported it, when, how many entries, a checksum) is followed by
 * self-checking records, one per entry, so that a damaged or truncated file
 * still yields every intact entry and says where it broke. Pure encoding, no
 * I/O: the writer hands out bytes, the reader walks a buffer. Byte tables at
 * the top of bundle.c and in docs/FORMAT.md §4.
 */
#ifndef HX_BUNDLE_H
#define HX_BUNDLE_H

#include "proto/entry.h"

#define HX_BUNDLE_MAGIC "\x89HXB\r\n\x1a\n" /* 8 bytes, PNG-style */
#define HX_BUNDLE_MAGIC_LEN 8
#define HX_BUNDLE_VERSION 1
#define HX_BUNDLE_HEADER_LEN 200 /* manifest size written by version 1 */
#define HX_BUNDLE_REC_HEAD 20    /* bytes before each entry */
#define HX_BUNDLE_REC_MARK "\x1eHXR"

enum hx_bundle_flags {
	HX_BUNDLE_INCREMENTAL = 1u << 0, /* written against a state file */
};

/* The manifest (bundle header). */
typedef struct hx_bundle_manifest {
	uint16_t version;    /* HX_BUNDLE_VERSION */
	uint16_t header_len; /* entries begin at this offset */
	uint32_t flags;      /* hx_bundle_flags */
	uint8_t exporter[HX_KEY_LEN];
	uint64_t created;         /* microseconds since the epoch */
	uint64_t count;           /* records in the entries section */
	uint64_t entries_len;     /* bytes of the entries section */
	uint8_t checksum[32];     /* BLAKE2b-256 of the entries section */
	uint8_t state_digest[32]; /* checksum of the state file, or zeros */
	uint8_t sig[HX_SIG_LEN];  /* exporter's Ed25519 signature of the rest */
	int sig_ok;               /* decode: 1 when sig verifies */
} hx_bundle_manifest;

/* 1 when buf starts with the bundle magic. */
int hx_bundle_is_bundle(const uint8_t *buf, size_t len);

/* ---- writing -----------------------------------------------------------
 * Write HX_BUNDLE_HEADER_LEN placeholder bytes, then for each entry the
 * record head from hx_bundle_writer_record() followed by the entry bytes,
 * then overwrite the placeholder with the manifest from
 * hx_bundle_writer_finish(). */
typedef struct hx_bundle_writer hx_bundle_writer;

int hx_bundle_writer_new(hx_bundle_writer **out) HX_WUR;
/* NULL-safe; clears *w. */
void hx_bundle_writer_free(hx_bundle_writer **w);
/* The head of the record for entry[len] into head; counts it and adds it to
 * the checksum. HX_ELIMIT when len is 0 or over HX_ENTRY_MAX. */
int hx_bundle_writer_record(hx_bundle_writer *w, const uint8_t *entry, size_t len,
                            uint8_t head[HX_BUNDLE_REC_HEAD]) HX_WUR;
/* Fills m's version, header_len, exporter (from sk), count, entries_len,
 * checksum and sig (the caller sets flags, created, state_digest) and
 * encodes the signed manifest into out. */
int hx_bundle_writer_finish(hx_bundle_writer *w, hx_bundle_manifest *m,
                            const uint8_t sk[HX_SECRET_LEN],
                            uint8_t out[HX_BUNDLE_HEADER_LEN]) HX_WUR;

/* ---- reading ----------------------------------------------------------- */

/* What hx_bundle_next found. */
enum hx_bundle_event {
	HX_BUNDLE_ENTRY = 1, /* an intact record: entry/len */
	HX_BUNDLE_DAMAGED,   /* bytes [offset, offset+skipped) are not intact
	                      * records; entry/len are the suspect bytes when
	                      * only the entry failed its check, else NULL */
	HX_BUNDLE_TRUNCATED, /* the file ends inside the entries section */
	HX_BUNDLE_END,       /* done (also after TRUNCATED) */
};

typedef struct hx_bundle_rec {
	int event;
	uint64_t index;       /* records (intact or damaged) seen before this one */
	size_t offset;        /* byte offset in the file */
	size_t skipped;       /* DAMAGED: bytes skipped */
	const uint8_t *entry; /* borrowed from the buffer */
	size_t len;
	/* END only: */
	int checksum_ok; /* the section hashed to the manifest's checksum */
	size_t trailing; /* bytes after the declared section */
} hx_bundle_rec;

typedef struct hx_bundle_reader hx_bundle_reader;

/*
 * Starts reading the bundle in buf[len] (borrowed; must outlive the
 * reader) and decodes its manifest into *m.
 * HX_EPROTO: not a bundle (no magic) or the file ends inside the manifest;
 * HX_EVERSION: a bundle of another format version. *out is then NULL.
 * A manifest whose signature does not verify (m->sig_ok == 0) still gives a
 * reader: its count and lengths are then not trusted and the records are
 * read to the end of the file. Entries must be verified one by one anyway.
 */
int hx_bundle_reader_new(hx_bundle_reader **out, const uint8_t *buf, size_t len,
                         hx_bundle_manifest *m) HX_WUR;
void hx_bundle_reader_free(hx_bundle_reader **r); /* NULL-safe, clears *r */

/* The next event; after HX_BUNDLE_END it keeps returning END. HX_OK or
 * HX_ENOMEM. */
int hx_bundle_next(hx_bundle_reader *r, hx_bundle_rec *rec) HX_WUR;

/* Bytes of the file consumed so far (for progress). */
size_t hx_bundle_reader_pos(const hx_bundle_reader *r);

#endif
