/*
 * web.h: the web app a node serves to the people of its partner
 * organisation (search, read, publish, partners, network, offline
 * transfer, a JSON API and /metrics), over libmicrohttpd on its own
 * threads. `hansa serve` starts it beside the node, `hansa web` alone.
 * Pages are rendered on the server; assets are compiled in.
 */
#ifndef HX_WEB_H
#define HX_WEB_H

#include "cli/cli.h"

typedef struct hx_web hx_web;

#define HX_WEB_DEFAULT "127.0.0.1:7480"
#define HX_WEB_PASSWORD_FILE "web-password"

/* A log line (no newline); may be NULL. */
typedef void (*hx_web_log_fn)(void *arg, const char *line);

/*
 * Starts serving at addr ("HOST:PORT", "[V6]:PORT"; HOST an IP address or
 * localhost) over ctx, whose store and identity must already be loaded and
 * which must outlive the server (its threads read it). A non-loopback
 * address needs the password file (`hansa web-password`) in the home.
 * On failure returns non-zero with one line in err; *out is NULL.
 */
int hx_web_start(hx_web **out, struct hx_ctx *ctx, const char *addr, hx_web_log_fn log, char *err,
                 size_t errlen);
/* Stops the threads and frees; NULL-safe, clears *w. */
void hx_web_stop(hx_web **w);
/* "http://HOST:PORT/", borrowed. */
const char *hx_web_url(const hx_web *w);

/* Checks an --http value: "off" gives 1 (no web app), a good address 0,
 * anything else -1. */
int hx_web_addr_check(const char *addr);

#endif
