/*
 * page_publish.c: the web app's Publish/Edit page (a form with preview;
 * saving signs a new version with this partner's key) and Delete page
 * (after a confirmation page), and wb_publish and wb_delete, which the API
 * uses as well. Partner content is escaped everywhere.
 */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "web/web_int.h"
#include "node/state.h"
#include "proto/member.h"

int wb_publish(hx_web *w, hx_entry *d, char *err, size_t errlen)
{
	const char *why;
	if (hx_entry_check_why(d, &why)) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (hx_cli_publish(w->ctx, d)) {
		snprintf(err, errlen,
		         "it could not be saved in the store (the node's log says why)");
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
		snprintf(err, errlen,
		         rc == HX_ENOTFOUND ? (deleted ? "it is already deleted"
		                                       : "you have no document at this address")
		                            : "the store cannot be read");
		return -1;
	}
	hx_entry t = { .path = cur.path,
		       .kind = HX_KIND_TOMBSTONE,
		       .title = "",
		       .body = "",
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

static void form_html(struct wb_req *r, const struct draft_form *f, int editing,
                      const char *problem, int preview)
{
	wb_buf *b = &r->out;
	wb_head(r, editing ? "Edit" : "Publish", editing ? WB_NAV_NONE : WB_NAV_PUBLISH);
	wb_puts(b, editing ? "<h1>Edit a document</h1>\n" : "<h1>Publish a document</h1>\n");
	wb_puts(b, "<p class=\"intro\">Saving signs the document with your organisation's key. "
	           "Every partner receives it; an edit becomes a new version, and the old ones "
	           "stay in its history.</p>\n");
	if (problem) {
		wb_puts(b, "<p class=\"error\" id=\"problem\">This was not saved: ");
		wb_esc(b, problem);
		wb_puts(b, "</p>\n");
	}
	wb_puts(b, "<form method=\"post\" action=\"/publish\" class=\"publish\" id=\"publish\" "
	           "enctype=\"multipart/form-data\">");
	wb_csrf_field(r);
	if (editing) {
		wb_puts(b, "<input type=\"hidden\" name=\"path\" value=\"");
		wb_esc(b, f->path);
		wb_puts(b,
		        "\"><input type=\"hidden\" name=\"editing\" value=\"1\"><p>Address: <code>");
		wb_esc(b, f->path);
		wb_puts(b, "</code></p>");
	}
	wb_puts(b, "<label>Title <input name=\"title\" id=\"f-title\" required maxlength=\"512\" "
	           "value=\"");
	wb_esc(b, f->title);
	wb_puts(b, "\"></label>\n<div class=\"row\"><label>Kind <input name=\"kind\" id=\"f-kind\" "
	           "list=\"kinds\" value=\"");
	wb_esc(b, f->kind && *f->kind ? f->kind : "practice");
	wb_puts(b, "\"></label><datalist id=\"kinds\"><option value=\"practice\"><option "
	           "value=\"toolkit\">"
	           "<option value=\"case\"><option value=\"event\"><option "
	           "value=\"contact\"><option value=\"note\"></datalist>\n"
	           "<label>Language <input name=\"lang\" id=\"f-lang\" size=\"6\" value=\"");
	wb_esc(b, f->lang && *f->lang ? f->lang : "en");
	wb_puts(b, "\"></label></div>\n<label>Tags <small>(separated by commas)</small> <input "
	           "name=\"tags\" id=\"f-tags\" value=\"");
	wb_esc(b, f->tags);
	wb_puts(b, "\"></label>\n");
	if (!editing) {
		wb_puts(b, "<label>Address <small>(optional; made from the title when empty, e.g. "
		           "practices/innovation-brokerage)</small> <input name=\"path\" "
		           "id=\"f-path\" value=\"");
		wb_esc(b, f->path);
		wb_puts(b, "\"></label>\n");
	}
	wb_puts(b, "<label>Details <small>(one per line, such as <code>org: Region Zealand</code>, "
	           "<code>country: DK</code>, <code>url: https://…</code>)</small>"
	           "<textarea name=\"meta\" id=\"f-meta\" rows=\"3\">");
	wb_esc(b, f->meta);
	wb_puts(b,
	        "</textarea></label>\n<label>Text <small>(Markdown: # heading, *emphasis*, - lists, "
	        "[link](https://…))</small><textarea name=\"body\" id=\"f-body\" rows=\"14\">");
	wb_esc(b, f->body);
	wb_puts(b, "</textarea></label>\n<label>Attach a file <small>(a toolkit, a casebook: PDF, "
	           "office documents, ...; it is kept with this version and shared with the "
	           "partners)</small><input type=\"file\" name=\"file\" id=\"f-file\"></label>\n");
	wb_puts(b, "<p class=\"actions\"><button type=\"submit\" "
	           "name=\"action\" value=\"save\" id=\"save\">Save and share</button> "
	           "<button type=\"submit\" name=\"action\" value=\"preview\" "
	           "id=\"preview-button\" class=\"secondary\">Preview</button></p>"
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
                                   hx_entry *d, char **tagv, hx_meta *metav, char *path,
                                   size_t pathlen)
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
			wb_message(
			        r, MHD_HTTP_NOT_FOUND, "Nothing to edit",
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
	                                     : draft_from_form(w, &f, tags, meta, &d, tagv, metav,
	                                                       path, sizeof path);
	/* the files of the version being replaced stay, an upload is added
	 * (or replaces the one of its name) */
	hx_entry cur;
	hx_attach files[HX_ATTACH_MAX];
	int have_cur = !problem && !hx_store_current(w->ctx->store, w->ctx->pk, d.path, &cur, NULL);
	if (!problem) {
		d.nattach = 0;
		for (size_t i = 0; have_cur && i < cur.nattach && i < HX_ATTACH_MAX; i++)
			files[d.nattach++] = cur.attach[i];
		d.attach = files;
		problem = wb_attach_upload(w, wb_file(r, "file"), files, &d.nattach);
	}
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
	if (have_cur)
		hx_entry_clear(&cur);
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
		           deleted ? "This document is already deleted."
		                   : "You have no document at this address.");
		return;
	}
	wb_head(r, "Delete?", WB_NAV_NONE);
	wb_puts(b, "<h1>Delete this document?</h1>\n<p class=\"confirm\">“");
	wb_esc(b, e.title);
	wb_puts(b,
	        "” will disappear from the library here and at every partner. Its history stays, "
	        "so it can be read again later.</p>\n<form method=\"post\" action=\"/delete\">");
	wb_csrf_field(r);
	wb_puts(b, "<input type=\"hidden\" name=\"path\" value=\"");
	wb_esc(b, path);
	wb_puts(b, "\"><button type=\"submit\" class=\"danger\" id=\"confirm-delete\">Yes, delete "
	           "it</button> <a href=\"");
	wb_doc_href(b, w->ctx->pk, path);
	wb_puts(b, "\">No, keep it</a></form>\n");
	hx_entry_clear(&e);
	wb_foot(r);
}
