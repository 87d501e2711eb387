/*
 * sugix.c: the typo index, a symmetric-delete index of the vocabulary
 * built in memory by a searcher (suggest.c looks it up). The words (in
 * byte order) fall into groups that share their first SX_PREFIX bytes (a
 * shorter word is a group of its own); a group and the strings made by
 * deleting up to 2 bytes of its prefix are hashed into buckets of group
 * numbers (hashed once, then counted and filled, so no sort). The forms
 * of one word (a Polish noun or verb has dozens) share a group, which a
 * look-up reads once instead of once per bucket.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "store/sugix.h"

void hx_sugix_free(struct hx_sugix **px)
{
	struct hx_sugix *x = *px;
	if (!x)
		return;
	free(x->pool);
	free(x->woff);
	free(x->df);
	free(x->ldf);
	free(x->wlen);
	free(x->grp);
	free(x->lh);
	free(x->boff);
	free(x->ids);
	free(x);
	*px = NULL;
}

static uint32_t fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return (h ^ (uint32_t)n) * 16777619u;
}

/* Adds the hash of b[0..n) to h[0..*nh) unless it is there. */
static void hash_once(uint32_t h[SX_DELS], int *nh, const char *b, size_t n)
{
	uint32_t x = fnv(b, n);
	for (int k = 0; k < *nh; k++)
		if (h[k] == x)
			return;
	if (*nh < SX_DELS)
		h[(*nh)++] = x;
}

int hx_sx_deletes(const char *w, size_t n, int maxd, uint32_t h[SX_DELS], int *n1)
{
	char b[SX_PREFIX];
	int nh = 0;
	if (n > SX_PREFIX)
		n = SX_PREFIX;
	hash_once(h, &nh, w, n);
	for (size_t i = 0; i < n && maxd >= 1; i++) {
		size_t o = 0;
		for (size_t k = 0; k < n; k++)
			if (k != i)
				b[o++] = w[k];
		hash_once(h, &nh, b, o);
	}
	if (n1)
		*n1 = nh;
	for (size_t i = 0; i < n && maxd >= 2; i++)
		for (size_t j = i + 1; j < n; j++) {
			size_t o = 0;
			for (size_t k = 0; k < n; k++)
				if (k != i && k != j)
					b[o++] = w[k];
			hash_once(h, &nh, b, o);
		}
	return nh;
}

static int sugix_add(struct hx_sugix *x, const char *w, size_t n, uint32_t df)
{
	char *np = hx_grow(x->pool, &x->pcap, x->plen + n + 1, 1);
	if (!np)
		return HX_ENOMEM;
	x->pool = np;
	uint32_t *no = hx_grow(x->woff, &x->wcap, x->nw + 1, sizeof *no);
	if (!no)
		return HX_ENOMEM;
	x->woff = no;
	uint32_t *nd = hx_grow(x->df, &x->dcap, x->nw + 1, sizeof *nd);
	if (!nd)
		return HX_ENOMEM;
	x->df = nd;
	uint8_t *nl = hx_grow(x->wlen, &x->lcap, x->nw + 1, 1);
	if (!nl)
		return HX_ENOMEM;
	x->wlen = nl;
	x->wlen[x->nw] = (uint8_t)n; /* n <= HX_TOKEN_MAX */
	memcpy(x->pool + x->plen, w, n);
	x->pool[x->plen + n] = 0;
	x->woff[x->nw] = (uint32_t)x->plen;
	x->df[x->nw++] = df;
	x->plen += n + 1;
	return HX_OK;
}

int hx_sx_vocab_walk(hx_searcher *sr, hx_sx_vocab_cb cb, void *arg)
{
	MDB_cursor *c;
	MDB_val k = { 1, "W" }, v;
	char prev[HX_TOKEN_MAX + 1];
	size_t prevl = (size_t)-1;
	int rc = mdb_cursor_open(sr->txn, sr->ix->post, &c), stop = 0;
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && !stop;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const char *kb = k.mv_data;
		if (!k.mv_size || kb[0] != 'W')
			break;
		const char *z = memchr(kb, 0, k.mv_size);
		if (!z)
			continue;
		size_t tl = (size_t)(z - kb) - 1;
		if (tl > HX_TOKEN_MAX || (tl == prevl && !memcmp(prev, kb + 1, tl)))
			continue; /* another block of the same word */
		uint32_t df;
		if (k.mv_size == (size_t)(z - kb) + 1 && v.mv_size == 12)
			df = hx_le32_get(v.mv_data); /* the header of a word of several blocks */
		else if (v.mv_size >= 9)
			df = ((const uint8_t *)v.mv_data)[0]; /* its only block */
		else
			continue;
		memcpy(prev, kb + 1, tl);
		prevl = tl;
		stop = cb(arg, kb + 1, tl, df);
	}
	mdb_cursor_close(c);
	if (stop)
		return stop;
	return rc == 0 || rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

static int sugix_add_cb(void *arg, const char *w, size_t n, uint32_t df)
{
	return sugix_add(arg, w, n, df);
}

int hx_sugix_build(hx_searcher *sr, struct hx_sugix **out)
{
	struct hx_sugix *x = calloc(1, sizeof *x);
	uint32_t *hs = NULL;
	int rc;
	*out = NULL;
	if (!x)
		return HX_ENOMEM;
	x->next_doc = sr->st.next_doc;
	x->ndocs = sr->st.ndocs;
	if ((rc = hx_sx_vocab_walk(sr, sugix_add_cb, x)))
		goto fail;
	if (!(x->ldf = malloc((x->nw ? x->nw : 1) * sizeof *x->ldf))) {
		rc = HX_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < x->nw; i++)
		x->ldf[i] = log(1.0 + x->df[i]);
	free(x->df); /* a look-up needs ln(1 + df) alone */
	x->df = NULL;
	x->dcap = 0;
	/* The groups: runs of words with the same first SX_PREFIX bytes (the
	 * vocabulary is in byte order, so a group is one run). */
	uint16_t *glh = malloc((x->nw ? x->nw : 1) * sizeof *glh); /* lo << 8 | hi */
	if (!glh || !(x->grp = malloc((x->nw ? x->nw : 1) * sizeof *x->grp))) {
		free(glh);
		rc = HX_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < x->nw; i++) {
		struct sx_group *g = x->ng ? &x->grp[x->ng - 1] : NULL;
		uint16_t l = x->wlen[i];
		if (g && l >= SX_PREFIX && x->wlen[g->first] >= SX_PREFIX &&
		    !memcmp(x->pool + x->woff[g->first], x->pool + x->woff[i], SX_PREFIX)) {
			g->n++;
			if (x->ldf[i] > g->max)
				g->max = x->ldf[i];
			if (l < glh[x->ng - 1] >> 8)
				glh[x->ng - 1] = (uint16_t)(l << 8 | (glh[x->ng - 1] & 0xff));
			if (l > (glh[x->ng - 1] & 0xff))
				glh[x->ng - 1] = (uint16_t)((glh[x->ng - 1] & 0xff00) | l);
			continue;
		}
		g = &x->grp[x->ng];
		g->first = (uint32_t)i;
		g->foff = x->woff[i];
		g->n = 1;
		g->max = x->ldf[i];
		glh[x->ng++] = (uint16_t)(l << 8 | l);
	}
	/* as many records as groups (fewer than words) */
	struct sx_group *sg = realloc(x->grp, (x->ng ? x->ng : 1) * sizeof *x->grp);
	if (sg)
		x->grp = sg;
	/* The deletes of every group's prefix, hashed once; then bucket
	 * sizes, then the buckets filled (no sort). */
	size_t hcap = 0, total = 0, wtotal = 0;
	uint8_t *nh = malloc(x->ng ? x->ng : 1);
	if (!nh) {
		free(glh);
		rc = HX_ENOMEM;
		goto fail;
	}
	for (uint32_t g = 0; g < x->ng; g++) {
		uint32_t *nhs = hx_grow(hs, &hcap, total + SX_DELS, sizeof *hs);
		if (!nhs) {
			free(nh);
			free(glh);
			rc = HX_ENOMEM;
			goto fail;
		}
		hs = nhs;
		uint32_t f = x->grp[g].first;
		nh[g] = (uint8_t)hx_sx_deletes(x->pool + x->woff[f], x->wlen[f], SX_MAXD,
		                               hs + total, NULL);
		total += nh[g];
		wtotal += (size_t)nh[g] * x->grp[g].n;
	}
	x->nb = 16;
	/* as many buckets as a bucket per two deletes of every word (not
	 * of every group) makes: each bucket then holds the groups of the
	 * words it held before groups, in the same order, and no more */
	while (x->nb < wtotal / 2 && x->nb < (1u << 30))
		x->nb *= 2;
	x->boff = calloc((size_t)x->nb + 1, sizeof *x->boff);
	x->ids = malloc((total ? total : 1) * sizeof *x->ids);
	x->lh = malloc((total ? total : 1) * sizeof *x->lh);
	if (!x->boff || !x->ids || !x->lh || total > UINT32_MAX || x->nw >= UINT32_MAX) {
		free(nh);
		free(glh);
		rc = HX_ENOMEM;
		goto fail;
	}
	for (size_t e = 0; e < total; e++)
		x->boff[(hs[e] & (x->nb - 1)) + 1]++;
	for (uint32_t b = 0; b < x->nb; b++)
		x->boff[b + 1] += x->boff[b];
	for (uint32_t g = 0, e = 0; g < x->ng; g++)
		for (int j = 0; j < nh[g]; j++, e++) {
			uint32_t at = x->boff[hs[e] & (x->nb - 1)]++;
			x->ids[at] = g;
			x->lh[at] = glh[g];
		}
	free(nh);
	free(glh);
	free(hs);
	hs = NULL;
	/* Filling moved each offset to its bucket's end: move them back. */
	for (uint32_t b = x->nb; b > 0; b--)
		x->boff[b] = x->boff[b - 1];
	x->boff[0] = 0;
	*out = x;
	return HX_OK;
fail:
	free(hs);
	hx_sugix_free(&x);
	return rc;
}

void hx_sugix_size(const hx_searcher *sr, size_t *words, size_t *bytes)
{
	const struct hx_sugix *x = sr->sx;
	*words = x ? x->nw : 0;
	*bytes = x ? x->pcap + x->lcap + x->nw * sizeof *x->ldf + x->ng * sizeof *x->grp +
	                         (x->wcap + x->dcap + (size_t)x->nb + 1) * 4 +
	                         (size_t)x->boff[x->nb] * (sizeof *x->ids + sizeof *x->lh)
	           : 0;
}
