/*
 * api.c: the JSON API under /api/ (docs/API.md), in the shapes the CLI's
 * --json prints: search, document (show), history, list, status, and
 * publish and delete (POST with the CSRF token in X-CSRF-Token), plus the
 * preview the publish form uses and the token itself for scripts.
 */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <cjson/cJSON.h>
#include "web/web_int.h"

static int arg_key(struct wb_req *r, const char *name, uint8_t key[HX_KEY_LEN])
{
	const char *v = wb_arg(r, name);
	return v && strlen(v) == 2 * HX_KEY_LEN && !hx_unhex(key, HX_KEY_LEN, v);
}

static size_t arg_count(struct wb_req *r, const char *name, size_t dflt, size_t max)
{
	const char *v = wb_arg(r, name);
	char *end;
	if (!v || !*v)
		return dflt;
	unsigned long long n = strtoull(v, &end, 10);
	return *end ? dflt : n > max ? max : (size_t)n;
}

static void api_search(struct wb_req *r)
{
	const char *q = wb_arg(r, "q");
	const char *facets = wb_arg(r, "facets");
	if (!q || !*q) {
		wb_json_error(r, MHD_HTTP_BAD_REQUEST, "no query: give q=");
		return;
	}
	hx_search_opts o = { .limit = arg_count(r, "limit", 10, 1000),
		             .offset = arg_count(r, "offset", 0, 100000),
		             .facets = facets && strcmp(facets, "0") };
	if (!o.limit)
		o.limit = 10;
	hx_searcher *sr = wb_searcher_get(r->w);
	hx_results res;
	char err[512] = "";
	int rc = sr ? hx_search(sr, q, &o, &res, err, sizeof err) : HX_ENOMEM;
	if (sr)
		wb_searcher_put(r->w, sr);
	if (rc) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s: %s", rc == HX_EINVAL ? "bad query" : "search failed",
		         err[0] ? err : hx_strerror(rc));
		wb_json_error(
		        r, rc == HX_EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR,
		        msg);
		return;
	}
	cJSON *out = hx_search_json(r->w->ctx->store, &res, o.facets, q);
	if (o.facets) {
		cJSON *sg = cJSON_AddArrayToObject(out, "suggest");
		for (size_t i = 0; i < res.nsuggest; i++)
			cJSON_AddItemToArray(sg, cJSON_CreateString(res.suggest[i]));
	}
	hx_results_clear(&res);
	wb_json(r, MHD_HTTP_OK, out);
}

static void api_document(struct wb_req *r)
{
	uint8_t author[HX_KEY_LEN], id[HX_ID_LEN];
	const char *path = wb_arg(r, "path"), *idhex = wb_arg(r, "id");
	hx_entry e;
	int rc, deleted = 0;
	if (idhex) {
		if (strlen(idhex) != 2 * HX_ID_LEN || hx_unhex(id, HX_ID_LEN, idhex)) {
			wb_json_error(r, MHD_HTTP_BAD_REQUEST, "id: 64 hex digits");
			return;
		}
		rc = hx_store_get(r->w->ctx->store, id, &e, NULL, NULL);
	} else if (path && arg_key(r, "author", author)) {
		rc = hx_store_current(r->w->ctx->store, author, path, &e, &deleted);
	} else {
		wb_json_error(r, MHD_HTTP_BAD_REQUEST, "give author= and path=, or id=");
		return;
	}
	if (rc) {
		wb_json_error(
		        r, rc == HX_ENOTFOUND ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR,
		        rc == HX_ENOTFOUND ? (deleted ? "deleted" : "no such document")
		                           : hx_strerror(rc));
		return;
	}
	wb_json(r, MHD_HTTP_OK, hx_entry_json(&e, 1));
	hx_entry_clear(&e);
}

struct listing {
	cJSON *arr;
	const char *kind, *tag;
};

static int list_one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct listing *l = arg;
	(void)raw;
	(void)len;
	if (l->kind && strcmp(e->kind, l->kind))
		return 0;
	if (l->tag) {
		size_t i;
		for (i = 0; i < e->ntags && strcmp(e->tags[i], l->tag); i++)
			;
		if (i == e->ntags)
			return 0;
	}
	cJSON_AddItemToArray(l->arr, hx_entry_json(e, 0));
	return 0;
}

static void api_list(struct wb_req *r, int history)
{
	uint8_t author[HX_KEY_LEN];
	int have_author = arg_key(r, "author", author);
	struct listing l = { cJSON_CreateArray(), wb_arg(r, "kind"), wb_arg(r, "tag") };
	int rc;
	if (history) {
		const char *path = wb_arg(r, "path");
		if (!path || !have_author) {
			cJSON_Delete(l.arr);
			wb_json_error(r, MHD_HTTP_BAD_REQUEST, "give author= and path=");
			return;
		}
		l.kind = l.tag = NULL;
		rc = hx_store_history(r->w->ctx->store, author, path, list_one, &l);
		if (!rc && !cJSON_GetArraySize(l.arr)) {
			cJSON_Delete(l.arr);
			wb_json_error(r, MHD_HTTP_NOT_FOUND, "no such document");
			return;
		}
	} else {
		rc = hx_store_list(r->w->ctx->store, have_author ? author : NULL, list_one, &l);
	}
	if (rc) {
		cJSON_Delete(l.arr);
		wb_json_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, hx_strerror(rc));
		return;
	}
	wb_json(r, MHD_HTTP_OK, l.arr);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && hx_utf8_valid(v->valuestring, strlen(v->valuestring))
	               ? v->valuestring
	               : NULL;
}

static void api_publish(struct wb_req *r)
{
	cJSON *in = r->raw ? cJSON_ParseWithLength(r->raw, r->nraw) : NULL;
	char *tagv[HX_TAGS_MAX];
	hx_meta metav[HX_META_MAX];
	char err[256];
	if (!cJSON_IsObject(in)) {
		cJSON_Delete(in);
		wb_json_error(r, MHD_HTTP_BAD_REQUEST,
		              "send a JSON object: path, title, kind, tags, lang, meta, body");
		return;
	}
	hx_entry d = {
		.path = (char *)jstr(in, "path"),
		.title = (char *)jstr(in, "title"),
		.kind = (char *)jstr(in, "kind"),
		.lang = (char *)jstr(in, "lang"),
		.body = (char *)jstr(in, "body"),
	};
	if (!d.kind)
		d.kind = "practice";
	if (!d.lang)
		d.lang = "en";
	if (!d.body)
		d.body = "";
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "tags"), *t;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(in, "meta");
	const char *problem = !d.path    ? "path: missing"
	                      : !d.title ? "title: missing"
	                      : hx_entry_is_tombstone(&d)
	                              ? "kind 'tombstone' is reserved; use /api/delete"
	                              : NULL;
	cJSON_ArrayForEach(t, tags)
	{
		if (!cJSON_IsString(t) || d.ntags == HX_TAGS_MAX) {
			problem = "tags: at most 64 strings";
			break;
		}
		tagv[d.ntags++] = t->valuestring;
	}
	cJSON_ArrayForEach(t, meta)
	{
		if (!cJSON_IsString(t) || d.nmeta == HX_META_MAX) {
			problem = "meta: an object of at most 32 string values";
			break;
		}
		metav[d.nmeta].key = t->string;
		metav[d.nmeta++].value = t->valuestring;
	}
	d.tags = tagv;
	d.meta = metav;
	if (problem || wb_publish(r->w, &d, err, sizeof err)) {
		wb_json_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT, problem ? problem : err);
	} else {
		r->status = MHD_HTTP_CREATED;
		wb_json(r, MHD_HTTP_CREATED, hx_entry_json(&d, 0));
	}
	cJSON_Delete(in);
}

static void api_delete(struct wb_req *r)
{
	cJSON *in = r->raw ? cJSON_ParseWithLength(r->raw, r->nraw) : NULL;
	const char *path = in ? jstr(in, "path") : wb_form(r, "path", NULL);
	uint8_t id[HX_ID_LEN];
	char err[256], hex[2 * HX_ID_LEN + 1];
	if (!path) {
		wb_json_error(r, MHD_HTTP_BAD_REQUEST, "give {\"path\": ...}");
	} else if (wb_delete(r->w, path, id, err, sizeof err)) {
		wb_json_error(r, MHD_HTTP_NOT_FOUND, err);
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "deleted", path);
		cJSON_AddStringToObject(o, "id", hx_hex(hex, id, HX_ID_LEN));
		wb_json(r, MHD_HTTP_OK, o);
	}
	cJSON_Delete(in);
}

void wb_api(struct wb_req *r)
{
	const char *u = r->url + 5;
	if (!strcmp(u, "preview") && r->post) {
		const char *body = wb_form(r, "body", NULL);
		r->ctype = "text/html; charset=utf-8";
		wb_markdown(&r->out, body ? body : "");
	} else if (!strcmp(u, "publish") && r->post) {
		api_publish(r);
	} else if (!strcmp(u, "delete") && r->post) {
		api_delete(r);
	} else if (r->post) {
		wb_json_error(r, MHD_HTTP_NOT_FOUND, "no such API call");
	} else if (!strcmp(u, "search")) {
		api_search(r);
	} else if (!strcmp(u, "document")) {
		api_document(r);
	} else if (!strcmp(u, "history")) {
		api_list(r, 1);
	} else if (!strcmp(u, "list")) {
		api_list(r, 0);
	} else if (!strcmp(u, "status")) {
		cJSON *s = wb_status_json(r->w);
		if (s)
			wb_json(r, MHD_HTTP_OK, s);
		else
			wb_json_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the store");
	} else if (!strcmp(u, "csrf")) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "csrf", r->csrf);
		wb_json(r, MHD_HTTP_OK, o);
	} else {
		wb_json_error(r, MHD_HTTP_NOT_FOUND, "no such API call");
	}
}
