/*
 * recon.h: the store's side of Negentropy reconciliation, for node/: a
 * storage view of all (timestamp, entry id) items of the store, in a read
 * transaction of its own, to hand to hx_ne_new() (proto/negentropy.h).
 * Range fingerprints come from per-block aggregates kept in LMDB
 * (store/fpt.c), so a session over a million entries costs milliseconds.
 */
#ifndef HX_RECON_H
#define HX_RECON_H

#include "proto/negentropy.h"
#include "store/store.h"

typedef struct hx_recon_view hx_recon_view;

/* Opens a view of the store as it is now (a snapshot: entries added later
 * are not seen; open a new view for the next session). It holds an LMDB
 * read transaction until closed, so keep it only for one reconciliation
 * session. HX_ECORRUPT if the reconciliation table is missing or damaged. */
int hx_recon_view_open(hx_recon_view **out, hx_store *s) HX_WUR;
/* Closes the view and its read transaction; NULL-safe, clears *v. */
void hx_recon_view_close(hx_recon_view **v);
/* The storage for hx_ne_new(); valid until the view is closed. */
hx_ne_storage hx_recon_view_storage(hx_recon_view *v);
/* Number of items (entries) in the view. */
size_t hx_recon_view_count(const hx_recon_view *v);

/* Rebuilds the reconciliation table from the time order (repair). */
int hx_recon_rebuild(hx_store *s) HX_WUR;

#endif
