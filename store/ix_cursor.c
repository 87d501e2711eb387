/*
 * ix_cursor.c: reading the search index during one search: cursors over
 * the posting lists of ix.post (block by block, seeking forward through
 * the block keys, decoding a block's postings one at a time and only as
 * far as a seek needs), the norm records of ix.norms (cached per chunk; a document's
 * language alone is read without decoding the rest) and the stored
 * entry behind a docnum. Layouts: ix_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/search_int.h"

/* Makes doc's ix.norms chunk the cached one: 1 when it is there, 0 when
 * the chunk is absent (or on an error, in *rc). */
static int norm_chunk(hx_searcher *sr, uint32_t doc, int *rc)
{
	uint32_t c = doc / HX_IX_CHUNK;
	*rc = HX_OK;
	if (c != sr->nchunk || !sr->nbuf) {
		uint8_t ck[4];
		hx_be32_put(ck, c);
		MDB_val k = { 4, ck }, v;
		int r = mdb_get(sr->txn, sr->ix->norms, &k, &v);
		if (r) {
			sr->nbuf = NULL;
			*rc = r == MDB_NOTFOUND ? HX_OK : hx_mdb_err(r);
			return 0;
		}
		sr->nchunk = c;
		sr->nbuf = v.mv_data;
		sr->nlen = v.mv_size;
	}
	return 1;
}

int hx_sr_norm(hx_searcher *sr, uint32_t doc, hx_ix_norm *nm)
{
	int rc;
	if (sr->ndoc == doc && sr->nbuf) {
		*nm = sr->nlast;
		return HX_OK;
	}
	if (!norm_chunk(sr, doc, &rc)) {
		memset(nm, 0, sizeof *nm);
		return rc;
	}
	hx_ix_norm_get(nm, sr->nbuf, sr->nlen, doc);
	sr->ndoc = doc;
	sr->nlast = *nm;
	return HX_OK;
}

_Static_assert(HX_IX_CHUNK % HX_SR_GROUP == 0, "a chunk is whole groups");

/* Fills chunk c of the languages (dlang) and the masks of its groups
 * (dgmask); 1 when they hold it, 0 when not (no room for them, or an
 * error reading the chunk: then hx_sr_lang reads the record). */
static int lang_fill(hx_searcher *sr, uint32_t c)
{
	int rc;
	if (c >= sr->dchunks)
		return 0;
	if (sr->dfilled[c])
		return 1;
	uint32_t d0 = c * HX_IX_CHUNK;
	if (!norm_chunk(sr, d0, &rc)) {
		if (rc)
			return 0;
		/* no chunk: zeroed records, as hx_sr_norm's */
		memset(sr->dlang + d0, 0, HX_IX_CHUNK);
	} else {
		for (uint32_t i = 0; i < HX_IX_CHUNK; i++)
			sr->dlang[d0 + i] = (int8_t)hx_ix_norm_lang(sr->nbuf, sr->nlen, d0 + i);
	}
	size_t ng = (size_t)sr->dchunks * (HX_IX_CHUNK / HX_SR_GROUP);
	for (uint32_t g = 0; g < HX_IX_CHUNK / HX_SR_GROUP; g++) {
		uint32_t m = 0, gi = d0 / HX_SR_GROUP + g;
		const int8_t *l = sr->dlang + d0 + g * HX_SR_GROUP;
		for (uint32_t i = 0; i < HX_SR_GROUP; i++)
			if (l[i] >= 0 && l[i] < 32) {
				if (!sr->dbits[l[i]] &&
				    !(sr->dbits[l[i]] = calloc(ng, sizeof(uint64_t))))
					return 0; /* not filled: the records are read */
				m |= 1u << l[i];
			}
		for (uint32_t mm = m; mm; mm &= mm - 1) {
			int li = __builtin_ctz(mm);
			uint64_t b = 0;
			for (uint32_t i = 0; i < HX_SR_GROUP; i++)
				b |= (uint64_t)(l[i] == li) << i;
			sr->dbits[li][gi] = b;
		}
		sr->dgmask[gi] = m;
	}
	sr->dfilled[c] = 1;
	return 1;
}

int hx_sr_lang(hx_searcher *sr, uint32_t doc)
{
	int rc;
	uint32_t c = doc / HX_IX_CHUNK;
	if (lang_fill(sr, c))
		return sr->dlang[doc];
	if (!norm_chunk(sr, doc, &rc))
		return 0; /* as hx_sr_norm's zeroed record */
	return hx_ix_norm_lang(sr->nbuf, sr->nlen, doc);
}

uint32_t hx_sr_lang_skip(hx_searcher *sr, uint32_t d, uint32_t mask, uint32_t end)
{
	uint64_t x = d; /* a chunk's end may be 2^32 */
	while (x < end) {
		uint32_t c = (uint32_t)(x / HX_IX_CHUNK);
		if (x >= sr->st.next_doc)
			return end; /* no document there */
		if (!lang_fill(sr, c))
			return (uint32_t)x; /* not known here: no skip */
		uint64_t g = x / HX_SR_GROUP,
		         gend = (uint64_t)(c + 1) * (HX_IX_CHUNK / HX_SR_GROUP);
		/* the first group with such a document, then the first such
		 * document in it at or after x (the bits of its languages) */
		for (uint64_t first = g; g < gend; g++)
			if (sr->dgmask[g] & mask) {
				uint64_t w = 0;
				for (uint32_t mm = sr->dgmask[g] & mask; mm; mm &= mm - 1)
					w |= sr->dbits[__builtin_ctz(mm)][g];
				if (g == first)
					w &= ~(uint64_t)0 << (x % HX_SR_GROUP);
				if (!w)
					continue;
				uint64_t t = g * HX_SR_GROUP + (uint64_t)__builtin_ctzll(w);
				return t < end ? (uint32_t)t : end;
			}
		x = gend * HX_SR_GROUP;
	}
	return end;
}

void hx_sr_langs_free(hx_searcher *sr)
{
	free(sr->dlang);
	free(sr->dfilled);
	free(sr->dgmask);
	for (int l = 0; l < 32; l++) {
		free(sr->dbits[l]);
		sr->dbits[l] = NULL;
	}
	sr->dlang = NULL;
	sr->dfilled = NULL;
	sr->dgmask = NULL;
	sr->dchunks = 0;
}

void hx_sr_langs_sync(hx_searcher *sr)
{
	const hx_ix_stats *a = &sr->st, *b = &sr->dst;
	int same = sr->dlang && a->next_doc == b->next_doc && a->ndocs == b->ndocs &&
	           !memcmp(a->sumlen, b->sumlen, sizeof a->sumlen) &&
	           !memcmp(a->lang_docs, b->lang_docs, sizeof a->lang_docs);
	if (same)
		return;
	/* also the stems that depended on what the index held (hx_stem_langs)
	 * and the stem dictionary's filter */
	hx_stemmers_index_changed(sr->stem);
	hx_sfilter_free(&sr->sf);
	sr->sf_failed = 0;
	/* the filter waits for a search that finds the index as this one
	 * does: one that changes between every two searches (a sync, a busy
	 * network) would otherwise have it built again, 25 ms at 300,000
	 * stems, for every search */
	sr->nbegin = 1;
	hx_sr_langs_free(sr);
	uint32_t n = a->next_doc / HX_IX_CHUNK + 1;
	sr->dlang = malloc((size_t)n * HX_IX_CHUNK);
	sr->dfilled = calloc(n, 1);
	sr->dgmask = malloc((size_t)n * (HX_IX_CHUNK / HX_SR_GROUP) * sizeof *sr->dgmask);
	if (!sr->dlang || !sr->dfilled || !sr->dgmask) {
		hx_sr_langs_free(sr); /* read the records instead */
		return;
	}
	sr->dchunks = n;
	sr->dst = *a;
}

/* ---- posting list cursors -------------------------------------------------- */

void hx_pl_close(struct plist **pl)
{
	if (*pl) {
		if ((*pl)->cur)
			mdb_cursor_close((*pl)->cur);
		free(*pl);
		*pl = NULL;
	}
}

/* Takes the block at (k, v) if it belongs to the list; else ends it. */
static void plist_take(struct plist *pl, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *kb = k->mv_data;
	if (k->mv_size != pl->tl + 5 || memcmp(kb, pl->term, pl->tl) || kb[pl->tl] != 0 ||
	    v->mv_size < 9) {
		pl->doc = END;
		pl->blast = END;
		return;
	}
	const uint8_t *b = v->mv_data;
	pl->bfirst = hx_be32_get(kb + pl->tl + 1);
	pl->pp = b + 9;
	pl->pend = b + v->mv_size;
	pl->n = hx_ix_block_n(b);
	pl->np = 0;
	pl->blast = hx_ix_block_last(b);
	pl->bbound = hx_ix_block_bound(b);
	pl->doc = pl->bfirst; /* a block's first posting is its key */
	if (pl->blast < pl->bfirst || pl->n < 1 || pl->n > HX_IX_BLOCK) {
		pl->err = HX_ECORRUPT;
		pl->doc = pl->blast = END;
	}
}

/* Most postings are two bytes: a delta under 128 and a flags byte whose
 * tfs need no varint (title and tags under 3, body under 7, no attachment
 * text). pf_flags[f]: f is such a flags byte, and not all its tfs are 0. */
#define PF_OK(b) ((b)-1u < 0x7fu && ((b)&3) != 3 && ((b)&0xc) != 0xc && ((b)&0x70) != 0x70)
#define PF_R4(b) PF_OK(b), PF_OK((b) + 1), PF_OK((b) + 2), PF_OK((b) + 3)
#define PF_R16(b) PF_R4(b), PF_R4((b) + 4), PF_R4((b) + 8), PF_R4((b) + 12)
#define PF_R64(b) PF_R16(b), PF_R16((b) + 16), PF_R16((b) + 32), PF_R16((b) + 48)
static const uint8_t pf_flags[256] = { PF_R64(0u), PF_R64(64u), PF_R64(128u), PF_R64(192u) };

static void plist_tf2(struct plist *pl, uint32_t f)
{
	pl->tf[HX_F_TITLE] = f & 3;
	pl->tf[HX_F_TAGS] = (f >> 2) & 3;
	pl->tf[HX_F_BODY] = (f >> 4) & 7;
	pl->tf[HX_F_FILES] = 0;
}

/* Reads the block's next posting, which becomes the current one: the
 * checks of hx_ix_block_decode, posting by posting (a corrupt byte past
 * the last posting a search needs goes unseen; fsck reads every block).
 * A posting of two or three bytes (a delta of one or two) is read here,
 * with the same checks (the first's delta 0, any other's not, not past
 * the block's last docnum, the last one ending the block at its last
 * docnum); any other by hx_ix_posting_next. */
static int plist_step(struct plist *pl)
{
	uint32_t doc = pl->doc;
	const uint8_t *p = pl->pp;
	ptrdiff_t left = pl->pend - p, len = left > 0 && p[0] >= 0x80 ? 3 : 2; /* delta: 1 or 2 */
	if (pl->np < pl->n && left >= len && p[len - 2] < 0x80) {
		uint32_t dd = len == 2 ? p[0] : (p[0] & 0x7fu) | (uint32_t)p[1] << 7,
		         ff = p[len - 1];
		int last = pl->np + 1 == pl->n;
		if ((dd != 0) == (pl->np != 0) && pf_flags[ff] && dd <= pl->blast - doc &&
		    (!last || (left == len && doc + dd == pl->blast))) {
			pl->pp += len;
			pl->np++;
			pl->doc = doc + dd;
			plist_tf2(pl, ff);
			return 0;
		}
	}
	if (pl->np >= pl->n || hx_ix_posting_next(&pl->pp, pl->pend, pl->np == 0, &doc, pl->tf) ||
	    doc > pl->blast || (++pl->np == pl->n && (pl->pp != pl->pend || doc != pl->blast))) {
		pl->err = HX_ECORRUPT;
		pl->doc = pl->blast = END;
		return -1;
	}
	pl->doc = doc;
	return 0;
}

/* Steps over the block's postings before d that are two bytes, neither
 * the block's first nor its last, with the checks plist_step makes of
 * them, and stops at the first other one, for plist_step. A seek steps
 * over up to a block of postings: posting by posting, through
 * hx_ix_posting_next, that was a fifth of an English query's
 * instructions in an -O2 build (docs/SEARCH.md, twelfth session). */
static void plist_fast(struct plist *pl, uint32_t d)
{
	const uint8_t *p = pl->pp, *start = p;
	uint32_t doc = pl->doc, dd = 0, blast = pl->blast; /* locals: p may alias pl */
	/* doc < d <= blast below, and a step adds at most 127: no wrap */
	if (pl->np == 0 || d > blast || blast > UINT32_MAX - 128)
		return;
	/* postings that may be taken: not the last, not past the bytes */
	size_t k = (size_t)(pl->n - 1 - pl->np), room = (size_t)(pl->pend - p) / 2;
	const uint8_t *stop = p + 2 * (k < room ? k : room);
	while (p < stop && doc < d) {
		uint32_t d1 = p[0];
		if (d1 - 1u >= 0x7fu || !pf_flags[p[1]])
			break;
		dd = d1;
		doc += d1;
		p += 2;
	}
	/* each step starts below d <= blast: only the last one taken can end
	 * past the block's last docnum; it is left to plist_step, which
	 * finds the block corrupt */
	if (p != start && doc > blast) {
		p -= 2;
		doc -= dd;
	}
	if (p != start) {
		pl->np += (int)((p - start) / 2);
		pl->pp = p;
		pl->doc = doc;
		plist_tf2(pl, p[-1]);
	}
}

/* The searcher's spare cursor on ix.post, opened at first need in the
 * current read transaction (closed at its end). */
static int spare_cursor(hx_searcher *sr)
{
	int rc;
	if (!sr->pcur && (rc = mdb_cursor_open(sr->txn, sr->ix->post, &sr->pcur))) {
		sr->pcur = NULL;
		return hx_mdb_err(rc);
	}
	return HX_OK;
}

int hx_sr_term(hx_searcher *sr, const char *term, size_t tl, hx_ix_term *ti)
{
	MDB_val k, v;
	int rc = spare_cursor(sr);
	return rc ? rc : hx_ix_term_seek(sr->pcur, term, tl, ti, &k, &v);
}

/* Opens the list of term; NULL when it has no postings (or on error,
 * with *err set). The term is looked up with the searcher's spare cursor,
 * which the list then keeps (already at its first block) when the term
 * has more than one block. */
struct plist *hx_pl_open(hx_searcher *sr, const char *term, size_t tl, int *err)
{
	hx_ix_term ti;
	MDB_val k, v;
	int rc;
	if ((rc = spare_cursor(sr))) {
		*err = rc;
		return NULL;
	}
	rc = hx_ix_term_seek(sr->pcur, term, tl, &ti, &k, &v);
	if (rc) {
		if (rc != HX_ENOTFOUND)
			*err = rc;
		return NULL;
	}
	/* the header comes first; the first block is the next key */
	if (ti.header && (rc = mdb_cursor_get(sr->pcur, &k, &v, MDB_NEXT))) {
		*err = rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
		return NULL;
	}
	struct plist *pl = malloc(sizeof *pl);
	if (!pl) {
		*err = HX_ENOMEM;
		return NULL;
	}
	/* A term without a header has one block, its last (ix_int.h), so its
	 * list never moves a cursor again: the spare stays the searcher's,
	 * where it is, and the next term is sought from there (LMDB looks at
	 * the leaf page a cursor is on before it searches from the root, and
	 * the forms of a stem, opened one after the other, are often on one
	 * page); no cursor is opened for the next list either. */
	pl->cur = NULL;
	if (ti.header) {
		pl->cur = sr->pcur;
		sr->pcur = NULL;
	}
	pl->err = 0;
	memcpy(pl->term, term, tl);
	pl->tl = tl;
	pl->df = ti.df;
	plist_take(pl, &k, &v);
	if (pl->doc == END) {
		*err = HX_ECORRUPT;
		hx_pl_close(&pl);
		return NULL;
	}
	return pl;
}

/* Moves to the first posting with docnum >= d. */
void hx_pl_seek(struct plist *pl, uint32_t d)
{
	MDB_val k, v;
	if (pl->doc >= d)
		return;
	if (d > pl->blast) {
		/* Usually the next block holds d... (a list without a cursor
		 * has no next block) */
		if (!pl->cur || mdb_cursor_get(pl->cur, &k, &v, MDB_NEXT)) {
			pl->doc = pl->blast = END;
			return;
		}
		plist_take(pl, &k, &v);
		if (pl->doc >= d)
			return; /* also END: no more blocks of this term */
		if (d > pl->blast) {
			/* ...else find the last block starting at or before d (one
			 * exists: the block just taken starts before d). */
			uint8_t key[HX_IX_KEY_MAX];
			k.mv_size = hx_ix_pkey(key, pl->term, pl->tl, d);
			k.mv_data = key;
			int rc = mdb_cursor_get(pl->cur, &k, &v, MDB_SET_RANGE);
			if (rc == 0 && k.mv_size == pl->tl + 5 &&
			    !memcmp(k.mv_data, key, pl->tl + 5)) {
				plist_take(pl, &k, &v);
				return;
			}
			rc = mdb_cursor_get(pl->cur, &k, &v,
			                    rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
			if (rc) {
				pl->doc = pl->blast = END;
				return;
			}
			plist_take(pl, &k, &v);
			if (pl->doc == END) {
				pl->err = HX_ECORRUPT;
				return;
			}
			if (pl->blast < d) {
				/* d falls between blocks: the next one starts after it. */
				if (mdb_cursor_get(pl->cur, &k, &v, MDB_NEXT)) {
					pl->doc = pl->blast = END;
					return;
				}
				plist_take(pl, &k, &v);
				return;
			}
		}
	}
	while (pl->doc < d) {
		plist_fast(pl, d);
		if (pl->doc >= d || plist_step(pl))
			break;
	}
}

const uint32_t *hx_pl_tf(struct plist *pl)
{
	static const uint32_t zero[HX_NFIELDS] = { 0, 0, 0 };
	if (pl->np == 0 && plist_step(pl))
		return zero;
	return pl->tf;
}

/* The entry behind a docnum: with want 0 whole, as hx_sr_doc; else
 * hx_sr_head's. A whole entry goes into the entry cache; a head is kept
 * in sr->hbuf until the next head. */
static int sr_read(hx_searcher *sr, uint32_t doc, size_t want, hx_ix_view *v, const uint8_t **id,
                   int *cut)
{
	if (cut)
		*cut = 0;
	/* any slot: docnums that collide modulo the size (a large entry
	 * decompressed again for the re-rank and again for its hit) */
	for (int i = 0; i < HX_VIEW_CACHE && doc != END; i++)
		if (sr->vc[i].doc == doc) {
			*v = sr->vc[i].v;
			if (id)
				*id = sr->vc[i].id;
			return HX_OK;
		}
	/* the id: from the hit cache when the document's record is there (the
	 * re-rank reads the record first), else from ix.docs */
	const uint8_t *did = NULL;
	for (int i = 0; i < HX_HIT_CACHE && doc != END && !did; i++)
		if (sr->hc[i].doc == doc)
			did = sr->hc[i].h.id;
	int rc, whole;
	if (!did) {
		uint8_t dk[4];
		hx_be32_put(dk, doc);
		MDB_val k = { 4, dk }, val;
		rc = mdb_get(sr->txn, sr->ix->docs, &k, &val);
		if (rc || val.mv_size < HX_ID_LEN + HX_KEY_LEN)
			return rc == MDB_NOTFOUND || !rc ? HX_ECORRUPT : hx_mdb_err(rc);
		did = val.mv_data;
	}
	MDB_val stored, ev;
	uint64_t seq;
	uint8_t *owned;
	if ((rc = hx_zent_find(&sr->s->z, sr->txn, did, &seq, &stored)))
		return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
	if ((rc = hx_zent_unpack_head(&sr->s->z, sr->txn, &stored, want, &ev, &owned, &whole)))
		return rc;
	if (id)
		*id = did;
	if (!whole) {
		free(sr->hbuf);
		sr->hbuf = owned;
		return hx_ix_view_parse_head(v, ev.mv_data, ev.mv_size, cut);
	}
	struct hx_vcache *c = &sr->vc[sr->vnext++ % HX_VIEW_CACHE]; /* the oldest */
	/* the slot's old bytes may still be behind a view the caller holds:
	 * they wait HX_SR_DBUFS evictions before they are freed */
	if (c->buf) {
		unsigned i = sr->dnext++ % HX_SR_DBUFS;
		free(sr->dbuf[i]);
		sr->dbuf[i] = c->buf;
	}
	c->doc = END;
	c->buf = owned;
	if ((rc = hx_ix_view_parse(v, ev.mv_data, ev.mv_size)))
		return rc;
	c->doc = doc;
	c->id = did;
	c->v = *v;
	return HX_OK;
}

int hx_sr_doc(hx_searcher *sr, uint32_t doc, hx_ix_view *v, const uint8_t **id)
{
	return sr_read(sr, doc, 0, v, id, NULL);
}

int hx_sr_head(hx_searcher *sr, uint32_t doc, size_t want, hx_ix_view *v, int *cut)
{
	return sr_read(sr, doc, want, v, NULL, cut);
}

/* A hit from the entry itself, for a record of schema 5 (id and author
 * alone): one that a process of an older hansa, still running on the
 * store, wrote after a newer one rebuilt the index (hansa fsck reports
 * it; hansa reindex rewrites it). Its strings point into the view's
 * bytes (hx_sr_doc: valid for HX_SR_DBUFS more calls), so it is not
 * kept in the hit cache. */
static int hit_of_entry(hx_searcher *sr, uint32_t doc, hx_ix_hit *h)
{
	hx_ix_view v;
	const uint8_t *id = NULL;
	int rc = hx_sr_doc(sr, doc, &v, &id);
	if (rc)
		return rc;
	*h = (hx_ix_hit){ .id = id,
		          .author = v.author,
		          .timestamp = v.timestamp,
		          .path = v.path ? v.path : "",
		          .pathlen = v.path ? v.pathlen : 0,
		          .kind = v.kind ? v.kind : "",
		          .kindlen = v.kind ? v.kindlen : 0,
		          .title = v.title ? v.title : "",
		          .titlelen = v.title ? v.titlelen : 0,
		          .lang = v.lang ? v.lang : "",
		          .langlen = v.lang ? v.langlen : 0 };
	if (hx_ix_view_meta(&v, "org", &h->org, &h->orglen)) {
		h->org = NULL;
		h->orglen = 0;
	}
	if (hx_ix_view_meta(&v, "translation_of", &h->tr, &h->trlen)) {
		h->tr = NULL;
		h->trlen = 0;
	}
	return HX_OK;
}

int hx_sr_hit(hx_searcher *sr, uint32_t doc, hx_ix_hit *h)
{
	for (int i = 0; i < HX_HIT_CACHE && doc != END; i++)
		if (sr->hc[i].doc == doc) {
			*h = sr->hc[i].h;
			return HX_OK;
		}
	struct hx_hcache *c = &sr->hc[sr->hnext++ % HX_HIT_CACHE];
	uint8_t dk[4];
	hx_be32_put(dk, doc);
	MDB_val k = { 4, dk }, val;
	int rc = mdb_get(sr->txn, sr->ix->docs, &k, &val);
	c->doc = END;
	if (rc)
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
	if (val.mv_size == HX_ID_LEN + HX_KEY_LEN)
		return hit_of_entry(sr, doc, h);
	if ((rc = hx_ix_hitrec_parse(h, val.mv_data, val.mv_size)))
		return rc;
	c->doc = doc;
	c->h = *h;
	return HX_OK;
}

void hx_sr_vc_clear(hx_searcher *sr)
{
	for (int i = 0; i < HX_HIT_CACHE; i++)
		sr->hc[i].doc = END;
	for (int i = 0; i < HX_VIEW_CACHE; i++) {
		free(sr->vc[i].buf);
		sr->vc[i].buf = NULL;
		sr->vc[i].doc = END;
	}
	for (unsigned i = 0; i < HX_SR_DBUFS; i++) {
		free(sr->dbuf[i]);
		sr->dbuf[i] = NULL;
	}
	free(sr->hbuf);
	sr->hbuf = NULL;
}

/* ix.wstem's stem of w in lang, checked (a stem of 1..HX_TOKEN_MAX bytes
 * without a NUL) into *v; 0 when absent or not so. */
static int wstem_get(hx_searcher *sr, int lang, const char *w, size_t wl, MDB_val *v)
{
	char key[HX_TOKEN_MAX + 16];
	size_t kl = hx_ix_wskey(key, lang, w, wl);
	MDB_val k = { kl, key };
	/* not in the filter: no descent (most words asked are not there) */
	return kl && hx_sr_stem_maybe(sr, key, kl) && !mdb_get(sr->txn, sr->ix->wstem, &k, v) &&
	       v->mv_size > 0 && v->mv_size <= HX_TOKEN_MAX && !memchr(v->mv_data, 0, v->mv_size);
}

int hx_sr_stem_lookup(void *arg, int lang, const char *w, size_t wl, char *out, size_t cap)
{
	hx_searcher *sr = arg;
	char key[HX_TOKEN_MAX + 16];
	MDB_val v;
	hx_ix_term ti;
	if (!sr->txn)
		return -1;
	if (wstem_get(sr, lang, w, wl, &v) && v.mv_size < cap) {
		memcpy(out, v.mv_data, v.mv_size);
		out[v.mv_size] = 0;
		return (int)v.mv_size;
	}
	size_t kl = hx_ix_wkey(key, w, wl);
	return kl && hx_sr_term(sr, key, kl, &ti) == HX_OK ? 0 : -1;
}

/* hx_sr_in_lang with the stem st (sl bytes) of w in lang at hand (NULL:
 * none); a Hunspell language does not need it. */
static int in_lang_stem(hx_searcher *sr, int lang, const char *w, size_t wl, const char *st,
                        size_t sl)
{
	char key[2 * HX_TOKEN_MAX + 16];
	if (!st)
		return 0;
	size_t kl = hx_ix_dkey(key, lang, st, sl, w, wl);
	MDB_val k = { kl, key }, v;
	/* no word with that stem in lang (the filter, without a descent):
	 * the word is none of them (the query's language asks this of every
	 * query word in every language) */
	if (!kl || !hx_sr_stem_maybe(sr, key, kl - wl - 1))
		return 0;
	return mdb_get(sr->txn, sr->ix->stem, &k, &v) == 0;
}

static struct hx_sr_inmemo *inmemo(hx_searcher *sr, const char *w, size_t wl)
{
	for (unsigned i = 0; i < sr->ninm; i++)
		if (!strncmp(sr->inm[i].w, w, wl) && !sr->inm[i].w[wl])
			return &sr->inm[i];
	return NULL;
}

void hx_sr_in_note(hx_searcher *sr, const char *w, size_t wl, uint32_t asked, uint32_t known)
{
	if (wl > HX_TOKEN_MAX)
		return;
	struct hx_sr_inmemo *m = inmemo(sr, w, wl);
	if (!m) {
		if (sr->ninm == HX_SR_INMEMO)
			return;
		m = &sr->inm[sr->ninm++];
		memcpy(m->w, w, wl);
		m->w[wl] = 0;
		m->asked = m->known = 0;
	}
	m->known = (m->known & ~asked) | (known & asked);
	m->asked |= asked;
}

int hx_sr_in_langs(hx_searcher *sr, const char *w, size_t wl, int in[HX_IX_NLANG])
{
	const char *sts[HX_STEM_LANGS_MAX];
	size_t sls[HX_STEM_LANGS_MAX];
	/* the matchers' walks answered for every language without a word
	 * table: no stems, no look-ups but the tables' */
	const struct hx_sr_inmemo *m = wl <= HX_TOKEN_MAX ? inmemo(sr, w, wl) : NULL;
	for (int i = 0; m && i < sr->nlangs; i++)
		if (!hx_stem_lang_dict(sr->langs[i]) && !(m->asked >> sr->langs[i] & 1))
			m = NULL;
	if (m) {
		for (int i = 0; i < sr->nlangs; i++) {
			MDB_val v;
			int lang = sr->langs[i];
			in[i] = hx_stem_lang_dict(lang) ? wstem_get(sr, lang, w, wl, &v)
			                                : (int)(m->known >> lang & 1);
		}
		return HX_OK;
	}
	if (hx_stem_langs(sr->stem, sr->langs, sr->nlangs, w, wl, sts, sls))
		return HX_ENOMEM;
	/* sts are borrowed from the stemmers until their next call: the
	 * look-ups below make none */
	for (int i = 0; i < sr->nlangs; i++) {
		MDB_val v;
		int lang = sr->langs[i];
		in[i] = hx_stem_lang_dict(lang) ? wstem_get(sr, lang, w, wl, &v)
		                                : in_lang_stem(sr, lang, w, wl, sts[i], sls[i]);
	}
	return HX_OK;
}

int hx_sr_in_lang(hx_searcher *sr, int lang, const char *w, size_t wl)
{
	size_t sl;
	if (hx_stem_lang_dict(lang)) {
		/* ix.wstem has every word of the language (hx_sr_stem_lookup's
		 * test, without its look-up of a word not found there) */
		MDB_val v;
		return wstem_get(sr, lang, w, wl, &v);
	}
	const char *st = hx_stem(sr->stem, lang, w, wl, &sl);
	return in_lang_stem(sr, lang, w, wl, st, sl);
}
