/*
 * cmd-show.c: `hansa show PATH|ID`: one document's current version (or
 * one entry by id), with its body.
 */
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/attach.h"
#include "cli/cli.h"
#include "store/org.h"

static void print_entry(struct hx_ctx *ctx, const hx_entry *e, const char *by)
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
	if (*by)
		printf("signed by: %s\n", by);
	printf("time:      %s\n", hx_time_text(when, sizeof when, e->timestamp));
	printf("id:        %s\n", hx_hex(hex, e->id, HX_ID_LEN));
	hx_cli_attach_print(ctx, e);
	if (*e->body)
		printf("\n%s\n", e->body);
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *authorarg = hx_arg_value(a, "author");
	uint8_t author[HX_KEY_LEN];
	int json = hx_arg_count(a, "json");
	hx_entry e;

	if (authorarg && hx_parse_key(authorarg, author))
		return HX_EXIT_FAIL;
	if (hx_resolve_doc(ctx, a->argv[0], authorarg ? author : NULL, &e))
		return HX_EXIT_FAIL;
	char by[HX_DEVICE_NAME_MAX + 40];
	hx_store_signer_name(ctx->store, &e, by, sizeof by);
	if (json) {
		cJSON *o = hx_entry_json(&e, 1);
		cJSON_AddStringToObject(o, "signed_by", by);
		hx_json_print(o);
	} else {
		print_entry(ctx, &e, by);
	}
	hx_entry_clear(&e);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "author", 0, "KEY",
	  "the document of this partner (64 hex digits), when several have one at "
	  "PATH",
	  0 },
	{ "json", 0, NULL,
	  "one JSON object: id, path, author, timestamp, kind, title, tags, lang, "
	  "meta, body",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_show = {
	.name = "show",
	.summary = "show a document (current version) or an entry by id",
	.args = "PATH|ID",
	.args_min = 1,
	.args_max = 1,
	.args_error = "give one PATH or ID",
	.opts = opts,
	.text = "Shows the current version of the document at PATH (this partner's own, or\n"
	        "the only partner's with that path; --author chooses), or the entry with\n"
	        "ID (64 hex digits), with its body.\n",
	.exec = exec,
};
