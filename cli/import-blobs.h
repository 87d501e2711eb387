/*
 * import-blobs.h: the attached files of a bundle on import (import-bundle.c
 * hands each intact blob and chunk record here; a damaged one shows as
 * chunks missing when its blob ends). A blob is
 * taken only when a current version in the store attaches it, within the
 * blob limits, every chunk checked against its hash list on the way in
 * (store/blob.h); a blob that does not arrive whole is dropped again, so
 * nothing is half-stored.
 */
#ifndef HX_IMPORT_BLOBS_H
#define HX_IMPORT_BLOBS_H

#include "proto/bundle.h"
#include "store/store.h"

/* How a bundle's files fared. */
struct hx_bimport_stats {
	uint64_t added;   /* stored whole */
	uint64_t present; /* already whole here */
	uint64_t limit;   /* over a blob limit: refused (counted by the store) */
	uint64_t damaged; /* a chunk or list that did not match, or chunks missing */
	uint64_t ignored; /* no current version attaches it */
	uint64_t bytes;   /* of the files stored */
};

typedef struct hx_bimport hx_bimport;

/* say(arg, line) gets each warning (one line, without the file name of the
 * bundle). HX_OK or HX_ENOMEM. */
int hx_bimport_new(hx_bimport **out, hx_store *s, void (*say)(void *, const char *),
                   void *arg) HX_WUR;
/* Finishes the blob being read (as hx_bimport_end) and frees; NULL-safe,
 * clears *b. */
void hx_bimport_free(hx_bimport **b);

/* An intact blob record (HX_BUNDLE_BLOB) or chunk record (HX_BUNDLE_CHUNK).
 * Entries that attach the blob must be in the store before its blob record
 * comes. HX_OK, or a store error that stops the import (said). */
int hx_bimport_record(hx_bimport *b, const hx_bundle_rec *rec) HX_WUR;
/* The end of the file: the blob being read is stored when whole, else
 * dropped and said. */
void hx_bimport_end(hx_bimport *b);
/* The counts so far. */
const struct hx_bimport_stats *hx_bimport_stats(const hx_bimport *b);

#endif
