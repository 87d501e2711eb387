/*
 * net.h: what the network subcommands (member, peer, invite, join, serve,
 * sync, status) share: this node's own signed member record, resolving a
 * member named on the command line, profile options, and invite codes.
 */
#ifndef HX_CLI_NET_H
#define HX_CLI_NET_H

#include "cli/cli.h"
#include "node/state.h"
#include "proto/invite.h"

struct cJSON;

#define HX_DEFAULT_PORT 7470
#define HX_DEFAULT_BIND "tcp://0.0.0.0:7470"

/* Signs this node's member record (identity sk, transport key cpk, the
 * non-empty profile fields of profile.json) and stores it in the members
 * table. 0, or prints the error and returns 1. */
int hx_cli_put_self_member(hx_store *s, const uint8_t sk[HX_SECRET_LEN], const uint8_t cpk[32],
                           const struct cJSON *profile);

/* Makes sure the members table holds this node's current record (re-signs
 * it when the profile or transport key changed). Loads the identity and the
 * store. 0, or prints the error and returns 1. */
int hx_cli_ensure_self(struct hx_ctx *ctx);

/* This node's signed member record as stored (caller frees *rec). */
int hx_cli_self_record(struct hx_ctx *ctx, uint8_t **rec, size_t *len);

/* Resolves a member given as a full key, a unique key prefix of at least 8
 * hex digits, or a profile name (case-insensitive). 0, or prints the error
 * and returns 1. */
int hx_cli_find_member(struct hx_ctx *ctx, const char *what, uint8_t key[HX_KEY_LEN]);

/* "Name (0123abcd)" or "0123abcd4567ef89" for a key, from the members table. */
void hx_cli_member_label(struct hx_ctx *ctx, const uint8_t key[HX_KEY_LEN], char *out,
                         size_t outlen);

/* The profile options of `init` and `member add`, one per field of
 * hx_profile_fields (cli/identity.h), for a command's option table. */
#define HX_CLI_PROFILE_OPTS                                                                        \
	{ "name", 0, "N", "the partner organisation's name", 0 },                                  \
	        { "town", 0, "T", "its town", 0 }, { "region", 0, "R", "its region", 0 },          \
	        { "country", 0, "CC", "its country: two capital letters (ISO 3166), e.g. DK", 0 }, \
	        { "representative", 0, "P", "the person who represents it", 0 },                   \
	        { "email", 0, "E", "a contact e-mail address", 0 },                                \
	{                                                                                          \
		"web", 0, "URL", "its web site", 0                                                 \
	}
/* Checks a profile value like `hansa init` does; 0 or prints, returns 1. */
int hx_cli_check_profile(const char *field, const char *value);

/* Decodes and verifies an invite code and stores its member record (newer
 * records replace older ones) and the endpoints it advertises. With
 * add_peer, also adds its first endpoint as a peer. inv gets the decoded
 * invite (caller clears). 0, or prints the error and returns 1. */
int hx_cli_accept_invite(struct hx_ctx *ctx, const char *code, int add_peer, hx_invite *inv);

/* Makes this node's invite code for the endpoints (or, when n is 0, the
 * configured bind address with a wildcard host replaced by this host's
 * name). Caller frees *code. 0, or prints the error and returns 1. */
int hx_cli_own_code(struct hx_ctx *ctx, const char *const *eps, size_t n, char **code);

/* What `hansa status` shows (cmd-status.c; the web app shows it too): the
 * node, the store, and every peer (configured or with statistics) but this
 * node itself. */
struct hx_status_row {
	uint8_t key[HX_KEY_LEN];
	char endpoints[512]; /* configured endpoints, space-separated */
	hx_peer_stats st;
	int connected;    /* st.connected and its process alive */
	uint64_t refused; /* all reasons */
};
struct hx_status {
	int running; /* a node serves this home */
	hx_daemon_info d;
	hx_store_stats ss;
	uint64_t zap;  /* connections refused as not members */
	uint64_t junk; /* connections that failed before authentication */
	struct hx_status_row *peers;
	size_t n, cap;
};
/* Loads it (the store must be open); free with hx_cli_status_free, also
 * after an error, which is returned (nothing printed). */
int hx_cli_status_load(struct hx_ctx *ctx, struct hx_status *st);
void hx_cli_status_free(struct hx_status *st);
/* The object of `hansa status --json`; caller owns it. */
struct cJSON *hx_cli_status_json(struct hx_ctx *ctx, const struct hx_status *st);

/* The problems a peer reported, in sentences for people (cmd-status.c):
 * each reason it refuses entries we sent ("Vidzeme refuses 3 of your
 * entries: dated in the future — your clock is 61 minutes ahead"), and a
 * clock more than a minute off. label: the peer's name. Writes up to max
 * items into w; returns how many. */
#define HX_WARN_MAX 8
struct hx_peer_warning {
	int reason;           /* HX_REFUSE_*, or -1 for the clock alone */
	uint64_t count, ours; /* entries refused, and of them authored here */
	int skew_known;
	double ahead_s; /* our clock minus the peer's, seconds */
	char text[320];
};
size_t hx_cli_peer_warnings(const char *label, const hx_peer_stats *st, struct hx_peer_warning *w,
                            size_t max);

/* ---- the roster (cli/roster.c; docs/PROTOCOL.md §4.1) ---- */
/* Publishes an introduction of member key (its signed record and
 * endpoints) unless this node's current one says the same; *done = 1 when
 * it published. 0, or 1 with the error printed. */
int hx_cli_introduce(struct hx_ctx *ctx, const uint8_t key[HX_KEY_LEN], int *done);
/* The same for every member with a signed record; *count published. */
int hx_cli_introduce_all(struct hx_ctx *ctx, size_t *count);
/* Publishes a removal of key when this node had introduced it. */
int hx_cli_announce_removal(struct hx_ctx *ctx, const uint8_t key[HX_KEY_LEN], int *done);
/* Applies the roster to the members table now (node/roster.c). */
int hx_cli_roster_apply(struct hx_ctx *ctx);

/* Whether process pid is alive. */
int hx_cli_pid_alive(uint64_t pid);

#endif
