/*
 * ix_doc.c: what the index holds of one document (ix_write_int.h): its
 * terms with per-field tfs and the field lengths, tokenized into a string
 * table, its attribute keys (kind, lang, author, org, country, tags), and
 * its ix.docs record (the fields a hit shows; the search reads it back).
 * The writer adds and removes exactly these; fsck recomputes them.
 */
#include <string.h>
#include "store/ix_write_int.h"

static int bump(struct ttab *t, struct docterms *dt, uint32_t doc1, uint32_t i, int field)
{
	struct tent *e = &t->e[i];
	if (e->cur != doc1) {
		e->cur = doc1;
		memset(e->tf, 0, sizeof e->tf);
		uint32_t *ni = hx_grow(dt->idx, &dt->cap, dt->n + 1, sizeof *ni);
		if (!ni)
			return HX_ENOMEM;
		dt->idx = ni;
		dt->idx[dt->n++] = i;
	}
	e->tf[field]++;
	return HX_OK;
}

void hx_ix_dt_remap(void *arg, const uint32_t *remap, uint32_t nold)
{
	struct docterms *dt = arg;
	(void)nold;
	for (size_t i = 0; i < dt->n; i++)
		dt->idx[i] = remap[dt->idx[i]];
}

/* Tokens are looked up AHEAD at a time: their keys and hashes first, and
 * the slots they hash to prefetched, so that the table's cache misses
 * overlap instead of coming one after the other. */
#define AHEAD 8

static int tokenize_field(struct ttab *t, struct docterms *dt, int lang, uint32_t doc1, int field,
                          const char *text)
{
	hx_tokenizer tk;
	hx_token tok;
	char key[AHEAD][HX_TOKEN_MAX + 16];
	size_t kl[AHEAD];
	uint32_t h[AHEAD];
	uint32_t bit = lang >= 0 && lang < 32 ? 1u << lang : 0;
	int rc, more = 1;
	hx_tok_init(&tk, text, strlen(text));
	while (more) {
		int k = 0;
		while (k < AHEAD && (more = hx_tok_next(&tk, &tok))) {
			kl[k] = hx_ix_wkey(key[k], tok.word, tok.len);
			h[k] = (uint32_t)hx_ix_hash(key[k], kl[k]);
			hx_ix_tab_prefetch(t, h[k]);
			k++;
		}
		for (int i = 0; i < k; i++) {
			uint32_t wi;
			if ((rc = hx_ix_tab_get_h(t, key[i], kl[i], h[i], &wi)) ||
			    (rc = bump(t, dt, doc1, wi, field)))
				return rc;
			t->e[wi].langs |= bit;
			dt->len[field]++;
		}
	}
	return HX_OK;
}

int hx_ix_doc_terms(struct ttab *t, struct docterms *dt, const hx_entry *e, const char *files,
                    uint32_t doc)
{
	int lang = hx_stem_lang(e->lang), rc;
	uint32_t doc1 = doc + 1;
	dt->n = 0;
	memset(dt->len, 0, sizeof dt->len);
	if ((rc = tokenize_field(t, dt, lang, doc1, HX_F_TITLE, e->title ? e->title : "")))
		return rc;
	for (size_t i = 0; i < e->ntags; i++)
		if ((rc = tokenize_field(t, dt, lang, doc1, HX_F_TAGS, e->tags[i])))
			return rc;
	if ((rc = tokenize_field(t, dt, lang, doc1, HX_F_BODY, e->body ? e->body : "")))
		return rc;
	return files ? tokenize_field(t, dt, lang, doc1, HX_F_FILES, files) : HX_OK;
}

int hx_ix_doc_attrs(const hx_entry *e, int (*cb)(void *, const char *, size_t), void *arg)
{
	char key[HX_IX_KEY_MAX];
	const char *org = hx_entry_meta(e, "org");
	const char *country = hx_entry_meta(e, "country");
	int rc;
	if ((rc = cb(arg, key, hx_ix_akey(key, "kind", e->kind ? e->kind : ""))))
		return rc;
	if ((rc = cb(arg, key, hx_ix_akey(key, "lang", e->lang ? e->lang : ""))))
		return rc;
	/* the author's key in lowercase hex, which folding leaves as it is:
	 * written directly (folding it took a fifth of a document's keys) */
	memcpy(key, "author:", 7);
	hx_hex(key + 7, e->author, HX_KEY_LEN);
	if ((rc = cb(arg, key, 7 + 2 * HX_KEY_LEN)))
		return rc;
	if (org && (rc = cb(arg, key, hx_ix_akey(key, "org", org))))
		return rc;
	if (country && (rc = cb(arg, key, hx_ix_akey(key, "country", country))))
		return rc;
	for (size_t i = 0; i < e->ntags; i++)
		if ((rc = cb(arg, key, hx_ix_akey(key, "tag", e->tags[i]))))
			return rc;
	return HX_OK;
}

/* ---- the ix.docs record (layout in ix_int.h) ---- */

#define HITREC_FIXED (HX_ID_LEN + HX_KEY_LEN + 8)

static const char *nz(const char *s)
{
	return s ? s : "";
}

size_t hx_ix_hitrec_size(const hx_entry *e)
{
	const char *org = hx_entry_meta(e, "org"), *tr = hx_entry_meta(e, "translation_of");
	return HITREC_FIXED + 6 * 2 + strlen(nz(e->path)) + strlen(nz(e->kind)) +
	       strlen(nz(e->title)) + strlen(nz(e->lang)) + (org ? strlen(org) : 0) +
	       (tr ? strlen(tr) : 0);
}

/* A u16 length (plus one when opt: 0 says absent) and the bytes. The
 * entry's limits keep every length under 2^16 - 1 (HX_META_VALUE_MAX). */
_Static_assert(HX_META_VALUE_MAX < 0xfffe && HX_TITLE_MAX < 0xfffe && HX_PATH_MAX < 0xfffe &&
                       HX_KIND_MAX < 0xfffe && HX_LANG_MAX < 0xfffe,
               "an ix.docs record's lengths are u16");
static uint8_t *put_str(uint8_t *p, const char *s, int opt)
{
	size_t n = s ? strlen(s) : 0;
	uint16_t l = (uint16_t)(opt ? (s ? n + 1 : 0) : n);
	p[0] = (uint8_t)l;
	p[1] = (uint8_t)(l >> 8);
	if (n)
		memcpy(p + 2, s, n);
	return p + 2 + n;
}

void hx_ix_hitrec_put(uint8_t *out, const hx_entry *e)
{
	memcpy(out, e->id, HX_ID_LEN);
	memcpy(out + HX_ID_LEN, e->author, HX_KEY_LEN);
	for (int i = 0; i < 8; i++)
		out[HX_ID_LEN + HX_KEY_LEN + i] = (uint8_t)(e->timestamp >> (8 * i));
	uint8_t *p = out + HITREC_FIXED;
	p = put_str(p, nz(e->path), 0);
	p = put_str(p, nz(e->kind), 0);
	p = put_str(p, nz(e->title), 0);
	p = put_str(p, nz(e->lang), 0);
	p = put_str(p, hx_entry_meta(e, "org"), 1);
	put_str(p, hx_entry_meta(e, "translation_of"), 1);
}

/* One string of a record at *p (before end): 0, or -1 when it overruns;
 * *s NULL for an absent optional one. */
static int get_str(const uint8_t **p, const uint8_t *end, int opt, const char **s, size_t *n)
{
	if (end - *p < 2)
		return -1;
	size_t l = (size_t)(*p)[0] | (size_t)(*p)[1] << 8;
	*p += 2;
	if (opt && l == 0) {
		*s = NULL;
		*n = 0;
		return 0;
	}
	l -= opt ? 1 : 0;
	if ((size_t)(end - *p) < l)
		return -1;
	*s = (const char *)*p;
	*n = l;
	*p += l;
	return 0;
}

int hx_ix_hitrec_parse(hx_ix_hit *h, const uint8_t *buf, size_t len)
{
	if (len < HITREC_FIXED)
		return HX_ECORRUPT;
	const uint8_t *p = buf + HITREC_FIXED, *end = buf + len;
	h->id = buf;
	h->author = buf + HX_ID_LEN;
	h->timestamp = 0;
	for (int i = 0; i < 8; i++)
		h->timestamp |= (uint64_t)buf[HX_ID_LEN + HX_KEY_LEN + i] << (8 * i);
	if (get_str(&p, end, 0, &h->path, &h->pathlen) ||
	    get_str(&p, end, 0, &h->kind, &h->kindlen) ||
	    get_str(&p, end, 0, &h->title, &h->titlelen) ||
	    get_str(&p, end, 0, &h->lang, &h->langlen) ||
	    get_str(&p, end, 1, &h->org, &h->orglen) || get_str(&p, end, 1, &h->tr, &h->trlen) ||
	    p != end)
		return HX_ECORRUPT;
	return HX_OK;
}

uint32_t hx_ix_day1(uint64_t ts_us)
{
	uint64_t d = ts_us / (86400ull * 1000000ull) + 1;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}
