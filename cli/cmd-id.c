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
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return hx_usage_error(&hx_cmd_id, "unexpected argument '%s'", argv[i]);
	}
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
