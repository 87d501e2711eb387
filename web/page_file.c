/*
 * page_file.c: attached files in the web app: the list on a document's
 * page and /file?author=HEX&path=P&name=N, which sends one file as a
 * download. The bytes come from a copy checked chunk by chunk against the
 * signed hash; they are always sent as application/octet-stream with
 * Content-Disposition: attachment (and nosniff, like every reply), so a
 * partner's file is never rendered by the browser in the library's origin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>
#include "cli/attach.h"
#include "cli/cli.h"
#include "store/blob.h"
#include "web/web_int.h"

void wb_files_html(wb_buf *b, hx_store *s, const uint8_t author[HX_KEY_LEN], const char *path,
                   const hx_entry *e)
{
	char hex[2 * HX_KEY_LEN + 1];
	if (!e->nattach)
		return;
	wb_puts(b, "<h2>Files</h2>\n<ul class=\"files\" id=\"files\">\n");
	for (size_t i = 0; i < e->nattach; i++) {
		const hx_attach *a = &e->attach[i];
		int state = HX_BLOB_NONE;
		if (hx_blob_state(s, a->hash, &state, NULL, NULL))
			state = HX_BLOB_NONE;
		wb_puts(b, "<li>");
		if (state == HX_BLOB_WHOLE) {
			wb_printf(b, "<a download href=\"/file?author=%s&amp;path=",
			          hx_hex(hex, author, HX_KEY_LEN));
			wb_url(b, path);
			wb_puts(b, "&amp;name=");
			wb_url(b, a->name);
			wb_puts(b, "\">");
			wb_esc(b, a->name);
			wb_puts(b, "</a>");
		} else {
			wb_esc(b, a->name);
		}
		wb_printf(b, " <span class=\"meta\">%llu bytes, ", (unsigned long long)a->size);
		wb_esc(b, a->type);
		wb_puts(b, state == HX_BLOB_WHOLE ? "</span>" : "; not on this node yet</span>");
		wb_puts(b, "</li>\n");
	}
	wb_puts(b, "</ul>\n");
}

/* Content-Disposition for name: an ASCII fallback (anything else is '_')
 * and the exact name percent-encoded as filename* (RFC 6266). */
static void disposition(char *out, size_t n, const char *name)
{
	char ascii[HX_ATTACH_NAME_MAX + 1], *q = ascii;
	int len = snprintf(out, n, "attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)name;
	     *p && q < ascii + sizeof ascii - 1; p++)
		*q++ = (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != '%') ? (char)*p
		                                                                         : '_';
	*q = 0;
	len += snprintf(out + len, n - (size_t)len, "%s\"; filename*=UTF-8''", ascii);
	for (const unsigned char *p = (const unsigned char *)name; *p && (size_t)len + 4 < n; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			out[len++] = (char)*p;
		else
			len += snprintf(out + len, n - (size_t)len, "%%%02X", *p);
	}
	out[len] = 0;
}

void wb_page_file(struct wb_req *r)
{
	const char *ahex = wb_arg(r, "author"), *path = wb_arg(r, "path"),
	           *name = wb_arg(r, "name");
	uint8_t author[HX_KEY_LEN];
	hx_store *s = r->w->ctx->store;
	hx_entry e;
	int state;

	if (!ahex || !path || !name || strlen(ahex) != 2 * HX_KEY_LEN ||
	    hx_unhex(author, HX_KEY_LEN, ahex)) {
		wb_message(r, MHD_HTTP_BAD_REQUEST, "Not a file address",
		           "A file address names the author, the document's path and the file.");
		return;
	}
	if (hx_store_current(s, author, path, &e, NULL)) {
		wb_message(r, MHD_HTTP_NOT_FOUND, "No such document",
		           "This library has no document at this address.");
		return;
	}
	const hx_attach *a = hx_entry_attach(&e, name);
	if (!a || hx_blob_state(s, a->hash, &state, NULL, NULL) || state != HX_BLOB_WHOLE) {
		wb_message(r, MHD_HTTP_NOT_FOUND, "File not here",
		           a ? "This file is not on this node yet; it is fetched from the partners."
		             : "The document has no file of that name.");
		hx_entry_clear(&e);
		return;
	}
	char tmp[] = "/tmp/hansa-web-file-XXXXXX";
	int fd = mkstemp(tmp);
	int rc = fd < 0 ? HX_EIO : hx_blob_write_fd(s, a->hash, fd);
	if (fd >= 0)
		close(fd);
	if (rc || !(r->file = strdup(tmp))) {
		if (fd >= 0)
			unlink(tmp);
		wb_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "The file could not be read",
		           rc == HX_ECORRUPT ? "The stored copy is damaged; 'hansa fsck' names it."
		                             : "The file could not be copied for sending.");
		hx_entry_clear(&e);
		return;
	}
	r->ctype = "application/octet-stream";
	disposition(r->disposition, sizeof r->disposition, a->name);
	hx_entry_clear(&e);
}

const char *wb_attach_upload(hx_web *w, const struct wb_field *f, hx_attach *files, size_t *n)
{
	hx_attach a = { 0 };
	if (!f || !f->len || !f->filename || !*f->filename)
		return NULL;
	int rc = hx_blob_add_mem(w->ctx->store, f->val, f->len, a.hash);
	if (rc == HX_ELIMIT)
		return "the file is over the size limit for attached files";
	if (rc)
		return "the file could not be stored";
	a.name = f->filename; /* checked by wb_publish (FORMAT.md §1.7) */
	a.size = f->len;
	/* static storage, never freed: this draft is not cleared */
	a.type = (char *)hx_cli_media_type(f->filename, (const uint8_t *)f->val, f->len);
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(files[i].name, a.name)) {
			files[i] = a;
			return NULL;
		}
	if (*n >= HX_ATTACH_MAX)
		return "this document has as many files as it may have";
	files[(*n)++] = a;
	return NULL;
}
