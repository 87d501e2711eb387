/*
 * test_extract.c: the extractor's interface as the index will call it
 * (extract/extract.h), with this program as the worker (it hosts
 * `extract-worker` as hansa does): text frames joined into one part and
 * returned unchanged, control characters and Latin-1 cleaned, each limit
 * given through struct hx_extract_limits, a worker that cannot start, a
 * crash and a timeout, and the result freed on every path (ASan/LSan).
 * tests/extract.t.sh covers the formats and hostile files.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "extract/extract.h"
#include "tests/check.h"

static char dir[] = "/tmp/hx-test-extract.XXXXXX";

static const char *put(const char *name, const char *data, size_t len)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
	return path;
}

static void empty_on_error(const hx_extract_result *r)
{
	CHECK(r->nparts == 0 && r->parts == NULL && r->total == 0 && r->why[0]);
}

int main(int argc, char **argv)
{
	int rc;
	if (hx_extract_dispatch(argc, argv, &rc))
		return rc;
	struct hx_extract_limits lim;
	hx_extract_result r;
	const char *p;

	if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	unsetenv(HX_EXTRACT_HOOK_ENV);
	hx_extract_limits_default(&lim);
	CHECK(lim.wall_ms == HX_EXTRACT_WALL_MS && lim.text == HX_EXTRACT_TEXT && !lim.worker);

	/* 300 KiB of UTF-8 in many frames: one part, byte for byte */
	size_t n = 300 * 1024;
	char *big = malloc(n);
	for (size_t i = 0; i < n; i += 10)
		memcpy(big + i, i % 70 ? "Gdańsk\tć " : "Cēsis\n ok", 10);
	p = put("big.txt", big, n);
	CHECK_RC(hx_extract_path(p, NULL, NULL, NULL, &r), HX_OK);
	CHECK(r.format == HX_EXTRACT_TEXT_PLAIN && r.nparts == 1 && r.parts[0].page == 0);
	CHECK(r.total == n && r.parts[0].len == n && !memcmp(r.parts[0].text, big, n));
	CHECK(r.parts[0].text[n] == 0);
	hx_extract_result_free(&r);
	CHECK(r.nparts == 0 && r.parts == NULL);

	/* the text limit, from the caller */
	lim.text = 100 * 1024;
	CHECK_RC(hx_extract_path(p, NULL, NULL, &lim, &r), HX_ELIMIT);
	CHECK(!strcmp(r.why, "over the 100 KiB text limit"));
	empty_on_error(&r);
	hx_extract_result_free(&r);
	lim.text = HX_EXTRACT_TEXT;

	/* the file limit, checked before the child starts */
	lim.file = 1000;
	CHECK_RC(hx_extract_path(p, NULL, NULL, &lim, &r), HX_ELIMIT);
	CHECK(strstr(r.why, "over the 1000 bytes file limit") != NULL);
	empty_on_error(&r);
	lim.file = HX_EXTRACT_FILE;
	free(big);

	/* control characters become spaces; not UTF-8: Latin-1 */
	p = put("ctl.md",
	        "a\x01"
	        "b\x1b"
	        "c\r\n",
	        7);
	CHECK_RC(hx_extract_path(p, NULL, "text/markdown", NULL, &r), HX_OK);
	CHECK(r.format == HX_EXTRACT_MARKDOWN && r.nparts == 1 &&
	      !strcmp(r.parts[0].text, "a b c \n"));
	hx_extract_result_free(&r);
	p = put("latin.txt", "Gda\xf1sk \xe6", 8);
	CHECK_RC(hx_extract_path(p, NULL, NULL, NULL, &r), HX_OK);
	CHECK(r.nparts == 1 && !strcmp(r.parts[0].text, "Gdañsk æ"));
	hx_extract_result_free(&r);

	/* the name decides between text and unknown; the type alone does not
	 * make binary text */
	p = put("data.bin", "plain words", 11);
	CHECK_RC(hx_extract_path(p, NULL, NULL, NULL, &r), HX_EPROTO);
	CHECK(strstr(r.why, "unknown format") != NULL);
	CHECK_RC(hx_extract_path(p, "notes.txt", NULL, NULL, &r), HX_OK);
	CHECK(r.format == HX_EXTRACT_TEXT_PLAIN && r.nparts == 1);
	hx_extract_result_free(&r);

	/* not a regular file; a worker that cannot start */
	int fds[2];
	CHECK(pipe(fds) == 0);
	CHECK_RC(hx_extract_fd(fds[0], "x.txt", NULL, NULL, &r), HX_EINVAL);
	close(fds[0]);
	close(fds[1]);
	lim.worker = "/nonexistent/hansa";
	CHECK_RC(hx_extract_path(p, "notes.txt", NULL, &lim, &r), HX_EIO);
	CHECK(strstr(r.why, "cannot start the extractor") != NULL);
	lim.worker = NULL;

	/* a crash and a hang in the child */
	setenv(HX_EXTRACT_HOOK_ENV, "crash", 1);
	CHECK_RC(hx_extract_path(p, "notes.txt", NULL, NULL, &r), HX_EPROTO);
	CHECK(!strcmp(r.why, "killed by signal 11 (SIGSEGV)"));
	setenv(HX_EXTRACT_HOOK_ENV, "sleep", 1);
	lim.wall_ms = 1500;
	CHECK_RC(hx_extract_path(p, "notes.txt", NULL, &lim, &r), HX_ETIMEOUT);
	CHECK(!strcmp(r.why, "timed out after 1.5 s"));
	empty_on_error(&r);
	unsetenv(HX_EXTRACT_HOOK_ENV);

	CHECK(!strcmp(hx_extract_format_name(HX_EXTRACT_DOCX), "docx"));
	CHECK(!strcmp(hx_extract_format_name((enum hx_extract_format)99), "unknown"));
	hx_extract_result_free(NULL);

	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
