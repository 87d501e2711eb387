/*
 * ix_stems.c: the stem dictionary (ix.stem, see ix_int.h) of a write
 * transaction's new words: for each pending word and each stemming
 * language it was seen in, the key language ":" stem 00 word; and for the
 * languages stemmed through a Hunspell dictionary, the word's stem itself
 * (ix.wstem), so that a search for a word the index knows never loads the
 * dictionary. The keys are computed and sorted on a helper thread while
 * the postings are written (ix_flush.c), then put in key order.
 */
#include <stdlib.h>
#include <string.h>
#include "store/ix_write_int.h"

/* Appends a key (and for ix.wstem its value, right after it) to sj's
 * buffer and to the array *keys of *n; the keys' pointers are set once
 * the buffer stops moving. */
static int add_key(struct stemjob *sj, struct skey **keys, size_t *n, size_t *cap, size_t *blen,
                   size_t *bcap, int wstem, int l, const char *st, size_t sl, const char *w,
                   size_t wl)
{
	struct skey *nk = hx_grow(*keys, cap, *n + 1, sizeof *nk);
	char *nb;
	if (!nk)
		return HX_ENOMEM;
	*keys = nk;
	if (!(nb = hx_grow(sj->buf, bcap, *blen + 2 * HX_TOKEN_MAX + 16, 1)))
		return HX_ENOMEM;
	sj->buf = nb;
	size_t kl = wstem ? hx_ix_wskey(sj->buf + *blen, l, w, wl)
	                  : hx_ix_dkey(sj->buf + *blen, l, st, sl, w, wl);
	if (!kl || !sl || sl > HX_TOKEN_MAX)
		return HX_OK;
	nk[*n].len = (uint32_t)kl;
	nk[*n].idx = (uint32_t)*blen; /* an offset: buf may still move */
	nk[*n].vlen = wstem ? (uint32_t)sl : 0;
	if (wstem)
		memcpy(sj->buf + *blen + kl, st, sl);
	*blen += kl + nk[*n].vlen;
	++*n;
	return HX_OK;
}

void *hx_ix_stem_keys(void *arg)
{
	struct stemjob *sj = arg;
	struct hx_ix_pending *p = sj->p;
	size_t cap = 0, wcap = 0, blen = 0, bcap = 0;
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
			if (!st)
				rc = HX_ENOMEM;
			if (!rc)
				rc = add_key(sj, &sj->keys, &sj->n, &cap, &blen, &bcap, 0, l, st,
				             sl, w, wl);
			if (!rc && hx_stem_lang_dict(l))
				rc = add_key(sj, &sj->wkeys, &sj->nw, &wcap, &blen, &bcap, 1, l, st,
				             sl, w, wl);
		}
	}
	if (!rc) {
		for (size_t i = 0; i < sj->n; i++)
			sj->keys[i].k = sj->buf + sj->keys[i].idx;
		for (size_t i = 0; i < sj->nw; i++)
			sj->wkeys[i].k = sj->buf + sj->wkeys[i].idx;
		hx_ix_sort_skeys(sj->keys, sj->n);
		hx_ix_sort_skeys(sj->wkeys, sj->nw);
	}
	sj->rc = rc;
	return NULL;
}

void hx_ix_stemjob_free(struct stemjob *sj)
{
	free(sj->keys);
	free(sj->wkeys);
	free(sj->buf);
	sj->keys = sj->wkeys = NULL;
	sj->buf = NULL;
	sj->n = sj->nw = 0;
}

/* Puts n sorted keys into dbi (appending when it is empty); a key already
 * there is left as it is (its value is the same: stems do not change
 * without a schema bump). */
static int put_keys(MDB_txn *txn, MDB_dbi dbi, const struct skey *keys, size_t n)
{
	MDB_stat ms;
	MDB_cursor *c;
	unsigned flags =
	        !mdb_stat(txn, dbi, &ms) && ms.ms_entries == 0 ? MDB_APPEND : MDB_NOOVERWRITE;
	int r = mdb_cursor_open(txn, dbi, &c);
	if (r)
		return hx_ix_err(r);
	/* the keys are sorted: through one cursor, most land on the leaf
	 * page it is on, which LMDB looks at before a search from the root */
	for (size_t i = 0; i < n; i++) {
		MDB_val k = { keys[i].len, (void *)keys[i].k };
		MDB_val v = { keys[i].vlen, (void *)(keys[i].k + keys[i].len) };
		r = mdb_cursor_put(c, &k, &v, flags);
		if (r && r != MDB_KEYEXIST)
			break;
		r = 0;
	}
	mdb_cursor_close(c);
	return r ? hx_ix_err(r) : HX_OK;
}

int hx_ix_put_stems(struct hx_index *ix, struct hx_ix_pending *p, struct stemjob *sj)
{
	int rc = sj->rc;
	if (!rc)
		rc = put_keys(p->txn, ix->stem, sj->keys, sj->n);
	if (!rc)
		rc = put_keys(p->txn, ix->wstem, sj->wkeys, sj->nw);
	hx_ix_stemjob_free(sj);
	return rc;
}
