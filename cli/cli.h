/*
 * cli.h: what the `hansa` subcommands share: the command table entry, the
 * context (home, identity, store), error reporting and JSON output of
 * entries. Only cli/ prints and exits; every other layer returns hx_err.
 */
#ifndef HX_CLI_H
#define HX_CLI_H

#include <stdio.h>
#include <sys/types.h>
#include "proto/entry.h"
#include "store/store.h"

struct cJSON;

/* Exit codes of the hansa command. */
enum { HX_EXIT_OK = 0, HX_EXIT_FAIL = 1, HX_EXIT_USAGE = 2 };

struct hx_ctx {
	char home[4096];        /* resolved home directory */
	hx_store *store;        /* opened lazily by hx_ctx_store() */
	int have_identity;
	uint8_t pk[HX_KEY_LEN]; /* loaded by hx_ctx_identity() */
	uint8_t sk[HX_SECRET_LEN];
	uint8_t curve_pk[32];   /* this node's CURVE transport key pair */
	uint8_t curve_sk[32];
};

struct hx_cmd {
	const char *name;
	const char *summary; /* one line for `hansa help` */
	const char *usage;   /* full text for `hansa CMD --help` */
	int (*exec)(struct hx_ctx *ctx, int argc, char **argv);
};

/* Prints "hansa: MESSAGE" as one line on stderr; returns HX_EXIT_FAIL. */
int hx_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "hansa CMD: MESSAGE" and "try 'hansa CMD --help'"; returns
 * HX_EXIT_USAGE. */
int hx_usage_error(const struct hx_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Handles -h/--help for cmd: prints the usage to stdout and returns 1 when
 * argv asks for help, else 0. */
int hx_cli_wants_help(const struct hx_cmd *cmd, int argc, char **argv);

/* For commands whose only option is --json: sets *json (0 or 1). Returns
 * 0, or prints the usage error and returns HX_EXIT_USAGE for any other
 * argument. */
int hx_opt_json_only(const struct hx_cmd *cmd, int argc, char **argv, int *json);

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

/* Creates dir and its missing parents with mode. 0 or -1 with errno. */
int hx_mkdirs(const char *dir, mode_t mode);
/* fsyncs the directory holding path, so that a rename into it survives a
 * power cut. Returns 0 or -1 (errno set). */
int hx_fsync_parent(const char *path);

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
int hx_resolve_doc(struct hx_ctx *ctx, const char *what, const uint8_t *author,
		   hx_entry *e);

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

/* Signs draft with this node's identity as the next version of its path
 * (timestamp max(now, previous + 1)) and stores it. Prints the error and
 * returns non-zero on failure; on success draft->id is the new id. */
int hx_cli_publish(struct hx_ctx *ctx, hx_entry *draft);

/* ISO 8601 UTC text of a microsecond timestamp into out (32 bytes). */
char *hx_time_text(char *out, size_t n, uint64_t us);

#endif
