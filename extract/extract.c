/*
 * extract.c: the parent's side of the extractor. It starts the worker
 * (`hansa extract-worker`, extract/worker.c) with posix_spawn, hands it the
 * file on its stdin, and reads its frames from a pipe under a wall-time
 * deadline, checking every one as hostile input (lengths, page order, UTF-8,
 * the text limit). A crash, a hang or a limit hit becomes an error with a
 * one-line reason; the caller indexes the file by name only.
 *
 * Why a new program and not a plain fork: the node that calls this has
 * threads (ZeroMQ, the index workers) and an LMDB environment mapped with
 * a large map size. After fork only async-signal-safe calls are allowed
 * in the child of a threaded process, LMDB must not be used across fork,
 * and the inherited mapping would count against the child's RLIMIT_AS. A
 * fresh image has none of that, inherits no descriptors (closefrom), and
 * posix_spawn (vfork-like) does not copy the parent's page tables.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "extract/ex_int.h"

extern char **environ;

struct run {
	const struct hx_extract_limits *lim;
	hx_extract_result *out;
	uint8_t *buf; /* bytes read and not yet parsed */
	size_t len, cap;
	size_t lastcap; /* capacity of the last part's text */
	int end;        /* 0: frames go on; 'K' or 'F' seen */
	int code;       /* the error to return (with out->why) */
};

void hx_extract_result_free(hx_extract_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nparts; i++)
		free(r->parts[i].text);
	free(r->parts);
	memset(r, 0, sizeof *r);
}

static int fail(struct run *x, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(struct run *x, int code, const char *fmt, ...)
{
	va_list ap;
	if (x->code)
		return x->code;
	va_start(ap, fmt);
	vsnprintf(x->out->why, sizeof x->out->why, fmt, ap);
	va_end(ap);
	x->code = code;
	return code;
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Appends a text frame to the parts: pages ascending, a page's frames
 * joined. */
static int add_text(struct run *x, uint32_t page, const uint8_t *p, size_t n)
{
	hx_extract_result *r = x->out;
	struct hx_extract_part *last = r->nparts ? &r->parts[r->nparts - 1] : NULL;
	char h[32];

	if (page > EX_MAX_PAGE || (last && page < last->page))
		return fail(x, HX_EPROTO, "the extractor sent page %u out of order",
		            (unsigned)page);
	if (!hx_utf8_valid((const char *)p, n))
		return fail(x, HX_EPROTO, "the extractor sent invalid UTF-8");
	if (n > x->lim->text - r->total) {
		ex_human(h, sizeof h, x->lim->text);
		return fail(x, HX_ELIMIT, "over the %s text limit", h);
	}
	if (!last || last->page != page) {
		size_t cap = r->nparts;
		struct hx_extract_part *v = hx_grow(r->parts, &cap, r->nparts + 1, sizeof *v);
		if (!v)
			return fail(x, HX_ENOMEM, "out of memory");
		r->parts = v;
		last = &r->parts[r->nparts++];
		memset(last, 0, sizeof *last);
		last->page = page;
		x->lastcap = 0;
	}
	char *t = hx_grow(last->text, &x->lastcap, last->len + n + 1, 1);
	if (!t)
		return fail(x, HX_ENOMEM, "out of memory");
	memcpy(t + last->len, p, n);
	last->len += n;
	t[last->len] = 0;
	last->text = t;
	r->total += n;
	return 0;
}

/* The child's reason, made one printable line. */
static void take_reason(struct run *x, uint32_t code, const uint8_t *p, size_t n)
{
	int c = -(int)code;
	if (c != HX_ELIMIT && c != HX_EPROTO && c != HX_EIO && c != HX_ENOMEM)
		c = HX_EPROTO;
	if (!hx_utf8_valid((const char *)p, n)) {
		fail(x, c, "the extractor failed (an unreadable reason)");
		return;
	}
	if (n >= sizeof x->out->why)
		n = sizeof x->out->why - 1;
	while (n && (p[n - 1] & 0xc0) == 0x80) /* a cut character */
		n--;
	if (n && p[n - 1] >= 0xc0)
		n--;
	fail(x, c, "%.*s", (int)n, (const char *)p);
	for (char *w = x->out->why; *w; w++)
		if ((unsigned char)*w < 0x20 || *w == 0x7f)
			*w = ' ';
}

/* Parses the complete frames in x->buf. */
static int parse(struct run *x)
{
	size_t at = 0;
	while (!x->code && x->len - at >= EX_FRAME_HEAD) {
		const uint8_t *h = x->buf + at;
		uint32_t page = hx_be32_get(h + 1), n = hx_be32_get(h + 5);
		if (x->end)
			return fail(x, HX_EPROTO, "the extractor sent more after its end");
		if (n > EX_FRAME_MAX || (h[0] == EX_FRAME_DONE && n))
			return fail(x, HX_EPROTO, "the extractor sent a malformed frame");
		if (x->len - at - EX_FRAME_HEAD < n)
			break;
		if (h[0] == EX_FRAME_TEXT) {
			add_text(x, page, h + EX_FRAME_HEAD, n);
		} else if (h[0] == EX_FRAME_FAIL) {
			take_reason(x, page, h + EX_FRAME_HEAD, n);
			x->end = 'F';
		} else if (h[0] == EX_FRAME_DONE) {
			if (page == HX_EXTRACT_UNKNOWN || page >= HX_EXTRACT_NFORMATS)
				return fail(x, HX_EPROTO, "the extractor sent an unknown format");
			x->out->format = (enum hx_extract_format)page;
			x->end = 'K';
		} else {
			return fail(x, HX_EPROTO, "the extractor sent a malformed frame");
		}
		at += EX_FRAME_HEAD + n;
	}
	memmove(x->buf, x->buf + at, x->len - at);
	x->len -= at;
	return x->code;
}

/* Reads what the child writes until EOF, the deadline or a fault. Returns
 * 0 at EOF, 1 at the deadline, else an error (set in x). */
static int pump(struct run *x, int rfd, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 1;
		struct pollfd p = { rfd, POLLIN, 0 };
		int k = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail(x, HX_EIO, "poll: %s", strerror(errno));
		if (k == 0)
			continue;
		uint8_t *b = hx_grow(x->buf, &x->cap, x->len + EX_FRAME_MAX + EX_FRAME_HEAD, 1);
		if (!b)
			return fail(x, HX_ENOMEM, "out of memory");
		x->buf = b;
		ssize_t n = read(rfd, x->buf + x->len, x->cap - x->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return fail(x, HX_EIO, "reading the extractor: %s", strerror(errno));
		if (n == 0)
			return 0;
		x->len += (size_t)n;
		if (parse(x))
			return x->code;
	}
}

/* Waits for the child to end until the deadline; kills it then. Returns
 * its wait status, or -1 when it had to be killed (or cannot be known). */
static int reap(pid_t pid, int pidfd, int64_t deadline, int kill_now)
{
	int st;
	if (!kill_now && pidfd >= 0) {
		for (;;) {
			int64_t left = deadline - now_ms();
			struct pollfd p = { pidfd, POLLIN, 0 };
			if (left <= 0)
				break;
			int k = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
			if (k > 0 || (k < 0 && errno != EINTR))
				break;
		}
	}
	if (kill_now || waitpid(pid, &st, WNOHANG) != pid) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	return st;
}

/* The worker's environment: this one, and in ASan builds the worker's
 * memory limit as ASan options (ASan's shadow memory rules out RLIMIT_AS). */
static char **worker_env(const struct hx_extract_limits *lim, char *asan, size_t asanlen,
                         char *parent, size_t parentlen)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 3, sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	const char *old = "";
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(environ[i], "ASAN_OPTIONS=", 13))
			old = environ[i] + 13;
		else if (!strncmp(environ[i], HX_EXTRACT_PARENT_ENV "=",
		                  sizeof HX_EXTRACT_PARENT_ENV))
			continue;
		else
			env[k++] = environ[i];
	}
#ifdef EX_ASAN
	unsigned mb = (unsigned)(lim->memory >> 20);
	snprintf(asan, asanlen,
	         "ASAN_OPTIONS=%s%sallocator_may_return_null=1:max_allocation_size_mb=%u:"
	         "hard_rss_limit_mb=%u",
	         old, *old ? ":" : "", mb, mb);
#else
	(void)lim;
	snprintf(asan, asanlen, "ASAN_OPTIONS=%s", old);
#endif
	if (*old || asan[13])
		env[k++] = asan;
	snprintf(parent, parentlen, "%s=%ld", HX_EXTRACT_PARENT_ENV, (long)getpid());
	env[k++] = parent;
	return env;
}

/* Set by hx_extract_dispatch: this program's own binary is a worker. */
static _Atomic int self_hosts_worker;

int hx_extract_dispatch(int argc, char **argv, int *rc)
{
	if (argc > 1 && !strcmp(argv[1], HX_EXTRACT_WORKER_ARG)) {
		*rc = hx_extract_worker_main(argc, argv);
		return 1;
	}
	self_hosts_worker = 1;
	return 0;
}

static int spawn(struct run *x, int fd, const char *name, const char *media, pid_t *pid, int *rfd)
{
	const struct hx_extract_limits *lim = x->lim;
	char a[4][24], nm[256], asan[1024], parent[64];
	int p[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;

	snprintf(nm, sizeof nm, "%s", name ? name : "");
	snprintf(a[0], sizeof a[0], "%zu", lim->text);
	snprintf(a[1], sizeof a[1], "%zu", lim->inflate);
	snprintf(a[2], sizeof a[2], "%zu", lim->memory);
	snprintf(a[3], sizeof a[3], "%u", lim->cpu_s);
	char *argv[] = { "hansa", HX_EXTRACT_WORKER_ARG,        a[0], a[1], a[2], a[3],
		         nm,      (char *)(media ? media : ""), NULL };
	const char *prog = lim->worker ? lim->worker : self_hosts_worker ? "/proc/self/exe" : NULL;
	if (!prog)
		return fail(x, HX_EINVAL, "no extractor: this program does not host the worker");
	char **env = worker_env(lim, asan, sizeof asan, parent, sizeof parent);
	if (!env)
		return fail(x, HX_ENOMEM, "out of memory");
	if (pipe2(p, O_CLOEXEC)) {
		free(env);
		return fail(x, HX_EIO, "pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	if (!getenv("HANSA_EXTRACT_STDERR")) /* (debugging the worker) */
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                      POSIX_SPAWN_SETPGROUP);
	int e = posix_spawn(pid, prog, &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(env);
	close(p[1]);
	if (e) {
		close(p[0]);
		return fail(x, HX_EIO, "cannot start the extractor %s: %s", prog, strerror(e));
	}
	*rfd = p[0];
	return 0;
}

static void say_seconds(char *out, size_t n, unsigned ms)
{
	if (ms % 1000)
		snprintf(out, n, "%.1f s", ms / 1000.0);
	else
		snprintf(out, n, "%u s", ms / 1000);
}

/* Turns how the child ended into the result's error, if it has none. */
static void judge(struct run *x, int status, int timed_out)
{
	char s[32];
	if (timed_out) {
		say_seconds(s, sizeof s, x->lim->wall_ms);
		fail(x, HX_ETIMEOUT, "timed out after %s", s);
	} else if (x->code) {
		return;
	} else if (status == -1) {
		fail(x, HX_EPROTO, "the extractor did not exit after its answer");
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU) {
		fail(x, HX_ELIMIT, "over the %u s CPU limit", x->lim->cpu_s);
	} else if (WIFSIGNALED(status)) {
		const char *abbr = sigabbrev_np(WTERMSIG(status));
		int sig = WTERMSIG(status);
		fail(x, HX_EPROTO, "killed by signal %d (SIG%s%s)", sig, abbr ? abbr : "?",
		     sig == SIGABRT ? ": out of memory or an internal error" : "");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !x->end) {
		fail(x, HX_EIO, "cannot start the extractor");
	} else if (!x->end) {
		fail(x, HX_EPROTO, "the extractor exited with status %d without an answer",
		     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
}

int hx_extract_fd(int fd, const char *name, const char *media_type,
                  const struct hx_extract_limits *lim, hx_extract_result *out)
{
	struct hx_extract_limits def;
	struct run x = { 0 };
	struct stat st;
	pid_t pid;
	int rfd = -1;
	char h1[32], h2[32];

	memset(out, 0, sizeof *out);
	if (!lim) {
		hx_extract_limits_default(&def);
		lim = &def;
	}
	x.lim = lim;
	x.out = out;
	if (fstat(fd, &st))
		return fail(&x, HX_EIO, "cannot read the file: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(&x, HX_EINVAL, "not a regular file");
	if ((uint64_t)st.st_size > lim->file) {
		ex_human(h1, sizeof h1, (uint64_t)st.st_size);
		ex_human(h2, sizeof h2, lim->file);
		return fail(&x, HX_ELIMIT, "the file is %s, over the %s file limit", h1, h2);
	}
	int64_t deadline = now_ms() + lim->wall_ms;
	if (spawn(&x, fd, name, media_type, &pid, &rfd))
		return x.code;
	int pidfd = pidfd_open(pid, 0);
	int r = pump(&x, rfd, deadline);
	close(rfd);
	int status = reap(pid, pidfd, deadline, r != 0);
	if (pidfd >= 0)
		close(pidfd);
	free(x.buf);
	if (!x.code && x.len)
		fail(&x, HX_EPROTO, "the extractor's output ends inside a frame");
	judge(&x, status, r == 1);
	if (!x.code && x.end == 'K' && (!WIFEXITED(status) || WEXITSTATUS(status)))
		fail(&x, HX_EPROTO, "the extractor exited with status %d after its answer",
		     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (x.code) {
		char why[sizeof out->why];
		memcpy(why, out->why, sizeof why);
		hx_extract_result_free(out);
		memcpy(out->why, why, sizeof why);
		return x.code;
	}
	return HX_OK;
}

int hx_extract_path(const char *path, const char *name, const char *media_type,
                    const struct hx_extract_limits *lim, hx_extract_result *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		memset(out, 0, sizeof *out);
		snprintf(out->why, sizeof out->why, "cannot open %s: %s", path, strerror(errno));
		return HX_EIO;
	}
	if (!name) {
		const char *slash = strrchr(path, '/');
		name = slash ? slash + 1 : path;
	}
	int rc = hx_extract_fd(fd, name, media_type, lim, out);
	close(fd);
	return rc;
}
