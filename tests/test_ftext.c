/*
 * test_ftext.c: text inside attachments reaches the search index (store/
 * ftext.h): a word on page 12 of an attachment is found and the hit names
 * the file and the page; text stored after the entry makes it findable; a
 * failed extraction leaves the file findable by name; replacing the entry
 * and collecting the blob leave the index in step (fsck clean); a real
 * extraction through the sandboxed worker (this binary hosts it).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "rmtree.h"
#include "store/store.h"
#include "store/blob.h"
#include "store/ftext.h"
#include "store/search.h"

static uint8_t sk[HX_SECRET_LEN], pk[HX_KEY_LEN];
static uint64_t ts = 1000;

static void report(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "fsck: %s\n", line);
}

static uint64_t fsck(hx_store *s)
{
	uint64_t problems = 99;
	CHECK_RC(hx_store_fsck(s, report, NULL, &problems), HX_OK);
	return problems;
}

/* Publishes path with body and (when name) one attachment of blob hash. */
static void publish(hx_store *s, const char *path, const char *body, const char *name,
                    const uint8_t *hash)
{
	hx_attach at = { .name = (char *)name, .size = 100, .type = "application/pdf" };
	if (hash)
		memcpy(at.hash, hash, HX_ID_LEN);
	hx_entry e = { .path = (char *)path,
		       .timestamp = ts++,
		       .kind = "toolkit",
		       .title = "Resilience",
		       .body = (char *)body,
		       .lang = "en",
		       .attach = name ? &at : NULL,
		       .nattach = name ? 1 : 0 };
	uint8_t *raw;
	size_t rawlen;
	CHECK_RC(hx_entry_sign(&e, sk, &raw, &rawlen), HX_OK);
	hx_put put = { .raw = raw, .rawlen = rawlen, .entry = &e };
	CHECK_RC(hx_store_put_batch(s, &put, 1, HX_PUT_NO_WAKE, NULL), HX_OK);
	CHECK_RC(put.result, HX_OK);
	free(raw);
}

/* Searches q; returns the hits (caller clears res). */
static size_t search(hx_store *s, const char *q, hx_results *res)
{
	hx_searcher *sr;
	char err[256];
	memset(res, 0, sizeof *res);
	CHECK_RC(hx_searcher_new(&sr, s), HX_OK);
	hx_search_opts o = { .limit = 10, .no_suggest = 1 };
	CHECK_RC(hx_search(sr, q, &o, res, err, sizeof err), HX_OK);
	hx_searcher_free(&sr);
	return res->nhits;
}

/* A fake extraction: 14 pages, "page N text", the word on page 12. */
static void fake_pages(hx_extract_result *r, struct hx_extract_part *parts, char (*bufs)[128],
                       const char *word)
{
	memset(r, 0, sizeof *r);
	r->format = HX_EXTRACT_PDF;
	for (int i = 0; i < 14; i++) {
		snprintf(bufs[i], 128, "Page %d of the casebook about municipalities%s%s.", i + 1,
		         i + 1 == 12 ? " and the " : "", i + 1 == 12 ? word : "");
		parts[i].page = (uint32_t)i + 1;
		parts[i].text = bufs[i];
		parts[i].len = strlen(bufs[i]);
		r->total += parts[i].len;
	}
	r->parts = parts;
	r->nparts = 14;
}

static void test_pages(hx_store *s)
{
	uint8_t pdf[HX_ID_LEN], bad[HX_ID_LEN];
	hx_results res;
	hx_extract_result r;
	struct hx_extract_part parts[14];
	char bufs[14][128];

	CHECK_RC(hx_blob_add_mem(s, "%PDF-1.4 not really", 19, pdf), HX_OK);
	/* the entry first: found by the file's name only */
	publish(s, "t/toolkit", "A practical guide.", "toolkit.pdf", pdf);
	CHECK(search(s, "toolkit", &res) == 1 && res.hits[0].file &&
	      !strcmp(res.hits[0].file, "toolkit.pdf") && res.hits[0].page == 0);
	hx_results_clear(&res);
	CHECK(search(s, "quixotry", &res) == 0);
	hx_results_clear(&res);
	uint8_t *pend;
	size_t npend;
	CHECK_RC(hx_ftext_pending(s, &pend, &npend), HX_OK);
	CHECK(npend == 1 && !memcmp(pend, pdf, HX_ID_LEN));
	free(pend);

	/* the text arrives later: the entry becomes findable by a word of page 12 */
	fake_pages(&r, parts, bufs, "quixotry");
	CHECK_RC(hx_ftext_put(s, pdf, HX_OK, &r, NULL), HX_OK);
	CHECK(search(s, "quixotry", &res) == 1);
	if (res.nhits == 1) {
		hx_hit *h = &res.hits[0];
		CHECK(h->file && !strcmp(h->file, "toolkit.pdf"));
		CHECK(h->page == 12);
		CHECK(h->snippet && strstr(h->snippet, "municipalities and the quixotry"));
		CHECK(h->nhl == 1 && h->hl[0].end - h->hl[0].start == 8);
	}
	hx_results_clear(&res);
	/* a word of the body: the hit is in the entry itself */
	CHECK(search(s, "practical", &res) == 1 && !res.hits[0].file && res.hits[0].page == 0);
	hx_results_clear(&res);
	CHECK_RC(hx_ftext_pending(s, &pend, &npend), HX_OK);
	CHECK(npend == 0);
	free(pend);
	hx_ftext ft;
	CHECK_RC(hx_ftext_get(s, pdf, &ft), HX_OK);
	CHECK(ft.ok && ft.nparts == 14 && ft.parts[11].page == 12 &&
	      strstr(ft.parts[11].text, "quixotry"));
	hx_ftext_clear(&ft);
	CHECK(fsck(s) == 0);

	/* a second document published after the row: indexed with the text */
	publish(s, "t/copy", "Another entry.", "copy.pdf", pdf);
	CHECK(search(s, "quixotry", &res) == 2);
	hx_results_clear(&res);
	CHECK(fsck(s) == 0);

	/* a failed extraction: found by name only, the reason kept */
	CHECK_RC(hx_blob_add_mem(s, "PK\3\4 bomb", 9, bad), HX_OK);
	publish(s, "t/bomb", "Office file.", "report-bomb.docx", bad);
	CHECK_RC(hx_ftext_put(s, bad, HX_ELIMIT, NULL,
	                      "zip entry word/document.xml would inflate\n"),
	         HX_OK);
	CHECK_RC(hx_ftext_get(s, bad, &ft), HX_OK);
	CHECK(!ft.ok && !strcmp(ft.why, "zip entry word/document.xml would inflate "));
	hx_ftext_clear(&ft);
	CHECK(search(s, "bomb", &res) == 1 && res.hits[0].file &&
	      !strcmp(res.hits[0].file, "report-bomb.docx"));
	hx_results_clear(&res);
	/* text that is not UTF-8 is refused and changes nothing */
	struct hx_extract_part bp = { 1, 3, "\xff\xfe!" };
	hx_extract_result br = { .format = HX_EXTRACT_TEXT_PLAIN, .nparts = 1, .parts = &bp };
	CHECK_RC(hx_ftext_put(s, bad, HX_OK, &br, NULL), HX_EINVAL);
	CHECK(fsck(s) == 0);

	/* the documents move on without the attachments; gc takes the blobs
	 * and their rows, and the index stays in step */
	publish(s, "t/toolkit", "A practical guide, now without the file.", NULL, NULL);
	publish(s, "t/copy", "Another entry.", NULL, NULL);
	CHECK(search(s, "quixotry", &res) == 0);
	hx_results_clear(&res);
	CHECK(fsck(s) == 0);
	uint64_t removed;
	CHECK_RC(hx_blob_gc(s, 0, &removed, NULL), HX_OK);
	CHECK(removed == 1); /* the bomb is still attached */
	CHECK_RC(hx_ftext_get(s, pdf, &ft), HX_ENOTFOUND);
	CHECK(fsck(s) == 0);
	/* dropping a blob still attached: its text leaves the index with it */
	CHECK_RC(hx_blob_drop(s, bad), HX_OK);
	CHECK_RC(hx_ftext_get(s, bad, &ft), HX_ENOTFOUND);
	CHECK(search(s, "bomb", &res) == 1); /* its name is part of the entry */
	hx_results_clear(&res);
	CHECK(fsck(s) == 0);
}

/* The real thing: a Markdown attachment extracted by the worker. */
static void test_extract(hx_store *s)
{
	const char *md = "# Notes\n\nThe word ostracon is only in this file.\n";
	uint8_t h[HX_ID_LEN];
	hx_results res;
	int failed = 1;
	char why[192];
	CHECK_RC(hx_blob_add_mem(s, md, strlen(md), h), HX_OK);
	publish(s, "t/notes", "Notes attached.", "notes.md", h);
	CHECK(search(s, "ostracon", &res) == 0);
	hx_results_clear(&res);
	CHECK_RC(hx_ftext_extract(s, h, NULL, NULL, NULL, &failed, why, sizeof why), HX_OK);
	CHECK(!failed);
	CHECK(search(s, "ostracon", &res) == 1 && res.hits[0].file &&
	      !strcmp(res.hits[0].file, "notes.md"));
	hx_results_clear(&res);
	CHECK(fsck(s) == 0);
}

/* A rebuild of many documents (the index's worker thread) with one whose
 * attachment has much text (tokenized inline, index.c): the same index as
 * the updates one at a time (fsck), and the words found. */
static void test_rebuild(hx_store *s)
{
	enum { NDOCS = 300, PAGES = 40 };
	uint8_t h[HX_ID_LEN];
	static struct hx_extract_part parts[PAGES];
	static char text[PAGES][4096];
	hx_results res;
	CHECK_RC(hx_blob_add_mem(s, "%PDF-1.4 the big one", 20, h), HX_OK);
	for (int i = 0; i < PAGES; i++) {
		size_t o = 0;
		while (o + 40 < sizeof text[i])
			o += (size_t)snprintf(text[i] + o, sizeof text[i] - o, "municipal word%d ",
			                      i);
		parts[i] = (struct hx_extract_part){ (uint32_t)i + 1, o, text[i] };
	}
	hx_extract_result r = { .format = HX_EXTRACT_PDF, .nparts = PAGES, .parts = parts };
	CHECK_RC(hx_ftext_put(s, h, HX_OK, &r, NULL), HX_OK);
	for (int i = 0; i < NDOCS; i++) {
		char path[32];
		snprintf(path, sizeof path, "bulk/%d", i);
		publish(s, path, "Bulk.", i == NDOCS / 2 ? "big.pdf" : NULL,
		        i == NDOCS / 2 ? h : NULL);
	}
	uint64_t docs = 0;
	CHECK_RC(hx_store_reindex(s, &docs), HX_OK);
	CHECK(docs >= NDOCS);
	CHECK(fsck(s) == 0);
	CHECK(search(s, "word33", &res) == 1 && res.hits[0].file && res.hits[0].page == 34);
	hx_results_clear(&res);
}

/* With entry values compressed (zentry.c: from 2,048 entries on), the
 * attachers of a blob are still found and the hit still names the page. */
static void test_compressed(hx_store *s)
{
	enum { N = 2100, BATCH = 300 };
	static hx_entry es[BATCH];
	static hx_put puts[BATCH];
	static char paths[BATCH][32];
	for (int done = 0; done < N; done += BATCH) {
		for (int i = 0; i < BATCH; i++) {
			snprintf(paths[i], sizeof paths[i], "many/%d", done + i);
			es[i] = (hx_entry){
				.path = paths[i],
				.timestamp = ts++,
				.kind = "toolkit",
				.title = "Filler practice",
				.body = "A practice of regional agencies around the sea.",
				.lang = "en"
			};
			puts[i] = (hx_put){ .entry = &es[i] };
			CHECK_RC(hx_entry_sign(&es[i], sk, (uint8_t **)&puts[i].raw,
			                       &puts[i].rawlen),
			         HX_OK);
		}
		CHECK_RC(hx_store_put_batch(s, puts, BATCH, HX_PUT_NO_WAKE, NULL), HX_OK);
		for (int i = 0; i < BATCH; i++)
			free((void *)puts[i].raw);
	}
	uint8_t pdf[HX_ID_LEN];
	hx_extract_result r;
	struct hx_extract_part parts[14];
	char bufs[14][128];
	hx_results res;
	CHECK_RC(hx_blob_add_mem(s, "%PDF-1.4 compressed store", 25, pdf), HX_OK);
	publish(s, "z/casebook", "The casebook, compressed in the store.", "casebook.pdf", pdf);
	fake_pages(&r, parts, bufs, "zymurgy");
	CHECK_RC(hx_ftext_put(s, pdf, HX_OK, &r, NULL), HX_OK);
	CHECK(search(s, "zymurgy", &res) == 1 && res.hits[0].file &&
	      !strcmp(res.hits[0].file, "casebook.pdf") && res.hits[0].page == 12);
	hx_results_clear(&res);
	CHECK(fsck(s) == 0);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/hx-test-ftext-XXXXXX";
	char *dir;
	hx_store *s;

	int rc;
	if (hx_extract_dispatch(argc, argv, &rc))
		return rc;
	if (sodium_init() < 0 || !(dir = mkdtemp(tmpl)))
		return 1;
	crypto_sign_keypair(pk, sk);
	CHECK_RC(hx_store_open(&s, dir, HX_STORE_CREATE), HX_OK);
	if (s) {
		test_pages(s);
		test_extract(s);
		test_rebuild(s);
		test_compressed(s);
		hx_store_close(&s);
	}
	rmtree(dir);
	return check_done();
}
