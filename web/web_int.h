/*
 * web_int.h: what the web app's files share: a growable text buffer with
 * HTML and URL escaping, the request (its query, form fields and uploaded
 * files, session and CSRF token), the page frame, and each page's handler.
 * Nothing outside web/ includes this file.
 */
#ifndef HX_WEB_INT_H
#define HX_WEB_INT_H

#include <pthread.h>
#include <stdarg.h>
#include "web/web.h"
#include "store/search.h"

struct MHD_Connection;
struct MHD_Daemon;
struct cJSON;

/* ---- a text buffer (reply.c) --------------------------------------------- */

typedef struct wb_buf {
	char *p;
	size_t n, cap;
	int oom; /* an append failed: the response becomes a 500 */
} wb_buf;

void wb_put(wb_buf *b, const char *s, size_t n);
void wb_puts(wb_buf *b, const char *s);
void wb_printf(wb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped: for text and quoted attribute values. */
void wb_esc(wb_buf *b, const char *s);
void wb_escn(wb_buf *b, const char *s, size_t n);
/* s percent-encoded for a query string value. */
void wb_url(wb_buf *b, const char *s);
void wb_free(wb_buf *b);

/* ---- the server and a request ----------------------------------------- */

#define WB_SESSIONS 64

struct wb_session {
	uint8_t id[32];
	uint64_t expires; /* µs; 0 = free slot */
};

struct hx_web {
	struct MHD_Daemon *d;
	struct hx_ctx *ctx;
	hx_web_log_fn log;
	char url[128];
	char hostport[96]; /* the Host header a loopback browser sends */
	uint16_t port;
	int loopback;       /* bound to a loopback address: no login */
	char pwhash[128];   /* Argon2id string (crypto_pwhash_str) when not loopback */
	uint8_t secret[32]; /* keys the CSRF tokens */
	pthread_mutex_t mu; /* sessions, searchers, counters */
	struct wb_session sessions[WB_SESSIONS];
	hx_searcher *idle[8];
	size_t nidle;
	uint64_t requests;
	int starting; /* MHD's own bind errors are said once, by hx_web_start */
};

struct wb_field {
	char *key;
	char *filename; /* set for an uploaded file */
	char *val;
	size_t len;
};

struct wb_req {
	hx_web *w;
	struct MHD_Connection *conn;
	const char *method, *url;
	int post;
	struct MHD_PostProcessor *pp;
	struct wb_field *f;
	size_t nf, capf;
	char *raw; /* body that is no form (JSON) */
	size_t nraw, capraw;
	size_t total; /* body bytes so far */
	int too_big, bad;
	char csrf[65];    /* the token this request's forms carry */
	char session[65]; /* the session id (hex) or "" */
	/* the response */
	int status;
	const char *ctype;
	wb_buf out;
	char location[512]; /* for a redirect */
	char cookie[256];   /* Set-Cookie */
	char disposition[1024];
	char *file; /* serve this file instead of out (then unlink it) */
};

/* Reading the request and the searcher pool (reply.c). */

/* A query string argument (decoded, valid UTF-8) or NULL. */
const char *wb_arg(struct wb_req *r, const char *name);
/* A form field (valid UTF-8 unless a file) or NULL; *len its length. */
const char *wb_form(struct wb_req *r, const char *name, size_t *len);
/* An uploaded file's field, or NULL. */
const struct wb_field *wb_file(struct wb_req *r, const char *name);

/* A searcher from the pool (or a new one); give it back. */
hx_searcher *wb_searcher_get(hx_web *w);
void wb_searcher_put(hx_web *w, hx_searcher *sr);

/* ---- building pages (the frame and links: html.c; the rest: reply.c) ---- */

enum wb_nav {
	WB_NAV_SEARCH,
	WB_NAV_PUBLISH,
	WB_NAV_PARTNERS,
	WB_NAV_NETWORK,
	WB_NAV_TRANSFER,
	WB_NAV_NONE
};

/* The page frame: doctype, head (title escaped), the navigation. */
void wb_head(struct wb_req *r, const char *title, enum wb_nav nav);
void wb_foot(struct wb_req *r);
/* A whole page with one message; status is the HTTP status. */
void wb_message(struct wb_req *r, int status, const char *title, const char *text);
/* <input type=hidden name=csrf ...> */
void wb_csrf_field(struct wb_req *r);
/* 303 See Other to a local URL. */
void wb_redirect(struct wb_req *r, const char *url);
/* A JSON response (takes v). */
void wb_json(struct wb_req *r, int status, struct cJSON *v);
/* {"error": text} with status. */
void wb_json_error(struct wb_req *r, int status, const char *text);

/* Markdown to HTML, cmark safe mode (no raw HTML, no javascript: links). */
void wb_markdown(wb_buf *b, const char *md);
/* "2026-11-30 14:02 UTC" */
char *wb_when(char *out, size_t n, uint64_t us);
/* "3 minutes ago" */
void wb_ago(wb_buf *b, uint64_t us);

/* A member's profile (town, region, country, representative, e-mail,
 * web) as a <dl>; a web address becomes a link only when http(s). */
struct hx_member;
void wb_profile_dl(wb_buf *b, const struct hx_member *m);
int wb_is_web_link(const char *v);

/* The partner name of a key: profile name, else "partner 0123abcd". */
void wb_partner_name(struct hx_web *w, const uint8_t key[HX_KEY_LEN], char *out, size_t n);

/* A link to a document (the href value, escaped). */
void wb_doc_href(wb_buf *b, const uint8_t author[HX_KEY_LEN], const char *path);
/* A search link for q plus one more filter "name:value" (quoted when it
 * needs it); 0 when value cannot be written as a filter. */
int wb_filter_href(wb_buf *b, const char *q, const char *name, const char *value);

/* ---- the handlers ------------------------------------------------------- */

void wb_page_search(struct wb_req *r);
void wb_page_doc(struct wb_req *r);
void wb_page_publish(struct wb_req *r);
void wb_page_delete(struct wb_req *r);
void wb_page_partners(struct wb_req *r);
void wb_page_network(struct wb_req *r, int rows_only);
void wb_page_transfer(struct wb_req *r);
/* Attached files (page_file.c): /file sends one; the list on a doc page. */
void wb_page_file(struct wb_req *r);
void wb_files_html(wb_buf *b, hx_store *s, const uint8_t author[HX_KEY_LEN], const char *path,
                   const hx_entry *e);
/* The publish form's upload f (NULL or empty: nothing) stored as a blob
 * and put into files (*n of HX_ATTACH_MAX used), replacing one of its
 * name. Borrows f's name. NULL, or what went wrong. */
const char *wb_attach_upload(hx_web *w, const struct wb_field *f, hx_attach *files, size_t *n);
void wb_metrics(struct wb_req *r);
void wb_api(struct wb_req *r);
/* The compiled-in assets: 1 when url named one (response set). */
int wb_asset(struct wb_req *r);

/* Shared by the pages and the API: publishes a draft as this partner's
 * next version; 0, or an error text in err. */
int wb_publish(hx_web *w, hx_entry *d, char *err, size_t errlen);
/* Tombstones this partner's document at path; 0 or an error text. */
int wb_delete(hx_web *w, const char *path, uint8_t id[HX_ID_LEN], char *err, size_t errlen);
/* The status object of `hansa status --json`; caller owns it. */
struct cJSON *wb_status_json(hx_web *w);

#endif
