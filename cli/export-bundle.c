/*
 * export-bundle.c: `hansa export --bundle FILE [--missing-from STATE]
 * [--without-files]`: writes every entry of the store (all versions and
 * tombstones, in (timestamp, id) order), or only those an office's state
 * file says it lacks, as a signed bundle (proto/bundle.h), then the files
 * the current versions attach that this node has whole (only those the
 * office lacks, for an incremental bundle), chunk by chunk, each chunk
 * checked as it is read. The file is written under a temporary name and
 * renamed when complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/offline.h"
#include "proto/bundle.h"
#include "proto/state.h"
#include "store/blob.h"

#define STATE_FILE_MAX ((size_t)256 << 20)

/* Reads and decodes a state file; prints and returns non-zero on error. */
static int load_state(const char *name, hx_state *st)
{
	char *buf;
	size_t len;
	const char *why = NULL;

	int rc = hx_file_read(name, STATE_FILE_MAX, &buf, &len, &why);
	if (rc == HX_ELIMIT)
		return hx_fail("%s: larger than %zu MiB: not a state file", name,
		               STATE_FILE_MAX >> 20);
	if (rc)
		return hx_fail("%s: %s", name, why);
	rc = hx_state_decode(st, (const uint8_t *)buf, len, &why);
	free(buf);
	if (rc)
		return hx_fail("%s: %s", name, why ? why : hx_strerror(rc));
	return 0;
}

/* ---- the files to carry ---------------------------------------------- */

struct refs {
	hx_blob_ref *v;
	size_t n;
};

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, HX_ID_LEN);
}

/*
 * The files to carry into r (sorted by hash, each once): those the current
 * versions attach that this node has whole; for an incremental bundle
 * only those the state file does not list, or, when it cannot say (a
 * version 1 file), those of the current versions among the sent entries
 * (sent ids sorted in sent_ids[nsent]).
 */
static int pick_files(hx_store *s, const hx_state *st, const uint8_t *sent_ids, size_t nsent,
                      struct refs *r)
{
	int rc = hx_blob_refs(s, &r->v, &r->n);
	size_t k = 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < r->n; i++) {
		const hx_blob_ref *x = &r->v[i];
		int state = HX_BLOB_NONE;
		if (k && !memcmp(r->v[k - 1].hash, x->hash, HX_ID_LEN))
			continue;
		if (st && st->has_blobs && hx_state_has_blob(st, x->hash))
			continue;
		if (st && !st->has_blobs &&
		    !(nsent && bsearch(x->id, sent_ids, nsent, HX_ID_LEN, cmp_id)))
			continue;
		if ((rc = hx_blob_state(s, x->hash, &state, NULL, NULL)))
			return rc;
		if (state == HX_BLOB_WHOLE)
			r->v[k++] = *x;
	}
	r->n = k;
	return HX_OK;
}

/* Writes the blob record and chunk records of file f; 1 when all were
 * written, 0 when the blob is damaged here (said on stderr: its records
 * stop there and a reader drops it), -1 on a write error (errno). *bytes
 * gets the blob's size. */
static int write_file(hx_store *s, hx_bundle_writer *w, FILE *out, const hx_blob_ref *f,
                      uint8_t *buf, uint64_t *bytes)
{
	uint8_t pre[HX_BUNDLE_BLOB_PRE], *hashes = NULL;
	uint64_t size;
	uint32_t n;
	size_t len;
	int rc;

	*bytes = 0;
	if ((rc = hx_blob_hashes(s, f->hash, &size, &hashes, &n)) ||
	    (rc = hx_bundle_writer_blob(w, f->hash, size, hashes, pre))) {
		free(hashes);
		fprintf(stderr, "hansa: %s: cannot be read here (%s); left out of the bundle\n",
		        f->name, hx_strerror(rc));
		return 0;
	}
	int bad = fwrite(pre, 1, sizeof pre, out) != sizeof pre ||
	          fwrite(hashes, 1, (size_t)n * HX_ID_LEN, out) != (size_t)n * HX_ID_LEN;
	free(hashes);
	if (bad)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t cpre[HX_BUNDLE_CHUNK_PRE];
		if ((rc = hx_blob_read_chunk(s, f->hash, i, buf, &len)) ||
		    (rc = hx_bundle_writer_chunk(w, f->hash, i, buf, len, cpre))) {
			fprintf(stderr,
			        "hansa: %s: chunk %u %s here (see 'hansa fsck'); the bundle carries "
			        "the file incomplete and importers drop it\n",
			        f->name, i, rc == HX_ECORRUPT ? "is damaged" : "cannot be read");
			return 0;
		}
		if (fwrite(cpre, 1, sizeof cpre, out) != sizeof cpre ||
		    fwrite(buf, 1, len, out) != len)
			return -1;
	}
	*bytes = size;
	return 1;
}

/* The sent items' ids, sorted, into *out (caller frees). */
static int sent_ids(const hx_ne_item *items, const uint8_t *send, size_t n, size_t nsend,
                    uint8_t **out)
{
	size_t k = 0;
	if (!(*out = malloc(nsend ? nsend * HX_ID_LEN : 1)))
		return HX_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (send[i])
			memcpy(*out + k++ * HX_ID_LEN, items[i].id, HX_ID_LEN);
	if (k)
		qsort(*out, k, HX_ID_LEN, cmp_id);
	return HX_OK;
}

/* ---- the bundle ---------------------------------------------------------- */

int hx_export_bundle(struct hx_ctx *ctx, const char *file, const char *statefile, int without_files,
                     int json)
{
	hx_store *s = hx_ctx_store(ctx, 0);
	hx_ne_item *items = NULL;
	uint8_t *send = NULL, *ids = NULL, *chunk = NULL, head[HX_BUNDLE_REC_HEAD],
	        man[HX_BUNDLE_HEADER_LEN] = { 0 };
	hx_bundle_writer *w = NULL;
	hx_bundle_manifest m = { 0 };
	hx_state st = { 0 };
	struct hx_outfile out = { 0 };
	struct hx_progress prog = { 0 };
	struct refs files = { 0 };
	size_t n = 0, nsend = 0, nfiles = 0, left_out = 0;
	uint64_t excess = 0, file_bytes = 0;
	int rc, ret = HX_EXIT_FAIL;

	if (!s || hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	if (statefile && load_state(statefile, &st))
		return HX_EXIT_FAIL;
	if ((rc = hx_store_all_items(s, &items, &n))) {
		hx_fail("cannot read the store: %s", hx_strerror(rc));
		goto out;
	}
	if (!(send = malloc(n ? n : 1))) {
		hx_fail("out of memory");
		goto out;
	}
	if (statefile) {
		if ((rc = hx_state_select(&st, items, n, send, &excess))) {
			hx_fail("cannot compare with %s: %s", statefile, hx_strerror(rc));
			goto out;
		}
	} else {
		memset(send, 1, n);
	}
	for (size_t i = 0; i < n; i++)
		nsend += send[i];
	if ((rc = sent_ids(items, send, n, nsend, &ids)) ||
	    (rc = pick_files(s, statefile ? &st : NULL, ids, nsend, &files))) {
		hx_fail("cannot list the attached files: %s", hx_strerror(rc));
		goto out;
	}
	if (without_files) {
		left_out = files.n;
		files.n = 0;
	}
	if ((rc = hx_bundle_writer_new(&w))) {
		hx_fail("%s", hx_strerror(rc));
		goto out;
	}
	if (files.n) {
		hx_bundle_writer_v2(w);
		if (!(chunk = malloc(HX_CHUNK_SIZE))) {
			hx_fail("out of memory");
			goto out;
		}
	}
	size_t hlen = hx_bundle_writer_header_len(w);
	if (hx_outfile_open(&out, file))
		goto out;
	setvbuf(out.f, NULL, _IOFBF, 1 << 20);
	if (fwrite(man, 1, hlen, out.f) != hlen)
		goto io;
	hx_progress_start(&prog, "exporting", nsend);
	size_t done = 0;
	for (size_t i = 0; i < n; i++) {
		if (!send[i])
			continue;
		hx_entry e;
		uint8_t *raw;
		size_t len;
		rc = hx_store_get(s, items[i].id, &e, &raw, &len);
		if (rc == HX_ENOTFOUND) {
			hx_progress_update(&prog, ++done); /* purged: a stub only */
			continue;
		}
		if (rc) {
			hx_progress_end(&prog);
			hx_fail("cannot read an entry from the store: %s", hx_strerror(rc));
			goto out;
		}
		hx_entry_clear(&e);
		rc = hx_bundle_writer_record(w, raw, len, head);
		int bad = rc || fwrite(head, 1, sizeof head, out.f) != sizeof head ||
		          fwrite(raw, 1, len, out.f) != len;
		free(raw);
		if (rc) {
			hx_progress_end(&prog);
			hx_fail("cannot write an entry: %s", hx_strerror(rc));
			goto out;
		}
		if (bad)
			goto io;
		hx_progress_update(&prog, ++done);
	}
	hx_progress_end(&prog);
	if (files.n)
		hx_progress_start(&prog, "files", files.n);
	for (size_t i = 0; i < files.n; i++) {
		uint64_t bytes;
		int wr = write_file(s, w, out.f, &files.v[i], chunk, &bytes);
		if (wr < 0)
			goto io;
		nfiles += wr;
		file_bytes += bytes;
		hx_progress_update(&prog, i + 1);
	}
	hx_progress_end(&prog);
	m.created = hx_now_us();
	if (statefile) {
		m.flags |= HX_BUNDLE_INCREMENTAL;
		memcpy(m.state_digest, st.digest, 32);
	}
	if ((rc = hx_bundle_writer_finish(w, &m, ctx->sk, man))) {
		hx_fail("cannot sign the manifest: %s", hx_strerror(rc));
		goto out;
	}
	if (fflush(out.f) || fseek(out.f, 0, SEEK_SET) || fwrite(man, 1, hlen, out.f) != hlen)
		goto io;
	if (hx_outfile_commit(&out))
		goto out;
	uint64_t bytes = hlen + m.entries_len;
	char files_text[160] = "";
	if (nfiles)
		snprintf(files_text, sizeof files_text, " and %zu attached file%s", nfiles,
		         nfiles == 1 ? "" : "s");
	if (left_out)
		snprintf(files_text, sizeof files_text, " without their %zu attached file%s",
		         left_out, left_out == 1 ? "" : "s");
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", file);
		cJSON_AddNumberToObject(o, "entries", (double)nsend);
		cJSON_AddNumberToObject(o, "bytes", (double)bytes);
		cJSON_AddNumberToObject(o, "store_entries", (double)n);
		cJSON_AddBoolToObject(o, "incremental", statefile != NULL);
		cJSON_AddNumberToObject(o, "files", (double)nfiles);
		cJSON_AddNumberToObject(o, "file_bytes", (double)file_bytes);
		cJSON_AddNumberToObject(o, "files_left_out", (double)left_out);
		if (statefile) {
			cJSON_AddNumberToObject(o, "state_entries", (double)st.items);
			cJSON_AddNumberToObject(o, "state_buckets", (double)st.n);
			cJSON_AddNumberToObject(o, "excess_max", (double)excess);
		}
		hx_json_print(o);
	} else if (statefile) {
		printf("wrote %zu of %zu entries%s (%llu bytes) to %s: what the office of %s lacks,"
		       " of which at most %llu entries it may already hold\n",
		       nsend, n, files_text, (unsigned long long)bytes, file, statefile,
		       (unsigned long long)excess);
	} else {
		printf("wrote %zu entries%s (%llu bytes) to %s\n", nsend, files_text,
		       (unsigned long long)bytes, file);
	}
	ret = HX_EXIT_OK;
	goto out;
io:
	hx_progress_end(&prog);
	hx_fail("%s: %s", out.tmp, strerror(errno));
out:
	hx_outfile_abort(&out);
	hx_bundle_writer_free(&w);
	hx_state_clear(&st);
	free(items);
	free(send);
	free(ids);
	free(chunk);
	free(files.v);
	return ret;
}
