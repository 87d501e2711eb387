/*
 * import-blobs.c: the attached files of a bundle on import (see
 * import-blobs.h). Each blob record starts a receive (hx_blob_begin checks
 * the chunk list against the blob hash and the limits), each of its chunk
 * records is checked and written (hx_blob_write_chunk), and the next blob
 * record or the end of the file finishes it: renamed into place when every
 * chunk came, else dropped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/import-blobs.h"
#include "store/blob.h"

struct hx_bimport {
	hx_store *s;
	void (*say)(void *, const char *);
	void *arg;
	hx_blob_ref *refs; /* attached by current versions, sorted by hash */
	size_t nrefs;
	int loaded;
	struct hx_bimport_stats st;
	/* the blob being read */
	int active, created, failed;
	uint8_t hash[HX_ID_LEN];
	uint64_t size;
	const char *name;
};

static void tell(hx_bimport *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tell(hx_bimport *b, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	b->say(b->arg, line);
}

int hx_bimport_new(hx_bimport **out, hx_store *s, void (*say)(void *, const char *), void *arg)
{
	hx_bimport *b = calloc(1, sizeof *b);
	*out = b;
	if (!b)
		return HX_ENOMEM;
	b->s = s;
	b->say = say;
	b->arg = arg;
	return HX_OK;
}

/* The name a current version gives blob hash, or NULL when none attaches
 * it. The list is read at the first blob record, after the entries. */
static const char *name_of(hx_bimport *b, const uint8_t *hash, int *rc)
{
	*rc = HX_OK;
	if (!b->loaded) {
		if ((*rc = hx_blob_refs(b->s, &b->refs, &b->nrefs)))
			return NULL;
		b->loaded = 1;
	}
	const hx_blob_ref *r = hx_blob_ref_find(b->refs, b->nrefs, hash);
	return r ? r->name : NULL;
}

/* Gives up the blob being read: drops what this import began of it. */
static void give_up(hx_bimport *b)
{
	if (b->created && hx_blob_drop(b->s, b->hash) != HX_OK)
		tell(b, "attached file %s: its partial copy could not be removed ('hansa gc' will)",
		     b->name);
	b->st.damaged++;
	b->failed = 1;
}

void hx_bimport_end(hx_bimport *b)
{
	if (!b->active)
		return;
	b->active = 0;
	if (b->failed)
		return;
	int rc = hx_blob_finish(b->s, b->hash);
	if (rc == HX_OK) {
		b->st.added++;
		b->st.bytes += b->size;
		return;
	}
	size_t missing = 0;
	uint32_t first = 0;
	if (rc == HX_EBUSY && hx_blob_missing(b->s, b->hash, &first, 1, &missing) == HX_OK)
		tell(b,
		     "attached file %s: %zu of its %llu chunks are missing from the bundle (the "
		     "first is chunk %u: damaged or cut off); not imported",
		     b->name, missing, (unsigned long long)hx_blob_chunks(b->size), first);
	else
		tell(b, "attached file %s: cannot be stored: %s", b->name, hx_strerror(rc));
	give_up(b);
}

/* A blob record: starts receiving it when it is wanted. */
static int blob_record(hx_bimport *b, const hx_bundle_rec *rec)
{
	int rc, state = HX_BLOB_NONE;
	char hex[2 * HX_ID_LEN + 1];

	hx_bimport_end(b);
	b->failed = 0;
	const char *name = name_of(b, rec->hash, &rc);
	if (rc) {
		tell(b, "cannot read the store: %s", hx_strerror(rc));
		return rc;
	}
	if (!name) {
		b->st.ignored++;
		return HX_OK;
	}
	if ((rc = hx_blob_state(b->s, rec->hash, &state, NULL, NULL)))
		goto store_error;
	if (state == HX_BLOB_WHOLE) {
		b->st.present++;
		return HX_OK;
	}
	memcpy(b->hash, rec->hash, HX_ID_LEN);
	b->size = rec->size;
	b->name = name;
	b->created = state == HX_BLOB_NONE;
	rc = hx_blob_begin(b->s, rec->hash, rec->size, rec->hashes);
	switch (rc) {
	case HX_OK: b->active = 1; return HX_OK;
	case HX_EEXIST: b->st.present++; return HX_OK;
	case HX_ELIMIT:
		b->st.limit++;
		tell(b, "attached file %s (%llu bytes): over this node's blob limits; not imported",
		     name, (unsigned long long)rec->size);
		return HX_OK;
	case HX_EFORGED:
		b->st.damaged++;
		tell(b,
		     "attached file %s: its chunk list does not match its hash %.16s; not imported",
		     name, hx_hex(hex, rec->hash, HX_ID_LEN));
		return HX_OK;
	default: break;
	}
store_error:
	tell(b, "attached file %s: cannot be stored: %s", name ? name : "?", hx_strerror(rc));
	return rc;
}

int hx_bimport_record(hx_bimport *b, const hx_bundle_rec *rec)
{
	if (rec->event == HX_BUNDLE_BLOB)
		return blob_record(b, rec);
	/* a chunk: of the blob being read, else of one not wanted */
	if (!b->active || b->failed || memcmp(rec->hash, b->hash, HX_ID_LEN))
		return HX_OK;
	int rc = hx_blob_write_chunk(b->s, b->hash, rec->chunk, rec->entry, rec->len);
	if (rc == HX_OK || rc == HX_EEXIST)
		return HX_OK;
	if (rc == HX_EFORGED || rc == HX_EINVAL) {
		tell(b, "attached file %s: chunk %u %s; the file is not imported", b->name,
		     rec->chunk,
		     rc == HX_EFORGED ? "does not match its hash" : "has a wrong index or length");
		give_up(b);
		return HX_OK;
	}
	tell(b, "attached file %s: chunk %u cannot be stored: %s", b->name, rec->chunk,
	     hx_strerror(rc));
	return rc;
}

const struct hx_bimport_stats *hx_bimport_stats(const hx_bimport *b)
{
	return &b->st;
}

void hx_bimport_free(hx_bimport **b)
{
	if (!b || !*b)
		return;
	hx_bimport_end(*b);
	free((*b)->refs);
	free(*b);
	*b = NULL;
}
