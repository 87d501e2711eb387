/*
 * cmd-reindex.c: `hansa reindex`: drops the search index and rebuilds it
 * from the current documents, in one write transaction (after a tokenizer
 * or schema change, or when fsck finds the index out of step).
 */
#include <time.h>
#include "cli/cli.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *args)
{
	uint64_t docs = 0;
	struct timespec a, b;
	int rc;

	(void)args;
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if ((rc = hx_store_reindex(s, &docs)))
		return hx_fail("reindex failed (the old index is kept): %s", hx_strerror(rc));
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("reindexed %llu document%s in %.2f s\n", (unsigned long long)docs,
	       docs == 1 ? "" : "s",
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_reindex = {
	.name = "reindex",
	.summary = "rebuild the search index from the documents",
	.text = "Drops the search index and rebuilds it from the current version of\n"
	        "every document, in one transaction: if it fails, the old index stays.\n"
	        "Needed after an upgrade that changes the tokenizer (search then says\n"
	        "so), or when 'hansa fsck' reports the index out of step.\n",
	.exec = exec,
};
