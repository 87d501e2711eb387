/*
 * cmd-export.c: `hansa export`: the dispatcher for every export format:
 * --format jsonl (here: the live documents in the corpus format that
 * `hansa import` reads), --bundle (export-bundle.c), --markdown
 * (export-markdown.c) and --html (export-html.c).
 */
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/offline.h"

static int jsonl_one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	FILE *out = arg;
	cJSON *o = cJSON_CreateObject(), *tags;
	(void)raw;
	(void)len;
	if (!o)
		return HX_ENOMEM;
	cJSON_AddStringToObject(o, "doc", e->path);
	cJSON_AddStringToObject(o, "kind", e->kind);
	cJSON_AddStringToObject(o, "title", e->title);
	cJSON_AddStringToObject(o, "body", e->body);
	tags = cJSON_AddArrayToObject(o, "tags");
	for (size_t i = 0; i < e->ntags; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(e->tags[i]));
	cJSON_AddStringToObject(o, "lang", e->lang);
	for (size_t i = 0; i < e->nmeta; i++)
		cJSON_AddStringToObject(o, e->meta[i].key, e->meta[i].value);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		return HX_ENOMEM;
	int bad = fputs(s, out) < 0 || fputc('\n', out) < 0;
	cJSON_free(s);
	return bad ? HX_EIO : 0;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *format = hx_arg_value(a, "format"), *outname = hx_arg_value(a, "out");
	const char *bundle = hx_arg_value(a, "bundle"), *state = hx_arg_value(a, "missing-from");
	const char *markdown = hx_arg_value(a, "markdown"), *html = hx_arg_value(a, "html");
	const char *authorarg = hx_arg_value(a, "author");
	uint8_t author[HX_KEY_LEN];
	int have_author = !!authorarg, json = hx_arg_count(a, "json");

	if (authorarg && hx_parse_key(authorarg, author))
		return HX_EXIT_FAIL;
	if (!!format + !!bundle + !!markdown + !!html != 1)
		return hx_usage_error(
		        a->top,
		        "choose one of --bundle FILE, --markdown DIR, --html DIR, --format jsonl");
	if (state && !bundle)
		return hx_usage_error(a->top, "--missing-from goes with --bundle");
	if (hx_arg_count(a, "without-files") && !bundle)
		return hx_usage_error(a->top, "--without-files goes with --bundle");
	if ((outname || have_author) && !format && !markdown)
		return hx_usage_error(a->top, "%s goes with --format jsonl",
		                      outname ? "-o" : "--author");
	if (bundle)
		return hx_export_bundle(ctx, bundle, state, hx_arg_count(a, "without-files"), json);
	if (markdown)
		return hx_export_markdown(ctx, markdown, have_author ? author : NULL, json);
	if (html)
		return hx_export_html(ctx, html, json);
	if (strcmp(format, "jsonl"))
		return hx_usage_error(a->top, "unknown --format '%s' (jsonl)", format);
	if (json)
		return hx_usage_error(a->top, "--json does not go with --format jsonl");
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	if (!outname) {
		int rc = hx_store_list(s, have_author ? author : NULL, jsonl_one, stdout);
		if (fflush(stdout) && !rc)
			rc = HX_EIO;
		return rc ? hx_fail("export failed: %s", hx_strerror(rc)) : HX_EXIT_OK;
	}
	/* -o FILE: written under a temporary name and renamed when complete,
	 * as the usage says, so a failed export never leaves half a file. */
	struct hx_outfile out;
	if (hx_outfile_open(&out, outname))
		return HX_EXIT_FAIL;
	int rc = hx_store_list(s, have_author ? author : NULL, jsonl_one, out.f);
	if (rc) {
		hx_outfile_abort(&out);
		return hx_fail("export failed: %s", hx_strerror(rc));
	}
	return hx_outfile_commit(&out) ? HX_EXIT_FAIL : HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "bundle", 0, "FILE",
	  "every entry (all versions, deletions included), signed by this "
	  "partner, in one file for 'hansa import FILE' at an office without a link",
	  0 },
	{ "missing-from", 0, "STATE",
	  "with --bundle: only what the office of STATE (a file from "
	  "'hansa state' there) lacks, plus a small excess the summary states",
	  0 },
	{ "without-files", 0, NULL,
	  "with --bundle: leave the attached files out (entries only; the importing "
	  "office lists the files as missing until a partner sends them)",
	  0 },
	{ "markdown", 0, "DIR",
	  "one .md file per current document (YAML front matter, then the "
	  "body), in folders following the paths; a path that several partners use gets '~' and the "
	  "author's first 8 hex digits. Edit and re-import with 'hansa import DIR'.",
	  0 },
	{ "html", 0, "DIR",
	  "a self-contained static web site: an index grouped by kind, tag and "
	  "partner, one page per document, and search that works from the file system without a "
	  "server",
	  0 },
	{ "format", 0, "jsonl",
	  "the live documents as JSON lines in the format 'hansa import' reads, "
	  "to FILE or stdout",
	  0 },
	{ "author", 0, "KEY", "with --format jsonl or --markdown: only this partner's documents",
	  0 },
	{ "out", 'o', "FILE", "with --format jsonl: write to FILE instead of stdout", 0 },
	{ "json", 0, NULL, "print the summary as one JSON object (not with --format jsonl)", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_export = {
	.name = "export",
	.summary = "export a bundle, a Markdown folder, a static web site or JSON lines",
	.opts = opts,
	.text = "Writes the library in one of four forms, chosen by one of the options:\n"
	        "  hansa export --bundle FILE [--missing-from STATE] [--without-files] [--json]\n"
	        "A bundle carries the files the current versions attach that this node has\n"
	        "(with --missing-from, only those the office lacks).\n"
	        "  hansa export --markdown DIR [--author KEY] [--json]\n"
	        "  hansa export --html DIR [--json]\n"
	        "  hansa export --format jsonl [--author KEY] [-o FILE]\n"
	        "Files are written under a temporary name and renamed when complete.\n",
	.exec = exec,
};
