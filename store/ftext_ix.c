/*
 * ftext_ix.c: the search index's files field of a document (hx_ix_files,
 * index.h), built from its attachments' names and their ftext rows, and
 * the row check the ftext files share (ftext_int.h).
 */
#include <stdlib.h>
#include <string.h>
#include "store/ftext_int.h"

/* Checks a row's layout; *n gets its part count (or reason length). */
int hx_ft_row_check(const uint8_t *b, size_t len, uint32_t *n)
{
	if (len < ROW_HEAD || b[0] != 1 || (b[1] != ST_OK && b[1] != ST_FAILED))
		return HX_ECORRUPT;
	*n = hx_be32_get(b + 4);
	if (b[1] == ST_FAILED)
		return *n == len - ROW_HEAD && *n <= HX_FTEXT_WHY_MAX ? HX_OK : HX_ECORRUPT;
	size_t at = ROW_HEAD;
	for (uint32_t i = 0; i < *n; i++) {
		if (len - at < 8)
			return HX_ECORRUPT;
		uint32_t pl = hx_be32_get(b + at + 4);
		at += 8;
		if (pl > len - at)
			return HX_ECORRUPT;
		at += pl;
	}
	return at == len ? HX_OK : HX_ECORRUPT;
}

/* ---- the index's files field ---------------------------------------------- */

struct sbuf {
	char *p;
	size_t n, cap;
};

static int sb_add(struct sbuf *b, const void *s, size_t n)
{
	char *np = hx_grow(b->p, &b->cap, b->n + n + 2, 1);
	if (!np)
		return HX_ENOMEM;
	b->p = np;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n++] = '\n';
	b->p[b->n] = 0;
	return HX_OK;
}

int hx_ix_files(struct hx_index *ix, MDB_txn *txn, const hx_entry *e, char **out)
{
	struct sbuf b = { 0 };
	int rc = HX_OK;
	*out = NULL;
	if (!e->nattach)
		return HX_OK;
	for (size_t i = 0; i < e->nattach && !rc; i++)
		rc = sb_add(&b, e->attach[i].name, strlen(e->attach[i].name));
	for (size_t i = 0; i < e->nattach && !rc && ix->has_ftext; i++) {
		MDB_val k = { HX_ID_LEN, e->attach[i].hash }, v;
		uint32_t n;
		int r = mdb_get(txn, ix->ftext, &k, &v);
		if (r == MDB_NOTFOUND)
			continue;
		if (r) {
			rc = hx_mdb_err(r);
			break;
		}
		const uint8_t *row = v.mv_data;
		if (hx_ft_row_check(row, v.mv_size, &n)) {
			rc = HX_ECORRUPT;
			break;
		}
		if (row[1] != ST_OK)
			continue;
		for (size_t at = ROW_HEAD; at < v.mv_size && !rc;) {
			uint32_t pl = hx_be32_get(row + at + 4);
			rc = sb_add(&b, row + at + 8, pl);
			at += 8 + pl;
		}
	}
	if (rc)
		free(b.p);
	else
		*out = b.p;
	return rc;
}
