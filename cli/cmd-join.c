/*
 * cmd-join.c: `hansa join CODE`: accepts a partner's invite code (adds it
 * as a member and as a peer) and prints this node's own code to send back.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/net.h"

const struct hx_cmd hx_cmd_join;

static int exec(struct hx_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, 0, 'e' }, { "no-peer", no_argument, 0, 'n' },
		{ 0, 0, 0, 0 }
	};
	const char *eps[HX_ENDPOINTS_MAX + 1];
	size_t n = 0;
	int c, no_peer = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n') {
			no_peer = 1;
		} else if (c == 'e') {
			if (n == HX_ENDPOINTS_MAX)
				return hx_fail("at most %d endpoints", HX_ENDPOINTS_MAX);
			eps[n++] = optarg;
		} else {
			return hx_usage_error(&hx_cmd_join, "unknown option");
		}
	}
	if (optind != argc - 1)
		return hx_usage_error(&hx_cmd_join, "give one invite CODE");
	hx_invite inv;
	char *code;
	if (hx_cli_accept_invite(ctx, argv[optind], !no_peer, &inv))
		return HX_EXIT_FAIL;
	hx_invite_clear(&inv);
	if (hx_cli_own_code(ctx, eps, n, &code))
		return HX_EXIT_FAIL;
	fprintf(stderr, "send this code back to your partner (they run 'hansa join' with it):\n");
	printf("%s\n", code);
	free(code);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_join = {
	.name = "join",
	.summary = "become partners with the node of an invite code",
	.usage =
	"usage: hansa join CODE [--endpoint tcp://HOST:PORT]... [--no-peer]\n"
	"\n"
	"Checks the signatures of CODE (from 'hansa invite' on the partner's node),\n"
	"adds that partner as a member and its first endpoint as a peer, and prints\n"
	"this node's own invite code on stdout to send back.\n"
	"\n"
	"  --endpoint  where the partner reaches this node, for the code printed\n"
	"              (repeatable; default as for 'hansa invite')\n"
	"  --no-peer   add the member only, without connecting to it\n",
	.exec = exec,
};
