/*
 * ex_util.c: the small pieces both sides of the extractor use: format
 * names, default limits and sizes said in words ("4 MiB", "2.0 GiB"). The
 * bottom of extract/: it calls nothing else in it.
 */
#include <stdio.h>
#include "extract/ex_int.h"

static const char *const format_names[HX_EXTRACT_NFORMATS] = {
	[HX_EXTRACT_UNKNOWN] = "unknown", [HX_EXTRACT_PDF] = "pdf",
	[HX_EXTRACT_ODT] = "odt",         [HX_EXTRACT_ODS] = "ods",
	[HX_EXTRACT_ODP] = "odp",         [HX_EXTRACT_DOCX] = "docx",
	[HX_EXTRACT_XLSX] = "xlsx",       [HX_EXTRACT_PPTX] = "pptx",
	[HX_EXTRACT_TEXT_PLAIN] = "text", [HX_EXTRACT_MARKDOWN] = "markdown",
};

const char *hx_extract_format_name(enum hx_extract_format f)
{
	return (unsigned)f < HX_EXTRACT_NFORMATS ? format_names[f] : "unknown";
}

void hx_extract_limits_default(struct hx_extract_limits *lim)
{
	lim->wall_ms = HX_EXTRACT_WALL_MS;
	lim->cpu_s = HX_EXTRACT_CPU_S;
	lim->memory = HX_EXTRACT_MEMORY;
	lim->text = HX_EXTRACT_TEXT;
	lim->inflate = HX_EXTRACT_INFLATE;
	lim->file = HX_EXTRACT_FILE;
	lim->worker = NULL;
}

void ex_human(char *out, size_t outlen, uint64_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	int u = -1;
	uint64_t whole = n;

	if (n < 1024) {
		snprintf(out, outlen, "%llu bytes", (unsigned long long)n);
		return;
	}
	while (whole >= 1024 && u < 5) {
		whole /= 1024;
		u++;
	}
	if (whole << (10 * (u + 1)) == n) /* exact: "4 MiB" */
		snprintf(out, outlen, "%llu %s", (unsigned long long)whole, unit[u]);
	else
		snprintf(out, outlen, "%.1f %s", (double)n / (double)(1ull << (10 * (u + 1))),
		         unit[u]);
}
