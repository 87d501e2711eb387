/*
 * state.h: what the node keeps in the store besides entries, so that the
 * daemon and the one-shot commands (peer, member, status, sync) in other
 * processes share it: the configured peers, settings (the bind address),
 * endpoints members advertised in their invite codes, per-peer statistics
 * and counters, and the members table decoded. Everything lives in the
 * store's kv table (layouts in state.c) and the members table.
 */
#ifndef HX_NODE_STATE_H
#define HX_NODE_STATE_H

#include "proto/member.h"
#include "proto/invite.h"
#include "store/store.h"

/* ---- peers: where to connect -------------------------------------------- */

typedef struct hx_peer_conf {
	char endpoint[HX_ENDPOINT_MAX + 1];
	uint8_t key[HX_KEY_LEN]; /* the member expected at that endpoint */
	uint64_t added;          /* µs */
} hx_peer_conf;

/* Adds or replaces the peer at endpoint. HX_EINVAL for a bad endpoint. */
int hx_peer_add(hx_store *s, const char *endpoint, const uint8_t key[HX_KEY_LEN]) HX_WUR;
/* HX_ENOTFOUND when there is no such peer. */
int hx_peer_del(hx_store *s, const char *endpoint) HX_WUR;
/* All peers in endpoint order; *out is malloc'd (caller frees), may be
 * NULL when *n is 0. */
int hx_peer_list(hx_store *s, hx_peer_conf **out, size_t *n) HX_WUR;

/* ---- settings ------------------------------------------------------------ */

/* A text setting ("bind", ...); HX_ENOTFOUND when unset. out gets at most
 * outlen - 1 bytes and a NUL. */
int hx_setting_get(hx_store *s, const char *name, char *out, size_t outlen) HX_WUR;
int hx_setting_put(hx_store *s, const char *name, const char *value) HX_WUR;

/* Endpoints a member advertised in its invite code ("\n"-separated). */
int hx_member_endpoints_put(hx_store *s, const uint8_t key[HX_KEY_LEN], const char *const *eps,
                            size_t n) HX_WUR;
/* The endpoints key advertised, into eps (up to max, each with room for
 * HX_ENDPOINT_MAX + 1 bytes); *n how many. HX_ENOTFOUND when none. */
int hx_member_endpoints_get(hx_store *s, const uint8_t key[HX_KEY_LEN],
                            char (*eps)[HX_ENDPOINT_MAX + 1], size_t max, size_t *n) HX_WUR;
/* Finds the member that advertised endpoint: HX_OK and *key, HX_ENOTFOUND,
 * or HX_EEXIST when several did. */
int hx_member_by_endpoint(hx_store *s, const char *endpoint, uint8_t key[HX_KEY_LEN]) HX_WUR;

/* ---- members decoded ---------------------------------------------------- */

/* Every member record, decoded (caller frees with hx_members_free). A
 * record that does not decode is skipped and counted in *bad (may be
 * NULL). */
int hx_members_load(hx_store *s, hx_member **out, size_t *n, size_t *bad) HX_WUR;
void hx_members_free(hx_member *m, size_t n);
/* One member; HX_ENOTFOUND. Caller clears m. */
int hx_member_load(hx_store *s, const uint8_t key[HX_KEY_LEN], hx_member *m) HX_WUR;

/* ---- per-peer statistics ------------------------------------------------- */

/* Why a received entry was refused. */
enum hx_refuse {
	HX_REFUSE_MALFORMED,      /* not the canonical encoding, unknown version */
	HX_REFUSE_LIMIT,          /* a field or the entry over its limit */
	HX_REFUSE_SIGNATURE,      /* signature does not verify (forged, tampered) */
	HX_REFUSE_NOT_MEMBER,     /* author is not a member */
	HX_REFUSE_FUTURE,         /* timestamp more than 10 minutes ahead */
	HX_REFUSE_RECORD,         /* a system record that breaks its kind's rules */
	HX_REFUSE_UNKNOWN_DEVICE, /* signed by a key that is no device of the author */
	HX_REFUSE_REVOKED,        /* by a revoked device or a retired organisation key */
	HX_REFUSE_N
};
/* "malformed", "over-limit", "bad-signature", "not-member", "future",
 * "bad-record", "unknown-device", "revoked-device". */
const char *hx_refuse_name(int reason);
/* The reason for an hx_err from decoding/verifying an entry. */
int hx_refuse_reason(int err);
/* The reason's code in a REFUSED message (HX_WREFUSE_*), and back (-1 for
 * a code this build does not know). */
uint8_t hx_refuse_wire(int reason);
/* The reason in plain words ("dated in the future"), for people. */
const char *hx_refuse_words(int reason);
int hx_refuse_from_wire(uint8_t code);

/* Counters of one peer (a member this node exchanged messages with).
 * Written by the daemon about once a second and by `hansa sync`. */
typedef struct hx_peer_stats {
	uint64_t connected;    /* 1 while the writing process is connected */
	uint64_t pid;          /* that process */
	uint64_t last_seen;    /* µs of the last message received */
	uint64_t last_connect; /* µs the connection came up */
	uint64_t last_recon;   /* µs of the last completed reconciliation */
	uint64_t recon_ok;     /* completed reconciliations */
	uint64_t sent;         /* entries sent */
	uint64_t received;     /* entries received and stored */
	uint64_t refused[HX_REFUSE_N];
	uint64_t bad_messages;  /* malformed wire messages */
	uint64_t lack_known;    /* 1 when we_lack/they_lack are set */
	uint64_t we_lack;       /* entries the peer has that we lack, as of the
	                         * last reconciliation minus received since */
	uint64_t they_lack;     /* entries we have that the peer lacks, likewise */
	uint64_t updated;       /* µs of this record */
	uint64_t last_error_at; /* µs of the last failure (connect, sync) */
	char last_error[128];   /* what it was, or "" */
	/* The peer's clock: skew_us = its clock minus ours, as of skew_at
	 * (µs; 0 = unknown), from its HELLO or REFUSED. */
	uint64_t skew_at;
	int64_t skew_us;
	/* What the peer said it refused of the entries we sent it (REFUSED
	 * messages): distinct entries per reason, and of those the ones we
	 * authored, since the writing process started; when it last did. */
	uint64_t they_refused[HX_REFUSE_N];
	uint64_t they_refused_ours[HX_REFUSE_N];
	uint64_t they_refused_at;
} hx_peer_stats;

/* Zeroes *st when there is no record yet. */
int hx_stats_load(hx_store *s, const uint8_t key[HX_KEY_LEN], hx_peer_stats *st) HX_WUR;
int hx_stats_save(hx_store *s, const uint8_t key[HX_KEY_LEN], const hx_peer_stats *st) HX_WUR;
/* Calls cb for every peer with statistics. */
typedef int (*hx_stats_cb)(void *arg, const uint8_t key[HX_KEY_LEN], const hx_peer_stats *st);
int hx_stats_list(hx_store *s, hx_stats_cb cb, void *arg) HX_WUR;

/* Node-wide counters: "junk" (connections to the listening socket that
 * failed before their CURVE handshake ended: junk bytes, a scan, another
 * protocol), "zap-refused" (connections refused by the ZAP
 * handler), ... */
int hx_counter_add(hx_store *s, const char *name, uint64_t delta) HX_WUR;
int hx_counter_get(hx_store *s, const char *name, uint64_t *v) HX_WUR;

/* The running daemon (written by `hansa serve`): pid, start time, bind. */
typedef struct hx_daemon_info {
	uint64_t pid, started;
	char bind[HX_ENDPOINT_MAX + 1];
} hx_daemon_info;
int hx_daemon_put(hx_store *s, const hx_daemon_info *d) HX_WUR;
int hx_daemon_get(hx_store *s, hx_daemon_info *d) HX_WUR; /* HX_ENOTFOUND */
int hx_daemon_clear(hx_store *s) HX_WUR;

/* ---- push latency -------------------------------------------------------- */

/* Push latency: arrival time minus the entry's timestamp (the author's
 * clock; negative counts as 0) of each entry that came in a LIVE push and
 * was newly stored. Fixed buckets, upper bounds in µs (hx_push_hist_le);
 * the last bucket is +Inf. bucket[i] counts the samples of bucket i alone
 * (not cumulative). Kept by the daemon, written to the kv table under
 * "push-latency" (layout in docs/FORMAT.md §3). */
#define HX_PUSH_HIST_N 14
extern const uint64_t hx_push_hist_le[HX_PUSH_HIST_N - 1];
typedef struct hx_push_hist {
	uint64_t count;
	uint64_t sum_us;
	uint64_t bucket[HX_PUSH_HIST_N];
} hx_push_hist;
#define HX_PUSH_HIST_VERSION 1
#define HX_PUSH_HIST_LEN (2 + 8 + 8 + 8 * HX_PUSH_HIST_N)

void hx_push_hist_add(hx_push_hist *h, uint64_t latency_us);
void hx_push_hist_encode(const hx_push_hist *h, uint8_t out[HX_PUSH_HIST_LEN]);
/* HX_OK, or HX_ECORRUPT (h zeroed) for another length, version or bucket
 * count: never misread. */
int hx_push_hist_decode(hx_push_hist *h, const void *buf, size_t len) HX_WUR;
/* Zeroes *h when the store has no record, or one this build cannot read. */
int hx_push_hist_get(hx_store *s, hx_push_hist *h) HX_WUR;
int hx_push_hist_put(hx_store *s, const hx_push_hist *h) HX_WUR;

#endif
