/*
 * hx_badpeer.c: a test tool that plays a partner node badly, for the
 * replication tests (tests/replication.t.sh): it makes keys and invite
 * codes, fills a store with deterministic entries, checks whether a node
 * admits its transport key, and, as a member, pushes forged, tampered,
 * over-limit, far-future and non-member entries (plus one good control
 * entry) over the wire. Not installed; one line on stderr per error.
 *
 *   hx_badpeer keygen FILE                 write a new identity + transport key
 *   hx_badpeer pubkey FILE                 print the identity key (hex)
 *   hx_badpeer code FILE ENDPOINT          print an invite code for FILE's keys
 *   hx_badpeer hello FILE CODE             connect to CODE's node: exit 0 if it
 *                                          answers HELLO, 3 if refused (ZAP), 4 on timeout
 *   hx_badpeer attack FILE CODE            push the bad entries; prints their ids
 *                                          on stdout, the good one's id last
 *   hx_badpeer fill FILE DIR FROM TO       store entries FROM..TO-1 (deterministic:
 *                                          same numbers give the same ids) in the
 *                                          store directory DIR, signed by FILE
 *   hx_badpeer blobserve FILE CODE BLOB SECONDS
 *                                          connect to CODE's node and serve the
 *                                          file BLOB as an attachment blob
 *                                          (docs/PROTOCOL.md §9) for SECONDS, with
 *                                          every chunk it sends corrupted (one
 *                                          byte flipped); prints the number of
 *                                          chunks sent on exit
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>
#include "proto/cbor.h"
#include "proto/invite.h"
#include "proto/wire.h"
#include "proto/blobwire.h"
#include "store/store.h"

struct keys {
	uint8_t pk[32], sk[64], cpk[32], csk[32];
};

static void die(const char *what, const char *detail) __attribute__((noreturn));
static void die(const char *what, const char *detail)
{
	fprintf(stderr, "hx_badpeer: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void load_keys(const char *file, struct keys *k)
{
	uint8_t buf[96];
	FILE *f = fopen(file, "rb");
	if (!f || fread(buf, 1, sizeof buf, f) != sizeof buf)
		die("cannot read key file", file);
	fclose(f);
	memcpy(k->sk, buf, 64);
	crypto_sign_ed25519_sk_to_pk(k->pk, k->sk);
	memcpy(k->csk, buf + 64, 32);
	crypto_scalarmult_base(k->cpk, k->csk);
}

static void keygen(const char *file)
{
	uint8_t buf[96], pk[32];
	crypto_sign_keypair(pk, buf);
	randombytes_buf(buf + 64, 32);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || close(fd))
		die("cannot write key file", file);
}

static char *make_code(const struct keys *k, const char *ep)
{
	hx_meta prof[1] = { { "name", "badpeer" } };
	hx_member m = { .timestamp = hx_now_us(), .profile = prof, .nprofile = 1 };
	uint8_t *rec;
	size_t len;
	char *code;
	const char *eps[1] = { ep };
	memcpy(m.transport, k->cpk, 32);
	if (hx_member_sign(&m, k->sk, &rec, &len))
		die("cannot sign the member record", NULL);
	if (hx_invite_encode(rec, len, eps, 1, hx_now_us(), k->sk, &code))
		die("cannot make the code", ep);
	free(rec);
	return code;
}

/* ---- a connection to the node ----------------------------------------- */

struct link {
	void *ctx, *sock, *mon;
};

/* Returns 0 when HELLO is answered, 3 when the handshake is refused, 4 on
 * timeout. */
static int link_open(struct link *l, const struct keys *k, const char *code)
{
	hx_invite inv;
	if (hx_invite_decode(&inv, code, NULL, NULL))
		die("bad invite code", NULL);
	l->ctx = zmq_ctx_new();
	l->sock = zmq_socket(l->ctx, ZMQ_DEALER);
	int linger = 0;
	int64_t maxmsg = HX_WIRE_FRAME_MAX;
	zmq_setsockopt(l->sock, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(l->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, inv.member.transport, 32);
	zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, k->cpk, 32);
	zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY, k->csk, 32);
	zmq_socket_monitor(l->sock, "inproc://mon",
	                   ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
	l->mon = zmq_socket(l->ctx, ZMQ_PAIR);
	zmq_setsockopt(l->mon, ZMQ_LINGER, &linger, sizeof linger);
	zmq_connect(l->mon, "inproc://mon");
	if (zmq_connect(l->sock, inv.endpoints[0]))
		die("cannot connect", inv.endpoints[0]);
	hx_invite_clear(&inv);
	/* wait for the handshake's outcome */
	uint64_t deadline = hx_now_us() + 5000000;
	for (;;) {
		zmq_pollitem_t it = { .socket = l->mon, .events = ZMQ_POLLIN };
		if (hx_now_us() > deadline)
			return 4;
		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		uint8_t ev[6];
		char addr[256];
		if (zmq_recv(l->mon, ev, sizeof ev, 0) < 2)
			continue;
		zmq_recv(l->mon, addr, sizeof addr, 0);
		uint16_t e;
		memcpy(&e, ev, 2);
		if (e == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
			break;
		return 3;
	}
	uint8_t h[HX_HELLO_LEN];
	hx_wire_hello(h, HX_CAP_NEGENTROPY | HX_CAP_PUSH, HX_WIRE_FRAME_MAX, 0, HX_WIRE_BATCH_MAX,
	              k->pk, hx_now_us());
	zmq_send(l->sock, h, sizeof h, 0);
	return 0;
}

/* Waits for a message of type want (other types are skipped); returns its
 * decoded header in *m (the frame stays in buf). 0, or 4 on timeout. */
static int link_wait(struct link *l, uint8_t want, hx_wire_msg *m, uint8_t *buf, size_t cap)
{
	uint64_t deadline = hx_now_us() + 10000000;
	while (hx_now_us() < deadline) {
		zmq_pollitem_t it = { .socket = l->sock, .events = ZMQ_POLLIN };
		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		int n = zmq_recv(l->sock, buf, cap, 0);
		int more;
		size_t ml = sizeof more, frames = 1;
		zmq_getsockopt(l->sock, ZMQ_RCVMORE, &more, &ml);
		while (more) { /* skip entry frames */
			char tmp[16];
			zmq_recv(l->sock, tmp, sizeof tmp, 0);
			zmq_getsockopt(l->sock, ZMQ_RCVMORE, &more, &ml);
			frames++;
		}
		if (n < 0 || (size_t)n > cap)
			continue;
		if (hx_wire_decode(m, buf, (size_t)n, frames) == HX_OK && m->type == want)
			return 0;
	}
	return 4;
}

static void link_close(struct link *l)
{
	zmq_socket_monitor(l->sock, NULL, 0);
	zmq_close(l->mon);
	zmq_close(l->sock);
	zmq_ctx_term(l->ctx);
}

/* ---- entries ------------------------------------------------------------ */

/* Encodes and signs an entry without checking its limits (so that
 * over-limit entries can be made). sign_sk may differ from the author's
 * key (a forgery). Returns the canonical bytes; id out. */
static uint8_t *raw_entry(const uint8_t author[32], const uint8_t *sign_sk, const char *path,
                          uint64_t ts, const char *title, const char *body, size_t *len,
                          uint8_t id[32])
{
	hx_buf b = { 0 };
	uint8_t sig[64];
	hx_buf_put(&b, "\x82", 1);
	hx_cbor_head(&b, HX_CBOR_MAP, 10);
	hx_cbor_uint(&b, 0);
	hx_cbor_uint(&b, 1);
	hx_cbor_uint(&b, 1);
	hx_cbor_bytes(&b, author, 32);
	hx_cbor_uint(&b, 2);
	hx_cbor_text(&b, path, strlen(path));
	hx_cbor_uint(&b, 3);
	hx_cbor_uint(&b, ts);
	hx_cbor_uint(&b, 4);
	hx_cbor_text(&b, "note", 4);
	hx_cbor_uint(&b, 5);
	hx_cbor_text(&b, title, strlen(title));
	hx_cbor_uint(&b, 6);
	hx_cbor_text(&b, body, strlen(body));
	hx_cbor_uint(&b, 7);
	hx_cbor_head(&b, HX_CBOR_ARRAY, 0);
	hx_cbor_uint(&b, 8);
	hx_cbor_text(&b, "en", 2);
	hx_cbor_uint(&b, 9);
	hx_cbor_head(&b, HX_CBOR_MAP, 0);
	crypto_generichash(id, 32, b.data + 1, b.len - 1, NULL, 0);
	crypto_sign_ed25519_detached(sig, NULL, id, 32, sign_sk);
	hx_cbor_bytes(&b, sig, 64);
	if (b.err)
		die("out of memory", NULL);
	*len = b.len;
	return b.data;
}

static void print_id(const uint8_t id[32])
{
	char hex[65];
	puts(hx_hex(hex, id, 32));
}

static int attack(const struct keys *k, const char *code)
{
	struct link l;
	hx_wire_msg m;
	uint8_t buf[256];
	int rc = link_open(&l, k, code);
	if (rc)
		return rc;
	if ((rc = link_wait(&l, HX_MSG_HELLO, &m, buf, sizeof buf)))
		die("no HELLO from the node", NULL);

	uint64_t now = hx_now_us();
	uint8_t *raw[6], id[32];
	size_t len[6];
	uint8_t stranger_pk[32], stranger_sk[64];
	crypto_sign_keypair(stranger_pk, stranger_sk);
	char *big = malloc(300 * 1024 + 1);
	memset(big, 'x', 300 * 1024);
	big[300 * 1024] = 0;

	/* 1. forged: the author is the member, the signature someone else's */
	raw[0] = raw_entry(k->pk, stranger_sk, "bad/forged", now, "Forged", "forged", &len[0], id);
	print_id(id);
	/* 2. tampered: signed, then one byte of the title changed */
	raw[1] = raw_entry(k->pk, k->sk, "bad/tampered", now, "Tampered a", "text", &len[1], id);
	for (size_t i = 0; i + 10 <= len[1]; i++) {
		if (!memcmp(raw[1] + i, "Tampered a", 10)) {
			raw[1][i + 9] = 'b';
			break;
		}
	}
	crypto_generichash(id, 32, raw[1] + 1, len[1] - 1 - 66, NULL, 0);
	print_id(id);
	/* 3. over the body limit (300 KiB > 256 KiB) */
	raw[2] = raw_entry(k->pk, k->sk, "bad/huge", now, "Huge", big, &len[2], id);
	print_id(id);
	/* 4. an hour in the future */
	raw[3] = raw_entry(k->pk, k->sk, "bad/future", now + 3600ull * 1000000, "Future", "later",
	                   &len[3], id);
	print_id(id);
	/* 5. by a key that is not a member */
	raw[4] = raw_entry(stranger_pk, stranger_sk, "bad/stranger", now, "Stranger", "who",
	                   &len[4], id);
	print_id(id);
	/* 6. a good one, to show that the channel works */
	raw[5] = raw_entry(k->pk, k->sk, "good/control", now, "Control", "good", &len[5], id);
	print_id(id);
	fflush(stdout);
	free(big);

	uint8_t h[HX_PUSH_LEN];
	hx_wire_push(h, 1, 6, HX_PUSH_LIVE);
	zmq_send(l.sock, h, sizeof h, ZMQ_SNDMORE);
	for (int i = 0; i < 6; i++)
		zmq_send(l.sock, raw[i], len[i], i < 5 ? ZMQ_SNDMORE : 0);
	rc = link_wait(&l, HX_MSG_ACK, &m, buf, sizeof buf);
	for (int i = 0; i < 6; i++)
		free(raw[i]);
	link_close(&l);
	if (rc)
		die("no ACK from the node", NULL);
	fprintf(stderr, "hx_badpeer: ack: stored %u, known %u, refused %u\n", m.stored, m.known,
	        m.refused);
	return m.stored == 1 && m.refused == 5 ? 0 : 2;
}

static int hello(const struct keys *k, const char *code)
{
	struct link l;
	hx_wire_msg m;
	uint8_t buf[256];
	int rc = link_open(&l, k, code);
	if (!rc)
		rc = link_wait(&l, HX_MSG_HELLO, &m, buf, sizeof buf);
	link_close(&l);
	if (rc == 3)
		fprintf(stderr, "hx_badpeer: refused by the node\n");
	else if (rc == 4)
		fprintf(stderr, "hx_badpeer: no answer\n");
	return rc;
}

static int fill(const char *dir, const struct keys *k, long from, long to)
{
	hx_store *s;
	enum { BATCH = 500 };
	hx_put put[BATCH];
	uint8_t *raw[BATCH], id[32];
	hx_entry e[BATCH];
	size_t n = 0, added;
	if (hx_store_open(&s, dir, 0))
		die("cannot open the store", dir);
	for (long i = from; i <= to; i++) {
		if (i < to) {
			char path[64], title[64], body[256];
			uint32_t r = (uint32_t)(i * 2654435761u);
			snprintf(path, sizeof path, "gen/%08lx/%ld", (unsigned long)r, i);
			snprintf(title, sizeof title, "Generated practice %ld", i);
			snprintf(body, sizeof body, "Body %ld: %u %u %u", i, r, r ^ 0x5bd1e995u,
			         r >> 7);
			/* fixed timestamps (1 s apart from 2024-01-01): same i, same id */
			uint64_t ts = 1704067200000000ull + (uint64_t)i * 1000000u + (r % 1000000u);
			raw[n] = raw_entry(k->pk, k->sk, path, ts, title, body, &put[n].rawlen, id);
			if (hx_entry_decode(&e[n], raw[n], put[n].rawlen))
				die("generated a bad entry", path);
			put[n].raw = raw[n];
			put[n].entry = &e[n];
			n++;
		}
		if (n == BATCH || (i == to && n)) {
			if (hx_store_put_batch(s, put, n, 0, &added))
				die("cannot store", dir);
			for (size_t j = 0; j < n; j++) {
				hx_entry_clear(&e[j]);
				free(raw[j]);
			}
			n = 0;
		}
	}
	hx_store_close(&s);
	return 0;
}

/* ---- a blob server that lies ------------------------------------------- */

static int blobserve(const struct keys *k, const char *code, const char *file, double seconds)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		die("cannot open", file);
	fseek(f, 0, SEEK_END);
	uint64_t size = (uint64_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *data = malloc(size + 1);
	if (!data || fread(data, 1, size, f) != size)
		die("cannot read", file);
	fclose(f);
	uint64_t n = hx_blob_chunks(size);
	uint8_t *hashes = malloc(n * 32 + 1), hash[32];
	for (uint64_t i = 0; i < n; i++)
		crypto_generichash(hashes + 32 * i, 32, data + i * HX_CHUNK_SIZE,
		                   hx_bwire_chunk_len(size, (uint32_t)i), NULL, 0);
	hx_blob_hash(hash, size, hashes);

	struct link l;
	int rc = link_open(&l, k, code);
	if (rc)
		return rc;
	uint64_t end = hx_now_us() + (uint64_t)(seconds * 1e6), sent = 0;
	static uint8_t buf[HX_WIRE_FRAME_MAX];
	uint8_t *chunk = malloc(HX_CHUNK_SIZE);
	while (hx_now_us() < end) {
		zmq_pollitem_t it = { .socket = l.sock, .events = ZMQ_POLLIN };
		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		int len = zmq_recv(l.sock, buf, sizeof buf, 0), more;
		size_t ml = sizeof more;
		zmq_getsockopt(l.sock, ZMQ_RCVMORE, &more, &ml);
		while (more) {
			char tmp[16];
			zmq_recv(l.sock, tmp, sizeof tmp, 0);
			zmq_getsockopt(l.sock, ZMQ_RCVMORE, &more, &ml);
		}
		if (len < 2 || len > (int)sizeof buf)
			continue;
		const uint8_t *fr[1] = { buf };
		size_t fl[1] = { (size_t)len };
		hx_bwire_msg m;
		if (hx_bwire_decode(&m, fr, fl, 1) || memcmp(m.hash, hash, 32))
			continue;
		if (m.type == HX_MSG_BLOB_GET) {
			uint8_t h[HX_BLOB_LIST_LEN];
			hx_bwire_list(h, m.request, hash, size, HX_BLIST_WHOLE);
			zmq_send(l.sock, h, sizeof h, ZMQ_SNDMORE);
			zmq_send(l.sock, hashes, n * 32, 0);
		} else if (m.type == HX_MSG_CHUNK_WANT) {
			for (uint16_t i = 0; i < m.count; i++) {
				uint32_t ix = hx_be32_get(m.indexes + 4 * (size_t)i);
				size_t cl = hx_bwire_chunk_len(size, ix);
				uint8_t h[HX_CHUNK_LEN];
				if (!cl)
					continue;
				memcpy(chunk, data + (uint64_t)ix * HX_CHUNK_SIZE, cl);
				chunk[cl / 2] ^= 0x01; /* the lie */
				hx_bwire_chunk(h, m.request, hash, ix, 0);
				zmq_send(l.sock, h, sizeof h, ZMQ_SNDMORE);
				zmq_send(l.sock, chunk, cl, 0);
				sent++;
			}
		}
	}
	printf("%llu\n", (unsigned long long)sent);
	free(chunk);
	free(hashes);
	free(data);
	link_close(&l);
	return 0;
}

int main(int argc, char **argv)
{
	struct keys k;
	if (sodium_init() < 0)
		die("libsodium failed", NULL);
	if (argc == 3 && !strcmp(argv[1], "keygen")) {
		keygen(argv[2]);
		return 0;
	}
	if (argc < 3)
		die("usage: hx_badpeer keygen|pubkey|code|hello|attack|fill ...", NULL);
	load_keys(argv[2], &k);
	if (argc == 3 && !strcmp(argv[1], "pubkey")) {
		char hex[65];
		puts(hx_hex(hex, k.pk, 32));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "code")) {
		char *code = make_code(&k, argv[3]);
		puts(code);
		free(code);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "hello"))
		return hello(&k, argv[3]);
	if (argc == 4 && !strcmp(argv[1], "attack"))
		return attack(&k, argv[3]);
	if (argc == 6 && !strcmp(argv[1], "fill")) {
		/* argv: fill FILE DIR FROM TO (FILE first like the others) */
		return fill(argv[3], &k, atol(argv[4]), atol(argv[5]));
	}
	if (argc == 6 && !strcmp(argv[1], "blobserve"))
		return blobserve(&k, argv[3], argv[4], atof(argv[5]));
	die("bad usage", argv[1]);
	return 1;
}
