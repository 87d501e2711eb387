/*
 * cmd-rebuild.c: `hansa rebuild [CODE...]`: a new store for a home whose
 * store is damaged, filled again from the partners, with the same identity.
 * What can still be read of the old store's members and peers is carried
 * over (in a child process: the damaged file may crash liblmdb); invite
 * codes from partners add more. The old store is kept aside, then one
 * `hansa sync` fetches every entry the partners hold, this partner's own
 * included.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cli/net.h"
#include "cli/ops.h"
#include "proto/invite.h"

extern const struct hx_cmd hx_cmd_sync;

struct salvage {
	const char *from, *to; /* store directories */
	hx_store *dst;
};

static int keep_member(void *arg, const uint8_t key[HX_KEY_LEN], const uint8_t *rec, size_t len)
{
	struct salvage *sv = arg;
	return hx_store_member_put(sv->dst, key, rec, len);
}

/* peers, their endpoints and the settings; not the counters and states */
static int keep_kv(void *arg, const char *key, const void *val, size_t len)
{
	struct salvage *sv = arg;
	if (strncmp(key, "peer/", 5) && strncmp(key, "setting/", 8) &&
	    strncmp(key, "member-ep/", 10))
		return 0;
	return hx_store_kv_put(sv->dst, key, val, len);
}

/* In a child: the members and peers the old store still gives, into the
 * new one. A crash here loses only (part of) the salvage. */
static int salvage_child(void *arg)
{
	struct salvage *sv = arg;
	hx_store *src;
	int rc = hx_store_open(&src, sv->from, HX_STORE_RDONLY);
	if (rc)
		return rc;
	if (!(rc = hx_store_open(&sv->dst, sv->to, HX_STORE_CREATE))) {
		rc = hx_store_member_list(src, keep_member, sv);
		if (!rc)
			rc = hx_store_kv_list(src, "", keep_kv, sv);
		hx_store_close(&sv->dst);
	}
	hx_store_close(&src);
	return rc;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	char store[4200], fresh[4300], aside[4300], why[256], stamp[32];
	const char *timeout = hx_arg_value(a, "timeout");
	int argc = a->argc;
	char **argv = a->argv;
	struct stat st;
	int res;

	if (hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	if (hx_cli_store_idle(ctx, store, sizeof store))
		return HX_EXIT_FAIL;
	/* every code must be good before anything moves */
	for (int i = 0; i < argc; i++) {
		hx_invite inv;
		uint8_t *rec;
		size_t len;
		if (hx_invite_decode(&inv, argv[i], &rec, &len))
			return hx_fail("'%.20s...' is not a valid invite code", argv[i]);
		free(rec);
		hx_invite_clear(&inv);
	}

	/* 1. a new store beside the old one, with what can be salvaged */
	snprintf(fresh, sizeof fresh, "%s.rebuild-%ld", store, (long)getpid());
	hx_cli_remove_store_dir(fresh); /* left by an earlier run with our pid */
	struct salvage sv = { .from = store, .to = fresh };
	int salvaged = 0;
	if (!stat(store, &st)) {
		if (hx_cli_run_child(salvage_child, &sv, &res, why, sizeof why))
			fprintf(stderr,
			        "hansa: the old store's members and peers: %s; some may be lost\n",
			        why);
		else if (res && res != HX_ENOTFOUND)
			fprintf(stderr,
			        "hansa: the old store's members and peers: %s; some may be lost\n",
			        hx_strerror(res));
		else
			salvaged = 1;
	}
	if (stat(fresh, &st) && mkdir(fresh, 0700))
		return hx_fail("cannot create %s: %s", fresh, strerror(errno));

	/* 2. the old store aside, the new one in place */
	snprintf(aside, sizeof aside, "%s.damaged-%s", store, hx_cli_stamp(stamp));
	int had = !stat(store, &st);
	if (had && rename(store, aside))
		return hx_fail("cannot move the old store aside: %s", strerror(errno));
	if (rename(fresh, store))
		return hx_fail("cannot put the new store in place: %s (the old one is %s)",
		               strerror(errno), had ? aside : "gone");
	if (!hx_ctx_store(ctx, 1) || hx_cli_ensure_self(ctx))
		return HX_EXIT_FAIL;
	if (had)
		fprintf(stderr, "hansa: the old store is kept in %s%s\n", aside,
		        salvaged ? " (its members and peers were carried over)" : "");

	/* 3. the partners of the codes, then one sync with every peer */
	for (int i = 0; i < argc; i++) {
		hx_invite inv;
		if (hx_cli_accept_invite(ctx, argv[i], 1, &inv))
			return HX_EXIT_FAIL;
		hx_invite_clear(&inv);
	}
	char *sargv[] = { "sync", "--timeout", (char *)timeout, NULL };
	struct hx_args sa;
	int rc = hx_args_parse(&hx_cmd_sync, timeout ? 3 : 1, sargv, &sa);
	if (rc)
		return rc == 1 ? HX_EXIT_USAGE : rc;
	rc = hx_cmd_sync.exec(ctx, &sa);
	hx_args_free(&sa);
	if (rc)
		return hx_fail("the rebuild could not reach every peer; run 'hansa sync' again "
		               "(or 'hansa rebuild CODE' with a partner's invite code)");
	hx_store_stats stats;
	if (!hx_store_stats_get(ctx->store, &stats))
		printf("rebuilt %s from the partners: %llu entries, %llu documents\n", ctx->home,
		       (unsigned long long)stats.entries, (unsigned long long)stats.documents);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "timeout", 0, "SECONDS", "give up on a silent peer after SECONDS (as 'hansa sync')", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_rebuild = {
	.name = "rebuild",
	.summary = "make a new store and fill it from the partners",
	.args = "[CODE...]",
	.args_max = -1,
	.opts = opts,
	.text = "For a home whose store is damaged (and no backup is at hand): keeps the\n"
	        "identity, moves the old store aside (store.damaged-TIME), makes a new\n"
	        "one, and syncs once with every peer, which sends back every entry it\n"
	        "holds, this partner's own included. The old store's members and peers are\n"
	        "carried over as far as they can still be read (in a child process: a\n"
	        "damaged file cannot crash hansa); each CODE (from 'hansa invite' on a\n"
	        "partner's running node) adds a partner as member and peer. Members whose\n"
	        "records were lost must be added again ('hansa member add') before their\n"
	        "entries are accepted; run 'hansa sync' then. Refused while a node has the\n"
	        "store open.\n",
	.exec = exec,
};
