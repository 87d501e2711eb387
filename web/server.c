/*
 * server.c: the web app's HTTP side on libmicrohttpd: binding, reading
 * query strings, forms and uploads, the security checks every request
 * passes (Host header against DNS rebinding, login session when bound
 * beyond loopback, CSRF token on every POST), the headers every response
 * carries (a strict Content-Security-Policy among them), and the routing
 * to the pages (page_search.c, page_doc.c, page_publish.c, network.c,
 * transfer.c), the API (api.c) and the compiled-in assets (assets.c).
 * It calls down into them and into reply.c; none of them call back here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>
#include <sodium.h>
#include <cjson/cJSON.h>
#include "web/web_int.h"

#define BODY_MAX (64u << 20)                /* largest request body: a bundle upload */
#define FIELD_MAX (1u << 20)                /* largest form field that is not a file */
#define SESSION_US (12ull * 3600 * 1000000) /* a login lasts 12 hours */

static const char CSP[] =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/* ---- reading the body (the fields are read back through reply.c) ------------ */

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *ctype, const char *enc,
                                const char *data, uint64_t off, size_t size)
{
	struct wb_req *r = cls;
	struct wb_field *f = r->nf ? &r->f[r->nf - 1] : NULL;
	(void)kind;
	(void)ctype;
	(void)enc;
	if (!f || strcmp(f->key, key) || (off == 0 && f->len)) {
		struct wb_field *nf = hx_grow(r->f, &r->capf, r->nf + 1, sizeof *r->f);
		if (!nf)
			return MHD_NO;
		r->f = nf;
		f = &r->f[r->nf++];
		memset(f, 0, sizeof *f);
		if (!(f->key = strdup(key)) || (filename && !(f->filename = strdup(filename))))
			return MHD_NO;
	}
	if (!f->filename && f->len + size > FIELD_MAX) {
		r->too_big = 1;
		return MHD_NO;
	}
	char *v = realloc(f->val, f->len + size + 1);
	if (!v)
		return MHD_NO;
	f->val = v;
	memcpy(f->val + f->len, data, size);
	f->len += size;
	f->val[f->len] = 0;
	return MHD_YES;
}

static void req_free(struct wb_req *r)
{
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	for (size_t i = 0; i < r->nf; i++) {
		free(r->f[i].key);
		free(r->f[i].filename);
		free(r->f[i].val);
	}
	free(r->f);
	free(r->raw);
	wb_free(&r->out);
	if (r->file) {
		unlink(r->file);
		free(r->file);
	}
	free(r);
}

/* ---- security ---------------------------------------------------------------- */

/* The CSRF token of a session ("" on loopback): keyed BLAKE2b of its id. */
static void csrf_token(hx_web *w, const char *session, char out[65])
{
	uint8_t h[32];
	crypto_generichash(h, sizeof h, (const uint8_t *)session, strlen(session), w->secret,
	                   sizeof w->secret);
	hx_hex(out, h, sizeof h);
}

static int session_valid(hx_web *w, const char *hex)
{
	uint8_t id[32];
	int ok = 0;
	if (!hex || strlen(hex) != 64 || hx_unhex(id, sizeof id, hex))
		return 0;
	uint64_t now = hx_now_us();
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < WB_SESSIONS; i++)
		if (w->sessions[i].expires > now && !sodium_memcmp(w->sessions[i].id, id, 32))
			ok = 1;
	pthread_mutex_unlock(&w->mu);
	return ok;
}

static void session_new(hx_web *w, char out[65])
{
	uint8_t id[32];
	uint64_t now = hx_now_us();
	size_t slot = 0;
	randombytes_buf(id, sizeof id);
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < WB_SESSIONS; i++) /* a free one, else the oldest */
		if (w->sessions[i].expires < w->sessions[slot].expires)
			slot = i;
	memcpy(w->sessions[slot].id, id, 32);
	w->sessions[slot].expires = now + SESSION_US;
	pthread_mutex_unlock(&w->mu);
	hx_hex(out, id, sizeof id);
}

static void session_end(hx_web *w, const char *hex)
{
	uint8_t id[32];
	if (strlen(hex) != 64 || hx_unhex(id, sizeof id, hex))
		return;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < WB_SESSIONS; i++)
		if (!sodium_memcmp(w->sessions[i].id, id, 32))
			w->sessions[i].expires = 0;
	pthread_mutex_unlock(&w->mu);
}

/* Loopback: the Host header must name this server by a loopback name, so
 * that a page from elsewhere whose DNS name was re-pointed at 127.0.0.1
 * cannot talk to it. Beyond loopback the login protects it. */
static int host_ok(struct wb_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	if (!r->w->loopback)
		return 1;
	if (!h)
		return 0;
	char port[8];
	snprintf(port, sizeof port, ":%u", r->w->port);
	static const char *const names[] = { "127.0.0.1", "localhost", "[::1]" };
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(names[i]);
		if (!strncasecmp(h, names[i], l) && !strcmp(h + l, port))
			return 1;
	}
	return !strcmp(h, r->w->hostport);
}

static int csrf_ok(struct wb_req *r)
{
	const char *t = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
	if (!t)
		t = wb_form(r, "csrf", NULL);
	return t && strlen(t) == 64 && !sodium_memcmp(t, r->csrf, 64);
}

/* ---- sending the response ---------------------------------------------------- */

static enum MHD_Result respond(struct wb_req *r)
{
	struct MHD_Response *res;
	if (r->out.oom) {
		wb_free(&r->out);
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		r->ctype = "text/plain; charset=utf-8";
		wb_puts(&r->out, "out of memory\n");
	}
	if (r->file) {
		FILE *f = fopen(r->file, "rb");
		long size = -1;
		if (f && !fseek(f, 0, SEEK_END))
			size = ftell(f);
		if (!f || size < 0) {
			if (f)
				fclose(f);
			r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			res = MHD_create_response_from_buffer(20, (void *)"cannot read the file",
			                                      MHD_RESPMEM_PERSISTENT);
		} else {
			/* MHD closes the descriptor; the name is unlinked at the end */
			int fd = dup(fileno(f));
			fclose(f);
			res = fd < 0 ? NULL : MHD_create_response_from_fd((uint64_t)size, fd);
		}
	} else {
		size_t n = r->out.n;
		char *p = r->out.p;
		r->out.p = NULL;
		r->out.n = r->out.cap = 0;
		res = MHD_create_response_from_buffer(
		        n, p ? p : (void *)"", p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	}
	if (!res)
		return MHD_NO;
	MHD_add_response_header(res, "Content-Type",
	                        r->ctype ? r->ctype : "text/html; charset=utf-8");
	MHD_add_response_header(res, "Content-Security-Policy", CSP);
	MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(res, "X-Frame-Options", "DENY");
	MHD_add_response_header(res, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(res, "Cache-Control",
	                        strncmp(r->url, "/assets/", 8) ? "no-store" : "max-age=3600");
	if (r->location[0])
		MHD_add_response_header(res, "Location", r->location);
	if (r->cookie[0])
		MHD_add_response_header(res, "Set-Cookie", r->cookie);
	if (r->disposition[0])
		MHD_add_response_header(res, "Content-Disposition", r->disposition);
	enum MHD_Result ret =
	        MHD_queue_response(r->conn, (unsigned)(r->status ? r->status : 200), res);
	MHD_destroy_response(res);
	return ret;
}

/* ---- login ---------------------------------------------------------------- */

static void page_login(struct wb_req *r, const char *problem)
{
	wb_head(r, "Sign in", WB_NAV_NONE);
	wb_puts(&r->out,
	        "<h1>Sign in</h1>\n<p>This library is reachable from other computers, "
	        "so it asks for the password set with <code>hansa web-password</code>.</p>\n");
	if (problem) {
		wb_puts(&r->out, "<p class=\"error\">");
		wb_esc(&r->out, problem);
		wb_puts(&r->out, "</p>\n");
	}
	wb_puts(&r->out, "<form method=\"post\" action=\"/login\" class=\"login\">");
	wb_csrf_field(r);
	wb_puts(&r->out, "<label>Password <input type=\"password\" name=\"password\" "
	                 "autocomplete=\"current-password\" autofocus></label> "
	                 "<button type=\"submit\">Sign in</button></form>\n");
	wb_foot(r);
}

static void do_login(struct wb_req *r)
{
	size_t len;
	const char *pw = wb_form(r, "password", &len);
	if (!pw || crypto_pwhash_str_verify(r->w->pwhash, pw, len)) {
		r->status = MHD_HTTP_FORBIDDEN;
		page_login(r, "That password is not right.");
		return;
	}
	char sid[65];
	session_new(r->w, sid);
	snprintf(r->cookie, sizeof r->cookie,
	         "hansa_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200", sid);
	wb_redirect(r, "/");
}

/* ---- routing -------------------------------------------------------------- */

static void route(struct wb_req *r)
{
	const char *u = r->url;
	if (!strcmp(u, "/") || !strcmp(u, "/search"))
		wb_page_search(r);
	else if (!strcmp(u, "/doc"))
		wb_page_doc(r);
	else if (!strcmp(u, "/publish"))
		wb_page_publish(r);
	else if (!strcmp(u, "/delete"))
		wb_page_delete(r);
	else if (!strcmp(u, "/file"))
		wb_page_file(r);
	else if (!strcmp(u, "/partners"))
		wb_page_partners(r);
	else if (!strcmp(u, "/network"))
		wb_page_network(r, 0);
	else if (!strcmp(u, "/network/rows"))
		wb_page_network(r, 1);
	else if (!strncmp(u, "/transfer", 9))
		wb_page_transfer(r);
	else if (!strcmp(u, "/metrics"))
		wb_metrics(r);
	else if (!strncmp(u, "/api/", 5))
		wb_api(r);
	else
		wb_message(r, MHD_HTTP_NOT_FOUND, "Not found", "There is no page at this address.");
}

static void dispatch(struct wb_req *r)
{
	hx_web *w = r->w;
	int api = !strncmp(r->url, "/api/", 5);

	if (!host_ok(r)) {
		r->status = MHD_HTTP_FORBIDDEN;
		r->ctype = "text/plain; charset=utf-8";
		wb_puts(&r->out, "refused: this address is not the one the library is served on\n");
		return;
	}
	if (!hx_utf8_valid(r->url, strlen(r->url))) {
		wb_message(r, MHD_HTTP_BAD_REQUEST, "Bad address",
		           "The address is not valid text.");
		return;
	}
	if (r->too_big || r->bad) {
		wb_message(r, r->too_big ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST,
		           "Not accepted",
		           r->too_big ? "What was sent is too large."
		                      : "What was sent could not be read.");
		return;
	}
	if (r->post && strcmp(r->method, "POST")) {
		wb_message(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Not allowed",
		           "Only GET and POST are used.");
		return;
	}
	if (!r->post && strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
		wb_message(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Not allowed",
		           "Only GET and POST are used.");
		return;
	}
	if (wb_asset(r))
		return;
	/* who: loopback needs no login; beyond it a session cookie */
	if (!w->loopback) {
		const char *c =
		        MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "hansa_session");
		if (c && session_valid(w, c))
			snprintf(r->session, sizeof r->session, "%s", c);
	}
	csrf_token(w, r->session, r->csrf);
	if (r->post && !csrf_ok(r)) {
		if (api)
			wb_json_error(r, MHD_HTTP_FORBIDDEN, "missing or wrong CSRF token");
		else
			wb_message(r, MHD_HTTP_FORBIDDEN, "Refused",
			           "This form is out of date or did not come from this library. "
			           "Go back, reload the page and try again.");
		return;
	}
	if (!w->loopback && !strcmp(r->url, "/login")) {
		if (r->post)
			do_login(r);
		else
			page_login(r, NULL);
		return;
	}
	if (!w->loopback && !r->session[0]) {
		if (api || !strcmp(r->url, "/metrics")) {
			wb_json_error(r, MHD_HTTP_UNAUTHORIZED, "sign in first (POST /login)");
		} else {
			r->status = MHD_HTTP_UNAUTHORIZED;
			page_login(r, NULL);
		}
		return;
	}
	if (!strcmp(r->url, "/logout") && r->post) {
		session_end(w, r->session);
		snprintf(r->cookie, sizeof r->cookie,
		         "hansa_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
		wb_redirect(r, "/");
		return;
	}
	route(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
	hx_web *w = cls;
	struct wb_req *r = *con_cls;
	(void)version;

	if (!r) {
		if (!(r = calloc(1, sizeof *r)))
			return MHD_NO;
		r->w = w;
		r->conn = conn;
		r->url = url;
		r->method = method;
		r->post = !strcmp(method, "POST") || !strcmp(method, "PUT") ||
		          !strcmp(method, "DELETE");
		if (!strcmp(method, "POST")) {
			const char *ct =
			        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
			if (ct && (!strncasecmp(ct, "application/x-www-form-urlencoded", 33) ||
			           !strncasecmp(ct, "multipart/form-data", 19)))
				r->pp = MHD_create_post_processor(conn, 65536, on_field, r);
		}
		*con_cls = r;
		return MHD_YES;
	}
	if (*size) {
		r->total += *size;
		if (r->total > BODY_MAX)
			r->too_big = 1;
		else if (r->pp && !r->too_big && !r->bad) {
			if (MHD_post_process(r->pp, data, *size) != MHD_YES && !r->too_big)
				r->bad = 1;
		} else if (!r->pp && !r->too_big && r->post) {
			char *nr = hx_grow(r->raw, &r->capraw, r->nraw + *size + 1, 1);
			if (!nr) {
				r->too_big = 1;
			} else {
				r->raw = nr;
				memcpy(r->raw + r->nraw, data, *size);
				r->nraw += *size;
				r->raw[r->nraw] = 0;
			}
		}
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&w->mu);
	w->requests++;
	pthread_mutex_unlock(&w->mu);
	dispatch(r);
	return respond(r);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)conn;
	(void)why;
	if (*con_cls)
		req_free(*con_cls);
	*con_cls = NULL;
}

/* ---- start and stop ---------------------------------------------------------- */

/* Parses HOST:PORT into a socket address. 0 or -1. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl, int *loopback)
{
	char host[64];
	const char *colon;
	if (!addr || !*addr)
		return -1;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		if (!end || end[1] != ':' || (size_t)(end - addr - 1) >= sizeof host)
			return -1;
		memcpy(host, addr + 1, (size_t)(end - addr - 1));
		host[end - addr - 1] = 0;
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof host || colon == addr)
			return -1;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = 0;
	}
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535)
		return -1;
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*sl = sizeof *a4;
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sl = sizeof *a6;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
		return 0;
	}
	return -1;
}

int hx_web_addr_check(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int lb;
	if (addr && !strcmp(addr, "off"))
		return 1;
	return parse_addr(addr, &ss, &sl, &lb) ? -1 : 0;
}

static int read_pwhash(hx_web *w, char *err, size_t errlen)
{
	char path[4200];
	hx_home_path(w->ctx, HX_WEB_PASSWORD_FILE, path, sizeof path);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(w->pwhash, 1, sizeof w->pwhash - 1, f) : 0;
	if (f)
		fclose(f);
	w->pwhash[n] = 0;
	while (n && (w->pwhash[n - 1] == '\n' || w->pwhash[n - 1] == '\r'))
		w->pwhash[--n] = 0;
	if (!n || strncmp(w->pwhash, "$argon2id$", 10)) {
		snprintf(
		        err, errlen,
		        "the web app is asked to listen beyond this computer, which needs "
		        "a password: set one with 'hansa web-password' (or use --http 127.0.0.1:PORT)");
		return -1;
	}
	return 0;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	hx_web *w = cls;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	if (w->log && !w->starting)
		w->log(NULL, line);
}

int hx_web_start(hx_web **out, struct hx_ctx *ctx, const char *addr, hx_web_log_fn log, char *err,
                 size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int lb;
	*out = NULL;
	if (parse_addr(addr, &ss, &sl, &lb)) {
		snprintf(err, errlen, "--http: '%s' is not HOST:PORT (an IP address or localhost)",
		         addr);
		return -1;
	}
	if (!ctx->store || !ctx->have_identity) {
		snprintf(err, errlen, "the web app needs the store and identity loaded");
		return -1;
	}
	hx_web *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->ctx = ctx;
	w->log = log;
	w->loopback = lb;
	pthread_mutex_init(&w->mu, NULL);
	randombytes_buf(w->secret, sizeof w->secret);
	if (!lb && read_pwhash(w, err, errlen)) {
		hx_web_stop(&w);
		return -1;
	}
	w->starting = 1;
	w->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	                                (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	                        0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, log_mhd,
	                        w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	                        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_done, w, MHD_OPTION_END);
	w->starting = 0;
	if (!w->d) {
		snprintf(err, errlen,
		         "cannot listen on %s for the web app (in use, or not an address "
		         "of this computer)",
		         addr);
		hx_web_stop(&w);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
	w->port = di ? di->port : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	char host[64];
	if (ss.ss_family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof a);
		snprintf(host, sizeof host, "[%s]", a);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
		if (!strcmp(host, "0.0.0.0"))
			snprintf(host, sizeof host, "127.0.0.1");
	}
	snprintf(w->hostport, sizeof w->hostport, "%s:%u", host, w->port);
	snprintf(w->url, sizeof w->url, "http://%s/", w->hostport);
	*out = w;
	return 0;
}

void hx_web_stop(hx_web **wp)
{
	hx_web *w = *wp;
	if (!w)
		return;
	if (w->d)
		MHD_stop_daemon(w->d);
	for (size_t i = 0; i < w->nidle; i++)
		hx_searcher_free(&w->idle[i]);
	pthread_mutex_destroy(&w->mu);
	sodium_memzero(w->secret, sizeof w->secret);
	free(w);
	*wp = NULL;
}

const char *hx_web_url(const hx_web *w)
{
	return w->url;
}
