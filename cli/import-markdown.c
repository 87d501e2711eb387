/*
 * import-markdown.c: `hansa import DIR`: reads every .md file under DIR
 * (front matter + body, cli/markdown.c) and publishes, signed by this
 * partner, each one whose content differs from the current version of its
 * path; unchanged files are left alone, so a folder exported with
 * `hansa export --markdown` can be edited and re-imported. Bad files are
 * reported as FILE:LINE: reason and the rest still imports. New versions
 * are stored in batches of one write transaction each.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "cli/attach.h"
#include "cli/markdown.h"
#include "cli/offline.h"
#include "cli/ops.h"

#define BATCH 256
#define DEPTH_MAX 64

struct files {
	char **v;
	size_t n, cap;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the .md files under dir (relative names, without hidden files
 * and folders, NAME.files folders of attached files, or temporary files). Prints and returns
 * non-zero on error. */
/* The folders from DIR down to the one being read, to find links that
 * lead back up (a loop): each is skipped with a warning. */
struct above {
	dev_t dev;
	ino_t ino;
	const struct above *up;
};

static int walk(const char *root, const char *rel, int depth, struct files *f,
                const struct above *up)
{
	char path[4096];
	snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(path);
	if (!d)
		return hx_fail("%s: %s", path, strerror(errno));
	if (depth > DEPTH_MAX) {
		closedir(d);
		return hx_fail("%s: folders nested too deep", path);
	}
	struct stat self;
	struct above here = { 0, 0, up };
	if (!fstat(dirfd(d), &self)) {
		here.dev = self.st_dev;
		here.ino = self.st_ino;
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		const char *name = de->d_name;
		size_t nl = strlen(name);
		char sub[4096], full[4096];
		struct stat st;
		if (name[0] == '.')
			continue;
		if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", name) >=
		            (int)sizeof sub ||
		    snprintf(full, sizeof full, "%s/%s", root, sub) >= (int)sizeof full) {
			rc = hx_fail("%s/%s: name too long", path, name);
			break;
		}
		if (stat(full, &st)) {
			if (errno == ELOOP)
				fprintf(stderr,
				        "hansa: warning: %s: a symbolic link loop; skipped\n",
				        full);
			continue; /* else a dangling link */
		}
		if (S_ISDIR(st.st_mode) && nl > 6 && !strcmp(name + nl - 6, ".files"))
			continue; /* a document's attached files (export --markdown) */
		if (S_ISDIR(st.st_mode)) {
			const struct above *a = &here;
			while (a && (a->dev != st.st_dev || a->ino != st.st_ino))
				a = a->up;
			if (a) {
				fprintf(stderr,
				        "hansa: warning: %s: a link back to a folder above it "
				        "(a loop); skipped\n",
				        full);
				continue;
			}
			rc = walk(root, sub, depth + 1, f, &here);
		} else if (S_ISREG(st.st_mode) && nl > 3 && !strcmp(name + nl - 3, ".md")) {
			char **v = hx_grow(f->v, &f->cap, f->n + 1, sizeof *v);
			if (!v) {
				rc = hx_fail("out of memory");
				break;
			}
			f->v = v;
			if (!(f->v[f->n] = strdup(sub)))
				rc = hx_fail("out of memory");
			else
				f->n++;
		}
	}
	closedir(d);
	return rc;
}

/* The author named in the front matter ("author: HEX", as export writes
 * it), found with a line scan: markdown.c's parser skips that key. */
static int front_author(const char *text, size_t len, uint8_t key[HX_KEY_LEN])
{
	if (len < 4 || strncmp(text, "---", 3))
		return 0;
	const char *p = text, *end = text + len;
	p = memchr(p, '\n', (size_t)(end - p));
	while (p && ++p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l >= 3 && !strncmp(p, "---", 3))
			break;
		if (l > 7 && !strncmp(p, "author:", 7)) {
			char hex[2 * HX_KEY_LEN + 1];
			size_t k = 0;
			for (size_t i = 7; i < l && k < sizeof hex - 1; i++)
				if ((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))
					hex[k++] = p[i];
			hex[k] = 0;
			return hx_unhex(key, HX_KEY_LEN, hex) == HX_OK;
		}
		p = nl;
	}
	return 0;
}

/* Ends the progress bar's line before an error line. */
static void bar_break(struct hx_progress *p)
{
	if (p->active && p->last_draw_us) {
		fputc('\n', stderr);
		p->last_draw_us = 0;
	}
}

/* Path from the file's place in DIR: "a/b.md" -> "a/b". */
static char *path_from_name(const char *rel)
{
	size_t n = strlen(rel) - 3;
	char *p = strndup(rel, n);
	return p;
}

struct pending {
	hx_entry d;
	uint8_t *raw;
	size_t len;
	const char *file;
};

static int flush(hx_store *s, const char *home, struct pending *pb, size_t n, uint64_t *published)
{
	static hx_put put[BATCH];
	size_t added = 0;
	for (size_t i = 0; i < n; i++)
		put[i] = (hx_put){ .raw = pb[i].raw, .rawlen = pb[i].len, .entry = &pb[i].d };
	int rc = n ? hx_store_put_batch(s, put, n, 0, &added) : HX_OK;
	for (size_t i = 0; i < n; i++) {
		if (!rc && put[i].result && put[i].result != HX_EEXIST)
			rc = put[i].result;
		hx_entry_clear(&pb[i].d);
		free(pb[i].raw);
	}
	*published += added;
	char why[128];
	if (rc)
		return hx_fail(
		        "cannot store the new versions: %s (none of the last %zu was written)",
		        hx_cli_errtext(rc, home, why, sizeof why), n);
	return 0;
}

/* Reads and parses DIR/rel into *d with the defaults filled in. Returns
 * NULL, or the reason it is bad and its line in *line (d then holds
 * nothing). fa/has_fa: the author named in the front matter. */
static const char *load(const char *dir, const char *rel, hx_entry *d, int *line, char *err,
                        size_t errlen, uint8_t fa[HX_KEY_LEN], int *has_fa)
{
	char full[4096];
	const char *why = NULL;
	size_t len = 0;
	char *text;

	*line = 1;
	*has_fa = 0;
	memset(d, 0, sizeof *d);
	snprintf(full, sizeof full, "%s/%s", dir, rel);
	int rc = hx_file_read(full, HX_MD_FILE_MAX, &text, &len, &why);
	if (rc == HX_ELIMIT)
		return "larger than the 256 KiB body limit";
	if (rc)
		return why;
	if (hx_md_parse(text, len, d, err, errlen, line)) {
		free(text);
		return err;
	}
	*has_fa = front_author(text, len, fa);
	free(text);
	int named = !d->path;
	if (named && !(d->path = path_from_name(rel)))
		why = "out of memory";
	if (!why && ((!d->kind && hx_strset(&d->kind, "practice")) ||
	             (!d->lang && hx_strset(&d->lang, "en"))))
		why = "out of memory";
	if (!why && !d->title)
		why = "no title (set 'title:' in the front matter or begin the body with '# "
		      "heading')";
	if (!why && hx_entry_is_tombstone(d))
		why = "kind 'tombstone' is reserved; use 'hansa delete'";
	/* the attachments are still file paths (hx_cli_attach_resolve checks
	 * them when it adds the files): leave them out of this check */
	size_t nattach = d->nattach;
	d->nattach = 0;
	int bad = !why && hx_entry_check_why(d, &why);
	d->nattach = nattach;
	if (bad && named && !strncmp(why, "path must", 9))
		why = "no 'path:' in the front matter, and the file's place in the folder is "
		      "not a valid path ([a-z0-9._+-] and '/')";
	if (why)
		hx_entry_clear(d);
	return why;
}

struct claim {
	const char *path; /* borrowed from paths[] */
	size_t file;
};

static int by_path(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : (x->file < y->file ? -1 : x->file > y->file);
}

/* 1 when file rel sits where path would be exported: PATH.md or
 * PATH~AUTHOR.md. */
static int at_home(const char *rel, const char *path)
{
	size_t n = strlen(path);
	return !strncmp(rel, path, n) && (!strcmp(rel + n, ".md") || rel[n] == '~');
}

/*
 * Two files that claim one path: the one at the path's own place in the
 * folder wins, when there is exactly one such; otherwise none is imported.
 * Sets loser[i] to the index + 1 of a file that holds the same path.
 */
static int find_conflicts(const char *dir, struct files *f, size_t *loser)
{
	char **paths = calloc(f->n ? f->n : 1, sizeof *paths);
	struct claim *c = calloc(f->n ? f->n : 1, sizeof *c);
	size_t nc = 0;
	if (!paths || !c) {
		free(paths);
		free(c);
		return hx_fail("out of memory");
	}
	for (size_t i = 0; i < f->n; i++) {
		hx_entry d;
		char err[256];
		uint8_t fa[HX_KEY_LEN];
		int line, has_fa;
		if (load(dir, f->v[i], &d, &line, err, sizeof err, fa, &has_fa))
			continue; /* reported in the second pass */
		paths[i] = d.path;
		d.path = NULL;
		hx_entry_clear(&d);
		c[nc++] = (struct claim){ paths[i], i };
	}
	qsort(c, nc, sizeof *c, by_path);
	for (size_t i = 0; i < nc;) {
		size_t j = i + 1, home = SIZE_MAX, homes = 0;
		while (j < nc && !strcmp(c[j].path, c[i].path))
			j++;
		if (j - i > 1) {
			for (size_t k = i; k < j; k++)
				if (at_home(f->v[c[k].file], c[k].path))
					home = c[k].file, homes++;
			for (size_t k = i; k < j; k++)
				if (homes != 1 || c[k].file != home)
					loser[c[k].file] =
					        1 + (c[k].file == c[i].file ? c[i + 1].file
					                                    : c[i].file);
		}
		i = j;
	}
	for (size_t i = 0; i < f->n; i++)
		free(paths[i]);
	free(paths);
	free(c);
	return 0;
}

int hx_import_markdown(struct hx_ctx *ctx, const char *dir, int json, int dry)
{
	struct files f = { 0 };
	struct pending *pb = NULL;
	struct hx_progress prog;
	uint8_t own[HX_KEY_LEN];
	uint64_t published = 0, would = 0, same_n = 0, bad = 0;
	size_t np = 0, *loser = NULL;
	int ret = HX_EXIT_FAIL;
	uint64_t last_ts = 0;
	hx_store *s = hx_ctx_store(ctx, 0);
	cJSON *list = json ? cJSON_CreateArray() : NULL;

	memset(&prog, 0, sizeof prog);
	if (!s)
		return HX_EXIT_FAIL;
	if (dry ? hx_own_key(ctx, own) : hx_ctx_identity(ctx))
		return HX_EXIT_FAIL;
	if (!dry)
		memcpy(own, ctx->pk, HX_KEY_LEN);
	if (walk(dir, "", 0, &f, NULL))
		goto out;
	qsort(f.v, f.n, sizeof *f.v, by_name);
	if (!(pb = calloc(BATCH, sizeof *pb)) || !(loser = calloc(f.n ? f.n : 1, sizeof *loser))) {
		hx_fail("out of memory");
		goto out;
	}
	if (find_conflicts(dir, &f, loser))
		goto out;
	hx_progress_start(&prog, "importing", f.n);
	for (size_t i = 0; i < f.n; i++) {
		char full[4096], err[256];
		uint8_t fa[HX_KEY_LEN];
		int line, has_fa;
		hx_entry d;

		hx_progress_update(&prog, i + 1);
		snprintf(full, sizeof full, "%s/%s", dir, f.v[i]);
		const char *why = load(dir, f.v[i], &d, &line, err, sizeof err, fa, &has_fa);
		if (!why && loser[i]) {
			snprintf(err, sizeof err,
			         "another file in the folder, %s, has the same path %s; "
			         "skipped",
			         f.v[loser[i] - 1], d.path);
			why = err;
			hx_entry_clear(&d);
		}
		if (why) {
			bar_break(&prog);
			fprintf(stderr, "%s:%d: %s\n", full, line, why);
			bad++;
			continue;
		}
		if (d.nattach) { /* the front matter's files, relative to the .md */
			char mddir[4096];
			snprintf(mddir, sizeof mddir, "%s", full);
			*strrchr(mddir, '/') = 0;
			bar_break(&prog);
			if (hx_cli_attach_resolve(ctx, &d, mddir, full)) {
				hx_entry_clear(&d);
				bad++;
				continue;
			}
		}
		if (hx_md_unchanged(s, own, &d) || (has_fa && hx_md_unchanged(s, fa, &d))) {
			same_n++;
			hx_entry_clear(&d);
			continue;
		}
		if (list)
			cJSON_AddItemToArray(list, cJSON_CreateString(full));
		if (dry) {
			if (!json)
				printf("would publish %s as %s\n", full, d.path);
			would++;
			hx_entry_clear(&d);
			continue;
		}
		uint64_t ts;
		int rc = hx_store_next_timestamp(s, own, d.path, hx_now_us(), &ts);
		if (rc) {
			bar_break(&prog);
			hx_fail("%s: cannot read the store: %s", full, hx_strerror(rc));
			hx_entry_clear(&d);
			goto stop;
		}
		d.timestamp = ts > last_ts ? ts : last_ts + 1;
		last_ts = d.timestamp;
		pb[np].d = d;
		pb[np].file = f.v[i];
		if ((rc = hx_cli_sign(ctx, &pb[np].d, &pb[np].raw, &pb[np].len))) {
			bar_break(&prog);
			fprintf(stderr, "%s:1: cannot sign: %s\n", full, hx_strerror(rc));
			hx_entry_clear(&pb[np].d);
			bad++;
			continue;
		}
		if (++np == BATCH) {
			if (flush(s, ctx->home, pb, np, &published))
				goto stop;
			np = 0;
		}
	}
	if (flush(s, ctx->home, pb, np, &published))
		goto stop;
	np = 0;
	hx_progress_end(&prog);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "dir", dir);
		cJSON_AddStringToObject(o, "format", "markdown");
		cJSON_AddNumberToObject(o, "files", (double)f.n);
		cJSON_AddNumberToObject(o, dry ? "would_publish" : "published",
		                        (double)(dry ? would : published));
		cJSON_AddNumberToObject(o, "unchanged", (double)same_n);
		cJSON_AddNumberToObject(o, "bad", (double)bad);
		cJSON_AddItemToObject(o, dry ? "would_publish_files" : "published_files", list);
		list = NULL;
		hx_json_print(o);
	} else {
		printf("%s %llu new version%s from %s; %llu file%s unchanged",
		       dry ? "would publish" : "published",
		       (unsigned long long)(dry ? would : published),
		       (dry ? would : published) == 1 ? "" : "s", dir, (unsigned long long)same_n,
		       same_n == 1 ? "" : "s");
		if (bad)
			printf("; %llu bad file%s skipped", (unsigned long long)bad,
			       bad == 1 ? "" : "s");
		printf("\n");
	}
	ret = bad ? HX_EXIT_FAIL : HX_EXIT_OK;
stop:
	hx_progress_end(&prog);
	for (size_t i = 0; i < np; i++) {
		hx_entry_clear(&pb[i].d);
		free(pb[i].raw);
	}
out:
	cJSON_Delete(list);
	for (size_t i = 0; i < f.n; i++)
		free(f.v[i]);
	free(f.v);
	free(pb);
	free(loser);
	return ret;
}
