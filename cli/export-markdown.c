/*
 * export-markdown.c: `hansa export --markdown DIR`: one .md file per current
 * live document (YAML front matter with path, title, kind, lang, tags,
 * metadata, author, id, timestamp, then the body; cli/markdown.c writes it),
 * in folders following the paths, so that the folder can be edited in any
 * editor and re-imported with `hansa import DIR`. Attached files go into
 * NAME.files/ beside NAME.md (the front matter's attachments: names them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/markdown.h"
#include "cli/offline.h"
#include "store/blob.h"

struct mdx {
	hx_store *s;
	const char *dir;
	uint64_t written, failed;
	struct hx_progress prog;
};

/* Writes attached file a to dst (its folder made first). A file not on
 * this node is named and left out: 1 then, or on an error. */
static int write_file(struct mdx *x, const char *dst, const hx_attach *a)
{
	char d[4600];
	int state, rc;
	snprintf(d, sizeof d, "%s", dst);
	*strrchr(d, '/') = 0;
	if (hx_blob_state(x->s, a->hash, &state, NULL, NULL) || state != HX_BLOB_WHOLE) {
		hx_fail("%s: not on this node (hansa fetch first); left out", dst);
		return 1;
	}
	if (hx_mkdirs(d, 0755))
		return hx_fail("%s: %s", d, strerror(errno));
	if ((rc = hx_blob_copy_out(x->s, a->hash, dst)))
		return hx_fail("%s: %s", dst, hx_strerror(rc));
	return 0;
}

/* Writes one document; a file that cannot be written is reported and
 * counted, and the export goes on. */
static int one(void *arg, const hx_entry *e, const uint8_t *raw, size_t len)
{
	struct mdx *x = arg;
	char rel[HX_PATH_MAX + 32], full[4096];
	uint8_t authors[2][HX_KEY_LEN];
	size_t nauth = 0;
	struct hx_outfile out;
	int rc;
	(void)raw;
	(void)len;

	if ((rc = hx_store_path_authors(x->s, e->path, authors, 2, &nauth)))
		return rc;
	if (hx_doc_file(rel, sizeof rel, e, nauth > 1, "md") ||
	    snprintf(full, sizeof full, "%s/%s", x->dir, rel) >= (int)sizeof full) {
		x->failed++;
		hx_fail("%s/%s: name too long", x->dir, rel);
		return 0;
	}
	char *slash = strrchr(full, '/');
	*slash = 0;
	int mk = hx_mkdirs(full, 0755);
	*slash = '/';
	if (mk) {
		x->failed++;
		hx_fail("%s: %s", full, strerror(errno));
		return 0;
	}
	/* attached files go into NAME.files/ beside NAME.md, and the front
	 * matter names them relative to it, so that import finds them */
	hx_entry ex = *e;
	hx_attach at[HX_ATTACH_MAX];
	char names[HX_ATTACH_MAX][HX_ATTACH_NAME_MAX + 300];
	const char *base = slash + 1;
	int baselen = (int)strlen(base) - 3; /* without ".md" */
	for (size_t i = 0; i < e->nattach && i < HX_ATTACH_MAX; i++) {
		char dst[4600];
		at[i] = e->attach[i];
		snprintf(names[i], sizeof names[i], "%.*s.files/%s", baselen, base,
		         e->attach[i].name);
		at[i].name = names[i];
		if (snprintf(dst, sizeof dst, "%.*s/%s", (int)(slash - full), full, names[i]) >=
		            (int)sizeof dst ||
		    write_file(x, dst, &e->attach[i]))
			x->failed++;
	}
	ex.attach = at;
	if (hx_outfile_open(&out, full)) {
		x->failed++;
		return 0;
	}
	out.nosync = 1; /* thousands of small files; each still appears whole */
	if (hx_md_write(out.f, &ex, 1)) {
		hx_outfile_abort(&out);
		x->failed++;
		hx_fail("%s: write error", full);
		return 0;
	}
	if (hx_outfile_commit(&out)) {
		x->failed++;
		return 0;
	}
	hx_progress_update(&x->prog, ++x->written);
	return 0;
}

int hx_export_markdown(struct hx_ctx *ctx, const char *dir, const uint8_t *author, int json)
{
	struct mdx x = { .dir = dir };
	hx_store_stats st;
	int rc;

	if (!(x.s = hx_ctx_store(ctx, 0)))
		return HX_EXIT_FAIL;
	if (hx_mkdirs(dir, 0755))
		return hx_fail("%s: %s", dir, strerror(errno));
	hx_progress_start(&x.prog, "exporting",
	                  hx_store_stats_get(x.s, &st) == HX_OK && !author ? st.documents : 0);
	rc = hx_store_list(x.s, author, one, &x);
	hx_progress_end(&x.prog);
	if (rc)
		return hx_fail("export to %s failed: %s", dir, hx_strerror(rc));
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "dir", dir);
		cJSON_AddNumberToObject(o, "written", (double)x.written);
		cJSON_AddNumberToObject(o, "failed", (double)x.failed);
		hx_json_print(o);
	} else {
		printf("wrote %llu document%s to %s", (unsigned long long)x.written,
		       x.written == 1 ? "" : "s", dir);
		if (x.failed)
			printf("; %llu could not be written", (unsigned long long)x.failed);
		printf("\n");
	}
	return x.failed ? HX_EXIT_FAIL : HX_EXIT_OK;
}
