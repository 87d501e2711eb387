/*
 * cmd-show.c: `hansa show PATH|ID`: one document's current version (or
 * one entry by id), with its body.
 */
#include <getopt.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"

const struct hx_cmd hx_cmd_show;

static void print_entry(const hx_entry *e)
{
	char hex[2 * HX_ID_LEN + 1], when[40];
	printf("%s\n", e->title);
	printf("path:      %s\n", e->path);
	printf("kind:      %s\n", e->kind);
	printf("lang:      %s\n", e->lang);
	if (e->ntags) {
		printf("tags:      ");
		for (size_t i = 0; i < e->ntags; i++)
			printf("%s%s", i ? ", " : "", e->tags[i]);
		printf("\n");
	}
	for (size_t i = 0; i < e->nmeta; i++)
		printf("%-10s %s\n", e->meta[i].key, e->meta[i].value);
	printf("author:    %s\n", hx_hex(hex, e->author, HX_KEY_LEN));
	printf("time:      %s\n", hx_time_text(when, sizeof when, e->timestamp));
	printf("id:        %s\n", hx_hex(hex, e->id, HX_ID_LEN));
	if (*e->body)
		printf("\n%s\n", e->body);
}

static int exec(struct hx_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "author", required_argument, 0, 'a' }, { "json", no_argument, 0, 'j' },
		{ 0, 0, 0, 0 }
	};
	uint8_t author[HX_KEY_LEN];
	int c, json = 0, have_author = 0;
	hx_entry e;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a') {
			if (hx_parse_key(optarg, author))
				return HX_EXIT_FAIL;
			have_author = 1;
		} else if (c == 'j') {
			json = 1;
		} else {
			return hx_usage_error(&hx_cmd_show, "unknown option or missing value '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return hx_usage_error(&hx_cmd_show, "give one PATH or ID");
	if (hx_resolve_doc(ctx, argv[optind], have_author ? author : NULL, &e))
		return HX_EXIT_FAIL;
	if (json)
		hx_json_print(hx_entry_json(&e, 1));
	else
		print_entry(&e);
	hx_entry_clear(&e);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_show = {
	.name = "show",
	.summary = "show a document (current version) or an entry by id",
	.usage =
	"usage: hansa show [--author KEY] [--json] PATH|ID\n"
	"\n"
	"Shows the current version of the document at PATH (this partner's own, or\n"
	"the only partner's with that path; --author chooses), or the entry with\n"
	"ID (64 hex digits), with its body.\n"
	"  --json   one JSON object: id, path, author, timestamp, kind, title, tags,\n"
	"           lang, meta, body\n",
	.exec = exec,
};
