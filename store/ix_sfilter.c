/*
 * ix_sfilter.c: a Bloom filter of the stem dictionary's (language, stem)
 * pairs and of the words of ix.wstem (language, word: a key of the same
 * shape, "code:" and the bytes), kept in memory by a searcher. A query word is looked up in the
 * stem dictionary once per indexed language (and twice more in English),
 * a B-tree descent each, and for a rare word most languages have no word
 * with its stem: the filter says so without the descent (a Bloom filter
 * has no false negatives, so the forms found are the same); so are the
 * look-ups of a word in ix.wstem (the languages stemmed through Hunspell,
 * asked of every query word and of typo candidates), most of which find
 * nothing. A stem and a word that are the same bytes in one language
 * share a key: the filter then says "maybe" for both, and the descent
 * answers. Built from
 * ix.stem at the first search that finds the index stats as the search
 * before it did (the searcher's second, when the index is still: a
 * one-shot CLI search never pays for it, nor does every search of an
 * index that changes between them; about 25 ms of reading at 300,000
 * keys), dropped when the index stats change; 10 bits or more and 6
 * probes a pair, all six in one cache line (a blocked filter lets a few
 * more absent pairs through than a plain one of the same size: they
 * descend and find nothing). Written by hand: a few lines, and no Debian
 * library offers a Bloom filter over LMDB keys.
 */
#include <stdlib.h>
#include <string.h>
#include "store/search_int.h"

#define SF_BITS_PER_KEY 10
#define SF_PROBES 6

struct hx_sfilter {
	uint64_t *bits;
	uint64_t mask; /* blocks - 1 (a power of two) */
};

/* murmur3's finaliser: the probes' offsets from a key's hash (the
 * block comes from the hash itself, hx_ix_hash). */
static uint64_t sf_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Blocked: every probe of a key falls in one block of 512 bits (a cache
 * line), chosen by the hash's low bits; the probes' 9-bit offsets come
 * from a second mix. One line read per key instead of six. */
#define SF_BLOCK_WORDS 8
static const uint64_t *sf_block(const struct hx_sfilter *f, uint64_t h)
{
	return f->bits + (h & f->mask) * SF_BLOCK_WORDS;
}

static void sf_add(struct hx_sfilter *f, const char *s, size_t n)
{
	uint64_t h = hx_ix_hash(s, n), p = sf_mix(h ^ 0x2545f4914f6cdd1dull);
	uint64_t *b = (uint64_t *)sf_block(f, h);
	for (int i = 0; i < SF_PROBES; i++, p >>= 9)
		b[(p & 511) >> 6] |= 1ull << (p & 63);
}

static int sf_has(const struct hx_sfilter *f, const char *s, size_t n)
{
	uint64_t h = hx_ix_hash(s, n), p = sf_mix(h ^ 0x2545f4914f6cdd1dull);
	const uint64_t *b = sf_block(f, h);
	for (int i = 0; i < SF_PROBES; i++, p >>= 9)
		if (!(b[(p & 511) >> 6] & (1ull << (p & 63))))
			return 0;
	return 1;
}

void hx_sfilter_free(struct hx_sfilter **pf)
{
	if (*pf) {
		free((*pf)->bits);
		free(*pf);
		*pf = NULL;
	}
}

/* Reads every key of ix.stem ("code:stem" 00 word) and adds each
 * distinct "code:stem", then every key of ix.wstem ("code:word"); NULL
 * when it cannot (then every pair is looked up). */
static struct hx_sfilter *sf_build(hx_searcher *sr)
{
	MDB_stat ms, mw;
	MDB_cursor *c;
	MDB_val k, v;
	if (mdb_stat(sr->txn, sr->ix->stem, &ms) || mdb_stat(sr->txn, sr->ix->wstem, &mw) ||
	    mdb_cursor_open(sr->txn, sr->ix->stem, &c))
		return NULL;
	uint64_t nbits = 64 * SF_BLOCK_WORDS;
	while (nbits < ((uint64_t)ms.ms_entries + mw.ms_entries) * SF_BITS_PER_KEY &&
	       nbits < (1ull << 34))
		nbits *= 2;
	struct hx_sfilter *f = calloc(1, sizeof *f);
	/* blocks on cache lines */
	if (f && !(f->bits = aligned_alloc(64, nbits / 8)))
		hx_sfilter_free(&f);
	if (f)
		memset(f->bits, 0, nbits / 8);
	const char *prev = NULL;
	size_t prevl = 0;
	int rc = MDB_NOTFOUND;
	if (f) {
		f->mask = nbits / (64 * SF_BLOCK_WORDS) - 1;
		while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))) {
			const char *kb = k.mv_data, *z = memchr(kb, 0, k.mv_size);
			size_t l = z ? (size_t)(z - kb) : k.mv_size;
			if (prev && l == prevl && !memcmp(prev, kb, l))
				continue; /* another word of the same stem */
			sf_add(f, kb, l);
			prev = kb; /* keys stay mapped for the transaction */
			prevl = l;
		}
	}
	mdb_cursor_close(c);
	if (f && rc == MDB_NOTFOUND) {
		if (mdb_cursor_open(sr->txn, sr->ix->wstem, &c)) {
			rc = -1;
		} else {
			while (!(rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)))
				sf_add(f, k.mv_data, k.mv_size);
			mdb_cursor_close(c);
		}
	}
	if (rc != MDB_NOTFOUND)
		hx_sfilter_free(&f);
	return f;
}

int hx_sr_stem_maybe(hx_searcher *sr, const char *key, size_t kl)
{
	if (!sr->sf && sr->nbegin >= 2 && !sr->sf_failed) {
		sr->sf = sf_build(sr);
		sr->sf_failed = !sr->sf;
	}
	return !sr->sf || sf_has(sr->sf, key, kl);
}
