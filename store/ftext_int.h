/*
 * ftext_int.h: the ftext table's row layout and the helpers its files
 * share (ftext.c, ftext_set.c, ftext_ix.c). Internal to store/.
 *
 * The row's byte table is at the top of ftext.c, next to its encoder;
 * docs/FORMAT.md §3.3.
 */
#ifndef HX_FTEXT_INT_H
#define HX_FTEXT_INT_H

#include "store/store_int.h"
#include "store/ftext.h"

#define ROW_HEAD 8 /* layout, status, format, reserved, n */
#define ST_OK 1
#define ST_FAILED 2

/* Checks a row's layout; *n gets its part count (or reason length). */
int hx_ft_row_check(const uint8_t *b, size_t len, uint32_t *n) HX_WUR;

/* Calls cb for each current version attaching hash (decoded; cb must not
 * keep it); a non-zero return of cb stops the scan and is returned. */
int hx_ft_each_attacher(hx_store *s, MDB_txn *txn, const uint8_t *hash,
                        int (*cb)(void *, hx_entry *, const hx_attach *), void *arg) HX_WUR;

#endif
