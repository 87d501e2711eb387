/*
 * entry.c: the entry's canonical encoding, id, signature and checks.
 *
 * Signed entry (docs/FORMAT.md has the full byte table):
 *   82                      array(2)
 *      <fields>             map(10), keys 0..9 in order (below)
 *      58 40 <sig:64>       bytes(64): Ed25519 signature of the id
 *   id = BLAKE2b-256(<fields>)   (unkeyed, 32-byte output)
 *
 *   key  field      CBOR type
 *   0    version    uint (1)
 *   1    author     bytes(32), Ed25519 public key
 *   2    path       text
 *   3    timestamp  uint, microseconds since the epoch
 *   4    kind       text
 *   5    title      text
 *   6    body       text
 *   7    tags       array of text
 *   8    lang       text
 *   9    meta       map text -> text, keys in canonical order
 *   10   signer     bytes(32), format 2 only, optional: the device key
 *   11   attachments array of map{0 name, 1 size, 2 type, 3 hash}, format 2,
 *                   optional, at least one element
 *
 * Format 1 has exactly keys 0..9 (map(10)); format 2 has 0..9 and at least
 * one of 10 and 11 (map(11) or map(12)), so each entry has one encoding.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "proto/cbor.h"
#include "proto/entry.h"

enum {
	K_VERSION,
	K_AUTHOR,
	K_PATH,
	K_TIMESTAMP,
	K_KIND,
	K_TITLE,
	K_BODY,
	K_TAGS,
	K_LANG,
	K_META,
	K_COUNT, /* format 1's fields; format 2's optional keys follow */
	K_SIGNER = K_COUNT,
	K_ATTACH,
};

/* Keys of one attachment's map. */
enum { A_NAME, A_SIZE, A_TYPE, A_HASH, A_COUNT };

static int chars_ok(const char *s, const char *extra)
{
	for (; *s; s++) {
		char c = *s;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (!strchr(extra, c))
			return 0;
	}
	return 1;
}

static int path_ok(const char *p)
{
	size_t n = strlen(p);
	if (n == 0)
		return HX_EINVAL;
	if (n > HX_PATH_MAX)
		return HX_ELIMIT;
	if (!chars_ok(p, "._+/-") || p[0] == '/' || p[n - 1] == '/')
		return HX_EINVAL;
	/* No empty, "." or ".." segment: paths become folders on export. */
	const char *seg = p;
	for (;;) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return HX_EINVAL;
		if (!slash)
			break;
		seg = slash + 1;
	}
	return HX_OK;
}

static int text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		return HX_ELIMIT;
	return hx_utf8_valid(s, n) ? HX_OK : HX_EINVAL;
}

/* Canonical order of text map keys: shorter first, then bytewise. */
static int meta_cmp(const void *a, const void *b)
{
	const hx_meta *x = a, *y = b;
	size_t lx = strlen(x->key), ly = strlen(y->key);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(x->key, y->key, lx);
}

/* A media type: type "/" subtype, each of [a-z0-9!#$&^_.+-]. */
static int media_type_ok(const char *t)
{
	const char *slash = strchr(t, '/');
	if (!slash || slash == t || !slash[1] || strchr(slash + 1, '/'))
		return 0;
	for (const char *c = t; *c; c++)
		if (c != slash && !((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		                    strchr("!#$&^_.+-", *c)))
			return 0;
	return 1;
}

/* A file name a user can save as is on any system: no separators, no
 * control characters, not hidden, not "." or "..". */
static int attach_name_ok(const char *n)
{
	if (!n[0] || n[0] == '.')
		return 0;
	for (const unsigned char *c = (const unsigned char *)n; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '/' || *c == '\\')
			return 0;
	return 1;
}

#define WHY(code, text)                \
	do {                           \
		if (why)               \
			*why = (text); \
		return (code);         \
	} while (0)

static int check_attach(const hx_entry *e, const char **why)
{
	int rc;

	if (e->has_signer && !memcmp(e->signer, e->author, HX_KEY_LEN))
		WHY(HX_EINVAL, "signer equals author (leave it out)");
	if (e->nattach && !e->attach)
		WHY(HX_EINVAL, "a required field is missing");
	if (e->nattach > HX_ATTACH_MAX)
		WHY(HX_ELIMIT, "more than 32 attachments");
	for (size_t i = 0; i < e->nattach; i++) {
		const hx_attach *a = &e->attach[i];
		if (!a->name || !a->type)
			WHY(HX_EINVAL, "a required field is missing");
		if ((rc = text_ok(a->name, HX_ATTACH_NAME_MAX)))
			WHY(rc, rc == HX_ELIMIT ? "attachment name longer than 255 bytes"
			                        : "attachment name is not valid UTF-8");
		if (!attach_name_ok(a->name))
			WHY(HX_EINVAL, "attachment name must be a plain file name (no '/', "
			               "no control characters, not starting with '.')");
		if (strlen(a->type) > HX_ATTACH_TYPE_MAX || !media_type_ok(a->type))
			WHY(HX_EINVAL, "attachment type must be a media type like application/pdf");
		if (a->size > HX_ATTACH_SIZE_MAX)
			WHY(HX_ELIMIT, "attachment larger than 1 TiB");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(a->name, e->attach[j].name))
				WHY(HX_EINVAL, "duplicate attachment name");
	}
	return HX_OK;
}

int hx_entry_check_why(const hx_entry *e, const char **why)
{
	int rc;

	if (!e->path || !e->kind || !e->title || !e->body || !e->lang || (e->ntags && !e->tags) ||
	    (e->nmeta && !e->meta))
		WHY(HX_EINVAL, "a required field is missing");
	if ((rc = path_ok(e->path)))
		WHY(rc,
		    rc == HX_ELIMIT
		            ? "path longer than 256 bytes"
		            : "path must be non-empty segments of [a-z0-9._+-] separated by '/'");
	size_t kl = strlen(e->kind);
	if (kl == 0 || !chars_ok(e->kind, "_-"))
		WHY(HX_EINVAL, "kind must be [a-z0-9_-]");
	if (kl > HX_KIND_MAX)
		WHY(HX_ELIMIT, "kind longer than 32 bytes");
	if ((rc = text_ok(e->title, HX_TITLE_MAX)))
		WHY(rc,
		    rc == HX_ELIMIT ? "title longer than 512 bytes" : "title is not valid UTF-8");
	if ((rc = text_ok(e->body, HX_BODY_MAX)))
		WHY(rc, rc == HX_ELIMIT ? "body longer than 256 KiB" : "body is not valid UTF-8");
	size_t ll = strlen(e->lang);
	if (ll == 0 || !chars_ok(e->lang, "-"))
		WHY(HX_EINVAL, "lang must be a language code of [a-z0-9-], e.g. en");
	if (ll > HX_LANG_MAX)
		WHY(HX_ELIMIT, "lang longer than 16 bytes");
	if (e->ntags > HX_TAGS_MAX)
		WHY(HX_ELIMIT, "more than 64 tags");
	for (size_t i = 0; i < e->ntags; i++) {
		if (!e->tags[i] || !e->tags[i][0])
			WHY(HX_EINVAL, "empty tag");
		if ((rc = text_ok(e->tags[i], HX_TAG_MAX)))
			WHY(rc, rc == HX_ELIMIT ? "tag longer than 64 bytes"
			                        : "tag is not valid UTF-8");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(e->tags[i], e->tags[j]))
				WHY(HX_EINVAL, "duplicate tag");
	}
	if (e->nmeta > HX_META_MAX)
		WHY(HX_ELIMIT, "more than 32 metadata keys");
	for (size_t i = 0; i < e->nmeta; i++) {
		const char *k = e->meta[i].key, *v = e->meta[i].value;
		if (!k || !v || !k[0] || !chars_ok(k, "_.-"))
			WHY(HX_EINVAL, "metadata keys must be [a-z0-9_.-]");
		if (strlen(k) > HX_META_KEY_MAX)
			WHY(HX_ELIMIT, "metadata key longer than 64 bytes");
		if ((rc = text_ok(v, HX_META_VALUE_MAX)))
			WHY(rc, rc == HX_ELIMIT ? "metadata value longer than 2048 bytes"
			                        : "metadata value is not valid UTF-8");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(k, e->meta[j].key))
				WHY(HX_EINVAL, "duplicate metadata key");
	}
	return check_attach(e, why);
}

int hx_entry_check(const hx_entry *e)
{
	return hx_entry_check_why(e, NULL);
}

static void put_text(hx_buf *b, const char *s)
{
	hx_cbor_text(b, s, strlen(s));
}

/* Encodes the field map (the bytes the id is the hash of). */
static int encode_fields(const hx_entry *e, hx_buf *b)
{
	hx_meta *meta = NULL;

	if (e->nmeta) {
		meta = malloc(e->nmeta * sizeof *meta);
		if (!meta)
			return HX_ENOMEM;
		memcpy(meta, e->meta, e->nmeta * sizeof *meta);
		qsort(meta, e->nmeta, sizeof *meta, meta_cmp);
	}
	hx_cbor_head(b, HX_CBOR_MAP, K_COUNT + !!e->has_signer + !!e->nattach);
	hx_cbor_uint(b, K_VERSION);
	hx_cbor_uint(b, e->version);
	hx_cbor_uint(b, K_AUTHOR);
	hx_cbor_bytes(b, e->author, HX_KEY_LEN);
	hx_cbor_uint(b, K_PATH);
	put_text(b, e->path);
	hx_cbor_uint(b, K_TIMESTAMP);
	hx_cbor_uint(b, e->timestamp);
	hx_cbor_uint(b, K_KIND);
	put_text(b, e->kind);
	hx_cbor_uint(b, K_TITLE);
	put_text(b, e->title);
	hx_cbor_uint(b, K_BODY);
	put_text(b, e->body);
	hx_cbor_uint(b, K_TAGS);
	hx_cbor_head(b, HX_CBOR_ARRAY, e->ntags);
	for (size_t i = 0; i < e->ntags; i++)
		put_text(b, e->tags[i]);
	hx_cbor_uint(b, K_LANG);
	put_text(b, e->lang);
	hx_cbor_uint(b, K_META);
	hx_cbor_head(b, HX_CBOR_MAP, e->nmeta);
	for (size_t i = 0; i < e->nmeta; i++) {
		put_text(b, meta[i].key);
		put_text(b, meta[i].value);
	}
	free(meta);
	if (e->has_signer) {
		hx_cbor_uint(b, K_SIGNER);
		hx_cbor_bytes(b, e->signer, HX_KEY_LEN);
	}
	if (e->nattach) {
		hx_cbor_uint(b, K_ATTACH);
		hx_cbor_head(b, HX_CBOR_ARRAY, e->nattach);
		for (size_t i = 0; i < e->nattach; i++) {
			const hx_attach *a = &e->attach[i];
			hx_cbor_head(b, HX_CBOR_MAP, A_COUNT);
			hx_cbor_uint(b, A_NAME);
			put_text(b, a->name);
			hx_cbor_uint(b, A_SIZE);
			hx_cbor_uint(b, a->size);
			hx_cbor_uint(b, A_TYPE);
			put_text(b, a->type);
			hx_cbor_uint(b, A_HASH);
			hx_cbor_bytes(b, a->hash, HX_ID_LEN);
		}
	}
	return b->err;
}

/* Encodes, hashes and signs e, whose author and signer are already set. */
static int sign_encoded(hx_entry *e, const uint8_t sk[HX_SECRET_LEN], uint8_t **out, size_t *outlen)
{
	hx_buf b = { 0 };
	int rc;

	*out = NULL;
	*outlen = 0;
	e->version = e->has_signer || e->nattach ? HX_ENTRY_VERSION_2 : HX_ENTRY_VERSION;
	if ((rc = hx_entry_check(e)))
		return rc;
	hx_buf_put(&b, "\x82", 1);
	if ((rc = encode_fields(e, &b))) {
		free(b.data);
		return rc;
	}
	crypto_generichash(e->id, HX_ID_LEN, b.data + 1, b.len - 1, NULL, 0);
	crypto_sign_ed25519_detached(e->sig, NULL, e->id, HX_ID_LEN, sk);
	hx_cbor_bytes(&b, e->sig, HX_SIG_LEN);
	if (b.err) {
		free(b.data);
		return b.err;
	}
	*out = b.data;
	*outlen = b.len;
	return HX_OK;
}

int hx_entry_sign(hx_entry *e, const uint8_t sk[HX_SECRET_LEN], uint8_t **out, size_t *outlen)
{
	crypto_sign_ed25519_sk_to_pk(e->author, sk);
	e->has_signer = 0;
	return sign_encoded(e, sk, out, outlen);
}

int hx_entry_sign_for(hx_entry *e, const uint8_t author[HX_KEY_LEN],
                      const uint8_t sk[HX_SECRET_LEN], uint8_t **out, size_t *outlen)
{
	crypto_sign_ed25519_sk_to_pk(e->signer, sk);
	memcpy(e->author, author, HX_KEY_LEN);
	e->has_signer = memcmp(e->signer, author, HX_KEY_LEN) != 0;
	return sign_encoded(e, sk, out, outlen);
}

const uint8_t *hx_entry_signer(const hx_entry *e)
{
	return e->has_signer ? e->signer : e->author;
}

uint64_t hx_blob_chunks(uint64_t size)
{
	return (size + HX_CHUNK_SIZE - 1) / HX_CHUNK_SIZE;
}

void hx_blob_hash(uint8_t out[HX_ID_LEN], uint64_t size, const uint8_t *chunk_hashes)
{
	crypto_generichash_state st;
	uint8_t be[8];
	hx_be64_put(be, size);
	crypto_generichash_init(&st, NULL, 0, HX_ID_LEN);
	crypto_generichash_update(&st, be, sizeof be);
	crypto_generichash_update(&st, chunk_hashes, hx_blob_chunks(size) * HX_ID_LEN);
	crypto_generichash_final(&st, out, HX_ID_LEN);
}

static int decode_attach(hx_attach *a, hx_rd *r)
{
	uint64_t n;
	const uint8_t *p;
	size_t len;
	int rc;

	if ((rc = hx_cbor_read_head(r, HX_CBOR_MAP, &n)))
		return rc;
	if (n != A_COUNT)
		return HX_EPROTO;
	if ((rc = hx_cbor_read_key(r, A_NAME)) ||
	    (rc = hx_cbor_read_text(r, HX_ATTACH_NAME_MAX, &a->name)) ||
	    (rc = hx_cbor_read_key(r, A_SIZE)) || (rc = hx_cbor_read_uint(r, &a->size)) ||
	    (rc = hx_cbor_read_key(r, A_TYPE)) ||
	    (rc = hx_cbor_read_text(r, HX_ATTACH_TYPE_MAX, &a->type)) ||
	    (rc = hx_cbor_read_key(r, A_HASH)) ||
	    (rc = hx_cbor_read_str(r, HX_CBOR_BYTES, &p, &len)))
		return rc;
	if (len != HX_ID_LEN)
		return HX_EPROTO;
	memcpy(a->hash, p, HX_ID_LEN);
	return HX_OK;
}

/* Format 2's optional keys, nextra of them, each present at most once and
 * in increasing order; an empty attachment list is not canonical. */
static int decode_optional(hx_entry *e, hx_rd *r, uint64_t nextra)
{
	uint64_t key, n, last = K_META;
	const uint8_t *p;
	size_t len;
	int rc;

	for (uint64_t i = 0; i < nextra; i++) {
		if ((rc = hx_cbor_read_uint(r, &key)))
			return rc;
		if (key <= last)
			return HX_EPROTO;
		last = key;
		if (key == K_SIGNER) {
			if ((rc = hx_cbor_read_str(r, HX_CBOR_BYTES, &p, &len)))
				return rc;
			if (len != HX_KEY_LEN)
				return HX_EPROTO;
			memcpy(e->signer, p, HX_KEY_LEN);
			e->has_signer = 1;
		} else if (key == K_ATTACH) {
			if ((rc = hx_cbor_read_head(r, HX_CBOR_ARRAY, &n)))
				return rc;
			if (n == 0)
				return HX_EPROTO;
			if (n > HX_ATTACH_MAX)
				return HX_ELIMIT;
			if (!(e->attach = calloc(n, sizeof *e->attach)))
				return HX_ENOMEM;
			for (; e->nattach < n;)
				if ((rc = decode_attach(&e->attach[e->nattach++], r)))
					return rc;
		} else {
			return HX_EPROTO;
		}
	}
	return HX_OK;
}

static int decode_fields(hx_entry *e, hx_rd *r)
{
	uint64_t n;
	const uint8_t *p;
	size_t len;
	int rc;

	if ((rc = hx_cbor_read_head(r, HX_CBOR_MAP, &n)))
		return rc;
	if (n < K_COUNT || n > K_ATTACH + 1)
		return HX_EPROTO;
	if ((rc = hx_cbor_read_key(r, K_VERSION)) || (rc = hx_cbor_read_uint(r, &e->version)))
		return rc;
	if (e->version != HX_ENTRY_VERSION && e->version != HX_ENTRY_VERSION_2)
		return HX_EVERSION;
	/* Format 1 has exactly the ten fields, format 2 at least one more. */
	if ((e->version == HX_ENTRY_VERSION) != (n == K_COUNT))
		return HX_EPROTO;
	uint64_t nextra = n - K_COUNT;
	if ((rc = hx_cbor_read_key(r, K_AUTHOR)) ||
	    (rc = hx_cbor_read_str(r, HX_CBOR_BYTES, &p, &len)))
		return rc;
	if (len != HX_KEY_LEN)
		return HX_EPROTO;
	memcpy(e->author, p, HX_KEY_LEN);
	if ((rc = hx_cbor_read_key(r, K_PATH)) ||
	    (rc = hx_cbor_read_text(r, HX_PATH_MAX, &e->path)))
		return rc;
	if ((rc = hx_cbor_read_key(r, K_TIMESTAMP)) || (rc = hx_cbor_read_uint(r, &e->timestamp)))
		return rc;
	if ((rc = hx_cbor_read_key(r, K_KIND)) ||
	    (rc = hx_cbor_read_text(r, HX_KIND_MAX, &e->kind)))
		return rc;
	if ((rc = hx_cbor_read_key(r, K_TITLE)) ||
	    (rc = hx_cbor_read_text(r, HX_TITLE_MAX, &e->title)))
		return rc;
	if ((rc = hx_cbor_read_key(r, K_BODY)) ||
	    (rc = hx_cbor_read_text(r, HX_BODY_MAX, &e->body)))
		return rc;
	if ((rc = hx_cbor_read_key(r, K_TAGS)) || (rc = hx_cbor_read_head(r, HX_CBOR_ARRAY, &n)))
		return rc;
	if (n > HX_TAGS_MAX)
		return HX_ELIMIT;
	if (n) {
		e->tags = calloc(n, sizeof *e->tags);
		if (!e->tags)
			return HX_ENOMEM;
	}
	for (; e->ntags < n; e->ntags++)
		if ((rc = hx_cbor_read_text(r, HX_TAG_MAX, &e->tags[e->ntags])))
			return rc;
	if ((rc = hx_cbor_read_key(r, K_LANG)) ||
	    (rc = hx_cbor_read_text(r, HX_LANG_MAX, &e->lang)))
		return rc;
	if ((rc = hx_cbor_read_key(r, K_META)) || (rc = hx_cbor_read_head(r, HX_CBOR_MAP, &n)))
		return rc;
	if (n > HX_META_MAX)
		return HX_ELIMIT;
	if (n) {
		e->meta = calloc(n, sizeof *e->meta);
		if (!e->meta)
			return HX_ENOMEM;
	}
	for (; e->nmeta < n; e->nmeta++) {
		hx_meta *m = &e->meta[e->nmeta];
		if ((rc = hx_cbor_read_text(r, HX_META_KEY_MAX, &m->key)) ||
		    (rc = hx_cbor_read_text(r, HX_META_VALUE_MAX, &m->value))) {
			e->nmeta++; /* so that hx_entry_clear frees the key */
			return rc;
		}
		if (e->nmeta && meta_cmp(&e->meta[e->nmeta - 1], m) >= 0) {
			e->nmeta++;
			return HX_EPROTO; /* unsorted or duplicate key */
		}
	}
	return decode_optional(e, r, nextra);
}

int hx_entry_decode(hx_entry *e, const uint8_t *buf, size_t len)
{
	hx_rd r = { buf, buf + len };
	uint64_t n;
	const uint8_t *sig, *fields;
	size_t siglen;
	int rc;

	memset(e, 0, sizeof *e);
	if (len > HX_ENTRY_MAX)
		return HX_ELIMIT;
	if ((rc = hx_cbor_read_head(&r, HX_CBOR_ARRAY, &n)))
		goto fail;
	if (n != 2) {
		rc = HX_EPROTO;
		goto fail;
	}
	fields = r.p;
	if ((rc = decode_fields(e, &r)))
		goto fail;
	size_t flen = (size_t)(r.p - fields);
	if ((rc = hx_cbor_read_str(&r, HX_CBOR_BYTES, &sig, &siglen)))
		goto fail;
	if (siglen != HX_SIG_LEN || r.p != r.end) {
		rc = HX_EPROTO;
		goto fail;
	}
	/* Semantic rules (path characters, duplicates, ...) beyond the syntax;
	 * a field over its limit was already caught while reading. */
	if ((rc = hx_entry_check(e)))
		goto fail;
	memcpy(e->sig, sig, HX_SIG_LEN);
	crypto_generichash(e->id, HX_ID_LEN, fields, flen, NULL, 0);
	return HX_OK;
fail:
	hx_entry_clear(e);
	return rc;
}

int hx_entry_verify(const hx_entry *e)
{
	if (crypto_sign_ed25519_verify_detached(e->sig, e->id, HX_ID_LEN, hx_entry_signer(e)))
		return HX_EFORGED;
	return HX_OK;
}

int hx_entry_open(hx_entry *e, const uint8_t *buf, size_t len)
{
	int rc = hx_entry_decode(e, buf, len);
	if (rc)
		return rc;
	if ((rc = hx_entry_verify(e)))
		hx_entry_clear(e);
	return rc;
}

void hx_entry_clear(hx_entry *e)
{
	if (!e)
		return;
	free(e->path);
	free(e->kind);
	free(e->title);
	free(e->body);
	free(e->lang);
	for (size_t i = 0; i < e->ntags; i++)
		free(e->tags[i]);
	free(e->tags);
	for (size_t i = 0; i < e->nmeta; i++) {
		free(e->meta[i].key);
		free(e->meta[i].value);
	}
	free(e->meta);
	for (size_t i = 0; i < e->nattach; i++) {
		free(e->attach[i].name);
		free(e->attach[i].type);
	}
	free(e->attach);
	memset(e, 0, sizeof *e);
}

const char *hx_entry_meta(const hx_entry *e, const char *key)
{
	for (size_t i = 0; i < e->nmeta; i++)
		if (!strcmp(e->meta[i].key, key))
			return e->meta[i].value;
	return NULL;
}

const hx_attach *hx_entry_attach(const hx_entry *e, const char *name)
{
	for (size_t i = 0; i < e->nattach; i++)
		if (!strcmp(e->attach[i].name, name))
			return &e->attach[i];
	return NULL;
}

int hx_entry_is_system(const hx_entry *e)
{
	return e->path && !strncmp(e->path, HX_SYSTEM_PREFIX, strlen(HX_SYSTEM_PREFIX));
}

int hx_entry_is_tombstone(const hx_entry *e)
{
	return e->kind && !strcmp(e->kind, HX_KIND_TOMBSTONE);
}

int hx_entry_is_listed(const hx_entry *e)
{
	return !hx_entry_is_tombstone(e) && !hx_entry_is_system(e);
}

char *hx_hex(char *out, const uint8_t *bin, size_t n)
{
	return sodium_bin2hex(out, 2 * n + 1, bin, n);
}

int hx_unhex(uint8_t *bin, size_t n, const char *hex)
{
	size_t got;
	const char *end;
	if (strlen(hex) != 2 * n)
		return HX_EINVAL;
	if (sodium_hex2bin(bin, n, hex, 2 * n, NULL, &got, &end) || got != n)
		return HX_EINVAL;
	return HX_OK;
}
