/*
 * cmd-member.c: `hansa member add|remove|list`: the partners this node
 * accepts. Only members' transport keys may connect, and only entries
 * authored by members are stored or relayed.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/identity.h"
#include "cli/net.h"
#include "node/state.h"

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
		hx_invite_clear(&inv);
		return HX_EXIT_OK;
	}
	uint8_t key[HX_KEY_LEN];
	if (hx_parse_key(what, key))
		return HX_EXIT_FAIL;
	hx_member m;
	int rc = hx_member_load(s, key, &m);
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
	int rc = hx_store_member_del(ctx->store, key);
	if (rc)
		return hx_fail("cannot remove %s: %s", what, hx_strerror(rc));
	fprintf(stderr, "removed %s; its entries stay, new ones are refused\n", label);
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

static const struct hx_opt add_opts[] = { HX_CLI_PROFILE_OPTS, { 0 } };

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
	  .exec = remove_,
	  .summary =
	          "stop accepting KEY (a key, a unique key prefix or a name); its entries already "
	          "stored stay" },
	{ .name = "list",
	  .alias = "ls",
	  .opts = list_opts,
	  .exec = list,
	  .summary = "key, name, town and country of every member" },
	{ 0 }
};

const struct hx_cmd hx_cmd_member = {
	.name = "member",
	.summary = "add, remove or list the partners this node accepts",
	.subs = subs,
	.text = "Members are the partners this node accepts: only their transport keys may\n"
	        "connect, and only entries they authored are stored or relayed.\n",
};
