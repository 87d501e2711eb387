/*
 * ops.h: what the operations commands share (backup, restore, fsck, serve,
 * rebuild): the crash-proof check of a store before it is opened, the
 * "disk full" wording of a full store, and copying the identity files.
 */
#ifndef HX_CLI_OPS_H
#define HX_CLI_OPS_H

#include <stddef.h>
#include <stdint.h>
#include "cli/cli.h"

/* What to do about a damaged store, as the messages say it. */
#define HX_DAMAGED_ADVICE \
	"restore from backup (hansa restore) or rebuild from peers (hansa rebuild)"

/* Reads every page of the store in directory dir in a child process (LMDB
 * 0.9 may crash on a damaged page: a crash of the child is caught). 0 when
 * the walk went through or there is no store (the real open says why);
 * else prints "the store is damaged (...); restore ..." and returns
 * HX_EXIT_FAIL. Call it before this process opens the store. */
int hx_cli_store_check(const char *dir);
/* The same without a message: 0, or -1 with the reason in why. */
int hx_cli_store_probe(const char *dir, char *why, size_t whylen);

/* Runs fn(arg) in a forked child and puts its hx_err in *result: 0. When
 * the child dies instead (a crash inside liblmdb on a damaged page), puts
 * one line in why and returns -1. fn must not use an LMDB environment this
 * process opened before the fork. */
typedef int (*hx_child_fn)(void *arg);
int hx_cli_run_child(hx_child_fn fn, void *arg, int *result, char *why, size_t whylen);

/* hx_strerror(rc), except when the file system holding path (which must
 * exist) is full: then HX_EFULL, and HX_EIO (LMDB's word for a short
 * write), are "disk full (N MiB free)". Returns buf. */
const char *hx_cli_errtext(int rc, const char *path, char *buf, size_t n);

/* Copies file src to dst (created with mode 0600, written to dst.tmp then
 * renamed and fsynced). 0, or an hx_err (HX_EFULL when the disk is full). */
int hx_cli_copy_file(const char *src, const char *dst);

/* The pid of a process other than this one that has file path open (a
 * node serving the store), or 0. Linux /proc; sees the processes this
 * user may look into. */
long hx_cli_file_user(const char *path);

/* Removes a store directory this process made (data.mdb, lock.mdb, the
 * directory), nothing else. */
void hx_cli_remove_store_dir(const char *dir);

/* Puts the path of the home's store in store (n bytes) and checks that no
 * other process has it open. 0, or prints the error and returns 1. */
int hx_cli_store_idle(struct hx_ctx *ctx, char *store, size_t n);

/* Rewrites the home's store without its free pages (compact.c): a
 * compacted copy, fsynced and checked, renamed over data.mdb. The store
 * must not be open, in this process or another (refused, one line
 * printed). Every page of the store and of the copy is read first in a
 * child process (hx_cli_store_check), unless fresh says this process has
 * just written the store (the end of an import). 0 with the file's size
 * before and after and the entries it holds, or prints why and returns
 * HX_EXIT_FAIL; nothing changed then. */
int hx_cli_compact(struct hx_ctx *ctx, int fresh, uint64_t *before, uint64_t *after,
                   uint64_t *entries);

/* The current UTC time as YYYYmmddTHHMMSSZ (for file names). Returns out. */
char *hx_cli_stamp(char out[32]);

#endif
