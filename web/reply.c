/*
 * reply.c: the helpers every page of the web app uses while it answers a
 * request: a growable text buffer with HTML and URL escaping, the request's
 * query arguments, form fields and uploaded files, the pool of searchers,
 * the hidden CSRF field of a form, and JSON and redirect responses. It sits
 * below the pages, html.c and server.c and calls none of them.
 */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <cjson/cJSON.h>
#include "web/web_int.h"

/* ---- buffer ----------------------------------------------------------------- */

void wb_put(wb_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	char *p = hx_grow(b->p, &b->cap, b->n + n + 1, 1);
	if (!p) {
		b->oom = 1;
		return;
	}
	b->p = p;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

void wb_puts(wb_buf *b, const char *s)
{
	wb_put(b, s, strlen(s));
}

void wb_printf(wb_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		wb_put(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	wb_put(b, big, (size_t)n);
	free(big);
}

void wb_escn(wb_buf *b, const char *s, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		wb_put(b, s + from, i - from);
		wb_puts(b, rep);
		from = i + 1;
	}
	wb_put(b, s + from, n - from);
}

void wb_esc(wb_buf *b, const char *s)
{
	wb_escn(b, s ? s : "", s ? strlen(s) : 0);
}

void wb_url(wb_buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
			wb_put(b, s, 1);
		} else {
			char e[3] = { '%', hexd[c >> 4], hexd[c & 15] };
			wb_put(b, e, 3);
		}
	}
}

void wb_free(wb_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* ---- request input ----------------------------------------------------------- */

const char *wb_arg(struct wb_req *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!v || !hx_utf8_valid(v, strlen(v)))
		return NULL;
	return v;
}

static struct wb_field *field_find(struct wb_req *r, const char *name)
{
	for (size_t i = 0; i < r->nf; i++)
		if (!strcmp(r->f[i].key, name))
			return &r->f[i];
	return NULL;
}

const char *wb_form(struct wb_req *r, const char *name, size_t *len)
{
	struct wb_field *f = field_find(r, name);
	if (!f || f->filename || !hx_utf8_valid(f->val ? f->val : "", f->len))
		return NULL;
	if (len)
		*len = f->len;
	return f->val ? f->val : "";
}

const struct wb_field *wb_file(struct wb_req *r, const char *name)
{
	struct wb_field *f = field_find(r, name);
	return f && f->filename ? f : NULL;
}

/* ---- searchers ---------------------------------------------------------------- */

hx_searcher *wb_searcher_get(hx_web *w)
{
	hx_searcher *sr = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->nidle)
		sr = w->idle[--w->nidle];
	pthread_mutex_unlock(&w->mu);
	if (!sr && hx_searcher_new(&sr, w->ctx->store))
		return NULL;
	return sr;
}

void wb_searcher_put(hx_web *w, hx_searcher *sr)
{
	pthread_mutex_lock(&w->mu);
	if (w->nidle < sizeof w->idle / sizeof w->idle[0]) {
		w->idle[w->nidle++] = sr;
		sr = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	hx_searcher_free(&sr);
}

/* ---- CSRF field and responses ---------------------------------------------- */

void wb_csrf_field(struct wb_req *r)
{
	wb_printf(&r->out, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", r->csrf);
}

void wb_redirect(struct wb_req *r, const char *url)
{
	r->status = MHD_HTTP_SEE_OTHER;
	snprintf(r->location, sizeof r->location, "%s", url);
	r->ctype = "text/plain; charset=utf-8";
	r->out.n = 0;
	wb_puts(&r->out, "see other\n");
}

void wb_json(struct wb_req *r, int status, cJSON *v)
{
	char *s = v ? cJSON_Print(v) : NULL;
	cJSON_Delete(v);
	r->status = s ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
	r->ctype = "application/json";
	r->out.n = 0;
	wb_puts(&r->out, s ? s : "{\"error\":\"out of memory\"}");
	wb_puts(&r->out, "\n");
	free(s);
}

void wb_json_error(struct wb_req *r, int status, const char *text)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", text);
	wb_json(r, status, o);
}
