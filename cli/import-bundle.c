/*
 * import-bundle.c: `hansa import FILE` for a bundle: every entry is checked
 * exactly as one received from a peer (canonical decoding and limits,
 * signature, at most 10 minutes in the future, author a member) and stored
 * in batches of one write transaction each; damaged or truncated parts of the
 * file are named by byte offset and skipped, refusals are counted per
 * reason. Importing twice adds nothing. Entries go through the node's own
 * checks (node/verify.h: all cores, since verification is the ceiling for
 * ingest) and the store's member check, exactly as received ones. The
 * attached files that follow the entries go to import-blobs.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli/import-blobs.h"
#include "cli/offline.h"
#include "node/verify.h"
#include "proto/bundle.h"
#include "proto/member.h"
#include "store/blob.h"

#define BATCH 1024
#define FUTURE_US (600ull * 1000000u) /* 10 minutes */
#define SHOW_MAX 20                   /* lines printed per reason */
#define AUTHORS_MAX 64                /* non-members named one by one */

enum reason {
	R_DAMAGED,
	R_MALFORMED,
	R_VERSION,
	R_LIMIT,
	R_FORGED,
	R_FUTURE,
	R_MEMBER,
	R_DEVICE,
	R_REVOKED,
	R_RECORD,
	R_COUNT
};

static const char *const reason_text[R_COUNT] = {
	"damaged in transit",
	"malformed",
	"unknown entry format version",
	"over a size limit",
	"forged (signature does not verify)",
	"dated more than 10 minutes in the future",
	"author is not a member",
	"signed by a key that is no device of the author",
	"signed by a revoked device or a retired organisation key",
	"a device or key record that breaks its rules",
};

static const char *const reason_key[R_COUNT] = {
	"damaged", "malformed",  "version",        "limit",          "forged",
	"future",  "not_member", "unknown_device", "revoked_device", "bad_record",
};

struct slot {
	const uint8_t *raw;
	size_t len, offset;
	uint64_t index;
};

struct tally {
	const char *file;
	uint64_t added, present, records, refused[R_COUNT];
	uint64_t damaged_bytes, damaged_regions;
	struct {
		uint8_t key[HX_KEY_LEN];
		uint64_t n;
	} authors[AUTHORS_MAX];
	size_t nauthors;
	struct hx_progress *prog;
};

/* One line on stderr about the record at offset (the progress bar's line
 * is ended first). */
static void say(struct tally *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct tally *t, const char *fmt, ...)
{
	va_list ap;
	if (t->prog->active && t->prog->last_draw_us)
		fputc('\n', stderr);
	t->prog->last_draw_us = 0; /* redraw on the next update */
	fprintf(stderr, "%s: ", t->file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void say_line(void *t, const char *line)
{
	say(t, "%s", line);
}

/* "PATH by AUTHOR8 (id ID16)" for a decoded entry. */
static const char *name_of(const hx_entry *e, char *buf, size_t n)
{
	char a[2 * HX_KEY_LEN + 1], id[2 * HX_ID_LEN + 1];
	hx_hex(a, e->author, HX_KEY_LEN);
	hx_hex(id, e->id, HX_ID_LEN);
	snprintf(buf, n, "%s by %.16s (id %.16s)", e->path, a, id);
	return buf;
}

static void refuse(struct tally *t, enum reason r, const struct slot *sl, const hx_entry *e)
{
	char name[400];
	if (t->refused[r]++ < SHOW_MAX) {
		if (e)
			say(t, "record #%llu at byte %zu: %s: %s", (unsigned long long)sl->index,
			    sl->offset, reason_text[r], name_of(e, name, sizeof name));
		else
			say(t, "record #%llu at byte %zu: %s", (unsigned long long)sl->index,
			    sl->offset, reason_text[r]);
	}
}

static void non_member(struct tally *t, const uint8_t *key)
{
	t->refused[R_MEMBER]++;
	for (size_t i = 0; i < t->nauthors; i++)
		if (!memcmp(t->authors[i].key, key, HX_KEY_LEN)) {
			t->authors[i].n++;
			return;
		}
	if (t->nauthors < AUTHORS_MAX) {
		memcpy(t->authors[t->nauthors].key, key, HX_KEY_LEN);
		t->authors[t->nauthors++].n = 1;
	}
}

/* ---- one batch ------------------------------------------------------------ */

/* Checks and stores s[0..n) exactly as the node does with received entries
 * (node/verify.h, then the store's member check). Returns 0, or non-zero
 * after printing when the store failed (nothing of this batch is then
 * written). */
static int store_batch(hx_store *s, hx_vpool *pool, struct slot *sl, hx_vjob *jobs, size_t n,
                       struct tally *t)
{
	static hx_put put[BATCH];
	static size_t who[BATCH];
	size_t np = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		jobs[i] = (hx_vjob){ .raw = sl[i].raw, .len = sl[i].len };
	hx_vpool_run(pool, jobs, n, hx_now_us() + FUTURE_US);
	for (size_t i = 0; i < n; i++) {
		struct slot *x = &sl[i];
		hx_vjob *j = &jobs[i];
		hx_entry probe;
		switch (j->rc) {
		case HX_OK:
			put[np] = (hx_put){ .raw = x->raw, .rawlen = x->len, .entry = &j->e };
			who[np++] = i;
			continue;
		case HX_EFORGED:
		case HX_EFUTURE:
			/* decode again only to name it */
			if (hx_entry_decode(&probe, x->raw, x->len) == HX_OK) {
				refuse(t, j->rc == HX_EFORGED ? R_FORGED : R_FUTURE, x, &probe);
				hx_entry_clear(&probe);
			} else {
				refuse(t, j->rc == HX_EFORGED ? R_FORGED : R_FUTURE, x, NULL);
			}
			continue;
		case HX_EVERSION: refuse(t, R_VERSION, x, NULL); continue;
		case HX_ELIMIT: refuse(t, R_LIMIT, x, NULL); continue;
		case HX_ENOMEM: rc = hx_fail("out of memory"); goto out;
		default: refuse(t, R_MALFORMED, x, NULL); continue;
		}
	}
	if (np) {
		int src = hx_store_put_batch(s, put, np, HX_PUT_MEMBERS_ONLY, NULL);
		if (src) {
			rc = hx_fail("%s: the store refused a batch near byte %zu: %s (nothing of "
			             "it was written)",
			             t->file, sl[who[0]].offset, hx_strerror(src));
			goto out;
		}
	}
	for (size_t k = 0; k < np; k++) {
		struct slot *x = &sl[who[k]];
		switch (put[k].result) {
		case HX_OK: t->added++; break;
		case HX_EEXIST: t->present++; break;
		case HX_EPERM: non_member(t, jobs[who[k]].e.author); break;
		case HX_EDEVICE: refuse(t, R_DEVICE, x, &jobs[who[k]].e); break;
		case HX_EREVOKED: refuse(t, R_REVOKED, x, &jobs[who[k]].e); break;
		case HX_ERECORD: refuse(t, R_RECORD, x, &jobs[who[k]].e); break;
		default: refuse(t, R_MALFORMED, x, &jobs[who[k]].e); break;
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		if (jobs[i].rc == HX_OK)
			hx_entry_clear(&jobs[i].e);
	return rc;
}

/* "NAME (KEY16)" of the exporter when its member record names it, else
 * "KEY16". */
static const char *who(hx_store *s, const uint8_t key[HX_KEY_LEN], char *buf, size_t n)
{
	char hex[2 * HX_KEY_LEN + 1];
	uint8_t *rec = NULL;
	size_t len;
	hx_member m;
	const char *name;
	hx_hex(hex, key, HX_KEY_LEN);
	snprintf(buf, n, "%.16s", hex);
	if (hx_store_member_get(s, key, &rec, &len) == HX_OK &&
	    hx_member_decode(&m, rec, len) == HX_OK) {
		if ((name = hx_member_field(&m, "name")) && *name)
			snprintf(buf, n, "%s (%.16s)", name, hex);
		hx_member_clear(&m);
	}
	free(rec);
	return buf;
}

/* ---- the file ----------------------------------------------------------- */

static void damaged(struct tally *t, const hx_bundle_rec *r)
{
	char name[400];
	hx_entry e;
	t->damaged_regions++;
	t->damaged_bytes += r->skipped;
	if (r->kind == HX_BUNDLE_KIND_BLOB || r->kind == HX_BUNDLE_KIND_CHUNK) {
		/* named when its blob ends with chunks missing */
		say(t, "record #%llu at byte %zu: %s of an attached file damaged in transit",
		    (unsigned long long)r->index, r->offset,
		    r->kind == HX_BUNDLE_KIND_BLOB ? "the chunk list" : "a chunk");
		return;
	}
	t->records++;
	if (r->entry) {
		t->refused[R_DAMAGED]++;
		if (hx_entry_decode(&e, r->entry, r->len) == HX_OK) {
			/* The id of damaged bytes is not the real one: name it
			 * by author and path only. */
			char a[2 * HX_KEY_LEN + 1];
			snprintf(name, sizeof name, "%s by %.16s", e.path,
			         hx_hex(a, e.author, HX_KEY_LEN));
			hx_entry_clear(&e);
			say(t,
			    "record #%llu at byte %zu: entry damaged in transit (its check fails), "
			    "not imported: %s",
			    (unsigned long long)r->index, r->offset, name);
		} else {
			say(t,
			    "record #%llu at byte %zu: entry damaged in transit (its check fails), "
			    "not imported",
			    (unsigned long long)r->index, r->offset);
		}
		return;
	}
	t->refused[R_DAMAGED]++;
	say(t,
	    "bytes %zu to %zu are damaged (no intact record there); skipped, reading on after them",
	    r->offset, r->offset + r->skipped);
}

int hx_import_bundle(struct hx_ctx *ctx, const char *file, uint64_t blob_max, int json, int verbose)
{
	struct stat st;
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s)
		return HX_EXIT_FAIL;
	hx_blob_set_limits(s, blob_max, 0);
	int fd = open(file, O_RDONLY);
	if (fd < 0)
		return hx_fail("%s: %s", file, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return hx_fail("%s: not a bundle (empty or not a regular file)", file);
	}
	size_t len = (size_t)st.st_size;
	uint8_t *buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (buf == MAP_FAILED)
		return hx_fail("%s: %s", file, strerror(errno));

	hx_bundle_manifest m;
	hx_bundle_reader *r = NULL;
	int rc = hx_bundle_reader_new(&r, buf, len, &m);
	if (rc) {
		int magic = hx_bundle_is_bundle(buf, len);
		munmap(buf, len);
		if (rc == HX_EVERSION)
			return hx_fail(
			        "%s: a bundle of format version %u; this hansa reads versions "
			        "%d and %d",
			        file, m.version, HX_BUNDLE_VERSION_1, HX_BUNDLE_VERSION);
		if (rc == HX_EPROTO && magic)
			return hx_fail("%s: truncated or damaged inside the manifest (%zu bytes)",
			               file, len);
		return hx_fail("%s: not a bundle: %s", file, hx_strerror(rc));
	}

	struct hx_progress prog;
	struct tally t = { .file = file, .prog = &prog };
	struct slot *slots = calloc(BATCH, sizeof *slots);
	hx_vjob *jobs = calloc(BATCH, sizeof *jobs);
	hx_vpool *pool = NULL;
	hx_bimport *bi = NULL;
	size_t n = 0;
	int ret = HX_EXIT_OK, truncated = 0, checksum_ok = 0;
	size_t trunc_at = 0, trailing = 0;
	char hex[2 * HX_KEY_LEN + 1], when[32];

	if (!slots || !jobs || hx_vpool_new(&pool, 0) || hx_bimport_new(&bi, s, say_line, &t)) {
		free(slots);
		free(jobs);
		hx_vpool_destroy(&pool);
		hx_bimport_free(&bi);
		hx_bundle_reader_free(&r);
		munmap(buf, len);
		return hx_fail("out of memory");
	}
	hx_progress_start(&prog, "importing", len);
	if (!m.sig_ok)
		say(&t, "the manifest's signature does not verify: its counts are not trusted; "
		        "reading every record to the end of the file");
	for (;;) {
		hx_bundle_rec rec;
		if ((rc = hx_bundle_next(r, &rec))) {
			ret = hx_fail("%s: %s", file, hx_strerror(rc));
			break;
		}
		if (rec.event == HX_BUNDLE_ENTRY) {
			slots[n++] = (struct slot){ .raw = rec.entry,
				                    .len = rec.len,
				                    .offset = rec.offset,
				                    .index = rec.index };
			t.records++;
		} else if (rec.event == HX_BUNDLE_DAMAGED) {
			damaged(&t, &rec);
		} else if (rec.event == HX_BUNDLE_TRUNCATED) {
			truncated = 1;
			trunc_at = rec.offset;
		}
		int end = rec.event == HX_BUNDLE_END;
		int blob = rec.event == HX_BUNDLE_BLOB || rec.event == HX_BUNDLE_CHUNK;
		/* the entries before a blob first: they say which blobs are
		 * wanted */
		if (n == BATCH || ((end || blob) && n)) {
			if (store_batch(s, pool, slots, jobs, n, &t)) {
				ret = HX_EXIT_FAIL;
				break;
			}
			n = 0;
			if (verbose)
				say(&t, "committed through byte %zu", hx_bundle_reader_pos(r));
			hx_progress_update(&prog, hx_bundle_reader_pos(r));
		}
		if (blob && hx_bimport_record(bi, &rec)) {
			ret = HX_EXIT_FAIL;
			break;
		}
		if (end) {
			hx_bimport_end(bi);
			checksum_ok = rec.checksum_ok;
			trailing = rec.trailing;
			break;
		}
	}
	const struct hx_bimport_stats *fs = hx_bimport_stats(bi);
	hx_progress_update(&prog, len);
	hx_progress_end(&prog);
	hx_bundle_reader_free(&r);

	if (ret == HX_EXIT_OK) {
		for (int k = 0; k < R_COUNT; k++)
			if (t.refused[k] > SHOW_MAX && k != R_MEMBER && k != R_DAMAGED)
				say(&t, "... and %llu more refused: %s",
				    (unsigned long long)(t.refused[k] - SHOW_MAX), reason_text[k]);
		for (size_t i = 0; i < t.nauthors; i++)
			say(&t, "refused %llu entr%s by %s: not a member (see 'hansa member add')",
			    (unsigned long long)t.authors[i].n, t.authors[i].n == 1 ? "y" : "ies",
			    hx_hex(hex, t.authors[i].key, HX_KEY_LEN));
		if (truncated)
			say(&t,
			    "truncated at byte %zu of the %llu the manifest announces: "
			    "%llu of %llu records read; the rest is missing",
			    trunc_at, (unsigned long long)(m.header_len + m.entries_len),
			    (unsigned long long)t.records, (unsigned long long)m.count);
		else if (m.sig_ok && t.records != m.count)
			say(&t, "the manifest announces %llu records, the file holds %llu",
			    (unsigned long long)m.count, (unsigned long long)t.records);
		if (m.sig_ok && !truncated && !checksum_ok)
			say(&t, "the records section does not match the manifest's checksum");
		if (trailing)
			say(&t, "%zu bytes after the end of the entries section were ignored",
			    trailing);
	}
	uint64_t refused = 0;
	for (int k = 0; k < R_COUNT; k++)
		refused += t.refused[k];
	int clean = !refused && !truncated && m.sig_ok && checksum_ok && !trailing &&
	            !fs->damaged && !fs->limit;

	if (ret == HX_EXIT_OK && json) {
		cJSON *o = cJSON_CreateObject(), *ref;
		cJSON_AddStringToObject(o, "file", file);
		cJSON_AddStringToObject(o, "format", "bundle");
		cJSON_AddStringToObject(o, "exporter", hx_hex(hex, m.exporter, HX_KEY_LEN));
		cJSON_AddStringToObject(o, "created", hx_time_text(when, sizeof when, m.created));
		cJSON_AddBoolToObject(o, "manifest_ok", m.sig_ok);
		cJSON_AddBoolToObject(o, "checksum_ok", checksum_ok);
		cJSON_AddBoolToObject(o, "incremental", (m.flags & HX_BUNDLE_INCREMENTAL) != 0);
		cJSON_AddNumberToObject(o, "announced", (double)m.count);
		cJSON_AddNumberToObject(o, "records", (double)t.records);
		cJSON_AddNumberToObject(o, "added", (double)t.added);
		cJSON_AddNumberToObject(o, "present", (double)t.present);
		ref = cJSON_AddObjectToObject(o, "refused");
		for (int k = 0; k < R_COUNT; k++)
			cJSON_AddNumberToObject(ref, reason_key[k], (double)t.refused[k]);
		cJSON_AddNumberToObject(o, "damaged_bytes", (double)t.damaged_bytes);
		cJSON *f = cJSON_AddObjectToObject(o, "files");
		cJSON_AddNumberToObject(f, "announced", (double)m.blobs);
		cJSON_AddNumberToObject(f, "added", (double)fs->added);
		cJSON_AddNumberToObject(f, "present", (double)fs->present);
		cJSON_AddNumberToObject(f, "damaged", (double)fs->damaged);
		cJSON_AddNumberToObject(f, "limit", (double)fs->limit);
		cJSON_AddNumberToObject(f, "ignored", (double)fs->ignored);
		cJSON_AddNumberToObject(f, "bytes", (double)fs->bytes);
		if (truncated)
			cJSON_AddNumberToObject(o, "truncated_at", (double)trunc_at);
		else
			cJSON_AddNullToObject(o, "truncated_at");
		hx_json_print(o);
	} else if (ret == HX_EXIT_OK) {
		char name[400];
		printf("imported %llu new entr%s from %s (exported by %s on %s); %llu already present",
		       (unsigned long long)t.added, t.added == 1 ? "y" : "ies", file,
		       who(s, m.exporter, name, sizeof name),
		       hx_time_text(when, sizeof when, m.created), (unsigned long long)t.present);
		if (refused) {
			printf("; refused");
			const char *sep = " ";
			for (int k = 0; k < R_COUNT; k++)
				if (t.refused[k]) {
					printf("%s%llu %s", sep, (unsigned long long)t.refused[k],
					       reason_text[k]);
					sep = ", ";
				}
		}
		if (m.blobs || fs->added || fs->present || fs->damaged || fs->limit)
			printf("; took %llu attached file%s (%llu bytes), %llu already here",
			       (unsigned long long)fs->added, fs->added == 1 ? "" : "s",
			       (unsigned long long)fs->bytes, (unsigned long long)fs->present);
		if (fs->damaged || fs->limit)
			printf(", refused %llu damaged and %llu over a limit",
			       (unsigned long long)fs->damaged, (unsigned long long)fs->limit);
		if (fs->ignored)
			printf(", ignored %llu no entry attaches", (unsigned long long)fs->ignored);
		if (truncated)
			printf("; the file is truncated");
		printf("\n");
	}
	free(slots);
	free(jobs);
	hx_vpool_destroy(&pool);
	hx_bimport_free(&bi);
	munmap(buf, len);
	if (ret == HX_EXIT_OK && !clean)
		ret = HX_EXIT_FAIL;
	return ret;
}
