/*
 * cmd-fsck.c: `hansa fsck`: re-verifies every signature and checks every
 * table and the search index against the entries.
 */
#include <string.h>
#include "cli/cli.h"
#include "cli/ops.h"
#include "store/blob.h"

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
	char dir[4200];
	if (hx_home_path(ctx, "store", dir, sizeof dir))
		return hx_fail("home path too long");
	/* a damaged page can crash liblmdb: walk every page in a child first */
	if (hx_cli_store_check(dir))
		return HX_EXIT_FAIL;
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	if ((rc = hx_store_fsck(s, report, NULL, &problems)) == HX_ECORRUPT)
		return hx_fail("the store is damaged (fsck cannot read it); " HX_DAMAGED_ADVICE);
	if (rc)
		return hx_fail("fsck could not finish: %s", hx_strerror(rc));
	if ((rc = hx_blob_fsck(s, report, NULL, &problems)))
		return hx_fail("fsck could not check the attached files: %s", hx_strerror(rc));
	if (problems)
		return hx_fail("%llu problem%s found", (unsigned long long)problems,
		               problems == 1 ? "" : "s");
	if (!hx_store_stats_get(s, &st))
		printf("ok: %llu entries, %llu documents\n", (unsigned long long)st.entries,
		       (unsigned long long)st.documents);
	hx_blob_stats bs;
	if (!hx_blob_stats_get(s, &bs) && (bs.whole || bs.partial))
		printf("ok: %llu attached files (%llu bytes), %llu partly received\n",
		       (unsigned long long)bs.whole, (unsigned long long)bs.bytes,
		       (unsigned long long)bs.partial);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_fsck = {
	.name = "fsck",
	.summary = "verify every entry and index of the store",
	.text = "Re-verifies every entry's signature and checks the time order, history,\n"
	        "current versions, change log and search index against the entries.\n"
	        "Names each problem on stderr and exits non-zero if there is any. Every\n"
	        "page of the store is read first in a child process, so a damaged file\n"
	        "(LMDB has no page checksums) gives one clear line instead of a crash.\n"
	        "Then re-hashes every attached file (blob) against its hash list.\n",
	.exec = exec,
};
