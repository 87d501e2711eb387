/*
 * cmd-list.c: `hansa list`: the live documents, filtered by author, kind
 * or tag.
 */
#include <getopt.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"

const struct hx_cmd hx_cmd_list;

struct filter {
	const char *kind, *tag;
	int json;
	cJSON *out;
	size_t count;
};

static int one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct filter *f = arg;
	(void)raw; (void)len;
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
	(void)arg; (void)ts;
	return puts(hx_hex(hex, id, HX_ID_LEN)) < 0 ? HX_EIO : 0;
}

static int exec(struct hx_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "author", required_argument, 0, 'a' }, { "kind", required_argument, 0, 'k' },
		{ "tag", required_argument, 0, 't' }, { "json", no_argument, 0, 'j' },
		{ "ids", no_argument, 0, 'i' }, { 0, 0, 0, 0 }
	};
	struct filter f = { 0 };
	uint8_t author[HX_KEY_LEN];
	int c, have_author = 0, ids = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (hx_parse_key(optarg, author))
				return HX_EXIT_FAIL;
			have_author = 1;
			break;
		case 'k': f.kind = optarg; break;
		case 't': f.tag = optarg; break;
		case 'j': f.json = 1; break;
		case 'i': ids = 1; break;
		default: return hx_usage_error(&hx_cmd_list, "unknown option or missing value '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc)
		return hx_usage_error(&hx_cmd_list, "unexpected argument '%s'", argv[optind]);
	if (ids && (have_author || f.kind || f.tag || f.json))
		return hx_usage_error(&hx_cmd_list, "--ids takes no other option");
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

const struct hx_cmd hx_cmd_list = {
	.name = "list",
	.summary = "list documents",
	.usage =
	"usage: hansa list [--author KEY] [--kind K] [--tag T] [--json]\n"
	"       hansa list --ids\n"
	"\n"
	"Lists the current version of every live document: path, kind, author\n"
	"(first 12 hex digits) and title. Deleted documents are not listed.\n"
	"  --json   an array of objects: id, path, author, timestamp, kind, title,\n"
	"           tags, lang, meta\n"
	"  --ids    the id of every stored entry instead (all versions and\n"
	"           tombstones), one per line in (timestamp, id) order: the set\n"
	"           replication keeps equal; diff two nodes' lists to compare them\n",
	.exec = exec,
};
