/*
 * test_roster.c: the roster record (proto/roster.c: every rule of
 * FORMAT.md §1.8.2), the store refusing a bad one (HX_ERECORD), and the
 * node's policy and conflict rule (node/roster.c): who is followed, the
 * newest trusted record decides, a local decision wins, the roster undoes
 * only what it did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "tests/check.h"
#include "tests/rmtree.h"
#include "node/roster.h"

struct party {
	uint8_t pk[HX_KEY_LEN], sk[HX_SECRET_LEN], curve[32];
	uint8_t *rec; /* signed member record */
	size_t reclen;
};
static struct party self_, b_, c_, p_; /* this node, two introducers, the newcomer */
static uint64_t clock_us = 1700000000000000ull;

static void party(struct party *x, int seed, const char *name)
{
	uint8_t s[32];
	memset(s, seed, sizeof s);
	crypto_sign_seed_keypair(x->pk, x->sk, s);
	memset(x->curve, seed + 100, sizeof x->curve);
	hx_meta prof[1] = { { "name", (char *)name } };
	hx_member m = { .timestamp = clock_us, .profile = prof, .nprofile = 1 };
	memcpy(m.transport, x->curve, 32);
	if (hx_member_sign(&m, x->sk, &x->rec, &x->reclen))
		abort();
}

/* A signed roster entry by author about subject (rec NULL: a removal). */
static int record(hx_entry *e, uint8_t **raw, size_t *len, const struct party *author,
                  const struct party *subject, int removal, const char *ep)
{
	const char *eps[1] = { ep };
	int rc = hx_roster_make(e, subject->pk, removal ? NULL : subject->rec,
	                        removal ? 0 : subject->reclen, eps, ep ? 1 : 0, "label");
	if (rc)
		return rc;
	e->timestamp = clock_us += 1000000;
	return hx_entry_sign(e, author->sk, raw, len);
}

static int parse_signed(const hx_entry *e)
{
	hx_roster r;
	int rc = hx_roster_parse(&r, e, NULL);
	hx_roster_clear(&r);
	return rc;
}

static void test_record(void)
{
	hx_entry e;
	uint8_t *raw;
	size_t len;
	hx_roster r;
	const char *why;

	CHECK_RC(record(&e, &raw, &len, &b_, &p_, 0, "tcp://127.0.0.1:7470"), HX_OK);
	CHECK_RC(hx_roster_parse(&r, &e, &why), HX_OK);
	CHECK(!r.removed && r.nendpoints == 1 && !strcmp(r.endpoints[0], "tcp://127.0.0.1:7470"));
	CHECK(!memcmp(r.subject, p_.pk, 32) && !memcmp(r.introducer, b_.pk, 32));
	CHECK(r.member.has_transport && !memcmp(r.member.transport, p_.curve, 32));
	CHECK(r.reclen == p_.reclen && !memcmp(r.rec, p_.rec, p_.reclen));
	hx_roster_clear(&r);
	/* it survives the canonical encoding */
	hx_entry d;
	CHECK_RC(hx_entry_decode(&d, raw, len), HX_OK);
	CHECK_RC(hx_entry_verify(&d), HX_OK);
	CHECK_RC(hx_roster_check(&d), HX_OK);
	hx_entry_clear(&d);
	free(raw);

	/* every rule */
	char *body = e.body;
	e.body = (char *)"AAAA";
	CHECK_RC(parse_signed(&e), HX_ERECORD); /* not a member record */
	e.body = (char *)"";
	CHECK_RC(parse_signed(&e), HX_ERECORD); /* an introduction without one */
	size_t bl = strlen(body);
	char *flip = strdup(body);
	flip[bl / 2] = flip[bl / 2] == 'A' ? 'B' : 'A';
	e.body = flip;
	CHECK_RC(parse_signed(&e), HX_ERECORD); /* a record whose signature fails */
	free(flip);
	e.body = body;
	char *kind = e.kind;
	e.kind = (char *)"practice";
	CHECK_RC(parse_signed(&e), HX_ERECORD); /* another kind under .hansa/member/ */
	CHECK_RC(hx_roster_check(&e), HX_ERECORD);
	e.kind = (char *)"tombstone";
	CHECK_RC(parse_signed(&e), HX_ERECORD);
	e.kind = kind;
	char *path = e.path;
	e.path = (char *)"practices/x";
	CHECK_RC(parse_signed(&e), HX_ERECORD); /* hansa-member elsewhere */
	char p2[100];
	snprintf(p2, sizeof p2, "%s", path);
	p2[20] = 'A'; /* upper-case hex */
	e.path = p2;
	CHECK_RC(parse_signed(&e), HX_ERECORD);
	snprintf(p2, sizeof p2, "%s00", path); /* too long */
	CHECK_RC(parse_signed(&e), HX_ERECORD);
	e.path = path;
	/* another partner's record under this path */
	memcpy(p2, path, strlen(path) + 1);
	hx_hex(p2 + strlen(HX_ROSTER_PREFIX), c_.pk, 32);
	e.path = p2;
	CHECK_RC(parse_signed(&e), HX_ERECORD);
	e.path = path;
	/* introducing oneself */
	uint8_t a0[32];
	memcpy(a0, e.author, 32);
	memcpy(e.author, p_.pk, 32);
	CHECK_RC(parse_signed(&e), HX_ERECORD);
	memcpy(e.author, a0, 32);
	/* bad endpoints */
	char *v = e.meta[0].value;
	const char *bad[] = { "", "tcp://127.0.0.1:7470 ", "tcp://127.0.0.1:7470  tcp://x:1",
		              "http://x:1", "tcp://x" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		e.meta[0].value = (char *)bad[i];
		CHECK_RC(parse_signed(&e), HX_ERECORD);
	}
	e.meta[0].value = (char *)"tcp://a:1 tcp://b:2";
	CHECK_RC(parse_signed(&e), HX_OK);
	e.meta[0].value = v;
	char *mk = e.meta[0].key;
	e.meta[0].key = (char *)"org";
	CHECK_RC(parse_signed(&e), HX_ERECORD); /* other meta */
	e.meta[0].key = (char *)"removed";
	CHECK_RC(parse_signed(&e), HX_ERECORD); /* a removal with a record */
	e.meta[0].key = mk;
	hx_entry_clear(&e);

	/* a removal */
	CHECK_RC(record(&e, &raw, &len, &b_, &p_, 1, NULL), HX_OK);
	free(raw);
	CHECK_RC(hx_roster_parse(&r, &e, NULL), HX_OK);
	CHECK(r.removed && !r.nendpoints && !r.reclen);
	hx_roster_clear(&r);
	e.meta[0].value[0] = '2';
	CHECK_RC(parse_signed(&e), HX_ERECORD);
	hx_entry_clear(&e);

	/* not a roster record at all */
	hx_entry other = { .path = (char *)"practices/x", .kind = (char *)"practice" };
	CHECK_RC(hx_roster_parse(&r, &other, NULL), HX_ENOTFOUND);
	CHECK_RC(hx_roster_check(&other), HX_OK);
}

/* Stores a roster record by author (which must be a member). */
static int put(hx_store *s, const struct party *author, const struct party *subject, int removal)
{
	hx_entry e;
	uint8_t *raw;
	size_t len, added;
	int rc = record(&e, &raw, &len, author, subject, removal,
	                removal ? NULL : "tcp://127.0.0.1:7999");
	if (rc)
		return rc;
	hx_put p = { .raw = raw, .rawlen = len, .entry = &e };
	rc = hx_store_put_batch(s, &p, 1, HX_PUT_MEMBERS_ONLY, &added);
	free(raw);
	hx_entry_clear(&e);
	return rc ? rc : p.result;
}

static int is_member(hx_store *s, const struct party *x)
{
	uint8_t *rec;
	size_t len;
	if (hx_store_member_get(s, x->pk, &rec, &len))
		return 0;
	free(rec);
	return 1;
}

static int peers_of(hx_store *s, const struct party *x)
{
	hx_peer_conf *pc;
	size_t n;
	int k = 0;
	if (hx_peer_list(s, &pc, &n))
		return -1;
	for (size_t i = 0; i < n; i++)
		k += !memcmp(pc[i].key, x->pk, 32);
	free(pc);
	return k;
}

static void set_policy(hx_store *s, int mode, const struct party *from)
{
	hx_policy p = { .mode = mode };
	if (from) {
		memcpy(p.from[0], from->pk, 32);
		p.nfrom = 1;
	}
	CHECK_RC(hx_policy_put(s, &p), HX_OK);
	hx_policy q;
	CHECK_RC(hx_policy_get(s, &q), HX_OK);
	CHECK(q.set && q.mode == mode && q.nfrom == p.nfrom);
}

static void test_apply(void)
{
	char t[] = "/tmp/hx-test-roster.XXXXXX", sub[200];
	if (!mkdtemp(t))
		abort();
	snprintf(sub, sizeof sub, "%s/store", t);
	hx_store *s = NULL;
	size_t changed;
	CHECK_RC(hx_store_open(&s, sub, HX_STORE_CREATE), HX_OK);
	if (!s)
		abort();
	CHECK_RC(hx_store_member_put(s, self_.pk, self_.rec, self_.reclen), HX_OK);
	CHECK_RC(hx_store_member_put(s, b_.pk, b_.rec, b_.reclen), HX_OK);
	CHECK_RC(hx_store_member_put(s, c_.pk, c_.rec, c_.reclen), HX_OK);

	/* a bad record is refused by the store with its own error */
	hx_entry e;
	uint8_t *raw;
	size_t len, added;
	CHECK_RC(record(&e, &raw, &len, &b_, &p_, 0, NULL), HX_OK);
	free(e.kind);
	e.kind = strdup("note");
	free(raw);
	CHECK_RC(hx_entry_sign(&e, b_.sk, &raw, &len), HX_OK);
	hx_put bp = { .raw = raw, .rawlen = len, .entry = &e };
	CHECK_RC(hx_store_put_batch(s, &bp, 1, 0, &added), HX_OK);
	CHECK_RC(bp.result, HX_ERECORD);
	CHECK(added == 0);
	free(raw);
	hx_entry_clear(&e);

	/* unset policy reads as none: B's introduction is not followed */
	hx_policy p0;
	CHECK_RC(hx_policy_get(s, &p0), HX_OK);
	CHECK(!p0.set && p0.mode == HX_POLICY_NONE);
	CHECK_RC(put(s, &b_, &p_, 0), HX_OK);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(changed == 0 && !is_member(s, &p_));

	/* from C: still not; from B: P is a member with a peer */
	set_policy(s, HX_POLICY_FROM, &c_);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(!is_member(s, &p_));
	set_policy(s, HX_POLICY_FROM, &b_);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(changed == 1 && is_member(s, &p_) && hx_member_by_roster(s, p_.pk));
	CHECK(peers_of(s, &p_) == 1);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(changed == 0); /* nothing new */

	/* C's newer removal is not followed under "from B"; under "any" it
	 * is the newest trusted record and decides */
	CHECK_RC(put(s, &c_, &p_, 1), HX_OK);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(is_member(s, &p_));
	set_policy(s, HX_POLICY_ANY, NULL);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(changed == 1 && !is_member(s, &p_) && peers_of(s, &p_) == 0);
	CHECK(!hx_member_by_roster(s, p_.pk));
	/* B introduces again, later: the newest wins again */
	CHECK_RC(put(s, &b_, &p_, 0), HX_OK);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(is_member(s, &p_));

	/* a local removal wins over any record; a local add over a removal */
	char d;
	CHECK_RC(hx_member_local_put(s, p_.pk, 'r'), HX_OK);
	CHECK_RC(hx_member_local_get(s, p_.pk, &d), HX_OK);
	CHECK(d == 'r');
	CHECK_RC(hx_store_member_del(s, p_.pk), HX_OK);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(!is_member(s, &p_));
	CHECK_RC(hx_member_local_put(s, p_.pk, 'a'), HX_OK);
	CHECK_RC(hx_store_member_put(s, p_.pk, p_.rec, p_.reclen), HX_OK);
	CHECK_RC(put(s, &c_, &p_, 1), HX_OK);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(is_member(s, &p_));

	/* policy none: what the roster made is undone, never a hand-made member */
	set_policy(s, HX_POLICY_NONE, NULL);
	CHECK_RC(hx_roster_apply(s, self_.pk, &changed), HX_OK);
	CHECK(is_member(s, &p_) && is_member(s, &b_) && is_member(s, &c_));

	/* the conflict rule directly: newest by (timestamp, id) among trusted */
	hx_roster r;
	hx_policy any = { .mode = HX_POLICY_ANY };
	CHECK_RC(hx_roster_decide(s, &any, self_.pk, p_.pk, &r), HX_OK);
	CHECK(r.removed && !memcmp(r.introducer, c_.pk, 32));
	hx_roster_clear(&r);
	hx_policy fromb = { .mode = HX_POLICY_FROM, .nfrom = 1 };
	memcpy(fromb.from[0], b_.pk, 32);
	CHECK_RC(hx_roster_decide(s, &fromb, self_.pk, p_.pk, &r), HX_OK);
	CHECK(!r.removed && !memcmp(r.introducer, b_.pk, 32));
	hx_roster_clear(&r);
	CHECK_RC(hx_roster_decide(s, &any, self_.pk, c_.pk, &r), HX_ENOTFOUND);

	hx_store_close(&s);
	rmtree(t);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	party(&self_, 1, "This Node");
	party(&b_, 2, "Partner B");
	party(&c_, 3, "Partner C");
	party(&p_, 4, "Newcomer");
	test_record();
	test_apply();
	free(self_.rec);
	free(b_.rec);
	free(c_.rec);
	free(p_.rec);
	return check_done();
}
