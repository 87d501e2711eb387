/*
 * offline.h: the offline-office commands' shared pieces: bundle export and
 * import, the state file, Markdown folders in and out, and the static HTML
 * library. cmd-export.c, cmd-import.c and cmd-state.c dispatch to these;
 * each returns an exit code (HX_EXIT_*) after printing its own errors.
 */
#ifndef HX_OFFLINE_H
#define HX_OFFLINE_H

#include "cli/cli.h"
#include "proto/negentropy.h"

/* `hansa export --bundle FILE [--missing-from STATE] [--without-files]` */
int hx_export_bundle(struct hx_ctx *ctx, const char *file, const char *state, int without_files,
                     int json);
/* `hansa import FILE` when FILE is a bundle; blob_max (0: the default)
 * is the largest attached file it takes. */
int hx_import_bundle(struct hx_ctx *ctx, const char *file, uint64_t blob_max, int json,
                     int verbose);
/* `hansa export --markdown DIR` */
int hx_export_markdown(struct hx_ctx *ctx, const char *dir, const uint8_t *author, int json);
/* `hansa import DIR` */
int hx_import_markdown(struct hx_ctx *ctx, const char *dir, int json, int dry_run);
/* `hansa export --html DIR` */
int hx_export_html(struct hx_ctx *ctx, const char *dir, int json);

/* Every (timestamp, id) item of the store in order into *items (caller
 * frees). HX_OK or an error. */
int hx_store_all_items(hx_store *s, hx_ne_item **items, size_t *n) HX_WUR;

/* This node's public identity key from profile.json (no passphrase
 * needed). Prints the error and returns non-zero on failure. */
int hx_own_key(struct hx_ctx *ctx, uint8_t pk[HX_KEY_LEN]);

/* The file name of a document in an exported folder, relative to it:
 * PATH.EXT, or PATH~AUTHOR8.EXT when several partners have a live document
 * at PATH (shared != 0); '~' is outside the path alphabet, so names never
 * clash. HX_OK or HX_ELIMIT. */
int hx_doc_file(char *out, size_t n, const hx_entry *e, int shared, const char *ext);

/* A file written under a temporary name and renamed into place on
 * success, so that a reader never sees half of it. */
struct hx_outfile {
	char final[4096], tmp[4160];
	FILE *f;
	int nosync; /* set to skip fsync (many small files: a folder export) */
};
/* Opens name.tmp.PID for writing. Prints and returns non-zero on failure. */
int hx_outfile_open(struct hx_outfile *o, const char *name);
/* Flushes, syncs, closes and renames. Prints and returns non-zero on
 * failure (the temporary file is removed). */
int hx_outfile_commit(struct hx_outfile *o);
/* Closes and removes the temporary file. NULL-safe on an unopened o. */
void hx_outfile_abort(struct hx_outfile *o);

#endif
