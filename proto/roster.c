/*
 * roster.c: reading, checking and making roster records (see roster.h;
 * docs/FORMAT.md §1.8.2 is the spec). The record is an ordinary entry:
 *
 *   field  value
 *   path   ".hansa/member/" + 64 lower-case hex digits of the partner's key
 *   kind   "hansa-member"
 *   author the introducer (never the partner itself)
 *   title  a label for people (any text, not interpreted)
 *   body   introduction: base64url without padding of the partner's signed
 *          member record (docs/PROTOCOL.md §3); removal: empty
 *   tags   none
 *   meta   introduction: "endpoints" (optional): 1..8 endpoints
 *          "tcp://HOST:PORT" separated by single spaces;
 *          removal: exactly "removed" = "1"
 *   attachments none
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/roster.h"

#define FAIL(text)                     \
	do {                           \
		if (why)               \
			*why = (text); \
		rc = HX_ERECORD;       \
		goto fail;             \
	} while (0)

static int is_hex64(const char *s)
{
	for (int i = 0; i < 2 * HX_KEY_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[2 * HX_KEY_LEN] == 0;
}

/* Splits "a b c" into r->endpoints; 0, 1 (a bad endpoint) or HX_ENOMEM. */
static int split_endpoints(hx_roster *r, const char *v)
{
	const char *p = v;
	if (!*p)
		return 1;
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t l = sp ? (size_t)(sp - p) : strlen(p);
		if (!l || l > HX_ENDPOINT_MAX || r->nendpoints == HX_ENDPOINTS_MAX)
			return 1;
		char *ep = malloc(l + 1);
		if (!ep)
			return HX_ENOMEM;
		memcpy(ep, p, l);
		ep[l] = 0;
		r->endpoints[r->nendpoints++] = ep;
		if (hx_endpoint_check(ep))
			return 1;
		p += l;
		if (*p == ' ' && !*++p)
			return 1; /* a trailing space */
	}
	return 0;
}

/* Decodes the body of an introduction into r->member; 0, 1 (bad) or
 * HX_ENOMEM. */
static int body_record(hx_roster *r, const char *body)
{
	size_t blen = strlen(body), len;
	if (!blen || blen > 2 * HX_MEMBER_MAX)
		return 1;
	uint8_t *rec = malloc(blen);
	char *again = malloc(blen + 4);
	int rc = 1;
	if (!rec || !again) {
		rc = HX_ENOMEM;
		goto out;
	}
	if (sodium_base642bin(rec, blen, body, blen, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		goto out;
	/* one text per record: the encoding must be the canonical one */
	sodium_bin2base64(again, blen + 4, rec, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (strcmp(again, body) || hx_member_decode(&r->member, rec, len))
		goto out;
	rc = r->member.has_transport ? 0 : 1;
	if (!rc) {
		r->rec = rec;
		r->reclen = len;
		rec = NULL;
	}
out:
	free(rec);
	free(again);
	return rc;
}

int hx_roster_parse(hx_roster *r, const hx_entry *e, const char **why)
{
	size_t plen = strlen(HX_ROSTER_PREFIX);
	int under = e->path && !strncmp(e->path, HX_ROSTER_PREFIX, plen);
	int kind = e->kind && !strcmp(e->kind, HX_ROSTER_KIND);
	int rc;

	memset(r, 0, sizeof *r);
	if (!under && !kind)
		return HX_ENOTFOUND;
	if (!under)
		FAIL("a hansa-member record must be under .hansa/member/");
	if (!kind)
		FAIL("only hansa-member records may be under .hansa/member/");
	if (!is_hex64(e->path + plen) || hx_unhex(r->subject, HX_KEY_LEN, e->path + plen))
		FAIL("the path must end in the partner's key, 64 lower-case hex digits");
	if (!memcmp(r->subject, e->author, HX_KEY_LEN))
		FAIL("a partner cannot introduce or remove itself");
	if (e->ntags || e->nattach)
		FAIL("a hansa-member record has no tags or attachments");
	memcpy(r->introducer, e->author, HX_KEY_LEN);
	r->timestamp = e->timestamp;
	memcpy(r->id, e->id, HX_ID_LEN);
	const char *removed = hx_entry_meta(e, "removed");
	const char *eps = hx_entry_meta(e, "endpoints");
	if (e->nmeta > (size_t)(!!removed + !!eps))
		FAIL("a hansa-member record has only the meta keys endpoints and removed");
	if (removed) {
		r->removed = 1;
		if (strcmp(removed, "1") || eps || e->body[0])
			FAIL("a removal says removed=1 and carries no record or endpoints");
		return HX_OK;
	}
	if ((rc = body_record(r, e->body))) {
		if (rc == HX_ENOMEM)
			goto fail;
		FAIL("the body must be the partner's signed member record in base64url");
	}
	if (memcmp(r->member.key, r->subject, HX_KEY_LEN))
		FAIL("the member record is another partner's than the path names");
	if (eps && (rc = split_endpoints(r, eps))) {
		if (rc == HX_ENOMEM)
			goto fail;
		FAIL("endpoints must be 1 to 8 tcp://HOST:PORT separated by single spaces");
	}
	return HX_OK;
fail:
	hx_roster_clear(r);
	return rc;
}

void hx_roster_clear(hx_roster *r)
{
	if (!r)
		return;
	hx_member_clear(&r->member);
	free(r->rec);
	for (size_t i = 0; i < r->nendpoints; i++)
		free(r->endpoints[i]);
	memset(r, 0, sizeof *r);
}

int hx_roster_check(const hx_entry *e)
{
	hx_roster r;
	int rc = hx_roster_parse(&r, e, NULL);
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	hx_roster_clear(&r);
	return rc;
}

static char *dup_str(const char *s)
{
	size_t l = strlen(s) + 1;
	char *d = malloc(l);
	if (d)
		memcpy(d, s, l);
	return d;
}

int hx_roster_make(hx_entry *e, const uint8_t subject[HX_KEY_LEN], const uint8_t *rec,
                   size_t reclen, const char *const *eps, size_t neps, const char *title)
{
	char path[sizeof HX_ROSTER_PREFIX + 2 * HX_KEY_LEN];
	size_t blen =
	        rec ? sodium_base64_ENCODED_LEN(reclen, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
	            : 1;
	size_t elen = 1;

	memset(e, 0, sizeof *e);
	if (neps > HX_ENDPOINTS_MAX || (!rec && neps))
		return HX_EINVAL;
	for (size_t i = 0; i < neps; i++)
		elen += strlen(eps[i]) + 1;
	memcpy(path, HX_ROSTER_PREFIX, strlen(HX_ROSTER_PREFIX));
	hx_hex(path + strlen(HX_ROSTER_PREFIX), subject, HX_KEY_LEN);
	e->version = HX_ENTRY_VERSION;
	e->path = dup_str(path);
	e->kind = dup_str(HX_ROSTER_KIND);
	e->title = dup_str(title);
	e->lang = dup_str("und");
	e->body = malloc(blen);
	if (!e->path || !e->kind || !e->title || !e->lang || !e->body)
		goto nomem;
	e->body[0] = 0;
	if (rec)
		sodium_bin2base64(e->body, blen, rec, reclen,
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (!rec || neps) {
		if (!(e->meta = calloc(1, sizeof *e->meta)))
			goto nomem;
		e->nmeta = 1;
		e->meta[0].key = dup_str(rec ? "endpoints" : "removed");
		e->meta[0].value = malloc(rec ? elen : 2);
		if (!e->meta[0].key || !e->meta[0].value)
			goto nomem;
		if (rec) {
			e->meta[0].value[0] = 0;
			for (size_t i = 0; i < neps; i++) {
				if (i)
					strcat(e->meta[0].value, " ");
				strcat(e->meta[0].value, eps[i]);
			}
		} else {
			memcpy(e->meta[0].value, "1", 2);
		}
	}
	return HX_OK;
nomem:
	hx_entry_clear(e);
	return HX_ENOMEM;
}

int hx_roster_newer(const hx_roster *a, const hx_roster *b)
{
	if (a->timestamp != b->timestamp)
		return a->timestamp > b->timestamp;
	return memcmp(a->id, b->id, HX_ID_LEN) > 0;
}
