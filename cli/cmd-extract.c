/*
 * cmd-extract.c: `hansa extract FILE`: the text the search index would get
 * from an attachment, page by page, taken out in the sandboxed child that
 * the index uses (extract/extract.h). Needs no home.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "extract/extract.h"

/* A limit from its option, when given: a positive whole number. */
static int opt_num(const struct hx_args *a, const char *name, unsigned long long mul,
                   unsigned long long max, unsigned long long *v)
{
	const char *s = hx_arg_value(a, name);
	char *end;
	if (!s)
		return 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (*s == '-' || end == s || *end || n == 0 || n > max / mul)
		return hx_usage_error(a->top, "--%s: a whole number from 1 to %llu", name,
		                      max / mul);
	*v = n * mul;
	return 0;
}

static cJSON *to_json(const char *file, const hx_extract_result *r, int rc)
{
	cJSON *o = cJSON_CreateObject(), *parts = cJSON_CreateArray();
	cJSON_AddStringToObject(o, "file", file);
	cJSON_AddBoolToObject(o, "ok", rc == HX_OK);
	cJSON_AddStringToObject(o, "format", hx_extract_format_name(r->format));
	if (rc)
		cJSON_AddStringToObject(o, "error", r->why);
	for (size_t i = 0; i < r->nparts; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "page", r->parts[i].page);
		cJSON_AddStringToObject(p, "text", r->parts[i].text);
		cJSON_AddItemToArray(parts, p);
	}
	cJSON_AddItemToObject(o, "parts", parts);
	cJSON_AddNumberToObject(o, "bytes", (double)r->total);
	return o;
}

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	struct hx_extract_limits lim;
	hx_extract_result r;
	unsigned long long v;
	const char *file = a->argv[0];
	int rc;

	(void)ctx;
	hx_extract_limits_default(&lim);
	v = lim.wall_ms;
	if ((rc = opt_num(a, "timeout", 1000, 3600000, &v)))
		return rc;
	lim.wall_ms = (unsigned)v;
	v = lim.text;
	if ((rc = opt_num(a, "max-text", 1 << 20, (unsigned long long)1 << 40, &v)))
		return rc;
	lim.text = (size_t)v;
	v = lim.memory;
	if ((rc = opt_num(a, "memory", 1 << 20, (unsigned long long)1 << 40, &v)))
		return rc;
	lim.memory = (size_t)v;
	v = lim.cpu_s;
	if ((rc = opt_num(a, "cpu", 1, 3600, &v)))
		return rc;
	lim.cpu_s = (unsigned)v;

	rc = hx_extract_path(file, hx_arg_value(a, "name"), hx_arg_value(a, "type"), &lim, &r);
	if (hx_arg_count(a, "json")) {
		hx_json_print(to_json(file, &r, rc));
	} else if (rc == HX_OK) {
		for (size_t i = 0; i < r.nparts; i++) {
			if (r.parts[i].page)
				printf("--- page %u ---\n", (unsigned)r.parts[i].page);
			fwrite(r.parts[i].text, 1, r.parts[i].len, stdout);
			if (r.parts[i].len && r.parts[i].text[r.parts[i].len - 1] != '\n')
				putchar('\n');
		}
	}
	if (rc != HX_OK)
		hx_fail("%s: %s", file, r.why);
	hx_extract_result_free(&r);
	if (rc != HX_OK)
		return HX_EXIT_FAIL;
	return fflush(stdout) ? hx_fail("cannot write the text") : HX_EXIT_OK;
}

static const struct hx_opt opts[] = {
	{ "json", 0, NULL,
	  "one JSON object: file, ok, format, error (on failure), parts [{page, text}], bytes", 0 },
	{ "name", 0, "NAME", "the file name to judge the type by (default: FILE's own)", 0 },
	{ "type", 0, "MEDIA-TYPE", "the declared media type (a hint only: the bytes decide)", 0 },
	{ "timeout", 0, "SECONDS", "stop the extraction after this wall time (default 20)", 0 },
	{ "cpu", 0, "SECONDS", "the child's CPU time limit (default 20)", 0 },
	{ "memory", 0, "MIB", "the child's memory limit (default 512)", 0 },
	{ "max-text", 0, "MIB", "more text than this is an error (default 4)", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_extract = {
	.name = "extract",
	.summary = "print the text that search takes from a file (PDF, office, text)",
	.args = "FILE",
	.args_min = 1,
	.args_max = 1,
	.opts = opts,
	.text = "Prints the text of FILE as the search index gets it from an attachment,\n"
	        "under a '--- page N ---' line for each page of a PDF or slide of a\n"
	        "presentation. Formats: PDF, OpenDocument (.odt, .ods, .odp), Office Open\n"
	        "XML (.docx, .xlsx, .pptx), plain text and Markdown; the type comes from\n"
	        "the file's bytes, its name's extension only decides between text kinds.\n"
	        "\n"
	        "The extraction runs in a child process with limits on wall time, CPU\n"
	        "time, memory and text, without network, new files or new processes. A\n"
	        "file it cannot read, or one that crashes it or hits a limit, gives a\n"
	        "one-line reason on stderr and exit status 1; the index then knows the\n"
	        "file by its name only. Needs no home.\n",
	.exec = exec,
};
