/*
 * query.h: the search query language, parsed into clauses. Words are
 * ANDed; "exact phrase", prefix*, -excluded, a OR b, (groups); filters tag: kind:
 * lang: org: country: author: (a trailing * matches a prefix of the value)
 * and since:YYYY-MM-DD until:YYYY-MM-DD. Words are folded by the search
 * tokenizer, so a query and the index always agree on what a word is. A bad
 * query gets one line of explanation and HX_EINVAL; nothing here does I/O.
 */
#ifndef HX_QUERY_H
#define HX_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include "proto/hx.h"

#define HX_QUERY_MAX 4096   /* bytes of query text */
#define HX_QUERY_CLAUSES 32 /* clauses, alternatives per OR, words per phrase */

enum hx_q_kind {
	HX_Q_WORD,   /* one word: stemmed and exact forms match */
	HX_Q_PHRASE, /* words in sequence, exact forms only */
	HX_Q_PREFIX, /* exact words starting with the text */
};

typedef struct hx_q_text {
	int kind;
	char **words; /* folded tokens; 1 for WORD and PREFIX */
	size_t nwords;
	size_t src_start, src_end; /* byte span in the query (for did-you-mean) */
} hx_q_text;

enum hx_q_field {
	HX_QF_TAG,
	HX_QF_KIND,
	HX_QF_LANG,
	HX_QF_ORG,
	HX_QF_COUNTRY,
	HX_QF_AUTHOR,
};

typedef struct hx_q_filter {
	int field;
	char *value; /* folded (author: lower-case hex) */
	int prefix;  /* value ended with '*' */
} hx_q_filter;

/* One clause: the OR of its alternatives, all text or all filters. */
typedef struct hx_q_clause {
	int negated;
	hx_q_text *text;
	size_t ntext;
	hx_q_filter *filters;
	size_t nfilters;
} hx_q_clause;

typedef struct hx_query {
	hx_q_clause *clauses;
	size_t nclauses;
	uint32_t since_day1, until_day1; /* days since 1970-01-01 plus 1; 0 = none */
} hx_query;

/* Parses q into *out (free with hx_query_free). On a bad query returns
 * HX_EINVAL (or HX_ENOMEM) with one line of explanation in err. */
int hx_query_parse(hx_query **out, const char *q, char *err, size_t errlen) HX_WUR;
void hx_query_free(hx_query **q);

/* Name of a filter field ("tag", ...) for messages and index keys. */
const char *hx_q_field_name(int field);

/* Days since 1970-01-01 of a valid Gregorian date. */
int64_t hx_days_from_civil(int y, int m, int d);

#endif
