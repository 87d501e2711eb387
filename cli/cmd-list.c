/*
 * cmd-list.c: `hansa list`: the live documents, filtered by author, kind
 * or tag.
 */
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"

struct filter {
	const char *kind, *tag;
	int json;
	cJSON *out;
	size_t count;
};

static int one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct filter *f = arg;
	(void)raw;
	(void)len;
	if (f->kind && strcmp(e->kind, f->kind))
		return 0;
	if (f->tag) {
		size_t i;
		for (i = 0; i < e->ntags && strcmp(e->tags[i], f->tag); i++)
			;
		if (i == e->ntags)
			return 0;
	}
	f->count++;
	if (f->json) {
		cJSON_AddItemToArray(f->out, hx_entry_json(e, 0));
	} else {
		char hex[2 * HX_KEY_LEN + 1];
		printf("%-40s %-9s %.12s  %s\n", e->path, e->kind,
		       hx_hex(hex, e->author, HX_KEY_LEN), e->title);
	}
	return 0;
}

/* --ids: every stored entry's id (the set replication works on). */
static int id_one(void *arg, uint64_t ts, const uint8_t id[HX_ID_LEN])
{
	char hex[2 * HX_ID_LEN + 1];
	(void)arg;
	(void)ts;
	return puts(hx_hex(hex, id, HX_ID_LEN)) < 0 ? HX_EIO : 0;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	struct filter f = {
		.kind = hx_arg_value(a, "kind"),
		.tag = hx_arg_value(a, "tag"),
		.json = hx_arg_count(a, "json"),
	};
	const char *authorarg = hx_arg_value(a, "author");
	uint8_t author[HX_KEY_LEN];
	int have_author = !!authorarg, ids = hx_arg_count(a, "ids");

	if (authorarg && hx_parse_key(authorarg, author))
		return HX_EXIT_FAIL;
	if (ids && (have_author || f.kind || f.tag || f.json))
		return hx_usage_error(a->top, "--ids takes no other option");
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	if (ids) {
		int rc = hx_store_items(s, id_one, NULL);
		return rc ? hx_fail("cannot list: %s", hx_strerror(rc)) : HX_EXIT_OK;
	}
	if (f.json)
		f.out = cJSON_CreateArray();
	int rc = hx_store_list(s, have_author ? author : NULL, one, &f);
	if (rc) {
		cJSON_Delete(f.out);
		return hx_fail("cannot list: %s", hx_strerror(rc));
	}
	if (f.json)
		hx_json_print(f.out);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "author", 0, "KEY", "only this partner's documents (64 hex digits)", 0 },
	{ "kind", 0, "K", "only documents of this kind (practice, toolkit, case, ...)", 0 },
	{ "tag", 0, "T", "only documents with this tag", 0 },
	{ "json", 0, NULL,
	  "an array of objects: id, path, author, timestamp, kind, title, tags, lang, "
	  "meta",
	  0 },
	{ "ids", 0, NULL,
	  "the id of every stored entry instead (all versions and tombstones), one per "
	  "line in (timestamp, id) order: the set replication keeps equal; diff two nodes' lists to "
	  "compare them. Takes no other option.",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_list = {
	.name = "list",
	.summary = "list documents",
	.opts = opts,
	.text = "Lists the current version of every live document: path, kind, author\n"
	        "(first 12 hex digits) and title. Deleted documents are not listed.\n",
	.exec = exec,
};
