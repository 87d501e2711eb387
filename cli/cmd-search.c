/*
 * cmd-search.c: `hansa search QUERY`: full-text search of the local
 * library. Prints rank, title, path, the author's organisation and a
 * snippet with the matched words highlighted (in colour on a terminal,
 * plain when piped), or with --json an array of results. Says when the
 * query was corrected, and in which other languages a hit exists. Everything
 * else (the query language, ranking, facets, typos, translations) is
 * store/search.c; the wording for the user is here.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "proto/member.h"
#include "store/search.h"

#define C_TITLE "\033[1m"
#define C_HL "\033[1;33m"
#define C_DIM "\033[2m"
#define C_OFF "\033[0m"

/* The author's organisation: the entry's org, else the member's name. */
static char *org_of(hx_store *s, const hx_hit *h)
{
	if (h->org && *h->org)
		return strdup(h->org);
	uint8_t *rec = NULL;
	size_t len;
	char *name = NULL;
	if (!hx_store_member_get(s, h->author, &rec, &len)) {
		hx_member m;
		if (!hx_member_decode(&m, rec, len)) {
			const char *n = hx_member_field(&m, "name");
			if (n && *n)
				name = strdup(n);
			hx_member_clear(&m);
		}
	}
	free(rec);
	if (!name) {
		char hex[2 * HX_KEY_LEN + 1], buf[32];
		hx_hex(hex, h->author, HX_KEY_LEN);
		snprintf(buf, sizeof buf, "partner %.8s", hex);
		name = strdup(buf);
	}
	return name;
}

static void print_snippet(const hx_hit *h, int colour)
{
	size_t pos = 0;
	fputs("    ", stdout);
	for (size_t i = 0; i < h->nhl; i++) {
		fwrite(h->snippet + pos, 1, h->hl[i].start - pos, stdout);
		if (colour)
			fputs(C_HL, stdout);
		fwrite(h->snippet + h->hl[i].start, 1, h->hl[i].end - h->hl[i].start, stdout);
		if (colour)
			fputs(C_OFF, stdout);
		pos = h->hl[i].end;
	}
	fputs(h->snippet + pos, stdout);
	fputc('\n', stdout);
}

static cJSON *hit_json(hx_store *s, const hx_hit *h)
{
	char hex[2 * HX_KEY_LEN + 1];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "rank", (double)h->rank);
	cJSON_AddStringToObject(o, "id", hx_hex(hex, h->id, HX_ID_LEN));
	cJSON_AddStringToObject(o, "path", h->path);
	cJSON_AddStringToObject(o, "author", hx_hex(hex, h->author, HX_KEY_LEN));
	char *org = org_of(s, h);
	cJSON_AddStringToObject(o, "org", org ? org : "");
	free(org);
	cJSON_AddStringToObject(o, "title", h->title);
	cJSON_AddStringToObject(o, "kind", h->kind);
	cJSON_AddStringToObject(o, "lang", h->lang);
	cJSON_AddNumberToObject(o, "score", h->score);
	cJSON_AddStringToObject(o, "snippet", h->snippet ? h->snippet : "");
	if (h->file)
		cJSON_AddStringToObject(o, "file", h->file);
	else
		cJSON_AddNullToObject(o, "file");
	cJSON_AddNumberToObject(o, "page", h->page);
	cJSON *al = cJSON_AddArrayToObject(o, "also_in");
	for (size_t i = 0; i < h->nalso; i++)
		cJSON_AddItemToArray(al, cJSON_CreateString(h->also_in[i]));
	cJSON *hl = cJSON_AddArrayToObject(o, "highlights");
	for (size_t i = 0; i < h->nhl; i++) {
		cJSON *r = cJSON_CreateArray();
		cJSON_AddItemToArray(r, cJSON_CreateNumber((double)h->hl[i].start));
		cJSON_AddItemToArray(r, cJSON_CreateNumber((double)h->hl[i].end));
		cJSON_AddItemToArray(hl, r);
	}
	return o;
}

cJSON *hx_search_json(hx_store *s, const hx_results *r, int facets, const char *query)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < r->nhits; i++)
		cJSON_AddItemToArray(arr, hit_json(s, &r->hits[i]));
	if (!facets && !r->corrected)
		return arr;
	cJSON *top = cJSON_CreateObject();
	cJSON_AddItemToObject(top, "results", arr);
	cJSON_AddNumberToObject(top, "total", (double)r->total);
	if (r->corrected) {
		cJSON_AddStringToObject(top, "corrected_query", r->corrected);
		cJSON_AddStringToObject(top, "original_query", query);
		cJSON_AddStringToObject(top, "search_instead", r->instead);
	}
	cJSON *fo = facets ? cJSON_AddObjectToObject(top, "facets") : NULL;
	for (size_t g = 0; fo && g < r->nfacets; g++) {
		cJSON *go = cJSON_AddObjectToObject(fo, r->facets[g].name);
		for (size_t i = 0; i < r->facets[g].n; i++)
			cJSON_AddNumberToObject(go, r->facets[g].v[i].value,
			                        (double)r->facets[g].v[i].count);
	}
	return top;
}

static int parse_count(const struct hx_args *a, const char *opt, size_t *out)
{
	const char *v = hx_arg_value(a, opt);
	char *end;
	if (!v)
		return 0;
	if (!*v || *v == '-')
		return hx_usage_error(a->top, "--%s wants a number", opt);
	unsigned long long n = strtoull(v, &end, 10);
	if (*end || n > 100000)
		return hx_usage_error(a->top, "--%s wants a number up to 100000, not '%s'", opt, v);
	*out = (size_t)n;
	return 0;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	hx_search_opts o = { 10, 0, 0, 0, 0, 0 };
	int json = hx_arg_count(a, "json"), rc;
	size_t qlen = 0;

	o.facets = hx_arg_count(a, "facets") > 0;
	if ((rc = parse_count(a, "limit", &o.limit)) || (rc = parse_count(a, "offset", &o.offset)))
		return rc;
	if (!o.limit)
		return hx_usage_error(a->top, "--limit must be at least 1");
	const char *lang = hx_arg_value(a, "lang");
	if (lang && (!*lang || *lang == '-' || strlen(lang) > HX_LANG_MAX))
		return hx_usage_error(a->top, "--lang wants a language code, e.g. --lang da");
	/* the query: the arguments joined by spaces */
	for (int i = 0; i < a->argc; i++)
		qlen += strlen(a->argv[i]) + 1;
	char *q = malloc(qlen + 1);
	if (!q)
		return hx_fail("out of memory");
	qlen = 0;
	for (int i = 0; i < a->argc; i++) {
		size_t al = strlen(a->argv[i]);
		if (qlen && al)
			q[qlen++] = ' ';
		memcpy(q + qlen, a->argv[i], al);
		qlen += al;
	}
	q[qlen] = 0;
	if (!qlen) {
		free(q);
		return hx_usage_error(a->top, "no query: what should I search for?");
	}
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s) {
		free(q);
		return HX_EXIT_FAIL;
	}
	hx_searcher *sr;
	hx_results r;
	char err[512];
	if ((rc = hx_searcher_new(&sr, s))) {
		free(q);
		return hx_fail("cannot search: %s", hx_strerror(rc));
	}
	rc = hx_searcher_set_lang(sr, lang);
	if (!rc)
		rc = hx_search(sr, q, &o, &r, err, sizeof err);
	hx_searcher_free(&sr);
	if (rc) {
		free(q);
		if (rc == HX_EINVAL)
			return hx_fail("bad query: %s", err);
		if (rc == HX_EVERSION)
			return hx_fail("%s: run 'hansa reindex'", err);
		return hx_fail("search failed: %s", err[0] ? err : hx_strerror(rc));
	}

	if (json) {
		hx_json_print(hx_search_json(s, &r, o.facets, q));
		if (!r.nhits && r.nsuggest)
			fprintf(stderr, "hansa: no results; did you mean: %s\n", r.suggest[0]);
		hx_results_clear(&r);
		free(q);
		return HX_EXIT_OK;
	}

	int colour = hx_isatty_out() && !getenv("NO_COLOR");
	if (r.corrected)
		printf("showing results for %s; search instead for %s\n", r.corrected, r.instead);
	if (!r.nhits) {
		if (r.nsuggest) {
			printf("no results; did you mean: %s", r.suggest[0]);
			for (size_t i = 1; i < r.nsuggest; i++)
				printf(" | %s", r.suggest[i]);
			printf("\n");
		} else {
			printf("no results\n");
		}
	}
	for (size_t i = 0; i < r.nhits; i++) {
		const hx_hit *h = &r.hits[i];
		char *org = org_of(s, h);
		printf("%3zu. %s%s%s\n", h->rank, colour ? C_TITLE : "", h->title,
		       colour ? C_OFF : "");
		printf("     %s%s  ·  %s  ·  %.2f", colour ? C_DIM : "", h->path, org ? org : "",
		       h->score);
		if (h->file && h->page)
			printf("  ·  %s, page %u", h->file, (unsigned)h->page);
		else if (h->file)
			printf("  ·  %s", h->file);
		for (size_t j = 0; j < h->nalso; j++)
			printf("%s%s", j ? ", " : "  ·  also in: ", h->also_in[j]);
		printf("%s\n", colour ? C_OFF : "");
		if (h->snippet && *h->snippet)
			print_snippet(h, colour);
		free(org);
	}
	if (o.facets) {
		printf("\n%llu match%s\n", (unsigned long long)r.total, r.total == 1 ? "" : "es");
		for (size_t g = 0; g < r.nfacets; g++) {
			if (!r.facets[g].n)
				continue;
			printf("%-8s", r.facets[g].name);
			for (size_t i = 0; i < r.facets[g].n; i++)
				printf("%s %s (%llu)", i ? "," : "", r.facets[g].v[i].value,
				       (unsigned long long)r.facets[g].v[i].count);
			printf("\n");
		}
	}
	hx_results_clear(&r);
	free(q);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "limit", 0, "N", "results to show (default 10)", 0 },
	{ "offset", 0, "N", "skip the first N results", 0 },
	{ "lang", 0, "L",
	  "show a document and its translations in language L (default: the "
	  "query's language, when it is clear)",
	  0 },
	{ "json", 0, NULL,
	  "an array of {rank, id, path, author, org, title, kind, lang, score, "
	  "snippet, file, page, also_in, highlights} (file: the attachment the words are in, "
	  "null when in the entry; page: its page, 0 when none); with --facets, or when the query was corrected, an "
	  "object {results, total, facets, corrected_query, original_query, search_instead}",
	  0 },
	{ "facets", 0, NULL, "counts per tag, kind, lang and country over all matches", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_search = {
	.name = "search",
	.summary = "full-text search of the library",
	.args = "[--] QUERY...",
	.args_min = 1,
	.args_max = -1,
	.args_error = "no query: what should I search for?",
	.opts = opts,
	.flags = HX_CMD_DASH_ARGS,
	.text = "Searches the current version of every document, ranked by relevance\n"
	        "(BM25: title above tags above body; exact word forms above other forms\n"
	        "of the same stem). Case and diacritics do not matter: bialystok finds\n"
	        "Białystok. Words are stemmed in each document's language.\n"
	        "\n"
	        "Query language (words are ANDed):\n"
	        "  word            the word or another form of it (practices, practice)\n"
	        "  \"two words\"     the exact words, next to each other\n"
	        "  pref*           any word starting with pref (2 letters or more)\n"
	        "  -word           without this word (also -\"a phrase\", -lang:de)\n"
	        "  a OR b          either (binds tighter than AND)\n"
	        "  (a OR b) c      parentheses group; a group of several words cannot\n"
	        "                  be joined with OR\n"
	        "  tag:T kind:K lang:L org:O country:C author:HEX   filters; a trailing *\n"
	        "                  matches a prefix (tag:game::*); quote values with spaces\n"
	        "                  (org:\"Region Nord\")\n"
	        "  since:YYYY-MM-DD until:YYYY-MM-DD   by the document's timestamp (UTC)\n"
	        "\n"
	        "When nothing matches (or little, through another language's word\n"
	        "forms), a query with a typo is corrected and run: \"showing results for\n"
	        "...; search instead for ...\" (quoted words are never corrected). A\n"
	        "document and its translations (translation_of: PATH in the front\n"
	        "matter) are one result, \"also in: da, de\". A bad query gets one line\n"
	        "saying what is wrong and exit status 1.\n",
	.exec = exec,
};
