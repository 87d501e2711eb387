/*
 * lemma.h: Hunspell lemmas for words that are already folded (no
 * diacritics, lower case), for the languages Snowball has no stemmer for
 * (pl, lv, et) and to mend Snowball where it leaves a word's forms apart
 * (sv, de). Hunspell's dictionaries are written with diacritics, so the
 * dictionary is folded the way the tokenizer folds words before Hunspell
 * loads it: then `ksiazki` (typed without diacritics) and `książki` (folded
 * at indexing) both find the lemma `ksiazka`. Internal to store/.
 */
#ifndef HX_LEMMA_H
#define HX_LEMMA_H

#include <stddef.h>

typedef struct hx_lemma hx_lemma;

/* Loads the Hunspell dictionary NAME ("pl_PL") from the system's
 * dictionary folders (or $HANSA_HUNSPELL_DIR), folded. NULL when it is not
 * installed or cannot be read. Free with hx_lemma_free. */
hx_lemma *hx_lemma_open(const char *name);
void hx_lemma_free(hx_lemma **lm);

/* The lemma of the folded word w (len bytes) into out (cap bytes, NUL
 * terminated); returns its length, or 0 when Hunspell does not know the
 * word (or its lemma does not fit). When a word has several lemmas, the
 * smallest in byte order of those that begin with the word's first three
 * letters is taken: a rule that does not depend on the dictionary's
 * internal order, that gives the forms of one word one lemma even when
 * folding made their sets differ (ksiazki: ksiazek ksiazka ksiazki;
 * ksiazka: ksiazek ksiazka), and that keeps a compound whole (Swedish
 * sakerhetsalternativen: sakerhetsalternativ, not alternativ). Where
 * Swedish Hunspell gives a base-form compound's first part alone, the
 * compound is its own lemma (programmeny: not program). */
size_t hx_lemma_get(hx_lemma *lm, const char *w, size_t len, char *out, size_t cap);

/* Calls of hx_lemma_open and hx_lemma_get so far in this process (the
 * callers hold tokenize.c's lock), so that tests can prove a search did
 * not go to Hunspell. */
extern unsigned long hx_lemma_calls;

#endif
