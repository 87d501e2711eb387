/*
 * ftext_int.h: the ftext table's row layout and the helpers its files
 * share (ftext.c, ftext_set.c, ftext_ix.c). Internal to store/.
 *
 * Table ftext: blob hash[32] -> row, integers big-endian:
 *   offset  size  field
 *   0       1     layout: 1
 *   1       1     status: 1 text extracted, 2 failed
 *   2       1     format (enum hx_extract_format; 0 when failed)
 *   3       1     reserved (0)
 *   4       4     n: parts (status 1) or bytes of the reason (status 2)
 *   8       ...   status 1: n times { u32 page, u32 len, len bytes of UTF-8 }
 *                 status 2: the reason, UTF-8, one line
 * A row exists only for a whole blob: hx_blob_drop removes it. Every
 * change of a row re-indexes the current documents attaching the blob in
 * the same write transaction (ft_set), and every index update of a
 * document reads the rows through hx_ix_files, so the index and the rows
 * never disagree.
 */
#ifndef HX_FTEXT_INT_H
#define HX_FTEXT_INT_H

#include "store/store_int.h"
#include "store/ftext.h"

#define ROW_HEAD 8
#define ST_OK 1
#define ST_FAILED 2

/* Checks a row's layout; *n gets its part count (or reason length). */
int hx_ft_row_check(const uint8_t *b, size_t len, uint32_t *n) HX_WUR;

/* Calls cb for each current version attaching hash (decoded; cb must not
 * keep it); a non-zero return of cb stops the scan and is returned. */
int hx_ft_each_attacher(hx_store *s, MDB_txn *txn, const uint8_t *hash,
                        int (*cb)(void *, hx_entry *, const hx_attach *), void *arg) HX_WUR;

#endif
