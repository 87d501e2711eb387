/*
 * cmd-compact.c: `hansa compact`: rewrites the store's data file without
 * the free pages that many small write transactions leave behind (LMDB's
 * mdb_env_copy2 with MDB_CP_COMPACT into store/data.mdb.compact, checked,
 * then renamed over data.mdb). Only while no node or other process has
 * the store open; attached files (store/blobs) are not touched.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/file.h"
#include "cli/ops.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *args)
{
	char store[4096], tmp[4200], from[4300], to[4300], err[256], why[256];
	struct stat before, after;
	hx_store_stats a, b;
	hx_store *s = NULL;
	int rc;

	(void)args;
	if (hx_cli_store_idle(ctx, store, sizeof store))
		return HX_EXIT_FAIL;
	snprintf(to, sizeof to, "%s/data.mdb", store);
	if (stat(to, &before))
		return hx_fail("no store in %s", ctx->home);
	if (hx_cli_store_check(store))
		return HX_EXIT_FAIL;
	snprintf(tmp, sizeof tmp, "%s/data.mdb.compact", store);
	hx_cli_remove_store_dir(tmp);
	if ((rc = hx_store_open(&s, store, 0)) || (rc = hx_store_stats_get(s, &a)) ||
	    (rc = hx_store_copy(s, tmp))) {
		hx_store_close(&s);
		hx_cli_remove_store_dir(tmp);
		return hx_fail("cannot compact the store: %s; nothing was changed",
		               hx_cli_errtext(rc, store, err, sizeof err));
	}
	hx_store_close(&s);
	/* the copy opens and holds what the store held */
	if (hx_cli_store_probe(tmp, why, sizeof why) || hx_store_open(&s, tmp, HX_STORE_RDONLY) ||
	    hx_store_stats_get(s, &b) || a.entries != b.entries || a.last_seq != b.last_seq) {
		hx_store_close(&s);
		hx_cli_remove_store_dir(tmp);
		return hx_fail("the compacted copy does not check out; nothing was changed");
	}
	hx_store_close(&s);
	snprintf(from, sizeof from, "%s/data.mdb", tmp);
	if (hx_cli_store_idle(ctx, store, sizeof store)) {
		hx_cli_remove_store_dir(tmp);
		return HX_EXIT_FAIL; /* a node started meanwhile */
	}
	if (rename(from, to)) {
		int e = errno;
		hx_cli_remove_store_dir(tmp);
		return hx_fail("cannot put the compacted file in place: %s; nothing was changed",
		               strerror(e));
	}
	hx_fsync_parent(to);
	hx_cli_remove_store_dir(tmp);
	/* the lock file describes the replaced file's readers: none */
	snprintf(from, sizeof from, "%s/lock.mdb", store);
	unlink(from);
	if (stat(to, &after))
		return hx_fail("the store's data file is gone after compacting");
	printf("compacted %s: %.1f MB -> %.1f MB (%llu entries)\n", store, before.st_size / 1e6,
	       after.st_size / 1e6, (unsigned long long)a.entries);
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
	        "file system; compact returns them. 'hansa backup' writes the same\n"
	        "compacted copy while the node runs.\n",
	.exec = exec,
};
