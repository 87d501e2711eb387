/*
 * fuzz_query.c: libFuzzer target for the search query parser and the
 * tokenizer under it: any bytes must parse or be refused with one line of
 * explanation, never crash, leak or read out of bounds; a parsed query's
 * words are valid folded tokens.
 */
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz.h"
#include "store/query.h"
#include "store/tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1), err[256], fold[128];
	if (!q)
		return 0;
	memcpy(q, data, size);
	q[size] = 0;
	hx_query *pq = NULL;
	int rc = hx_query_parse(&pq, q, err, sizeof err);
	if (rc == HX_OK) {
		if (!pq)
			abort();
		for (size_t i = 0; i < pq->nclauses; i++) {
			const hx_q_clause *c = &pq->clauses[i];
			if (c->ntext + c->nfilters == 0 || (c->ntext && c->nfilters))
				abort();
			for (size_t j = 0; j < c->ntext; j++)
				for (size_t k = 0; k < c->text[j].nwords; k++) {
					size_t l = strlen(c->text[j].words[k]);
					if (l == 0 || l > HX_TOKEN_MAX)
						abort();
				}
		}
		hx_query_free(&pq);
	} else if (pq || !err[0] || strchr(err, '\n')) {
		abort(); /* errors leave nothing and say why in one line */
	}
	/* The tokenizer and folding on the raw bytes. */
	hx_tokenizer t;
	hx_token k;
	size_t prev_end = 0;
	hx_tok_init(&t, (const char *)data, size);
	while (hx_tok_next(&t, &k)) {
		if (k.len == 0 || k.len > HX_TOKEN_MAX || k.start < prev_end || k.end > size ||
		    k.start >= k.end)
			abort();
		prev_end = k.end;
	}
	if (hx_fold_str(fold, sizeof fold, (const char *)data, size) >= sizeof fold)
		abort();
	free(q);
	return 0;
}
