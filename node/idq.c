/*
 * idq.c: the node's one small container, a FIFO of entry ids each with a
 * "live" flag: the want and push queues of a connection and the local
 * changes waiting to be pushed (node_int.h).
 */
#include <stdlib.h>
#include <string.h>
#include "node/node_int.h"

int hx_nd_idq_push(struct idq *q, const uint8_t id[HX_ID_LEN], int live)
{
	if (q->head + q->n == q->cap) {
		if (q->head > q->cap / 2) { /* compact */
			memmove(q->id, q->id + q->head, q->n * HX_ID_LEN);
			memmove(q->live, q->live + q->head, q->n);
			q->head = 0;
		} else {
			/* both arrays grow to the same capacity; q->cap
			 * stays the smaller one should the second fail */
			size_t cid = q->cap, clive = q->cap;
			void *a = hx_grow(q->id, &cid, q->cap + 1, HX_ID_LEN), *b;
			if (!a)
				return HX_ENOMEM;
			q->id = a;
			if (!(b = hx_grow(q->live, &clive, q->cap + 1, 1)))
				return HX_ENOMEM;
			q->live = b;
			q->cap = cid < clive ? cid : clive;
		}
	}
	memcpy(q->id[q->head + q->n], id, HX_ID_LEN);
	q->live[q->head + q->n] = (uint8_t)live;
	q->n++;
	return HX_OK;
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
	memset(q, 0, sizeof *q);
}
