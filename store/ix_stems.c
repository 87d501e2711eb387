/*
 * ix_stems.c: the stem dictionary (ix.stem, see ix_int.h) of a write
 * transaction's new words: for each pending word and each stemming
 * language it was seen in, the key language ":" stem 00 word. The keys
 * are computed and sorted on a helper thread while the postings are
 * written (ix_flush.c), then put in key order.
 */
#include <stdlib.h>
#include <string.h>
#include "store/ix_write_int.h"

void *hx_ix_stem_keys(void *arg)
{
	struct stemjob *sj = arg;
	struct hx_ix_pending *p = sj->p;
	size_t cap = 0, blen = 0, bcap = 0;
	int rc = HX_OK;
	for (uint32_t i = 0; i < p->terms.nslots && !rc; i++) {
		struct tent *e = &p->terms.e[i];
		if (!e->klen || !e->langs)
			continue;
		const char *w = p->terms.arena + e->koff + 1;
		size_t wl = e->klen - 1u;
		for (int l = 0; l < 32 && !rc; l++) {
			if (!(e->langs & (1u << l)))
				continue;
			size_t sl;
			const char *st = hx_stem(p->stem, l, w, wl, &sl);
			struct skey *nk;
			char *nb;
			if (!st || !(nk = hx_grow(sj->keys, &cap, sj->n + 1, sizeof *nk))) {
				rc = HX_ENOMEM;
				break;
			}
			sj->keys = nk;
			if (!(nb = hx_grow(sj->buf, &bcap, blen + 2 * HX_TOKEN_MAX + 16, 1))) {
				rc = HX_ENOMEM;
				break;
			}
			sj->buf = nb;
			size_t kl = hx_ix_dkey(sj->buf + blen, l, st, sl, w, wl);
			if (!kl)
				continue;
			sj->keys[sj->n].len = (uint32_t)kl;
			sj->keys[sj->n].idx = (uint32_t)blen; /* an offset: buf may still move */
			blen += kl;
			sj->n++;
		}
	}
	if (!rc && sj->n) {
		for (size_t i = 0; i < sj->n; i++)
			sj->keys[i].k = sj->buf + sj->keys[i].idx;
		qsort(sj->keys, sj->n, sizeof *sj->keys, hx_ix_cmp_skey);
	}
	sj->rc = rc;
	return NULL;
}

int hx_ix_put_stems(struct hx_index *ix, struct hx_ix_pending *p, struct stemjob *sj)
{
	int rc = sj->rc;
	MDB_stat ms;
	unsigned flags = !mdb_stat(p->txn, ix->stem, &ms) && ms.ms_entries == 0 ? MDB_APPEND
	                                                                        : MDB_NOOVERWRITE;
	for (size_t i = 0; i < sj->n && !rc; i++) {
		MDB_val k = { sj->keys[i].len, (void *)sj->keys[i].k }, v = { 0, "" };
		int r = mdb_put(p->txn, ix->stem, &k, &v, flags);
		if (r && r != MDB_KEYEXIST)
			rc = hx_ix_err(r);
	}
	free(sj->keys);
	free(sj->buf);
	sj->keys = NULL;
	sj->buf = NULL;
	return rc;
}
