/*
 * sugix.h: the typo index (sugix.c), for the look-ups of suggest.c, and
 * the set of its groups a look-up has met (inline: read once per bucket
 * entry; tests/test_search.c checks it against a model).
 */
#ifndef HX_SUGIX_H
#define HX_SUGIX_H

#include <string.h>
#include "store/search_int.h"

#define SX_PREFIX 7 /* bytes of a word whose deletes are indexed */
#define SX_MAXD 2   /* deletes indexed, and the largest distance */
#define SX_DELS 64  /* deletes of one prefix: 1 + 7 + 21 = 29 at most */

_Static_assert(HX_TOKEN_MAX <= UINT8_MAX, "a word's length fits wlen[]");

/* A group: the n words from first on, which share their first SX_PREFIX
 * bytes (or one shorter word); max is their largest ln(1 + df), so that
 * a look-up can let the group go on one record; foff is the first
 * word's offset in the pool (woff[first]), so that a group of one word is
 * checked from its record and its bytes, one cache miss fewer. */
struct sx_group {
	double max;
	uint32_t first, n, foff;
};

struct hx_sugix {
	uint32_t next_doc; /* the index stats it was built from */
	uint64_t ndocs;
	char *pool; /* words, NUL-terminated */
	size_t plen, pcap;
	uint32_t *woff, *df; /* per word: offset in pool; document frequency (freed once
	                        ldf is made) */
	double *ldf;         /* per word: ln(1 + df), as a candidate's score has it */
	uint8_t *wlen;       /* per word: its length */
	size_t nw, wcap, dcap, lcap;
	struct sx_group *grp;
	uint32_t ng;
	uint32_t nb;    /* buckets (a power of two) */
	uint32_t *boff; /* nb + 1 offsets into ids */
	uint32_t *ids;  /* group numbers, bucket after bucket, each bucket's
	                   in ascending order */
	uint16_t *lh;   /* beside each of ids: the group's shortest length << 8
	                   | its longest (tested without reading the group) */
};

#define SX_SEEN 4096 /* groups remembered per look-up (a power of two) */

/* The groups a look-up has met, as group numbers + 1 (open addressing
 * over the first ns slots). It holds every group of the buckets walked
 * when they have fewer than SX_SEEN / 2 entries (most look-ups: a few
 * dozen), so only that much of it is cleared; the first SX_SEEN / 2
 * groups otherwise. */
struct hx_sx_seen {
	uint32_t slot[SX_SEEN];
	uint32_t ns; /* a power of two, or 0 before the first walk */
	int n;
	size_t all; /* entries of the buckets walked */
};

/* Makes room in st for the groups of more bucket entries, keeping those
 * met (the second walk of a look-up comes after the first). */
static inline void hx_sx_seen_room(struct hx_sx_seen *st, size_t more)
{
	uint32_t ns = st->ns ? st->ns : 64, keep[SX_SEEN / 2];
	int nk = 0;
	st->all += more;
	while (ns < SX_SEEN && ns < 2 * st->all)
		ns *= 2;
	if (ns == st->ns)
		return;
	for (uint32_t i = 0; i < st->ns; i++)
		if (st->slot[i])
			keep[nk++] = st->slot[i]; /* at most ns / 2 */
	memset(st->slot, 0, ns * sizeof *st->slot);
	st->ns = ns;
	for (int i = 0; i < nk; i++) {
		uint32_t at = ((keep[i] - 1) * 2654435761u) & (ns - 1);
		while (st->slot[at])
			at = (at + 1) & (ns - 1);
		st->slot[at] = keep[i];
	}
}

/* Whether group g is met for the first time (then it is remembered while
 * there is room). Only after hx_sx_seen_room has made the slots. */
static inline int hx_sx_seen_first(struct hx_sx_seen *st, uint32_t g)
{
	uint32_t at = (g * 2654435761u) & (st->ns - 1);
	while (st->slot[at] && st->slot[at] != g + 1)
		at = (at + 1) & (st->ns - 1);
	if (st->slot[at])
		return 0;
	if (st->n < (int)st->ns / 2) {
		st->slot[at] = g + 1;
		st->n++;
	}
	return 1;
}

/* An empty set: its slots are cleared by the first hx_sx_seen_room. */
static inline void hx_sx_seen_init(struct hx_sx_seen *st)
{
	st->ns = 0;
	st->n = 0;
	st->all = 0;
}

/* The hashes of w's first SX_PREFIX bytes with 0..maxd bytes deleted,
 * without repeats, fewest deletes first; returns how many (at most
 * SX_DELS), and in *n1 (when not NULL) how many have at most one. */
int hx_sx_deletes(const char *w, size_t n, int maxd, uint32_t h[SX_DELS], int *n1);

/* Calls cb with every word of the vocabulary (every "W" term of ix.post)
 * and its document frequency; a non-zero return stops the walk. */
typedef int (*hx_sx_vocab_cb)(void *arg, const char *w, size_t n, uint32_t df);
int hx_sx_vocab_walk(hx_searcher *sr, hx_sx_vocab_cb cb, void *arg);

/* Reads the vocabulary and builds the delete index. */
int hx_sugix_build(hx_searcher *sr, struct hx_sugix **out);

#endif
