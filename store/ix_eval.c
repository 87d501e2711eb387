/*
 * ix_eval.c: evaluating a parsed query. Filters become CRoaring bitmaps
 * (from ix.attr); the text clauses are intersected document at a time in
 * docnum order (leapfrog, the rarest clause leading) and the best k kept
 * in a heap. Once the heap is full its lowest score is a threshold: a
 * stretch whose block bounds cannot beat it is skipped without decoding
 * or scoring (block-max), and phrases are checked only for documents that
 * would enter the heap. Facet counts walk the same attribute bitmaps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/search_int.h"

#define FACET_MAX 20

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
		roaring_bitmap_t *b =
		        roaring_bitmap_portable_deserialize_safe(v.mv_data, v.mv_size);
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
	(void)value;
	(void)len;
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

int hx_cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (worse(x, y))
		return 1;
	if (worse(y, x))
		return -1;
	return 0;
}

/* ---- evaluation --------------------------------------------------------------------- */

void hx_eval_free(struct eval *ev)
{
	for (int i = 0; i < ev->ncl; i++)
		hx_m_free(&ev->cl[i]);
	for (int i = 0; i < ev->nex; i++)
		hx_m_free(&ev->ex[i]);
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

int hx_eval_build(hx_searcher *sr, const hx_query *q, struct eval *ev)
{
	int err = 0, rc;
	ev->since1 = q->since_day1;
	ev->until1 = q->until_day1;
	/* Once a clause can match nothing, neither can the query: the rest
	 * is not built (a query with a typo, corrected next, is one). */
	for (size_t i = 0; i < q->nclauses && !ev->impossible; i++) {
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
		struct matcher *m = hx_m_clause(sr, c, &err);
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
		m->qc = (int)i;
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

/* Next docnum >= d in every clause and the filters; END when none. The
 * first clause (the rarest) goes to its next candidate; a word of the
 * others steps over one document that does not count at a time
 * (hx_m_step), so that the first can move it further: a common word's
 * form in another language ("an" of "aan" in Danish and German) would
 * otherwise be walked up to its next document of those languages that
 * has it, past the first clause's next candidates. */
static uint32_t align(struct eval *ev, uint32_t d)
{
	for (;;) {
		int moved = 0;
		for (int i = 0; i < ev->ncl; i++) {
			struct matcher *m = ev->cl[i];
			if (i == 0)
				hx_m_next(m, d);
			else
				hx_m_step(m, d);
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
		hx_sr_norm(sr, d, &nm);
		if (!nm.day1 || (ev->since1 && nm.day1 < ev->since1) ||
		    (ev->until1 && nm.day1 > ev->until1))
			return 0;
	}
	for (int i = 0; i < ev->nex; i++) {
		struct matcher *m = ev->ex[i];
		hx_m_next(m, d);
		if (m->doc == d) {
			double s;
			int rc = hx_m_verify(sr, m, &s);
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
int hx_eval_run(hx_searcher *sr, struct eval *ev, size_t k, struct cand *heap, size_t *nheap,
                roaring_bitmap_t *all, uint64_t *total)
{
	uint32_t d = 0;
	int rc, verify = 0;
	*nheap = 0;
	*total = 0;
	if (ev->impossible)
		return HX_OK;
	for (int i = 0; i < ev->ncl; i++)
		verify |= hx_m_needs_text(ev->cl[i]);
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
					bval[i] = hx_m_bound(sr, ev->cl[i], &bupto[i]);
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
			s += hx_m_score(sr, ev->cl[i]);
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
				rc = hx_m_verify(sr, ev->cl[i], &ks);
				s += ks;
			}
			if (rc < 0)
				return rc;
		}
		if (rc) {
			++*total;
			if (all)
				roaring_bitmap_add(all, d);
			if (k && (*nheap < k || s >= heap[0].score)) {
				uint32_t body = 0;
				for (int i = 0; i < ev->ncl; i++)
					if (ev->cl[i]->qc < 32 && hx_m_in_body(ev->cl[i], d))
						body |= 1u << ev->cl[i]->qc;
				heap_push(heap, nheap, k, (struct cand){ s, d, body });
			}
		}
		if (d == END - 1)
			break;
		d++;
	}
	for (int i = 0; i < ev->ncl; i++)
		if ((rc = hx_m_err(ev->cl[i])))
			return rc;
	qsort(heap, *nheap, sizeof *heap, hx_cand_cmp);
	return HX_OK;
}

/* Queries of filters and dates only: the most recently indexed first. */
int hx_eval_filters(hx_searcher *sr, struct eval *ev, size_t k, struct cand *heap, size_t *nheap,
                    roaring_bitmap_t *all, uint64_t *total)
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
			heap[(*nheap)++] = (struct cand){ 0, docs[i - 1], 0 };
	}
	*total = m;
	free(docs);
	if (b != ev->pos)
		roaring_bitmap_free(b);
	return rc;
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
	hx_facet *nf = hx_grow(fg->v, &w->cap, fg->n + 1, sizeof *nf);
	if (!nf)
		return HX_ENOMEM;
	fg->v = nf;
	if (!(fg->v[fg->n].value = strndup(value, len)))
		return HX_ENOMEM;
	fg->v[fg->n++].count = n;
	return HX_OK;
}

int hx_facets(hx_searcher *sr, const roaring_bitmap_t *all, hx_results *res)
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
