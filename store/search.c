/*
 * search.c: the searcher and the search entry point. hx_search parses the
 * query (query.c) and evaluates it in one read transaction (ix_eval.c over
 * the matchers of ix_match.c); when it finds nothing, or little through
 * another language's stems, it runs the best correction (suggest.c)
 * instead. It then collapses a document and its translations into one
 * hit, fills the hits with their snippets (snippet.c) and counts facets.
 * Also the docnum of an id and the index's size, for tests and benchmarks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "store/search_int.h"

#define FEW_HITS 3 /* this few through stems only: try a correction */
#define TR_WIDEN 4 /* candidates looked at per hit when collapsing translations */

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
	hx_rank_default(&sr->rk);
	hx_sr_vc_clear(sr);
	hx_stemmers_set_lookup(sr->stem, hx_sr_stem_lookup, sr);
	*out = sr;
	return HX_OK;
}

void hx_searcher_free(hx_searcher **psr)
{
	hx_searcher *sr = psr ? *psr : NULL;
	if (!sr)
		return;
	hx_stemmers_free(&sr->stem);
	hx_doctext_free(&sr->dtx);
	hx_sugix_free(&sr->sx);
	hx_sfilter_free(&sr->sf);
	hx_sr_vc_clear(sr);
	hx_sr_langs_free(sr);
	free(sr);
	*psr = NULL;
}

_Static_assert(sizeof((hx_rank *)0)->w / sizeof(double) == HX_NFIELDS,
               "hx_rank.w has a weight per field");

void hx_rank_default(hx_rank *r)
{
	r->k1 = HX_BM25_K1;
	r->b = HX_BM25_B;
	for (int f = 0; f < HX_NFIELDS; f++)
		r->w[f] = hx_ix_fw[f];
	r->exact = HX_EXACT_BOOST;
	r->prox = HX_PROX_W;
	r->title_exact = HX_TITLE_EXACT;
}

void hx_searcher_set_rank(hx_searcher *sr, const hx_rank *r)
{
	sr->rk = *r;
	sr->rk_noskip = r->b != HX_BM25_B;
	for (int f = 0; f < HX_NFIELDS; f++)
		sr->rk_noskip |= r->w[f] != hx_ix_fw[f];
}

int hx_searcher_set_lang(hx_searcher *sr, const char *lang)
{
	if (lang && strlen(lang) > HX_LANG_MAX)
		return HX_EINVAL;
	snprintf(sr->lang, sizeof sr->lang, "%s", lang ? lang : "");
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
		free(h->file);
		free(h->hl);
		for (size_t j = 0; j < h->nalso; j++)
			free(h->also_in[j]);
		free(h->also_in);
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
	free(res->corrected);
	free(res->instead);
	memset(res, 0, sizeof *res);
}

static int begin(hx_searcher *sr)
{
	int rc = hx_txn_begin(sr->s, MDB_RDONLY, &sr->txn);
	if (rc)
		return rc;
	sr->nbuf = NULL;
	sr->ndoc = END;
	sr->ninm = 0;
	if (sr->nbegin < 2)
		sr->nbegin++;
	hx_sr_vc_clear(sr);
	if (sr->dtx)
		hx_doctext_reset(sr->dtx);
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
	if (sr->rk_noskip)
		sr->F = 1e30; /* every bound idf × (k1 + 1): no block is skipped */
	hx_sr_langs_sync(sr);
	sr->nlangs = 0;
	for (int i = 0; i < HX_IX_NLANG && i < hx_stem_lang_count(); i++)
		if (sr->st.lang_docs[i])
			sr->langs[sr->nlangs++] = i;
	return HX_OK;
}

static void end(hx_searcher *sr)
{
	if (sr->dtx)
		hx_doctext_reset(sr->dtx);
	if (sr->pcur)
		mdb_cursor_close(sr->pcur);
	if (sr->scur)
		mdb_cursor_close(sr->scur);
	sr->pcur = sr->scur = NULL;
	if (sr->txn)
		hx_txn_abort(sr->s, sr->txn);
	sr->txn = NULL;
	sr->nbuf = NULL;
	hx_sr_vc_clear(sr);
}

/* One evaluation of a parsed query: the best k, and every match in all
 * when facets are wanted. */
struct run {
	hx_query *q;
	struct cand *heap;
	size_t nheap, k;
	uint64_t total;
	roaring_bitmap_t *all;
};

static void run_free(struct run *r)
{
	hx_query_free(&r->q);
	free(r->heap);
	if (r->all)
		roaring_bitmap_free(r->all);
	memset(r, 0, sizeof *r);
}

/* Evaluates r->q for the best k. */
static int run_eval(hx_searcher *sr, struct run *r, size_t k, int facets)
{
	struct eval ev;
	int rc;
	memset(&ev, 0, sizeof ev);
	free(r->heap);
	r->nheap = 0;
	r->k = k;
	if (!(r->heap = malloc((k ? k : 1) * sizeof *r->heap)))
		return HX_ENOMEM;
	if (facets && !r->all && !(r->all = roaring_bitmap_create()))
		return HX_ENOMEM;
	if (r->all)
		roaring_bitmap_clear(r->all);
	if (!(rc = hx_eval_build(sr, r->q, &ev))) {
		if (ev.ncl)
			rc = hx_eval_run(sr, &ev, k, r->heap, &r->nheap, r->all, &r->total);
		else
			rc = hx_eval_filters(sr, &ev, k, r->heap, &r->nheap, r->all, &r->total);
	}
	hx_eval_free(&ev);
	return rc;
}

/* The language of the query, as a stemming language (-1 when unknown):
 * the searcher's preferred one, else the one lang: filter, else the
 * language whose documents know the most of the query's words (when one
 * does). code gets its code ("" when unknown). */
static int query_lang(hx_searcher *sr, const hx_query *q, char *code, size_t cl)
{
	const char *c = sr->lang[0] ? sr->lang : NULL;
	code[0] = 0;
	for (size_t i = 0; i < q->nclauses && !c; i++) {
		const hx_q_clause *cc = &q->clauses[i];
		if (!cc->negated && cc->nfilters == 1 && cc->filters[0].field == HX_QF_LANG &&
		    !cc->filters[0].prefix)
			c = cc->filters[0].value;
	}
	if (c) {
		snprintf(code, cl, "%s", c);
		return hx_stem_lang(c);
	}
	/* each word's stems in every language at once, then how many words
	 * each language knows */
	int best = -1, bestn = 0, tie = 0, n[HX_IX_NLANG] = { 0 }, in[HX_IX_NLANG];
	for (size_t i = 0; i < q->nclauses; i++) {
		const hx_q_clause *cc = &q->clauses[i];
		for (size_t j = 0; j < cc->ntext && !cc->negated; j++)
			for (size_t w = 0; w < cc->text[j].nwords; w++) {
				const char *wd = cc->text[j].words[w];
				if (hx_sr_in_langs(sr, wd, strlen(wd), in)) {
					for (int l = 0; l < sr->nlangs; l++) /* as each alone */
						in[l] = hx_sr_in_lang(sr, sr->langs[l], wd,
						                      strlen(wd));
				}
				for (int l = 0; l < sr->nlangs; l++)
					n[l] += in[l];
			}
	}
	for (int l = 0; l < sr->nlangs; l++) {
		if (n[l] > bestn) {
			best = sr->langs[l];
			bestn = n[l];
			tie = 0;
		} else if (n[l] == bestn && n[l] > 0) {
			tie = 1;
		}
	}
	if (best < 0 || tie)
		return -1;
	snprintf(code, cl, "%s", hx_stem_lang_code(best));
	return best;
}

/* Whether some positive word of q has no exact form in the index (it can
 * match only through the stems of other words). */
static int stems_only(hx_searcher *sr, const hx_query *q)
{
	for (size_t i = 0; i < q->nclauses; i++) {
		const hx_q_clause *c = &q->clauses[i];
		for (size_t j = 0; j < c->ntext && !c->negated; j++) {
			const hx_q_text *t = &c->text[j];
			char key[HX_TOKEN_MAX + 2];
			size_t kl;
			hx_ix_term ti;
			if (t->kind != HX_Q_WORD ||
			    !(kl = hx_ix_wkey(key, t->words[0], strlen(t->words[0]))))
				continue;
			if (hx_sr_term(sr, key, kl, &ti) == HX_ENOTFOUND)
				return 1;
		}
	}
	return 0;
}

/* Typos: when r found nothing, or only a few hits with a word matched
 * through stems alone, runs the corrected queries in turn and keeps the
 * first that finds more (then res->corrected and res->instead are set);
 * when none does and nothing was found, offers them as did-you-mean. */
static int correct(hx_searcher *sr, const char *qtext, struct run *r, char *code, size_t cl,
                   int facets, hx_results *res)
{
	hx_correction alt[HX_CORRECTIONS];
	int nalt = 0, rc;
	if (r->total > FEW_HITS || (r->total && !stems_only(sr, r->q)))
		return HX_OK;
	int lang = query_lang(sr, r->q, code, cl);
	memset(alt, 0, sizeof alt);
	rc = hx_corrections(sr, qtext, r->q, lang, r->total > 0, alt, &nalt);
	for (int i = 0; i < nalt && !rc; i++) {
		struct run r2;
		memset(&r2, 0, sizeof r2);
		if (hx_query_parse(&r2.q, alt[i].query, NULL, 0)) {
			run_free(&r2);
			continue;
		}
		if ((rc = run_eval(sr, &r2, r->k, facets))) {
			run_free(&r2);
			break;
		}
		if (r2.total > 2 * r->total) {
			run_free(r);
			*r = r2;
			res->corrected = alt[i].query;
			res->instead = alt[i].instead;
			alt[i].query = alt[i].instead = NULL;
			break;
		}
		run_free(&r2);
	}
	if (!rc && !res->corrected && !r->total && nalt) {
		if (!(res->suggest = calloc((size_t)nalt, sizeof *res->suggest)))
			rc = HX_ENOMEM;
		for (int i = 0; i < nalt && !rc; i++) {
			res->suggest[res->nsuggest++] = alt[i].query;
			alt[i].query = NULL;
		}
	}
	for (int i = 0; i < HX_CORRECTIONS; i++) {
		free(alt[i].query);
		free(alt[i].instead);
	}
	return rc;
}

/* ---- translations ------------------------------------------------------------------- */

/* A hit and the translations collapsed into it. */
struct group {
	uint8_t author[HX_KEY_LEN];
	char key[HX_PATH_MAX + 1]; /* translation_of, else the path */
	struct cand best, shown;   /* the best scored; the one shown */
	int shown_lang;            /* shown is in the wanted language */
	char *langs;               /* languages of the members, NUL-separated */
	size_t llen, lcap;
};

static int same_lang(const char *a, size_t al, const char *want)
{
	size_t wl = strlen(want);
	return *want && al >= wl && !strncasecmp(a, want, wl) && (al == wl || a[wl] == '-');
}

/* Collapses r's candidates: a document carrying translation_of: PATH and
 * the document PATH of the same author (and its other translations) make
 * one group, shown in the wanted language when one member is, else its
 * best scored member, ranked by its best score. Returns the groups in
 * *out (caller frees, also their langs). Only the same author's
 * documents are grouped: a partner cannot hide another's document. */
static int collapse(hx_searcher *sr, const struct run *r, const char *want, struct group **out,
                    size_t *nout)
{
	struct group *g = NULL;
	size_t ng = 0, cap = 0;
	int rc = HX_OK;
	for (size_t i = 0; i < r->nheap && !rc; i++) {
		hx_ix_hit e;
		if ((rc = hx_sr_hit(sr, r->heap[i].doc, &e)))
			break;
		/* its group: what it is a translation of, else its own path */
		int own = !e.tr || !e.trlen || e.trlen > HX_PATH_MAX;
		const char *key = own ? e.path : e.tr;
		size_t kl = own ? e.pathlen : e.trlen;
		size_t j;
		for (j = 0; j < ng; j++)
			if (!memcmp(g[j].author, e.author, HX_KEY_LEN) && strlen(g[j].key) == kl &&
			    !memcmp(g[j].key, key, kl))
				break;
		if (j == ng) {
			struct group *ngp = hx_grow(g, &cap, ng + 1, sizeof *ngp);
			if (!ngp) {
				rc = HX_ENOMEM;
				break;
			}
			g = ngp;
			memset(&g[ng], 0, sizeof g[ng]);
			memcpy(g[ng].author, e.author, HX_KEY_LEN);
			memcpy(g[ng].key, key, kl);
			g[ng].key[kl] = 0;
			g[ng].best = g[ng].shown = r->heap[i];
			g[ng].shown_lang = same_lang(e.lang, e.langlen, want);
			ng++;
		} else if (!g[j].shown_lang && same_lang(e.lang, e.langlen, want)) {
			g[j].shown = r->heap[i];
			g[j].shown_lang = 1;
		}
		char *nl = hx_grow(g[j].langs, &g[j].lcap, g[j].llen + e.langlen + 1, 1);
		if (!nl) {
			rc = HX_ENOMEM;
			break;
		}
		g[j].langs = nl;
		memcpy(nl + g[j].llen, e.lang, e.langlen);
		nl[g[j].llen + e.langlen] = 0;
		g[j].llen += e.langlen + 1;
	}
	*out = g;
	*nout = ng;
	return rc;
}

/* The languages of g other than the shown hit's, each once. */
static int also_in(const struct group *g, hx_hit *h)
{
	for (size_t o = 0; o < g->llen; o += strlen(g->langs + o) + 1) {
		const char *l = g->langs + o;
		int dup = !*l || !strcmp(l, h->lang);
		for (size_t i = 0; i < h->nalso && !dup; i++)
			dup = !strcmp(h->also_in[i], l);
		if (dup)
			continue;
		char **na = realloc(h->also_in, (h->nalso + 1) * sizeof *na);
		if (!na)
			return HX_ENOMEM;
		h->also_in = na;
		if (!(na[h->nalso] = strdup(l)))
			return HX_ENOMEM;
		h->nalso++;
	}
	return HX_OK;
}

/* Whether any of the candidates says it is a translation. */
static int has_translations(hx_searcher *sr, const struct run *r, int *err)
{
	for (size_t i = 0; i < r->nheap; i++) {
		hx_ix_hit e;
		if ((*err = hx_sr_hit(sr, r->heap[i].doc, &e)))
			return 0;
		if (e.tr)
			return 1;
	}
	return 0;
}

static int fill_hit(hx_searcher *sr, const hx_query *q, const struct cand *c, size_t rank,
                    int snippets, hx_hit *h)
{
	hx_ix_hit e;
	hx_ix_view v;
	int rc = hx_sr_hit(sr, c->doc, &e);
	if (rc)
		return rc;
	h->rank = rank;
	h->score = c->score;
	memcpy(h->id, e.id, HX_ID_LEN);
	memcpy(h->author, e.author, HX_KEY_LEN);
	h->timestamp = e.timestamp;
	h->path = strndup(e.path, e.pathlen);
	h->title = strndup(e.title, e.titlelen);
	h->kind = strndup(e.kind, e.kindlen);
	h->lang = strndup(e.lang, e.langlen);
	h->org = e.org ? strndup(e.org, e.orglen) : NULL;
	if (!h->path || !h->title || !h->kind || !h->lang || (e.org && !h->org))
		return HX_ENOMEM;
	/* only a snippet reads the entry (its body) */
	if (snippets && !(rc = hx_sr_doc(sr, c->doc, &v, NULL)))
		rc = hx_snippet(sr, q, &v, h);
	return rc;
}

int hx_search(hx_searcher *sr, const char *qtext, const hx_search_opts *opts, hx_results *res,
              char *err, size_t errlen)
{
	hx_search_opts dflt = { 10, 0, 0, 0, 0, 0 };
	struct run r;
	struct group *g = NULL;
	size_t ng = 0;
	char lang[HX_LANG_MAX + 1];
	int rc;

	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	if (err && errlen)
		err[0] = 0;
	if (!opts)
		opts = &dflt;
	size_t limit = opts->limit ? opts->limit : 10;
	if (opts->offset > 100000 || limit > 100000) {
		if (err && errlen)
			snprintf(err, errlen,
			         "the limit and the offset of a search go up to 100000 each");
		return HX_EINVAL;
	}
	size_t k = opts->offset + limit;
	if (sr->ix->stale) {
		if (err && errlen)
			snprintf(err, errlen, "the search index needs a rebuild");
		return HX_EVERSION;
	}
	if ((rc = hx_query_parse(&r.q, qtext, err, errlen)))
		return rc;
	if ((rc = begin(sr)) || (rc = run_eval(sr, &r, k, opts->facets)))
		goto out;
	if (!opts->no_suggest &&
	    (rc = correct(sr, qtext, &r, lang, sizeof lang, opts->facets, res)))
		goto out;
	/* Translations: when a candidate is one, look at more candidates and
	 * collapse; else each candidate is its own hit. Which candidates are
	 * translations does not depend on their order, so the re-rank comes
	 * after the wider run: it re-ranked the first run's candidates too,
	 * which the wider run then threw away. */
	int tr = has_translations(sr, &r, &rc);
	if (!rc && tr && r.nheap == r.k && r.k < 100000) {
		size_t k2 = r.k * TR_WIDEN < 100000 ? r.k * TR_WIDEN : 100000;
		rc = run_eval(sr, &r, k2, 0);
	}
	if (!rc && !opts->no_proximity)
		rc = hx_prox_rerank(sr, r.q, r.heap, r.nheap);
	if (!rc && tr) {
		query_lang(sr, r.q, lang, sizeof lang);
		rc = collapse(sr, &r, lang, &g, &ng);
	}
	if (rc)
		goto out;
	size_t nhits = tr ? ng : r.nheap;
	res->total = r.total;
	res->total_exact = r.all != NULL || r.nheap < r.k;
	if (nhits > opts->offset) {
		size_t n = nhits - opts->offset;
		if (n > limit)
			n = limit;
		if (!(res->hits = calloc(n, sizeof *res->hits))) {
			rc = HX_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			struct group *gi = tr ? &g[opts->offset + i] : NULL;
			struct cand c = gi ? (struct cand){ gi->best.score, gi->shown.doc, 0 }
			                   : r.heap[opts->offset + i];
			res->nhits++; /* counted first, so an error frees what it holds */
			if ((rc = fill_hit(sr, r.q, &c, opts->offset + i + 1, !opts->no_snippets,
			                   &res->hits[i])))
				goto out;
			if (gi && (rc = also_in(gi, &res->hits[i])))
				goto out;
		}
	}
	if (r.all && (rc = hx_facets(sr, r.all, res)))
		goto out;
out:
	for (size_t i = 0; i < ng; i++)
		free(g[i].langs);
	free(g);
	run_free(&r);
	end(sr);
	if (rc) {
		hx_results_clear(res);
		if (err && errlen && !err[0])
			snprintf(err, errlen, "%s", hx_strerror(rc));
	}
	return rc;
}

void hx_searcher_typo_index(const hx_searcher *sr, size_t *words, size_t *bytes)
{
	hx_sugix_size(sr, words, bytes);
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
	hx_txn_abort(sr->s, txn);
	return rc;
}

static uint64_t dbi_bytes(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_stat st;
	if (mdb_stat(txn, dbi, &st))
		return 0;
	return (uint64_t)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
	       st.ms_psize;
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
		MDB_dbi d[] = { ix->meta, ix->docs, ix->ids,  ix->norms,
			        ix->post, ix->attr, ix->stem, ix->wstem };
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
	hx_txn_abort(s, txn);
	return rc ? hx_mdb_err(rc) : HX_OK;
}
