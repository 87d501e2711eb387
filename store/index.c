/*
 * index.c: the search index's hooks into the store's write transactions
 * (index.h; tables: ix_int.h), and adding and removing documents. A new
 * current version gets the next docnum and is tokenized into pending
 * postings (ix_worker.c), which hx_index_commit appends to the terms'
 * posting blocks with the norms, attribute bitmaps and stats, just before
 * the store commits (ix_flush.c). A replaced or deleted version is removed
 * from every one of its terms at once, so only current versions are ever
 * searchable and the statistics are exact. hx_index_check (fsck) is in
 * ix_check.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store/ix_write_int.h"

/* Pending postings are written out when this many have gathered, so a huge
 * transaction stays within memory (about 20 bytes each). A variable so that
 * tests can make it small. */
size_t hx_ix_flush_postings = 16u << 20;

/* ---- pending work of one write transaction ---------------------------- */

static void log_remap(void *arg, const uint32_t *remap, uint32_t nold)
{
	struct hx_ix_pending *p = arg;
	(void)nold;
	for (size_t i = 0; i < p->nlog; i++)
		p->log[i].term = remap[p->log[i].term];
	for (size_t i = 0; i < p->dt.n; i++)
		p->dt.idx[i] = remap[p->dt.idx[i]];
}

static void pending_free(struct hx_ix_pending **pp)
{
	struct hx_ix_pending *p = *pp;
	if (!p)
		return;
	hx_ix_worker_stop(p);
	p->stem = NULL; /* the index's (hx_index_close frees it) */
	hx_ix_tab_free(&p->terms);
	free(p->log);
	free(p->norms);
	free(p->recs);
	free(p->roff);
	hx_ix_free_attrs(p);
	free(p->abm);
	free(p->dt.idx);
	free(p);
	*pp = NULL;
}

int hx_ix_load_stats(struct hx_index *ix, MDB_txn *txn, hx_ix_stats *st)
{
	MDB_val k = { 5, "stats" }, v;
	int rc = mdb_get(txn, ix->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(st, 0, sizeof *st);
		return HX_OK;
	}
	if (rc)
		return HX_EIO;
	return hx_ix_stats_decode(st, v.mv_data, v.mv_size);
}

/* The pending state for txn, created on first use. */
static int pending_get(struct hx_index *ix, MDB_txn *txn, struct hx_ix_pending **out)
{
	struct hx_ix_pending *p = ix->pend;
	int rc;
	if (p && p->txn == txn) {
		*out = p;
		return HX_OK;
	}
	/* A different transaction: whatever was gathered belonged to one that
	 * ended without hx_index_commit, i.e. was aborted. */
	pending_free(&ix->pend);
	if (!(p = calloc(1, sizeof *p)))
		return HX_ENOMEM;
	if ((!ix->stemmers && (rc = hx_stemmers_new(&ix->stemmers))) ||
	    (rc = hx_ix_load_stats(ix, txn, &p->st))) {
		pending_free(&p);
		return rc;
	}
	p->stem = ix->stemmers;
	p->txn = txn;
	p->first_doc = p->st.next_doc;
	p->terms.on_grow = log_remap;
	p->terms.grow_arg = p;
	ix->pend = p;
	*out = p;
	return HX_OK;
}

/* ---- adding and removing documents -------------------------------------- */

static int add_doc(struct hx_index *ix, struct hx_ix_pending *p, const hx_entry *e)
{
	uint32_t doc = p->st.next_doc;
	char *files;
	int rc;
	if (doc == UINT32_MAX)
		return HX_ELIMIT; /* reindex renumbers */
	if ((rc = hx_ix_files(ix, p->txn, e, &files)))
		return rc;
	size_t k = doc - p->first_doc, hl = hx_ix_hitrec_size(e);
	size_t *no = hx_grow(p->roff, &p->caproff, k + 2, sizeof *no);
	if (no)
		p->roff = no;
	if (no && k == 0)
		p->roff[0] = 0;
	uint8_t *nr = no ? hx_grow(p->recs, &p->caprecs, p->roff[k] + hl, 1) : NULL;
	if (!nr) {
		free(files);
		return HX_ENOMEM;
	}
	p->recs = nr;
	hx_ix_hitrec_put(p->recs + p->roff[k], e);
	p->roff[k + 1] = p->roff[k] + hl;

	/* Small transactions tokenize inline; a bulk load hands documents to
	 * a second thread so that tokenizing overlaps the store's own work. */
	if (!p->have_worker && p->ndocs_txn >= HX_IX_SYNC_DOCS && sysconf(_SC_NPROCESSORS_ONLN) > 1)
		hx_ix_worker_start(p); /* on failure, go on inline */
	/* A document with much attachment text is tokenized here, once the
	 * worker is idle, so that the queued copies stay small (up to
	 * HX_IX_QCAP * HX_IX_BATCH of them). */
	int big = files && strlen(files) > HX_IX_QUEUE_FILES;
	if (p->have_worker && big && (rc = hx_ix_drain(p))) {
		free(files);
		return rc;
	}
	if (p->have_worker && !big) {
		size_t nlog;
		if ((rc = hx_ix_worker_add(p, e, files, doc, &nlog)))
			return rc;
		p->st.next_doc = doc + 1;
		if (nlog >= hx_ix_flush_postings)
			rc = hx_ix_flush(ix, p);
	} else {
		rc = hx_ix_accumulate(p, e, files, doc);
		free(files);
		p->st.next_doc = doc + 1;
		if (!rc && p->nlog >= hx_ix_flush_postings)
			rc = hx_ix_flush(ix, p);
	}
	p->ndocs_txn++;
	p->st.ndocs++;
	int sl = hx_stem_lang(e->lang);
	if (sl >= 0 && sl < HX_IX_NLANG)
		p->st.lang_docs[sl]++;
	return rc;
}

/* Removes docnum doc from one term's postings. */
static int remove_posting(struct hx_index *ix, MDB_txn *txn, const char *term, size_t tl,
                          uint32_t doc)
{
	MDB_val k, v;
	MDB_cursor *c;
	uint8_t key[HX_IX_KEY_MAX];
	hx_posting blk[HX_IX_BLOCK];
	hx_ix_term ti;
	int n, rc;

	if ((rc = hx_ix_term_lookup(txn, ix->post, term, tl, &ti)))
		return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
	if ((rc = mdb_cursor_open(txn, ix->post, &c)))
		return hx_ix_err(rc);
	/* The block holding doc: the last one whose first docnum <= doc. */
	k.mv_size = hx_ix_pkey(key, term, tl, doc);
	k.mv_data = key;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && !(k.mv_size == tl + 5 && !memcmp(k.mv_data, key, tl + 1) &&
	                 hx_be32_get((uint8_t *)k.mv_data + tl + 1) == doc))
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc || k.mv_size != tl + 5 || memcmp(k.mv_data, key, tl + 1)) {
		mdb_cursor_close(c);
		return rc && rc != MDB_NOTFOUND ? hx_ix_err(rc) : HX_ECORRUPT;
	}
	uint32_t first = hx_be32_get((uint8_t *)k.mv_data + tl + 1);
	float bound = v.mv_size >= 9 ? hx_ix_block_bound(v.mv_data) : 0;
	if ((rc = hx_ix_block_decode(v.mv_data, v.mv_size, first, blk, &n))) {
		mdb_cursor_close(c);
		return rc;
	}
	int at = -1;
	for (int i = 0; i < n; i++)
		if (blk[i].doc == doc)
			at = i;
	if (at < 0) {
		mdb_cursor_close(c);
		return HX_ECORRUPT;
	}
	/* Delete the block and put it back without the posting (its key
	 * changes when the first posting goes); the bound stays an upper
	 * bound. When the last block goes, the one before becomes the last. */
	rc = mdb_cursor_del(c, 0);
	hx_ix_term nt = ti;
	nt.df--;
	if (!rc && first == ti.lastfirst && n == 1 && nt.df > 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
		if (rc == 0 && k.mv_size == tl + 5 && !memcmp(k.mv_data, key, tl + 1) &&
		    v.mv_size >= 9) {
			nt.lastfirst = hx_be32_get((uint8_t *)k.mv_data + tl + 1);
			nt.lastn = hx_ix_block_n(v.mv_data);
		} else {
			rc = rc ? rc : MDB_CORRUPTED;
		}
	}
	if (rc) {
		mdb_cursor_close(c);
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_ix_err(rc);
	}
	memmove(blk + at, blk + at + 1, (size_t)(n - at - 1) * sizeof *blk);
	n--;
	rc = n > 0 ? hx_ix_put_block(c, term, tl, blk, n, bound, 0) : HX_OK;
	mdb_cursor_close(c);
	if (rc)
		return rc;
	if (first == ti.lastfirst && n > 0) {
		nt.lastfirst = blk[0].doc;
		nt.lastn = n;
	}
	if (!ti.header)
		return nt.df == (uint32_t)n ? HX_OK : HX_ECORRUPT;
	memcpy(key, term, tl);
	key[tl] = 0;
	k.mv_size = tl + 1;
	k.mv_data = key;
	if (nt.df == 0)
		return hx_ix_err(mdb_del(txn, ix->post, &k, NULL));
	uint8_t h[12];
	hx_ix_term_header(h, &nt);
	v.mv_size = 12;
	v.mv_data = h;
	return hx_ix_err(mdb_put(txn, ix->post, &k, &v, 0));
}

struct attr_del {
	struct hx_index *ix;
	MDB_txn *txn;
	uint32_t doc;
};

static int attr_del_cb(void *arg, const char *key, size_t klen)
{
	struct attr_del *a = arg;
	MDB_val k = { klen, (void *)key }, v;
	int rc = mdb_get(a->txn, a->ix->attr, &k, &v);
	if (rc == MDB_NOTFOUND)
		return HX_ECORRUPT;
	if (rc)
		return hx_ix_err(rc);
	roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
	if (!bm)
		return HX_ECORRUPT;
	roaring_bitmap_remove(bm, a->doc);
	if (roaring_bitmap_is_empty(bm)) {
		roaring_bitmap_free(bm);
		return hx_ix_err(mdb_del(a->txn, a->ix->attr, &k, NULL));
	}
	roaring_bitmap_run_optimize(bm);
	size_t need = roaring_bitmap_portable_size_in_bytes(bm);
	char *buf = malloc(need);
	if (!buf) {
		roaring_bitmap_free(bm);
		return HX_ENOMEM;
	}
	v.mv_size = roaring_bitmap_portable_serialize(bm, buf);
	v.mv_data = buf;
	rc = hx_ix_err(mdb_put(a->txn, a->ix->attr, &k, &v, 0));
	free(buf);
	roaring_bitmap_free(bm);
	return rc;
}

static int del_doc(struct hx_index *ix, struct hx_ix_pending *p, const hx_entry *e)
{
	MDB_txn *txn = p->txn;
	MDB_val ik = { HX_ID_LEN, (void *)e->id }, iv;
	int rc;
	if ((rc = hx_ix_drain(p)))
		return rc;
	rc = mdb_get(txn, ix->ids, &ik, &iv);
	if (rc == MDB_NOTFOUND && p->st.next_doc > p->first_doc) {
		/* Added earlier in this same transaction: write it out first. */
		if ((rc = hx_ix_flush(ix, p)))
			return rc;
		rc = mdb_get(txn, ix->ids, &ik, &iv);
	}
	if (rc == MDB_NOTFOUND || (!rc && iv.mv_size != 4))
		return HX_ECORRUPT; /* a current version the index never saw */
	if (rc)
		return hx_ix_err(rc);
	uint32_t doc = hx_le32_get(iv.mv_data);
	if (doc >= p->first_doc)
		return HX_ECORRUPT;

	struct ttab t = { 0 };
	struct docterms dt = { 0 };
	char *files;
	t.on_grow = hx_ix_dt_remap;
	t.grow_arg = &dt;
	if ((rc = hx_ix_files(ix, txn, e, &files)))
		return rc;
	rc = hx_ix_doc_terms(&t, &dt, e, files, doc);
	free(files);
	for (size_t i = 0; i < dt.n && !rc; i++) {
		struct tent *te = &t.e[dt.idx[i]];
		rc = remove_posting(ix, txn, t.arena + te->koff, te->klen, doc);
	}
	hx_ix_tab_free(&t);
	free(dt.idx);
	if (rc)
		return rc;
	struct attr_del ad = { ix, txn, doc };
	if ((rc = hx_ix_doc_attrs(e, attr_del_cb, &ad)))
		return rc;

	uint8_t ck[4], buf[HX_IX_CHUNK * HX_IX_NORM_SIZE];
	hx_be32_put(ck, doc / HX_IX_CHUNK);
	MDB_val k = { 4, ck }, v;
	if ((rc = mdb_get(txn, ix->norms, &k, &v)) || v.mv_size != sizeof buf)
		return rc && rc != MDB_NOTFOUND ? hx_ix_err(rc) : HX_ECORRUPT;
	memcpy(buf, v.mv_data, sizeof buf);
	hx_ix_norm nm, zero = { { 0, 0, 0, 0 }, 0, -1 };
	hx_ix_norm_get(&nm, buf, sizeof buf, doc);
	hx_ix_norm_put(buf, doc, &zero);
	v.mv_data = buf;
	if ((rc = mdb_put(txn, ix->norms, &k, &v, 0)))
		return hx_ix_err(rc);
	uint8_t dk[4];
	hx_be32_put(dk, doc);
	MDB_val k1 = { 4, dk };
	if ((rc = mdb_del(txn, ix->docs, &k1, NULL)) || (rc = mdb_del(txn, ix->ids, &ik, NULL)))
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_ix_err(rc);

	hx_ix_stats *st = &p->st;
	if (st->ndocs == 0)
		return HX_ECORRUPT;
	st->ndocs--;
	for (int f = 0; f < HX_NFIELDS; f++)
		st->sumlen[f] -= nm.len[f] <= st->sumlen[f] ? nm.len[f] : st->sumlen[f];
	int sl = hx_stem_lang(e->lang);
	if (sl >= 0 && sl < HX_IX_NLANG && st->lang_docs[sl])
		st->lang_docs[sl]--;
	return HX_OK;
}

/* ---- hooks -------------------------------------------------------------- */

int hx_index_open(struct hx_index *ix, MDB_txn *txn, int create)
{
	struct {
		const char *name;
		MDB_dbi *dbi;
	} t[] = {
		{ "ix.meta", &ix->meta },   { "ix.docs", &ix->docs },   { "ix.ids", &ix->ids },
		{ "ix.norms", &ix->norms }, { "ix.post", &ix->post },   { "ix.attr", &ix->attr },
		{ "ix.stem", &ix->stem },   { "ix.wstem", &ix->wstem },
	};
	int rc;
	ix->stale = 0;
	ix->pend = NULL;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		rc = mdb_dbi_open(txn, t[i].name, create ? MDB_CREATE : 0, t[i].dbi);
		if (rc == MDB_NOTFOUND) {
			ix->stale = 1; /* a store written before the index existed */
			return HX_OK;
		}
		if (rc)
			return hx_ix_err(rc);
	}
	MDB_val k = { 6, "schema" }, v;
	uint8_t want[4];
	hx_le32_put(want, HX_INDEX_SCHEMA);
	rc = mdb_get(txn, ix->meta, &k, &v);
	if (rc == MDB_NOTFOUND && create) {
		MDB_cursor *c;
		MDB_val ck, cv;
		/* Fresh tables of a new store, or tables of an older program
		 * that left the schema out: only the first is current. */
		if ((rc = mdb_cursor_open(txn, ix->docs, &c)))
			return hx_ix_err(rc);
		rc = mdb_cursor_get(c, &ck, &cv, MDB_FIRST);
		mdb_cursor_close(c);
		if (rc == 0) {
			ix->stale = 1;
			return HX_OK;
		}
		v.mv_size = 4;
		v.mv_data = want;
		return hx_ix_err(mdb_put(txn, ix->meta, &k, &v, 0));
	}
	if (rc == MDB_NOTFOUND || (!rc && (v.mv_size != 4 || memcmp(v.mv_data, want, 4)))) {
		ix->stale = 1;
		return HX_OK;
	}
	return hx_ix_err(rc);
}

int hx_index_update(struct hx_index *ix, MDB_txn *txn, const hx_entry *old, const hx_entry *new_)
{
	struct hx_ix_pending *p;
	int rc;
	if (ix->stale)
		return HX_OK; /* nothing to keep in step until reindex */
	if ((rc = pending_get(ix, txn, &p)))
		return rc;
	if (old && (rc = del_doc(ix, p, old)))
		return rc;
	if (new_ && (rc = add_doc(ix, p, new_)))
		return rc;
	return HX_OK;
}

int hx_index_commit(struct hx_index *ix, MDB_txn *txn)
{
	int rc = HX_OK;
	if (ix->pend && ix->pend->txn == txn)
		rc = hx_ix_flush(ix, ix->pend);
	pending_free(&ix->pend);
	return rc;
}

void hx_index_abort(struct hx_index *ix)
{
	pending_free(&ix->pend);
}

void hx_index_close(struct hx_index *ix)
{
	pending_free(&ix->pend);
	hx_stemmers_free(&ix->stemmers);
}

int hx_index_clear(struct hx_index *ix, MDB_txn *txn)
{
	MDB_dbi *t[] = { &ix->meta, &ix->docs, &ix->ids,  &ix->norms,
		         &ix->post, &ix->attr, &ix->stem, &ix->wstem };
	const char *names[] = { "ix.meta", "ix.docs", "ix.ids",  "ix.norms",
		                "ix.post", "ix.attr", "ix.stem", "ix.wstem" };
	int rc;
	pending_free(&ix->pend);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if ((rc = mdb_dbi_open(txn, names[i], MDB_CREATE, t[i])))
			return hx_ix_err(rc);
		if ((rc = mdb_drop(txn, *t[i], 0)))
			return hx_ix_err(rc);
	}
	MDB_val k = { 6, "schema" }, v;
	uint8_t want[4];
	hx_le32_put(want, HX_INDEX_SCHEMA);
	v.mv_size = 4;
	v.mv_data = want;
	if ((rc = mdb_put(txn, ix->meta, &k, &v, 0)))
		return hx_ix_err(rc);
	ix->stale = 0;
	return HX_OK;
}
