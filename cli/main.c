/*
 * main.c: the `hansa` command: global options, the subcommand table and
 * `hansa help`. Each subcommand lives in cli/cmd-NAME.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "cli/cli.h"

#ifndef HX_VERSION
#define HX_VERSION "0.1.0" /* CMakeLists.txt sets it */
#endif

extern const struct hx_cmd hx_cmd_init, hx_cmd_id, hx_cmd_publish, hx_cmd_show,
	hx_cmd_list, hx_cmd_history, hx_cmd_delete, hx_cmd_import, hx_cmd_export,
	hx_cmd_fsck;
extern const struct hx_cmd hx_cmd_state;
extern const struct hx_cmd hx_cmd_search, hx_cmd_reindex;
extern const struct hx_cmd hx_cmd_backup, hx_cmd_restore, hx_cmd_rebuild;

extern const struct hx_cmd hx_cmd_member, hx_cmd_peer, hx_cmd_invite, hx_cmd_join,
	hx_cmd_serve, hx_cmd_sync, hx_cmd_status;
extern const struct hx_cmd hx_cmd_web, hx_cmd_web_password; /* web app */

static const struct hx_cmd *const commands[] = {
	&hx_cmd_init, &hx_cmd_id, &hx_cmd_publish, &hx_cmd_show, &hx_cmd_list,
	&hx_cmd_history, &hx_cmd_delete, &hx_cmd_import, &hx_cmd_export,
	&hx_cmd_fsck,
	&hx_cmd_search, &hx_cmd_reindex,
	&hx_cmd_state,
	&hx_cmd_member, &hx_cmd_peer, &hx_cmd_invite, &hx_cmd_join, &hx_cmd_serve,
	&hx_cmd_sync, &hx_cmd_status,
	&hx_cmd_web, &hx_cmd_web_password,
	&hx_cmd_backup, &hx_cmd_restore, &hx_cmd_rebuild,
	NULL
};

static const char global_usage[] =
	"usage: hansa [--home DIR] <command> [options]\n"
	"       hansa --version\n"
	"\n"
	"A peer-to-peer knowledge base for partner organisations.\n"
	"The home (identity, store) is --home DIR, else $HANSA_HOME, else\n"
	"$XDG_DATA_HOME/hansa (~/.local/share/hansa).\n"
	"\n"
	"commands:\n";

static void print_help(FILE *f)
{
	fputs(global_usage, f);
	for (const struct hx_cmd *const *c = commands; *c; c++)
		fprintf(f, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fputs("\n'hansa <command> --help' describes one command.\n", f);
}

static const struct hx_cmd *find(const char *name)
{
	for (const struct hx_cmd *const *c = commands; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

static int resolve_home(struct hx_ctx *ctx, const char *opt)
{
	const char *h = opt ? opt : getenv("HANSA_HOME");
	int n;

	if (h && *h)
		n = snprintf(ctx->home, sizeof ctx->home, "%s", h);
	else if ((h = getenv("XDG_DATA_HOME")) && *h)
		n = snprintf(ctx->home, sizeof ctx->home, "%s/hansa", h);
	else if ((h = getenv("HOME")) && *h)
		n = snprintf(ctx->home, sizeof ctx->home, "%s/.local/share/hansa", h);
	else
		return hx_fail("no home: use --home DIR or set HANSA_HOME");
	if (n < 0 || (size_t)n >= sizeof ctx->home - 64)
		return hx_fail("home path too long");
	return 0;
}

/* LMDB 0.9 does not check its pages (no checksums): a damaged data.mdb can
 * make it read outside the file (SIGBUS, SIGSEGV). Say so in one line
 * instead of dumping core. Not in sanitizer builds: the tests rely on their
 * reports, and tests/cli.t.sh counts crashes inside liblmdb apart. */
#if defined(__SANITIZE_ADDRESS__)
#define HX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HX_ASAN 1
#endif
#endif
#ifndef HX_ASAN
static void on_fault(int sig)
{
	static const char msg[] = "hansa: fatal memory fault: a damaged store file "
		"(run 'hansa fsck'; restore it from a backup or a partner) or a bug\n";
	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
		_exit(HX_EXIT_FAIL);
	_exit(HX_EXIT_FAIL);
}
#endif

int main(int argc, char **argv)
{
	struct hx_ctx ctx;
	const char *home = NULL;
	int i = 1, rc;

	memset(&ctx, 0, sizeof ctx);
	opterr = 0; /* the commands say it in their own one-line error */
#ifndef HX_ASAN
	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
#endif
	if (sodium_init() < 0)
		return hx_fail("libsodium failed to initialise");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--home") && i + 1 < argc) {
			home = argv[++i];
		} else if (!strncmp(argv[i], "--home=", 7)) {
			home = argv[i] + 7;
		} else if (!strcmp(argv[i], "--version")) {
			printf("hansa %s (store schema %d)\n", HX_VERSION, HX_STORE_SCHEMA);
			return HX_EXIT_OK;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			print_help(stdout);
			return HX_EXIT_OK;
		} else {
			fprintf(stderr, "hansa: unknown option '%s'\n", argv[i]);
			print_help(stderr);
			return HX_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		print_help(stderr);
		return HX_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		const struct hx_cmd *c = i + 1 < argc ? find(argv[i + 1]) : NULL;
		if (i + 1 < argc && !c) {
			fprintf(stderr, "hansa: no command '%s'\n", argv[i + 1]);
			return HX_EXIT_USAGE;
		}
		if (c)
			fputs(c->usage, stdout);
		else
			print_help(stdout);
		return HX_EXIT_OK;
	}
	const struct hx_cmd *cmd = find(argv[i]);
	if (!cmd) {
		fprintf(stderr, "hansa: no command '%s' (see 'hansa help')\n", argv[i]);
		return HX_EXIT_USAGE;
	}
	if (hx_cli_wants_help(cmd, argc - i, argv + i))
		return HX_EXIT_OK;
	if (resolve_home(&ctx, home))
		return HX_EXIT_FAIL;
	rc = cmd->exec(&ctx, argc - i, argv + i);
	hx_ctx_release(&ctx);
	return rc;
}
