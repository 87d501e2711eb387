/*
 * negentropy.c: Negentropy protocol v1 (see negentropy.h): varints, bounds,
 * fingerprints, the initiator/responder state machine and the in-memory
 * sorted-vector storage. Written from the public spec; the message-building
 * order (skip ranges, the frame-size-limit cut-off and its trailing
 * fingerprint) follows the reference implementation's observable behaviour
 * so that our messages are byte-identical to its messages.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "proto/negentropy.h"

/* ---- small helpers ---------------------------------------------------- */

int hx_ne_item_cmp(const hx_ne_item *a, const hx_ne_item *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return memcmp(a->id, b->id, HX_NE_ID_LEN);
}

/* A growable byte buffer for the messages we build. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t more)
{
	if (more > SIZE_MAX - b->len)
		return HX_ENOMEM;
	size_t need = b->len + more;
	if (need <= b->cap)
		return HX_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return HX_ENOMEM;
	b->p = p;
	b->cap = cap;
	return HX_OK;
}

static int buf_put(struct buf *b, const void *data, size_t n)
{
	int rc = buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return HX_OK;
}

static int buf_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	return buf_put(b, tmp, hx_ne_varint_put(tmp, v));
}

/* ---- varints: base-128, most significant digit first, high bit set on
 * every byte but the last, as few digits as possible. ---------------- */

size_t hx_ne_varint_put(uint8_t out[10], uint64_t v)
{
	uint8_t rev[10];
	size_t n = 0;
	do {
		rev[n++] = (uint8_t)(v & 0x7f);
		v >>= 7;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i] | (i + 1 < n ? 0x80 : 0);
	return n;
}

int hx_ne_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t r = 0;
	if (q >= end)
		return HX_EPROTO;
	if (*q == 0x80)
		return HX_EPROTO; /* leading zero digit: not minimal */
	for (;;) {
		if (q >= end)
			return HX_EPROTO;
		uint8_t byte = *q++;
		if (r > (UINT64_MAX >> 7))
			return HX_EPROTO; /* would overflow 64 bits */
		r = (r << 7) | (byte & 0x7f);
		if (!(byte & 0x80))
			break;
	}
	*p = q;
	*v = r;
	return HX_OK;
}

/* ---- 256-bit accumulator ---------------------------------------------- */

void hx_ne_acc_add(uint8_t acc[32], const uint8_t x[32])
{
	unsigned carry = 0;
	for (int i = 0; i < 32; i++) {
		unsigned s = (unsigned)acc[i] + x[i] + carry;
		acc[i] = (uint8_t)s;
		carry = s >> 8;
	}
}

void hx_ne_acc_sub(uint8_t acc[32], const uint8_t x[32])
{
	int borrow = 0;
	for (int i = 0; i < 32; i++) {
		int d = (int)acc[i] - x[i] - borrow;
		borrow = d < 0;
		acc[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

void hx_ne_fingerprint(const uint8_t sum[32], uint64_t count, uint8_t fp[HX_NE_FP_LEN])
{
	uint8_t in[32 + 10], h[crypto_hash_sha256_BYTES];
	memcpy(in, sum, 32);
	size_t n = 32 + hx_ne_varint_put(in + 32, count);
	crypto_hash_sha256(h, in, n);
	memcpy(fp, h, HX_NE_FP_LEN);
}

/* ---- id lists --------------------------------------------------------- */

void hx_ne_ids_clear(hx_ne_ids *l)
{
	if (!l)
		return;
	free(l->ids);
	l->ids = NULL;
	l->n = l->cap = 0;
}

static int ids_push(hx_ne_ids *l, const uint8_t id[HX_NE_ID_LEN])
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		if (cap > SIZE_MAX / HX_NE_ID_LEN)
			return HX_ENOMEM;
		void *p = realloc(l->ids, cap * HX_NE_ID_LEN);
		if (!p)
			return HX_ENOMEM;
		l->ids = p;
		l->cap = cap;
	}
	memcpy(l->ids[l->n++], id, HX_NE_ID_LEN);
	return HX_OK;
}

/* ---- the state machine ------------------------------------------------ */

enum role { ROLE_NONE, ROLE_INITIATOR, ROLE_RESPONDER };

struct hx_ne {
	hx_ne_storage st;
	uint64_t limit;
	enum role role;
	uint64_t last_in, last_out; /* timestamp deltas, reset per message */
};

/* A range bound: the item's ts and the first idlen bytes of its id (the
 * rest zero). */
struct bound {
	hx_ne_item item;
	size_t idlen;
};

static struct bound bound_ts(uint64_t ts)
{
	struct bound b;
	memset(&b, 0, sizeof b);
	b.item.ts = ts;
	return b;
}

int hx_ne_new(hx_ne **out, const hx_ne_storage *st, uint64_t frame_size_limit)
{
	*out = NULL;
	if (!st || !st->ops || !st->ops->size || !st->ops->lower_bound || !st->ops->item ||
	    !st->ops->sum)
		return HX_EINVAL;
	if (frame_size_limit != 0 && frame_size_limit < HX_NE_FRAME_MIN)
		return HX_EINVAL;
	hx_ne *ne = calloc(1, sizeof *ne);
	if (!ne)
		return HX_ENOMEM;
	ne->st = *st;
	ne->limit = frame_size_limit;
	*out = ne;
	return HX_OK;
}

void hx_ne_free(hx_ne **ne)
{
	if (!ne || !*ne)
		return;
	free(*ne);
	*ne = NULL;
}

int hx_ne_is_initiator(const hx_ne *ne)
{
	return ne && ne->role == ROLE_INITIATOR;
}

static int st_fingerprint(hx_ne *ne, size_t begin, size_t end, uint8_t fp[HX_NE_FP_LEN])
{
	uint8_t sum[32];
	int rc = ne->st.ops->sum(ne->st.ctx, begin, end, sum);
	if (rc)
		return rc;
	hx_ne_fingerprint(sum, end - begin, fp);
	return HX_OK;
}

static int st_item(hx_ne *ne, size_t i, hx_ne_item *it)
{
	return ne->st.ops->item(ne->st.ctx, i, it);
}

static int exceeded(const hx_ne *ne, size_t n)
{
	return ne->limit && n > ne->limit - HX_NE_FRAME_MARGIN;
}

/* Timestamps go out as 0 for infinity, else 1 + the difference to the
 * previous timestamp of this message (unsigned arithmetic, as the
 * reference does). */
static int put_bound(hx_ne *ne, struct buf *b, const struct bound *bd)
{
	int rc;
	if (bd->item.ts == HX_NE_TS_INF) {
		ne->last_out = HX_NE_TS_INF;
		rc = buf_varint(b, 0);
	} else {
		uint64_t delta = bd->item.ts - ne->last_out;
		ne->last_out = bd->item.ts;
		rc = buf_varint(b, delta + 1);
	}
	if (!rc)
		rc = buf_varint(b, bd->idlen);
	if (!rc)
		rc = buf_put(b, bd->item.id, bd->idlen);
	return rc;
}

static int get_bound(hx_ne *ne, const uint8_t **p, const uint8_t *end, struct bound *bd)
{
	uint64_t v, len;
	int rc = hx_ne_varint_get(p, end, &v);
	if (rc)
		return rc;
	uint64_t ts = v == 0 ? HX_NE_TS_INF : v - 1;
	ts += ne->last_in;
	if (ts < ne->last_in)
		ts = HX_NE_TS_INF; /* saturate */
	ne->last_in = ts;
	rc = hx_ne_varint_get(p, end, &len);
	if (rc)
		return rc;
	if (len > HX_NE_ID_LEN || len > (uint64_t)(end - *p))
		return HX_EPROTO;
	memset(bd, 0, sizeof *bd);
	bd->item.ts = ts;
	bd->idlen = (size_t)len;
	memcpy(bd->item.id, *p, bd->idlen);
	*p += bd->idlen;
	return HX_OK;
}

/* The shortest bound that is > prev and <= curr. */
static struct bound minimal_bound(const hx_ne_item *prev, const hx_ne_item *curr)
{
	struct bound b = bound_ts(curr->ts);
	if (curr->ts != prev->ts)
		return b;
	size_t shared = 0;
	while (shared < HX_NE_ID_LEN && curr->id[shared] == prev->id[shared])
		shared++;
	b.idlen = shared + 1 > HX_NE_ID_LEN ? HX_NE_ID_LEN : shared + 1;
	memcpy(b.item.id, curr->id, b.idlen);
	return b;
}

/* Describes items [lower, upper) ending at upper_bound: as one IdList when
 * there are fewer than 32, else as 16 fingerprinted buckets (the first
 * n % 16 buckets hold one item more). */
static int split_range(hx_ne *ne, size_t lower, size_t upper, const struct bound *upper_bound,
                       struct buf *o)
{
	int rc;
	size_t n = upper - lower;
	hx_ne_item it;

	if (n < HX_NE_IDLIST_BELOW) {
		if ((rc = put_bound(ne, o, upper_bound)) || (rc = buf_varint(o, HX_NE_IDLIST)) ||
		    (rc = buf_varint(o, n)))
			return rc;
		for (size_t i = lower; i < upper; i++) {
			if ((rc = st_item(ne, i, &it)) || (rc = buf_put(o, it.id, HX_NE_ID_LEN)))
				return rc;
		}
		return HX_OK;
	}

	size_t per = n / HX_NE_BUCKETS, extra = n % HX_NE_BUCKETS;
	size_t curr = lower;
	for (size_t i = 0; i < HX_NE_BUCKETS; i++) {
		size_t sz = per + (i < extra ? 1 : 0);
		uint8_t fp[HX_NE_FP_LEN];
		if ((rc = st_fingerprint(ne, curr, curr + sz, fp)))
			return rc;
		curr += sz;
		struct bound next;
		if (curr == upper) {
			next = *upper_bound;
		} else {
			hx_ne_item prev;
			if ((rc = st_item(ne, curr - 1, &prev)) || (rc = st_item(ne, curr, &it)))
				return rc;
			next = minimal_bound(&prev, &it);
		}
		if ((rc = put_bound(ne, o, &next)) || (rc = buf_varint(o, HX_NE_FINGERPRINT)) ||
		    (rc = buf_put(o, fp, HX_NE_FP_LEN)))
			return rc;
	}
	return HX_OK;
}

int hx_ne_initiate(hx_ne *ne, uint8_t **msg, size_t *len)
{
	*msg = NULL;
	*len = 0;
	if (!ne || ne->role != ROLE_NONE)
		return HX_EINVAL;
	ne->role = ROLE_INITIATOR;
	ne->last_out = 0;

	struct buf b = { 0 };
	size_t n;
	uint8_t v = HX_NE_VERSION;
	struct bound inf = bound_ts(HX_NE_TS_INF);
	int rc = buf_put(&b, &v, 1);
	if (!rc)
		rc = ne->st.ops->size(ne->st.ctx, &n);
	if (!rc)
		rc = split_range(ne, 0, n, &inf, &b);
	if (rc) {
		free(b.p);
		return rc;
	}
	*msg = b.p;
	*len = b.len;
	return HX_OK;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, HX_NE_ID_LEN);
}

/* Initiator side of an IdList range: ours [lower, upper) against the
 * peer's ids. Ours missing from theirs -> have; theirs missing from ours ->
 * need (in id order, duplicates once). */
static int idlist_initiator(hx_ne *ne, size_t lower, size_t upper, const uint8_t *ids, size_t nids,
                            hx_ne_ids *have, hx_ne_ids *need)
{
	int rc = HX_OK;
	uint8_t(*theirs)[HX_NE_ID_LEN] = NULL;
	uint8_t *seen = NULL;
	if (nids) {
		theirs = malloc(nids * HX_NE_ID_LEN);
		seen = calloc(nids, 1);
		if (!theirs || !seen) {
			rc = HX_ENOMEM;
			goto out;
		}
		memcpy(theirs, ids, nids * HX_NE_ID_LEN);
		qsort(theirs, nids, HX_NE_ID_LEN, cmp_id);
	}
	for (size_t i = lower; i < upper; i++) {
		hx_ne_item it;
		if ((rc = st_item(ne, i, &it)))
			goto out;
		uint8_t(*hit)[HX_NE_ID_LEN] =
		        nids ? bsearch(it.id, theirs, nids, HX_NE_ID_LEN, cmp_id) : NULL;
		if (hit) {
			/* mark every copy of a duplicated id */
			size_t k = (size_t)(hit - theirs);
			while (k > 0 && !memcmp(theirs[k - 1], it.id, HX_NE_ID_LEN))
				k--;
			for (; k < nids && !memcmp(theirs[k], it.id, HX_NE_ID_LEN); k++)
				seen[k] = 1;
		} else if ((rc = ids_push(have, it.id))) {
			goto out;
		}
	}
	for (size_t k = 0; k < nids; k++) {
		if (seen[k])
			continue;
		if (k > 0 && !memcmp(theirs[k - 1], theirs[k], HX_NE_ID_LEN))
			continue;
		if ((rc = ids_push(need, theirs[k])))
			goto out;
	}
out:
	free(theirs);
	free(seen);
	return rc;
}

int hx_ne_reconcile(hx_ne *ne, const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
                    hx_ne_ids *have, hx_ne_ids *need)
{
	*out = NULL;
	*outlen = 0;
	if (!ne || (!in && inlen))
		return HX_EINVAL;
	if (ne->role == ROLE_NONE)
		ne->role = ROLE_RESPONDER;
	int initiator = ne->role == ROLE_INITIATOR;
	if (initiator && (!have || !need))
		return HX_EINVAL;

	ne->last_in = ne->last_out = 0;
	const uint8_t *p = in, *end = in + inlen;
	struct buf full = { 0 }, o = { 0 };
	uint8_t v = HX_NE_VERSION;
	int rc = buf_put(&full, &v, 1);
	if (rc)
		goto fail;

	if (inlen < 1 || in[0] < 0x60 || in[0] > 0x6f) {
		rc = HX_EPROTO;
		goto fail;
	}
	p++;
	if (in[0] != HX_NE_VERSION) {
		if (initiator) {
			rc = HX_EVERSION;
			goto fail;
		}
		goto done; /* reply with our version byte alone */
	}

	size_t size, prev_index = 0;
	if ((rc = ne->st.ops->size(ne->st.ctx, &size)))
		goto fail;
	struct bound prev_bound = bound_ts(0);
	int skip = 0;

	while (p < end) {
		struct bound curr;
		uint64_t mode;
		o.len = 0;
		if ((rc = get_bound(ne, &p, end, &curr)) || (rc = hx_ne_varint_get(&p, end, &mode)))
			goto fail;

		size_t lower = prev_index, upper;
		if ((rc = ne->st.ops->lower_bound(ne->st.ctx, prev_index, size, &curr.item,
		                                  &upper)))
			goto fail;
		if (upper < lower || upper > size) {
			rc = HX_ECORRUPT; /* storage broke its contract */
			goto fail;
		}

		if (mode == HX_NE_SKIP) {
			skip = 1;
		} else if (mode == HX_NE_FINGERPRINT) {
			uint8_t ours[HX_NE_FP_LEN];
			if ((size_t)(end - p) < HX_NE_FP_LEN) {
				rc = HX_EPROTO;
				goto fail;
			}
			const uint8_t *theirs = p;
			p += HX_NE_FP_LEN;
			if ((rc = st_fingerprint(ne, lower, upper, ours)))
				goto fail;
			if (memcmp(theirs, ours, HX_NE_FP_LEN)) {
				if (skip) {
					skip = 0;
					if ((rc = put_bound(ne, &o, &prev_bound)) ||
					    (rc = buf_varint(&o, HX_NE_SKIP)))
						goto fail;
				}
				if ((rc = split_range(ne, lower, upper, &curr, &o)))
					goto fail;
			} else {
				skip = 1;
			}
		} else if (mode == HX_NE_IDLIST) {
			uint64_t nids;
			if ((rc = hx_ne_varint_get(&p, end, &nids)))
				goto fail;
			if (nids > (uint64_t)(end - p) / HX_NE_ID_LEN) {
				rc = HX_EPROTO;
				goto fail;
			}
			const uint8_t *ids = p;
			p += nids * HX_NE_ID_LEN;
			if (initiator) {
				skip = 1;
				if ((rc = idlist_initiator(ne, lower, upper, ids, (size_t)nids,
				                           have, need)))
					goto fail;
			} else {
				/* Reply with all our ids of the range, cut off
				 * when the frame would grow past the limit; the
				 * rest then gets the closing fingerprint. */
				if (skip) {
					skip = 0;
					if ((rc = put_bound(ne, &o, &prev_bound)) ||
					    (rc = buf_varint(&o, HX_NE_SKIP)))
						goto fail;
				}
				struct bound end_bound = curr;
				size_t nresp = 0;
				struct buf idsb = { 0 };
				for (size_t i = lower; i < upper; i++) {
					hx_ne_item it;
					if ((rc = st_item(ne, i, &it)))
						break;
					if (exceeded(ne, full.len + idsb.len)) {
						end_bound.item = it;
						end_bound.idlen = HX_NE_ID_LEN;
						upper = i;
						break;
					}
					if ((rc = buf_put(&idsb, it.id, HX_NE_ID_LEN)))
						break;
					nresp++;
				}
				if (!rc)
					rc = put_bound(ne, &o, &end_bound);
				if (!rc)
					rc = buf_varint(&o, HX_NE_IDLIST);
				if (!rc)
					rc = buf_varint(&o, nresp);
				if (!rc)
					rc = buf_put(&o, idsb.p, idsb.len);
				free(idsb.p);
				if (!rc)
					rc = buf_put(&full, o.p, o.len);
				if (rc)
					goto fail;
				o.len = 0;
			}
		} else {
			rc = HX_EPROTO;
			goto fail;
		}

		if (exceeded(ne, full.len + o.len)) {
			/* Frame full: drop this range's output and close
			 * the message with one fingerprint up to infinity. */
			uint8_t fp[HX_NE_FP_LEN];
			struct bound inf = bound_ts(HX_NE_TS_INF);
			if ((rc = st_fingerprint(ne, upper, size, fp)) ||
			    (rc = put_bound(ne, &full, &inf)) ||
			    (rc = buf_varint(&full, HX_NE_FINGERPRINT)) ||
			    (rc = buf_put(&full, fp, HX_NE_FP_LEN)))
				goto fail;
			break;
		}
		if ((rc = buf_put(&full, o.p, o.len)))
			goto fail;
		prev_index = upper;
		prev_bound = curr;
	}

done:
	free(o.p);
	if (initiator && full.len == 1) {
		free(full.p);
		return HX_OK; /* *out stays NULL: reconciliation complete */
	}
	*out = full.p;
	*outlen = full.len;
	return HX_OK;
fail:
	free(o.p);
	free(full.p);
	return rc;
}

/* ---- in-memory storage ------------------------------------------------ */

struct hx_ne_vec {
	hx_ne_item *items;
	size_t n, cap;
	uint8_t (*prefix)[32]; /* prefix[i] = sum of ids of items [0, i) */
	int sealed;
};

int hx_ne_vec_new(hx_ne_vec **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? HX_OK : HX_ENOMEM;
}

void hx_ne_vec_free(hx_ne_vec **v)
{
	if (!v || !*v)
		return;
	free((*v)->items);
	free((*v)->prefix);
	free(*v);
	*v = NULL;
}

int hx_ne_vec_add(hx_ne_vec *v, uint64_t ts, const uint8_t id[HX_NE_ID_LEN])
{
	if (v->sealed)
		return HX_EINVAL;
	if (ts == HX_NE_TS_INF)
		return HX_EINVAL;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		if (cap > SIZE_MAX / sizeof(hx_ne_item))
			return HX_ENOMEM;
		hx_ne_item *p = realloc(v->items, cap * sizeof *p);
		if (!p)
			return HX_ENOMEM;
		v->items = p;
		v->cap = cap;
	}
	v->items[v->n].ts = ts;
	memcpy(v->items[v->n].id, id, HX_NE_ID_LEN);
	v->n++;
	return HX_OK;
}

static int cmp_item(const void *a, const void *b)
{
	return hx_ne_item_cmp(a, b);
}

int hx_ne_vec_seal(hx_ne_vec *v)
{
	if (v->sealed)
		return HX_EINVAL;
	if (v->n)
		qsort(v->items, v->n, sizeof *v->items, cmp_item);
	for (size_t i = 1; i < v->n; i++)
		if (!hx_ne_item_cmp(&v->items[i - 1], &v->items[i]))
			return HX_EEXIST;
	v->prefix = calloc(v->n + 1, 32);
	if (!v->prefix)
		return HX_ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		memcpy(v->prefix[i + 1], v->prefix[i], 32);
		hx_ne_acc_add(v->prefix[i + 1], v->items[i].id);
	}
	v->sealed = 1;
	return HX_OK;
}

static int vec_size(void *ctx, size_t *n)
{
	hx_ne_vec *v = ctx;
	if (!v->sealed)
		return HX_EINVAL;
	*n = v->n;
	return HX_OK;
}

static int vec_lower_bound(void *ctx, size_t begin, size_t end, const hx_ne_item *bound,
                           size_t *out)
{
	hx_ne_vec *v = ctx;
	if (!v->sealed || begin > end || end > v->n)
		return HX_EINVAL;
	while (begin < end) {
		size_t mid = begin + (end - begin) / 2;
		if (hx_ne_item_cmp(&v->items[mid], bound) < 0)
			begin = mid + 1;
		else
			end = mid;
	}
	*out = begin;
	return HX_OK;
}

static int vec_item(void *ctx, size_t i, hx_ne_item *out)
{
	hx_ne_vec *v = ctx;
	if (!v->sealed || i >= v->n)
		return HX_EINVAL;
	*out = v->items[i];
	return HX_OK;
}

static int vec_sum(void *ctx, size_t begin, size_t end, uint8_t sum[32])
{
	hx_ne_vec *v = ctx;
	if (!v->sealed || begin > end || end > v->n)
		return HX_EINVAL;
	memcpy(sum, v->prefix[end], 32);
	hx_ne_acc_sub(sum, v->prefix[begin]);
	return HX_OK;
}

static const hx_ne_storage_ops vec_ops = {
	.size = vec_size,
	.lower_bound = vec_lower_bound,
	.item = vec_item,
	.sum = vec_sum,
};

hx_ne_storage hx_ne_vec_storage(hx_ne_vec *v)
{
	hx_ne_storage s = { &vec_ops, v };
	return s;
}
