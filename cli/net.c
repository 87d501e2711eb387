/*
 * net.c: helpers of the network subcommands (see net.h): this node's own
 * member record, member lookup by key, prefix or name, invite codes.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli/identity.h"
#include "cli/net.h"
#include "store/org.h"
#include "cli/profile.h"
#include "node/state.h"

int hx_cli_check_profile(const char *name, const char *v)
{
	if (!hx_utf8_valid(v, strlen(v)) || strlen(v) > HX_PROFILE_VALUE_MAX)
		return hx_fail("--%s: not valid UTF-8 of at most %d bytes", name,
		               HX_PROFILE_VALUE_MAX);
	if (!strcmp(name, "country") &&
	    (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z'))
		return hx_fail("--country: two capital letters (ISO 3166), e.g. DK");
	if (!strcmp(name, "email") && !strchr(v, '@'))
		return hx_fail("--email: '%s' is not an e-mail address", v);
	return 0;
}

/* The profile fields of profile.json as member-record fields (borrowed). */
static size_t profile_fields(const cJSON *profile, hx_meta *out)
{
	size_t n = 0;
	for (int i = 0; hx_profile_fields[i] && n < HX_PROFILE_MAX; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(profile, hx_profile_fields[i]);
		if (cJSON_IsString(v) && *v->valuestring) {
			out[n].key = (char *)hx_profile_fields[i];
			out[n++].value = v->valuestring;
		}
	}
	return n;
}

int hx_cli_put_self_member(hx_store *s, const uint8_t sk[HX_SECRET_LEN], const uint8_t cpk[32],
                           const cJSON *profile)
{
	hx_meta f[HX_PROFILE_MAX];
	hx_member m = { .profile = f,
		        .nprofile = profile_fields(profile, f),
		        .timestamp = hx_now_us() };
	uint8_t *rec;
	size_t len;
	int rc;

	memcpy(m.transport, cpk, 32);
	if ((rc = hx_member_sign(&m, sk, &rec, &len)))
		return hx_fail("cannot sign this node's member record: %s (check the profile)",
		               hx_strerror(rc));
	rc = hx_store_member_put(s, m.key, rec, len);
	free(rec);
	if (rc)
		return hx_fail("cannot store this node's member record: %s", hx_strerror(rc));
	return 0;
}

int hx_cli_ensure_self(struct hx_ctx *ctx)
{
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s || hx_ctx_identity(ctx))
		return 1;
	cJSON *p = hx_profile_load(ctx->home);
	if (!p)
		return 1;
	hx_member m;
	hx_meta f[HX_PROFILE_MAX];
	size_t nf = profile_fields(p, f);
	int same = 0;
	if (ctx->has_signer) {
		/* only the organisation key signs its member record: a device
		 * or a rotated home keeps the one it has */
		cJSON_Delete(p);
		if (hx_member_load(s, ctx->pk, &m))
			return hx_fail("this home signs for an organisation whose member "
			               "record it does not hold");
		hx_member_clear(&m);
		return 0;
	}
	if (hx_member_load(s, ctx->pk, &m) == HX_OK) {
		same = m.has_transport && !memcmp(m.transport, ctx->curve_pk, 32) &&
		       m.nprofile == nf;
		for (size_t i = 0; same && i < nf; i++) {
			const char *v = hx_member_field(&m, f[i].key);
			same = v && !strcmp(v, f[i].value);
		}
		hx_member_clear(&m);
	}
	int rc = same ? 0 : hx_cli_put_self_member(s, ctx->sk, ctx->curve_pk, p);
	cJSON_Delete(p);
	return rc;
}

int hx_cli_self_record(struct hx_ctx *ctx, uint8_t **rec, size_t *len)
{
	if (hx_cli_ensure_self(ctx))
		return 1;
	int rc = hx_store_member_get(ctx->store, ctx->pk, rec, len);
	return rc ? hx_fail("cannot read this node's member record: %s", hx_strerror(rc)) : 0;
}

int hx_cli_find_member(struct hx_ctx *ctx, const char *what, uint8_t key[HX_KEY_LEN])
{
	hx_store *s = hx_ctx_store(ctx, 0);
	hx_member *m;
	size_t n, found = 0, wl = strlen(what);
	char hex[2 * HX_KEY_LEN + 1];
	int rc;

	if (!s)
		return 1;
	if ((rc = hx_members_load(s, &m, &n, NULL)))
		return hx_fail("cannot read the members: %s", hx_strerror(rc));
	int is_hex = wl >= 8 && wl <= 64 && strspn(what, "0123456789abcdefABCDEF") == wl;
	for (size_t i = 0; i < n; i++) {
		const char *name = hx_member_field(&m[i], "name");
		hx_hex(hex, m[i].key, HX_KEY_LEN);
		if ((is_hex && !strncasecmp(hex, what, wl)) || (name && !strcasecmp(name, what))) {
			if (!found++)
				memcpy(key, m[i].key, HX_KEY_LEN);
		}
	}
	hx_members_free(m, n);
	if (found == 1)
		return 0;
	if (found > 1)
		return hx_fail("'%s' matches %zu members; give more of the key", what, found);
	if (wl == 64 && is_hex)
		return hx_fail("%s is not a member (see 'hansa member list')", what);
	return hx_fail(
	        "no member '%s' (give a key, a key prefix or a name; see 'hansa member list')",
	        what);
}

/* "NAME, device of ORG (01234567)" when key is a device of a member (its
 * node connects as the device key): 1, else 0. */
static int device_label(hx_store *s, const uint8_t key[HX_KEY_LEN], char *out, size_t outlen)
{
	hx_member *m;
	size_t n;
	hx_device d;
	char hex[2 * HX_KEY_LEN + 1];
	int found = 0;
	if (hx_members_load(s, &m, &n, NULL))
		return 0;
	for (size_t i = 0; i < n && !found; i++) {
		if (hx_store_device_get(s, m[i].key, key, &d))
			continue;
		const char *org = hx_member_field(&m[i], "name");
		snprintf(out, outlen, "%s, device of %s (%.8s)", d.name, org && *org ? org : "?",
		         hx_hex(hex, key, HX_KEY_LEN));
		found = 1;
	}
	hx_members_free(m, n);
	return found;
}

void hx_cli_member_label(struct hx_ctx *ctx, const uint8_t key[HX_KEY_LEN], char *out,
                         size_t outlen)
{
	hx_member m;
	char hex[2 * HX_KEY_LEN + 1];
	hx_hex(hex, key, HX_KEY_LEN);
	if (ctx->store && hx_member_load(ctx->store, key, &m) == HX_OK) {
		const char *name = hx_member_field(&m, "name");
		if (name && *name)
			snprintf(out, outlen, "%s (%.8s)", name, hex);
		else
			snprintf(out, outlen, "%.16s", hex);
		hx_member_clear(&m);
		return;
	}
	if (ctx->store && device_label(ctx->store, key, out, outlen))
		return;
	snprintf(out, outlen, "%.16s", hex);
}

static const char *invite_error(int rc)
{
	switch (rc) {
	case HX_EINVAL: return "not an invite code (it starts with 'hansa1:')";
	case HX_EFORGED: return "its signature does not verify (damaged or forged)";
	case HX_EVERSION: return "made by a newer hansa (unknown version)";
	case HX_ELIMIT: return "over a size limit";
	default: return "damaged (not the canonical encoding)";
	}
}

int hx_cli_accept_invite(struct hx_ctx *ctx, const char *code, int add_peer, hx_invite *inv)
{
	uint8_t *rec = NULL;
	size_t len;
	hx_member old;
	char label[128];
	int rc;

	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s || hx_cli_ensure_self(ctx))
		return 1;
	if ((rc = hx_invite_decode(inv, code, &rec, &len)))
		return hx_fail("invalid invite code: %s", invite_error(rc));
	if (!memcmp(inv->member.key, ctx->pk, HX_KEY_LEN)) {
		free(rec);
		hx_invite_clear(inv);
		return hx_fail("that is this node's own invite code");
	}
	rc = hx_member_load(s, inv->member.key, &old);
	int keep = rc == HX_OK && old.has_transport && old.timestamp > inv->member.timestamp;
	if (rc == HX_OK)
		hx_member_clear(&old);
	if (!keep && (rc = hx_store_member_put(s, inv->member.key, rec, len)))
		goto fail;
	free(rec);
	rec = NULL;
	if ((rc = hx_member_endpoints_put(s, inv->member.key, (const char *const *)inv->endpoints,
	                                  inv->nendpoints)))
		goto fail;
	if (add_peer && (rc = hx_peer_add(s, inv->endpoints[0], inv->member.key)))
		goto fail;
	hx_cli_member_label(ctx, inv->member.key, label, sizeof label);
	fprintf(stderr, "%s %s as a member%s%s\n", keep ? "kept the newer record of" : "added",
	        label, add_peer ? " and a peer at " : "", add_peer ? inv->endpoints[0] : "");
	return 0;
fail:
	free(rec);
	hx_invite_clear(inv);
	return hx_fail("cannot store the new member: %s", hx_strerror(rc));
}

/* Replaces a wildcard host (*, 0.0.0.0, [::]) by this host's name. */
static void public_endpoint(const char *bind, char *out, size_t n)
{
	const char *host = bind + 6, *colon = strrchr(bind, ':');
	char name[256];
	if (strncmp(bind, "tcp://", 6) || !colon || colon < host) {
		snprintf(out, n, "%s", bind);
		return;
	}
	size_t hl = (size_t)(colon - host);
	int wild = (hl == 1 && host[0] == '*') || (hl == 7 && !strncmp(host, "0.0.0.0", 7)) ||
	           (hl == 4 && !strncmp(host, "[::]", 4));
	if (!wild || gethostname(name, sizeof name)) {
		snprintf(out, n, "%s", bind);
		return;
	}
	name[sizeof name - 1] = 0;
	int w = snprintf(out, n, "tcp://%s%s", name, colon);
	if (w < 0 || (size_t)w >= n)
		snprintf(out, n, "%s", bind);
}

int hx_cli_own_code(struct hx_ctx *ctx, const char *const *eps, size_t n, char **code)
{
	char bind[HX_ENDPOINT_MAX + 1], pub[HX_ENDPOINT_MAX + 1];
	const char *def[1] = { pub };
	uint8_t *rec;
	size_t len;
	int rc;

	if (hx_ctx_identity(ctx))
		return 1;
	if (ctx->has_signer)
		/* an invite is signed by the organisation key itself */
		return hx_fail("only the organisation key signs invite codes, and this home %s",
		               ctx->is_device
		                       ? "is a device's: the organisation's home makes them"
		                       : "has rotated it: its code from before is in org-invite");
	if (hx_cli_self_record(ctx, &rec, &len))
		return 1;
	if (!n) {
		if (hx_setting_get(ctx->store, "bind", bind, sizeof bind))
			snprintf(bind, sizeof bind, "%s", HX_DEFAULT_BIND);
		public_endpoint(bind, pub, sizeof pub);
		eps = def;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (hx_endpoint_check(eps[i])) {
			free(rec);
			return hx_fail("'%s' is not an endpoint (tcp://HOST:PORT)", eps[i]);
		}
		if (strstr(eps[i], "://*:") || strstr(eps[i], "://0.0.0.0:")) {
			free(rec);
			return hx_fail(
			        "'%s' is a listening address, not one partners can connect to; "
			        "give --endpoint tcp://HOST:PORT",
			        eps[i]);
		}
	}
	if (n > HX_ENDPOINTS_MAX) {
		free(rec);
		return hx_fail("at most %d endpoints", HX_ENDPOINTS_MAX);
	}
	rc = hx_invite_encode(rec, len, eps, n, hx_now_us(), ctx->sk, code);
	free(rec);
	return rc ? hx_fail("cannot make the invite code: %s", hx_strerror(rc)) : 0;
}

int hx_cli_pid_alive(uint64_t pid)
{
	if (!pid || pid > (uint64_t)INT32_MAX)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}
