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

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
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
	if (protect && get_passphrase(pass, sizeof pass)) {
		sodium_memzero(pass, sizeof pass);
		return HX_EXIT_FAIL;
	}
	if (hx_mkdirs(ctx->home, 0700))
		return hx_fail("cannot create %s: %s", ctx->home, strerror(errno));

	randombytes_buf(seed, sizeof seed);
	randombytes_buf(curve_sk, sizeof curve_sk);
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_scalarmult_base(cpk, curve_sk);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "key", hx_hex(hex, pk, 32));
	cJSON_AddStringToObject(p, "transport", hx_hex(hex, cpk, 32));
	for (int i = 0; hx_profile_fields[i]; i++)
		cJSON_AddStringToObject(p, hx_profile_fields[i], values[i] ? values[i] : "");
	/* The store first, the key last: a home with a key is a finished one. */
	if (!hx_ctx_store(ctx, 1) || hx_profile_save(ctx->home, p))
		goto out;
	/* This node is a member of its own network (its signed record). */
	if (hx_cli_put_self_member(ctx->store, sk, cpk, p))
		goto out;
	int krc = hx_keyfile_create(keypath, seed, curve_sk, protect ? pass : NULL);
	if (krc) {
		hx_fail("cannot write %s: %s", keypath, hx_strerror(krc));
		goto out;
	}
	printf("created identity %s in %s\n", hx_hex(hex, pk, 32), ctx->home);
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
