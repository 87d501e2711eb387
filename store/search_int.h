/*
 * search_int.h: the searcher's internals, shared by the files that make up
 * search (store/search.c and the files it calls): the searcher, posting
 * list cursors (ix_cursor.c), matchers (built in ix_mbuild.c, moved and
 * scored in ix_match.c), evaluation and facets (ix_eval.c), snippets
 * (snippet.c) and did-you-mean (suggest.c). The calls go one way:
 * search.c -> suggest, snippet, ix_eval -> ix_mbuild -> ix_match ->
 * ix_cursor. Nothing outside store/ includes this file.
 */
#ifndef HX_SEARCH_INT_H
#define HX_SEARCH_INT_H

#include <roaring/roaring.h>
#include "store/store_int.h"
#include "store/ix_int.h"
#include "store/query.h"
#include "store/search.h"

#define END UINT32_MAX /* no (more) docnum */

struct doctext;
struct hx_sugix;
struct hx_sfilter;

/* Parsed entries of the current read transaction, in any slot, the
 * oldest replaced (a search reads its best candidates up to three times:
 * proximity, translations, hits; a large entry is decompressed once).
 * A view handed out by hx_sr_doc stays valid for at least
 * HX_SR_DBUFS further calls: the decompressed bytes behind an evicted slot
 * (buf) wait in dbuf before they are freed. */
#define HX_VIEW_CACHE 16
#define HX_SR_DBUFS 4
struct hx_vcache {
	uint32_t doc; /* END: empty */
	const uint8_t *id;
	hx_ix_view v;
	uint8_t *buf; /* decompressed entry behind v, or NULL (v points into the txn) */
};

/* ix.docs records of the current read transaction (they point into its
 * memory): a candidate's is read for the re-rank, the translation check
 * and its hit. */
#define HX_HIT_CACHE 16
struct hx_hcache {
	uint32_t doc; /* END: empty */
	hx_ix_hit h;
};

#define HX_SR_INMEMO 16 /* query words a search remembers for hx_sr_in_langs */

struct hx_searcher {
	hx_store *s;
	struct hx_index *ix;
	MDB_txn *txn;
	hx_stemmers *stem;
	hx_ix_stats st;
	double avg[HX_NFIELDS];
	double F;               /* scales stored block bounds to avg[] */
	int langs[HX_IX_NLANG]; /* stemming languages with documents */
	int nlangs;
	uint32_t nchunk; /* cached ix.norms chunk */
	const uint8_t *nbuf;
	size_t nlen;
	uint32_t ndoc; /* the last norm record read */
	hx_ix_norm nlast;
	struct doctext *dtx;   /* text of the document being checked */
	struct hx_sugix *sx;   /* the typo index, built at second need */
	struct hx_sfilter *sf; /* the stem dictionary's filter (ix_sfilter.c) */
	int sf_failed;         /* it could not be built for these stats */
	unsigned nbegin;  /* read transactions begun, up to 2; 1 again when the index changed */
	MDB_cursor *pcur; /* ix.post, for the next list opened (hx_pl_open) */
	MDB_cursor *scur; /* ix.stem, for the stem dictionary (ix_mbuild.c) */
	/* decompressed entries of evicted cache slots, freed in turn */
	uint8_t *dbuf[HX_SR_DBUFS];
	uint8_t *hbuf; /* the last entry's start read alone (hx_sr_head) */
	unsigned dnext;
	unsigned vnext;             /* vc: the slot filled next (the oldest) */
	unsigned ncorrect;          /* corrections looked for */
	char lang[HX_LANG_MAX + 1]; /* preferred language, "" = the query's */
	struct hx_vcache vc[HX_VIEW_CACHE];
	struct hx_hcache hc[HX_HIT_CACHE];
	unsigned hnext; /* hc: the slot filled next (the oldest) */
	/* each docnum's stemming language, filled one ix.norms chunk at a
	 * time at first need (hx_sr_lang) and kept while the index stats stay
	 * as they were (dst): a word's lists are checked against it document
	 * by document, and a byte array is read faster than the records */
	int8_t *dlang;
	uint32_t *dgmask; /* per HX_SR_GROUP docnums: their languages' bits */
	uint8_t *dfilled; /* per chunk: dlang and dgmask hold it */
	uint32_t dchunks; /* chunks dlang covers (0: none, read the records) */
	/* per language (with documents), per group: its documents' bits */
	uint64_t *dbits[32];
	hx_ix_stats dst;
	hx_rank rk;    /* ranking constants (hx_rank_default) */
	int rk_noskip; /* rk's w or b differ from the index's */
	/* Per search (begin clears it): what the stem dictionary's walks of
	 * the matchers found of each query word, by language id: bit lang of
	 * asked, the word's own stem group was walked; of known, the word
	 * itself is in it (hx_sr_in_lang's answer, which hx_sr_in_langs then
	 * takes from here instead of a look-up). */
	struct hx_sr_inmemo {
		char w[HX_TOKEN_MAX + 1];
		uint32_t asked, known;
	} inm[HX_SR_INMEMO];
	unsigned ninm;
};

/* BM25F under the searcher's constants: the weighted, length-normalised
 * tf of one document (hx_ix_tfn) and its saturation (hx_ix_sat). */
static inline double hx_sr_tfn(const hx_searcher *sr, const double tf[HX_NFIELDS],
                               const uint32_t len[HX_NFIELDS])
{
	double s = 0;
	for (int f = 0; f < HX_NFIELDS; f++) {
		if (tf[f] <= 0)
			continue;
		double a = sr->avg[f] > 0 ? sr->avg[f] : 1.0;
		s += sr->rk.w[f] * tf[f] / (1.0 - sr->rk.b + sr->rk.b * (double)len[f] / a);
	}
	return s;
}
static inline double hx_sr_sat(const hx_searcher *sr, double tfn)
{
	return tfn <= 0 ? 0 : tfn * (sr->rk.k1 + 1.0) / (tfn + sr->rk.k1);
}

/* ---- posting list cursors and document reads (ix_cursor.c) ---------------- */

struct plist {
	MDB_cursor *cur; /* NULL: the term has one block (no header), read */
	char term[HX_IX_KEY_MAX];
	size_t tl;
	uint32_t df;
	uint32_t bfirst, blast; /* current block */
	float bbound;
	/* The block is decoded lazily, one posting at a time up to the one
	 * sought (most seeks land early in a block, or skip it whole): pp is
	 * where the next posting starts, np how many are read (0: none, doc
	 * is the block's first from its key), tf the tfs of the current one. */
	const uint8_t *pp, *pend;
	int n, np;
	uint32_t doc; /* current docnum, END when exhausted */
	int err;
	uint32_t tf[HX_NFIELDS];
};

/* Opens the list of term; NULL when it has no postings (or on error,
 * with *err set). Close with hx_pl_close. */
struct plist *hx_pl_open(hx_searcher *sr, const char *term, size_t tl, int *err);
void hx_pl_close(struct plist **pl);
/* Moves to the first posting with docnum >= d (END when none). */
void hx_pl_seek(struct plist *pl, uint32_t d);
/* The tfs of the current posting (zeroes on a corrupt block). */
const uint32_t *hx_pl_tf(struct plist *pl);

/* hx_ix_term_lookup in the searcher's read transaction (through a cursor
 * it keeps for the transaction). */
int hx_sr_term(hx_searcher *sr, const char *term, size_t tl, hx_ix_term *ti) HX_WUR;
/* The norm record of doc (cached per ix.norms chunk); zeroes when absent. */
int hx_sr_norm(hx_searcher *sr, uint32_t doc, hx_ix_norm *nm);
/* hx_sr_norm(sr, doc, ...)'s lang alone, without decoding the record. */
int hx_sr_lang(hx_searcher *sr, uint32_t doc);
/* The first docnum >= d whose stemming language is one of mask (bit l:
 * language l), found by groups of HX_SR_GROUP docnums (a mask of their
 * languages, then a bit per document of each); end when none is below
 * end (d when the languages are not at hand). Never skips a document of
 * such a language. */
#define HX_SR_GROUP 64
uint32_t hx_sr_lang_skip(hx_searcher *sr, uint32_t d, uint32_t mask, uint32_t end);
/* Drops the languages hx_sr_lang keeps when sr->st (just read) differs
 * from the stats they were read under; hx_sr_langs_free frees them. */
void hx_sr_langs_sync(hx_searcher *sr);
void hx_sr_langs_free(hx_searcher *sr);
/* Whether the folded word w occurs in a document of stemming language
 * lang (its stem dictionary has it). */
int hx_sr_in_lang(hx_searcher *sr, int lang, const char *w, size_t wl);
/* hx_sr_in_lang in each of the searcher's languages (in[i] for
 * sr->langs[i]), with the word's stems in all of them made or found at
 * once (hx_stem_langs); HX_ENOMEM when they cannot be. */
int hx_sr_in_langs(hx_searcher *sr, const char *w, size_t wl, int in[HX_IX_NLANG]) HX_WUR;
/* Notes what the walks of w's own stem groups found, by language id (bit
 * lang of asked: walked; of known: w is in it), for hx_sr_in_langs;
 * nothing when the memo is full. */
void hx_sr_in_note(hx_searcher *sr, const char *w, size_t wl, uint32_t asked, uint32_t known);
/* The searcher's hx_stem_lookup (arg is the searcher; tokenize.h): the
 * stem ix.wstem keeps for a word, read in the current read transaction;
 * 0 when the word has postings (another language's word), -1 when it
 * has none. */
int hx_sr_stem_lookup(void *arg, int lang, const char *w, size_t wl, char *out, size_t cap);
/* The stored entry behind a docnum, as a view into the transaction's
 * memory or, for a compressed value, into a buffer of sr valid for the
 * next HX_SR_DBUFS calls at least; id (when not NULL) gets its id. */
int hx_sr_doc(hx_searcher *sr, uint32_t doc, hx_ix_view *v, const uint8_t **id) HX_WUR;
/* The start of the entry behind doc: its fields up to the body and of the
 * body at least what the entry's first want bytes hold (the whole entry
 * when it is short, written in one block by an older hansa, or in the
 * entry cache), valid until the next call; *cut 1 when the body goes on
 * past what v holds. */
int hx_sr_head(hx_searcher *sr, uint32_t doc, size_t want, hx_ix_view *v, int *cut) HX_WUR;
/* The ix.docs record of doc (the fields a hit shows; no entry read),
 * valid until the read transaction ends. HX_ECORRUPT when absent or
 * malformed. */
int hx_sr_hit(hx_searcher *sr, uint32_t doc, hx_ix_hit *h) HX_WUR;
/* Empties the entry cache (freeing its bytes) and the ix.docs record cache
 * (a new read transaction). */
void hx_sr_vc_clear(hx_searcher *sr);

/* ---- the stem dictionary's filter (ix_sfilter.c) ------------------------------ */

/* 0 when the stem dictionary has no key starting with the kl bytes of key
 * ("code:stem", the part before the 00) and ix.wstem has no key key
 * ("code:word"), 1 when it may. Builds the filter at the searcher's
 * second read transaction. */
int hx_sr_stem_maybe(hx_searcher *sr, const char *key, size_t kl);
/* Frees the filter (a new one is built at next need, for new stats). */
void hx_sfilter_free(struct hx_sfilter **pf);

/* ---- matchers (built in ix_mbuild.c, moved and scored in ix_match.c) ------- */

enum { M_TERM, M_PREFIX, M_AND, M_OR };

#define TERM_LISTS 256 /* forms of one word across languages; more are ignored */
_Static_assert(TERM_LISTS <= 256, "a list's index fits the byte of matcher.at[]");

struct matcher {
	int kind;
	uint32_t doc;
	double idf, ub;
	uint32_t df; /* estimate, for ordering */
	hx_searcher *sr;
	/* M_TERM: the exact word's list and the lists of the other words
	 * with its stem (l[], lmask[]: last, as only the first nl are set) */
	int exact_only;
	int nl, qi;     /* qi: the exact word's list, or -1 */
	int unsure;     /* doc is a bound of the next candidate (hx_m_step, hx_m_start) */
	uint32_t atdoc; /* M_TERM: at[] holds the nat lists at this docnum */
	int nat;
	uint32_t tfdoc; /* tf[] holds the weighted tfs of this docnum */
	double tf[HX_NFIELDS];
	/* M_PREFIX: materialized (docnum, score), sorted */
	uint32_t *pdocs;
	double *pscore, *pbmax; /* pbmax per HX_IX_BLOCK entries */
	size_t pn, pi;
	/* M_AND (a phrase) and M_OR */
	struct matcher **kids;
	int nkids;
	char **words; /* phrase words to check, when nwords > 1 */
	size_t nwords;
	int qc; /* the query clause it was built for (hx_eval_build) */
	/* M_TERM: the lists, and lmask[i] the languages in which list i is a
	 * form; m_new clears the fields above them only (3.5 kB a matcher) */
	struct plist *l[TERM_LISTS];
	uint32_t lmask[TERM_LISTS];
	/* the lists whose current docnum is atdoc, in list order (nat of
	 * them; term_advance keeps them): a word's scoring and language
	 * checks read these alone instead of all its forms' lists */
	uint8_t at[TERM_LISTS];
};

/* A word: its exact list, and unless exact_only the lists of the words
 * that share its stem in each indexed language. NULL with *err == 0 when
 * nothing matches. */
struct matcher *hx_m_word(hx_searcher *sr, const char *word, int exact_only, int *err);
/* A clause: one matcher, or an OR of several. NULL with *err == 0 when
 * nothing can match. Free with hx_m_free. */
struct matcher *hx_m_clause(hx_searcher *sr, const hx_q_clause *c, int *err);
void hx_m_free(struct matcher **pm);
/* The first error a list of m ran into, or HX_OK. */
int hx_m_err(const struct matcher *m);
/* Moves m to its first candidate docnum >= d (phrases unchecked). */
void hx_m_next(struct matcher *m, uint32_t d);
/* hx_m_next, but a word stops after one document that does not count,
 * with m->unsure set and m->doc a docnum below which it has none; the
 * next hx_m_step or hx_m_next goes on from there. */
void hx_m_step(struct matcher *m, uint32_t d);
/* Starts a matcher just built (for ix_mbuild.c): a word unsure at its
 * lists' least docnum (as hx_m_step leaves it), any other at its first
 * candidate. */
void hx_m_start(struct matcher *m);
/* The score at m->doc, phrases not yet checked. */
double hx_m_score(hx_searcher *sr, struct matcher *m);
/* An upper bound of m's score over docnums [m->doc, *upto]. */
double hx_m_bound(hx_searcher *sr, struct matcher *m, uint32_t *upto);
/* 0 when m (a word) has no form at m->doc in the body, as far as its
 * lists say: none of them is at d with a body tf (the proximity re-rank
 * then need not read the body for it); 1 when it may (also whenever m is
 * no single word, or some of its forms were left out: TERM_LISTS). */
int hx_m_in_body(struct matcher *m, uint32_t d);
/* Whether m holds a phrase to check on the document text. */
int hx_m_needs_text(const struct matcher *m);
/* Checks phrases at m->doc: 1 when m really matches there, with its score
 * in *score; 0 when not; negative on error. */
int hx_m_verify(hx_searcher *sr, struct matcher *m, double *score);

/* The cached text of the document being checked (owned by the searcher). */
void hx_doctext_reset(struct doctext *d);
void hx_doctext_free(struct doctext **pd);

/* ---- evaluation and facets (ix_eval.c) ------------------------------------ */

struct cand {
	double score;
	uint32_t doc;
	uint32_t body; /* bit i: query clause i may match in the body (hx_m_in_body) */
};
/* qsort order of candidates: the best first (ix_eval.c). */
int hx_cand_cmp(const void *a, const void *b);

/* ---- the proximity boost (ix_prox.c) ---------------------------------------- */

/* Candidates re-ranked: the first page. The best 10 by BM25F are the
 * same whatever k is (ties go to the lower docnum), so a page's order
 * does not depend on the page size, and a first page is no dearer. */
#define HX_PROX_DEPTH 10
#define HX_PROX_W 0.1      /* boost of all query words side by side (ix_int.h: tuning) */
#define HX_TITLE_EXACT 0.2 /* boost of a title with every query word as typed (same) */
/* Re-ranks the best HX_PROX_DEPTH of the n sorted candidates of q (two
 * query words or more) by how near their words are in the title or the
 * start of the body, and whether the title holds them all as typed; the
 * list stays sorted. */
int hx_prox_rerank(hx_searcher *sr, const hx_query *q, struct cand *heap, size_t n) HX_WUR;

/* The words of a field the re-rank looks at: the tokens of hx_tok_next
 * (the same words, positions and byte ranges) whose first folded byte b
 * has bit b of want set, up to the word at position limit; the others are
 * counted, not folded. */
typedef struct hx_pscan {
	hx_tokenizer t;
	uint64_t want[4];
	uint32_t limit;
	size_t stop; /* after the end: where the word at limit starts, else the length */
} hx_pscan;
/* Starts scanning len bytes of s (borrowed). */
void hx_pscan_init(hx_pscan *p, const char *s, size_t len, const uint64_t want[4], uint32_t limit);
/* The next wanted word into k (its word valid until the next call): 1, or
 * 0 at the end or at limit. */
int hx_pscan_next(hx_pscan *p, hx_token *k);

struct eval {
	struct matcher *cl[HX_QUERY_CLAUSES];
	int ncl;
	struct matcher *ex[HX_QUERY_CLAUSES];
	int nex;
	roaring_bitmap_t *pos; /* documents allowed by the filters, or NULL */
	roaring_bitmap_t *neg; /* documents excluded by filters, or NULL */
	roaring_uint32_iterator_t *posit;
	uint32_t since1, until1;
	int impossible; /* a clause matches nothing */
};

/* Builds the matchers and filter bitmaps of q (free with hx_eval_free,
 * also on error). */
int hx_eval_build(hx_searcher *sr, const hx_query *q, struct eval *ev);
void hx_eval_free(struct eval *ev);
/* Runs the text clauses: the best k into heap (sorted on return), every
 * match into all when it is given (then no pruning), the count in *total. */
int hx_eval_run(hx_searcher *sr, struct eval *ev, size_t k, struct cand *heap, size_t *nheap,
                roaring_bitmap_t *all, uint64_t *total);
/* Queries of filters and dates only: the most recently indexed first. */
int hx_eval_filters(hx_searcher *sr, struct eval *ev, size_t k, struct cand *heap, size_t *nheap,
                    roaring_bitmap_t *all, uint64_t *total);
/* Facet counts of tag, kind, lang and country over the matches in all. */
int hx_facets(hx_searcher *sr, const roaring_bitmap_t *all, hx_results *res);

/* ---- snippets (snippet.c) ------------------------------------------------- */

/* Fills h->snippet and h->hl: one line of e's body around the densest run
 * of q's words, Markdown markup left out. */
int hx_snippet(hx_searcher *sr, const hx_query *q, const hx_ix_view *e, hx_hit *h);

/* ---- typos (suggest.c) ---------------------------------------------------- */

typedef struct hx_correction {
	char *query;   /* the corrected query text */
	char *instead; /* the query as typed, corrected words quoted so that
	                  it runs uncorrected */
} hx_correction;

#define HX_CORRECTIONS 3

/*
 * Corrected queries for q (typed as qtext), best first, into alt (which
 * the caller zeroes and frees, every entry, also on error): with the words
 * that have no exact form replaced by their nearest indexed words; or,
 * when every word is known and some is 0 (nothing matched), with one word
 * at a time replaced, the rarest first. lang (a stemming language, or -1)
 * favours words of that language. Builds the typo index when the
 * searcher has none or the index changed since.
 */
int hx_corrections(hx_searcher *sr, const char *qtext, const hx_query *q, int lang, int some,
                   hx_correction alt[HX_CORRECTIONS], int *nalt);
void hx_sugix_free(struct hx_sugix **px);
/* The optimal string alignment distance (Damerau-Levenshtein, a byte
 * edited at most once) between a (la bytes, 1..64; -1 when longer) and
 * b, from a's byte masks: hx_osa_peq sets bit i of peq[c] where a[i] is
 * c. */
void hx_osa_peq(uint64_t peq[256], const char *a, size_t la);
int hx_osa_distance(const uint64_t peq[256], size_t la, const char *b, size_t lb);
/* Words and bytes held by the typo index (0 when not built), for benchmarks. */
void hx_sugix_size(const hx_searcher *sr, size_t *words, size_t *bytes);

#endif
