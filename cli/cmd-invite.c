/*
 * cmd-invite.c: `hansa invite`: prints this node's invite code, one line
 * with its identity key, signed transport key, profile and endpoints, for a
 * partner to pass to `hansa join`.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/net.h"

const struct hx_cmd hx_cmd_invite;

static int exec(struct hx_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, 0, 'e' }, { 0, 0, 0, 0 }
	};
	const char *eps[HX_ENDPOINTS_MAX + 1];
	size_t n = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'e')
			return hx_usage_error(&hx_cmd_invite, "unknown option");
		if (n == HX_ENDPOINTS_MAX)
			return hx_fail("at most %d endpoints", HX_ENDPOINTS_MAX);
		eps[n++] = optarg;
	}
	if (optind != argc)
		return hx_usage_error(&hx_cmd_invite, "unexpected argument '%s'", argv[optind]);
	char *code;
	if (hx_cli_own_code(ctx, eps, n, &code))
		return HX_EXIT_FAIL;
	printf("%s\n", code);
	free(code);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_invite = {
	.name = "invite",
	.summary = "print this node's invite code for a new partner",
	.usage =
	"usage: hansa invite [--endpoint tcp://HOST:PORT]...\n"
	"\n"
	"Prints one line, hansa1:..., that carries this partner's identity key, its\n"
	"transport key and profile, and where its node listens, all signed. The\n"
	"partner runs 'hansa join CODE' and sends its own code back; after\n"
	"'hansa join' (or 'hansa member add') of that code here, the two nodes\n"
	"replicate. The code holds no secret.\n"
	"\n"
	"  --endpoint  where partners reach this node (repeatable, at most 8);\n"
	"              default: the address 'hansa serve --bind' last used, with a\n"
	"              wildcard host replaced by this host's name\n",
	.exec = exec,
};
