/*
 * test_recon.c: the LMDB-backed Negentropy storage (store/fpt.c,
 * store/recon.c). The fingerprint table is checked against a brute-force
 * model (the in-memory vector storage) for every storage call, through
 * block splits, deletions and a rebuild; corruption is detected; views
 * reconcile with in-memory sets in both roles; and a real store keeps the
 * table in step with its entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "store/fpt.h"
#include "store/recon.h"
#include "tests/check.h"

static uint64_t rng_state = 0x1234567887654321ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static char tmpdir[64];

static void rm_env(const char *dir)
{
	char p[128];
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* A bare environment with the two tables fpt.c needs. */
static MDB_env *open_env(const char *dir, struct hx_fpt *t)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi bytime;
	CHECK(mdb_env_create(&env) == 0);
	mdb_env_set_maxdbs(env, 4);
	mdb_env_set_mapsize(env, (size_t)1 << 30);
	CHECK(mdb_env_open(env, dir, MDB_NOSYNC, 0600) == 0);
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK(mdb_dbi_open(txn, "bytime", MDB_CREATE, &bytime) == 0);
	CHECK_RC(hx_fpt_open(t, txn, 1), HX_OK);
	CHECK(mdb_txn_commit(txn) == 0);
	return env;
}

static void put_item(MDB_txn *txn, struct hx_fpt *t, const hx_ne_item *it)
{
	uint8_t key[40];
	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(it->ts >> (56 - 8 * i));
	memcpy(key + 8, it->id, 32);
	MDB_val k = { 40, key }, v = { 0, "" };
	CHECK(mdb_put(txn, t->bytime, &k, &v, 0) == 0);
	CHECK_RC(hx_fpt_add(t, txn, it->ts, it->id), HX_OK);
}

static void del_item(MDB_txn *txn, struct hx_fpt *t, const hx_ne_item *it)
{
	uint8_t key[40];
	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(it->ts >> (56 - 8 * i));
	memcpy(key + 8, it->id, 32);
	MDB_val k = { 40, key };
	CHECK(mdb_del(txn, t->bytime, &k, NULL) == 0);
	CHECK_RC(hx_fpt_del(t, txn, it->ts, it->id), HX_OK);
}

static void random_item(hx_ne_item *it, uint64_t nts)
{
	it->ts = 1000 + rnd() % nts;
	for (int k = 0; k < 32; k += 8) {
		uint64_t r = rnd();
		memcpy(it->id + k, &r, 8);
	}
	if (rnd() % 4 == 0)
		it->id[0] = it->id[1] = 7; /* shared prefixes */
}

static void count_problem(void *arg, const char *line)
{
	(void)line;
	++*(int *)arg;
}

/* Every storage call of the view answers as the vector does. */
static void compare_storage(hx_ne_storage a, hx_ne_storage b, int probes)
{
	size_t na, nb;
	CHECK_RC(a.ops->size(a.ctx, &na), HX_OK);
	CHECK_RC(b.ops->size(b.ctx, &nb), HX_OK);
	CHECK(na == nb);
	if (na != nb)
		return;
	for (size_t i = 0; i < na; i++) { /* sequential walk */
		hx_ne_item x, y;
		CHECK_RC(a.ops->item(a.ctx, i, &x), HX_OK);
		CHECK_RC(b.ops->item(b.ctx, i, &y), HX_OK);
		CHECK(!hx_ne_item_cmp(&x, &y));
	}
	for (int k = 0; k < probes; k++) {
		size_t i = na ? rnd() % (na + 1) : 0, j = na ? rnd() % (na + 1) : 0;
		if (i > j) {
			size_t t = i;
			i = j;
			j = t;
		}
		uint8_t sa[32], sb[32];
		CHECK_RC(a.ops->sum(a.ctx, i, j, sa), HX_OK);
		CHECK_RC(b.ops->sum(b.ctx, i, j, sb), HX_OK);
		CHECK(!memcmp(sa, sb, 32));

		hx_ne_item bound;
		if (na && rnd() % 2) { /* an existing item, maybe cut to a prefix */
			CHECK_RC(b.ops->item(b.ctx, rnd() % na, &bound), HX_OK);
			size_t plen = rnd() % 33;
			memset(bound.id + plen, 0, 32 - plen);
			if (rnd() % 4 == 0)
				bound.ts += rnd() % 3 - 1;
		} else {
			random_item(&bound, 3000);
			if (rnd() % 8 == 0)
				bound.ts = HX_NE_TS_INF;
		}
		size_t la, lb;
		CHECK_RC(a.ops->lower_bound(a.ctx, i, j, &bound, &la), HX_OK);
		CHECK_RC(b.ops->lower_bound(b.ctx, i, j, &bound, &lb), HX_OK);
		CHECK(la == lb);
	}
	size_t x;
	uint8_t s[32];
	CHECK_RC(a.ops->sum(a.ctx, 1, 0, s), HX_EINVAL);
	CHECK_RC(a.ops->lower_bound(a.ctx, 0, na + 1, &(hx_ne_item){ 0 }, &x), HX_EINVAL);
}

/* Reconciles two storages (a initiates) and returns have/need counts. */
static void reconcile(hx_ne_storage a, hx_ne_storage b, uint64_t limit, size_t *nhave,
                      size_t *nneed)
{
	hx_ne *na, *nb;
	hx_ne_ids have = { 0 }, need = { 0 };
	uint8_t *m, *r;
	size_t ml, rl;
	int rounds = 0;
	CHECK_RC(hx_ne_new(&na, &a, limit), HX_OK);
	CHECK_RC(hx_ne_new(&nb, &b, limit), HX_OK);
	CHECK_RC(hx_ne_initiate(na, &m, &ml), HX_OK);
	while (m && rounds++ < 10000) {
		CHECK_RC(hx_ne_reconcile(nb, m, ml, &r, &rl, NULL, NULL), HX_OK);
		free(m);
		m = NULL;
		if (!r)
			break;
		CHECK_RC(hx_ne_reconcile(na, r, rl, &m, &ml, &have, &need), HX_OK);
		free(r);
	}
	free(m);
	*nhave = have.n;
	*nneed = need.n;
	hx_ne_ids_clear(&have);
	hx_ne_ids_clear(&need);
	hx_ne_free(&na);
	hx_ne_free(&nb);
}

static void test_fpt(void)
{
	struct hx_fpt t;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/hx-test-recon-XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	MDB_env *env = open_env(tmpdir, &t);
	MDB_txn *txn;
	hx_fpt_view *fv;
	hx_ne_vec *vec;
	int problems;

	/* empty: one block, no items */
	CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
	CHECK_RC(hx_fpt_view_open(&fv, txn, &t), HX_OK);
	CHECK(hx_fpt_view_count(fv) == 0);
	hx_fpt_view_close(&fv);
	CHECK(fv == NULL);
	hx_fpt_view_close(&fv);
	mdb_txn_abort(txn);

	/* 6000 items in random order, over several transactions, with many
	 * equal timestamps: blocks split all over the range */
	const size_t N = 6000;
	hx_ne_item *items = calloc(N, sizeof *items);
	for (size_t i = 0; i < N; i++)
		random_item(&items[i], i < N / 2 ? 50 : 3000);
	for (size_t i = 0; i < N; i += 1000) {
		CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
		for (size_t k = i; k < i + 1000 && k < N; k++)
			put_item(txn, &t, &items[k]);
		CHECK(mdb_txn_commit(txn) == 0);
	}
	uint8_t inf_id[32] = { 0 };
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK_RC(hx_fpt_add(&t, txn, HX_NE_TS_INF, inf_id), HX_EINVAL);
	mdb_txn_abort(txn);

	for (int phase = 0; phase < 3; phase++) {
		size_t n = phase == 2 ? N - N / 10 : N;
		if (phase == 1) { /* rebuild gives the same answers */
			CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
			CHECK_RC(hx_fpt_rebuild(&t, txn), HX_OK);
			CHECK(mdb_txn_commit(txn) == 0);
		}
		if (phase == 2) { /* delete every tenth item */
			CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
			for (size_t k = N - N / 10; k < N; k++)
				del_item(txn, &t, &items[k]);
			CHECK(mdb_txn_commit(txn) == 0);
		}
		CHECK_RC(hx_ne_vec_new(&vec), HX_OK);
		for (size_t k = 0; k < n; k++)
			CHECK_RC(hx_ne_vec_add(vec, items[k].ts, items[k].id), HX_OK);
		CHECK_RC(hx_ne_vec_seal(vec), HX_OK);

		CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
		uint64_t np = 0;
		problems = 0;
		CHECK_RC(hx_fpt_check(&t, txn, count_problem, &problems, &np), HX_OK);
		CHECK(np == 0 && problems == 0);
		MDB_stat st;
		CHECK(mdb_stat(txn, t.dbi, &st) == 0);
		CHECK(st.ms_entries > n / HX_FPT_BLOCK_MAX);
		CHECK_RC(hx_fpt_view_open(&fv, txn, &t), HX_OK);
		CHECK(hx_fpt_view_count(fv) == n);
		compare_storage(hx_fpt_view_storage(fv), hx_ne_vec_storage(vec), 3000);

		/* reconcile the view with a vector missing some items, both ways */
		hx_ne_vec *part;
		size_t nh, nn, missing = 0;
		CHECK_RC(hx_ne_vec_new(&part), HX_OK);
		for (size_t k = 0; k < n; k++)
			if (k % 97 != 1)
				CHECK_RC(hx_ne_vec_add(part, items[k].ts, items[k].id), HX_OK);
			else
				missing++;
		hx_ne_item extra;
		random_item(&extra, 3000);
		CHECK_RC(hx_ne_vec_add(part, extra.ts, extra.id), HX_OK);
		CHECK_RC(hx_ne_vec_seal(part), HX_OK);
		for (int lim = 0; lim < 2; lim++) {
			reconcile(hx_fpt_view_storage(fv), hx_ne_vec_storage(part), lim ? 4096 : 0,
			          &nh, &nn);
			CHECK(nn == 1 && (lim ? nh >= missing : nh == missing));
			reconcile(hx_ne_vec_storage(part), hx_fpt_view_storage(fv), lim ? 4096 : 0,
			          &nh, &nn);
			CHECK(nh == 1 && (lim ? nn >= missing : nn == missing));
		}
		reconcile(hx_fpt_view_storage(fv), hx_fpt_view_storage(fv), 0, &nh, &nn);
		CHECK(nh == 0 && nn == 0);
		hx_ne_vec_free(&part);
		hx_fpt_view_close(&fv);
		mdb_txn_abort(txn);
		hx_ne_vec_free(&vec);
	}

	/* corruption: a block's count, then an item missing from bytime */
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	MDB_cursor *c;
	MDB_val k, v;
	CHECK(mdb_cursor_open(txn, t.dbi, &c) == 0);
	CHECK(mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0);
	CHECK(mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0);
	uint8_t key[40], val[36];
	memcpy(key, k.mv_data, 40);
	memcpy(val, v.mv_data, 36);
	mdb_cursor_close(c);
	val[3] ^= 1;
	MDB_val nk = { 40, key }, nv = { 36, val };
	CHECK(mdb_put(txn, t.dbi, &nk, &nv, 0) == 0);
	uint64_t np = 0;
	CHECK_RC(hx_fpt_check(&t, txn, NULL, NULL, &np), HX_OK);
	CHECK(np == 1);
	CHECK_RC(hx_fpt_view_open(&fv, txn, &t), HX_OK);
	{
		hx_ne_storage s = hx_fpt_view_storage(fv);
		size_t n;
		int bad = 0;
		hx_ne_item it;
		CHECK_RC(s.ops->size(s.ctx, &n), HX_OK);
		for (size_t i = 0; i < n && !bad; i++)
			bad = s.ops->item(s.ctx, i, &it) == HX_ECORRUPT;
		CHECK(bad);
	}
	hx_fpt_view_close(&fv);
	val[3] ^= 1;
	CHECK(mdb_put(txn, t.dbi, &nk, &nv, 0) == 0);
	np = 0;
	CHECK_RC(hx_fpt_check(&t, txn, NULL, NULL, &np), HX_OK);
	CHECK(np == 0);
	/* an item's id sum changes: the block's sum no longer matches */
	CHECK(mdb_cursor_open(txn, t.bytime, &c) == 0);
	CHECK(mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0);
	memcpy(key, k.mv_data, 40);
	mdb_cursor_close(c);
	CHECK(mdb_del(txn, t.bytime, &nk, NULL) == 0);
	key[39] ^= 0x80;
	nv.mv_size = 0;
	CHECK(mdb_put(txn, t.bytime, &nk, &nv, 0) == 0);
	np = 0;
	CHECK_RC(hx_fpt_check(&t, txn, NULL, NULL, &np), HX_OK);
	CHECK(np == 1);
	CHECK_RC(hx_fpt_view_open(&fv, txn, &t), HX_OK);
	{
		hx_ne_storage s = hx_fpt_view_storage(fv);
		hx_ne_item it;
		CHECK_RC(s.ops->item(s.ctx, 0, &it), HX_ECORRUPT);
	}
	hx_fpt_view_close(&fv);
	mdb_txn_abort(txn);

	free(items);
	mdb_env_close(env);
	rm_env(tmpdir);
}

/* The real store: entries put through hx_store_put_batch appear in the
 * reconciliation view, in time order. */
struct walk {
	hx_ne_storage st;
	size_t i;
	int bad;
};

static int walk_item(void *arg, uint64_t ts, const uint8_t id[HX_ID_LEN])
{
	struct walk *w = arg;
	hx_ne_item it;
	if (w->st.ops->item(w->st.ctx, w->i++, &it) || it.ts != ts || memcmp(it.id, id, 32))
		w->bad = 1;
	return 0;
}

static void test_store(void)
{
	char dir[64] = "/tmp/hx-test-recon-store-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	rmdir(dir); /* hx_store_open creates it */
	hx_store *s;
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	if (!s)
		return;
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	enum { NE = 700 };
	hx_put put[NE];
	uint8_t *raw[NE];
	hx_entry e[NE];
	char paths[NE][32];
	for (int i = 0; i < NE; i++) {
		memset(&e[i], 0, sizeof e[i]);
		snprintf(paths[i], sizeof paths[i], "notes/n%d", i % 300);
		e[i].path = paths[i];
		e[i].timestamp =
		        1700000000000000ull + (uint64_t)i * 7919 % 10007; /* unique, unordered */
		e[i].kind = "note";
		e[i].title = "t";
		e[i].body = "b";
		e[i].lang = "en";
		size_t len;
		CHECK_RC(hx_entry_sign(&e[i], sk, &raw[i], &len), HX_OK);
		put[i] = (hx_put){ .raw = raw[i], .rawlen = len, .entry = &e[i] };
	}
	size_t added;
	CHECK_RC(hx_store_put_batch(s, put, NE / 2, 0, &added), HX_OK);
	CHECK_RC(hx_store_put_batch(s, put + NE / 2, NE - NE / 2, 0, &added), HX_OK);
	hx_recon_view *v;
	CHECK_RC(hx_recon_view_open(&v, s), HX_OK);
	CHECK(hx_recon_view_count(v) == NE);
	struct walk w = { hx_recon_view_storage(v), 0, 0 };
	CHECK_RC(hx_store_items(s, walk_item, &w), HX_OK);
	CHECK(w.i == NE && !w.bad);
	hx_recon_view_close(&v);
	CHECK(v == NULL);
	CHECK_RC(hx_recon_rebuild(s), HX_OK);
	CHECK_RC(hx_recon_view_open(&v, s), HX_OK);
	CHECK(hx_recon_view_count(v) == NE);
	hx_recon_view_close(&v);
	hx_store_close(&s);
	for (int i = 0; i < NE; i++)
		free(raw[i]);
	char p[128];
	snprintf(p, sizeof p, "rm -rf '%s'", dir);
	CHECK(system(p) == 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_fpt();
	test_store();
	return check_done();
}
