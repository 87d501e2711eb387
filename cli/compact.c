/*
 * compact.c: rewriting the store's data file without its free pages
 * (ops.h, hx_cli_compact), for `hansa compact` and for the end of a large
 * `hansa import`: hx_store_copy (every table written again in key
 * order, its pages full) into store/data.mdb.compact, fsynced, checked
 * (it opens and holds the same entries), then renamed over data.mdb. Only while no other process
 * has the store open; attached files (store/blobs) are not touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/file.h"
#include "cli/ops.h"

/* fsync of a file by name: 0 or -1. */
static int fsync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int hx_cli_compact(struct hx_ctx *ctx, int fresh, uint64_t *before, uint64_t *after,
                   uint64_t *entries)
{
	char store[4096], tmp[4200], from[4300], to[4300], err[256], why[256];
	struct stat sb, sa;
	hx_store_stats a, b;
	hx_store *s = NULL;
	int rc;

	if (hx_cli_store_idle(ctx, store, sizeof store))
		return HX_EXIT_FAIL;
	snprintf(to, sizeof to, "%s/data.mdb", store);
	if (stat(to, &sb))
		return hx_fail("no store in %s", ctx->home);
	if (!fresh && hx_cli_store_check(store))
		return HX_EXIT_FAIL;
	snprintf(tmp, sizeof tmp, "%s/data.mdb.compact", store);
	snprintf(from, sizeof from, "%s/data.mdb", tmp);
	hx_cli_remove_store_dir(tmp);
	if ((rc = hx_store_open(&s, store, 0)) || (rc = hx_store_stats_get(s, &a)) ||
	    (rc = hx_store_copy(s, tmp)) || (fsync_file(from) && (rc = HX_EIO))) {
		hx_store_close(&s);
		hx_cli_remove_store_dir(tmp);
		return hx_fail("cannot compact the store: %s; nothing was changed",
		               hx_cli_errtext(rc, store, err, sizeof err));
	}
	hx_store_close(&s);
	/* the copy opens and holds what the store held */
	if ((!fresh && hx_cli_store_probe(tmp, why, sizeof why)) ||
	    hx_store_open(&s, tmp, HX_STORE_RDONLY) || hx_store_stats_get(s, &b) ||
	    a.entries != b.entries || a.last_seq != b.last_seq) {
		hx_store_close(&s);
		hx_cli_remove_store_dir(tmp);
		return hx_fail("the compacted copy does not check out; nothing was changed");
	}
	hx_store_close(&s);
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
	if (stat(to, &sa))
		return hx_fail("the store's data file is gone after compacting");
	*before = (uint64_t)sb.st_size;
	*after = (uint64_t)sa.st_size;
	*entries = a.entries;
	return HX_EXIT_OK;
}
