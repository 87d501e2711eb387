/*
 * purge.c: what a store does with purge records (docs/FORMAT.md §1.8.4,
 * proto/purge.h). A purged version keeps only a stub in the "purged" table
 * and its (timestamp, id) row in "bytime" and the reconciliation tree, so
 * that partners agree it is there and never ask for it again; its signed
 * bytes, its version row and its search terms go. Pages
 * LMDB freed still hold the old bytes, so after such a commit
 * hx_store_scrub writes zeros over every free page.
 *
 *   purged  id[32] -> ts u64 ‖ author[32] ‖ purge record id[32] ‖ path
 */
#include <stdlib.h>
#include <string.h>
#include "proto/purge.h"
#include "store/store_int.h"

#define STUB_HEAD (8 + HX_KEY_LEN + HX_ID_LEN)

int hx_purge_open(hx_store *s, MDB_txn *txn, int create)
{
	int rc = mdb_dbi_open(txn, "purged", create ? MDB_CREATE : 0, &s->purged);
	return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
}

int hx_purge_stub_get(hx_store *s, MDB_txn *txn, const uint8_t *id, hx_purged *out)
{
	MDB_val k = { HX_ID_LEN, (void *)id }, v;
	int rc = mdb_get(txn, s->purged, &k, &v);
	if (rc)
		return hx_mdb_err(rc);
	if (v.mv_size <= STUB_HEAD || v.mv_size > STUB_HEAD + HX_PATH_MAX)
		return HX_ECORRUPT;
	const uint8_t *p = v.mv_data;
	out->timestamp = hx_be64_get(p);
	memcpy(out->author, p + 8, HX_KEY_LEN);
	memcpy(out->purge, p + 8 + HX_KEY_LEN, HX_ID_LEN);
	memcpy(out->path, p + STUB_HEAD, v.mv_size - STUB_HEAD);
	out->path[v.mv_size - STUB_HEAD] = 0;
	return HX_OK;
}

static int stub_put(hx_store *s, MDB_txn *txn, const uint8_t *id, uint64_t ts, const hx_entry *rec,
                    const char *path)
{
	uint8_t buf[STUB_HEAD + HX_PATH_MAX];
	size_t n = strlen(path);
	hx_be64_put(buf, ts);
	memcpy(buf + 8, rec->author, HX_KEY_LEN);
	memcpy(buf + 8 + HX_KEY_LEN, rec->id, HX_ID_LEN);
	memcpy(buf + STUB_HEAD, path, n);
	MDB_val k = { HX_ID_LEN, (void *)id }, v = { STUB_HEAD + n, buf };
	return hx_mdb_err(mdb_put(txn, s->purged, &k, &v, 0));
}

static int recon_row(hx_store *s, MDB_txn *txn, uint64_t ts, const uint8_t *id, int add)
{
	uint8_t key[8 + HX_ID_LEN];
	hx_be64_put(key, ts);
	memcpy(key + 8, id, HX_ID_LEN);
	MDB_val k = { sizeof key, key }, empty = { 0, "" };
	int rc = add ? mdb_put(txn, s->bytime, &k, &empty, 0) : mdb_del(txn, s->bytime, &k, NULL);
	if (rc)
		return hx_mdb_err(rc);
	return add ? hx_fpt_add(&s->fpt, txn, ts, id) : hx_fpt_del(&s->fpt, txn, ts, id);
}

/* The stored entry with id decoded into *e: HX_OK, HX_ENOTFOUND or error. */
static int entry_get(hx_store *s, MDB_txn *txn, const uint8_t *id, hx_entry *e)
{
	return hx_zent_decode(&s->z, txn, id, e);
}

int hx_purge_before(hx_store *s, MDB_txn *txn, hx_put *p, int *done)
{
	const hx_entry *e = p->entry;
	hx_purged st;
	hx_purge_ver *v = NULL;
	const char *path;
	size_t n;
	int rc = hx_purge_stub_get(s, txn, e->id, &st);

	*done = 0;
	if (rc == HX_OK) {
		if (!memcmp(st.author, e->author, HX_KEY_LEN) && !strcmp(st.path, e->path)) {
			p->result = HX_EEXIST; /* purged: the stub is all we keep */
			p->why = "purged by its author";
			*done = 1;
			return HX_OK;
		}
		/* the stub came from a purge record by someone who is not this
		 * entry's author (it was not here to check then): undo it */
		if ((rc = hx_mdb_err(mdb_del(txn, s->purged, &(MDB_val){ HX_ID_LEN, (void *)e->id },
		                             NULL))) ||
		    (rc = recon_row(s, txn, st.timestamp, e->id, 0)))
			return rc;
	} else if (rc != HX_ENOTFOUND) {
		return rc;
	}
	if (!hx_purge_is(e))
		return HX_OK;
	if ((rc = hx_purge_parse(e, &path, &v, &n, &p->why))) {
		p->result = rc;
		*done = 1;
		return rc == HX_ENOMEM ? rc : HX_OK;
	}
	for (size_t i = 0; i < n && !*done; i++) {
		hx_entry old;
		if ((rc = entry_get(s, txn, v[i].id, &old)) == HX_ENOTFOUND)
			continue;
		if (rc)
			break;
		if (memcmp(old.author, e->author, HX_KEY_LEN))
			p->why = "purge record: only the author may purge (a listed version is "
			         "another partner's)";
		else if (strcmp(old.path, path))
			p->why = "purge record: a listed version is not of the document it names";
		else if (old.timestamp != v[i].timestamp)
			p->why = "purge record: a listed version's timestamp is wrong";
		else if (hx_entry_is_system(&old))
			p->why = "purge record: system records cannot be purged";
		*done = p->why != NULL;
		hx_entry_clear(&old);
	}
	free(v);
	if (*done && !rc)
		p->result = HX_EPERM;
	return rc == HX_ENOTFOUND ? HX_OK : rc;
}

int hx_doc_drop(hx_store *s, MDB_txn *txn, const hx_entry *old)
{
	uint8_t next[HX_VER_LEN];
	hx_entry cur = { 0 };
	int was_current, has_next, rc = hx_ver_del(s, txn, old, &was_current, next, &has_next);
	if (rc || !was_current)
		return rc; /* an older version: history only */
	int live = has_next && (next[8 + HX_ID_LEN] & HX_VER_LISTED);
	if (live && (rc = entry_get(s, txn, next + 8, &cur)))
		return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
	int was = hx_entry_is_listed(old);
	if (was || live)
		rc = hx_index_update(&s->ix, txn, was ? old : NULL, live ? &cur : NULL);
	hx_entry_clear(&cur);
	return rc;
}

/* Deletes a stored version's content (zentry.c zeros its bytes first and
 * keeps the id in its log row), then its version. */
static int purge_entry(hx_store *s, MDB_txn *txn, const hx_entry *old)
{
	int rc = hx_zent_del(&s->z, txn, old->id, 1);
	return rc ? rc : hx_doc_drop(s, txn, old);
}

int hx_purge_after(hx_store *s, MDB_txn *txn, const hx_entry *rec)
{
	hx_purge_ver *v;
	const char *path, *why;
	size_t n;
	hx_purged st;
	int rc = hx_purge_parse(rec, &path, &v, &n, &why);
	if (rc)
		return rc == HX_ENOMEM ? rc : HX_ECORRUPT; /* hx_purge_before checked it */
	for (size_t i = 0; i < n && !rc; i++) {
		hx_entry old;
		if ((rc = hx_purge_stub_get(s, txn, v[i].id, &st)) != HX_ENOTFOUND) {
			continue; /* purged before (or an error, which ends the loop) */
		}
		rc = entry_get(s, txn, v[i].id, &old);
		if (rc == HX_OK) {
			rc = purge_entry(s, txn, &old);
			hx_entry_clear(&old);
		} else if (rc == HX_ENOTFOUND) {
			/* not here yet: a stub in the reconciliation set, so that
			 * it is never fetched */
			rc = recon_row(s, txn, v[i].timestamp, v[i].id, 1);
		}
		if (!rc)
			rc = stub_put(s, txn, v[i].id, v[i].timestamp, rec, path);
		s->scrub_due = 1;
	}
	free(v);
	return rc;
}
