/*
 * ix_match.c: matchers, what a query's text becomes. A word matches its
 * exact form's posting list and, through the stem dictionary, the lists of
 * the words sharing its stem in each indexed language (counted only for
 * documents of that language); a phrase is an AND of exact words checked
 * for adjacency on the document's text; a prefix is the union of the exact
 * words it expands to, gathered into memory; OR joins matchers. Each
 * matcher moves forward in docnum order, scores BM25F at its document and
 * gives an upper bound of its score over a stretch (block-max). They are
 * built in ix_mbuild.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/search_int.h"

/* ---- matchers ---------------------------------------------------------------- */

void hx_m_free(struct matcher **pm)
{
	struct matcher *m = *pm;
	if (!m)
		return;
	for (int i = 0; i < m->nl; i++)
		hx_pl_close(&m->l[i]);
	free(m->pdocs);
	free(m->pscore);
	free(m->pbmax);
	for (int i = 0; i < m->nkids; i++)
		hx_m_free(&m->kids[i]);
	free(m->kids);
	free(m);
	*pm = NULL;
}

int hx_m_err(const struct matcher *m)
{
	for (int i = 0; i < m->nl; i++)
		if (m->l[i]->err)
			return m->l[i]->err;
	for (int i = 0; i < m->nkids; i++) {
		int rc = hx_m_err(m->kids[i]);
		if (rc)
			return rc;
	}
	return HX_OK;
}

/* Makes at[] the lists of the word m at d. term_advance keeps them for
 * its current docnum, which is the d every caller asks about today, so
 * this is a compare; the walk below is for any other d (END included,
 * which is also what atdoc is set to when the lists move). */
static void lists_at(struct matcher *m, uint32_t d)
{
	if (m->atdoc == d && d != END)
		return;
	m->nat = 0;
	for (int i = 0; i < m->nl; i++)
		if (m->l[i]->doc == d)
			m->at[m->nat++] = (uint8_t)i;
	m->atdoc = d;
}

/* The tfs of a word at m->doc, weighted: stemmed forms (in the document's
 * language) plus the exact boost; all zero when the document has the word
 * in no form that counts. */
static void term_tf(struct matcher *m, const hx_ix_norm *nm, double tf[HX_NFIELDS])
{
	uint32_t d = m->doc;
	double boost = m->sr->rk.exact;
	const uint32_t *e = m->qi >= 0 && m->l[m->qi]->doc == d ? hx_pl_tf(m->l[m->qi]) : NULL;
	double ex[HX_NFIELDS] = { 0, 0, 0 }, st[HX_NFIELDS] = { 0, 0, 0 };
	if (e)
		for (int f = 0; f < HX_NFIELDS; f++)
			ex[f] = e[f];
	if (m->exact_only || nm->lang < 0 || nm->lang >= 32) {
		for (int f = 0; f < HX_NFIELDS; f++)
			tf[f] = (1.0 + boost) * ex[f];
		return;
	}
	uint32_t bit = 1u << nm->lang;
	lists_at(m, d);
	for (int j = 0; j < m->nat; j++)
		if (m->lmask[m->at[j]] & bit) {
			const uint32_t *t = hx_pl_tf(m->l[m->at[j]]);
			for (int f = 0; f < HX_NFIELDS; f++)
				st[f] += t[f];
		}
	for (int f = 0; f < HX_NFIELDS; f++)
		tf[f] = st[f] + boost * ex[f];
}

/* Whether term_tf would give m a tf above zero at d, where one of its
 * lists is: a list of another form may hold a document of a language in
 * which that word is no form of ours. Decided from the lists at d and the
 * document's language alone (a posting's tfs are never all zero: the
 * block decoder refuses that), so that neither the norm record nor a
 * block is decoded for a document the other clauses may skip; the tfs
 * themselves are computed when d is scored. */
static int term_counts(struct matcher *m, uint32_t d)
{
	double boost = m->sr->rk.exact;
	if (boost <= 0) { /* a tuning run: the exact form may count nothing */
		hx_ix_norm nm;
		hx_sr_norm(m->sr, d, &nm);
		term_tf(m, &nm, m->tf);
		m->tfdoc = d;
		return m->tf[0] + m->tf[1] + m->tf[2] + m->tf[3] > 0;
	}
	if (m->qi >= 0 && m->l[m->qi]->doc == d)
		return 1; /* the exact form counts in every language */
	if (m->exact_only)
		return 0;
	int lang = hx_sr_lang(m->sr, d);
	if (lang < 0 || lang >= 32)
		return 0;
	lists_at(m, d);
	for (int j = 0; j < m->nat; j++)
		if (m->lmask[m->at[j]] & (1u << lang))
			return 1;
	return 0;
}

/* Moves m to its first candidate docnum >= d (phrases unchecked). */
static void m_advance(struct matcher *m, uint32_t d);

/* The least docnum of the word m's lists: no candidate of it is below. */
static uint32_t lists_low(const struct matcher *m)
{
	uint32_t low = END;
	for (int i = 0; i < m->nl; i++)
		if (m->l[i]->doc < low)
			low = m->l[i]->doc;
	return low;
}

/* Moves the word m to its first candidate docnum >= d; with once, stops
 * after the first document that does not count: m->doc is then a docnum
 * its next candidate is not below (the least of its lists'), and
 * m->unsure is set. */
static void term_advance(struct matcher *m, uint32_t d, int once)
{
	m->unsure = 0;
	for (;;) {
		uint32_t best = END;
		int nat = 0;
		for (int i = 0; i < m->nl; i++) {
			struct plist *l = m->l[i];
			if (l->doc < d) /* most lists are past d already */
				hx_pl_seek(l, d);
			if (l->doc < best) {
				best = l->doc;
				nat = 0;
			}
			if (l->doc == best)
				m->at[nat++] = (uint8_t)i;
		}
		m->doc = m->atdoc = best;
		m->nat = nat;
		if (best == END || term_counts(m, best) || best == END - 1)
			return;
		d = best + 1;
		/* A list counts only in the documents of its languages
		 * (lmask), the exact form's in every one: a list at best
		 * (all of them there are in none of theirs) moves on to the
		 * next document of one of them. A common word of one
		 * language can be a rare word's form in another ("for" of
		 * "foer" in Swedish): its list is then read only at the
		 * documents of that language. */
		if (m->sr->rk.exact > 0)
			for (int j = 0; j < m->nat; j++) {
				int i = m->at[j];
				if (i != m->qi) {
					uint32_t t = hx_sr_lang_skip(m->sr, d, m->lmask[i], END);
					if (t > d)
						hx_pl_seek(m->l[i], t);
				}
			}
		m->atdoc = END; /* lists moved: at[] is no longer theirs */
		if (once) {
			uint32_t low = lists_low(m);
			m->doc = low > d ? low : d;
			m->unsure = m->doc != END;
			return;
		}
	}
}

/* hx_m_next (once 0) and hx_m_step (once 1: a word only; m->unsure is
 * only ever set on a word). */
static void m_move(struct matcher *m, uint32_t d, int once)
{
	if (m->unsure)
		term_advance(m, d > m->doc ? d : m->doc, once);
	else if (m->doc < d && m->kind == M_TERM)
		term_advance(m, d, once);
	else if (m->doc < d)
		m_advance(m, d);
}

/* A word is left unsure at the least docnum of its lists, which hx_pl_open
 * put at their first postings: the first hx_m_next or hx_m_step finds its
 * candidate from where the query needs it. Finding the first document of
 * its languages here walked lists that a rarer clause then moved past:
 * `libtap harness` took 159k instructions, 91k so (docs/SEARCH.md,
 * sixteenth session). */
void hx_m_start(struct matcher *m)
{
	if (m->kind == M_TERM) {
		m->doc = lists_low(m);
		m->atdoc = END;
		m->unsure = m->doc != END;
		return;
	}
	m_advance(m, 0);
}

void hx_m_next(struct matcher *m, uint32_t d)
{
	m_move(m, d, 0);
}

void hx_m_step(struct matcher *m, uint32_t d)
{
	m_move(m, d, 1);
}

static void m_advance(struct matcher *m, uint32_t d)
{
	switch (m->kind) {
	case M_TERM: term_advance(m, d, 0); return;
	case M_PREFIX:
		while (m->pi < m->pn && m->pdocs[m->pi] < d)
			m->pi++;
		m->doc = m->pi < m->pn ? m->pdocs[m->pi] : END;
		return;
	case M_AND:
		for (;;) {
			int again = 0;
			for (int i = 0; i < m->nkids; i++) {
				hx_m_next(m->kids[i], d);
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
			hx_m_next(m->kids[i], d);
			if (m->kids[i]->doc < best)
				best = m->kids[i]->doc;
		}
		m->doc = best;
		return;
	}
	}
}

/* The score at m->doc, phrases not yet checked. */
double hx_m_score(hx_searcher *sr, struct matcher *m)
{
	uint32_t d = m->doc;
	double s = 0;
	switch (m->kind) {
	case M_TERM: {
		hx_ix_norm nm;
		hx_sr_norm(sr, d, &nm);
		if (m->tfdoc != d) {
			term_tf(m, &nm, m->tf);
			m->tfdoc = d;
		}
		return m->idf * hx_sr_sat(sr, hx_sr_tfn(sr, m->tf, nm.len));
	}
	case M_PREFIX: return m->pscore[m->pi];
	case M_AND:
		for (int i = 0; i < m->nkids; i++)
			s += hx_m_score(sr, m->kids[i]);
		return s;
	case M_OR:
		for (int i = 0; i < m->nkids; i++)
			if (m->kids[i]->doc == d)
				s += hx_m_score(sr, m->kids[i]);
		return s;
	}
	return 0;
}

/* An upper bound of m's score over docnums [m->doc, *upto]. */
double hx_m_bound(hx_searcher *sr, struct matcher *m, uint32_t *upto)
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
		t = m->exact_only ? (1.0 + sr->rk.exact) * bq : t + sr->rk.exact * bq;
		b = m->idf * hx_sr_sat(sr, t * sr->F * (1.0 + 1e-6));
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
			b += hx_m_bound(sr, m->kids[i], &ku);
			if (ku < u)
				u = ku;
		}
		break;
	case M_OR: {
		uint32_t ku[HX_QUERY_CLAUSES];
		double kb[HX_QUERY_CLAUSES];
		for (int i = 0; i < m->nkids; i++) {
			kb[i] = m->kids[i]->doc == END ? 0 : hx_m_bound(sr, m->kids[i], &ku[i]);
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

int hx_m_in_body(struct matcher *m, uint32_t d)
{
	if (m->kind != M_TERM || m->nl >= TERM_LISTS)
		return 1;
	lists_at(m, d);
	for (int j = 0; j < m->nat; j++)
		if (hx_pl_tf(m->l[m->at[j]])[HX_F_BODY] > 0)
			return 1;
	return 0;
}

/* ---- phrase checks on the document text --------------------------------------- */

struct doctext {
	uint32_t doc;
	int loaded;
	char *buf; /* folded tokens of title, tags, body, NUL-separated */
	size_t blen, bcap;
	uint32_t *off;   /* each token's offset in buf */
	uint32_t *field; /* its field; each tag counts as a field of its own */
	size_t n, ocap, fcap;
};

void hx_doctext_reset(struct doctext *d)
{
	d->n = 0;
	d->blen = 0;
	d->loaded = 0;
}

void hx_doctext_free(struct doctext **pd)
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

static int doctext_add(struct doctext *d, const char *text, size_t len, uint32_t field)
{
	hx_tokenizer t;
	hx_token k;
	hx_tok_init(&t, text, len);
	while (hx_tok_next(&t, &k)) {
		uint32_t *no = hx_grow(d->off, &d->ocap, d->n + 1, sizeof *no);
		if (!no)
			return HX_ENOMEM;
		d->off = no;
		uint32_t *nf = hx_grow(d->field, &d->fcap, d->n + 1, sizeof *nf);
		if (!nf)
			return HX_ENOMEM;
		d->field = nf;
		char *nb = hx_grow(d->buf, &d->bcap, d->blen + k.len + 1, 1);
		if (!nb)
			return HX_ENOMEM;
		d->buf = nb;
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
	hx_doctext_reset(d);
	if ((rc = hx_sr_doc(sr, doc, &v, NULL)))
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

int hx_m_needs_text(const struct matcher *m)
{
	if (m->kind == M_AND && m->nwords > 1)
		return 1;
	for (int i = 0; i < m->nkids; i++)
		if (hx_m_needs_text(m->kids[i]))
			return 1;
	return 0;
}

/* Checks phrases at m->doc: returns 1 when m really matches there, with
 * its score in *score (alternatives of an OR that do not match do not
 * count), 0 when not, negative on error. */
int hx_m_verify(hx_searcher *sr, struct matcher *m, double *score)
{
	uint32_t d = m->doc;
	int rc;
	if (!hx_m_needs_text(m)) {
		*score = hx_m_score(sr, m);
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
				      hx_pl_tf(k->l[k->qi])[f] > 0;
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
		*score = hx_m_score(sr, m);
		return 1;
	}
	/* M_OR */
	double s = 0;
	int any = 0;
	for (int i = 0; i < m->nkids; i++) {
		double ks;
		if (m->kids[i]->doc != d)
			continue;
		if ((rc = hx_m_verify(sr, m->kids[i], &ks)) < 0)
			return rc;
		if (rc) {
			s += ks;
			any = 1;
		}
	}
	*score = s;
	return any;
}
