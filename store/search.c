/*
 * search.c: query evaluation over the search index (tables: ix_int.h).
 *
 * Each query word becomes a matcher over posting lists: its exact form
 * ("W" list) and its stem in every indexed language that has a stemmer
 * ("S" lists; a document sits in the list of its own language only).
 * Phrases are ANDs of exact words checked for adjacency on the document's
 * text; prefixes are unions of the exact words they expand to, gathered
 * into memory; OR joins matchers. The clauses are intersected document at
 * a time in docnum order (leapfrog), with filters as CRoaring bitmaps, and
 * the top k kept in a heap. Once the heap is full its lowest score is a
 * threshold: a stretch of documents whose block bounds (stored per posting
 * block) cannot beat it is skipped without decoding or scoring (block-max),
 * and phrases are checked only for documents that would enter the heap.
 * Scores are BM25F: per field tf weighted and length-normalised, saturated
 * with k1, times idf; an exact-form match adds HX_EXACT_BOOST of its tf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <roaring/roaring.h>
#include "store/store_int.h"
#include "store/ix_int.h"
#include "store/query.h"
#include "store/search.h"

#define END UINT32_MAX
#define SNIPPET_TOKENS 28
#define SNIPPET_BYTES 220
#define FACET_MAX 20
#define SUGGEST_MAX 3

/* ---- the searcher --------------------------------------------------------- */

struct doctext;

struct hx_searcher {
	hx_store *s;
	struct hx_index *ix;
	MDB_txn *txn;
	hx_stemmers *stem;
	hx_ix_stats st;
	double avg[HX_NFIELDS];
	double F;                    /* scales stored block bounds to avg[] */
	int langs[HX_IX_NLANG];      /* stemming languages with documents */
	int nlangs;
	uint32_t nchunk;             /* cached ix.norms chunk */
	const uint8_t *nbuf;
	size_t nlen;
	uint32_t ndoc;               /* the last norm record read */
	hx_ix_norm nlast;
	struct doctext *dtx;         /* text of the document being checked */
};

int hx_searcher_new(hx_searcher **out, hx_store *s)
{
	hx_searcher *sr = calloc(1, sizeof *sr);
	*out = NULL;
	if (!sr)
		return HX_ENOMEM;
	int rc = hx_stemmers_new(&sr->stem);
	if (rc) {
		free(sr);
		return rc;
	}
	sr->s = s;
	sr->ix = &s->ix;
	*out = sr;
	return HX_OK;
}

static void doctext_free(struct doctext **d);

void hx_searcher_free(hx_searcher **psr)
{
	hx_searcher *sr = psr ? *psr : NULL;
	if (!sr)
		return;
	hx_stemmers_free(&sr->stem);
	doctext_free(&sr->dtx);
	free(sr);
	*psr = NULL;
}

static int get_norm(hx_searcher *sr, uint32_t doc, hx_ix_norm *nm)
{
	if (sr->ndoc == doc && sr->nbuf) {
		*nm = sr->nlast;
		return HX_OK;
	}
	uint32_t c = doc / HX_IX_CHUNK;
	if (c != sr->nchunk || !sr->nbuf) {
		uint8_t ck[4];
		hx_be32_put(ck, c);
		MDB_val k = { 4, ck }, v;
		int rc = mdb_get(sr->txn, sr->ix->norms, &k, &v);
		if (rc) {
			sr->nbuf = NULL;
			memset(nm, 0, sizeof *nm);
			return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
		}
		sr->nchunk = c;
		sr->nbuf = v.mv_data;
		sr->nlen = v.mv_size;
	}
	hx_ix_norm_get(nm, sr->nbuf, sr->nlen, doc);
	sr->ndoc = doc;
	sr->nlast = *nm;
	return HX_OK;
}

static double score_tf(hx_searcher *sr, double idf, const double tf[HX_NFIELDS], uint32_t doc)
{
	hx_ix_norm nm;
	get_norm(sr, doc, &nm);
	return idf * hx_ix_sat(hx_ix_tfn(tf, nm.len, sr->avg));
}

/* ---- posting list cursors -------------------------------------------------- */

struct plist {
	MDB_cursor *cur;
	char term[HX_IX_KEY_MAX];
	size_t tl;
	uint32_t df;
	uint32_t bfirst, blast;  /* current block */
	float bbound;
	const uint8_t *bdata;
	size_t blen;
	int decoded, n, i;
	uint32_t doc;            /* current docnum, END when exhausted */
	int err;
	hx_posting p[HX_IX_BLOCK];
};

static void plist_close(struct plist **pl)
{
	if (*pl) {
		if ((*pl)->cur)
			mdb_cursor_close((*pl)->cur);
		free(*pl);
		*pl = NULL;
	}
}

/* Takes the block at (k, v) if it belongs to the list; else ends it. */
static void plist_take(struct plist *pl, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *kb = k->mv_data;
	if (k->mv_size != pl->tl + 5 || memcmp(kb, pl->term, pl->tl) || kb[pl->tl] != 0 ||
	    v->mv_size < 9) {
		pl->doc = END;
		pl->blast = END;
		return;
	}
	pl->bfirst = hx_be32_get(kb + pl->tl + 1);
	pl->bdata = v->mv_data;
	pl->blen = v->mv_size;
	pl->blast = hx_ix_block_last(pl->bdata);
	pl->bbound = hx_ix_block_bound(pl->bdata);
	pl->decoded = 0;
	pl->i = 0;
	pl->doc = pl->bfirst; /* a block's first posting is its key */
	if (pl->blast < pl->bfirst) {
		pl->err = HX_ECORRUPT;
		pl->doc = pl->blast = END;
	}
}

static int plist_decode(struct plist *pl)
{
	if (!pl->decoded) {
		if (hx_ix_block_decode(pl->bdata, pl->blen, pl->bfirst, pl->p, &pl->n)) {
			pl->err = HX_ECORRUPT;
			pl->doc = pl->blast = END;
			return -1;
		}
		pl->decoded = 1;
	}
	return 0;
}

/* Opens the list of term; NULL when it has no postings (or on error,
 * with *err set). */
static struct plist *plist_open(hx_searcher *sr, const char *term, size_t tl, int *err)
{
	hx_ix_term ti;
	int rc = hx_ix_term_lookup(sr->txn, sr->ix->post, term, tl, &ti);
	if (rc) {
		if (rc != HX_ENOTFOUND)
			*err = rc;
		return NULL;
	}
	struct plist *pl = malloc(sizeof *pl);
	if (!pl) {
		*err = HX_ENOMEM;
		return NULL;
	}
	pl->cur = NULL;
	pl->err = 0;
	memcpy(pl->term, term, tl);
	pl->tl = tl;
	pl->df = ti.df;
	if ((rc = mdb_cursor_open(sr->txn, sr->ix->post, &pl->cur))) {
		*err = hx_mdb_err(rc);
		plist_close(&pl);
		return NULL;
	}
	uint8_t key[HX_IX_KEY_MAX];
	MDB_val k = { hx_ix_pkey(key, term, tl, 0), key }, v;
	rc = mdb_cursor_get(pl->cur, &k, &v, MDB_SET_RANGE);
	if (rc) {
		*err = rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
		plist_close(&pl);
		return NULL;
	}
	plist_take(pl, &k, &v);
	if (pl->doc == END) {
		*err = HX_ECORRUPT;
		plist_close(&pl);
		return NULL;
	}
	return pl;
}

/* Moves to the first posting with docnum >= d. */
static void plist_seek(struct plist *pl, uint32_t d)
{
	MDB_val k, v;
	if (pl->doc >= d)
		return;
	if (d > pl->blast) {
		/* Usually the next block holds d... */
		if (mdb_cursor_get(pl->cur, &k, &v, MDB_NEXT)) {
			pl->doc = pl->blast = END;
			return;
		}
		plist_take(pl, &k, &v);
		if (pl->doc >= d)
			return; /* also END: no more blocks of this term */
		if (d > pl->blast) {
			/* ...else find the last block starting at or before d (one
			 * exists: the block just taken starts before d). */
			uint8_t key[HX_IX_KEY_MAX];
			k.mv_size = hx_ix_pkey(key, pl->term, pl->tl, d);
			k.mv_data = key;
			int rc = mdb_cursor_get(pl->cur, &k, &v, MDB_SET_RANGE);
			if (rc == 0 && k.mv_size == pl->tl + 5 && !memcmp(k.mv_data, key, pl->tl + 5)) {
				plist_take(pl, &k, &v);
				return;
			}
			rc = mdb_cursor_get(pl->cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
			if (rc) {
				pl->doc = pl->blast = END;
				return;
			}
			plist_take(pl, &k, &v);
			if (pl->doc == END) {
				pl->err = HX_ECORRUPT;
				return;
			}
			if (pl->blast < d) {
				/* d falls between blocks: the next one starts after it. */
				if (mdb_cursor_get(pl->cur, &k, &v, MDB_NEXT)) {
					pl->doc = pl->blast = END;
					return;
				}
				plist_take(pl, &k, &v);
				return;
			}
		}
	}
	if (plist_decode(pl))
		return;
	while (pl->i < pl->n && pl->p[pl->i].doc < d)
		pl->i++;
	if (pl->i >= pl->n) { /* cannot happen when d <= blast */
		pl->err = HX_ECORRUPT;
		pl->doc = pl->blast = END;
		return;
	}
	pl->doc = pl->p[pl->i].doc;
}

static const uint32_t *plist_tf(struct plist *pl)
{
	static const uint32_t zero[HX_NFIELDS] = { 0, 0, 0 };
	if (plist_decode(pl))
		return zero;
	return pl->p[pl->i].tf;
}

/* ---- matchers ---------------------------------------------------------------- */

enum { M_TERM, M_PREFIX, M_AND, M_OR };

#define TERM_LISTS 256 /* forms of one word across languages; more are ignored */

struct matcher {
	int kind;
	uint32_t doc;
	double idf, ub;
	uint32_t df;              /* estimate, for ordering */
	hx_searcher *sr;
	/* M_TERM: the exact word's list and the lists of the other words
	 * with its stem; lmask[i]: the languages in which list i is a form */
	int exact_only;
	struct plist *l[TERM_LISTS];
	uint32_t lmask[TERM_LISTS];
	int nl, qi;               /* qi: the exact word's list, or -1 */
	uint32_t tfdoc;           /* tf[] holds the weighted tfs of this docnum */
	double tf[HX_NFIELDS];
	/* M_PREFIX: materialized (docnum, score), sorted */
	uint32_t *pdocs;
	double *pscore, *pbmax;   /* pbmax per HX_IX_BLOCK entries */
	size_t pn, pi;
	/* M_AND (a phrase) and M_OR */
	struct matcher **kids;
	int nkids;
	char **words;             /* phrase words to check, when nwords > 1 */
	size_t nwords;
};

static void m_free(struct matcher **pm)
{
	struct matcher *m = *pm;
	if (!m)
		return;
	for (int i = 0; i < m->nl; i++)
		plist_close(&m->l[i]);
	free(m->pdocs);
	free(m->pscore);
	free(m->pbmax);
	for (int i = 0; i < m->nkids; i++)
		m_free(&m->kids[i]);
	free(m->kids);
	free(m);
	*pm = NULL;
}

static int m_err(const struct matcher *m)
{
	for (int i = 0; i < m->nl; i++)
		if (m->l[i]->err)
			return m->l[i]->err;
	for (int i = 0; i < m->nkids; i++) {
		int rc = m_err(m->kids[i]);
		if (rc)
			return rc;
	}
	return HX_OK;
}

/* The tfs of a word at m->doc, weighted: stemmed forms (in the document's
 * language) plus the exact boost; all zero when the document has the word
 * in no form that counts. */
static void term_tf(struct matcher *m, const hx_ix_norm *nm, double tf[HX_NFIELDS])
{
	uint32_t d = m->doc;
	const uint32_t *e = m->qi >= 0 && m->l[m->qi]->doc == d ? plist_tf(m->l[m->qi]) : NULL;
	double ex[HX_NFIELDS] = { 0, 0, 0 }, st[HX_NFIELDS] = { 0, 0, 0 };
	if (e)
		for (int f = 0; f < HX_NFIELDS; f++)
			ex[f] = e[f];
	if (m->exact_only || nm->lang < 0 || nm->lang >= 32) {
		for (int f = 0; f < HX_NFIELDS; f++)
			tf[f] = (1.0 + HX_EXACT_BOOST) * ex[f];
		return;
	}
	uint32_t bit = 1u << nm->lang;
	for (int i = 0; i < m->nl; i++)
		if ((m->lmask[i] & bit) && m->l[i]->doc == d) {
			const uint32_t *t = plist_tf(m->l[i]);
			for (int f = 0; f < HX_NFIELDS; f++)
				st[f] += t[f];
		}
	for (int f = 0; f < HX_NFIELDS; f++)
		tf[f] = st[f] + HX_EXACT_BOOST * ex[f];
}

/* Moves m to its first candidate docnum >= d (phrases unchecked). */
static void m_advance(struct matcher *m, uint32_t d);

static void m_next(struct matcher *m, uint32_t d)
{
	if (m->doc < d)
		m_advance(m, d);
}

static void m_advance(struct matcher *m, uint32_t d)
{
	switch (m->kind) {
	case M_TERM:
		for (;;) {
			uint32_t best = END;
			for (int i = 0; i < m->nl; i++) {
				plist_seek(m->l[i], d);
				if (m->l[i]->doc < best)
					best = m->l[i]->doc;
			}
			m->doc = best;
			if (best == END)
				return;
			/* A list of another form may hold a document of a language
			 * in which that word is no form of ours. */
			hx_ix_norm nm;
			get_norm(m->sr, best, &nm);
			term_tf(m, &nm, m->tf);
			m->tfdoc = best;
			if (m->tf[0] + m->tf[1] + m->tf[2] > 0 || best == END - 1)
				return;
			d = best + 1;
		}
	case M_PREFIX:
		while (m->pi < m->pn && m->pdocs[m->pi] < d)
			m->pi++;
		m->doc = m->pi < m->pn ? m->pdocs[m->pi] : END;
		return;
	case M_AND:
		for (;;) {
			int again = 0;
			for (int i = 0; i < m->nkids; i++) {
				m_next(m->kids[i], d);
				if (m->kids[i]->doc == END) {
					m->doc = END;
					return;
				}
				if (m->kids[i]->doc > d) {
					d = m->kids[i]->doc;
					again = 1;
				}
			}
			if (!again)
				break;
		}
		m->doc = d;
		return;
	case M_OR: {
		uint32_t best = END;
		for (int i = 0; i < m->nkids; i++) {
			m_next(m->kids[i], d);
			if (m->kids[i]->doc < best)
				best = m->kids[i]->doc;
		}
		m->doc = best;
		return;
	}
	}
}

/* The score at m->doc, phrases not yet checked. */
static double m_score(hx_searcher *sr, struct matcher *m)
{
	uint32_t d = m->doc;
	double s = 0;
	switch (m->kind) {
	case M_TERM: {
		hx_ix_norm nm;
		get_norm(sr, d, &nm);
		if (m->tfdoc != d) {
			term_tf(m, &nm, m->tf);
			m->tfdoc = d;
		}
		return m->idf * hx_ix_sat(hx_ix_tfn(m->tf, nm.len, sr->avg));
	}
	case M_PREFIX:
		return m->pscore[m->pi];
	case M_AND:
		for (int i = 0; i < m->nkids; i++)
			s += m_score(sr, m->kids[i]);
		return s;
	case M_OR:
		for (int i = 0; i < m->nkids; i++)
			if (m->kids[i]->doc == d)
				s += m_score(sr, m->kids[i]);
		return s;
	}
	return 0;
}

/* An upper bound of m's score over docnums [m->doc, *upto]. */
static double m_bound(hx_searcher *sr, struct matcher *m, uint32_t *upto)
{
	double b = 0;
	uint32_t u = END;
	switch (m->kind) {
	case M_TERM: {
		for (int i = 0; i < m->nl; i++)
			if (m->l[i]->doc != END && m->l[i]->blast < u)
				u = m->l[i]->blast;
		/* Lists whose block starts after u have nothing before it. */
		double t = 0, bq = 0;
		for (int i = 0; i < m->nl; i++)
			if (m->l[i]->doc <= u) {
				t += m->l[i]->bbound;
				if (i == m->qi)
					bq = m->l[i]->bbound;
			}
		t = m->exact_only ? (1.0 + HX_EXACT_BOOST) * bq : t + HX_EXACT_BOOST * bq;
		b = m->idf * hx_ix_sat(t * sr->F * (1.0 + 1e-6));
		break;
	}
	case M_PREFIX: {
		size_t blk = m->pi / HX_IX_BLOCK, lastix = (blk + 1) * HX_IX_BLOCK - 1;
		if (lastix >= m->pn)
			lastix = m->pn - 1;
		u = m->pi < m->pn ? m->pdocs[lastix] : END;
		b = m->pi < m->pn ? m->pbmax[blk] : 0;
		break;
	}
	case M_AND:
		for (int i = 0; i < m->nkids; i++) {
			uint32_t ku;
			b += m_bound(sr, m->kids[i], &ku);
			if (ku < u)
				u = ku;
		}
		break;
	case M_OR: {
		uint32_t ku[HX_QUERY_CLAUSES];
		double kb[HX_QUERY_CLAUSES];
		for (int i = 0; i < m->nkids; i++) {
			kb[i] = m->kids[i]->doc == END ? 0 : m_bound(sr, m->kids[i], &ku[i]);
			if (m->kids[i]->doc != END && ku[i] < u)
				u = ku[i];
		}
		for (int i = 0; i < m->nkids; i++)
			if (m->kids[i]->doc <= u)
				b += kb[i];
		break;
	}
	}
	if (u < m->doc)
		u = m->doc;
	*upto = u;
	return b;
}

/* ---- phrase checks on the document text --------------------------------------- */

struct doctext {
	uint32_t doc;
	int loaded;
	char *buf;         /* folded tokens of title, tags, body, NUL-separated */
	size_t blen, bcap;
	uint32_t *off;     /* each token's offset in buf */
	uint32_t *field;   /* its field; each tag counts as a field of its own */
	size_t n, cap;
};

static void doctext_reset(struct doctext *d)
{
	d->n = 0;
	d->blen = 0;
	d->loaded = 0;
}

static void doctext_free(struct doctext **pd)
{
	struct doctext *d = *pd;
	if (!d)
		return;
	free(d->buf);
	free(d->off);
	free(d->field);
	free(d);
	*pd = NULL;
}

/* The stored entry behind a docnum, as a view into the transaction's
 * memory; id gets its id. */
static int doc_view(hx_searcher *sr, uint32_t doc, hx_ix_view *v, const uint8_t **id)
{
	uint8_t dk[4];
	hx_be32_put(dk, doc);
	MDB_val k = { 4, dk }, val;
	int rc = mdb_get(sr->txn, sr->ix->docs, &k, &val);
	if (rc || val.mv_size < HX_ID_LEN + HX_KEY_LEN)
		return rc == MDB_NOTFOUND || !rc ? HX_ECORRUPT : hx_mdb_err(rc);
	MDB_val ek = { HX_ID_LEN, val.mv_data }, ev;
	if ((rc = mdb_get(sr->txn, sr->s->entries, &ek, &ev)))
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
	if (id)
		*id = val.mv_data;
	return hx_ix_view_parse(v, ev.mv_data, ev.mv_size);
}

static int doctext_add(struct doctext *d, const char *text, size_t len, uint32_t field)
{
	hx_tokenizer t;
	hx_token k;
	hx_tok_init(&t, text, len);
	while (hx_tok_next(&t, &k)) {
		if (d->n == d->cap) {
			size_t nc = d->cap ? d->cap * 2 : 256;
			uint32_t *no = realloc(d->off, nc * sizeof *no);
			if (!no)
				return HX_ENOMEM;
			d->off = no;
			uint32_t *nf = realloc(d->field, nc * sizeof *nf);
			if (!nf)
				return HX_ENOMEM;
			d->field = nf;
			d->cap = nc;
		}
		if (d->blen + k.len + 1 > d->bcap) {
			size_t nc = d->bcap ? d->bcap * 2 : 4096;
			while (nc < d->blen + k.len + 1)
				nc *= 2;
			char *nb = realloc(d->buf, nc);
			if (!nb)
				return HX_ENOMEM;
			d->buf = nb;
			d->bcap = nc;
		}
		memcpy(d->buf + d->blen, k.word, k.len + 1);
		d->off[d->n] = (uint32_t)d->blen;
		d->field[d->n++] = field;
		d->blen += k.len + 1;
	}
	return HX_OK;
}

static int doctext_load(hx_searcher *sr, uint32_t doc, struct doctext **pd)
{
	struct doctext *d = sr->dtx;
	hx_ix_view v;
	int rc;
	if (!d) {
		if (!(d = sr->dtx = calloc(1, sizeof *d)))
			return HX_ENOMEM;
	}
	*pd = d;
	if (d->loaded && d->doc == doc)
		return HX_OK;
	doctext_reset(d);
	if ((rc = doc_view(sr, doc, &v, NULL)))
		return rc;
	d->doc = doc;
	uint32_t field = 0;
	const uint8_t *pos = NULL;
	const char *tag;
	size_t tl;
	rc = doctext_add(d, v.title, v.titlelen, field++);
	while (!rc && !(rc = hx_ix_view_next_tag(&v, &pos, &tag, &tl)))
		rc = doctext_add(d, tag, tl, field++);
	if (rc == HX_ENOTFOUND)
		rc = doctext_add(d, v.body, v.bodylen, field);
	if (rc)
		return rc;
	d->loaded = 1;
	return HX_OK;
}

static int phrase_in(const struct doctext *d, char *const *w, size_t nw)
{
	for (size_t i = 0; i + nw <= d->n; i++) {
		size_t j = 0;
		while (j < nw && d->field[i + j] == d->field[i] &&
		       !strcmp(d->buf + d->off[i + j], w[j]))
			j++;
		if (j == nw)
			return 1;
	}
	return 0;
}

static int m_needs_text(const struct matcher *m)
{
	if (m->kind == M_AND && m->nwords > 1)
		return 1;
	for (int i = 0; i < m->nkids; i++)
		if (m_needs_text(m->kids[i]))
			return 1;
	return 0;
}

/* Checks phrases at m->doc: returns 1 when m really matches there, with
 * its score in *score (alternatives of an OR that do not match do not
 * count), 0 when not, negative on error. */
static int m_verify(hx_searcher *sr, struct matcher *m, double *score)
{
	uint32_t d = m->doc;
	int rc;
	if (!m_needs_text(m)) {
		*score = m_score(sr, m);
		return 1;
	}
	if (m->kind == M_AND) {
		/* Cheap first: the words must share a field (postings say). */
		int field_ok = 0;
		for (int f = 0; f < HX_NFIELDS && !field_ok; f++) {
			int all = 1;
			for (int i = 0; i < m->nkids && all; i++) {
				struct matcher *k = m->kids[i];
				all = k->kind == M_TERM && k->qi >= 0 && k->l[k->qi]->doc == d &&
				      plist_tf(k->l[k->qi])[f] > 0;
			}
			field_ok = all;
		}
		if (!field_ok)
			return 0;
		struct doctext *dt;
		if ((rc = doctext_load(sr, d, &dt)))
			return rc;
		if (!phrase_in(dt, m->words, m->nwords))
			return 0;
		*score = m_score(sr, m);
		return 1;
	}
	/* M_OR */
	double s = 0;
	int any = 0;
	for (int i = 0; i < m->nkids; i++) {
		double ks;
		if (m->kids[i]->doc != d)
			continue;
		if ((rc = m_verify(sr, m->kids[i], &ks)) < 0)
			return rc;
		if (rc) {
			s += ks;
			any = 1;
		}
	}
	*score = s;
	return any;
}

/* ---- building matchers ----------------------------------------------------------- */

static struct matcher *m_new(int kind)
{
	struct matcher *m = calloc(1, sizeof *m);
	if (m) {
		m->kind = kind;
		m->doc = 0;
		m->tfdoc = END;
	}
	return m;
}

/* A word: its exact list, and unless exact_only the lists of the words
 * that share its stem in each indexed language (from the stem
 * dictionary). NULL with *err == 0 when nothing matches. */
static struct matcher *m_word(hx_searcher *sr, const char *word, int exact_only, int *err)
{
	char key[2 * HX_TOKEN_MAX + 16];
	size_t wl = strlen(word), kl;
	struct matcher *m = m_new(M_TERM);
	MDB_cursor *c = NULL;
	if (!m) {
		*err = HX_ENOMEM;
		return NULL;
	}
	m->sr = sr;
	m->exact_only = exact_only;
	m->qi = -1;
	if ((kl = hx_ix_wkey(key, word, wl)) && (m->l[0] = plist_open(sr, key, kl, err))) {
		m->qi = 0;
		m->nl = 1;
	}
	if (!exact_only && !*err) {
		int rc = mdb_cursor_open(sr->txn, sr->ix->stem, &c);
		if (rc)
			*err = hx_mdb_err(rc);
		for (int i = 0; i < sr->nlangs && !*err; i++) {
			int lang = sr->langs[i];
			size_t sl;
			const char *st = hx_stem(sr->stem, lang, word, wl, &sl);
			if (!st) {
				*err = HX_ENOMEM;
				break;
			}
			size_t pl = hx_ix_dkey(key, lang, st, sl, "", 0);
			if (!pl)
				continue;
			MDB_val k = { pl, key }, v;
			for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
			     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
				if (k.mv_size <= pl || memcmp(k.mv_data, key, pl))
					break;
				const char *w = (const char *)k.mv_data + pl;
				size_t n = k.mv_size - pl;
				int j;
				for (j = 0; j < m->nl; j++)
					if (m->l[j]->tl == n + 1 && !memcmp(m->l[j]->term + 1, w, n))
						break;
				if (j == m->nl) {
					char wk[HX_TOKEN_MAX + 2];
					size_t wkl = n <= HX_TOKEN_MAX ? hx_ix_wkey(wk, w, n) : 0;
					struct plist *pl2 = wkl && m->nl < TERM_LISTS ? plist_open(sr, wk, wkl, err) : NULL;
					if (!pl2)
						continue; /* no longer in any document */
					m->l[j] = pl2;
					m->lmask[j] = 0;
					m->nl++;
				}
				m->lmask[j] |= 1u << lang;
			}
			if (rc && rc != MDB_NOTFOUND && !*err)
				*err = hx_mdb_err(rc);
		}
		if (c)
			mdb_cursor_close(c);
	}
	if (*err || !m->nl) {
		m_free(&m);
		return NULL;
	}
	uint64_t df = 0;
	for (int i = 0; i < m->nl; i++)
		df += m->l[i]->df;
	if (df > sr->st.ndocs)
		df = sr->st.ndocs;
	m->df = (uint32_t)df;
	m->idf = hx_ix_idf((double)sr->st.ndocs, (double)m->df);
	m->ub = m->idf * (HX_BM25_K1 + 1.0);
	m_advance(m, 0);
	return m;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* A prefix: every exact word that starts with it, gathered into memory
 * as one list (tfs summed per document). */
static struct matcher *m_prefix(hx_searcher *sr, const char *prefix, int *err)
{
	char key[HX_TOKEN_MAX + 16];
	size_t pl = hx_ix_wkey(key, prefix, strlen(prefix));
	uint32_t ndoc = sr->st.next_doc;
	float (*acc)[HX_NFIELDS] = NULL;
	uint32_t *docs = NULL;
	size_t nd = 0, capd = 0;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	hx_posting blk[HX_IX_BLOCK];
	int rc;
	struct matcher *m = NULL;

	if (!pl || !ndoc)
		return NULL;
	if (!(acc = calloc(ndoc, sizeof *acc))) {
		*err = HX_ENOMEM;
		return NULL;
	}
	if ((rc = mdb_cursor_open(sr->txn, sr->ix->post, &c))) {
		*err = hx_mdb_err(rc);
		goto out;
	}
	k.mv_size = pl;
	k.mv_data = key;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data;
		if (k.mv_size < pl || memcmp(kb, key, pl))
			break;
		const uint8_t *z = memchr(kb, 0, k.mv_size);
		if (!z || (size_t)(z - kb) + 5 != k.mv_size)
			continue; /* a term header */
		int n;
		if (hx_ix_block_decode(v.mv_data, v.mv_size, hx_be32_get(z + 1), blk, &n)) {
			*err = HX_ECORRUPT;
			goto out;
		}
		for (int i = 0; i < n; i++) {
			uint32_t d = blk[i].doc;
			if (d >= ndoc) {
				*err = HX_ECORRUPT;
				goto out;
			}
			if (acc[d][0] + acc[d][1] + acc[d][2] == 0) {
				if (nd == capd) {
					size_t ncap = capd ? capd * 2 : 1024;
					uint32_t *nds = realloc(docs, ncap * sizeof *nds);
					if (!nds) {
						*err = HX_ENOMEM;
						goto out;
					}
					docs = nds;
					capd = ncap;
				}
				docs[nd++] = d;
			}
			for (int f = 0; f < HX_NFIELDS; f++)
				acc[d][f] += (float)blk[i].tf[f];
		}
	}
	if (rc && rc != MDB_NOTFOUND) {
		*err = hx_mdb_err(rc);
		goto out;
	}
	if (!nd)
		goto out;
	qsort(docs, nd, sizeof *docs, cmp_u32);
	if (!(m = m_new(M_PREFIX))) {
		*err = HX_ENOMEM;
		goto out;
	}
	m->pdocs = docs;
	docs = NULL;
	m->pn = nd;
	m->df = (uint32_t)nd;
	m->idf = hx_ix_idf((double)sr->st.ndocs, (double)nd);
	m->pscore = malloc(nd * sizeof *m->pscore);
	m->pbmax = calloc(nd / HX_IX_BLOCK + 1, sizeof *m->pbmax);
	if (!m->pscore || !m->pbmax) {
		*err = HX_ENOMEM;
		m_free(&m);
		goto out;
	}
	double ub = 0;
	for (size_t i = 0; i < nd; i++) {
		double tf[HX_NFIELDS];
		for (int f = 0; f < HX_NFIELDS; f++)
			tf[f] = (1.0 + HX_EXACT_BOOST) * acc[m->pdocs[i]][f];
		double s = score_tf(sr, m->idf, tf, m->pdocs[i]);
		m->pscore[i] = s;
		if (s > m->pbmax[i / HX_IX_BLOCK])
			m->pbmax[i / HX_IX_BLOCK] = s;
		if (s > ub)
			ub = s;
	}
	m->ub = ub;
	m->doc = m->pdocs[0];
out:
	if (c)
		mdb_cursor_close(c);
	free(acc);
	free(docs);
	return m;
}

/* One alternative of a clause. */
static struct matcher *m_text(hx_searcher *sr, const hx_q_text *t, int *err)
{
	if (t->kind == HX_Q_WORD)
		return m_word(sr, t->words[0], 0, err);
	if (t->kind == HX_Q_PREFIX)
		return m_prefix(sr, t->words[0], err);
	/* A phrase: the AND of its words' exact forms. */
	if (t->nwords == 1)
		return m_word(sr, t->words[0], 1, err);
	struct matcher *m = m_new(M_AND);
	if (!m || !(m->kids = calloc(t->nwords, sizeof *m->kids))) {
		free(m);
		*err = HX_ENOMEM;
		return NULL;
	}
	m->words = t->words;
	m->nwords = t->nwords;
	uint32_t df = END;
	for (size_t i = 0; i < t->nwords; i++) {
		struct matcher *k = m_word(sr, t->words[i], 1, err);
		if (!k) {
			m_free(&m);
			return NULL;
		}
		m->kids[m->nkids++] = k;
		m->ub += k->ub;
		if (k->df < df)
			df = k->df;
	}
	m->df = df;
	m_advance(m, 0);
	return m;
}

/* A clause: one matcher, or an OR of several. NULL with *err == 0 when
 * nothing can match. */
static struct matcher *m_clause(hx_searcher *sr, const hx_q_clause *c, int *err)
{
	if (c->ntext == 1)
		return m_text(sr, &c->text[0], err);
	struct matcher *m = m_new(M_OR);
	if (!m || !(m->kids = calloc(c->ntext, sizeof *m->kids))) {
		free(m);
		*err = HX_ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < c->ntext; i++) {
		struct matcher *k = m_text(sr, &c->text[i], err);
		if (*err) {
			m_free(&m);
			return NULL;
		}
		if (k) {
			m->kids[m->nkids++] = k;
			m->ub += k->ub;
			m->df += k->df;
		}
	}
	if (!m->nkids) {
		m_free(&m);
		return NULL;
	}
	m_advance(m, 0);
	return m;
}

/* ---- filters -------------------------------------------------------------------- */

/* Calls cb with each bitmap of the attribute table whose key starts with
 * prefix (kl bytes), and the rest of its key (the value). The bitmap is
 * freed after the call; a non-zero return from cb stops the walk. */
typedef int (*attr_cb)(void *arg, const char *value, size_t len, const roaring_bitmap_t *b);

static int attr_walk(hx_searcher *sr, const char *prefix, size_t kl, attr_cb cb, void *arg)
{
	MDB_cursor *c;
	MDB_val k = { kl, (void *)prefix }, v;
	int rc = mdb_cursor_open(sr->txn, sr->ix->attr, &c), stop = 0;
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < kl || memcmp(k.mv_data, prefix, kl))
			break;
		roaring_bitmap_t *b = roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
		if (!b) {
			stop = HX_ECORRUPT;
			break;
		}
		stop = cb(arg, (const char *)k.mv_data + kl, k.mv_size - kl, b);
		roaring_bitmap_free(b);
		if (stop)
			break;
	}
	mdb_cursor_close(c);
	if (stop)
		return stop;
	return rc == 0 || rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

static int or_into(void *arg, const char *value, size_t len, const roaring_bitmap_t *b)
{
	(void)value; (void)len;
	roaring_bitmap_or_inplace(arg, b);
	return HX_OK;
}

/* The bitmap of one filter value (prefix: all values starting so). */
static int filter_bitmap(hx_searcher *sr, const hx_q_filter *f, roaring_bitmap_t *out)
{
	char key[HX_IX_KEY_MAX];
	/* folding is idempotent: this cuts a long value where the index did */
	size_t kl = hx_ix_akey(key, hx_q_field_name(f->field), f->value);
	MDB_val k = { kl, key }, v;
	int rc;
	if (f->prefix)
		return attr_walk(sr, key, kl, or_into, out);
	rc = mdb_get(sr->txn, sr->ix->attr, &k, &v);
	if (rc == MDB_NOTFOUND)
		return HX_OK;
	if (rc)
		return hx_mdb_err(rc);
	roaring_bitmap_t *b = roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
	if (!b)
		return HX_ECORRUPT;
	roaring_bitmap_or_inplace(out, b);
	roaring_bitmap_free(b);
	return HX_OK;
}

/* Every live document: the union of the language bitmaps (every document
 * has one). */
static int all_docs(hx_searcher *sr, roaring_bitmap_t *out)
{
	hx_q_filter f = { HX_QF_LANG, "", 1 };
	return filter_bitmap(sr, &f, out);
}

/* ---- the heap of the best k ------------------------------------------------------- */

struct cand {
	double score;
	uint32_t doc;
};

/* a is worse than b: lower score, or equal score and later docnum. */
static int worse(const struct cand *a, const struct cand *b)
{
	return a->score < b->score || (a->score == b->score && a->doc > b->doc);
}

static void heap_push(struct cand *h, size_t *n, size_t k, struct cand c)
{
	size_t i;
	if (*n < k) {
		i = (*n)++;
		while (i > 0 && worse(&c, &h[(i - 1) / 2])) {
			h[i] = h[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h[i] = c;
		return;
	}
	if (!worse(&h[0], &c))
		return;
	i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct cand *mc = &c;
		if (l < *n && worse(&h[l], mc)) {
			m = l;
			mc = &h[l];
		}
		if (r < *n && worse(&h[r], mc))
			m = r;
		if (m == i)
			break;
		h[i] = h[m];
		i = m;
	}
	h[i] = c;
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (worse(x, y))
		return 1;
	if (worse(y, x))
		return -1;
	return 0;
}

/* ---- evaluation --------------------------------------------------------------------- */

struct eval {
	struct matcher *cl[HX_QUERY_CLAUSES];
	int ncl;
	struct matcher *ex[HX_QUERY_CLAUSES];
	int nex;
	roaring_bitmap_t *pos;   /* documents allowed by the filters, or NULL */
	roaring_bitmap_t *neg;   /* documents excluded by filters, or NULL */
	roaring_uint32_iterator_t *posit;
	uint32_t since1, until1;
	int impossible;          /* a clause matches nothing */
	int text_words;          /* words of positive clauses had no postings */
};

static void eval_free(struct eval *ev)
{
	for (int i = 0; i < ev->ncl; i++)
		m_free(&ev->cl[i]);
	for (int i = 0; i < ev->nex; i++)
		m_free(&ev->ex[i]);
	if (ev->posit)
		roaring_free_uint32_iterator(ev->posit);
	if (ev->pos)
		roaring_bitmap_free(ev->pos);
	if (ev->neg)
		roaring_bitmap_free(ev->neg);
	memset(ev, 0, sizeof *ev);
}

static int cmp_df(const void *a, const void *b)
{
	const struct matcher *x = *(struct matcher *const *)a, *y = *(struct matcher *const *)b;
	return x->df < y->df ? -1 : x->df > y->df;
}

static int eval_build(hx_searcher *sr, const hx_query *q, struct eval *ev)
{
	int err = 0, rc;
	ev->since1 = q->since_day1;
	ev->until1 = q->until_day1;
	for (size_t i = 0; i < q->nclauses; i++) {
		const hx_q_clause *c = &q->clauses[i];
		if (c->nfilters) {
			roaring_bitmap_t *b = roaring_bitmap_create();
			if (!b)
				return HX_ENOMEM;
			for (size_t j = 0; j < c->nfilters; j++)
				if ((rc = filter_bitmap(sr, &c->filters[j], b))) {
					roaring_bitmap_free(b);
					return rc;
				}
			roaring_bitmap_t **dst = c->negated ? &ev->neg : &ev->pos;
			if (!*dst)
				*dst = b;
			else {
				if (c->negated)
					roaring_bitmap_or_inplace(*dst, b);
				else
					roaring_bitmap_and_inplace(*dst, b);
				roaring_bitmap_free(b);
			}
			continue;
		}
		struct matcher *m = m_clause(sr, c, &err);
		if (err)
			return err;
		if (c->negated) {
			if (m)
				ev->ex[ev->nex++] = m;
			continue;
		}
		if (!m) {
			ev->impossible = 1;
			continue;
		}
		ev->cl[ev->ncl++] = m;
	}
	/* The rarest clause leads the intersection. */
	qsort(ev->cl, (size_t)ev->ncl, sizeof *ev->cl, cmp_df);
	if (ev->pos && ev->neg) {
		roaring_bitmap_andnot_inplace(ev->pos, ev->neg);
		roaring_bitmap_free(ev->neg);
		ev->neg = NULL;
	}
	if (ev->pos && roaring_bitmap_is_empty(ev->pos))
		ev->impossible = 1;
	return HX_OK;
}

/* Next docnum >= d in every clause and the filters; END when none. */
static uint32_t align(struct eval *ev, uint32_t d)
{
	for (;;) {
		int moved = 0;
		for (int i = 0; i < ev->ncl; i++) {
			struct matcher *m = ev->cl[i];
			m_next(m, d);
			if (m->doc == END)
				return END;
			if (m->doc > d) {
				d = m->doc;
				moved = 1;
			}
		}
		if (moved)
			continue;
		if (ev->pos && !roaring_bitmap_contains(ev->pos, d)) {
			if (!roaring_move_uint32_iterator_equalorlarger(ev->posit, d))
				return END;
			d = ev->posit->current_value;
			continue;
		}
		return d;
	}
}

/* Whether d survives exclusions and dates. <0 on error. */
static int admissible(hx_searcher *sr, struct eval *ev, uint32_t d)
{
	if (ev->neg && roaring_bitmap_contains(ev->neg, d))
		return 0;
	if (ev->since1 || ev->until1) {
		hx_ix_norm nm;
		get_norm(sr, d, &nm);
		if (!nm.day1 || (ev->since1 && nm.day1 < ev->since1) ||
		    (ev->until1 && nm.day1 > ev->until1))
			return 0;
	}
	for (int i = 0; i < ev->nex; i++) {
		struct matcher *m = ev->ex[i];
		m_next(m, d);
		if (m->doc == d) {
			double s;
			int rc = m_verify(sr, m, &s);
			if (rc < 0)
				return rc;
			if (rc)
				return 0;
		}
	}
	return 1;
}

/* Runs the clauses: the best k into heap (sorted on return), every match
 * into all when it is given (then no pruning). */
static int eval_run(hx_searcher *sr, struct eval *ev, size_t k, struct cand *heap,
		    size_t *nheap, roaring_bitmap_t *all, uint64_t *total)
{
	uint32_t d = 0;
	int rc, verify = 0;
	*nheap = 0;
	*total = 0;
	if (ev->impossible)
		return HX_OK;
	for (int i = 0; i < ev->ncl; i++)
		verify |= m_needs_text(ev->cl[i]);
	if (ev->pos && !(ev->posit = roaring_create_iterator(ev->pos)))
		return HX_ENOMEM;
	uint32_t bupto[HX_QUERY_CLAUSES];
	double bval[HX_QUERY_CLAUSES];
	for (int i = 0; i < ev->ncl; i++)
		bupto[i] = END;
	for (;;) {
		d = align(ev, d);
		if (d == END)
			break;
		int full = !all && *nheap == k && k > 0;
		double theta = full ? heap[0].score : 0;
		if (full) {
			/* Block-max: skip what cannot beat the k-th best. A clause's
			 * bound holds up to its upto, so it is kept until then. */
			uint32_t upto = END;
			double b = 0;
			for (int i = 0; i < ev->ncl; i++) {
				if (d > bupto[i] || bupto[i] == END) {
					bval[i] = m_bound(sr, ev->cl[i], &bupto[i]);
				}
				b += bval[i];
				if (bupto[i] < upto)
					upto = bupto[i];
			}
			if (b <= theta) {
				if (upto == END)
					break;
				d = upto + 1;
				continue;
			}
		}
		double s = 0;
		for (int i = 0; i < ev->ncl; i++)
			s += m_score(sr, ev->cl[i]);
		if (full && s <= theta) {
			d++;
			continue;
		}
		if ((rc = admissible(sr, ev, d)) < 0)
			return rc;
		if (rc && verify) {
			s = 0;
			for (int i = 0; i < ev->ncl && rc > 0; i++) {
				double ks;
				rc = m_verify(sr, ev->cl[i], &ks);
				s += ks;
			}
			if (rc < 0)
				return rc;
		}
		if (rc) {
			++*total;
			if (all)
				roaring_bitmap_add(all, d);
			if (k)
				heap_push(heap, nheap, k, (struct cand){ s, d });
		}
		if (d == END - 1)
			break;
		d++;
	}
	for (int i = 0; i < ev->ncl; i++)
		if ((rc = m_err(ev->cl[i])))
			return rc;
	qsort(heap, *nheap, sizeof *heap, cmp_cand);
	return HX_OK;
}

/* Queries of filters and dates only: the most recently indexed first. */
static int eval_filters(hx_searcher *sr, struct eval *ev, size_t k, struct cand *heap,
			size_t *nheap, roaring_bitmap_t *all, uint64_t *total)
{
	roaring_bitmap_t *b = ev->pos;
	int rc = HX_OK;
	*nheap = 0;
	*total = 0;
	if (ev->impossible)
		return HX_OK;
	if (!b) {
		if (!(b = roaring_bitmap_create()))
			return HX_ENOMEM;
		if ((rc = all_docs(sr, b))) {
			roaring_bitmap_free(b);
			return rc;
		}
	}
	uint64_t n = roaring_bitmap_get_cardinality(b), m = 0;
	uint32_t *docs = n ? malloc(n * sizeof *docs) : NULL;
	if (n && !docs)
		rc = HX_ENOMEM;
	else if (n)
		roaring_bitmap_to_uint32_array(b, docs);
	/* Ascending, as the exclusion matchers only move forward. */
	for (uint64_t i = 0; i < n && !rc; i++) {
		int a = admissible(sr, ev, docs[i]);
		if (a < 0)
			rc = a;
		else if (a)
			docs[m++] = docs[i];
	}
	for (uint64_t i = m; i > 0 && !rc; i--) {
		if (all)
			roaring_bitmap_add(all, docs[i - 1]);
		if (*nheap < k)
			heap[(*nheap)++] = (struct cand){ 0, docs[i - 1] };
	}
	*total = m;
	free(docs);
	if (b != ev->pos)
		roaring_bitmap_free(b);
	return rc;
}

/* ---- snippets ------------------------------------------------------------------------- */

struct hlword {
	const char *word; /* folded */
	int kind;         /* HX_Q_WORD (also stems), HX_Q_PHRASE (exact), HX_Q_PREFIX */
	const char *stem; /* in the document's language, for HX_Q_WORD */
	size_t stemlen;
};

static int word_matches(hx_searcher *sr, int lang, const struct hlword *w, size_t nw,
			const char *tok, size_t tl)
{
	for (size_t i = 0; i < nw; i++) {
		if (w[i].kind == HX_Q_PREFIX) {
			size_t pl = strlen(w[i].word);
			if (tl >= pl && !memcmp(tok, w[i].word, pl))
				return 1;
			continue;
		}
		if (strlen(w[i].word) == tl && !memcmp(tok, w[i].word, tl))
			return 1;
		if (w[i].kind == HX_Q_WORD && lang >= 0 && w[i].stem) {
			size_t sl;
			const char *s = hx_stem(sr->stem, lang, tok, tl, &sl);
			if (s && sl == w[i].stemlen && !memcmp(s, w[i].stem, sl))
				return 1;
		}
	}
	return 0;
}

/* ---- Markdown markup in snippets ------------------------------------------------------ */

/* Bodies are Markdown; a snippet should read as plain text. md_markup marks
 * in skip[] the bytes of the shown stretch that are markup: leading "#", ">", list
 * bullets and numbers, thematic breaks and code fences, emphasis "*" "_"
 * "~~", code span backticks, backslashes of escapes, and the "[", "![" and
 * "](url)" of links and images (their text stays). Written by hand rather
 * than with libcmark because the snippet's highlight ranges need the byte
 * offset of every kept character, which cmark's inline nodes do not give.
 * An approximation of CommonMark: what it does not recognise stays as text. */

#define MD_LOOK 1024 /* how far a closing backtick run or "](...)" is looked for */
#define MD_BACK 1024 /* how far before a snippet its line start is looked for */

static int md_space(char c)
{
	return c == ' ' || c == '\t';
}

static int md_punct(char c)
{
	return c > ' ' && c < 0x7f && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
					  (c >= 'A' && c <= 'Z'));
}

/* A letter or digit (any non-ASCII byte counts as one). */
static int md_alnum(char c)
{
	return (uint8_t)c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static void md_mask(uint8_t *skip, size_t from, size_t to)
{
	memset(skip + from, 1, to - from);
}

/* A line of only c (at least three) and blanks: "---", "* * *", "===". */
static int md_rule(const char *s, size_t i, size_t e)
{
	char c = s[i];
	int k = 0;
	if (c != '-' && c != '*' && c != '_' && c != '=')
		return 0;
	for (; i < e; i++) {
		if (s[i] == c)
			k++;
		else if (!md_space(s[i]) && s[i] != '\r')
			return 0;
	}
	return k >= 3;
}

/* The line-start markup of the line s[i..e) (e at its '\n'): marks it and
 * returns where the line's text starts. */
static size_t md_line_start(const char *s, size_t i, size_t e, uint8_t *skip)
{
	for (int sp = 0; sp < 3 && i < e && s[i] == ' '; sp++)
		i++;
	if (i < e && md_rule(s, i, e)) {
		md_mask(skip, i, e);
		return e;
	}
	for (;;) {
		size_t j = i;
		if (i < e && s[i] == '>') {
			j = i + 1;
		} else if (i + 1 < e && (s[i] == '-' || s[i] == '*' || s[i] == '+') &&
			   md_space(s[i + 1])) {
			j = i + 1;
		} else if (i < e && s[i] >= '0' && s[i] <= '9') {
			while (j < e && j - i < 9 && s[j] >= '0' && s[j] <= '9')
				j++;
			if (j + 1 < e && (s[j] == '.' || s[j] == ')') && md_space(s[j + 1]))
				j++;
			else
				j = i;
		} else if (i < e && s[i] == '#') {
			while (j < e && j - i < 7 && s[j] == '#')
				j++;
			if (j - i > 6 || (j < e && !md_space(s[j]) && s[j] != '\r'))
				return i; /* "#hashtag", not a heading */
			md_mask(skip, i, j);
			/* a closing "#" sequence after a blank */
			size_t k = e;
			while (k > j && (md_space(s[k - 1]) || s[k - 1] == '\r'))
				k--;
			size_t h = k;
			while (h > j && s[h - 1] == '#')
				h--;
			if (h < k && (h == j || md_space(s[h - 1])))
				md_mask(skip, h, k);
			return j;
		}
		if (j == i)
			return i;
		md_mask(skip, i, j);
		for (i = j; i < e && md_space(s[i]); i++)
			;
	}
}

/* Where "[" at s[i] starts a link "[text](dest)": sets *close to its "]"
 * and *end past its ")"; 0 when it is no link. */
static int md_link(const char *s, size_t i, size_t n, size_t *close, size_t *end)
{
	size_t lim = n - i > MD_LOOK ? i + MD_LOOK : n, j = i + 1;
	while (j < lim && s[j] != ']') {
		if (s[j] == '[' || (s[j] == '\n' && j + 1 < lim && s[j + 1] == '\n'))
			return 0;
		j += s[j] == '\\' && j + 1 < lim ? 2 : 1;
	}
	if (j + 1 >= lim || s[j] != ']' || s[j + 1] != '(')
		return 0;
	*close = j;
	int depth = 0;
	for (j += 2; j < lim && s[j] != '\n'; j++) {
		if (s[j] == '\\' && j + 1 < lim)
			j++;
		else if (s[j] == '(')
			depth++;
		else if (s[j] == ')' && depth-- == 0) {
			*end = j + 1;
			return 1;
		}
	}
	return 0;
}

/* Where the code span opened by the len backticks before s[r] closes: the
 * start of the next run of exactly len backticks in the same paragraph,
 * or 0 when there is none. */
static size_t md_code_close(const char *s, size_t r, size_t len, size_t n)
{
	size_t lim = n - r > MD_LOOK ? r + MD_LOOK : n;
	for (size_t k = r; k < lim;) {
		if (s[k] == '\n' && k + 1 < lim && s[k + 1] == '\n')
			return 0;
		if (s[k] != '`') {
			k++;
			continue;
		}
		size_t q = k;
		while (q < n && s[q] == '`')
			q++;
		if (q - k == len)
			return k;
		k = q;
	}
	return 0;
}

static int md_blank(const char *s, size_t j, size_t n)
{
	return j >= n || md_space(s[j]) || s[j] == '\n' || s[j] == '\r';
}

/* A fence line "```" or "~~~" (after up to three blanks) starting at line
 * start j, ending at e: its fence character, else 0. */
static char md_fence(const char *s, size_t j, size_t e)
{
	size_t f = j;
	while (f < e && f - j < 3 && s[f] == ' ')
		f++;
	if (f + 2 < e && (s[f] == '`' || s[f] == '~') && s[f + 1] == s[f] && s[f + 2] == s[f])
		return s[f];
	return 0;
}

/* Marks the markup of s[from..stop) in skip[0..n) (from is where the text
 * shown begins: a line start, or anywhere after it on a long line). The
 * closing half of a code span or link is looked for up to MD_LOOK bytes
 * ahead, so the work is bounded by the stretch shown, not the body. */
static void md_markup(const char *s, size_t from, size_t stop, size_t n, uint8_t *skip)
{
	int fence = 0; /* inside a fenced code block (of fch) */
	char fch = 0;
	/* the fences before from (a scan of line starts only) */
	for (const char *p = s, *end = s + from; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t e = nl ? (size_t)(nl - s) : from;
		char c = md_fence(s, (size_t)(p - s), e);
		if (c && (!fence || c == fch)) {
			fence = !fence;
			fch = c;
		}
		p = s + e + 1;
	}
	for (size_t j = from; j < stop; j++) {
		if (j == 0 || s[j - 1] == '\n') {
			size_t e = j;
			char c;
			while (e < n && s[e] != '\n')
				e++;
			if ((c = md_fence(s, j, e)) && (!fence || c == fch)) {
				fence = !fence;
				fch = c;
				md_mask(skip, j, e); /* the fence and its info string */
				j = e;
				continue;
			}
			if (fence) {
				j = e;
				continue;
			}
			if ((j = md_line_start(s, j, e, skip)) >= e) {
				j = e;
				continue;
			}
		}
		char c = s[j];
		if (skip[j])
			continue;
		if (c == '\\' && j + 1 < n && md_punct(s[j + 1])) {
			skip[j++] = 1; /* the escaped character is text */
		} else if (c == '`') {
			size_t r = j, k;
			while (r < n && s[r] == '`')
				r++;
			if ((k = md_code_close(s, r, r - j, n))) {
				md_mask(skip, j, r);
				md_mask(skip, k, k + (r - j));
				j = k + (r - j) - 1; /* the span's text is text */
			} else {
				j = r - 1; /* no closing run: literal backticks */
			}
		} else if (c == '*' || c == '_' || (c == '~' && j + 1 < n && s[j + 1] == '~')) {
			size_t r = j;
			while (r < n && s[r] == c)
				r++;
			/* not a lone "a * b" between blanks, not snake_case */
			int lone = (j == 0 || md_blank(s, j - 1, n)) && md_blank(s, r, n);
			int inword = j > 0 && md_alnum(s[j - 1]) && r < n && md_alnum(s[r]);
			if (!lone && !(c == '_' && inword))
				md_mask(skip, j, r);
			j = r - 1;
		} else if (c == '[' || (c == '!' && j + 1 < n && s[j + 1] == '[')) {
			size_t b = c == '!' ? j + 1 : j, close, end;
			if (md_link(s, b, n, &close, &end)) {
				md_mask(skip, j, b + 1);
				md_mask(skip, close, end);
			}
			j = b;
		}
	}
}

/* A one-line excerpt of body around the densest run of matched words. */
static int make_snippet(hx_searcher *sr, const hx_ix_view *e, struct hlword *w, size_t nw,
			hx_hit *h)
{
	const char *body = e->body;
	char lcode[HX_LANG_MAX + 1];
	snprintf(lcode, sizeof lcode, "%.*s", (int)(e->langlen < HX_LANG_MAX ? e->langlen : HX_LANG_MAX),
		 e->lang);
	int lang = hx_stem_lang(lcode);
	struct tk {
		size_t start, end;
		int match;
	} *t = NULL;
	size_t n = 0, cap = 0;
	hx_tokenizer tz;
	hx_token k;
	for (size_t i = 0; i < nw; i++) {
		w[i].stem = NULL;
		if (w[i].kind == HX_Q_WORD && lang >= 0) {
			const char *s = hx_stem(sr->stem, lang, w[i].word, strlen(w[i].word), &w[i].stemlen);
			if (s && (w[i].stem = strndup(s, w[i].stemlen)) == NULL)
				return HX_ENOMEM;
		}
	}
	int rc = HX_OK;
	hx_tok_init(&tz, body, e->bodylen);
	while (hx_tok_next(&tz, &k)) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 128;
			struct tk *nt = realloc(t, nc * sizeof *nt);
			if (!nt) {
				rc = HX_ENOMEM;
				goto out;
			}
			t = nt;
			cap = nc;
		}
		t[n].start = k.start;
		t[n].end = k.end;
		t[n].match = word_matches(sr, lang, w, nw, k.word, k.len);
		n++;
	}
	/* The window of SNIPPET_TOKENS tokens with the most matches. */
	size_t best = 0, bestc = 0, c = 0;
	for (size_t i = 0; i < n; i++) {
		c += t[i].match;
		if (i >= SNIPPET_TOKENS)
			c -= t[i - SNIPPET_TOKENS].match;
		if (c > bestc) {
			bestc = c;
			best = i + 1 > SNIPPET_TOKENS ? i + 1 - SNIPPET_TOKENS : 0;
		}
	}
	/* Start a few tokens before the first match of the window. */
	size_t from = best;
	while (from < n && !t[from].match && bestc)
		from++;
	from = from >= 3 ? from - 3 : 0;
	if (from < best)
		from = best;
	size_t bstart = n ? (from ? t[from].start : 0) : 0;
	size_t blen = e->bodylen, bend = blen;
	if (bend - bstart > SNIPPET_BYTES) {
		bend = bstart + SNIPPET_BYTES;
		/* end at a token end */
		size_t j = from;
		size_t lastend = bstart;
		while (j < n && t[j].end <= bend)
			lastend = t[j++].end;
		if (lastend > bstart)
			bend = lastend;
		else
			while (bend > bstart && ((uint8_t)body[bend] & 0xc0) == 0x80)
				bend--;
	}
	/* Copy as one line, Markdown markup left out, white space collapsed,
	 * ranges mapped. */
	size_t cap2 = (bend - bstart) + 8;
	char *out = malloc(cap2);
	hx_range *hl = malloc((n ? n : 1) * sizeof *hl);
	uint8_t *skip = calloc(blen ? blen : 1, 1);
	if (!out || !hl || !skip) {
		free(out);
		free(hl);
		free(skip);
		rc = HX_ENOMEM;
		goto out;
	}
	/* From the start of the snippet's line, unless that is far back. */
	size_t mfrom = bstart;
	while (mfrom > 0 && body[mfrom - 1] != '\n' && bstart - mfrom < MD_BACK)
		mfrom--;
	if (mfrom > 0 && body[mfrom - 1] != '\n')
		mfrom = bstart;
	md_markup(body, mfrom, bend, blen, skip);
	size_t o = 0, nhl = 0, ti = from, hl_end = 0;
	int space = 0, open = 0;
	if (bstart > 0) {
		memcpy(out, "...", 3);
		o = 3;
		space = 1;
	}
	for (size_t i = bstart; i < bend; i++) {
		while (ti < n && t[ti].end <= i)
			ti++;
		if (open && i >= hl_end) {
			hl[nhl++].end = o;
			open = 0;
		}
		char ch = body[i];
		if (skip[i])
			continue;
		if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ' || ch == '\f' || ch == '\v') {
			space = o > 0;
			continue;
		}
		if (space) {
			out[o++] = ' ';
			space = 0;
		}
		if (ti < n && t[ti].match && i == t[ti].start) {
			hl[nhl].start = o;
			hl_end = t[ti].end;
			open = 1;
		}
		out[o++] = ch;
	}
	if (open)
		hl[nhl++].end = o;
	free(skip);
	if (bend < blen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	h->snippet = out;
	h->hl = hl;
	h->nhl = nhl;
out:
	for (size_t i = 0; i < nw; i++)
		free((char *)w[i].stem);
	free(t);
	return rc;
}

/* Highlight words of the positive text clauses. */
static size_t hl_words(const hx_query *q, struct hlword *w, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < q->nclauses; i++) {
		const hx_q_clause *c = &q->clauses[i];
		if (c->negated)
			continue;
		for (size_t j = 0; j < c->ntext; j++)
			for (size_t k = 0; k < c->text[j].nwords && n < cap; k++) {
				w[n].word = c->text[j].words[k];
				w[n].kind = c->text[j].kind;
				w[n].stem = NULL;
				n++;
			}
	}
	return n;
}

/* ---- did you mean ---------------------------------------------------------------------- */

/* Optimal string alignment distance, or max + 1 once it is over max. */
static int edit_distance(const char *a, size_t la, const char *b, size_t lb, int max)
{
	int d[HX_TOKEN_MAX + 2][HX_TOKEN_MAX + 2];
	if (la > HX_TOKEN_MAX || lb > HX_TOKEN_MAX)
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > (size_t)max)
		return max + 1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int rowmin = max + 1;
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
			if (v < rowmin)
				rowmin = v;
		}
		if (rowmin > max)
			return max + 1;
	}
	return d[la][lb];
}

struct sugg {
	char word[HX_TOKEN_MAX + 1];
	int dist;
	uint32_t df;
};

/* The best few indexed words near word. */
static int near_words(hx_searcher *sr, const char *word, struct sugg *best, int *nbest)
{
	size_t wl = strlen(word);
	int max = wl <= 4 ? 1 : 2;
	MDB_cursor *c;
	MDB_val k = { 1, "W" }, v;
	char prev[HX_TOKEN_MAX + 1] = "";
	size_t prevl = (size_t)-1;
	int rc = mdb_cursor_open(sr->txn, sr->ix->post, &c);
	*nbest = 0;
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const char *kb = k.mv_data;
		if (!k.mv_size || kb[0] != 'W')
			break;
		const char *z = memchr(kb, 0, k.mv_size);
		if (!z)
			continue;
		size_t tl = (size_t)(z - kb) - 1;
		if (tl == prevl && !memcmp(prev, kb + 1, tl))
			continue; /* another block of the same word */
		if (tl > HX_TOKEN_MAX)
			continue;
		memcpy(prev, kb + 1, tl);
		prevl = tl;
		uint32_t df;
		if (k.mv_size == (size_t)(z - kb) + 1 && v.mv_size == 12)
			df = hx_le32_get(v.mv_data);
		else if (v.mv_size >= 9)
			df = ((const uint8_t *)v.mv_data)[0];
		else
			continue;
		int dist = edit_distance(word, wl, kb + 1, tl, max);
		if (dist > max || dist == 0)
			continue;
		struct sugg s;
		memcpy(s.word, kb + 1, tl);
		s.word[tl] = 0;
		s.dist = dist;
		s.df = df;
		/* keep the SUGGEST_MAX best by (distance, -df) */
		int at = *nbest;
		while (at > 0 && (best[at - 1].dist > s.dist ||
				  (best[at - 1].dist == s.dist && best[at - 1].df < s.df)))
			at--;
		if (at >= SUGGEST_MAX)
			continue;
		int last = *nbest < SUGGEST_MAX ? *nbest : SUGGEST_MAX - 1;
		for (int i = last; i > at; i--)
			best[i] = best[i - 1];
		best[at] = s;
		if (*nbest < SUGGEST_MAX)
			++*nbest;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 0 ? HX_OK : hx_mdb_err(rc);
}

/* Whole corrected queries: each word without postings replaced by its
 * nearest indexed words. */
static int suggest(hx_searcher *sr, const char *qtext, const hx_query *q, hx_results *res)
{
	struct {
		size_t start, end;
		struct sugg best[SUGGEST_MAX];
		int n;
	} fix[HX_QUERY_CLAUSES];
	int nfix = 0, rc;
	for (size_t i = 0; i < q->nclauses && nfix < HX_QUERY_CLAUSES; i++) {
		const hx_q_clause *c = &q->clauses[i];
		if (c->negated)
			continue;
		for (size_t j = 0; j < c->ntext && nfix < HX_QUERY_CLAUSES; j++) {
			const hx_q_text *t = &c->text[j];
			if (t->kind != HX_Q_WORD || t->nwords != 1)
				continue;
			int err = 0;
			struct matcher *m = m_word(sr, t->words[0], 0, &err);
			if (err)
				return err;
			if (m) {
				m_free(&m);
				continue;
			}
			fix[nfix].start = t->src_start;
			fix[nfix].end = t->src_end;
			if ((rc = near_words(sr, t->words[0], fix[nfix].best, &fix[nfix].n)))
				return rc;
			if (fix[nfix].n)
				nfix++;
		}
	}
	if (!nfix)
		return HX_OK;
	int nsug = fix[0].n;
	if (!(res->suggest = calloc((size_t)nsug, sizeof *res->suggest)))
		return HX_ENOMEM;
	size_t ql = strlen(qtext);
	for (int s = 0; s < nsug; s++) {
		size_t cap = ql + 1 + (size_t)nfix * (HX_TOKEN_MAX + 1), o = 0, pos = 0;
		char *out = malloc(cap);
		if (!out)
			return HX_ENOMEM;
		for (int f = 0; f < nfix; f++) {
			const struct sugg *sg = &fix[f].best[f == 0 ? s : 0];
			memcpy(out + o, qtext + pos, fix[f].start - pos);
			o += fix[f].start - pos;
			size_t wl = strlen(sg->word);
			memcpy(out + o, sg->word, wl);
			o += wl;
			pos = fix[f].end;
		}
		memcpy(out + o, qtext + pos, ql - pos);
		o += ql - pos;
		out[o] = 0;
		res->suggest[res->nsuggest++] = out;
	}
	return HX_OK;
}

/* ---- facets ----------------------------------------------------------------------------- */

static int cmp_facet(const void *a, const void *b)
{
	const hx_facet *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->value, y->value);
}

struct facet_walk {
	const roaring_bitmap_t *all;
	hx_facet_group *fg;
	size_t cap;
};

/* Counts one facet value over the matches, keeping it when non-zero. */
static int facet_value(void *arg, const char *value, size_t len, const roaring_bitmap_t *b)
{
	struct facet_walk *w = arg;
	hx_facet_group *fg = w->fg;
	uint64_t n = roaring_bitmap_and_cardinality(b, w->all);
	if (!n)
		return HX_OK;
	if (fg->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 32;
		hx_facet *nf = realloc(fg->v, nc * sizeof *nf);
		if (!nf)
			return HX_ENOMEM;
		fg->v = nf;
		w->cap = nc;
	}
	if (!(fg->v[fg->n].value = strndup(value, len)))
		return HX_ENOMEM;
	fg->v[fg->n++].count = n;
	return HX_OK;
}

static int facets(hx_searcher *sr, const roaring_bitmap_t *all, hx_results *res)
{
	static const char *names[HX_FACET_GROUPS] = { "tag", "kind", "lang", "country" };
	for (int g = 0; g < HX_FACET_GROUPS; g++) {
		hx_facet_group *fg = &res->facets[res->nfacets++];
		char key[32];
		size_t kl = (size_t)snprintf(key, sizeof key, "%s:", names[g]);
		struct facet_walk w = { all, fg, 0 };
		fg->name = names[g];
		int rc = attr_walk(sr, key, kl, facet_value, &w);
		if (rc)
			return rc;
		if (fg->n)
			qsort(fg->v, fg->n, sizeof *fg->v, cmp_facet);
		while (fg->n > FACET_MAX)
			free(fg->v[--fg->n].value);
	}
	return HX_OK;
}

/* ---- the search ------------------------------------------------------------------------ */

void hx_results_clear(hx_results *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->nhits; i++) {
		hx_hit *h = &res->hits[i];
		free(h->path);
		free(h->title);
		free(h->kind);
		free(h->lang);
		free(h->org);
		free(h->snippet);
		free(h->hl);
	}
	free(res->hits);
	for (size_t g = 0; g < res->nfacets; g++) {
		for (size_t i = 0; i < res->facets[g].n; i++)
			free(res->facets[g].v[i].value);
		free(res->facets[g].v);
	}
	for (size_t i = 0; i < res->nsuggest; i++)
		free(res->suggest[i]);
	free(res->suggest);
	memset(res, 0, sizeof *res);
}

static int begin(hx_searcher *sr)
{
	int rc = hx_txn_begin(sr->s, MDB_RDONLY, &sr->txn);
	if (rc)
		return rc;
	sr->nbuf = NULL;
	sr->ndoc = END;
	if (sr->dtx)
		doctext_reset(sr->dtx);
	MDB_val k = { 5, "stats" }, v;
	rc = mdb_get(sr->txn, sr->ix->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(&sr->st, 0, sizeof sr->st);
	} else if (rc || hx_ix_stats_decode(&sr->st, v.mv_data, v.mv_size)) {
		return rc ? hx_mdb_err(rc) : HX_ECORRUPT;
	}
	sr->F = 1.0;
	for (int f = 0; f < HX_NFIELDS; f++) {
		sr->avg[f] = sr->st.ndocs ? (double)sr->st.sumlen[f] / (double)sr->st.ndocs : 0;
		double ref = sr->st.ref_avg[f];
		if (ref > 0 && sr->avg[f] / ref > sr->F)
			sr->F = sr->avg[f] / ref;
	}
	sr->nlangs = 0;
	for (int i = 0; i < HX_IX_NLANG && i < hx_stem_lang_count(); i++)
		if (sr->st.lang_docs[i])
			sr->langs[sr->nlangs++] = i;
	return HX_OK;
}

static void end(hx_searcher *sr)
{
	if (sr->dtx)
		doctext_reset(sr->dtx);
	if (sr->txn)
		mdb_txn_abort(sr->txn);
	sr->txn = NULL;
	sr->nbuf = NULL;
}

static int fill_hit(hx_searcher *sr, const hx_query *q, const struct cand *c, size_t rank,
		    int snippets, hx_hit *h)
{
	hx_ix_view e;
	const uint8_t *id;
	const char *org = NULL;
	size_t orglen = 0;
	int rc = doc_view(sr, c->doc, &e, &id);
	if (rc)
		return rc;
	if (hx_ix_view_meta(&e, "org", &org, &orglen))
		org = NULL;
	h->rank = rank;
	h->score = c->score;
	memcpy(h->id, id, HX_ID_LEN);
	memcpy(h->author, e.author, HX_KEY_LEN);
	h->timestamp = e.timestamp;
	h->path = strndup(e.path, e.pathlen);
	h->title = strndup(e.title, e.titlelen);
	h->kind = strndup(e.kind, e.kindlen);
	h->lang = strndup(e.lang, e.langlen);
	h->org = org ? strndup(org, orglen) : NULL;
	if (!h->path || !h->title || !h->kind || !h->lang || (org && !h->org))
		return HX_ENOMEM;
	if (snippets) {
		struct hlword w[HX_QUERY_CLAUSES * 4];
		size_t nw = hl_words(q, w, sizeof w / sizeof w[0]);
		rc = make_snippet(sr, &e, w, nw, h);
	}
	return rc;
}

int hx_search(hx_searcher *sr, const char *qtext, const hx_search_opts *opts,
	      hx_results *res, char *err, size_t errlen)
{
	hx_search_opts dflt = { 10, 0, 0, 0, 0 };
	hx_query *q = NULL;
	struct eval ev;
	struct cand *heap = NULL;
	roaring_bitmap_t *all = NULL;
	size_t nheap = 0;
	uint64_t total = 0;
	int rc;

	memset(res, 0, sizeof *res);
	memset(&ev, 0, sizeof ev);
	if (err && errlen)
		err[0] = 0;
	if (!opts)
		opts = &dflt;
	size_t limit = opts->limit ? opts->limit : 10;
	if (opts->offset > 100000 || limit > 100000) {
		if (err && errlen)
			snprintf(err, errlen, "--limit and --offset go up to 100000");
		return HX_EINVAL;
	}
	size_t k = opts->offset + limit;
	if (sr->ix->stale) {
		if (err && errlen)
			snprintf(err, errlen, "the search index needs a rebuild: run 'hansa reindex'");
		return HX_EVERSION;
	}
	if ((rc = hx_query_parse(&q, qtext, err, errlen)))
		return rc;
	if ((rc = begin(sr)))
		goto out;
	if (!(heap = malloc(k * sizeof *heap))) {
		rc = HX_ENOMEM;
		goto out;
	}
	if (opts->facets && !(all = roaring_bitmap_create())) {
		rc = HX_ENOMEM;
		goto out;
	}
	if ((rc = eval_build(sr, q, &ev)))
		goto out;
	if (ev.ncl)
		rc = eval_run(sr, &ev, k, heap, &nheap, all, &total);
	else
		rc = eval_filters(sr, &ev, k, heap, &nheap, all, &total);
	if (rc)
		goto out;
	res->total = total;
	res->total_exact = all != NULL || nheap < k;
	if (nheap > opts->offset) {
		size_t n = nheap - opts->offset;
		if (!(res->hits = calloc(n, sizeof *res->hits))) {
			rc = HX_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if ((rc = fill_hit(sr, q, &heap[opts->offset + i], opts->offset + i + 1,
					   !opts->no_snippets, &res->hits[i])))
				goto out;
			res->nhits++;
		}
	}
	if (all && (rc = facets(sr, all, res)))
		goto out;
	if (!nheap && !total && !opts->no_suggest)
		rc = suggest(sr, qtext, q, res);
out:
	eval_free(&ev);
	if (all)
		roaring_bitmap_free(all);
	free(heap);
	end(sr);
	hx_query_free(&q);
	if (rc) {
		hx_results_clear(res);
		if (err && errlen && !err[0])
			snprintf(err, errlen, "%s", hx_strerror(rc));
	}
	return rc;
}

int hx_search_docnum(hx_searcher *sr, const uint8_t id[HX_ID_LEN], uint32_t *doc)
{
	MDB_txn *txn;
	int rc = hx_txn_begin(sr->s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	MDB_val k = { HX_ID_LEN, (void *)id }, v;
	rc = mdb_get(txn, sr->ix->ids, &k, &v);
	if (!rc && v.mv_size == 4)
		*doc = hx_le32_get(v.mv_data);
	else
		rc = rc ? hx_mdb_err(rc) : HX_ECORRUPT;
	mdb_txn_abort(txn);
	return rc;
}

static uint64_t dbi_bytes(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_stat st;
	if (mdb_stat(txn, dbi, &st))
		return 0;
	return (uint64_t)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize;
}

int hx_search_sizes(hx_store *s, uint64_t *index_bytes, uint64_t *store_bytes)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	*index_bytes = *store_bytes = 0;
	if (rc)
		return rc;
	struct hx_index *ix = &s->ix;
	if (!ix->stale) {
		MDB_dbi d[] = { ix->meta, ix->docs, ix->ids, ix->norms, ix->post, ix->attr, ix->stem };
		for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
			*index_bytes += dbi_bytes(txn, d[i]);
	}
	/* Every named table is a key of the main table. */
	MDB_dbi main;
	if (!(rc = mdb_dbi_open(txn, NULL, 0, &main)) && !(rc = mdb_cursor_open(txn, main, &c))) {
		*store_bytes = dbi_bytes(txn, main);
		while (!mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			char name[128];
			MDB_dbi d;
			if (k.mv_size == 0 || k.mv_size >= sizeof name)
				continue;
			memcpy(name, k.mv_data, k.mv_size);
			name[k.mv_size] = 0;
			if (!mdb_dbi_open(txn, name, 0, &d))
				*store_bytes += dbi_bytes(txn, d);
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	return rc ? hx_mdb_err(rc) : HX_OK;
}
