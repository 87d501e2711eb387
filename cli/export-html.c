/*
 * export-html.c: `hansa export --html DIR`: the library as a self-contained
 * static web site that works opened from the file system: index.html
 * (search, and the documents grouped by kind, partner and tag), one page per
 * current document (Markdown rendered by cmark in its safe mode, so raw HTML
 * in a body is dropped and javascript: links are emptied; every other text
 * is HTML-escaped), a page per group, and client-side search over an index
 * generated here and embedded as a script file (search-index.js), since a
 * page opened from file:// may not fetch JSON. No external resources; a
 * Content-Security-Policy allows only the site's own scripts and styles.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
#include <cmark.h>
#include <cjson/cJSON.h>
#include "cli/docmap.h"
#include "cli/site-assets.h"
#include "cli/site-files.h"
#include "cli/offline.h"
#include "cli/profile.h"
#include "proto/member.h"
#include "store/tokenize.h"

#define INLINE_MAX 50     /* documents listed inside a group on the index */
#define TAGS_ON_INDEX 100 /* most used tags shown on the index */
#define MARKER ".hansa-site"

/* ---- the site's data ------------------------------------------------------ */

struct doc {
	char *url; /* relative to DIR, e.g. doc/practices/x.html */
	char *title;
	char *kind;
	uint32_t partner;
};

struct partner {
	uint8_t key[HX_KEY_LEN];
	char *name, *town, *region, *country;
	char page[64]; /* partner/HEX16.html */
};

struct site {
	const char *dir;
	hx_store *s;
	struct doc *docs;
	size_t ndocs, capdocs;
	struct partner *partners;
	size_t npartners;
	struct hx_docmap kinds, tags, terms, authors;
	cJSON *profile; /* this node's profile, for its own name and town */
	uint8_t own[HX_KEY_LEN];
	uint64_t failed;
	struct hx_progress prog;
};

/* ---- HTML output ---------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
	hx_site_esc(f, s);
}

/* "../" once per folder level of rel (a path relative to DIR). */
static void up(FILE *f, const char *rel)
{
	for (; *rel; rel++)
		if (*rel == '/')
			fputs("../", f);
}

static void head(FILE *f, const char *rel, const char *title, const char *lang)
{
	fputs("<!DOCTYPE html>\n<html lang=\"", f);
	esc(f, lang ? lang : "en");
	fputs("\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "script-src 'self'; style-src 'self'; img-src 'self' data:; "
	      "form-action 'self'; base-uri 'none'\">\n<title>",
	      f);
	esc(f, title);
	fputs("</title>\n<link rel=\"stylesheet\" href=\"", f);
	up(f, rel);
	fputs("hansa.css\">\n</head>\n<body>\n<header><a href=\"", f);
	up(f, rel);
	fputs("index.html\">Library</a></header>\n<main>\n", f);
}

static void foot(FILE *f)
{
	fputs("</main>\n<footer>Exported from a hansa node. Every document is signed by the "
	      "partner that wrote it.</footer>\n</body>\n</html>\n",
	      f);
}

/* A link to document d from a page at rel. */
static void doc_link(FILE *f, struct site *x, const char *rel, uint32_t d)
{
	const struct doc *doc = &x->docs[d];
	fputs("<li><a href=\"", f);
	up(f, rel);
	esc(f, doc->url);
	fputs("\">", f);
	esc(f, doc->title[0] ? doc->title : "(untitled)");
	fputs("</a> <span class=\"meta\">", f);
	esc(f, doc->kind);
	fputs(" · ", f);
	esc(f, x->partners[doc->partner].name);
	fputs("</span></li>\n", f);
}

static void partner_place(FILE *f, const struct partner *p)
{
	const char *parts[3] = { p->town, p->region, p->country };
	int any = 0;
	for (int i = 0; i < 3; i++) {
		if (!parts[i] || !parts[i][0])
			continue;
		fputs(any ? ", " : "", f);
		esc(f, parts[i]);
		any = 1;
	}
	if (!any)
		fputs("place not known", f);
}

/* Opens DIR/rel for writing (creating folders). Prints and returns NULL on
 * failure. */
static FILE *open_page(struct site *x, struct hx_outfile *o, const char *rel)
{
	char full[4096];
	if (snprintf(full, sizeof full, "%s/%s", x->dir, rel) >= (int)sizeof full) {
		hx_fail("%s/%s: name too long", x->dir, rel);
		return NULL;
	}
	char *slash = strrchr(full, '/');
	*slash = 0;
	int rc = hx_mkdirs(full, 0755);
	*slash = '/';
	if (rc) {
		hx_fail("%s: %s", full, strerror(errno));
		return NULL;
	}
	if (hx_outfile_open(o, full))
		return NULL;
	o->nosync = 1;
	return o->f;
}

static int close_page(struct site *x, struct hx_outfile *o)
{
	if (hx_outfile_commit(o)) {
		x->failed++;
		return -1;
	}
	return 0;
}

/* ---- partners ------------------------------------------------------------- */

static char *dupe(const char *s)
{
	return strdup(s ? s : "");
}

static const char *profile_str(const cJSON *p, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* The partner number of author, adding it (with what the member records or
 * this node's profile say about it) on first sight. */
static int partner_of(struct site *x, const uint8_t *author, uint32_t *out)
{
	char hex[2 * HX_KEY_LEN + 1];
	struct hx_docmap_slot *sl = hx_docmap_get(&x->authors, hx_hex(hex, author, HX_KEY_LEN));
	if (!sl)
		return HX_ENOMEM;
	if (sl->n) {
		*out = sl->v[0];
		return HX_OK;
	}
	struct partner *ps = realloc(x->partners, (x->npartners + 1) * sizeof *ps);
	if (!ps)
		return HX_ENOMEM;
	x->partners = ps;
	struct partner *p = &ps[x->npartners];
	memset(p, 0, sizeof *p);
	memcpy(p->key, author, HX_KEY_LEN);
	snprintf(p->page, sizeof p->page, "partner/%.16s.html", hex);
	uint8_t *rec = NULL;
	size_t len;
	if (!memcmp(author, x->own, HX_KEY_LEN) && x->profile) {
		p->name = dupe(profile_str(x->profile, "name"));
		p->town = dupe(profile_str(x->profile, "town"));
		p->region = dupe(profile_str(x->profile, "region"));
		p->country = dupe(profile_str(x->profile, "country"));
	} else if (!hx_store_member_get(x->s, author, &rec, &len)) {
		hx_member m;
		if (!hx_member_decode(&m, rec, len)) {
			p->name = dupe(hx_member_field(&m, "name"));
			p->town = dupe(hx_member_field(&m, "town"));
			p->region = dupe(hx_member_field(&m, "region"));
			p->country = dupe(hx_member_field(&m, "country"));
			hx_member_clear(&m);
		}
	}
	free(rec);
	if (!p->name || !p->name[0]) {
		free(p->name);
		char shortname[32];
		snprintf(shortname, sizeof shortname, "partner %.8s", hex);
		p->name = strdup(shortname);
	}
	if (!p->town)
		p->town = dupe(NULL);
	if (!p->region)
		p->region = dupe(NULL);
	if (!p->country)
		p->country = dupe(NULL);
	if (!p->name || !p->town || !p->region || !p->country)
		return HX_ENOMEM;
	*out = (uint32_t)x->npartners++;
	return hx_docmap_add(sl, *out) ? HX_ENOMEM : HX_OK;
}

/* ---- one document --------------------------------------------------------- */

static int add_terms(struct site *x, const char *text, uint32_t d)
{
	hx_tokenizer t;
	hx_token tok;
	hx_tok_init(&t, text, strlen(text));
	while (hx_tok_next(&t, &tok)) {
		struct hx_docmap_slot *sl = hx_docmap_get(&x->terms, tok.word);
		if (!sl || hx_docmap_add(sl, d))
			return HX_ENOMEM;
	}
	return HX_OK;
}

static int is_web_link(const char *v)
{
	return !strncmp(v, "https://", 8) || !strncmp(v, "http://", 7);
}

static void write_doc_page(struct site *x, FILE *f, const hx_entry *e, const struct doc *doc,
                           const struct partner *p)
{
	char when[32], hex[2 * HX_ID_LEN + 1];
	const char *rel = doc->url;

	head(f, rel, e->title[0] ? e->title : "(untitled)", e->lang);
	fputs("<article>\n<h1>", f);
	esc(f, e->title[0] ? e->title : "(untitled)");
	fputs("</h1>\n<p class=\"meta\"><a href=\"", f);
	up(f, rel);
	fputs("kind/", f);
	esc(f, e->kind);
	fputs(".html\">", f);
	esc(f, e->kind);
	fputs("</a> · by <a href=\"", f);
	up(f, rel);
	esc(f, p->page);
	fputs("\">", f);
	esc(f, p->name);
	fputs("</a> (", f);
	partner_place(f, p);
	fputs(") · ", f);
	esc(f, hx_time_text(when, sizeof when, e->timestamp));
	fputs(" · language ", f);
	esc(f, e->lang);
	fputs("</p>\n", f);
	if (e->ntags) {
		fputs("<ul class=\"tags\">", f);
		for (size_t i = 0; i < e->ntags; i++) {
			struct hx_docmap_slot *sl = hx_docmap_get(&x->tags, e->tags[i]);
			fputs("<li><a href=\"", f);
			up(f, rel);
			fprintf(f, "tag/t%u.html\">", sl ? sl->id : 0);
			esc(f, e->tags[i]);
			fputs("</a></li>", f);
		}
		fputs("</ul>\n", f);
	}
	char *html = cmark_markdown_to_html(e->body, strlen(e->body),
	                                    CMARK_OPT_DEFAULT | CMARK_OPT_SAFE);
	fputs("<div class=\"body\">\n", f);
	if (html)
		fputs(html, f);
	free(html);
	fputs("</div>\n", f);
	if (e->nmeta) {
		fputs("<table class=\"metadata\">\n", f);
		for (size_t i = 0; i < e->nmeta; i++) {
			fputs("<tr><th>", f);
			esc(f, e->meta[i].key);
			fputs("</th><td>", f);
			if (is_web_link(e->meta[i].value)) {
				fputs("<a href=\"", f);
				esc(f, e->meta[i].value);
				fputs("\" rel=\"nofollow noopener\">", f);
				esc(f, e->meta[i].value);
				fputs("</a>", f);
			} else {
				esc(f, e->meta[i].value);
			}
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	hx_site_files(f, x->s, x->dir, rel, e, &x->failed);
	fputs("<p class=\"sig\">Path <code>", f);
	esc(f, e->path);
	fputs("</code> · entry <code>", f);
	fputs(hx_hex(hex, e->id, HX_ID_LEN), f);
	fputs("</code> · signed by <code>", f);
	fputs(hx_hex(hex, e->author, HX_KEY_LEN), f);
	fputs("</code></p>\n</article>\n", f);
	foot(f);
}

static int one_doc(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct site *x = arg;
	uint8_t authors[2][HX_KEY_LEN];
	size_t nauth;
	char rel[HX_PATH_MAX + 48];
	int rc;
	(void)raw;
	(void)len;

	if (x->ndocs == UINT32_MAX)
		return HX_ELIMIT;
	if ((rc = hx_store_path_authors(x->s, e->path, authors, 2, &nauth)))
		return rc;
	memcpy(rel, "doc/", 4);
	if (hx_doc_file(rel + 4, sizeof rel - 4, e, nauth > 1, "html"))
		return HX_ELIMIT;
	struct doc *v = hx_grow(x->docs, &x->capdocs, x->ndocs + 1, sizeof *v);
	if (!v)
		return HX_ENOMEM;
	x->docs = v;
	uint32_t d = (uint32_t)x->ndocs, p;
	struct doc *doc = &x->docs[d];
	memset(doc, 0, sizeof *doc);
	doc->url = strdup(rel);
	doc->title = strdup(e->title);
	doc->kind = strdup(e->kind);
	x->ndocs++;
	if (!doc->url || !doc->title || !doc->kind || (rc = partner_of(x, e->author, &p)))
		return HX_ENOMEM;
	doc->partner = p;
	struct hx_docmap_slot *k = hx_docmap_get(&x->kinds, e->kind);
	if (!k || hx_docmap_add(k, d))
		return HX_ENOMEM;
	for (size_t i = 0; i < e->ntags; i++) {
		struct hx_docmap_slot *t = hx_docmap_get(&x->tags, e->tags[i]);
		if (!t || hx_docmap_add(t, d))
			return HX_ENOMEM;
	}
	if ((rc = add_terms(x, e->title, d)) || (rc = add_terms(x, e->body, d)))
		return rc;
	for (size_t i = 0; i < e->ntags; i++)
		if ((rc = add_terms(x, e->tags[i], d)))
			return rc;
	for (size_t i = 0; i < e->nmeta; i++)
		if ((rc = add_terms(x, e->meta[i].value, d)))
			return rc;
	if ((rc = add_terms(x, x->partners[p].name, d)) ||
	    (rc = add_terms(x, x->partners[p].town, d)))
		return rc;

	struct hx_outfile o;
	FILE *f = open_page(x, &o, rel);
	if (!f) {
		x->failed++;
		return 0;
	}
	write_doc_page(x, f, e, doc, &x->partners[p]);
	close_page(x, &o);
	hx_progress_update(&x->prog, x->ndocs);
	return 0;
}

/* ---- group pages and the index -------------------------------------------- */

static struct site *sort_site; /* qsort has no context argument */

static int by_title(const void *a, const void *b)
{
	const struct doc *x = &sort_site->docs[*(const uint32_t *)a];
	const struct doc *y = &sort_site->docs[*(const uint32_t *)b];
	int c = strcmp(x->title, y->title);
	return c ? c : strcmp(x->url, y->url);
}

static void sort_docs(struct site *x, struct hx_docmap_slot *s)
{
	sort_site = x;
	qsort(s->v, s->n, sizeof *s->v, by_title);
}

/* A page listing the documents of one group. */
static void group_page(struct site *x, const char *rel, const char *what, const char *name,
                       const struct partner *p, struct hx_docmap_slot *s)
{
	struct hx_outfile o;
	char title[600];
	FILE *f = open_page(x, &o, rel);
	if (!f) {
		x->failed++;
		return;
	}
	snprintf(title, sizeof title, "%s: %s", what, name);
	head(f, rel, title, "en");
	fputs("<h1>", f);
	esc(f, what);
	fputs(": ", f);
	esc(f, name);
	fputs("</h1>\n", f);
	if (p) {
		fputs("<p class=\"meta\">", f);
		partner_place(f, p);
		fputs(" · key <code>", f);
		char hex[2 * HX_KEY_LEN + 1];
		fputs(hx_hex(hex, p->key, HX_KEY_LEN), f);
		fputs("</code></p>\n", f);
	}
	fprintf(f, "<p>%u document%s</p>\n<ul class=\"docs\">\n", s->n, s->n == 1 ? "" : "s");
	for (uint32_t i = 0; i < s->n; i++)
		doc_link(f, x, rel, s->v[i]);
	fputs("</ul>\n", f);
	foot(f);
	close_page(x, &o);
}

/* One <details> group on the index. */
static void index_group(FILE *f, struct site *x, const char *label, const char *extra,
                        const char *page, struct hx_docmap_slot *s, uint32_t inline_max)
{
	fputs("<details><summary>", f);
	esc(f, label);
	if (extra) {
		fputs(" <span class=\"meta\">", f);
		fputs(extra, f); /* already HTML */
		fputs("</span>", f);
	}
	fprintf(f, " <span class=\"count\">(%u)</span></summary>\n<ul class=\"docs\">\n", s->n);
	for (uint32_t i = 0; i < s->n && i < inline_max; i++)
		doc_link(f, x, "index.html", s->v[i]);
	fputs("</ul>\n<p><a href=\"", f);
	esc(f, page);
	fprintf(f, "\">all %u →</a></p></details>\n", s->n);
}

static char *place_html(const struct partner *p)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return NULL;
	fputs("— ", m);
	partner_place(m, p);
	fclose(m);
	return buf;
}

static int write_groups_and_index(struct site *x)
{
	struct hx_docmap_slot **kinds = hx_docmap_slots(&x->kinds),
	                      **tags = hx_docmap_slots(&x->tags);
	struct hx_docmap_slot **parts = hx_docmap_slots(&x->authors);
	int rc = HX_ENOMEM;
	char rel[128];

	if (!kinds || !tags || !parts)
		goto out;
	qsort(kinds, x->kinds.n, sizeof *kinds, hx_docmap_by_key);
	qsort(tags, x->tags.n, sizeof *tags, hx_docmap_by_count);
	/* partners by name */
	for (size_t i = 0; i < x->kinds.n; i++) {
		sort_docs(x, kinds[i]);
		snprintf(rel, sizeof rel, "kind/%s.html", kinds[i]->key);
		group_page(x, rel, "Kind", kinds[i]->key, NULL, kinds[i]);
	}
	for (size_t i = 0; i < x->tags.n; i++) {
		sort_docs(x, tags[i]);
		snprintf(rel, sizeof rel, "tag/t%u.html", tags[i]->id);
		group_page(x, rel, "Tag", tags[i]->key, NULL, tags[i]);
	}
	/* The partner slots hold the partner number; their documents are
	 * gathered here. */
	struct hx_docmap_slot *pdocs = calloc(x->npartners ? x->npartners : 1, sizeof *pdocs);
	if (!pdocs)
		goto out;
	for (uint32_t d = 0; d < x->ndocs; d++)
		if (hx_docmap_add(&pdocs[x->docs[d].partner], d))
			goto outp;
	for (size_t i = 0; i < x->npartners; i++) {
		sort_docs(x, &pdocs[i]);
		group_page(x, x->partners[i].page, "Partner", x->partners[i].name, &x->partners[i],
		           &pdocs[i]);
	}

	struct hx_outfile o;
	FILE *f = open_page(x, &o, "index.html");
	if (!f) {
		x->failed++;
		rc = HX_OK;
		goto outp;
	}
	head(f, "index.html", "Library", "en");
	fprintf(f, "<h1>Library</h1>\n<p>%zu documents from %zu partner%s.</p>\n", x->ndocs,
	        x->npartners, x->npartners == 1 ? "" : "s");
	fputs("<form id=\"search\" action=\"index.html\" method=\"get\" role=\"search\">\n"
	      "<input id=\"q\" name=\"q\" type=\"search\" placeholder=\"Search the library\" "
	      "aria-label=\"Search the library\">\n<button type=\"submit\">Search</button>\n</form>\n"
	      "<p id=\"count\" class=\"meta\"></p>\n<ol id=\"results\"></ol>\n",
	      f);
	fputs("<section id=\"by-kind\"><h2>By kind</h2>\n", f);
	for (size_t i = 0; i < x->kinds.n; i++) {
		snprintf(rel, sizeof rel, "kind/%s.html", kinds[i]->key);
		index_group(f, x, kinds[i]->key, NULL, rel, kinds[i], INLINE_MAX);
	}
	fputs("</section>\n<section id=\"by-partner\"><h2>By partner</h2>\n", f);
	for (size_t i = 0; i < x->npartners; i++) {
		char *place = place_html(&x->partners[i]);
		index_group(f, x, x->partners[i].name, place, x->partners[i].page, &pdocs[i],
		            INLINE_MAX);
		free(place);
	}
	fputs("</section>\n<section id=\"by-tag\"><h2>By tag</h2>\n", f);
	for (size_t i = 0; i < x->tags.n && i < TAGS_ON_INDEX; i++) {
		snprintf(rel, sizeof rel, "tag/t%u.html", tags[i]->id);
		index_group(f, x, tags[i]->key, NULL, rel, tags[i], 20);
	}
	if (x->tags.n > TAGS_ON_INDEX) {
		fprintf(f, "<details><summary>all %zu tags</summary>\n<ul class=\"tagcloud\">\n",
		        x->tags.n);
		qsort(tags, x->tags.n, sizeof *tags, hx_docmap_by_key);
		for (size_t i = 0; i < x->tags.n; i++) {
			fprintf(f, "<li><a href=\"tag/t%u.html\">", tags[i]->id);
			esc(f, tags[i]->key);
			fprintf(f, "</a> (%u)</li>\n", tags[i]->n);
		}
		fputs("</ul></details>\n", f);
	}
	fputs("</section>\n<script src=\"search-index.js\"></script>\n"
	      "<script src=\"search.js\"></script>\n",
	      f);
	foot(f);
	close_page(x, &o);
	rc = HX_OK;
outp:
	for (size_t i = 0; i < x->npartners; i++)
		free(pdocs[i].v);
	free(pdocs);
out:
	free(kinds);
	free(tags);
	free(parts);
	return rc;
}

/* ---- the search index ----------------------------------------------------- */

/* A JSON string (escaped by cJSON). */
static void json_str(FILE *f, const char *s)
{
	cJSON *v = cJSON_CreateStringReference(s);
	char *t = v ? cJSON_PrintUnformatted(v) : NULL;
	fputs(t ? t : "\"\"", f);
	free(t);
	cJSON_Delete(v);
}

/*
 * search-index.js: window.HX_INDEX = {
 *   docs:  [[url, title, kind, partner name], ...],
 *   terms: [folded word, ...] sorted bytewise (= code point order),
 *   post:  [[delta-coded document numbers], ...] one list per term }
 */
static int write_index(struct site *x)
{
	struct hx_docmap_slot **terms = hx_docmap_slots(&x->terms);
	struct hx_outfile o;
	if (!terms)
		return HX_ENOMEM;
	qsort(terms, x->terms.n, sizeof *terms, hx_docmap_by_key);
	FILE *f = open_page(x, &o, "search-index.js");
	if (!f) {
		free(terms);
		x->failed++;
		return HX_OK;
	}
	fputs("/* generated by hansa export --html: the search index */\n"
	      "window.HX_INDEX = {\"docs\":[",
	      f);
	for (size_t d = 0; d < x->ndocs; d++) {
		fputs(d ? ",\n[" : "\n[", f);
		json_str(f, x->docs[d].url);
		fputc(',', f);
		json_str(f, x->docs[d].title);
		fputc(',', f);
		json_str(f, x->docs[d].kind);
		fputc(',', f);
		json_str(f, x->partners[x->docs[d].partner].name);
		fputc(']', f);
	}
	fputs("],\n\"terms\":[", f);
	for (size_t i = 0; i < x->terms.n; i++) {
		fputs(i ? "," : "", f);
		json_str(f, terms[i]->key);
	}
	fputs("],\n\"post\":[", f);
	for (size_t i = 0; i < x->terms.n; i++) {
		fputs(i ? ",\n[" : "\n[", f);
		uint32_t prev = 0;
		for (uint32_t j = 0; j < terms[i]->n; j++) {
			fprintf(f, j ? ",%u" : "%u", terms[i]->v[j] - prev);
			prev = terms[i]->v[j];
		}
		fputc(']', f);
	}
	fputs("]};\n", f);
	free(terms);
	close_page(x, &o);
	return HX_OK;
}

/* ---- static files --------------------------------------------------------- */

static int write_static(struct site *x, const char *rel, const char *text)
{
	struct hx_outfile o;
	FILE *f = open_page(x, &o, rel);
	if (!f) {
		x->failed++;
		return -1;
	}
	fputs(text, f);
	return close_page(x, &o);
}

/* DIR must be missing, empty, or an earlier export (it holds MARKER): the
 * export overwrites files and must not do so in someone's home folder. */
static int check_dir(const char *dir)
{
	char marker[4200];
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : hx_fail("%s: %s", dir, strerror(errno));
	struct dirent *de;
	int empty = 1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	snprintf(marker, sizeof marker, "%s/%s", dir, MARKER);
	if (!empty && access(marker, F_OK))
		return hx_fail("%s is not empty and not an earlier 'hansa export --html' site; "
		               "choose a new folder",
		               dir);
	return 0;
}

int hx_export_html(struct hx_ctx *ctx, const char *dir, int json)
{
	struct site x = { .dir = dir };
	hx_store_stats st;
	int rc, ret = HX_EXIT_FAIL;
	char marker[4200];

	if (!(x.s = hx_ctx_store(ctx, 0)) || hx_own_key(ctx, x.own))
		return HX_EXIT_FAIL;
	if (check_dir(dir))
		return HX_EXIT_FAIL;
	if (hx_mkdirs(dir, 0755))
		return hx_fail("%s: %s", dir, strerror(errno));
	snprintf(marker, sizeof marker, "%s/%s", dir, MARKER);
	FILE *mf = fopen(marker, "w");
	if (!mf)
		return hx_fail("%s: %s", marker, strerror(errno));
	int bad = fputs("made by hansa export --html\n", mf) < 0;
	if (fclose(mf) || bad) /* once: fclose frees mf even when it fails */
		return hx_fail("%s: %s", marker, strerror(errno));
	x.profile = hx_profile_load(ctx->home);
	if (!x.profile)
		return HX_EXIT_FAIL;
	hx_progress_start(&x.prog, "exporting",
	                  hx_store_stats_get(x.s, &st) == HX_OK ? st.documents : 0);
	if ((rc = hx_store_list(x.s, NULL, one_doc, &x))) {
		hx_progress_end(&x.prog);
		hx_fail("export to %s failed: %s", dir, hx_strerror(rc));
		goto out;
	}
	hx_progress_end(&x.prog);
	if ((rc = write_groups_and_index(&x)) || (rc = write_index(&x))) {
		hx_fail("export to %s failed: %s", dir, hx_strerror(rc));
		goto out;
	}
	write_static(&x, "hansa.css", hx_site_css);
	write_static(&x, "search.js", hx_site_js);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "dir", dir);
		cJSON_AddNumberToObject(o, "documents", (double)x.ndocs);
		cJSON_AddNumberToObject(o, "partners", (double)x.npartners);
		cJSON_AddNumberToObject(o, "kinds", (double)x.kinds.n);
		cJSON_AddNumberToObject(o, "tags", (double)x.tags.n);
		cJSON_AddNumberToObject(o, "terms", (double)x.terms.n);
		cJSON_AddNumberToObject(o, "failed", (double)x.failed);
		hx_json_print(o);
	} else {
		size_t dl = strlen(dir);
		printf("wrote a site of %zu document%s from %zu partner%s to %s (open %s%sindex.html)",
		       x.ndocs, x.ndocs == 1 ? "" : "s", x.npartners, x.npartners == 1 ? "" : "s",
		       dir, dir, dl && dir[dl - 1] == '/' ? "" : "/");
		if (x.failed)
			printf("; %llu files could not be written", (unsigned long long)x.failed);
		printf("\n");
	}
	ret = x.failed ? HX_EXIT_FAIL : HX_EXIT_OK;
out:
	for (size_t i = 0; i < x.ndocs; i++) {
		free(x.docs[i].url);
		free(x.docs[i].title);
		free(x.docs[i].kind);
	}
	free(x.docs);
	for (size_t i = 0; i < x.npartners; i++) {
		free(x.partners[i].name);
		free(x.partners[i].town);
		free(x.partners[i].region);
		free(x.partners[i].country);
	}
	free(x.partners);
	hx_docmap_free(&x.kinds);
	hx_docmap_free(&x.tags);
	hx_docmap_free(&x.terms);
	hx_docmap_free(&x.authors);
	cJSON_Delete(x.profile);
	return ret;
}
