/*
 * docmap.c: a map from a string (a tag, a kind, a partner's name) to the
 * list of document numbers that carry it, in order of first insertion, as
 * the static site groups its documents (export-html.c). Open addressing
 * with FNV-1a; see docmap.h.
 */
#include <stdlib.h>
#include <string.h>
#include "cli/docmap.h"
#include "proto/hx.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

struct hx_docmap_slot *hx_docmap_get(struct hx_docmap *m, const char *key)
{
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		struct hx_docmap_slot *t = calloc(cap, sizeof *t);
		if (!t)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->t[i].key)
				continue;
			size_t j = hash(m->t[i].key) & (cap - 1);
			while (t[j].key)
				j = (j + 1) & (cap - 1);
			t[j] = m->t[i];
		}
		free(m->t);
		m->t = t;
		m->cap = cap;
	}
	size_t j = hash(key) & (m->cap - 1);
	while (m->t[j].key) {
		if (!strcmp(m->t[j].key, key))
			return &m->t[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!(m->t[j].key = strdup(key)))
		return NULL;
	m->t[j].id = (uint32_t)m->n++;
	return &m->t[j];
}

int hx_docmap_add(struct hx_docmap_slot *s, uint32_t doc)
{
	if (s->n && s->v[s->n - 1] == doc)
		return 0;
	uint32_t *v = hx_grow(s->v, &s->cap, (size_t)s->n + 1, sizeof *v);
	if (!v)
		return -1;
	s->v = v;
	s->v[s->n++] = doc;
	return 0;
}

void hx_docmap_free(struct hx_docmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->t[i].key);
		free(m->t[i].v);
	}
	free(m->t);
	memset(m, 0, sizeof *m);
}

struct hx_docmap_slot **hx_docmap_slots(struct hx_docmap *m)
{
	struct hx_docmap_slot **v = malloc((m->n ? m->n : 1) * sizeof *v);
	size_t k = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < m->cap; i++)
		if (m->t[i].key)
			v[k++] = &m->t[i];
	return v;
}

int hx_docmap_by_key(const void *a, const void *b)
{
	return strcmp((*(struct hx_docmap_slot *const *)a)->key,
	              (*(struct hx_docmap_slot *const *)b)->key);
}

int hx_docmap_by_count(const void *a, const void *b)
{
	const struct hx_docmap_slot *x = *(struct hx_docmap_slot *const *)a,
	                            *y = *(struct hx_docmap_slot *const *)b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->key, y->key);
}
