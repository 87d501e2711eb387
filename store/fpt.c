/*
 * fpt.c: the reconciliation fingerprint tree (placeholder: the replication
 * issue fills this in; until then the hooks do nothing).
 */
#include "store/fpt.h"

int hx_fpt_open(struct hx_fpt *t, MDB_txn *txn, int create)
{
	(void)t; (void)txn; (void)create;
	return HX_OK;
}

int hx_fpt_add(struct hx_fpt *t, MDB_txn *txn, uint64_t ts,
	       const uint8_t id[HX_ID_LEN])
{
	(void)t; (void)txn; (void)ts; (void)id;
	return HX_OK;
}
