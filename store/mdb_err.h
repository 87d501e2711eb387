/*
 * mdb_err.h: one translation of LMDB (and errno) return codes into hx_err,
 * where they enter the project. Every store module calls it; it calls
 * nothing of theirs, so it is the bottom of store/.
 */
#ifndef HX_MDB_ERR_H
#define HX_MDB_ERR_H

/* Translates an LMDB or errno return code into an hx_err (0 -> HX_OK). */
int hx_mdb_err(int rc);

#endif
