/*
 * cmd-history.c: `hansa history PATH`: every version of a document, oldest
 * first, deletions included.
 */
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "store/org.h"

struct hist {
	hx_store *s;
	int json;
	cJSON *out;
	size_t n;
};

static int one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct hist *h = arg;
	char hex[2 * HX_ID_LEN + 1], when[40];
	(void)raw;
	(void)len;
	char by[HX_DEVICE_NAME_MAX + 40];
	h->n++;
	/* who signed it: a device's name, "" for the organisation key */
	hx_store_signer_name(h->s, e, by, sizeof by);
	if (h->json) {
		cJSON *o = hx_entry_json(e, 0);
		cJSON_AddStringToObject(o, "signed_by", by);
		cJSON_AddItemToArray(h->out, o);
	} else {
		printf("%s  %s  %s%s%s%s\n", hx_time_text(when, sizeof when, e->timestamp),
		       hx_hex(hex, e->id, HX_ID_LEN),
		       hx_entry_is_tombstone(e) ? "(deleted)" : e->title, *by ? "  (by " : "", by,
		       *by ? ")" : "");
	}
	return 0;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	struct hist h = { .json = hx_arg_count(a, "json") };
	uint8_t author[HX_KEY_LEN], found[2][HX_KEY_LEN];
	const char *authorarg = hx_arg_value(a, "author"), *path = a->argv[0];
	int have_author = !!authorarg;

	if (authorarg && hx_parse_key(authorarg, author))
		return HX_EXIT_FAIL;
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
			return hx_fail(
			        "%zu partners have a document at %s; choose one with --author KEY",
			        n, path);
	}
	if (h.json)
		h.out = cJSON_CreateArray();
	h.s = s;
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

static const struct hx_opt opts[] = {
	{ "author", 0, "KEY",
	  "the document of this partner (64 hex digits), when several have one at "
	  "PATH",
	  0 },
	{ "json", 0, NULL,
	  "an array of objects: id, path, author, timestamp, kind, title, tags, lang, "
	  "meta",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_history = {
	.name = "history",
	.summary = "list every version of a document",
	.args = "PATH",
	.args_min = 1,
	.args_max = 1,
	.opts = opts,
	.text = "Lists every version of the document at PATH, oldest first, with time, id\n"
	        "and title; a deletion shows as (deleted).\n",
	.exec = exec,
};
