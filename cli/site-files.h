/*
 * site-files.h: attached files in the static site (export --html): each
 * document's files are copied beside its page and listed on it.
 */
#ifndef HX_CLI_SITE_FILES_H
#define HX_CLI_SITE_FILES_H

#include <stdio.h>
#include "proto/entry.h"
#include "store/store.h"

/* For the page rel (e.g. doc/practices/x.html, under dir) of entry e:
 * copies every attached file that is on this node to rel without
 * ".html" + ".files/NAME" and writes to f a list linking them (with size
 * and type); a file not on this node is listed without a link. Each file
 * that could not be copied is counted in *failed and named on stderr. */
void hx_site_files(FILE *f, hx_store *s, const char *dir, const char *rel, const hx_entry *e,
                   uint64_t *failed);

/* Writes s HTML-escaped (& < > " ') to f: the site's one escaper. */
void hx_site_esc(FILE *f, const char *s);

#endif
