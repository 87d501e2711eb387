/*
 * cmd-id.c: `hansa id`: prints this partner's public keys and profile.
 */
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "cli/identity.h"
#include "cli/profile.h"

const struct hx_cmd hx_cmd_id;

static int exec(struct hx_ctx *ctx, int argc, char **argv)
{
	int json;
	if (hx_opt_json_only(&hx_cmd_id, argc, argv, &json))
		return HX_EXIT_USAGE;
	cJSON *p = hx_profile_load(ctx->home);
	if (!p)
		return HX_EXIT_FAIL;
	if (json) {
		hx_json_print(p);
		return HX_EXIT_OK;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, p)
		if (cJSON_IsString(it) && *it->valuestring)
			printf("%-15s %s\n", it->string, it->valuestring);
	cJSON_Delete(p);
	return HX_EXIT_OK;
}

const struct hx_cmd hx_cmd_id = {
	.name = "id",
	.summary = "show this partner's public key and profile",
	.usage =
	"usage: hansa id [--json]\n"
	"\n"
	"Prints the public identity key, the transport key and the profile.\n"
	"  --json   one JSON object with key, transport and the profile fields\n",
	.exec = exec,
};
