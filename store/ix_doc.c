/*
 * ix_doc.c: what the index holds of one document (ix_write_int.h): its
 * terms with per-field tfs and the field lengths, tokenized into a string
 * table, and its attribute keys (kind, lang, author, org, country, tags).
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

static int tokenize_field(struct ttab *t, struct docterms *dt, int lang, uint32_t doc1, int field,
                          const char *text)
{
	hx_tokenizer tk;
	hx_token tok;
	char key[HX_TOKEN_MAX + 16];
	uint32_t bit = lang >= 0 && lang < 32 ? 1u << lang : 0;
	int rc;
	hx_tok_init(&tk, text, strlen(text));
	while (hx_tok_next(&tk, &tok)) {
		uint32_t wi;
		size_t kl = hx_ix_wkey(key, tok.word, tok.len);
		if ((rc = hx_ix_tab_get(t, key, kl, &wi)) || (rc = bump(t, dt, doc1, wi, field)))
			return rc;
		t->e[wi].langs |= bit;
		dt->len[field]++;
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
	char hex[2 * HX_KEY_LEN + 1];
	const char *org = hx_entry_meta(e, "org");
	const char *country = hx_entry_meta(e, "country");
	int rc;
	if ((rc = cb(arg, key, hx_ix_akey(key, "kind", e->kind ? e->kind : ""))))
		return rc;
	if ((rc = cb(arg, key, hx_ix_akey(key, "lang", e->lang ? e->lang : ""))))
		return rc;
	if ((rc = cb(arg, key, hx_ix_akey(key, "author", hx_hex(hex, e->author, HX_KEY_LEN)))))
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

uint32_t hx_ix_day1(uint64_t ts_us)
{
	uint64_t d = ts_us / (86400ull * 1000000ull) + 1;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}
