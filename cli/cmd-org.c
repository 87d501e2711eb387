/*
 * cmd-org.c: `hansa org export-key|rotate`: the organisation key. export-key
 * prints it as a recovery code (`hansa init --recover CODE` rebuilds the
 * home from it), so that the key can live on paper rather than on the
 * daily machine; rotate makes a new signing key and publishes the
 * hansa-rotate record, signed by the old one, that names it (FORMAT.md
 * §1.8). The organisation's identity (the author key) stays the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "cli/cli.h"
#include "cli/identity.h"
#include "cli/net.h"
#include "proto/device.h"

static int export_key(struct hx_ctx *ctx, const struct hx_args *a)
{
	uint8_t payload[96];
	size_t n = 64;
	char *code;
	(void)a;

	if (hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	if (ctx->is_device)
		return hx_fail("this is a device's home: the organisation key is not here");
	/* the signing seed (the first half of libsodium's secret key) and
	 * the transport key; after a rotation also the organisation's key */
	memcpy(payload, ctx->sk, 32);
	memcpy(payload + 32, ctx->curve_sk, 32);
	if (ctx->has_signer) {
		memcpy(payload + 64, ctx->pk, 32);
		n = 96;
	}
	int rc = hx_code_encode(HX_ORG_CODE_PREFIX, payload, n, &code);
	sodium_memzero(payload, sizeof payload);
	if (rc)
		return hx_fail("cannot make the code: %s", hx_strerror(rc));
	printf("%s\n", code);
	sodium_memzero(code, strlen(code));
	free(code);
	fprintf(stderr, "this code is the organisation's key: keep it offline; "
	                "'hansa init --recover CODE' rebuilds the home from it\n");
	return HX_EXIT_OK;
}

static int rotate(struct hx_ctx *ctx, const struct hx_args *a)
{
	uint8_t seed[32], pk[32], sk[64];
	char path[4200], old[4300], hex[65];
	hx_meta meta[1];
	hx_entry e = { 0 };
	int rc = HX_EXIT_FAIL;
	(void)a;

	if (!hx_ctx_store(ctx, 0) || hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	if (ctx->is_device)
		return hx_fail("only the organisation's home rotates its key");
	hx_home_path(ctx, HX_KEYFILE, path, sizeof path);
	snprintf(old, sizeof old, "%s.retired", path);
	if (access(old, F_OK) == 0)
		return hx_fail("%s exists: a rotation was interrupted; move it away first", old);
	/* the last invite code the organisation key signs: `device add`
	 * hands it on after the rotation (FORMAT.md §2) */
	char *code = NULL;
	if (!ctx->has_signer) {
		if (hx_cli_own_code(ctx, NULL, 0, &code))
			return HX_EXIT_FAIL;
		int bad = hx_org_invite_save(ctx->home, code);
		free(code);
		if (bad)
			return HX_EXIT_FAIL;
	}
	randombytes_buf(seed, sizeof seed);
	crypto_sign_seed_keypair(pk, sk, seed);
	meta[0] = (hx_meta){ "successor", hx_hex(hex, pk, 32) };
	e.path = HX_ORGKEY_PATH;
	e.kind = HX_KIND_ROTATE;
	e.title = "organisation key rotation";
	e.body = "";
	e.lang = "und";
	e.meta = meta;
	e.nmeta = 1;
	/* Signed by the key in use now; from the record's time on only the
	 * successor signs for the organisation. The new key file is written
	 * before the record is published, the old one kept as .retired, so
	 * that no crash leaves the home without its current key. */
	if (rename(path, old)) {
		hx_fail("cannot move %s aside", path);
		goto out;
	}
	int krc = hx_keyfile_create(path, seed, ctx->curve_sk, getenv("HANSA_PASSPHRASE"));
	if (krc) {
		rename(old, path);
		hx_fail("cannot write %s: %s", path, hx_strerror(krc));
		goto out;
	}
	if (hx_cli_publish(ctx, &e) || hx_org_file_save(ctx->home, ctx->pk, 0)) {
		unlink(path);
		rename(old, path);
		goto out;
	}
	fprintf(stderr,
	        "the organisation's signing key is now %s; the old key is in %s (remove it once "
	        "'hansa org export-key' is on paper)\n",
	        hex, old);
	rc = HX_EXIT_OK;
out:
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
	return rc;
}

static const struct hx_cmd subs[] = {
	{ .name = "export-key",
	  .exec = export_key,
	  .summary = "print the organisation key as a recovery code with a checksum (a secret)" },
	{ .name = "rotate",
	  .exec = rotate,
	  .summary = "make a new organisation signing key, named by a record the old key signs" },
	{ 0 }
};

const struct hx_cmd hx_cmd_org = {
	.name = "org",
	.summary = "the organisation key: recovery code, rotation",
	.subs = subs,
	.text = "The organisation key is the partner's identity. 'export-key' prints it as a\n"
	        "code to keep on paper; 'hansa init --recover CODE' rebuilds the home from it.\n"
	        "'rotate' hands signing over to a new key; documents and history carry on.\n",
};
