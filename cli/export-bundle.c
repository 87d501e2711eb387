/*
 * export-bundle.c: `hansa export --bundle FILE [--missing-from STATE]`:
 * writes every entry of the store (all versions and tombstones, in
 * (timestamp, id) order), or only those an office's state file says it
 * lacks, as a signed bundle (proto/bundle.h). The file is written under a
 * temporary name and renamed when complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/offline.h"
#include "proto/bundle.h"
#include "proto/state.h"

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

int hx_export_bundle(struct hx_ctx *ctx, const char *file, const char *statefile, int json)
{
	hx_store *s = hx_ctx_store(ctx, 0);
	hx_ne_item *items = NULL;
	uint8_t *send = NULL, head[HX_BUNDLE_REC_HEAD], man[HX_BUNDLE_HEADER_LEN] = { 0 };
	hx_bundle_writer *w = NULL;
	hx_bundle_manifest m = { 0 };
	hx_state st = { 0 };
	struct hx_outfile out = { 0 };
	struct hx_progress prog = { 0 };
	size_t n = 0, nsend = 0;
	uint64_t excess = 0;
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
	if ((rc = hx_bundle_writer_new(&w))) {
		hx_fail("%s", hx_strerror(rc));
		goto out;
	}
	if (hx_outfile_open(&out, file))
		goto out;
	setvbuf(out.f, NULL, _IOFBF, 1 << 20);
	if (fwrite(man, 1, sizeof man, out.f) != sizeof man)
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
	m.created = hx_now_us();
	if (statefile) {
		m.flags |= HX_BUNDLE_INCREMENTAL;
		memcpy(m.state_digest, st.digest, 32);
	}
	if ((rc = hx_bundle_writer_finish(w, &m, ctx->sk, man))) {
		hx_fail("cannot sign the manifest: %s", hx_strerror(rc));
		goto out;
	}
	if (fflush(out.f) || fseek(out.f, 0, SEEK_SET) ||
	    fwrite(man, 1, sizeof man, out.f) != sizeof man)
		goto io;
	if (hx_outfile_commit(&out))
		goto out;
	uint64_t bytes = HX_BUNDLE_HEADER_LEN + m.entries_len;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", file);
		cJSON_AddNumberToObject(o, "entries", (double)nsend);
		cJSON_AddNumberToObject(o, "bytes", (double)bytes);
		cJSON_AddNumberToObject(o, "store_entries", (double)n);
		cJSON_AddBoolToObject(o, "incremental", statefile != NULL);
		if (statefile) {
			cJSON_AddNumberToObject(o, "state_entries", (double)st.items);
			cJSON_AddNumberToObject(o, "state_buckets", (double)st.n);
			cJSON_AddNumberToObject(o, "excess_max", (double)excess);
		}
		hx_json_print(o);
	} else if (statefile) {
		printf("wrote %zu of %zu entries (%llu bytes) to %s: what the office of %s lacks,"
		       " of which at most %llu it may already hold\n",
		       nsend, n, (unsigned long long)bytes, file, statefile,
		       (unsigned long long)excess);
	} else {
		printf("wrote %zu entries (%llu bytes) to %s\n", nsend, (unsigned long long)bytes,
		       file);
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
	return ret;
}
