/*
 * bundle.c: the bundle file format (see bundle.h; docs/FORMAT.md §4).
 *
 * File = manifest ‖ entries section. Integers big-endian.
 *
 *   manifest (version 1, 200 bytes)
 *   off len field
 *     0   8  magic 89 48 58 42 0d 0a 1a 0a  ("\x89HXB\r\n\x1a\n")
 *     8   2  format version = 1
 *    10   2  header_len H = 200 (the entries section starts at H)
 *    12   4  flags: bit 0 = incremental (written against a state file)
 *    16  32  exporter's Ed25519 public key
 *    48   8  created, microseconds since the epoch
 *    56   8  count: number of records
 *    64   8  entries_len: bytes of the entries section
 *    72  32  checksum: BLAKE2b-256 of the entries section [H, H+entries_len)
 *   104  32  state digest: the checksum of the state file used, or zeros
 *   136  64  Ed25519 signature by the exporter over bytes [0, H-64)
 *
 *   record (one per entry)
 *     0   4  marker 1e 48 58 52  ("\x1eHXR")
 *     4   4  n: entry length, 1 <= n <= HX_ENTRY_MAX
 *     8   8  entry check: first 8 bytes of BLAKE2b-128(entry)
 *    16   4  head check: first 4 bytes of BLAKE2b-128(record bytes 0..15)
 *    20   n  the signed entry, exactly as stored (docs/FORMAT.md §1)
 *
 * The manifest is a fixed-width binary block rather than CBOR so that the
 * exporter can stream the entries and write the manifest last, in place:
 * shortest-form CBOR integers would make its length depend on the values.
 * The head check lets a reader find the next record after damage (scan for
 * the marker, confirm with the head check) without trusting any length; the
 * entry check tells damage in transit from a forged signature.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/bundle.h"

#define OFF_VERSION 8
#define OFF_HLEN 10
#define OFF_FLAGS 12
#define OFF_EXPORTER 16
#define OFF_CREATED 48
#define OFF_COUNT 56
#define OFF_ELEN 64
#define OFF_CHECKSUM 72
#define OFF_STATE 104
#define OFF_SIG 136
#define HEADER_MAX 4096 /* a later minor version may grow the manifest */

int hx_bundle_is_bundle(const uint8_t *buf, size_t len)
{
	return len >= HX_BUNDLE_MAGIC_LEN && !memcmp(buf, HX_BUNDLE_MAGIC, HX_BUNDLE_MAGIC_LEN);
}

/* First n (<= 16) bytes of BLAKE2b-128 of p[len]. */
static void check128(uint8_t *out, size_t n, const uint8_t *p, size_t len)
{
	uint8_t h[16];
	crypto_generichash(h, sizeof h, p, len, NULL, 0);
	memcpy(out, h, n);
}

/* ---- writing ----------------------------------------------------------- */

struct hx_bundle_writer {
	crypto_generichash_state st; /* needs 64-byte alignment */
	uint64_t count, len;
};

int hx_bundle_writer_new(hx_bundle_writer **out)
{
	size_t sz = (sizeof(hx_bundle_writer) + 63) & ~(size_t)63;
	hx_bundle_writer *w = aligned_alloc(64, sz);

	*out = NULL;
	if (!w)
		return HX_ENOMEM;
	memset(w, 0, sizeof *w);
	if (crypto_generichash_init(&w->st, NULL, 0, 32)) {
		free(w);
		return HX_ECRYPTO;
	}
	*out = w;
	return HX_OK;
}

void hx_bundle_writer_free(hx_bundle_writer **w)
{
	if (!w || !*w)
		return;
	free(*w);
	*w = NULL;
}

static void record_head(uint8_t head[HX_BUNDLE_REC_HEAD], const uint8_t *entry, size_t len)
{
	memcpy(head, HX_BUNDLE_REC_MARK, 4);
	hx_be32_put(head + 4, (uint32_t)len);
	check128(head + 8, 8, entry, len);
	check128(head + 16, 4, head, 16);
}

int hx_bundle_writer_record(hx_bundle_writer *w, const uint8_t *entry, size_t len,
                            uint8_t head[HX_BUNDLE_REC_HEAD])
{
	if (len == 0 || len > HX_ENTRY_MAX)
		return HX_ELIMIT;
	record_head(head, entry, len);
	crypto_generichash_update(&w->st, head, HX_BUNDLE_REC_HEAD);
	crypto_generichash_update(&w->st, entry, len);
	w->count++;
	w->len += HX_BUNDLE_REC_HEAD + len;
	return HX_OK;
}

int hx_bundle_writer_finish(hx_bundle_writer *w, hx_bundle_manifest *m,
                            const uint8_t sk[HX_SECRET_LEN], uint8_t out[HX_BUNDLE_HEADER_LEN])
{
	m->version = HX_BUNDLE_VERSION;
	m->header_len = HX_BUNDLE_HEADER_LEN;
	m->count = w->count;
	m->entries_len = w->len;
	crypto_sign_ed25519_sk_to_pk(m->exporter, sk);
	if (crypto_generichash_final(&w->st, m->checksum, 32))
		return HX_ECRYPTO;
	memcpy(out, HX_BUNDLE_MAGIC, HX_BUNDLE_MAGIC_LEN);
	hx_be16_put(out + OFF_VERSION, m->version);
	hx_be16_put(out + OFF_HLEN, m->header_len);
	hx_be32_put(out + OFF_FLAGS, m->flags);
	memcpy(out + OFF_EXPORTER, m->exporter, HX_KEY_LEN);
	hx_be64_put(out + OFF_CREATED, m->created);
	hx_be64_put(out + OFF_COUNT, m->count);
	hx_be64_put(out + OFF_ELEN, m->entries_len);
	memcpy(out + OFF_CHECKSUM, m->checksum, 32);
	memcpy(out + OFF_STATE, m->state_digest, 32);
	crypto_sign_ed25519_detached(m->sig, NULL, out, OFF_SIG, sk);
	memcpy(out + OFF_SIG, m->sig, HX_SIG_LEN);
	m->sig_ok = 1;
	return HX_OK;
}

/* ---- reading ----------------------------------------------------------- */

struct hx_bundle_reader {
	const uint8_t *buf;
	size_t len;         /* file length */
	size_t start;       /* header_len: first byte of the entries section */
	size_t section_end; /* declared end (len when the manifest is not trusted) */
	size_t limit;       /* where reading stops: the end of the file */
	size_t pos;
	uint64_t index;
	int done;
	int truncated; /* a TRUNCATED event was given */
	int trusted;   /* manifest signature verified */
	uint8_t checksum[32];
};

int hx_bundle_reader_new(hx_bundle_reader **out, const uint8_t *buf, size_t len,
                         hx_bundle_manifest *m)
{
	hx_bundle_reader *r;

	*out = NULL;
	memset(m, 0, sizeof *m);
	if (!hx_bundle_is_bundle(buf, len) || len < HX_BUNDLE_HEADER_LEN)
		return HX_EPROTO; /* not a bundle, or it ends inside the manifest */
	m->version = hx_be16_get(buf + OFF_VERSION);
	if (m->version != HX_BUNDLE_VERSION)
		return HX_EVERSION;
	size_t hl = (size_t)hx_be16_get(buf + OFF_HLEN);
	/* A damaged header length must not cost the entries: fall back to
	 * version 1's layout; the signature then fails. */
	int hl_ok = hl >= HX_BUNDLE_HEADER_LEN && hl <= HEADER_MAX && hl <= len;
	size_t sig_at = (hl_ok ? hl : HX_BUNDLE_HEADER_LEN) - HX_SIG_LEN;
	m->header_len = (uint16_t)(hl_ok ? hl : HX_BUNDLE_HEADER_LEN);
	m->flags = hx_be32_get(buf + OFF_FLAGS);
	memcpy(m->exporter, buf + OFF_EXPORTER, HX_KEY_LEN);
	m->created = hx_be64_get(buf + OFF_CREATED);
	m->count = hx_be64_get(buf + OFF_COUNT);
	m->entries_len = hx_be64_get(buf + OFF_ELEN);
	memcpy(m->checksum, buf + OFF_CHECKSUM, 32);
	memcpy(m->state_digest, buf + OFF_STATE, 32);
	memcpy(m->sig, buf + sig_at, HX_SIG_LEN);
	m->sig_ok =
	        hl_ok && crypto_sign_ed25519_verify_detached(m->sig, buf, sig_at, m->exporter) == 0;
	if (!(r = calloc(1, sizeof *r)))
		return HX_ENOMEM;
	r->buf = buf;
	r->len = len;
	r->trusted = m->sig_ok;
	/* Untrusted: read from the end of the smallest manifest; anything
	 * before the first intact record is reported as damage. */
	r->start = r->trusted ? hl : HX_BUNDLE_HEADER_LEN;
	if (r->trusted && m->entries_len <= SIZE_MAX - r->start)
		r->section_end = r->start + (size_t)m->entries_len;
	else
		r->section_end = len;
	/* Records are read to the end of the file even past the declared
	 * section (bytes inserted, bundles concatenated): each checks
	 * itself. The section end serves to detect truncation and for the
	 * checksum. */
	r->limit = len;
	r->pos = r->start;
	memcpy(r->checksum, m->checksum, 32);
	*out = r;
	return HX_OK;
}

void hx_bundle_reader_free(hx_bundle_reader **r)
{
	if (!r || !*r)
		return;
	free(*r);
	*r = NULL;
}

size_t hx_bundle_reader_pos(const hx_bundle_reader *r)
{
	return r->pos;
}

/* The entry length of a valid record head at p (avail bytes readable from
 * p), or 0 when there is none: marker, length in range, head check. */
static size_t head_ok(const uint8_t *p, size_t avail)
{
	uint8_t hc[4];
	if (avail < HX_BUNDLE_REC_HEAD || memcmp(p, HX_BUNDLE_REC_MARK, 4))
		return 0;
	uint64_t n = hx_be32_get(p + 4);
	if (n == 0 || n > HX_ENTRY_MAX)
		return 0;
	check128(hc, 4, p, 16);
	return memcmp(hc, p + 16, 4) ? 0 : (size_t)n;
}

/* The offset of the next valid record head in (from, limit), or limit. */
static size_t resync(const hx_bundle_reader *r, size_t from)
{
	size_t at = from;
	while (at + HX_BUNDLE_REC_HEAD <= r->limit) {
		/* memchr for the marker's first byte (memmem is a GNU
		 * extension), then the whole head. */
		const uint8_t *p = memchr(r->buf + at, HX_BUNDLE_REC_MARK[0],
		                          r->limit - at - HX_BUNDLE_REC_HEAD + 1);
		if (!p)
			break;
		at = (size_t)(p - r->buf);
		if (head_ok(p, r->limit - at))
			return at;
		at++;
	}
	return r->limit;
}

static void finish(hx_bundle_reader *r, hx_bundle_rec *rec)
{
	rec->event = HX_BUNDLE_END;
	rec->offset = r->pos;
	if (r->trusted && !r->truncated && r->section_end <= r->len) {
		uint8_t sum[32];
		crypto_generichash(sum, 32, r->buf + r->start, r->section_end - r->start, NULL, 0);
		rec->checksum_ok = !memcmp(sum, r->checksum, 32);
		rec->trailing = r->len - r->section_end;
	}
	r->done = 1;
}

static void truncated(hx_bundle_reader *r, hx_bundle_rec *rec)
{
	rec->event = HX_BUNDLE_TRUNCATED;
	rec->offset = r->pos;
	r->truncated = 1;
	r->pos = r->len;
	r->done = 1;
}

static void damaged(hx_bundle_reader *r, hx_bundle_rec *rec, size_t to)
{
	rec->event = HX_BUNDLE_DAMAGED;
	rec->offset = r->pos;
	rec->skipped = to - r->pos;
	rec->index = r->index++;
	r->pos = to;
}

int hx_bundle_next(hx_bundle_reader *r, hx_bundle_rec *rec)
{
	memset(rec, 0, sizeof *rec);
	rec->index = r->index;
	if (r->done) {
		rec->event = HX_BUNDLE_END;
		rec->offset = r->pos;
		return HX_OK;
	}
	size_t avail = r->limit - r->pos;
	int file_short = r->len < r->section_end;
	if (avail == 0) {
		if (file_short)
			truncated(r, rec);
		else
			finish(r, rec);
		return HX_OK;
	}
	const uint8_t *p = r->buf + r->pos;
	if (avail < HX_BUNDLE_REC_HEAD) {
		if (file_short)
			truncated(r, rec);
		else
			damaged(r, rec, r->limit);
		return HX_OK;
	}
	size_t n = head_ok(p, avail);
	if (n && n <= avail - HX_BUNDLE_REC_HEAD) {
		uint8_t ec[8];
		const uint8_t *entry = p + HX_BUNDLE_REC_HEAD;
		check128(ec, 8, entry, n);
		if (memcmp(ec, p + 8, 8)) {
			/* The head is intact, so its length is: only the entry
			 * is damaged. Hand its bytes out for naming. */
			damaged(r, rec, r->pos + HX_BUNDLE_REC_HEAD + n);
			rec->entry = entry;
			rec->len = n;
			return HX_OK;
		}
		rec->event = HX_BUNDLE_ENTRY;
		rec->offset = r->pos;
		rec->index = r->index++;
		rec->entry = entry;
		rec->len = n;
		r->pos += HX_BUNDLE_REC_HEAD + n;
		return HX_OK;
	}
	if (n && n > r->len - r->pos - HX_BUNDLE_REC_HEAD) {
		/* An intact head whose entry runs past the end of the file. */
		truncated(r, rec);
		return HX_OK;
	}
	damaged(r, rec, resync(r, r->pos + 1));
	return HX_OK;
}
