/*
 * test_tokenize.c: word segmentation, folding and stemming of the search
 * tokenizer: the place names of the region typed without diacritics, the
 * letters utf8proc does not decompose, and stems per language.
 */
#include <string.h>
#include <stdlib.h>
#include "store/tokenize.h"
#include "tests/check.h"

/* Tokenizes s into "a|b|c" in out. */
static const char *toks(const char *s)
{
	static char out[1024];
	hx_tokenizer t;
	hx_token k;
	size_t n = 0;
	out[0] = 0;
	hx_tok_init(&t, s, strlen(s));
	while (hx_tok_next(&t, &k)) {
		if (n && n < sizeof out - 1)
			out[n++] = '|';
		for (size_t i = 0; i < k.len && n < sizeof out - 1; i++)
			out[n++] = k.word[i];
		out[n] = 0;
	}
	return out;
}

static const char *stem(hx_stemmers *st, const char *lang, const char *word)
{
	size_t len;
	int li = hx_stem_lang(lang);
	if (li < 0)
		return "(none)";
	const char *r = hx_stem(st, li, word, strlen(word), &len);
	return r ? r : "(null)";
}

int main(void)
{
	/* Folding: the place names of the brief. */
	CHECK(!strcmp(toks("Białystok"), "bialystok"));
	CHECK(!strcmp(toks("Straße"), "strasse"));
	CHECK(!strcmp(toks("Cēsis"), "cesis"));
	CHECK(!strcmp(toks("Støvring"), "stovring"));
	CHECK(!strcmp(toks("Lõuna-Eesti"), "louna|eesti"));
	CHECK(!strcmp(toks("Peipsiääre"), "peipsiaare"));
	CHECK(!strcmp(toks("ŁÓDŹ"), "lodz"));
	CHECK(!strcmp(toks("Æbleø"), "aebleo"));
	CHECK(!strcmp(toks("Œuvre þing Đakovo"), "oeuvre|thing|dakovo"));
	CHECK(!strcmp(toks("Šiauliai Klaipėda Jūrmala Liepāja"),
	              "siauliai|klaipeda|jurmala|liepaja"));
	CHECK(!strcmp(toks("Jyväskylä Göteborg Århus"), "jyvaskyla|goteborg|arhus"));
	/* Compatibility forms: ligatures, full-width, superscripts. */
	CHECK(!strcmp(toks("ﬁne ＡＢＣ x²"), "fine|abc|x2"));
	/* Segmentation: punctuation, underscores, apostrophes and hyphens
	 * separate; letters and digits stay together; ideographs alone. */
	CHECK(!strcmp(toks("foo_bar, baz-qux; don't 0xFFFF x11"),
	              "foo|bar|baz|qux|don|t|0xffff|x11"));
	CHECK(!strcmp(toks("中文ab"), "中|文|ab"));
	CHECK(!strcmp(toks("  ...  "), ""));
	CHECK(!strcmp(toks(""), ""));
	/* A leading combining mark is not a word; marks inside are dropped. */
	CHECK(!strcmp(toks("\xcc\x81"
	                   "abc e\xcc\x81t\xc3\xa9"),
	              "abc|ete"));
	/* Invalid UTF-8 separates words and never crashes. */
	CHECK(!strcmp(toks("ab\xff\xfe"
	                   "cd\xc3"),
	              "ab|cd"));

	/* Offsets and positions. */
	{
		hx_tokenizer t;
		hx_token k;
		const char *s = "Zür ich";
		hx_tok_init(&t, s, strlen(s));
		CHECK(hx_tok_next(&t, &k) && k.start == 0 && k.end == 4 && k.pos == 0);
		CHECK(hx_tok_next(&t, &k) && k.start == 5 && k.end == 8 && k.pos == 1);
		CHECK(!hx_tok_next(&t, &k));
	}
	/* Long words are cut at a character boundary, the same way each time. */
	{
		char big[300];
		memset(big, 'a', sizeof big);
		strcpy(big + 200, "ä");
		CHECK(strlen(toks(big)) == HX_TOKEN_MAX);
		memset(big, 0, sizeof big);
		for (int i = 0; i < 70; i++)
			strcat(big, "ä");
		const char *r = toks(big);
		CHECK(strlen(r) == HX_TOKEN_MAX);
	}

	/* hx_fold_str for filter values. */
	{
		char out[64];
		CHECK(hx_fold_str(out, sizeof out, "  Debian  Python\tTeam ", 22) == 18 &&
		      !strcmp(out, "debian python team"));
		hx_fold_str(out, sizeof out, "game::Strategy", 14);
		CHECK(!strcmp(out, "game::strategy"));
		hx_fold_str(out, sizeof out, "Białystok Łódź", strlen("Białystok Łódź"));
		CHECK(!strcmp(out, "bialystok lodz"));
		CHECK(hx_fold_str(out, 4, "abcdef", 6) == 3 && !strcmp(out, "abc"));
	}

	/* Stemming per language; languages without a stemmer give -1. */
	hx_stemmers *st;
	CHECK_RC(hx_stemmers_new(&st), HX_OK);
	CHECK(!strcmp(stem(st, "en", "practices"), stem(st, "en", "practice")));
	CHECK(!strcmp(stem(st, "en", "toolkits"), "toolkit"));
	CHECK(!strcmp(stem(st, "de", "kooperationen"), stem(st, "de", "kooperation")));
	CHECK(!strcmp(stem(st, "de-AT", "kooperationen"), "kooperation"));
	CHECK(!strcmp(stem(st, "da", "kommunerne"), stem(st, "da", "kommune")));
	CHECK(!strcmp(stem(st, "sv", "kommunerna"), stem(st, "sv", "kommun")));
	CHECK(!strcmp(stem(st, "fi", "kirjastossa"), stem(st, "fi", "kirjasto")));
	CHECK(!strcmp(stem(st, "fi", "kirjastot"), "kirjasto"));
	/* Stemming runs on folded words, so queries typed without diacritics
	 * get the same stem as the document. */
	CHECK(!strcmp(stem(st, "lt", "savivaldybes"), stem(st, "lt", "savivaldybiu")));
	CHECK(!strcmp(stem(st, "nb", "kommunene"), stem(st, "no", "kommunen")));
	/* Hunspell lemmas where Snowball has no stemmer (pl, lv), typed with
	 * or without diacritics; Estonian has neither. */
	CHECK(hx_stem_lang("et") < 0 && hx_stem_lang("pl") >= 0 && hx_stem_lang("lv") >= 0);
	CHECK(!strcmp(stem(st, "pl", "ksiazki"), stem(st, "pl", "ksiazka")));
	CHECK(!strcmp(stem(st, "pl", "plikow"), "plik") &&
	      !strcmp(stem(st, "pl", "pliki"), "plik"));
	CHECK(!strcmp(stem(st, "pl", "przegladarki"), stem(st, "pl", "przegladarka")));
	CHECK(!strcmp(stem(st, "pl", "zarzadzania"), stem(st, "pl", "zarzadzanie")));
	CHECK(!strcmp(stem(st, "lv", "programmas"), stem(st, "lv", "programma")));
	CHECK(!strcmp(stem(st, "lv", "failu"), stem(st, "lv", "faili")));
	/* A word Hunspell does not know is its own stem. */
	CHECK(!strcmp(stem(st, "pl", "qzxhansa"), "qzxhansa"));
	/* The collisions of issue 13: Swedish definite forms (Hunspell lemma
	 * first), German -em (Snowball twice). */
	CHECK(!strcmp(stem(st, "sv", "arkivet"), stem(st, "sv", "arkiv")));
	CHECK(!strcmp(stem(st, "sv", "biblioteket"), stem(st, "sv", "bibliotek")));
	CHECK(strcmp(stem(st, "sv", "paket"), stem(st, "sv", "pak")));
	/* A Swedish compound stays whole, in its base form too, where
	 * Hunspell gives the first part alone: programmeny is no program,
	 * and standardbibliotek is standardbiblioteket, not standard. An
	 * inflected form with a long ending is no compound (datorerna,
	 * programmens), nor a Polish plural in -owie. */
	CHECK(!strcmp(stem(st, "sv", "programmeny"), "programmeny"));
	CHECK(!strcmp(stem(st, "sv", "programmeny"), stem(st, "sv", "programmenyn")));
	CHECK(!strcmp(stem(st, "sv", "programpaket"), stem(st, "sv", "programpaketen")));
	CHECK(!strcmp(stem(st, "sv", "standardbibliotek"), stem(st, "sv", "standardbiblioteket")));
	CHECK(strcmp(stem(st, "sv", "standardbibliotek"), stem(st, "sv", "standard")));
	CHECK(!strcmp(stem(st, "sv", "programmet"), stem(st, "sv", "program")));
	CHECK(!strcmp(stem(st, "sv", "programmens"), stem(st, "sv", "program")));
	CHECK(!strcmp(stem(st, "sv", "datorerna"), stem(st, "sv", "dator")));
	CHECK(!strcmp(stem(st, "sv", "datorernas"), stem(st, "sv", "datorer")));
	CHECK(!strcmp(stem(st, "pl", "profesorowie"), stem(st, "pl", "profesor")));
	CHECK(!strcmp(stem(st, "pl", "dyrektorowie"), stem(st, "pl", "dyrektora")));
	CHECK(!strcmp(stem(st, "de", "betriebssystem"), stem(st, "de", "betriebssysteme")));
	CHECK(!strcmp(stem(st, "de", "betriebssysteme"), stem(st, "de", "betriebssystems")));
	/* ASCII spellings: ä ö ü å ø typed as ae oe ue aa oe, per language. */
	CHECK(!strcmp(stem(st, "de", "woerterbuch"), stem(st, "de", "worterbuch")));
	CHECK(!strcmp(stem(st, "de", "oberflaeche"), stem(st, "de", "oberflache")));
	CHECK(!strcmp(stem(st, "de", "muenchen"), stem(st, "de", "munchen")));
	CHECK(strcmp(stem(st, "de", "neue"), stem(st, "de", "neu")) == 0);
	CHECK(strcmp(stem(st, "de", "bauer"), stem(st, "de", "baur")));
	CHECK(!strcmp(stem(st, "da", "koebenhavn"), stem(st, "da", "kobenhavn")));
	CHECK(!strcmp(stem(st, "da", "aabne"), stem(st, "da", "abne")));
	CHECK(!strcmp(stem(st, "da", "vaerktoej"), stem(st, "da", "vaerktoj")));
	CHECK(!strcmp(stem(st, "sv", "goeteborg"), stem(st, "sv", "goteborg")));
	CHECK(!strcmp(stem(st, "fi", "jyvaeskylae"), stem(st, "fi", "jyvaskyla")));
	/* Only in languages that write those letters. */
	CHECK(strcmp(stem(st, "en", "does"), stem(st, "en", "dos")));
	CHECK(strcmp(stem(st, "en", "queue"), stem(st, "en", "queu")));
	CHECK(strcmp(stem(st, "pl", "poeta"), stem(st, "pl", "pota")));
	CHECK(hx_stem_lang("") < 0 && hx_stem_lang(NULL) < 0 && hx_stem_lang("english") < 0);
	CHECK(!strcmp(hx_stem_lang_code(hx_stem_lang("en")), "en"));
	/* Stems are folded: a stemmer's output is a valid term. */
	for (int i = 0; i < hx_stem_lang_count(); i++) {
		size_t len;
		const char *r = hx_stem(st, i, "kooperationen", 13, &len);
		CHECK(r && strlen(r) == len && len > 0);
	}
	/* The cache gives the same answer many times over. */
	for (int i = 0; i < 5000; i++) {
		char w[32];
		snprintf(w, sizeof w, "word%dings", i % 700);
		size_t len;
		const char *r = hx_stem(st, 0, w, strlen(w), &len);
		CHECK(r && !strncmp(r, w, 4));
	}
	/* The stems of a word in a set of languages, one record: the same
	 * as hx_stem in each, the first time and from the cache, for sets
	 * that share a cache key or not, and after the index changed. */
	{
		static const char *codes[][4] = { { "en", "de", "da", "sv" },
			                          { "fi", "pl", "en", NULL },
			                          { "sv", "de", "da", "en" } };
		static const char *words[] = { "woerterbuch", "biblioteket",   "editors",
			                       "koebenhavn",  "kooperationen", "zz" };
		for (int rep = 0; rep < 3; rep++, hx_stemmers_index_changed(st))
			for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++)
				for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
					int langs[4], n = 0;
					const char *sts[4];
					size_t sls[4];
					for (; n < 4 && codes[c][n]; n++)
						langs[n] = hx_stem_lang(codes[c][n]);
					CHECK_RC(hx_stem_langs(st, langs, n, words[w],
					                       strlen(words[w]), sts, sls),
					         0);
					char got[4][HX_TOKEN_MAX + 1];
					for (int i = 0; i < n; i++)
						snprintf(got[i], sizeof got[i], "%s", sts[i]);
					for (int i = 0; i < n; i++) {
						size_t l;
						const char *r = hx_stem(st, langs[i], words[w],
						                        strlen(words[w]), &l);
						CHECK(r && l == sls[i] && !strcmp(got[i], r));
					}
				}
		int bad = 99;
		const char *sts[1];
		size_t sls[1];
		CHECK(hx_stem_langs(st, &bad, 1, "word", 4, sts, sls) == -1);
	}
	hx_stemmers_free(&st);
	CHECK(st == NULL);
	hx_stemmers_free(&st);
	return check_done();
}
