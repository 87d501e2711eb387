/*
 * page_doc.c: the web app's Document page: the body as Markdown through
 * cmark's safe mode, its metadata, the author's profile, the history of
 * its versions and a line diff of any two of them. Partner content is
 * escaped everywhere.
 */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "web/web_int.h"
#include "node/state.h"
#include "proto/member.h"
#include "store/org.h"

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
				t[i * (k + 1) + j] =
				        line_eq(&a[pre + i], &c[pre + j])
				                ? t[(i + 1) * (k + 1) + j + 1] + 1
				                : (t[(i + 1) * (k + 1) + j] > t[i * (k + 1) + j + 1]
				                           ? t[(i + 1) * (k + 1) + j]
				                           : t[i * (k + 1) + j + 1]);
		size_t i = 0, j = 0;
		while (i < m || j < k) {
			if (i < m && j < k && line_eq(&a[pre + i], &c[pre + j])) {
				diff_line(b, ' ', &a[pre + i]);
				i++, j++;
			} else if (i < m &&
			           (j == k || t[(i + 1) * (k + 1) + j] >= t[i * (k + 1) + j + 1])) {
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
		wb_printf(b,
		          "<p>A partner whose profile this node does not have (key "
		          "%.16s…).</p></aside>\n",
		          hx_hex(hex, key, HX_KEY_LEN));
		return;
	}
	const char *name = hx_member_field(&m, "name");
	wb_printf(b, "<p class=\"name\"><a href=\"/partners#p%.16s\">",
	          hx_hex(hex, key, HX_KEY_LEN));
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

/* "pre NAME post" when a device (or a rotated organisation key) signed e:
 * the device's name from its record (FORMAT.md §1.8.1), escaped. */
static void signed_by(struct wb_req *r, const hx_entry *e, const char *pre, const char *post)
{
	char by[HX_DEVICE_NAME_MAX + 40];
	hx_store_signer_name(r->w->ctx->store, e, by, sizeof by);
	if (!*by)
		return;
	wb_puts(&r->out, pre);
	wb_esc(&r->out, by);
	wb_puts(&r->out, post);
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
	wb_puts(b, "\"><table><thead><tr><th>From</th><th>To</th><th>When</th><th>Title</th></tr></"
	           "thead><tbody>\n");
	for (size_t i = vs->n; i-- > 0;) {
		const hx_entry *e = &vs->v[i];
		hx_hex(hex, e->id, HX_ID_LEN);
		wb_printf(b,
		          "<tr><td><input type=\"radio\" name=\"a\" value=\"%s\"%s "
		          "aria-label=\"compare from\"></td>"
		          "<td><input type=\"radio\" name=\"b\" value=\"%s\"%s "
		          "aria-label=\"compare to\"></td><td>%s</td><td>",
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
			signed_by(r, e, " · by ", "");
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
	if (!ahex || !path || strlen(ahex) != 2 * HX_KEY_LEN ||
	    hx_unhex(author, HX_KEY_LEN, ahex)) {
		wb_message(r, MHD_HTTP_BAD_REQUEST, "No such document",
		           "This address does not name a document.");
		return;
	}
	struct versions vs = { 0 };
	int rc = hx_store_history(w->ctx->store, author, path, version_cb, &vs);
	if (rc || !vs.n) {
		versions_free(&vs);
		wb_message(r, MHD_HTTP_NOT_FOUND, "No such document",
		           "This library has no document at this address (yet: it may still be on "
		           "its way).");
		return;
	}
	/* the current version is the greatest (timestamp, id): the last */
	const hx_entry *cur = &vs.v[vs.n - 1], *shown = cur;
	const char *v = wb_arg(r, "v");
	if (v && !(shown = find_version(&vs, v)))
		shown = cur;
	const hx_entry *a = find_version(&vs, wb_arg(r, "a")),
	               *c = find_version(&vs, wb_arg(r, "b"));
	if (!a && !c && vs.n > 1) {
		a = &vs.v[vs.n - 2];
		c = cur;
	}
	int own = !memcmp(author, w->ctx->pk, HX_KEY_LEN), deleted = hx_entry_is_tombstone(cur);
	if (hx_entry_is_tombstone(shown) && vs.n > 1 && shown == cur)
		shown = &vs.v[vs.n - 2];

	wb_head(r, shown->title[0] ? shown->title : "(untitled)", WB_NAV_NONE);
	if (wb_arg(r, "saved"))
		wb_puts(b, "<p class=\"notice\" id=\"saved\">Saved and signed. The partners "
		           "receive it as soon as they are connected.</p>\n");
	wb_puts(b, "<div class=\"doc-layout\"><article class=\"doc\">\n");
	if (deleted)
		wb_puts(b, "<p class=\"notice\">This document was deleted by its author. Its "
		           "history stays.</p>\n");
	else if (shown != cur)
		wb_puts(b, "<p class=\"notice\">You are reading an older version. <a "
		           "href=\"#history\">See the history</a>.</p>\n");
	wb_puts(b, "<h1 id=\"title\">");
	wb_esc(b, shown->title[0] ? shown->title : "(untitled)");
	wb_puts(b, "</h1>\n<p class=\"meta\"><span class=\"kind\">");
	wb_esc(b, shown->kind);
	wb_printf(b, "</span> · updated %s · language ",
	          wb_when(when, sizeof when, shown->timestamp));
	wb_esc(b, shown->lang);
	wb_puts(b, "</p>\n");
	if (shown->ntags) {
		wb_puts(b, "<ul class=\"tags\">");
		for (size_t i = 0; i < shown->ntags; i++) {
			wb_buf link = { 0 };
			if (wb_filter_href(&link, "", "tag", shown->tags[i]) && !link.oom)
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
		wb_puts(b,
		        "<p class=\"actions\"><a class=\"button\" id=\"edit\" href=\"/publish?path=");
		wb_url(b, path);
		wb_puts(b,
		        "\">Edit</a> <a class=\"button danger\" id=\"delete\" href=\"/delete?path=");
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
	wb_files_html(b, w->ctx->store, author, path, shown);
	wb_puts(b, "<p class=\"sig\">Address <code>");
	wb_esc(b, path);
	wb_printf(b, "</code> · version <code>%.16s</code> · ", hx_hex(hex, shown->id, HX_ID_LEN));
	if (shown->has_signer)
		signed_by(r, shown, "signed by ", " for the author</p>\n");
	else
		wb_puts(b, "signed by the author's key</p>\n");
	history_html(r, &vs, ahex, path, a, c);
	wb_puts(b, "</article>\n");
	profile_box(r, author);
	wb_puts(b, "</div>\n");
	versions_free(&vs);
	wb_foot(r);
}
