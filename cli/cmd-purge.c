/*
 * cmd-purge.c: `hansa purge PATH [--version ID]`: publishes a purge record
 * (docs/FORMAT.md §1.8.4) for versions of one of this partner's documents.
 * Every node that accepts it deletes their content for good and keeps a
 * stub so that they are never fetched again.
 */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "proto/purge.h"

struct vers {
	hx_purge_ver *v;
	size_t n, cap;
	const uint8_t *only; /* --version, or NULL for every version */
	int oom;
};

static int one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct vers *vs = arg;
	(void)raw;
	(void)len;
	if (vs->only && memcmp(vs->only, e->id, HX_ID_LEN))
		return 0;
	hx_purge_ver *g = hx_grow(vs->v, &vs->cap, vs->n + 1, sizeof *g);
	if (!g) {
		vs->oom = 1;
		return 1;
	}
	vs->v = g;
	memcpy(vs->v[vs->n].id, e->id, HX_ID_LEN);
	vs->v[vs->n++].timestamp = e->timestamp;
	return 0;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *path = a->argv[0], *ver = hx_arg_value(a, "version");
	uint8_t only[HX_ID_LEN];
	struct vers vs = { 0 };
	char rpath[sizeof HX_PURGE_PREFIX + 2 * HX_ID_LEN], hex[2 * HX_ID_LEN + 1];
	int rc, ret = HX_EXIT_FAIL;

	if (ver && (strlen(ver) != 2 * HX_ID_LEN || hx_unhex(only, HX_ID_LEN, ver)))
		return hx_fail("--version: not a version id (64 hex digits): %s", ver);
	if (!strncmp(path, HX_SYSTEM_PREFIX, strlen(HX_SYSTEM_PREFIX)))
		return hx_fail("%s is a system record, not a document", path);
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s || hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	vs.only = ver ? only : NULL;
	if ((rc = hx_store_history(s, ctx->pk, path, one, &vs)) || vs.oom) {
		hx_fail("cannot read the history of %s: %s", path,
		        hx_strerror(vs.oom ? HX_ENOMEM : rc));
		goto out;
	}
	if (!vs.n) {
		hx_fail(ver ? "your document at %s has no version %s (or it is purged already)"
		            : "you have no document at path %s%s",
		        path, ver ? ver : "");
		goto out;
	}
	char *body = hx_purge_body(vs.v, vs.n);
	if (!body) {
		hx_fail("out of memory");
		goto out;
	}
	snprintf(rpath, sizeof rpath, "%s%s", HX_PURGE_PREFIX, hx_hex(hex, vs.v[0].id, HX_ID_LEN));
	hx_meta m = { "path", (char *)path };
	hx_entry r = {
		.path = rpath,
		.kind = HX_KIND_PURGE,
		.title = "",
		.body = body,
		.lang = "und",
		.meta = &m,
		.nmeta = 1,
	};
	rc = hx_cli_publish(ctx, &r);
	free(body);
	if (!rc) {
		printf("purged %zu version%s of %s (purge record %s)\n", vs.n, vs.n == 1 ? "" : "s",
		       path, hx_hex(hex, r.id, HX_ID_LEN));
		ret = HX_EXIT_OK;
	}
out:
	free(vs.v);
	return ret;
}

static const struct hx_opt opts[] = {
	{ "version", 0, "ID", "purge only this version (64 hex digits, from hansa history)", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_purge = {
	.name = "purge",
	.summary = "delete the content of your document everywhere, for good",
	.args = "PATH",
	.args_min = 1,
	.args_max = 1,
	.opts = opts,
	.text = "Publishes a signed purge record for every version of your document at PATH\n"
	        "(or only --version ID). Each node that receives it deletes those versions'\n"
	        "content, search terms and history rows, overwrites the freed pages of its\n"
	        "data file, and refuses the versions if they arrive again; the document\n"
	        "falls back to its newest version left, or disappears. Only the author can\n"
	        "purge. A partner that stays offline keeps the content until it comes back,\n"
	        "and copies made outside hansa (exports, backups, other files) are not\n"
	        "touched. Prints how many versions and the purge record's id.\n",
	.exec = exec,
};
