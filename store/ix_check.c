/*
 * ix_check.c: fsck of the search index (hx_index_check, index.h). It
 * recomputes from the live documents what the index must hold (postings,
 * norms, docnum records, stem dictionary, attribute bitmaps, stats) and
 * compares with what it holds. Postings and bitmap members are compared
 * as a count and an order-independent sum of hashes, so the check needs
 * memory for one pass's term table, not for a second index.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/ix_write_int.h"
#include "store/docs.h"

struct attr_sum {
	uint64_t sum, n;
	uint32_t doc;
};

struct checker {
	void (*report)(void *, const char *);
	void *arg;
	uint64_t problems;
	struct hx_index *ix;
	MDB_txn *txn;
	hx_stemmers *stem;
	/* what the documents say the index must hold */
	struct ttab t;
	struct docterms dt;
	uint64_t live, sumlen[HX_NFIELDS], want_post, want_sum;
	uint32_t langs[HX_IX_NLANG];
	struct attr_sum as;
};

static void problem(struct checker *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct checker *ck, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ck->problems++;
	if (ck->report)
		ck->report(ck->arg, line);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static uint64_t posting_hash(const char *term, size_t tl, const hx_posting *q)
{
	uint64_t h = hx_ix_hash(term, tl);
	h = mix(h ^ q->doc);
	for (int f = 0; f < HX_NFIELDS; f++)
		h = mix(h ^ ((uint64_t)q->tf[f] << (8 * f + 1)));
	return h;
}

static int attr_sum_cb(void *arg, const char *key, size_t klen)
{
	struct attr_sum *a = arg;
	a->sum += mix(hx_ix_hash(key, klen) ^ a->doc);
	a->n++;
	return HX_OK;
}

/* Every word of a live document of a stemming language must be in the
 * stem dictionary under that language, and in a language stemmed through
 * Hunspell, in ix.wstem with its stem. */
static int check_stems(struct checker *ck)
{
	char key[2 * HX_TOKEN_MAX + 16];
	uint64_t missing = 0, wrong = 0;
	const struct ttab *t = &ck->t;
	for (uint32_t i = 0; i < t->nslots; i++) {
		const struct tent *e = &t->e[i];
		if (!e->klen || !e->langs)
			continue;
		const char *w = t->arena + e->koff + 1;
		size_t wl = e->klen - 1u;
		for (int l = 0; l < 32; l++) {
			if (!(e->langs & (1u << l)))
				continue;
			size_t sl;
			const char *st = hx_stem(ck->stem, l, w, wl, &sl);
			if (!st)
				return HX_ENOMEM;
			MDB_val k = { hx_ix_dkey(key, l, st, sl, w, wl), key }, v;
			int rc = mdb_get(ck->txn, ck->ix->stem, &k, &v);
			if (rc == MDB_NOTFOUND) {
				if (!missing++)
					problem(ck,
					        "search index: '%.*s' (%s) is missing from the "
					        "stem dictionary",
					        (int)wl, w, hx_stem_lang_code(l));
			} else if (rc) {
				return hx_ix_err(rc);
			}
			if (!hx_stem_lang_dict(l))
				continue;
			MDB_val wk = { hx_ix_wskey(key, l, w, wl), key }, wv;
			rc = mdb_get(ck->txn, ck->ix->wstem, &wk, &wv);
			if (rc && rc != MDB_NOTFOUND)
				return hx_ix_err(rc);
			if (rc || wv.mv_size != sl || memcmp(wv.mv_data, st, sl))
				if (!wrong++)
					problem(ck, "search index: the stem of '%.*s' (%s) is %s",
					        (int)wl, w, hx_stem_lang_code(l),
					        rc ? "missing" : "wrong");
		}
	}
	if (wrong > 1)
		problem(ck, "search index: %llu more words with a missing or wrong stem",
		        (unsigned long long)wrong - 1);
	if (missing > 1)
		problem(ck, "search index: %llu more words missing from the stem dictionary",
		        (unsigned long long)missing - 1);
	return HX_OK;
}

/* One live document e (its id's key ek): its docnum records, norms and
 * attributes, and its postings into the expected count and sum. */
static int check_doc(struct checker *ck, const hx_entry *e, MDB_val *ek)
{
	struct hx_index *ix = ck->ix;
	MDB_txn *txn = ck->txn;
	MDB_val iv;
	char hex[2 * HX_ID_LEN + 1];
	int rc;
	ck->live++;
	if (mdb_get(txn, ix->ids, ek, &iv) || iv.mv_size != 4) {
		problem(ck, "search index: document %s (%s) is not indexed", e->path,
		        hx_hex(hex, e->id, HX_ID_LEN));
		return HX_OK;
	}
	uint32_t doc = hx_le32_get(iv.mv_data);
	uint8_t dk[4];
	hx_be32_put(dk, doc);
	MDB_val k1 = { 4, dk }, v1;
	if (mdb_get(txn, ix->docs, &k1, &v1) || v1.mv_size < HX_ID_LEN + HX_KEY_LEN ||
	    memcmp(v1.mv_data, e->id, HX_ID_LEN) ||
	    memcmp((uint8_t *)v1.mv_data + HX_ID_LEN, e->author, HX_KEY_LEN)) {
		problem(ck, "search index: docnum %u does not point back to %s", doc, e->path);
	} else {
		/* the fields a hit shows, as the entry has them */
		size_t hl = hx_ix_hitrec_size(e);
		uint8_t *want = malloc(hl);
		if (!want)
			return HX_ENOMEM;
		hx_ix_hitrec_put(want, e);
		if (v1.mv_size != hl || memcmp(v1.mv_data, want, hl))
			problem(ck, "search index: the record of docnum %u is not %s's fields", doc,
			        e->path);
		free(want);
	}
	char *files;
	if ((rc = hx_ix_files(ix, txn, e, &files)))
		return rc;
	rc = hx_ix_doc_terms(&ck->t, &ck->dt, e, files, doc);
	free(files);
	if (rc)
		return rc;
	for (size_t i = 0; i < ck->dt.n; i++) {
		struct tent *te = &ck->t.e[ck->dt.idx[i]];
		hx_posting q = { doc, { te->tf[0], te->tf[1], te->tf[2], te->tf[3] } };
		ck->want_sum += posting_hash(ck->t.arena + te->koff, te->klen, &q);
		ck->want_post++;
	}
	hx_ix_norm nm;
	uint8_t ckey[4];
	hx_be32_put(ckey, doc / HX_IX_CHUNK);
	MDB_val nk = { 4, ckey }, nv;
	if (mdb_get(txn, ix->norms, &nk, &nv))
		nv.mv_size = 0, nv.mv_data = NULL;
	hx_ix_norm_get(&nm, nv.mv_data, nv.mv_size, doc);
	uint32_t w0 = hx_ix_sat16(ck->dt.len[0]), w1 = hx_ix_sat16(ck->dt.len[1]);
	uint32_t w3 = ck->dt.len[3] > 0xffffff ? 0xffffff : ck->dt.len[3];
	if (nm.day1 != hx_ix_day1(e->timestamp) || nm.len[0] != w0 || nm.len[1] != w1 ||
	    nm.len[2] != ck->dt.len[2] || nm.len[3] != w3 || nm.lang != hx_stem_lang(e->lang))
		problem(ck, "search index: lengths, date or language of %s are wrong", e->path);
	ck->sumlen[0] += w0;
	ck->sumlen[1] += w1;
	ck->sumlen[2] += ck->dt.len[2];
	ck->sumlen[3] += w3;
	int sl = hx_stem_lang(e->lang);
	if (sl >= 0 && sl < HX_IX_NLANG)
		ck->langs[sl]++;
	ck->as.doc = doc;
	hx_ix_doc_attrs(e, attr_sum_cb, &ck->as);
	/* keep the table small: terms are per document here */
	if (ck->t.n > (1u << 20)) {
		if ((rc = check_stems(ck)))
			return rc;
		hx_ix_tab_free(&ck->t);
	}
	return HX_OK;
}

/* 1. From the documents: what the index must hold. */
struct check_walk {
	struct checker *ck;
	struct hx_zent *entries;
};

static int check_one(void *arg, const MDB_val *key, const uint8_t *cur)
{
	struct check_walk *w = arg;
	hx_entry e;
	MDB_val ek = { HX_ID_LEN, (void *)(cur + 8) };
	(void)key;
	if (!(cur[8 + HX_ID_LEN] & HX_VER_LISTED) ||
	    hx_zent_decode(w->entries, w->ck->txn, ek.mv_data, &e))
		return HX_OK; /* the store's own check reports a missing entry */
	int rc = hx_entry_is_listed(&e) ? check_doc(w->ck, &e, &ek) : HX_OK;
	hx_entry_clear(&e);
	return rc;
}

static int check_documents(struct checker *ck, MDB_dbi docs, struct hx_zent *entries)
{
	struct check_walk w = { ck, entries };
	int rc = hx_docs_each(ck->txn, docs, NULL, 0, check_one, &w);
	return rc ? rc : check_stems(ck);
}

static int count_entries(MDB_txn *txn, MDB_dbi dbi, uint64_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(txn, dbi, &st);
	*n = rc ? 0 : st.ms_entries;
	return hx_ix_err(rc);
}

/* The stats record and the table sizes against the documents. */
static void check_totals(struct checker *ck, const hx_ix_stats *st)
{
	if (st->ndocs != ck->live)
		problem(ck, "search index: %llu documents counted, %llu live",
		        (unsigned long long)st->ndocs, (unsigned long long)ck->live);
	for (int f = 0; f < HX_NFIELDS; f++)
		if (st->sumlen[f] != ck->sumlen[f])
			problem(ck, "search index: field %d length sum %llu, want %llu", f,
			        (unsigned long long)st->sumlen[f],
			        (unsigned long long)ck->sumlen[f]);
	if (memcmp(st->lang_docs, ck->langs, sizeof ck->langs))
		problem(ck, "search index: documents per language are wrong");
	uint64_t n1, n2;
	if (!count_entries(ck->txn, ck->ix->ids, &n1) &&
	    !count_entries(ck->txn, ck->ix->docs, &n2) && (n1 != ck->live || n2 != ck->live))
		problem(ck, "search index: %llu ids and %llu docnums for %llu documents",
		        (unsigned long long)n1, (unsigned long long)n2,
		        (unsigned long long)ck->live);
}

/* One term's records while walking ix.post in key order. */
struct term_walk {
	char term[HX_IX_KEY_MAX];
	size_t tl;
	uint32_t df, prev_last, lastfirst;
	int lastn, have_term, bad_term, nblocks;
	hx_ix_term hdr;
	uint64_t have_post, have_sum;
};

/* The term's header (if any) must agree with its blocks. */
static void term_close(struct checker *ck, struct term_walk *w)
{
	const hx_ix_term *h = &w->hdr;
	if (h->header ? (h->df != w->df || h->lastfirst != w->lastfirst || h->lastn != w->lastn ||
	                 w->nblocks == 0)
	              : w->nblocks != 1)
		problem(ck, "search index: term '%.*s' header disagrees with its postings",
		        (int)w->tl, w->term);
	w->have_term = 0;
}

/* A record of a new term: its header, or its first block (then 1). -1 for
 * a malformed key. */
static int term_open(struct checker *ck, struct term_walk *w, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *kb = k->mv_data;
	const uint8_t *z = memchr(kb, 0, k->mv_size);
	if (!z || z == kb ||
	    ((size_t)(z - kb) + 5 != k->mv_size && (size_t)(z - kb) + 1 != k->mv_size)) {
		problem(ck, "search index: malformed posting key");
		return -1;
	}
	w->tl = (size_t)(z - kb);
	memcpy(w->term, kb, w->tl);
	w->have_term = 1;
	w->bad_term = 0;
	w->df = 0;
	w->nblocks = 0;
	w->prev_last = 0;
	memset(&w->hdr, 0, sizeof w->hdr);
	if (k->mv_size != w->tl + 1)
		return 1;
	const uint8_t *vb = v->mv_data;
	if (v->mv_size != 12) {
		problem(ck, "search index: bad header of '%.*s'", (int)w->tl, w->term);
	} else {
		w->hdr.header = 1;
		w->hdr.df = hx_le32_get(vb);
		w->hdr.lastfirst = hx_le32_get(vb + 4);
		w->hdr.lastn = vb[8];
	}
	return 0;
}

/* One posting block of the current term. */
static void term_block(struct checker *ck, struct term_walk *w, const MDB_val *k, const MDB_val *v)
{
	hx_posting blk[HX_IX_BLOCK];
	uint32_t first = hx_be32_get((const uint8_t *)k->mv_data + w->tl + 1);
	int n;
	if (hx_ix_block_decode(v->mv_data, v->mv_size, first, blk, &n)) {
		if (!w->bad_term)
			problem(ck, "search index: damaged block of '%.*s'", (int)w->tl, w->term);
		w->bad_term = 1;
		return;
	}
	if (w->nblocks && first <= w->prev_last)
		problem(ck, "search index: blocks of '%.*s' overlap", (int)w->tl, w->term);
	w->nblocks++;
	w->prev_last = blk[n - 1].doc;
	w->lastfirst = first;
	w->lastn = n;
	w->df += (uint32_t)n;
	for (int i = 0; i < n; i++) {
		w->have_sum += posting_hash(w->term, w->tl, &blk[i]);
		w->have_post++;
	}
}

/* 2. From the postings: what the index holds. */
static int check_postings(struct checker *ck)
{
	struct term_walk w;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;
	memset(&w, 0, sizeof w);
	if ((rc = mdb_cursor_open(ck->txn, ck->ix->post, &c)))
		return hx_ix_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		int same = rc == 0 && w.have_term && k.mv_size == w.tl + 5 &&
		           !memcmp(kb, w.term, w.tl) && kb[w.tl] == 0;
		if (!same && w.have_term)
			term_close(ck, &w);
		if (rc)
			break;
		if (!same && term_open(ck, &w, &k, &v) <= 0)
			continue;
		term_block(ck, &w, &k, &v);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return hx_ix_err(rc);
	if (w.have_post != ck->want_post || w.have_sum != ck->want_sum)
		problem(ck,
		        "search index: postings disagree with the documents (%llu held, %llu expected)",
		        (unsigned long long)w.have_post, (unsigned long long)ck->want_post);
	return HX_OK;
}

/* 3. Attribute bitmaps. */
static int check_attrs(struct checker *ck)
{
	uint64_t sum = 0, n = 0;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;
	if ((rc = mdb_cursor_open(ck->txn, ck->ix->attr, &c)))
		return hx_ix_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		roaring_bitmap_t *bm =
		        roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
		if (!bm) {
			problem(ck, "search index: damaged bitmap '%.*s'", (int)k.mv_size,
			        (char *)k.mv_data);
			continue;
		}
		roaring_uint32_iterator_t *it = roaring_create_iterator(bm);
		uint64_t hk0 = hx_ix_hash(k.mv_data, k.mv_size);
		while (it && it->has_value) {
			sum += mix(hk0 ^ it->current_value);
			n++;
			roaring_advance_uint32_iterator(it);
		}
		roaring_free_uint32_iterator(it);
		roaring_bitmap_free(bm);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return hx_ix_err(rc);
	if (n != ck->as.n || sum != ck->as.sum)
		problem(ck, "search index: filter bitmaps disagree with the documents");
	return HX_OK;
}

int hx_index_check(struct hx_index *ix, MDB_txn *txn, MDB_dbi docs, struct hx_zent *entries,
                   void (*report)(void *, const char *), void *arg, uint64_t *problems)
{
	struct checker ck;
	hx_ix_stats st;
	int rc;

	memset(&ck, 0, sizeof ck);
	ck.report = report;
	ck.arg = arg;
	ck.ix = ix;
	ck.txn = txn;
	ck.t.on_grow = hx_ix_dt_remap;
	ck.t.grow_arg = &ck.dt;
	if (ix->stale) {
		problem(&ck, "search index: missing or from another version (run 'hansa reindex')");
		rc = HX_OK;
	} else if (hx_ix_load_stats(ix, txn, &st)) {
		problem(&ck, "search index: stats record is damaged");
		rc = HX_OK;
	} else if (!(rc = hx_stemmers_new(&ck.stem)) &&
	           !(rc = check_documents(&ck, docs, entries))) {
		check_totals(&ck, &st);
		if (!(rc = check_postings(&ck)))
			rc = check_attrs(&ck);
	}
	hx_ix_tab_free(&ck.t);
	free(ck.dt.idx);
	hx_stemmers_free(&ck.stem);
	*problems = ck.problems;
	return rc;
}
