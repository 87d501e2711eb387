/*
 * state.c: the node's state in the store's kv table (see state.h).
 *
 *   key                      value
 *   "peer/" ENDPOINT         key[32] ‖ added u64 BE
 *   "setting/" NAME          text (no NUL)
 *   "member-ep/" HEXKEY      endpoints advertised in its invite, "\n"-separated
 *   "pstat/" HEXKEY          CBOR map(uint -> uint), key 15 -> text (below)
 *   "counter/" NAME          u64 BE
 *   "daemon"                 pid u64 BE ‖ started u64 BE ‖ bind text
 *   "push-latency"           histogram (docs/FORMAT.md §3.1)
 *
 * pstat keys: 0 connected, 1 pid, 2 last_seen, 3 last_connect, 4 last_recon,
 * 5 recon_ok, 6 sent, 7 received, 8 bad_messages, 9 lack_known, 10 we_lack,
 * 11 they_lack, 12 updated, 13 last_error_at, 15 last_error (text),
 * 16 + r refused[r], 32 skew_at, 33 skew_us (zigzag: 2|x| - (x < 0)),
 * 34 they_refused_at, 64 + r they_refused[r], 96 + r they_refused_ours[r].
 * Unknown keys with uint values are skipped when read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/cbor.h"
#include "proto/wire.h"
#include "node/state.h"

#define KEYBUF 600

/* ---- peers -------------------------------------------------------------- */

int hx_peer_add(hx_store *s, const char *endpoint, const uint8_t key[HX_KEY_LEN])
{
	char k[KEYBUF];
	uint8_t v[HX_KEY_LEN + 8];
	if (hx_endpoint_check(endpoint))
		return HX_EINVAL;
	snprintf(k, sizeof k, "peer/%s", endpoint);
	memcpy(v, key, HX_KEY_LEN);
	hx_be64_put(v + HX_KEY_LEN, hx_now_us());
	int rc = hx_store_kv_put(s, k, v, sizeof v);
	if (!rc)
		hx_store_wake_config(s); /* a running node connects at once */
	return rc;
}

int hx_peer_del(hx_store *s, const char *endpoint)
{
	char k[KEYBUF];
	if (strlen(endpoint) > HX_ENDPOINT_MAX)
		return HX_ENOTFOUND;
	snprintf(k, sizeof k, "peer/%s", endpoint);
	int rc = hx_store_kv_del(s, k);
	if (!rc)
		hx_store_wake_config(s);
	return rc;
}

struct peer_walk {
	hx_peer_conf *a;
	size_t n, cap;
};

static int peer_step(void *arg, const char *key, const void *val, size_t len)
{
	struct peer_walk *w = arg;
	const char *ep = key + 5;
	if (len != HX_KEY_LEN + 8 || strlen(ep) > HX_ENDPOINT_MAX)
		return HX_ECORRUPT;
	hx_peer_conf *a = hx_grow(w->a, &w->cap, w->n + 1, sizeof *a);
	if (!a)
		return HX_ENOMEM;
	w->a = a;
	hx_peer_conf *p = &w->a[w->n++];
	snprintf(p->endpoint, sizeof p->endpoint, "%s", ep);
	memcpy(p->key, val, HX_KEY_LEN);
	p->added = hx_be64_get((const uint8_t *)val + HX_KEY_LEN);
	return 0;
}

int hx_peer_list(hx_store *s, hx_peer_conf **out, size_t *n)
{
	struct peer_walk w = { 0 };
	int rc = hx_store_kv_list(s, "peer/", peer_step, &w);
	if (rc) {
		free(w.a);
		*out = NULL;
		*n = 0;
		return rc;
	}
	*out = w.a;
	*n = w.n;
	return HX_OK;
}

/* ---- settings ------------------------------------------------------------ */

int hx_setting_get(hx_store *s, const char *name, char *out, size_t outlen)
{
	char k[KEYBUF];
	void *v;
	size_t len;
	snprintf(k, sizeof k, "setting/%s", name);
	int rc = hx_store_kv_get(s, k, &v, &len);
	if (rc)
		return rc;
	snprintf(out, outlen, "%s", (char *)v);
	free(v);
	return HX_OK;
}

int hx_setting_put(hx_store *s, const char *name, const char *value)
{
	char k[KEYBUF];
	snprintf(k, sizeof k, "setting/%s", name);
	return hx_store_kv_put(s, k, value, strlen(value));
}

int hx_member_endpoints_put(hx_store *s, const uint8_t key[HX_KEY_LEN], const char *const *eps,
                            size_t n)
{
	char k[KEYBUF], hex[2 * HX_KEY_LEN + 1];
	hx_buf b = { 0 };
	snprintf(k, sizeof k, "member-ep/%s", hx_hex(hex, key, HX_KEY_LEN));
	for (size_t i = 0; i < n; i++) {
		if (i)
			hx_buf_put(&b, "\n", 1);
		hx_buf_put(&b, eps[i], strlen(eps[i]));
	}
	int rc = b.err ? b.err : hx_store_kv_put(s, k, b.data ? (void *)b.data : (void *)"", b.len);
	free(b.data);
	return rc;
}

int hx_member_endpoints_get(hx_store *s, const uint8_t key[HX_KEY_LEN],
                            char (*eps)[HX_ENDPOINT_MAX + 1], size_t max, size_t *n)
{
	char k[KEYBUF], hex[2 * HX_KEY_LEN + 1];
	void *v;
	size_t len;
	*n = 0;
	snprintf(k, sizeof k, "member-ep/%s", hx_hex(hex, key, HX_KEY_LEN));
	int rc = hx_store_kv_get(s, k, &v, &len);
	if (rc)
		return rc;
	const char *p = v, *end = p + len;
	while (p < end && *n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l && l <= HX_ENDPOINT_MAX) {
			memcpy(eps[*n], p, l);
			eps[(*n)++][l] = 0;
		}
		p += l + 1;
	}
	free(v);
	return *n ? HX_OK : HX_ENOTFOUND;
}

struct ep_find {
	const char *ep;
	uint8_t key[HX_KEY_LEN];
	int found;
};

static int ep_step(void *arg, const char *key, const void *val, size_t len)
{
	struct ep_find *f = arg;
	const char *p = val, *end = p + len;
	size_t el = strlen(f->ep);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n == el && !memcmp(p, f->ep, n)) {
			if (f->found++ == 0 && hx_unhex(f->key, HX_KEY_LEN, key + 10))
				return HX_ECORRUPT;
			break;
		}
		p += n + 1;
	}
	return 0;
}

int hx_member_by_endpoint(hx_store *s, const char *endpoint, uint8_t key[HX_KEY_LEN])
{
	struct ep_find f = { .ep = endpoint };
	int rc = hx_store_kv_list(s, "member-ep/", ep_step, &f);
	if (rc)
		return rc;
	if (!f.found)
		return HX_ENOTFOUND;
	if (f.found > 1)
		return HX_EEXIST;
	memcpy(key, f.key, HX_KEY_LEN);
	return HX_OK;
}

/* ---- members ------------------------------------------------------------ */

struct mem_walk {
	hx_member *a;
	size_t n, cap, bad;
};

static int mem_step(void *arg, const uint8_t key[HX_KEY_LEN], const uint8_t *rec, size_t len)
{
	struct mem_walk *w = arg;
	hx_member m;
	if (hx_member_decode(&m, rec, len) || memcmp(m.key, key, HX_KEY_LEN)) {
		hx_member_clear(&m);
		w->bad++;
		return 0;
	}
	hx_member *a = hx_grow(w->a, &w->cap, w->n + 1, sizeof *a);
	if (!a) {
		hx_member_clear(&m);
		return HX_ENOMEM;
	}
	w->a = a;
	w->a[w->n++] = m;
	return 0;
}

int hx_members_load(hx_store *s, hx_member **out, size_t *n, size_t *bad)
{
	struct mem_walk w = { 0 };
	int rc = hx_store_member_list(s, mem_step, &w);
	if (rc) {
		hx_members_free(w.a, w.n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	*out = w.a;
	*n = w.n;
	if (bad)
		*bad = w.bad;
	return HX_OK;
}

void hx_members_free(hx_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hx_member_clear(&m[i]);
	free(m);
}

int hx_member_load(hx_store *s, const uint8_t key[HX_KEY_LEN], hx_member *m)
{
	uint8_t *rec;
	size_t len;
	memset(m, 0, sizeof *m);
	int rc = hx_store_member_get(s, key, &rec, &len);
	if (rc)
		return rc;
	rc = hx_member_decode(m, rec, len);
	free(rec);
	if (!rc && memcmp(m->key, key, HX_KEY_LEN)) {
		hx_member_clear(m);
		rc = HX_ECORRUPT;
	}
	return rc == HX_EPROTO || rc == HX_EFORGED ? HX_ECORRUPT : rc;
}

/* ---- statistics ----------------------------------------------------------- */

static const char *const refuse_names[HX_REFUSE_N] = {
	"malformed", "over-limit", "bad-signature",  "not-member",
	"future",    "bad-record", "unknown-device", "revoked-device",
};

/* HX_WREFUSE_* of each reason, in the enum's order. */
static const uint8_t refuse_wire[HX_REFUSE_N] = {
	HX_WREFUSE_MALFORMED, HX_WREFUSE_LIMIT,  HX_WREFUSE_SIGNATURE, HX_WREFUSE_NOT_MEMBER,
	HX_WREFUSE_FUTURE,    HX_WREFUSE_RECORD, HX_WREFUSE_DEVICE,    HX_WREFUSE_REVOKED,
};

static const char *const refuse_words[HX_REFUSE_N] = {
	"damaged or unreadable",
	"too large",
	"signature did not match (forged or altered)",
	"written by someone who is not a partner",
	"dated in the future",
	"a system record that breaks its rules",
	"signed by a key that is not one of the partner's devices",
	"signed by a revoked device or a retired organisation key",
};

const char *hx_refuse_words(int r)
{
	return r >= 0 && r < HX_REFUSE_N ? refuse_words[r]
	                                 : "for a reason this version does not know";
}

uint8_t hx_refuse_wire(int r)
{
	return r >= 0 && r < HX_REFUSE_N ? refuse_wire[r] : HX_WREFUSE_MALFORMED;
}

int hx_refuse_from_wire(uint8_t code)
{
	for (int r = 0; r < HX_REFUSE_N; r++)
		if (refuse_wire[r] == code)
			return r;
	return -1;
}

const char *hx_refuse_name(int r)
{
	return r >= 0 && r < HX_REFUSE_N ? refuse_names[r] : "?";
}

int hx_refuse_reason(int err)
{
	switch (err) {
	case HX_ELIMIT: return HX_REFUSE_LIMIT;
	case HX_EFORGED: return HX_REFUSE_SIGNATURE;
	case HX_EPERM: return HX_REFUSE_NOT_MEMBER;
	case HX_EFUTURE: return HX_REFUSE_FUTURE;
	case HX_ERECORD: return HX_REFUSE_RECORD;
	case HX_EDEVICE: return HX_REFUSE_UNKNOWN_DEVICE;
	case HX_EREVOKED: return HX_REFUSE_REVOKED;
	default: return HX_REFUSE_MALFORMED;
	}
}

enum {
	S_CONNECTED,
	S_PID,
	S_LAST_SEEN,
	S_LAST_CONNECT,
	S_LAST_RECON,
	S_RECON_OK,
	S_SENT,
	S_RECEIVED,
	S_BAD,
	S_LACK_KNOWN,
	S_WE_LACK,
	S_THEY_LACK,
	S_UPDATED,
	S_ERROR_AT,
	S_UNUSED,
	S_ERROR,
	S_REFUSED,
	S_SKEW_AT = 32,
	S_SKEW = 33,
	S_THEY_REFUSED_AT = 34,
	S_THEY_REFUSED = 64,
	S_THEY_REFUSED_OURS = 96,
};

static uint64_t *stat_field(hx_peer_stats *st, uint64_t k)
{
	switch (k) {
	case S_CONNECTED: return &st->connected;
	case S_PID: return &st->pid;
	case S_LAST_SEEN: return &st->last_seen;
	case S_LAST_CONNECT: return &st->last_connect;
	case S_LAST_RECON: return &st->last_recon;
	case S_RECON_OK: return &st->recon_ok;
	case S_SENT: return &st->sent;
	case S_RECEIVED: return &st->received;
	case S_BAD: return &st->bad_messages;
	case S_LACK_KNOWN: return &st->lack_known;
	case S_WE_LACK: return &st->we_lack;
	case S_THEY_LACK: return &st->they_lack;
	case S_UPDATED: return &st->updated;
	case S_ERROR_AT: return &st->last_error_at;
	case S_SKEW_AT: return &st->skew_at;
	case S_THEY_REFUSED_AT: return &st->they_refused_at;
	}
	if (k >= S_REFUSED && k < S_REFUSED + HX_REFUSE_N)
		return &st->refused[k - S_REFUSED];
	if (k >= S_THEY_REFUSED && k < S_THEY_REFUSED + HX_REFUSE_N)
		return &st->they_refused[k - S_THEY_REFUSED];
	if (k >= S_THEY_REFUSED_OURS && k < S_THEY_REFUSED_OURS + HX_REFUSE_N)
		return &st->they_refused_ours[k - S_THEY_REFUSED_OURS];
	return NULL;
}

static int stats_decode(hx_peer_stats *st, const uint8_t *buf, size_t len)
{
	hx_rd r = { buf, buf + len };
	uint64_t n, k, v;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = hx_cbor_read_head(&r, HX_CBOR_MAP, &n)))
		return HX_ECORRUPT;
	for (uint64_t i = 0; i < n; i++) {
		if (hx_cbor_read_uint(&r, &k))
			return HX_ECORRUPT;
		if (k == S_ERROR) {
			const uint8_t *p;
			size_t l;
			if (hx_cbor_read_str(&r, HX_CBOR_TEXT, &p, &l))
				return HX_ECORRUPT;
			if (l >= sizeof st->last_error)
				l = sizeof st->last_error - 1;
			memcpy(st->last_error, p, l);
			st->last_error[l] = 0;
			continue;
		}
		if (hx_cbor_read_uint(&r, &v))
			return HX_ECORRUPT;
		uint64_t *f = stat_field(st, k);
		if (f)
			*f = v;
		else if (k == S_SKEW)
			st->skew_us = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
	}
	return r.p == r.end ? HX_OK : HX_ECORRUPT;
}

static void stats_key(char *k, size_t n, const uint8_t key[HX_KEY_LEN])
{
	char hex[2 * HX_KEY_LEN + 1];
	snprintf(k, n, "pstat/%s", hx_hex(hex, key, HX_KEY_LEN));
}

int hx_stats_load(hx_store *s, const uint8_t key[HX_KEY_LEN], hx_peer_stats *st)
{
	char k[KEYBUF];
	void *v;
	size_t len;
	stats_key(k, sizeof k, key);
	memset(st, 0, sizeof *st);
	int rc = hx_store_kv_get(s, k, &v, &len);
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc)
		return rc;
	rc = stats_decode(st, v, len);
	free(v);
	return rc;
}

int hx_stats_save(hx_store *s, const uint8_t key[HX_KEY_LEN], const hx_peer_stats *st)
{
	char k[KEYBUF];
	hx_buf b = { 0 };
	hx_peer_stats c = *st;
	size_t nerr = strnlen(c.last_error, sizeof c.last_error - 1);

	stats_key(k, sizeof k, key);
	hx_cbor_head(&b, HX_CBOR_MAP, (S_REFUSED + HX_REFUSE_N) - 1 + 3 + 2 * HX_REFUSE_N);
	for (uint64_t i = 0; i < S_REFUSED + HX_REFUSE_N; i++) {
		if (i == S_UNUSED)
			continue;
		hx_cbor_uint(&b, i);
		if (i == S_ERROR)
			hx_cbor_text(&b, c.last_error, nerr);
		else
			hx_cbor_uint(&b, *stat_field(&c, i));
	}
	hx_cbor_uint(&b, S_SKEW_AT);
	hx_cbor_uint(&b, c.skew_at);
	hx_cbor_uint(&b, S_SKEW);
	hx_cbor_uint(&b, c.skew_us < 0 ? ((uint64_t) - (c.skew_us + 1) << 1) | 1
	                               : (uint64_t)c.skew_us << 1);
	hx_cbor_uint(&b, S_THEY_REFUSED_AT);
	hx_cbor_uint(&b, c.they_refused_at);
	for (uint64_t i = 0; i < 2 * HX_REFUSE_N; i++) {
		uint64_t key_i = i < HX_REFUSE_N ? S_THEY_REFUSED + i
		                                 : S_THEY_REFUSED_OURS + i - HX_REFUSE_N;
		hx_cbor_uint(&b, key_i);
		hx_cbor_uint(&b, *stat_field(&c, key_i));
	}
	int rc = b.err ? b.err : hx_store_kv_put(s, k, b.data, b.len);
	free(b.data);
	return rc;
}

struct stats_walk {
	hx_stats_cb cb;
	void *arg;
};

static int stats_step(void *arg, const char *key, const void *val, size_t len)
{
	struct stats_walk *w = arg;
	uint8_t k[HX_KEY_LEN];
	hx_peer_stats st;
	if (hx_unhex(k, HX_KEY_LEN, key + 6) || stats_decode(&st, val, len))
		return 0; /* a damaged record is not worth failing status for */
	return w->cb(w->arg, k, &st);
}

int hx_stats_list(hx_store *s, hx_stats_cb cb, void *arg)
{
	struct stats_walk w = { cb, arg };
	return hx_store_kv_list(s, "pstat/", stats_step, &w);
}

int hx_counter_add(hx_store *s, const char *name, uint64_t delta)
{
	uint64_t v;
	int rc = hx_counter_get(s, name, &v);
	if (rc)
		return rc;
	char k[KEYBUF];
	uint8_t b[8];
	snprintf(k, sizeof k, "counter/%s", name);
	hx_be64_put(b, v + delta);
	return hx_store_kv_put(s, k, b, 8);
}

int hx_counter_get(hx_store *s, const char *name, uint64_t *v)
{
	char k[KEYBUF];
	void *val;
	size_t len;
	snprintf(k, sizeof k, "counter/%s", name);
	*v = 0;
	int rc = hx_store_kv_get(s, k, &val, &len);
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc)
		return rc;
	if (len == 8)
		*v = hx_be64_get(val);
	free(val);
	return len == 8 ? HX_OK : HX_ECORRUPT;
}

int hx_daemon_put(hx_store *s, const hx_daemon_info *d)
{
	uint8_t b[16 + HX_ENDPOINT_MAX];
	size_t n = strnlen(d->bind, HX_ENDPOINT_MAX);
	hx_be64_put(b, d->pid);
	hx_be64_put(b + 8, d->started);
	memcpy(b + 16, d->bind, n);
	return hx_store_kv_put(s, "daemon", b, 16 + n);
}

int hx_daemon_get(hx_store *s, hx_daemon_info *d)
{
	void *v;
	size_t len;
	memset(d, 0, sizeof *d);
	int rc = hx_store_kv_get(s, "daemon", &v, &len);
	if (rc)
		return rc;
	if (len < 16 || len > 16 + HX_ENDPOINT_MAX) {
		free(v);
		return HX_ECORRUPT;
	}
	d->pid = hx_be64_get(v);
	d->started = hx_be64_get((uint8_t *)v + 8);
	memcpy(d->bind, (uint8_t *)v + 16, len - 16);
	d->bind[len - 16] = 0;
	free(v);
	return HX_OK;
}

int hx_daemon_clear(hx_store *s)
{
	int rc = hx_store_kv_del(s, "daemon");
	return rc == HX_ENOTFOUND ? HX_OK : rc;
}

/* ---- push latency: "push-latency" = version u8 (1) ‖ buckets u8 (14) ‖
 * count u64 ‖ sum µs u64 ‖ 14 × count u64 (each bucket alone), BE --------- */

const uint64_t hx_push_hist_le[HX_PUSH_HIST_N - 1] = {
	5000,    10000,   25000,   50000,    100000,   250000,   500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};

void hx_push_hist_add(hx_push_hist *h, uint64_t us)
{
	size_t i = 0;
	while (i < HX_PUSH_HIST_N - 1 && us > hx_push_hist_le[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_us += us;
}

void hx_push_hist_encode(const hx_push_hist *h, uint8_t out[HX_PUSH_HIST_LEN])
{
	out[0] = HX_PUSH_HIST_VERSION;
	out[1] = HX_PUSH_HIST_N;
	hx_be64_put(out + 2, h->count);
	hx_be64_put(out + 10, h->sum_us);
	for (size_t i = 0; i < HX_PUSH_HIST_N; i++)
		hx_be64_put(out + 18 + 8 * i, h->bucket[i]);
}

int hx_push_hist_decode(hx_push_hist *h, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	memset(h, 0, sizeof *h);
	if (len != HX_PUSH_HIST_LEN || b[0] != HX_PUSH_HIST_VERSION || b[1] != HX_PUSH_HIST_N)
		return HX_ECORRUPT;
	h->count = hx_be64_get(b + 2);
	h->sum_us = hx_be64_get(b + 10);
	for (size_t i = 0; i < HX_PUSH_HIST_N; i++)
		h->bucket[i] = hx_be64_get(b + 18 + 8 * i);
	return HX_OK;
}

int hx_push_hist_get(hx_store *s, hx_push_hist *h)
{
	void *v;
	size_t len;
	memset(h, 0, sizeof *h);
	int rc = hx_store_kv_get(s, "push-latency", &v, &len);
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc)
		return rc;
	(void)!hx_push_hist_decode(h, v, len); /* another layout: read as empty */
	free(v);
	return HX_OK;
}

int hx_push_hist_put(hx_store *s, const hx_push_hist *h)
{
	uint8_t b[HX_PUSH_HIST_LEN];
	hx_push_hist_encode(h, b);
	return hx_store_kv_put(s, "push-latency", b, sizeof b);
}
