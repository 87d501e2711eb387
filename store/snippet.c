/*
 * snippet.c: the one-line excerpt shown under a hit: the stretch of the
 * body with the densest run of the query's words (exact, stemmed in the
 * document's language, or by prefix), Markdown markup left out by a small
 * stripper, white space collapsed, and the byte ranges of the matched
 * words for highlighting. A hit whose body lacks the words takes its
 * snippet from the page of an attachment that has the most of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/search_int.h"
#include "store/ftext_int.h"

#define SNIPPET_TOKENS 28
#define SNIPPET_BYTES 220

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
	return c > ' ' && c < 0x7f &&
	       !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
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

/* A one-line excerpt of body (blen bytes; Markdown when markdown is set)
 * around the densest run of matched words (their stems in w already). */
static int make_snippet(hx_searcher *sr, int lang, const char *body, size_t blen, int markdown,
                        const struct hlword *w, size_t nw, hx_hit *h)
{
	struct tk {
		size_t start, end;
		int match;
	} *t = NULL;
	size_t n = 0, cap = 0;
	hx_tokenizer tz;
	hx_token k;
	int rc = HX_OK;
	hx_tok_init(&tz, body, blen);
	while (hx_tok_next(&tz, &k)) {
		struct tk *nt = hx_grow(t, &cap, n + 1, sizeof *nt);
		if (!nt) {
			rc = HX_ENOMEM;
			goto out;
		}
		t = nt;
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
	size_t bend = blen;
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
	if (markdown)
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
		if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ' || ch == '\f' ||
		    ch == '\v') {
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
	free(h->snippet);
	free(h->hl);
	h->snippet = out;
	h->hl = hl;
	h->nhl = nhl;
out:
	free(t);
	return rc;
}

/* Matched words in text (len bytes). */
static size_t count_matches(hx_searcher *sr, int lang, const char *text, size_t len,
                            const struct hlword *w, size_t nw)
{
	hx_tokenizer tz;
	hx_token k;
	size_t c = 0;
	hx_tok_init(&tz, text, len);
	while (hx_tok_next(&tz, &k))
		c += (size_t)word_matches(sr, lang, w, nw, k.word, k.len);
	return c;
}

/* A hit whose body has none of the words: the attachment (name and page)
 * where they are, with the snippet from the page with the most of them
 * (the ftext rows, store/ftext_int.h), or only the name when that is what
 * matched. */
static int file_snippet(hx_searcher *sr, int lang, const struct hlword *w, size_t nw, hx_hit *h)
{
	hx_entry e;
	int rc = hx_zent_decode(&sr->s->z, sr->txn, h->id, &e);
	if (rc)
		return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
	const char *best = NULL;
	size_t bestc = 0, bestlen = 0, named = SIZE_MAX;
	uint32_t page = 0;
	for (size_t i = 0; i < e.nattach; i++) {
		const hx_attach *a = &e.attach[i];
		uint32_t n;
		if (named == SIZE_MAX && count_matches(sr, lang, a->name, strlen(a->name), w, nw))
			named = i;
		MDB_val rk = { HX_ID_LEN, (void *)a->hash }, rv;
		if (!sr->ix->has_ftext || mdb_get(sr->txn, sr->ix->ftext, &rk, &rv) ||
		    hx_ft_row_check(rv.mv_data, rv.mv_size, &n) ||
		    ((uint8_t *)rv.mv_data)[1] != ST_OK)
			continue;
		const uint8_t *row = rv.mv_data;
		for (size_t at = ROW_HEAD; at < rv.mv_size;) {
			uint32_t pl = hx_be32_get(row + at + 4);
			const char *txt = (const char *)row + at + 8;
			size_t c = count_matches(sr, lang, txt, pl, w, nw);
			if (c > bestc) {
				bestc = c;
				best = txt;
				bestlen = pl;
				page = hx_be32_get(row + at);
				named = i;
			}
			at += 8 + pl;
		}
	}
	rc = HX_OK;
	if (named != SIZE_MAX) {
		if (!(h->file = strdup(e.attach[named].name)))
			rc = HX_ENOMEM;
		h->page = best ? page : 0;
	}
	if (!rc && best)
		rc = make_snippet(sr, lang, best, bestlen, 0, w, nw, h);
	hx_entry_clear(&e);
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

int hx_snippet(hx_searcher *sr, const hx_query *q, const hx_ix_view *e, hx_hit *h)
{
	struct hlword w[HX_QUERY_CLAUSES * 4];
	size_t nw = hl_words(q, w, sizeof w / sizeof w[0]);
	char lcode[HX_LANG_MAX + 1];
	snprintf(lcode, sizeof lcode, "%.*s",
	         (int)(e->langlen < HX_LANG_MAX ? e->langlen : HX_LANG_MAX), e->lang);
	int lang = hx_stem_lang(lcode), rc = HX_OK;
	for (size_t i = 0; i < nw && !rc; i++) {
		w[i].stem = NULL;
		if (w[i].kind == HX_Q_WORD && lang >= 0) {
			const char *s = hx_stem(sr->stem, lang, w[i].word, strlen(w[i].word),
			                        &w[i].stemlen);
			if (s && (w[i].stem = strndup(s, w[i].stemlen)) == NULL)
				rc = HX_ENOMEM;
		}
	}
	if (!rc)
		rc = make_snippet(sr, lang, e->body, e->bodylen, 1, w, nw, h);
	if (!rc && !h->nhl && nw)
		rc = file_snippet(sr, lang, w, nw, h);
	for (size_t i = 0; i < nw; i++)
		free((char *)w[i].stem);
	return rc;
}
