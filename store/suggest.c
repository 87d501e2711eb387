/*
 * suggest.c: typos. For the words of a query, the indexed words within
 * Damerau-Levenshtein distance 2 (optimal string alignment; 1 for words
 * of up to 4 letters; 2 only when none is 1), ranked by distance,
 * document frequency and the query's language, put back into the query
 * text as whole corrected queries; hx_search runs the best of them when
 * the query found nothing (or little, through another language's stems).
 *
 * Candidates come from the typo index (sugix.c), built in memory the
 * second time a searcher needs a correction and kept (the first time, a
 * one-shot CLI search say, walks the vocabulary instead). A query word
 * looks up its own deletes the way the index hashed its groups' (those of
 * two bytes only when no word one edit away is found: near_words) and the
 * words of the groups found are checked with the full distance, so the
 * cost does not grow with the vocabulary; a group is read once per
 * look-up, and passed over whole when not even its most frequent word
 * could be kept. The index is rebuilt when the store's index has changed
 * since (its stats differ).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/sugix.h"

#define SX_CANDS 3  /* candidates kept per word */
#define SX_BATCH 64 /* groups gathered before they are read (walk_batch) */
/* What an edit costs a candidate's score: more than any ln(1 + df) (under
 * 22 for 2^32 documents) and bonus make up, so a word one edit away always
 * beats one two edits away, and the df decides between words equally near
 * (docs/SEARCH.md, "Typos": 3 per edit before, which let a common word two
 * edits away beat the word one edit away). */
#define SX_EDIT 100.0

void hx_osa_peq(uint64_t peq[256], const char *a, size_t la)
{
	memset(peq, 0, 256 * sizeof *peq);
	for (size_t i = 0; i < la && i < 64; i++)
		peq[(uint8_t)a[i]] |= 1ull << i;
}

/* Bit-parallel (Hyyrö, "A bit-vector algorithm for computing Levenshtein
 * and Damerau edit distances", 2003): a column of the distance table is
 * kept as two bit vectors, its steps up (vp) and down (vn) from one row
 * to the next, and a byte of b updates all of them at once, a swap of
 * two bytes through the matches of this byte and the one before (tr).
 * Written by hand: a few lines, and no Debian library computes the
 * optimal string alignment distance. */
int hx_osa_distance(const uint64_t peq[256], size_t la, const char *b, size_t lb)
{
	if (la == 0 || la > 64)
		return la == 0 ? (int)lb : -1;
	uint64_t vp = la == 64 ? ~0ull : (1ull << la) - 1, vn = 0, d0 = 0, pmprev = 0;
	uint64_t top = 1ull << (la - 1);
	int d = (int)la;
	for (size_t j = 0; j < lb; j++) {
		uint64_t pm = peq[(uint8_t)b[j]];
		uint64_t tr = ((~d0 & pm) << 1) & pmprev;
		d0 = (((pm & vp) + vp) ^ vp) | pm | vn | tr;
		uint64_t hp = vn | ~(d0 | vp), hn = vp & d0;
		if (hp & top)
			d++;
		else if (hn & top)
			d--;
		hp = (hp << 1) | 1;
		hn <<= 1;
		vp = hn | ~(d0 | hp);
		vn = hp & d0;
		pmprev = pm;
	}
	return d;
}

struct cand_word {
	char word[HX_TOKEN_MAX + 1];
	int dist;
	double score;
};

/* Candidates for one query word, the best SX_CANDS kept. */
struct near {
	hx_searcher *sr;
	const char *word;
	size_t wl;
	int max, lang;
	struct cand_word *best;
	int *nbest;
	uint8_t cnt[32];   /* the word's bytes counted by their low 5 bits (bag_over) */
	uint64_t peq[256]; /* where each byte is in the word (hx_osa_distance) */
};

/* Whether the bag distance between n's word and c is over n->max (else
 * it goes to *low): the letters of one that the other lacks, counted
 * with repeats (bytes bucketed by their low 5 bits, which can only lower
 * it), the larger of the two counts. An edit changes each count by at most one (a swap by
 * none), so the bound never exceeds the OSA distance. The word's counts
 * are made once per word; each of c's bytes either uses one up or is one
 * the word lacks, so the walk stops once c has more than max of those. */
static int bag_over(const struct near *n, const char *c, size_t cl, int *low)
{
	uint8_t cnt[32];
	size_t under = 0, max = (size_t)n->max;
	memcpy(cnt, n->cnt, sizeof cnt);
	for (size_t i = 0; i < cl; i++) {
		uint8_t *k = &cnt[(uint8_t)c[i] & 31];
		if (*k)
			--*k;
		else if (++under > max)
			return 1;
	}
	/* the word's letters left over: wl - (cl - under) */
	size_t over = n->wl + under - cl;
	*low = (int)(over > under ? over : under); /* <= the distance */
	return over > max;
}

/* Whether c, at distance low or more from n's word, cannot be kept: its
 * best score (at that distance, with every bonus) does not beat the last
 * kept. ldf is ln(1 + its document frequency). */
static int beaten(const struct near *n, double ldf, int low, size_t cl)
{
	return *n->nbest == SX_CANDS && ldf - SX_EDIT * (low > 1 ? low : 1) +
	                                                (cl > n->wl ? 0.5 : 0.0) +
	                                                (n->lang >= 0 ? 1.5 : 0.0) <=
	                                        n->best[SX_CANDS - 1].score;
}

/* Keeps c (ldf = ln(1 + its document frequency)) among the best when it is
 * near enough: ranked by distance, document frequency, length (a dropped
 * letter is the commonest typo) and, when n->lang >= 0, whether c occurs
 * in that language. A candidate that could not be kept even at the
 * lowest distance its length or its letters allow is let go first, the
 * distance not computed (a word's rare forms share the buckets of its
 * prefix: most candidates stop there). */
static void consider_at(struct near *n, const char *c, size_t cl, double ldf)
{
	struct cand_word *best = n->best;
	int low;
	if (beaten(n, ldf, (int)(cl > n->wl ? cl - n->wl : n->wl - cl), cl))
		return;
	if (bag_over(n, c, cl, &low) || beaten(n, ldf, low, cl))
		return; /* cheaper than the distance, and most fail it */
	int dist = hx_osa_distance(n->peq, n->wl, c, cl);
	if (dist > n->max || dist < 1)
		return;
	struct cand_word cw;
	memcpy(cw.word, c, cl);
	cw.word[cl] = 0;
	cw.dist = dist;
	cw.score = ldf - SX_EDIT * dist + (cl > n->wl ? 0.5 : 0.0);
	/* the language's bonus only when it could let c in (a look-up in
	 * the index): with it c must beat the last kept */
	if (n->lang >= 0 && (*n->nbest < SX_CANDS || best[SX_CANDS - 1].score < cw.score + 1.5))
		cw.score += hx_sr_in_lang(n->sr, n->lang, c, cl) ? 1.5 : 0.0;
	int at = *n->nbest;
	while (at > 0 && best[at - 1].score < cw.score)
		at--;
	if (at >= SX_CANDS)
		return;
	/* met again (a look-up of more than SX_SEEN / 2 groups does not
	 * remember them all): kept already */
	for (int i = 0; i < *n->nbest; i++)
		if (!strcmp(best[i].word, cw.word))
			return;
	int last = *n->nbest < SX_CANDS ? *n->nbest : SX_CANDS - 1;
	for (int i = last; i > at; i--)
		best[i] = best[i - 1];
	best[at] = cw;
	if (*n->nbest < SX_CANDS)
		++*n->nbest;
}

/* consider_at for the walk over the vocabulary (vocab_walk's callback). */
static int consider(void *arg, const char *c, size_t cl, uint32_t df)
{
	consider_at(arg, c, cl, log(1.0 + df));
	return 0;
}

/* A group met in a look-up, with its shortest and longest length. */
struct sx_entry {
	uint32_t g;
	uint8_t lo, hi;
};

/* Checks the groups of b[0..nb), in order, against n's word. The index is
 * larger than the caches and a look-up meets its groups (and their first
 * words) at random: each of these is a cache miss, so the records of the
 * whole batch are asked for first (prefetched when gathered, their misses
 * overlapping), then their first words (from the records), then the
 * groups are read. Only the order of memory reads changes, not which
 * words are considered or in what order. */
static void walk_batch(struct near *n, const struct hx_sugix *x, const struct sx_entry *b, int nb)
{
	size_t wl = n->wl;
	for (int i = 0; i < nb; i++) {
		const struct sx_group *gr = &x->grp[b[i].g];
		__builtin_prefetch(x->pool + gr->foff);
		if (gr->n > 1) {
			__builtin_prefetch(&x->ldf[gr->first]);
			__builtin_prefetch(&x->wlen[gr->first]);
			__builtin_prefetch(&x->woff[gr->first]);
		}
	}
	for (int i = 0; i < nb; i++) {
		size_t lo = b[i].lo, hi = b[i].hi;
		/* not even its most frequent word could be kept, at the least
		 * distance the lengths allow, with every bonus (for a group of
		 * one word, the word's own test below) */
		const struct sx_group *gr = &x->grp[b[i].g];
		if (beaten(n, gr->max, (int)(lo > wl ? lo - wl : wl > hi ? wl - hi : 0), hi))
			continue;
		if (gr->n == 1) {
			consider_at(n, x->pool + gr->foff, lo, gr->max);
			continue;
		}
		for (uint32_t id = gr->first; id < gr->first + gr->n; id++) {
			size_t cl = x->wlen[id];
			if ((cl > wl ? cl - wl : wl - cl) > (size_t)n->max)
				continue; /* too long or short to be near */
			/* too rare to be kept at the distance its length allows:
			 * its word and df are not read (a word's rare forms share
			 * its group) */
			double ldf = x->ldf[id];
			if (!beaten(n, ldf, (int)(cl > wl ? cl - wl : wl - cl), cl))
				consider_at(n, x->pool + x->woff[id], cl, ldf);
		}
	}
}

/* Reads the groups of the buckets of h[from..to) not met before. The
 * groups in bucket order and the words of each in order: which of two
 * words of equal score is kept, the first met, does not depend on how
 * the groups are laid out. They are gathered SX_BATCH at a time (the
 * length and seen tests), then read in the same order (walk_batch). */
static void walk_keys(struct near *n, const struct hx_sugix *x, const uint32_t *h, int from, int to,
                      struct hx_sx_seen *st)
{
	size_t all = 0, wl = n->wl, max = (size_t)n->max;
	for (int j = from; j < to; j++) {
		uint32_t b = h[j] & (x->nb - 1);
		all += x->boff[b + 1] - x->boff[b];
		/* each bucket is a cache miss or two: asked for all at once */
		__builtin_prefetch(&x->ids[x->boff[b]]);
		__builtin_prefetch(&x->lh[x->boff[b]]);
	}
	hx_sx_seen_room(st, all);
	struct sx_entry batch[SX_BATCH];
	int nbatch = 0;
	for (int j = from; j < to; j++) {
		uint32_t b = h[j] & (x->nb - 1);
		for (uint32_t e = x->boff[b]; e < x->boff[b + 1]; e++) {
			uint32_t g = x->ids[e];
			size_t lo = x->lh[e] >> 8, hi = x->lh[e] & 0xff;
			if (lo > wl + max || hi + max < wl)
				continue; /* every word too long or too short to be near */
			if (!hx_sx_seen_first(st, g))
				continue; /* checked already */
			__builtin_prefetch(&x->grp[g]);
			batch[nbatch++] = (struct sx_entry){ g, (uint8_t)lo, (uint8_t)hi };
			if (nbatch == SX_BATCH) {
				walk_batch(n, x, batch, nbatch);
				nbatch = 0;
			}
		}
	}
	walk_batch(n, x, batch, nbatch);
}

/* The words one edit away only, when there is one: those two edits away
 * are let go (they rank below any one edit away: SX_EDIT). Returns
 * whether there was one. */
static int nearest_only(const struct cand_word *best, int *nbest)
{
	if (*nbest == 0 || best[0].dist != 1)
		return 0;
	while (best[*nbest - 1].dist != 1)
		--*nbest;
	return 1;
}

/* The best few indexed words near word, best first: from the delete index
 * when the searcher has one, else by a walk over the whole vocabulary.
 * Words one edit away come first, and when there is one, no word two
 * edits away is offered (the nearest correction is the likeliest, as in
 * Norvig's corrector; docs/SEARCH.md, "Typos"). So the index is looked up
 * with the word's deletes of at most one byte first: every word one edit
 * away shares one of those with the word (a substitution, a swap or a
 * byte more or less within the indexed prefix: a delete on each side;
 * beyond it, the prefix itself), and the deletes of two bytes are looked
 * up only when none is found. */
static int near_words(hx_searcher *sr, const char *word, int lang, struct cand_word *best,
                      int *nbest)
{
	struct hx_sugix *x = sr->sx;
	size_t wl = strlen(word);
	struct near n; /* peq is set whole by hx_osa_peq, cnt below: not zeroed twice */
	n.sr = sr;
	n.word = word;
	n.wl = wl;
	n.max = wl <= 4 ? 1 : SX_MAXD;
	n.lang = lang;
	n.best = best;
	n.nbest = nbest;
	memset(n.cnt, 0, sizeof n.cnt);
	uint32_t h[SX_DELS];
	*nbest = 0;
	if (wl > HX_TOKEN_MAX)
		return HX_OK;
	for (size_t i = 0; i < wl; i++)
		n.cnt[(uint8_t)word[i] & 31]++; /* at most HX_TOKEN_MAX each */
	hx_osa_peq(n.peq, word, wl);
	if (!x) {
		int rc = hx_sx_vocab_walk(sr, consider, &n);
		nearest_only(best, nbest);
		return rc;
	}
	/* the deletes of two bytes (21 of 29) are made only when needed;
	 * those of at most one come first either way */
	int n1 = hx_sx_deletes(word, wl, 1, h, NULL), nh;
	struct hx_sx_seen st; /* its slots are cleared as they are used */
	hx_sx_seen_init(&st);
	walk_keys(&n, x, h, 0, n1, &st);
	if (!nearest_only(best, nbest) && n.max > 1) {
		nh = hx_sx_deletes(word, wl, n.max, h, &n1);
		walk_keys(&n, x, h, n1, nh, &st);
	}
	return HX_OK;
}

/* Whether word has postings in its exact form; *df gets their count. */
static int known(hx_searcher *sr, const char *word, uint32_t *df, int *err)
{
	char key[HX_TOKEN_MAX + 2];
	size_t kl = hx_ix_wkey(key, word, strlen(word));
	hx_ix_term ti;
	*df = 0;
	if (!kl)
		return 0;
	int rc = hx_sr_term(sr, key, kl, &ti);
	if (rc && rc != HX_ENOTFOUND)
		*err = rc;
	if (rc)
		return 0;
	*df = ti.df;
	return 1;
}

/* qtext with the words at fix[] replaced by their choice (or, with quote,
 * quoted as typed so that they are searched as they are). */
struct fix {
	size_t start, end;
	struct cand_word best[SX_CANDS];
	int n, pick; /* pick < 0: leave the word */
};

static char *rewrite(const char *qtext, const struct fix *fix, int nfix, int quote)
{
	size_t ql = strlen(qtext), o = 0, pos = 0;
	char *out = malloc(ql + 1 + (size_t)nfix * (HX_TOKEN_MAX + 3));
	if (!out)
		return NULL;
	for (int f = 0; f < nfix; f++) {
		if (fix[f].pick < 0)
			continue;
		memcpy(out + o, qtext + pos, fix[f].start - pos);
		o += fix[f].start - pos;
		if (quote) {
			out[o++] = '"';
			memcpy(out + o, qtext + fix[f].start, fix[f].end - fix[f].start);
			o += fix[f].end - fix[f].start;
			out[o++] = '"';
		} else {
			const char *w = fix[f].best[fix[f].pick].word;
			memcpy(out + o, w, strlen(w));
			o += strlen(w);
		}
		pos = fix[f].end;
	}
	memcpy(out + o, qtext + pos, ql - pos);
	o += ql - pos;
	out[o] = 0;
	return out;
}

/* One more corrected query (and its "as typed" form) into alt. */
static int add_alt(const char *qtext, const struct fix *fix, int nfix,
                   hx_correction alt[HX_CORRECTIONS], int *nalt)
{
	if (!(alt[*nalt].query = rewrite(qtext, fix, nfix, 0)) ||
	    !(alt[*nalt].instead = rewrite(qtext, fix, nfix, 1)))
		return HX_ENOMEM;
	++*nalt;
	return HX_OK;
}

int hx_corrections(hx_searcher *sr, const char *qtext, const hx_query *q, int lang, int some,
                   hx_correction alt[HX_CORRECTIONS], int *nalt)
{
	struct fix fix[HX_QUERY_CLAUSES];
	uint32_t df[HX_QUERY_CLAUSES];
	int isknown[HX_QUERY_CLAUSES];
	const char *word[HX_QUERY_CLAUSES];
	int nfix = 0, nunknown = 0, err = 0, rc;
	*nalt = 0;
	/* The first correction of a searcher walks the vocabulary (a one-shot
	 * CLI search pays no build); from the second on, the delete index. */
	if (sr->sx && (sr->sx->next_doc != sr->st.next_doc || sr->sx->ndocs != sr->st.ndocs))
		hx_sugix_free(&sr->sx);
	if (!sr->sx && sr->ncorrect++ > 0 && (rc = hx_sugix_build(sr, &sr->sx)))
		return rc;
	for (size_t i = 0; i < q->nclauses && nfix < HX_QUERY_CLAUSES; i++) {
		const hx_q_clause *c = &q->clauses[i];
		if (c->negated)
			continue;
		for (size_t j = 0; j < c->ntext && nfix < HX_QUERY_CLAUSES; j++) {
			const hx_q_text *t = &c->text[j];
			if (t->kind != HX_Q_WORD || t->nwords != 1)
				continue;
			isknown[nfix] = known(sr, t->words[0], &df[nfix], &err);
			if (err)
				return err;
			fix[nfix].start = t->src_start;
			fix[nfix].end = t->src_end;
			fix[nfix].pick = -1;
			fix[nfix].n = -1; /* candidates not looked for yet */
			word[nfix] = t->words[0];
			nunknown += !isknown[nfix];
			nfix++;
		}
	}
	if (nunknown) {
		/* Every word without an exact form takes its best candidate; the
		 * first of them each of its candidates in turn. */
		int first = -1;
		for (int f = 0; f < nfix; f++) {
			if (isknown[f])
				continue;
			if ((rc = near_words(sr, word[f], lang, fix[f].best, &fix[f].n)))
				return rc;
			if (fix[f].n) {
				fix[f].pick = 0;
				if (first < 0)
					first = f;
			}
		}
		for (int s = 0; first >= 0 && s < fix[first].n && *nalt < HX_CORRECTIONS; s++) {
			fix[first].pick = s;
			if ((rc = add_alt(qtext, fix, nfix, alt, nalt)))
				return rc;
		}
		return HX_OK;
	}
	if (some)
		return HX_OK; /* hits, and every word is known: nothing to correct */
	/* Every word is known and yet nothing matches: the rarest words are
	 * the likeliest typos; each is replaced alone. */
	for (int round = 0; round < nfix && *nalt < HX_CORRECTIONS; round++) {
		int r = -1;
		for (int f = 0; f < nfix; f++)
			if (fix[f].pick == -1 && (r < 0 || df[f] < df[r]))
				r = f;
		if (r < 0)
			break;
		if ((rc = near_words(sr, word[r], lang, fix[r].best, &fix[r].n)))
			return rc;
		if (!fix[r].n) {
			fix[r].pick = -2; /* nothing near it */
			continue;
		}
		fix[r].pick = 0;
		if ((rc = add_alt(qtext, fix, nfix, alt, nalt)))
			return rc;
		fix[r].pick = -2; /* done */
	}
	return HX_OK;
}
