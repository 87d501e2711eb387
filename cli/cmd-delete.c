/*
 * cmd-delete.c: `hansa delete PATH`: publishes a tombstone for one of this
 * partner's documents. It disappears from list, show and search; its
 * history stays.
 */
#include <string.h>
#include "cli/cli.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *path = a->argv[0];
	hx_store *s = hx_ctx_store(ctx, 0);
	hx_entry cur;
	int deleted, rc;

	if (!s || hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	rc = hx_store_current(s, ctx->pk, path, &cur, &deleted);
	if (rc == HX_ENOTFOUND)
		return hx_fail(deleted ? "%s is already deleted"
		                       : "you have no document at path %s",
		               path);
	if (rc)
		return hx_fail("cannot read %s: %s", path, hx_strerror(rc));
	hx_entry t = {
		.path = cur.path,
		.kind = HX_KIND_TOMBSTONE,
		.title = "",
		.body = "",
		.lang = cur.lang,
	};
	rc = hx_cli_publish(ctx, &t);
	if (!rc) {
		char hex[2 * HX_ID_LEN + 1];
		printf("deleted %s %s\n", path, hx_hex(hex, t.id, HX_ID_LEN));
	}
	hx_entry_clear(&cur);
	return rc ? HX_EXIT_FAIL : HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_delete = {
	.name = "delete",
	.summary = "delete one of your documents (history is kept)",
	.args = "PATH",
	.args_min = 1,
	.args_max = 1,
	.text = "Publishes a tombstone for your document at PATH: it disappears from list,\n"
	        "show and search on every node; its history stays. Prints the path and the\n"
	        "tombstone's id.\n",
	.exec = exec,
};
