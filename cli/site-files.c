/*
 * site-files.c: attached files in the static site (site-files.h): copied
 * into PAGE.files/ beside the document's page, linked from a list on it.
 * Names are attachment names (FORMAT.md §1.7: no '/', no control
 * characters, not starting with '.'), percent-encoded in links and
 * escaped in text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/file.h"
#include "cli/site-files.h"
#include "store/blob.h"

void hx_site_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Percent-encodes everything but unreserved characters (RFC 3986). */
static void url_part(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
}

void hx_site_files(FILE *f, hx_store *s, const char *dir, const char *rel, const hx_entry *e,
                   uint64_t *failed)
{
	const char *page = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	int stem = (int)strlen(page) - 5; /* without ".html" */
	char folder[4400], dst[4800];

	if (!e->nattach)
		return;
	snprintf(folder, sizeof folder, "%s/%.*s.files", dir, (int)strlen(rel) - 5, rel);
	fputs("<h2>Files</h2>\n<ul class=\"files\">\n", f);
	for (size_t i = 0; i < e->nattach; i++) {
		const hx_attach *a = &e->attach[i];
		int state = HX_BLOB_NONE, rc = 0;
		if (hx_blob_state(s, a->hash, &state, NULL, NULL))
			state = HX_BLOB_NONE;
		if (state == HX_BLOB_WHOLE) {
			snprintf(dst, sizeof dst, "%s/%s", folder, a->name);
			if (hx_mkdirs(folder, 0755))
				rc = HX_EIO;
			else
				rc = hx_blob_copy_out(s, a->hash, dst);
			if (rc) {
				(*failed)++;
				hx_fail("%s: %s", dst, hx_strerror(rc));
			}
		}
		fputs("<li>", f);
		if (state == HX_BLOB_WHOLE && !rc) {
			fprintf(f, "<a href=\"%.*s.files/", stem, page);
			url_part(f, a->name);
			fputs("\">", f);
			hx_site_esc(f, a->name);
			fputs("</a>", f);
		} else {
			hx_site_esc(f, a->name);
		}
		fprintf(f, " (%llu bytes, ", (unsigned long long)a->size);
		hx_site_esc(f, a->type);
		fputs(state == HX_BLOB_WHOLE ? ")" : "; not on this node)", f);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}
