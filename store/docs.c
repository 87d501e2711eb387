/*
 * docs.c: the layout of the store's documents (since schema 6; FORMAT.md
 * §3): the "versions" table holds every version of every document under
 * one key per document, and "authors" numbers the authors so that a key
 * carries a short number instead of a 32-byte key. Only LMDB is called
 * here: the search index (ix_rebuild.c, ix_check.c) walks documents
 * through hx_docs_each without a call circle through store.c.
 *
 *   versions  path ‖ 00 ‖ author number (1-4 bytes BE, no leading zero)
 *             -> MDB_DUPSORT|MDB_DUPFIXED values ts u64 BE ‖ id[32] ‖ flags,
 *                one per version, oldest first; the last is current
 *   authors   author[32] -> number u32 BE; number u32 BE -> author[32]
 */
#include <string.h>
#include "store/store_int.h"

#define NUM_KEY 4 /* a number's key in "authors" */

int hx_docs_open(hx_store *s, MDB_txn *txn, unsigned create)
{
	int rc = mdb_dbi_open(txn, "versions", MDB_DUPSORT | MDB_DUPFIXED | create, &s->versions);
	if (!rc)
		rc = mdb_dbi_open(txn, "authors", create, &s->authors);
	return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
}

size_t hx_ver_key(uint8_t *k, const char *path, uint32_t num)
{
	size_t n = strlen(path), at = n + 1;
	memcpy(k, path, n);
	k[n] = 0;
	for (int shift = 24; shift >= 0; shift -= 8)
		if ((num >> shift) || at > n + 1)
			k[at++] = (uint8_t)(num >> shift);
	return at;
}

int hx_ver_key_split(const MDB_val *k, size_t *pathlen, uint32_t *num)
{
	const uint8_t *b = k->mv_data, *z = memchr(b, 0, k->mv_size);
	if (!z || z == b || (size_t)(z - b) > HX_PATH_MAX)
		return HX_ECORRUPT;
	size_t nl = k->mv_size - (size_t)(z - b) - 1;
	if (nl < 1 || nl > 4 || !z[1])
		return HX_ECORRUPT;
	*num = 0;
	for (size_t i = 1; i <= nl; i++)
		*num = *num << 8 | z[i];
	*pathlen = (size_t)(z - b);
	return HX_OK;
}

void hx_ver_val(uint8_t v[HX_VER_LEN], const hx_entry *e)
{
	hx_be64_put(v, e->timestamp);
	memcpy(v + 8, e->id, HX_ID_LEN);
	v[8 + HX_ID_LEN] = hx_entry_is_listed(e) ? HX_VER_LISTED : 0;
}

int hx_author_num(hx_store *s, MDB_txn *txn, const uint8_t *author, int create, uint32_t *num)
{
	MDB_val k = { HX_KEY_LEN, (void *)author }, v;
	int rc = mdb_get(txn, s->authors, &k, &v);
	if (rc == 0) {
		if (v.mv_size != 4 || !(*num = hx_be32_get(v.mv_data)))
			return HX_ECORRUPT;
		return HX_OK;
	}
	if (rc != MDB_NOTFOUND || !create)
		return hx_mdb_err(rc);
	MDB_stat st;
	if ((rc = mdb_stat(txn, s->authors, &st)))
		return hx_mdb_err(rc);
	/* rows come in pairs and are never deleted: the next number */
	uint8_t nk[NUM_KEY];
	*num = (uint32_t)(st.ms_entries / 2 + 1);
	hx_be32_put(nk, *num);
	MDB_val kn = { NUM_KEY, nk }, vn = { HX_KEY_LEN, (void *)author };
	v = (MDB_val){ NUM_KEY, nk };
	if ((rc = mdb_put(txn, s->authors, &kn, &vn, MDB_NOOVERWRITE)) ||
	    (rc = mdb_put(txn, s->authors, &k, &v, MDB_NOOVERWRITE)))
		return rc == MDB_KEYEXIST ? HX_ECORRUPT : hx_mdb_err(rc);
	return HX_OK;
}

int hx_author_key(hx_store *s, MDB_txn *txn, uint32_t num, uint8_t author[HX_KEY_LEN])
{
	uint8_t nk[NUM_KEY];
	hx_be32_put(nk, num);
	MDB_val k = { NUM_KEY, nk }, v;
	int rc = mdb_get(txn, s->authors, &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
	if (v.mv_size != HX_KEY_LEN)
		return HX_ECORRUPT;
	memcpy(author, v.mv_data, HX_KEY_LEN);
	return HX_OK;
}

int hx_ver_doc_key(hx_store *s, MDB_txn *txn, const uint8_t *author, const char *path, int create,
                   uint8_t *k, size_t *kl)
{
	uint32_t num = 0;
	if (strlen(path) > HX_PATH_MAX || !*path)
		return HX_ENOTFOUND;
	int rc = hx_author_num(s, txn, author, create, &num);
	if (!rc)
		*kl = hx_ver_key(k, path, num);
	return rc;
}

/* The last value under the cursor's key (which the cursor is on). */
static int last_dup(MDB_cursor *c, MDB_val *k, uint8_t cur[HX_VER_LEN])
{
	MDB_val v;
	int rc = mdb_cursor_get(c, k, &v, MDB_LAST_DUP);
	if (rc)
		return hx_mdb_err(rc);
	if (v.mv_size != HX_VER_LEN)
		return HX_ECORRUPT;
	memcpy(cur, v.mv_data, HX_VER_LEN);
	return HX_OK;
}

int hx_ver_current(MDB_txn *txn, MDB_dbi versions, const uint8_t *k, size_t kl,
                   uint8_t cur[HX_VER_LEN])
{
	MDB_cursor *c;
	MDB_val key = { kl, (void *)k }, v;
	int rc = mdb_cursor_open(txn, versions, &c);
	if (rc)
		return hx_mdb_err(rc);
	rc = mdb_cursor_get(c, &key, &v, MDB_SET_KEY);
	rc = rc ? hx_mdb_err(rc) : last_dup(c, &key, cur);
	mdb_cursor_close(c);
	return rc;
}

int hx_docs_each(MDB_txn *txn, MDB_dbi versions, const void *prefix, size_t plen,
                 int (*cb)(void *arg, const MDB_val *key, const uint8_t *cur), void *arg)
{
	MDB_cursor *c;
	MDB_val k = { plen, (void *)prefix }, v;
	uint8_t cur[HX_VER_LEN];
	int rc = mdb_cursor_open(txn, versions, &c), stop = 0;
	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP)) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
			break;
		if ((stop = last_dup(c, &k, cur)) || (stop = cb(arg, &k, cur)))
			break;
	}
	mdb_cursor_close(c);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

static int listed(const uint8_t *ver)
{
	return (ver[8 + HX_ID_LEN] & HX_VER_LISTED) != 0;
}

int hx_ver_add(hx_store *s, MDB_txn *txn, const hx_entry *e, uint8_t prev[HX_VER_LEN],
               int *had_prev, int *current)
{
	uint8_t k[HX_VER_KEYMAX], val[HX_VER_LEN];
	size_t kl;
	int rc = hx_ver_doc_key(s, txn, e->author, e->path, 1, k, &kl);
	if (rc)
		return rc == HX_ENOTFOUND ? HX_EINVAL : rc;
	rc = hx_ver_current(txn, s->versions, k, kl, prev);
	if (rc && rc != HX_ENOTFOUND)
		return rc;
	*had_prev = rc == HX_OK;
	hx_ver_val(val, e);
	MDB_val key = { kl, k }, v = { HX_VER_LEN, val };
	if ((rc = mdb_put(txn, s->versions, &key, &v, MDB_NODUPDATA)))
		return rc == MDB_KEYEXIST ? HX_OK : hx_mdb_err(rc);
	*current = !*had_prev || memcmp(val, prev, 8 + HX_ID_LEN) > 0;
	if (!*current)
		return HX_OK;
	return hx_live_add(s, txn, listed(val) - (*had_prev && listed(prev)));
}

int hx_ver_del(hx_store *s, MDB_txn *txn, const hx_entry *e, int *was_current,
               uint8_t next[HX_VER_LEN], int *has_next)
{
	uint8_t k[HX_VER_KEYMAX], val[HX_VER_LEN], cur[HX_VER_LEN];
	size_t kl;
	*was_current = *has_next = 0;
	int rc = hx_ver_doc_key(s, txn, e->author, e->path, 0, k, &kl);
	if (!rc)
		rc = hx_ver_current(txn, s->versions, k, kl, cur);
	if (rc)
		return rc == HX_ENOTFOUND ? HX_OK : rc;
	hx_ver_val(val, e);
	MDB_val key = { kl, k }, v = { HX_VER_LEN, val };
	if ((rc = mdb_del(txn, s->versions, &key, &v)))
		return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
	if (memcmp(cur, val, 8 + HX_ID_LEN))
		return HX_OK; /* an older version: history only */
	*was_current = 1;
	rc = hx_ver_current(txn, s->versions, k, kl, next);
	if (rc && rc != HX_ENOTFOUND)
		return rc;
	*has_next = rc == HX_OK;
	return hx_live_add(s, txn, (*has_next && listed(next)) - listed(cur));
}

int hx_live_add(hx_store *s, MDB_txn *txn, int64_t delta)
{
	MDB_val k = { sizeof HX_LIVE_KEY - 1, HX_LIVE_KEY }, v;
	uint8_t b[8];
	uint64_t n = 0;
	if (!delta)
		return HX_OK;
	int rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		n = hx_be64_get(v.mv_data);
	else if (rc == 0 || rc != MDB_NOTFOUND)
		return rc ? hx_mdb_err(rc) : HX_ECORRUPT;
	if (delta < 0 && n < (uint64_t)-delta)
		return HX_ECORRUPT;
	hx_be64_put(b, n + (uint64_t)(int64_t)delta);
	v = (MDB_val){ 8, b };
	return hx_mdb_err(mdb_put(txn, s->meta, &k, &v, 0));
}

int hx_live_get(hx_store *s, MDB_txn *txn, uint64_t *n)
{
	MDB_val k = { sizeof HX_LIVE_KEY - 1, HX_LIVE_KEY }, v;
	int rc = mdb_get(txn, s->meta, &k, &v);
	*n = 0;
	if (rc == MDB_NOTFOUND)
		return HX_OK;
	if (rc)
		return hx_mdb_err(rc);
	if (v.mv_size != 8)
		return HX_ECORRUPT;
	*n = hx_be64_get(v.mv_data);
	return HX_OK;
}
