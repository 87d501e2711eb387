/*
 * ix_int.h: the search index's internals shared by index.c (writing),
 * search.c (reading) and the tests: table layouts, the posting block codec,
 * the per-document norms and the BM25F scoring formula. Nothing outside
 * store/ and tests/ includes this file.
 *
 * Tables (all in the store's LMDB environment; integers little-endian
 * unless marked BE, which are big-endian so that byte order = numeric):
 *
 *   ix.meta   "schema" -> u32 HX_INDEX_SCHEMA
 *             "stats"  -> the hx_ix_stats record (see ix_stats_encode)
 *   ix.docs   docnum BE32 -> one per live document, what a hit shows
 *             (so that a search reads no entry for it; since schema 6):
 *               0 id[32]
 *              32 author[32]
 *              64 u64 timestamp (microseconds)
 *              72 path, kind, title, lang: each u16 length ‖ bytes
 *                 org, translation_of (metadata values): each u16
 *                 length + 1 ‖ bytes, 0 when the entry has none
 *             and nothing after (hx_ix_hitrec_put, hx_ix_hitrec_parse).
 *   ix.ids    id[32] -> docnum u32                       entry id -> docnum
 *   ix.norms  chunk BE32 (= docnum / 1024) -> 1024 norm records of 16 bytes:
 *               0 u16 title length (tokens, saturated)
 *               2 u16 tags length
 *               4 u32 body length
 *               8 u32 day of the timestamp + 1 (days since 1970-01-01 UTC);
 *                 0 = no live document with this docnum
 *              12 u8  stemming language index + 1 (0 = none; tokenize.h)
 *              13 u24 files length (attachment names and text; saturated)
 *   ix.post   term ‖ 00 -> term header (12 bytes), only for terms with more
 *             than one block (a term with one block has none: its df is the
 *             block's n and that block is its last):
 *               0 u32 df: live documents in the term's postings
 *               4 u32 first docnum of the term's last block
 *               8 u8  postings in the last block
 *               9 u8,u8,u8 reserved (0)
 *             term ‖ 00 ‖ first docnum BE32 -> posting block:
 *               0 u8   n: postings in the block (1..128)
 *               1 u32  last docnum in the block
 *               5 f32  bound: the largest weighted, length-normalised tf of
 *                      the block under the reference averages of the stats
 *               9 ...  n postings: varint(docnum - previous docnum; the
 *                      first is relative to the key's first docnum, so 0),
 *                      then one byte t | g << 2 | b << 4 | f << 7 with t, g
 *                      the title and tags tf (3 = 3 or more: varint(tf - 3)
 *                      follows), b the body tf (7 = 7 or more: varint(tf -
 *                      7) follows) and f set when the files tf is not 0
 *                      (varint(tf - 1) follows), escapes in the order t, g,
 *                      b, f.
 *   ix.attr   name ":" folded value -> CRoaring portable bitmap of docnums
 *             (names: kind lang tag org country author)
 *   ix.stem   language code ‖ ":" ‖ stem ‖ 00 ‖ word -> ""   the stem
 *             dictionary: word occurs (or occurred) in a document of that
 *             language, whose stemmer maps it to stem. Entries are added,
 *             never removed (until reindex); a word no longer in any
 *             document simply has no postings.
 *   ix.wstem  language code ‖ ":" ‖ word -> stem   for the languages
 *             stemmed through a Hunspell dictionary (hx_stem_lang_dict):
 *             the same words as ix.stem, looked up from the word, so that
 *             a search for a word the index knows takes its stem from here
 *             and never loads the dictionary (about 0.5 s for Polish).
 *             Added and kept like ix.stem.
 *
 * Terms: "W" ‖ folded word. Only exact forms have postings; a query word
 * matches other forms through the stem dictionary: in each language, the
 * words with the same stem, counted for documents of that language only
 * (the norm record says a document's language). A word never contains 00
 * or ':'.
 * Docnums are given in increasing order and never reused (until reindex),
 * so postings are appended; a replaced or deleted version's postings are
 * removed at once, so df and the length sums are exact.
 */
#ifndef HX_IX_INT_H
#define HX_IX_INT_H

#include <math.h>
#include <string.h>
#include <lmdb.h>
#include "proto/hx.h"
#include "proto/entry.h"
#include "store/tokenize.h"

#define HX_INDEX_SCHEMA                                                               \
	7 /* 3: Hunspell lemmas (pl lv sv), ASCII spellings, German -em; 4: ix.wstem; \
	   * 5: the files field (attachment names and text); 6: ix.docs holds         \
	   * the fields of a hit; 7: a compound's lemma whole (lemma.c) */
#define HX_IX_BLOCK 128 /* postings per block */
#define HX_IX_BLOCK_MAXBYTES (9 + HX_IX_BLOCK * 26)
#define HX_IX_CHUNK 1024 /* norm records per ix.norms value */
#define HX_IX_NORM_SIZE 16
#define HX_IX_NLANG 32           /* stemming language slots in the stats */
#define HX_IX_KEY_MAX 480        /* longest LMDB key we build (limit 511) */
#define HX_IX_ATTR_VALUE_MAX 400 /* folded attribute values are cut here */
#define HX_IX_NOTERM UINT32_MAX

enum { HX_F_TITLE = 0, HX_F_TAGS = 1, HX_F_BODY = 2, HX_F_FILES = 3, HX_NFIELDS = 4 };

/* Ranking constants (BM25F). The exact boost adds that share of the
 * exact-form tf to the stemmed tf, so an exact match ranks higher.
 * How they were chosen: `bench_search --tune` (default sample, 30,728
 * documents) splits the known-item queries of en da de pl fi sv (kinds
 * known, inflected, ascii; 1,600 queries) by the target's corpus line,
 * even lines to train, odd held out, and runs coordinate descent over a
 * grid (k1 0.6-3, b 0.3-1, title 2-12, tags 0.5-4, exact 0-4, proximity
 * HX_PROX_W 0.05-0.5). The best on the training half (k1 3, b 0.6, title
 * 8, tags 2, exact 1, proximity 0.05) gained 0.010 MRR@10 there and
 * nothing held out (0.8030 both), so these, the first ones, stay: the
 * surface is flat around them and the grid's optimum fits noise. The
 * re-rank's constants (HX_PROX_W 0.1, HX_TITLE_EXACT 0.2: search_int.h)
 * were chosen with `bench_search --variant` on both halves of the sample
 * and of the whole corpus (docs/SEARCH.md, fourth session). Changing
 * w or b changes the block bounds the index stores: bump HX_INDEX_SCHEMA. */
#define HX_BM25_K1 1.2
#define HX_BM25_B 0.75
#define HX_W_TITLE 4.0
#define HX_W_TAGS 2.0
#define HX_W_BODY 1.0
#define HX_W_FILES 0.5 /* attachment names and extracted text (store/ftext.c) */
#define HX_EXACT_BOOST 0.5

static const double hx_ix_fw[HX_NFIELDS] = { HX_W_TITLE, HX_W_TAGS, HX_W_BODY, HX_W_FILES };

typedef struct hx_ix_stats {
	uint32_t next_doc;               /* next docnum to give */
	uint64_t ndocs;                  /* live documents */
	uint64_t sumlen[HX_NFIELDS];     /* sum of field lengths of live documents */
	float ref_avg[HX_NFIELDS];       /* averages the block bounds were computed
	                                    with; 0 = not yet set */
	uint32_t lang_docs[HX_IX_NLANG]; /* live documents per stemming language */
} hx_ix_stats;
#define HX_IX_STATS_SIZE (4 + 8 + 8 * HX_NFIELDS + 4 * HX_NFIELDS + 4 * HX_IX_NLANG)

typedef struct hx_ix_norm {
	uint32_t len[HX_NFIELDS];
	uint32_t day1; /* 0 = no live document */
	int lang;      /* stemming language index, -1 = none */
} hx_ix_norm;

typedef struct hx_posting {
	uint32_t doc;
	uint32_t tf[HX_NFIELDS];
} hx_posting;

/* ---- little-endian and varint helpers ---------------------------------- */

static inline void hx_le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t hx_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline float hx_f32_get(const uint8_t *p)
{
	uint32_t u = hx_le32_get(p);
	float f;
	memcpy(&f, &u, 4);
	return f;
}
static inline void hx_f32_put(uint8_t *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	hx_le32_put(p, u);
}

/* Postings gathered in memory before a write transaction writes them out
 * early (index.c; tests lower it). */
extern size_t hx_ix_flush_postings;

/* ---- codec (ix_codec.c) -------------------------------------------------- */

/* Encodes n (1..HX_IX_BLOCK) postings, docnums increasing and the first
 * equal to first, into out (HX_IX_BLOCK_MAXBYTES). Returns the length. */
size_t hx_ix_block_encode(uint8_t *out, const hx_posting *p, int n, float bound);
/* Appends n postings, docnums increasing and above the block's last, to
 * the well-formed block b of len bytes (in a buffer of
 * HX_IX_BLOCK_MAXBYTES) without decoding it: its count, last docnum and
 * bound (the larger of the two) are updated. The block must have room
 * (b[0] + n <= HX_IX_BLOCK). Returns the new length. */
size_t hx_ix_block_append(uint8_t *b, size_t len, const hx_posting *p, int n, float bound);
/* Decodes a block whose key says it starts at first into out
 * (HX_IX_BLOCK entries). HX_OK or HX_ECORRUPT (bounds-checked). */
int hx_ix_block_decode(const uint8_t *b, size_t len, uint32_t first, hx_posting *out,
                       int *n) HX_WUR;

/* Reads a varint from [*pp, end) into *v; 0 on success, -1 when truncated
 * or over 32 bits. One byte (most deltas and tfs) takes the first test. */
static inline int hx_ix_varint_get(const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
	const uint8_t *p = *pp;
	if (p < end && *p < 0x80) {
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	uint32_t r = 0;
	for (int shift = 0; shift < 35; shift += 7) {
		if (p >= end)
			return -1;
		uint8_t b = *p++;
		if (shift == 28 && (b & 0x70))
			return -1;
		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

/* Decodes the posting at *pp (block bytes up to end) that follows the
 * docnum *doc (the block's first docnum when first is set, whose delta
 * must be 0), into *doc and tf, and moves *pp past it: what
 * hx_ix_block_decode does for each posting, so that a reader can stop
 * where it needs to. 0, or -1 when the bytes are corrupt (bounds-checked;
 * the block's own count and last docnum are the caller's to check). */
static inline int hx_ix_posting_next(const uint8_t **pp, const uint8_t *end, int first,
                                     uint32_t *doc, uint32_t tf[HX_NFIELDS])
{
	uint32_t d, v;
	if (hx_ix_varint_get(pp, end, &d) || *pp >= end)
		return -1;
	if ((first && d != 0) || (!first && d == 0) || d > UINT32_MAX - *doc)
		return -1;
	*doc += d;
	uint8_t f = *(*pp)++;
	uint32_t t = f & 3, g = (f >> 2) & 3, bt = (f >> 4) & 7, ft = f >> 7;
	if (t == 3) {
		if (hx_ix_varint_get(pp, end, &v) || v > UINT32_MAX - 3)
			return -1;
		t += v;
	}
	if (g == 3) {
		if (hx_ix_varint_get(pp, end, &v) || v > UINT32_MAX - 3)
			return -1;
		g += v;
	}
	if (bt == 7) {
		if (hx_ix_varint_get(pp, end, &v) || v > UINT32_MAX - 7)
			return -1;
		bt += v;
	}
	if (ft) {
		if (hx_ix_varint_get(pp, end, &v) || v > UINT32_MAX - 1)
			return -1;
		ft += v;
	}
	if (t + (uint64_t)g + bt + ft == 0)
		return -1;
	tf[HX_F_TITLE] = t;
	tf[HX_F_TAGS] = g;
	tf[HX_F_BODY] = bt;
	tf[HX_F_FILES] = ft;
	return 0;
}

static inline int hx_ix_block_n(const uint8_t *b)
{
	return b[0];
}
static inline uint32_t hx_ix_block_last(const uint8_t *b)
{
	return hx_le32_get(b + 1);
}
static inline float hx_ix_block_bound(const uint8_t *b)
{
	return hx_f32_get(b + 5);
}

void hx_ix_stats_encode(uint8_t out[HX_IX_STATS_SIZE], const hx_ix_stats *st);
int hx_ix_stats_decode(hx_ix_stats *st, const uint8_t *b, size_t len) HX_WUR;

/* The norm record of docnum inside a chunk value (or zeroes when the chunk
 * is shorter, e.g. absent). */
void hx_ix_norm_get(hx_ix_norm *nm, const uint8_t *chunk, size_t len, uint32_t doc);
/* The language of doc's norm record alone (hx_ix_norm_get's lang). */
int hx_ix_norm_lang(const uint8_t *chunk, size_t len, uint32_t doc);
void hx_ix_norm_put(uint8_t *chunk, uint32_t doc, const hx_ix_norm *nm);

/* Term keys. Each returns the key length (0 when it would not fit). */
size_t hx_ix_wkey(char *out, const char *word, size_t len);
/* Stem dictionary key: code ":" stem 00 word (word may be empty, for the
 * prefix of all words with that stem). */
size_t hx_ix_dkey(char *out, int lang, const char *stem, size_t slen, const char *word,
                  size_t wlen);
/* Word stem key (ix.wstem): code ":" word. */
size_t hx_ix_wskey(char *out, int lang, const char *word, size_t wlen);
/* Posting key: term ‖ 00 ‖ BE32(first). */
size_t hx_ix_pkey(uint8_t *out, const char *term, size_t tlen, uint32_t first);
/* Attribute key: name ":" folded(value). */
size_t hx_ix_akey(char *out, const char *name, const char *value);

/* What ix.post says about a term: HX_OK, HX_ENOTFOUND (no postings) or
 * HX_ECORRUPT/HX_EIO. */
typedef struct hx_ix_term {
	uint32_t df, lastfirst;
	int lastn;
	int header; /* the term has a header record */
} hx_ix_term;
int hx_ix_term_lookup(MDB_txn *txn, MDB_dbi post, const char *term, size_t tl,
                      hx_ix_term *ti) HX_WUR;
/* The same through cursor c of ix.post, left at the term's first key (its
 * header, or its only block), which *k and *v get (valid as LMDB's). */
int hx_ix_term_seek(MDB_cursor *c, const char *term, size_t tl, hx_ix_term *ti, MDB_val *k,
                    MDB_val *v) HX_WUR;
void hx_ix_term_header(uint8_t h[12], const hx_ix_term *ti);

/* A stored entry's fields, borrowed from its bytes (ix_view.c): strings
 * are not NUL-terminated. Valid as long as the bytes are. */
typedef struct hx_ix_view {
	const uint8_t *author;
	uint64_t timestamp;
	const char *path, *kind, *title, *body, *lang;
	size_t pathlen, kindlen, titlelen, bodylen, langlen;
	const uint8_t *tags, *tagsend, *meta, *metaend;
	size_t ntags, nmeta;
} hx_ix_view;
int hx_ix_view_parse(hx_ix_view *v, const uint8_t *buf, size_t len) HX_WUR;
/* The fields up to the body of an entry's first len bytes (the rest is
 * not read: tags and meta are left empty), and of the body what they
 * hold; *cut 1 when the body goes on past them. HX_ECORRUPT when the
 * fields before the body are not whole. */
int hx_ix_view_parse_head(hx_ix_view *v, const uint8_t *buf, size_t len, int *cut) HX_WUR;
/* The tag after *pos (*pos = NULL for the first); HX_ENOTFOUND after the last. */
int hx_ix_view_next_tag(const hx_ix_view *v, const uint8_t **pos, const char **s, size_t *n);
/* A metadata value; HX_ENOTFOUND when absent. */
int hx_ix_view_meta(const hx_ix_view *v, const char *key, const char **val, size_t *n);

/* A 64-bit hash of n bytes (terms are short: eight bytes at a time;
 * ix_strtab.c): the writer's string table, fsck, the stem filter. */
uint64_t hx_ix_hash(const void *k, size_t n);

/* An ix.docs record (schema 6), as borrowed views into its bytes. */
typedef struct hx_ix_hit {
	const uint8_t *id, *author;
	uint64_t timestamp;
	const char *path, *kind, *title, *lang, *org, *tr; /* org, tr: NULL when absent */
	size_t pathlen, kindlen, titlelen, langlen, orglen, trlen;
} hx_ix_hit;
/* Bytes of e's ix.docs record. */
size_t hx_ix_hitrec_size(const hx_entry *e);
/* Writes e's record into out (hx_ix_hitrec_size bytes). */
void hx_ix_hitrec_put(uint8_t *out, const hx_entry *e);
/* Parses a record (len bytes, every length checked); h borrows buf.
 * HX_ECORRUPT when it is not one. */
int hx_ix_hitrec_parse(hx_ix_hit *h, const uint8_t *buf, size_t len) HX_WUR;

/* ---- scoring --------------------------------------------------------------- */

static inline double hx_ix_idf(double n, double df)
{
	if (df > n)
		df = n;
	if (df < 0)
		df = 0;
	return log(1.0 + (n - df + 0.5) / (df + 0.5));
}

/* Weighted, length-normalised tf of one document (BM25F). tf[] may be
 * fractional (the exact boost). avg[] are the average field lengths. */
static inline double hx_ix_tfn(const double tf[HX_NFIELDS], const uint32_t len[HX_NFIELDS],
                               const double avg[HX_NFIELDS])
{
	double s = 0;
	for (int f = 0; f < HX_NFIELDS; f++) {
		if (tf[f] <= 0)
			continue;
		double a = avg[f] > 0 ? avg[f] : 1.0;
		s += hx_ix_fw[f] * tf[f] / (1.0 - HX_BM25_B + HX_BM25_B * (double)len[f] / a);
	}
	return s;
}

/* BM25 saturation of a weighted tf. */
static inline double hx_ix_sat(double tfn)
{
	return tfn <= 0 ? 0 : tfn * (HX_BM25_K1 + 1.0) / (tfn + HX_BM25_K1);
}

/* Field lengths and tfs are saturated like this in the index; the brute
 * force in the tests must do the same. */
static inline uint32_t hx_ix_sat16(uint32_t v)
{
	return v > 65535 ? 65535 : v;
}

#endif
