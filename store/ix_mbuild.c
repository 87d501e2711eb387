/*
 * ix_mbuild.c: building the matchers of ix_match.c from a query's text.
 * A word gets its exact form's posting list and, from the stem
 * dictionary, the lists of the words sharing its stem in each language
 * the index has documents of (English also through its joined stems); a
 * prefix gathers the postings of the words it expands to into memory,
 * scored; a phrase is an AND of exact words; a clause of several
 * alternatives an OR.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/search_int.h"

/* BM25F of the tfs of a prefix's words in doc. */
static double score_tf(hx_searcher *sr, double idf, const double tf[HX_NFIELDS], uint32_t doc)
{
	hx_ix_norm nm;
	hx_sr_norm(sr, doc, &nm);
	return idf * hx_sr_sat(sr, hx_sr_tfn(sr, tf, nm.len));
}

static struct matcher *m_new(int kind)
{
	struct matcher *m = malloc(sizeof *m);
	if (m) {
		memset(m, 0, offsetof(struct matcher, l));
		m->kind = kind;
		m->atdoc = END;
		m->doc = 0;
		m->tfdoc = END;
	}
	return m;
}

/* Adds to m the lists of the words whose stem in lang is st (the stem
 * dictionary's keys "code:st" 00 word), marked as forms in lang. With
 * self (the query word, whose own stem st is), *found tells whether self
 * is one of those words. */
static void stem_forms(hx_searcher *sr, struct matcher *m, MDB_cursor *c, int lang, const char *st,
                       size_t sl, const char *self, int *found, int *err)
{
	size_t selfl = self ? strlen(self) : 0;
	char key[2 * HX_TOKEN_MAX + 16];
	size_t pl = hx_ix_dkey(key, lang, st, sl, "", 0);
	int rc;
	if (!pl || !hx_sr_stem_maybe(sr, key, pl - 1))
		return; /* no word has that stem in lang */
	MDB_val k = { pl, key }, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= pl || memcmp(k.mv_data, key, pl))
			break;
		const char *w = (const char *)k.mv_data + pl;
		size_t n = k.mv_size - pl;
		int j;
		if (self && n == selfl && !memcmp(w, self, n))
			*found = 1;
		for (j = 0; j < m->nl; j++)
			if (m->l[j]->tl == n + 1 && !memcmp(m->l[j]->term + 1, w, n))
				break;
		if (j == m->nl) {
			char wk[HX_TOKEN_MAX + 2];
			size_t wkl = n <= HX_TOKEN_MAX ? hx_ix_wkey(wk, w, n) : 0;
			struct plist *pl2 =
			        wkl && m->nl < TERM_LISTS ? hx_pl_open(sr, wk, wkl, err) : NULL;
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

_Static_assert(HX_IX_NLANG <= HX_STEM_LANGS_MAX, "a searcher's languages fit hx_stem_langs");
_Static_assert(HX_IX_NLANG <= 32, "a searcher's language ids are bits of hx_sr_in_note's masks");

/* The stems a query word's stem st stands for. Snowball's English stemmer
 * leaves an agent noun apart from its verb (editor/edit, viewer/view,
 * player/play); in English a stem also stands for itself plus "or" and
 * "er", and a stem of 5 bytes or more ending so for itself without them,
 * so that "audio editing" finds an "audio editor" (the brute-force model
 * in tests/test_search.c does the same). */
static int joined_stems(int english, const char *st, size_t sl, char js[3][HX_TOKEN_MAX + 3],
                        size_t jl[3])
{
	int n = 0;
	if (sl > HX_TOKEN_MAX)
		return 0;
	memcpy(js[n], st, sl);
	jl[n++] = sl;
	if (!english)
		return n;
	if (sl >= 5 && (!memcmp(st + sl - 2, "or", 2) || !memcmp(st + sl - 2, "er", 2))) {
		memcpy(js[n], st, sl - 2);
		jl[n++] = sl - 2;
		return n;
	}
	for (int i = 0; i < 2; i++) {
		memcpy(js[n], st, sl);
		memcpy(js[n] + sl, i ? "er" : "or", 2);
		jl[n++] = sl + 2;
	}
	return n;
}

/* The query word, when the walk of its own stem st in lang tells
 * hx_sr_in_langs whether it is a word of lang: in a language with a stem
 * (NULL: none) and no word table. */
static const char *j0_self(const char *st, int lang, const char *word)
{
	return st && !hx_stem_lang_dict(lang) ? word : NULL;
}

/* A word: its exact list, and unless exact_only the lists of the words
 * that share its stem in each indexed language (from the stem
 * dictionary). NULL with *err == 0 when nothing matches. */
struct matcher *hx_m_word(hx_searcher *sr, const char *word, int exact_only, int *err)
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
	if ((kl = hx_ix_wkey(key, word, wl)) && (m->l[0] = hx_pl_open(sr, key, kl, err))) {
		m->qi = 0;
		m->nl = 1;
		m->lmask[0] = 0; /* the languages in which it is also a form */
	}
	if (!exact_only && !*err) {
		int rc = 0, en = hx_stem_lang("en");
		if (!sr->scur && (rc = mdb_cursor_open(sr->txn, sr->ix->stem, &sr->scur))) {
			sr->scur = NULL;
			*err = hx_mdb_err(rc);
		}
		c = sr->scur;
		const char *sts[HX_STEM_LANGS_MAX];
		size_t sls[HX_STEM_LANGS_MAX];
		if (!*err && hx_stem_langs(sr->stem, sr->langs, sr->nlangs, word, wl, sts, sls))
			*err = HX_ENOMEM;
		uint32_t asked = 0, known = 0; /* for hx_sr_in_note, by language */
		for (int i = 0; i < sr->nlangs && !*err; i++) {
			int lang = sr->langs[i];
			char js[3][HX_TOKEN_MAX + 3];
			size_t jl[3];
			int nj = joined_stems(lang == en, sts[i], sls[i], js, jl), found = 0;
			/* js[0] is the word's own stem (in a language with a word
			 * table hx_sr_in_langs looks the word up there instead) */
			const char *self = j0_self(sts[i], lang, word);
			for (int j = 0; j < nj && !*err; j++)
				stem_forms(sr, m, c, lang, js[j], jl[j], j ? NULL : self, &found,
				           err);
			if (self && nj) {
				asked |= 1u << lang;
				known |= (uint32_t)found << lang;
			}
		}
		if (!*err && asked)
			hx_sr_in_note(sr, word, wl, asked, known);
	}
	if (*err || !m->nl) {
		hx_m_free(&m);
		return NULL;
	}
	uint64_t df = 0;
	for (int i = 0; i < m->nl; i++)
		df += m->l[i]->df;
	if (df > sr->st.ndocs)
		df = sr->st.ndocs;
	m->df = (uint32_t)df;
	m->idf = hx_ix_idf((double)sr->st.ndocs, (double)m->df);
	m->ub = m->idf * (sr->rk.k1 + 1.0);
	hx_m_start(m);
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
	float(*acc)[HX_NFIELDS] = NULL;
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
			if (acc[d][0] + acc[d][1] + acc[d][2] + acc[d][3] == 0) {
				uint32_t *nds = hx_grow(docs, &capd, nd + 1, sizeof *nds);
				if (!nds) {
					*err = HX_ENOMEM;
					goto out;
				}
				docs = nds;
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
		hx_m_free(&m);
		goto out;
	}
	double ub = 0;
	for (size_t i = 0; i < nd; i++) {
		double tf[HX_NFIELDS];
		for (int f = 0; f < HX_NFIELDS; f++)
			tf[f] = (1.0 + sr->rk.exact) * acc[m->pdocs[i]][f];
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
		return hx_m_word(sr, t->words[0], 0, err);
	if (t->kind == HX_Q_PREFIX)
		return m_prefix(sr, t->words[0], err);
	/* A phrase: the AND of its words' exact forms. */
	if (t->nwords == 1)
		return hx_m_word(sr, t->words[0], 1, err);
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
		struct matcher *k = hx_m_word(sr, t->words[i], 1, err);
		if (!k) {
			hx_m_free(&m);
			return NULL;
		}
		m->kids[m->nkids++] = k;
		m->ub += k->ub;
		if (k->df < df)
			df = k->df;
	}
	m->df = df;
	hx_m_start(m);
	return m;
}

/* A clause: one matcher, or an OR of several. NULL with *err == 0 when
 * nothing can match. */
struct matcher *hx_m_clause(hx_searcher *sr, const hx_q_clause *c, int *err)
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
			hx_m_free(&m);
			return NULL;
		}
		if (k) {
			m->kids[m->nkids++] = k;
			m->ub += k->ub;
			m->df += k->df;
		}
	}
	if (!m->nkids) {
		hx_m_free(&m);
		return NULL;
	}
	hx_m_start(m);
	return m;
}
