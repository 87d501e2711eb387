/*
 * cmd-publish.c: `hansa publish FILE.md`: signs a Markdown document with
 * YAML front matter as a new entry (a new version when the path exists).
 */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/attach.h"
#include "cli/markdown.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *path = hx_arg_value(a, "path"), *title = hx_arg_value(a, "title");
	const char *kind = hx_arg_value(a, "kind"), *lang = hx_arg_value(a, "lang");
	const char *tags[HX_TAGS_MAX], *name = a->argv[0], *why;
	const char *files[HX_ATTACH_MAX + 1];
	size_t ntags = hx_arg_values(a, "tag", tags, HX_TAGS_MAX), len;
	size_t nfiles = hx_arg_values(a, "attach", files, HX_ATTACH_MAX + 1);
	char *text;

	if (ntags > HX_TAGS_MAX)
		return hx_fail("more than %d tags", HX_TAGS_MAX);
	if (nfiles > HX_ATTACH_MAX)
		return hx_fail("more than %d attachments", HX_ATTACH_MAX);
	int frc = hx_file_read(name, HX_MD_FILE_MAX, &text, &len, &why);
	if (frc == HX_ELIMIT)
		return hx_fail("%s: larger than the %d KiB body limit", name, HX_BODY_MAX / 1024);
	if (frc)
		return hx_fail("%s: %s", name, why);

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
	if (d.nattach) { /* front matter: relative to the file's folder */
		char dir[4096];
		const char *slash = strrchr(name, '/');
		if (!strcmp(name, "-") || !slash)
			snprintf(dir, sizeof dir, ".");
		else
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - name), name);
		if (hx_cli_attach_resolve(ctx, &d, dir, name))
			goto out;
	}
	for (size_t i = 0; i < nfiles && i < HX_ATTACH_MAX + 1; i++)
		if (hx_cli_attach_file(ctx, &d, files[i], NULL))
			goto out;
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

static const struct hx_opt opts[] = {
	{ "path", 0, "P", "the document's path (e.g. practices/innovation-brokerage)", 0 },
	{ "title", 0, "T", "its title", 0 },
	{ "kind", 0, "K", "its kind: practice, toolkit, case, event, contact, note, ...", 0 },
	{ "lang", 0, "L", "its language (en, da, de, pl, fi, sv, et, lv, lt, ...)", 0 },
	{ "tag", 0, "T", "a tag; may repeat, and replaces the front matter's tags", HX_OPT_MULTI },
	{ "attach", 'a', "FILE",
	  "attach FILE (stored as a blob, named by its base name, replacing an attachment of that "
	  "name); may repeat",
	  HX_OPT_MULTI },
	{ 0 }
};

const struct hx_cmd hx_cmd_publish = {
	.name = "publish",
	.summary = "publish a Markdown document (new version if the path exists)",
	.args = "FILE.md|-",
	.args_min = 1,
	.args_max = 1,
	.args_error = "give one FILE (or - for stdin)",
	.opts = opts,
	.text = "Signs FILE (Markdown with an optional YAML front matter block) as an entry\n"
	        "of this partner and stores it. Front matter keys: path, title, kind, tags,\n"
	        "lang; any other key (org, country, region, url, licence, ...) becomes\n"
	        "metadata. The flags override the front matter; --tag may repeat and\n"
	        "replaces its tags. Defaults: kind practice, lang en, title from the first\n"
	        "'# heading'. '-' reads standard input. Prints the path and the entry id.\n"
	        "Files named in the front matter's 'attachments:' list (relative to FILE's\n"
	        "folder) and given with --attach are stored as blobs and listed in the\n"
	        "entry with their size, media type and hash.\n",
	.exec = exec,
};
