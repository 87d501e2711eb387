/*
 * attach.h: attached files on the command line (publish --attach, the
 * front matter's attachments:, import of a folder, show, get): adding a
 * file as a blob and to an entry draft, and guessing its media type.
 */
#ifndef HX_CLI_ATTACH_H
#define HX_CLI_ATTACH_H

#include "cli/cli.h"

/* A media type for a file called name whose first n bytes are head: by
 * its magic bytes where the format has them (PDF, PNG, JPEG, GIF, zip),
 * refined by the extension (a zip named .docx is a Word document), else by
 * the extension; application/octet-stream when neither says. A name whose
 * extension claims a format the bytes contradict gets the bytes' type.
 * Static storage. */
const char *hx_cli_media_type(const char *name, const uint8_t *head, size_t n);

/* Adds the file at path to the store as a blob and to draft d as the
 * attachment name (NULL: the file's base name), replacing an attachment of
 * that name. 0, or prints one line and returns 1. */
int hx_cli_attach_file(struct hx_ctx *ctx, hx_entry *d, const char *path, const char *name);

/* The front matter's attachments: hx_md_parse leaves each as an
 * attachment whose name is the path as written and whose hash is all
 * zero. This adds each file (relative to dir, the Markdown file's folder)
 * as a blob and names it by its base name. 0, or prints one line naming
 * mdname and returns 1. */
int hx_cli_attach_resolve(struct hx_ctx *ctx, hx_entry *d, const char *dir, const char *mdname);

/* Prints one line per attachment of e: name, size, type, and whether the
 * blob is here ("present", "partial N/M chunks", "missing"). */
void hx_cli_attach_print(struct hx_ctx *ctx, const hx_entry *e);

#endif
