/*
 * search.c: the searcher and the search entry point. hx_search parses the
 * query (query.c), evaluates it in one read transaction (ix_eval.c over
 * the matchers of ix_match.c), fills the hits with their snippets
 * (snippet.c), counts facets and, when nothing matched, suggests corrected
 * queries (suggest.c). Also the docnum of an id and the index's size, for
 * tests and benchmarks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/search_int.h"

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

void hx_searcher_free(hx_searcher **psr)
{
	hx_searcher *sr = psr ? *psr : NULL;
	if (!sr)
		return;
	hx_stemmers_free(&sr->stem);
	hx_doctext_free(&sr->dtx);
	free(sr);
	*psr = NULL;
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
	int rc = hx_sr_doc(sr, c->doc, &e, &id);
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
	if (snippets)
		rc = hx_snippet(sr, q, &e, h);
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
			snprintf(err, errlen, "the limit and the offset of a search go up to 100000 each");
		return HX_EINVAL;
	}
	size_t k = opts->offset + limit;
	if (sr->ix->stale) {
		if (err && errlen)
			snprintf(err, errlen, "the search index needs a rebuild");
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
	if ((rc = hx_eval_build(sr, q, &ev)))
		goto out;
	if (ev.ncl)
		rc = hx_eval_run(sr, &ev, k, heap, &nheap, all, &total);
	else
		rc = hx_eval_filters(sr, &ev, k, heap, &nheap, all, &total);
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
	if (all && (rc = hx_facets(sr, all, res)))
		goto out;
	if (!nheap && !total && !opts->no_suggest)
		rc = hx_suggest(sr, qtext, q, res);
out:
	hx_eval_free(&ev);
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

