/*
 * cmd-member.c: `hansa member add|remove|list|policy|introduce`: the
 * partners this node accepts. Only members' transport keys may connect, and
 * only entries authored by members are stored or relayed. What is decided
 * here is a local decision, which the roster never overrides.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/identity.h"
#include "cli/net.h"
#include "node/roster.h"

static int add(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *values[8] = { 0 }, *what = a->argv[0];
	int nvalues = 0;

	for (int i = 0; hx_profile_fields[i]; i++) {
		values[i] = hx_arg_value(a, hx_profile_fields[i]);
		if (values[i] && hx_cli_check_profile(hx_profile_fields[i], values[i]))
			return HX_EXIT_FAIL;
		nvalues += !!values[i];
	}
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s || hx_cli_ensure_self(ctx))
		return HX_EXIT_FAIL;

	if (!strncmp(what, HX_INVITE_PREFIX, strlen(HX_INVITE_PREFIX))) {
		hx_invite inv;
		if (nvalues)
			return hx_fail("an invite code carries its partner's own profile; "
			               "profile options go with a bare KEY");
		if (hx_cli_accept_invite(ctx, what, 0, &inv))
			return HX_EXIT_FAIL;
		int rc = hx_member_local_put(s, inv.member.key, 'a'), done;
		size_t more;
		uint8_t k[HX_KEY_LEN];
		memcpy(k, inv.member.key, HX_KEY_LEN);
		hx_invite_clear(&inv);
		if (rc)
			return hx_fail("cannot store the decision: %s", hx_strerror(rc));
		/* the invite exchange is done: a node that takes part in the
		 * roster tells the network (and the newcomer about the others) */
		hx_policy p;
		if ((rc = hx_policy_get(s, &p)))
			return hx_fail("cannot read the policy: %s", hx_strerror(rc));
		if (hx_policy_introduces(&p) && !hx_arg_count(a, "no-introduce") &&
		    (hx_cli_introduce(ctx, k, &done) || hx_cli_introduce_all(ctx, &more)))
			return HX_EXIT_FAIL;
		return HX_EXIT_OK;
	}
	uint8_t key[HX_KEY_LEN];
	if (hx_parse_key(what, key))
		return HX_EXIT_FAIL;
	if (hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	int rc = hx_member_local_put(s, key, 'a');
	if (rc)
		return hx_fail("cannot store the decision: %s", hx_strerror(rc));
	hx_member m;
	hx_roster r;
	hx_policy any = { .mode = HX_POLICY_ANY };
	if (!nvalues && hx_roster_decide(s, &any, ctx->pk, key, &r) == HX_OK) {
		/* a member introduced it: take its own signed record from there,
		 * so that it can connect too */
		int intro = !r.removed;
		rc = intro ? hx_store_member_put(s, key, r.rec, r.reclen) : HX_OK;
		if (!rc && intro && r.nendpoints)
			rc = hx_member_endpoints_put(s, key, (const char *const *)r.endpoints,
			                             r.nendpoints);
		if (!rc && intro && r.nendpoints)
			rc = hx_peer_add(s, r.endpoints[0], key);
		hx_roster_clear(&r);
		if (rc)
			return hx_fail("cannot store the member: %s", hx_strerror(rc));
		if (intro) {
			fprintf(stderr,
			        "added %s as a member, with the signed record a member "
			        "introduced it with\n",
			        what);
			return HX_EXIT_OK;
		}
	}
	rc = hx_member_load(s, key, &m);
	if (rc == HX_OK) {
		hx_member_clear(&m);
		return hx_fail("%s is already a member (remove it first to change its profile)",
		               what);
	}
	if (rc != HX_ENOTFOUND)
		return hx_fail("cannot read the members: %s", hx_strerror(rc));
	hx_meta f[8];
	size_t nf = 0;
	for (int i = 0; hx_profile_fields[i]; i++)
		if (values[i] && *values[i])
			f[nf++] = (hx_meta){ (char *)hx_profile_fields[i], (char *)values[i] };
	m = (hx_member){ .timestamp = hx_now_us(), .profile = f, .nprofile = nf };
	memcpy(m.key, key, HX_KEY_LEN);
	uint8_t *rec;
	size_t len;
	if ((rc = hx_member_encode_local(&m, &rec, &len)))
		return hx_fail("cannot make the member record: %s", hx_strerror(rc));
	rc = hx_store_member_put(s, key, rec, len);
	free(rec);
	if (rc)
		return hx_fail("cannot store the member: %s", hx_strerror(rc));
	fprintf(stderr,
	        "added %s as a member; it can author entries here, and can connect "
	        "once its invite code is added ('hansa member add CODE')\n",
	        what);
	return HX_EXIT_OK;
}

static int remove_(struct hx_ctx *ctx, const struct hx_args *a)
{
	uint8_t key[HX_KEY_LEN];
	char label[128];
	const char *what = a->argv[0];
	if (!hx_ctx_store(ctx, 0) || hx_ctx_identity(ctx) || hx_cli_find_member(ctx, what, key))
		return HX_EXIT_FAIL;
	if (!memcmp(key, ctx->pk, HX_KEY_LEN))
		return hx_fail("that is this node's own identity; it stays a member");
	hx_cli_member_label(ctx, key, label, sizeof label);
	int done = 0, rc = hx_member_local_put(ctx->store, key, 'r');
	if (!rc && !hx_arg_count(a, "no-announce") && hx_cli_announce_removal(ctx, key, &done))
		return HX_EXIT_FAIL;
	if (!rc)
		rc = hx_store_member_del(ctx->store, key);
	if (rc)
		return hx_fail("cannot remove %s: %s", what, hx_strerror(rc));
	fprintf(stderr, "removed %s; its entries stay, new ones are refused%s\n", label,
	        done ? "; the network was told (roster)" : "");
	return HX_EXIT_OK;
}

static int policy(struct hx_ctx *ctx, const struct hx_args *a)
{
	hx_store *s = hx_ctx_store(ctx, 0);
	hx_policy p;
	char label[128];
	if (!s)
		return HX_EXIT_FAIL;
	if (a->argc == 0) {
		int rc = hx_policy_get(s, &p);
		if (rc)
			return hx_fail("cannot read the policy: %s", hx_strerror(rc));
		printf("%s", p.mode == HX_POLICY_ANY    ? "any"
		             : p.mode == HX_POLICY_FROM ? "from"
		                                        : "none");
		for (size_t i = 0; i < p.nfrom; i++) {
			hx_cli_member_label(ctx, p.from[i], label, sizeof label);
			printf("%s%s", i ? ", " : " ", label);
		}
		printf("\n");
		return HX_EXIT_OK;
	}
	memset(&p, 0, sizeof p);
	const char *mode = a->argv[0];
	if (!strcmp(mode, "any") || !strcmp(mode, "none")) {
		if (a->argc != 1)
			return hx_fail("'%s' takes no names", mode);
		p.mode = !strcmp(mode, "any") ? HX_POLICY_ANY : HX_POLICY_NONE;
	} else if (!strcmp(mode, "from")) {
		if (a->argc < 2)
			return hx_fail("'from' needs one or more member names or keys");
		if (a->argc - 1 > HX_POLICY_FROM_MAX)
			return hx_fail("at most %d introducers", HX_POLICY_FROM_MAX);
		p.mode = HX_POLICY_FROM;
		for (int i = 1; i < a->argc; i++)
			if (hx_cli_find_member(ctx, a->argv[i], p.from[p.nfrom++]))
				return HX_EXIT_FAIL;
	} else {
		return hx_usage_error(a->top, "member policy takes any, none, or from NAME|KEY...");
	}
	int rc = hx_policy_put(s, &p);
	if (rc)
		return hx_fail("cannot store the policy: %s", hx_strerror(rc));
	if (hx_ctx_identity(ctx) || hx_cli_roster_apply(ctx))
		return HX_EXIT_FAIL;
	hx_store_wake_config(s);
	return HX_EXIT_OK;
}

static int introduce(struct hx_ctx *ctx, const struct hx_args *a)
{
	int done;
	size_t count;
	uint8_t key[HX_KEY_LEN];
	if (hx_arg_count(a, "all")) {
		if (a->argc)
			return hx_usage_error(a->top, "give a member or --all, not both");
		if (hx_cli_introduce_all(ctx, &count))
			return HX_EXIT_FAIL;
		fprintf(stderr, "%zu introduction%s published\n", count, count == 1 ? "" : "s");
		return HX_EXIT_OK;
	}
	if (a->argc != 1)
		return hx_usage_error(a->top, "member introduce takes one member (or --all)");
	if (!hx_ctx_store(ctx, 0) || hx_cli_find_member(ctx, a->argv[0], key) ||
	    hx_cli_introduce(ctx, key, &done))
		return HX_EXIT_FAIL;
	if (!done)
		fprintf(stderr, "already introduced, with the same record and endpoints\n");
	return HX_EXIT_OK;
}

static int list(struct hx_ctx *ctx, const struct hx_args *a)
{
	int json = hx_arg_count(a, "json");
	hx_store *s = hx_ctx_store(ctx, 0);
	hx_member *m;
	size_t n, bad;
	char hex[2 * HX_KEY_LEN + 1];
	if (!s)
		return HX_EXIT_FAIL;
	int have_id = !hx_ctx_identity(ctx);
	int rc = hx_members_load(s, &m, &n, &bad);
	if (rc)
		return hx_fail("cannot read the members: %s", hx_strerror(rc));
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; i < n; i++) {
		int self = have_id && !memcmp(m[i].key, ctx->pk, HX_KEY_LEN);
		const char *name = hx_member_field(&m[i], "name");
		if (json) {
			cJSON *o = cJSON_CreateObject(), *p;
			cJSON_AddStringToObject(o, "key", hx_hex(hex, m[i].key, HX_KEY_LEN));
			if (m[i].has_transport)
				cJSON_AddStringToObject(o, "transport",
				                        hx_hex(hex, m[i].transport, 32));
			else
				cJSON_AddNullToObject(o, "transport");
			cJSON_AddBoolToObject(o, "self", self);
			cJSON_AddBoolToObject(o, "signed", m[i].has_transport);
			p = cJSON_AddObjectToObject(o, "profile");
			for (size_t j = 0; j < m[i].nprofile; j++)
				cJSON_AddStringToObject(p, m[i].profile[j].key,
				                        m[i].profile[j].value);
			cJSON_AddItemToArray(arr, o);
		} else {
			const char *town = hx_member_field(&m[i], "town");
			const char *country = hx_member_field(&m[i], "country");
			printf("%s  %-28s %s%s%s%s%s\n", hx_hex(hex, m[i].key, HX_KEY_LEN),
			       name && *name ? name : "-", town ? town : "",
			       country ? (town ? ", " : "") : "", country ? country : "",
			       self ? "  (this node)" : "",
			       m[i].has_transport ? "" : "  (no transport key: cannot connect)");
		}
	}
	hx_members_free(m, n);
	if (json)
		hx_json_print(arr);
	if (bad)
		fprintf(stderr, "hansa: %zu damaged member record%s skipped\n", bad,
		        bad == 1 ? "" : "s");
	return HX_EXIT_OK;
}

static const struct hx_opt add_opts[] = {
	HX_CLI_PROFILE_OPTS,
	{ "no-introduce", 0, NULL,
	  "with a CODE: do not publish an introduction of the partner (and of the other members) "
	  "to the network (published when this node's member policy is any or from, chosen with "
	  "'member policy')",
	  0 },
	{ 0 }
};
static const struct hx_opt remove_opts[] = {
	{ "no-announce", 0, NULL, "do not publish a removal, even if this node introduced it", 0 },
	{ 0 }
};
static const struct hx_opt introduce_opts[] = {
	{ "all", 0, NULL, "every member this node holds a signed record of", 0 }, { 0 }
};

static const struct hx_opt list_opts[] = {
	{ "json", 0, NULL, "an array of {key, transport, self, signed, profile}", 0 }, { 0 }
};

static const struct hx_cmd subs[] = {
	{ .name = "add",
	  .args = "CODE|KEY",
	  .args_min = 1,
	  .args_max = 1,
	  .args_error = "member add takes one KEY or invite CODE",
	  .opts = add_opts,
	  .exec = add,
	  .summary =
	          "CODE: accept the partner of an invite code (hansa1:...), with its signed "
	          "transport key and profile; it can connect at once. KEY: accept entries authored by the "
	          "Ed25519 key KEY (64 hex digits), e.g. a partner whose entries reach us through another "
	          "node; it cannot connect until its invite code is added. The profile options go with a "
	          "KEY." },
	{ .name = "remove",
	  .alias = "rm",
	  .args = "KEY",
	  .args_min = 1,
	  .args_max = 1,
	  .args_error = "member remove takes one KEY",
	  .opts = remove_opts,
	  .exec = remove_,
	  .summary =
	          "stop accepting KEY (a key, a unique key prefix or a name); its entries already "
	          "stored stay" },
	{ .name = "list",
	  .alias = "ls",
	  .opts = list_opts,
	  .exec = list,
	  .summary = "key, name, town and country of every member" },
	{ .name = "policy",
	  .args = "[any|none|from NAME|KEY...]",
	  .args_min = 0,
	  .args_max = -1,
	  .exec = policy,
	  .summary = "whose introductions this node follows: any member's, only those of the named "
	             "members, or none (members only by hand; the default). Without an argument, "
	             "print it" },
	{ .name = "introduce",
	  .args = "[NAME|KEY]",
	  .args_min = 0,
	  .args_max = 1,
	  .opts = introduce_opts,
	  .exec = introduce,
	  .summary = "publish an introduction of a member (its own signed record and endpoints), "
	             "so that nodes whose policy trusts this one add it too" },
	{ 0 }
};

const struct hx_cmd hx_cmd_member = {
	.name = "member",
	.summary = "add, remove or list the partners this node accepts",
	.subs = subs,
	.text = "Members are the partners this node accepts: only their transport keys may\n"
	        "connect, and only entries they authored are stored or relayed.\n"
	        "The roster replicates: 'member add CODE' publishes an introduction of the\n"
	        "new partner, 'member remove' a removal of one this node introduced, and\n"
	        "nodes follow the introductions their 'member policy' trusts. What is\n"
	        "decided here by hand always overrides the roster.\n",
};
