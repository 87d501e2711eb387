/*
 * index.c: the full-text search index (placeholder: the search issue fills
 * this in; until then the hooks do nothing).
 */
#include "store/index.h"

int hx_index_open(struct hx_index *ix, MDB_txn *txn, int create)
{
	(void)ix; (void)txn; (void)create;
	return HX_OK;
}

int hx_index_update(struct hx_index *ix, MDB_txn *txn, const hx_entry *old,
		    const hx_entry *new_)
{
	(void)ix; (void)txn; (void)old; (void)new_;
	return HX_OK;
}

int hx_index_clear(struct hx_index *ix, MDB_txn *txn)
{
	(void)ix; (void)txn;
	return HX_OK;
}

int hx_index_check(struct hx_index *ix, MDB_txn *txn, MDB_dbi docs,
		   MDB_dbi entries, void (*report)(void *, const char *),
		   void *arg, uint64_t *problems)
{
	(void)ix; (void)txn; (void)docs; (void)entries; (void)report; (void)arg;
	(void)problems;
	return HX_OK;
}
