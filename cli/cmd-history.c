/*
 * cmd-history.c: `hansa history PATH`: every version of a document, oldest
 * first, deletions included.
 */
#include <getopt.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"

const struct hx_cmd hx_cmd_history;

struct hist {
	int json;
	cJSON *out;
	size_t n;
};

static int one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct hist *h = arg;
	char hex[2 * HX_ID_LEN + 1], when[40];
	(void)raw; (void)len;
	h->n++;
	if (h->json)
		cJSON_AddItemToArray(h->out, hx_entry_json(e, 0));
	else
		printf("%s  %s  %s\n", hx_time_text(when, sizeof when, e->timestamp),
		       hx_hex(hex, e->id, HX_ID_LEN),
		       hx_entry_is_tombstone(e) ? "(deleted)" : e->title);
	return 0;
}

static int exec(struct hx_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "author", required_argument, 0, 'a' }, { "json", no_argument, 0, 'j' },
		{ 0, 0, 0, 0 }
	};
	struct hist h = { 0 };
	uint8_t author[HX_KEY_LEN], found[2][HX_KEY_LEN];
	int c, have_author = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a') {
			if (hx_parse_key(optarg, author))
				return HX_EXIT_FAIL;
			have_author = 1;
		} else if (c == 'j') {
			h.json = 1;
		} else {
			return hx_usage_error(&hx_cmd_history, "unknown option or missing value '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return hx_usage_error(&hx_cmd_history, "give one PATH");
	const char *path = argv[optind];
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	if (!have_author) {
		/* this partner's own document, else the only author's live one */
		size_t n = 0;
		hx_entry probe;
		int deleted = 0;
		if (hx_ctx_pubkey(ctx, author))
			memset(author, 0, HX_KEY_LEN); /* no own key: another author's */
		if (hx_store_current(s, author, path, &probe, &deleted) == HX_OK)
			hx_entry_clear(&probe);
		else if (!deleted && !hx_store_path_authors(s, path, found, 2, &n) && n == 1)
			memcpy(author, found[0], HX_KEY_LEN);
		else if (!deleted && n > 1)
			return hx_fail("%zu partners have a document at %s; choose one with --author KEY",
				       n, path);
	}
	if (h.json)
		h.out = cJSON_CreateArray();
	int rc = hx_store_history(s, author, path, one, &h);
	if (rc) {
		cJSON_Delete(h.out);
		return hx_fail("cannot read the history of %s: %s", path, hx_strerror(rc));
	}
	if (!h.n) {
		cJSON_Delete(h.out);
		return hx_fail("no document at path %s", path);
	}
	if (h.json)
		hx_json_print(h.out);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_history = {
	.name = "history",
	.summary = "list every version of a document",
	.usage =
	"usage: hansa history [--author KEY] [--json] PATH\n"
	"\n"
	"Lists every version of the document at PATH, oldest first, with time, id\n"
	"and title; a deletion shows as (deleted).\n"
	"  --json   an array of objects: id, path, author, timestamp, kind, title,\n"
	"           tags, lang, meta\n",
	.exec = exec,
};
