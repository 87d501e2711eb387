/*
 * test_wire.c: unit tests of the replication formats: member records,
 * invite codes and wire messages (proto/member.c, invite.c, wire.c). Fixed
 * keys give fixed bytes: the vectors below are the ones docs/PROTOCOL.md
 * shows. Every truncation and every single-bit flip of a valid encoding is
 * refused (or, for a signed record, at least never accepted with other
 * content).
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "check.h"
#include "proto/invite.h"
#include "proto/negentropy.h"
#include "proto/wire.h"

#define TS 1700000000000000ull

/* docs/PROTOCOL.md, "Examples" */
static const char RECORD_HEX[] = "82a500010158208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3"
                                 "748801b40f6f5c025820ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d"
                                 "344745ba05870e587d59031b00060a24181e400004a2646e616d656e4578616d"
                                 "706c65204167656e637967636f756e74727962444b5840518b7c5ba3047d91e9"
                                 "cecdacb235e7ad5ffc58993d271d9b5d818e778513e3bef16e7740610e2f9b73"
                                 "c105f511bea438ef5fdc42918c910485d9f5def0f93e05";
static const char CODE[] = "hansa1:gqQAAQFYt4KlAAEBWCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBt"
                           "A9vXAJYIM6NOtHMtjPse3DBeBSlx27NApaFBQ00R0W6BYcOWH1ZAxsABgokGB5AA"
                           "ASiZG5hbWVuRXhhbXBsZSBBZ2VuY3lnY291bnRyeWJES1hAUYt8W6MEfZHpzs2ss"
                           "jXnrV_8WJk9Jx2bXYGOd4UT477xbndAYQ4vm3PBBfURvqQ471_cQpGMkQSF2fXe8"
                           "Pk-BQKBdXRjcDovLzE5Mi4wLjIuMTA6NzQ3MAMbAAYKJBgeQABYQJVI804YkA6bI"
                           "ARg0cUNGTJlzhCeGYTw3Vxp_amvMKYXKmpHHz71yFYpTBrkvvE3hcrejmuc4KDoK"
                           "3EcgLRRlws";

static uint8_t pk[32], sk[64], csk[32], cpk[32];

static char *hex(const uint8_t *b, size_t n)
{
	char *h = malloc(2 * n + 1);
	return hx_hex(h, b, n);
}

static void keys(void)
{
	uint8_t seed[32];
	memset(seed, 0x01, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
	memset(csk, 0x02, 32);
	crypto_scalarmult_base(cpk, csk);
}

/* The documented example record: "Example Agency", DK. */
static void example_record(uint8_t **rec, size_t *len)
{
	hx_meta prof[2] = { { "name", "Example Agency" }, { "country", "DK" } };
	hx_member m = { .timestamp = TS, .profile = prof, .nprofile = 2 };
	memcpy(m.transport, cpk, 32);
	CHECK_RC(hx_member_sign(&m, sk, rec, len), HX_OK);
}

static void test_member(void)
{
	uint8_t *rec;
	size_t len;
	hx_member m;

	example_record(&rec, &len);
	char *h = hex(rec, len);
	CHECK(!strcmp(h, RECORD_HEX));
	if (strcmp(h, RECORD_HEX))
		printf("member record (%zu bytes): %s\n", len, h);
	/* layout: array(2), map(5), keys 0..4, profile keys in canonical order
	 * (shorter first: name before country) */
	CHECK(!memcmp(rec, "\x82\xa5\x00\x01\x01\x58\x20", 7));
	CHECK(!memcmp(rec + 7, pk, 32));
	CHECK(!memcmp(rec + 39, "\x02\x58\x20", 3));
	CHECK(!memcmp(rec + 42, cpk, 32));
	CHECK(!memcmp(rec + 74, "\x03\x1b", 2));
	CHECK(!memcmp(rec + 84,
	              "\x04\xa2\x64"
	              "name"
	              "\x6e"
	              "Example Agency"
	              "\x67"
	              "country",
	              30));
	CHECK(!memcmp(rec + len - 66, "\x58\x40", 2));
	free(h);

	CHECK_RC(hx_member_decode(&m, rec, len), HX_OK);
	CHECK(m.has_transport && m.timestamp == TS && m.nprofile == 2);
	CHECK(!strcmp(hx_member_field(&m, "name"), "Example Agency"));
	CHECK(!memcmp(m.transport, cpk, 32) && !memcmp(m.key, pk, 32));
	hx_member_clear(&m);

	/* every truncation is refused */
	for (size_t i = 0; i < len; i++)
		CHECK(hx_member_decode(&m, rec, i) != HX_OK);
	/* every bit flip is refused */
	int accepted = 0;
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			rec[i] ^= (uint8_t)(1 << b);
			if (hx_member_decode(&m, rec, len) == HX_OK) {
				accepted++;
				hx_member_clear(&m);
			}
			rec[i] ^= (uint8_t)(1 << b);
		}
	}
	CHECK(accepted == 0);
	/* trailing bytes */
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, rec, len);
	longer[len] = 0;
	CHECK_RC(hx_member_decode(&m, longer, len + 1), HX_EPROTO);
	free(longer);
	free(rec);

	/* a local record: no transport key, no signature, re-encodes exactly */
	hx_meta prof[1] = { { "name", "Far Office" } };
	hx_member l = { .timestamp = TS, .profile = prof, .nprofile = 1 };
	memcpy(l.key, pk, 32);
	CHECK_RC(hx_member_encode_local(&l, &rec, &len), HX_OK);
	CHECK(rec[0] == 0x81 && rec[1] == 0xa4);
	CHECK_RC(hx_member_decode(&m, rec, len), HX_OK);
	CHECK(!m.has_transport && !strcmp(hx_member_field(&m, "name"), "Far Office"));
	hx_member_clear(&m);
	free(rec);

	/* bad profiles */
	hx_meta bad[2] = { { "Name", "x" }, { "name", "y" } };
	hx_member b = { .timestamp = TS, .profile = bad, .nprofile = 1 };
	CHECK_RC(hx_member_sign(&b, sk, &rec, &len), HX_EINVAL);
	b.profile = bad + 1;
	hx_meta dup[2] = { { "name", "x" }, { "name", "y" } };
	b.profile = dup;
	b.nprofile = 2;
	CHECK_RC(hx_member_sign(&b, sk, &rec, &len), HX_EINVAL);
	char big[300];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	hx_meta lim[1] = { { "name", big } };
	b.profile = lim;
	b.nprofile = 1;
	CHECK_RC(hx_member_sign(&b, sk, &rec, &len), HX_ELIMIT);
}

static void test_invite(void)
{
	uint8_t *rec, *rec2;
	size_t len, len2;
	char *code;
	const char *eps[2] = { "tcp://192.0.2.10:7470", "tcp://[2001:db8::1]:7470" };
	hx_invite inv;

	example_record(&rec, &len);
	CHECK_RC(hx_invite_encode(rec, len, eps, 1, TS, sk, &code), HX_OK);
	CHECK(!strcmp(code, CODE));
	if (strcmp(code, CODE))
		printf("invite code: %s\n", code);
	CHECK(!strncmp(code, "hansa1:", 7));
	CHECK(!strchr(code, '=') && !strchr(code, '+') && !strchr(code, '/'));
	CHECK_RC(hx_invite_decode(&inv, code, &rec2, &len2), HX_OK);
	CHECK(inv.nendpoints == 1 && !strcmp(inv.endpoints[0], eps[0]));
	CHECK(inv.timestamp == TS && len2 == len && !memcmp(rec2, rec, len));
	CHECK(!memcmp(inv.member.transport, cpk, 32));
	hx_invite_clear(&inv);
	free(rec2);

	/* whitespace around is fine; a damaged character is not */
	size_t cl = strlen(code);
	char *pad = malloc(cl + 4);
	sprintf(pad, "  %s\n", code);
	CHECK_RC(hx_invite_decode(&inv, pad, NULL, NULL), HX_OK);
	hx_invite_clear(&inv);
	int accepted = 0;
	for (size_t i = 7; i < cl; i++) {
		char saved = code[i];
		code[i] = code[i] == 'A' ? 'B' : 'A';
		if (hx_invite_decode(&inv, code, NULL, NULL) == HX_OK) {
			accepted++;
			hx_invite_clear(&inv);
		}
		code[i] = saved;
	}
	/* the last base64 character carries padding bits: changing only those
	 * can be accepted by a lenient decoder; libsodium is strict */
	CHECK(accepted == 0);
	for (size_t i = 0; i < cl; i++) {
		char saved = code[i];
		code[i] = 0;
		CHECK(hx_invite_decode(&inv, code, NULL, NULL) != HX_OK);
		code[i] = saved;
	}
	CHECK_RC(hx_invite_decode(&inv, "hansa2:abc", NULL, NULL), HX_EINVAL);
	CHECK_RC(hx_invite_decode(&inv, "hansa1:!!!", NULL, NULL), HX_EINVAL);
	free(pad);
	free(code);

	/* two endpoints; signed by another key: refused */
	CHECK_RC(hx_invite_encode(rec, len, eps, 2, TS, sk, &code), HX_OK);
	CHECK_RC(hx_invite_decode(&inv, code, NULL, NULL), HX_OK);
	CHECK(inv.nendpoints == 2 && !strcmp(inv.endpoints[1], eps[1]));
	hx_invite_clear(&inv);
	free(code);
	uint8_t opk[32], osk[64];
	crypto_sign_keypair(opk, osk);
	CHECK_RC(hx_invite_encode(rec, len, eps, 1, TS, osk, &code), HX_EINVAL);
	const char *bad_eps[1] = { "http://x:1" };
	CHECK_RC(hx_invite_encode(rec, len, bad_eps, 1, TS, sk, &code), HX_EINVAL);
	free(rec);

	CHECK_RC(hx_endpoint_check("tcp://127.0.0.1:7470"), HX_OK);
	CHECK_RC(hx_endpoint_check("tcp://office.example.org:1"), HX_OK);
	CHECK_RC(hx_endpoint_check("tcp://[::1]:65535"), HX_OK);
	CHECK_RC(hx_endpoint_check("tcp://host:0"), HX_EINVAL);
	CHECK_RC(hx_endpoint_check("tcp://host:65536"), HX_EINVAL);
	CHECK_RC(hx_endpoint_check("tcp://host"), HX_EINVAL);
	CHECK_RC(hx_endpoint_check("tcp://:80"), HX_EINVAL);
	CHECK_RC(hx_endpoint_check("tcp://ho st:80"), HX_EINVAL);
	CHECK_RC(hx_endpoint_check("udp://host:80"), HX_EINVAL);
}

static void expect_hex(const uint8_t *b, size_t n, const char *want)
{
	char *h = hex(b, n);
	CHECK(!strcmp(h, want));
	if (strcmp(h, want))
		fprintf(stderr, "  got  %s\n  want %s\n", h, want);
	free(h);
}

static void test_messages(void)
{
	uint8_t b[HX_WANT_HDR_LEN + 2 * 32], *ne;
	size_t n;
	hx_wire_msg m;
	uint8_t key[32];
	memset(key, 0xab, 32);

	n = hx_wire_hello(b, HX_CAP_NEGENTROPY | HX_CAP_PUSH | HX_CAP_RELAY, HX_WIRE_FRAME_MAX,
	                  262144, 256, key, TS);
	CHECK(n == HX_HELLO_LEN);
	expect_hex(b, n,
	           "01010000000700100000000400000100"
	           "abababababababababababababababababababababababababababababababab"
	           "00060a24181e4000");
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK);
	CHECK(m.caps == 7 && m.max_frame == HX_WIRE_FRAME_MAX && m.ne_frame_limit == 262144 &&
	      m.max_batch == 256 && m.time == TS && !memcmp(m.key, key, 32));
	CHECK_RC(hx_wire_decode(&m, b, n, 2), HX_EPROTO); /* one frame only */
	/* max_frame must hold a 4096-byte Negentropy message and its 6-byte header */
	n = hx_wire_hello(b, 7, HX_WIRE_FRAME_MIN - 1, 0, 256, key, TS);
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_EPROTO);
	n = hx_wire_hello(b, 7, HX_WIRE_FRAME_MIN, 0, 256, key, TS);
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK);
	CHECK(m.max_frame == 4102 && HX_WIRE_FRAME_MIN - HX_NE_HDR_LEN == HX_NE_FRAME_MIN);
	CHECK_RC(hx_wire_decode(&m, b, n - 1, 1), HX_EPROTO);
	b[0] = 2;
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_EVERSION);
	CHECK(m.type == HX_MSG_HELLO && m.version == 2);
	b[0] = 1;

	n = hx_wire_ping(b, TS);
	expect_hex(b, n, "010200060a24181e4000");
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK);

	CHECK_RC(hx_wire_ne(&ne, &n, HX_MSG_NE_QUERY, 0x01020304, (const uint8_t *)"\x61\x00\x00",
	                    3),
	         HX_OK);
	expect_hex(ne, n, "011001020304610000");
	CHECK_RC(hx_wire_decode(&m, ne, n, 1), HX_OK);
	CHECK(m.session == 0x01020304 && m.nelen == 3 && m.ne[0] == 0x61);
	CHECK_RC(hx_wire_decode(&m, ne, 6, 1), HX_EPROTO); /* empty payload */
	free(ne);
	CHECK_RC(hx_wire_ne(&ne, &n, HX_MSG_PUSH, 1, (const uint8_t *)"a", 1), HX_EINVAL);

	n = hx_wire_ne_done(b, 7, 3, 5);
	expect_hex(b, n,
	           "01120000000700000003"
	           "00000005");
	n = hx_wire_ne_error(b, 7, HX_NEERR_BUSY);
	expect_hex(b, n, "01130000000701");

	uint8_t ids[64];
	memset(ids, 0x11, 32);
	memset(ids + 32, 0x22, 32);
	n = hx_wire_want(b, 9, ids, 2);
	CHECK(n == 8 + 64);
	expect_hex(b, 8, "0120000000090002");
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK);
	CHECK(m.count == 2 && m.ids[32] == 0x22);
	CHECK_RC(hx_wire_decode(&m, b, n - 1, 1), HX_EPROTO);
	b[7] = 0;
	CHECK_RC(hx_wire_decode(&m, b, 8, 1), HX_EPROTO); /* zero ids */

	n = hx_wire_announce(b, ids, 2);
	CHECK(n == 4 + 64);
	expect_hex(b, 4, "01220002");
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK);
	CHECK(m.type == HX_MSG_ANNOUNCE && m.count == 2 && m.ids[0] == 0x11 && m.ids[32] == 0x22);
	CHECK_RC(hx_wire_decode(&m, b, n - 1, 1), HX_EPROTO);
	CHECK_RC(hx_wire_decode(&m, b, n, 2), HX_EPROTO); /* one frame only */
	b[3] = 0;
	CHECK_RC(hx_wire_decode(&m, b, 4, 1), HX_EPROTO); /* zero ids */
	CHECK(!strcmp(hx_wire_type_name(HX_MSG_ANNOUNCE), "announce"));

	n = hx_wire_entries(b, 9, 2, HX_ENTRIES_LAST);
	expect_hex(b, n, "012100000009000201");
	CHECK_RC(hx_wire_decode(&m, b, n, 3), HX_OK);
	CHECK_RC(hx_wire_decode(&m, b, n, 2), HX_EPROTO); /* frame count mismatch */
	n = hx_wire_entries(b, 9, 0, HX_ENTRIES_LAST);
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK); /* none found */
	n = hx_wire_entries(b, 9, 300, 0);
	CHECK_RC(hx_wire_decode(&m, b, n, 301), HX_ELIMIT);

	n = hx_wire_push(b, 42, 1, HX_PUSH_LIVE);
	expect_hex(b, n, "0130000000000000002a000101");
	CHECK_RC(hx_wire_decode(&m, b, n, 2), HX_OK);
	CHECK(m.seq == 42 && m.count == 1 && m.flags == HX_PUSH_LIVE);
	b[12] = 0x80;
	CHECK_RC(hx_wire_decode(&m, b, n, 2), HX_EPROTO); /* unknown flag */
	n = hx_wire_push(b, 42, 0, 0);
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_EPROTO); /* empty push */

	n = hx_wire_ack(b, 42, 1, 0, 5);
	expect_hex(b, n, "0131000000000000002a000100000005");
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK);
	CHECK(m.stored == 1 && m.known == 0 && m.refused == 5);

	uint8_t junk[2] = { 1, 0x7f };
	CHECK_RC(hx_wire_decode(&m, junk, 2, 1), HX_EPROTO);
	CHECK_RC(hx_wire_decode(&m, junk, 1, 1), HX_EPROTO);
	CHECK_RC(hx_wire_decode(&m, junk, 2, HX_WIRE_FRAMES_MAX + 1), HX_ELIMIT);
}

/* REFUSED: the byte layout of PROTOCOL.md §5, and every way it can be wrong. */
static void test_refused(void)
{
	uint8_t b[HX_REFUSED_HDR_LEN + HX_WIRE_REFUSED_MAX * HX_REFUSED_ITEM_LEN + 1];
	uint8_t reasons[HX_WIRE_REFUSED_MAX], ids[HX_WIRE_REFUSED_MAX][HX_ID_LEN];
	hx_wire_msg m;

	memset(ids[0], 0x11, HX_ID_LEN);
	memset(ids[1], 0x22, HX_ID_LEN);
	reasons[0] = HX_WREFUSE_FUTURE;
	reasons[1] = HX_WREFUSE_NOT_MEMBER;
	size_t n = hx_wire_refused(b, 1700000000000000ull, reasons,
	                           (const uint8_t(*)[HX_ID_LEN])ids, 2);
	CHECK(n == 12 + 2 * 33);
	expect_hex(b, 12, "014000060a24181e40000002");
	CHECK(b[12] == 5 && b[13] == 0x11 && b[45] == 4 && b[46] == 0x22);
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK);
	CHECK(m.type == HX_MSG_REFUSED && m.time == 1700000000000000ull && m.count == 2);
	CHECK(m.items[0] == 5 && m.items[33] == 4 && m.items[34] == 0x22);
	CHECK(!strcmp(hx_wire_type_name(HX_MSG_REFUSED), "refused"));

	CHECK_RC(hx_wire_decode(&m, b, n, 2), HX_EPROTO);     /* one frame only */
	CHECK_RC(hx_wire_decode(&m, b, n - 1, 1), HX_EPROTO); /* short */
	b[n] = 0;
	CHECK_RC(hx_wire_decode(&m, b, n + 1, 1), HX_EPROTO); /* trailing byte */
	CHECK_RC(hx_wire_decode(&m, b, 11, 1), HX_EPROTO);    /* no count */
	b[45] = 0;
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_EPROTO); /* reason 0 */
	b[45] = 200;
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK); /* a reason of a later version */
	b[11] = 0;
	CHECK_RC(hx_wire_decode(&m, b, 12, 1), HX_EPROTO); /* empty */

	for (size_t i = 0; i < HX_WIRE_REFUSED_MAX; i++) {
		reasons[i] = HX_WREFUSE_SIGNATURE;
		memset(ids[i], (int)i, HX_ID_LEN);
	}
	n = hx_wire_refused(b, 1, reasons, (const uint8_t(*)[HX_ID_LEN])ids, HX_WIRE_REFUSED_MAX);
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_OK);
	CHECK(m.count == HX_WIRE_REFUSED_MAX);
	hx_be16_put(b + 10, HX_WIRE_REFUSED_MAX + 1);
	CHECK_RC(hx_wire_decode(&m, b, n, 1), HX_ELIMIT);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	keys();
	test_member();
	test_invite();
	test_messages();
	test_refused();
	return check_done();
}
