/*
 * roster.c: the member policy, local decisions and applying roster records
 * (see roster.h). Layouts in the store's kv table:
 *
 *   "setting/member-policy"  "none" | "any" | "from" (" " HEXKEY)+
 *   "setting/member-policy-by" "join" when `hansa join` set it, else "user"
 *   "member-local/" HEXKEY   "add" | "remove": what `hansa member` did here
 *   "member-roster/" HEXKEY  introducer[32] ‖ record id[32]: the member was
 *                            made by that roster record (not by hand)
 *   "roster/" HEXKEY         "": a roster record about HEXKEY is stored
 *                            (written by the store, store/store.c)
 *
 * The rule, the same on every node (FORMAT.md §1.8.2): about a partner P,
 * a local decision wins; else, among the current roster records about P
 * whose authors this node trusts, the newest by (timestamp, id) decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "node/roster.h"

#define KEYBUF 200

/* ---- policy ------------------------------------------------------------- */

int hx_policy_get(hx_store *s, hx_policy *p)
{
	char v[HX_POLICY_FROM_MAX * (2 * HX_KEY_LEN + 1) + 16];
	memset(p, 0, sizeof *p);
	int rc = hx_setting_get(s, "member-policy", v, sizeof v);
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc)
		return rc;
	if (!strcmp(v, "any")) {
		p->mode = HX_POLICY_ANY;
	} else if (!strncmp(v, "from ", 5)) {
		p->mode = HX_POLICY_FROM;
		for (char *sv, *t = strtok_r(v + 5, " ", &sv); t && p->nfrom < HX_POLICY_FROM_MAX;
		     t = strtok_r(NULL, " ", &sv))
			if (strlen(t) == 2 * HX_KEY_LEN &&
			    !hx_unhex(p->from[p->nfrom], HX_KEY_LEN, t))
				p->nfrom++;
	} else if (strcmp(v, "none")) {
		return HX_OK; /* not ours to read: none */
	}
	p->set = 1;
	p->by_join =
	        hx_setting_get(s, "member-policy-by", v, sizeof v) == HX_OK && !strcmp(v, "join");
	return HX_OK;
}

int hx_policy_introduces(const hx_policy *p)
{
	return p->set && !p->by_join && p->mode != HX_POLICY_NONE;
}

int hx_policy_put(hx_store *s, const hx_policy *p)
{
	char v[HX_POLICY_FROM_MAX * (2 * HX_KEY_LEN + 1) + 16];
	int rc = hx_setting_put(s, "member-policy-by", p->by_join ? "join" : "user");
	if (rc)
		return rc;
	if (p->mode == HX_POLICY_ANY)
		return hx_setting_put(s, "member-policy", "any");
	if (p->mode != HX_POLICY_FROM || !p->nfrom)
		return hx_setting_put(s, "member-policy", "none");
	size_t l = (size_t)snprintf(v, sizeof v, "from");
	for (size_t i = 0; i < p->nfrom && i < HX_POLICY_FROM_MAX; i++) {
		v[l++] = ' ';
		hx_hex(v + l, p->from[i], HX_KEY_LEN);
		l += 2 * HX_KEY_LEN;
	}
	return hx_setting_put(s, "member-policy", v);
}

/* ---- local decisions and marks -------------------------------------------- */

static void kv_key(char *out, const char *prefix, const uint8_t key[HX_KEY_LEN])
{
	char hex[2 * HX_KEY_LEN + 1];
	snprintf(out, KEYBUF, "%s%s", prefix, hx_hex(hex, key, HX_KEY_LEN));
}

int hx_member_local_put(hx_store *s, const uint8_t key[HX_KEY_LEN], char decision)
{
	char k[KEYBUF];
	const char *v = decision == 'r' ? "remove" : "add";
	kv_key(k, "member-local/", key);
	return hx_store_kv_put(s, k, v, strlen(v));
}

int hx_member_local_get(hx_store *s, const uint8_t key[HX_KEY_LEN], char *decision)
{
	char k[KEYBUF];
	void *v;
	size_t len;
	*decision = 0;
	kv_key(k, "member-local/", key);
	int rc = hx_store_kv_get(s, k, &v, &len);
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc)
		return rc;
	if (len == 6 && !memcmp(v, "remove", 6))
		*decision = 'r';
	else if (len == 3 && !memcmp(v, "add", 3))
		*decision = 'a';
	free(v);
	return HX_OK;
}

int hx_member_by_roster(hx_store *s, const uint8_t key[HX_KEY_LEN])
{
	char k[KEYBUF];
	void *v;
	size_t len;
	kv_key(k, "member-roster/", key);
	if (hx_store_kv_get(s, k, &v, &len))
		return 0;
	free(v);
	return 1;
}

/* ---- deciding ----------------------------------------------------------- */

static int trusted(hx_store *s, const hx_policy *p, const uint8_t self[HX_KEY_LEN],
                   const uint8_t who[HX_KEY_LEN])
{
	if (!memcmp(who, self, HX_KEY_LEN))
		return 1;
	if (p->mode == HX_POLICY_NONE)
		return 0;
	uint8_t *rec;
	size_t len;
	if (hx_store_member_get(s, who, &rec, &len))
		return 0; /* introducers must be members now */
	free(rec);
	if (p->mode == HX_POLICY_ANY)
		return 1;
	for (size_t i = 0; i < p->nfrom; i++)
		if (!memcmp(p->from[i], who, HX_KEY_LEN))
			return 1;
	return 0;
}

struct cand {
	hx_store *s;
	const hx_policy *p;
	const uint8_t *self;
	char path[sizeof HX_ROSTER_PREFIX + 2 * HX_KEY_LEN];
	hx_roster best;
	int have;
	int rc;
};

static int cand_member(void *arg, const uint8_t key[HX_KEY_LEN], const uint8_t *rec, size_t len)
{
	struct cand *c = arg;
	hx_entry e;
	hx_roster r;
	(void)rec;
	(void)len;
	if (!trusted(c->s, c->p, c->self, key))
		return 0;
	int rc = hx_store_current(c->s, key, c->path, &e, NULL);
	if (rc == HX_ENOTFOUND)
		return 0;
	if (rc)
		return c->rc = rc;
	rc = hx_roster_parse(&r, &e, NULL);
	hx_entry_clear(&e);
	if (rc)
		return 0; /* the store refuses such records; nothing to decide */
	if (!c->have || hx_roster_newer(&r, &c->best)) {
		hx_roster_clear(&c->best);
		c->best = r;
		c->have = 1;
	} else {
		hx_roster_clear(&r);
	}
	return 0;
}

int hx_roster_decide(hx_store *s, const hx_policy *p, const uint8_t self[HX_KEY_LEN],
                     const uint8_t subject[HX_KEY_LEN], hx_roster *out)
{
	struct cand c = { .s = s, .p = p, .self = self };
	char hex[2 * HX_KEY_LEN + 1];
	memset(out, 0, sizeof *out);
	snprintf(c.path, sizeof c.path, "%s%s", HX_ROSTER_PREFIX, hx_hex(hex, subject, HX_KEY_LEN));
	/* the authors worth asking are the members (and this node, a member) */
	int rc = hx_store_member_list(s, cand_member, &c);
	if (!rc)
		rc = c.rc;
	if (rc) {
		hx_roster_clear(&c.best);
		return rc;
	}
	if (!c.have)
		return HX_ENOTFOUND;
	*out = c.best;
	return HX_OK;
}

/* ---- applying -------------------------------------------------------------- */

struct subjects {
	uint8_t (*key)[HX_KEY_LEN];
	size_t n, cap;
};

static int subject_cb(void *arg, const char *key, const void *val, size_t len)
{
	struct subjects *x = arg;
	uint8_t k[HX_KEY_LEN];
	(void)val;
	(void)len;
	if (hx_unhex(k, HX_KEY_LEN, key + strlen(HX_ROSTER_KV)))
		return 0;
	uint8_t(*a)[HX_KEY_LEN] = hx_grow(x->key, &x->cap, x->n + 1, sizeof *a);
	if (!a)
		return HX_ENOMEM;
	x->key = a;
	memcpy(x->key[x->n++], k, HX_KEY_LEN);
	return 0;
}

static int drop_peers(hx_store *s, const uint8_t key[HX_KEY_LEN])
{
	hx_peer_conf *pc;
	size_t n;
	int rc = hx_peer_list(s, &pc, &n);
	for (size_t i = 0; !rc && i < n; i++)
		if (!memcmp(pc[i].key, key, HX_KEY_LEN))
			rc = hx_peer_del(s, pc[i].endpoint);
	free(pc);
	return rc;
}

static int has_peer(hx_store *s, const uint8_t key[HX_KEY_LEN], int *have)
{
	hx_peer_conf *pc;
	size_t n;
	int rc = hx_peer_list(s, &pc, &n);
	*have = 0;
	for (size_t i = 0; !rc && i < n; i++)
		*have |= !memcmp(pc[i].key, key, HX_KEY_LEN);
	free(pc);
	return rc;
}

/* Makes r's subject a member (or refreshes its record); *changed += 1
 * when it was not one. */
static int admit(hx_store *s, const hx_roster *r, int mark, size_t *changed)
{
	hx_member old;
	char k[KEYBUF];
	uint8_t mk[2 * HX_ID_LEN];
	int rc = hx_member_load(s, r->subject, &old), was = rc == HX_OK;
	if (rc && rc != HX_ENOTFOUND)
		return rc;
	int keep = was && old.has_transport && old.timestamp >= r->member.timestamp;
	hx_member_clear(&old);
	/* the partner's own signed record: an introducer cannot forge it */
	if (!keep && (rc = hx_store_member_put(s, r->subject, r->rec, r->reclen)))
		return rc;
	if (r->nendpoints) {
		if ((rc = hx_member_endpoints_put(s, r->subject, (const char *const *)r->endpoints,
		                                  r->nendpoints)))
			return rc;
		int have;
		if ((rc = has_peer(s, r->subject, &have)))
			return rc;
		if (!have && (rc = hx_peer_add(s, r->endpoints[0], r->subject)))
			return rc;
	}
	if (mark) {
		kv_key(k, "member-roster/", r->subject);
		memcpy(mk, r->introducer, HX_KEY_LEN);
		memcpy(mk + HX_KEY_LEN, r->id, HX_ID_LEN);
		if ((rc = hx_store_kv_put(s, k, mk, sizeof mk)))
			return rc;
	}
	*changed += !was;
	return HX_OK;
}

/* Undoes what the roster made: the member and its peers. */
static int dismiss(hx_store *s, const uint8_t key[HX_KEY_LEN], size_t *changed)
{
	char k[KEYBUF];
	int rc = hx_store_member_del(s, key);
	if (rc && rc != HX_ENOTFOUND)
		return rc;
	if ((rc = drop_peers(s, key)))
		return rc;
	kv_key(k, "member-roster/", key);
	rc = hx_store_kv_del(s, k);
	if (rc && rc != HX_ENOTFOUND)
		return rc;
	(*changed)++;
	return HX_OK;
}

/* One pass over the partners the roster is about; *changed counts. */
static int apply_once(hx_store *s, const hx_policy *p, const uint8_t self[HX_KEY_LEN],
                      const struct subjects *x, size_t *changed)
{
	for (size_t i = 0; i < x->n; i++) {
		const uint8_t *key = x->key[i];
		char local;
		hx_roster r;
		int rc;
		if (!memcmp(key, self, HX_KEY_LEN))
			continue;
		if ((rc = hx_member_local_get(s, key, &local)))
			return rc;
		if (local)
			continue; /* a local decision always wins */
		int made = hx_member_by_roster(s, key);
		uint8_t *rec;
		size_t len;
		rc = hx_store_member_get(s, key, &rec, &len);
		if (rc && rc != HX_ENOTFOUND)
			return rc;
		int member = rc == HX_OK;
		if (member)
			free(rec);
		rc = hx_roster_decide(s, p, self, key, &r);
		if (rc && rc != HX_ENOTFOUND)
			return rc;
		if (rc == HX_OK && !r.removed)
			/* a member added by hand before there was a roster keeps
			 * being a local one, but gets the transport key */
			rc = admit(s, &r, made || !member, changed);
		else if (made)
			rc = dismiss(s, key, changed);
		else
			rc = HX_OK;
		hx_roster_clear(&r);
		if (rc)
			return rc;
	}
	return HX_OK;
}

int hx_roster_apply(hx_store *s, const uint8_t self[HX_KEY_LEN], size_t *changed)
{
	struct subjects x = { 0 };
	hx_policy p;
	size_t total = 0;
	int rc = hx_policy_get(s, &p);
	if (!rc)
		rc = hx_store_kv_list(s, HX_ROSTER_KV, subject_cb, &x);
	/* with "any", a new member may introduce others: repeat until nothing
	 * changes (a few rounds; the next reload goes on) */
	for (int round = 0; !rc && round < 4; round++) {
		size_t c = 0;
		rc = apply_once(s, &p, self, &x, &c);
		total += c;
		if (!c)
			break;
	}
	free(x.key);
	if (changed)
		*changed = total;
	if (!rc && total)
		hx_store_wake_config(s);
	return rc;
}
