/*
 * attach.c: attached files on the command line (attach.h): adding a file
 * as a blob to the store and to an entry draft, the front matter's
 * relative paths, the media type, and the lines `hansa show` prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "cli/attach.h"
#include "store/ftext.h"
#include "cli/markdown.h"
#include "store/blob.h"

/* Types by extension; sig says the format starts with magic bytes: 'm'
 * its own (magic() knows them), 'z' a zip container's. */
static const struct {
	const char *ext, *type;
	char sig;
} by_ext[] = {
	{ "pdf", "application/pdf", 'm' },
	{ "odt", "application/vnd.oasis.opendocument.text", 'z' },
	{ "ods", "application/vnd.oasis.opendocument.spreadsheet", 'z' },
	{ "odp", "application/vnd.oasis.opendocument.presentation", 'z' },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 'z' },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 'z' },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	  'z' },
	{ "epub", "application/epub+zip", 'z' },
	{ "zip", "application/zip", 'z' },
	{ "png", "image/png", 'm' },
	{ "jpg", "image/jpeg", 'm' },
	{ "jpeg", "image/jpeg", 'm' },
	{ "gif", "image/gif", 'm' },
	{ "doc", "application/msword", 0 },
	{ "xls", "application/vnd.ms-excel", 0 },
	{ "ppt", "application/vnd.ms-powerpoint", 0 },
	{ "txt", "text/plain", 0 },
	{ "md", "text/markdown", 0 },
	{ "csv", "text/csv", 0 },
	{ "html", "text/html", 0 },
	{ "htm", "text/html", 0 },
	{ "json", "application/json", 0 },
	{ "xml", "application/xml", 0 },
	{ "svg", "image/svg+xml", 0 },
	{ "webp", "image/webp", 0 },
	{ "mp3", "audio/mpeg", 0 },
	{ "mp4", "video/mp4", 0 },
};

/* The type that a file's first bytes show, or NULL. */
static const char *magic(const uint8_t *h, size_t n)
{
	if (n >= 5 && !memcmp(h, "%PDF-", 5))
		return "application/pdf";
	if (n >= 8 && !memcmp(h, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (n >= 3 && !memcmp(h, "\xff\xd8\xff", 3))
		return "image/jpeg";
	if (n >= 4 && !memcmp(h, "GIF8", 4))
		return "image/gif";
	if (n >= 4 && !memcmp(h, "PK\x03\x04", 4))
		return "application/zip";
	return NULL;
}

const char *hx_cli_media_type(const char *name, const uint8_t *head, size_t n)
{
	const char *dot = strrchr(name, '.'), *m = magic(head, n);
	size_t i, nt = sizeof by_ext / sizeof by_ext[0];
	for (i = 0; dot && i < nt; i++)
		if (!strcasecmp(dot + 1, by_ext[i].ext))
			break;
	if (!dot || i == nt)
		return m ? m : "application/octet-stream";
	if (m)
		return by_ext[i].sig == 'z' && !strcmp(m, "application/zip") ? by_ext[i].type : m;
	/* the extension names a format whose magic bytes the file lacks */
	return by_ext[i].sig ? "application/octet-stream" : by_ext[i].type;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The text of a new blob for the search index, before the entry's write
 * transaction (store/ftext.h). A file the extractor cannot read is only a
 * warning: it is then found by its name. */
static int extract(hx_store *s, const hx_attach *a)
{
	hx_ftext ft;
	char why[HX_FTEXT_WHY_MAX + 1];
	int failed, rc = hx_ftext_get(s, a->hash, &ft);
	hx_ftext_clear(&ft);
	if (rc != HX_ENOTFOUND)
		return 0; /* extracted before (or a damaged row fsck will report) */
	rc = hx_ftext_extract(s, a->hash, a->name, a->type, NULL, &failed, why, sizeof why);
	if (rc)
		return hx_fail("%s: cannot store its text: %s", a->name, hx_strerror(rc));
	if (failed)
		fprintf(stderr, "warning: %s: text not extracted (%s); found by its name only\n",
		        a->name, why);
	return 0;
}

int hx_cli_attach_file(struct hx_ctx *ctx, hx_entry *d, const char *path, const char *name)
{
	uint8_t head[16];
	uint64_t size;
	hx_attach a = { 0 };
	hx_store *s;
	int rc;

	if (!name)
		name = base_name(path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hx_fail("%s: %s", path, strerror(errno));
	ssize_t n = read(fd, head, sizeof head);
	close(fd);
	if (n < 0)
		return hx_fail("%s: %s", path, strerror(errno));
	if (!(s = hx_ctx_store(ctx, 0)))
		return 1;
	rc = hx_blob_add_file(s, path, a.hash, &size);
	if (rc == HX_ELIMIT)
		return hx_fail("%s: over the blob limits (largest file %llu MiB, or the blob "
		               "space is full)",
		               path, (unsigned long long)(HX_BLOB_FILE_MAX >> 20));
	if (rc == HX_EINVAL)
		return hx_fail("%s: not a regular file", path);
	if (rc)
		return hx_fail("%s: cannot store it: %s", path, hx_strerror(rc));
	a.size = size;
	if (!(a.name = strdup(name)) ||
	    !(a.type = strdup(hx_cli_media_type(name, head, (size_t)n))))
		goto oom;
	if ((rc = extract(s, &a)))
		goto fail;
	for (size_t i = 0; i < d->nattach; i++) {
		if (strcmp(d->attach[i].name, name))
			continue;
		free(d->attach[i].name);
		free(d->attach[i].type);
		d->attach[i] = a;
		return 0;
	}
	if (d->nattach >= HX_ATTACH_MAX) {
		free(a.name);
		free(a.type);
		return hx_fail("%s: more than %d attachments", path, HX_ATTACH_MAX);
	}
	hx_attach *na = realloc(d->attach, (d->nattach + 1) * sizeof *na);
	if (!na)
		goto oom;
	d->attach = na;
	d->attach[d->nattach++] = a;
	return 0;
oom:
	rc = hx_fail("out of memory");
fail:
	free(a.name);
	free(a.type);
	return rc;
}

static int is_zero(const uint8_t *h)
{
	for (size_t i = 0; i < HX_ID_LEN; i++)
		if (h[i])
			return 0;
	return 1;
}

int hx_cli_attach_resolve(struct hx_ctx *ctx, hx_entry *d, const char *dir, const char *mdname)
{
	/* Take the named ones out, then add each file anew (same order). */
	hx_attach *old = d->attach;
	size_t n = d->nattach;
	int rc = 0;

	d->attach = NULL;
	d->nattach = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4200];
		const char *rel = old[i].name;
		if (rc || !is_zero(old[i].hash))
			continue;
		if (rel[0] == '/' || !strncmp(rel, "../", 3) || strstr(rel, "/../"))
			rc = hx_fail(
			        "%s: attachment '%s' must be a path inside the document's folder",
			        mdname, rel);
		else if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >= sizeof path)
			rc = hx_fail("%s: attachment path too long", mdname);
		else if (access(path, R_OK))
			rc = hx_fail("%s: attachment '%s': %s", mdname, rel, strerror(errno));
		else
			rc = hx_cli_attach_file(ctx, d, path, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		free(old[i].name);
		free(old[i].type);
	}
	free(old);
	return rc;
}

void hx_cli_attach_print(struct hx_ctx *ctx, const hx_entry *e)
{
	hx_store *s = hx_ctx_store(ctx, 0);
	for (size_t i = 0; i < e->nattach; i++) {
		const hx_attach *a = &e->attach[i];
		int state = HX_BLOB_NONE;
		uint32_t have = 0;
		char where[64];
		if (s && hx_blob_state(s, a->hash, &state, NULL, &have))
			state = HX_BLOB_NONE;
		if (state == HX_BLOB_WHOLE)
			snprintf(where, sizeof where, "present");
		else if (state == HX_BLOB_PARTIAL)
			snprintf(where, sizeof where, "partial %u/%llu chunks", have,
			         (unsigned long long)hx_blob_chunks(a->size));
		else
			snprintf(where, sizeof where, "missing");
		printf("%-10s %s  %llu bytes  %s  %s\n", i ? "" : "files:", a->name,
		       (unsigned long long)a->size, a->type, where);
		hx_ftext ft = { 0 };
		if (s && state == HX_BLOB_WHOLE && !hx_ftext_get(s, a->hash, &ft) && !ft.ok)
			printf("%-10s   text: not extracted (%s)\n", "", ft.why);
		hx_ftext_clear(&ft);
	}
}
