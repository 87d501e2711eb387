/*
 * blobcommit.c: making received chunks durable off the node's loop. The
 * loop writes each checked chunk into the fill batch (store/blob.h
 * hx_blob_batch_write) and goes on receiving; one background thread syncs
 * the previous batch and marks its chunks present in one LMDB commit
 * (hx_blob_batch_commit), so that an fdatasync that takes tens of
 * milliseconds on a busy disk no longer stops the transfer. While the
 * thread commits, the next batch fills; when it is done it writes the
 * eventfd the loop polls, and the loop (blobsync.c) learns from the store
 * which of the batch's chunks are present. docs/FORMAT.md §3.2.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "node/blob_int.h"

struct hx_nd_bcommit {
	hx_store *store;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	hx_blob_batch *fill; /* the loop writes here */
	hx_blob_batch *sync; /* the thread commits this one */
	int busy;            /* sync handed to the thread, its result not yet taken */
	int done;            /* the thread has committed sync: rc */
	int rc, stop;
	int efd; /* written by the thread when done */
	/* the chunks in fill and in sync (the loop's own, never the thread's) */
	struct hx_nd_bchunk *fl, *sl;
	size_t nfl, capfl, nsl, capsl;
};

int hx_nd_bc_new(struct hx_nd_bcommit **out, hx_store *s)
{
	struct hx_nd_bcommit *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c)
		return HX_ENOMEM;
	c->store = s;
	c->efd = -1;
	if (hx_blob_batch_new(&c->fill) || hx_blob_batch_new(&c->sync) ||
	    (c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		hx_blob_batch_free(c->fill);
		hx_blob_batch_free(c->sync);
		free(c);
		return HX_ENOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	*out = c;
	return HX_OK;
}

static void *bc_main(void *arg)
{
	struct hx_nd_bcommit *c = arg;
	uint64_t one = 1;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->stop && !(c->busy && !c->done))
			pthread_cond_wait(&c->cv, &c->mu);
		if (!(c->busy && !c->done))
			break; /* stopped, nothing left to commit */
		pthread_mutex_unlock(&c->mu);
		int rc = hx_blob_batch_commit(c->store, c->sync);
		pthread_mutex_lock(&c->mu);
		c->rc = rc;
		c->done = 1;
		pthread_cond_broadcast(&c->cv); /* hx_nd_bc_drain may wait */
		if (write(c->efd, &one, sizeof one) < 0) {
			/* the counter is full only when the loop never reads it:
			 * the loop's next tick finds done anyway */
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int hx_nd_bc_fd(const struct hx_nd_bcommit *c)
{
	return c ? c->efd : -1;
}

int hx_nd_bc_write(struct hx_nd_bcommit *c, const uint8_t hash[HX_ID_LEN], uint32_t i,
                   const uint8_t *data, size_t len)
{
	struct hx_nd_bchunk *a = hx_grow(c->fl, &c->capfl, c->nfl + 1, sizeof *a);
	if (!a)
		return HX_ENOMEM;
	c->fl = a;
	/* fill is the loop's: the thread only touches sync */
	int rc = hx_blob_batch_write(c->store, c->fill, hash, i, data, len);
	if (rc && rc != HX_EEXIST)
		return rc;
	/* HX_EEXIST (present, or in this batch already): listed too, so that
	 * the loop learns from the store after the commit what is present */
	memcpy(c->fl[c->nfl].hash, hash, HX_ID_LEN);
	c->fl[c->nfl++].index = i;
	return rc;
}

size_t hx_nd_bc_filling(const struct hx_nd_bcommit *c)
{
	return c->nfl;
}

int hx_nd_bc_busy(const struct hx_nd_bcommit *c)
{
	return c->busy;
}

int hx_nd_bc_kick(struct hx_nd_bcommit *c)
{
	if (c->busy || !c->nfl)
		return HX_OK;
	if (!c->started) {
		if (pthread_create(&c->thread, NULL, bc_main, c))
			return HX_ENOMEM;
		c->started = 1;
	}
	pthread_mutex_lock(&c->mu);
	hx_blob_batch *b = c->sync; /* empty: its commit emptied it */
	c->sync = c->fill;
	c->fill = b;
	c->busy = 1;
	c->done = 0;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	/* the chunks go with their batch */
	struct hx_nd_bchunk *l = c->sl;
	size_t cap = c->capsl;
	c->sl = c->fl;
	c->capsl = c->capfl;
	c->nsl = c->nfl;
	c->fl = l;
	c->capfl = cap;
	c->nfl = 0;
	return HX_OK;
}

int hx_nd_bc_take(struct hx_nd_bcommit *c, const struct hx_nd_bchunk **chunks, size_t *k, int *rc)
{
	uint64_t v;
	if (read(c->efd, &v, sizeof v) < 0) {
		/* nothing written since the last read: done says all */
	}
	pthread_mutex_lock(&c->mu);
	int done = c->busy && c->done;
	if (done) {
		*rc = c->rc;
		c->busy = 0;
	}
	pthread_mutex_unlock(&c->mu);
	if (!done)
		return 0;
	*chunks = c->sl;
	*k = c->nsl;
	c->nsl = 0; /* the list stays readable until the next kick */
	return 1;
}

int hx_nd_bc_drain(struct hx_nd_bcommit *c)
{
	int rc = HX_OK;
	if (c->started) {
		pthread_mutex_lock(&c->mu);
		while (c->busy && !c->done)
			pthread_cond_wait(&c->cv, &c->mu);
		pthread_mutex_unlock(&c->mu);
	}
	c->busy = 0;
	c->nsl = 0;
	if (c->nfl)
		rc = hx_blob_batch_commit(c->store, c->fill);
	c->nfl = 0;
	return rc;
}

void hx_nd_bc_free(struct hx_nd_bcommit **cp)
{
	struct hx_nd_bcommit *c = *cp;
	if (!c)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	hx_blob_batch_free(c->fill);
	hx_blob_batch_free(c->sync);
	if (c->efd >= 0)
		close(c->efd);
	free(c->fl);
	free(c->sl);
	free(c);
	*cp = NULL;
}
