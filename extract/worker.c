/*
 * worker.c: the extractor's child process (`hansa extract-worker`). It
 * limits itself before it reads a byte of the file (CPU time, address
 * space, no new files or processes, no sockets: rlimits, no_new_privs and
 * a seccomp filter; docs/SEARCH.md "Text inside attachments" has the list), finds the format from
 * the file's bytes, and writes the text to fd 1 as frames. The parent (extract.c) trusts none of
 * it.
 *
 * A frame, every integer big-endian:
 *   offset size  field
 *   0      1     type: 'T' text, 'F' failure, 'K' done
 *   1      4     'T': the page (0: none); 'K': the format (enum
 *                hx_extract_format); 'F': the error, negated (HX_ELIMIT
 *                or HX_EPROTO)
 *   5      4     length n of the payload (at most 65,536)
 *   9      n     'T': UTF-8 text; 'F': the reason (UTF-8, one line); 'K': none
 * Pages never go down. The stream ends with one 'K' or one 'F', then EOF.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <seccomp.h>
#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif
#include <utf8proc.h>
#include "extract/ex_int.h"

/* ---- limits and sandbox ---------------------------------------------------- */

static void limit(int what, rlim_t v)
{
	/* (RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL a second later) */
	struct rlimit r = { v, what == RLIMIT_CPU ? v + 1 : v };
	(void)setrlimit(what, &r);
}

/* No new processes, sockets, programs or writable files; signals only to
 * itself. Default allow: poppler, glib and libxml2 need an ordinary set of
 * calls whose list differs between versions, and what could do harm is
 * short. Under ASan, LeakSanitizer needs clone and ptrace at exit. */
static int sandbox(void)
{
	static const int deny[] = {
		SCMP_SYS(socket),    SCMP_SYS(socketpair), SCMP_SYS(connect),
		SCMP_SYS(bind),      SCMP_SYS(listen),     SCMP_SYS(accept),
		SCMP_SYS(accept4),   SCMP_SYS(execve),     SCMP_SYS(execveat),
		SCMP_SYS(fork),      SCMP_SYS(vfork),      SCMP_SYS(kill),
		SCMP_SYS(creat),     SCMP_SYS(unlink),     SCMP_SYS(unlinkat),
		SCMP_SYS(rename),    SCMP_SYS(renameat),   SCMP_SYS(renameat2),
		SCMP_SYS(mkdir),     SCMP_SYS(mkdirat),    SCMP_SYS(rmdir),
		SCMP_SYS(link),      SCMP_SYS(linkat),     SCMP_SYS(symlink),
		SCMP_SYS(symlinkat), SCMP_SYS(chmod),      SCMP_SYS(fchmodat),
		SCMP_SYS(truncate),  SCMP_SYS(mount),      SCMP_SYS(process_vm_writev),
		SCMP_SYS(clone3),
#ifndef EX_ASAN
		SCMP_SYS(ptrace),
#endif
	};
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int rc = f ? 0 : -1;

	for (size_t i = 0; !rc && i < sizeof deny / sizeof *deny; i++)
		rc = seccomp_rule_add(f,
		                      deny[i] == SCMP_SYS(clone3) ? SCMP_ACT_ERRNO(ENOSYS)
		                                                  : SCMP_ACT_ERRNO(EPERM),
		                      deny[i], 0);
#ifdef EX_ASAN
	/* open for writing (flags in argument 1 of open, 2 of openat);
	 * LeakSanitizer reads /proc at exit */
	static const int wflags[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC };
	for (size_t i = 0; !rc && i < sizeof wflags / sizeof *wflags; i++) {
		scmp_datum_t m = (scmp_datum_t)wflags[i];
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(open), 1,
		                      SCMP_A1(SCMP_CMP_MASKED_EQ, m, m));
		if (!rc)
			rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), 1,
			                      SCMP_A2(SCMP_CMP_MASKED_EQ, m, m));
	}
#else
	/* no open at all: the readers work on the descriptors they have */
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(open), 0);
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), 0);
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0);
#endif
	/* clone without CLONE_THREAD is a fork */
#ifndef EX_ASAN
	if (!rc)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		                      SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)CLONE_THREAD, 0));
#endif
	if (!rc)
		rc = seccomp_load(f);
	seccomp_release(f);
	return rc;
}

/* ---- test hooks --------------------------------------------------------------- */

/* $HANSA_EXTRACT_TEST_HOOK makes the child misbehave, so that tests can
 * check the parent: "spin" (a CPU loop), "sleep" (waits forever), "crash"
 * (SIGSEGV), "flood" (text frames without end, past every limit), "badutf8"
 * and "badframe" (malformed output), "hog" (allocates past the memory
 * limit), "escape" (tries what the sandbox forbids and reports each try as
 * text). It changes nothing a hostile file could reach. */
static int hook(struct ex_sink *s, const char *h)
{
	static char junk[EX_FRAME_MAX];
	if (!strcmp(h, "spin"))
		for (volatile unsigned long i = 0;; i++)
			;
	if (!strcmp(h, "sleep"))
		for (;;)
			pause();
	if (!strcmp(h, "crash")) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	if (!strcmp(h, "flood")) {
		memset(junk, 'a', sizeof junk);
		while (!ex_put_frame(s->fd, EX_FRAME_TEXT, 1, junk, sizeof junk))
			;
		return 1;
	}
	if (!strcmp(h, "badutf8"))
		return ex_put_frame(s->fd, EX_FRAME_TEXT, 1, "caf\xc3(", 5), 1;
	if (!strcmp(h, "badframe"))
		return ex_write_all(s->fd, "Zjunk-junk-junk", 15), 1;
	if (!strcmp(h, "hog")) {
		size_t n = (size_t)8 << 30; /* 8 GiB */
		char *p = malloc(n);
		if (!p)
			return ex_fail(s, "out of memory (memory limit)");
		memset(p, 1, n);
		free(p);
		return ex_fail(s, "allocated 8 GiB: no memory limit");
	}
	if (!strcmp(h, "escape")) {
		char line[512];
		int fd = open("/tmp/hx-extract-escape", O_WRONLY | O_CREAT, 0600);
		int sk = socket(AF_INET, SOCK_STREAM, 0);
		int rd = open("/etc/hostname", O_RDONLY);
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		int ex = execl("/bin/true", "true", (char *)NULL);
		snprintf(line, sizeof line,
		         "create %s\nsocket %s\nopen-read %s\nfork %s\nexec %s\n",
		         fd < 0 ? "denied" : "allowed", sk < 0 ? "denied" : "allowed",
		         rd < 0 ? "denied" : "allowed", pid < 0 ? "denied" : "allowed",
		         ex < 0 ? "denied" : "allowed");
		return ex_emit(s, 0, line, strlen(line), 0) || ex_flush(s) ? -1 : 0;
	}
	return 0;
}

/* ---- formats ------------------------------------------------------------------ */

static int ext_is(const char *name, const char *const *list)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	if (!dot)
		return 0;
	for (; *list; list++)
		if (!strcasecmp(dot + 1, *list))
			return 1;
	return 0;
}

/* How many bytes at the end of p[0..n) begin a UTF-8 character that the
 * next read completes (0 to 3). */
static size_t cut_tail(const uint8_t *p, size_t n)
{
	for (size_t i = 1; i <= 3 && i <= n; i++) {
		uint8_t b = p[n - i];
		if ((b & 0xc0) == 0x80)
			continue;
		size_t need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
		return need > i ? i : 0;
	}
	return 0;
}

/* Plain text or Markdown: UTF-8 when the first 64 KiB are (a cut
 * character at the end aside), else Latin-1; a NUL byte there means
 * binary, refused. */
static int text(struct ex_sink *s, int fd, const char *head, size_t headlen)
{
	static char buf[1 << 16];
	int latin1 = 0;
	size_t chk = headlen > 3 ? headlen - 3 : headlen;

	if (memchr(head, 0, headlen))
		return ex_fail(s, "binary data (a NUL byte), not text");
	for (size_t i = 0; i < chk;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate((const uint8_t *)head + i, headlen - i, &c);
		if (k < 0) {
			latin1 = 1;
			break;
		}
		i += (size_t)k;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return ex_fail(s, "cannot read the file: %s", strerror(errno));
	for (size_t carry = 0;;) {
		ssize_t n = read(fd, buf + carry, sizeof buf - carry);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ex_fail(s, "cannot read the file: %s", strerror(errno));
		if (n == 0) /* (a character cut at the end becomes U+FFFD) */
			return carry ? ex_emit(s, 0, buf, carry, latin1) : 0;
		size_t all = carry + (size_t)n;
		carry = latin1 ? 0 : cut_tail((const uint8_t *)buf, all);
		if (ex_emit(s, 0, buf, all - carry, latin1))
			return -1;
		memmove(buf, buf + all - carry, carry);
	}
}

static enum hx_extract_format extract(struct ex_sink *s, int fd, const char *name,
                                      const char *media)
{
	static const char *const md[] = { "md", "markdown", "mdown", "mkd", NULL };
	static const char *const txt[] = {
		"txt", "text", "csv", "tsv", "rst", "org", "adoc", NULL
	};
	static char head[1 << 16];
	enum hx_extract_format fmt = HX_EXTRACT_UNKNOWN;
	ssize_t n;

	while ((n = pread(fd, head, sizeof head, 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return ex_fail(s, "cannot read the file: %s", strerror(errno)), fmt;
	size_t len = (size_t)n, pdfwin = len < 1024 ? len : 1024;
	if (pdfwin >= 5 && memmem(head, pdfwin, "%PDF-", 5)) {
		fmt = HX_EXTRACT_PDF;
		if (ex_pdf(s, fd))
			return HX_EXTRACT_UNKNOWN;
	} else if (len >= 4 && !memcmp(head, "PK\3\4", 4)) {
		if (ex_office(s, fd, &fmt))
			return HX_EXTRACT_UNKNOWN;
	} else if (ext_is(name, md) || ext_is(name, txt) ||
	           (media && !strncasecmp(media, "text/", 5))) {
		fmt = ext_is(name, md) || (media && !strcasecmp(media, "text/markdown"))
		              ? HX_EXTRACT_MARKDOWN
		              : HX_EXTRACT_TEXT_PLAIN;
		if (text(s, fd, head, len))
			return HX_EXTRACT_UNKNOWN;
	} else if (ext_is(name, (const char *const[]){ "pdf", NULL })) {
		ex_fail(s, "not a PDF (no %%PDF- header)");
	} else {
		ex_fail(s, "unknown format (not PDF, OpenDocument, Office Open XML or text)");
	}
	return fmt;
}

/* A worker whose node was killed must not run on to its CPU limit (which
 * under load can be minutes of wall time, in a process group of its own):
 * the kernel kills it when the thread that started it goes. The pid it
 * was started by is checked after the prctl, so a parent that died before
 * it is caught too. */
static void die_with_parent(const char *want)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		return;
	if (want && *want && strtol(want, NULL, 10) != (long)getppid())
		_exit(1);
}

/* argv: PROG extract-worker TEXT INFLATE MEMORY CPU_S NAME MEDIA_TYPE */
int hx_extract_worker_main(int argc, char **argv)
{
	static struct ex_sink s;
	unsigned long long v[4];
	struct stat st;
	const char *h = getenv(HX_EXTRACT_HOOK_ENV);

	if (argc != 8)
		return 2;
	for (int i = 0; i < 4; i++) {
		char *end;
		errno = 0;
		v[i] = strtoull(argv[2 + i], &end, 10);
		if (errno || *end || end == argv[2 + i])
			return 2;
	}
	memset(&s, 0, sizeof s);
	s.fd = STDOUT_FILENO;
	s.limit = (size_t)v[0];
	s.inflate = (size_t)v[1];
	signal(SIGPIPE, SIG_IGN);
	die_with_parent(getenv(HX_EXTRACT_PARENT_ENV));

	/* Limits and sandbox first, before any byte of the file. */
	limit(RLIMIT_CORE, 0);
	limit(RLIMIT_FSIZE, 0);
	if (v[3])
		limit(RLIMIT_CPU, (rlim_t)v[3]);
#ifndef EX_ASAN
	/* (ASan reserves terabytes of address space; its worker gets
	 * max_allocation_size_mb and hard_rss_limit_mb from the parent) */
	if (v[2])
		limit(RLIMIT_AS, (rlim_t)v[2]);
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || sandbox()) {
		(void)ex_put_frame(s.fd, EX_FRAME_FAIL, (uint32_t)-HX_EPROTO,
		                   "cannot set up the sandbox", 25);
		return 1;
	}
#ifdef EX_ASAN
	limit(RLIMIT_NOFILE, 3 + 16); /* LeakSanitizer reads /proc at exit */
#else
	limit(RLIMIT_NOFILE, 4); /* stdin, stdout, stderr and libzip's dup */
#endif

	enum hx_extract_format fmt = HX_EXTRACT_UNKNOWN;
	int r = h && *h ? hook(&s, h) : 0;
	if (r > 0)
		return 0;
	if (!r && fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode))
		fmt = extract(&s, STDIN_FILENO, argv[6], *argv[7] ? argv[7] : NULL);
	else if (!r)
		ex_fail(&s, "the input is not a regular file");
	if (!s.why[0])
		ex_flush(&s);
	if (s.why[0]) {
		int limit_hit = strstr(s.why, " limit") || strstr(s.why, "would inflate");
		uint32_t code = (uint32_t)(limit_hit ? -HX_ELIMIT : -HX_EPROTO);
		return ex_put_frame(s.fd, EX_FRAME_FAIL, code, s.why, strlen(s.why)) ? 1 : 0;
	}
	return ex_put_frame(s.fd, EX_FRAME_DONE, (uint32_t)fmt, NULL, 0) ? 1 : 0;
}
