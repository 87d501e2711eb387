/*
 * cmd-init.c: `hansa init`: creates the home, this partner's identity (an
 * Ed25519 signing key and a CURVE transport key), its profile and the store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "cli/identity.h"
#include "cli/net.h"
#include "cli/profile.h"
#include "proto/device.h"

/* Reads a passphrase from the terminal without echo: 0 on success, 1 when
 * it is longer than n - 1 bytes, -1 without a terminal. */
static int ask(const char *prompt, char *buf, size_t n)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	int ok;

	if (!tty)
		return -1;
	fputs(prompt, tty);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = fgets(buf, (int)n, tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (!ok)
		return -1;
	size_t l = strcspn(buf, "\r\n");
	if (!buf[l] && l == n - 1)
		return 1; /* longer than buf: refused rather than cut */
	buf[l] = 0;
	return 0;
}

/* The passphrase to protect the key with: $HANSA_PASSPHRASE or asked
 * twice on the terminal. */
static int get_passphrase(char *buf, size_t n)
{
	const char *env = getenv("HANSA_PASSPHRASE");
	char again[256];

	/* A passphrase cut to fit buf would differ from the one given later
	 * in HANSA_PASSPHRASE, and the key could never be opened again. */
	if (env) {
		if (!*env)
			return hx_fail("HANSA_PASSPHRASE is empty");
		if (strlen(env) >= n)
			return hx_fail("HANSA_PASSPHRASE is longer than %zu bytes", n - 1);
		memcpy(buf, env, strlen(env) + 1);
		return 0;
	}
	int r1 = ask("passphrase: ", buf, n), r2 = r1 ? r1 : ask("again: ", again, sizeof again);
	if (r1 > 0 || r2 > 0) {
		sodium_memzero(again, sizeof again);
		return hx_fail("the passphrase is longer than %zu bytes", n - 1);
	}
	if (r1 || r2)
		return hx_fail("--passphrase needs a terminal or HANSA_PASSPHRASE");
	int same = !strcmp(buf, again);
	sodium_memzero(again, sizeof again);
	if (!same)
		return hx_fail("the passphrases differ");
	if (!*buf)
		return hx_fail("empty passphrase");
	return 0;
}

/* Says what is wrong with a code hx_code_decode refused. */
static int code_error(const char *what, const char *prefix, int rc, size_t bad)
{
	if (rc == HX_EINVAL && !bad)
		return hx_fail("not a %s (it starts with '%s')", what, prefix);
	if (rc == HX_EINVAL)
		return hx_fail("the %s has a character that is not in a code at position %zu", what,
		               bad + 1);
	if (rc == HX_ECRYPTO)
		return hx_fail("the %s's checksum does not match: a character is wrong or missing",
		               what);
	return hx_fail("the %s is too long", what);
}

/* Records a device code may carry besides the device's own. */
#define EXTRAS_MAX 8

/* A new home from a `hansa device add` code: the device's keys and
 * record, then '+' and the organisation's invite code. */
static int init_device(struct hx_ctx *ctx, const char *keypath, const char *text)
{
	static uint8_t payload[HX_CODE_PAYLOAD_MAX];
	uint8_t pk[32], sk[64], cpk[32], *rec = NULL;
	char keys[HX_CODE_PAYLOAD_MAX * 2], hex[65];
	const char *plus = strchr(text, '+');
	size_t n, bad, len;
	hx_invite inv = { 0 };
	hx_entry e = { 0 };
	hx_device_rec d;
	int rc = HX_EXIT_FAIL, have_inv = 0, have_e = 0;

	if (!plus || (size_t)(plus - text) >= sizeof keys)
		return hx_fail("not a device code (hxdev1-...+hansa1:...)");
	memcpy(keys, text, (size_t)(plus - text));
	keys[plus - text] = 0;
	int drc = hx_code_decode(HX_DEVICE_CODE_PREFIX, keys, payload, sizeof payload, &n, &bad);
	sodium_memzero(keys, sizeof keys);
	if (drc)
		return code_error("device code", HX_DEVICE_CODE_PREFIX, drc, bad);
	size_t rl = n >= 66 ? hx_be16_get(payload + 64) : 0;
	if (n < 66 + rl || !rl || hx_entry_open(&e, payload + 66, rl)) {
		hx_fail("the device code holds no valid device record");
		goto out;
	}
	have_e = 1;
	crypto_sign_seed_keypair(pk, sk, payload);
	crypto_scalarmult_base(cpk, payload + 32);
	if (hx_device_rec_parse(&e, &d, NULL) || memcmp(d.device, pk, 32) || !d.has_transport ||
	    memcmp(d.transport, cpk, 32)) {
		hx_fail("the device code's record is not for its key");
		goto out;
	}
	if ((drc = hx_invite_decode(&inv, plus + 1, &rec, &len))) {
		hx_fail("the device code's invite part is damaged: %s", hx_strerror(drc));
		goto out;
	}
	have_inv = 1;
	if (memcmp(inv.member.key, e.author, 32)) {
		hx_fail("the device code's invite is not from the organisation that certified it");
		goto out;
	}
	if (hx_mkdirs(ctx->home, 0700)) {
		hx_fail("cannot create %s: %s", ctx->home, strerror(errno));
		goto out;
	}
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "key", hx_hex(hex, e.author, 32));
	cJSON_AddStringToObject(p, "transport", hx_hex(hex, cpk, 32));
	for (int i = 0; hx_profile_fields[i]; i++) {
		const char *v = hx_member_field(&inv.member, hx_profile_fields[i]);
		cJSON_AddStringToObject(p, hx_profile_fields[i], v ? v : "");
	}
	int bad_home = !hx_ctx_store(ctx, 1) || hx_profile_save(ctx->home, p);
	cJSON_Delete(p);
	if (bad_home)
		goto out;
	/* the records it needs first (rotations, the certifying admin
	 * device), then its own; each is judged by the store like any entry */
	hx_put put[EXTRAS_MAX + 1];
	hx_entry extra[EXTRAS_MAX];
	size_t nx = 0, added;
	for (size_t o = 66 + rl; o + 2 <= n && nx < EXTRAS_MAX;) {
		size_t l = hx_be16_get(payload + o);
		if (o + 2 + l > n || hx_entry_open(&extra[nx], payload + o + 2, l))
			break;
		put[nx] = (hx_put){ .raw = payload + o + 2, .rawlen = l, .entry = &extra[nx] };
		nx++;
		o += 2 + l;
	}
	put[nx] = (hx_put){ .raw = payload + 66, .rawlen = rl, .entry = &e };
	if ((drc = hx_store_member_put(ctx->store, e.author, rec, len)) ||
	    (drc = hx_member_endpoints_put(ctx->store, e.author, (const char *const *)inv.endpoints,
	                                   inv.nendpoints)) ||
	    (drc = hx_peer_add(ctx->store, inv.endpoints[0], e.author)) ||
	    (drc = hx_store_put_batch(ctx->store, put, nx + 1, 0, &added))) {
		for (size_t i = 0; i < nx; i++)
			hx_entry_clear(&extra[i]);
		hx_fail("cannot store the organisation: %s", hx_strerror(drc));
		goto out;
	}
	for (size_t i = 0; i < nx; i++)
		hx_entry_clear(&extra[i]);
	if (put[nx].result != HX_OK)
		fprintf(stderr, "the device's record waits for the organisation's records: "
		                "publish once 'hansa sync' or 'hansa serve' has run\n");
	if (hx_org_invite_save(ctx->home, plus + 1) || hx_org_file_save(ctx->home, e.author, 1))
		goto out;
	if ((drc = hx_keyfile_create(keypath, payload, payload + 32, NULL))) {
		hx_fail("cannot write %s: %s", keypath, hx_strerror(drc));
		goto out;
	}
	printf("created device %s (%s) of organisation %s in %s\n", hx_hex(hex, pk, 32), d.name,
	       hx_member_field(&inv.member, "name") ? hx_member_field(&inv.member, "name") : "",
	       ctx->home);
	rc = HX_EXIT_OK;
out:
	sodium_memzero(payload, sizeof payload);
	sodium_memzero(sk, sizeof sk);
	free(rec);
	if (have_inv)
		hx_invite_clear(&inv);
	if (have_e)
		hx_entry_clear(&e);
	return rc;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *device = hx_arg_value(a, "device"), *recover = hx_arg_value(a, "recover");
	uint8_t org[32];
	int rotated = 0;
	const char *values[8] = { 0 };
	char keypath[4200], pass[256] = "", hex[65];
	uint8_t seed[32], curve_sk[32], pk[32], sk[64], cpk[32];
	int protect = hx_arg_count(a, "passphrase"), rc = HX_EXIT_FAIL;

	for (int i = 0; hx_profile_fields[i]; i++) {
		values[i] = hx_arg_value(a, hx_profile_fields[i]);
		if (values[i] && hx_cli_check_profile(hx_profile_fields[i], values[i]))
			return HX_EXIT_FAIL;
	}
	hx_home_path(ctx, HX_KEYFILE, keypath, sizeof keypath);
	if (access(keypath, F_OK) == 0)
		return hx_fail("%s already has an identity", ctx->home);
	if (device && recover)
		return hx_usage_error(a->top, "give --device or --recover, not both");
	if (device)
		return init_device(ctx, keypath, device);
	if (recover) {
		uint8_t payload[96];
		size_t n, bad;
		int drc = hx_code_decode(HX_ORG_CODE_PREFIX, recover, payload, sizeof payload, &n,
		                         &bad);
		if (!drc && n != 64 && n != 96)
			drc = HX_ELIMIT;
		if (drc)
			return code_error("recovery code", HX_ORG_CODE_PREFIX, drc, bad);
		memcpy(seed, payload, 32);
		memcpy(curve_sk, payload + 32, 32);
		if ((rotated = n == 96))
			memcpy(org, payload + 64, 32);
		sodium_memzero(payload, sizeof payload);
	}
	if (protect && get_passphrase(pass, sizeof pass)) {
		sodium_memzero(pass, sizeof pass);
		return HX_EXIT_FAIL;
	}
	if (hx_mkdirs(ctx->home, 0700))
		return hx_fail("cannot create %s: %s", ctx->home, strerror(errno));

	if (!recover) {
		randombytes_buf(seed, sizeof seed);
		randombytes_buf(curve_sk, sizeof curve_sk);
	}
	crypto_sign_seed_keypair(pk, sk, seed);
	if (!rotated)
		memcpy(org, pk, 32);
	crypto_scalarmult_base(cpk, curve_sk);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "key", hx_hex(hex, org, 32));
	cJSON_AddStringToObject(p, "transport", hx_hex(hex, cpk, 32));
	for (int i = 0; hx_profile_fields[i]; i++)
		cJSON_AddStringToObject(p, hx_profile_fields[i], values[i] ? values[i] : "");
	/* The store first, the key last: a home with a key is a finished one. */
	if (!hx_ctx_store(ctx, 1) || hx_profile_save(ctx->home, p))
		goto out;
	/* This node is a member of its own network (its signed record; after
	 * a rotation only the organisation key could sign it: it comes back
	 * with the store, from a backup or the partners). */
	if (!rotated && hx_cli_put_self_member(ctx->store, sk, cpk, p))
		goto out;
	if (rotated && hx_org_file_save(ctx->home, org, 0)) {
		hx_fail("cannot write %s/%s", ctx->home, HX_ORGFILE);
		goto out;
	}
	int krc = hx_keyfile_create(keypath, seed, curve_sk, protect ? pass : NULL);
	if (krc) {
		hx_fail("cannot write %s: %s", keypath, hx_strerror(krc));
		goto out;
	}
	printf("%s identity %s in %s\n", recover ? "recovered" : "created", hx_hex(hex, org, 32),
	       ctx->home);
	rc = HX_EXIT_OK;
out:
	cJSON_Delete(p);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(curve_sk, sizeof curve_sk);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(pass, sizeof pass);
	return rc;
}

static const struct hx_opt opts[] = {
	HX_CLI_PROFILE_OPTS,
	{ "passphrase", 0, NULL,
	  "protect the secret key (Argon2id); the passphrase comes from "
	  "HANSA_PASSPHRASE or is asked on the terminal",
	  0 },
	{ "device", 0, "CODE",
	  "make this home a device of an organisation, from the code 'hansa device add' printed",
	  0 },
	{ "recover", 0, "CODE",
	  "rebuild the organisation's home from its recovery code ('hansa org export-key'); then "
	  "'hansa rebuild' or a sync fetches its entries",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_init = {
	.name = "init",
	.summary = "create this partner's identity, profile and store",
	.opts = opts,
	.text = "Creates the home directory with a new Ed25519 identity, a CURVE transport\n"
	        "key, the partner profile and an empty store. The secret key file is\n"
	        "written with mode 0600.\n",
	.exec = exec,
};
