/*
 * bundle.c: the bundle file format (see bundle.h; docs/FORMAT.md §4).
 *
 * File = manifest ‖ records section. Integers big-endian.
 *
 *   manifest (version 2, 216 bytes; version 1: 200 bytes, no blob fields,
 *   the signature at 136)
 *   off len field
 *     0   8  magic 89 48 58 42 0d 0a 1a 0a  ("\x89HXB\r\n\x1a\n")
 *     8   2  format version = 2 (1 when the bundle carries no blob)
 *    10   2  header_len H = 216 (200) (the records section starts at H)
 *    12   4  flags: bit 0 = incremental (written against a state file)
 *    16  32  exporter's Ed25519 public key
 *    48   8  created, microseconds since the epoch
 *    56   8  count: number of entry records
 *    64   8  entries_len: bytes of the records section
 *    72  32  checksum: BLAKE2b-256 of the records section [H, H+entries_len)
 *   104  32  state digest: the checksum of the state file used, or zeros
 *   136   8  blobs: number of blob records (version 2)
 *   144   8  blob bytes: the sum of their sizes (version 2)
 *   152  64  Ed25519 signature by the exporter over bytes [0, H-64)
 *
 *   record: a 20-byte head, then a body of n bytes
 *     0   4  marker 1e 48 58 xx  ("\x1eHX" and the kind: R, F or C)
 *     4   4  n: body length (range by kind, below)
 *     8   8  body check: first 8 bytes of BLAKE2b-128(body)
 *    16   4  head check: first 4 bytes of BLAKE2b-128(record bytes 0..15)
 *    20   n  body
 *   R (entry), 1 <= n <= HX_ENTRY_MAX: the signed entry exactly as stored
 *   F (blob), n = 40 + 32 * ceil(size / 262144): blob hash (32), size (8),
 *             the chunk hash list (docs/FORMAT.md §1.7)
 *   C (chunk), 37 <= n <= 36 + 262144: blob hash (32), index (4), bytes
 * A writer puts the entries first, then each blob record followed by its
 * chunk records in index order.
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
#define OFF_SIG_1 136 /* version 1 */
#define OFF_BLOBS 136
#define OFF_BLOB_BYTES 144
#define BLOB_BODY_MIN 40                                /* hash, size */
#define CHUNK_BODY_MIN 36                               /* hash, index */
#define CHUNKS_MAX (HX_ATTACH_SIZE_MAX / HX_CHUNK_SIZE) /* 2^22 */
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

/* The same of a ‖ b (b may be empty). */
static void check128_2(uint8_t *out, size_t n, const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen)
{
	crypto_generichash_state st;
	uint8_t h[16];
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, a, alen);
	if (blen)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, h, sizeof h);
	memcpy(out, h, n);
}

/* ---- writing ----------------------------------------------------------- */

struct hx_bundle_writer {
	crypto_generichash_state st; /* needs 64-byte alignment */
	uint64_t count, len, blobs, blob_bytes;
	int v2;
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

void hx_bundle_writer_v2(hx_bundle_writer *w)
{
	w->v2 = 1;
}

size_t hx_bundle_writer_header_len(const hx_bundle_writer *w)
{
	return w->v2 ? HX_BUNDLE_HEADER_LEN : HX_BUNDLE_HEADER_LEN_1;
}

/* Fills the head of a blob or chunk record whose body is pre ‖ rest (pre is
 * the head's own tail) and adds the record to the checksum. */
static void part_record(hx_bundle_writer *w, const char *mark, uint8_t *head, size_t prelen,
                        const uint8_t *rest, size_t restlen)
{
	uint8_t *body = head + HX_BUNDLE_REC_HEAD;
	memcpy(head, mark, 4);
	hx_be32_put(head + 4, (uint32_t)(prelen + restlen));
	check128_2(head + 8, 8, body, prelen, rest, restlen);
	check128(head + 16, 4, head, 16);
	crypto_generichash_update(&w->st, head, HX_BUNDLE_REC_HEAD + prelen);
	if (restlen)
		crypto_generichash_update(&w->st, rest, restlen);
	w->len += HX_BUNDLE_REC_HEAD + prelen + restlen;
}

int hx_bundle_writer_blob(hx_bundle_writer *w, const uint8_t hash[HX_ID_LEN], uint64_t size,
                          const uint8_t *hashes, uint8_t pre[HX_BUNDLE_BLOB_PRE])
{
	if (!w->v2)
		return HX_EINVAL;
	if (size > HX_ATTACH_SIZE_MAX)
		return HX_ELIMIT;
	memcpy(pre + HX_BUNDLE_REC_HEAD, hash, HX_ID_LEN);
	hx_be64_put(pre + HX_BUNDLE_REC_HEAD + HX_ID_LEN, size);
	part_record(w, HX_BUNDLE_BLOB_MARK, pre, BLOB_BODY_MIN, hashes,
	            (size_t)hx_blob_chunks(size) * HX_ID_LEN);
	w->blobs++;
	w->blob_bytes += size;
	return HX_OK;
}

int hx_bundle_writer_chunk(hx_bundle_writer *w, const uint8_t hash[HX_ID_LEN], uint32_t i,
                           const uint8_t *data, size_t len, uint8_t pre[HX_BUNDLE_CHUNK_PRE])
{
	if (!w->v2)
		return HX_EINVAL;
	if (len == 0 || len > HX_CHUNK_SIZE)
		return HX_ELIMIT;
	memcpy(pre + HX_BUNDLE_REC_HEAD, hash, HX_ID_LEN);
	hx_be32_put(pre + HX_BUNDLE_REC_HEAD + HX_ID_LEN, i);
	part_record(w, HX_BUNDLE_CHUNK_MARK, pre, CHUNK_BODY_MIN, data, len);
	return HX_OK;
}

int hx_bundle_writer_finish(hx_bundle_writer *w, hx_bundle_manifest *m,
                            const uint8_t sk[HX_SECRET_LEN], uint8_t *out)
{
	size_t sig_at = hx_bundle_writer_header_len(w) - HX_SIG_LEN;
	m->version = w->v2 ? HX_BUNDLE_VERSION : HX_BUNDLE_VERSION_1;
	m->header_len = (uint16_t)hx_bundle_writer_header_len(w);
	m->count = w->count;
	m->entries_len = w->len;
	m->blobs = w->blobs;
	m->blob_bytes = w->blob_bytes;
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
	if (w->v2) {
		hx_be64_put(out + OFF_BLOBS, m->blobs);
		hx_be64_put(out + OFF_BLOB_BYTES, m->blob_bytes);
	}
	crypto_sign_ed25519_detached(m->sig, NULL, out, sig_at, sk);
	memcpy(out + sig_at, m->sig, HX_SIG_LEN);
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
	if (!hx_bundle_is_bundle(buf, len) || len < HX_BUNDLE_HEADER_LEN_1)
		return HX_EPROTO; /* not a bundle, or it ends inside the manifest */
	m->version = hx_be16_get(buf + OFF_VERSION);
	if (m->version != HX_BUNDLE_VERSION && m->version != HX_BUNDLE_VERSION_1)
		return HX_EVERSION;
	size_t hmin =
	        m->version == HX_BUNDLE_VERSION ? HX_BUNDLE_HEADER_LEN : HX_BUNDLE_HEADER_LEN_1;
	if (len < hmin)
		return HX_EPROTO;
	size_t hl = (size_t)hx_be16_get(buf + OFF_HLEN);
	/* A damaged header length must not cost the entries: fall back to
	 * the version's own layout; the signature then fails. */
	int hl_ok = hl >= hmin && hl <= HEADER_MAX && hl <= len;
	size_t sig_at = (hl_ok ? hl : hmin) - HX_SIG_LEN;
	m->header_len = (uint16_t)(hl_ok ? hl : hmin);
	m->flags = hx_be32_get(buf + OFF_FLAGS);
	memcpy(m->exporter, buf + OFF_EXPORTER, HX_KEY_LEN);
	m->created = hx_be64_get(buf + OFF_CREATED);
	m->count = hx_be64_get(buf + OFF_COUNT);
	m->entries_len = hx_be64_get(buf + OFF_ELEN);
	memcpy(m->checksum, buf + OFF_CHECKSUM, 32);
	memcpy(m->state_digest, buf + OFF_STATE, 32);
	if (m->version == HX_BUNDLE_VERSION) {
		m->blobs = hx_be64_get(buf + OFF_BLOBS);
		m->blob_bytes = hx_be64_get(buf + OFF_BLOB_BYTES);
	}
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
	r->start = r->trusted ? hl : hmin;
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

/* Whether n is a body length the record kind allows. */
static int length_ok(int kind, uint64_t n)
{
	switch (kind) {
	case HX_BUNDLE_KIND_ENTRY: return n >= 1 && n <= HX_ENTRY_MAX;
	case HX_BUNDLE_KIND_BLOB:
		return n >= BLOB_BODY_MIN && (n - BLOB_BODY_MIN) % HX_ID_LEN == 0 &&
		       (n - BLOB_BODY_MIN) / HX_ID_LEN <= CHUNKS_MAX;
	case HX_BUNDLE_KIND_CHUNK: return n > CHUNK_BODY_MIN && n <= CHUNK_BODY_MIN + HX_CHUNK_SIZE;
	default: return 0;
	}
}

/* The body length of a valid record head at p (avail bytes readable from
 * p), or 0 when there is none: marker, length in range for the kind, head
 * check. *kind gets the record's hx_bundle_kind. */
static size_t head_ok(const uint8_t *p, size_t avail, int *kind)
{
	uint8_t hc[4];
	if (avail < HX_BUNDLE_REC_HEAD || memcmp(p, HX_BUNDLE_REC_MARK, 3))
		return 0;
	uint64_t n = hx_be32_get(p + 4);
	if (!length_ok(p[3], n))
		return 0;
	check128(hc, 4, p, 16);
	if (memcmp(hc, p + 16, 4))
		return 0;
	*kind = p[3];
	return (size_t)n;
}

/* Whether a blob record's size is within the format's limit and agrees
 * with the length of its hash list. */
static int blob_body_ok(const uint8_t *body, size_t n)
{
	uint64_t size = hx_be64_get(body + HX_ID_LEN);
	return size <= HX_ATTACH_SIZE_MAX &&
	       hx_blob_chunks(size) == (n - BLOB_BODY_MIN) / HX_ID_LEN;
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
		int kind;
		if (head_ok(p, r->limit - at, &kind))
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
	int kind = 0;
	size_t n = head_ok(p, avail, &kind);
	if (n && n <= avail - HX_BUNDLE_REC_HEAD) {
		uint8_t ec[8];
		const uint8_t *body = p + HX_BUNDLE_REC_HEAD;
		check128(ec, 8, body, n);
		/* A blob record whose size and list disagree (or whose size
		 * is over the format's limit) checks but is no record a
		 * writer makes: damaged like a failed check. */
		if (memcmp(ec, p + 8, 8) ||
		    (kind == HX_BUNDLE_KIND_BLOB && !blob_body_ok(body, n))) {
			/* The head is intact, so its length is: only the body
			 * is damaged. Hand its bytes out for naming. */
			damaged(r, rec, r->pos + HX_BUNDLE_REC_HEAD + n);
			rec->kind = kind;
			rec->entry = body;
			rec->len = n;
			return HX_OK;
		}
		rec->offset = r->pos;
		rec->index = r->index++;
		r->pos += HX_BUNDLE_REC_HEAD + n;
		if (kind == HX_BUNDLE_KIND_ENTRY) {
			rec->event = HX_BUNDLE_ENTRY;
			rec->entry = body;
			rec->len = n;
		} else if (kind == HX_BUNDLE_KIND_BLOB) {
			rec->event = HX_BUNDLE_BLOB;
			rec->hash = body;
			rec->size = hx_be64_get(body + HX_ID_LEN);
			rec->hashes = body + BLOB_BODY_MIN;
			rec->nchunks = (uint32_t)((n - BLOB_BODY_MIN) / HX_ID_LEN);
		} else {
			rec->event = HX_BUNDLE_CHUNK;
			rec->hash = body;
			rec->chunk = hx_be32_get(body + HX_ID_LEN);
			rec->entry = body + CHUNK_BODY_MIN;
			rec->len = n - CHUNK_BODY_MIN;
		}
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
