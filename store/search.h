/*
 * search.h: full-text search over the store's index, for the CLI and the
 * benchmarks. A query (store/query.h) is ranked with BM25F (title above
 * tags above body, exact forms above stems) and evaluated document at a
 * time with block-max pruning, so the top results of a common word cost
 * little more than those of a rare one. Results carry a snippet of the body
 * with the matched words' byte ranges and optional facet counts over all
 * matches. A query that finds nothing (or little, through another
 * language's stems) is corrected and run again when a correction finds
 * more; a document and its translations (metadata translation_of) come
 * back as one hit, in the query's language.
 */
#ifndef HX_SEARCH_H
#define HX_SEARCH_H

#include "store/store.h"

typedef struct hx_searcher hx_searcher;

typedef struct hx_search_opts {
	size_t limit;  /* results wanted; 0 means 10 */
	size_t offset; /* skip this many first */
	int facets;    /* count tags, kinds, languages, countries of all matches */
	int no_snippets;
	int no_suggest;   /* no typo correction and no did-you-mean */
	int no_proximity; /* BM25F alone, no re-rank (proximity, title as typed; tests compare
	                     the ranking with a model of it) */
} hx_search_opts;

typedef struct hx_range {
	size_t start, end; /* bytes of the snippet */
} hx_range;

typedef struct hx_hit {
	size_t rank; /* 1-based, offset included */
	double score;
	uint8_t id[HX_ID_LEN];
	uint8_t author[HX_KEY_LEN];
	char *path, *title, *kind, *lang;
	char *org; /* metadata "org"; NULL when absent */
	uint64_t timestamp;
	char *snippet; /* plain text, one line */
	char *file;    /* the attachment where the words are (the snippet comes
	                  from it when page is set); NULL: in the entry itself */
	uint32_t page; /* 1-based page of file; 0: none (a name match, or a
	                  format without pages) */
	hx_range *hl;  /* matched words in the snippet */
	size_t nhl;
	char **also_in; /* languages of its translations that
	                   also matched, collapsed into this hit */
	size_t nalso;
} hx_hit;

typedef struct hx_facet {
	char *value;
	uint64_t count;
} hx_facet;

typedef struct hx_facet_group {
	const char *name; /* "tag", "kind", "lang", "country" */
	hx_facet *v;      /* by count, largest first */
	size_t n;
} hx_facet_group;

#define HX_FACET_GROUPS 4

typedef struct hx_results {
	hx_hit *hits;
	size_t nhits;
	uint64_t total; /* all matches; exact only when total_exact */
	int total_exact;
	hx_facet_group facets[HX_FACET_GROUPS];
	size_t nfacets;
	char **suggest; /* no hits: whole corrected queries, best first */
	size_t nsuggest;
	char *corrected; /* non-NULL: the hits are those of this
	                    corrected query, not of the one typed */
	char *instead;   /* then: the query as typed, its corrected
	                    words quoted, to search as typed */
} hx_results;

/* Ranking constants: BM25F's k1 and b, the field weights (title, tags,
 * body) and the exact-form boost (the share of a word's exact-form tf
 * added again to the tf of all its forms); then the two factors of the
 * re-rank of a multi-word query's best candidates (store/ix_prox.c). */
typedef struct hx_rank {
	double k1, b, w[4], exact; /* w: title, tags, body, files (HX_NFIELDS) */
	double prox;               /* proximity boost of all query words side by side */
	double title_exact;        /* boost of a title holding every query word as typed */
} hx_rank;

/* The constants every search uses (those the index's block bounds are
 * computed with; store/ix_int.h says how they were chosen). */
void hx_rank_default(hx_rank *r);

/* A searcher holds a read transaction slot, stemmers and caches for one
 * thread; it sees the store as of the start of each search. */
int hx_searcher_new(hx_searcher **out, hx_store *s) HX_WUR;
void hx_searcher_free(hx_searcher **sr);
/* The language a document and its translations are shown in ("da"; NULL
 * or "": the query's language when it is clear). HX_EINVAL when too long. */
int hx_searcher_set_lang(hx_searcher *sr, const char *lang) HX_WUR;

/*
 * Runs query. On success fills *res (free with hx_results_clear). A bad
 * query gives HX_EINVAL with one line of explanation in err; an index that
 * needs a rebuild gives HX_EVERSION.
 */
int hx_search(hx_searcher *sr, const char *query, const hx_search_opts *opts, hx_results *res,
              char *err, size_t errlen) HX_WUR;
void hx_results_clear(hx_results *res);

/* For benchmarks (tuning the constants): sr ranks with r from its next
 * search on. Where b or a weight differs from the defaults, the block
 * bounds stored in the index no longer hold, so sr evaluates without
 * skipping blocks: slower, same results. */
void hx_searcher_set_rank(hx_searcher *sr, const hx_rank *r);

/* For tests: the docnum order tie-break of a hit is the order in which its
 * version was indexed. Exposed so a brute-force model can rank alike. */
int hx_search_docnum(hx_searcher *sr, const uint8_t id[HX_ID_LEN], uint32_t *doc) HX_WUR;

/* The typo index the searcher holds (built at the first search that needs
 * a correction): its words and bytes; zeroes when not built. */
void hx_searcher_typo_index(const hx_searcher *sr, size_t *words, size_t *bytes);

/* Bytes of LMDB pages held by the search index's tables and by every
 * table of the store (for benchmarks and status). */
int hx_search_sizes(hx_store *s, uint64_t *index_bytes, uint64_t *store_bytes) HX_WUR;

#endif
