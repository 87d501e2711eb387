/*
 * bundle.h: the bundle, one file that carries signed entries between offices
 * without a network (a USB stick, a mail attachment). A signed manifest
 * (who exported it, when, how many entries, a checksum) is followed by
 * self-checking records, one per entry, then (format version 2) one per
 * attached file's blob and one per chunk of it, so that a damaged or
 * truncated file still yields every intact entry and chunk and says where it
 * broke. Pure encoding, no
 * I/O: the writer hands out bytes, the reader walks a buffer. Byte tables at
 * the top of bundle.c and in docs/FORMAT.md §4.
 */
#ifndef HX_BUNDLE_H
#define HX_BUNDLE_H

#include "proto/entry.h"

#define HX_BUNDLE_MAGIC "\x89HXB\r\n\x1a\n" /* 8 bytes, PNG-style */
#define HX_BUNDLE_MAGIC_LEN 8
#define HX_BUNDLE_VERSION 2                           /* written when the bundle carries blobs */
#define HX_BUNDLE_VERSION_1 1                         /* written when it carries none; both read */
#define HX_BUNDLE_HEADER_LEN 216                      /* manifest size written by version 2 */
#define HX_BUNDLE_HEADER_LEN_1 200                    /* ... and by version 1 */
#define HX_BUNDLE_REC_HEAD 20                         /* bytes before each record's body */
#define HX_BUNDLE_REC_MARK "\x1eHXR"                  /* an entry */
#define HX_BUNDLE_BLOB_MARK "\x1eHXF"                 /* a blob: hash, size, chunk hash list */
#define HX_BUNDLE_CHUNK_MARK "\x1eHXC"                /* a chunk: hash, index, bytes */
#define HX_BUNDLE_BLOB_PRE (HX_BUNDLE_REC_HEAD + 40)  /* head + hash + size */
#define HX_BUNDLE_CHUNK_PRE (HX_BUNDLE_REC_HEAD + 36) /* head + hash + index */

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
	uint64_t blobs;           /* version 2: blob records */
	uint64_t blob_bytes;      /* version 2: the sum of their sizes */
	uint8_t sig[HX_SIG_LEN];  /* exporter's Ed25519 signature of the rest */
	int sig_ok;               /* decode: 1 when sig verifies */
} hx_bundle_manifest;

/* 1 when buf starts with the bundle magic. */
int hx_bundle_is_bundle(const uint8_t *buf, size_t len);

/* ---- writing -----------------------------------------------------------
 * Write HX_BUNDLE_HEADER_LEN placeholder bytes, then for each entry the
 * record head from hx_bundle_writer_record() followed by the entry bytes,
 * then for each blob the bytes from hx_bundle_writer_blob() followed by its
 * chunk hash list and, for each of its chunks in order, the bytes from
 * hx_bundle_writer_chunk() followed by the chunk; then overwrite the
 * placeholder with the manifest from hx_bundle_writer_finish(). A writer
 * makes a version 1 bundle (200-byte manifest, entries only, read by older
 * hansa) unless hx_bundle_writer_v2() is called before the first record;
 * hx_bundle_writer_header_len() gives the placeholder's length. */
typedef struct hx_bundle_writer hx_bundle_writer;

int hx_bundle_writer_new(hx_bundle_writer **out) HX_WUR;
/* NULL-safe; clears *w. */
void hx_bundle_writer_free(hx_bundle_writer **w);
/* The head of the record for entry[len] into head; counts it and adds it to
 * the checksum. HX_ELIMIT when len is 0 or over HX_ENTRY_MAX. */
int hx_bundle_writer_record(hx_bundle_writer *w, const uint8_t *entry, size_t len,
                            uint8_t head[HX_BUNDLE_REC_HEAD]) HX_WUR;
/* The record of blob hash of size bytes whose chunk hashes are hashes
 * (hx_blob_chunks(size) * HX_ID_LEN bytes): the first HX_BUNDLE_BLOB_PRE
 * bytes into pre; the caller writes pre, then hashes. HX_ELIMIT when size
 * is over HX_ATTACH_SIZE_MAX, HX_EINVAL when w writes version 1. */
int hx_bundle_writer_blob(hx_bundle_writer *w, const uint8_t hash[HX_ID_LEN], uint64_t size,
                          const uint8_t *hashes, uint8_t pre[HX_BUNDLE_BLOB_PRE]) HX_WUR;
/* The record of chunk i of blob hash, data[len] (1..HX_CHUNK_SIZE bytes,
 * else HX_ELIMIT): the first HX_BUNDLE_CHUNK_PRE bytes into pre; the caller
 * writes pre, then data. */
int hx_bundle_writer_chunk(hx_bundle_writer *w, const uint8_t hash[HX_ID_LEN], uint32_t i,
                           const uint8_t *data, size_t len,
                           uint8_t pre[HX_BUNDLE_CHUNK_PRE]) HX_WUR;
/* Makes w write format version 2 (blob records allowed); call it before
 * the first record. */
void hx_bundle_writer_v2(hx_bundle_writer *w);
/* HX_BUNDLE_HEADER_LEN for version 2, else HX_BUNDLE_HEADER_LEN_1. */
size_t hx_bundle_writer_header_len(const hx_bundle_writer *w);
/* Fills m's version, header_len, exporter (from sk), count, entries_len,
 * blobs, blob_bytes, checksum and sig (the caller sets flags, created,
 * state_digest) and encodes the signed manifest into out
 * (hx_bundle_writer_header_len() bytes, at most HX_BUNDLE_HEADER_LEN). */
int hx_bundle_writer_finish(hx_bundle_writer *w, hx_bundle_manifest *m,
                            const uint8_t sk[HX_SECRET_LEN], uint8_t *out) HX_WUR;

/* ---- reading ----------------------------------------------------------- */

/* What hx_bundle_next found. */
enum hx_bundle_event {
	HX_BUNDLE_ENTRY = 1, /* an intact record: entry/len */
	HX_BUNDLE_DAMAGED,   /* bytes [offset, offset+skipped) are not intact
	                      * records; kind and entry/len are the record's
	                      * kind and suspect body when only the body failed
	                      * its check (or a blob record's size is over
	                      * the format's limit or disagrees with its
	                      * list), else 0 and NULL */
	HX_BUNDLE_TRUNCATED, /* the file ends inside the entries section */
	HX_BUNDLE_END,       /* done (also after TRUNCATED) */
	HX_BUNDLE_BLOB,      /* an intact blob record: hash, size, hashes */
	HX_BUNDLE_CHUNK,     /* an intact chunk record: hash, chunk, entry/len
	                      * (the chunk's bytes, not yet checked against the
	                      * blob's hash list) */
};

/* Record kinds: the last byte of the marker. */
enum hx_bundle_kind {
	HX_BUNDLE_KIND_ENTRY = 'R',
	HX_BUNDLE_KIND_BLOB = 'F',
	HX_BUNDLE_KIND_CHUNK = 'C',
};

typedef struct hx_bundle_rec {
	int event;
	uint64_t index;       /* records (intact or damaged) seen before this one */
	size_t offset;        /* byte offset in the file */
	size_t skipped;       /* DAMAGED: bytes skipped */
	const uint8_t *entry; /* borrowed from the buffer */
	size_t len;
	int kind;              /* DAMAGED: hx_bundle_kind of a valid head */
	const uint8_t *hash;   /* BLOB, CHUNK: the blob hash (borrowed) */
	uint64_t size;         /* BLOB: bytes of the file */
	const uint8_t *hashes; /* BLOB: its chunk hash list (borrowed) */
	uint32_t nchunks;      /* BLOB: hx_blob_chunks(size) */
	uint32_t chunk;        /* CHUNK: its index */
	/* END only: */
	int checksum_ok; /* the section hashed to the manifest's checksum */
	size_t trailing; /* bytes after the declared section */
} hx_bundle_rec;

typedef struct hx_bundle_reader hx_bundle_reader;

/*
 * Starts reading the bundle in buf[len] (borrowed; must outlive the
 * reader) and decodes its manifest into *m.
 * HX_EPROTO: not a bundle (no magic) or the file ends inside the manifest;
 * HX_EVERSION: a bundle of a format version other than 1 and 2 (m->version
 * says which). *out is then NULL.
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
