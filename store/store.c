/*
 * store.c: the LMDB store (see store.h). One environment, one named table
 * per concern; every write of an entry touches all of them, the search
 * index and the reconciliation tree in a single write transaction.
 *
 * Tables (keys and values, integers big-endian so byte order = numeric):
 *   meta     "schema" -> u32 schema version
 *   log      seq u64 -> id[32] ‖ signed canonical entry bytes
 *            (docs/FORMAT.md), or 00 ‖ those bytes compressed: every entry
 *            in local arrival order; since schema 6 (zentry.c)
 *   ids      id[0..8) -> seq u64 (MDB_DUPSORT): finding an entry by id;
 *            since schema 6, before it "entries" (id -> value) and
 *            "changes" (seq -> id)
 *   bytime   ts u64 ‖ id[32] -> ""            all entries, reconciliation order
 *   versions path ‖ 00 ‖ author number -> ts u64 ‖ id[32] ‖ flags, one
 *            value per version (MDB_DUPSORT), the last current (docs.c);
 *            since schema 6, before it the tables docs, paths and hist
 *   authors  author[32] <-> author number (docs.c); since schema 6
 *   members  key[32] -> member record (opaque here)
 *   kv       name -> value                    peers, counters, settings
 *   blobs    hash[32] -> blob state (store/blob.c); since schema 2
 *   purged   id[32] -> stub of a purged version (store/purge.c); since schema 3
 * Reading in order (items, changes, stubs) is in store_read.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include "proto/roster.h"
#include <unistd.h>
#include "proto/purge.h"
#include "store/store_int.h"
#include "store/blob.h"

size_t hx_store_map_initial = (size_t)16 << 30; /* sparse on 64-bit */

/* HX_TEST_CLOCK_OFFSET_S (tests only, documented in README "Tests"): a
 * signed number of seconds added to the wall clock of this process, so
 * that a test can run a node whose clock is wrong without root. Read once,
 * here, the one place the product reads the clock. */
static int64_t clock_offset_us(void)
{
	static int64_t off = INT64_MIN;
	if (off == INT64_MIN) {
		const char *e = getenv("HX_TEST_CLOCK_OFFSET_S");
		char *end;
		long long v = e && *e ? strtoll(e, &end, 10) : 0;
		off = e && *e && !*end && v > -86400LL * 365 && v < 86400LL * 365
		              ? (int64_t)v * 1000000
		              : 0;
	}
	return off;
}

uint64_t hx_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u +
	       (uint64_t)clock_offset_us();
}

static int open_dbs(hx_store *s, MDB_txn *txn, int create)
{
	unsigned f = create ? MDB_CREATE : 0;
	struct {
		const char *name;
		MDB_dbi *dbi;
	} t[] = {
		{ "meta", &s->meta },
		{ "bytime", &s->bytime },
		{ "members", &s->members },
		{ "kv", &s->kv },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int rc = mdb_dbi_open(txn, t[i].name, f, t[i].dbi);
		if (rc == MDB_NOTFOUND)
			return HX_ECORRUPT; /* an environment, but not a hansa store */
		if (rc)
			return hx_mdb_err(rc);
	}
	/* The log, ids, versions and authors tables came with schema 6:
	 * created on any writable open (the upgrade fills them). */
	unsigned c6 = (s->flags & HX_STORE_RDONLY) ? 0 : MDB_CREATE;
	int rc = mdb_dbi_open(txn, "log", c6, &s->z.log);
	if (!rc)
		rc = mdb_dbi_open(txn, "ids", MDB_DUPSORT | MDB_DUPFIXED | c6, &s->z.ids);
	if (rc)
		return rc == MDB_NOTFOUND ? HX_ECORRUPT : hx_mdb_err(rc);
	if ((rc = hx_docs_open(s, txn, c6)))
		return rc;
	/* The blobs table came with schema 2: created on any writable open
	 * (the upgrade from 1), absent from a read-only open of a schema 1
	 * store (blob.c then sees no blobs). */
	rc = mdb_dbi_open(txn, "blobs", (s->flags & HX_STORE_RDONLY) ? 0 : MDB_CREATE, &s->blobs);
	if (rc && rc != MDB_NOTFOUND)
		return hx_mdb_err(rc);
	s->has_blobs = rc == 0;
	/* The ftext table came with schema 4, the same way. */
	rc = mdb_dbi_open(txn, "ftext", (s->flags & HX_STORE_RDONLY) ? 0 : MDB_CREATE,
	                  &s->ix.ftext);
	if (rc && rc != MDB_NOTFOUND)
		return hx_mdb_err(rc);
	s->ix.has_ftext = rc == 0;
	rc = hx_index_open(&s->ix, txn, create);
	if (!rc)
		rc = hx_fpt_open(&s->fpt, txn, create);
	return rc;
}

/* The schema version the store says it has: 0 when it has none yet. */
static int read_schema(hx_store *s, MDB_txn *txn, uint32_t *ver)
{
	MDB_val k = { 6, "schema" }, v;
	int rc = mdb_get(txn, s->meta, &k, &v);
	*ver = 0;
	if (rc == MDB_NOTFOUND)
		return HX_OK;
	if (rc)
		return hx_mdb_err(rc);
	if (v.mv_size != 4)
		return HX_ECORRUPT;
	*ver = hx_be32_get(v.mv_data);
	return *ver ? HX_OK : HX_EVERSION;
}

/* One upgrade step from schema version from to from + 1, in txn. Every
 * schema change adds its step here. */
static int upgrade_step(hx_store *s, MDB_txn *txn, uint32_t from)
{
	switch (from) {
	case 1: return HX_OK;                    /* 2: the "blobs" table, which open_dbs creates */
	case 2: return hx_purge_open(s, txn, 1); /* 3: the "purged" table */
	case 3:
		return HX_OK; /* 4: the "ftext" table, which open_dbs creates; a node
		               * extracts the blobs it has at its start (ftext.c) */
	case 4: return HX_OK; /* 5: entry values compressed, by the last step's end */
	case 5: return hx_upgrade_6(s, txn); /* 6: log, ids, versions, authors */
	default: return HX_EVERSION;
	}
}

/* Checks the schema version in a write (or, when current, read) txn:
 * writes it into a new store, upgrades an older one step by step. */
static int check_schema(hx_store *s, MDB_txn *txn, int create)
{
	uint8_t want[4];
	uint32_t ver;
	int rc = read_schema(s, txn, &ver);

	hx_be32_put(want, HX_STORE_SCHEMA);
	if (rc)
		return rc;
	if (!ver && !create)
		return HX_ECORRUPT;
	if (ver > HX_STORE_SCHEMA)
		return HX_EVERSION;
	if (ver && ver < HX_STORE_SCHEMA && (s->flags & HX_STORE_RDONLY))
		return HX_EVERSION; /* hx_store_open upgrades before */
	for (; ver && ver < HX_STORE_SCHEMA; ver++)
		if ((rc = upgrade_step(s, txn, ver)))
			return rc;
	if ((rc = hx_purge_open(s, txn, create)))
		return rc;
	MDB_val k = { 6, "schema" }, v = { 4, want };
	return (s->flags & HX_STORE_RDONLY) ? HX_OK : hx_mdb_err(mdb_put(txn, s->meta, &k, &v, 0));
}

/* Before an upgrade: a compacted copy of the data file as it is, at
 * dir/data.mdb.schema<N>.bak (written to a temporary name, then renamed,
 * so a copy that exists is whole). */
static int backup_before_upgrade(hx_store *s, const char *dir, uint32_t ver)
{
	char tmp[4200], bak[4200];
	snprintf(bak, sizeof bak, "%s/data.mdb.schema%u.bak", dir, (unsigned)ver);
	snprintf(tmp, sizeof tmp, "%s/data.mdb.schema%u.tmp", dir, (unsigned)ver);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return HX_EIO;
	int rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	if (!rc && fsync(fd))
		rc = EIO;
	if (close(fd) && !rc)
		rc = EIO;
	if (!rc && rename(tmp, bak))
		rc = EIO;
	if (rc)
		unlink(tmp);
	return hx_mdb_err(rc);
}

/* The schema version of an open environment, read in its own txn. */
static int peek_schema(hx_store *s, uint32_t *ver)
{
	MDB_txn *txn;
	*ver = 0;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
	rc = rc == MDB_NOTFOUND ? HX_OK : rc ? hx_mdb_err(rc) : read_schema(s, txn, ver);
	hx_txn_abort(s, txn);
	return rc;
}

/* An index from another schema is rebuilt in the open's write transaction:
 * a second process opening the store waits for it and finds it current. */
static int upgrade_index(hx_store *s, MDB_txn *txn)
{
	if (!s->ix.stale || (s->flags & HX_STORE_RDONLY))
		return HX_OK;
	uint64_t t0 = hx_now_us();
	int rc = hx_index_rebuild(&s->ix, txn, s->versions, &s->z, &s->reindexed_docs);
	s->reindexed = !rc;
	s->reindexed_s = (double)(hx_now_us() - t0) / 1e6;
	return rc;
}

int hx_store_reindexed(const hx_store *s, uint64_t *documents, double *seconds)
{
	*documents = s->reindexed ? s->reindexed_docs : 0;
	*seconds = s->reindexed ? s->reindexed_s : 0;
	return s->reindexed;
}

int hx_store_open(hx_store **out, const char *dir, unsigned flags)
{
	hx_store *s;
	MDB_txn *txn = NULL;
	int rc, create = (flags & HX_STORE_CREATE) && !(flags & HX_STORE_RDONLY);
	char path[4096];
	struct stat st;

	*out = NULL;
	if (create && mkdir(dir, 0700) && errno != EEXIST)
		return HX_EIO;
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (!create && stat(path, &st))
		return HX_ENOTFOUND;
	if (!(s = calloc(1, sizeof *s)))
		return HX_ENOMEM;
	if (hx_zent_init(&s->z)) {
		free(s);
		return HX_ENOMEM;
	}
	s->flags = flags;
	s->blob_file_max = HX_BLOB_FILE_MAX;
	s->blob_space_max = HX_BLOB_SPACE_MAX;
	if (!(s->dir = strdup(dir)) || hx_store_lock_init(s)) {
		free(s->dir);
		hx_zent_free(&s->z);
		free(s);
		return HX_ENOMEM;
	}
	hx_store_wake_init(s, dir);
	if ((rc = mdb_env_create(&s->env)))
		goto fail_mdb;
	mdb_env_set_maxdbs(s->env, 32);
	mdb_env_set_maxreaders(s->env, 126);
	/* A large sparse map from the start avoids most MDB_MAP_FULL
	 * resizes; put_batch still grows it when needed. Never shrink a map
	 * another process has grown. */
	if (!stat(path, &st) && (size_t)st.st_size > hx_store_map_initial)
		mdb_env_set_mapsize(s->env, (size_t)st.st_size * 2);
	else
		mdb_env_set_mapsize(s->env, hx_store_map_initial);
	unsigned ef = MDB_NOTLS | ((flags & HX_STORE_RDONLY) ? MDB_RDONLY : 0);
	if ((rc = mdb_env_open(s->env, dir, ef, 0600)))
		goto fail_mdb;
	int dead;
	mdb_reader_check(s->env, &dead); /* clear slots of crashed processes */
	uint32_t ver;
	if ((rc = peek_schema(s, &ver)))
		goto fail;
	if (ver && ver < HX_STORE_SCHEMA) {
		if (flags & HX_STORE_RDONLY) {
			/* upgrade with a writable open first, then open as asked */
			mdb_env_close(s->env);
			hx_zent_free(&s->z);
			pthread_rwlock_destroy(&s->maplock);
			free(s->dir);
			free(s);
			if ((rc = hx_store_open(out, dir, flags & ~(unsigned)HX_STORE_RDONLY)))
				return rc;
			hx_store_close(out);
			return hx_store_open(out, dir, flags);
		}
		if ((rc = backup_before_upgrade(s, dir, ver)))
			goto fail;
		/* An upgrade copies tables before it drops the old ones, in the
		 * open's one transaction, whose freed pages are not reused until
		 * it commits: room for three times the file (no transaction is
		 * active here, so the map may change). */
		MDB_envinfo ei;
		if (!stat(path, &st) && !mdb_env_info(s->env, &ei) &&
		    (size_t)st.st_size * 3 > ei.me_mapsize &&
		    (rc = mdb_env_set_mapsize(s->env, (size_t)st.st_size * 3)))
			goto fail_mdb;
	}
	if ((rc = hx_txn_begin(s, (flags & HX_STORE_RDONLY) ? MDB_RDONLY : 0, &txn)))
		goto fail;
	if (!(rc = open_dbs(s, txn, create)))
		s->z.meta = s->meta;
	if (rc || (rc = check_schema(s, txn, create)) || (rc = upgrade_index(s, txn))) {
		hx_txn_abort(s, txn);
		hx_zent_end(&s->z, 0);
		goto fail;
	}
	rc = hx_mdb_err(hx_txn_commit(s, txn));
	hx_zent_end(&s->z, !rc);
	if (rc)
		goto fail;
	*out = s;
	return HX_OK;
fail_mdb:
	rc = (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) ? HX_ECORRUPT : hx_mdb_err(rc);
fail:
	if (s->env)
		mdb_env_close(s->env);
	hx_zent_free(&s->z);
	hx_index_close(&s->ix);
	pthread_rwlock_destroy(&s->maplock);
	free(s->dir);
	free(s);
	return rc;
}

void hx_store_close(hx_store **s)
{
	if (!s || !*s)
		return;
	mdb_env_close((*s)->env);
	hx_zent_free(&(*s)->z);
	hx_index_close(&(*s)->ix);
	pthread_rwlock_destroy(&(*s)->maplock);
	free((*s)->dir);
	free(*s);
	*s = NULL;
}

static int get_entry(hx_store *s, MDB_txn *txn, const uint8_t *id, hx_entry *e, uint8_t **raw,
                     size_t *rawlen)
{
	MDB_val v;
	uint8_t *owned;
	if (!e && !raw) { /* whether it is here: no need to decompress */
		uint64_t seq;
		return hx_zent_find(&s->z, txn, id, &seq, NULL);
	}
	int rc = hx_zent_get(&s->z, txn, id, &v, &owned);
	if (rc)
		return rc;
	if (e && hx_entry_decode(e, v.mv_data, v.mv_size)) {
		free(owned);
		return HX_ECORRUPT;
	}
	if (raw) {
		if (!owned && (owned = malloc(v.mv_size)))
			memcpy(owned, v.mv_data, v.mv_size);
		if (!owned) {
			if (e)
				hx_entry_clear(e);
			return HX_ENOMEM;
		}
		*raw = owned;
		*rawlen = v.mv_size;
	} else {
		free(owned);
	}
	return HX_OK;
}

/* ---- writing ---------------------------------------------------------- */

static int last_seq(hx_store *s, MDB_txn *txn, uint64_t *seq)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, s->z.log, &c);
	if (rc)
		return hx_mdb_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*seq = 0;
		return HX_OK;
	}
	if (rc)
		return hx_mdb_err(rc);
	if (k.mv_size != 8)
		return HX_ECORRUPT;
	*seq = hx_be64_get(k.mv_data);
	return HX_OK;
}

/* Adds e to the versions of its document; when it is newer than the
 * current version it becomes current, and the search index follows. */
static int update_current(hx_store *s, MDB_txn *txn, const hx_entry *e)
{
	uint8_t prev[HX_VER_LEN];
	hx_entry old = { 0 };
	int had_prev, current, rc = hx_ver_add(s, txn, e, prev, &had_prev, &current);
	if (rc || !current)
		return rc; /* an older version arrived late: history only */
	int have_old = had_prev && (prev[8 + HX_ID_LEN] & HX_VER_LISTED);
	if (have_old && (rc = hx_zent_decode(&s->z, txn, prev + 8, &old)))
		return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
	/* System records (FORMAT.md §1.8) have a current version but are not
	 * documents: nothing of them in the search index. */
	int dead = !hx_entry_is_listed(e);
	if (have_old || !dead)
		rc = hx_index_update(&s->ix, txn, have_old ? &old : NULL, dead ? NULL : e);
	hx_entry_clear(&old);
	return rc;
}

/* Stores one entry in txn. A refusal of this entry alone (not a member,
 * already stored) goes into p->result and returns HX_OK; any other error
 * is returned and fails the whole batch, since by then some of the
 * entry's rows may have been written. */
static int put_one(hx_store *s, MDB_txn *txn, hx_put *p, unsigned flags, uint64_t *seq)
{
	const hx_entry *e = p->entry;
	MDB_val v, empty = { 0, "" };
	uint8_t key[8 + HX_ID_LEN];
	int rc;

	p->result = HX_OK;
	p->seq = 0;
	p->why = NULL;
	if (flags & HX_PUT_MEMBERS_ONLY) {
		MDB_val mk = { HX_KEY_LEN, (void *)e->author };
		rc = mdb_get(txn, s->members, &mk, &v);
		if (rc == MDB_NOTFOUND) {
			p->result = HX_EPERM;
			return HX_OK;
		}
		if (rc)
			return hx_mdb_err(rc);
	}
	int done;
	if ((rc = hx_purge_before(s, txn, p, &done)) || done)
		return rc;
	/* The signer must be the author's current key or one of its devices
	 * at the entry's time; device and rotation records follow their rules
	 * (org.c). An entry refused here is not stored, so reconciliation asks
	 * for it again once the record it needs has arrived. */
	int refuse;
	uint64_t prev_revoked;
	uint64_t had;
	if ((rc = hx_zent_find(&s->z, txn, e->id, &had, NULL)) == HX_OK) {
		p->result = HX_EEXIST;
		return HX_OK;
	}
	if (rc != HX_ENOTFOUND)
		return rc;
	if ((rc = hx_org_check(s, txn, e, &refuse, &prev_revoked)))
		return rc;
	if (refuse) {
		p->result = refuse;
		return HX_OK;
	}
	/* system records are checked by their kind's rules (FORMAT.md §1.8) */
	if ((rc = hx_roster_check(e)) != HX_OK) {
		if (rc == HX_ENOMEM)
			return rc;
		p->result = HX_ERECORD;
		return HX_OK;
	}
	if (!strncmp(e->path, HX_ROSTER_PREFIX, strlen(HX_ROSTER_PREFIX))) {
		/* the partners roster records are about, so that node/roster.c
		 * finds them without a scan: kv "roster/" HEXKEY -> "" */
		char rk[sizeof HX_ROSTER_KV + 2 * HX_KEY_LEN];
		snprintf(rk, sizeof rk, "%s%s", HX_ROSTER_KV, e->path + strlen(HX_ROSTER_PREFIX));
		MDB_val kk = { strlen(rk), rk };
		if ((rc = mdb_put(txn, s->kv, &kk, &empty, 0)))
			return hx_mdb_err(rc);
	}
	if ((rc = hx_zent_pack(&s->z, p->raw, p->rawlen, &v)) ||
	    (rc = hx_zent_put(&s->z, txn, ++*seq, e->id, &v)))
		return rc;
	hx_be64_put(key, e->timestamp);
	memcpy(key + 8, e->id, HX_ID_LEN);
	MDB_val tk = { 8 + HX_ID_LEN, key };
	if ((rc = mdb_put(txn, s->bytime, &tk, &empty, 0)))
		return hx_mdb_err(rc);
	if ((rc = hx_fpt_add(&s->fpt, txn, e->timestamp, e->id)))
		return rc;
	if ((rc = update_current(s, txn, e)))
		return rc;
	if ((rc = hx_org_after_put(s, txn, e, prev_revoked)))
		return rc;
	if (hx_purge_is(e) && (rc = hx_purge_after(s, txn, e)))
		return rc;
	p->seq = *seq;
	return HX_OK;
}

int hx_store_put_batch(hx_store *s, hx_put *put, size_t n, unsigned flags, size_t *added)
{
	MDB_txn *txn;
	int rc;

	if (s->flags & HX_STORE_RDONLY)
		return HX_EPERM;
	for (int attempt = 0; attempt < 8; attempt++) {
		size_t count = 0;
		uint64_t seq;
		if ((rc = hx_txn_begin(s, 0, &txn)))
			return rc;
		s->scrub_due = 0;
		if ((rc = last_seq(s, txn, &seq)) || (rc = hx_zent_begin(&s->z, txn)))
			goto abort;
		for (size_t i = 0; i < n; i++) {
			if ((rc = put_one(s, txn, &put[i], flags, &seq)))
				goto abort;
			count += put[i].result == HX_OK;
		}
		if ((rc = hx_zent_train(&s->z, txn)) || (rc = hx_index_commit(&s->ix, txn)))
			goto abort;
		int mrc = hx_txn_commit(s, txn);
		rc = hx_mdb_err(mrc);
		hx_zent_end(&s->z, !rc);
		/* the map, not the disk (ENOSPC is HX_EFULL too) */
		if (mrc == MDB_MAP_FULL && hx_store_grow_map(s) == HX_OK)
			continue;
		/* The batch is committed: zeroing the free pages after a purge is
		 * best effort and never turns a stored batch into a failure; when
		 * it fails (a full map), the next commit of this handle tries
		 * again. */
		if (!rc && (s->scrub_due || s->scrub_retry))
			s->scrub_retry = hx_store_scrub(s) != HX_OK;
		if (!rc && added)
			*added = count;
		if (!rc && count && !(flags & HX_PUT_NO_WAKE))
			hx_store_wake(s);
		return rc;
	abort:
		/* before the abort: another thread may start a write at once */
		hx_index_abort(&s->ix);
		hx_txn_abort(s, txn);
		hx_zent_end(&s->z, 0);
		if (rc == HX_EFULL && hx_store_grow_map(s) == HX_OK)
			continue;
		return rc;
	}
	return HX_EFULL;
}

int hx_store_next_timestamp(hx_store *s, const uint8_t author[HX_KEY_LEN], const char *path,
                            uint64_t now, uint64_t *ts)
{
	MDB_txn *txn;
	uint8_t k[HX_VER_KEYMAX], cur[HX_VER_LEN];
	size_t kl;
	int rc;

	if (strlen(path) > HX_PATH_MAX)
		return HX_ELIMIT;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	rc = hx_ver_doc_key(s, txn, author, path, 0, k, &kl);
	if (!rc)
		rc = hx_ver_current(txn, s->versions, k, kl, cur);
	*ts = now;
	if (rc == 0 && hx_be64_get(cur) >= now)
		*ts = hx_be64_get(cur) + 1;
	hx_txn_abort(s, txn);
	return rc == HX_ENOTFOUND ? HX_OK : rc;
}

/* ---- reading ---------------------------------------------------------- */

int hx_store_get(hx_store *s, const uint8_t id[HX_ID_LEN], hx_entry *e, uint8_t **raw,
                 size_t *rawlen)
{
	MDB_txn *txn;
	int rc = hx_txn_begin(s, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	rc = get_entry(s, txn, id, e, raw, rawlen);
	hx_txn_abort(s, txn);
	return rc;
}

int hx_store_current(hx_store *s, const uint8_t author[HX_KEY_LEN], const char *path, hx_entry *e,
                     int *deleted)
{
	MDB_txn *txn;
	uint8_t k[HX_VER_KEYMAX], cur[HX_VER_LEN];
	size_t kl;
	int rc;

	if (deleted)
		*deleted = 0;
	if (strlen(path) > HX_PATH_MAX)
		return HX_ENOTFOUND;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	rc = hx_ver_doc_key(s, txn, author, path, 0, k, &kl);
	if (!rc)
		rc = hx_ver_current(txn, s->versions, k, kl, cur);
	if (!rc && !(rc = get_entry(s, txn, cur + 8, e, NULL, NULL)) && hx_entry_is_tombstone(e)) {
		hx_entry_clear(e);
		if (deleted)
			*deleted = 1;
		rc = HX_ENOTFOUND;
	}
	hx_txn_abort(s, txn);
	return rc;
}

struct path_authors {
	hx_store *s;
	MDB_txn *txn;
	uint8_t (*authors)[HX_KEY_LEN];
	size_t max, *count;
};

static int path_author(void *arg, const MDB_val *k, const uint8_t *cur)
{
	struct path_authors *a = arg;
	size_t pl;
	uint32_t num;
	int rc = hx_ver_key_split(k, &pl, &num);
	if (rc || !(cur[8 + HX_ID_LEN] & HX_VER_LISTED))
		return rc;
	if (*a->count < a->max && (rc = hx_author_key(a->s, a->txn, num, a->authors[*a->count])))
		return rc;
	++*a->count;
	return HX_OK;
}

int hx_store_path_authors(hx_store *s, const char *path, uint8_t (*authors)[HX_KEY_LEN], size_t max,
                          size_t *count)
{
	struct path_authors a = { s, NULL, authors, max, count };
	size_t n = strlen(path);
	int rc;

	*count = 0;
	if (n > HX_PATH_MAX || !n)
		return HX_OK;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &a.txn)))
		return rc;
	rc = hx_docs_each(a.txn, s->versions, path, n + 1, path_author, &a); /* path ‖ 00 */
	hx_txn_abort(s, a.txn);
	return rc;
}

/* Calls cb for the entry with id; decoding failures are corruption. */
static int visit(hx_store *s, MDB_txn *txn, const uint8_t *id, hx_entry_cb cb, void *arg)
{
	MDB_val v;
	uint8_t *owned;
	hx_entry e;
	hx_purged st;
	int rc = hx_zent_get(&s->z, txn, id, &v, &owned);
	if (rc == HX_ENOTFOUND && !hx_purge_stub_get(s, txn, id, &st))
		return 0; /* a purged version: only its stub is left */
	if (rc)
		return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
	if (hx_entry_decode(&e, v.mv_data, v.mv_size)) {
		free(owned);
		return HX_ECORRUPT;
	}
	rc = cb(arg, &e, v.mv_data, v.mv_size);
	hx_entry_clear(&e);
	free(owned);
	return rc;
}

/* Walks bytime from timestamp from, visiting each entry. */
static int walk(hx_store *s, uint64_t from, hx_entry_cb cb, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *c;
	uint8_t start[8];
	MDB_val k = { 8, start }, v;
	int rc;

	hx_be64_put(start, from);
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, s->bytime, &c))) {
		hx_txn_abort(s, txn);
		return hx_mdb_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 + HX_ID_LEN) {
			rc = HX_ECORRUPT;
			break;
		}
		if ((rc = visit(s, txn, (uint8_t *)k.mv_data + 8, cb, arg)))
			break;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	return rc == MDB_NOTFOUND ? HX_OK : rc < 0 && rc > -1000 ? rc : hx_mdb_err(rc);
}

struct listing {
	hx_store *s;
	MDB_txn *txn;
	uint32_t num; /* only this author's documents; 0: all */
	hx_entry_cb cb;
	void *arg;
};

static int list_one(void *arg, const MDB_val *k, const uint8_t *cur)
{
	struct listing *l = arg;
	size_t pl;
	uint32_t num;
	if (hx_ver_key_split(k, &pl, &num))
		return HX_ECORRUPT;
	if ((l->num && num != l->num) || !(cur[8 + HX_ID_LEN] & HX_VER_LISTED))
		return HX_OK;
	return visit(l->s, l->txn, cur + 8, l->cb, l->arg);
}

int hx_store_list(hx_store *s, const uint8_t *author, hx_entry_cb cb, void *arg)
{
	struct listing l = { s, NULL, 0, cb, arg };
	int rc = hx_txn_begin(s, MDB_RDONLY, &l.txn);
	if (rc)
		return rc;
	if (author)
		rc = hx_author_num(s, l.txn, author, 0, &l.num);
	if (!rc)
		rc = hx_docs_each(l.txn, s->versions, NULL, 0, list_one, &l);
	hx_txn_abort(s, l.txn);
	return rc == HX_ENOTFOUND && author ? HX_OK : rc;
}

int hx_store_history(hx_store *s, const uint8_t author[HX_KEY_LEN], const char *path,
                     hx_entry_cb cb, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *c;
	uint8_t k[HX_VER_KEYMAX];
	size_t kl;
	int rc;

	if (strlen(path) > HX_PATH_MAX)
		return HX_OK;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = hx_ver_doc_key(s, txn, author, path, 0, k, &kl)) ||
	    (rc = hx_mdb_err(mdb_cursor_open(txn, s->versions, &c)))) {
		hx_txn_abort(s, txn);
		return rc == HX_ENOTFOUND ? HX_OK : rc;
	}
	MDB_val key = { kl, k }, v;
	for (rc = mdb_cursor_get(c, &key, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(c, &key, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != HX_VER_LEN) {
			rc = HX_ECORRUPT;
			break;
		}
		if ((rc = visit(s, txn, (uint8_t *)v.mv_data + 8, cb, arg)))
			break;
	}
	mdb_cursor_close(c);
	hx_txn_abort(s, txn);
	return rc == MDB_NOTFOUND ? HX_OK : rc < 0 && rc > -1000 ? rc : hx_mdb_err(rc);
}

int hx_store_scan(hx_store *s, uint64_t from, hx_entry_cb cb, void *arg)
{
	return walk(s, from, cb, arg);
}

int hx_store_stats_get(hx_store *s, hx_store_stats *st)
{
	MDB_txn *txn;
	MDB_stat ms;
	MDB_envinfo info;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &txn)))
		return rc;
	if ((rc = mdb_stat(txn, s->z.ids, &ms)))
		rc = hx_mdb_err(rc);
	else
		st->entries = ms.ms_entries;
	if (!rc && !(rc = hx_live_get(s, txn, &st->documents)))
		rc = last_seq(s, txn, &st->last_seq);
	mdb_env_info(s->env, &info);
	if (!mdb_env_stat(s->env, &ms))
		st->map_used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	hx_txn_abort(s, txn);
	return rc;
}
