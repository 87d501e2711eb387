/*
 * markdown.c: front matter + Markdown <-> entry draft (see markdown.h).
 * The YAML is parsed with libyaml's document loader.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "cli/markdown.h"

int hx_strset(char **dst, const char *src)
{
	char *c = strdup(src);
	if (!c)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

static int errf(char *err, size_t errlen, int *line, int at, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static int errf(char *err, size_t errlen, int *line, int at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*line = at;
	return -1;
}

static int add_tag(hx_entry *d, const char *t, size_t n)
{
	while (n && (*t == ' ' || *t == '\t'))
		t++, n--;
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	if (!n)
		return 0;
	char **tags = realloc(d->tags, (d->ntags + 1) * sizeof *tags);
	if (!tags)
		return -1;
	d->tags = tags;
	if (!(tags[d->ntags] = strndup(t, n)))
		return -1;
	d->ntags++;
	return 0;
}

static int add_meta(hx_entry *d, const char *k, const char *v)
{
	hx_meta *m = realloc(d->meta, (d->nmeta + 1) * sizeof *m);
	if (!m)
		return -1;
	d->meta = m;
	m[d->nmeta].key = strdup(k);
	m[d->nmeta].value = strdup(v);
	d->nmeta++;
	return m[d->nmeta - 1].key && m[d->nmeta - 1].value ? 0 : -1;
}

/* Finds the closing "---" line of a front matter block that starts at
 * text (just after the opening line); returns its offset or -1. */
static long find_close(const char *text, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t l = end - i;
		if (l && text[end - 1] == '\r')
			l--;
		if ((l == 3 && !memcmp(text + i, "---", 3)) ||
		    (l == 3 && !memcmp(text + i, "...", 3)))
			return (long)i;
		i = end + 1;
	}
	return -1;
}

/* A YAML tag the front matter does not take: anything but the plain
 * string, list and mapping (libyaml gives every untagged node one of
 * those), e.g. !!binary or !custom. NULL when n is plain. */
static const char *odd_tag(const yaml_node_t *n, char *buf, size_t len)
{
	static const char core[] = "tag:yaml.org,2002:";
	const char *t = (const char *)n->tag;
	if (!t || !strcmp(t, YAML_STR_TAG) || !strcmp(t, YAML_SEQ_TAG) || !strcmp(t, YAML_MAP_TAG))
		return NULL;
	if (!strncmp(t, core, sizeof core - 1))
		snprintf(buf, len, "!!%s", t + sizeof core - 1);
	else
		snprintf(buf, len, "%s", t);
	return buf;
}

/* The line of the first of n's items (or n itself) that carries a tag
 * other than plain text; 0 when none does. */
static int tagged(yaml_document_t *doc, const yaml_node_t *n, char *buf, size_t len)
{
	if (odd_tag(n, buf, len))
		return (int)n->start_mark.line + 2;
	if (n->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			const yaml_node_t *t = yaml_document_get_node(doc, *it);
			if (t && odd_tag(t, buf, len))
				return (int)t->start_mark.line + 2;
		}
	return 0;
}

/* attachments: a list of file paths (or one path), kept as attachments
 * named by the path with a zero hash until hx_cli_attach_resolve. */
static int load_attachments(yaml_document_t *doc, yaml_node_t *v, hx_entry *d, char *err,
                            size_t errlen, int *line, int at)
{
	yaml_node_item_t one, *it = &one, *end = &one + 1;
	if (v->type == YAML_SEQUENCE_NODE) {
		it = v->data.sequence.items.start;
		end = v->data.sequence.items.top;
	} else if (v->type != YAML_SCALAR_NODE) {
		return errf(err, errlen, line, at,
		            "front matter: attachments must be a list of files");
	}
	for (; it < end; it++) {
		yaml_node_t *t = it == &one ? v : yaml_document_get_node(doc, *it);
		if (t->type != YAML_SCALAR_NODE || !t->data.scalar.length ||
		    strlen((char *)t->data.scalar.value) != t->data.scalar.length)
			return errf(err, errlen, line, at,
			            "front matter: each attachment must be a file name");
		if (d->nattach >= HX_ATTACH_MAX)
			return errf(err, errlen, line, at, "front matter: more than %d attachments",
			            HX_ATTACH_MAX);
		hx_attach *na = realloc(d->attach, (d->nattach + 1) * sizeof *na);
		if (!na)
			return errf(err, errlen, line, 1, "out of memory");
		d->attach = na;
		memset(&na[d->nattach], 0, sizeof *na);
		if (!(na[d->nattach].name = strdup((char *)t->data.scalar.value)))
			return errf(err, errlen, line, 1, "out of memory");
		d->nattach++;
	}
	return 0;
}

static int load_front(const char *y, size_t ylen, hx_entry *d, char *err, size_t errlen, int *line)
{
	yaml_parser_t p;
	yaml_document_t doc;
	int rc = 0;

	if (!yaml_parser_initialize(&p))
		return errf(err, errlen, line, 1, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)y, ylen);
	if (!yaml_parser_load(&p, &doc)) {
		int at = (int)p.problem_mark.line + 2;
		errf(err, errlen, line, at, "front matter: %s",
		     p.problem ? p.problem : "invalid YAML");
		yaml_parser_delete(&p);
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) /* empty block */
		goto out;
	if (root->type != YAML_MAPPING_NODE) {
		rc = errf(err, errlen, line, 2, "front matter: not a mapping of keys to values");
		goto out;
	}
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
		int at = (int)k->start_mark.line + 2;
		if (k->type != YAML_SCALAR_NODE) {
			rc = errf(err, errlen, line, at, "front matter: a key is not text");
			goto out;
		}
		const char *key = (const char *)k->data.scalar.value;
		char tag[128];
		int tl = tagged(&doc, k, tag, sizeof tag);
		if (tl || (tl = tagged(&doc, v, tag, sizeof tag))) {
			rc = errf(err, errlen, line, tl,
			          "front matter: '%s' has the YAML tag %s; front matter takes "
			          "plain text and lists of text only",
			          key, tag);
			goto out;
		}
		for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < pr; q++) {
			yaml_node_t *qk = yaml_document_get_node(&doc, q->key);
			if (qk->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)qk->data.scalar.value, key)) {
				rc = errf(
				        err, errlen, line, at,
				        "front matter: the key '%s' appears twice (first on line %d)",
				        key, (int)qk->start_mark.line + 2);
				goto out;
			}
		}
		if (!strcmp(key, "attachments")) {
			if ((rc = load_attachments(&doc, v, d, err, errlen, line, at)))
				goto out;
			continue;
		}
		if (!strcmp(key, "tags")) {
			if (v->type == YAML_SEQUENCE_NODE) {
				for (yaml_node_item_t *it = v->data.sequence.items.start;
				     it < v->data.sequence.items.top; it++) {
					yaml_node_t *t = yaml_document_get_node(&doc, *it);
					if (t->type != YAML_SCALAR_NODE) {
						rc = errf(err, errlen, line, at,
						          "front matter: tags must be text");
						goto out;
					}
					if (add_tag(d, (char *)t->data.scalar.value,
					            t->data.scalar.length))
						goto oom;
				}
				continue;
			}
			if (v->type != YAML_SCALAR_NODE) {
				rc = errf(err, errlen, line, at,
				          "front matter: tags must be a list");
				goto out;
			}
			const char *s = (const char *)v->data.scalar.value;
			while (*s) {
				size_t n = strcspn(s, ",");
				if (add_tag(d, s, n))
					goto oom;
				s += n + (s[n] == ',');
			}
			continue;
		}
		if (v->type != YAML_SCALAR_NODE) {
			rc = errf(err, errlen, line, at,
			          "front matter: '%s' must be a single value", key);
			goto out;
		}
		const char *val = (const char *)v->data.scalar.value;
		if (strlen(val) != v->data.scalar.length) {
			rc = errf(err, errlen, line, at, "front matter: '%s' holds a NUL byte",
			          key);
			goto out;
		}
		char **field = !strcmp(key, "path")    ? &d->path
		               : !strcmp(key, "title") ? &d->title
		               : !strcmp(key, "kind")  ? &d->kind
		               : !strcmp(key, "lang")  ? &d->lang
		                                       : NULL;
		if (field) {
			if (hx_strset(field, val))
				goto oom;
		} else if (strcmp(key, "author") && strcmp(key, "id") && strcmp(key, "timestamp")) {
			if (*val && add_meta(d, key, val))
				goto oom;
		}
	}
	goto out;
oom:
	rc = errf(err, errlen, line, 1, "out of memory");
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return rc;
}

/* The text of the first "# heading" line of body, or NULL. */
static char *first_heading(const char *body)
{
	for (const char *s = body; *s;) {
		size_t n = strcspn(s, "\n");
		if (n > 2 && s[0] == '#' && s[1] == ' ') {
			while (n && (s[n - 1] == '\r' || s[n - 1] == ' '))
				n--;
			return strndup(s + 2, n - 2);
		}
		s += n + (s[n] == '\n');
	}
	return NULL;
}

int hx_md_parse(const char *text, size_t len, hx_entry *d, char *err, size_t errlen, int *line)
{
	size_t body_at = 0;

	memset(d, 0, sizeof *d);
	if (memchr(text, 0, len))
		return errf(err, errlen, line, 1, "the file holds a NUL byte");
	if (!hx_utf8_valid(text, len)) {
		int l = 1;
		/* find the line of the first invalid byte */
		size_t good = 0;
		for (size_t i = 0; i < len; i++) {
			if (text[i] == '\n') {
				if (!hx_utf8_valid(text + good, i - good))
					break;
				good = i + 1;
				l++;
			}
		}
		return errf(err, errlen, line, l, "not valid UTF-8");
	}
	if (len >= 4 && (!strncmp(text, "---\n", 4) || !strncmp(text, "---\r\n", 5))) {
		size_t start = text[3] == '\r' ? 5 : 4;
		long close = find_close(text + start, len - start);
		if (close < 0)
			return errf(err, errlen, line, 1, "front matter: no closing '---' line");
		if (load_front(text + start, (size_t)close, d, err, errlen, line)) {
			hx_entry_clear(d);
			return -1;
		}
		body_at = start + (size_t)close;
		body_at += strcspn(text + body_at, "\n");
		if (body_at < len)
			body_at++;
	}
	/* Drop blank lines between the block and the body, and trailing ones. */
	while (body_at < len && (text[body_at] == '\n' || text[body_at] == '\r'))
		body_at++;
	size_t blen = len - body_at;
	while (blen && (text[body_at + blen - 1] == '\n' || text[body_at + blen - 1] == '\r'))
		blen--;
	if (!(d->body = strndup(text + body_at, blen)))
		goto oom;
	if (!d->title)
		d->title = first_heading(d->body);
	return 0;
oom:
	hx_entry_clear(d);
	return errf(err, errlen, line, 1, "out of memory");
}

/* Writes s as a YAML double-quoted scalar. */
static void yaml_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int hx_md_write(FILE *f, const hx_entry *e, int with_ids)
{
	char hex[65];
	fputs("---\npath: ", f);
	yaml_quote(f, e->path);
	fputs("\ntitle: ", f);
	yaml_quote(f, e->title);
	fputs("\nkind: ", f);
	yaml_quote(f, e->kind);
	fputs("\nlang: ", f);
	yaml_quote(f, e->lang);
	fputs("\ntags: [", f);
	for (size_t i = 0; i < e->ntags; i++) {
		if (i)
			fputs(", ", f);
		yaml_quote(f, e->tags[i]);
	}
	fputs("]\n", f);
	if (e->nattach) { /* the files, written beside the .md by export */
		fputs("attachments: [", f);
		for (size_t i = 0; i < e->nattach; i++) {
			if (i)
				fputs(", ", f);
			yaml_quote(f, e->attach[i].name);
		}
		fputs("]\n", f);
	}
	for (size_t i = 0; i < e->nmeta; i++) {
		fprintf(f, "%s: ", e->meta[i].key);
		yaml_quote(f, e->meta[i].value);
		fputc('\n', f);
	}
	if (with_ids) {
		fprintf(f, "author: \"%s\"\n", hx_hex(hex, e->author, HX_KEY_LEN));
		fprintf(f, "id: \"%s\"\n", hx_hex(hex, e->id, HX_ID_LEN));
		fprintf(f, "timestamp: %llu\n", (unsigned long long)e->timestamp);
	}
	fputs("---\n\n", f);
	fputs(e->body, f);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

/* Body as markdown.c reads it back: no leading or trailing line breaks. */
static void trimmed(const char *b, const char **start, size_t *len)
{
	size_t n = strlen(b);
	while (n && (*b == '\n' || *b == '\r'))
		b++, n--;
	while (n && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	*start = b;
	*len = n;
}

/* 1 when draft d says the same as entry e (metadata with empty values,
 * which front matter cannot carry, are ignored). */
int hx_md_same(const hx_entry *d, const hx_entry *e)
{
	const char *b1, *b2;
	size_t l1, l2, nm = 0;
	trimmed(d->body, &b1, &l1);
	trimmed(e->body, &b2, &l2);
	if (strcmp(d->title, e->title) || strcmp(d->kind, e->kind) || strcmp(d->lang, e->lang) ||
	    l1 != l2 || memcmp(b1, b2, l1) || d->ntags != e->ntags)
		return 0;
	for (size_t i = 0; i < d->ntags; i++)
		if (strcmp(d->tags[i], e->tags[i]))
			return 0;
	if (d->nattach != e->nattach)
		return 0;
	for (size_t i = 0; i < d->nattach; i++)
		if (strcmp(d->attach[i].name, e->attach[i].name) ||
		    memcmp(d->attach[i].hash, e->attach[i].hash, HX_ID_LEN) ||
		    strcmp(d->attach[i].type ? d->attach[i].type : "", e->attach[i].type))
			return 0;
	for (size_t i = 0; i < e->nmeta; i++) {
		if (!e->meta[i].value[0])
			continue;
		nm++;
		const char *v = hx_entry_meta(d, e->meta[i].key);
		if (!v || strcmp(v, e->meta[i].value))
			return 0;
	}
	return nm == d->nmeta;
}

int hx_md_unchanged(hx_store *s, const uint8_t *author, const hx_entry *d)
{
	hx_entry cur;
	if (hx_store_current(s, author, d->path, &cur, NULL))
		return 0;
	int r = hx_md_same(d, &cur);
	hx_entry_clear(&cur);
	return r;
}
