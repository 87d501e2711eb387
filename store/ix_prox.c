/*
 * ix_prox.c: the proximity boost. The index keeps no word positions, so
 * a query of two or more words re-ranks its best candidates by reading
 * them: the title (from the document's ix.docs record) and, when the
 * postings say that two query words or more are in the body, the first
 * PROX_BODY words of the body (from the entry) are scanned, each word
 * that is a query word (its exact form, or its stem in the document's
 * language) is marked, and the shortest stretch of one field holding the
 * most distinct query words gives a factor
 *   1 + HX_PROX_W * (m - 1) / (nq - 1) * m / span
 * (m distinct words of nq within span words), so all the words side by
 * side count HX_PROX_W more than the same words scattered; and a title
 * that holds every query word in the form typed (a known item: the user
 * types words of the title they remember) multiplies it by
 * 1 + HX_TITLE_EXACT. Only the best HX_PROX_DEPTH candidates are read: the
 * cost is fixed per query.
 */
#include <stdlib.h>
#include <string.h>
#include "store/fold.h"
#include "store/search_int.h"

#define PROX_BODY 200 /* body words read per candidate */
#define PROX_MAXQ 8   /* query words looked at */

struct qword {
	const char *w;
	size_t len;
	uint32_t clauses; /* bit i: query clause i is this word */
};

/* The query's positive single words (at most PROX_MAXQ, distinct). */
static size_t prox_words(const hx_query *q, struct qword *out)
{
	size_t n = 0;
	for (size_t i = 0; i < q->nclauses; i++) {
		const hx_q_clause *c = &q->clauses[i];
		if (c->negated || c->ntext != 1 || c->text[0].kind != HX_Q_WORD)
			continue;
		const char *w = c->text[0].words[0];
		size_t l = strlen(w), j;
		for (j = 0; j < n && !(out[j].len == l && !memcmp(out[j].w, w, l)); j++)
			;
		if (j == n && n < PROX_MAXQ)
			out[n++] = (struct qword){ w, l, 0 };
		if (j < n && i < 32)
			out[j].clauses |= 1u << i;
		else if (j < n)
			out[j].clauses = UINT32_MAX; /* a clause past the mask: maybe anywhere */
	}
	return n;
}

/* The query words' stems in one language, copied: a later hx_stem may
 * move the strings of the stem cache. The candidates of a search share a
 * few languages, so each language's are made once per re-rank. */
#define PROX_LANGS 4
struct qstems {
	int lang;
	int ok[PROX_MAXQ]; /* 0: no stem (out of memory) */
	size_t len[PROX_MAXQ];
	char s[PROX_MAXQ][HX_TOKEN_MAX + 8];
};

static const struct qstems *qstems_of(hx_searcher *sr, int lang, const struct qword *qw, size_t nq,
                                      struct qstems *memo, size_t *nmemo)
{
	for (size_t j = 0; j < *nmemo && j < PROX_LANGS; j++)
		if (memo[j].lang == lang)
			return &memo[j];
	struct qstems *m = &memo[*nmemo % PROX_LANGS];
	++*nmemo;
	m->lang = lang;
	for (size_t i = 0; i < nq; i++) {
		size_t sl;
		const char *st = hx_stem(sr->stem, lang, qw[i].w, qw[i].len, &sl);
		m->ok[i] = st && sl <= HX_TOKEN_MAX;
		if (m->ok[i]) {
			memcpy(m->s[i], st, sl);
			m->len[i] = sl;
		}
	}
	return m;
}

/* Which query word the token is (-1: none): exact (*exact set), or the
 * same stem in language lang (qs: the query words' stems there; checked
 * only when the first two letters agree, which the forms of a word nearly
 * always do). */
static int which(hx_searcher *sr, int lang, const struct qword *qw, size_t nq,
                 const struct qstems *qs, const char *t, size_t tl, int *exact)
{
	*exact = 0;
	for (size_t i = 0; i < nq; i++)
		if (qw[i].len == tl && !memcmp(qw[i].w, t, tl)) {
			*exact = 1;
			return (int)i;
		}
	if (lang < 0 || tl < 2)
		return -1;
	for (size_t i = 0; i < nq; i++) {
		/* two byte compares, not a call: most tokens stop here (a query
		 * word of one letter has its NUL second, which no token has) */
		if (qw[i].w[0] != t[0] || qw[i].w[1] != t[1] || !qs->ok[i])
			continue;
		size_t sl;
		const char *s = hx_stem(sr->stem, lang, t, tl, &sl);
		if (s && sl == qs->len[i] && !memcmp(s, qs->s[i], sl))
			return (int)i;
	}
	return -1;
}

/* ---- the field scanner ---------------------------------------------------
 * hx_tok_next folds every word into its buffer; the re-rank needs only the
 * words whose first folded byte is some query word's (which() matches no
 * other) and the positions of all. A word of ASCII letters and digits
 * followed by an ASCII byte or the end is, for the tokenizer, exactly its
 * bytes folded (ASCII_FOLD, as tokenize.c's fast path), cut at
 * HX_TOKEN_MAX; such a word is found here from a table of byte classes
 * and folded only when its first byte is wanted. A word that starts with
 * an ASCII letter or digit and is not wanted is only counted, its end
 * found by fold.h's classes as the tokenizer finds it. Every other word
 * (a wanted one with a byte over 0x7f, or one that starts with such a
 * byte) goes to hx_tok_next from where the scan stands, so the tokens and
 * positions are the tokenizer's (test_search's prox_scan checks them
 * against it). */

enum { PS_SEP = 0, PS_WORD = 1, PS_HIGH = 2 };
#define PS_C(b)                                                                        \
	((b) >= 0x80                                                         ? PS_HIGH \
	 : (unsigned)(((b) | 0x20) - 'a') < 26 || (unsigned)((b) - '0') < 10 ? PS_WORD \
	                                                                     : PS_SEP)
#define PS_R4(b) PS_C(b), PS_C((b) + 1), PS_C((b) + 2), PS_C((b) + 3)
#define PS_R16(b) PS_R4(b), PS_R4((b) + 4), PS_R4((b) + 8), PS_R4((b) + 12)
#define PS_R64(b) PS_R16(b), PS_R16((b) + 16), PS_R16((b) + 32), PS_R16((b) + 48)
static const uint8_t ps_class[256] = { PS_R64(0), PS_R64(64), PS_R64(128), PS_R64(192) };
/* an ASCII word byte folded: letters lowercased, digits kept */
#define ASCII_FOLD(b) ((char)((b) >= 'A' && (b) <= 'Z' ? (b) | 0x20 : (b)))

void hx_pscan_init(hx_pscan *p, const char *s, size_t len, const uint64_t want[4], uint32_t limit)
{
	hx_tok_init(&p->t, s, len);
	memcpy(p->want, want, sizeof p->want);
	p->limit = limit;
	p->stop = len;
}

int hx_pscan_next(hx_pscan *p, hx_token *k)
{
	hx_tokenizer *t = &p->t;
	const uint8_t *s = t->s;
	size_t len = t->len, off = t->off;
	for (;;) {
		while (off < len && ps_class[s[off]] == PS_SEP)
			off++;
		if (off >= len || t->pos >= p->limit) {
			p->stop = off;
			break;
		}
		size_t st = off;
		if (ps_class[s[off]] == PS_WORD) {
			uint8_t f = (uint8_t)ASCII_FOLD(s[st]);
			while (off < len && ps_class[s[off]] == PS_WORD)
				off++;
			if (!(p->want[f >> 6] >> (f & 63) & 1)) {
				/* not wanted: a word all the same (its first byte folds
				 * to one), which goes on as the tokenizer's does, over
				 * letters, marks and digits of any script */
				size_t cl;
				int32_t c;
				while (off < len && s[off] >= 0x80 &&
				       (c = next_char(s, len, off, &cl)) >= 0 &&
				       char_class(c) == CH_WORD) {
					off += cl;
					while (off < len && ps_class[s[off]] == PS_WORD)
						off++;
				}
				t->pos++;
				continue;
			}
			if (off >= len || ps_class[s[off]] != PS_HIGH) {
				uint32_t pos = t->pos++;
				size_t n = off - st < HX_TOKEN_MAX ? off - st : HX_TOKEN_MAX;
				for (size_t i = 0; i < n; i++)
					t->buf[i] = ASCII_FOLD(s[st + i]);
				t->buf[n] = 0;
				t->off = off;
				*k = (hx_token){ t->buf, n, st, off, pos };
				return 1;
			}
		}
		/* a word with other bytes, or one after them: the tokenizer's */
		t->off = st;
		if (!hx_tok_next(t, k))
			return 0;
		off = t->off;
		if (k->pos >= p->limit) {
			p->stop = k->start;
			break;
		}
		uint8_t f = (uint8_t)k->word[0];
		if (p->want[f >> 6] >> (f & 63) & 1)
			return 1;
	}
	t->off = len;
	return 0;
}

/* The best (m, span) over the marked positions of one field, kept as they
 * come: the most distinct words, then the shortest stretch (a sliding
 * window: lo moves past words the stretch holds twice). */
struct window {
	int cnt[PROX_MAXQ];
	int id[PROX_BODY];
	uint32_t pos[PROX_BODY];
	size_t n, lo, distinct;
};

static void window_add(struct window *w, int id, uint32_t pos, size_t *bm, uint32_t *bspan)
{
	size_t hi = w->n++;
	w->id[hi] = id;
	w->pos[hi] = pos;
	if (!w->cnt[id]++)
		w->distinct++;
	while (w->lo < hi && w->cnt[w->id[w->lo]] > 1)
		w->cnt[w->id[w->lo++]]--;
	uint32_t span = pos - w->pos[w->lo] + 1;
	if (w->distinct > *bm || (w->distinct == *bm && span < *bspan)) {
		*bm = w->distinct;
		*bspan = span;
	}
}

/* Marks the query words of one field's first PROX_BODY words in w (the
 * best stretch into *bm, *bspan; bit i of *exact: query word i as typed);
 * the body stops at all the words side by side. Returns where the words
 * it used end: the text is not needed past that (plus a character the
 * tokenizer looks at after a word). */
static size_t field_scan(hx_searcher *sr, int lang, const struct qword *qw, size_t nq,
                         const struct qstems *qs, const uint64_t want[4], const char *text,
                         size_t len, int body, size_t *bm, uint32_t *bspan, unsigned *exact)
{
	struct window win;
	hx_pscan ps;
	hx_token k;
	memset(win.cnt, 0, sizeof win.cnt);
	win.n = win.lo = win.distinct = 0;
	hx_pscan_init(&ps, text, len, want, PROX_BODY);
	while (win.n < PROX_BODY && hx_pscan_next(&ps, &k)) {
		int ex, w = which(sr, lang, qw, nq, qs, k.word, k.len, &ex);
		if (w < 0)
			continue;
		window_add(&win, w, k.pos, bm, bspan);
		if (!body && ex)
			*exact |= 1u << w;
		/* the body (not the title: its words as typed still count)
		 * stops at all the words side by side: nothing beats that */
		if ((body && *bm == nq && *bspan == nq) || win.n == PROX_BODY)
			return k.end;
	}
	return ps.stop;
}

/* The entry's first bytes read for a body (hx_sr_head): most entries are
 * shorter and are read whole; the fields before the body take at most
 * about 870 bytes (FORMAT.md §1), PROX_BODY words fit in the rest but for
 * long words, and then 8 times as many are read, and so on. */
#define PROX_HEAD 4096
/* Bytes after a word that the tokenizer may look at to end it (a UTF-8
 * character), with room to spare. */
#define PROX_AHEAD 8

/* The proximity factor of one document. body: the clauses that may match
 * in its body (struct cand). */
static int doc_factor(hx_searcher *sr, uint32_t doc, uint32_t body, const struct qword *qw,
                      size_t nq, const uint64_t want[4], struct qstems *memo, size_t *nmemo,
                      double *factor)
{
	hx_ix_hit h;
	hx_ix_norm nm;
	int rc = hx_sr_hit(sr, doc, &h);
	*factor = 1.0;
	if (rc || (rc = hx_sr_norm(sr, doc, &nm)))
		return rc;
	const struct qstems *qs = nm.lang >= 0 ? qstems_of(sr, nm.lang, qw, nq, memo, nmemo) : NULL;
	size_t bm = 0, inbody = 0;
	uint32_t bspan = UINT32_MAX;
	unsigned exact = 0; /* bit i: query word i is in the title as typed */
	/* the title is in the index's record */
	field_scan(sr, nm.lang, qw, nq, qs, want, h.title, h.titlelen, 0, &bm, &bspan, &exact);
	/* The body is read only when it can do better than the title: not when
	 * the title has all the words side by side, nor when the postings say
	 * that fewer than two query words are in the body (its best stretch
	 * then holds one word at most: never more than the title's when that
	 * has two, no boost at all when not). It is only in the entry, and of
	 * a long entry only the start is decompressed: the scan of a body cut
	 * short counts when it ended before the cut (the words are those of
	 * the whole body), else it is made again over more. */
	for (size_t i = 0; i < nq; i++)
		inbody += (qw[i].clauses & body) != 0;
	size_t tm = bm;
	uint32_t tspan = bspan;
	for (size_t head = PROX_HEAD; inbody >= 2 && !(tm == nq && tspan == nq); head *= 8) {
		hx_ix_view v;
		int cut;
		if ((rc = hx_sr_head(sr, doc, head, &v, &cut)))
			return rc;
		bm = tm;
		bspan = tspan;
		size_t end = field_scan(sr, nm.lang, qw, nq, qs, want, v.body, v.bodylen, 1, &bm,
		                        &bspan, &exact);
		if (!cut || end + PROX_AHEAD <= v.bodylen)
			break;
	}
	if (bm >= 2)
		*factor = 1.0 + sr->rk.prox * (double)(bm - 1) / (double)(nq - 1) * (double)bm /
		                        (double)bspan;
	if (exact == (1u << nq) - 1)
		*factor *= 1.0 + sr->rk.title_exact;
	return HX_OK;
}

int hx_prox_rerank(hx_searcher *sr, const hx_query *q, struct cand *heap, size_t n)
{
	struct qword qw[PROX_MAXQ];
	size_t nq = prox_words(q, qw);
	if (nq < 2 || n < 2 || (sr->rk.prox == 0 && sr->rk.title_exact == 0))
		return HX_OK;
	if (n > HX_PROX_DEPTH)
		n = HX_PROX_DEPTH;
	struct qstems memo[PROX_LANGS];
	size_t nmemo = 0;
	uint64_t want[4] = { 0, 0, 0, 0 }; /* the query words' first bytes */
	for (size_t i = 0; i < nq; i++)
		want[(uint8_t)qw[i].w[0] >> 6] |= 1ull << ((uint8_t)qw[i].w[0] & 63);
	for (size_t i = 0; i < n; i++) {
		double f;
		int rc = doc_factor(sr, heap[i].doc, heap[i].body, qw, nq, want, memo, &nmemo, &f);
		if (rc)
			return rc;
		heap[i].score *= f;
	}
	qsort(heap, n, sizeof *heap, hx_cand_cmp);
	return HX_OK;
}
