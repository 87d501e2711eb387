/*
 * fold.h: one character at a time, what the search index folds text to
 * (private to store/: tokenize.c, fold.c, and ix_prox.c, which finds the
 * ends of words as the tokenizer does). utf8proc gives categories and the
 * NFKD/case-fold/mark stripping of each character; the few letters it
 * leaves alone are mapped here. Inline, since the tokenizer calls these for
 * every character; hx_fold_str (tokenize.h) folds a whole string.
 */
#ifndef HX_STORE_FOLD_H
#define HX_STORE_FOLD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

/* ---- characters -------------------------------------------------------- */

enum { CH_SEP = 0, CH_WORD = 1, CH_IDEO = 2 };

static inline int is_ideograph(int32_t c)
{
	return (c >= 0x3040 && c <= 0x30ff) || /* Hiragana, Katakana */
	       (c >= 0x3400 && c <= 0x4dbf) || /* CJK extension A */
	       (c >= 0x4e00 && c <= 0x9fff) || /* CJK unified */
	       (c >= 0xf900 && c <= 0xfaff) || /* CJK compatibility */
	       (c >= 0x20000 && c <= 0x3ffff); /* CJK extensions B.. */
}

static inline int char_class(int32_t c)
{
	if (c < 0x80) {
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			return CH_WORD;
		return CH_SEP;
	}
	if (is_ideograph(c))
		return CH_IDEO;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO: return CH_WORD;
	default: return CH_SEP;
	}
}

/* Letters that NFKD does not split into base + mark, after case folding. */
static inline const char *special_fold(int32_t c)
{
	switch (c) {
	case 0x0142: return "l";  /* ł */
	case 0x00f8: return "o";  /* ø */
	case 0x00e6: return "ae"; /* æ */
	case 0x0153: return "oe"; /* œ */
	case 0x0111: return "d";  /* đ */
	case 0x00f0: return "d";  /* ð */
	case 0x00fe: return "th"; /* þ */
	case 0x00df: return "ss"; /* ß (full case folding already does this) */
	case 0x0131: return "i";  /* dotless ı */
	case 0x0127: return "h";  /* ħ */
	case 0x0167: return "t";  /* ŧ */
	}
	return NULL;
}

/* Appends the folded form of c to out (capacity cap, used *n). Returns 0,
 * or -1 when it does not fit (nothing appended then). */
static inline int fold_char(int32_t c, char *out, size_t cap, size_t *n)
{
	if (c < 0x80) {
		if (*n + 1 > cap)
			return -1;
		out[(*n)++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
		return 0;
	}
	int32_t cps[16];
	int bc = 0;
	utf8proc_ssize_t k = utf8proc_decompose_char(
	        c, cps, 16,
	        UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK, &bc);
	if (k < 0 || k > 16) {
		cps[0] = c;
		k = 1;
	}
	char tmp[64];
	size_t m = 0;
	for (utf8proc_ssize_t i = 0; i < k; i++) {
		const char *sp = special_fold(cps[i]);
		if (sp) {
			size_t l = strlen(sp);
			memcpy(tmp + m, sp, l);
			m += l;
		} else if (cps[i] < 0x80) {
			int32_t a = cps[i];
			tmp[m++] = (char)((a >= 'A' && a <= 'Z') ? a + 32 : a);
		} else {
			m += (size_t)utf8proc_encode_char(cps[i], (uint8_t *)tmp + m);
		}
		if (m > sizeof tmp - 8)
			break;
	}
	if (*n + m > cap)
		return -1;
	memcpy(out + *n, tmp, m);
	*n += m;
	return 0;
}

/* Decodes one character at s[off]; invalid bytes come back as -1 with
 * length 1. */
static inline int32_t next_char(const uint8_t *s, size_t len, size_t off, size_t *clen)
{
	if (s[off] < 0x80) {
		*clen = 1;
		return s[off];
	}
	int32_t c;
	utf8proc_ssize_t k = utf8proc_iterate(s + off, (utf8proc_ssize_t)(len - off), &c);
	if (k <= 0) {
		*clen = 1;
		return -1;
	}
	*clen = (size_t)k;
	return c;
}

#endif
