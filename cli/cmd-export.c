/*
 * cmd-export.c: `hansa export --format jsonl`: writes the live documents
 * back in the corpus format that `hansa import` reads.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"

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
		{ "out", required_argument, 0, 'o' }, { 0, 0, 0, 0 }
	};
	const char *format = NULL, *outname = NULL;
	uint8_t author[HX_KEY_LEN];
	int c, have_author = 0;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'o': outname = optarg; break;
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
	if (!format || strcmp(format, "jsonl"))
		return hx_usage_error(&hx_cmd_export, "choose --format jsonl");
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	FILE *out = outname ? fopen(outname, "w") : stdout;
	if (!out)
		return hx_fail("%s: %s", outname, strerror(errno));
	int rc = hx_store_list(s, have_author ? author : NULL, jsonl_one, out);
	if (fflush(out) && !rc)
		rc = HX_EIO;
	if (outname && fclose(out) && !rc)
		rc = HX_EIO;
	if (rc)
		return hx_fail("export failed: %s", hx_strerror(rc));
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_export = {
	.name = "export",
	.summary = "export documents",
	.usage =
	"usage: hansa export --format jsonl [--author KEY] [-o FILE]\n"
	"\n"
	"Writes the current version of every live document (or one author's) as\n"
	"JSON lines in the format 'hansa import' reads, to FILE or stdout.\n",
	.exec = exec,
};
