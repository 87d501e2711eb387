/*
 * markdown.h: reading a Markdown document with a YAML front matter block
 * into an entry draft (publish, import of a folder), and writing one back
 * (export to a folder).
 */
#ifndef HX_MARKDOWN_H
#define HX_MARKDOWN_H

#include <stdio.h>
#include "proto/entry.h"
#include "store/store.h"

/* The largest Markdown file read (publish, import of a folder): the body
 * limit and room for the front matter. */
#define HX_MD_FILE_MAX (HX_BODY_MAX + 64 * 1024)

/*
 * Parses text (len bytes) into *draft: front matter keys path, title,
 * kind, tags (a list, or one comma-separated string), lang, attachments
 * (a list of files relative to the Markdown file: each becomes an
 * attachment named by that path with an all-zero hash, which
 * hx_cli_attach_resolve turns into a blob); the keys
 * author, id and timestamp (written by export) are ignored; every other
 * scalar key goes into the metadata. The body is what follows the block.
 * Without a title, the first "# heading" is used. Every string in draft is
 * malloc'd (free with hx_entry_clear). On error returns non-zero and puts
 * one line in err and the 1-based line number in *line.
 */
int hx_md_parse(const char *text, size_t len, hx_entry *draft, char *err, size_t errlen, int *line);

/* Writes e as front matter + body. with_ids adds author, id, timestamp. */
int hx_md_write(FILE *f, const hx_entry *e, int with_ids);

/* 1 when draft d says the same as entry e: title, kind, lang, tags,
 * attachments (name, type and hash, in order), body
 * (without leading and trailing line breaks) and the metadata (empty
 * values, which front matter cannot carry, are ignored). */
int hx_md_same(const hx_entry *d, const hx_entry *e);
/* 1 when the current version of (author, d->path) says the same as d: an
 * import that finds it leaves the document alone (import can run again). */
int hx_md_unchanged(hx_store *s, const uint8_t *author, const hx_entry *d);

/* Sets *dst to a malloc'd copy of src, freeing the old value. */
int hx_strset(char **dst, const char *src);

#endif
