/*
 * org.c: devices, revocation and rotation in the store (docs/FORMAT.md
 * §1.8). put_one (store.c) asks hx_org_check whether an entry's signer may
 * sign for its author at the entry's time, and after storing a device or
 * rotation record calls hx_org_after_put, which hides (removes from every
 * table and the index, in the same transaction) the entries that the
 * record makes invalid: a revoked device's entries dated at or after its
 * revocation, a retired organisation key's entries dated after the
 * rotation. A document whose current version goes falls back to its newest
 * remaining version. Nothing here calls store.c (the key helpers are
 * inline in store_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/org.h"
#include "store/store_int.h"

typedef int (*version_cb)(void *arg, const hx_entry *e);

/* The end of a cursor loop: MDB_NOTFOUND is the end, an hx_err (small
 * negative) passes, any other LMDB code or errno is translated. */
static int loop_end(int rc)
{
	if (rc == MDB_NOTFOUND)
		return HX_OK;
	return rc < 0 && rc > -1000 ? rc : hx_mdb_err(rc);
}

/* Calls cb for every stored version of (org, path), oldest first. */
static int versions(hx_store *s, MDB_txn *txn, const uint8_t *org, const char *path, version_cb cb,
                    void *arg)
{
	uint8_t k[HX_VER_KEYMAX];
	size_t kl;
	MDB_cursor *c;
	int rc = hx_ver_doc_key(s, txn, org, path, 0, k, &kl);
	if (rc)
		return rc == HX_ENOTFOUND ? HX_OK : rc;
	if ((rc = mdb_cursor_open(txn, s->versions, &c)))
		return hx_mdb_err(rc);
	MDB_val key = { kl, k }, v;
	for (rc = mdb_cursor_get(c, &key, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(c, &key, &v, MDB_NEXT_DUP)) {
		hx_entry e;
		if (v.mv_size != HX_VER_LEN ||
		    hx_zent_decode(&s->z, txn, (uint8_t *)v.mv_data + 8, &e)) {
			rc = HX_ECORRUPT;
			break;
		}
		int stop = cb(arg, &e);
		hx_entry_clear(&e);
		if (stop) {
			rc = stop > 0 ? MDB_NOTFOUND : stop; /* > 0: done, no error */
			break;
		}
	}
	mdb_cursor_close(c);
	return loop_end(rc);
}

static int device_cb(void *arg, const hx_entry *e)
{
	hx_device *d = arg;
	hx_device_rec r;
	if (hx_device_rec_parse(e, &r, NULL))
		return HX_OK; /* refused when it arrived; cannot be here */
	if (!d->since) {
		d->since = e->timestamp ? e->timestamp : 1;
		memcpy(d->certified_by, hx_entry_signer(e), HX_KEY_LEN);
	}
	snprintf(d->name, sizeof d->name, "%s", r.name);
	d->admin = r.admin;
	d->has_transport = r.has_transport;
	memcpy(d->transport, r.transport, 32);
	if (r.revoked < d->revoked)
		d->revoked = r.revoked;
	return HX_OK;
}

static int device_state(hx_store *s, MDB_txn *txn, const uint8_t *org, const uint8_t *dev,
                        hx_device *d)
{
	char path[HX_PATH_MAX + 1];
	memset(d, 0, sizeof *d);
	memcpy(d->key, dev, HX_KEY_LEN);
	d->revoked = HX_NEVER;
	int rc = versions(s, txn, org, hx_device_path(path, dev), device_cb, d);
	if (!rc && !d->since)
		rc = HX_ENOTFOUND;
	return rc;
}

struct chain {
	uint64_t t;
	uint8_t key[HX_KEY_LEN];
	int retired; /* the signer asked about was a signing key before t */
	const uint8_t *ask;
};

static int chain_cb(void *arg, const hx_entry *e)
{
	struct chain *ch = arg;
	uint8_t next[HX_KEY_LEN];
	if (e->timestamp >= ch->t)
		return 1; /* versions come oldest first: the rest are later */
	if (hx_rotate_rec_parse(e, next, NULL) || memcmp(hx_entry_signer(e), ch->key, HX_KEY_LEN))
		return HX_OK; /* not signed by the key current then: no link */
	if (ch->ask && !memcmp(ch->ask, ch->key, HX_KEY_LEN))
		ch->retired = 1;
	memcpy(ch->key, next, HX_KEY_LEN);
	return HX_OK;
}

/* The organisation's signing key at t: each rotation record dated before t
 * that the key current at its place signed hands over to its successor. */
static int key_at(hx_store *s, MDB_txn *txn, const uint8_t *org, uint64_t t, const uint8_t *ask,
                  struct chain *ch)
{
	memset(ch, 0, sizeof *ch);
	ch->t = t;
	ch->ask = ask;
	memcpy(ch->key, org, HX_KEY_LEN);
	return versions(s, txn, org, HX_ORGKEY_PATH, chain_cb, ch);
}

enum { ANY_SIGNER, ADMIN_SIGNER, ORG_SIGNER };

/* Whether signer may sign for org at t: *refuse HX_OK, HX_EDEVICE,
 * HX_EREVOKED or HX_ERECORD (a device where only an admin device or the
 * organisation key may sign). Returns an error only when reading fails. */
static int may_sign(hx_store *s, MDB_txn *txn, const uint8_t *org, const uint8_t *signer,
                    uint64_t t, int need, int *refuse)
{
	struct chain ch;
	hx_device d;
	int rc = key_at(s, txn, org, t, signer, &ch);
	*refuse = HX_OK;
	if (rc)
		return rc;
	if (!memcmp(signer, ch.key, HX_KEY_LEN))
		return HX_OK;
	if (ch.retired) {
		*refuse = HX_EREVOKED;
		return HX_OK;
	}
	if (need == ORG_SIGNER) {
		*refuse = HX_ERECORD;
		return HX_OK;
	}
	rc = device_state(s, txn, org, signer, &d);
	if (rc == HX_ENOTFOUND) {
		*refuse = HX_EDEVICE;
		return HX_OK;
	}
	if (rc)
		return rc;
	if (t >= d.revoked)
		*refuse = HX_EREVOKED;
	else if (need == ADMIN_SIGNER && !d.admin)
		*refuse = HX_ERECORD;
	return HX_OK;
}

int hx_org_check(hx_store *s, MDB_txn *txn, const hx_entry *e, int *refuse, uint64_t *prev)
{
	const uint8_t *signer = hx_entry_signer(e);
	hx_device_rec r;
	uint8_t next[HX_KEY_LEN];
	hx_device d;
	int rc;

	*prev = HX_NEVER;
	switch (hx_org_record_type(e)) {
	case 1:
		if (hx_device_rec_parse(e, &r, NULL)) {
			*refuse = HX_ERECORD;
			return HX_OK;
		}
		rc = device_state(s, txn, e->author, r.device, &d);
		if (rc && rc != HX_ENOTFOUND)
			return rc;
		if (!rc)
			*prev = d.revoked;
		return may_sign(s, txn, e->author, signer, e->timestamp, ADMIN_SIGNER, refuse);
	case 2:
		if (hx_rotate_rec_parse(e, next, NULL)) {
			*refuse = HX_ERECORD;
			return HX_OK;
		}
		return may_sign(s, txn, e->author, signer, e->timestamp, ORG_SIGNER, refuse);
	default: return may_sign(s, txn, e->author, signer, e->timestamp, ANY_SIGNER, refuse);
	}
}

/* ---- hiding --------------------------------------------------------------- */

/* Removes entry e (stored, decoded) from every table and the index; its
 * document falls back to its newest remaining version. */
static int remove_entry(hx_store *s, MDB_txn *txn, const hx_entry *e)
{
	uint8_t tk[8 + HX_ID_LEN];
	int rc;

	if ((rc = hx_zent_del(&s->z, txn, e->id, 0)))
		return rc;
	hx_be64_put(tk, e->timestamp);
	memcpy(tk + 8, e->id, HX_ID_LEN);
	MDB_val key = { sizeof tk, tk };
	if ((rc = mdb_del(txn, s->bytime, &key, NULL)))
		return hx_mdb_err(rc);
	if ((rc = hx_fpt_del(&s->fpt, txn, e->timestamp, e->id)))
		return rc;
	return hx_doc_drop(s, txn, e);
}

/* Hides the entries of org signed by key and dated at or after from. */
static int hide(hx_store *s, MDB_txn *txn, const uint8_t *org, const uint8_t *key, uint64_t from)
{
	uint8_t(*ids)[HX_ID_LEN] = NULL, start[8];
	size_t n = 0, cap = 0;
	MDB_cursor *c;
	MDB_val k = { 8, start }, v;
	int rc;

	hx_be64_put(start, from);
	if ((rc = mdb_cursor_open(txn, s->bytime, &c)))
		return hx_mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		MDB_val ek = { HX_ID_LEN, (uint8_t *)k.mv_data + 8 };
		hx_entry e;
		int erc = k.mv_size == 8 + HX_ID_LEN ? hx_zent_decode(&s->z, txn, ek.mv_data, &e)
		                                     : HX_ECORRUPT;
		if (erc == HX_ENOTFOUND)
			continue; /* a purged version: only its stub is left */
		if (erc) {
			rc = erc;
			break;
		}
		int match = !memcmp(e.author, org, HX_KEY_LEN) &&
		            !memcmp(hx_entry_signer(&e), key, HX_KEY_LEN);
		hx_entry_clear(&e);
		if (!match)
			continue;
		void *a = hx_grow(ids, &cap, n + 1, sizeof *ids);
		if (!a) {
			rc = HX_ENOMEM;
			break;
		}
		ids = a;
		memcpy(ids[n++], ek.mv_data, HX_ID_LEN);
	}
	mdb_cursor_close(c);
	rc = loop_end(rc);
	for (size_t i = 0; !rc && i < n; i++) {
		MDB_val ek = { HX_ID_LEN, ids[i] };
		hx_entry e;
		if (hx_zent_decode(&s->z, txn, ek.mv_data, &e))
			rc = HX_ECORRUPT;
		else {
			rc = remove_entry(s, txn, &e);
			hx_entry_clear(&e);
		}
	}
	free(ids);
	return rc;
}

int hx_org_after_put(hx_store *s, MDB_txn *txn, const hx_entry *e, uint64_t prev)
{
	hx_device_rec r;
	switch (hx_org_record_type(e)) {
	case 1:
		if (hx_device_rec_parse(e, &r, NULL) || r.revoked >= prev)
			return HX_OK;
		return hide(s, txn, e->author, r.device, r.revoked);
	case 2: /* the key that signed it is retired after its time */
		return e->timestamp == UINT64_MAX
		               ? HX_OK
		               : hide(s, txn, e->author, hx_entry_signer(e), e->timestamp + 1);
	default: return HX_OK;
	}
}

/* ---- reading ----------------------------------------------------------------- */

int hx_store_device_get(hx_store *s, const uint8_t org[HX_KEY_LEN], const uint8_t dev[HX_KEY_LEN],
                        hx_device *d)
{
	MDB_txn *txn;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	rc = device_state(s, txn, org, dev, d);
	hx_txn_abort(s, txn);
	return rc;
}

/* Every device of org, from the versions table (one key per device
 * record: HX_DEVICE_PREFIX, 64 hex digits, 00, the org's number). */
struct devices {
	hx_store *s;
	MDB_txn *txn;
	const uint8_t *org;
	uint32_t num;
	hx_device *out;
	size_t n, cap;
};

static int device_one(void *arg, const MDB_val *k, const uint8_t *cur)
{
	struct devices *d = arg;
	size_t pl, pre = strlen(HX_DEVICE_PREFIX);
	uint32_t num;
	uint8_t dev[HX_KEY_LEN];
	char hex[2 * HX_KEY_LEN + 1];
	(void)cur;
	if (hx_ver_key_split(k, &pl, &num) || num != d->num || pl != pre + 2 * HX_KEY_LEN)
		return HX_OK;
	memcpy(hex, (uint8_t *)k->mv_data + pre, 2 * HX_KEY_LEN);
	hex[2 * HX_KEY_LEN] = 0;
	if (hx_unhex(dev, HX_KEY_LEN, hex))
		return HX_OK;
	hx_device *a = hx_grow(d->out, &d->cap, d->n + 1, sizeof *d->out);
	if (!a)
		return HX_ENOMEM;
	d->out = a;
	int rc = device_state(d->s, d->txn, d->org, dev, &d->out[d->n]);
	if (rc == HX_OK)
		d->n++;
	return rc == HX_ENOTFOUND ? HX_OK : rc;
}

static int list_txn(hx_store *s, MDB_txn *txn, const uint8_t *org, hx_device **out, size_t *n)
{
	struct devices d = { s, txn, org, 0, NULL, 0, 0 };
	int rc = hx_author_num(s, txn, org, 0, &d.num);
	if (!rc)
		rc = hx_docs_each(txn, s->versions, HX_DEVICE_PREFIX, strlen(HX_DEVICE_PREFIX),
		                  device_one, &d);
	if (rc == HX_ENOTFOUND)
		rc = HX_OK; /* no document of org at all */
	if (rc) {
		free(d.out);
		d.out = NULL;
		d.n = 0;
	}
	*out = d.out;
	*n = d.n;
	return rc;
}

int hx_store_device_list(hx_store *s, const uint8_t org[HX_KEY_LEN], hx_device **out, size_t *n)
{
	MDB_txn *txn;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	rc = list_txn(s, txn, org, out, n);
	hx_txn_abort(s, txn);
	return rc;
}

int hx_store_device_by_transport(hx_store *s, const uint8_t t[32], uint64_t now,
                                 uint8_t org[HX_KEY_LEN], uint8_t dev[HX_KEY_LEN])
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn), found = 0;
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->members, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && !found;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		hx_device *d;
		size_t n;
		if (k.mv_size != HX_KEY_LEN || list_txn(s, txn, k.mv_data, &d, &n))
			continue;
		for (size_t i = 0; i < n && !found; i++)
			if (d[i].has_transport && !memcmp(d[i].transport, t, 32) &&
			    now < d[i].revoked) {
				memcpy(org, k.mv_data, HX_KEY_LEN);
				memcpy(dev, d[i].key, HX_KEY_LEN);
				found = 1;
			}
		free(d);
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	return found ? HX_OK : HX_ENOTFOUND;
}

int hx_store_signing_key(hx_store *s, const uint8_t org[HX_KEY_LEN], uint64_t t,
                         uint8_t key[HX_KEY_LEN])
{
	MDB_txn *txn;
	struct chain ch;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	rc = key_at(s, txn, org, t, NULL, &ch);
	hx_txn_abort(s, txn);
	if (!rc)
		memcpy(key, ch.key, HX_KEY_LEN);
	return rc;
}

void hx_store_signer_name(hx_store *s, const hx_entry *e, char *out, size_t n)
{
	hx_device d;
	char hex[2 * HX_KEY_LEN + 1];
	*out = 0;
	if (!e->has_signer)
		return;
	if (!hx_store_device_get(s, e->author, e->signer, &d))
		snprintf(out, n, "%s", d.name);
	else
		snprintf(out, n, "organisation key %.16s", hx_hex(hex, e->signer, HX_KEY_LEN));
}
