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

static inline uint32_t slot_of(uint32_t h, uint32_t n)
{
	return (h * 2654435761u) >> 7 & (n - 1);
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
		uint32_t j = slot_of(t->e[i].h, nn);
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

static inline int key_eq(const struct ttab *t, const struct tent *e, const char *key, size_t klen)
{
	if (klen <= HX_IX_KIN)
		return !memcmp(e->kin, key, klen);
	return !memcmp(e->kin, key, HX_IX_KIN) &&
	       !memcmp(t->arena + e->koff + HX_IX_KIN, key + HX_IX_KIN, klen - HX_IX_KIN);
}

int hx_ix_tab_get(struct ttab *t, const char *key, size_t klen, uint32_t *idx)
{
	if ((t->n + 1) * 2 > t->nslots && tab_grow(t))
		return HX_ENOMEM;
	uint32_t h = (uint32_t)hx_ix_hash(key, klen);
	uint32_t j = slot_of(h, t->nslots);
	struct tent *e;
	for (; (e = &t->e[j])->klen; j = (j + 1) & (t->nslots - 1)) {
		if (e->h == h && e->klen == klen && key_eq(t, e, key, klen)) {
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
	memcpy(e->kin, key, klen < HX_IX_KIN ? klen : HX_IX_KIN);
	t->alen += klen;
	t->n++;
	*idx = j;
	return HX_OK;
}

int hx_ix_cmp_skey(const void *a, const void *b)
{
	const struct skey *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->k, y->k, n);
	return c ? c : (int)x->len - (int)y->len;
}
