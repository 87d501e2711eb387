/*
 * recon.c: reconciliation views over the store (see recon.h): a read
 * transaction plus the fingerprint-table view of store/fpt.c.
 */
#include <stdlib.h>

#include "store/recon.h"
#include "store/store_int.h"

struct hx_recon_view {
	hx_store *s;
	MDB_txn *txn;
	hx_fpt_view *fv;
};

int hx_recon_view_open(hx_recon_view **out, hx_store *s)
{
	*out = NULL;
	hx_recon_view *v = calloc(1, sizeof *v);
	if (!v)
		return HX_ENOMEM;
	v->s = s;
	int rc = hx_txn_begin(s, MDB_RDONLY, &v->txn);
	if (!rc)
		rc = hx_fpt_view_open(&v->fv, v->txn, &s->fpt);
	if (rc) {
		hx_recon_view_close(&v);
		return rc;
	}
	*out = v;
	return HX_OK;
}

void hx_recon_view_close(hx_recon_view **vp)
{
	if (!vp || !*vp)
		return;
	hx_fpt_view_close(&(*vp)->fv);
	if ((*vp)->txn)
		hx_txn_abort((*vp)->s, (*vp)->txn);
	free(*vp);
	*vp = NULL;
}

hx_ne_storage hx_recon_view_storage(hx_recon_view *v)
{
	return hx_fpt_view_storage(v->fv);
}

size_t hx_recon_view_count(const hx_recon_view *v)
{
	return hx_fpt_view_count(v->fv);
}

int hx_recon_rebuild(hx_store *s)
{
	MDB_txn *txn;
	int rc = hx_txn_begin(s, 0, &txn);
	if (rc)
		return rc;
	/* a copy, so that a failed transaction leaves s->fpt as it was */
	struct hx_fpt t;
	if ((rc = hx_fpt_open(&t, txn, 1)) || (rc = hx_fpt_rebuild(&t, txn))) {
		hx_txn_abort(s, txn);
		return rc;
	}
	if ((rc = hx_mdb_err(hx_txn_commit(s, txn))))
		return rc;
	s->fpt = t;
	return HX_OK;
}
