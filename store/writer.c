/*
 * writer.c: a writer thread for bulk loads (store.h, hx_writer). It runs
 * hx_store_put_batch on a batch the caller handed over while the caller
 * prepares the next one (parses, signs, verifies), so that a large
 * import uses both cores: one batch is written and committed while the
 * next is built. One batch is in flight at a time; the caller's batch and
 * everything it points to stay untouched until hx_writer_wait returns.
 * When the thread cannot be started the batch is written at once, in the
 * caller's thread, so callers need no second path. A caller with a poll
 * loop (the node) learns that a batch is done from an eventfd instead of
 * waiting for it (hx_writer_fd, hx_writer_busy).
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "store/store_int.h"

struct hx_writer {
	hx_store *s;
	unsigned flags;
	int threaded, stop;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* the batch in flight: set by submit, cleared by the thread when done */
	hx_put *put;
	size_t n;
	int busy;
	/* its outcome, for hx_writer_wait */
	int rc;
	size_t added;
	int efd; /* written when a batch is done, or -1 */
};

static void *writer_main(void *arg)
{
	hx_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->busy)
			break;
		hx_put *put = w->put;
		size_t n = w->n, added = 0;
		pthread_mutex_unlock(&w->mu);
		int rc = hx_store_put_batch(w->s, put, n, w->flags, &added);
		pthread_mutex_lock(&w->mu);
		w->rc = rc;
		w->added = added;
		w->busy = 0;
		pthread_cond_broadcast(&w->cv);
		uint64_t one = 1;
		if (w->efd >= 0 && write(w->efd, &one, sizeof one) < 0) {
			/* full only when nobody reads it: hx_writer_busy still tells */
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int hx_writer_start(hx_writer **out, hx_store *s, unsigned flags)
{
	hx_writer *w = calloc(1, sizeof *w);
	*out = NULL;
	if (!w)
		return HX_ENOMEM;
	w->s = s;
	w->flags = flags;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!pthread_mutex_init(&w->mu, NULL)) {
		if (!pthread_cond_init(&w->cv, NULL)) {
			if (!pthread_create(&w->th, NULL, writer_main, w)) {
				w->threaded = 1;
			} else {
				pthread_cond_destroy(&w->cv);
				pthread_mutex_destroy(&w->mu);
			}
		} else {
			pthread_mutex_destroy(&w->mu);
		}
	}
	if (!w->threaded && w->efd >= 0) {
		close(w->efd);
		w->efd = -1;
	}
	*out = w;
	return HX_OK;
}

int hx_writer_fd(const hx_writer *w)
{
	return w ? w->efd : -1;
}

int hx_writer_busy(hx_writer *w)
{
	if (!w->threaded)
		return 0;
	uint64_t v;
	if (w->efd >= 0 && read(w->efd, &v, sizeof v) < 0) {
		/* nothing written since the last read */
	}
	pthread_mutex_lock(&w->mu);
	int busy = w->busy;
	pthread_mutex_unlock(&w->mu);
	return busy;
}

void hx_writer_submit(hx_writer *w, hx_put *put, size_t n)
{
	if (!w->threaded) {
		w->added = 0;
		w->rc = hx_store_put_batch(w->s, put, n, w->flags, &w->added);
		return;
	}
	uint64_t v;
	if (w->efd >= 0 && read(w->efd, &v, sizeof v) < 0) {
		/* clear already: it turns readable when this batch is done */
	}
	pthread_mutex_lock(&w->mu);
	w->put = put;
	w->n = n;
	w->busy = 1;
	w->rc = HX_OK;
	w->added = 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int hx_writer_wait(hx_writer *w, size_t *added)
{
	int rc;
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		while (w->busy)
			pthread_cond_wait(&w->cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
	}
	rc = w->rc;
	if (added)
		*added = w->added;
	w->rc = HX_OK;
	w->added = 0;
	return rc;
}

void hx_writer_stop(hx_writer **wp)
{
	hx_writer *w = wp ? *wp : NULL;
	if (!w)
		return;
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		/* a batch in flight is finished first: the thread only stops idle */
		pthread_join(w->th, NULL);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
	}
	if (w->efd >= 0)
		close(w->efd);
	free(w);
	*wp = NULL;
}
