/*
 * idq.c: the node's one small container, a FIFO of entry ids each with a
 * "live" flag: the want and push queues of a connection and the local
 * changes waiting to be pushed (node_int.h).
 */
#include <stdlib.h>
#include <string.h>
#include "node/node_int.h"

static int push(struct idq *q, const uint8_t id[HX_ID_LEN], int live, int timed, uint64_t at)
{
	/* a queue's times start with its first timed push (those before
	 * count as due at once) */
	if (timed && !q->at && q->cap && !(q->at = calloc(q->cap, sizeof *q->at)))
		return HX_ENOMEM;
	if (q->head + q->n == q->cap) {
		if (q->head > q->cap / 2) { /* compact */
			memmove(q->id, q->id + q->head, q->n * HX_ID_LEN);
			memmove(q->live, q->live + q->head, q->n);
			if (q->at)
				memmove(q->at, q->at + q->head, q->n * sizeof *q->at);
			q->head = 0;
		} else {
			/* the arrays grow to the same capacity; q->cap stays
			 * the smallest one should a later one fail */
			size_t cid = q->cap, clive = q->cap, cat = q->cap;
			void *a = hx_grow(q->id, &cid, q->cap + 1, HX_ID_LEN), *b, *t;
			if (!a)
				return HX_ENOMEM;
			q->id = a;
			if (!(b = hx_grow(q->live, &clive, q->cap + 1, 1)))
				return HX_ENOMEM;
			q->live = b;
			if (q->at || timed) {
				if (!(t = hx_grow(q->at, &cat, q->cap + 1, sizeof *q->at)))
					return HX_ENOMEM;
				q->at = t;
				clive = clive < cat ? clive : cat;
			}
			q->cap = cid < clive ? cid : clive;
		}
	}
	memcpy(q->id[q->head + q->n], id, HX_ID_LEN);
	q->live[q->head + q->n] = (uint8_t)live;
	if (q->at)
		q->at[q->head + q->n] = at;
	q->n++;
	return HX_OK;
}

int hx_nd_idq_push(struct idq *q, const uint8_t id[HX_ID_LEN], int live)
{
	return push(q, id, live, 0, 0);
}

int hx_nd_idq_push_at(struct idq *q, const uint8_t id[HX_ID_LEN], int live, uint64_t at)
{
	return push(q, id, live, 1, at);
}

int hx_nd_idq_append(struct idq *into, const struct idq *from)
{
	int rc = HX_OK;
	for (size_t i = 0, k = from->head; i < from->n && !rc; i++, k++)
		rc = from->at ? hx_nd_idq_push_at(into, from->id[k], from->live[k], from->at[k])
		              : hx_nd_idq_push(into, from->id[k], from->live[k]);
	return rc;
}

void hx_nd_idq_pop(struct idq *q, size_t k)
{
	q->head += k;
	q->n -= k;
	if (!q->n)
		q->head = 0;
}

void hx_nd_idq_clear(struct idq *q)
{
	q->head = q->n = 0;
}

void hx_nd_idq_free(struct idq *q)
{
	free(q->id);
	free(q->live);
	free(q->at);
	memset(q, 0, sizeof *q);
}

/* ---- the id set: open addressing over ids (BLAKE2b: their first bytes
 * are already a good hash), grown at half full --------------------------- */

static size_t slot(const struct idset *s, const uint8_t id[HX_ID_LEN])
{
	uint64_t h;
	memcpy(&h, id, sizeof h);
	size_t i = (size_t)h & (s->cap - 1);
	while (s->used[i] && memcmp(s->id[i], id, HX_ID_LEN))
		i = (i + 1) & (s->cap - 1);
	return i;
}

int hx_nd_idset_has(const struct idset *s, const uint8_t id[HX_ID_LEN])
{
	return s->n && s->used[slot(s, id)];
}

int hx_nd_idset_add(struct idset *s, const uint8_t id[HX_ID_LEN])
{
	if (2 * (s->n + 1) > s->cap) {
		struct idset g = { .cap = s->cap ? 2 * s->cap : 1024 };
		if (!(g.id = malloc(g.cap * HX_ID_LEN)) || !(g.used = calloc(g.cap, 1))) {
			free(g.id);
			return -1;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->used[i])
				continue;
			size_t j = slot(&g, s->id[i]);
			memcpy(g.id[j], s->id[i], HX_ID_LEN);
			g.used[j] = 1;
		}
		g.n = s->n;
		hx_nd_idset_free(s);
		*s = g;
	}
	size_t i = slot(s, id);
	if (s->used[i])
		return 1;
	memcpy(s->id[i], id, HX_ID_LEN);
	s->used[i] = 1;
	s->n++;
	return 0;
}

void hx_nd_idset_free(struct idset *s)
{
	free(s->id);
	free(s->used);
	memset(s, 0, sizeof *s);
}
