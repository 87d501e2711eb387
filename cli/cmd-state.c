/*
 * cmd-state.c: `hansa state --out FILE`: writes the state file of this
 * store (proto/state.h), the compact description of what it holds that a
 * connected office turns into a bundle of only the missing entries with
 * `hansa export --bundle B --missing-from FILE`.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/offline.h"
#include "proto/state.h"
#include "store/blob.h"

struct wholes {
	hx_state *st;
	size_t cap;
};

/* Collects the whole blobs (hx_blob_list gives them in hash order). */
static int whole_blob(void *arg, const uint8_t hash[HX_ID_LEN], int state, uint64_t size)
{
	struct wholes *w = arg;
	hx_state *st = w->st;
	(void)size;
	if (state != HX_BLOB_WHOLE)
		return 0;
	uint8_t *nb = hx_grow(st->blobs, &w->cap, st->nblobs + 1, HX_ID_LEN);
	if (!nb)
		return HX_ENOMEM;
	st->blobs = nb;
	memcpy(st->blobs + st->nblobs++ * HX_ID_LEN, hash, HX_ID_LEN);
	return 0;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *outname = hx_arg_value(a, "out"), *barg = hx_arg_value(a, "bucket");
	unsigned long bucket = HX_STATE_BUCKET_DEFAULT;
	int json = hx_arg_count(a, "json");
	char *end;

	if (barg) {
		bucket = strtoul(barg, &end, 10);
		if (*end || !*barg || bucket < 1 || bucket > HX_STATE_BUCKET_MAX)
			return hx_usage_error(a->top, "--bucket: a number from 1 to %d",
			                      HX_STATE_BUCKET_MAX);
	}

	hx_store *s = hx_ctx_store(ctx, 0);
	hx_ne_item *items = NULL;
	size_t n = 0, len = 0;
	uint8_t *bytes = NULL;
	hx_state st;
	struct hx_outfile out;
	int rc, ret = HX_EXIT_FAIL;

	memset(&st, 0, sizeof st);
	if (!s)
		return HX_EXIT_FAIL;
	uint8_t owner[HX_KEY_LEN];
	if (hx_own_key(ctx, owner))
		return HX_EXIT_FAIL;
	if ((rc = hx_store_all_items(s, &items, &n))) {
		hx_fail("cannot read the store: %s", hx_strerror(rc));
		goto done;
	}
	if ((rc = hx_state_build(&st, items, n, bucket))) {
		hx_fail("cannot build the state: %s", hx_strerror(rc));
		goto done;
	}
	struct wholes wh = { &st, 0 };
	if ((rc = hx_blob_list(s, whole_blob, &wh))) {
		hx_fail("cannot list the attached files: %s", hx_strerror(rc));
		goto done;
	}
	memcpy(st.owner, owner, HX_KEY_LEN);
	st.created = hx_now_us();
	if ((rc = hx_state_encode(&st, &bytes, &len))) {
		hx_fail("cannot encode the state: %s", hx_strerror(rc));
		goto done;
	}
	if (!strcmp(outname, "-")) {
		if (fwrite(bytes, 1, len, stdout) != len || fflush(stdout)) {
			hx_fail("cannot write the state to stdout");
			goto done;
		}
		ret = HX_EXIT_OK;
		goto done;
	}
	if (hx_outfile_open(&out, outname))
		goto done;
	if (fwrite(bytes, 1, len, out.f) != len) {
		hx_outfile_abort(&out);
		hx_fail("%s: write error", outname);
		goto done;
	}
	if (hx_outfile_commit(&out))
		goto done;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", outname);
		cJSON_AddNumberToObject(o, "entries", (double)n);
		cJSON_AddNumberToObject(o, "buckets", (double)st.n);
		cJSON_AddNumberToObject(o, "bucket_size", (double)bucket);
		cJSON_AddNumberToObject(o, "files", (double)st.nblobs);
		cJSON_AddNumberToObject(o, "bytes", (double)len);
		hx_json_print(o);
	} else {
		printf("wrote the state of %zu entr%s and %zu attached file%s (%zu bucket%s, %zu "
		       "bytes) to %s\n",
		       n, n == 1 ? "y" : "ies", st.nblobs, st.nblobs == 1 ? "" : "s", st.n,
		       st.n == 1 ? "" : "s", len, outname);
	}
	ret = HX_EXIT_OK;
done:
	hx_state_clear(&st);
	free(items);
	free(bytes);
	return ret;
}

static const struct hx_opt opts[] = {
	{ "out", 'o', "FILE", "where to write the state ('-': standard output)", HX_OPT_REQUIRED },
	{ "bucket", 0, "N",
	  "about N items per bucket (default 16): a smaller N makes a larger state "
	  "file and a smaller excess",
	  0 },
	{ "json", 0, NULL,
	  "print the summary as one JSON object: file, entries, buckets, "
	  "bucket_size, files, bytes",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_state = {
	.name = "state",
	.summary = "describe what this store holds, for an incremental bundle",
	.opts = opts,
	.text = "Writes a compact description of the entries this store holds (their\n"
	        "(timestamp, id) items cut into buckets of about N, default 16, each with a\n"
	        "count and a fingerprint) and the hashes of its whole attached files.\n"
	        "Carry FILE to a connected office; there\n"
	        "'hansa export --bundle B --missing-from FILE' writes only the entries this\n"
	        "store lacks (plus at most N-1 it has per bucket that differs), and\n"
	        "'hansa import B' here catches up. A smaller N makes a larger state file and\n"
	        "a smaller excess. '--out -' writes the state to standard output.\n",
	.exec = exec,
};
