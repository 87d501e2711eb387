/*
 * cmd-fsck.c: `hansa fsck`: re-verifies every signature and checks every
 * table and the search index against the entries.
 */
#include <string.h>
#include "cli/cli.h"

static void report(void *arg, const char *problem)
{
	(void)arg;
	fprintf(stderr, "hansa fsck: %s\n", problem);
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	uint64_t problems;
	hx_store_stats st;
	int rc;

	(void)a;
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	if ((rc = hx_store_fsck(s, report, NULL, &problems)))
		return hx_fail("fsck could not finish: %s", hx_strerror(rc));
	if (problems)
		return hx_fail("%llu problem%s found", (unsigned long long)problems,
			       problems == 1 ? "" : "s");
	if (!hx_store_stats_get(s, &st))
		printf("ok: %llu entries, %llu documents\n", (unsigned long long)st.entries,
		       (unsigned long long)st.documents);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_fsck = {
	.name = "fsck",
	.summary = "verify every entry and index of the store",
	.text =
	"Re-verifies every entry's signature and checks the time order, history,\n"
	"current versions, change log and search index against the entries.\n"
	"Names each problem on stderr and exits non-zero if there is any.\n",
	.exec = exec,
};
