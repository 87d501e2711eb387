/*
 * profile.c: reading and writing HOME/profile.json (see profile.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "cli/identity.h"
#include "cli/profile.h"

cJSON *hx_profile_load(const char *home)
{
	char path[4200], *buf;
	const char *why;
	size_t n;
	cJSON *j;

	snprintf(path, sizeof path, "%s/%s", home, HX_PROFILEFILE);
	int rc = hx_file_read(path, HX_PROFILE_FILE_MAX, &buf, &n, &why);
	if (rc == HX_ENOTFOUND) {
		hx_fail("no identity in %s (run 'hansa init' first)", home);
		return NULL;
	}
	if (rc) {
		hx_fail("cannot read the profile %s: %s", path, why);
		return NULL;
	}
	j = cJSON_ParseWithLength(buf, n);
	free(buf);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		hx_fail("profile %s is not valid JSON", path);
		return NULL;
	}
	return j;
}

/* Writes a JSON file home/name (temp file + rename + fsync). */
static int json_save(const char *home, const char *name, const cJSON *j)
{
	char path[4200], tmp[4300];
	char *text = cJSON_Print(j);
	FILE *f;

	if (!text)
		return hx_fail("out of memory");
	snprintf(path, sizeof path, "%s/%s", home, name);
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "wx");
	int bad = !f || fputs(text, f) < 0 || fputc('\n', f) < 0;
	if (f && (fflush(f) || fsync(fileno(f))))
		bad = 1;
	if (f && fclose(f))
		bad = 1;
	free(text);
	if (bad || rename(tmp, path) || hx_fsync_parent(path)) {
		unlink(tmp);
		return hx_fail("cannot write %s", path);
	}
	return 0;
}

int hx_profile_save(const char *home, const cJSON *profile)
{
	return json_save(home, HX_PROFILEFILE, profile);
}

int hx_org_invite_save(const char *home, const char *code)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", home, HX_ORGINVITE);
	FILE *f = fopen(path, "w");
	int bad = !f || fprintf(f, "%s\n", code) < 0;
	if ((f && fclose(f)) || bad)
		return hx_fail("cannot write %s", path);
	return 0;
}

int hx_org_file_save(const char *home, const uint8_t org[HX_KEY_LEN], int device)
{
	char hex[2 * HX_KEY_LEN + 1];
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "org", hx_hex(hex, org, HX_KEY_LEN));
	cJSON_AddBoolToObject(j, "device", device);
	int rc = json_save(home, HX_ORGFILE, j) ? -1 : 0;
	cJSON_Delete(j);
	return rc;
}
