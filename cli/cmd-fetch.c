/*
 * cmd-fetch.c: `hansa fetch PATH [NAME]`: asks the running node to fetch a
 * document's attached files (all, or NAME) from its peers, whatever the
 * size policy, and waits until they are here. The request goes into the
 * store (node/blobsync.h) and wakes the node rather than this command
 * connecting itself like `hansa sync`: the node already holds a CURVE
 * connection to every peer, so chunks come from all that have the file at
 * once, and a request kept in the store survives restarts (the transfer
 * resumes where it stopped).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/net.h"
#include "node/blobsync.h"
#include "store/blob.h"

static void nap_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *authorarg = hx_arg_value(a, "author"), *name = a->argc > 1 ? a->argv[1] : NULL;
	const char *to = hx_arg_value(a, "timeout");
	int wait = !hx_arg_count(a, "no-wait");
	uint8_t author[HX_KEY_LEN];
	double timeout = 600;
	hx_entry e;
	int rc = HX_EXIT_OK;

	if (to) {
		char *end;
		timeout = strtod(to, &end);
		if (!*to || *end || !(timeout > 0) || timeout > 1e6)
			return hx_fail("--timeout: '%s' is not a number of seconds", to);
	}
	if (authorarg && hx_parse_key(authorarg, author))
		return HX_EXIT_FAIL;
	if (!hx_ctx_store(ctx, 0))
		return HX_EXIT_FAIL;
	if (hx_resolve_doc(ctx, a->argv[0], authorarg ? author : NULL, &e))
		return HX_EXIT_FAIL;
	if (!e.nattach) {
		hx_entry_clear(&e);
		return hx_fail("%s has no attached files", a->argv[0]);
	}
	if (name && !hx_entry_attach(&e, name)) {
		rc = hx_fail("%s has no attached file '%s'", a->argv[0], name);
		hx_entry_clear(&e);
		return rc;
	}
	hx_store *s = ctx->store;
	size_t asked = 0;
	for (size_t i = 0; i < e.nattach; i++) {
		const hx_attach *t = &e.attach[i];
		if ((name && strcmp(t->name, name)) || hx_blob_is_whole(s, t->hash))
			continue;
		if (hx_blob_request(s, t->hash, t->size)) {
			hx_entry_clear(&e);
			return hx_fail("cannot write the request into the store");
		}
		asked++;
	}
	hx_daemon_info d;
	int running = hx_daemon_get(s, &d) == HX_OK && hx_cli_pid_alive(d.pid);
	if (asked && !running) {
		hx_entry_clear(&e);
		return hx_fail("no node serves this home: the request is kept, and 'hansa serve' "
		               "will fetch the file when it runs");
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < e.nattach; i++) {
		const hx_attach *t = &e.attach[i];
		char why[256];
		if (name && strcmp(t->name, name))
			continue;
		for (;;) {
			if (hx_blob_is_whole(s, t->hash)) {
				printf("%s: here (%llu bytes)\n", t->name,
				       (unsigned long long)t->size);
				break;
			}
			if (hx_blob_refusal(s, t->hash, why, sizeof why) == HX_OK) {
				rc = hx_fail("%s: refused by the node: %s", t->name, why);
				break;
			}
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			double spent = (double)(now.tv_sec - t0.tv_sec) +
			               (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
			if (!wait) {
				printf("%s: asked for (%llu bytes)\n", t->name,
				       (unsigned long long)t->size);
				break;
			}
			if (spent > timeout) {
				rc = hx_fail("%s: not here after %.0f s (no peer has it yet?); the "
				             "node goes on asking",
				             t->name, timeout);
				break;
			}
			nap_ms(100);
		}
	}
	hx_entry_clear(&e);
	return rc;
}

static const struct hx_opt opts[] = {
	{ "author", 0, "KEY",
	  "the document of this partner (64 hex digits), when several have one at PATH", 0 },
	{ "no-wait", 0, NULL, "leave the request with the node and return at once", 0 },
	{ "timeout", 0, "SECONDS", "give up waiting after this long (default 600)", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_fetch = {
	.name = "fetch",
	.summary = "fetch a document's attached files from the peers",
	.args = "PATH [NAME]",
	.args_min = 1,
	.args_max = 2,
	.args_error = "give PATH and at most one file NAME",
	.opts = opts,
	.text = "Asks the running node ('hansa serve') to fetch the files attached to the\n"
	        "current version of the document at PATH (or only the one called NAME),\n"
	        "whatever their size (files over --blob-auto are not fetched unless asked\n"
	        "for; --blob-max and --blob-space still apply), and waits until they are\n"
	        "here. Chunks come from every connected peer that has the file; a transfer\n"
	        "cut by a restart resumes. The request is kept in the store until the file\n"
	        "is here or refused.\n",
	.exec = exec,
};
