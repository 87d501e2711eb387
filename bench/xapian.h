/*
 * xapian.h: the Xapian anchor of bench_search, behind a C interface
 * (bench/xapian.cc, C++; built only when libxapian-dev is installed, which
 * defines HX_BENCH_XAPIAN). A Xapian database on disk with the same
 * documents and field weights as hansa and FTS5 (title x4, tags x2, body
 * x1 as within-document frequency), each document stemmed by Xapian's own
 * Snowball stemmer for its language, ranked by BM25 (k1 1.2, b 0.75).
 * Xapian folds no diacritics: text is indexed as written. Each document
 * stores path, title, kind, language and organisation as its data, so that
 * a search can fetch for its top 10 what hansa's hits carry.
 */
#ifndef HX_BENCH_XAPIAN_H
#define HX_BENCH_XAPIAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hxb_xapian hxb_xapian;

/* A new database in folder dir (created), or with reuse the one already
 * there (*ndocs gets its document count: 0 when it was created, or when
 * the one there stores no document data, made before the data was: then
 * it is built again). NULL on failure (printed). */
hxb_xapian *hxb_xapian_new(const char *dir, int reuse, unsigned long *ndocs);
/* Adds a document with docid id (> 0). lang: its language tag; data:
 * what the document stores (Document::set_data), len bytes. */
int hxb_xapian_add(hxb_xapian *x, unsigned id, const char *title, const char *tags,
                   const char *body, const char *lang, const char *data, size_t len);
/* Commits what was added; returns the database size in bytes. */
unsigned long long hxb_xapian_commit(hxb_xapian *x);
/* Runs query (words; AND between them) with the stemmer of lang; writes
 * the docids of the top max into ids and, with fetch, reads each one's
 * stored data (Document::get_data(), as hansa's hits carry path, title,
 * kind, language and organisation); returns how many matched in all
 * (estimate), or -1 on error. */
long hxb_xapian_search(hxb_xapian *x, const char *query, const char *lang, long *ids, int max,
                       int fetch);
void hxb_xapian_free(hxb_xapian **x);

#ifdef __cplusplus
}
#endif
#endif
