/*
 * ex_office.c: the text of OpenDocument (.odt .ods .odp: content.xml) and
 * Office Open XML (.docx word/document.xml, .pptx ppt/slides/slideN.xml,
 * .xlsx xl/sharedStrings.xml) files, with libzip and libxml2's streaming
 * reader, in the extractor's child process (extract/worker.c).
 *
 * Hostile archives: every member's inflated size is checked against the
 * limit before it is inflated, and the reading stops at the limit whatever
 * the header claimed (a zip bomb is refused, not inflated). The XML is read
 * without network, without DTD loading and without entity substitution; a
 * document with a DOCTYPE is refused (office files have none).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>
#include <libxml/xmlreader.h>
#include "extract/ex_int.h"

#define EX_MAX_SLIDES 10000 /* slides looked for in a .pptx */

/* What the walk over one XML member keeps: the dialect decides which
 * elements carry text and which end a paragraph. */
enum dialect { ODF, OOXML };

struct walk {
	struct ex_sink *s;
	enum dialect d;
	uint32_t page;   /* ODF presentations: the draw:page being read */
	int count_pages; /* .odp: each draw:page is a page */
	int in_body;     /* ODF: inside office:body */
	int in_t;        /* OOXML: inside a <t> element */
};

static int is(const xmlChar *a, const char *b)
{
	return a && !strcmp((const char *)a, b);
}

static int put(struct walk *w, const char *t)
{
	return ex_emit(w->s, w->page, t, strlen(t), 0);
}

/* One element start or end (end: 1) of the dialect. */
static int element(struct walk *w, xmlTextReaderPtr r, int end)
{
	const xmlChar *ln = xmlTextReaderConstLocalName(r);
	int empty = !end && xmlTextReaderIsEmptyElement(r);

	if (w->d == OOXML) {
		if (is(ln, "t"))
			w->in_t = !end && !empty;
		else if (!end && (is(ln, "tab")))
			return put(w, "\t");
		else if (!end && (is(ln, "br") || is(ln, "cr")))
			return put(w, "\n");
		else if ((end || empty) && (is(ln, "p") || is(ln, "si")))
			return put(w, "\n");
		return 0;
	}
	if (is(ln, "body"))
		w->in_body = !end && !empty;
	else if (!w->in_body)
		return 0;
	else if (!end && w->count_pages && is(ln, "page") && w->page < EX_MAX_PAGE)
		w->page++;
	else if (!end && is(ln, "s"))
		return put(w, " ");
	else if (!end && is(ln, "tab"))
		return put(w, "\t");
	else if (!end && is(ln, "line-break"))
		return put(w, "\n");
	else if ((end || empty) && (is(ln, "p") || is(ln, "h") || is(ln, "table-cell")))
		return put(w, "\n");
	return 0;
}

/* 1 if the prolog (before the root element) has a DOCTYPE. */
static int has_doctype(const char *xml, size_t len)
{
	for (const char *p = xml, *end = xml + len; (p = memchr(p, '<', (size_t)(end - p))); p++) {
		size_t left = (size_t)(end - p);
		if (left > 9 && !memcmp(p, "<!DOCTYPE", 9))
			return 1;
		if (left > 1 && p[1] != '?' && p[1] != '!')
			return 0; /* the root element */
	}
	return 0;
}

static int walk_xml(struct walk *w, const char *xml, size_t len, const char *member)
{
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
	xmlTextReaderPtr r;
	int rc = 0, ret;

	if (has_doctype(xml, len))
		return ex_fail(w->s, "%s: an XML DOCTYPE, refused", member);
	r = xmlReaderForMemory(xml, (int)len, NULL, NULL, opts);
	if (!r)
		return ex_fail(w->s, "%s: cannot read the XML", member);
	while (!rc && (ret = xmlTextReaderRead(r)) == 1) {
		switch (xmlTextReaderNodeType(r)) {
		case XML_READER_TYPE_DOCUMENT_TYPE:
			rc = ex_fail(w->s, "%s: an XML DOCTYPE, refused", member);
			break;
		case XML_READER_TYPE_ENTITY_REFERENCE:
			rc = ex_fail(w->s, "%s: an XML entity, refused", member);
			break;
		case XML_READER_TYPE_ELEMENT: rc = element(w, r, 0); break;
		case XML_READER_TYPE_END_ELEMENT: rc = element(w, r, 1); break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
			if (w->d == OOXML ? w->in_t : w->in_body) {
				const xmlChar *v = xmlTextReaderConstValue(r);
				if (v)
					rc = ex_emit(w->s, w->page, (const char *)v,
					             strlen((const char *)v), 0);
			}
			break;
		default: break;
		}
	}
	if (!rc && ret < 0)
		rc = ex_fail(w->s, "%s: malformed XML", member);
	xmlFreeTextReader(r);
	return rc;
}

/* Inflates member (NULL, with *found 0, when absent) after checking its
 * size against what is left of the inflation limit; never reads more than
 * that, whatever the header says. The caller frees the buffer. */
static char *unzip_member(struct ex_sink *s, zip_t *z, const char *member, size_t *len, int *found)
{
	zip_stat_t st;
	char h[32], *buf;
	zip_int64_t n;
	size_t left = s->inflate - s->inflated;

	*found = 0;
	zip_stat_init(&st);
	if (zip_stat(z, member, 0, &st) != 0)
		return NULL;
	*found = 1;
	if (!(st.valid & ZIP_STAT_SIZE))
		return ex_fail(s, "zip entry %s has no size", member), NULL;
	if (st.size > left) {
		ex_human(h, sizeof h, st.size);
		return ex_fail(s, "zip entry %s would inflate to %s", member, h), NULL;
	}
	zip_file_t *f = zip_fopen(z, member, 0);
	if (!f)
		return ex_fail(s, "zip entry %s: %s", member, zip_strerror(z)), NULL;
	if (!(buf = malloc((size_t)st.size + 2))) {
		zip_fclose(f);
		return ex_fail(s, "out of memory"), NULL;
	}
	/* one byte more than declared: a member that inflates to more than its
	 * header says is damaged */
	n = zip_fread(f, buf, st.size + 1);
	zip_fclose(f);
	if (n < 0 || (zip_uint64_t)n != st.size) {
		free(buf);
		return ex_fail(s, "zip entry %s is damaged (its size or checksum is wrong)",
		               member),
		       NULL;
	}
	s->inflated += (size_t)n;
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* Walks member if the archive has it; *found says whether it had. */
static int member(struct walk *w, zip_t *z, const char *name, int *found)
{
	size_t len;
	char *xml = unzip_member(w->s, z, name, &len, found);
	if (!xml)
		return *found || w->s->why[0] ? -1 : 0;
	if (len > 0x7fffffff) {
		free(xml);
		return ex_fail(w->s, "%s: too large", name);
	}
	int rc = walk_xml(w, xml, len, name);
	free(xml);
	return rc;
}

/* OpenDocument: the mimetype member names the kind. */
static int odf(struct ex_sink *s, zip_t *z, enum hx_extract_format *fmt)
{
	static const char prefix[] = "application/vnd.oasis.opendocument.";
	char mt[128] = "";
	zip_file_t *f = zip_fopen(z, "mimetype", 0);
	int found;

	if (f) {
		zip_int64_t n = zip_fread(f, mt, sizeof mt - 1);
		zip_fclose(f);
		mt[n > 0 ? n : 0] = 0;
	}
	const char *kind = !strncmp(mt, prefix, sizeof prefix - 1) ? mt + sizeof prefix - 1 : "";
	if (!strncmp(kind, "text", 4))
		*fmt = HX_EXTRACT_ODT;
	else if (!strncmp(kind, "spreadsheet", 11))
		*fmt = HX_EXTRACT_ODS;
	else if (!strncmp(kind, "presentation", 12))
		*fmt = HX_EXTRACT_ODP;
	else
		return ex_fail(s, "an OpenDocument file of a kind without text (%.40s)", kind);
	struct walk w = { .s = s, .d = ODF, .count_pages = *fmt == HX_EXTRACT_ODP };
	if (member(&w, z, "content.xml", &found))
		return -1;
	return found ? 0 : ex_fail(s, "an OpenDocument file without content.xml");
}

/* Slides in their number order: ppt/slides/slide1.xml, slide2.xml, ...
 * (the page is the number in the name). */
static int pptx(struct ex_sink *s, zip_t *z)
{
	char name[64];
	int found, seen = 0;
	for (unsigned i = 1; i <= EX_MAX_SLIDES; i++) {
		struct walk w = { .s = s, .d = OOXML, .page = i };
		snprintf(name, sizeof name, "ppt/slides/slide%u.xml", i);
		if (member(&w, z, name, &found))
			return -1;
		if (found)
			seen = i;
		else if (i > (unsigned)seen + 50)
			break; /* numbering gaps of more than 50 end the search */
	}
	return 0;
}

int ex_office(struct ex_sink *s, int fd, enum hx_extract_format *fmt)
{
	zip_error_t ze;
	int err = 0, found = 0, rc;
	zip_t *z;

	/* (zip_fdopen owns fd from here on success: the child has no
	 * descriptor to spare for a dup) */
	if (!(z = zip_fdopen(fd, ZIP_RDONLY | ZIP_CHECKCONS, &err))) {
		zip_error_init_with_code(&ze, err);
		ex_fail(s, "a damaged zip archive (%s)", zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return -1;
	}
	struct walk w = { .s = s, .d = OOXML };
	if (zip_name_locate(z, "mimetype", 0) >= 0 && zip_name_locate(z, "content.xml", 0) >= 0) {
		rc = odf(s, z, fmt);
	} else if (zip_name_locate(z, "word/document.xml", 0) >= 0) {
		*fmt = HX_EXTRACT_DOCX;
		rc = member(&w, z, "word/document.xml", &found);
	} else if (zip_name_locate(z, "ppt/presentation.xml", 0) >= 0) {
		*fmt = HX_EXTRACT_PPTX;
		rc = pptx(s, z);
	} else if (zip_name_locate(z, "xl/workbook.xml", 0) >= 0) {
		*fmt = HX_EXTRACT_XLSX;
		rc = member(&w, z, "xl/sharedStrings.xml", &found);
	} else {
		rc = ex_fail(s,
		             "a zip archive that is not an OpenDocument or Office Open XML file");
	}
	zip_discard(z);
	return rc;
}
