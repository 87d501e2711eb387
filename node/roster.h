/*
 * roster.h: membership that replicates (docs/PROTOCOL.md §4.1). This node's
 * member policy (whose introductions it follows), its local decisions
 * (which always win), and applying the roster records in the store to the
 * members table and the peer list. Used by the daemon (on every reload of
 * its members) and by `hansa member`.
 */
#ifndef HX_NODE_ROSTER_H
#define HX_NODE_ROSTER_H

#include "proto/roster.h"
#include "node/state.h"

/* ---- policy: setting "member-policy" = "none" | "any" | "from HEX ..." -- */

enum { HX_POLICY_NONE, HX_POLICY_ANY, HX_POLICY_FROM };
#define HX_POLICY_FROM_MAX 32
typedef struct hx_policy {
	int mode;
	int set;     /* 0: never set (reads as none) */
	int by_join; /* set by `hansa join`, not chosen by the operator */
	uint8_t from[HX_POLICY_FROM_MAX][HX_KEY_LEN];
	size_t nfrom;
} hx_policy;

/* HX_OK (an unset or damaged setting reads as none, set = 0). */
int hx_policy_get(hx_store *s, hx_policy *p) HX_WUR;
int hx_policy_put(hx_store *s, const hx_policy *p) HX_WUR;
/* 1 when this node publishes introductions on its own (`member add CODE`):
 * its operator chose a policy other than none (PROTOCOL.md §4.1). */
int hx_policy_introduces(const hx_policy *p);

/* ---- local decisions: kv "member-local/" HEXKEY = "add" | "remove" ------- */

/* decision: 'a' (added here) or 'r' (removed here). */
int hx_member_local_put(hx_store *s, const uint8_t key[HX_KEY_LEN], char decision) HX_WUR;
/* *decision = 'a', 'r', or 0 when there is none. */
int hx_member_local_get(hx_store *s, const uint8_t key[HX_KEY_LEN], char *decision) HX_WUR;

/* The record that decides about subject under policy p: the newest by
 * (timestamp, id) among the current roster records about it whose author
 * p trusts (self is always trusted). HX_OK with *out (caller clears),
 * HX_ENOTFOUND when none. */
int hx_roster_decide(hx_store *s, const hx_policy *p, const uint8_t self[HX_KEY_LEN],
                     const uint8_t subject[HX_KEY_LEN], hx_roster *out) HX_WUR;

/* Makes the members table and peers follow the roster: a partner whose
 * deciding record is an introduction becomes a member (its signed record,
 * its endpoints, a peer at its first endpoint); one whose deciding record
 * is a removal, or that has none any more, and that the roster made a
 * member, is removed with its peers. Partners with a local decision are
 * left alone. *changed (may be NULL): members added + removed. */
int hx_roster_apply(hx_store *s, const uint8_t self[HX_KEY_LEN], size_t *changed) HX_WUR;

/* 1 when the roster made key a member (kv "member-roster/" HEXKEY). */
int hx_member_by_roster(hx_store *s, const uint8_t key[HX_KEY_LEN]);

#endif
