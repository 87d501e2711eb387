/*
 * cmd-compact.c: `hansa compact`: rewrites the store's data file without
 * the free pages that write transactions leave behind (cli/compact.c,
 * hx_cli_compact). Only while no node or other process has the store
 * open; attached files (store/blobs) are not touched.
 */
#include <stdio.h>
#include "cli/cli.h"
#include "cli/ops.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *args)
{
	char store[4096];
	uint64_t before, after, entries;
	(void)args;
	if (hx_home_path(ctx, "store", store, sizeof store))
		return hx_fail("home path too long");
	if (hx_cli_compact(ctx, 0, &before, &after, &entries))
		return HX_EXIT_FAIL;
	printf("compacted %s: %.1f MB -> %.1f MB (%llu entries)\n", store, before / 1e6,
	       after / 1e6, (unsigned long long)entries);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_compact = {
	.name = "compact",
	.summary = "rewrite the store's data file without its free pages",
	.text = "Writes a compacted copy of the store (LMDB's free pages left out, the\n"
	        "pages renumbered), checks that it opens with every entry, and renames\n"
	        "it over store/data.mdb. The node must be stopped: compact refuses while\n"
	        "any process has the store open. A large import or initial sync leaves\n"
	        "free pages that LMDB reuses for later writes but never returns to the\n"
	        "file system; compact returns them. Long entries that an older hansa\n"
	        "compressed in one piece are written in blocks of 2,048 bytes (the same\n"
	        "bytes), so that a search reads the start of one alone. 'hansa backup'\n"
	        "writes the same compacted copy while the node runs.\n",
	.exec = exec,
};
