/*
 * cmd-gc.c: `hansa gc`: removes blobs that no current version of any
 * document references, and files left in the blob folder by a crash.
 */
#include <stdlib.h>
#include "cli/cli.h"
#include "store/blob.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	uint64_t removed, bytes, grace = HX_BLOB_GC_GRACE_US;
	const char *g = hx_arg_value(a, "grace");
	hx_store *s;
	int rc;

	if (g) {
		char *end;
		unsigned long long v = strtoull(g, &end, 10);
		if (*g < '0' || *g > '9' || *end || v > 10ull * 365 * 86400)
			return hx_fail("--grace: give whole seconds, e.g. 0 or 600");
		grace = v * 1000000u;
	}
	if (!(s = hx_ctx_store(ctx, 0)))
		return HX_EXIT_FAIL;
	if ((rc = hx_blob_gc(s, grace, &removed, &bytes)))
		return hx_fail("gc could not finish: %s", hx_strerror(rc));
	printf("removed %llu blob%s, %llu bytes\n", (unsigned long long)removed,
	       removed == 1 ? "" : "s", (unsigned long long)bytes);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "grace", 0, "SECONDS",
	  "leave blobs changed less than SECONDS ago (default 600: a file being published or "
	  "received)",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_gc = {
	.name = "gc",
	.summary = "remove attached files no current document refers to",
	.opts = opts,
	.text = "Removes the blobs (attached files) that no current version of any document\n"
	        "names, and files a crash left in the blob folder. Older versions' files go:\n"
	        "history keeps their names and hashes, not their bytes. The node also runs\n"
	        "this when it starts.\n",
	.exec = exec,
};
