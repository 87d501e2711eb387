/*
 * page_search.c: the web app's Search page: the whole query language,
 * highlighted snippets, facets to click, pages of results, did-you-mean,
 * and the partner facet. Partner content is escaped everywhere.
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
	{ "kind", "Kind" },
	{ "tag", "Tag" },
	{ "lang", "Language" },
	{ "country", "Country" },
};

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
			wb_filter_href(&r->out, q, "author", hx_hex(hex, pc[i].key, HX_KEY_LEN));
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
	wb_puts(b,
	        "<details class=\"help\"><summary>How to search</summary><ul>"
	        "<li>Words are all looked for, in any form: <code>brokerage smes</code>. Accents do "
	        "not "
	        "matter: <code>bialystok</code> finds Białystok.</li>"
	        "<li>Exact words next to each other: <code>\"innovation brokerage\"</code></li>"
	        "<li>Word beginnings: <code>cultur*</code> · leave a word out: <code>-archived</code> "
	        "· "
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
		wb_puts(b, "</code> was deleted. Its history stays, and the partners will see it "
		           "gone.</p>\n");
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
			wb_printf(
			        b,
			        "<p class=\"intro\">The library holds %llu documents. Type what you "
			        "are looking for above.</p>\n",
			        (unsigned long long)st.documents);
		wb_foot(r);
		return;
	}
	hx_searcher *sr = wb_searcher_get(r->w);
	if (!sr) {
		wb_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Search failed",
		           "The search index cannot be opened.");
		return;
	}
	hx_search_opts opts = { .limit = PAGE_SIZE, .offset = offset, .facets = 1 };
	hx_results res;
	char err[512] = "";
	int rc = hx_search(sr, q, &opts, &res, err, sizeof err);
	if (rc) {
		wb_searcher_put(r->w, sr);
		wb_puts(b, "<p class=\"error\">");
		wb_puts(b, rc == HX_EINVAL ? "This search could not be understood: "
		                           : "The search failed: ");
		wb_esc(b, err[0] ? err : hx_strerror(rc));
		wb_puts(b, "</p>\n");
		wb_foot(r);
		return;
	}
	wb_puts(b, "<div class=\"results-layout\">\n<div class=\"results\">\n");
	if (res.corrected) {
		/* the query had a typo and found nothing (or little): the corrected
		 * one ran instead; "instead" is the query as typed, its words quoted
		 * so that it is not corrected again */
		wb_puts(b,
		        "<p class=\"corrected\" id=\"corrected\">Showing results for <a href=\"/?q=");
		wb_url(b, res.corrected);
		wb_puts(b, "\"><strong>");
		wb_esc(b, res.corrected);
		wb_puts(b, "</strong></a>. Search instead for <a class=\"instead\" href=\"/?q=");
		wb_url(b, res.instead ? res.instead : q);
		wb_puts(b, "\">");
		wb_esc(b, q);
		wb_puts(b, "</a>.</p>\n");
	}
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
		wb_doc_href(b, h->author, h->path);
		wb_puts(b, "\">");
		wb_esc(b, h->title[0] ? h->title : "(untitled)");
		wb_puts(b, "</a></h2>\n<p class=\"meta\"><span class=\"kind\">");
		wb_esc(b, h->kind);
		wb_puts(b, "</span> · ");
		wb_esc(b, h->org && *h->org ? h->org : name);
		wb_puts(b, " · ");
		wb_esc(b, h->lang);
		for (size_t j = 0; j < h->nalso; j++) {
			wb_puts(b, j ? ", " : " · also in: ");
			wb_esc(b, h->also_in[j]);
		}
		if (h->file) { /* the attachment the words are in: hostile text, escaped */
			wb_puts(b, " · <span class=\"infile\">in ");
			wb_esc(b, h->file);
			if (h->page)
				wb_printf(b, ", page %u", (unsigned)h->page);
			wb_puts(b, "</span>");
		}
		wb_puts(b, "</p>\n");
		snippet_html(b, h);
		wb_puts(b, "</li>\n");
	}
	wb_puts(b, "</ol>\n");
	if (res.nhits && (offset || res.total > offset + res.nhits)) {
		wb_puts(b, "<nav class=\"pages\" aria-label=\"Pages\">");
		size_t pages = (size_t)((res.total + PAGE_SIZE - 1) / PAGE_SIZE),
		       cur = offset / PAGE_SIZE;
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
				if (wb_filter_href(&link, q, fg->name, fg->v[i].value) &&
				    !link.oom) {
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
