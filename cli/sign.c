/*
 * sign.c: publishing one new version signed by this node (publish,
 * delete, import of a Markdown folder), and time formatting.
 */
#include <stdlib.h>
#include <time.h>
#include "cli/cli.h"
#include "cli/ops.h"

int hx_cli_publish(struct hx_ctx *ctx, hx_entry *d)
{
	hx_store *s;
	uint8_t *raw;
	size_t len, added;
	const char *why;
	int rc;

	if (hx_entry_check_why(d, &why))
		return hx_fail("%s: %s", d->path ? d->path : "entry", why);
	if (hx_ctx_identity(ctx) || !(s = hx_ctx_store(ctx, 0)))
		return 1;
	if ((rc = hx_store_next_timestamp(s, ctx->pk, d->path, hx_now_us(), &d->timestamp)))
		return hx_fail("cannot read %s: %s", d->path, hx_strerror(rc));
	if ((rc = hx_cli_sign(ctx, d, &raw, &len)))
		return hx_fail("cannot sign %s: %s", d->path, hx_strerror(rc));
	hx_put put = { .raw = raw, .rawlen = len, .entry = d };
	rc = hx_store_put_batch(s, &put, 1, 0, &added);
	free(raw);
	if (!rc && put.result && put.why)
		return hx_fail("cannot store %s: %s", d->path, put.why);
	if (!rc)
		rc = put.result;
	char err[128]; /* ops: "disk full (N MiB free)" */
	if (rc)
		return hx_fail("cannot store %s: %s", d->path,
		               hx_cli_errtext(rc, ctx->home, err, sizeof err));
	return 0;
}

int hx_cli_sign(struct hx_ctx *ctx, hx_entry *e, uint8_t **raw, size_t *len)
{
	if (ctx->has_signer)
		return hx_entry_sign_for(e, ctx->pk, ctx->sk, raw, len);
	return hx_entry_sign(e, ctx->sk, raw, len);
}

const uint8_t *hx_ctx_node_key(const struct hx_ctx *ctx)
{
	return ctx->is_device ? ctx->signer_pk : ctx->pk;
}

char *hx_time_text(char *out, size_t n, uint64_t us)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "%llu", (unsigned long long)us);
	return out;
}
