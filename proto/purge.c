/*
 * purge.c: the purge record's layout (purge.h, docs/FORMAT.md §1.8.4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/purge.h"

int hx_purge_is(const hx_entry *e)
{
	return e->path && !strncmp(e->path, HX_PURGE_PREFIX, strlen(HX_PURGE_PREFIX));
}

static int bad(const char **why, const char *text)
{
	*why = text;
	return HX_EINVAL;
}

static int parse_line(const char *p, const char *end, hx_purge_ver *v)
{
	char hex[2 * HX_ID_LEN + 1];
	if (end - p < 2 * HX_ID_LEN + 2 || p[2 * HX_ID_LEN] != ' ')
		return HX_EINVAL;
	memcpy(hex, p, 2 * HX_ID_LEN);
	hex[2 * HX_ID_LEN] = 0;
	for (int i = 0; i < 2 * HX_ID_LEN; i++)
		if (!strchr("0123456789abcdef", hex[i]))
			return HX_EINVAL;
	if (hx_unhex(v->id, HX_ID_LEN, hex))
		return HX_EINVAL;
	uint64_t ts = 0;
	p += 2 * HX_ID_LEN + 1;
	if (p == end || (*p == '0' && end - p > 1))
		return HX_EINVAL; /* one spelling per number: no leading zeros */
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || ts > (UINT64_MAX - 9) / 10)
			return HX_EINVAL;
		ts = ts * 10 + (uint64_t)(*p - '0');
	}
	v->timestamp = ts;
	return HX_OK;
}

int hx_purge_parse(const hx_entry *e, const char **path, hx_purge_ver **out, size_t *n,
                   const char **why)
{
	hx_purge_ver *v = NULL;
	size_t cap = 0, k = 0;
	char want[sizeof HX_PURGE_PREFIX + 2 * HX_ID_LEN];

	*out = NULL;
	*n = 0;
	if (!hx_purge_is(e))
		return bad(why, "not a purge record");
	if (strcmp(e->kind, HX_KIND_PURGE))
		return bad(why, "purge record: kind is not " HX_KIND_PURGE);
	if (!(*path = hx_entry_meta(e, "path")) || !**path ||
	    hx_entry_is_system(&(hx_entry){ .path = (char *)*path }))
		return bad(why, "purge record: no document path (meta path)");
	for (const char *p = e->body, *nl; *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n'))) {
			free(v);
			return bad(why, "purge record: the body's last line has no newline");
		}
		hx_purge_ver *g = hx_grow(v, &cap, k + 1, sizeof *v);
		if (!g) {
			free(v);
			return HX_ENOMEM;
		}
		v = g;
		if (parse_line(p, nl, &v[k])) {
			free(v);
			return bad(why,
			           "purge record: a body line is not \"<64-hex id> <timestamp>\"");
		}
		for (size_t i = 0; i < k; i++)
			if (!memcmp(v[i].id, v[k].id, HX_ID_LEN)) {
				free(v);
				return bad(why, "purge record: a version is listed twice");
			}
		k++;
	}
	if (!k)
		return bad(why, "purge record: lists no version");
	/* The path names the purge by its first version, so that two purges
	 * of different versions never share a path. */
	snprintf(want, sizeof want, "%s", HX_PURGE_PREFIX);
	hx_hex(want + strlen(HX_PURGE_PREFIX), v[0].id, HX_ID_LEN);
	if (strcmp(e->path, want)) {
		free(v);
		return bad(why, "purge record: path is not .hansa/purge/<first listed id>");
	}
	*out = v;
	*n = k;
	return HX_OK;
}

char *hx_purge_body(const hx_purge_ver *v, size_t n)
{
	char *b = malloc(n * HX_PURGE_LINE + 1), *p = b;
	if (!b)
		return NULL;
	*p = 0;
	for (size_t i = 0; i < n; i++) {
		hx_hex(p, v[i].id, HX_ID_LEN);
		p += 2 * HX_ID_LEN;
		p += sprintf(p, " %llu\n", (unsigned long long)v[i].timestamp);
	}
	return b;
}
