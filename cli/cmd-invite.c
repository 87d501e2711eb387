/*
 * cmd-invite.c: `hansa invite`: prints this node's invite code, one line
 * with its identity key, signed transport key, profile and endpoints, for a
 * partner to pass to `hansa join`.
 */
#include <stdlib.h>
#include <string.h>
#include "cli/net.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *eps[HX_ENDPOINTS_MAX];
	size_t n = hx_arg_values(a, "endpoint", eps, HX_ENDPOINTS_MAX);

	if (n > HX_ENDPOINTS_MAX)
		return hx_fail("at most %d endpoints", HX_ENDPOINTS_MAX);
	char *code;
	if (hx_cli_own_code(ctx, eps, n, &code))
		return HX_EXIT_FAIL;
	printf("%s\n", code);
	free(code);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "endpoint", 0, "tcp://HOST:PORT",
	  "where partners reach this node (repeatable, at most 8); "
	  "default: the address 'hansa serve --bind' last used, with a wildcard host replaced by this "
	  "host's name",
	  HX_OPT_MULTI },
	{ 0 }
};

const struct hx_cmd hx_cmd_invite = {
	.name = "invite",
	.summary = "print this node's invite code for a new partner",
	.opts = opts,
	.text = "Prints one line, hansa1:..., that carries this partner's identity key, its\n"
	        "transport key and profile, and where its node listens, all signed. The\n"
	        "partner runs 'hansa join CODE' and sends its own code back; after\n"
	        "'hansa join' (or 'hansa member add') of that code here, the two nodes\n"
	        "replicate. The code holds no secret.\n",
	.exec = exec,
};
