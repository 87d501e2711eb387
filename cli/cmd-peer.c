/*
 * cmd-peer.c: `hansa peer add|remove|list`: where this node connects to
 * (one ZeroMQ DEALER per peer when `hansa serve` runs, and what `hansa
 * sync` reconciles with).
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/net.h"
#include "node/state.h"

static int add(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *keyarg = hx_arg_value(a, "key"), *ep = a->argv[0];
	uint8_t key[HX_KEY_LEN];
	char label[128];
	int rc;

	if (hx_endpoint_check(ep))
		return hx_fail("'%s' is not an endpoint (tcp://HOST:PORT)", ep);
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	if (keyarg) {
		if (hx_cli_find_member(ctx, keyarg, key))
			return HX_EXIT_FAIL;
	} else {
		rc = hx_member_by_endpoint(s, ep, key);
		if (rc == HX_ENOTFOUND)
			return hx_fail("no member advertised %s in its invite code; give --key KEY",
			               ep);
		if (rc == HX_EEXIST)
			return hx_fail("several members advertised %s; give --key KEY", ep);
		if (rc)
			return hx_fail("cannot read the members: %s", hx_strerror(rc));
	}
	hx_member m;
	if ((rc = hx_member_load(s, key, &m)))
		return hx_fail("cannot read the member: %s", hx_strerror(rc));
	int has_transport = m.has_transport;
	hx_member_clear(&m);
	if (!hx_ctx_identity(ctx) && !memcmp(key, ctx->pk, HX_KEY_LEN))
		return hx_fail("that is this node's own key");
	if ((rc = hx_peer_add(s, ep, key)))
		return hx_fail("cannot add the peer: %s", hx_strerror(rc));
	hx_cli_member_label(ctx, key, label, sizeof label);
	fprintf(stderr, "added peer %s at %s\n", label, ep);
	if (!has_transport)
		fprintf(stderr,
		        "hansa: warning: %s's transport key is unknown, so the connection "
		        "will wait until its invite code is added ('hansa member add CODE')\n",
		        label);
	return HX_EXIT_OK;
}

static int remove_(struct hx_ctx *ctx, const struct hx_args *a)
{
	hx_peer_conf *pc;
	size_t n, removed = 0;
	uint8_t key[HX_KEY_LEN];
	const char *what = a->argv[0];
	int by_key = 0, rc;

	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	if ((rc = hx_peer_list(s, &pc, &n)))
		return hx_fail("cannot read the peers: %s", hx_strerror(rc));
	if (hx_endpoint_check(what)) {
		if (hx_cli_find_member(ctx, what, key)) {
			free(pc);
			return HX_EXIT_FAIL;
		}
		by_key = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (by_key ? memcmp(pc[i].key, key, HX_KEY_LEN) : strcmp(pc[i].endpoint, what))
			continue;
		if ((rc = hx_peer_del(s, pc[i].endpoint))) {
			free(pc);
			return hx_fail("cannot remove %s: %s", pc[i].endpoint, hx_strerror(rc));
		}
		fprintf(stderr, "removed peer %s\n", pc[i].endpoint);
		removed++;
	}
	free(pc);
	if (!removed)
		return hx_fail("no peer %s (see 'hansa peer list')", what);
	return HX_EXIT_OK;
}

static int list(struct hx_ctx *ctx, const struct hx_args *a)
{
	int json = hx_arg_count(a, "json");
	hx_store *s = hx_ctx_store(ctx, 0);
	hx_peer_conf *pc;
	size_t n;
	char hex[2 * HX_KEY_LEN + 1], label[128];
	if (!s)
		return HX_EXIT_FAIL;
	int rc = hx_peer_list(s, &pc, &n);
	if (rc)
		return hx_fail("cannot read the peers: %s", hx_strerror(rc));
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; i < n; i++) {
		hx_cli_member_label(ctx, pc[i].key, label, sizeof label);
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "endpoint", pc[i].endpoint);
			cJSON_AddStringToObject(o, "key", hx_hex(hex, pc[i].key, HX_KEY_LEN));
			hx_member m;
			if (hx_member_load(s, pc[i].key, &m) == HX_OK) {
				const char *name = hx_member_field(&m, "name");
				if (name)
					cJSON_AddStringToObject(o, "name", name);
				cJSON_AddBoolToObject(o, "member", 1);
				cJSON_AddBoolToObject(o, "can_connect", m.has_transport);
				hx_member_clear(&m);
			} else {
				cJSON_AddBoolToObject(o, "member", 0);
				cJSON_AddBoolToObject(o, "can_connect", 0);
			}
			cJSON_AddItemToArray(arr, o);
		} else {
			printf("%-32s %s\n", pc[i].endpoint, label);
		}
	}
	free(pc);
	if (json)
		hx_json_print(arr);
	return HX_EXIT_OK;
}

static const struct hx_opt add_opts[] = {
	{ "key", 0, "KEY",
	  "the member expected there (a key, a unique key prefix or a name); "
	  "without it, the member whose invite code advertised ENDPOINT",
	  0 },
	{ 0 }
};

static const struct hx_opt list_opts[] = {
	{ "json", 0, NULL, "an array of {endpoint, key, name, member, can_connect}", 0 }, { 0 }
};

static const struct hx_cmd subs[] = {
	{ .name = "add",
	  .args = "ENDPOINT",
	  .args_min = 1,
	  .args_max = 1,
	  .args_error = "peer add takes one ENDPOINT",
	  .opts = add_opts,
	  .exec = add,
	  .summary = "connect to ENDPOINT ('hansa join' adds the peer by itself)" },
	{ .name = "remove",
	  .alias = "rm",
	  .args = "ENDPOINT|KEY",
	  .args_min = 1,
	  .args_max = 1,
	  .args_error = "peer remove takes one ENDPOINT or KEY",
	  .exec = remove_,
	  .summary = "by endpoint, or every endpoint of a member" },
	{ .name = "list",
	  .alias = "ls",
	  .opts = list_opts,
	  .exec = list,
	  .summary = "endpoint and member of each peer" },
	{ 0 }
};

const struct hx_cmd hx_cmd_peer = {
	.name = "peer",
	.summary = "add, remove or list the nodes this node connects to",
	.subs = subs,
	.text = "Peers are where this node connects to: 'hansa serve' keeps a connection to\n"
	        "each, 'hansa sync' reconciles with them. ENDPOINT is tcp://HOST:PORT.\n",
};
