/*
 * fpt.c: the reconciliation fingerprint table (see fpt.h). Negentropy asks
 * for the fingerprint of index ranges [i, j) of the time-ordered items; the
 * id sum mod 2^256 is a group, so sum[i, j) = P(j) - P(i) with P a prefix
 * sum. We keep P coarse in LMDB: the items of `bytime` are cut into blocks
 * of at most HX_FPT_BLOCK_MAX consecutive items, and the table "fpt" holds
 * each block's item count and id sum:
 *
 *   key   offset size  field
 *         0      8     ts u64 big-endian  } block start: every item >= it
 *         8      32    id                 } and < the next block's start
 *   value 0      4     count u32 big-endian (items in the block)
 *         4      32    sum of the ids, 256-bit little-endian, mod 2^256
 *
 * The first block always starts at the all-zero key (ts 0, id 0...0), so
 * every item has a block. Adding an item updates its block in the entry's
 * write transaction; a block growing past the maximum is split in two by
 * scanning it in bytime (amortised: once per ~256 additions). A view reads
 * all block rows once (~count/384 rows: 2,600 for a million items) into
 * prefix arrays; P(i) at a block start is then free, and inside a block it
 * costs reading that one block from bytime (cached: a reconciliation
 * touches few distinct blocks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/fpt.h"
#include "store/mdb_err.h"

#define KEY_LEN (8 + HX_ID_LEN)
#define VAL_LEN (4 + 32)
#define REBUILD_FILL 384      /* items per block when building in bulk */
#define BLOCK_SANE (1u << 20) /* refuse absurd counts as corruption */
#define CACHE_SLOTS 8

static void key_of(uint8_t k[KEY_LEN], uint64_t ts, const uint8_t *id)
{
	hx_be64_put(k, ts);
	memcpy(k + 8, id, HX_ID_LEN);
}

static int put_block(struct hx_fpt *t, MDB_txn *txn, const uint8_t key[KEY_LEN], uint32_t count,
                     const uint8_t sum[32])
{
	uint8_t val[VAL_LEN];
	hx_be32_put(val, count);
	memcpy(val + 4, sum, 32);
	MDB_val k = { KEY_LEN, (void *)key }, v = { VAL_LEN, val };
	return hx_mdb_err(mdb_put(txn, t->dbi, &k, &v, 0));
}

/* Positions c on the block holding key: the greatest start <= key. */
static int find_block(MDB_cursor *c, const uint8_t key[KEY_LEN], MDB_val *k, MDB_val *v)
{
	k->mv_size = KEY_LEN;
	k->mv_data = (void *)key;
	int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
	if (rc == 0 && (k->mv_size != KEY_LEN || memcmp(k->mv_data, key, KEY_LEN)))
		rc = mdb_cursor_get(c, k, v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, k, v, MDB_LAST);
	if (rc == MDB_NOTFOUND)
		return HX_ECORRUPT; /* no first block */
	if (rc)
		return hx_mdb_err(rc);
	if (k->mv_size != KEY_LEN || v->mv_size != VAL_LEN)
		return HX_ECORRUPT;
	return HX_OK;
}

int hx_fpt_rebuild(struct hx_fpt *t, MDB_txn *txn)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t start[KEY_LEN] = { 0 }, sum[32] = { 0 };
	uint32_t n = 0;
	int rc = mdb_drop(txn, t->dbi, 0);
	if (rc)
		return hx_mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, t->bytime, &c)))
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != KEY_LEN) {
			rc = HX_ECORRUPT;
			goto out;
		}
		if (n == REBUILD_FILL) {
			if ((rc = put_block(t, txn, start, n, sum)))
				goto out;
			memcpy(start, k.mv_data, KEY_LEN);
			memset(sum, 0, sizeof sum);
			n = 0;
		}
		hx_ne_acc_add(sum, (const uint8_t *)k.mv_data + 8);
		n++;
	}
	if (rc != MDB_NOTFOUND) {
		rc = hx_mdb_err(rc);
		goto out;
	}
	rc = put_block(t, txn, start, n, sum);
out:
	mdb_cursor_close(c);
	return rc;
}

int hx_fpt_open(struct hx_fpt *t, MDB_txn *txn, int create)
{
	memset(t, 0, sizeof *t);
	int rc = mdb_dbi_open(txn, "bytime", 0, &t->bytime);
	if (rc)
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
	rc = mdb_dbi_open(txn, "fpt", create ? MDB_CREATE : 0, &t->dbi);
	if (rc == MDB_NOTFOUND && !create)
		return HX_OK; /* t->ready stays 0 */
	if (rc)
		return hx_mdb_err(rc);
	t->ready = 1;
	if (create) {
		uint8_t zero[KEY_LEN] = { 0 };
		MDB_val k = { KEY_LEN, zero }, v;
		rc = mdb_get(txn, t->dbi, &k, &v);
		if (rc == MDB_NOTFOUND)
			return hx_fpt_rebuild(t, txn);
		return hx_mdb_err(rc);
	}
	return HX_OK;
}

/* Splits the block starting at bkey (count items, sum total) in two halves
 * by walking its items in bytime. */
static int split_block(struct hx_fpt *t, MDB_txn *txn, const uint8_t bkey[KEY_LEN], uint32_t count,
                       const uint8_t total[32])
{
	MDB_cursor *c, *fc;
	MDB_val k, v;
	uint8_t sum1[32] = { 0 }, sum2[32], key2[KEY_LEN], next[KEY_LEN];
	uint32_t half = count / 2;
	int has_next = 0, rc;

	/* the next block's start bounds this block's items */
	if ((rc = mdb_cursor_open(txn, t->dbi, &fc)))
		return hx_mdb_err(rc);
	k.mv_size = KEY_LEN;
	k.mv_data = (void *)bkey;
	rc = mdb_cursor_get(fc, &k, &v, MDB_SET_KEY);
	if (!rc)
		rc = mdb_cursor_get(fc, &k, &v, MDB_NEXT);
	if (!rc) {
		if (k.mv_size != KEY_LEN)
			rc = HX_ECORRUPT;
		else
			memcpy(next, k.mv_data, KEY_LEN), has_next = 1;
	} else if (rc == MDB_NOTFOUND) {
		rc = 0;
	} else {
		rc = hx_mdb_err(rc);
	}
	mdb_cursor_close(fc);
	if (rc)
		return rc;

	if ((rc = mdb_cursor_open(txn, t->bytime, &c)))
		return hx_mdb_err(rc);
	k.mv_size = KEY_LEN;
	k.mv_data = (void *)bkey;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	for (uint32_t i = 0; i <= half; i++) {
		if (rc == MDB_NOTFOUND ||
		    (rc == 0 && (k.mv_size != KEY_LEN ||
		                 (has_next && memcmp(k.mv_data, next, KEY_LEN) >= 0)))) {
			rc = HX_ECORRUPT; /* fewer items than the block's count */
			break;
		}
		if (rc) {
			rc = hx_mdb_err(rc);
			break;
		}
		if (i == half) {
			memcpy(key2, k.mv_data, KEY_LEN);
			break;
		}
		hx_ne_acc_add(sum1, (const uint8_t *)k.mv_data + 8);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc)
		return rc;
	memcpy(sum2, total, 32);
	hx_ne_acc_sub(sum2, sum1);
	if ((rc = put_block(t, txn, bkey, half, sum1)))
		return rc;
	return put_block(t, txn, key2, count - half, sum2);
}

static int update(struct hx_fpt *t, MDB_txn *txn, uint64_t ts, const uint8_t id[HX_ID_LEN], int add)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t key[KEY_LEN], bkey[KEY_LEN], sum[32];
	int rc;

	if (!t->ready)
		return HX_ECORRUPT;
	if (ts == HX_NE_TS_INF)
		return HX_EINVAL;
	key_of(key, ts, id);
	if ((rc = mdb_cursor_open(txn, t->dbi, &c)))
		return hx_mdb_err(rc);
	rc = find_block(c, key, &k, &v);
	if (!rc) {
		memcpy(bkey, k.mv_data, KEY_LEN);
		memcpy(sum, (const uint8_t *)v.mv_data + 4, 32);
	}
	uint32_t count = rc ? 0 : hx_be32_get(v.mv_data);
	mdb_cursor_close(c);
	if (rc)
		return rc;
	if (add) {
		if (count >= BLOCK_SANE)
			return HX_ECORRUPT;
		count++;
		hx_ne_acc_add(sum, id);
	} else {
		if (count == 0)
			return HX_ENOTFOUND;
		count--;
		hx_ne_acc_sub(sum, id);
	}
	if (add && count > HX_FPT_BLOCK_MAX)
		return split_block(t, txn, bkey, count, sum);
	return put_block(t, txn, bkey, count, sum);
}

int hx_fpt_add(struct hx_fpt *t, MDB_txn *txn, uint64_t ts, const uint8_t id[HX_ID_LEN])
{
	return update(t, txn, ts, id, 1);
}

int hx_fpt_del(struct hx_fpt *t, MDB_txn *txn, uint64_t ts, const uint8_t id[HX_ID_LEN])
{
	return update(t, txn, ts, id, 0);
}

int hx_fpt_check(struct hx_fpt *t, MDB_txn *txn, void (*report)(void *, const char *), void *arg,
                 uint64_t *problems)
{
	MDB_cursor *fc = NULL, *bc = NULL;
	MDB_val fk, fv, bk, bv;
	char line[200];
	int rc, brc;
	uint64_t block = 0;

#define PROBLEM(...)                                      \
	do {                                              \
		snprintf(line, sizeof line, __VA_ARGS__); \
		(*problems)++;                            \
		if (report)                               \
			report(arg, line);                \
	} while (0)

	if (!t->ready) {
		PROBLEM("fpt: reconciliation table missing");
		return HX_OK;
	}
	if ((rc = mdb_cursor_open(txn, t->dbi, &fc)) ||
	    (rc = mdb_cursor_open(txn, t->bytime, &bc))) {
		rc = hx_mdb_err(rc);
		goto out;
	}
	rc = mdb_cursor_get(fc, &fk, &fv, MDB_FIRST);
	brc = mdb_cursor_get(bc, &bk, &bv, MDB_FIRST);
	if (rc == MDB_NOTFOUND) {
		PROBLEM("fpt: no blocks");
		rc = HX_OK;
		goto out;
	}
	{
		static const uint8_t zero[KEY_LEN];
		if (!rc && (fk.mv_size != KEY_LEN || memcmp(fk.mv_data, zero, KEY_LEN)))
			PROBLEM("fpt: first block does not start at the zero key");
	}
	while (rc == 0) {
		uint8_t start[KEY_LEN], want[32], got[32] = { 0 }, next[KEY_LEN];
		uint32_t count, n = 0;
		int has_next;
		if (fk.mv_size != KEY_LEN || fv.mv_size != VAL_LEN) {
			PROBLEM("fpt: block %llu has a bad key or value size",
			        (unsigned long long)block);
			rc = HX_OK;
			goto out;
		}
		memcpy(start, fk.mv_data, KEY_LEN);
		count = hx_be32_get(fv.mv_data);
		memcpy(want, (const uint8_t *)fv.mv_data + 4, 32);
		rc = mdb_cursor_get(fc, &fk, &fv, MDB_NEXT);
		if (rc && rc != MDB_NOTFOUND) {
			rc = hx_mdb_err(rc);
			goto out;
		}
		has_next = rc == 0 && fk.mv_size == KEY_LEN;
		if (has_next)
			memcpy(next, fk.mv_data, KEY_LEN);
		while (brc == 0 &&
		       (!has_next || memcmp(bk.mv_data, next,
		                            bk.mv_size < KEY_LEN ? bk.mv_size : KEY_LEN) < 0)) {
			if (bk.mv_size != KEY_LEN) {
				PROBLEM("fpt: bytime key of %zu bytes", bk.mv_size);
			} else {
				hx_ne_acc_add(got, (const uint8_t *)bk.mv_data + 8);
				n++;
			}
			brc = mdb_cursor_get(bc, &bk, &bv, MDB_NEXT);
		}
		if (brc && brc != MDB_NOTFOUND) {
			rc = hx_mdb_err(brc);
			goto out;
		}
		if (n != count)
			PROBLEM("fpt: block %llu holds %u items, bytime has %u",
			        (unsigned long long)block, count, n);
		else if (memcmp(want, got, 32))
			PROBLEM("fpt: block %llu has a wrong id sum", (unsigned long long)block);
		block++;
	}
	rc = rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
out:
	if (fc)
		mdb_cursor_close(fc);
	if (bc)
		mdb_cursor_close(bc);
	return rc;
#undef PROBLEM
}

/* ---- the read view ---------------------------------------------------- */

struct slot {
	size_t b; /* block index, valid when items != NULL */
	size_t n;
	hx_ne_item *items;
	uint8_t (*pre)[32]; /* pre[k] = sum of ids of items [0, k) */
	size_t cap;
	uint64_t used; /* LRU clock */
};

struct hx_fpt_view {
	MDB_txn *txn;
	MDB_cursor *cur; /* on bytime */
	size_t nb;       /* blocks */
	uint8_t (*keys)[KEY_LEN];
	size_t *start;       /* start[b] = index of block b's first item; [nb] = size */
	uint8_t (*psum)[32]; /* psum[b] = sum of ids of items [0, start[b]) */
	struct slot cache[CACHE_SLOTS];
	uint64_t clock;
};

size_t hx_fpt_view_count(const hx_fpt_view *v)
{
	return v->start[v->nb];
}

void hx_fpt_view_close(hx_fpt_view **vp)
{
	if (!vp || !*vp)
		return;
	hx_fpt_view *v = *vp;
	if (v->cur)
		mdb_cursor_close(v->cur);
	for (int i = 0; i < CACHE_SLOTS; i++) {
		free(v->cache[i].items);
		free(v->cache[i].pre);
	}
	free(v->keys);
	free(v->start);
	free(v->psum);
	free(v);
	*vp = NULL;
}

int hx_fpt_view_open(hx_fpt_view **out, MDB_txn *txn, const struct hx_fpt *t)
{
	MDB_cursor *fc = NULL;
	MDB_val k, val;
	MDB_stat st;
	int rc;

	*out = NULL;
	if (!t->ready)
		return HX_ECORRUPT;
	hx_fpt_view *v = calloc(1, sizeof *v);
	if (!v)
		return HX_ENOMEM;
	v->txn = txn;
	if ((rc = mdb_stat(txn, t->dbi, &st)) || (rc = mdb_cursor_open(txn, t->bytime, &v->cur)) ||
	    (rc = mdb_cursor_open(txn, t->dbi, &fc))) {
		rc = hx_mdb_err(rc);
		goto fail;
	}
	if (st.ms_entries == 0) {
		rc = HX_ECORRUPT;
		goto fail;
	}
	size_t nb = st.ms_entries;
	v->keys = malloc(nb * KEY_LEN);
	v->start = malloc((nb + 1) * sizeof *v->start);
	v->psum = calloc(nb + 1, 32);
	if (!v->keys || !v->start || !v->psum) {
		rc = HX_ENOMEM;
		goto fail;
	}
	v->start[0] = 0;
	size_t b = 0;
	for (rc = mdb_cursor_get(fc, &k, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(fc, &k, &val, MDB_NEXT)) {
		if (b == nb || k.mv_size != KEY_LEN || val.mv_size != VAL_LEN) {
			rc = HX_ECORRUPT;
			goto fail;
		}
		uint32_t count = hx_be32_get(val.mv_data);
		if (count > BLOCK_SANE) {
			rc = HX_ECORRUPT;
			goto fail;
		}
		memcpy(v->keys[b], k.mv_data, KEY_LEN);
		v->start[b + 1] = v->start[b] + count;
		memcpy(v->psum[b + 1], v->psum[b], 32);
		hx_ne_acc_add(v->psum[b + 1], (const uint8_t *)val.mv_data + 4);
		b++;
	}
	if (rc != MDB_NOTFOUND) {
		rc = hx_mdb_err(rc);
		goto fail;
	}
	static const uint8_t zero[KEY_LEN];
	if (b != nb || memcmp(v->keys[0], zero, KEY_LEN)) {
		rc = HX_ECORRUPT;
		goto fail;
	}
	v->nb = nb;
	mdb_cursor_close(fc);
	*out = v;
	return HX_OK;
fail:
	if (fc)
		mdb_cursor_close(fc);
	hx_fpt_view_close(&v);
	return rc;
}

/* The block holding item index i (< size): start[b] <= i < start[b+1]. */
static size_t block_of(const hx_fpt_view *v, size_t i)
{
	size_t lo = 0, hi = v->nb - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->start[mid + 1] > i)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Reads block b's items from bytime into a cache slot, checking them
 * against the block's count, bounds and sum. */
static int load(hx_fpt_view *v, size_t b, struct slot **out)
{
	struct slot *s = NULL;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct slot *c = &v->cache[i];
		if (c->items && c->b == b) {
			c->used = ++v->clock;
			*out = c;
			return HX_OK;
		}
		if (!s || !c->items || (s->items && c->used < s->used))
			s = c;
	}
	size_t n = v->start[b + 1] - v->start[b];
	if (n + 1 > s->cap || !s->items) {
		size_t cap = n + 1 > HX_FPT_BLOCK_MAX + 1 ? n + 1 : HX_FPT_BLOCK_MAX + 1;
		hx_ne_item *items = realloc(s->items, cap * sizeof *items);
		if (!items)
			return HX_ENOMEM;
		s->items = items;
		uint8_t(*pre)[32] = realloc(s->pre, cap * 32);
		if (!pre)
			return HX_ENOMEM;
		s->pre = pre;
		s->cap = cap;
	}
	s->b = (size_t)-1; /* invalid until fully loaded */
	MDB_val k = { KEY_LEN, v->keys[b] }, val;
	const uint8_t *next = b + 1 < v->nb ? v->keys[b + 1] : NULL;
	int rc = n ? mdb_cursor_get(v->cur, &k, &val, MDB_SET_RANGE) : 0;
	memset(s->pre[0], 0, 32);
	for (size_t i = 0; i < n; i++) {
		if (i && !rc)
			rc = mdb_cursor_get(v->cur, &k, &val, MDB_NEXT);
		if (rc == MDB_NOTFOUND)
			return HX_ECORRUPT;
		if (rc)
			return hx_mdb_err(rc);
		if (k.mv_size != KEY_LEN || (next && memcmp(k.mv_data, next, KEY_LEN) >= 0))
			return HX_ECORRUPT;
		const uint8_t *kp = k.mv_data;
		s->items[i].ts = hx_be64_get(kp);
		memcpy(s->items[i].id, kp + 8, HX_ID_LEN);
		memcpy(s->pre[i + 1], s->pre[i], 32);
		hx_ne_acc_add(s->pre[i + 1], kp + 8);
	}
	if (n && next) {
		/* the item after the block must belong to the next block */
		rc = mdb_cursor_get(v->cur, &k, &val, MDB_NEXT);
		if (rc == 0 && (k.mv_size != KEY_LEN || memcmp(k.mv_data, next, KEY_LEN) < 0))
			return HX_ECORRUPT;
		if (rc && rc != MDB_NOTFOUND)
			return hx_mdb_err(rc);
	}
	uint8_t sum[32];
	memcpy(sum, v->psum[b + 1], 32);
	hx_ne_acc_sub(sum, v->psum[b]);
	if (memcmp(sum, s->pre[n], 32))
		return HX_ECORRUPT;
	s->b = b;
	s->n = n;
	s->used = ++v->clock;
	*out = s;
	return HX_OK;
}

static int view_size(void *ctx, size_t *n)
{
	*n = hx_fpt_view_count(ctx);
	return HX_OK;
}

static int view_item(void *ctx, size_t i, hx_ne_item *out)
{
	hx_fpt_view *v = ctx;
	struct slot *s;
	if (i >= v->start[v->nb])
		return HX_EINVAL;
	size_t b = block_of(v, i);
	int rc = load(v, b, &s);
	if (rc)
		return rc;
	*out = s->items[i - v->start[b]];
	return HX_OK;
}

/* P(i): the sum of the ids of items [0, i). */
static int prefix(hx_fpt_view *v, size_t i, uint8_t out[32])
{
	struct slot *s;
	if (i >= v->start[v->nb]) {
		memcpy(out, v->psum[v->nb], 32);
		return HX_OK;
	}
	size_t b = block_of(v, i);
	memcpy(out, v->psum[b], 32);
	if (i == v->start[b])
		return HX_OK;
	int rc = load(v, b, &s);
	if (rc)
		return rc;
	hx_ne_acc_add(out, s->pre[i - v->start[b]]);
	return HX_OK;
}

static int view_sum(void *ctx, size_t begin, size_t end, uint8_t sum[32])
{
	hx_fpt_view *v = ctx;
	uint8_t lo[32];
	if (begin > end || end > v->start[v->nb])
		return HX_EINVAL;
	int rc = prefix(v, end, sum);
	if (!rc)
		rc = prefix(v, begin, lo);
	if (rc)
		return rc;
	hx_ne_acc_sub(sum, lo);
	return HX_OK;
}

static int view_lower_bound(void *ctx, size_t begin, size_t end, const hx_ne_item *bound,
                            size_t *out)
{
	hx_fpt_view *v = ctx;
	struct slot *s;
	uint8_t key[KEY_LEN];
	if (begin > end || end > v->start[v->nb])
		return HX_EINVAL;
	if (begin == end || bound->ts == HX_NE_TS_INF) {
		*out = end; /* no item has the infinity timestamp */
		return HX_OK;
	}
	key_of(key, bound->ts, bound->id);
	/* the last block whose start <= key (block 0 starts at zero) */
	size_t lo = 0, hi = v->nb - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		if (memcmp(v->keys[mid], key, KEY_LEN) <= 0)
			lo = mid;
		else
			hi = mid - 1;
	}
	size_t b = lo, idx;
	if (!memcmp(v->keys[b], key, KEY_LEN)) {
		idx = v->start[b]; /* all of block b's items are >= its start */
	} else {
		int rc = load(v, b, &s);
		if (rc)
			return rc;
		size_t l = 0, h = s->n;
		while (l < h) {
			size_t m = l + (h - l) / 2;
			if (hx_ne_item_cmp(&s->items[m], bound) < 0)
				l = m + 1;
			else
				h = m;
		}
		idx = v->start[b] + l;
	}
	*out = idx < begin ? begin : idx > end ? end : idx;
	return HX_OK;
}

static const hx_ne_storage_ops view_ops = {
	.size = view_size,
	.lower_bound = view_lower_bound,
	.item = view_item,
	.sum = view_sum,
};

hx_ne_storage hx_fpt_view_storage(hx_fpt_view *v)
{
	hx_ne_storage s = { &view_ops, v };
	return s;
}
