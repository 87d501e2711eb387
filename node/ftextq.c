/*
 * ftextq.c: the node's text extraction (node_int.h): blobs that become
 * whole here (blobsync.c's finish) and, at the start of a serving node,
 * whole blobs that have no ftext row yet (a store from before the table,
 * or a crash mid-extraction), are extracted on one background thread, so
 * that the node's loop never waits for the extractor (up to its 20 s wall
 * time). hx_ftext_extract stores the row and re-indexes the documents in
 * one write transaction; a failure is stored too and logged once.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "node/node_int.h"
#include "store/ftext.h"

struct hx_nd_ftq {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *q; /* hashes waiting, HX_ID_LEN each */
	size_t head, n, cap;
	int stop;    /* 1: finish the current blob; 2: finish the queue */
	int catchup; /* look for whole blobs without a row first */
};

static void extract_one(hx_node *n, const uint8_t *hash)
{
	char hex[17], why[HX_FTEXT_WHY_MAX + 1];
	hx_ftext ft;
	int failed, rc = hx_ftext_get(n->store, hash, &ft);
	hx_ftext_clear(&ft);
	if (rc != HX_ENOTFOUND)
		return; /* already extracted */
	rc = hx_ftext_extract(n->store, hash, NULL, NULL, NULL, &failed, why, sizeof why);
	hx_nd_short_hex(hex, hash);
	if (rc == HX_ENOTFOUND)
		return; /* collected meanwhile */
	if (rc)
		hx_nd_log(n, "blob %s: cannot store its text: %s", hex, hx_strerror(rc));
	else if (failed)
		hx_nd_log(n, "blob %s: text not extracted (%s); found by its name only", hex, why);
}

static void *ftq_main(void *arg)
{
	hx_node *n = arg;
	struct hx_nd_ftq *f = n->ftq;
	if (f->catchup) {
		uint8_t *h;
		size_t nh;
		if (hx_ftext_pending(n->store, &h, &nh) == HX_OK) {
			if (nh)
				hx_nd_log(n, "extracting the text of %zu blob%s", nh,
				          nh == 1 ? "" : "s");
			for (size_t i = 0; i < nh; i++) {
				pthread_mutex_lock(&f->mu);
				int stop = f->stop;
				pthread_mutex_unlock(&f->mu);
				if (stop == 1)
					break;
				extract_one(n, h + i * HX_ID_LEN);
			}
			free(h);
		}
	}
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->n && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop == 1 || !f->n)
			break;
		uint8_t hash[HX_ID_LEN];
		memcpy(hash, f->q + f->head * HX_ID_LEN, HX_ID_LEN);
		f->head++;
		f->n--;
		pthread_mutex_unlock(&f->mu);
		extract_one(n, hash);
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int hx_nd_ftext_start(hx_node *n, int catchup)
{
	struct hx_nd_ftq *f;
	if (n->ftq)
		return HX_OK;
	if (!(f = calloc(1, sizeof *f)))
		return HX_ENOMEM;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->catchup = catchup;
	n->ftq = f;
	if (pthread_create(&f->thread, NULL, ftq_main, n)) {
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv);
		free(f);
		n->ftq = NULL;
		return HX_ENOMEM;
	}
	return HX_OK;
}

void hx_nd_ftext_want(hx_node *n, const uint8_t hash[HX_ID_LEN])
{
	struct hx_nd_ftq *f = n->ftq;
	if (!f)
		return; /* no thread: the next serving start catches up */
	pthread_mutex_lock(&f->mu);
	if (f->head) { /* move the queue to the front (it is short) */
		memmove(f->q, f->q + f->head * HX_ID_LEN, f->n * HX_ID_LEN);
		f->head = 0;
	}
	uint8_t *nq = hx_grow(f->q, &f->cap, f->head + f->n + 1, HX_ID_LEN);
	if (nq) {
		f->q = nq;
		memcpy(f->q + (f->head + f->n++) * HX_ID_LEN, hash, HX_ID_LEN);
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
}

void hx_nd_ftext_stop(hx_node *n, int drain)
{
	struct hx_nd_ftq *f = n->ftq;
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = drain ? 2 : 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f->q);
	free(f);
	n->ftq = NULL;
}
