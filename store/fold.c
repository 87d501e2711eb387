/*
 * fold.c: hx_fold_str (tokenize.h), a whole string folded as the index
 * folds words (fold.h), spaces collapsed. Apart from tokenize.c so that the
 * lemma dictionaries (lemma.c), which tokenize.c calls, can fold without
 * calling back into it.
 */
#include "store/fold.h"
#include "store/tokenize.h"

size_t hx_fold_str(char *out, size_t cap, const char *str, size_t len)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t off = 0, n = 0, clen;
	int space = 0;
	if (cap == 0)
		return 0;
	cap--; /* room for the NUL */
	while (off < len) {
		int32_t c = next_char(s, len, off, &clen);
		off += clen;
		if (c < 0)
			continue;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    utf8proc_category(c) == UTF8PROC_CATEGORY_ZS) {
			space = n > 0;
			continue;
		}
		size_t save = n;
		if (space) {
			if (n + 1 > cap)
				break;
			out[n++] = ' ';
			space = 0;
		}
		if (fold_char(c, out, cap, &n) < 0) {
			n = save;
			break;
		}
	}
	out[n] = 0;
	return n;
}
