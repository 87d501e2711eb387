/*
 * cmd-web.c: `hansa web`: serves only the web app (web/) over this home's
 * local copy, for a laptop reading its library where no node runs; and
 * `hansa web-password`: sets the password the web app asks for when it
 * listens beyond this computer (an Argon2id hash in HOME/web-password).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include "cli/net.h"
#include "web/web.h"

static void log_line(void *arg, const char *line)
{
	char when[40];
	(void)arg;
	fprintf(stderr, "%s %s\n", hx_time_text(when, sizeof when, hx_now_us()), line);
}

static int exec_web(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *addr = hx_arg_value(a, "http");
	if (!addr)
		addr = HX_WEB_DEFAULT;
	if (hx_web_addr_check(addr))
		return hx_fail("--http: '%s' is not HOST:PORT (an IP address or localhost)", addr);
	if (hx_cli_ensure_self(ctx))
		return HX_EXIT_FAIL;

	/* block SIGINT and SIGTERM in every thread; this one waits for them */
	sigset_t sigs;
	int sig;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	hx_web *w;
	char err[512];
	if (hx_web_start(&w, ctx, addr, log_line, err, sizeof err))
		return hx_fail("%s", err);
	char line[256];
	snprintf(line, sizeof line,
	         "web app on %s (no node runs here: nothing is exchanged with the "
	         "partners; Ctrl-C stops it)",
	         hx_web_url(w));
	log_line(NULL, line);
	while (sigwait(&sigs, &sig))
		;
	hx_web_stop(&w);
	log_line(NULL, "stopped");
	return HX_EXIT_OK;
}

/* One line from stdin, without echo on a terminal. */
static int read_password(char *out, size_t n)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &old);
	if (tty) {
		fputs("new web password: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *ok = fgets(out, (int)n, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!ok)
		return -1;
	size_t l = strlen(out);
	while (l && (out[l - 1] == '\n' || out[l - 1] == '\r'))
		out[--l] = 0;
	return 0;
}

static int exec_password(struct hx_ctx *ctx, const struct hx_args *a)
{
	char path[4200], tmp[4300], pw[1024], hash[crypto_pwhash_STRBYTES];
	int off = hx_arg_count(a, "off") > 0;
	if (!hx_ctx_store(ctx, 0))
		return HX_EXIT_FAIL;
	hx_home_path(ctx, HX_WEB_PASSWORD_FILE, path, sizeof path);
	if (off) {
		if (unlink(path) && errno != ENOENT)
			return hx_fail("%s: %s", path, strerror(errno));
		return HX_EXIT_OK;
	}
	if (read_password(pw, sizeof pw))
		return hx_fail("no password given (type it, or pipe it on standard input)");
	if (strlen(pw) < 8) {
		sodium_memzero(pw, sizeof pw);
		return hx_fail("the password must be at least 8 characters long");
	}
	int rc = crypto_pwhash_str_alg(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                               crypto_pwhash_MEMLIMIT_INTERACTIVE,
	                               crypto_pwhash_ALG_ARGON2ID13);
	sodium_memzero(pw, sizeof pw);
	if (rc)
		return hx_fail("cannot hash the password (out of memory)");
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wx");
	if (!f)
		return hx_fail("%s: %s", tmp, strerror(errno));
	if (fchmod(fileno(f), 0600) || fprintf(f, "%s\n", hash) < 0 || fflush(f) ||
	    fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		return hx_fail("%s: cannot write", tmp);
	}
	fclose(f);
	if (rename(tmp, path) || hx_fsync_parent(path)) {
		unlink(tmp);
		return hx_fail("%s: %s", path, strerror(errno));
	}
	return HX_EXIT_OK;
}

static const struct hx_opt web_opts[] = {
	{ "http", 0, "HOST:PORT",
	  "where to listen (default " HX_WEB_DEFAULT "). On a loopback "
	  "address no login is needed; any other address needs a password set with 'hansa "
	  "web-password' first.",
	  0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_web = {
	.name = "web",
	.summary = "serve only the web app (the library in a browser), no node",
	.opts = web_opts,
	.text = "Serves the library of this home as a web app until Ctrl-C: search, read,\n"
	        "publish, edit and delete, partners, network and offline transfer, a JSON\n"
	        "API under /api/ and /metrics (docs/API.md). Nothing is exchanged with the\n"
	        "partners: 'hansa serve' runs the node and the same web app together.\n",
	.exec = exec_web,
};

static const struct hx_opt password_opts[] = { { "off", 0, NULL, "remove the password", 0 },
	                                       { 0 } };

const struct hx_cmd hx_cmd_web_password = {
	.name = "web-password",
	.summary = "set the password of the web app when it listens beyond this computer",
	.opts = password_opts,
	.text = "Reads a new password (8 characters or more) from the terminal without\n"
	        "echo, or the first line of standard input, and keeps its Argon2id hash in\n"
	        "HOME/web-password. The web app asks for it (and keeps the login in an\n"
	        "HttpOnly, SameSite=Strict cookie) when started with --http on an address\n"
	        "other than loopback; without it, it refuses to start there.\n",
	.exec = exec_password,
};
