/*
 * test_bundle_blob.c: unit tests of the bundle's blob and chunk records
 * (proto/bundle.h, format version 2) and of the state file's blob list
 * (proto/state.h, version 2): a round trip, byte flips and truncations
 * that must never hand out a chunk that does not match its hash list, and
 * old (version 1) state files still read.
 *
 * With arguments it is a helper for tests/bundle-files.t.sh:
 *   --blobs FILE        prints "B offset size hash" for each intact blob
 *                       record and "C offset length hash index" for each
 *                       intact chunk record
 *   --reforge FILE OFF  flips a byte inside the chunk record at byte OFF
 *                       and recomputes the record's checks, so that only
 *                       the blob's hash list can tell (in place)
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/bundle.h"
#include "proto/state.h"
#include "tests/check.h"

#define NFILE 3

static uint8_t sk[HX_SECRET_LEN], pk[HX_KEY_LEN];

struct bytes {
	uint8_t *p;
	size_t n;
};

struct file {
	uint8_t *data;
	uint64_t size;
	uint8_t *hashes;
	uint32_t n;
	uint8_t hash[HX_ID_LEN];
};

static void make_file(struct file *f, uint64_t size, uint8_t seed)
{
	uint8_t key[randombytes_SEEDBYTES] = { seed };
	f->size = size;
	f->data = malloc(size ? size : 1);
	randombytes_buf_deterministic(f->data, size, key);
	f->n = (uint32_t)hx_blob_chunks(size);
	f->hashes = malloc(f->n ? f->n * HX_ID_LEN : 1);
	for (uint32_t i = 0; i < f->n; i++) {
		uint64_t off = (uint64_t)i * HX_CHUNK_SIZE;
		uint64_t len = size - off < HX_CHUNK_SIZE ? size - off : HX_CHUNK_SIZE;
		crypto_generichash(f->hashes + i * HX_ID_LEN, HX_ID_LEN, f->data + off, len, NULL,
		                   0);
	}
	hx_blob_hash(f->hash, size, f->hashes);
}

static void put(struct bytes *b, size_t *cap, const void *p, size_t n)
{
	uint8_t *nb = hx_grow(b->p, cap, b->n + n, 1);
	if (!nb)
		abort();
	b->p = nb;
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* A version 2 bundle of one entry, then the files. */
static struct bytes make_bundle(const struct file *fs, int nf)
{
	hx_bundle_writer *w;
	hx_bundle_manifest m = { .created = 7 };
	struct bytes b = { 0 }, ent;
	size_t cap = 0;
	uint8_t head[HX_BUNDLE_REC_HEAD], man[HX_BUNDLE_HEADER_LEN] = { 0 };
	hx_entry e = { .path = "toolkits/t",
		       .kind = "toolkit",
		       .title = "T",
		       .body = "b",
		       .lang = "en",
		       .timestamp = 1767225600000000ull };

	if (hx_entry_sign(&e, sk, &ent.p, &ent.n) || hx_bundle_writer_new(&w))
		abort();
	hx_bundle_writer_v2(w);
	CHECK(hx_bundle_writer_header_len(w) == HX_BUNDLE_HEADER_LEN);
	put(&b, &cap, man, sizeof man);
	CHECK_RC(hx_bundle_writer_record(w, ent.p, ent.n, head), HX_OK);
	put(&b, &cap, head, sizeof head);
	put(&b, &cap, ent.p, ent.n);
	free(ent.p);
	for (int k = 0; k < nf; k++) {
		const struct file *f = &fs[k];
		uint8_t pre[HX_BUNDLE_BLOB_PRE], cpre[HX_BUNDLE_CHUNK_PRE];
		CHECK_RC(hx_bundle_writer_blob(w, f->hash, f->size, f->hashes, pre), HX_OK);
		put(&b, &cap, pre, sizeof pre);
		put(&b, &cap, f->hashes, (size_t)f->n * HX_ID_LEN);
		for (uint32_t i = 0; i < f->n; i++) {
			uint64_t off = (uint64_t)i * HX_CHUNK_SIZE;
			size_t len = f->size - off < HX_CHUNK_SIZE ? f->size - off : HX_CHUNK_SIZE;
			CHECK_RC(hx_bundle_writer_chunk(w, f->hash, i, f->data + off, len, cpre),
			         HX_OK);
			put(&b, &cap, cpre, sizeof cpre);
			put(&b, &cap, f->data + off, len);
		}
	}
	CHECK_RC(hx_bundle_writer_finish(w, &m, sk, b.p), HX_OK);
	CHECK(m.version == HX_BUNDLE_VERSION && m.blobs == (uint64_t)nf);
	hx_bundle_writer_free(&w);
	return b;
}

struct seen {
	int entries, blobs, damaged, truncated, chunks;
	int got[NFILE][8]; /* chunk i of file k came out and matches */
	size_t last_end;   /* end of the last intact record */
};

/* Reads a bundle; every chunk handed out must match its file's list. */
static void read_all(const struct bytes *b, const struct file *fs, struct seen *s,
                     hx_bundle_manifest *m)
{
	hx_bundle_reader *r;
	memset(s, 0, sizeof *s);
	CHECK_RC(hx_bundle_reader_new(&r, b->p, b->n, m), HX_OK);
	if (!r)
		return;
	for (int guard = 0; guard < 10000; guard++) {
		hx_bundle_rec rec;
		CHECK_RC(hx_bundle_next(r, &rec), HX_OK);
		if (rec.event == HX_BUNDLE_END)
			break;
		if (rec.event == HX_BUNDLE_DAMAGED) {
			s->damaged++;
			continue;
		}
		if (rec.event == HX_BUNDLE_TRUNCATED) {
			s->truncated++;
			continue;
		}
		s->last_end = hx_bundle_reader_pos(r);
		if (rec.event == HX_BUNDLE_ENTRY) {
			s->entries++;
			continue;
		}
		int k = 0;
		while (k < NFILE && memcmp(fs[k].hash, rec.hash, HX_ID_LEN))
			k++;
		CHECK(k < NFILE);
		if (k == NFILE)
			continue;
		if (rec.event == HX_BUNDLE_BLOB) {
			CHECK(rec.size == fs[k].size && rec.nchunks == fs[k].n &&
			      !memcmp(rec.hashes, fs[k].hashes, (size_t)fs[k].n * HX_ID_LEN));
			s->blobs++;
			continue;
		}
		uint8_t h[HX_ID_LEN];
		crypto_generichash(h, HX_ID_LEN, rec.entry, rec.len, NULL, 0);
		CHECK(rec.chunk < fs[k].n);
		if (rec.chunk < fs[k].n &&
		    !memcmp(h, fs[k].hashes + rec.chunk * HX_ID_LEN, HX_ID_LEN))
			s->got[k][rec.chunk] = 1;
		s->chunks++;
	}
	hx_bundle_reader_free(&r);
}

static int total_chunks(const struct file *fs)
{
	int n = 0;
	for (int k = 0; k < NFILE; k++)
		n += (int)fs[k].n;
	return n;
}

static void test_roundtrip(const struct file *fs)
{
	struct bytes b = make_bundle(fs, NFILE);
	hx_bundle_manifest m;
	struct seen s;
	read_all(&b, fs, &s, &m);
	CHECK(m.sig_ok && m.version == 2 && m.header_len == HX_BUNDLE_HEADER_LEN);
	CHECK(m.count == 1 && m.blobs == NFILE);
	CHECK(m.blob_bytes == fs[0].size + fs[1].size + fs[2].size);
	CHECK(s.entries == 1 && s.blobs == NFILE && !s.damaged && !s.truncated);
	CHECK(s.chunks == total_chunks(fs));
	for (int k = 0; k < NFILE; k++)
		for (uint32_t i = 0; i < fs[k].n; i++)
			CHECK(s.got[k][i]);
	/* a version 1 writer takes no blob */
	hx_bundle_writer *w;
	uint8_t pre[HX_BUNDLE_BLOB_PRE];
	CHECK_RC(hx_bundle_writer_new(&w), HX_OK);
	CHECK(hx_bundle_writer_header_len(w) == HX_BUNDLE_HEADER_LEN_1);
	CHECK_RC(hx_bundle_writer_blob(w, fs[0].hash, fs[0].size, fs[0].hashes, pre), HX_EINVAL);
	hx_bundle_writer_free(&w);
	free(b.p);
}

/* One byte flipped anywhere in the records: at most the record holding it
 * is lost, and no chunk that comes out fails its hash (read_all checks). */
static void test_flips(const struct file *fs)
{
	struct bytes b = make_bundle(fs, NFILE);
	int all = total_chunks(fs), tried = 0;
	for (size_t at = HX_BUNDLE_HEADER_LEN; at < b.n; at += 1009) {
		hx_bundle_manifest m;
		struct seen s;
		b.p[at] ^= 0x20;
		read_all(&b, fs, &s, &m);
		b.p[at] ^= 0x20;
		int got = 0;
		for (int k = 0; k < NFILE; k++)
			for (uint32_t i = 0; i < fs[k].n; i++)
				got += s.got[k][i];
		CHECK(got >= all - 1);
		CHECK(s.damaged >= 1);
		tried++;
	}
	CHECK(tried > 100);
	free(b.p);
}

/* Cut anywhere: every record before the cut comes out, none after. */
static void test_truncation(const struct file *fs)
{
	struct bytes b = make_bundle(fs, NFILE);
	size_t full = b.n;
	for (size_t cut = HX_BUNDLE_HEADER_LEN + 1; cut < full; cut += 4093) {
		hx_bundle_manifest m;
		struct seen s;
		struct bytes c = { b.p, cut };
		read_all(&c, fs, &s, &m);
		CHECK(m.sig_ok && s.truncated == 1);
		CHECK(s.last_end <= cut);
		/* records of up to 256 KiB: the cut falls in the one after */
		CHECK(cut - s.last_end <= HX_BUNDLE_CHUNK_PRE + HX_CHUNK_SIZE);
	}
	free(b.p);
}

/* A blob record whose checks hold but whose size is over the format's
 * limit (its chunk count would wrap) or disagrees with its list is damage. */
static void test_bad_blob_record(void)
{
	static const uint64_t sizes[] = { UINT64_MAX, HX_CHUNK_SIZE + 1, 0 };
	for (int k = 0; k < 3; k++) {
		struct bytes b = make_bundle(NULL, 0);
		size_t cap = b.n, at = b.n;
		uint8_t rec[HX_BUNDLE_REC_HEAD + 40] = { 0 }, h[16];
		memcpy(rec, HX_BUNDLE_BLOB_MARK, 4);
		hx_be32_put(rec + 4, 40);
		hx_be64_put(rec + HX_BUNDLE_REC_HEAD + HX_ID_LEN, sizes[k]);
		crypto_generichash(h, 16, rec + HX_BUNDLE_REC_HEAD, 40, NULL, 0);
		memcpy(rec + 8, h, 8);
		crypto_generichash(h, 16, rec, 16, NULL, 0);
		memcpy(rec + 16, h, 4);
		put(&b, &cap, rec, sizeof rec);
		hx_bundle_manifest m;
		hx_bundle_reader *r;
		hx_bundle_rec ev;
		CHECK_RC(hx_bundle_reader_new(&r, b.p, b.n, &m), HX_OK);
		CHECK_RC(hx_bundle_next(r, &ev), HX_OK);
		CHECK(ev.event == HX_BUNDLE_ENTRY);
		CHECK_RC(hx_bundle_next(r, &ev), HX_OK);
		/* an empty file's record (size 0, no chunk) is fine */
		if (sizes[k] == 0)
			CHECK(ev.event == HX_BUNDLE_BLOB && ev.nchunks == 0 && ev.offset == at);
		else
			CHECK(ev.event == HX_BUNDLE_DAMAGED && ev.kind == HX_BUNDLE_KIND_BLOB &&
			      ev.offset == at && ev.skipped == sizeof rec);
		hx_bundle_reader_free(&r);
		free(b.p);
	}
}

static void test_state_blobs(void)
{
	hx_ne_item items[40];
	hx_state st, back;
	uint8_t *bytes, hs[3][HX_ID_LEN];
	size_t len;
	for (int i = 0; i < 40; i++) {
		items[i].ts = 1000 + (uint64_t)i;
		randombytes_buf(items[i].id, HX_ID_LEN);
	}
	for (int i = 0; i < 3; i++) {
		memset(hs[i], 0, HX_ID_LEN);
		hs[i][0] = (uint8_t)(0x10 * (i + 1));
	}
	CHECK_RC(hx_state_build(&st, items, 40, 16), HX_OK);
	st.blobs = malloc(sizeof hs);
	memcpy(st.blobs, hs, sizeof hs);
	st.nblobs = 3;
	CHECK_RC(hx_state_encode(&st, &bytes, &len), HX_OK);
	CHECK_RC(hx_state_decode(&back, bytes, len, NULL), HX_OK);
	CHECK(back.has_blobs && back.nblobs == 3 && back.items == 40);
	CHECK(hx_state_has_blob(&back, hs[1]));
	uint8_t other[HX_ID_LEN] = { 0x11 };
	CHECK(!hx_state_has_blob(&back, other));
	hx_state_clear(&back);
	/* a version 1 file (no key 7): map(7), version 1, digest again */
	size_t tail = 1 + 2 + 32 * 3; /* 07 58 60 <96 bytes> */
	CHECK(bytes[8] == 0xa8 && bytes[10] == 0x02);
	size_t body = len - 32 - tail;
	bytes[8] = 0xa7;
	bytes[10] = 0x01;
	crypto_generichash(bytes + body, 32, bytes, body, NULL, 0);
	CHECK_RC(hx_state_decode(&back, bytes, body + 32, NULL), HX_OK);
	CHECK(!back.has_blobs && back.nblobs == 0 && back.items == 40);
	hx_state_clear(&back);
	free(bytes);
	/* out of order: refused */
	memcpy(st.blobs, hs[2], HX_ID_LEN);
	CHECK_RC(hx_state_encode(&st, &bytes, &len), HX_EINVAL);
	hx_state_clear(&st);
}

/* ---- helper for the shell test ------------------------------------------ */

static int slurp(const char *name, struct bytes *b)
{
	FILE *f = fopen(name, "rb");
	size_t cap = 0;
	uint8_t buf[65536];
	size_t n;
	b->p = NULL;
	b->n = 0;
	if (!f)
		return 1;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		put(b, &cap, buf, n);
	fclose(f);
	return 0;
}

static int helper(int argc, char **argv)
{
	struct bytes b;
	char hex[2 * HX_ID_LEN + 1];
	if (argc == 3 && !strcmp(argv[1], "--blobs")) {
		hx_bundle_manifest m;
		hx_bundle_reader *r;
		if (slurp(argv[2], &b) || hx_bundle_reader_new(&r, b.p, b.n, &m))
			return 1;
		for (;;) {
			hx_bundle_rec rec;
			if (hx_bundle_next(r, &rec) || rec.event == HX_BUNDLE_END)
				break;
			if (rec.event == HX_BUNDLE_BLOB)
				printf("B %zu %llu %s\n", rec.offset, (unsigned long long)rec.size,
				       hx_hex(hex, rec.hash, HX_ID_LEN));
			else if (rec.event == HX_BUNDLE_CHUNK)
				printf("C %zu %zu %s %u\n", rec.offset, rec.len,
				       hx_hex(hex, rec.hash, HX_ID_LEN), rec.chunk);
		}
		hx_bundle_reader_free(&r);
		free(b.p);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--reforge")) {
		size_t off = (size_t)strtoull(argv[3], NULL, 10);
		uint8_t h[16];
		if (slurp(argv[2], &b) || off + HX_BUNDLE_CHUNK_PRE + 11 > b.n)
			return 1;
		uint8_t *p = b.p + off;
		size_t n = hx_be32_get(p + 4);
		if (memcmp(p, HX_BUNDLE_CHUNK_MARK, 4) || off + HX_BUNDLE_REC_HEAD + n > b.n)
			return 1;
		p[HX_BUNDLE_CHUNK_PRE + 10] ^= 0x01;
		crypto_generichash(h, 16, p + HX_BUNDLE_REC_HEAD, n, NULL, 0);
		memcpy(p + 8, h, 8);
		crypto_generichash(h, 16, p, 16, NULL, 0);
		memcpy(p + 16, h, 4);
		FILE *f = fopen(argv[2], "wb");
		int bad = !f || fwrite(b.p, 1, b.n, f) != b.n;
		if (f && fclose(f))
			bad = 1;
		free(b.p);
		return bad;
	}
	fprintf(stderr, "usage: test_bundle_blob [--blobs FILE | --reforge FILE OFFSET]\n");
	return 2;
}

static int unit_tests(void)
{
	struct file fs[NFILE];
	crypto_sign_keypair(pk, sk);
	make_file(&fs[0], 2 * HX_CHUNK_SIZE + 12345, 1); /* 3 chunks */
	make_file(&fs[1], 1000, 2);                      /* 1 short chunk */
	make_file(&fs[2], 0, 3);                         /* empty: no chunk */
	test_roundtrip(fs);
	test_flips(fs);
	test_truncation(fs);
	test_bad_blob_record();
	test_state_blobs();
	for (int k = 0; k < NFILE; k++) {
		free(fs[k].data);
		free(fs[k].hashes);
	}
	return check_done();
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	return argc > 1 ? helper(argc, argv) : unit_tests();
}
