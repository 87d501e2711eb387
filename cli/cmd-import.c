/*
 * cmd-import.c: `hansa import FILE.jsonl`: signs each line of the corpus
 * format with this node's identity and stores them in batches of
 * IMPORT_BATCH entries per write transaction. Bad lines are reported as
 * FILE:LINE: reason and skipped. A FILE that starts with the bundle magic
 * goes to import-bundle.c, a directory to import-markdown.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "cli/markdown.h"
#include "cli/offline.h"
#include "cli/ops.h"
#include "proto/bundle.h"

#define IMPORT_BATCH 1000

/* Corpus keys that are entry fields; every other string key is metadata. */
static const char *const fields[] = { "doc", "kind", "title", "body", "tags", "lang", NULL };

static int is_field(const char *k)
{
	for (int i = 0; fields[i]; i++)
		if (!strcmp(fields[i], k))
			return 1;
	return 0;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Builds an unsigned entry from one JSON line. The entry borrows strings
 * from o; tags and meta arrays are malloc'd (freed by draft_free). */
static const char *draft_from_json(const cJSON *o, hx_entry *e)
{
	const cJSON *it, *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
	memset(e, 0, sizeof *e);
	if (!cJSON_IsObject(o))
		return "not a JSON object";
	if (!(e->path = (char *)str(o, "doc")))
		return "no \"doc\" (the document path)";
	if (!(e->title = (char *)str(o, "title")))
		return "no \"title\"";
	e->kind = (char *)(str(o, "kind") ? str(o, "kind") : "toolkit");
	e->body = (char *)(str(o, "body") ? str(o, "body") : "");
	e->lang = (char *)(str(o, "lang") ? str(o, "lang") : "en");
	if (!strcmp(e->kind, HX_KIND_TOMBSTONE))
		return "kind \"tombstone\" is reserved";
	if (tags && !cJSON_IsArray(tags))
		return "\"tags\" is not an array";
	size_t nt = (size_t)cJSON_GetArraySize(tags), nm = 0;
	if (nt > HX_TAGS_MAX)
		return "more than 64 tags";
	cJSON_ArrayForEach(it, o) nm += !is_field(it->string);
	if (nm > HX_META_MAX)
		return "more than 32 metadata keys";
	e->tags = calloc(nt + 1, sizeof *e->tags);
	e->meta = calloc(nm + 1, sizeof *e->meta);
	if (!e->tags || !e->meta)
		return "out of memory";
	cJSON_ArrayForEach(it, tags)
	{
		if (!cJSON_IsString(it))
			return "a tag is not a string";
		e->tags[e->ntags++] = it->valuestring;
	}
	cJSON_ArrayForEach(it, o)
	{
		if (is_field(it->string))
			continue;
		if (!cJSON_IsString(it))
			return "a metadata value is not a string";
		if (!*it->valuestring)
			continue;
		e->meta[e->nmeta].key = it->string;
		e->meta[e->nmeta++].value = it->valuestring;
	}
	const char *why;
	return hx_entry_check_why(e, &why) ? why : NULL;
}

/* Also forgets the arrays: a bad line can leave a slot half-built and the
 * next bad line at the same slot frees it again. */
static void draft_free(hx_entry *e)
{
	free(e->tags);
	free(e->meta);
	e->tags = NULL;
	e->meta = NULL;
	e->ntags = e->nmeta = 0;
}

struct batch {
	hx_put put[IMPORT_BATCH];
	hx_entry ent[IMPORT_BATCH];
	uint8_t *raw[IMPORT_BATCH];
	cJSON *json[IMPORT_BATCH];
	size_t n;
};

static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->raw[i]);
		draft_free(&b->ent[i]);
		cJSON_Delete(b->json[i]);
	}
	b->n = 0;
}

/* 1 when the file name starts with the bundle magic. */
static int is_bundle(const char *name)
{
	uint8_t magic[HX_BUNDLE_MAGIC_LEN];
	FILE *f = fopen(name, "rb");
	if (!f)
		return 0;
	size_t n = fread(magic, 1, sizeof magic, f);
	fclose(f);
	return hx_bundle_is_bundle(magic, n);
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	int verbose = hx_arg_count(a, "verbose"), json = hx_arg_count(a, "json");
	int dry = hx_arg_count(a, "dry-run");
	const char *name = a->argv[0];
	struct stat dst;

	const char *bmax = hx_arg_value(a, "blob-max");
	uint64_t blob_max = bmax ? hx_size_arg(bmax) : 0;
	if (bmax && !blob_max)
		return hx_usage_error(a->top,
		                      "--blob-max: '%s' is not a size (bytes, or with K, M "
		                      "or G)",
		                      bmax);
	if (strcmp(name, "-") && !stat(name, &dst) && S_ISDIR(dst.st_mode))
		return bmax ? hx_usage_error(a->top, "--blob-max goes with a BUNDLE")
		            : hx_import_markdown(ctx, name, json, dry);
	if (dry)
		return hx_usage_error(a->top, "--dry-run applies to a Markdown folder");
	if (strcmp(name, "-") && is_bundle(name))
		return hx_import_bundle(ctx, name, blob_max, json, verbose);
	if (bmax)
		return hx_usage_error(a->top, "--blob-max goes with a BUNDLE");
	FILE *f = strcmp(name, "-") ? fopen(name, "rb") : stdin;
	if (!f)
		return hx_fail("%s: %s", name, strerror(errno));
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!s || hx_ctx_identity(ctx)) {
		if (f != stdin)
			fclose(f);
		return HX_EXIT_FAIL;
	}

	struct batch *b = calloc(1, sizeof *b);
	struct hx_progress prog;
	struct stat st;
	char *line = NULL;
	size_t cap = 0, lineno = 0, bad = 0, added_total = 0, same = 0;
	uint64_t last_ts = 0, read_bytes = 0;
	ssize_t len;
	int rc = HX_EXIT_OK;

	if (!b)
		return hx_fail("out of memory");
	hx_progress_start(&prog, "importing",
	                  f != stdin && !fstat(fileno(f), &st) ? (uint64_t)st.st_size : 0);
	for (;;) {
		len = getline(&line, &cap, f);
		if (len > 0) {
			lineno++;
			read_bytes += (uint64_t)len;
			while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = 0;
			if (!len)
				continue;
			const char *why = NULL;
			size_t i = b->n;
			cJSON *o = NULL;
			if (memchr(line, 0, (size_t)len) || !hx_utf8_valid(line, (size_t)len))
				why = "not valid UTF-8";
			else if (!(o = cJSON_ParseWithLength(line, (size_t)len)))
				why = "not valid JSON";
			else
				why = draft_from_json(o, &b->ent[i]);
			if (!why && hx_md_unchanged(s, ctx->pk, &b->ent[i])) {
				/* as the current version: a second run adds nothing */
				same++;
				draft_free(&b->ent[i]);
				cJSON_Delete(o);
				continue;
			}
			uint64_t ts = 0;
			if (!why &&
			    hx_store_next_timestamp(s, ctx->pk, b->ent[i].path, hx_now_us(), &ts))
				why = "cannot read the store";
			if (!why) {
				/* strictly increasing within the import, so that versions
				 * of one path in the same batch keep their order */
				b->ent[i].timestamp = ts > last_ts ? ts : last_ts + 1;
				last_ts = b->ent[i].timestamp;
				size_t rl;
				if (hx_cli_sign(ctx, &b->ent[i], &b->raw[i], &rl))
					why = "cannot sign";
				b->put[i] = (hx_put){ .raw = b->raw[i],
					              .rawlen = rl,
					              .entry = &b->ent[i] };
			}
			if (why) {
				if (prog.active)
					fputc('\n', stderr);
				fprintf(stderr, "%s:%zu: %s\n", name, lineno, why);
				bad++;
				draft_free(&b->ent[i]);
				cJSON_Delete(o);
				continue;
			}
			b->json[i] = o;
			b->n++;
		}
		if (b->n == IMPORT_BATCH || (len < 0 && b->n)) {
			size_t added;
			int src = hx_store_put_batch(s, b->put, b->n, 0, &added);
			if (src) {
				char why[128];
				rc = hx_fail("%s: store failed near line %zu: %s", name, lineno,
				             hx_cli_errtext(src, ctx->home, why, sizeof why));
				break;
			}
			added_total += added;
			batch_clear(b);
			if (verbose)
				fprintf(stderr, "committed through line %zu\n", lineno);
			hx_progress_update(&prog, read_bytes);
		}
		if (len < 0)
			break;
	}
	hx_progress_end(&prog);
	if (ferror(f))
		rc = hx_fail("%s: read error after line %zu", name, lineno);
	batch_clear(b);
	free(b);
	free(line);
	if (f != stdin)
		fclose(f);
	if (rc == HX_EXIT_OK && json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", name);
		cJSON_AddStringToObject(o, "format", "jsonl");
		cJSON_AddNumberToObject(o, "added", (double)added_total);
		cJSON_AddNumberToObject(o, "unchanged", (double)same);
		cJSON_AddNumberToObject(o, "bad", (double)bad);
		hx_json_print(o);
		if (bad)
			rc = HX_EXIT_FAIL;
	} else if (rc == HX_EXIT_OK) {
		printf("imported %zu entries from %s", added_total, name);
		if (same)
			printf(", %zu unchanged", same);
		if (bad)
			printf(", %zu bad line%s skipped", bad, bad == 1 ? "" : "s");
		printf("\n");
		if (bad)
			rc = HX_EXIT_FAIL;
	}
	return rc;
}

static const struct hx_opt opts[] = {
	{ "verbose", 0, NULL,
	  "(BUNDLE, FILE.jsonl) say on stderr after each committed batch how far "
	  "it got",
	  0 },
	{ "json", 0, NULL, "print the summary as one JSON object", 0 },
	{ "dry-run", 'n', NULL, "(DIR) say what would be published, change nothing", 0 },
	{ "blob-max", 0, "SIZE",
	  "(BUNDLE) the largest attached file to take (default 512M); larger ones "
	  "are refused and counted",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_import = {
	.name = "import",
	.summary = "import a bundle, a Markdown folder or a JSON-lines file",
	.args = "BUNDLE|DIR|FILE.jsonl",
	.args_min = 1,
	.args_max = 1,
	.args_error = "give one FILE or DIR",
	.opts = opts,
	.text = "BUNDLE (a file written by 'hansa export --bundle', recognised by its first\n"
	        "bytes): every entry is checked as one received from a peer (encoding and\n"
	        "limits, signature, at most 10 minutes in the future, author a member) and\n"
	        "stored; entries already here are skipped, so importing twice adds nothing.\n"
	        "Refusals are counted per reason; a damaged or truncated file imports its\n"
	        "intact entries and names the byte offsets where it broke. Attached files\n"
	        "in the bundle are stored when a current version attaches them, every chunk\n"
	        "checked, within the blob limits; a file that did not arrive whole is named\n"
	        "and left out, never half-stored.\n"
	        "\n"
	        "DIR (a Markdown folder, e.g. from 'hansa export --markdown'): every .md file\n"
	        "whose content differs from the current version of its path is published as\n"
	        "a new version signed by this partner; unchanged files are left alone. The\n"
	        "path comes from the front matter, else from the file's place in DIR. Bad\n"
	        "files are reported as FILE:LINE: reason and the rest still imports.\n"
	        "\n"
	        "FILE.jsonl: signs each line with this partner's identity and stores it. A\n"
	        "line is one JSON object: doc (the path), title, kind, body, tags (array),\n"
	        "lang; any other string field (org, country, url, ...) becomes metadata. A\n"
	        "line that says the same as the current version of its path is left alone,\n"
	        "so an import run again (after an interruption, say) adds only what is new.\n"
	        "Bad lines are reported as FILE:LINE: reason and skipped.\n"
	        "\n"
	        "Whenever something was refused or skipped the exit status is 1. A progress\n"
	        "bar shows on a terminal.\n",
	.exec = exec,
};
