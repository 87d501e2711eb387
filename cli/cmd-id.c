/*
 * cmd-id.c: `hansa id`: prints this partner's public keys and profile.
 */
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "cli/identity.h"
#include "cli/profile.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	int json = hx_arg_count(a, "json");
	cJSON *p = hx_profile_load(ctx->home);
	if (!p)
		return HX_EXIT_FAIL;
	if (json) {
		hx_json_print(p);
		return HX_EXIT_OK;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, p) if (cJSON_IsString(it) && *it->valuestring)
	        printf("%-15s %s\n", it->string, it->valuestring);
	cJSON_Delete(p);
	return HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "json", 0, NULL, "one JSON object with key, transport and the profile fields", 0 }, { 0 }
};

const struct hx_cmd hx_cmd_id = {
	.name = "id",
	.summary = "show this partner's public key and profile",
	.opts = opts,
	.text = "Prints the public identity key, the transport key and the profile.\n",
	.exec = exec,
};
