/*
 * probe.h: tells apart why an endpoint cannot be reached: its name does
 * not resolve, nothing listens there, or nothing answers (cli/probe.c).
 */
#ifndef HX_CLI_PROBE_H
#define HX_CLI_PROBE_H

#include <stddef.h>

#define HX_PROBE_TIMEOUT_MS 2000 /* how long `hansa status` waits for all of them */

enum hx_probe_result {
	HX_PROBE_OK,      /* the TCP handshake succeeded */
	HX_PROBE_DNS,     /* the host name does not resolve */
	HX_PROBE_REFUSED, /* the host answered: nothing listens on the port */
	HX_PROBE_TIMEOUT, /* no answer in time */
	HX_PROBE_ERROR,   /* anything else (text says what) */
};

struct hx_probe {
	char endpoint[256]; /* in: tcp://HOST:PORT */
	char host[256], port[16];
	enum hx_probe_result result; /* out */
	char text[400];              /* out: one sentence for people */
};

/* Probes the n endpoints at once, for at most timeout_ms in all (name
 * lookups come first and are not bounded by it). */
void hx_probe_endpoints(struct hx_probe *p, size_t n, unsigned timeout_ms);

/* "ok", "dns", "refused", "timeout", "error". */
const char *hx_probe_name(enum hx_probe_result r);

#endif
