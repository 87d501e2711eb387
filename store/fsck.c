/*
 * fsck.c: the store's self-check (re-verify every signature, check every
 * table against the entries, then the search index) and the search index
 * rebuild. Both run in one transaction so they see one consistent state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store_int.h"

struct fsck {
	hx_report_cb report;
	void *arg;
	uint64_t problems;
};

static void problem(struct fsck *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct fsck *f, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	f->problems++;
	if (f->report)
		f->report(f->arg, line);
}

static void index_problem(void *arg, const char *line)
{
	struct fsck *f = arg;
	if (f->report)
		f->report(f->arg, line);
}

static int exists(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl)
{
	MDB_val key = { kl, (void *)k }, v;
	return mdb_get(txn, dbi, &key, &v) == 0;
}

/* Whether e has its row in versions, with the right flags. */
static int has_version(hx_store *s, MDB_txn *txn, const hx_entry *e)
{
	uint8_t k[HX_VER_KEYMAX], val[HX_VER_LEN];
	size_t kl;
	MDB_cursor *c;
	if (hx_ver_doc_key(s, txn, e->author, e->path, 0, k, &kl) ||
	    mdb_cursor_open(txn, s->versions, &c))
		return 0;
	hx_ver_val(val, e);
	MDB_val key = { kl, k }, v = { HX_VER_LEN, val };
	int rc = mdb_cursor_get(c, &key, &v, MDB_GET_BOTH);
	mdb_cursor_close(c);
	return rc == 0;
}

/* Whether the entry with id is stored (its ids row finds its log row). */
static int stored(hx_store *s, MDB_txn *txn, const uint8_t *id)
{
	uint64_t seq;
	return hx_zent_find(&s->z, txn, id, &seq, NULL) == HX_OK;
}

/* Every log row is an entry that decodes, verifies, carries its own id,
 * is found by it, and has its time order and version rows; or the id of
 * a purged version alone. *n counts the entries. */
static int check_entries(hx_store *s, MDB_txn *txn, struct fsck *f, uint64_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	char hex[2 * HX_ID_LEN + 1];
	uint8_t key[8 + HX_ID_LEN];
	int rc = mdb_cursor_open(txn, s->z.log, &c);

	if (rc)
		return hx_mdb_err(rc);
	*n = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		hx_entry e;
		uint64_t seq;
		if (k.mv_size != 8 || v.mv_size < HX_ID_LEN) {
			problem(f, "log: malformed row");
			continue;
		}
		hx_hex(hex, v.mv_data, HX_ID_LEN);
		if (v.mv_size == HX_ID_LEN) { /* a purged version */
			if (!exists(txn, s->purged, v.mv_data, HX_ID_LEN))
				problem(f, "log: %s has neither content nor a purged stub", hex);
			continue;
		}
		++*n;
		if (hx_zent_find(&s->z, txn, v.mv_data, &seq, NULL) ||
		    seq != hx_be64_get(k.mv_data))
			problem(f, "entry %s: missing from ids", hex);
		uint8_t id[HX_ID_LEN];
		memcpy(id, v.mv_data, HX_ID_LEN);
		v.mv_data = (uint8_t *)v.mv_data + HX_ID_LEN;
		v.mv_size -= HX_ID_LEN;
		MDB_val raw;
		uint8_t *owned;
		int erc = hx_zent_unpack(&s->z, txn, &v, &raw, &owned);
		if (erc == HX_ENOMEM) {
			rc = erc;
			break;
		}
		if (erc) {
			problem(f, "entry %s: damaged compressed value (%s)", hex,
			        hx_strerror(erc));
			continue;
		}
		erc = hx_entry_open(&e, raw.mv_data, raw.mv_size);
		free(owned);
		if (erc) {
			problem(f, "entry %s: %s", hex, hx_strerror(erc));
			continue;
		}
		if (memcmp(e.id, id, HX_ID_LEN))
			problem(f, "entry %s: stored under the wrong id", hex);
		hx_be64_put(key, e.timestamp);
		memcpy(key + 8, e.id, HX_ID_LEN);
		if (!exists(txn, s->bytime, key, 8 + HX_ID_LEN))
			problem(f, "entry %s: missing from the time order", hex);
		if (!has_version(s, txn, &e))
			problem(f, "entry %s: missing from the history of %s", hex, e.path);
		hx_entry_clear(&e);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? HX_OK : rc == HX_ENOMEM ? rc : hx_mdb_err(rc);
}

/* The number of keys in dbi, and that each one's trailing id is an entry
 * or, where a purged stub may stand in (purged not NULL), a stub: *purged
 * counts those. */
static int check_refs(hx_store *s, MDB_txn *txn, MDB_dbi dbi, const char *name, int id_in_value,
                      struct fsck *f, uint64_t *n, uint64_t *purged)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, dbi, &c);

	if (rc)
		return hx_mdb_err(rc);
	*n = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const MDB_val *src = id_in_value ? &v : &k;
		++*n;
		if (src->mv_size < HX_ID_LEN) {
			problem(f, "%s: record too short", name);
			continue;
		}
		const uint8_t *id = (uint8_t *)src->mv_data + src->mv_size - HX_ID_LEN;
		if (purged && !stored(s, txn, id) && exists(txn, s->purged, id, HX_ID_LEN)) {
			++*purged;
			continue;
		}
		if (!stored(s, txn, id)) {
			char hex[2 * HX_ID_LEN + 1];
			problem(f, "%s: refers to missing entry %s", name,
			        hx_hex(hex, id, HX_ID_LEN));
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

/* Each purged stub has its time order row and no entry left. */
static int check_purged(hx_store *s, MDB_txn *txn, struct fsck *f)
{
	MDB_cursor *c;
	MDB_val k, v;
	char hex[2 * HX_ID_LEN + 1];
	uint8_t key[8 + HX_ID_LEN];
	int rc = mdb_cursor_open(txn, s->purged, &c);

	if (rc)
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != HX_ID_LEN || v.mv_size <= 8 + HX_KEY_LEN + HX_ID_LEN) {
			problem(f, "purged: malformed record");
			continue;
		}
		hx_hex(hex, k.mv_data, HX_ID_LEN);
		memcpy(key, v.mv_data, 8);
		memcpy(key + 8, k.mv_data, HX_ID_LEN);
		if (!exists(txn, s->bytime, key, sizeof key))
			problem(f, "purged %s: missing from the time order", hex);
		if (stored(s, txn, k.mv_data))
			problem(f, "purged %s: its content is still stored", hex);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}

/* Each document's key names a numbered author, each of its versions an
 * entry, and the live documents (those whose last version is listed) are
 * as many as the store counts; *versions counts the versions. */
static int check_docs(hx_store *s, MDB_txn *txn, struct fsck *f, uint64_t *versions)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t live = 0, counted;
	char hex[2 * HX_ID_LEN + 1];
	int rc = mdb_cursor_open(txn, s->versions, &c);

	if (rc)
		return hx_mdb_err(rc);
	*versions = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP)) {
		size_t pl;
		uint32_t num, back;
		uint8_t author[HX_KEY_LEN], last = 0;
		if (hx_ver_key_split(&k, &pl, &num)) {
			problem(f, "versions: malformed key");
			continue;
		}
		for (int r = 0; r == 0; r = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
			const uint8_t *ver = v.mv_data;
			++*versions;
			if (v.mv_size != HX_VER_LEN) {
				problem(f, "history of %.*s: malformed version", (int)pl,
				        (char *)k.mv_data);
				continue;
			}
			if (!stored(s, txn, ver + 8))
				problem(f, "history of %.*s: refers to missing entry %s", (int)pl,
				        (char *)k.mv_data, hx_hex(hex, ver + 8, HX_ID_LEN));
			last = ver[8 + HX_ID_LEN];
		}
		live += (last & HX_VER_LISTED) != 0;
		if (hx_author_key(s, txn, num, author) || hx_author_num(s, txn, author, 0, &back) ||
		    back != num)
			problem(f, "document %.*s: author number %u is not in authors", (int)pl,
			        (char *)k.mv_data, (unsigned)num);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return hx_mdb_err(rc);
	if ((rc = hx_live_get(s, txn, &counted)))
		return rc;
	if (counted != live)
		problem(f, "documents: %llu live, the store counts %llu", (unsigned long long)live,
		        (unsigned long long)counted);
	return HX_OK;
}

int hx_store_fsck(hx_store *s, hx_report_cb report, void *arg, uint64_t *problems)
{
	struct fsck f = { report, arg, 0 };
	MDB_txn *txn;
	uint64_t n_entries = 0, n = 0;
	int rc;

	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = check_entries(s, txn, &f, &n_entries)))
		goto out;
	struct {
		MDB_dbi dbi;
		const char *name;
		int in_value;
	} refs[] = {
		{ s->bytime, "time order", 0 },
	};
	for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
		uint64_t purged = 0;
		if ((rc = check_refs(s, txn, refs[i].dbi, refs[i].name, refs[i].in_value, &f, &n,
		                     &purged)))
			goto out;
		n -= purged; /* purged versions keep their time order and change rows */
		if (n != n_entries)
			problem(&f, "%s: %llu records for %llu entries", refs[i].name,
			        (unsigned long long)n, (unsigned long long)n_entries);
	}
	if ((rc = check_docs(s, txn, &f, &n)) || (rc = check_purged(s, txn, &f)))
		goto out;
	if (n != n_entries)
		problem(&f, "history: %llu versions for %llu entries", (unsigned long long)n,
		        (unsigned long long)n_entries);
	MDB_stat ist;
	if ((rc = hx_mdb_err(mdb_stat(txn, s->z.ids, &ist))))
		goto out;
	if (ist.ms_entries != n_entries)
		problem(&f, "ids: %llu rows for %llu entries", (unsigned long long)ist.ms_entries,
		        (unsigned long long)n_entries);
	uint64_t ix = 0;
	rc = hx_index_check(&s->ix, txn, s->versions, &s->z, index_problem, &f, &ix);
	f.problems += ix;
	if (!rc) { /* the reconciliation table against the time order */
		uint64_t fp = 0;
		rc = hx_fpt_check(&s->fpt, txn, index_problem, &f, &fp);
		f.problems += fp;
	}
out:
	hx_txn_abort(s, txn);
	*problems = f.problems;
	return rc;
}

int hx_store_reindex(hx_store *s, uint64_t *documents)
{
	MDB_txn *txn;
	int rc;

	*documents = 0;
	if ((rc = hx_txn_begin(s, 0, &txn)))
		return rc;
	if ((rc = hx_index_rebuild(&s->ix, txn, s->versions, &s->z, documents))) {
		hx_txn_abort(s, txn);
		return rc;
	}
	return hx_mdb_err(hx_txn_commit(s, txn));
}

/* ---- the walk of every page ------------------------------------------- */

static volatile uint64_t walk_sink; /* the walk's reads must happen */

/* Reads every byte of one table's keys and values; *sum keeps the reads
 * from being optimised away. HX_ECORRUPT when the count disagrees with the
 * table's own statistics. */
static int walk_table(MDB_txn *txn, MDB_dbi dbi, uint64_t *records, uint64_t *sum)
{
	MDB_cursor *c;
	MDB_stat st;
	MDB_val k, v;
	uint64_t n = 0;
	int rc;

	if ((rc = mdb_stat(txn, dbi, &st)) || (rc = mdb_cursor_open(txn, dbi, &c)))
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *kb = k.mv_data, *vb = v.mv_data;
		for (size_t i = 0; i < k.mv_size; i++)
			*sum += kb[i];
		for (size_t i = 0; i < v.mv_size; i++)
			*sum += vb[i];
		n++;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return hx_mdb_err(rc);
	*records += n;
	return n == st.ms_entries ? HX_OK : HX_ECORRUPT;
}

int hx_store_walk(hx_store *s, uint64_t *records)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_dbi main_dbi;
	uint64_t sum = 0;
	int rc, wrc = HX_OK;

	*records = 0;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) ||
	    (rc = mdb_cursor_open(txn, main_dbi, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	/* the main table names the others */
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && !wrc;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char name[256];
		MDB_dbi dbi;
		if (k.mv_size == 0 || k.mv_size >= sizeof name || memchr(k.mv_data, 0, k.mv_size)) {
			wrc = HX_ECORRUPT;
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = 0;
		if ((wrc = hx_mdb_err(mdb_dbi_open(txn, name, 0, &dbi))))
			break;
		wrc = walk_table(txn, dbi, records, &sum);
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	if (wrc)
		return wrc == HX_ENOTFOUND ? HX_ECORRUPT : wrc;
	walk_sink = sum;
	return rc == MDB_NOTFOUND ? HX_OK : hx_mdb_err(rc);
}
