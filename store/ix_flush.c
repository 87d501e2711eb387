/*
 * ix_flush.c: writing what a write transaction gathered into the index
 * tables (ix_write_int.h, layouts in ix_int.h): each pending term's
 * postings appended to its last block and further blocks in key order
 * (MDB_APPEND into an empty table), the norm chunks, the ix.docs and
 * ix.ids records, the attribute bitmaps (or'ed into the stored ones), the
 * stem dictionary (ix_stems.c) and the stats record.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "store/ix_write_int.h"

static float bound_up(double x)
{
	float f = (float)x;
	if ((double)f < x)
		f = nextafterf(f, INFINITY);
	return f;
}

/* Per pending document, each field's weight over its length
 * normalisation under the reference averages: a posting's weighted tf for
 * the block bound is then three multiplications. */
static double (*norm_factors(struct hx_ix_pending *p, const double ref[HX_NFIELDS]))[HX_NFIELDS]
{
	size_t n = p->st.next_doc - p->first_doc;
	double(*nf)[HX_NFIELDS] = malloc((n ? n : 1) * sizeof *nf);
	if (!nf)
		return NULL;
	for (size_t d = 0; d < n; d++)
		for (int f = 0; f < HX_NFIELDS; f++) {
			double a = ref[f] > 0 ? ref[f] : 1.0;
			nf[d][f] = hx_ix_fw[f] /
			           (1.0 - HX_BM25_B + HX_BM25_B * (double)p->norms[d].len[f] / a);
		}
	return nf;
}

static int write_norms(struct hx_index *ix, struct hx_ix_pending *p)
{
	uint32_t d = p->first_doc;
	while (d < p->st.next_doc) {
		uint32_t chunk = d / HX_IX_CHUNK;
		uint8_t ck[4], buf[HX_IX_CHUNK * HX_IX_NORM_SIZE];
		hx_be32_put(ck, chunk);
		MDB_val k = { 4, ck }, v;
		int rc = mdb_get(p->txn, ix->norms, &k, &v);
		if (rc == 0 && v.mv_size == sizeof buf)
			memcpy(buf, v.mv_data, sizeof buf);
		else if (rc == 0 || rc == MDB_NOTFOUND)
			memset(buf, 0, sizeof buf);
		else
			return hx_ix_err(rc);
		for (; d < p->st.next_doc && d / HX_IX_CHUNK == chunk; d++)
			hx_ix_norm_put(buf, d, &p->norms[d - p->first_doc]);
		v.mv_size = sizeof buf;
		v.mv_data = buf;
		if ((rc = mdb_put(p->txn, ix->norms, &k, &v, 0)))
			return hx_ix_err(rc);
	}
	return HX_OK;
}

int hx_ix_put_block(MDB_cursor *post, const char *term, size_t tl, const hx_posting *ps, int n,
                    float bound, unsigned flags)
{
	uint8_t key[HX_IX_KEY_MAX], val[HX_IX_BLOCK_MAXBYTES];
	MDB_val k = { hx_ix_pkey(key, term, tl, ps[0].doc), key };
	MDB_val v = { hx_ix_block_encode(val, ps, n, bound), val };
	return hx_ix_err(mdb_cursor_put(post, &k, &v, flags));
}

/* The posting of a log record, with its weighted tf under the
 * reference averages (the tfn of hx_ix_tfn; rounding differences stay far
 * inside the margin search adds to every bound). */
static float posting_of(hx_posting *q, const struct plog *l, const double (*nf)[HX_NFIELDS],
                        uint32_t first_doc)
{
	q->doc = l->doc;
	memcpy(q->tf, l->tf, sizeof q->tf);
	const double *w = nf[q->doc - first_doc];
	double b = 0;
	for (int f = 0; f < HX_NFIELDS; f++)
		b += q->tf[f] * w[f];
	return bound_up(b);
}

/* Fills the room left in the term's stored last block (key first, n
 * postings) with the first new postings, appended to its bytes without
 * decoding them; *took gets how many. Through the flush's cursor pc:
 * terms come in key order, so the block is mostly on the leaf page the
 * cursor is on already, and LMDB finds it there without a search from the
 * root (mdb_put would make one for the get and another for the put). */
static int fill_last(MDB_cursor *pc, const char *term, size_t tl, uint32_t first, int n,
                     const struct plog *lg, size_t cnt, const double (*nf)[HX_NFIELDS],
                     uint32_t first_doc, size_t *took)
{
	uint8_t key[HX_IX_KEY_MAX], val[HX_IX_BLOCK_MAXBYTES];
	hx_posting blk[HX_IX_BLOCK];
	MDB_val k = { hx_ix_pkey(key, term, tl, first), key }, v;
	int rc;
	if ((rc = mdb_cursor_get(pc, &k, &v, MDB_SET_KEY)))
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_ix_err(rc);
	/* what the append relies on; the decoders check the rest on reading */
	if (v.mv_size < 9 || v.mv_size > sizeof val || hx_ix_block_n(v.mv_data) != n ||
	    hx_ix_block_last(v.mv_data) >= lg[0].doc)
		return HX_ECORRUPT;
	memcpy(val, v.mv_data, v.mv_size);
	size_t take = cnt < (size_t)(HX_IX_BLOCK - n) ? cnt : (size_t)(HX_IX_BLOCK - n);
	float bound = 0;
	for (size_t i = 0; i < take; i++) {
		float b = posting_of(&blk[i], &lg[i], nf, first_doc);
		if (b > bound)
			bound = b;
	}
	v.mv_size = hx_ix_block_append(val, v.mv_size, blk, (int)take, bound);
	v.mv_data = val;
	*took = take;
	/* the key from our buffer: the page k pointed into may move */
	k.mv_data = key;
	k.mv_size = hx_ix_pkey(key, term, tl, first);
	return hx_ix_err(mdb_cursor_put(pc, &k, &v, 0));
}

/* Appends the pending postings of one term (cnt entries of lg, docnums
 * increasing and above every stored one): first into the room left in
 * its last block, then in new blocks, all through the flush's cursor pc
 * on ix.post (fill_last). With append set the table held no postings
 * when this flush began and keys arrive in order. */
static int flush_term(struct hx_ix_pending *p, MDB_cursor *pc, const char *term, size_t tl,
                      const struct plog *lg, size_t cnt, const double (*nf)[HX_NFIELDS], int append)
{
	hx_posting blk[HX_IX_BLOCK];
	hx_ix_term ti = { 0, 0, 0, 0 };
	int n = 0, rc; /* n: postings in the stored last block that has room */
	unsigned flags = append ? MDB_APPEND : 0;

	if (!append) {
		MDB_val fk, fv;
		rc = hx_ix_term_seek(pc, term, tl, &ti, &fk, &fv);
		if (rc == HX_ENOTFOUND)
			memset(&ti, 0, sizeof ti);
		else if (rc)
			return rc;
		else if (ti.lastn < HX_IX_BLOCK)
			n = ti.lastn;
	}
	/* The tail: n old postings then cnt new ones, in blocks. */
	size_t total = (size_t)n + cnt, lastoff = (total - 1) / HX_IX_BLOCK * HX_IX_BLOCK;
	int multi = ti.header || total > HX_IX_BLOCK || ti.df > (uint32_t)n;
	if (multi) {
		uint8_t key[HX_IX_KEY_MAX], h[12];
		hx_ix_term nt;
		nt.df = ti.df + (uint32_t)cnt;
		nt.lastfirst = lastoff < (size_t)n ? ti.lastfirst : lg[lastoff - (size_t)n].doc;
		nt.lastn = (int)(total - lastoff);
		hx_ix_term_header(h, &nt);
		memcpy(key, term, tl);
		key[tl] = 0;
		MDB_val k = { tl + 1, key }, v = { 12, h };
		if ((rc = mdb_cursor_put(pc, &k, &v, flags)))
			return hx_ix_err(rc);
	}
	size_t i = 0;
	if (n && (rc = fill_last(pc, term, tl, ti.lastfirst, n, lg, cnt, nf, p->first_doc, &i)))
		return rc;
	n = 0;
	float bound = 0;
	for (; i < cnt; i++) {
		float b = posting_of(&blk[n++], &lg[i], nf, p->first_doc);
		if (b > bound)
			bound = b;
		if (n == HX_IX_BLOCK || i + 1 == cnt) {
			if ((rc = hx_ix_put_block(pc, term, tl, blk, n, bound, flags)))
				return rc;
			n = 0;
			bound = 0;
		}
	}
	return HX_OK;
}

static int flush_attrs(struct hx_index *ix, struct hx_ix_pending *p)
{
	int rc = HX_OK;
	char *buf = NULL;
	size_t cap = 0;
	for (uint32_t i = 0; i < p->attrs.nslots && !rc; i++) {
		struct tent *e = &p->attrs.e[i];
		if (!e->klen)
			continue;
		MDB_val k = { e->klen, p->attrs.arena + e->koff }, v;
		roaring_bitmap_t *bm = p->abm[e->aux];
		rc = mdb_get(p->txn, ix->attr, &k, &v);
		if (rc == 0) {
			roaring_bitmap_t *old =
			        roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
			if (!old) {
				rc = HX_ECORRUPT;
				break;
			}
			roaring_bitmap_or_inplace(bm, old);
			roaring_bitmap_free(old);
		} else if (rc != MDB_NOTFOUND) {
			rc = hx_ix_err(rc);
			break;
		}
		roaring_bitmap_run_optimize(bm);
		size_t need = roaring_bitmap_portable_size_in_bytes(bm);
		char *nb = hx_grow(buf, &cap, need, 1);
		if (!nb) {
			rc = HX_ENOMEM;
			break;
		}
		buf = nb;
		v.mv_size = roaring_bitmap_portable_serialize(bm, buf);
		v.mv_data = buf;
		rc = hx_ix_err(mdb_put(p->txn, ix->attr, &k, &v, 0));
	}
	free(buf);
	return rc;
}

static int put_stats(struct hx_index *ix, MDB_txn *txn, const hx_ix_stats *st)
{
	uint8_t b[HX_IX_STATS_SIZE];
	hx_ix_stats_encode(b, st);
	MDB_val k = { 5, "stats" }, v = { sizeof b, b };
	return hx_ix_err(mdb_put(txn, ix->meta, &k, &v, 0));
}

/* ix.docs and ix.ids records of the pending documents (ix.docs: what a
 * hit shows, hx_ix_hitrec_put). */
struct idord {
	const uint8_t *id;
	uint32_t doc;
};

static int cmp_idord(const void *a, const void *b)
{
	return memcmp(((const struct idord *)a)->id, ((const struct idord *)b)->id, HX_ID_LEN);
}

static int write_recs(struct hx_index *ix, struct hx_ix_pending *p)
{
	size_t n = p->st.next_doc - p->first_doc;
	MDB_cursor *c;
	int rc;
	if ((rc = hx_ix_err(mdb_cursor_open(p->txn, ix->docs, &c))))
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t dk[4];
		hx_be32_put(dk, p->first_doc + (uint32_t)i);
		MDB_val k = { 4, dk }, v = { p->roff[i + 1] - p->roff[i], p->recs + p->roff[i] };
		rc = hx_ix_err(mdb_cursor_put(c, &k, &v, MDB_APPEND));
	}
	mdb_cursor_close(c);
	if (rc)
		return rc;
	/* ix.ids in id order: appended to an empty table, else at least
	 * touching each page once rather than at random. */
	struct idord *ord = malloc((n ? n : 1) * sizeof *ord);
	if (!ord)
		return HX_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ord[i].id = p->recs + p->roff[i]; /* a record starts with the id */
		ord[i].doc = p->first_doc + (uint32_t)i;
	}
	if (n > 1)
		qsort(ord, n, sizeof *ord, cmp_idord);
	MDB_stat ms;
	unsigned flags = !mdb_stat(p->txn, ix->ids, &ms) && ms.ms_entries == 0 ? MDB_APPEND : 0;
	if ((rc = hx_ix_err(mdb_cursor_open(p->txn, ix->ids, &c)))) {
		free(ord);
		return rc;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t dv[4];
		hx_le32_put(dv, ord[i].doc);
		MDB_val k = { HX_ID_LEN, (void *)ord[i].id }, v = { 4, dv };
		rc = hx_ix_err(mdb_cursor_put(c, &k, &v, flags));
	}
	mdb_cursor_close(c);
	free(ord);
	return rc;
}

/* Writes everything pending into the transaction (waits for the worker). */
void hx_ix_free_attrs(struct hx_ix_pending *p)
{
	for (uint32_t i = 0; i < p->nabm; i++)
		roaring_bitmap_free(p->abm[i]);
	p->nabm = 0;
	hx_ix_tab_free(&p->attrs);
}

void hx_ix_pending_reset(struct hx_ix_pending *p)
{
	hx_ix_tab_free(&p->terms);
	p->nlog = 0;
	p->published_log = 0;
	hx_ix_free_attrs(p);
	p->first_doc = p->st.next_doc;
}

int hx_ix_flush(struct hx_index *ix, struct hx_ix_pending *p)
{
	int rc;
	hx_ix_stats *st = &p->st;
	if ((rc = hx_ix_drain(p)))
		return rc;
	for (uint32_t d = p->first_doc; d < st->next_doc; d++)
		for (int f = 0; f < HX_NFIELDS; f++)
			st->sumlen[f] += p->norms[d - p->first_doc].len[f];
	if (st->ndocs && st->ref_avg[0] == 0 && st->ref_avg[1] == 0 && st->ref_avg[2] == 0 &&
	    st->ref_avg[3] == 0)
		for (int f = 0; f < HX_NFIELDS; f++) {
			double a = (double)st->sumlen[f] / (double)st->ndocs;
			st->ref_avg[f] = (float)(a < 1.0 ? 1.0 : a);
		}
	double ref[HX_NFIELDS];
	for (int f = 0; f < HX_NFIELDS; f++)
		ref[f] = st->ref_avg[f];

	/* The stem dictionary on a helper thread when there is much to do. */
	struct stemjob sj = { .p = p };
	pthread_t th;
	int threaded = p->terms.n > 4096 && !pthread_create(&th, NULL, hx_ix_stem_keys, &sj);
	if (!threaded)
		hx_ix_stem_keys(&sj);
	rc = HX_OK;
	if (p->nlog) {
		/* Group the log by term (a counting sort keeps docnum order),
		 * then write the terms in key order. */
		uint32_t ns = p->terms.nslots, nt = 0;
		size_t *start = calloc((size_t)ns + 1, sizeof *start);
		struct skey *order = malloc((size_t)p->terms.n * sizeof *order);
		struct plog *sorted = malloc(p->nlog * sizeof *sorted);
		double(*nf)[HX_NFIELDS] = norm_factors(p, ref);
		if (!start || !order || !sorted || !nf) {
			free(start);
			free(order);
			free(sorted);
			free(nf);
			rc = HX_ENOMEM;
			goto stems;
		}
		for (uint32_t i = 0; i < ns; i++) {
			struct tent *e = &p->terms.e[i];
			start[i + 1] = start[i] + e->count;
			if (e->count) {
				order[nt].k = p->terms.arena + e->koff;
				order[nt].len = e->klen;
				order[nt].idx = i;
				nt++;
			}
		}
		for (size_t i = 0; i < p->nlog; i++)
			sorted[start[p->log[i].term]++] = p->log[i];
		for (uint32_t i = ns; i > 0; i--)
			start[i] = start[i - 1];
		start[0] = 0;
		hx_ix_sort_skeys(order, nt);
		MDB_stat ms;
		MDB_cursor *pc = NULL;
		int append = !mdb_stat(p->txn, ix->post, &ms) && ms.ms_entries == 0;
		rc = hx_ix_err(mdb_cursor_open(p->txn, ix->post, &pc));
		for (uint32_t j = 0; j < nt && !rc; j++) {
			uint32_t i = order[j].idx;
			struct tent *e = &p->terms.e[i];
			rc = flush_term(p, pc, p->terms.arena + e->koff, e->klen, sorted + start[i],
			                e->count, (const double(*)[HX_NFIELDS])nf, append);
		}
		if (pc)
			mdb_cursor_close(pc);
		free(start);
		free(order);
		free(sorted);
		free(nf);
	}
stems:
	if (threaded)
		pthread_join(th, NULL);
	if (rc) {
		hx_ix_stemjob_free(&sj);
		return rc;
	}
	if ((rc = hx_ix_put_stems(ix, p, &sj)) || (rc = write_norms(ix, p)) ||
	    (rc = write_recs(ix, p)) || (rc = flush_attrs(ix, p)) ||
	    (rc = put_stats(ix, p->txn, st)))
		return rc;
	hx_ix_pending_reset(p);
	return HX_OK;
}
