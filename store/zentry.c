/*
 * zentry.c: entry values in the `entries` table (zentry.h). Since store
 * schema 5 a value is either
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
 * ZDICT_trainFromBuffer from the store's first HX_ZENT_TRAIN_MIN or more
 * entries). A store has at most one dictionary and never replaces it, so
 * every compressed value can be read for the store's whole life. A value
 * is compressed only when that makes it smaller.
 */
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#include "store/zentry.h"
#include "store/mdb_err.h"

#define ZLEVEL 3                  /* zstd level: small values, a dictionary */
#define DICT_CAP (32 * 1024)      /* bytes of dictionary */
#define SAMPLES_MAX 8192          /* entries read to train it */
#define RAW_MAX ((size_t)1 << 20) /* no entry is larger (proto/entry.h limits) */
#define ZTAG 0x00
#define DICT_KEY "zdict"

int hx_zent_init(struct hx_zent *z, MDB_dbi entries, MDB_dbi meta)
{
	memset(z, 0, sizeof *z);
	z->entries = entries;
	z->meta = meta;
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

int hx_zent_unpack(struct hx_zent *z, MDB_txn *txn, const MDB_val *stored, MDB_val *raw,
                   uint8_t **owned)
{
	const uint8_t *src = stored->mv_data;
	*owned = NULL;
	*raw = *stored;
	if (stored->mv_size == 0 || src[0] != ZTAG)
		return HX_OK;
	size_t sl = stored->mv_size - 1;
	unsigned long long n = ZSTD_getFrameContentSize(src + 1, sl);
	unsigned id = ZSTD_getDictID_fromFrame(src + 1, sl);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n == 0 || n > RAW_MAX ||
	    !id)
		return HX_ECORRUPT;
	uint8_t *dst = malloc((size_t)n);
	if (!dst)
		return HX_ENOMEM;
	pthread_mutex_lock(&z->mu);
	int rc = ddict_load(z, txn, id);
	ZSTD_DCtx *d = z->dspare;
	z->dspare = NULL;
	pthread_mutex_unlock(&z->mu);
	if (!rc && !d && !(d = ZSTD_createDCtx()))
		rc = HX_ENOMEM;
	if (!rc) {
		/* the ddict lives as long as z once loaded */
		size_t got = ZSTD_decompress_usingDDict(d, dst, (size_t)n, src + 1, sl, z->ddict);
		if (ZSTD_isError(got) || got != n)
			rc = HX_ECORRUPT;
	}
	pthread_mutex_lock(&z->mu);
	if (!z->dspare) {
		z->dspare = d;
		d = NULL;
	}
	pthread_mutex_unlock(&z->mu);
	ZSTD_freeDCtx(d);
	if (rc) {
		free(dst);
		return rc;
	}
	raw->mv_data = dst;
	raw->mv_size = (size_t)n;
	*owned = dst;
	return HX_OK;
}

int hx_zent_get(struct hx_zent *z, MDB_txn *txn, const uint8_t *id, MDB_val *raw, uint8_t **owned)
{
	MDB_val k = { HX_ID_LEN, (void *)id }, v;
	int rc = mdb_get(txn, z->entries, &k, &v);
	*owned = NULL;
	if (rc)
		return hx_mdb_err(rc);
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
	if (!z->cctx) {
		if (!(z->cctx = ZSTD_createCCtx()))
			return HX_ENOMEM;
		ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
	}
	if (ZSTD_isError(ZSTD_CCtx_refCDict(z->cctx, cd)))
		return HX_ENOMEM;
	z->wbuf[0] = ZTAG;
	size_t n = ZSTD_compress2(z->cctx, z->wbuf + 1, z->wcap - 1, raw, len);
	if (ZSTD_isError(n) || 1 + n >= len)
		return HX_OK; /* stays as it is */
	out->mv_data = z->wbuf;
	out->mv_size = 1 + n;
	return HX_OK;
}

/* Up to SAMPLES_MAX stored values (all uncompressed: there is no
 * dictionary yet), concatenated for the trainer. */
static int samples_read(struct hx_zent *z, MDB_txn *txn, uint8_t **buf, size_t **sizes, unsigned *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t len = 0, cap = 0;
	int rc = mdb_cursor_open(txn, z->entries, &c);
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
		if (!v.mv_size || ((uint8_t *)v.mv_data)[0] == ZTAG)
			continue;
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

/* Packs every uncompressed value of the table with the new dictionary. */
static int repack_all(struct hx_zent *z, MDB_txn *txn)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t(*ids)[HX_ID_LEN] = NULL;
	size_t n = 0, cap = 0;
	int rc = mdb_cursor_open(txn, z->entries, &c);
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != HX_ID_LEN || !v.mv_size || ((uint8_t *)v.mv_data)[0] == ZTAG)
			continue;
		void *a = hx_grow(ids, &cap, n + 1, sizeof *ids);
		if (!a) {
			rc = HX_ENOMEM;
			break;
		}
		ids = a;
		memcpy(ids[n++], k.mv_data, HX_ID_LEN);
	}
	mdb_cursor_close(c);
	rc = rc == MDB_NOTFOUND ? HX_OK : rc == HX_ENOMEM ? rc : hx_mdb_err(rc);
	for (size_t i = 0; i < n && !rc; i++) {
		MDB_val ik = { HX_ID_LEN, ids[i] }, pv;
		if ((rc = hx_mdb_err(mdb_get(txn, z->entries, &ik, &v))))
			break;
		if (!(rc = hx_zent_pack(z, v.mv_data, v.mv_size, &pv)) && pv.mv_data != v.mv_data)
			rc = hx_mdb_err(mdb_put(txn, z->entries, &ik, &pv, 0));
	}
	free(ids);
	return rc;
}

int hx_zent_train(struct hx_zent *z, MDB_txn *txn)
{
	MDB_stat st;
	int rc;
	if (z->cur)
		return HX_OK;
	if ((rc = mdb_stat(txn, z->entries, &st)))
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
	size_t dl = ZDICT_trainFromBuffer(dict, DICT_CAP, buf, sizes, n);
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
