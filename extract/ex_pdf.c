/*
 * ex_pdf.c: the text of a PDF, page by page, with poppler (poppler-glib),
 * in the extractor's child process (extract/worker.c).
 */
#include <string.h>
#include <poppler.h>
#include "extract/ex_int.h"

int ex_pdf(struct ex_sink *s, int fd)
{
	GError *err = NULL;
	/* (poppler owns fd from here and closes it with the document) */
	PopplerDocument *doc = poppler_document_new_from_fd(fd, NULL, &err);
	int rc = 0;

	if (!doc) {
		int enc =
		        err && err->domain == POPPLER_ERROR && err->code == POPPLER_ERROR_ENCRYPTED;
		if (enc)
			ex_fail(s, "the PDF is encrypted");
		else
			ex_fail(s, "a damaged or truncated PDF (%s)",
			        err && err->message ? err->message : "poppler cannot open it");
		g_clear_error(&err);
		return -1;
	}
	int n = poppler_document_get_n_pages(doc);
	if (n < 0 || (unsigned)n > EX_MAX_PAGE)
		rc = ex_fail(s, "a PDF of %d pages", n);
	for (int i = 0; !rc && i < n; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		if (!page)
			continue;
		char *t = poppler_page_get_text(page);
		if (t && *t)
			rc = ex_emit(s, (uint32_t)i + 1, t, strlen(t), 0);
		if (!rc && t && *t)
			rc = ex_emit(s, (uint32_t)i + 1, "\n", 1, 0);
		g_free(t);
		g_object_unref(page);
	}
	g_object_unref(doc);
	return rc;
}
