/*
 * ix_strtab.c: the index writer's string table (ix_write_int.h): words and
 * attribute keys -> a small in-place record (tfs of the current document,
 * pending posting count, languages seen), open addressing with the key's
 * first bytes inline. Every word of every new document is looked up here,
 * so this is the hot spot of a bulk load.
 */
#include <stdlib.h>
#include <string.h>
#include "store/ix_write_int.h"

/* Eight bytes at a time with a multiply-xorshift mix: terms are short,
 * and this runs for every word of every document. */
uint64_t hx_ix_hash(const void *k, size_t n)
{
	const uint8_t *p = k;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 32);
}

void hx_ix_tab_free(struct ttab *t)
{
	free(t->e);
	free(t->arena);
	t->e = NULL;
	t->arena = NULL;
	t->nslots = t->n = 0;
	t->alen = t->acap = 0;
}

/* Doubles the slots (a rehash, so not hx_grow) and tells on_grow. */
static int tab_grow(struct ttab *t)
{
	uint32_t nn = t->nslots ? t->nslots * 2 : 4096, old = t->nslots;
	struct tent *ne = calloc(nn, sizeof *ne);
	uint32_t *remap = old ? malloc((size_t)old * sizeof *remap) : NULL;
	if (!ne || (old && !remap)) {
		free(ne);
		free(remap);
		return HX_ENOMEM;
	}
	for (uint32_t i = 0; i < old; i++) {
		if (!t->e[i].klen)
			continue;
		uint32_t j = hx_ix_slot_of(t->e[i].h, nn);
		while (ne[j].klen)
			j = (j + 1) & (nn - 1);
		ne[j] = t->e[i];
		remap[i] = j;
	}
	free(t->e);
	t->e = ne;
	t->nslots = nn;
	if (old && t->on_grow)
		t->on_grow(t->grow_arg, remap, old);
	free(remap);
	return HX_OK;
}

/* kp: the key's first HX_IX_KIN bytes, zero-padded as kin is, so that
 * the inline part compares in a few instructions instead of a call. */
static inline int key_eq(const struct ttab *t, const struct tent *e, const char *kp,
                         const char *key, size_t klen)
{
	if (memcmp(e->kin, kp, HX_IX_KIN))
		return 0;
	return klen <= HX_IX_KIN ||
	       !memcmp(t->arena + e->koff + HX_IX_KIN, key + HX_IX_KIN, klen - HX_IX_KIN);
}

int hx_ix_tab_get_h(struct ttab *t, const char *key, size_t klen, uint32_t h, uint32_t *idx)
{
	if ((t->n + 1) * 2 > t->nslots && tab_grow(t))
		return HX_ENOMEM;
	uint32_t j = hx_ix_slot_of(h, t->nslots);
	struct tent *e;
	char kp[HX_IX_KIN] = { 0 };
	memcpy(kp, key, klen < HX_IX_KIN ? klen : HX_IX_KIN);
	for (; (e = &t->e[j])->klen; j = (j + 1) & (t->nslots - 1)) {
		if (e->h == h && e->klen == klen && key_eq(t, e, kp, key, klen)) {
			*idx = j;
			return HX_OK;
		}
	}
	char *na = hx_grow(t->arena, &t->acap, t->alen + klen, 1);
	if (!na)
		return HX_ENOMEM;
	t->arena = na;
	memcpy(t->arena + t->alen, key, klen);
	memset(e, 0, sizeof *e);
	e->h = h;
	e->koff = (uint32_t)t->alen;
	e->klen = (uint16_t)klen;
	memcpy(e->kin, kp, HX_IX_KIN);
	t->alen += klen;
	t->n++;
	*idx = j;
	return HX_OK;
}

int hx_ix_tab_get(struct ttab *t, const char *key, size_t klen, uint32_t *idx)
{
	return hx_ix_tab_get_h(t, key, klen, (uint32_t)hx_ix_hash(key, klen), idx);
}

int hx_ix_cmp_skey(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->k, y->k, n);
	return c ? c : (int)x->len - (int)y->len;
}

/* ---- sorting keys --------------------------------------------------------- */

/* A key's eight bytes from off on, big-endian, zero past its end: keys
 * compare (hx_ix_cmp_skey) as these chunks do, one after the other, and
 * then by length, since 0 is the smallest byte and a shorter key goes
 * first. */
struct chunk {
	uint64_t v;
	uint32_t i; /* the key's place in the array being sorted */
};

static uint64_t chunk_at(const struct skey *k, size_t off)
{
	uint64_t v = 0;
	for (size_t j = 0; j < 8; j++)
		v = v << 8 | (off + j < k->len ? (uint8_t)k->k[off + j] : 0u);
	return v;
}

#define SORT_SMALL 48 /* fewer keys: qsort */

/* Sorts a[0..n) whose keys agree on their first off bytes (padded as
 * above), with x and y scratch for n chunks and t for n keys: the chunk at
 * off by a radix sort (eight passes of a byte, each skipped when all keys
 * share that byte), then each run of keys with the same chunk by the next
 * eight bytes, or by length when the run's keys all end within these. */
static void sort_from(struct skey *a, size_t n, size_t off, struct chunk *x, struct chunk *y,
                      struct skey *t)
{
	if (n < SORT_SMALL) {
		qsort(a, n, sizeof *a, hx_ix_cmp_skey);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		x[i].v = chunk_at(&a[i], off);
		x[i].i = (uint32_t)i;
	}
	for (int b = 0; b < 64; b += 8) {
		size_t count[256] = { 0 }, pos = 0;
		for (size_t i = 0; i < n; i++)
			count[(x[i].v >> b) & 0xff]++;
		if (count[(x[0].v >> b) & 0xff] == n)
			continue; /* one byte value: the order stands */
		for (int d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			y[count[(x[i].v >> b) & 0xff]++] = x[i];
		struct chunk *sw = x;
		x = y;
		y = sw;
	}
	for (size_t i = 0; i < n; i++)
		t[i] = a[x[i].i];
	memcpy(a, t, n * sizeof *a);
	for (size_t s = 0, e; s < n; s = e) {
		int longer = a[s].len > off + 8;
		for (e = s + 1; e < n && x[e].v == x[s].v; e++)
			longer |= a[e].len > off + 8;
		if (e - s < 2)
			continue;
		if (longer)
			sort_from(a + s, e - s, off + 8, x + s, y + s, t + s);
		else
			qsort(a + s, e - s, sizeof *a, hx_ix_cmp_skey); /* by length */
	}
}

void hx_ix_sort_skeys(struct skey *a, size_t n)
{
	if (n < 2)
		return;
	if (n < SORT_SMALL) {
		qsort(a, n, sizeof *a, hx_ix_cmp_skey);
		return;
	}
	struct chunk *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
	struct skey *t = malloc(n * sizeof *t);
	if (x && y && t)
		sort_from(a, n, 0, x, y, t);
	else
		qsort(a, n, sizeof *a, hx_ix_cmp_skey); /* the same order, slower */
	free(x);
	free(y);
	free(t);
}
