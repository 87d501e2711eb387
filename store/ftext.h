/*
 * ftext.h: the text inside attached files, as the search index sees it.
 * The store keeps one row per whole blob in the "ftext" table: whether
 * extraction worked (or the one-line reason it failed), the format, and
 * the parts {page, text}. Storing a row re-indexes, in the same write
 * transaction, the current documents that attach the blob, so the index
 * never disagrees with the rows. Layout: store/ftext.c; docs/SEARCH.md
 * "Text inside attachments" and docs/FORMAT.md §3.3.
 */
#ifndef HX_FTEXT_H
#define HX_FTEXT_H

#include "store/store.h"
#include "extract/extract.h"

/* Text kept per blob: more is cut at a part boundary (the extractor's own
 * limit is the same, so a cut only happens with a larger custom limit). */
#define HX_FTEXT_TEXT_MAX HX_EXTRACT_TEXT
#define HX_FTEXT_PARTS_MAX 65536 /* parts kept per blob */
#define HX_FTEXT_WHY_MAX 191     /* bytes of a failure reason */

typedef struct hx_ftext_part {
	uint32_t page;    /* 1-based; 0: the format has no pages */
	size_t len;       /* bytes of text */
	const char *text; /* NUL-terminated UTF-8, owned by the hx_ftext */
} hx_ftext_part;

typedef struct hx_ftext {
	int ok;                         /* 1: text was extracted; 0: it failed */
	enum hx_extract_format format;  /* what was found (ok only) */
	char why[HX_FTEXT_WHY_MAX + 1]; /* failed: the reason, one line */
	size_t nparts;                  /* ok: parts in file order */
	hx_ftext_part *parts;           /* owned; hx_ftext_clear */
	char *buf;                      /* owned: the parts' text */
} hx_ftext;

/* The row of blob hash into *out (free with hx_ftext_clear): HX_OK,
 * HX_ENOTFOUND when there is none (not extracted yet), HX_ECORRUPT. */
int hx_ftext_get(hx_store *s, const uint8_t hash[HX_ID_LEN], hx_ftext *out) HX_WUR;
void hx_ftext_clear(hx_ftext *f);

/* Stores the row of blob hash from an extraction: r with rc == HX_OK is
 * the text, any other rc a failure whose reason is r->why (r may be NULL
 * then, and why is the reason). Text over HX_FTEXT_TEXT_MAX is cut at a
 * part boundary; text that is not valid UTF-8 is refused (HX_EINVAL).
 * Re-indexes the current documents attaching the blob in the same write
 * transaction. HX_ENOTFOUND when the blob is not whole here. */
int hx_ftext_put(hx_store *s, const uint8_t hash[HX_ID_LEN], int rc, const hx_extract_result *r,
                 const char *why) HX_WUR;

/* Extracts the whole blob hash (lim NULL: the defaults; name and type are
 * the file name and media type hints, NULL: taken from a current document
 * attaching it) and
 * stores its row with hx_ftext_put; blocks for up to the extractor's wall
 * time, outside any transaction. *failed (may be NULL) is set when
 * extraction failed, with the reason in why (may be NULL). HX_OK when a
 * row was stored. */
int hx_ftext_extract(hx_store *s, const uint8_t hash[HX_ID_LEN], const char *name, const char *type,
                     const struct hx_extract_limits *lim, int *failed, char *why,
                     size_t whylen) HX_WUR;

/* Whole blobs that have no row yet (what a node extracts at start, and
 * how a store written before the table catches up): *n hashes of
 * HX_ID_LEN bytes in *hashes (caller frees; NULL when none). */
int hx_ftext_pending(hx_store *s, uint8_t **hashes, size_t *n) HX_WUR;

#endif
