/*
 * ftext.c: the text inside attached files (ftext.h): encoding, storing and
 * reading rows, extracting a blob. ftext_set.c re-indexes the documents
 * attaching a blob when its row changes; ftext_ix.c builds the index's
 * files field (hx_ix_files).
 *
 * Table ftext: blob hash[32] -> row, integers big-endian:
 *   offset  size  field
 *   0       1     layout: 1
 *   1       1     status: 1 text extracted, 2 failed
 *   2       1     format (enum hx_extract_format; 0 when failed)
 *   3       1     reserved (0)
 *   4       4     n: parts (status 1) or bytes of the reason (status 2)
 *   8       ...   status 1: n times { u32 page, u32 len, len bytes of UTF-8 }
 *                 status 2: the reason, UTF-8, one line
 * A row exists only for a whole blob: hx_blob_drop removes it. Every
 * change of a row re-indexes the current documents attaching the blob in
 * the same write transaction (hx_ft_set), and every index update of a
 * document reads the rows through hx_ix_files, so the index and the rows
 * never disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store/store_int.h"
#include "store/ftext.h"
#include "store/ftext_int.h"
#include "store/blob.h"

/* ---- the row ------------------------------------------------------------ */

/* Encodes a row into *out (caller frees). */
static int row_encode(int rc, const hx_extract_result *r, const char *why, uint8_t **out,
                      size_t *len)
{
	size_t need = ROW_HEAD, np = 0, total = 0;
	if (rc == HX_OK) {
		for (np = 0; np < r->nparts && np < HX_FTEXT_PARTS_MAX; np++) {
			const struct hx_extract_part *p = &r->parts[np];
			if (total + p->len > HX_FTEXT_TEXT_MAX)
				break; /* cut at a part boundary */
			if (!hx_utf8_valid(p->text, p->len) || memchr(p->text, 0, p->len))
				return HX_EINVAL;
			total += p->len;
			need += 8 + p->len;
		}
	} else {
		if (!why || !*why)
			why = r && r->why[0] ? r->why : "extraction failed";
		size_t wl = strnlen(why, HX_FTEXT_WHY_MAX);
		while (wl > 0 && !hx_utf8_valid(why, wl))
			wl--; /* cut inside a character */
		need += wl;
	}
	uint8_t *b = malloc(need);
	if (!b)
		return HX_ENOMEM;
	b[0] = 1;
	b[3] = 0;
	if (rc == HX_OK) {
		b[1] = ST_OK;
		b[2] = (uint8_t)r->format;
		hx_be32_put(b + 4, (uint32_t)np);
		size_t at = ROW_HEAD;
		for (size_t i = 0; i < np; i++) {
			hx_be32_put(b + at, r->parts[i].page);
			hx_be32_put(b + at + 4, (uint32_t)r->parts[i].len);
			memcpy(b + at + 8, r->parts[i].text, r->parts[i].len);
			at += 8 + r->parts[i].len;
		}
	} else {
		b[1] = ST_FAILED;
		b[2] = 0;
		hx_be32_put(b + 4, (uint32_t)(need - ROW_HEAD));
		memcpy(b + ROW_HEAD, why, need - ROW_HEAD);
		for (size_t i = ROW_HEAD; i < need; i++)
			if (b[i] == '\n' || b[i] == '\r')
				b[i] = ' ';
	}
	*out = b;
	*len = need;
	return HX_OK;
}

void hx_ftext_clear(hx_ftext *f)
{
	if (!f)
		return;
	free(f->parts);
	free(f->buf);
	memset(f, 0, sizeof *f);
}

/* Decodes a row into f: the parts' texts are copied into f->buf, each
 * NUL-terminated. */
static int row_decode(hx_ftext *f, const uint8_t *b, size_t len)
{
	uint32_t n;
	memset(f, 0, sizeof *f);
	if (hx_ft_row_check(b, len, &n))
		return HX_ECORRUPT;
	if (b[1] == ST_FAILED) {
		memcpy(f->why, b + ROW_HEAD, n);
		f->why[n] = 0;
		return HX_OK;
	}
	f->ok = 1;
	f->format = b[2] < HX_EXTRACT_NFORMATS ? (enum hx_extract_format)b[2] : HX_EXTRACT_UNKNOWN;
	f->parts = calloc(n ? n : 1, sizeof *f->parts);
	f->buf = malloc(len + n + 1);
	if (!f->parts || !f->buf) {
		hx_ftext_clear(f);
		return HX_ENOMEM;
	}
	size_t at = ROW_HEAD, o = 0;
	for (uint32_t i = 0; i < n; i++) {
		hx_ftext_part *p = &f->parts[i];
		p->page = hx_be32_get(b + at);
		p->len = hx_be32_get(b + at + 4);
		memcpy(f->buf + o, b + at + 8, p->len);
		f->buf[o + p->len] = 0;
		p->text = f->buf + o;
		o += p->len + 1;
		at += 8 + p->len;
	}
	f->nparts = n;
	return HX_OK;
}

int hx_ftext_get(hx_store *s, const uint8_t hash[HX_ID_LEN], hx_ftext *out)
{
	MDB_txn *txn;
	memset(out, 0, sizeof *out);
	if (!s->ix.has_ftext)
		return HX_ENOTFOUND;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	MDB_val k = { HX_ID_LEN, (void *)hash }, v;
	rc = mdb_get(txn, s->ix.ftext, &k, &v);
	rc = rc ? hx_mdb_err(rc) : row_decode(out, v.mv_data, v.mv_size);
	hx_txn_abort(s, txn);
	return rc;
}

int hx_ftext_put(hx_store *s, const uint8_t hash[HX_ID_LEN], int xrc, const hx_extract_result *r,
                 const char *why)
{
	uint8_t *row;
	size_t len;
	MDB_txn *txn;
	int rc;
	if (s->flags & HX_STORE_RDONLY || !s->ix.has_ftext || !s->has_blobs)
		return HX_EPERM;
	if (xrc == HX_OK && !r)
		return HX_EINVAL;
	if ((rc = row_encode(xrc, r, why, &row, &len)))
		return rc;
	if ((rc = hx_txn_begin(s, 0, &txn))) {
		free(row);
		return rc;
	}
	/* The blob must be whole, in this transaction (gc may drop it). */
	MDB_val bk = { HX_ID_LEN, (void *)hash }, bv;
	rc = mdb_get(txn, s->blobs, &bk, &bv);
	if (rc == MDB_NOTFOUND ||
	    (!rc && (bv.mv_size < 1 || *(uint8_t *)bv.mv_data != HX_BLOB_WHOLE)))
		rc = HX_ENOTFOUND;
	else
		rc = hx_mdb_err(rc);
	if (!rc && !(rc = hx_ft_set(s, txn, hash, row, len)) &&
	    !(rc = hx_index_commit(&s->ix, txn)))
		rc = hx_mdb_err(hx_txn_commit(s, txn));
	else {
		hx_index_abort(&s->ix); /* before the abort lets another writer in */
		hx_txn_abort(s, txn);
	}
	free(row);
	return rc;
}

/* ---- extracting ------------------------------------------------------------ */

struct hint {
	char name[HX_ATTACH_NAME_MAX + 1], type[HX_ATTACH_TYPE_MAX + 1];
};

static int hint_cb(void *arg, hx_entry *e, const hx_attach *a)
{
	struct hint *h = arg;
	(void)e;
	snprintf(h->name, sizeof h->name, "%s", a->name);
	snprintf(h->type, sizeof h->type, "%s", a->type ? a->type : "");
	return 1; /* the first one will do */
}

int hx_ftext_extract(hx_store *s, const uint8_t hash[HX_ID_LEN], const char *name, const char *type,
                     const struct hx_extract_limits *lim, int *failed, char *why, size_t whylen)
{
	struct hint h = { "", "" };
	hx_extract_result r = { 0 };
	MDB_txn *txn;
	uint64_t size;
	int fd, rc;
	if (failed)
		*failed = 0;
	if (why && whylen)
		why[0] = 0;
	if (name) {
		snprintf(h.name, sizeof h.name, "%s", name);
		snprintf(h.type, sizeof h.type, "%s", type ? type : "");
	} else {
		if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
			return rc;
		rc = hx_ft_each_attacher(s, txn, hash, hint_cb, &h);
		hx_txn_abort(s, txn);
		if (rc < 0)
			return rc;
	}
	if ((rc = hx_blob_open(s, hash, &fd, &size)))
		return rc;
	int xrc =
	        hx_extract_fd(fd, h.name[0] ? h.name : "file", h.type[0] ? h.type : NULL, lim, &r);
	close(fd);
	if (xrc == HX_ENOMEM)
		return xrc;
	if (xrc) {
		if (failed)
			*failed = 1;
		if (why && whylen)
			snprintf(why, whylen, "%s", r.why[0] ? r.why : "extraction failed");
	}
	rc = hx_ftext_put(s, hash, xrc, &r, NULL);
	hx_extract_result_free(&r);
	return rc;
}

struct pend {
	hx_store *s;
	MDB_txn *txn;
	uint8_t *h;
	size_t n, cap;
};

static int pend_cb(void *arg, const uint8_t hash[HX_ID_LEN], int state, uint64_t size)
{
	struct pend *p = arg;
	MDB_val k = { HX_ID_LEN, (void *)hash }, v;
	(void)size;
	if (state != HX_BLOB_WHOLE || !mdb_get(p->txn, p->s->ix.ftext, &k, &v))
		return 0;
	uint8_t *nh = hx_grow(p->h, &p->cap, p->n + 1, HX_ID_LEN);
	if (!nh)
		return HX_ENOMEM;
	p->h = nh;
	memcpy(p->h + p->n++ * HX_ID_LEN, hash, HX_ID_LEN);
	return 0;
}

int hx_ftext_pending(hx_store *s, uint8_t **hashes, size_t *n)
{
	struct pend p = { s, NULL, NULL, 0, 0 };
	int rc;
	*hashes = NULL;
	*n = 0;
	if (!s->ix.has_ftext)
		return HX_OK;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &p.txn)))
		return rc;
	rc = hx_blob_list(s, pend_cb, &p);
	hx_txn_abort(s, p.txn);
	if (rc) {
		free(p.h);
		return rc;
	}
	*hashes = p.h;
	*n = p.n;
	return HX_OK;
}
