/*
 * ix_view.c: a read-only view of a stored entry's fields for the search
 * results and phrase checks: strings borrowed from the LMDB value, no copy,
 * no allocation. Entries in the store were decoded, checked and verified on
 * the way in (proto/entry.c); this only walks the canonical layout of
 * docs/FORMAT.md §1 again, bounds-checking every read, because a full
 * hx_entry_decode (copies, UTF-8 checks, the id hash) per result costs more
 * than ranking a rare word.
 */
#include <string.h>
#include "proto/cbor.h"
#include "store/ix_int.h"

static int text(hx_rd *r, const char **s, size_t *n)
{
	const uint8_t *p;
	if (hx_cbor_read_str(r, HX_CBOR_TEXT, &p, n))
		return HX_ECORRUPT;
	*s = (const char *)p;
	return HX_OK;
}

/* With cut not NULL, the fields up to the body's first bytes (below). */
static int view_parse(hx_ix_view *v, const uint8_t *buf, size_t len, int *cut)
{
	hx_rd r = { buf, buf + len };
	uint64_t n, key, u;
	const uint8_t *p;
	size_t pl;
	const char *s;

	memset(v, 0, sizeof *v);
	/* Format 1 has ten fields, format 2 one or two more after them
	 * (signer, attachments), which the view does not need. */
	if (hx_cbor_read_head(&r, HX_CBOR_ARRAY, &n) || n != 2 ||
	    hx_cbor_read_head(&r, HX_CBOR_MAP, &n) || n < 10 || n > 12)
		return HX_ECORRUPT;
	for (uint64_t k = 0; k < 10; k++) {
		if (hx_cbor_read_uint(&r, &key) || key != k)
			return HX_ECORRUPT;
		switch (k) {
		case 0:
			if (hx_cbor_read_uint(&r, &u))
				return HX_ECORRUPT;
			break;
		case 1:
			if (hx_cbor_read_str(&r, HX_CBOR_BYTES, &p, &pl) || pl != HX_KEY_LEN)
				return HX_ECORRUPT;
			v->author = p;
			break;
		case 2:
			if (text(&r, &v->path, &v->pathlen))
				return HX_ECORRUPT;
			break;
		case 3:
			if (hx_cbor_read_uint(&r, &v->timestamp))
				return HX_ECORRUPT;
			break;
		case 4:
			if (text(&r, &v->kind, &v->kindlen))
				return HX_ECORRUPT;
			break;
		case 5:
			if (text(&r, &v->title, &v->titlelen))
				return HX_ECORRUPT;
			break;
		case 6:
			if (cut) {
				if (hx_cbor_read_head(&r, HX_CBOR_TEXT, &u))
					return HX_ECORRUPT;
				v->body = (const char *)r.p;
				*cut = u > (uint64_t)(r.end - r.p);
				v->bodylen = *cut ? (size_t)(r.end - r.p) : (size_t)u;
				return HX_OK;
			}
			if (text(&r, &v->body, &v->bodylen))
				return HX_ECORRUPT;
			break;
		case 7:
			if (hx_cbor_read_head(&r, HX_CBOR_ARRAY, &n) || n > HX_TAGS_MAX)
				return HX_ECORRUPT;
			v->tags = r.p;
			v->ntags = (size_t)n;
			for (uint64_t i = 0; i < n; i++)
				if (text(&r, &s, &pl))
					return HX_ECORRUPT;
			v->tagsend = r.p;
			break;
		case 8:
			if (text(&r, &v->lang, &v->langlen))
				return HX_ECORRUPT;
			break;
		case 9:
			if (hx_cbor_read_head(&r, HX_CBOR_MAP, &n) || n > HX_META_MAX)
				return HX_ECORRUPT;
			v->meta = r.p;
			v->nmeta = (size_t)n;
			for (uint64_t i = 0; i < 2 * n; i++)
				if (text(&r, &s, &pl))
					return HX_ECORRUPT;
			v->metaend = r.p;
			break;
		}
	}
	return HX_OK;
}

int hx_ix_view_parse(hx_ix_view *v, const uint8_t *buf, size_t len)
{
	return view_parse(v, buf, len, NULL);
}

int hx_ix_view_parse_head(hx_ix_view *v, const uint8_t *buf, size_t len, int *cut)
{
	return view_parse(v, buf, len, cut);
}

int hx_ix_view_next_tag(const hx_ix_view *v, const uint8_t **pos, const char **s, size_t *n)
{
	hx_rd r = { *pos ? *pos : v->tags, v->tagsend };
	if (r.p >= r.end)
		return HX_ENOTFOUND;
	if (text(&r, s, n))
		return HX_ECORRUPT;
	*pos = r.p;
	return HX_OK;
}

int hx_ix_view_meta(const hx_ix_view *v, const char *key, const char **val, size_t *n)
{
	hx_rd r = { v->meta, v->metaend };
	size_t kl = strlen(key);
	for (size_t i = 0; i < v->nmeta; i++) {
		const char *k;
		size_t kn;
		if (text(&r, &k, &kn) || text(&r, val, n))
			return HX_ECORRUPT;
		if (kn == kl && !memcmp(k, key, kl))
			return HX_OK;
	}
	return HX_ENOTFOUND;
}
