/*
 * ix_codec.c: byte layouts of the search index (see ix_int.h for the
 * tables): posting blocks (delta + varint, chosen over CRoaring for text
 * terms because postings carry per-field tfs and blocks carry the score
 * bounds that early termination needs), the stats record, norm records and
 * the keys. Every decoder checks every read against the value's length.
 */
#include "store/ix_int.h"
#include "store/mdb_err.h"

static uint8_t *varint_put(uint8_t *p, uint32_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Writes n postings at w, deltas from prev (the first one's is 0 when
 * prev is its own docnum); returns the end. */
static uint8_t *postings_put(uint8_t *w, const hx_posting *p, int n, uint32_t prev)
{
	for (int i = 0; i < n; i++) {
		uint32_t t = p[i].tf[HX_F_TITLE], g = p[i].tf[HX_F_TAGS], b = p[i].tf[HX_F_BODY];
		uint32_t f = p[i].tf[HX_F_FILES];
		w = varint_put(w, p[i].doc - prev);
		prev = p[i].doc;
		*w++ = (uint8_t)((t < 3 ? t : 3) | (g < 3 ? g : 3) << 2 | (b < 7 ? b : 7) << 4 |
		                 (f ? 1 : 0) << 7);
		if (t >= 3)
			w = varint_put(w, t - 3);
		if (g >= 3)
			w = varint_put(w, g - 3);
		if (b >= 7)
			w = varint_put(w, b - 7);
		if (f)
			w = varint_put(w, f - 1);
	}
	return w;
}

size_t hx_ix_block_encode(uint8_t *out, const hx_posting *p, int n, float bound)
{
	out[0] = (uint8_t)n;
	hx_le32_put(out + 1, p[n - 1].doc);
	hx_f32_put(out + 5, bound);
	return (size_t)(postings_put(out + 9, p, n, p[0].doc) - out);
}

size_t hx_ix_block_append(uint8_t *b, size_t len, const hx_posting *p, int n, float bound)
{
	uint32_t prev = hx_ix_block_last(b);
	b[0] = (uint8_t)(b[0] + n);
	hx_le32_put(b + 1, p[n - 1].doc);
	if (bound > hx_ix_block_bound(b))
		hx_f32_put(b + 5, bound);
	return (size_t)(postings_put(b + len, p, n, prev) - b);
}

int hx_ix_block_decode(const uint8_t *b, size_t len, uint32_t first, hx_posting *out, int *nout)
{
	if (len < 9)
		return HX_ECORRUPT;
	int n = b[0];
	if (n < 1 || n > HX_IX_BLOCK)
		return HX_ECORRUPT;
	const uint8_t *p = b + 9, *end = b + len;
	uint32_t doc = first;
	for (int i = 0; i < n; i++) {
		if (hx_ix_posting_next(&p, end, i == 0, &doc, out[i].tf))
			return HX_ECORRUPT;
		out[i].doc = doc;
	}
	if (p != end || doc != hx_ix_block_last(b))
		return HX_ECORRUPT;
	*nout = n;
	return HX_OK;
}

void hx_ix_stats_encode(uint8_t out[HX_IX_STATS_SIZE], const hx_ix_stats *st)
{
	uint8_t *p = out;
	hx_le32_put(p, st->next_doc);
	p += 4;
	hx_le32_put(p, (uint32_t)st->ndocs);
	hx_le32_put(p + 4, (uint32_t)(st->ndocs >> 32));
	p += 8;
	for (int f = 0; f < HX_NFIELDS; f++, p += 8) {
		hx_le32_put(p, (uint32_t)st->sumlen[f]);
		hx_le32_put(p + 4, (uint32_t)(st->sumlen[f] >> 32));
	}
	for (int f = 0; f < HX_NFIELDS; f++, p += 4)
		hx_f32_put(p, st->ref_avg[f]);
	for (int i = 0; i < HX_IX_NLANG; i++, p += 4)
		hx_le32_put(p, st->lang_docs[i]);
}

int hx_ix_stats_decode(hx_ix_stats *st, const uint8_t *b, size_t len)
{
	if (len != HX_IX_STATS_SIZE)
		return HX_ECORRUPT;
	const uint8_t *p = b;
	st->next_doc = hx_le32_get(p);
	p += 4;
	st->ndocs = hx_le32_get(p) | (uint64_t)hx_le32_get(p + 4) << 32;
	p += 8;
	for (int f = 0; f < HX_NFIELDS; f++, p += 8)
		st->sumlen[f] = hx_le32_get(p) | (uint64_t)hx_le32_get(p + 4) << 32;
	for (int f = 0; f < HX_NFIELDS; f++, p += 4) {
		st->ref_avg[f] = hx_f32_get(p);
		if (!(st->ref_avg[f] >= 0) || isinf(st->ref_avg[f]))
			return HX_ECORRUPT;
	}
	for (int i = 0; i < HX_IX_NLANG; i++, p += 4)
		st->lang_docs[i] = hx_le32_get(p);
	if (st->ndocs > st->next_doc)
		return HX_ECORRUPT;
	return HX_OK;
}

void hx_ix_norm_get(hx_ix_norm *nm, const uint8_t *chunk, size_t len, uint32_t doc)
{
	size_t off = (size_t)(doc % HX_IX_CHUNK) * HX_IX_NORM_SIZE;
	if (!chunk || off + HX_IX_NORM_SIZE > len) {
		memset(nm, 0, sizeof *nm);
		nm->lang = -1;
		return;
	}
	const uint8_t *p = chunk + off;
	nm->len[HX_F_TITLE] = (uint32_t)p[0] | (uint32_t)p[1] << 8;
	nm->len[HX_F_TAGS] = (uint32_t)p[2] | (uint32_t)p[3] << 8;
	nm->len[HX_F_BODY] = hx_le32_get(p + 4);
	nm->day1 = hx_le32_get(p + 8);
	nm->lang = (int)p[12] - 1;
	nm->len[HX_F_FILES] = (uint32_t)p[13] | (uint32_t)p[14] << 8 | (uint32_t)p[15] << 16;
}

int hx_ix_norm_lang(const uint8_t *chunk, size_t len, uint32_t doc)
{
	size_t off = (size_t)(doc % HX_IX_CHUNK) * HX_IX_NORM_SIZE;
	if (!chunk || off + HX_IX_NORM_SIZE > len)
		return -1;
	return (int)chunk[off + 12] - 1;
}

void hx_ix_norm_put(uint8_t *chunk, uint32_t doc, const hx_ix_norm *nm)
{
	uint8_t *p = chunk + (size_t)(doc % HX_IX_CHUNK) * HX_IX_NORM_SIZE;
	uint32_t t = nm->len[HX_F_TITLE] > 65535 ? 65535 : nm->len[HX_F_TITLE];
	uint32_t g = nm->len[HX_F_TAGS] > 65535 ? 65535 : nm->len[HX_F_TAGS];
	p[0] = (uint8_t)t;
	p[1] = (uint8_t)(t >> 8);
	p[2] = (uint8_t)g;
	p[3] = (uint8_t)(g >> 8);
	hx_le32_put(p + 4, nm->len[HX_F_BODY]);
	hx_le32_put(p + 8, nm->day1);
	p[12] = (uint8_t)(nm->lang >= 0 && nm->lang < 255 ? nm->lang + 1 : 0);
	uint32_t f = nm->len[HX_F_FILES] > 0xffffff ? 0xffffff : nm->len[HX_F_FILES];
	p[13] = (uint8_t)f;
	p[14] = (uint8_t)(f >> 8);
	p[15] = (uint8_t)(f >> 16);
}

size_t hx_ix_wkey(char *out, const char *word, size_t len)
{
	if (len == 0 || len > HX_TOKEN_MAX)
		return 0;
	out[0] = 'W';
	memcpy(out + 1, word, len);
	return len + 1;
}

size_t hx_ix_dkey(char *out, int lang, const char *stem, size_t slen, const char *word, size_t wlen)
{
	const char *code = hx_stem_lang_code(lang);
	size_t cl = strlen(code);
	if (slen == 0 || slen > HX_TOKEN_MAX || wlen > HX_TOKEN_MAX || cl == 0)
		return 0;
	memcpy(out, code, cl);
	out[cl] = ':';
	memcpy(out + cl + 1, stem, slen);
	out[cl + 1 + slen] = 0;
	memcpy(out + cl + 2 + slen, word, wlen);
	return cl + 2 + slen + wlen;
}

size_t hx_ix_wskey(char *out, int lang, const char *word, size_t wlen)
{
	const char *code = hx_stem_lang_code(lang);
	size_t cl = strlen(code);
	if (wlen == 0 || wlen > HX_TOKEN_MAX || cl == 0)
		return 0;
	memcpy(out, code, cl);
	out[cl] = ':';
	memcpy(out + cl + 1, word, wlen);
	return cl + 1 + wlen;
}

size_t hx_ix_pkey(uint8_t *out, const char *term, size_t tlen, uint32_t first)
{
	memcpy(out, term, tlen);
	out[tlen] = 0;
	hx_be32_put(out + tlen + 1, first);
	return tlen + 5;
}

size_t hx_ix_akey(char *out, const char *name, const char *value)
{
	size_t nl = strlen(name);
	memcpy(out, name, nl);
	out[nl] = ':';
	return nl + 1 + hx_fold_str(out + nl + 1, HX_IX_ATTR_VALUE_MAX + 1, value, strlen(value));
}

void hx_ix_term_header(uint8_t h[12], const hx_ix_term *ti)
{
	memset(h, 0, 12);
	hx_le32_put(h, ti->df);
	hx_le32_put(h + 4, ti->lastfirst);
	h[8] = (uint8_t)ti->lastn;
}

int hx_ix_term_seek(MDB_cursor *c, const char *term, size_t tl, hx_ix_term *ti, MDB_val *k,
                    MDB_val *v)
{
	uint8_t key[HX_IX_KEY_MAX];
	int rc;
	if (tl == 0 || tl + 5 > sizeof key)
		return HX_ENOTFOUND;
	memcpy(key, term, tl);
	key[tl] = 0;
	k->mv_size = tl + 1;
	k->mv_data = key;
	rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return HX_ENOTFOUND;
	if (rc)
		return hx_mdb_err(rc);
	const uint8_t *kb = k->mv_data, *vb = v->mv_data;
	if (k->mv_size < tl + 1 || memcmp(kb, key, tl + 1))
		return HX_ENOTFOUND;
	if (k->mv_size == tl + 1) {
		if (v->mv_size != 12)
			return HX_ECORRUPT;
		ti->df = hx_le32_get(vb);
		ti->lastfirst = hx_le32_get(vb + 4);
		ti->lastn = vb[8];
		ti->header = 1;
	} else if (k->mv_size == tl + 5) {
		if (v->mv_size < 9 || vb[0] < 1 || vb[0] > HX_IX_BLOCK)
			return HX_ECORRUPT;
		ti->df = vb[0];
		ti->lastfirst = hx_be32_get(kb + tl + 1);
		ti->lastn = vb[0];
		ti->header = 0;
	} else {
		return HX_ECORRUPT;
	}
	if (ti->lastn < 1 || ti->lastn > HX_IX_BLOCK || ti->df < (uint32_t)ti->lastn)
		return HX_ECORRUPT;
	return HX_OK;
}

int hx_ix_term_lookup(MDB_txn *txn, MDB_dbi post, const char *term, size_t tl, hx_ix_term *ti)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;
	if (tl == 0 || tl + 5 > HX_IX_KEY_MAX)
		return HX_ENOTFOUND;
	if ((rc = mdb_cursor_open(txn, post, &c)))
		return hx_mdb_err(rc);
	rc = hx_ix_term_seek(c, term, tl, ti, &k, &v);
	mdb_cursor_close(c);
	return rc;
}
