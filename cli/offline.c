/*
 * offline.c: helpers shared by the bundle, state, Markdown and HTML
 * commands (see offline.h): the store's item list, this node's public key
 * and write-then-rename output files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/offline.h"

struct items {
	hx_ne_item *v;
	size_t n, cap;
};

static int add_item(void *arg, uint64_t ts, const uint8_t id[HX_ID_LEN])
{
	struct items *it = arg;
	hx_ne_item *v = hx_grow(it->v, &it->cap, it->n + 1, sizeof *v);
	if (!v)
		return HX_ENOMEM;
	it->v = v;
	it->v[it->n].ts = ts;
	memcpy(it->v[it->n].id, id, HX_ID_LEN);
	it->n++;
	return 0;
}

int hx_store_all_items(hx_store *s, hx_ne_item **items, size_t *n)
{
	struct items it = { 0 };
	int rc = hx_store_items(s, add_item, &it);
	if (rc) {
		free(it.v);
		return rc;
	}
	*items = it.v;
	*n = it.n;
	return HX_OK;
}

int hx_own_key(struct hx_ctx *ctx, uint8_t pk[HX_KEY_LEN])
{
	if (hx_ctx_pubkey(ctx, pk))
		return hx_fail("no identity in %s (run 'hansa init' first)", ctx->home);
	return 0;
}

int hx_doc_file(char *out, size_t n, const hx_entry *e, int shared, const char *ext)
{
	char a[2 * HX_KEY_LEN + 1];
	int w;
	if (shared)
		w = snprintf(out, n, "%s~%.8s.%s", e->path, hx_hex(a, e->author, HX_KEY_LEN), ext);
	else
		w = snprintf(out, n, "%s.%s", e->path, ext);
	return w < 0 || (size_t)w >= n ? HX_ELIMIT : HX_OK;
}

int hx_outfile_open(struct hx_outfile *o, const char *name)
{
	memset(o, 0, sizeof *o);
	if (snprintf(o->final, sizeof o->final, "%s", name) >= (int)sizeof o->final)
		return hx_fail("%s: name too long", name);
	snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%d", name, (int)getpid());
	if (!(o->f = fopen(o->tmp, "wbx")))
		return hx_fail("%s: %s", o->tmp, strerror(errno));
	return 0;
}

int hx_outfile_commit(struct hx_outfile *o)
{
	int bad = fflush(o->f) != 0 || ferror(o->f) || (!o->nosync && fsync(fileno(o->f)) != 0);
	int err = errno;
	if (fclose(o->f))
		bad = 1, err = errno;
	o->f = NULL;
	if (bad || rename(o->tmp, o->final)) {
		if (!bad)
			err = errno;
		unlink(o->tmp);
		return hx_fail("%s: %s", o->final, strerror(err));
	}
	if (!o->nosync && hx_fsync_parent(o->final))
		return hx_fail("%s: %s", o->final, strerror(errno));
	return 0;
}

void hx_outfile_abort(struct hx_outfile *o)
{
	if (o->f) {
		fclose(o->f);
		o->f = NULL;
		unlink(o->tmp);
	}
}
