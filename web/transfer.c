/*
 * transfer.c: the Offline transfer page: import an uploaded bundle (with
 * the same per-entry report as `hansa import`), download a bundle of
 * everything or of what an uploaded state file lacks, and download the
 * static site. It runs the CLI's own commands (`hansa import`, `hansa
 * export`) as child processes of this binary on this home, so the web app
 * shares their code and their report, and a long import never holds a
 * server thread's memory or the node's loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <microhttpd.h>
#include <sodium.h>
#include <cjson/cJSON.h>
#include "web/web_int.h"

extern char **environ;

#define REPORT_MAX (1u << 20)

static int cloexec_pipe(int p[2])
{
	if (pipe(p))
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

/* Runs this binary with --home HOME and args; collects stdout and stderr
 * (each up to REPORT_MAX). Returns the exit status, or -1. */
static int run_hansa(hx_web *w, const char *const *args, wb_buf *out, wb_buf *err)
{
	char *argv[16];
	size_t k = 0;
	int po[2], pe[2], status = -1;
	argv[k++] = "hansa";
	argv[k++] = "--home";
	argv[k++] = w->ctx->home;
	for (; *args && k < 15; args++)
		argv[k++] = (char *)*args;
	argv[k] = NULL;
	if (cloexec_pipe(po))
		return -1;
	if (cloexec_pipe(pe)) {
		close(po[0]);
		close(po[1]);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (rc) {
		close(po[0]);
		close(pe[0]);
		return -1;
	}
	struct pollfd p[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	wb_buf *dst[2] = { out, err };
	int open_fds = 2;
	while (open_fds) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char buf[8192];
			ssize_t n = read(p[i].fd, buf, sizeof buf);
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			} else if (dst[i]->n + (size_t)n <= REPORT_MAX) {
				wb_put(dst[i], buf, (size_t)n);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A temporary name in the home's tmp folder (made if missing). */
static int tmp_name(hx_web *w, char *out, size_t n, const char *what)
{
	char dir[4200];
	uint8_t rnd[8];
	char hex[17];
	hx_home_path(w->ctx, "tmp", dir, sizeof dir);
	if (hx_mkdirs(dir, 0700))
		return -1;
	randombytes_buf(rnd, sizeof rnd);
	return snprintf(out, n, "%s/web-%s-%s", dir, hx_hex(hex, rnd, sizeof rnd), what) >= (int)n
	               ? -1
	               : 0;
}

static int save_upload(const struct wb_field *f, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < f->len) {
		ssize_t n = write(fd, f->val + off, f->len - off);
		if (n <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

static void page(struct wb_req *r, const char *notice, const wb_buf *report, int ok)
{
	wb_buf *b = &r->out;
	wb_head(r, "Offline transfer", WB_NAV_TRANSFER);
	wb_puts(b,
	        "<h1>Offline transfer</h1>\n<p class=\"intro\">For an office without a connection: "
	        "carry the library on a USB stick as a bundle file, and bring back what it "
	        "wrote.</p>\n");
	if (notice) {
		wb_printf(b, "<div class=\"%s\" id=\"import-result\"><p>", ok ? "notice" : "error");
		wb_esc(b, notice);
		wb_puts(b, "</p>");
		if (report && report->n) {
			wb_puts(b, "<pre class=\"report\">");
			wb_escn(b, report->p, report->n);
			wb_puts(b, "</pre>");
		}
		wb_puts(b, "</div>\n");
	}
	wb_puts(b,
	        "<section class=\"transfer\"><h2>Bring in a bundle</h2><p>Choose a bundle file "
	        "(<code>.hxb</code>) that another partner made. Every entry in it is checked: only "
	        "documents signed by partners are taken in.</p>"
	        "<form method=\"post\" action=\"/transfer/import\" enctype=\"multipart/form-data\">");
	wb_csrf_field(r);
	wb_puts(b, "<input type=\"file\" name=\"bundle\" required> <button type=\"submit\">Bring "
	           "in</button>"
	           "</form></section>\n"
	           "<section class=\"transfer\"><h2>Make a bundle</h2>"
	           "<p><a class=\"button\" href=\"/transfer/bundle\" download>Everything in this "
	           "library</a></p>"
	           "<p>Or only what an office is missing: ask it for its state file (<code>hansa "
	           "state</code>) "
	           "and choose it here.</p><form method=\"post\" action=\"/transfer/bundle\" "
	           "enctype=\"multipart/form-data\">");
	wb_csrf_field(r);
	wb_puts(b,
	        "<input type=\"file\" name=\"state\" required> <button type=\"submit\">Make the bundle"
	        "</button></form></section>\n"
	        "<section class=\"transfer\"><h2>The library as a web site</h2><p>A folder of web "
	        "pages that "
	        "opens in any browser without hansa, e.g. for a partner that has not installed it.</p>"
	        "<p><a class=\"button\" href=\"/transfer/site\" download>Download the site "
	        "(.tar.gz)</a></p>"
	        "</section>\n");
	wb_foot(r);
}

static void do_import(struct wb_req *r)
{
	const struct wb_field *f = wb_file(r, "bundle");
	char path[4400];
	wb_buf out = { 0 }, err = { 0 };
	if (!f || !f->len) {
		r->status = MHD_HTTP_BAD_REQUEST;
		page(r, "Choose a bundle file first.", NULL, 0);
		return;
	}
	if (tmp_name(r->w, path, sizeof path, "import.hxb") || save_upload(f, path)) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		page(r, "The file could not be saved for checking.", NULL, 0);
		return;
	}
	const char *args[] = { "import", path, NULL };
	int rc = run_hansa(r->w, args, &out, &err);
	unlink(path);
	/* the report: the summary line, then one line per refused entry */
	wb_buf report = { 0 };
	if (out.n)
		wb_put(&report, out.p, out.n);
	if (err.n) {
		/* name the upload as the user knows it, not our temporary file */
		const char *s = err.p;
		size_t pl = strlen(path);
		while (*s) {
			const char *hit = strstr(s, path);
			if (!hit) {
				wb_puts(&report, s);
				break;
			}
			wb_put(&report, s, (size_t)(hit - s));
			wb_puts(&report, f->filename[0] ? f->filename : "the bundle");
			s = hit + pl;
		}
	}
	if (out.n) {
		/* replace the temporary name in the summary as well */
		char *hit = report.p ? strstr(report.p, path) : NULL;
		if (hit) {
			wb_buf fixed = { 0 };
			wb_put(&fixed, report.p, (size_t)(hit - report.p));
			wb_puts(&fixed, f->filename[0] ? f->filename : "the bundle");
			wb_puts(&fixed, hit + strlen(path));
			wb_free(&report);
			report = fixed;
		}
	}
	if (rc != 0)
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
	page(r,
	     rc == 0           ? "The bundle was brought in."
	     : rc > 0 && out.n ? "The bundle was brought in, but some of it was refused:"
	                       : "The bundle could not be brought in:",
	     &report, rc == 0);
	wb_free(&report);
	wb_free(&out);
	wb_free(&err);
}

static void do_bundle(struct wb_req *r)
{
	char path[4400], state[4400] = "";
	wb_buf out = { 0 }, err = { 0 };
	const struct wb_field *sf = r->post ? wb_file(r, "state") : NULL;
	if (r->post && (!sf || !sf->len)) {
		r->status = MHD_HTTP_BAD_REQUEST;
		page(r, "Choose the office's state file first.", NULL, 0);
		return;
	}
	if (tmp_name(r->w, path, sizeof path, "library.hxb") ||
	    (sf &&
	     (tmp_name(r->w, state, sizeof state, "office.state") || save_upload(sf, state)))) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		page(r, "A temporary file could not be written.", NULL, 0);
		return;
	}
	const char *full[] = { "export", "--bundle", path, NULL };
	const char *part[] = { "export", "--bundle", path, "--missing-from", state, NULL };
	int rc = run_hansa(r->w, sf ? part : full, &out, &err);
	if (state[0])
		unlink(state);
	if (rc) {
		unlink(path);
		r->status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		page(r, "The bundle could not be made:", &err, 0);
	} else {
		r->file = strdup(path);
		r->ctype = "application/octet-stream";
		snprintf(r->disposition, sizeof r->disposition, "attachment; filename=\"%s\"",
		         sf ? "catchup.hxb" : "library.hxb");
		if (!r->file)
			unlink(path);
	}
	wb_free(&out);
	wb_free(&err);
}

static void do_site(struct wb_req *r)
{
	char dir[4400], tgz[4400];
	wb_buf out = { 0 }, err = { 0 };
	if (tmp_name(r->w, dir, sizeof dir, "site") ||
	    tmp_name(r->w, tgz, sizeof tgz, "site.tar.gz")) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		page(r, "A temporary folder could not be made.", NULL, 0);
		return;
	}
	const char *args[] = { "export", "--html", dir, NULL };
	int rc = run_hansa(r->w, args, &out, &err);
	if (!rc) {
		/* tar is in every Debian; pack, then remove the folder */
		char *slash = strrchr(dir, '/');
		const char *targv[] = {
			"tar",     "-czf", tgz, "-C", NULL, "--transform", "s,^[^/]*,library,",
			slash + 1, NULL
		};
		*slash = 0;
		targv[4] = dir;
		pid_t pid;
		int st = -1;
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		if (!posix_spawnp(&pid, "tar", &fa, NULL, (char *const *)targv, environ))
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		posix_spawn_file_actions_destroy(&fa);
		*slash = '/';
		const char *rmargv[] = { "rm", "-rf", dir, NULL };
		if (!posix_spawnp(&pid, "rm", NULL, NULL, (char *const *)rmargv, environ))
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		rc = WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : 1;
	}
	if (rc) {
		unlink(tgz);
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		page(r, "The site could not be made:", &err, 0);
	} else if ((r->file = strdup(tgz))) {
		r->ctype = "application/gzip";
		snprintf(r->disposition, sizeof r->disposition,
		         "attachment; filename=\"library-site.tar.gz\"");
	}
	wb_free(&out);
	wb_free(&err);
}

void wb_page_transfer(struct wb_req *r)
{
	const char *u = r->url + 9;
	if (!*u && !r->post)
		page(r, NULL, NULL, 1);
	else if (!strcmp(u, "/import") && r->post)
		do_import(r);
	else if (!strcmp(u, "/bundle"))
		do_bundle(r);
	else if (!strcmp(u, "/site") && !r->post)
		do_site(r);
	else
		wb_message(r, MHD_HTTP_NOT_FOUND, "Not found", "There is no page at this address.");
}
