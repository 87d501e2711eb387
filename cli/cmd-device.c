/*
 * cmd-device.c: `hansa device add|list|revoke`: the people and machines
 * that sign for this organisation (docs/FORMAT.md §1.8). add certifies a
 * new device key in a hansa-device record and prints the one-line code
 * that `hansa init --device CODE` turns into the device's home; revoke
 * publishes a new version of its record with the time its key stops
 * counting.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sodium.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "cli/identity.h"
#include "cli/net.h"
#include "store/org.h"

/* Publishes a device record for dev of this organisation. */
static int put_record(struct hx_ctx *ctx, const uint8_t dev[HX_KEY_LEN], const char *name,
                      int admin, const uint8_t *transport, uint64_t revoked, uint8_t **raw,
                      size_t *rawlen)
{
	char path[HX_PATH_MAX + 1], thex[65], rev[24];
	hx_meta meta[4];
	size_t nm = 0;
	hx_entry e = { 0 };

	meta[nm++] = (hx_meta){ "name", (char *)name };
	meta[nm++] = (hx_meta){ "admin", admin ? "1" : "0" };
	if (transport)
		meta[nm++] = (hx_meta){ "transport", hx_hex(thex, transport, 32) };
	if (revoked != HX_NEVER) {
		snprintf(rev, sizeof rev, "%llu", (unsigned long long)revoked);
		meta[nm++] = (hx_meta){ "revoked", rev };
	}
	e.path = hx_device_path(path, dev);
	e.kind = HX_KIND_DEVICE;
	e.title = (char *)name;
	e.body = "";
	e.lang = "und";
	e.meta = meta;
	e.nmeta = nm;
	if (hx_cli_publish(ctx, &e))
		return 1;
	if (raw && hx_store_get(ctx->store, e.id, NULL, raw, rawlen))
		return hx_fail("cannot read the new device record back");
	return 0;
}

static const char *const code_prefix = HX_DEVICE_CODE_PREFIX;

/* The organisation's invite code a device home was made with (init
 * --device keeps it in HX_ORGINVITE); NULL after printing the error. */
static char *org_invite(struct hx_ctx *ctx)
{
	char path[4200], *buf;
	const char *why;
	size_t n;
	hx_home_path(ctx, HX_ORGINVITE, path, sizeof path);
	if (hx_file_read(path, HX_INVITE_TEXT_MAX + 2, &buf, &n, &why)) {
		hx_fail("cannot read %s: %s", path, why);
		return NULL;
	}
	buf[strcspn(buf, "\r\n")] = 0;
	return buf;
}

/* The records a new device's home needs besides its own to accept it:
 * the organisation's rotation records and, from an admin device, that
 * device's own record; each as u16 BE length ‖ bytes, appended to *buf. */
struct extras {
	uint8_t *buf;
	size_t len, cap;
};

static int extra_cb(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct extras *x = arg;
	(void)e;
	uint8_t *a = hx_grow(x->buf, &x->cap, x->len + 2 + len, 1);
	if (!a || len > 0xffff)
		return HX_ENOMEM;
	x->buf = a;
	hx_be16_put(x->buf + x->len, (uint16_t)len);
	memcpy(x->buf + x->len + 2, raw, len);
	x->len += 2 + len;
	return 0;
}

static int extra_records(struct hx_ctx *ctx, struct extras *x)
{
	char path[HX_PATH_MAX + 1];
	hx_entry e;
	int rc = hx_store_history(ctx->store, ctx->pk, HX_ORGKEY_PATH, extra_cb, x);
	if (!rc && ctx->is_device &&
	    !(rc = hx_store_current(ctx->store, ctx->pk, hx_device_path(path, ctx->signer_pk), &e,
	                            NULL))) {
		uint8_t *raw;
		size_t len;
		if (!(rc = hx_store_get(ctx->store, e.id, NULL, &raw, &len))) {
			rc = extra_cb(x, &e, raw, len);
			free(raw);
		}
		hx_entry_clear(&e);
	}
	return rc ? hx_fail("cannot read this home's records for the code: %s", hx_strerror(rc))
	          : 0;
}

static int add(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *name = hx_arg_value(a, "name");
	const char *eps[HX_ENDPOINTS_MAX];
	size_t neps = hx_arg_values(a, "endpoint", eps, HX_ENDPOINTS_MAX);
	uint8_t seed[32], curve_sk[32], cpk[32], pk[32], sk[64];
	uint8_t *raw = NULL, *payload = NULL;
	char *invite = NULL, *code = NULL, hex[65];
	size_t rawlen;
	int rc = HX_EXIT_FAIL;

	if (!name || !*name || strlen(name) > HX_DEVICE_NAME_MAX)
		return hx_usage_error(a->top, "--name gives the device a name of 1-%d bytes",
		                      HX_DEVICE_NAME_MAX);
	if (neps > HX_ENDPOINTS_MAX)
		return hx_fail("at most %d endpoints", HX_ENDPOINTS_MAX);
	if (!hx_ctx_store(ctx, 0) || hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	if (ctx->has_signer)
		/* the new device needs the organisation's invite, which only
		 * its key signs; an admin device hands on the one it got, a
		 * rotated home the one it made before rotating */
		invite = org_invite(ctx);
	else if (hx_cli_own_code(ctx, eps, neps, &invite))
		return HX_EXIT_FAIL;
	if (!invite)
		return HX_EXIT_FAIL;
	randombytes_buf(seed, sizeof seed);
	randombytes_buf(curve_sk, sizeof curve_sk);
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_scalarmult_base(cpk, curve_sk);
	if (put_record(ctx, pk, name, hx_arg_count(a, "admin"), cpk, HX_NEVER, &raw, &rawlen))
		goto out;
	/* the code: device seed ‖ transport secret ‖ u16 BE length ‖ its
	 * signed record ‖ the records its home needs to accept it (rotations,
	 * the certifying admin device), each u16 BE length ‖ bytes; then '+'
	 * and the organisation's invite code (FORMAT.md §2.2) */
	struct extras x = { 0 };
	if (extra_records(ctx, &x))
		goto out;
	size_t plen = 66 + rawlen + x.len;
	if (plen > HX_CODE_PAYLOAD_MAX || !(payload = malloc(plen))) {
		free(x.buf);
		hx_fail("the device record is too long for a code");
		goto out;
	}
	memcpy(payload, seed, 32);
	memcpy(payload + 32, curve_sk, 32);
	hx_be16_put(payload + 64, (uint16_t)rawlen);
	memcpy(payload + 66, raw, rawlen);
	if (x.len)
		memcpy(payload + 66 + rawlen, x.buf, x.len);
	free(x.buf);
	if (hx_code_encode(code_prefix, payload, plen, &code)) {
		hx_fail("cannot make the device code");
		goto out;
	}
	printf("%s+%s\n", code, invite);
	fprintf(stderr,
	        "certified device %s (%s); on the new machine run: hansa init --device CODE "
	        "(keep the code secret: it holds the device's key)\n",
	        hx_hex(hex, pk, 32), name);
	rc = HX_EXIT_OK;
out:
	if (code)
		sodium_memzero(code, strlen(code));
	free(code);
	if (payload)
		sodium_memzero(payload, 64);
	free(payload);
	free(raw);
	free(invite);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(curve_sk, sizeof curve_sk);
	return rc;
}

/* Finds a device of this organisation by key, unique key prefix (8+ hex
 * digits) or name (case-insensitive). */
static int find(struct hx_ctx *ctx, const char *what, hx_device *out)
{
	hx_device *d;
	size_t n, hits = 0, wl = strlen(what);
	int rc = hx_store_device_list(ctx->store, ctx->pk, &d, &n);
	if (rc)
		return hx_fail("cannot read the devices: %s", hx_strerror(rc));
	for (size_t i = 0; i < n; i++) {
		char hex[65];
		hx_hex(hex, d[i].key, 32);
		if (!strcasecmp(d[i].name, what) || (wl >= 8 && !strncasecmp(hex, what, wl))) {
			*out = d[i];
			hits++;
		}
	}
	free(d);
	if (hits == 1)
		return 0;
	if (hits)
		return hx_fail("'%s' names %zu devices; give the key", what, hits);
	return hx_fail("no device '%s' (see 'hansa device list')", what);
}

/* --from TIME: microseconds, or YYYY-MM-DDTHH:MM:SSZ. */
static int parse_time(const char *s, uint64_t *us)
{
	struct tm tm = { 0 };
	char *end;
	if (strspn(s, "0123456789") == strlen(s) && *s) {
		unsigned long long v = strtoull(s, &end, 10);
		*us = v;
		return v == 0 || v == ~0ULL ? -1 : 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	time_t t = timegm(&tm);
	if (t < 0)
		return -1;
	*us = (uint64_t)t * 1000000u;
	return 0;
}

static int revoke(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *from = hx_arg_value(a, "from");
	int first = hx_arg_count(a, "from-first");
	uint64_t t = hx_now_us();
	hx_device d;
	char hex[65], when[32];

	if (from && first)
		return hx_usage_error(a->top, "give --from or --from-first, not both");
	if (from && parse_time(from, &t))
		return hx_usage_error(a->top, "--from takes microseconds or YYYY-MM-DDTHH:MM:SSZ");
	if (!hx_ctx_store(ctx, 0) || hx_ctx_identity(ctx) || find(ctx, a->argv[0], &d))
		return HX_EXIT_FAIL;
	if (first)
		t = d.since;
	if (d.revoked <= t) {
		fprintf(stderr, "device %s (%s) is revoked since %s already\n",
		        hx_hex(hex, d.key, 32), d.name, hx_time_text(when, sizeof when, d.revoked));
		return HX_EXIT_OK;
	}
	if (put_record(ctx, d.key, d.name, d.admin, d.has_transport ? d.transport : NULL, t, NULL,
	               NULL))
		return HX_EXIT_FAIL;
	fprintf(stderr, "revoked device %s (%s) from %s: its entries from then on are refused\n",
	        hx_hex(hex, d.key, 32), d.name, hx_time_text(when, sizeof when, t));
	return HX_EXIT_OK;
}

static int list(struct hx_ctx *ctx, const struct hx_args *a)
{
	hx_device *d;
	size_t n;
	uint8_t org[HX_KEY_LEN];
	char hex[65], t1[32], t2[32];
	int json = hx_arg_count(a, "json");

	if (!hx_ctx_store(ctx, 0))
		return HX_EXIT_FAIL;
	if (hx_ctx_pubkey(ctx, org))
		return hx_fail("no identity in %s (run 'hansa init' first)", ctx->home);
	int rc = hx_store_device_list(ctx->store, org, &d, &n);
	if (rc)
		return hx_fail("cannot read the devices: %s", hx_strerror(rc));
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; i < n; i++) {
		hx_hex(hex, d[i].key, 32);
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "key", hex);
			cJSON_AddStringToObject(o, "name", d[i].name);
			cJSON_AddBoolToObject(o, "admin", d[i].admin);
			cJSON_AddNumberToObject(o, "since", (double)d[i].since);
			if (d[i].revoked != HX_NEVER)
				cJSON_AddNumberToObject(o, "revoked", (double)d[i].revoked);
			else
				cJSON_AddNullToObject(o, "revoked");
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		printf("%.16s  %-5s  since %s  %s%s  %s\n", hex, d[i].admin ? "admin" : "-",
		       hx_time_text(t1, sizeof t1, d[i].since),
		       d[i].revoked != HX_NEVER ? "revoked since " : "",
		       d[i].revoked != HX_NEVER ? hx_time_text(t2, sizeof t2, d[i].revoked)
		                                : "active",
		       d[i].name);
	}
	free(d);
	if (json)
		hx_json_print(arr);
	return HX_EXIT_OK;
}

static const struct hx_opt add_opts[] = {
	{ "name", 0, "NAME", "who and what it is: \"communication manager, office laptop\"",
	  HX_OPT_REQUIRED },
	{ "admin", 0, NULL, "the device may certify and revoke other devices", 0 },
	{ "endpoint", 0, "URL",
	  "where the new device's node reaches this one (as for invite; may repeat)",
	  HX_OPT_MULTI },
	{ 0 }
};
static const struct hx_opt revoke_opts[] = {
	{ "from", 0, "TIME",
	  "revoke from this time (microseconds or YYYY-MM-DDTHH:MM:SSZ; default now)", 0 },
	{ "from-first", 0, NULL,
	  "revoke from the device's first record: every entry it signed goes", 0 },
	{ 0 }
};
static const struct hx_opt list_opts[] = { { "json", 0, NULL, "print JSON", 0 }, { 0 } };

static const struct hx_cmd subs[] = {
	{ .name = "add",
	  .opts = add_opts,
	  .exec = add,
	  .summary = "certify a new device key and print the code for 'hansa init --device'" },
	{ .name = "revoke",
	  .args = "KEY|NAME",
	  .args_min = 1,
	  .args_max = 1,
	  .args_error = "device revoke takes one KEY or NAME",
	  .opts = revoke_opts,
	  .exec = revoke,
	  .summary = "stop accepting a device's entries from a time on; the earliest revocation "
	             "stands" },
	{ .name = "list",
	  .alias = "ls",
	  .opts = list_opts,
	  .exec = list,
	  .summary = "key, admin, since, revoked and name of every device" },
	{ 0 }
};

const struct hx_cmd hx_cmd_device = {
	.name = "device",
	.summary = "certify, list or revoke the devices that sign for this organisation",
	.subs = subs,
	.text = "Each person or machine of a partner organisation signs with its own device\n"
	        "key, certified by the organisation key (or by an admin device) in a record\n"
	        "that replicates like an entry. History shows who signed each version.\n",
};
