/*
 * cmd-publish.c: `hansa publish FILE.md`: signs a Markdown document with
 * YAML front matter as a new entry (a new version when the path exists).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/markdown.h"

const struct hx_cmd hx_cmd_publish;

#define READ_MAX (HX_BODY_MAX + 64 * 1024)

/* Reads all of f (at most READ_MAX bytes + 1 to detect excess). */
static char *slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > READ_MAX || got == 0)
			break;
		if (n == cap) {
			char *b = realloc(buf, cap * 2 + 1);
			if (!b) {
				free(buf);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
	}
	if (buf) {
		buf[n] = 0;
		*len = n;
	}
	return buf;
}

static int exec(struct hx_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "path", required_argument, 0, 'p' }, { "title", required_argument, 0, 't' },
		{ "tag", required_argument, 0, 'g' }, { "kind", required_argument, 0, 'k' },
		{ "lang", required_argument, 0, 'l' }, { 0, 0, 0, 0 }
	};
	const char *path = NULL, *title = NULL, *kind = NULL, *lang = NULL;
	const char *tags[HX_TAGS_MAX + 1];
	size_t ntags = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': path = optarg; break;
		case 't': title = optarg; break;
		case 'k': kind = optarg; break;
		case 'l': lang = optarg; break;
		case 'g':
			if (ntags == HX_TAGS_MAX)
				return hx_fail("more than %d tags", HX_TAGS_MAX);
			tags[ntags++] = optarg;
			break;
		default:
			return hx_usage_error(&hx_cmd_publish, "unknown option or missing value '%s'",
					      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return hx_usage_error(&hx_cmd_publish, "give one FILE (or - for stdin)");
	const char *name = argv[optind];
	FILE *f = strcmp(name, "-") ? fopen(name, "rb") : stdin;
	if (!f)
		return hx_fail("%s: %s", name, strerror(errno));
	size_t len;
	char *text = slurp(f, &len);
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (!text || bad)
		return free(text), hx_fail("%s: cannot read", name);
	if (len > READ_MAX)
		return free(text), hx_fail("%s: larger than the %d KiB body limit", name, HX_BODY_MAX / 1024);

	hx_entry d;
	char err[256];
	int line, rc = HX_EXIT_FAIL;
	if (hx_md_parse(text, len, &d, err, sizeof err, &line)) {
		free(text);
		return hx_fail("%s:%d: %s", name, line, err);
	}
	free(text);
	if ((path && hx_strset(&d.path, path)) || (title && hx_strset(&d.title, title)) ||
	    (kind && hx_strset(&d.kind, kind)) || (lang && hx_strset(&d.lang, lang)) ||
	    (!d.kind && hx_strset(&d.kind, "practice")) || (!d.lang && hx_strset(&d.lang, "en"))) {
		hx_fail("out of memory");
		goto out;
	}
	if (ntags) { /* --tag replaces the front matter's tags */
		for (size_t i = 0; i < d.ntags; i++)
			free(d.tags[i]);
		free(d.tags);
		d.ntags = 0;
		if (!(d.tags = calloc(ntags, sizeof *d.tags)))
			goto out;
		for (; d.ntags < ntags; d.ntags++)
			if (!(d.tags[d.ntags] = strdup(tags[d.ntags])))
				goto out;
	}
	if (!d.path) {
		hx_fail("%s: no path (set 'path:' in the front matter or use --path)", name);
		goto out;
	}
	if (!d.title) {
		hx_fail("%s: no title (set 'title:', a '# heading', or --title)", name);
		goto out;
	}
	if (hx_entry_is_tombstone(&d)) {
		hx_fail("%s: kind 'tombstone' is reserved; use 'hansa delete'", name);
		goto out;
	}
	if (hx_cli_publish(ctx, &d))
		goto out;
	char hex[2 * HX_ID_LEN + 1];
	printf("%s %s\n", d.path, hx_hex(hex, d.id, HX_ID_LEN));
	rc = HX_EXIT_OK;
out:
	hx_entry_clear(&d);
	return rc;
}

const struct hx_cmd hx_cmd_publish = {
	.name = "publish",
	.summary = "publish a Markdown document (new version if the path exists)",
	.usage =
	"usage: hansa publish [--path P] [--title T] [--kind K] [--lang L] [--tag T]... FILE.md|-\n"
	"\n"
	"Signs FILE (Markdown with an optional YAML front matter block) as an entry\n"
	"of this partner and stores it. Front matter keys: path, title, kind, tags,\n"
	"lang; any other key (org, country, region, url, licence, ...) becomes\n"
	"metadata. The flags override the front matter; --tag may repeat and\n"
	"replaces its tags. Defaults: kind practice, lang en, title from the first\n"
	"'# heading'. '-' reads standard input. Prints the path and the entry id.\n",
	.exec = exec,
};
