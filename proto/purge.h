/*
 * purge.h: the purge record (docs/FORMAT.md §1.8.4), a system record of
 * kind "hansa-purge" at ".hansa/purge/<64-hex id>" that lists versions of
 * one of its author's documents whose content every node deletes. Meta
 * "path" names the document; the body has one line per purged version,
 * "<64-hex id> <decimal timestamp>\n". This module only parses and writes
 * that layout; what a node does with it is the store's (store/store.c).
 */
#ifndef HX_PURGE_H
#define HX_PURGE_H

#include "proto/entry.h"

#define HX_KIND_PURGE "hansa-purge"
#define HX_PURGE_PREFIX HX_SYSTEM_PREFIX "purge/"
#define HX_PURGE_LINE (2 * HX_ID_LEN + 1 + 20 + 1) /* most bytes of one body line */

typedef struct hx_purge_ver {
	uint8_t id[HX_ID_LEN];
	uint64_t timestamp;
} hx_purge_ver;

/* 1 when e is a purge record by its path (it may still be malformed). */
int hx_purge_is(const hx_entry *e);

/*
 * Checks that e is a well-formed purge record and returns its document
 * path (borrowed from e) in *path and its versions in *v (caller frees),
 * *n of them. HX_EINVAL with a static one-line reason in *why otherwise.
 */
int hx_purge_parse(const hx_entry *e, const char **path, hx_purge_ver **v, size_t *n,
                   const char **why) HX_WUR;

/* Writes the body for n versions into a new string (caller frees); NULL
 * when out of memory. */
char *hx_purge_body(const hx_purge_ver *v, size_t n);

#endif
