/*
 * cmd-import.c: `hansa import FILE.jsonl`: signs each line of the corpus
 * format with this node's identity and stores them in bulk batches
 * (HX_BULK_BYTES or HX_BULK_ENTRIES per write transaction), each written
 * by a writer thread (hx_writer) while the next one is parsed and signed.
 * Bad lines are reported as
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

/* One line on its way into the store: the signed bytes and the entry,
 * whose strings are borrowed from the parsed line. */
struct item {
	hx_entry ent;
	uint8_t *raw;
	size_t rawlen;
	cJSON *json;
};

/* A batch of lines: built while the writer thread stores the one before. */
struct batch {
	struct item *it;
	hx_put *put;
	size_t n, cap, pcap, bytes;
	size_t lineno; /* its last line */
};

static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->it[i].raw);
		draft_free(&b->it[i].ent);
		cJSON_Delete(b->it[i].json);
	}
	b->n = 0;
	b->bytes = 0;
}

static void batch_free(struct batch *b)
{
	batch_clear(b);
	free(b->it);
	free(b->put);
}

/* A free slot at the end of b (zeroed), or NULL when out of memory. */
static struct item *batch_slot(struct batch *b)
{
	struct item *ni = hx_grow(b->it, &b->cap, b->n + 1, sizeof *ni);
	if (!ni)
		return NULL;
	b->it = ni;
	memset(&b->it[b->n], 0, sizeof b->it[b->n]);
	return &b->it[b->n];
}

/* The batch's puts, pointing at its items (which may have moved while it
 * grew). */
static int batch_puts(struct batch *b)
{
	hx_put *np = hx_grow(b->put, &b->pcap, b->n, sizeof *np);
	if (!np)
		return HX_ENOMEM;
	b->put = np;
	for (size_t i = 0; i < b->n; i++)
		b->put[i] = (hx_put){ .raw = b->it[i].raw,
			              .rawlen = b->it[i].rawlen,
			              .entry = &b->it[i].ent };
	return HX_OK;
}

/* Waits for the batch b the writer has, then forgets it: HX_EXIT_OK, or
 * the exit status after saying why it failed. */
static int batch_done(hx_writer *w, struct batch *b, struct hx_ctx *ctx, const char *name,
                      int verbose, size_t *added_total)
{
	size_t added;
	int src = hx_writer_wait(w, &added);
	batch_clear(b);
	if (src) {
		char why[128];
		return hx_fail("%s: store failed near line %zu: %s", name, b->lineno,
		               hx_cli_errtext(src, ctx->home, why, sizeof why));
	}
	*added_total += added;
	if (verbose)
		fprintf(stderr, "committed through line %zu\n", b->lineno);
	return HX_EXIT_OK;
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

/* After a large import: when free pages are more than COMPACT_SHARE of
 * the data file and at least COMPACT_MIN bytes, the store is compacted in
 * place (hx_cli_compact) if no other process has it open, and the import
 * says so on stderr with the time it took; with a node running it says
 * how much `hansa compact` would return. always: whatever the free pages
 * (--compact always). *c gets the sizes. */
#define COMPACT_SHARE 0.15
#define COMPACT_MIN ((uint64_t)32 << 20)
enum { COMPACT_AUTO, COMPACT_ALWAYS, COMPACT_NEVER };

struct compacted {
	int done;
	uint64_t before, after;
	double seconds;
};

static void compact_after(struct hx_ctx *ctx, int always, struct compacted *c)
{
	char data[4200];
	uint64_t file, free_b, entries;
	memset(c, 0, sizeof *c);
	if (!ctx->store || hx_store_space(ctx->store, &file, &free_b))
		return;
	if (!always && (free_b < COMPACT_MIN || (double)free_b < COMPACT_SHARE * (double)file))
		return;
	if (hx_home_path(ctx, "store/data.mdb", data, sizeof data))
		return;
	if (hx_cli_file_user(data)) {
		fprintf(stderr,
		        "the store has %.0f MB of free pages (%.0f %% of its file); 'hansa compact' "
		        "with the node stopped returns them to the disk\n",
		        free_b / 1e6, 100.0 * (double)free_b / (double)file);
		return;
	}
	hx_store_close(&ctx->store);
	uint64_t t0 = hx_now_us();
	if (hx_cli_compact(ctx, 1, &c->before, &c->after, &entries))
		return; /* it said why; the import itself stands */
	c->done = 1;
	c->seconds = (double)(hx_now_us() - t0) / 1e6;
	fprintf(stderr,
	        "compacted the store after the import: %.1f MB -> %.1f MB (free pages returned "
	        "to the disk) in %.1f s\n",
	        c->before / 1e6, c->after / 1e6, c->seconds);
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
	const char *bs = hx_arg_value(a, "batch"), *cw = hx_arg_value(a, "compact");
	char *end;
	unsigned long long nb = bs ? strtoull(bs, &end, 10) : 0;
	if (bs && (!*bs || *end || !nb || nb > 1000000))
		return hx_usage_error(a->top, "--batch: '%s' is not a number from 1 to 1000000",
		                      bs);
	int when = !cw || !strcmp(cw, "auto") ? COMPACT_AUTO
	           : !strcmp(cw, "always")    ? COMPACT_ALWAYS
	           : !strcmp(cw, "never")     ? COMPACT_NEVER
	                                      : -1;
	if (when < 0)
		return hx_usage_error(a->top, "--compact: '%s' is not auto, always or never", cw);
	int isdir = strcmp(name, "-") && !stat(name, &dst) && S_ISDIR(dst.st_mode);
	if ((bs || cw) && (isdir || (strcmp(name, "-") && is_bundle(name))))
		return hx_usage_error(a->top, "--batch and --compact go with a FILE.jsonl");
	if (isdir)
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

	struct batch bb[2] = { { 0 }, { 0 } }, *b = &bb[0], *prev = NULL;
	struct hx_progress prog;
	struct stat st;
	char *line = NULL;
	size_t cap = 0, lineno = 0, bad = 0, added_total = 0, same = 0;
	uint64_t last_ts = 0, read_bytes = 0;
	ssize_t len;
	int rc = HX_EXIT_OK;
	hx_writer *w;

	if (hx_writer_start(&w, s, 0)) {
		if (f != stdin)
			fclose(f);
		return hx_fail("out of memory");
	}
	hx_progress_start(&prog, "importing",
	                  f != stdin && !fstat(fileno(f), &st) ? (uint64_t)st.st_size : 0);
	for (;;) {
		len = getline(&line, &cap, f);
		if (len > 0) {
			lineno++;
			read_bytes += (uint64_t)len;
			if (!(lineno & 1023))
				hx_progress_update(&prog, read_bytes);
			while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = 0;
			if (!len)
				continue;
			const char *why = NULL;
			struct item *it = batch_slot(b);
			cJSON *o = NULL;
			if (!it) {
				rc = hx_fail("out of memory");
				break;
			}
			if (memchr(line, 0, (size_t)len) || !hx_utf8_valid(line, (size_t)len))
				why = "not valid UTF-8";
			else if (!(o = cJSON_ParseWithLength(line, (size_t)len)))
				why = "not valid JSON";
			else
				why = draft_from_json(o, &it->ent);
			if (!why && hx_md_unchanged(s, ctx->pk, &it->ent)) {
				/* as the current version: a second run adds nothing */
				same++;
				draft_free(&it->ent);
				cJSON_Delete(o);
				continue;
			}
			uint64_t ts = 0;
			if (!why &&
			    hx_store_next_timestamp(s, ctx->pk, it->ent.path, hx_now_us(), &ts))
				why = "cannot read the store";
			if (!why) {
				/* strictly increasing within the import, so that versions
				 * of one path in the same batch keep their order */
				it->ent.timestamp = ts > last_ts ? ts : last_ts + 1;
				last_ts = it->ent.timestamp;
				if (hx_cli_sign(ctx, &it->ent, &it->raw, &it->rawlen))
					why = "cannot sign";
			}
			if (why) {
				if (prog.active)
					fputc('\n', stderr);
				fprintf(stderr, "%s:%zu: %s\n", name, lineno, why);
				bad++;
				free(it->raw);
				draft_free(&it->ent);
				cJSON_Delete(o);
				continue;
			}
			it->json = o;
			b->n++;
			b->bytes += it->rawlen;
		}
		int full = nb ? b->n >= nb : b->n >= HX_BULK_ENTRIES || b->bytes >= HX_BULK_BYTES;
		if (full || (len < 0 && b->n)) {
			/* this batch goes to the writer once the one before is in */
			b->lineno = lineno;
			if (prev && (rc = batch_done(w, prev, ctx, name, verbose, &added_total)))
				break;
			prev = NULL;
			if (batch_puts(b)) {
				rc = hx_fail("out of memory");
				break;
			}
			hx_writer_submit(w, b->put, b->n);
			prev = b;
			b = b == &bb[0] ? &bb[1] : &bb[0];
		}
		if (len < 0)
			break;
	}
	if (prev) {
		int r = batch_done(w, prev, ctx, name, verbose, &added_total);
		rc = rc ? rc : r;
	}
	hx_writer_stop(&w);
	if (!rc)
		hx_progress_update(&prog, read_bytes); /* all of it is in */
	hx_progress_end(&prog);
	if (ferror(f))
		rc = hx_fail("%s: read error after line %zu", name, lineno);
	batch_free(&bb[0]);
	batch_free(&bb[1]);
	free(line);
	if (f != stdin)
		fclose(f);
	struct compacted cp = { 0 };
	if (rc == HX_EXIT_OK && added_total && when != COMPACT_NEVER)
		compact_after(ctx, when == COMPACT_ALWAYS, &cp);
	if (rc == HX_EXIT_OK && json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", name);
		cJSON_AddStringToObject(o, "format", "jsonl");
		cJSON_AddNumberToObject(o, "added", (double)added_total);
		cJSON_AddNumberToObject(o, "unchanged", (double)same);
		cJSON_AddNumberToObject(o, "bad", (double)bad);
		if (cp.done) {
			cJSON *c = cJSON_AddObjectToObject(o, "compacted");
			cJSON_AddNumberToObject(c, "bytes_before", (double)cp.before);
			cJSON_AddNumberToObject(c, "bytes_after", (double)cp.after);
			cJSON_AddNumberToObject(c, "seconds", cp.seconds);
		}
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
	{ "batch", 0, "N",
	  "(FILE.jsonl) entries per write transaction (default: 16 MiB of entries, at "
	  "most 30000)",
	  0 },
	{ "compact", 0, "WHEN",
	  "(FILE.jsonl) afterwards, return the store's free pages to the disk: auto (when "
	  "they are over 15 % of its file and 32 MB; the default), always, never",
	  0 },
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
	        "Bad lines are reported as FILE:LINE: reason and skipped. Lines are stored\n"
	        "in large transactions (16 MiB of entries), each written while the next is\n"
	        "signed; an interruption loses at most the lines not yet committed (see\n"
	        "--verbose). A large import leaves free pages in the store's file: when no\n"
	        "node has the store open, import then compacts it (as 'hansa compact') and\n"
	        "says so with the time it took.\n"
	        "\n"
	        "Whenever something was refused or skipped the exit status is 1. A progress\n"
	        "bar shows on a terminal.\n",
	.exec = exec,
};
