/*
 * test_bundle.c: unit tests of the bundle format (proto/bundle.h) and the
 * state file (proto/state.h): round trips, every single-byte flip and every
 * truncation of a small bundle, garbage between records, and the state's
 * promise that an office is never sent less than it lacks (random sets
 * against a brute-force model).
 *
 * With arguments it is also a helper for the shell tests (tests/bundle.t.sh etc.):
 *   --add-member STOREDIR KEYHEX  puts a member row (opaque bytes) into a
 *                                 store, when `hansa member add` is missing
 *   --ids FILE                    prints "index offset length id path" for
 *                                 each intact record of a bundle
 *   --drop IN OUT COUNT           rewrites IN without COUNT records spread
 *                                 evenly over it (an office that lacks them)
 *   --forge IN OUT K              rewrites IN with record K's signature
 *                                 changed and its record checks recomputed
 *   --future OUT                  a bundle by a new key of one entry dated
 *                                 now and one an hour ahead; prints the key
 * Rewritten bundles are signed by a throwaway key.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/bundle.h"
#include "proto/state.h"
#include "store/store.h"
#include "tests/check.h"

#define NENT 5

static uint8_t sk[HX_SECRET_LEN], pk[HX_KEY_LEN];

struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob make_entry(int i)
{
	char path[64], title[64], body[200];
	hx_entry e = { 0 };
	struct blob b;
	snprintf(path, sizeof path, "practices/p%d", i);
	snprintf(title, sizeof title, "Practice %d", i);
	snprintf(body, sizeof body, "Body of practice %d, with \x01 control and text.", i);
	e.path = path;
	e.kind = "practice";
	e.title = title;
	e.body = body;
	e.lang = "en";
	e.timestamp = 1767225600000000ull + (uint64_t)i;
	if (hx_entry_sign(&e, sk, &b.p, &b.n))
		abort();
	return b;
}

/* A bundle of the given entries. */
static struct blob make_bundle(struct blob *ents, int n)
{
	hx_bundle_writer *w;
	hx_bundle_manifest m = { 0 };
	size_t total = HX_BUNDLE_HEADER_LEN_1;
	for (int i = 0; i < n; i++)
		total += HX_BUNDLE_REC_HEAD + ents[i].n;
	struct blob b = { calloc(1, total), total };
	size_t at = HX_BUNDLE_HEADER_LEN_1;
	CHECK_RC(hx_bundle_writer_new(&w), HX_OK);
	for (int i = 0; i < n; i++) {
		CHECK_RC(hx_bundle_writer_record(w, ents[i].p, ents[i].n, b.p + at), HX_OK);
		memcpy(b.p + at + HX_BUNDLE_REC_HEAD, ents[i].p, ents[i].n);
		at += HX_BUNDLE_REC_HEAD + ents[i].n;
	}
	m.created = 42;
	CHECK_RC(hx_bundle_writer_finish(w, &m, sk, b.p), HX_OK);
	hx_bundle_writer_free(&w);
	CHECK(w == NULL);
	return b;
}

struct seen {
	int entries, damaged, truncated, end, checksum_ok;
	int got[NENT]; /* entry i came out intact */
	size_t trunc_at;
};

/* Reads a whole bundle; each intact entry must be byte-equal to one of ents. */
static int read_all(const uint8_t *p, size_t n, struct blob *ents, struct seen *s,
                    hx_bundle_manifest *m)
{
	hx_bundle_reader *r;
	memset(s, 0, sizeof *s);
	int rc = hx_bundle_reader_new(&r, p, n, m);
	if (rc)
		return rc;
	for (int guard = 0; guard < 10000; guard++) {
		hx_bundle_rec rec;
		CHECK_RC(hx_bundle_next(r, &rec), HX_OK);
		if (rec.event == HX_BUNDLE_ENTRY) {
			int found = 0;
			for (int i = 0; i < NENT; i++)
				if (ents[i].n == rec.len &&
				    !memcmp(ents[i].p, rec.entry, rec.len)) {
					s->got[i] = found = 1;
				}
			if (!found) {
				/* an "intact" record that is none of ours must at
				 * least not be a valid signed entry of ours */
				hx_entry e;
				int orc = hx_entry_open(&e, rec.entry, rec.len);
				CHECK(orc != HX_OK);
				if (!orc)
					hx_entry_clear(&e);
			}
			s->entries++;
		} else if (rec.event == HX_BUNDLE_DAMAGED) {
			CHECK(rec.skipped > 0);
			CHECK(rec.offset + rec.skipped <= n);
			s->damaged++;
		} else if (rec.event == HX_BUNDLE_TRUNCATED) {
			s->truncated++;
			s->trunc_at = rec.offset;
		} else {
			s->end = 1;
			s->checksum_ok = rec.checksum_ok;
			break;
		}
	}
	CHECK(s->end);
	hx_bundle_reader_free(&r);
	return HX_OK;
}

static void test_bundle_roundtrip(struct blob *ents)
{
	struct blob b = make_bundle(ents, NENT);
	hx_bundle_manifest m;
	struct seen s;
	CHECK_RC(read_all(b.p, b.n, ents, &s, &m), HX_OK);
	CHECK(m.sig_ok);
	CHECK(m.count == NENT);
	CHECK(m.created == 42);
	CHECK(!memcmp(m.exporter, pk, HX_KEY_LEN));
	CHECK(s.entries == NENT && !s.damaged && !s.truncated && s.checksum_ok);
	for (int i = 0; i < NENT; i++)
		CHECK(s.got[i]);
	/* not a bundle, other version, empty */
	uint8_t junk[300] = "hello";
	hx_bundle_reader *r = NULL;
	CHECK_RC(hx_bundle_reader_new(&r, junk, sizeof junk, &m), HX_EPROTO);
	CHECK(r == NULL);
	uint8_t *v3 = malloc(b.n);
	memcpy(v3, b.p, b.n);
	v3[9] = 3;
	CHECK_RC(hx_bundle_reader_new(&r, v3, b.n, &m), HX_EVERSION);
	CHECK(m.version == 3);
	free(v3);
	/* an empty bundle */
	struct blob e = make_bundle(ents, 0);
	CHECK_RC(read_all(e.p, e.n, ents, &s, &m), HX_OK);
	CHECK(m.sig_ok && m.count == 0 && s.entries == 0 && s.checksum_ok && !s.damaged);
	free(e.p);
	free(b.p);
}

/* Record i's offset in a bundle of ents. */
static size_t rec_at(struct blob *ents, int i)
{
	size_t at = HX_BUNDLE_HEADER_LEN_1;
	for (int k = 0; k < i; k++)
		at += HX_BUNDLE_REC_HEAD + ents[k].n;
	return at;
}

static void test_bundle_flips(struct blob *ents)
{
	struct blob b = make_bundle(ents, NENT);
	uint8_t *c = malloc(b.n);
	int bad = 0;
	for (size_t at = 0; at < b.n; at++) {
		memcpy(c, b.p, b.n);
		c[at] ^= 0x20;
		hx_bundle_manifest m;
		struct seen s;
		int rc = read_all(c, b.n, ents, &s, &m);
		if (at < 10) {
			/* magic or version: not read at all */
			bad += rc == HX_OK;
			continue;
		}
		if (at < HX_BUNDLE_HEADER_LEN_1) {
			/* the manifest no longer verifies, but every entry
			 * still comes out */
			bad += rc != HX_OK || m.sig_ok || s.truncated;
			for (int i = 0; i < NENT; i++)
				bad += !s.got[i];
			continue;
		}
		bad += rc != HX_OK || !m.sig_ok || s.checksum_ok;
		/* Exactly the record holding the byte is lost; all others
		 * come out intact. */
		int hit = 0;
		while (hit + 1 < NENT && at >= rec_at(ents, hit + 1))
			hit++;
		for (int i = 0; i < NENT; i++)
			bad += s.got[i] != (i != hit);
		bad += s.damaged < 1 || s.truncated;
	}
	CHECK(bad == 0);
	free(c);
	free(b.p);
}

static void test_bundle_truncation(struct blob *ents)
{
	struct blob b = make_bundle(ents, NENT);
	int bad = 0;
	for (size_t n = 1; n < b.n; n++) {
		uint8_t *c = malloc(n);
		memcpy(c, b.p, n);
		hx_bundle_manifest m;
		struct seen s;
		int rc = read_all(c, n, ents, &s, &m);
		if (n < HX_BUNDLE_HEADER_LEN_1) {
			bad += rc != HX_EPROTO;
		} else {
			/* every record wholly inside the file comes out */
			for (int i = 0; i < NENT; i++) {
				int whole = rec_at(ents, i + 1) <= n;
				bad += s.got[i] != whole;
			}
			bad += s.truncated != 1 || s.damaged;
		}
		free(c);
	}
	CHECK(bad == 0);
	free(b.p);
}

static void test_bundle_garbage(struct blob *ents)
{
	struct blob b = make_bundle(ents, NENT);
	size_t cut = rec_at(ents, 2), g = 777;
	uint8_t *c = malloc(b.n + g);
	memcpy(c, b.p, cut);
	/* garbage full of markers */
	for (size_t i = 0; i < g; i++)
		c[cut + i] = (uint8_t)HX_BUNDLE_REC_MARK[i % 4];
	memcpy(c + cut + g, b.p + cut, b.n - cut);
	hx_bundle_manifest m;
	struct seen s;
	/* The manifest's length no longer matches: its checksum fails but
	 * every entry is found after the garbage. */
	CHECK_RC(read_all(c, b.n + g, ents, &s, &m), HX_OK);
	for (int i = 0; i < NENT; i++)
		CHECK(s.got[i]);
	CHECK(s.damaged >= 1);
	free(c);
	free(b.p);
}

/* ---- state ---------------------------------------------------------------- */

static int item_cmp(const void *a, const void *b)
{
	return hx_ne_item_cmp(a, b);
}

static void random_items(hx_ne_item *v, size_t n, int few_ts)
{
	for (size_t i = 0; i < n; i++) {
		v[i].ts = few_ts ? randombytes_uniform(4) : 1000000 + randombytes_uniform(1000000);
		randombytes_buf(v[i].id, HX_ID_LEN);
		if (few_ts && i && randombytes_uniform(3) == 0)
			memcpy(v[i].id, v[i - 1].id,
			       1 + randombytes_uniform(30)); /* long common prefixes */
	}
	qsort(v, n, sizeof *v, item_cmp);
}

static void test_state(void)
{
	int deficit = 0, badbound = 0;
	uint64_t sent_total = 0, missing_total = 0;
	for (int trial = 0; trial < 200; trial++) {
		size_t n = 1 + randombytes_uniform(600);
		hx_ne_item *all = malloc(n * sizeof *all), *office = malloc(n * sizeof *office);
		uint8_t *has = malloc(n), *send = malloc(n);
		random_items(all, n, trial % 3 == 0);
		/* drop duplicates the few-timestamps mode may make */
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (!k || hx_ne_item_cmp(&all[k - 1], &all[i]))
				all[k++] = all[i];
		n = k;
		size_t no = 0, missing = 0;
		int mode = trial % 4;
		for (size_t i = 0; i < n; i++) {
			/* random holes, a missing tail, or nothing missing */
			has[i] = mode == 0   ? randombytes_uniform(50) != 0
			         : mode == 1 ? i < n * 3 / 4
			         : mode == 2 ? 1
			                     : randombytes_uniform(2);
			if (has[i])
				office[no++] = all[i];
			else
				missing++;
		}
		hx_state st, back;
		uint8_t *bytes;
		size_t len;
		uint64_t bucket = 1 + randombytes_uniform(40), excess;
		CHECK_RC(hx_state_build(&st, office, no, bucket), HX_OK);
		randombytes_buf(st.owner, HX_KEY_LEN);
		CHECK_RC(hx_state_encode(&st, &bytes, &len), HX_OK);
		CHECK_RC(hx_state_decode(&back, bytes, len, NULL), HX_OK);
		CHECK(back.n == st.n && back.items == no);
		CHECK(!memcmp(back.digest, st.digest, 32));
		for (size_t i = 0; i < st.n && i < back.n; i++)
			badbound += back.b[i].ts != st.b[i].ts ||
			            back.b[i].prefix_len != st.b[i].prefix_len ||
			            memcmp(back.b[i].prefix, st.b[i].prefix, HX_ID_LEN) ||
			            back.b[i].count != st.b[i].count ||
			            back.b[i].sum64 != st.b[i].sum64 ||
			            memcmp(back.b[i].fp, st.b[i].fp, HX_STATE_FP_LEN);
		CHECK_RC(hx_state_select(&back, all, n, send, &excess), HX_OK);
		size_t nsent = 0, extra = 0;
		for (size_t i = 0; i < n; i++) {
			deficit += !has[i] && !send[i];
			nsent += send[i];
			extra += has[i] && send[i];
		}
		CHECK(extra <= excess);
		if (mode == 2)
			CHECK(nsent == 0);
		sent_total += nsent;
		missing_total += missing;
		/* a flipped byte anywhere is caught */
		bytes[randombytes_uniform((uint32_t)len)] ^= 1;
		hx_state bad;
		const char *why = NULL;
		CHECK(hx_state_decode(&bad, bytes, len, &why) != HX_OK);
		CHECK(why != NULL);
		CHECK_RC(hx_state_decode(&bad, bytes, len - 1, NULL), HX_EPROTO);
		hx_state_clear(&st);
		hx_state_clear(&back);
		free(bytes);
		free(all);
		free(office);
		free(has);
		free(send);
	}
	CHECK(deficit == 0);
	CHECK(badbound == 0);
	printf("state: %llu sent for %llu missing over 200 random trials\n",
	       (unsigned long long)sent_total, (unsigned long long)missing_total);

	/* One or two missing per bucket: exactly those are sent. */
	{
		size_t n = 1000, no = 0;
		hx_ne_item *all = malloc(n * sizeof *all), *office = malloc(n * sizeof *office);
		uint8_t *send = malloc(n);
		uint64_t excess;
		hx_state st;
		random_items(all, n, 0);
		for (size_t i = 0; i < n; i++)
			if (i % 20 != 7 && i % 150 != 3)
				office[no++] = all[i];
		CHECK_RC(hx_state_build(&st, office, no, 16), HX_OK);
		CHECK_RC(hx_state_select(&st, all, n, send, &excess), HX_OK);
		size_t wrong = 0;
		for (size_t i = 0; i < n; i++)
			wrong += send[i] != (i % 20 == 7 || i % 150 == 3);
		CHECK(wrong == 0);
		CHECK(excess == 0);
		hx_state_clear(&st);
		free(all);
		free(office);
		free(send);
	}

	/* an empty office gets everything; unsorted input is refused */
	hx_ne_item v[3];
	uint8_t send[3];
	hx_state st;
	random_items(v, 3, 0);
	CHECK_RC(hx_state_build(&st, v, 0, 16), HX_OK);
	CHECK_RC(hx_state_select(&st, v, 3, send, NULL), HX_OK);
	CHECK(send[0] && send[1] && send[2]);
	hx_state_clear(&st);
	hx_ne_item w[2] = { v[1], v[0] };
	CHECK_RC(hx_state_build(&st, w, 2, 16), HX_EINVAL);
	CHECK_RC(hx_state_build(&st, v, 3, 0), HX_EINVAL);
	CHECK_RC(hx_state_decode(&st, (const uint8_t *)"nonsense", 8, NULL), HX_EPROTO);
}

static int add_member(const char *dir, const char *hex)
{
	uint8_t key[HX_KEY_LEN];
	hx_store *s;
	if (hx_unhex(key, HX_KEY_LEN, hex) || hx_store_open(&s, dir, 0)) {
		fprintf(stderr, "test_bundle: bad key or store\n");
		return 1;
	}
	int rc = hx_store_member_put(s, key, (const uint8_t *)"test-member", 11);
	hx_store_close(&s);
	return rc != HX_OK;
}

static int slurp(const char *name, struct blob *b)
{
	FILE *f = fopen(name, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	b->p = malloc(n > 0 ? (size_t)n : 1);
	b->n = fread(b->p, 1, (size_t)n, f);
	fclose(f);
	return b->n == (size_t)n ? 0 : -1;
}

/* Writes a bundle of the given records, signed by a throwaway key. */
static int spill(const char *name, struct blob *recs, size_t n)
{
	uint8_t tpk[HX_KEY_LEN], tsk[HX_SECRET_LEN], head[HX_BUNDLE_REC_HEAD];
	uint8_t man[HX_BUNDLE_HEADER_LEN_1] = { 0 };
	hx_bundle_writer *w;
	hx_bundle_manifest m = { .created = hx_now_us() };
	FILE *f = fopen(name, "wb");
	if (!f || hx_bundle_writer_new(&w))
		return 1;
	crypto_sign_keypair(tpk, tsk);
	fwrite(man, 1, sizeof man, f);
	for (size_t i = 0; i < n; i++) {
		if (hx_bundle_writer_record(w, recs[i].p, recs[i].n, head))
			return 1;
		fwrite(head, 1, sizeof head, f);
		fwrite(recs[i].p, 1, recs[i].n, f);
	}
	if (hx_bundle_writer_finish(w, &m, tsk, man))
		return 1;
	hx_bundle_writer_free(&w);
	sodium_memzero(tsk, sizeof tsk);
	fseek(f, 0, SEEK_SET);
	fwrite(man, 1, sizeof man, f);
	return fclose(f) != 0;
}

/* The intact records of a bundle file (borrowing from *file). */
static int records(const char *name, struct blob *file, struct blob **recs, size_t *n,
                   size_t **offsets)
{
	hx_bundle_reader *r;
	hx_bundle_manifest m;
	hx_bundle_rec rec;
	size_t cap = 64;
	if (slurp(name, file) || hx_bundle_reader_new(&r, file->p, file->n, &m))
		return -1;
	*recs = malloc(cap * sizeof **recs);
	*offsets = malloc(cap * sizeof **offsets);
	*n = 0;
	while (!hx_bundle_next(r, &rec) && rec.event != HX_BUNDLE_END) {
		if (rec.event != HX_BUNDLE_ENTRY)
			continue;
		if (*n == cap) {
			cap *= 2;
			*recs = realloc(*recs, cap * sizeof **recs);
			*offsets = realloc(*offsets, cap * sizeof **offsets);
		}
		(*recs)[*n] = (struct blob){ (uint8_t *)rec.entry, rec.len };
		(*offsets)[(*n)++] = rec.offset;
	}
	hx_bundle_reader_free(&r);
	return 0;
}

static int helper(int argc, char **argv)
{
	struct blob file, *recs;
	size_t n, *off;
	char hex[2 * HX_ID_LEN + 1];

	if (argc == 4 && !strcmp(argv[1], "--add-member"))
		return add_member(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "--future")) {
		struct blob b[2];
		crypto_sign_keypair(pk, sk);
		for (int i = 0; i < 2; i++) {
			hx_entry e = { .path = i ? "notes/later" : "notes/now",
				       .kind = "note",
				       .title = i ? "From the future" : "From now",
				       .body = "",
				       .lang = "en" };
			e.timestamp = hx_now_us() + (i ? 3600ull * 1000000u : 0);
			if (hx_entry_sign(&e, sk, &b[i].p, &b[i].n))
				return 1;
		}
		printf("%s\n", hx_hex(hex, pk, HX_KEY_LEN));
		int rc = spill(argv[2], b, 2);
		free(b[0].p);
		free(b[1].p);
		return rc;
	}
	if (argc == 3 && !strcmp(argv[1], "--ids")) {
		if (records(argv[2], &file, &recs, &n, &off))
			return 1;
		for (size_t i = 0; i < n; i++) {
			hx_entry e;
			if (hx_entry_decode(&e, recs[i].p, recs[i].n))
				return 1;
			printf("%zu %zu %zu %s %s\n", i, off[i], recs[i].n,
			       hx_hex(hex, e.id, HX_ID_LEN), e.path);
			hx_entry_clear(&e);
		}
		free(recs);
		free(off);
		free(file.p);
		return 0;
	}
	if (argc == 5 && (!strcmp(argv[1], "--drop") || !strcmp(argv[1], "--forge"))) {
		size_t k = (size_t)strtoul(argv[4], NULL, 10), kept = 0;
		if (records(argv[2], &file, &recs, &n, &off) ||
		    (!strcmp(argv[1], "--forge") && k >= n))
			return 1;
		if (argv[1][2] == 'f') {
			/* a different, still canonical, signature */
			uint8_t *copy = malloc(recs[k].n);
			memcpy(copy, recs[k].p, recs[k].n);
			copy[recs[k].n - 1] ^= 1;
			recs[k].p = copy;
			int rc = spill(argv[3], recs, n);
			free(copy);
			free(recs);
			free(off);
			free(file.p);
			return rc;
		}
		/* drop record i when (i+1)k/n passes an integer: exactly k
		 * records, evenly spaced */
		for (size_t i = 0; i < n; i++)
			if (k > n || ((i + 1) * k) / n == (i * k) / n)
				recs[kept++] = recs[i];
		int rc = spill(argv[3], recs, kept);
		free(recs);
		free(off);
		free(file.p);
		return rc;
	}
	fprintf(stderr, "test_bundle: unknown helper arguments\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc > 1)
		return helper(argc, argv);
	crypto_sign_keypair(pk, sk);
	struct blob ents[NENT];
	for (int i = 0; i < NENT; i++)
		ents[i] = make_entry(i);
	test_bundle_roundtrip(ents);
	test_bundle_flips(ents);
	test_bundle_truncation(ents);
	test_bundle_garbage(ents);
	test_state();
	for (int i = 0; i < NENT; i++)
		free(ents[i].p);
	return check_done();
}
