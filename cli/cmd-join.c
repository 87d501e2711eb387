/*
 * cmd-join.c: `hansa join CODE`: accepts a partner's invite code (adds it
 * as a member and as a peer) and prints this node's own code to send back.
 */
#include <stdlib.h>
#include <string.h>
#include "cli/net.h"
#include "node/roster.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *eps[HX_ENDPOINTS_MAX];
	size_t n = hx_arg_values(a, "endpoint", eps, HX_ENDPOINTS_MAX);
	int no_peer = hx_arg_count(a, "no-peer");

	if (n > HX_ENDPOINTS_MAX)
		return hx_fail("at most %d endpoints", HX_ENDPOINTS_MAX);
	hx_invite inv;
	char *code;
	if (hx_cli_accept_invite(ctx, a->argv[0], !no_peer, &inv))
		return HX_EXIT_FAIL;
	/* A node that joins a network follows the introductions of the partner
	 * that invited it, unless its policy was set: it trusts that partner
	 * already, and knows nobody else (PROTOCOL.md §4.1). */
	hx_policy p;
	int rc = hx_member_local_put(ctx->store, inv.member.key, 'a');
	if (!rc)
		rc = hx_policy_get(ctx->store, &p);
	if (!rc && !p.set && !hx_arg_count(a, "no-introducer")) {
		p.mode = HX_POLICY_FROM;
		p.by_join = 1;
		p.nfrom = 1;
		memcpy(p.from[0], inv.member.key, HX_KEY_LEN);
		if (!(rc = hx_policy_put(ctx->store, &p)))
			fprintf(stderr, "following the introductions of this partner "
			                "('hansa member policy' changes it)\n");
	}
	hx_invite_clear(&inv);
	if (rc)
		return hx_fail("cannot store the decision: %s", hx_strerror(rc));
	if (hx_cli_own_code(ctx, eps, n, &code))
		return HX_EXIT_FAIL;
	fprintf(stderr, "send this code back to your partner (they run 'hansa join' with it):\n");
	printf("%s\n", code);
	free(code);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "endpoint", 0, "tcp://HOST:PORT",
	  "where the partner reaches this node, for the code printed "
	  "(repeatable; default as for 'hansa invite')",
	  HX_OPT_MULTI },
	{ "no-peer", 0, NULL, "add the member only, without connecting to it", 0 },
	{ "no-introducer", 0, NULL,
	  "do not follow this partner's introductions (when no member "
	  "policy is set, joining sets 'from' this partner)",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_join = {
	.name = "join",
	.summary = "become partners with the node of an invite code",
	.args = "CODE",
	.args_min = 1,
	.args_max = 1,
	.args_error = "give one invite CODE",
	.opts = opts,
	.text = "Checks the signatures of CODE (from 'hansa invite' on the partner's node),\n"
	        "adds that partner as a member and its first endpoint as a peer, and prints\n"
	        "this node's own invite code on stdout to send back.\n",
	.exec = exec,
};
