/*
 * util.c: what the subcommands share (see cli.h): errors, the context
 * (home, identity, store), JSON output, progress bars. Parsing and help
 * are args.c; files and folders file.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "cli/identity.h"

int hx_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("hansa: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HX_EXIT_FAIL;
}

int hx_home_path(const struct hx_ctx *ctx, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", ctx->home, name);
	return n < 0 || (size_t)n >= outlen ? HX_ELIMIT : HX_OK;
}

hx_store *hx_ctx_store(struct hx_ctx *ctx, int create)
{
	char dir[4200];
	int rc;

	if (ctx->store)
		return ctx->store;
	if (hx_home_path(ctx, "store", dir, sizeof dir)) {
		hx_fail("home path too long");
		return NULL;
	}
	rc = hx_store_open(&ctx->store, dir, create ? HX_STORE_CREATE : 0);
	if (rc == HX_ENOTFOUND)
		hx_fail("no store in %s (run 'hansa init' first)", ctx->home);
	else if (rc == HX_EVERSION)
		hx_fail("the store in %s was written by another schema version (this hansa reads "
		        "schema %d)",
		        dir, HX_STORE_SCHEMA);
	else if (rc == HX_ECORRUPT)
		hx_fail("the store in %s is damaged or not a hansa store", dir);
	else if (rc)
		hx_fail("cannot open the store in %s: %s", dir, hx_strerror(rc));
	uint64_t nd;
	double secs;
	if (!rc && hx_store_reindexed(ctx->store, &nd, &secs))
		fprintf(stderr,
		        "hansa: the search index was from an older version: rebuilt it (%llu "
		        "documents, %.1f s)\n",
		        (unsigned long long)nd, secs);
	return rc ? NULL : ctx->store;
}

int hx_ctx_identity(struct hx_ctx *ctx)
{
	char path[4200];
	uint8_t seed[32];
	int needs_pass, rc;

	if (ctx->have_identity)
		return 0;
	hx_home_path(ctx, HX_KEYFILE, path, sizeof path);
	rc = hx_keyfile_load(path, getenv("HANSA_PASSPHRASE"), seed, ctx->curve_sk, &needs_pass);
	if (rc == HX_ENOTFOUND)
		return hx_fail("no identity in %s (run 'hansa init' first)", ctx->home);
	if (rc == HX_EPERM)
		return hx_fail("identity key %s is readable by group or others; run 'chmod 600 %s'",
		               path, path);
	if (rc == HX_ECRYPTO && needs_pass)
		return hx_fail("identity key %s is protected by a passphrase; set HANSA_PASSPHRASE",
		               path);
	if (rc == HX_ECRYPTO)
		return hx_fail("wrong passphrase for identity key %s", path);
	if (rc == HX_ECORRUPT)
		return hx_fail("identity key %s is damaged (not a hansa key file)", path);
	if (rc)
		return hx_fail("cannot read identity key %s: %s", path, hx_strerror(rc));
	crypto_sign_seed_keypair(ctx->pk, ctx->sk, seed);
	crypto_scalarmult_base(ctx->curve_pk, ctx->curve_sk);
	sodium_memzero(seed, sizeof seed);
	/* org.json: this key signs for an organisation (a device, or the
	 * organisation's own home after a rotation) */
	hx_home_path(ctx, HX_ORGFILE, path, sizeof path);
	if (access(path, F_OK) == 0) {
		uint8_t org[HX_KEY_LEN];
		int device;
		if (hx_org_file_load(ctx->home, org, &device))
			return hx_fail("%s is damaged (no organisation key)", path);
		memcpy(ctx->signer_pk, ctx->pk, HX_KEY_LEN);
		memcpy(ctx->pk, org, HX_KEY_LEN);
		ctx->has_signer = 1;
		ctx->is_device = device;
	}
	ctx->have_identity = 1;
	return 0;
}

int hx_ctx_pubkey(struct hx_ctx *ctx, uint8_t pk[HX_KEY_LEN])
{
	char path[4200], *buf;
	const char *why;
	size_t n;
	int rc = -1;

	if (ctx->have_identity) {
		memcpy(pk, ctx->pk, HX_KEY_LEN);
		return 0;
	}
	hx_home_path(ctx, HX_PROFILEFILE, path, sizeof path);
	if (hx_file_read(path, HX_PROFILE_FILE_MAX, &buf, &n, &why))
		return -1;
	cJSON *p = cJSON_ParseWithLength(buf, n);
	free(buf);
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(p, "key");
	if (cJSON_IsString(k) && !hx_unhex(pk, HX_KEY_LEN, k->valuestring))
		rc = 0;
	cJSON_Delete(p);
	return rc;
}

void hx_ctx_release(struct hx_ctx *ctx)
{
	hx_store_close(&ctx->store);
	sodium_memzero(ctx->sk, sizeof ctx->sk);
	sodium_memzero(ctx->curve_sk, sizeof ctx->curve_sk);
	ctx->have_identity = 0;
}

cJSON *hx_entry_json(const hx_entry *e, int with_body)
{
	char hex[2 * HX_ID_LEN + 1];
	cJSON *o = cJSON_CreateObject(), *tags, *meta;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "id", hx_hex(hex, e->id, HX_ID_LEN));
	cJSON_AddStringToObject(o, "path", e->path);
	cJSON_AddStringToObject(o, "author", hx_hex(hex, e->author, HX_KEY_LEN));
	if (e->has_signer) /* a device (or the rotated organisation key) signed */
		cJSON_AddStringToObject(o, "signer", hx_hex(hex, e->signer, HX_KEY_LEN));
	/* as a raw integer: a double would round microseconds */
	char ts[24];
	snprintf(ts, sizeof ts, "%llu", (unsigned long long)e->timestamp);
	cJSON_AddRawToObject(o, "timestamp", ts);
	cJSON_AddStringToObject(o, "kind", e->kind);
	cJSON_AddStringToObject(o, "title", e->title);
	tags = cJSON_AddArrayToObject(o, "tags");
	for (size_t i = 0; i < e->ntags; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(e->tags[i]));
	cJSON_AddStringToObject(o, "lang", e->lang);
	meta = cJSON_AddObjectToObject(o, "meta");
	for (size_t i = 0; i < e->nmeta; i++)
		cJSON_AddStringToObject(meta, e->meta[i].key, e->meta[i].value);
	if (with_body)
		cJSON_AddStringToObject(o, "body", e->body);
	return o;
}

void hx_json_print(cJSON *v)
{
	char *s = cJSON_Print(v);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	cJSON_Delete(v);
}

int hx_parse_key(const char *hex, uint8_t key[HX_KEY_LEN])
{
	if (hx_unhex(key, HX_KEY_LEN, hex))
		return hx_fail("'%s' is not a key (64 hex digits)", hex);
	return 0;
}

static int resolve(struct hx_ctx *ctx, const char *what, const uint8_t *author, hx_entry *e)
{
	hx_store *s = hx_ctx_store(ctx, 0);
	uint8_t id[HX_ID_LEN], authors[2][HX_KEY_LEN];
	size_t n;
	int rc, deleted;

	if (!s)
		return 1;
	if (!author && strlen(what) == 2 * HX_ID_LEN && !hx_unhex(id, HX_ID_LEN, what)) {
		rc = hx_store_get(s, id, e, NULL, NULL);
		if (rc == HX_ENOTFOUND)
			return hx_fail("no entry with id %s", what);
		return rc ? hx_fail("cannot read entry %s: %s", what, hx_strerror(rc)) : 0;
	}
	if (!author) {
		/* Prefer this node's own document, then the only author's. */
		uint8_t own[HX_KEY_LEN];
		if (!hx_ctx_pubkey(ctx, own)) {
			rc = hx_store_current(s, own, what, e, &deleted);
			if (!rc)
				return 0;
			if (deleted)
				return hx_fail("document %s was deleted", what);
		}
		if ((rc = hx_store_path_authors(s, what, authors, 2, &n)))
			return hx_fail("cannot look up %s: %s", what, hx_strerror(rc));
		if (n == 0)
			return hx_fail("no document at path %s", what);
		if (n > 1)
			return hx_fail(
			        "%zu partners have a document at %s; choose one with --author KEY",
			        n, what);
		author = authors[0];
	}
	rc = hx_store_current(s, author, what, e, &deleted);
	if (rc == HX_ENOTFOUND)
		return hx_fail(deleted ? "document %s was deleted" : "no document at path %s",
		               what);
	return rc ? hx_fail("cannot read %s: %s", what, hx_strerror(rc)) : 0;
}

int hx_resolve_doc(struct hx_ctx *ctx, const char *what, const uint8_t *author, hx_entry *e)
{
	if (resolve(ctx, what, author, e))
		return 1;
	/* Entries were verified when they arrived; checking again here (one
	 * Ed25519 verification) means a damaged store is never shown as if
	 * the author had written it. */
	if (hx_entry_verify(e)) {
		char hex[2 * HX_ID_LEN + 1];
		hx_hex(hex, e->id, HX_ID_LEN);
		hx_entry_clear(e);
		return hx_fail(
		        "entry %s fails its signature check: the store is damaged (run 'hansa fsck')",
		        hex);
	}
	return 0;
}

int hx_isatty_err(void)
{
	return isatty(STDERR_FILENO);
}

int hx_isatty_out(void)
{
	return isatty(STDOUT_FILENO);
}

void hx_progress_start(struct hx_progress *p, const char *what, uint64_t total)
{
	memset(p, 0, sizeof *p);
	p->what = what;
	p->total = total;
	p->active = hx_isatty_err();
}

void hx_progress_update(struct hx_progress *p, uint64_t done)
{
	uint64_t now;
	p->done = done;
	if (!p->active)
		return;
	now = hx_now_us();
	if (now - p->last_draw_us < 100000 && done != p->total)
		return;
	p->last_draw_us = now;
	if (p->total) {
		int width = 30, fill = (int)(done * (uint64_t)width / p->total);
		if (fill > width)
			fill = width;
		fprintf(stderr, "\r%s [%.*s%*s] %llu/%llu", p->what, fill,
		        "##############################", width - fill, "",
		        (unsigned long long)done, (unsigned long long)p->total);
	} else {
		fprintf(stderr, "\r%s %llu", p->what, (unsigned long long)done);
	}
	fflush(stderr);
}

void hx_progress_end(struct hx_progress *p)
{
	if (p->active && p->last_draw_us) {
		p->last_draw_us = 0;
		hx_progress_update(p, p->done);
		fputc('\n', stderr);
	}
}

/* Parses a size: bytes, or with a K, M or G suffix (binary); 0 on error. */
uint64_t hx_size_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	double mul = !*end               ? 1
	             : !strcmp(end, "K") ? 1024.0
	             : !strcmp(end, "M") ? 1048576.0
	             : !strcmp(end, "G") ? 1073741824.0
	                                 : 0;
	return *s && mul && v > 0 && v * mul < 1e15 ? (uint64_t)(v * mul) : 0;
}
