/*
 * html.c: the frame every page of the web app shares (head, navigation,
 * footer), one-message pages, Markdown through cmark's safe mode, times in
 * words, partner names, and links to a document and to a search with one
 * more filter. Every text that came from a partner goes through wb_esc;
 * only cmark's safe output is written unescaped.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmark.h>
#include "web/web_int.h"
#include "node/state.h"
#include "proto/member.h"

static const char *const nav_names[] = { "Search", "Publish", "Partners", "Network",
	                                 "Offline transfer" };
static const char *const nav_urls[] = { "/", "/publish", "/partners", "/network", "/transfer" };

void wb_head(struct wb_req *r, const char *title, enum wb_nav nav)
{
	wb_buf *b = &r->out;
	r->ctype = "text/html; charset=utf-8";
	wb_puts(b,
	        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	wb_esc(b, title);
	wb_puts(b, " · hansa</title>\n<link rel=\"stylesheet\" href=\"/assets/hansa.css\">\n"
	           "<script src=\"/assets/hansa.js\" defer></script>\n</head>\n<body>\n"
	           "<header><a class=\"brand\" href=\"/\">hansa library</a><nav>");
	for (int i = 0; i < WB_NAV_NONE; i++) {
		wb_printf(b, "<a href=\"%s\"%s>%s</a>", nav_urls[i],
		          (int)nav == i ? " class=\"here\" aria-current=\"page\"" : "",
		          nav_names[i]);
	}
	wb_puts(b, "</nav>");
	if (r->session[0]) {
		wb_puts(b, "<form method=\"post\" action=\"/logout\" class=\"logout\">");
		wb_csrf_field(r);
		wb_puts(b, "<button type=\"submit\">Sign out</button></form>");
	}
	wb_puts(b, "</header>\n<main>\n");
}

void wb_foot(struct wb_req *r)
{
	wb_puts(&r->out,
	        "</main>\n<footer>This library lives on your own computer and is shared "
	        "directly with the partners. Everything in it is signed by the partner that wrote it."
	        "</footer>\n</body>\n</html>\n");
}

void wb_message(struct wb_req *r, int status, const char *title, const char *text)
{
	r->out.n = 0;
	r->status = status;
	wb_head(r, title, WB_NAV_NONE);
	wb_puts(&r->out, "<h1>");
	wb_esc(&r->out, title);
	wb_puts(&r->out, "</h1>\n<p class=\"message\">");
	wb_esc(&r->out, text);
	wb_puts(&r->out, "</p>\n<p><a href=\"/\">Back to the search</a></p>\n");
	wb_foot(r);
}

void wb_markdown(wb_buf *b, const char *md)
{
	/* CMARK_OPT_SAFE: raw HTML becomes a comment, javascript:, vbscript:,
	 * file: and data: (but images) links become empty */
	char *html = cmark_markdown_to_html(md, strlen(md), CMARK_OPT_DEFAULT | CMARK_OPT_SAFE);
	if (!html) {
		b->oom = 1;
		return;
	}
	wb_puts(b, html);
	free(html);
}

char *wb_when(char *out, size_t n, uint64_t us)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	if (!us) {
		snprintf(out, n, "never");
		return out;
	}
	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(out, n, "?");
	return out;
}

void wb_ago(wb_buf *b, uint64_t us)
{
	uint64_t now = hx_now_us();
	if (!us) {
		wb_puts(b, "never");
		return;
	}
	if (us > now) {
		wb_puts(b, "just now");
		return;
	}
	uint64_t s = (now - us) / 1000000u;
	if (s < 5)
		wb_puts(b, "just now");
	else if (s < 60)
		wb_printf(b, "%llu seconds ago", (unsigned long long)s);
	else if (s < 3600)
		wb_printf(b, "%llu minute%s ago", (unsigned long long)(s / 60), s < 120 ? "" : "s");
	else if (s < 86400)
		wb_printf(b, "%llu hour%s ago", (unsigned long long)(s / 3600),
		          s < 7200 ? "" : "s");
	else
		wb_printf(b, "%llu day%s ago", (unsigned long long)(s / 86400),
		          s < 172800 ? "" : "s");
}

void wb_partner_name(struct hx_web *w, const uint8_t key[HX_KEY_LEN], char *out, size_t n)
{
	hx_member m;
	if (!hx_member_load(w->ctx->store, key, &m)) {
		const char *name = hx_member_field(&m, "name");
		if (name && *name) {
			snprintf(out, n, "%s", name);
			hx_member_clear(&m);
			return;
		}
		hx_member_clear(&m);
	}
	char hex[2 * HX_KEY_LEN + 1];
	snprintf(out, n, "partner %.8s", hx_hex(hex, key, HX_KEY_LEN));
}

void wb_profile_dl(wb_buf *b, const hx_member *m)
{
	static const char *const labels[][2] = {
		{ "town", "Town" },       { "region", "Region" },
		{ "country", "Country" }, { "representative", "Representative" },
		{ "email", "E-mail" },    { "web", "Web" },
	};
	wb_puts(b, "<dl>");
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
		const char *v = hx_member_field(m, labels[i][0]);
		if (!v || !*v)
			continue;
		wb_printf(b, "<dt>%s</dt><dd>", labels[i][1]);
		if (!strcmp(labels[i][0], "web") && wb_is_web_link(v)) {
			wb_puts(b, "<a rel=\"nofollow noopener\" href=\"");
			wb_esc(b, v);
			wb_puts(b, "\">");
			wb_esc(b, v);
			wb_puts(b, "</a>");
		} else {
			wb_esc(b, v);
		}
		wb_puts(b, "</dd>");
	}
	wb_puts(b, "</dl>");
}

int wb_is_web_link(const char *v)
{
	return v && (!strncmp(v, "https://", 8) || !strncmp(v, "http://", 7));
}

/* A link to a document. */
void wb_doc_href(wb_buf *b, const uint8_t author[HX_KEY_LEN], const char *path)
{
	char hex[2 * HX_KEY_LEN + 1];
	wb_printf(b, "/doc?author=%s&amp;path=", hx_hex(hex, author, HX_KEY_LEN));
	wb_url(b, path);
}

/* A search link for q plus one more filter "name:value" (quoted when it
 * needs it); 0 when value cannot be written as a filter. */
int wb_filter_href(wb_buf *b, const char *q, const char *name, const char *value)
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
