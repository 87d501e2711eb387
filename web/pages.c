/*
 * pages.c: the web app's library pages: Search (the whole query language,
 * highlighted snippets, facets to click, pages, did-you-mean), Document
 * (rendered Markdown, metadata, the author's profile, history and a diff of
 * any two versions), Publish/Edit (a form with preview; saving signs a new
 * version with this partner's key) and Delete (after a confirmation page).
 * Partner content is escaped everywhere; bodies go through cmark's safe mode.
 */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "web/web_int.h"
#include "node/state.h"
#include "proto/member.h"

#define PAGE_SIZE 10
#define PARTNER_SCAN 1000 /* hits looked at for the partner facet */

static const char *const facet_labels[][2] = {
	{ "kind", "Kind" }, { "tag", "Tag" }, { "lang", "Language" }, { "country", "Country" },
};

/* A link to a document. */
static void doc_href(wb_buf *b, const uint8_t author[HX_KEY_LEN], const char *path)
{
	char hex[2 * HX_KEY_LEN + 1];
	wb_printf(b, "/doc?author=%s&amp;path=", hx_hex(hex, author, HX_KEY_LEN));
	wb_url(b, path);
}

/* A search link for q plus one more filter "name:value" (quoted when it
 * needs it); 0 when value cannot be written as a filter. */
static int filter_href(wb_buf *b, const char *q, const char *name, const char *value)
{
	int quote = 0;
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			return 0;
		if (*p == ' ' || *p == '(' || *p == ')' || *p == ':' || *p == '*')
			quote = 1;
	}
	wb_buf f = { 0 };
	wb_printf(&f, "%s%s%s:%s%s%s", q, *q ? " " : "", name, quote ? "\"" : "", value,
		  quote ? "\"" : "");
	wb_puts(b, "/?q=");
	if (!f.oom)
		wb_url(b, f.p);
	wb_free(&f);
	return 1;
}

static void snippet_html(wb_buf *b, const hx_hit *h)
{
	size_t pos = 0;
	if (!h->snippet || !*h->snippet)
		return;
	wb_puts(b, "<p class=\"snippet\">");
	for (size_t i = 0; i < h->nhl; i++) {
		wb_escn(b, h->snippet + pos, h->hl[i].start - pos);
		wb_puts(b, "<mark>");
		wb_escn(b, h->snippet + h->hl[i].start, h->hl[i].end - h->hl[i].start);
		wb_puts(b, "</mark>");
		pos = h->hl[i].end;
	}
	wb_esc(b, h->snippet + pos);
	wb_puts(b, "</p>\n");
}

struct pcount {
	uint8_t key[HX_KEY_LEN];
	uint64_t n;
};

static int pcount_cmp(const void *a, const void *b)
{
	const struct pcount *x = a, *y = b;
	return x->n != y->n ? (x->n > y->n ? -1 : 1) : memcmp(x->key, y->key, HX_KEY_LEN);
}

/* The partner facet: authors of the first PARTNER_SCAN matches. */
static void partner_facet(struct wb_req *r, hx_searcher *sr, const char *q, const hx_results *res)
{
	hx_results all;
	const hx_results *src = res;
	char err[256];
	int have_all = 0;
	if (res->total > res->nhits || res->hits[0].rank != 1) {
		hx_search_opts o = { .limit = PARTNER_SCAN, .no_snippets = 1, .no_suggest = 1 };
		if (hx_search(sr, q, &o, &all, err, sizeof err))
			return;
		src = &all;
		have_all = 1;
	}
	struct pcount *pc = calloc(src->nhits ? src->nhits : 1, sizeof *pc);
	size_t n = 0;
	for (size_t i = 0; pc && i < src->nhits; i++) {
		size_t j;
		for (j = 0; j < n && memcmp(pc[j].key, src->hits[i].author, HX_KEY_LEN); j++)
			;
		if (j == n)
			memcpy(pc[n++].key, src->hits[i].author, HX_KEY_LEN);
		pc[j].n++;
	}
	if (pc && n) {
		qsort(pc, n, sizeof *pc, pcount_cmp);
		wb_puts(&r->out, "<section class=\"facet\"><h3>Partner</h3><ul>");
		for (size_t i = 0; i < n && i < 12; i++) {
			char name[160], hex[2 * HX_KEY_LEN + 1];
			wb_partner_name(r->w, pc[i].key, name, sizeof name);
			wb_puts(&r->out, "<li><a href=\"");
			filter_href(&r->out, q, "author", hx_hex(hex, pc[i].key, HX_KEY_LEN));
			wb_puts(&r->out, "\">");
			wb_esc(&r->out, name);
			wb_printf(&r->out, "</a> <span class=\"count\">%llu</span></li>",
				  (unsigned long long)pc[i].n);
		}
		wb_puts(&r->out, "</ul></section>\n");
	}
	free(pc);
	if (have_all)
		hx_results_clear(&all);
}

static void search_help(wb_buf *b)
{
	wb_puts(b, "<details class=\"help\"><summary>How to search</summary><ul>"
		"<li>Words are all looked for, in any form: <code>brokerage smes</code>. Accents do not "
		"matter: <code>bialystok</code> finds Białystok.</li>"
		"<li>Exact words next to each other: <code>\"innovation brokerage\"</code></li>"
		"<li>Word beginnings: <code>cultur*</code> · leave a word out: <code>-archived</code> · "
		"either word: <code>toolkit OR casebook</code></li>"
		"<li>Only some documents: <code>kind:practice</code>, <code>tag:smes</code>, "
		"<code>lang:de</code>, <code>country:PL</code>, <code>org:\"Region Zealand\"</code>, "
		"<code>since:2025-01-01</code></li></ul></details>\n");
}

void wb_page_search(struct wb_req *r)
{
	wb_buf *b = &r->out;
	const char *q = wb_arg(r, "q"), *o = wb_arg(r, "o"), *gone = wb_arg(r, "deleted");
	size_t offset = o ? strtoul(o, NULL, 10) : 0;
	if (offset > 100000)
		offset = 100000;
	while (q && *q == ' ')
		q++;

	wb_head(r, q && *q ? q : "Search", WB_NAV_SEARCH);
	if (gone) {
		wb_puts(b, "<p class=\"notice\">The document <code>");
		wb_esc(b, gone);
		wb_puts(b, "</code> was deleted. Its history stays, and the partners will see it gone.</p>\n");
	}
	wb_puts(b, "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">"
		"<input type=\"search\" name=\"q\" id=\"q\" aria-label=\"Search the library\" "
		"placeholder=\"Search practices, toolkits, cases…\" value=\"");
	wb_esc(b, q ? q : "");
	wb_puts(b, "\" autofocus> <button type=\"submit\">Search</button></form>\n");
	search_help(b);
	if (!q || !*q) {
		hx_store_stats st;
		if (!hx_store_stats_get(r->w->ctx->store, &st))
			wb_printf(b, "<p class=\"intro\">The library holds %llu documents. Type what you "
				  "are looking for above.</p>\n", (unsigned long long)st.documents);
		wb_foot(r);
		return;
	}
	hx_searcher *sr = wb_searcher_get(r->w);
	if (!sr) {
		wb_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Search failed", "The search index cannot be opened.");
		return;
	}
	hx_search_opts opts = { .limit = PAGE_SIZE, .offset = offset, .facets = 1 };
	hx_results res;
	char err[512] = "";
	int rc = hx_search(sr, q, &opts, &res, err, sizeof err);
	if (rc) {
		wb_searcher_put(r->w, sr);
		wb_puts(b, "<p class=\"error\">");
		wb_puts(b, rc == HX_EINVAL ? "This search could not be understood: " : "The search failed: ");
		wb_esc(b, err[0] ? err : hx_strerror(rc));
		wb_puts(b, "</p>\n");
		wb_foot(r);
		return;
	}
	wb_puts(b, "<div class=\"results-layout\">\n<div class=\"results\">\n");
	if (!res.nhits) {
		wb_puts(b, "<p class=\"none\">Nothing found.");
		if (res.nsuggest) {
			wb_puts(b, " Did you mean <a class=\"suggest\" href=\"/?q=");
			wb_url(b, res.suggest[0]);
			wb_puts(b, "\">");
			wb_esc(b, res.suggest[0]);
			wb_puts(b, "</a>?");
		}
		wb_puts(b, "</p>\n");
	} else {
		wb_printf(b, "<p class=\"total\" id=\"total\">%s%llu document%s found</p>\n",
			  res.total_exact ? "" : "about ", (unsigned long long)res.total,
			  res.total == 1 ? "" : "s");
	}
	wb_puts(b, "<ol class=\"hits\">\n");
	for (size_t i = 0; i < res.nhits; i++) {
		const hx_hit *h = &res.hits[i];
		char name[160];
		wb_partner_name(r->w, h->author, name, sizeof name);
		wb_printf(b, "<li class=\"hit\" value=\"%zu\"><h2><a href=\"", h->rank);
		doc_href(b, h->author, h->path);
		wb_puts(b, "\">");
		wb_esc(b, h->title[0] ? h->title : "(untitled)");
		wb_puts(b, "</a></h2>\n<p class=\"meta\"><span class=\"kind\">");
		wb_esc(b, h->kind);
		wb_puts(b, "</span> · ");
		wb_esc(b, h->org && *h->org ? h->org : name);
		wb_puts(b, " · ");
		wb_esc(b, h->lang);
		wb_puts(b, "</p>\n");
		snippet_html(b, h);
		wb_puts(b, "</li>\n");
	}
	wb_puts(b, "</ol>\n");
	if (res.nhits && (offset || res.total > offset + res.nhits)) {
		wb_puts(b, "<nav class=\"pages\" aria-label=\"Pages\">");
		size_t pages = (size_t)((res.total + PAGE_SIZE - 1) / PAGE_SIZE), cur = offset / PAGE_SIZE;
		for (size_t p = 0; p < pages && p < 20; p++) {
			if (p == cur) {
				wb_printf(b, "<span class=\"here\">%zu</span>", p + 1);
				continue;
			}
			wb_puts(b, "<a href=\"/?q=");
			wb_url(b, q);
			wb_printf(b, "&amp;o=%zu\">%zu</a>", p * PAGE_SIZE, p + 1);
		}
		if (res.total > offset + res.nhits) {
			wb_puts(b, "<a rel=\"next\" href=\"/?q=");
			wb_url(b, q);
			wb_printf(b, "&amp;o=%zu\">Next</a>", offset + PAGE_SIZE);
		}
		wb_puts(b, "</nav>\n");
	}
	wb_puts(b, "</div>\n<aside class=\"facets\" aria-label=\"Narrow the results\">\n");
	for (size_t l = 0; l < sizeof facet_labels / sizeof facet_labels[0]; l++) {
		for (size_t g = 0; g < res.nfacets; g++) {
			const hx_facet_group *fg = &res.facets[g];
			if (strcmp(fg->name, facet_labels[l][0]) || !fg->n)
				continue;
			wb_printf(b, "<section class=\"facet\" data-facet=\"%s\"><h3>%s</h3><ul>",
				  fg->name, facet_labels[l][1]);
			for (size_t i = 0; i < fg->n && i < 12; i++) {
				wb_buf link = { 0 };
				if (filter_href(&link, q, fg->name, fg->v[i].value) && !link.oom) {
					wb_printf(b, "<li><a href=\"%s\">", link.p);
					wb_esc(b, fg->v[i].value);
					wb_puts(b, "</a>");
				} else {
					wb_puts(b, "<li>");
					wb_esc(b, fg->v[i].value);
				}
				wb_free(&link);
				wb_printf(b, " <span class=\"count\">%llu</span></li>",
					  (unsigned long long)fg->v[i].count);
			}
			wb_puts(b, "</ul></section>\n");
		}
	}
	if (res.nhits)
		partner_facet(r, sr, q, &res);
	wb_puts(b, "</aside>\n</div>\n");
	hx_results_clear(&res);
	wb_searcher_put(r->w, sr);
	wb_foot(r);
}

/* ---- the document page ------------------------------------------------------ */

struct versions {
	hx_entry *v;
	size_t n, cap;
};

static int version_cb(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct versions *vs = arg;
	hx_entry copy;
	hx_entry *nv = hx_grow(vs->v, &vs->cap, vs->n + 1, sizeof *vs->v);
	if (!nv)
		return HX_ENOMEM;
	vs->v = nv;
	if (hx_entry_decode(&copy, raw, len))
		return HX_ECORRUPT;
	(void)e;
	vs->v[vs->n++] = copy;
	return 0;
}

static void versions_free(struct versions *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		hx_entry_clear(&vs->v[i]);
	free(vs->v);
}

/* A version as text lines for the diff: its fields, then its body. */
static void version_text(wb_buf *t, const hx_entry *e)
{
	if (hx_entry_is_tombstone(e)) {
		wb_puts(t, "(deleted)\n");
		return;
	}
	wb_printf(t, "Title: %s\nKind: %s\nLanguage: %s\nTags: ", e->title, e->kind, e->lang);
	for (size_t i = 0; i < e->ntags; i++)
		wb_printf(t, "%s%s", i ? ", " : "", e->tags[i]);
	wb_puts(t, "\n");
	for (size_t i = 0; i < e->nmeta; i++)
		wb_printf(t, "%s: %s\n", e->meta[i].key, e->meta[i].value);
	wb_puts(t, "\n");
	wb_puts(t, e->body);
	if (t->n && t->p[t->n - 1] != '\n')
		wb_puts(t, "\n");
}

struct line {
	const char *s;
	size_t n;
};

static size_t split_lines(const char *s, struct line **out)
{
	size_t n = 0, cap = 0;
	struct line *v = NULL;
	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		struct line *nv = hx_grow(v, &cap, n + 1, sizeof *v);
		if (!nv)
			break;
		v = nv;
		v[n].s = s;
		v[n++].n = len;
		s += len + (nl != NULL);
	}
	*out = v;
	return n;
}

static int line_eq(const struct line *a, const struct line *b)
{
	return a->n == b->n && !memcmp(a->s, b->s, a->n);
}

static void diff_line(wb_buf *b, char sign, const struct line *l)
{
	const char *cls = sign == '-' ? "del" : sign == '+' ? "ins" : "same";
	wb_printf(b, "<div class=\"%s\"><span class=\"sign\">%c</span>", cls, sign);
	wb_escn(b, l->s, l->n);
	wb_puts(b, "</div>");
}

/* A line diff of two texts (longest common subsequence after trimming the
 * common head and tail). */
static void diff_html(wb_buf *b, const char *ta, const char *tb)
{
	struct line *a, *c;
	size_t na = split_lines(ta, &a), nb = split_lines(tb, &c), pre = 0, suf = 0;
	while (pre < na && pre < nb && line_eq(&a[pre], &c[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && line_eq(&a[na - 1 - suf], &c[nb - 1 - suf]))
		suf++;
	size_t m = na - pre - suf, k = nb - pre - suf;
	uint32_t *t = NULL;
	if (m * k <= 4000000)
		t = calloc((m + 1) * (k + 1), sizeof *t);
	wb_puts(b, "<div class=\"diff\" id=\"diff\">");
	for (size_t i = 0; i < pre; i++)
		diff_line(b, ' ', &a[i]);
	if (t) {
		/* t[i][j]: LCS length of a[pre+i..] and c[pre+j..] */
		for (size_t i = m; i-- > 0;)
			for (size_t j = k; j-- > 0;)
				t[i * (k + 1) + j] = line_eq(&a[pre + i], &c[pre + j])
					? t[(i + 1) * (k + 1) + j + 1] + 1
					: (t[(i + 1) * (k + 1) + j] > t[i * (k + 1) + j + 1]
					   ? t[(i + 1) * (k + 1) + j] : t[i * (k + 1) + j + 1]);
		size_t i = 0, j = 0;
		while (i < m || j < k) {
			if (i < m && j < k && line_eq(&a[pre + i], &c[pre + j])) {
				diff_line(b, ' ', &a[pre + i]);
				i++, j++;
			} else if (i < m && (j == k || t[(i + 1) * (k + 1) + j] >= t[i * (k + 1) + j + 1])) {
				diff_line(b, '-', &a[pre + i++]);
			} else {
				diff_line(b, '+', &c[pre + j++]);
			}
		}
	} else { /* too long to align: all old lines out, all new lines in */
		for (size_t i = 0; i < m; i++)
			diff_line(b, '-', &a[pre + i]);
		for (size_t j = 0; j < k; j++)
			diff_line(b, '+', &c[pre + j]);
	}
	for (size_t i = na - suf; i < na; i++)
		diff_line(b, ' ', &a[i]);
	wb_puts(b, "</div>\n");
	free(t);
	free(a);
	free(c);
}

static void profile_box(struct wb_req *r, const uint8_t key[HX_KEY_LEN])
{
	wb_buf *b = &r->out;
	hx_member m;
	char hex[2 * HX_KEY_LEN + 1];
	wb_puts(b, "<aside class=\"profile\"><h2>Written by</h2>");
	if (hx_member_load(r->w->ctx->store, key, &m)) {
		wb_printf(b, "<p>A partner whose profile this node does not have (key %.16s…).</p></aside>\n",
			  hx_hex(hex, key, HX_KEY_LEN));
		return;
	}
	const char *name = hx_member_field(&m, "name");
	wb_printf(b, "<p class=\"name\"><a href=\"/partners#p%.16s\">", hx_hex(hex, key, HX_KEY_LEN));
	wb_esc(b, name && *name ? name : "(no name)");
	wb_puts(b, "</a></p>");
	wb_profile_dl(b, &m);
	wb_printf(b, "<p><a href=\"/?q=author:%s\">All their documents</a></p></aside>\n", hex);
	hx_member_clear(&m);
}

static const hx_entry *find_version(const struct versions *vs, const char *idhex)
{
	uint8_t id[HX_ID_LEN];
	if (!idhex || strlen(idhex) != 2 * HX_ID_LEN || hx_unhex(id, HX_ID_LEN, idhex))
		return NULL;
	for (size_t i = 0; i < vs->n; i++)
		if (!memcmp(vs->v[i].id, id, HX_ID_LEN))
			return &vs->v[i];
	return NULL;
}

static void history_html(struct wb_req *r, const struct versions *vs, const char *authorhex,
			 const char *path, const hx_entry *a, const hx_entry *c)
{
	wb_buf *b = &r->out;
	char when[40], hex[2 * HX_ID_LEN + 1];
	wb_printf(b, "<section class=\"history\" id=\"history\"><h2>History (%zu version%s)</h2>\n",
		  vs->n, vs->n == 1 ? "" : "s");
	wb_puts(b, "<form method=\"get\" action=\"/doc\">");
	wb_printf(b, "<input type=\"hidden\" name=\"author\" value=\"%s\">", authorhex);
	wb_puts(b, "<input type=\"hidden\" name=\"path\" value=\"");
	wb_esc(b, path);
	wb_puts(b, "\"><table><thead><tr><th>From</th><th>To</th><th>When</th><th>Title</th></tr></thead><tbody>\n");
	for (size_t i = vs->n; i-- > 0;) {
		const hx_entry *e = &vs->v[i];
		hx_hex(hex, e->id, HX_ID_LEN);
		wb_printf(b, "<tr><td><input type=\"radio\" name=\"a\" value=\"%s\"%s aria-label=\"compare from\"></td>"
			  "<td><input type=\"radio\" name=\"b\" value=\"%s\"%s aria-label=\"compare to\"></td><td>%s</td><td>",
			  hex, e == a ? " checked" : "", hex, e == c ? " checked" : "",
			  wb_when(when, sizeof when, e->timestamp));
		if (hx_entry_is_tombstone(e)) {
			wb_puts(b, "<em>deleted</em>");
		} else {
			wb_puts(b, "<a href=\"/doc?v=");
			wb_printf(b, "%s&amp;author=%s&amp;path=", hex, authorhex);
			wb_url(b, path);
			wb_puts(b, "\">");
			wb_esc(b, e->title[0] ? e->title : "(untitled)");
			wb_puts(b, "</a>");
		}
		wb_puts(b, "</td></tr>\n");
	}
	wb_puts(b, "</tbody></table>");
	if (vs->n > 1)
		wb_puts(b, "<button type=\"submit\" id=\"compare\">Show the changes</button>");
	wb_puts(b, "</form>\n");
	if (a && c && a != c) {
		wb_buf ta = { 0 }, tb = { 0 };
		version_text(&ta, a);
		version_text(&tb, c);
		wb_printf(b, "<h3>Changes from %s", wb_when(when, sizeof when, a->timestamp));
		wb_printf(b, " to %s</h3>\n", wb_when(when, sizeof when, c->timestamp));
		if (!ta.oom && !tb.oom)
			diff_html(b, ta.p ? ta.p : "", tb.p ? tb.p : "");
		wb_free(&ta);
		wb_free(&tb);
	}
	wb_puts(b, "</section>\n");
}

void wb_page_doc(struct wb_req *r)
{
	wb_buf *b = &r->out;
	hx_web *w = r->w;
	const char *ahex = wb_arg(r, "author"), *path = wb_arg(r, "path");
	uint8_t author[HX_KEY_LEN];
	char when[40], hex[2 * HX_ID_LEN + 1];
	if (!ahex || !path || strlen(ahex) != 2 * HX_KEY_LEN || hx_unhex(author, HX_KEY_LEN, ahex)) {
		wb_message(r, MHD_HTTP_BAD_REQUEST, "No such document", "This address does not name a document.");
		return;
	}
	struct versions vs = { 0 };
	int rc = hx_store_history(w->ctx->store, author, path, version_cb, &vs);
	if (rc || !vs.n) {
		versions_free(&vs);
		wb_message(r, MHD_HTTP_NOT_FOUND, "No such document",
			   "This library has no document at this address (yet: it may still be on its way).");
		return;
	}
	/* the current version is the greatest (timestamp, id): the last */
	const hx_entry *cur = &vs.v[vs.n - 1], *shown = cur;
	const char *v = wb_arg(r, "v");
	if (v && !(shown = find_version(&vs, v)))
		shown = cur;
	const hx_entry *a = find_version(&vs, wb_arg(r, "a")), *c = find_version(&vs, wb_arg(r, "b"));
	if (!a && !c && vs.n > 1) {
		a = &vs.v[vs.n - 2];
		c = cur;
	}
	int own = !memcmp(author, w->ctx->pk, HX_KEY_LEN), deleted = hx_entry_is_tombstone(cur);
	if (hx_entry_is_tombstone(shown) && vs.n > 1 && shown == cur)
		shown = &vs.v[vs.n - 2];

	wb_head(r, shown->title[0] ? shown->title : "(untitled)", WB_NAV_NONE);
	if (wb_arg(r, "saved"))
		wb_puts(b, "<p class=\"notice\" id=\"saved\">Saved and signed. The partners receive it as soon as they are connected.</p>\n");
	wb_puts(b, "<div class=\"doc-layout\"><article class=\"doc\">\n");
	if (deleted)
		wb_puts(b, "<p class=\"notice\">This document was deleted by its author. Its history stays.</p>\n");
	else if (shown != cur)
		wb_puts(b, "<p class=\"notice\">You are reading an older version. <a href=\"#history\">See the history</a>.</p>\n");
	wb_puts(b, "<h1 id=\"title\">");
	wb_esc(b, shown->title[0] ? shown->title : "(untitled)");
	wb_puts(b, "</h1>\n<p class=\"meta\"><span class=\"kind\">");
	wb_esc(b, shown->kind);
	wb_printf(b, "</span> · updated %s · language ", wb_when(when, sizeof when, shown->timestamp));
	wb_esc(b, shown->lang);
	wb_puts(b, "</p>\n");
	if (shown->ntags) {
		wb_puts(b, "<ul class=\"tags\">");
		for (size_t i = 0; i < shown->ntags; i++) {
			wb_buf link = { 0 };
			if (filter_href(&link, "", "tag", shown->tags[i]) && !link.oom)
				wb_printf(b, "<li><a href=\"%s\">", link.p);
			else
				wb_puts(b, "<li><a>");
			wb_free(&link);
			wb_esc(b, shown->tags[i]);
			wb_puts(b, "</a></li>");
		}
		wb_puts(b, "</ul>\n");
	}
	if (own && !deleted) {
		wb_puts(b, "<p class=\"actions\"><a class=\"button\" id=\"edit\" href=\"/publish?path=");
		wb_url(b, path);
		wb_puts(b, "\">Edit</a> <a class=\"button danger\" id=\"delete\" href=\"/delete?path=");
		wb_url(b, path);
		wb_puts(b, "\">Delete</a></p>\n");
	}
	wb_puts(b, "<div class=\"body\" id=\"body\">\n");
	wb_markdown(b, shown->body);
	wb_puts(b, "</div>\n");
	if (shown->nmeta) {
		wb_puts(b, "<table class=\"metadata\"><caption>Details</caption>\n");
		for (size_t i = 0; i < shown->nmeta; i++) {
			const char *val = shown->meta[i].value;
			wb_puts(b, "<tr><th>");
			wb_esc(b, shown->meta[i].key);
			wb_puts(b, "</th><td>");
			if (wb_is_web_link(val)) {
				wb_puts(b, "<a rel=\"nofollow noopener\" href=\"");
				wb_esc(b, val);
				wb_puts(b, "\">");
				wb_esc(b, val);
				wb_puts(b, "</a>");
			} else {
				wb_esc(b, val);
			}
			wb_puts(b, "</td></tr>\n");
		}
		wb_puts(b, "</table>\n");
	}
	wb_puts(b, "<p class=\"sig\">Address <code>");
	wb_esc(b, path);
	wb_printf(b, "</code> · version <code>%.16s</code> · signed by the author's key</p>\n",
		  hx_hex(hex, shown->id, HX_ID_LEN));
	history_html(r, &vs, ahex, path, a, c);
	wb_puts(b, "</article>\n");
	profile_box(r, author);
	wb_puts(b, "</div>\n");
	versions_free(&vs);
	wb_foot(r);
}

/* ---- publish, edit, delete ------------------------------------------------------ */

int wb_publish(hx_web *w, hx_entry *d, char *err, size_t errlen)
{
	const char *why;
	if (hx_entry_check_why(d, &why)) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (hx_cli_publish(w->ctx, d)) {
		snprintf(err, errlen, "it could not be saved in the store (the node's log says why)");
		return -1;
	}
	return 0;
}

int wb_delete(hx_web *w, const char *path, uint8_t id[HX_ID_LEN], char *err, size_t errlen)
{
	hx_entry cur;
	int deleted = 0;
	int rc = hx_store_current(w->ctx->store, w->ctx->pk, path, &cur, &deleted);
	if (rc) {
		snprintf(err, errlen, rc == HX_ENOTFOUND ? (deleted ? "it is already deleted"
								    : "you have no document at this address")
							 : "the store cannot be read");
		return -1;
	}
	hx_entry t = { .path = cur.path, .kind = HX_KIND_TOMBSTONE, .title = "", .body = "",
		       .lang = cur.lang };
	rc = wb_publish(w, &t, err, errlen);
	if (!rc && id)
		memcpy(id, t.id, HX_ID_LEN);
	hx_entry_clear(&cur);
	return rc;
}

/* The form's values (borrowed from the request or from an entry). */
struct draft_form {
	const char *path, *title, *kind, *tags, *lang, *meta, *body;
};

static void form_html(struct wb_req *r, const struct draft_form *f, int editing, const char *problem,
		      int preview)
{
	wb_buf *b = &r->out;
	wb_head(r, editing ? "Edit" : "Publish", editing ? WB_NAV_NONE : WB_NAV_PUBLISH);
	wb_puts(b, editing ? "<h1>Edit a document</h1>\n" : "<h1>Publish a document</h1>\n");
	wb_puts(b, "<p class=\"intro\">Saving signs the document with your organisation's key. "
		"Every partner receives it; an edit becomes a new version, and the old ones stay in its history.</p>\n");
	if (problem) {
		wb_puts(b, "<p class=\"error\" id=\"problem\">This was not saved: ");
		wb_esc(b, problem);
		wb_puts(b, "</p>\n");
	}
	wb_puts(b, "<form method=\"post\" action=\"/publish\" class=\"publish\" id=\"publish\">");
	wb_csrf_field(r);
	if (editing) {
		wb_puts(b, "<input type=\"hidden\" name=\"path\" value=\"");
		wb_esc(b, f->path);
		wb_puts(b, "\"><input type=\"hidden\" name=\"editing\" value=\"1\"><p>Address: <code>");
		wb_esc(b, f->path);
		wb_puts(b, "</code></p>");
	}
	wb_puts(b, "<label>Title <input name=\"title\" id=\"f-title\" required maxlength=\"512\" value=\"");
	wb_esc(b, f->title);
	wb_puts(b, "\"></label>\n<div class=\"row\"><label>Kind <input name=\"kind\" id=\"f-kind\" list=\"kinds\" value=\"");
	wb_esc(b, f->kind && *f->kind ? f->kind : "practice");
	wb_puts(b, "\"></label><datalist id=\"kinds\"><option value=\"practice\"><option value=\"toolkit\">"
		"<option value=\"case\"><option value=\"event\"><option value=\"contact\"><option value=\"note\"></datalist>\n"
		"<label>Language <input name=\"lang\" id=\"f-lang\" size=\"6\" value=\"");
	wb_esc(b, f->lang && *f->lang ? f->lang : "en");
	wb_puts(b, "\"></label></div>\n<label>Tags <small>(separated by commas)</small> <input name=\"tags\" id=\"f-tags\" value=\"");
	wb_esc(b, f->tags);
	wb_puts(b, "\"></label>\n");
	if (!editing) {
		wb_puts(b, "<label>Address <small>(optional; made from the title when empty, e.g. "
			"practices/innovation-brokerage)</small> <input name=\"path\" id=\"f-path\" value=\"");
		wb_esc(b, f->path);
		wb_puts(b, "\"></label>\n");
	}
	wb_puts(b, "<label>Details <small>(one per line, such as <code>org: Region Zealand</code>, "
		"<code>country: DK</code>, <code>url: https://…</code>)</small>"
		"<textarea name=\"meta\" id=\"f-meta\" rows=\"3\">");
	wb_esc(b, f->meta);
	wb_puts(b, "</textarea></label>\n<label>Text <small>(Markdown: # heading, *emphasis*, - lists, "
		"[link](https://…))</small><textarea name=\"body\" id=\"f-body\" rows=\"14\">");
	wb_esc(b, f->body);
	wb_puts(b, "</textarea></label>\n<p class=\"actions\"><button type=\"submit\" name=\"action\" value=\"save\" id=\"save\">Save and share</button> "
		"<button type=\"submit\" name=\"action\" value=\"preview\" id=\"preview-button\" class=\"secondary\">Preview</button></p>"
		"</form>\n<section class=\"preview\" id=\"preview\" aria-live=\"polite\">");
	if (preview && f->body) {
		wb_puts(b, "<h2>Preview</h2><div class=\"body\">");
		wb_markdown(b, f->body);
		wb_puts(b, "</div>");
	}
	wb_puts(b, "</section>\n");
	wb_foot(r);
}

static void meta_text(wb_buf *t, const hx_entry *e)
{
	for (size_t i = 0; i < e->nmeta; i++)
		wb_printf(t, "%s: %s\n", e->meta[i].key, e->meta[i].value);
}

static void tags_text(wb_buf *t, const hx_entry *e)
{
	for (size_t i = 0; i < e->ntags; i++)
		wb_printf(t, "%s%s", i ? ", " : "", e->tags[i]);
}

/* Splits "a, b ,c" into trimmed non-empty pieces, in place. */
static size_t split_tags(char *s, char **out, size_t max)
{
	size_t n = 0;
	for (char *sv, *tok = strtok_r(s, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		size_t l = strlen(tok);
		while (l && (tok[l - 1] == ' ' || tok[l - 1] == '\t' || tok[l - 1] == '\r'))
			tok[--l] = 0;
		if (!l)
			continue;
		if (n == max)
			return max + 1;
		out[n++] = tok;
	}
	return n;
}

/* "key: value" lines, in place; 0 or the 1-based number of a bad line. */
static size_t split_meta(char *s, hx_meta *out, size_t max, size_t *n)
{
	size_t line = 0;
	*n = 0;
	for (char *sv, *tok = strtok_r(s, "\n", &sv); tok; tok = strtok_r(NULL, "\n", &sv)) {
		line++;
		size_t l = strlen(tok);
		while (l && (tok[l - 1] == '\r' || tok[l - 1] == ' '))
			tok[--l] = 0;
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		char *colon = strchr(tok, ':');
		if (!colon || *n == max)
			return line;
		*colon = 0;
		char *v = colon + 1;
		while (*v == ' ')
			v++;
		for (char *k = tok; *k; k++)
			if (*k >= 'A' && *k <= 'Z')
				*k = (char)(*k - 'A' + 'a');
		out[*n].key = tok;
		out[(*n)++].value = v;
	}
	return 0;
}

/* A path for a new document: KINDs/slug-of-the-title, unique among ours. */
static void make_path(hx_web *w, const char *kind, const char *title, char *out, size_t n)
{
	char slug[80];
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)title; *p && k < 60; p++) {
		unsigned char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			slug[k++] = (char)c;
		else if (c < 0x80 && k && slug[k - 1] != '-')
			slug[k++] = '-';
	}
	while (k && slug[k - 1] == '-')
		k--;
	slug[k] = 0;
	if (!k)
		snprintf(slug, sizeof slug, "%llu", (unsigned long long)(hx_now_us() / 1000000u));
	for (int i = 1; i < 100; i++) {
		hx_entry e;
		int deleted = 0;
		if (i == 1)
			snprintf(out, n, "%.32ss/%s", kind, slug);
		else
			snprintf(out, n, "%.32ss/%s-%d", kind, slug, i);
		if (hx_store_current(w->ctx->store, w->ctx->pk, out, &e, &deleted) == HX_ENOTFOUND)
			return;
		hx_entry_clear(&e);
	}
}

/* Makes a draft from the form's fields (in place). 0, or the problem. */
static const char *draft_from_form(hx_web *w, struct draft_form *f, char *tags, char *meta,
				   hx_entry *d, char **tagv, hx_meta *metav, char *path, size_t pathlen)
{
	memset(d, 0, sizeof *d);
	if (!f->title || !f->kind || !f->lang || !f->body)
		return "a field is missing or is not valid text";
	d->title = (char *)f->title;
	d->kind = (char *)f->kind;
	d->lang = (char *)f->lang;
	d->body = (char *)f->body;
	if (!strcmp(f->kind, HX_KIND_TOMBSTONE))
		return "'tombstone' is not a kind to publish (use Delete)";
	if (!*f->title)
		return "the title is empty";
	size_t nt = split_tags(tags, tagv, HX_TAGS_MAX);
	if (nt > HX_TAGS_MAX)
		return "there are too many tags";
	d->tags = tagv;
	d->ntags = nt;
	size_t bad = split_meta(meta, metav, HX_META_MAX, &d->nmeta);
	if (bad)
		return "a details line is not 'name: value' (or there are too many)";
	d->meta = metav;
	if (f->path && *f->path)
		snprintf(path, pathlen, "%s", f->path);
	else
		make_path(w, f->kind, f->title, path, pathlen);
	d->path = path;
	return NULL;
}

void wb_page_publish(struct wb_req *r)
{
	hx_web *w = r->w;
	struct draft_form f = { 0 };
	if (!r->post) {
		const char *path = wb_arg(r, "path");
		if (!path) {
			f.title = f.tags = f.meta = f.body = f.path = "";
			form_html(r, &f, 0, NULL, 0);
			return;
		}
		hx_entry e;
		int deleted = 0;
		if (hx_store_current(w->ctx->store, w->ctx->pk, path, &e, &deleted)) {
			wb_message(r, MHD_HTTP_NOT_FOUND, "Nothing to edit",
				   "You have no document at this address; you can only edit your own.");
			return;
		}
		wb_buf tags = { 0 }, meta = { 0 };
		tags_text(&tags, &e);
		meta_text(&meta, &e);
		f.path = e.path;
		f.title = e.title;
		f.kind = e.kind;
		f.lang = e.lang;
		f.body = e.body;
		f.tags = tags.p ? tags.p : "";
		f.meta = meta.p ? meta.p : "";
		form_html(r, &f, 1, NULL, 0);
		wb_free(&tags);
		wb_free(&meta);
		hx_entry_clear(&e);
		return;
	}
	f.path = wb_form(r, "path", NULL);
	f.title = wb_form(r, "title", NULL);
	f.kind = wb_form(r, "kind", NULL);
	f.tags = wb_form(r, "tags", NULL);
	f.lang = wb_form(r, "lang", NULL);
	f.meta = wb_form(r, "meta", NULL);
	f.body = wb_form(r, "body", NULL);
	int editing = wb_form(r, "editing", NULL) != NULL && f.path && *f.path;
	const char *action = wb_form(r, "action", NULL);
	if (!f.tags)
		f.tags = "";
	if (!f.meta)
		f.meta = "";
	if (action && !strcmp(action, "preview")) {
		form_html(r, &f, editing, NULL, 1);
		return;
	}
	char *tags = strdup(f.tags), *meta = strdup(f.meta), path[HX_PATH_MAX + 16], err[256];
	char *tagv[HX_TAGS_MAX];
	hx_meta metav[HX_META_MAX];
	hx_entry d;
	const char *problem = !tags || !meta ? "out of memory"
		: draft_from_form(w, &f, tags, meta, &d, tagv, metav, path, sizeof path);
	if (!problem && !wb_publish(w, &d, err, sizeof err)) {
		char hex[2 * HX_KEY_LEN + 1];
		wb_buf to = { 0 };
		wb_printf(&to, "/doc?author=%s&path=", hx_hex(hex, w->ctx->pk, HX_KEY_LEN));
		wb_url(&to, d.path);
		wb_puts(&to, "&saved=1");
		wb_redirect(r, to.oom ? "/" : to.p);
		wb_free(&to);
	} else {
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		form_html(r, &f, editing, problem ? problem : err, 0);
	}
	free(tags);
	free(meta);
}

void wb_page_delete(struct wb_req *r)
{
	hx_web *w = r->w;
	wb_buf *b = &r->out;
	const char *path = r->post ? wb_form(r, "path", NULL) : wb_arg(r, "path");
	char err[256];
	if (!path) {
		wb_message(r, MHD_HTTP_BAD_REQUEST, "Nothing to delete", "No document was named.");
		return;
	}
	if (r->post) {
		if (wb_delete(w, path, NULL, err, sizeof err)) {
			wb_message(r, MHD_HTTP_UNPROCESSABLE_CONTENT, "Not deleted", err);
			return;
		}
		wb_buf to = { 0 };
		wb_puts(&to, "/?deleted=");
		wb_url(&to, path);
		wb_redirect(r, to.oom ? "/" : to.p);
		wb_free(&to);
		return;
	}
	hx_entry e;
	int deleted = 0;
	if (hx_store_current(w->ctx->store, w->ctx->pk, path, &e, &deleted)) {
		wb_message(r, MHD_HTTP_NOT_FOUND, "Nothing to delete",
			   deleted ? "This document is already deleted." : "You have no document at this address.");
		return;
	}
	wb_head(r, "Delete?", WB_NAV_NONE);
	wb_puts(b, "<h1>Delete this document?</h1>\n<p class=\"confirm\">“");
	wb_esc(b, e.title);
	wb_puts(b, "” will disappear from the library here and at every partner. Its history stays, "
		"so it can be read again later.</p>\n<form method=\"post\" action=\"/delete\">");
	wb_csrf_field(r);
	wb_puts(b, "<input type=\"hidden\" name=\"path\" value=\"");
	wb_esc(b, path);
	wb_puts(b, "\"><button type=\"submit\" class=\"danger\" id=\"confirm-delete\">Yes, delete it</button> <a href=\"");
	doc_href(b, w->ctx->pk, path);
	wb_puts(b, "\">No, keep it</a></form>\n");
	hx_entry_clear(&e);
	wb_foot(r);
}
