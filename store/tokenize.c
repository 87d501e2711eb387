/*
 * tokenize.c: word segmentation and stemming for the search index (see
 * tokenize.h); the folding of each character is fold.h's. ASCII, the bulk
 * of most text, takes a fast path that gives the same result. Stems come
 * from libstemmer (or a Hunspell lemma, lemma.c) behind a per-thread cache,
 * since most words repeat and a Snowball run costs far more than a hash
 * lookup.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <libstemmer.h>
#include <pthread.h>
#include "store/fold.h"
#include "store/tokenize.h"
#include "store/lemma.h"

/* ---- tokenizer --------------------------------------------------------- */

void hx_tok_init(hx_tokenizer *t, const char *s, size_t len)
{
	t->s = (const uint8_t *)s;
	t->len = len;
	t->off = 0;
	t->pos = 0;
	t->buf[0] = 0;
}

static int tok_next1(hx_tokenizer *t, hx_token *tok);

int hx_tok_next(hx_tokenizer *t, hx_token *tok)
{
	int r;
	/* A word can fold to nothing; then try the next one (a loop, not
	 * recursion, so no input can grow the stack). */
	while ((r = tok_next1(t, tok)) < 0)
		;
	return r;
}

/* An ASCII byte's folded form when it belongs to a word (letters
 * lowercased, digits), 0 when it separates words; two unsigned range
 * tests instead of four. */
static inline char ascii_fold(uint8_t b)
{
	uint8_t l = b | 0x20;
	if ((uint8_t)(l - 'a') < 26)
		return (char)l;
	return (uint8_t)(b - '0') < 10 ? (char)b : 0;
}

/* 1: a token; 0: the end; -1: a word that folded to nothing. */
static int tok_next1(hx_tokenizer *t, hx_token *tok)
{
	const uint8_t *s = t->s;
	size_t len = t->len, off = t->off, clen = 0;
	int32_t c = 0;
	int cls = CH_SEP;

	/* Skip separators (marks with nothing before them count as such). */
	while (off < len) {
		if (s[off] < 0x80) {
			if (ascii_fold(s[off])) {
				cls = CH_WORD;
				break;
			}
			off++;
			continue;
		}
		c = next_char(s, len, off, &clen);
		if (c >= 0) {
			cls = char_class(c);
			if (cls != CH_SEP) {
				utf8proc_category_t cat = utf8proc_category(c);
				if (cat != UTF8PROC_CATEGORY_MN && cat != UTF8PROC_CATEGORY_MC &&
				    cat != UTF8PROC_CATEGORY_ME)
					break;
				cls = CH_SEP;
			}
		}
		off += clen;
	}
	if (off >= len) {
		t->off = len;
		return 0;
	}

	size_t start = off, n = 0;
	int full = 0;
	char *out = t->buf;
	if (cls == CH_IDEO) {
		if (fold_char(c, out, HX_TOKEN_MAX, &n) < 0)
			n = 0;
		off += clen;
	} else {
		for (;;) {
			/* A run of ASCII word bytes: the bulk of most text. */
			char a;
			while (off < len && s[off] < 0x80 && (a = ascii_fold(s[off]))) {
				if (!full && n < HX_TOKEN_MAX)
					out[n++] = a;
				else
					full = 1; /* cut: the rest of the word is skipped */
				off++;
			}
			if (off >= len || s[off] < 0x80)
				break; /* the end, or an ASCII separator */
			c = next_char(s, len, off, &clen);
			if (c < 0 || char_class(c) != CH_WORD)
				break;
			if (!full && fold_char(c, out, HX_TOKEN_MAX, &n) < 0)
				full = 1;
			off += clen;
		}
	}
	t->off = off;
	if (n == 0)
		return -1;
	out[n] = 0;
	tok->word = out;
	tok->len = n;
	tok->start = start;
	tok->end = off;
	tok->pos = t->pos++;
	return 1;
}

/* ---- stemming ---------------------------------------------------------- */

/* How each language's stem is made. algo: the Snowball stemmer (NULL:
 * none). dict: a Hunspell dictionary whose lemma is taken first, for the
 * languages Snowball lacks (pl, lv) and for Swedish, whose Snowball
 * stemmer leaves definite forms apart (arkivet/arkiv, biblioteket/
 * bibliotek). conv: the ASCII spellings of the language's letters that are
 * folded to the single letter before stemming (CONV_UE ue->u as for ü,
 * CONV_OE oe->o as for ö and ø, CONV_AE ae->a as for ä, CONV_AA aa->a as
 * for å), so `woerterbuch` has the stem of `Wörterbuch` in German
 * documents and `koebenhavn` that of `København` in Danish ones; only in
 * that language, so an English `does` or `queue` is left alone. keep_em:
 * a word ending in "em" keeps it (German Snowball cuts `betriebssystem` to
 * `betriebssyst` but `betriebssysteme` only to `betriebssystem`; nouns in
 * -em (System, Problem) outnumber the dative adjectives it meant, which
 * still match their exact form). New languages go at the end: the index
 * stores these numbers. */
enum { CONV_UE = 1, CONV_OE = 2, CONV_AE = 4, CONV_AA = 8 };

static const struct {
	const char *code, *algo, *dict;
	int conv, keep_em;
} stem_langs[] = {
	{ "en", "english", NULL, 0, 0 },
	{ "de", "german", NULL, CONV_UE | CONV_OE | CONV_AE, 1 },
	{ "da", "danish", NULL, CONV_OE | CONV_AA, 0 },
	{ "sv", "swedish", "sv_SE", CONV_OE | CONV_AE | CONV_AA, 0 },
	{ "fi", "finnish", NULL, CONV_OE | CONV_AE, 0 },
	{ "lt", "lithuanian", NULL, 0, 0 },
	{ "no", "norwegian", NULL, CONV_OE | CONV_AA, 0 },
	{ "nl", "dutch", NULL, 0, 0 },
	{ "fr", "french", NULL, 0, 0 },
	{ "es", "spanish", NULL, 0, 0 },
	{ "it", "italian", NULL, 0, 0 },
	{ "pt", "portuguese", NULL, 0, 0 },
	{ "ru", "russian", NULL, 0, 0 },
	{ "hu", "hungarian", NULL, 0, 0 },
	{ "ro", "romanian", NULL, 0, 0 },
	{ "tr", "turkish", NULL, 0, 0 },
	{ "el", "greek", NULL, 0, 0 },
	{ "ga", "irish", NULL, 0, 0 },
	{ "ca", "catalan", NULL, 0, 0 },
	{ "eu", "basque", NULL, 0, 0 },
	{ "id", "indonesian", NULL, 0, 0 },
	{ "ne", "nepali", NULL, 0, 0 },
	{ "sr", "serbian", NULL, 0, 0 },
	{ "ta", "tamil", NULL, 0, 0 },
	{ "ar", "arabic", NULL, 0, 0 },
	{ "hy", "armenian", NULL, 0, 0 },
	{ "yi", "yiddish", NULL, 0, 0 },
	{ "hi", "hindi", NULL, 0, 0 },
	{ "pl", NULL, "pl_PL", 0, 0 },
	{ "lv", NULL, "lv_LV", 0, 0 },
};
#define NLANGS ((int)(sizeof stem_langs / sizeof stem_langs[0]))

int hx_stem_lang_count(void)
{
	return NLANGS;
}

const char *hx_stem_lang_code(int idx)
{
	return idx >= 0 && idx < NLANGS ? stem_langs[idx].code : "";
}

int hx_stem_lang_dict(int idx)
{
	return idx >= 0 && idx < NLANGS && stem_langs[idx].dict != NULL;
}

int hx_stem_lang(const char *lang)
{
	char base[8];
	size_t n = 0;
	if (!lang)
		return -1;
	while (lang[n] && lang[n] != '-' && lang[n] != '_' && n < sizeof base - 1) {
		char c = lang[n];
		base[n++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	if (lang[n] && lang[n] != '-' && lang[n] != '_')
		return -1;
	base[n] = 0;
	if (!strcmp(base, "nb") || !strcmp(base, "nn"))
		strcpy(base, "no");
	for (int i = 0; i < NLANGS; i++)
		if (!strcmp(base, stem_langs[i].code))
			return i;
	return -1;
}

/* Cache: open addressing over (language, word) -> stem, strings kept in one
 * growing arena. Cleared when it grows past CACHE_MAX entries. */
#define CACHE_MAX (1u << 20)

struct centry {
	uint64_t hash;
	uint32_t woff, soff; /* arena offsets; word is followed by NUL */
	uint16_t wlen, slen;
	int16_t lang;
};

struct hx_stemmers {
	struct sb_stemmer *sb[NLANGS];
	int tried[NLANGS];
	uint32_t *slots; /* entry index + 1, 0 = empty */
	uint32_t nslots, nent, capent;
	struct centry *ent;
	char *arena;
	size_t alen, acap;
	hx_stem_lookup lookup; /* the index's stems, tried before Hunspell */
	void *lookup_arg;
	uint32_t gen; /* bumped when the index behind lookup changes (hx_stem_langs) */
	char multi[1 + HX_STEM_LANGS_MAX + 4 + HX_STEM_LANGS_MAX * (HX_TOKEN_MAX + 2)];
};

void hx_stemmers_set_lookup(hx_stemmers *st, hx_stem_lookup fn, void *arg)
{
	st->lookup = fn;
	st->lookup_arg = arg;
}

int hx_stemmers_new(hx_stemmers **out)
{
	*out = NULL;
	hx_stemmers *st = calloc(1, sizeof *st);
	if (!st)
		return HX_ENOMEM;
	st->nslots = 1u << 12;
	st->slots = calloc(st->nslots, sizeof *st->slots);
	if (!st->slots) {
		free(st);
		return HX_ENOMEM;
	}
	*out = st;
	return HX_OK;
}

void hx_stemmers_free(hx_stemmers **pst)
{
	hx_stemmers *st = pst ? *pst : NULL;
	if (!st)
		return;
	for (int i = 0; i < NLANGS; i++)
		sb_stemmer_delete(st->sb[i]);
	free(st->slots);
	free(st->ent);
	free(st->arena);
	free(st);
	*pst = NULL;
}

static uint64_t hash_word(int lang, const char *w, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(lang + 1);
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)w[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static void cache_reset(hx_stemmers *st)
{
	memset(st->slots, 0, st->nslots * sizeof *st->slots);
	st->nent = 0;
	st->alen = 0;
}

static int cache_grow(hx_stemmers *st)
{
	uint32_t nn = st->nslots * 2;
	uint32_t *ns = calloc(nn, sizeof *ns);
	if (!ns)
		return -1;
	for (uint32_t i = 0; i < st->nent; i++) {
		uint32_t j = (uint32_t)st->ent[i].hash & (nn - 1);
		while (ns[j])
			j = (j + 1) & (nn - 1);
		ns[j] = i + 1;
	}
	free(st->slots);
	st->slots = ns;
	st->nslots = nn;
	return 0;
}

static long arena_put(hx_stemmers *st, const char *s, size_t len)
{
	if (st->alen + len + 1 > st->acap) {
		size_t nc = st->acap ? st->acap * 2 : 1 << 16;
		while (nc < st->alen + len + 1)
			nc *= 2;
		char *na = realloc(st->arena, nc);
		if (!na)
			return -1;
		st->arena = na;
		st->acap = nc;
	}
	memcpy(st->arena + st->alen, s, len);
	st->arena[st->alen + len] = 0;
	long off = (long)st->alen;
	st->alen += len + 1;
	return off;
}

/* The word with the language's ASCII spellings folded (stem_langs[].conv)
 * into out; never longer than the word. ue stays after a, e and q (Bauer,
 * neue, Quelle), where it is no ü. */
static size_t conv_fold(int conv, const char *w, size_t len, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = w[i], d = i + 1 < len ? w[i + 1] : 0;
		int two =
		        (d == 'e' &&
		         ((c == 'o' && (conv & CONV_OE)) || (c == 'a' && (conv & CONV_AE)) ||
		          (c == 'u' && (conv & CONV_UE) &&
		           !(i > 0 && (w[i - 1] == 'a' || w[i - 1] == 'e' || w[i - 1] == 'q'))))) ||
		        (c == 'a' && d == 'a' && (conv & CONV_AA));
		out[n++] = c;
		i += two;
	}
	return n;
}

/* Hunspell dictionaries take a good part of a second to load and tens of
 * megabytes, so each is loaded once per process, on first use, and shared
 * by every hx_stemmers (behind one lock; the per-thread caches keep calls
 * rare). They stay loaded until the process ends. */
static struct {
	pthread_mutex_t mu;
	hx_lemma *lm[NLANGS];
	int tried[NLANGS];
} lemmas = { .mu = PTHREAD_MUTEX_INITIALIZER };

static size_t lemma_of(int lang, const char *w, size_t len, char *out, size_t cap)
{
	size_t r = 0;
	pthread_mutex_lock(&lemmas.mu);
	if (!lemmas.tried[lang]) {
		lemmas.tried[lang] = 1;
		lemmas.lm[lang] = hx_lemma_open(stem_langs[lang].dict);
	}
	if (lemmas.lm[lang])
		r = hx_lemma_get(lemmas.lm[lang], w, len, out, cap);
	pthread_mutex_unlock(&lemmas.mu);
	return r;
}

/* The cached stem of w in cache language key ckey (lang, or lang + LIGHT
 * for a stem made without the dictionary); NULL when not cached. */
#define LIGHT 64
static const char *cache_get(hx_stemmers *st, int ckey, const char *w, size_t len, size_t *outlen)
{
	uint64_t h = hash_word(ckey, w, len);
	uint32_t j = (uint32_t)h & (st->nslots - 1);
	while (st->slots[j]) {
		struct centry *e = &st->ent[st->slots[j] - 1];
		if (e->hash == h && e->lang == ckey && e->wlen == len &&
		    !memcmp(st->arena + e->woff, w, len)) {
			*outlen = e->slen;
			return st->arena + e->soff;
		}
		j = (j + 1) & (st->nslots - 1);
	}
	return NULL;
}

static const char *cache_put(hx_stemmers *st, int ckey, const char *w, size_t len, const char *stem,
                             size_t slen, size_t *outlen);

const char *hx_stem(hx_stemmers *st, int lang, const char *w, size_t len, size_t *outlen)
{
	if (lang < 0 || lang >= NLANGS || len > HX_TOKEN_MAX) {
		*outlen = len;
		return w; /* not reached by callers; keeps the contract total */
	}
	const char *hit = cache_get(st, lang, w, len, outlen);
	if (hit)
		return hit;

	/* Miss: the index's stem of a word it knows, or ASCII spellings,
	 * lemma (words of 4 letters or more: Hunspell reads short ones as
	 * abbreviations), Snowball, fold again. */
	char stem[HX_TOKEN_MAX + 8], lem[HX_TOKEN_MAX + 8];
	int ckey = lang, use_dict = stem_langs[lang].dict != NULL;
	if (use_dict && st->lookup) {
		int r = st->lookup(st->lookup_arg, lang, w, len, stem, HX_TOKEN_MAX + 1);
		if (r > 0)
			return cache_put(st, lang, w, len, stem, (size_t)r, outlen);
		if (r == 0) { /* known in another language only */
			ckey = lang + LIGHT;
			use_dict = 0;
			if ((hit = cache_get(st, ckey, w, len, outlen)))
				return hit;
		}
	}
	size_t slen = conv_fold(stem_langs[lang].conv, w, len, stem);
	if (use_dict && slen >= 4) {
		size_t ll = lemma_of(lang, stem, slen, lem, HX_TOKEN_MAX + 1);
		if (ll) {
			memcpy(stem, lem, ll);
			slen = ll;
		}
	}
	if (stem_langs[lang].algo && !st->tried[lang]) {
		st->tried[lang] = 1;
		st->sb[lang] = sb_stemmer_new(stem_langs[lang].algo, "UTF_8");
	}
	const sb_symbol *r = NULL;
	int rl = 0;
	if (st->sb[lang])
		r = sb_stemmer_stem(st->sb[lang], (const sb_symbol *)stem, (int)slen);
	if (r)
		rl = sb_stemmer_length(st->sb[lang]);
	if (r && stem_langs[lang].keep_em && slen > 2 && (size_t)rl == slen - 2 &&
	    !memcmp(stem + slen - 2, "em", 2))
		r = NULL; /* the word as it is */
	if (r) {
		hx_tokenizer t;
		hx_token tok;
		/* Refold: a stemmer may put back a letter we fold. */
		hx_tok_init(&t, (const char *)r, (size_t)rl);
		if (hx_tok_next(&t, &tok) && tok.end == (size_t)rl && tok.start == 0) {
			memcpy(stem, tok.word, tok.len);
			slen = tok.len;
		}
	}
	return cache_put(st, ckey, w, len, stem, slen, outlen);
}

static const char *cache_put(hx_stemmers *st, int ckey, const char *w, size_t len, const char *stem,
                             size_t slen, size_t *outlen)
{
	uint64_t h = hash_word(ckey, w, len);
	uint32_t j;
	if (st->nent >= CACHE_MAX)
		cache_reset(st);
	if (st->nent + 1 > st->nslots / 2 && cache_grow(st) < 0)
		return NULL;
	if (st->nent == st->capent) {
		uint32_t nc = st->capent ? st->capent * 2 : 1024;
		struct centry *ne = realloc(st->ent, nc * sizeof *ne);
		if (!ne)
			return NULL;
		st->ent = ne;
		st->capent = nc;
	}
	long wo = arena_put(st, w, len);
	long so = wo < 0 ? -1 : arena_put(st, stem, slen);
	if (so < 0)
		return NULL;
	struct centry *e = &st->ent[st->nent];
	e->hash = h;
	e->woff = (uint32_t)wo;
	e->soff = (uint32_t)so;
	e->wlen = (uint16_t)len;
	e->slen = (uint16_t)slen;
	e->lang = (int16_t)ckey;
	j = (uint32_t)h & (st->nslots - 1);
	while (st->slots[j])
		j = (j + 1) & (st->nslots - 1);
	st->slots[j] = ++st->nent;
	*outlen = slen;
	return st->arena + so;
}

void hx_stemmers_index_changed(hx_stemmers *st)
{
	st->gen++;
}

/* The stems of a word in a set of languages, as one cache record (cache
 * key MULTI + a hash of the set and st->gen; an entry of another set or
 * generation under the same key is told apart by the set and generation
 * it starts with): a search stems each query word in every indexed
 * language, and one look-up costs less than one per language, each a
 * hash and three dependent reads in a large table. The record holds the
 * set's size, its languages and the generation (4 bytes), then per
 * language the stem's length, its bytes and a NUL. hx_stem asks the index
 * again each time for a word it knows only in other languages (it may
 * learn it): a record is made for one generation of the index, so that
 * it never gives what hx_stem would not. */
#define MULTI 256

static void multi_split(const char *r, int n, const char **stems, size_t *lens)
{
	const char *p = r + 1 + n + 4;
	for (int i = 0; i < n; i++) {
		lens[i] = (uint8_t)*p;
		stems[i] = p + 1;
		p += lens[i] + 2;
	}
}

int hx_stem_langs(hx_stemmers *st, const int *langs, int n, const char *w, size_t len,
                  const char **stems, size_t *lens)
{
	uint32_t set = st->gen;
	if (n < 0 || n > HX_STEM_LANGS_MAX || len > HX_TOKEN_MAX)
		return -1;
	for (int i = 0; i < n; i++) {
		if (langs[i] < 0 || langs[i] >= NLANGS)
			return -1;
		set = set * 31 + (uint32_t)langs[i] + 1;
	}
	int ckey = MULTI + (int)(set % 8192);
	size_t rl;
	const char *r = cache_get(st, ckey, w, len, &rl);
	if (r && rl > (size_t)n + 4 && (uint8_t)r[0] == n) {
		int same = !memcmp(r + 1 + n, &st->gen, 4);
		for (int i = 0; i < n && same; i++)
			same = (uint8_t)r[1 + i] == langs[i];
		if (same) {
			multi_split(r, n, stems, lens);
			return 0;
		}
	}
	char *rec = st->multi;
	size_t o = 1 + (size_t)n + 4;
	rec[0] = (char)n;
	memcpy(rec + 1 + n, &st->gen, 4);
	for (int i = 0; i < n; i++) {
		size_t sl;
		const char *s1 = hx_stem(st, langs[i], w, len, &sl);
		if (!s1 || sl > HX_TOKEN_MAX) /* a stem is never longer (refolded) */
			return -1;
		rec[1 + i] = (char)langs[i];
		rec[o] = (char)sl;
		memcpy(rec + o + 1, s1, sl);
		rec[o + 1 + sl] = 0;
		o += sl + 2;
	}
	/* a record of another set or generation under the key stays (the
	 * first found); when the cache cannot grow, next time again */
	if (!r)
		cache_put(st, ckey, w, len, rec, o, &rl);
	/* the record as made (st->multi): the same bytes the cache now
	 * holds, or when not kept the only copy */
	multi_split(rec, n, stems, lens);
	return 0;
}
