/*
 * zentry.c: how the store keeps entries (zentry.h). Since schema 6 two
 * tables, integers big-endian:
 *
 *   log   seq u64 -> id[32] ‖ stored value: every entry in local arrival
 *         order (1, 2, ...; always appended, so its pages are full);
 *         id[32] alone for a purged version
 *   ids   id[0..8) -> seq u64, MDB_DUPSORT|MDB_DUPFIXED: the log rows of
 *         the entries whose id starts so (a collision of 8 bytes holds
 *         several; a lookup compares the whole id in the log row)
 *
 * Since store schema 5 a stored value is either
 *
 *   offset size  field
 *   0      n     the signed canonical entry bytes (FORMAT.md §1), whose
 *                first byte, a CBOR head, is never 0x00; or
 *   0      1     0x00
 *   1      n-1   one zstd frame (RFC 8878) of those bytes, compressed with
 *                the store's dictionary, with the dictionary id, the content
 *                size and the 32-bit content checksum in the frame
 *
 * and meta "zdict" holds the dictionary (zstd format, trained with
 * ZDICT_trainFromBuffer_fastCover from the store's first HX_ZENT_TRAIN_MIN
 * or more entries). A store has at most one dictionary and never replaces it, so
 * every compressed value can be read for the store's whole life. A value
 * is compressed only when that makes it smaller.
 *
 * A value of more than ZBLOCK bytes is compressed in blocks of ZBLOCK raw
 * bytes (one frame all the same, a flush ends each block), so that its
 * start can be decompressed without the rest (hx_zent_unpack_head: the
 * search reads the first 200 words of a body, and a body can be 256 KiB).
 * Over the tools corpus that makes the values 0.05 % larger. A value a
 * hansa before this wrote is one block; it is read whole, and a copy of
 * the store (hx_store_copy: hansa compact, backup) writes it in blocks
 * (hx_zent_repack_row).
 */
#include <stdlib.h>
#include <string.h>
/* ZDICT_trainFromBuffer_fastCover with fixed parameters (below) is in the
 * experimental part of zdict.h; it has kept its form since zstd 1.3.6. */
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
/* ZSTD_frameHeaderSize, in the experimental part of zstd.h, has kept its
 * form since zstd 1.3.0 (Debian 12 has 1.5.4). */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "store/zentry.h"
#include "store/mdb_err.h"

#define ZLEVEL 3                  /* zstd level: small values, a dictionary */
#define DICT_CAP (32 * 1024)      /* bytes of dictionary */
#define SAMPLES_MAX 8192          /* entries read to train it */
#define RAW_MAX ((size_t)1 << 20) /* no entry is larger (proto/entry.h limits) */
#define ZBLOCK 2048               /* raw bytes per block of a longer value */
#define ZTAG 0x00
#define DICT_KEY "zdict"

#define ID_KEY 8 /* bytes of an id in an ids key */

int hx_zent_init(struct hx_zent *z)
{
	memset(z, 0, sizeof *z);
	return pthread_mutex_init(&z->mu, NULL) ? HX_ENOMEM : HX_OK;
}

void hx_zent_free(struct hx_zent *z)
{
	ZSTD_freeDDict(z->ddict);
	ZSTD_freeDCtx(z->dspare);
	ZSTD_freeCDict(z->cdict);
	ZSTD_freeCDict(z->cdict_new);
	ZSTD_freeCCtx(z->cctx);
	free(z->wbuf);
	pthread_mutex_destroy(&z->mu);
	memset(z, 0, sizeof *z);
}

/* The dictionary as stored: HX_OK, HX_ENOTFOUND or error. */
static int dict_get(struct hx_zent *z, MDB_txn *txn, MDB_val *v)
{
	MDB_val k = { sizeof DICT_KEY - 1, DICT_KEY };
	int rc = mdb_get(txn, z->meta, &k, v);
	if (rc)
		return hx_mdb_err(rc);
	return ZDICT_getDictID(v->mv_data, v->mv_size) ? HX_OK : HX_ECORRUPT;
}

/* Under z->mu: the reading dictionary with id want, loaded from txn. */
static int ddict_load(struct hx_zent *z, MDB_txn *txn, uint32_t want)
{
	MDB_val v;
	if (z->ddict && z->dict_id == want)
		return HX_OK;
	if (z->ddict)
		return HX_ECORRUPT; /* a store has one dictionary */
	int rc = dict_get(z, txn, &v);
	if (rc)
		return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
	if (ZDICT_getDictID(v.mv_data, v.mv_size) != want)
		return HX_ECORRUPT;
	if (!(z->ddict = ZSTD_createDDict(v.mv_data, v.mv_size)))
		return HX_ENOMEM;
	z->dict_id = want;
	return HX_OK;
}

/* A decompression context for a frame of dictionary id (the spare one,
 * else a new one; NULL on error), the dictionary loaded; dctx_give keeps
 * it as the spare or frees it. */
static int dctx_take(struct hx_zent *z, MDB_txn *txn, unsigned id, ZSTD_DCtx **d)
{
	pthread_mutex_lock(&z->mu);
	int rc = ddict_load(z, txn, id);
	*d = z->dspare;
	z->dspare = NULL;
	pthread_mutex_unlock(&z->mu);
	if (!rc && !*d && !(*d = ZSTD_createDCtx()))
		rc = HX_ENOMEM;
	return rc;
}

static void dctx_give(struct hx_zent *z, ZSTD_DCtx *d)
{
	pthread_mutex_lock(&z->mu);
	if (!z->dspare) {
		z->dspare = d;
		d = NULL;
	}
	pthread_mutex_unlock(&z->mu);
	ZSTD_freeDCtx(d);
}

/* Whether the zstd frame f[0..n) has more than one block: the last-block
 * bit of the block header after the frame header (RFC 8878 3.1.1.2). */
static int several_blocks(const uint8_t *f, size_t n)
{
	size_t h = ZSTD_frameHeaderSize(f, n);
	return !ZSTD_isError(h) && h < n && !(f[h] & 1);
}

/* Decodes d's frame src[0..sl) into dst: block after block until out
 * bytes are out. The frame's checksum is not reached, so a damaged block
 * is only found by its own structure (hansa fsck reads every value
 * whole). */
static int decode_head(ZSTD_DCtx *d, const void *ddict, const uint8_t *src, size_t sl, uint8_t *dst,
                       size_t out_len)
{
	ZSTD_inBuffer in = { src, sl, 0 };
	ZSTD_outBuffer out = { dst, out_len, 0 };
	size_t r = ZSTD_DCtx_refDDict(d, ddict);
	while (!ZSTD_isError(r) && out.pos < out_len) {
		size_t before = in.pos + out.pos;
		r = ZSTD_decompressStream(d, &out, &in);
		if (!ZSTD_isError(r) && (r == 0 || in.pos + out.pos == before))
			break; /* the frame ended short, or no progress */
	}
	ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters);
	return ZSTD_isError(r) || out.pos != out_len ? HX_ECORRUPT : HX_OK;
}

int hx_zent_unpack_head(struct hx_zent *z, MDB_txn *txn, const MDB_val *stored, size_t want,
                        MDB_val *raw, uint8_t **owned, int *whole)
{
	const uint8_t *src = stored->mv_data;
	*owned = NULL;
	*raw = *stored;
	*whole = 1;
	if (stored->mv_size == 0 || src[0] != ZTAG)
		return HX_OK;
	size_t sl = stored->mv_size - 1;
	unsigned long long n = ZSTD_getFrameContentSize(src + 1, sl);
	unsigned id = ZSTD_getDictID_fromFrame(src + 1, sl);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n == 0 || n > RAW_MAX ||
	    !id)
		return HX_ECORRUPT;
	/* the start alone: of a value of several blocks past want */
	if (want && n > want && several_blocks(src + 1, sl)) {
		*whole = 0;
		n = want;
	}
	uint8_t *dst = malloc((size_t)n);
	if (!dst)
		return HX_ENOMEM;
	ZSTD_DCtx *d;
	int rc = dctx_take(z, txn, id, &d);
	if (!rc && *whole) {
		/* the ddict lives as long as z once loaded */
		size_t got = ZSTD_decompress_usingDDict(d, dst, (size_t)n, src + 1, sl, z->ddict);
		if (ZSTD_isError(got) || got != n)
			rc = HX_ECORRUPT;
	} else if (!rc) {
		rc = decode_head(d, z->ddict, src + 1, sl, dst, (size_t)n);
	}
	dctx_give(z, d);
	if (rc) {
		free(dst);
		return rc;
	}
	raw->mv_data = dst;
	raw->mv_size = (size_t)n;
	*owned = dst;
	return HX_OK;
}

int hx_zent_unpack(struct hx_zent *z, MDB_txn *txn, const MDB_val *stored, MDB_val *raw,
                   uint8_t **owned)
{
	int whole;
	return hx_zent_unpack_head(z, txn, stored, 0, raw, owned, &whole);
}

int hx_zent_find(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, uint64_t *seq, MDB_val *stored)
{
	MDB_cursor *c;
	MDB_val k = { ID_KEY, (void *)id }, v;
	int rc = mdb_cursor_open(txn, z->ids, &c);
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
		MDB_val lv;
		if (v.mv_size != 8) {
			rc = HX_ECORRUPT;
			break;
		}
		MDB_val lk = { 8, v.mv_data };
		if ((rc = mdb_get(txn, z->log, &lk, &lv)) && rc != MDB_NOTFOUND)
			break;
		if (!rc && lv.mv_size > HX_ID_LEN && !memcmp(lv.mv_data, id, HX_ID_LEN)) {
			*seq = hx_be64_get(v.mv_data);
			if (stored) {
				stored->mv_data = (uint8_t *)lv.mv_data + HX_ID_LEN;
				stored->mv_size = lv.mv_size - HX_ID_LEN;
			}
			break;
		}
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		return HX_ENOTFOUND;
	return rc < 0 && rc > -1000 ? rc : hx_mdb_err(rc);
}

int hx_zent_get(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, MDB_val *raw, uint8_t **owned)
{
	MDB_val v;
	uint64_t seq;
	int rc = hx_zent_find(z, txn, id, &seq, &v);
	*owned = NULL;
	if (rc)
		return rc;
	return hx_zent_unpack(z, txn, &v, raw, owned);
}

int hx_zent_decode(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, hx_entry *e)
{
	MDB_val raw;
	uint8_t *owned;
	int rc = hx_zent_get(z, txn, id, &raw, &owned);
	if (rc)
		return rc;
	rc = hx_entry_decode(e, raw.mv_data, raw.mv_size) ? HX_ECORRUPT : HX_OK;
	free(owned);
	return rc;
}

/* ---- writing ---------------------------------------------------------- */

int hx_zent_put(struct hx_zent *z, MDB_txn *txn, uint64_t seq, const uint8_t *id, const MDB_val *v)
{
	uint8_t sk[8];
	hx_be64_put(sk, seq);
	MDB_val k = { 8, sk }, lv = { HX_ID_LEN + v->mv_size, NULL };
	int rc = mdb_put(txn, z->log, &k, &lv, MDB_APPEND | MDB_RESERVE);
	if (rc)
		return rc == MDB_KEYEXIST ? HX_ECORRUPT : hx_mdb_err(rc);
	memcpy(lv.mv_data, id, HX_ID_LEN);
	memcpy((uint8_t *)lv.mv_data + HX_ID_LEN, v->mv_data, v->mv_size);
	MDB_val ik = { ID_KEY, (void *)id }, iv = { 8, sk };
	return hx_mdb_err(mdb_put(txn, z->ids, &ik, &iv, 0));
}

int hx_zent_del(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, int keep_id)
{
	uint64_t seq;
	uint8_t sk[8];
	MDB_val v;
	int rc = hx_zent_find(z, txn, id, &seq, &v);
	if (rc)
		return rc;
	hx_be64_put(sk, seq);
	MDB_val k = { 8, sk }, ik = { ID_KEY, (void *)id }, iv = { 8, sk };
	if ((rc = mdb_del(txn, z->ids, &ik, &iv)))
		return hx_mdb_err(rc);
	if (!keep_id)
		return hx_mdb_err(mdb_del(txn, z->log, &k, NULL));
	/* zeros over the bytes in this transaction's own copy of the page,
	 * then the row shrinks to the id */
	MDB_val lv = { HX_ID_LEN + v.mv_size, NULL };
	if ((rc = mdb_put(txn, z->log, &k, &lv, MDB_RESERVE)))
		return hx_mdb_err(rc);
	memset((uint8_t *)lv.mv_data + HX_ID_LEN, 0, lv.mv_size - HX_ID_LEN);
	MDB_val idv = { HX_ID_LEN, (void *)id };
	return hx_mdb_err(mdb_put(txn, z->log, &k, &idv, 0));
}

static void *cdict_of(const MDB_val *v)
{
	return ZSTD_createCDict(v->mv_data, v->mv_size, ZLEVEL);
}

/* The writer of the last transaction may still be in hx_zent_end (after
 * its commit released LMDB's write lock): z->cdict changes under z->mu,
 * and a transaction packs with its own z->cur. */
int hx_zent_begin(struct hx_zent *z, MDB_txn *txn)
{
	MDB_val v;
	int rc = HX_OK;
	pthread_mutex_lock(&z->mu);
	if (!z->cdict && !(rc = dict_get(z, txn, &v)) && !(z->cdict = cdict_of(&v)))
		rc = HX_ENOMEM;
	z->cur = z->cdict;
	pthread_mutex_unlock(&z->mu);
	return rc == HX_ENOTFOUND ? HX_OK : rc;
}

/* raw[0..len) as one frame of blocks of ZBLOCK raw bytes into dst; its
 * size, or a zstd error code. */
static size_t pack_blocks(ZSTD_CCtx *c, uint8_t *dst, size_t cap, const uint8_t *raw, size_t len)
{
	ZSTD_outBuffer out = { dst, cap, 0 };
	size_t r = ZSTD_CCtx_setPledgedSrcSize(c, len);
	for (size_t off = 0; !ZSTD_isError(r) && off < len;) {
		size_t end = len - off > ZBLOCK ? off + ZBLOCK : len;
		ZSTD_inBuffer in = { raw + off, end - off, 0 };
		ZSTD_EndDirective how = end == len ? ZSTD_e_end : ZSTD_e_flush;
		do
			r = ZSTD_compressStream2(c, &out, &in, how);
		while (r && !ZSTD_isError(r) && out.pos < out.size);
		if (r && !ZSTD_isError(r))
			return (size_t)-ZSTD_error_dstSize_tooSmall; /* out is full */
		off = end;
	}
	return ZSTD_isError(r) ? r : out.pos;
}

/* A compression context that writes the content checksum (FORMAT.md
 * §3.4), or NULL. */
static ZSTD_CCtx *cctx_new(void)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	if (c && ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1))) {
		ZSTD_freeCCtx(c);
		c = NULL;
	}
	return c;
}

/* Starts a new frame with dictionary cd (pack_blocks's pledged size is for
 * one). */
static int frame_begin(ZSTD_CCtx *c, ZSTD_CDict *cd)
{
	return ZSTD_isError(ZSTD_CCtx_reset(c, ZSTD_reset_session_only)) ||
	                       ZSTD_isError(ZSTD_CCtx_refCDict(c, cd))
	               ? HX_ENOMEM
	               : HX_OK;
}

int hx_zent_pack(struct hx_zent *z, const uint8_t *raw, size_t len, MDB_val *out)
{
	ZSTD_CDict *cd = z->cur;
	out->mv_data = (void *)raw;
	out->mv_size = len;
	if (!cd || !len || len > RAW_MAX)
		return HX_OK;
	size_t bound = 1 + ZSTD_compressBound(len);
	if (bound > z->wcap) {
		uint8_t *nb = realloc(z->wbuf, bound);
		if (!nb)
			return HX_ENOMEM;
		z->wbuf = nb;
		z->wcap = bound;
	}
	if ((!z->cctx && !(z->cctx = cctx_new())) || frame_begin(z->cctx, cd))
		return HX_ENOMEM;
	z->wbuf[0] = ZTAG;
	size_t n = len <= ZBLOCK ? ZSTD_compress2(z->cctx, z->wbuf + 1, z->wcap - 1, raw, len)
	                         : pack_blocks(z->cctx, z->wbuf + 1, z->wcap - 1, raw, len);
	if (ZSTD_isError(n) || 1 + n >= len)
		return HX_OK; /* stays as it is */
	out->mv_data = z->wbuf;
	out->mv_size = 1 + n;
	return HX_OK;
}

int hx_zent_repacker(struct hx_zent *z, MDB_txn *txn, struct hx_zrepack *r)
{
	MDB_val v;
	memset(r, 0, sizeof *r);
	int rc = dict_get(z, txn, &v);
	if (rc)
		/* nothing compressed, or a damaged dictionary: rows copied as
		 * they are (fsck names the dictionary) */
		return rc == HX_ENOTFOUND || rc == HX_ECORRUPT ? HX_OK : rc;
	if (!(r->cdict = cdict_of(&v)) || !(r->cctx = cctx_new())) {
		hx_zrepack_free(r);
		return HX_ENOMEM;
	}
	return HX_OK;
}

void hx_zrepack_free(struct hx_zrepack *r)
{
	ZSTD_freeCCtx(r->cctx);
	ZSTD_freeCDict(r->cdict);
	free(r->buf);
	memset(r, 0, sizeof *r);
}

int hx_zent_repack_row(struct hx_zent *z, MDB_txn *txn, struct hx_zrepack *r, const MDB_val *row,
                       MDB_val *out)
{
	const uint8_t *st = (const uint8_t *)row->mv_data + HX_ID_LEN;
	size_t sl = row->mv_size > HX_ID_LEN + 1 ? row->mv_size - HX_ID_LEN - 1 : 0;
	*out = *row;
	if (!r->cctx || !sl || st[0] != ZTAG)
		return HX_OK;
	unsigned long long n = ZSTD_getFrameContentSize(st + 1, sl);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n <= ZBLOCK ||
	    n > RAW_MAX || several_blocks(st + 1, sl))
		return HX_OK; /* blocks already, short, or not ours to judge (fsck's) */
	MDB_val stored = { sl + 1, (void *)st }, raw, again;
	uint8_t *owned = NULL, *owned2 = NULL;
	int rc = hx_zent_unpack(z, txn, &stored, &raw, &owned);
	if (rc)
		return rc == HX_ECORRUPT ? HX_OK : rc; /* copied as it is: fsck names it */
	uint8_t *nb = hx_grow(r->buf, &r->cap, HX_ID_LEN + 1 + ZSTD_compressBound(raw.mv_size), 1);
	if (!nb) {
		free(owned);
		return HX_ENOMEM;
	}
	r->buf = nb;
	size_t len = frame_begin(r->cctx, r->cdict)
	                     ? (size_t)-ZSTD_error_GENERIC
	                     : pack_blocks(r->cctx, r->buf + HX_ID_LEN + 1, r->cap - HX_ID_LEN - 1,
	                                   raw.mv_data, raw.mv_size);
	/* kept only when it reads back as the same bytes */
	MDB_val packed = { 1 + len, r->buf + HX_ID_LEN };
	r->buf[HX_ID_LEN] = ZTAG;
	if (!ZSTD_isError(len) && 1 + len < raw.mv_size &&
	    !hx_zent_unpack(z, txn, &packed, &again, &owned2) && again.mv_size == raw.mv_size &&
	    !memcmp(again.mv_data, raw.mv_data, raw.mv_size)) {
		memcpy(r->buf, row->mv_data, HX_ID_LEN);
		out->mv_data = r->buf;
		out->mv_size = HX_ID_LEN + 1 + len;
	}
	free(owned2);
	free(owned);
	return HX_OK;
}

/* Up to SAMPLES_MAX stored values (all uncompressed: there is no
 * dictionary yet), concatenated for the trainer. */
static int samples_read(struct hx_zent *z, MDB_txn *txn, uint8_t **buf, size_t **sizes, unsigned *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t len = 0, cap = 0;
	int rc = mdb_cursor_open(txn, z->log, &c);
	*buf = NULL;
	*n = 0;
	if (rc)
		return hx_mdb_err(rc);
	if (!(*sizes = malloc(SAMPLES_MAX * sizeof **sizes))) {
		mdb_cursor_close(c);
		return HX_ENOMEM;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && *n < SAMPLES_MAX;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size <= HX_ID_LEN || ((uint8_t *)v.mv_data)[HX_ID_LEN] == ZTAG)
			continue;
		v.mv_data = (uint8_t *)v.mv_data + HX_ID_LEN;
		v.mv_size -= HX_ID_LEN;
		uint8_t *nb = hx_grow(*buf, &cap, len + v.mv_size, 1);
		if (!nb) {
			rc = HX_ENOMEM;
			break;
		}
		*buf = nb;
		memcpy(*buf + len, v.mv_data, v.mv_size);
		len += v.mv_size;
		(*sizes)[(*n)++] = v.mv_size;
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? HX_OK : rc == HX_ENOMEM ? rc : hx_mdb_err(rc);
}

/* Packs every uncompressed value of the log with the new dictionary. */
static int repack_all(struct hx_zent *z, MDB_txn *txn)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	int rc = mdb_cursor_open(txn, z->log, &c);
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size <= HX_ID_LEN ||
		    ((uint8_t *)v.mv_data)[HX_ID_LEN] == ZTAG)
			continue;
		uint64_t *a = hx_grow(seqs, &cap, n + 1, sizeof *seqs);
		if (!a) {
			rc = HX_ENOMEM;
			break;
		}
		seqs = a;
		seqs[n++] = hx_be64_get(k.mv_data);
	}
	mdb_cursor_close(c);
	rc = rc == MDB_NOTFOUND ? HX_OK : rc == HX_ENOMEM ? rc : hx_mdb_err(rc);
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t sk[8], id[HX_ID_LEN];
		hx_be64_put(sk, seqs[i]);
		MDB_val ik = { 8, sk }, pv;
		if ((rc = hx_mdb_err(mdb_get(txn, z->log, &ik, &v))))
			break;
		memcpy(id, v.mv_data, HX_ID_LEN);
		uint8_t *raw = (uint8_t *)v.mv_data + HX_ID_LEN;
		if ((rc = hx_zent_pack(z, raw, v.mv_size - HX_ID_LEN, &pv)) || pv.mv_data == raw)
			continue;
		/* pv is in z->wbuf, not in the page the put may move */
		MDB_val nv = { HX_ID_LEN + pv.mv_size, NULL };
		if (!(rc = hx_mdb_err(mdb_put(txn, z->log, &ik, &nv, MDB_RESERVE)))) {
			memcpy(nv.mv_data, id, HX_ID_LEN);
			memcpy((uint8_t *)nv.mv_data + HX_ID_LEN, pv.mv_data, pv.mv_size);
		}
	}
	free(seqs);
	return rc;
}

int hx_zent_train(struct hx_zent *z, MDB_txn *txn)
{
	MDB_stat st;
	int rc;
	if (z->cur)
		return HX_OK;
	if ((rc = mdb_stat(txn, z->ids, &st)))
		return hx_mdb_err(rc);
	if (st.ms_entries < HX_ZENT_TRAIN_MIN || st.ms_entries < z->retrain_at)
		return HX_OK;
	MDB_val dv;
	if ((rc = dict_get(z, txn, &dv)) != HX_ENOTFOUND)
		return rc ? rc : HX_ECORRUPT; /* hx_zent_begin would have loaded it */
	uint8_t *buf, *dict = NULL;
	size_t *sizes = NULL;
	unsigned n;
	if ((rc = samples_read(z, txn, &buf, &sizes, &n)))
		goto out;
	if (!(dict = malloc(DICT_CAP))) {
		rc = HX_ENOMEM;
		goto out;
	}
	/* fastCover with fixed parameters: ZDICT_trainFromBuffer tries
	 * several k (and keeps a quarter of the samples aside to score them)
	 * and took 4-5 times as long (0.4-0.6 s of the write transaction on
	 * the tools corpus) for dictionaries that compress no better: 0.559
	 * against 0.558 of the corpus's bytes, from 8,192 samples. */
	ZDICT_fastCover_params_t fp = { .k = 200, .d = 8, .f = 20, .accel = 1, .splitPoint = 1.0 };
	fp.zParams.compressionLevel = ZLEVEL;
	size_t dl = ZDICT_trainFromBuffer_fastCover(dict, DICT_CAP, buf, sizes, n, fp);
	if (ZDICT_isError(dl)) {
		/* too little to learn from: try again when the table doubled */
		z->retrain_at = st.ms_entries * 2;
		goto out;
	}
	MDB_val k = { sizeof DICT_KEY - 1, DICT_KEY };
	dv.mv_data = dict;
	dv.mv_size = dl;
	if ((rc = hx_mdb_err(mdb_put(txn, z->meta, &k, &dv, MDB_NOOVERWRITE))))
		goto out;
	if (!(z->cur = z->cdict_new = cdict_of(&dv))) {
		rc = HX_ENOMEM;
		goto out;
	}
	rc = repack_all(z, txn);
out:
	free(buf);
	free(sizes);
	free(dict);
	return rc;
}

void hx_zent_end(struct hx_zent *z, int committed)
{
	if (!z->cdict_new)
		return;
	pthread_mutex_lock(&z->mu);
	if (committed && !z->cdict)
		z->cdict = z->cdict_new;
	else
		ZSTD_freeCDict(z->cdict_new);
	z->cdict_new = NULL;
	pthread_mutex_unlock(
	        &z->mu); /* hx_zent_pack refers the context to a dictionary each time */
}
