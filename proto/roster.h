/*
 * roster.h: the roster record (docs/FORMAT.md §1.8.2), the system entry by
 * which a partner introduces another partner to the network or removes it:
 * path ".hansa/member/<64-hex key of the partner>", kind "hansa-member",
 * author the introducer. An introduction carries the partner's own signed
 * member record (so an introducer cannot forge a transport key) and its
 * endpoints; a removal says removed=1. No I/O.
 */
#ifndef HX_ROSTER_H
#define HX_ROSTER_H

#include "proto/invite.h"

#define HX_ROSTER_PREFIX ".hansa/member/"
#define HX_ROSTER_KIND "hansa-member"
/* The store notes each partner a roster record is about under this kv
 * name + 64 hex digits (FORMAT.md §3.1). */
#define HX_ROSTER_KV "roster/"

/* A roster record read from an entry. Owns its member and endpoints
 * (hx_roster_clear). */
typedef struct hx_roster {
	uint8_t introducer[HX_KEY_LEN]; /* the entry's author */
	uint8_t subject[HX_KEY_LEN];    /* the partner it is about */
	int removed;
	hx_member member; /* introductions: the partner's signed record, */
	uint8_t *rec;     /* and its bytes */
	size_t reclen;
	char *endpoints[HX_ENDPOINTS_MAX];
	size_t nendpoints;
	uint64_t timestamp; /* the entry's */
	uint8_t id[HX_ID_LEN];
} hx_roster;

/* Reads e as a roster record: HX_OK (r filled), HX_ENOTFOUND when e is
 * neither under HX_ROSTER_PREFIX nor of kind HX_ROSTER_KIND, HX_ERECORD
 * when it breaks the rules (why, if not NULL, says which), HX_ENOMEM. On
 * error r holds nothing to free. */
int hx_roster_parse(hx_roster *r, const hx_entry *e, const char **why) HX_WUR;
void hx_roster_clear(hx_roster *r);

/* HX_OK for an entry that is not a roster record or is a valid one, else
 * hx_roster_parse's error. What the store calls before storing. */
int hx_roster_check(const hx_entry *e) HX_WUR;

/* Fills the fields of a roster entry about subject: an introduction (rec,
 * reclen: the partner's signed member record; eps: its endpoints, 0..8)
 * or, with rec NULL, a removal. title is borrowed (a label for people).
 * The caller sets author and timestamp, signs it and frees it with
 * hx_entry_clear. HX_EINVAL for more than 8 endpoints or endpoints with
 * a removal; what the store refuses it still makes (hx_roster_check). */
int hx_roster_make(hx_entry *e, const uint8_t subject[HX_KEY_LEN], const uint8_t *rec,
                   size_t reclen, const char *const *eps, size_t neps, const char *title) HX_WUR;

/* The current record wins: 1 when a is newer than b by (timestamp, id). */
int hx_roster_newer(const hx_roster *a, const hx_roster *b);

#endif
