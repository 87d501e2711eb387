/*
 * cmd-restore.c: `hansa restore DIR`: puts a backup written by `hansa
 * backup` back into the home. The backup's store is copied next to the
 * home's and checked there (every page in a child process, then fsck)
 * before anything is replaced; the old store is kept aside, not deleted.
 * Refused while any process (a node) has the home's store open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli/identity.h"
#include "cli/ops.h"
#include "node/state.h"

static void quiet(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "hansa restore: the backup: %s\n", line);
}

/* fsck of the restored copy; also forgets the node that ran on it. */
static int fsck_copy(const char *dir, uint64_t *problems, hx_store_stats *st)
{
	hx_store *s;
	int rc = hx_store_open(&s, dir, 0);
	if (rc)
		return rc;
	rc = hx_store_fsck(s, quiet, NULL, problems);
	if (!rc && !*problems) {
		rc = hx_daemon_clear(s);
		rc = rc == HX_ENOTFOUND ? HX_OK : rc;
	}
	if (!rc)
		rc = hx_store_stats_get(s, st);
	hx_store_close(&s);
	return rc;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	char src[4400], store[4200], tmp[4300], aside[4300], to[4400], err[128], stamp[32];
	uint8_t pk_home[HX_KEY_LEN], pk_backup[HX_KEY_LEN];
	struct stat st;
	int force = hx_arg_count(a, "force") > 0, rc;
	const char *dir = a->argv[0];
	static const char *const need[] = { "store/data.mdb", HX_KEYFILE, HX_PROFILEFILE, NULL };
	for (int i = 0; need[i]; i++) {
		snprintf(src, sizeof src, "%s/%s", dir, need[i]);
		if (stat(src, &st))
			return hx_fail("%s is not a hansa backup: %s is missing", dir, need[i]);
	}
	struct hx_ctx bctx;
	memset(&bctx, 0, sizeof bctx);
	snprintf(bctx.home, sizeof bctx.home, "%s", dir);
	if (hx_ctx_pubkey(&bctx, pk_backup))
		return hx_fail("%s is not a hansa backup: its %s names no key", dir,
		               HX_PROFILEFILE);
	if (!force && !hx_ctx_pubkey(ctx, pk_home) && memcmp(pk_home, pk_backup, HX_KEY_LEN))
		return hx_fail("%s holds another partner's identity than the backup; "
		               "restore into a new --home, or use --force to replace it",
		               ctx->home);
	if (hx_cli_store_idle(ctx, store, sizeof store))
		return HX_EXIT_FAIL;
	if (hx_mkdirs(ctx->home, 0700))
		return hx_fail("cannot create %s: %s", ctx->home, strerror(errno));

	/* 1. a copy next to the home's store, checked there */
	snprintf(tmp, sizeof tmp, "%s.restore-%ld", store, (long)getpid());
	hx_cli_remove_store_dir(tmp);
	if (mkdir(tmp, 0700))
		return hx_fail("cannot create %s: %s", tmp, strerror(errno));
	snprintf(src, sizeof src, "%s/store/data.mdb", dir);
	snprintf(to, sizeof to, "%s/data.mdb", tmp);
	if ((rc = hx_cli_copy_file(src, to))) {
		hx_cli_remove_store_dir(tmp);
		return hx_fail("cannot copy %s: %s", src, hx_cli_errtext(rc, tmp, err, sizeof err));
	}
	char why[256];
	if (hx_cli_store_probe(tmp, why, sizeof why)) {
		hx_cli_remove_store_dir(tmp);
		return hx_fail("the backup %s is damaged (%s); nothing was changed", dir, why);
	}
	uint64_t problems = 0;
	hx_store_stats stats;
	if ((rc = fsck_copy(tmp, &problems, &stats)) || problems) {
		hx_cli_remove_store_dir(tmp);
		if (rc == HX_EVERSION)
			return hx_fail("the backup %s was written by another schema version (this "
			               "hansa reads %d); "
			               "nothing was changed",
			               dir, HX_STORE_SCHEMA);
		if (rc)
			return hx_fail("the backup %s cannot be checked: %s; nothing was changed",
			               dir, hx_cli_errtext(rc, tmp, err, sizeof err));
		return hx_fail("the backup %s fails fsck (%llu problem%s); nothing was changed",
		               dir, (unsigned long long)problems, problems == 1 ? "" : "s");
	}

	/* 2. the swap: the old store aside, the copy in, then key and profile */
	snprintf(aside, sizeof aside, "%s.replaced-%s", store, hx_cli_stamp(stamp));
	int had = !stat(store, &st);
	if (had && rename(store, aside)) {
		hx_cli_remove_store_dir(tmp);
		return hx_fail("cannot move the old store aside to %s: %s; nothing was changed",
		               aside, strerror(errno));
	}
	if (rename(tmp, store)) {
		int e = errno;
		if (had && rename(aside, store))
			return hx_fail(
			        "cannot put the store in place (%s), and the old one is now %s",
			        strerror(e), aside);
		hx_cli_remove_store_dir(tmp);
		return hx_fail("cannot put the store in place: %s; nothing was changed",
		               strerror(e));
	}
	snprintf(src, sizeof src, "%s/lock.mdb", store);
	unlink(src); /* the copy's lock file names no live reader */
	/* org.json and org-invite go with the key: present in the backup or
	 * absent from the home */
	static const char *const files[] = { HX_KEYFILE, HX_PROFILEFILE, HX_ORGFILE, HX_ORGINVITE,
		                             NULL };
	for (int i = 0; files[i]; i++) {
		snprintf(src, sizeof src, "%s/%s", dir, files[i]);
		hx_home_path(ctx, files[i], to, sizeof to);
		if (i >= 2 && access(src, F_OK)) {
			unlink(to);
			continue;
		}
		if ((rc = hx_cli_copy_file(src, to)))
			return hx_fail("the store is restored but %s is not: %s", to,
			               hx_cli_errtext(rc, ctx->home, err, sizeof err));
	}
	hx_fsync_parent(store);
	printf("restored %s into %s: %llu entries, %llu documents\n", dir, ctx->home,
	       (unsigned long long)stats.entries, (unsigned long long)stats.documents);
	if (had)
		printf("the replaced store is kept in %s (delete it when the node runs well)\n",
		       aside);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "force", 0, NULL, "restore although the home holds another partner's identity", 0 }, { 0 }
};

const struct hx_cmd hx_cmd_restore = {
	.name = "restore",
	.summary = "put a backup back into the home (checked first)",
	.args = "DIR",
	.args_min = 1,
	.args_max = 1,
	.args_error = "give the backup folder DIR",
	.opts = opts,
	.text = "Restores a backup written by 'hansa backup' (the store, the identity key\n"
	        "and the profile) into the home. The backup's store is first copied next\n"
	        "to the home's and checked there: every page is read (in a child process:\n"
	        "a damaged file cannot crash hansa), then fsck re-verifies every entry and\n"
	        "index. Only a copy that passes replaces anything; the replaced store is\n"
	        "kept as store.replaced-TIME. Refused while a node or another process has\n"
	        "the home's store open: stop 'hansa serve' first. Entries published or\n"
	        "received after the backup come back from the partners at the next sync.\n",
	.exec = exec,
};
