/*
 * cmd-export.c: `hansa export`: the dispatcher for every export format:
 * --format jsonl (here: the live documents in the corpus format that
 * `hansa import` reads), --bundle (export-bundle.c), --markdown
 * (export-markdown.c) and --html (export-html.c).
 */
#include <getopt.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/offline.h"

const struct hx_cmd hx_cmd_export;

static int jsonl_one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	FILE *out = arg;
	cJSON *o = cJSON_CreateObject(), *tags;
	(void)raw; (void)len;
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

static int exec(struct hx_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, 0, 'f' }, { "author", required_argument, 0, 'a' },
		{ "out", required_argument, 0, 'o' }, { "bundle", required_argument, 0, 'b' },
		{ "missing-from", required_argument, 0, 's' },
		{ "markdown", required_argument, 0, 'm' }, { "html", required_argument, 0, 'H' },
		{ "json", no_argument, 0, 'j' }, { 0, 0, 0, 0 }
	};
	const char *format = NULL, *outname = NULL, *bundle = NULL, *state = NULL;
	const char *markdown = NULL, *html = NULL;
	uint8_t author[HX_KEY_LEN];
	int c, have_author = 0, json = 0;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'o': outname = optarg; break;
		case 'b': bundle = optarg; break;
		case 's': state = optarg; break;
		case 'm': markdown = optarg; break;
		case 'H': html = optarg; break;
		case 'j': json = 1; break;
		case 'a':
			if (hx_parse_key(optarg, author))
				return HX_EXIT_FAIL;
			have_author = 1;
			break;
		default: return hx_usage_error(&hx_cmd_export, "unknown option or missing value '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc)
		return hx_usage_error(&hx_cmd_export, "unexpected argument '%s'", argv[optind]);
	if (!!format + !!bundle + !!markdown + !!html != 1)
		return hx_usage_error(&hx_cmd_export,
				      "choose one of --bundle FILE, --markdown DIR, --html DIR, --format jsonl");
	if (state && !bundle)
		return hx_usage_error(&hx_cmd_export, "--missing-from goes with --bundle");
	if ((outname || have_author) && !format && !markdown)
		return hx_usage_error(&hx_cmd_export, "%s goes with --format jsonl",
				      outname ? "-o" : "--author");
	if (bundle)
		return hx_export_bundle(ctx, bundle, state, json);
	if (markdown)
		return hx_export_markdown(ctx, markdown, have_author ? author : NULL, json);
	if (html)
		return hx_export_html(ctx, html, json);
	if (strcmp(format, "jsonl"))
		return hx_usage_error(&hx_cmd_export, "unknown --format '%s' (jsonl)", format);
	if (json)
		return hx_usage_error(&hx_cmd_export, "--json does not go with --format jsonl");
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

const struct hx_cmd hx_cmd_export = {
	.name = "export",
	.summary = "export a bundle, a Markdown folder, a static web site or JSON lines",
	.usage =
	"usage: hansa export --bundle FILE [--missing-from STATE] [--json]\n"
	"       hansa export --markdown DIR [--author KEY] [--json]\n"
	"       hansa export --html DIR [--json]\n"
	"       hansa export --format jsonl [--author KEY] [-o FILE]\n"
	"\n"
	"--bundle FILE   every entry (all versions, deletions included), signed by\n"
	"                this partner, in one file for 'hansa import FILE' at an\n"
	"                office without a link. With --missing-from STATE (a file\n"
	"                from 'hansa state' at that office) only what it lacks, plus\n"
	"                a small excess the summary states.\n"
	"--markdown DIR  one .md file per current document (YAML front matter, then\n"
	"                the body), in folders following the paths; a path that\n"
	"                several partners use gets '~' and the author's first 8 hex\n"
	"                digits. Edit and re-import with 'hansa import DIR'.\n"
	"--html DIR      a self-contained static web site: an index grouped by kind,\n"
	"                tag and partner, one page per document, and search that\n"
	"                works from the file system without a server.\n"
	"--format jsonl  the live documents as JSON lines in the format\n"
	"                'hansa import' reads, to FILE or stdout.\n"
	"Files are written under a temporary name and renamed when complete.\n",
	.exec = exec,
};
