/*
 * lemma.c: Hunspell lemmas of folded words (see lemma.h). The dictionary
 * (.aff and .dic) is read, converted to UTF-8 and folded with the
 * tokenizer's own folding: the words of the .dic, and the strip, affix and
 * condition of each PFX/SFX rule of the .aff (flags are ASCII in every
 * dictionary of the region and are kept as they are). The folded copy is
 * handed to Hunspell through two memory files, so nothing is written to
 * disk. Folding merges a few words (`łączka`/`laczka`): Hunspell then
 * knows both readings, which is what a query typed without diacritics
 * wants.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include <hunspell/hunspell.h>
#include "proto/hx.h"
#include "store/lemma.h"
#include "store/tokenize.h"

struct hx_lemma {
	Hunhandle *h;
	int compounds; /* Swedish: base-form compounds kept whole (hx_lemma_get) */
};

unsigned long hx_lemma_calls;

/* A growing byte buffer. */
struct buf {
	char *p;
	size_t n, cap;
};

static int buf_put(struct buf *b, const char *s, size_t n)
{
	char *np = hx_grow(b->p, &b->cap, b->n + n + 1, 1);
	if (!np)
		return -1;
	b->p = np;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[1 << 16];
	size_t n;
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_put(&b, chunk, n) < 0)
			break;
	int bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad || !b.p) {
		free(b.p);
		return NULL;
	}
	*len = b.n;
	return b.p;
}

/* The charset named by the .aff's SET line (ISO8859-1 when there is none). */
static void aff_charset(const char *aff, char *out, size_t cap)
{
	const char *p = aff;
	snprintf(out, cap, "ISO8859-1");
	while (p && *p) {
		if (!strncmp(p, "SET", 3) && (p[3] == ' ' || p[3] == '\t')) {
			p += 4;
			while (*p == ' ' || *p == '\t')
				p++;
			size_t n = strcspn(p, " \t\r\n");
			if (n > 0 && n < cap) {
				memcpy(out, p, n);
				out[n] = 0;
			}
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/* The whole of in (charset cs) as UTF-8; NULL on failure. Bytes that do
 * not convert are dropped. */
static char *to_utf8(const char *in, size_t len, const char *cs, size_t *outlen)
{
	if (!strcasecmp(cs, "UTF-8") || !strcasecmp(cs, "UTF8")) {
		char *c = malloc(len + 1);
		if (c) {
			memcpy(c, in, len);
			c[len] = 0;
			*outlen = len;
		}
		return c;
	}
	iconv_t cd = iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1)
		return NULL;
	size_t cap = len * 4 + 1, left = cap - 1, inleft = len;
	char *out = malloc(cap), *op = out, *ip = (char *)in;
	while (out && inleft > 0) {
		if (iconv(cd, &ip, &inleft, &op, &left) == (size_t)-1) {
			if (errno != EILSEQ && errno != EINVAL)
				break;
			ip++; /* skip a byte the charset does not have */
			inleft--;
		}
	}
	iconv_close(cd);
	if (out) {
		*op = 0;
		*outlen = (size_t)(op - out);
	}
	return out;
}

/* Appends the folded form of s[0..n) (a word or affix). */
static int put_folded(struct buf *b, const char *s, size_t n)
{
	char tmp[4 * HX_TOKEN_MAX + 64];
	if (n >= sizeof tmp / 2)
		return buf_put(b, s, n);
	size_t m = hx_fold_str(tmp, sizeof tmp, s, n);
	return buf_put(b, tmp, m);
}

/* Length of the UTF-8 character at s (1 for a stray byte). */
static size_t u8len(const char *s, size_t left)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return n <= left ? n : 1;
}

/* Appends an affix condition with its letters folded. A letter that folds
 * to one character stays in its place; inside [^...] only letters that
 * fold to themselves stay excluded (ä and a are one letter once folded, and
 * a rule that excluded ä must still reach the words with a), and a letter
 * that folds to two (æ) is left out of a class. */
static int put_condition(struct buf *b, const char *s, size_t n)
{
	int in_class = 0, negated = 0;
	for (size_t i = 0; i < n;) {
		size_t cl = u8len(s + i, n - i);
		char f[16];
		size_t fl;
		if (!in_class && s[i] == '[') {
			in_class = 1;
			negated = i + 1 < n && s[i + 1] == '^';
			if (buf_put(b, s + i, negated ? 2 : 1) < 0)
				return -1;
			i += negated ? 2 : 1;
			continue;
		}
		if (in_class && s[i] == ']') {
			in_class = 0;
			if (buf_put(b, "]", 1) < 0)
				return -1;
			i++;
			continue;
		}
		if (s[i] == '.') {
			fl = 1;
			f[0] = '.';
		} else {
			fl = hx_fold_str(f, sizeof f, s + i, cl);
		}
		int keep = fl > 0;
		if (in_class && fl != 1)
			keep = 0;
		if (in_class && negated && (fl != cl || memcmp(f, s + i, cl)))
			keep = 0;
		if (keep && buf_put(b, f, fl) < 0)
			return -1;
		i += cl;
	}
	return 0;
}

/* Splits line (len bytes, no newline) at spaces and tabs into at most max
 * fields; returns how many. */
static int fields(const char *line, size_t len, const char **f, size_t *fl, int max)
{
	int nf = 0;
	size_t i = 0;
	while (i < len && nf < max) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len)
			break;
		size_t s = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		f[nf] = line + s;
		fl[nf++] = i - s;
	}
	return nf;
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/* One .aff line, folded where it holds letters of words. */
static int aff_line(struct buf *b, const char *line, size_t len)
{
	const char *f[6];
	size_t fl[6];
	int nf = fields(line, len, f, fl, 6);
	if (nf >= 1 && fl[0] == 3 && !memcmp(f[0], "SET", 3))
		return buf_put(b, "SET UTF-8\n", 10);
	int rule = nf >= 5 && fl[0] == 3 && (!memcmp(f[0], "SFX", 3) || !memcmp(f[0], "PFX", 3));
	if (rule && fl[2] == 1 && (f[2][0] == 'Y' || f[2][0] == 'N') && all_digits(f[3], fl[3]))
		rule = 0; /* a header "SFX A Y 6" with something after it */
	if (!rule)
		return buf_put(b, line, len) || buf_put(b, "\n", 1);
	/* SFX flag strip affix[/flags] condition [morphology...] */
	size_t al = strcspn(f[3], "/");
	if (al > fl[3])
		al = fl[3];
	size_t mark = b->n;
	if (buf_put(b, f[0], (size_t)(f[1] + fl[1] - f[0])) || buf_put(b, " ", 1))
		return -1;
	if (fl[2] == 1 && f[2][0] == '0') {
		if (buf_put(b, "0", 1))
			return -1;
	} else if (put_folded(b, f[2], fl[2])) {
		return -1;
	}
	if (buf_put(b, " ", 1))
		return -1;
	size_t before = b->n;
	if (!(al == 1 && f[3][0] == '0') && put_folded(b, f[3], al))
		return -1;
	if (b->n == before && buf_put(b, "0", 1))
		return -1;
	if (buf_put(b, f[3] + al, fl[3] - al) || buf_put(b, " ", 1) ||
	    put_condition(b, f[4], fl[4]))
		return -1;
	if (b->n == mark)
		return -1;
	const char *rest = f[4] + fl[4];
	return buf_put(b, rest, (size_t)(line + len - rest)) || buf_put(b, "\n", 1);
}

/* One .dic line: the word before its flags or morphology, folded. */
static int dic_line(struct buf *b, const char *line, size_t len)
{
	size_t w = 0;
	while (w < len && line[w] != ' ' && line[w] != '\t' &&
	       !(line[w] == '/' && (w == 0 || line[w - 1] != '\\')))
		w++;
	return put_folded(b, line, w) || buf_put(b, line + w, len - w) || buf_put(b, "\n", 1);
}

/* Every line of text through fn into b. */
static int each_line(struct buf *b, const char *text, size_t len, int first_plain,
                     int (*fn)(struct buf *, const char *, size_t))
{
	size_t i = 0;
	int first = 1;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		size_t l = e - i;
		if (l && text[i + l - 1] == '\r')
			l--;
		int rc = first && first_plain ? buf_put(b, text + i, l) || buf_put(b, "\n", 1)
		                              : fn(b, text + i, l);
		if (rc)
			return -1;
		first = 0;
		i = e + 1;
	}
	return 0;
}

/* A memory file holding b; -1 on failure. */
static int memfile(const struct buf *b)
{
	int fd = memfd_create("hansa-hunspell", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < b->n) {
		ssize_t w = write(fd, b->p + off, b->n - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return fd;
}

/* Reads NAME.aff and NAME.dic from the first folder that has both, folded
 * into aff and dic. */
static int read_folded(const char *name, struct buf *aff, struct buf *dic)
{
	const char *env = getenv("HANSA_HUNSPELL_DIR");
	const char *dirs[] = { env, "/usr/share/hunspell", "/usr/share/myspell/dicts",
		               "/usr/share/myspell" };
	for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
		char pa[512], pd[512], cs[64];
		size_t la, ld, ua, ud;
		if (!dirs[d] || !*dirs[d])
			continue;
		snprintf(pa, sizeof pa, "%s/%s.aff", dirs[d], name);
		snprintf(pd, sizeof pd, "%s/%s.dic", dirs[d], name);
		char *ra = slurp(pa, &la);
		char *rd = ra ? slurp(pd, &ld) : NULL;
		if (!rd) {
			free(ra);
			continue;
		}
		aff_charset(ra, cs, sizeof cs);
		char *a8 = to_utf8(ra, la, cs, &ua);
		char *d8 = a8 ? to_utf8(rd, ld, cs, &ud) : NULL;
		free(ra);
		free(rd);
		int rc = -1;
		if (d8 && !each_line(aff, a8, ua, 0, aff_line) &&
		    !each_line(dic, d8, ud, 1, dic_line))
			rc = 0;
		free(a8);
		free(d8);
		return rc;
	}
	return -1;
}

hx_lemma *hx_lemma_open(const char *name)
{
	struct buf aff = { 0 }, dic = { 0 };
	hx_lemma *lm = NULL;
	int fa = -1, fd = -1;
	hx_lemma_calls++;
	if (read_folded(name, &aff, &dic) == 0 && (fa = memfile(&aff)) >= 0 &&
	    (fd = memfile(&dic)) >= 0 && (lm = calloc(1, sizeof *lm))) {
		char pa[64], pd[64];
		snprintf(pa, sizeof pa, "/proc/self/fd/%d", fa);
		snprintf(pd, sizeof pd, "/proc/self/fd/%d", fd);
		lm->h = Hunspell_create(pa, pd);
		lm->compounds = !strncmp(name, "sv", 2);
		if (!lm->h) {
			free(lm);
			lm = NULL;
		}
	}
	if (fa >= 0)
		close(fa);
	if (fd >= 0)
		close(fd);
	free(aff.p);
	free(dic.p);
	return lm;
}

void hx_lemma_free(hx_lemma **plm)
{
	hx_lemma *lm = plm ? *plm : NULL;
	if (!lm)
		return;
	Hunspell_destroy(lm->h);
	free(lm);
	*plm = NULL;
}

/* Whether Hunspell gives the word w (len bytes, with room for 2 more) as
 * the lemma of one of its Swedish forms: the definite singular (-n, -en,
 * -t, -et) or the plural (-er, -ar, -or). */
static int base_form(hx_lemma *lm, char *w, size_t len)
{
	static const char *const end[] = { "n", "en", "t", "et", "er", "ar", "or" };
	int found = 0;
	for (size_t e = 0; e < sizeof end / sizeof end[0] && !found; e++) {
		char **list = NULL;
		memcpy(w + len, end[e], strlen(end[e]) + 1);
		int n = Hunspell_stem(lm->h, &list, w);
		for (int i = 0; i < n && !found; i++)
			found = strlen(list[i]) == len && !memcmp(list[i], w, len);
		if (n > 0 || list)
			Hunspell_free_list(lm->h, &list, n);
	}
	w[len] = 0;
	return found;
}

size_t hx_lemma_get(hx_lemma *lm, const char *w, size_t len, char *out, size_t cap)
{
	char word[HX_TOKEN_MAX + 1];
	char **list = NULL;
	hx_lemma_calls++;
	if (!lm || len == 0 || len > HX_TOKEN_MAX || cap == 0)
		return 0;
	memcpy(word, w, len);
	word[len] = 0;
	int n = Hunspell_stem(lm->h, &list, word);
	/* The smallest in byte order of the lemmas that begin with the word's
	 * first three letters, or of all when none does (see lemma.h). */
	const char *best = NULL;
	int bnear = 0;
	for (int i = 0; i < n; i++) {
		int near = !strncmp(list[i], word, len < 3 ? len : 3);
		if (!list[i][0] || (bnear && !near))
			continue;
		if (!best || (near && !bnear) || strcmp(list[i], best) < 0) {
			best = list[i];
			bnear = near;
		}
	}
	size_t r = 0;
	if (best && strlen(best) < cap)
		r = hx_fold_str(out, cap, best, strlen(best));
	/* Of a compound in its base form Swedish Hunspell may give the first
	 * part alone (programmeny, standardbibliotek: program, standard), while
	 * it gives the inflected forms whole (programmenyn, standardbiblioteket:
	 * programmeny, standardbibliotek). A word whose lemma is its start, 4
	 * bytes or more shorter, is such a compound when one of its own forms
	 * has the word for its lemma: then the word is its own lemma. An
	 * inflected form (datorerna: dator) has no such forms. */
	size_t bl = best ? strlen(best) : 0;
	if (lm->compounds && r && bl >= 3 && bl + 4 <= len && !strncmp(best, word, bl) &&
	    len + 2 <= HX_TOKEN_MAX && base_form(lm, word, len) && len < cap) {
		memcpy(out, word, len + 1);
		r = len;
	}
	if (n > 0 || list)
		Hunspell_free_list(lm->h, &list, n);
	return r;
}
