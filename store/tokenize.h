/*
 * tokenize.h: how text becomes search terms. Word segmentation (letters,
 * marks and digits form words; Han and Kana characters are words of their
 * own), folding (utf8proc NFKD + case folding + mark stripping, plus the
 * letters it does not decompose: ł→l ø→o æ→ae œ→oe đ→d ð→d þ→th ß→ss) and
 * stemming per language with a cache (Snowball, Hunspell lemmas, ASCII
 * spellings such as oe for ö; stem_langs in tokenize.c says which are used
 * for each language). The index and the query parser both go through here, so that a query term and
 * an indexed word always fold the same way. Changing any rule here needs HX_INDEX_SCHEMA bumped.
 */
#ifndef HX_TOKENIZE_H
#define HX_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>
#include "proto/hx.h"

/* Longest folded token in bytes; longer words are cut at a character
 * boundary (the same cut applies to query words, so they still match). */
#define HX_TOKEN_MAX 60

typedef struct hx_token {
	const char *word; /* folded, NUL-terminated; valid until the next call */
	size_t len;
	size_t start, end; /* byte range of the word in the source text */
	uint32_t pos;      /* 0, 1, 2, ... per tokenizer */
} hx_token;

typedef struct hx_tokenizer {
	const uint8_t *s;
	size_t len, off;
	uint32_t pos;
	char buf[HX_TOKEN_MAX + 8];
} hx_tokenizer;

/* Starts tokenizing len bytes of s (UTF-8; invalid bytes separate words).
 * The tokenizer borrows s. */
void hx_tok_init(hx_tokenizer *t, const char *s, size_t len);
/* Fills tok with the next word: 1 when there is one, 0 at the end. */
int hx_tok_next(hx_tokenizer *t, hx_token *tok);

/* Folds a whole string the same way as words (case, marks, special
 * letters) but keeps every other character, and collapses runs of white
 * space to one space, trimmed: for filter values such as org names and tags.
 * Writes at most cap-1 bytes and a NUL into out; returns the length
 * written (input that does not fit is dropped at a character boundary). */
size_t hx_fold_str(char *out, size_t cap, const char *s, size_t len);

/* ---- stemming ---------------------------------------------------------- */

typedef struct hx_stemmers hx_stemmers;

/* A set of stemmers with a cache of stems, for one thread (the Hunspell
 * dictionaries behind it are loaded once per process and shared).
 * Free with hx_stemmers_free. */
int hx_stemmers_new(hx_stemmers **out) HX_WUR;
void hx_stemmers_free(hx_stemmers **st);

/* The stemming language of an entry language tag ("en", "de-AT", "nb",
 * ...): a small index >= 0, or -1 when hansa has no stemmer for it (et,
 * and languages neither Snowball nor an installed Hunspell dictionary
 * covers). */
int hx_stem_lang(const char *lang);
/* The short code that names stemming language idx in index keys ("en"). */
const char *hx_stem_lang_code(int idx);
/* Number of stemming languages (idx ranges over 0..n-1). */
int hx_stem_lang_count(void);
/* 1 when language idx is stemmed through a Hunspell dictionary (slow to
 * load): the index keeps the stems of its words (ix.wstem). */
int hx_stem_lang_dict(int idx);

/* Where a set of stemmers looks for a word's stem before it goes to a
 * Hunspell dictionary (language idx has one): fills out (cap bytes, NUL
 * terminated) with the stem the index keeps for the folded word w in
 * language idx and returns its length; returns 0 when the index knows
 * the word only in other languages (the stemmers then stem it without
 * the dictionary, so that a search for words the index knows never loads
 * one), and -1 when the index does not know the word at all. */
typedef int (*hx_stem_lookup)(void *arg, int idx, const char *w, size_t len, char *out, size_t cap);
void hx_stemmers_set_lookup(hx_stemmers *st, hx_stem_lookup fn, void *arg);

/* Stems a folded word in language idx (with the lookup when one is set:
 * see hx_stemmers_set_lookup). Returns the stem (NUL-terminated,
 * *outlen bytes), borrowed from st and valid until st is freed; NULL on
 * allocation failure. The stem is folded again, so it is a valid term. */
const char *hx_stem(hx_stemmers *st, int idx, const char *word, size_t len, size_t *outlen);

#define HX_STEM_LANGS_MAX 32
/* Tells st that the index behind its lookup has changed: the records of
 * hx_stem_langs made before are not used again. */
void hx_stemmers_index_changed(hx_stemmers *st);
/* Stems of a folded word in each of n languages (langs[], at most
 * HX_STEM_LANGS_MAX, each as for hx_stem) into stems[i] (NUL-terminated,
 * lens[i] bytes): the same stems as n calls of hx_stem, kept as one
 * record for as long as the index does not change
 * (hx_stemmers_index_changed). Borrowed from st, valid until the next
 * call on st. 0, or -1 on allocation failure or a bad argument. */
int hx_stem_langs(hx_stemmers *st, const int *langs, int n, const char *w, size_t len,
                  const char **stems, size_t *lens) HX_WUR;

#endif
