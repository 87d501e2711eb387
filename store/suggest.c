/*
 * suggest.c: did you mean. For each query word without postings, the
 * indexed words nearest to it (optimal string alignment distance, ties by
 * document frequency), put back into the query text as whole corrected
 * queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/search_int.h"

#define SUGGEST_MAX 3

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
int hx_suggest(hx_searcher *sr, const char *qtext, const hx_query *q, hx_results *res)
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
			struct matcher *m = hx_m_word(sr, t->words[0], 0, &err);
			if (err)
				return err;
			if (m) {
				hx_m_free(&m);
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

