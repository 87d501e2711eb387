/*
 * blob_gc.c: checking and collecting blobs (blob.h): hx_blob_fsck re-hashes
 * every blob against its state, hx_blob_gc removes blobs no current version
 * references and files in blobs/ that no state names (what a crash between
 * a rename and its commit leaves).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/store_int.h"
#include "store/blob.h"

/* ---- fsck --------------------------------------------------------------- */

struct fsck {
	hx_store *s;
	hx_report_cb report;
	void *arg;
	uint64_t problems;
	uint8_t *buf;
};

static void problem(struct fsck *f, const uint8_t *hash, const char *what)
{
	char hex[2 * HX_ID_LEN + 1], line[256];
	snprintf(line, sizeof line, "blob %s: %s", hx_hex(hex, hash, HX_ID_LEN), what);
	f->problems++;
	if (f->report)
		f->report(f->arg, line);
}

static int fsck_one(void *arg, const uint8_t hash[HX_ID_LEN], int state, uint64_t size)
{
	struct fsck *f = arg;
	uint8_t *hashes, h[HX_ID_LEN];
	uint32_t n;
	size_t len;
	int rc;

	if ((rc = hx_blob_hashes(f->s, hash, &size, &hashes, &n)))
		return rc;
	hx_blob_hash(h, size, hashes);
	free(hashes);
	if (memcmp(h, hash, HX_ID_LEN)) {
		problem(f, hash, "its chunk hash list does not hash to its name");
		return 0;
	}
	if (state == HX_BLOB_WHOLE) {
		int fd;
		if ((rc = hx_blob_open(f->s, hash, &fd, &size))) {
			problem(f, hash,
			        rc == HX_ECORRUPT
			                ? "whole, but its file is missing or of the wrong size"
			                : "whole, but its file cannot be opened");
			return 0;
		}
		close(fd);
	}
	for (uint32_t i = 0; i < n; i++) {
		rc = hx_blob_read_chunk(f->s, hash, i, f->buf, &len);
		if (rc == HX_ENOTFOUND && state == HX_BLOB_PARTIAL)
			continue; /* not received yet */
		if (rc == HX_ECORRUPT) {
			char what[64];
			snprintf(what, sizeof what, "chunk %u does not match its hash", i);
			problem(f, hash, what);
			return 0;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int hx_blob_fsck(hx_store *s, hx_report_cb report, void *arg, uint64_t *problems)
{
	struct fsck f = { s, report, arg, 0, malloc(HX_CHUNK_SIZE) };
	if (!f.buf)
		return HX_ENOMEM;
	int rc = hx_blob_list(s, fsck_one, &f);
	free(f.buf);
	*problems += f.problems;
	return rc;
}

/* ---- gc ----------------------------------------------------------------- */

struct refs {
	hx_blob_ref *v;
	size_t n, cap;
};

static int ref_step(void *arg, const hx_entry *e, const uint8_t *raw, size_t rawlen)
{
	struct refs *r = arg;
	(void)raw;
	(void)rawlen;
	for (size_t i = 0; i < e->nattach; i++) {
		hx_blob_ref *nv = hx_grow(r->v, &r->cap, r->n + 1, sizeof *nv);
		if (!nv)
			return HX_ENOMEM;
		r->v = nv;
		memcpy(nv[r->n].hash, e->attach[i].hash, HX_ID_LEN);
		memcpy(nv[r->n].id, e->id, HX_ID_LEN);
		snprintf(nv[r->n].name, sizeof nv[r->n].name, "%s", e->attach[i].name);
		r->n++;
	}
	return 0;
}

static int cmp_ref(const void *a, const void *b)
{
	const hx_blob_ref *x = a, *y = b;
	int c = memcmp(x->hash, y->hash, HX_ID_LEN);
	return c ? c : memcmp(x->id, y->id, HX_ID_LEN);
}

int hx_blob_refs(hx_store *s, hx_blob_ref **refs, size_t *n)
{
	struct refs r = { 0 };
	int rc = hx_store_list(s, NULL, ref_step, &r);
	*refs = NULL;
	*n = 0;
	if (rc) {
		free(r.v);
		return rc;
	}
	if (r.n)
		qsort(r.v, r.n, sizeof *r.v, cmp_ref);
	*refs = r.v;
	*n = r.n;
	return HX_OK;
}

const hx_blob_ref *hx_blob_ref_find(const hx_blob_ref *refs, size_t n,
                                    const uint8_t hash[HX_ID_LEN])
{
	size_t lo = 0, hi = n; /* the first row whose hash >= hash */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(refs[mid].hash, hash, HX_ID_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !memcmp(refs[lo].hash, hash, HX_ID_LEN) ? &refs[lo] : NULL;
}

static int referenced(const struct refs *r, const uint8_t *hash)
{
	return hx_blob_ref_find(r->v, r->n, hash) != NULL;
}

struct gc {
	hx_store *s;
	const struct refs *refs;
	uint8_t *drop; /* hashes to remove */
	size_t n, cap;
	uint64_t bytes;
};

static int gc_step(void *arg, const uint8_t hash[HX_ID_LEN], int state, uint64_t size)
{
	struct gc *g = arg;
	(void)state;
	if (referenced(g->refs, hash))
		return 0;
	uint8_t *nd = hx_grow(g->drop, &g->cap, g->n + 1, HX_ID_LEN + 8);
	if (!nd)
		return HX_ENOMEM;
	g->drop = nd;
	memcpy(g->drop + g->n * (HX_ID_LEN + 8), hash, HX_ID_LEN);
	hx_be64_put(g->drop + g->n * (HX_ID_LEN + 8) + HX_ID_LEN, size);
	g->n++;
	return 0;
}

/* Stops the walk at the first blob: hx_blob_list then returns 1. */
static int first_blob(void *arg, const uint8_t hash[HX_ID_LEN], int state, uint64_t size)
{
	(void)arg;
	(void)hash;
	(void)state;
	(void)size;
	return 1;
}

/* Microseconds since the epoch of a file's last change; 0 when unknown. */
static uint64_t mtime_us(const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return 0;
	return (uint64_t)st.st_mtim.tv_sec * 1000000u + (uint64_t)st.st_mtim.tv_nsec / 1000u;
}

/* Removes files in blobs/<sub> that no state of the right kind names and
 * that are older than cutoff. */
static void sweep(hx_store *s, const char *sub, uint64_t cutoff, uint64_t *removed)
{
	char d[4096], p[4400];
	snprintf(d, sizeof d, "%s/blobs/%s", s->dir, sub);
	DIR *dir = opendir(d);
	if (!dir)
		return;
	int is_part = !strcmp(sub, "part"), is_tmp = !strcmp(sub, "tmp");
	struct dirent *de;
	while ((de = readdir(dir))) {
		uint8_t hash[HX_ID_LEN];
		int state = HX_BLOB_NONE;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", d, de->d_name);
		if (!is_tmp && strlen(de->d_name) == 2 * HX_ID_LEN &&
		    !hx_unhex(hash, HX_ID_LEN, de->d_name) &&
		    hx_blob_state(s, hash, &state, NULL, NULL) == HX_OK &&
		    state == (is_part ? HX_BLOB_PARTIAL : HX_BLOB_WHOLE))
			continue;
		if (mtime_us(p) > cutoff)
			continue;
		if (!unlink(p))
			(*removed)++;
	}
	closedir(dir);
}

int hx_blob_gc(hx_store *s, uint64_t grace_us, uint64_t *removed, uint64_t *bytes)
{
	struct refs r = { 0 };
	struct gc g = { s, &r, NULL, 0, 0, 0 };
	uint64_t now = hx_now_us(), cutoff = now > grace_us ? now - grace_us : 0, gone = 0;
	int rc;

	if (removed)
		*removed = 0;
	if (bytes)
		*bytes = 0;
	if (!s->has_blobs)
		return HX_OK;
	/* the references are every current version's attachments, a read of
	 * the whole store: not made when there is no blob to collect */
	int any = hx_blob_list(s, first_blob, NULL);
	if ((rc = any < 0 ? any : HX_OK))
		goto out;
	if (any && (rc = hx_blob_refs(s, &r.v, &r.n)))
		goto out;
	if (any && (rc = hx_blob_list(s, gc_step, &g)))
		goto out;
	for (size_t i = 0; i < g.n; i++) {
		const uint8_t *h = g.drop + i * (HX_ID_LEN + 8);
		char hex[2 * HX_ID_LEN + 1], p[4400];
		/* the grace: when the blob's file (or partial file) last changed */
		hx_hex(hex, h, HX_ID_LEN);
		snprintf(p, sizeof p, "%s/blobs/%.2s/%s", s->dir, hex, hex);
		uint64_t t = mtime_us(p);
		snprintf(p, sizeof p, "%s/blobs/part/%s", s->dir, hex);
		uint64_t tp = mtime_us(p);
		if ((t > tp ? t : tp) > cutoff)
			continue;
		rc = hx_blob_drop(s, h);
		if (rc == HX_ENOTFOUND)
			continue;
		if (rc)
			goto out;
		gone++;
		if (bytes)
			*bytes += hx_be64_get(h + HX_ID_LEN);
	}
	/* stray files: a crash between rename and commit, or an old temp */
	DIR *dir;
	char d[4096];
	snprintf(d, sizeof d, "%s/blobs", s->dir);
	if ((dir = opendir(d))) {
		struct dirent *de;
		uint64_t strays = 0;
		while ((de = readdir(dir)))
			if (de->d_name[0] != '.')
				sweep(s, de->d_name, cutoff, &strays);
		closedir(dir);
		(void)strays;
	}
out:
	if (removed)
		*removed = gone;
	free(r.v);
	free(g.drop);
	return rc;
}
