/*
 * blob_scrub.c: the scrub (blob.h): re-hashes whole blobs, the one checked
 * longest ago first; renews the checked mark (blob.c) of a good one and
 * turns a damaged one back into a partial blob without its damaged chunks,
 * so that they are fetched again from peers instead of being served.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/blob_int.h"

/* ---- choosing the next blob to scrub ------------------------------------- */

struct next {
	hx_store *s;
	MDB_txn *txn;
	uint8_t hash[HX_ID_LEN];
	uint64_t at;
	int found;
};

static int next_step(void *arg, const uint8_t hash[HX_ID_LEN], int state, uint64_t size)
{
	struct next *x = arg;
	struct hx_bmark m;
	struct stat st;
	char path[4096];
	(void)size;
	if (state != HX_BLOB_WHOLE)
		return 0;
	uint64_t at = 0; /* never checked, or its file changed since */
	if (!hx_bl_mark_get(x->s, x->txn, hash, &m) &&
	    !hx_bl_whole_path(x->s, hash, path, sizeof path) && !stat(path, &st) &&
	    hx_bl_mark_same(&m, &st))
		at = m.at;
	if (!x->found || at < x->at) {
		memcpy(x->hash, hash, HX_ID_LEN);
		x->at = at;
		x->found = 1;
	}
	return 0;
}

int hx_blob_scrub_next(hx_store *s, uint8_t hash[HX_ID_LEN], uint64_t *at)
{
	struct next x = { .s = s };
	int rc;
	if (!s->has_blobs)
		return HX_ENOTFOUND;
	if ((rc = hx_txn_begin(s, MDB_RDONLY, &x.txn)))
		return rc;
	rc = hx_blob_list(s, next_step, &x);
	hx_txn_abort(s, x.txn);
	if (rc)
		return rc;
	if (!x.found)
		return HX_ENOTFOUND;
	memcpy(hash, x.hash, HX_ID_LEN);
	*at = x.at;
	return HX_OK;
}

/* ---- scrubbing one blob -------------------------------------------------- */

/* Turns whole blob hash, whose file was st at path, into a partial blob
 * holding only the chunks set in good: the file is linked as the partial
 * one, then the state committed (its mark and text go with it), then the
 * whole name removed. A crash in between leaves a file that no state names
 * (gc removes it). HX_EBUSY when the blob or its file changed meanwhile. */
static int demote(hx_store *s, const uint8_t *hash, const char *path, const struct stat *st,
                  const uint8_t *good)
{
	char part[4096];
	struct hx_bstate b;
	struct stat now, linked;
	MDB_txn *txn;
	int rc;

	if ((rc = hx_bl_make_dir(s, "part")) || (rc = hx_bl_part_path(s, hash, part, sizeof part)))
		return rc;
	unlink(part); /* a stray left by a crash */
	if (st) {
		/* the link changes the ctime: compared from here on is the
		 * stat after it, of the same file with the same bytes */
		if (link(path, part))
			return HX_EIO;
		if (stat(part, &linked) || linked.st_ino != st->st_ino ||
		    linked.st_dev != st->st_dev || linked.st_size != st->st_size ||
		    linked.st_mtim.tv_sec != st->st_mtim.tv_sec ||
		    linked.st_mtim.tv_nsec != st->st_mtim.tv_nsec) {
			rc = HX_EBUSY;
			goto out;
		}
	} else {
		int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return HX_EIO;
		close(fd);
	}
	if ((rc = hx_bl_write_begin(s, &txn)))
		goto out;
	if ((rc = hx_bl_load(s, txn, hash, &b)) || b.state != HX_BLOB_WHOLE ||
	    (st && (stat(path, &now) || !hx_bl_stat_same(&linked, &now)))) {
		hx_txn_abort(s, txn);
		rc = rc ? rc : HX_EBUSY;
		goto out;
	}
	uint8_t *hashes = malloc((size_t)b.n * HX_ID_LEN + 1);
	if (!hashes) {
		hx_txn_abort(s, txn);
		rc = HX_ENOMEM;
		goto out;
	}
	memcpy(hashes, b.hashes, (size_t)b.n * HX_ID_LEN);
	if ((rc = hx_bl_put_state(s, txn, hash, HX_BLOB_PARTIAL, b.size, b.added, hashes, good)) ||
	    (rc = hx_bl_mark_del(s, txn, hash)) || (rc = hx_ft_set(s, txn, hash, NULL, 0)) ||
	    (rc = hx_index_commit(&s->ix, txn))) {
		hx_index_abort(&s->ix);
		hx_txn_abort(s, txn);
	} else {
		rc = hx_mdb_err(hx_txn_commit(s, txn));
	}
	free(hashes);
out:
	if (rc) {
		unlink(part);
		return rc;
	}
	unlink(path);
	return HX_OK;
}

int hx_blob_scrub(hx_store *s, const uint8_t hash[HX_ID_LEN], hx_blob_pace_fn pace, void *arg,
                  uint32_t *bad)
{
	struct hx_bstate b;
	uint8_t *mem = NULL, *buf = NULL, *good = NULL, got[HX_ID_LEN];
	char path[4096];
	struct stat st0, st1;
	MDB_txn *txn;
	int fd = -1, rc;

	*bad = 0;
	if ((rc = hx_bl_get(s, hash, &b, &mem)))
		return rc;
	if (b.state != HX_BLOB_WHOLE) {
		free(mem);
		return HX_ENOTFOUND;
	}
	size_t nb = ((size_t)b.n + 7) / 8;
	if (!(buf = malloc(HX_CHUNK_SIZE)) || !(good = calloc(nb + 1, 1))) {
		rc = HX_ENOMEM;
		goto out;
	}
	if ((rc = hx_bl_whole_path(s, hash, path, sizeof path)))
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		rc = HX_EIO;
		goto out;
	}
	if (fd >= 0 && fstat(fd, &st0)) {
		rc = HX_EIO;
		goto out;
	}
	for (uint32_t i = 0; i < b.n && fd >= 0; i++) {
		size_t len = hx_bl_chunk_len(b.size, i);
		int ok = !hx_bl_pread(fd, buf, len, (uint64_t)i * HX_CHUNK_SIZE);
		if (ok) {
			hx_bl_chunk_hash(got, buf, len);
			ok = !sodium_memcmp(got, b.hashes + (size_t)i * HX_ID_LEN, HX_ID_LEN);
		}
		if (ok)
			good[i / 8] |= (uint8_t)(1u << (i % 8));
		else
			++*bad;
		if (pace && pace(arg, len)) {
			rc = HX_EBUSY; /* stopped: nothing changes */
			goto out;
		}
	}
	if (fd < 0) {
		*bad = b.n; /* the file is gone: every chunk is fetched again */
	} else if (fstat(fd, &st1) || !hx_bl_stat_same(&st0, &st1)) {
		rc = HX_EBUSY; /* changed while it was read: next time */
		goto out;
	}
	if (*bad || (fd < 0 && b.size)) {
		rc = demote(s, hash, path, fd >= 0 ? &st0 : NULL, good);
		goto out;
	}
	/* every chunk matches: renew the mark, if the file is still that one */
	if ((rc = hx_bl_write_begin(s, &txn)))
		goto out;
	struct hx_bstate now;
	if ((rc = hx_bl_load(s, txn, hash, &now)) || now.state != HX_BLOB_WHOLE ||
	    (fd >= 0 && (stat(path, &st1) || !hx_bl_stat_same(&st0, &st1)))) {
		hx_txn_abort(s, txn);
		rc = rc ? rc : HX_EBUSY;
		goto out;
	}
	if (fd >= 0 && (rc = hx_bl_mark_put(s, txn, hash, &st0)))
		hx_txn_abort(s, txn);
	else
		rc = hx_mdb_err(hx_txn_commit(s, txn));
out:
	if (fd >= 0)
		close(fd);
	free(mem);
	free(buf);
	free(good);
	return rc;
}
