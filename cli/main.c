/*
 * main.c: the `hansa` command: its own options (--home), the command
 * table, `hansa help` and the hidden `hansa man` that writes the manual.
 * Each command lives in cli/cmd-NAME.c and declares its options there.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "cli/offline.h"
#include "extract/extract.h"

#ifndef HX_VERSION
#define HX_VERSION "0.1.0" /* CMakeLists.txt sets it */
#endif

extern const struct hx_cmd hx_cmd_init, hx_cmd_id, hx_cmd_publish, hx_cmd_show, hx_cmd_list,
        hx_cmd_history, hx_cmd_delete, hx_cmd_import, hx_cmd_export, hx_cmd_fsck;
extern const struct hx_cmd hx_cmd_get, hx_cmd_gc; /* attached files */
extern const struct hx_cmd hx_cmd_state;
extern const struct hx_cmd hx_cmd_search, hx_cmd_reindex, hx_cmd_compact;
extern const struct hx_cmd hx_cmd_backup, hx_cmd_restore, hx_cmd_rebuild, hx_cmd_purge;

extern const struct hx_cmd hx_cmd_member, hx_cmd_peer, hx_cmd_invite, hx_cmd_join, hx_cmd_serve,
        hx_cmd_sync, hx_cmd_status;
extern const struct hx_cmd hx_cmd_device, hx_cmd_org;       /* organisation */
extern const struct hx_cmd hx_cmd_fetch;                    /* blobs from the peers */
extern const struct hx_cmd hx_cmd_web, hx_cmd_web_password; /* web app */
extern const struct hx_cmd hx_cmd_extract;

/* One command a line, so that branches adding commands merge cleanly. */
/* clang-format off */
static const struct hx_cmd *const commands[] = {
	&hx_cmd_init,
	&hx_cmd_id,
	&hx_cmd_publish,
	&hx_cmd_show,
	&hx_cmd_list,
	&hx_cmd_history,
	&hx_cmd_delete,
	&hx_cmd_import,
	&hx_cmd_export,
	&hx_cmd_fsck,
	&hx_cmd_search,
	&hx_cmd_reindex,
	&hx_cmd_compact,
	&hx_cmd_state,
	&hx_cmd_member,
	&hx_cmd_peer,
	&hx_cmd_invite,
	&hx_cmd_join,
	&hx_cmd_serve,
	&hx_cmd_sync,
	&hx_cmd_status,
	&hx_cmd_web,
	&hx_cmd_web_password,
	&hx_cmd_backup,
	&hx_cmd_restore,
	&hx_cmd_rebuild,
	&hx_cmd_extract,
	&hx_cmd_get,
	&hx_cmd_gc,
	&hx_cmd_fetch,
	&hx_cmd_device,
	&hx_cmd_org,
	&hx_cmd_purge,
	NULL
};
/* clang-format on */

/* hansa's own options, before the command; hansa(1) is made from this. */
static const struct hx_opt prog_opts[] = {
	{ "home", 0, "DIR",
	  "the home: identity key, profile and store (default: $HANSA_HOME, "
	  "else $XDG_DATA_HOME/hansa, else ~/.local/share/hansa)",
	  0 },
	{ "version", 0, NULL, "print the version and the store schema it writes, then exit", 0 },
	{ 0 }
};

static const struct hx_cmd prog = {
	.summary = "a peer-to-peer, offline-first knowledge base for partner organisations",
	.args = "COMMAND [ARGS...]",
	.args_max = -1,
	.opts = prog_opts,
	.flags = HX_CMD_STOP_AT_ARG,
	.text = "A peer-to-peer, offline-first knowledge base for partner organisations\n"
	        "that share practices and toolkits without a central server. Every partner\n"
	        "runs its own node: what it publishes is a signed entry kept in a local\n"
	        "store with its full-text index; nodes replicate over ZeroMQ with CURVE,\n"
	        "and an office without a link catches up from a bundle.\n"
	        "\n"
	        "The home (identity, profile, store) is --home DIR, else $HANSA_HOME, else\n"
	        "$XDG_DATA_HOME/hansa (~/.local/share/hansa). A protected identity key\n"
	        "takes its passphrase from $HANSA_PASSPHRASE; $NO_COLOR turns colour off.\n"
	        "'hansa COMMAND --help' or hansa-COMMAND(1) describes one command.\n",
};

static void print_help(FILE *f)
{
	hx_cmd_help(&prog, f);
	fputs("\ncommands:\n", f);
	for (const struct hx_cmd *const *c = commands; *c; c++)
		fprintf(f, "  %-10s %s\n", (*c)->name, (*c)->summary);
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
	static const char msg[] =
	        "hansa: fatal memory fault: a damaged store file "
	        "(run 'hansa fsck'; restore it from a backup or a partner) or a bug\n";
	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
		_exit(HX_EXIT_FAIL);
	_exit(HX_EXIT_FAIL);
}
#endif

/* Writes hansa(1) (c NULL) or hansa-CMD(1) to f. */
static void man_page(const struct hx_cmd *c, FILE *f)
{
	if (c)
		hx_cmd_man(c, f);
	else
		hx_main_man(&prog, commands, f);
}

/* DIR/hansa.1 or DIR/hansa-CMD.1, written under a temporary name. */
static int man_file(const char *dir, const struct hx_cmd *c)
{
	char name[4200];
	struct hx_outfile out;
	snprintf(name, sizeof name, "%s/hansa%s%s.1", dir, c ? "-" : "", c ? c->name : "");
	if (hx_outfile_open(&out, name))
		return 1;
	out.nosync = 1; /* a build product */
	man_page(c, out.f);
	return hx_outfile_commit(&out);
}

static const struct hx_opt man_opts[] = {
	{ "out", 0, "DIR",
	  "write hansa.1 and hansa-COMMAND.1 of every command into DIR "
	  "instead",
	  0 },
	{ 0 }
};

/* `hansa man`: not in the command list; the build runs it to write the
 * manual, and it needs no home. */
static const struct hx_cmd man_cmd = {
	.name = "man",
	.summary = "the manual pages, made from the same tables as --help",
	.args = "[COMMAND]",
	.args_max = 1,
	.opts = man_opts,
	.text = "Prints hansa(1), or hansa-COMMAND(1), as roff (man(7)) on stdout, made\n"
	        "from the same option tables and text as 'hansa COMMAND --help'.\n",
};

static int man(const struct hx_args *a)
{
	const struct hx_cmd *c = a->argc ? find(a->argv[0]) : NULL;
	const char *dir = hx_arg_value(a, "out");

	if (a->argc && !c)
		return hx_usage_error(&man_cmd, "no command '%s'", a->argv[0]);
	if (!dir) {
		man_page(c, stdout);
		return fflush(stdout) ? hx_fail("cannot write the man page") : HX_EXIT_OK;
	}
	if (hx_mkdirs(dir, 0755))
		return hx_fail("%s: %s", dir, strerror(errno));
	if (c)
		return man_file(dir, c) ? HX_EXIT_FAIL : HX_EXIT_OK;
	if (man_file(dir, NULL))
		return HX_EXIT_FAIL;
	for (const struct hx_cmd *const *p = commands; *p; p++)
		if (man_file(dir, *p))
			return HX_EXIT_FAIL;
	return HX_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct hx_ctx ctx;
	struct hx_args g, a;
	int rc;

	/* The extractor's sandboxed child (extract/worker.c): before anything
	 * else, so that it sets up its limits first. */
	if (hx_extract_dispatch(argc, argv, &rc))
		return rc;
	memset(&ctx, 0, sizeof ctx);
#ifndef HX_ASAN
	signal(SIGBUS, on_fault);
	signal(SIGSEGV, on_fault);
#endif
	if (sodium_init() < 0)
		return hx_fail("libsodium failed to initialise");
	if ((rc = hx_args_parse(&prog, argc, argv, &g)))
		return rc == 1 ? HX_EXIT_OK : rc;
	if (hx_arg_count(&g, "version")) {
		hx_args_free(&g);
		printf("hansa %s (store schema %d)\n", HX_VERSION, HX_STORE_SCHEMA);
		return HX_EXIT_OK;
	}
	if (!g.argc) {
		hx_args_free(&g);
		print_help(stderr);
		return HX_EXIT_USAGE;
	}
	const char *name = g.argv[0];
	if (!strcmp(name, "help")) {
		const struct hx_cmd *c = g.argc > 1 ? find(g.argv[1]) : NULL;
		rc = HX_EXIT_OK;
		if (g.argc > 1 && !c) {
			fprintf(stderr, "hansa: no command '%s'\n", g.argv[1]);
			rc = HX_EXIT_USAGE;
		} else if (c) {
			hx_cmd_help(c, stdout);
		} else {
			print_help(stdout);
		}
		hx_args_free(&g);
		return rc;
	}
	const struct hx_cmd *cmd = !strcmp(name, "man") ? &man_cmd : find(name);
	if (!cmd) {
		fprintf(stderr, "hansa: no command '%s' (see 'hansa help')\n", name);
		hx_args_free(&g);
		return HX_EXIT_USAGE;
	}
	if ((rc = hx_args_parse(cmd, g.argc, g.argv, &a))) {
		hx_args_free(&g);
		return rc == 1 ? HX_EXIT_OK : rc;
	}
	if (cmd == &man_cmd) {
		rc = man(&a);
	} else if (resolve_home(&ctx, hx_arg_value(&g, "home"))) {
		rc = HX_EXIT_FAIL;
	} else {
		rc = a.cmd->exec(&ctx, &a);
		hx_ctx_release(&ctx);
	}
	hx_args_free(&a);
	hx_args_free(&g);
	return rc;
}
