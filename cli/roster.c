/*
 * roster.c: what `hansa member` and `hansa join` publish and decide about
 * the roster (docs/PROTOCOL.md §4.1): introductions of members this node
 * holds signed records of, removals of members it introduced, and the
 * policy a joining node starts with.
 */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/net.h"
#include "node/roster.h"

/* 1 when this node's current record about key says the same as e would. */
static int said_already(struct hx_ctx *ctx, const hx_entry *e)
{
	hx_entry cur;
	if (hx_store_current(ctx->store, ctx->pk, e->path, &cur, NULL))
		return 0;
	const char *a = hx_entry_meta(&cur, "endpoints"), *b = hx_entry_meta(e, "endpoints");
	const char *ra = hx_entry_meta(&cur, "removed"), *rb = hx_entry_meta(e, "removed");
	int same = !strcmp(cur.body, e->body) && !a == !b && (!a || !strcmp(a, b)) && !ra == !rb;
	hx_entry_clear(&cur);
	return same;
}

/* Publishes e unless this node said the same already; *done = 1 when
 * published. 0, or 1 with the error printed. */
static int publish_record(struct hx_ctx *ctx, hx_entry *e, int *done)
{
	*done = 0;
	if (said_already(ctx, e))
		return 0;
	if (hx_cli_publish(ctx, e))
		return 1;
	*done = 1;
	return 0;
}

int hx_cli_introduce(struct hx_ctx *ctx, const uint8_t key[HX_KEY_LEN], int *done)
{
	uint8_t *rec;
	size_t len, neps = 0;
	char label[128], eps[HX_ENDPOINTS_MAX][HX_ENDPOINT_MAX + 1];
	const char *ep[HX_ENDPOINTS_MAX];
	hx_member m;
	hx_entry e;
	int rc;

	*done = 0;
	if (!hx_ctx_store(ctx, 0) || hx_ctx_identity(ctx))
		return 1;
	hx_cli_member_label(ctx, key, label, sizeof label);
	if (!memcmp(key, ctx->pk, HX_KEY_LEN))
		return hx_fail("a partner cannot introduce itself");
	if ((rc = hx_store_member_get(ctx->store, key, &rec, &len)))
		return hx_fail("%s is not a member: %s", label, hx_strerror(rc));
	rc = hx_member_decode(&m, rec, len);
	int signed_ = rc == HX_OK && m.has_transport;
	if (rc == HX_OK)
		hx_member_clear(&m);
	if (!signed_) {
		free(rec);
		return hx_fail("%s has no signed member record here (add its invite code first)",
		               label);
	}
	rc = hx_member_endpoints_get(ctx->store, key, eps, HX_ENDPOINTS_MAX, &neps);
	if (rc == HX_ENOTFOUND) { /* then where we connect to it */
		hx_peer_conf *pc;
		size_t npc;
		if (!hx_peer_list(ctx->store, &pc, &npc)) {
			for (size_t i = 0; i < npc && neps < HX_ENDPOINTS_MAX; i++)
				if (!memcmp(pc[i].key, key, HX_KEY_LEN))
					snprintf(eps[neps++], sizeof eps[0], "%s", pc[i].endpoint);
			free(pc);
		}
	}
	for (size_t i = 0; i < neps; i++)
		ep[i] = eps[i];
	char title[200];
	snprintf(title, sizeof title, "Introduction of %s", label);
	rc = hx_roster_make(&e, key, rec, len, ep, neps, title);
	free(rec);
	if (rc)
		return hx_fail("cannot make the introduction: %s", hx_strerror(rc));
	memcpy(e.author, ctx->pk, HX_KEY_LEN);
	rc = publish_record(ctx, &e, done);
	hx_entry_clear(&e);
	if (!rc && *done)
		fprintf(stderr, "introduced %s to the network\n", label);
	return rc;
}

struct every {
	struct hx_ctx *ctx;
	uint8_t (*keys)[HX_KEY_LEN];
	size_t n, cap;
};

static int every_cb(void *arg, const uint8_t key[HX_KEY_LEN], const uint8_t *rec, size_t len)
{
	struct every *x = arg;
	hx_member m;
	if (!memcmp(key, x->ctx->pk, HX_KEY_LEN) || hx_member_decode(&m, rec, len))
		return 0;
	int signed_ = m.has_transport;
	hx_member_clear(&m);
	if (!signed_)
		return 0;
	uint8_t(*a)[HX_KEY_LEN] = hx_grow(x->keys, &x->cap, x->n + 1, sizeof *a);
	if (!a)
		return HX_ENOMEM;
	x->keys = a;
	memcpy(x->keys[x->n++], key, HX_KEY_LEN);
	return 0;
}

int hx_cli_introduce_all(struct hx_ctx *ctx, size_t *count)
{
	struct every x = { .ctx = ctx };
	*count = 0;
	if (!hx_ctx_store(ctx, 0) || hx_ctx_identity(ctx))
		return 1;
	int rc = hx_store_member_list(ctx->store, every_cb, &x);
	if (rc) {
		free(x.keys);
		return hx_fail("cannot read the members: %s", hx_strerror(rc));
	}
	for (size_t i = 0; i < x.n; i++) {
		int done;
		if (hx_cli_introduce(ctx, x.keys[i], &done)) {
			free(x.keys);
			return 1;
		}
		*count += (size_t)done;
	}
	free(x.keys);
	return 0;
}

int hx_cli_announce_removal(struct hx_ctx *ctx, const uint8_t key[HX_KEY_LEN], int *done)
{
	hx_entry e, cur;
	char path[sizeof HX_ROSTER_PREFIX + 2 * HX_KEY_LEN], hex[2 * HX_KEY_LEN + 1], label[128];
	*done = 0;
	snprintf(path, sizeof path, "%s%s", HX_ROSTER_PREFIX, hx_hex(hex, key, HX_KEY_LEN));
	if (hx_store_current(ctx->store, ctx->pk, path, &cur, NULL))
		return 0; /* this node never introduced it: nothing to take back */
	hx_entry_clear(&cur);
	hx_cli_member_label(ctx, key, label, sizeof label);
	char title[200];
	snprintf(title, sizeof title, "Removal of %s", label);
	int rc = hx_roster_make(&e, key, NULL, 0, NULL, 0, title);
	if (rc)
		return hx_fail("cannot make the removal: %s", hx_strerror(rc));
	memcpy(e.author, ctx->pk, HX_KEY_LEN);
	rc = publish_record(ctx, &e, done);
	hx_entry_clear(&e);
	return rc;
}

int hx_cli_roster_apply(struct hx_ctx *ctx)
{
	size_t changed;
	int rc = hx_roster_apply(ctx->store, ctx->pk, &changed);
	if (rc)
		return hx_fail("cannot apply the roster: %s", hx_strerror(rc));
	if (changed)
		fprintf(stderr, "the roster added or removed %zu member%s\n", changed,
		        changed == 1 ? "" : "s");
	return 0;
}
