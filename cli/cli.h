/*
 * cli.h: what the `hansa` subcommands share: the command table entry with
 * its option table and the one parser of command lines (args.c), the
 * context (home, identity, store), error reporting and JSON output of
 * entries. Only cli/ prints and exits; every other layer returns hx_err.
 */
#ifndef HX_CLI_H
#define HX_CLI_H

#include <stdio.h>
#include <sys/types.h>
#include "cli/file.h"
#include "proto/entry.h"
#include "store/store.h"

struct cJSON;

/* Exit codes of the hansa command. */
enum { HX_EXIT_OK = 0, HX_EXIT_FAIL = 1, HX_EXIT_USAGE = 2 };

struct hx_ctx {
	char home[4096]; /* resolved home directory */
	hx_store *store; /* opened lazily by hx_ctx_store() */
	int have_identity;
	uint8_t pk[HX_KEY_LEN];    /* loaded by hx_ctx_identity(): the organisation */
	uint8_t sk[HX_SECRET_LEN]; /* the key this home signs with */
	/* A home whose key is not the organisation key (org.json): a device
	 * of it (is_device), or the organisation's home after a rotation.
	 * signer_pk is then the public half of sk. */
	int has_signer, is_device;
	uint8_t signer_pk[HX_KEY_LEN];
	uint8_t curve_pk[32]; /* this node's CURVE transport key pair */
	uint8_t curve_sk[32];
};

/* One option of a command, as its table declares it. The shared parser,
 * `hansa CMD --help` and the man page hansa-CMD(1) are all made from the
 * table, so they cannot disagree (the way tmux's cmd_entry declares its
 * arguments for args_parse and its usage line). */
struct hx_opt {
	const char *name;  /* long name without "--", e.g. "limit" */
	char letter;       /* short form (-o), or 0 for none */
	const char *value; /* the value's name ("N", "FILE"); NULL: a flag */
	const char *help;  /* one or two sentences, wrapped when printed */
	unsigned flags;    /* HX_OPT_* */
};

/* hx_opt.flags */
#define HX_OPT_MULTI 1    /* may repeat, every value kept (--tag, --endpoint) */
#define HX_OPT_REQUIRED 2 /* must be given (state --out) */

/* cmd.flags */
#define HX_CMD_DASH_ARGS                                  \
	1 /* a word with one '-' is an argument unless it \
	   * is exactly a short option, like -h (search:  \
	   * -word excludes a word) */
#define HX_CMD_STOP_AT_ARG                              \
	2 /* options end at the first argument (hansa's \
	   * own, before the command) */

struct hx_args;

/* A command, or a subcommand in another's subs (member add). */
struct hx_cmd {
	const char *name;
	const char *summary;       /* one line for `hansa help` and NAME in its man page */
	const char *args;          /* positional arguments as the synopsis shows them:
	                            * "PATH|ID", "[PEER]", "QUERY..." */
	int args_min, args_max;    /* how many there may be; args_max -1: no limit */
	const char *args_error;    /* said when the count is wrong; NULL: generated */
	const struct hx_opt *opts; /* ends with { 0 }; NULL: none */
	const char *text;          /* prose after the synopsis: what it does. Lines
	                            * that start with a space are kept as they are
	                            * (tables), others are filled in the man page. */
	const struct hx_cmd *subs; /* subcommands, ending with { 0 }; then this
	                            * command only dispatches to them */
	const char *alias;         /* a subcommand's short name (rm, ls) */
	unsigned flags;            /* HX_CMD_* */
	int (*exec)(struct hx_ctx *ctx, const struct hx_args *a);
};

/* A parsed command line (the parser owns the memory; hx_args_free). */
struct hx_args {
	const struct hx_cmd *top; /* the command the errors name (member) */
	const struct hx_cmd *cmd; /* the one that runs (member add) */
	int argc;                 /* positional arguments, in order, borrowed */
	char **argv;              /* from the process's argv */
	size_t nset;              /* options in command-line order */
	struct hx_arg_set {
		const struct hx_opt *opt;
		const char *value; /* NULL for a flag */
	} * set;
};

/* Parses argv (argv[0] is the command's name) against cmd's table into a:
 * long options as --opt VAL or --opt=VAL, short ones as -o VAL, -oVAL or
 * bundled flags (-nv), options and arguments in any order, "--" ends the
 * options. -h or --help anywhere before "--" prints the help on stdout.
 * Returns 0 (parsed; run a->cmd), 1 (help printed: exit 0) or, after
 * printing the one-line usage error, HX_EXIT_USAGE. On 0 the caller calls
 * hx_args_free. */
int hx_args_parse(const struct hx_cmd *cmd, int argc, char **argv, struct hx_args *a);
void hx_args_free(struct hx_args *a);

/* The last value given for the option named name (declared in the running
 * command's table; anything else is a bug and aborts), or NULL. */
const char *hx_arg_value(const struct hx_args *a, const char *name);
/* How many times the option was given (0: not at all). */
int hx_arg_count(const struct hx_args *a, const char *name);
/* Every value of a repeatable option in order: fills v with at most max of
 * them (borrowed) and returns how many were given, which may be more. */
size_t hx_arg_values(const struct hx_args *a, const char *name, const char **v, size_t max);

/* `hansa CMD --help`: the synopsis made from the table, the prose, the
 * subcommands and the options, wrapped to 79 columns. */
void hx_cmd_help(const struct hx_cmd *cmd, FILE *f);
/* The same as a man page (roff, man(7) macros): hansa-CMD(1). */
void hx_cmd_man(const struct hx_cmd *cmd, FILE *f);
/* hansa(1): prog's options and prose (main.c's table), then every command
 * of the NULL-terminated list with its summary. */
void hx_main_man(const struct hx_cmd *prog, const struct hx_cmd *const *cmds, FILE *f);

/* Parses a size: bytes, or with a K, M or G suffix (binary); 0 on error. */
uint64_t hx_size_arg(const char *s);

/* Prints "hansa: MESSAGE" as one line on stderr; returns HX_EXIT_FAIL. */
int hx_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "hansa CMD: MESSAGE (try 'hansa CMD --help')" as one line on
 * stderr; returns HX_EXIT_USAGE. */
int hx_usage_error(const struct hx_cmd *cmd, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Opens the store of ctx->home (creating it only if create). Prints the
 * error and returns NULL on failure. */
hx_store *hx_ctx_store(struct hx_ctx *ctx, int create);
/* Loads the identity (asks HANSA_PASSPHRASE when the key is protected).
 * Prints the error and returns non-zero on failure. */
int hx_ctx_identity(struct hx_ctx *ctx);
/* This partner's public key, from the loaded identity or else quietly from
 * the profile (reading needs no passphrase). 0 on success, -1 (nothing
 * printed) when the home has none. */
int hx_ctx_pubkey(struct hx_ctx *ctx, uint8_t pk[HX_KEY_LEN]);
/* Releases store and wipes secrets. */
void hx_ctx_release(struct hx_ctx *ctx);

/* Path of a file inside the home: out gets home/name. */
int hx_home_path(const struct hx_ctx *ctx, const char *name, char *out, size_t outlen);

/* A JSON object for an entry: id, path, author, timestamp, kind, title,
 * tags, lang, meta, and body when with_body. Caller owns the result. */
struct cJSON *hx_entry_json(const hx_entry *e, int with_body);
/* Search results as `hansa search --json [--facets]` prints them
 * (cmd-search.c; the web API answers the same): an array of hits, or with
 * facets or a corrected query an object with results, total, facets and
 * corrected_query / original_query (query) / search_instead. Caller owns the
 * result. */
struct hx_results;
struct cJSON *hx_search_json(hx_store *s, const struct hx_results *r, int facets,
                             const char *query);
/* Prints a JSON value followed by a newline on stdout, then deletes it. */
void hx_json_print(struct cJSON *v);

/* Resolves "PATH or ID" for show/delete-like commands: an id (64 hex
 * digits) or a path owned by author (when given), by this node's own
 * identity, or by exactly one author. Fills e (caller clears). Prints the
 * error and returns non-zero on failure. */
int hx_resolve_doc(struct hx_ctx *ctx, const char *what, const uint8_t *author, hx_entry *e);

/* Parses a 64-hex-digit key; prints the error and returns non-zero if bad. */
int hx_parse_key(const char *hex, uint8_t key[HX_KEY_LEN]);

/* Whether stderr/stdout are terminals (for progress bars and colour). */
int hx_isatty_err(void);
int hx_isatty_out(void);

/* A progress bar on stderr, drawn only when stderr is a terminal. */
struct hx_progress {
	const char *what;
	uint64_t total, done;
	uint64_t last_draw_us;
	int active;
};
void hx_progress_start(struct hx_progress *p, const char *what, uint64_t total);
void hx_progress_update(struct hx_progress *p, uint64_t done);
void hx_progress_end(struct hx_progress *p);

/* Signs e as this home does: with the organisation key, or for it with
 * this device's (or the rotated organisation's) key. */
int hx_cli_sign(struct hx_ctx *ctx, hx_entry *e, uint8_t **raw, size_t *len) HX_WUR;
/* The key this home's node speaks as: the device key in a device home,
 * else the organisation key. */
const uint8_t *hx_ctx_node_key(const struct hx_ctx *ctx);

/* Signs draft with this node's identity as the next version of its path
 * (timestamp max(now, previous + 1)) and stores it. Prints the error and
 * returns non-zero on failure; on success draft->id is the new id. */
int hx_cli_publish(struct hx_ctx *ctx, hx_entry *draft);

/* ISO 8601 UTC text of a microsecond timestamp into out (32 bytes). */
char *hx_time_text(char *out, size_t n, uint64_t us);

#endif
