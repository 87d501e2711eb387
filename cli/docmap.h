/*
 * docmap.h: a string -> list of document numbers map (docmap.c), for the
 * static site's groups (export-html.c).
 */
#ifndef HX_CLI_DOCMAP_H
#define HX_CLI_DOCMAP_H

#include <stddef.h>
#include <stdint.h>

/* One key and the documents that carry it, in the order they were added. */
struct hx_docmap_slot {
	char *key;
	uint32_t *v;
	uint32_t n;
	uint32_t id; /* order of first insertion */
	size_t cap;
};

/* The map: open addressing, a power-of-two table at most half full. */
struct hx_docmap {
	struct hx_docmap_slot *t;
	size_t cap, n;
};

/* The slot of key, created when missing; NULL on allocation failure. */
struct hx_docmap_slot *hx_docmap_get(struct hx_docmap *m, const char *key);
/* Appends doc to the slot's list unless it is already its last element.
 * 0, or -1 when out of memory. */
int hx_docmap_add(struct hx_docmap_slot *s, uint32_t doc);
/* Frees every slot and clears m. */
void hx_docmap_free(struct hx_docmap *m);
/* The used slots in an array (malloc'd, caller frees; slots borrowed from
 * m), or NULL when out of memory. */
struct hx_docmap_slot **hx_docmap_slots(struct hx_docmap *m);
/* qsort comparators over hx_docmap_slots' array: by key; by list length,
 * longest first, then key. */
int hx_docmap_by_key(const void *a, const void *b);
int hx_docmap_by_count(const void *a, const void *b);

#endif
