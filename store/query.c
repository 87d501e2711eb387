/*
 * query.c: parser of the search query language (see query.h). A small
 * hand-written scanner: the grammar is a flat list of items joined by
 * implicit AND or by OR, which no parser generator would make clearer.
 * Parentheses only group (see group()): they never change the flat list.
 * Every rejection names the offending piece of the query.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/query.h"
#include "proto/entry.h"
#include "store/tokenize.h"

static const char *const field_names[] = { "tag", "kind", "lang", "org", "country", "author" };

const char *hx_q_field_name(int f)
{
	return f >= 0 && f <= HX_QF_AUTHOR ? field_names[f] : "?";
}

int64_t hx_days_from_civil(int y, int m, int d)
{
	/* Howard Hinnant's days_from_civil. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static const char *clip(char out[48], const char *s, size_t n);

struct parser {
	const char *q;
	size_t len, pos;
	char *err;
	size_t errlen;
	hx_query *out;
	int failed;
	int depth; /* open groups: ')' ends a bare word only inside one */
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	if (!p->failed && p->err && p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	p->failed = 1;
	return HX_EINVAL;
}

static void text_free(hx_q_text *t)
{
	for (size_t i = 0; i < t->nwords; i++)
		free(t->words[i]);
	free(t->words);
}

void hx_query_free(hx_query **pq)
{
	hx_query *q = pq ? *pq : NULL;
	if (!q)
		return;
	for (size_t i = 0; i < q->nclauses; i++) {
		hx_q_clause *c = &q->clauses[i];
		for (size_t j = 0; j < c->ntext; j++)
			text_free(&c->text[j]);
		free(c->text);
		for (size_t j = 0; j < c->nfilters; j++)
			free(c->filters[j].value);
		free(c->filters);
	}
	free(q->clauses);
	free(q);
	*pq = NULL;
}

/* Tokenizes s[0..n) into words; *nw may be 0. */
static int tokenize(struct parser *p, const char *s, size_t n, char ***words, size_t *nw)
{
	hx_tokenizer t;
	hx_token k;
	char cb[48];
	*words = NULL;
	*nw = 0;
	hx_tok_init(&t, s, n);
	while (hx_tok_next(&t, &k)) {
		if (*nw == HX_QUERY_CLAUSES)
			return fail(p, "too many words in '%s' (at most %d)", clip(cb, s, n),
			            HX_QUERY_CLAUSES);
		char **nwds = realloc(*words, (*nw + 1) * sizeof **words);
		if (!nwds)
			return HX_ENOMEM;
		*words = nwds;
		if (!((*words)[*nw] = strndup(k.word, k.len)))
			return HX_ENOMEM;
		(*nw)++;
	}
	return HX_OK;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A piece of the query fit to quote in a one-line message: at most 40
 * bytes, cut at a character boundary, control characters shown as '?'. */
static const char *clip(char out[48], const char *s, size_t n)
{
	size_t o = 0;
	if (n > 40) {
		n = 40;
		while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		out[o++] = ((uint8_t)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out[o] = 0;
	return out;
}

/* One item of the query before it joins a clause. */
struct item {
	int negated, is_or, is_date;
	int is_open, is_close; /* "(" and ")" of a group */
	int is_filter;
	hx_q_text text;
	hx_q_filter filter;
	int empty; /* a bare word with nothing searchable in it, e.g. "&" */
};

static void item_free(struct item *it)
{
	text_free(&it->text);
	free(it->filter.value);
	memset(it, 0, sizeof *it);
}

/* Reads "..." starting at p->pos (on the quote); sets *s, *n to the inside. */
static int read_quoted(struct parser *p, const char **s, size_t *n)
{
	char cb[48];
	size_t start = ++p->pos;
	while (p->pos < p->len && p->q[p->pos] != '"')
		p->pos++;
	if (p->pos >= p->len)
		return fail(p, "unclosed quote: add a closing \" after '%s'",
		            clip(cb, p->q + start, p->len - start));
	*s = p->q + start;
	*n = p->pos - start;
	p->pos++;
	return HX_OK;
}

static int parse_date(struct parser *p, const char *name, const char *v, size_t n, uint32_t *day1)
{
	int y, m, d;
	char cb[48];
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (n != 10 || v[4] != '-' || v[7] != '-')
		goto bad;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9'))
			goto bad;
	y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
	m = (v[5] - '0') * 10 + (v[6] - '0');
	d = (v[8] - '0') * 10 + (v[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		goto bad;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		goto bad;
	*day1 = (uint32_t)(hx_days_from_civil(y, m, d) + 1);
	return HX_OK;
bad:
	return fail(p, "%s: wants a date YYYY-MM-DD (from 1970), not '%s'", name, clip(cb, v, n));
}

/* Reads one item (a word, "phrase", filter, OR) at p->pos. Returns 1 when
 * it read one, 0 at the end, negative on error. */
static int read_item(struct parser *p, struct item *it)
{
	char cb[48];
	memset(it, 0, sizeof *it);
	while (p->pos < p->len && is_space(p->q[p->pos]))
		p->pos++;
	if (p->pos >= p->len)
		return 0;
	size_t start = p->pos;
	if (p->q[p->pos] == '-') {
		p->pos++;
		if (p->pos >= p->len || is_space(p->q[p->pos]))
			return fail(p, "a lone '-': write -word to exclude a word");
		if (p->q[p->pos] == '-')
			return fail(p, "'--' in the query: write -word to exclude a word");
		it->negated = 1;
	}
	if (p->q[p->pos] == '(') {
		if (it->negated)
			return fail(p,
			            "-( ): a group cannot be excluded; exclude each word (-a -b)");
		p->pos++;
		it->is_open = 1;
		return 1;
	}
	if (p->q[p->pos] == ')') {
		if (it->negated)
			return fail(p, "a lone '-' before ')': write -word to exclude a word");
		p->pos++;
		it->is_close = 1;
		return 1;
	}
	/* set by read_quoted on success; initialised because GCC -O3 cannot
	 * see through the variadic fail() that errors never reach the use */
	const char *s = NULL;
	size_t n = 0;
	int rc;
	if (p->q[p->pos] == '"') {
		if ((rc = read_quoted(p, &s, &n)))
			return rc;
		it->text.kind = HX_Q_PHRASE;
		it->text.src_start = start;
		it->text.src_end = p->pos;
		if ((rc = tokenize(p, s, n, &it->text.words, &it->text.nwords)))
			return rc;
		if (!it->text.nwords)
			return fail(p, "empty phrase \"%s\": put words between the quotes",
			            clip(cb, s, n));
		return 1;
	}
	/* A bare word runs to white space or a quote (or a ')' in a group). */
	size_t ws = p->pos;
	while (p->pos < p->len && !is_space(p->q[p->pos]) && p->q[p->pos] != '"' &&
	       !(p->depth && p->q[p->pos] == ')'))
		p->pos++;
	s = p->q + ws;
	n = p->pos - ws;
	if (n == 2 && !memcmp(s, "OR", 2) && !it->negated) {
		it->is_or = 1;
		return 1;
	}
	/* name:value is a filter when name is letters and value does not
	 * start with ':' (so "std::string" stays text). */
	size_t nl = 0;
	while (nl < n && ((s[nl] >= 'a' && s[nl] <= 'z') || (s[nl] >= 'A' && s[nl] <= 'Z')))
		nl++;
	if (nl > 0 && nl < n && s[nl] == ':' && (nl + 1 == n || s[nl + 1] != ':')) {
		char name[16];
		snprintf(name, sizeof name, "%.*s", (int)(nl < 15 ? nl : 15), s);
		for (char *c = name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c += 32;
		const char *v = s + nl + 1;
		size_t vn = n - nl - 1;
		if (vn == 0 && p->pos < p->len && p->q[p->pos] == '"') {
			if ((rc = read_quoted(p, &v, &vn)))
				return rc;
		}
		if (!strcmp(name, "since") || !strcmp(name, "until")) {
			uint32_t day1 = 0;
			if (it->negated)
				return fail(p, "-%s: cannot be excluded; use %s:", name,
				            name[0] == 's' ? "until" : "since");
			if ((rc = parse_date(p, name, v, vn, &day1)))
				return rc;
			it->is_date = 1;
			it->filter.field = name[0] == 's' ? 0 : 1;
			it->filter.prefix = (int)day1; /* carried here, see below */
			return 1;
		}
		int f = -1;
		for (int i = 0; i <= HX_QF_AUTHOR; i++)
			if (!strcmp(name, field_names[i]))
				f = i;
		if (f < 0)
			return fail(p,
			            "unknown filter '%s:' (filters: tag: kind: lang: org: country: "
			            "author: since: until:; quote text with a colon)",
			            clip(cb, s, nl));
		if (vn > 0 && v[vn - 1] == '*') {
			it->filter.prefix = 1;
			vn--;
		}
		if (vn == 0)
			return fail(p, "%s: needs a value, e.g. %s:%s", name, name,
			            f == HX_QF_LANG     ? "de"
			            : f == HX_QF_AUTHOR ? "1f2e3d..."
			                                : "toolkit");
		if (vn > HX_QUERY_MAX)
			return fail(p, "%s: value too long", name);
		it->is_filter = 1;
		it->filter.field = f;
		if (f == HX_QF_AUTHOR) {
			if (vn > 64)
				return fail(p, "author: wants at most 64 hex digits");
			char *h = malloc(vn + 1);
			if (!h)
				return HX_ENOMEM;
			for (size_t i = 0; i < vn; i++) {
				char c = v[i];
				if (c >= 'A' && c <= 'F')
					c += 32;
				if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
					free(h);
					return fail(p, "author: wants a hex key, not '%s'",
					            clip(cb, v, vn));
				}
				h[i] = c;
			}
			h[vn] = 0;
			if (vn < 64)
				it->filter.prefix = 1;
			it->filter.value = h;
		} else {
			char buf[512];
			hx_fold_str(buf, sizeof buf, v, vn);
			if (!*buf)
				return fail(p, "%s: needs a value", name);
			if (!(it->filter.value = strdup(buf)))
				return HX_ENOMEM;
		}
		return 1;
	}
	it->text.src_start = it->negated ? ws - 1 : ws;
	it->text.src_end = p->pos;
	if (n > 0 && s[n - 1] == '*') {
		while (n > 0 && s[n - 1] == '*')
			n--;
		if ((rc = tokenize(p, s, n, &it->text.words, &it->text.nwords)))
			return rc;
		if (it->text.nwords != 1)
			return fail(p, "'%s*': a prefix search works on one word", clip(cb, s, n));
		if (strlen(it->text.words[0]) < 2)
			return fail(p, "'%s*': prefix too short (at least 2 letters)",
			            clip(cb, s, n));
		it->text.kind = HX_Q_PREFIX;
		return 1;
	}
	if ((rc = tokenize(p, s, n, &it->text.words, &it->text.nwords)))
		return rc;
	if (it->text.nwords == 0)
		it->empty = 1;
	/* "louna-eesti" is one word typed, two tokens: a phrase. */
	it->text.kind = it->text.nwords > 1 ? HX_Q_PHRASE : HX_Q_WORD;
	return 1;
}

static int add_clause(struct parser *p, hx_q_clause *c)
{
	hx_query *q = p->out;
	if (q->nclauses == HX_QUERY_CLAUSES)
		return fail(p, "too many terms in the query (at most %d)", HX_QUERY_CLAUSES);
	hx_q_clause *nc = realloc(q->clauses, (q->nclauses + 1) * sizeof *nc);
	if (!nc)
		return HX_ENOMEM;
	q->clauses = nc;
	q->clauses[q->nclauses++] = *c;
	memset(c, 0, sizeof *c);
	return HX_OK;
}

/* Moves item into clause c as one more alternative. */
static int clause_take(struct parser *p, hx_q_clause *c, struct item *it)
{
	if (c->ntext + c->nfilters == HX_QUERY_CLAUSES)
		return fail(p, "too many alternatives joined by OR (at most %d)", HX_QUERY_CLAUSES);
	if (it->is_filter) {
		hx_q_filter *nf = realloc(c->filters, (c->nfilters + 1) * sizeof *nf);
		if (!nf)
			return HX_ENOMEM;
		c->filters = nf;
		c->filters[c->nfilters++] = it->filter;
		it->filter.value = NULL;
	} else {
		hx_q_text *nt = realloc(c->text, (c->ntext + 1) * sizeof *nt);
		if (!nt)
			return HX_ENOMEM;
		c->text = nt;
		c->text[c->ntext++] = it->text;
		memset(&it->text, 0, sizeof it->text);
	}
	c->negated = it->negated;
	return HX_OK;
}

static void clause_free(hx_q_clause *c)
{
	for (size_t j = 0; j < c->ntext; j++)
		text_free(&c->text[j]);
	free(c->text);
	for (size_t j = 0; j < c->nfilters; j++)
		free(c->filters[j].value);
	free(c->filters);
	memset(c, 0, sizeof *c);
}

/* Parentheses group, and since words are ANDed and OR binds tighter they
 * change nothing, except where a group of several clauses meets an OR:
 * "(a b) OR c" cannot be said in a flat list of clauses, so it is an
 * error, as are an empty group "()" and unbalanced parentheses. */
#define GROUP_DEPTH 8

struct groups {
	struct {
		size_t items, starts; /* counters when the group opened */
		int or_before;        /* an OR right before its "(" */
	} at[GROUP_DEPTH];
	int n;
	size_t items, starts; /* items taken, clauses started */
	int multi;            /* a group of several clauses just closed */
};

static int group(struct parser *p, struct groups *g, const struct item *it, int pending_or)
{
	if (it->is_open) {
		if (g->n == GROUP_DEPTH)
			return fail(p, "parentheses nested too deep (at most %d)", GROUP_DEPTH);
		g->at[g->n].items = g->items;
		g->at[g->n].starts = g->starts;
		g->at[g->n].or_before = pending_or;
		g->n++;
		p->depth++;
		g->multi = 0;
		return HX_OK;
	}
	if (!g->n)
		return fail(p, "unbalanced ')': no '(' before it");
	g->n--;
	p->depth--;
	if (g->items == g->at[g->n].items)
		return fail(p, "empty group '()': put words or filters inside, or leave it out");
	if (pending_or)
		return fail(p, "OR needs a word on each side");
	size_t clauses = g->starts - g->at[g->n].starts + (size_t)g->at[g->n].or_before;
	if (clauses > 1 && g->at[g->n].or_before)
		return fail(p, "OR joins single words or filters: a OR (b c) has no meaning here; "
		               "write a OR b");
	g->multi = clauses > 1;
	return HX_OK;
}

int hx_query_parse(hx_query **out, const char *q, char *err, size_t errlen)
{
	struct parser p = { q, q ? strlen(q) : 0, 0, err, errlen, NULL, 0, 0 };
	struct item it;
	hx_q_clause cur = { 0 };
	struct groups g = { 0 };
	int rc = HX_OK, have_cur = 0, pending_or = 0, positive = 0, r;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!q)
		return fail(&p, "empty query");
	if (p.len > HX_QUERY_MAX)
		return fail(&p, "query too long (%zu bytes, at most %d)", p.len, HX_QUERY_MAX);
	if (!hx_utf8_valid(q, p.len))
		return fail(&p, "query is not valid UTF-8");
	if (!(p.out = calloc(1, sizeof *p.out)))
		return HX_ENOMEM;

	while ((r = read_item(&p, &it)) == 1) {
		if (it.is_open || it.is_close) {
			if ((rc = group(&p, &g, &it, pending_or)))
				break;
			continue;
		}
		if (it.is_or) {
			if (g.multi || (g.n && g.items == g.at[g.n - 1].items))
				rc = fail(&p, "OR joins single words or filters: (a b) OR c and "
				              "(OR a) have no meaning here; write a OR c");
			else if (!have_cur)
				rc = fail(&p, "OR needs a word on each side");
			else if (pending_or)
				rc = fail(&p, "OR OR: one OR between two words");
			pending_or = 1;
			item_free(&it);
			if (rc)
				break;
			continue;
		}
		g.multi = 0;
		if (it.is_date) {
			if (pending_or) {
				rc = fail(&p, "since:/until: cannot be joined with OR");
				break;
			}
			uint32_t day1 = (uint32_t)it.filter.prefix;
			if (it.filter.field == 0) {
				if (day1 > p.out->since_day1)
					p.out->since_day1 = day1;
			} else if (!p.out->until_day1 || day1 < p.out->until_day1) {
				p.out->until_day1 = day1;
			}
			positive = 1;
			g.items++;
			item_free(&it);
			continue;
		}
		if (it.empty) {
			/* Nothing searchable in this word ("&", "--"): skip it, but not
			 * inside an OR, where it would change the meaning. */
			int was_or = pending_or;
			item_free(&it);
			if (was_or) {
				rc = fail(&p, "OR needs a word on each side");
				break;
			}
			continue;
		}
		g.items++;
		if (pending_or) {
			int cur_filter = cur.nfilters > 0;
			if (it.negated || cur.negated) {
				rc = fail(&p, "'-' cannot be combined with OR");
			} else if (cur_filter != it.is_filter) {
				rc = fail(
				        &p,
				        "OR joins words with words or filters with filters, not both");
			} else {
				rc = clause_take(&p, &cur, &it);
			}
			pending_or = 0;
			item_free(&it);
			if (rc)
				break;
			continue;
		}
		if (have_cur) {
			if (!cur.negated)
				positive = 1;
			if ((rc = add_clause(&p, &cur)))
				break;
		}
		rc = clause_take(&p, &cur, &it);
		item_free(&it);
		have_cur = 1;
		g.starts++;
		if (rc)
			break;
	}
	item_free(&it); /* what a failed step left in it */
	if (r < 0)
		rc = r;
	if (!rc && pending_or)
		rc = fail(&p, "OR needs a word on each side");
	if (!rc && g.n)
		rc = fail(&p, "unclosed '(': add a ')'");
	if (!rc && have_cur) {
		if (!cur.negated)
			positive = 1;
		rc = add_clause(&p, &cur);
	}
	clause_free(&cur);
	if (!rc && !positive)
		rc = p.len && p.out->nclauses
		             ? fail(&p, "nothing to search for: add a word or a filter, "
		                        "not only exclusions")
		             : fail(&p, "empty query: nothing searchable in it");
	if (rc) {
		if (rc == HX_EINVAL && !p.failed)
			fail(&p, "bad query");
		if (rc == HX_ENOMEM)
			fail(&p, "out of memory");
		hx_query_free(&p.out);
		return rc;
	}
	*out = p.out;
	return HX_OK;
}
