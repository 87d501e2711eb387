/*
 * file.h: the file-system helpers under every other cli/ file: creating
 * folders, making a rename durable, and the one whole-file reader. They
 * print nothing (callers word the error) and call nothing else in cli/.
 */
#ifndef HX_CLI_FILE_H
#define HX_CLI_FILE_H

#include <stddef.h>
#include <sys/types.h>
#include "proto/hx.h"

/* Creates dir and its missing parents with mode. 0 or -1 with errno. */
int hx_mkdirs(const char *dir, mode_t mode);

/* fsyncs the directory holding path, so that a rename into it survives a
 * power cut. Returns 0 or -1 (errno set). */
int hx_fsync_parent(const char *path);

/* Reads the whole of the file name ("-": standard input; a pipe or other
 * stream is read to its end) into *buf with a NUL after the last byte;
 * *len does not count the NUL. The caller frees *buf. Refuses a folder
 * (HX_EINVAL) and more than max bytes (HX_ELIMIT: nothing more is read).
 * On failure *buf is NULL and *why (static text) says why in a few words:
 * strerror's text, "is a folder", "larger than the limit", "read error".
 * HX_OK or the error. */
int hx_file_read(const char *name, size_t max, char **buf, size_t *len, const char **why) HX_WUR;

#endif
