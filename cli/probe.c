/*
 * probe.c: why a peer cannot be reached, in words (`hansa status`). libzmq
 * retries a connection quietly and its monitor events carry no errno, so
 * the node cannot tell a name that does not resolve from a port where
 * nothing listens or a host that never answers. `hansa status` asks the
 * network itself, for the peers that are not connected: it resolves each
 * endpoint's host (getaddrinfo) and opens a plain TCP connection to it,
 * all endpoints at once without blocking, for at most a given time. Only
 * the TCP handshake is made; the connection is closed before anything is
 * sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "cli/probe.h"

/* Splits tcp://HOST:PORT (HOST may be [v6]) into host and port. */
static int split(const char *ep, char *host, size_t hn, char *port, size_t pn)
{
	if (strncmp(ep, "tcp://", 6))
		return -1;
	const char *h = ep + 6, *colon = strrchr(h, ':');
	if (!colon || colon == h || !colon[1])
		return -1;
	size_t l = (size_t)(colon - h);
	if (*h == '[' && l >= 2 && h[l - 1] == ']') {
		h++;
		l -= 2;
	}
	if (l >= hn || strlen(colon + 1) >= pn)
		return -1;
	memcpy(host, h, l);
	host[l] = 0;
	snprintf(port, pn, "%s", colon + 1);
	return 0;
}

static void say(struct hx_probe *p, enum hx_probe_result r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void say(struct hx_probe *p, enum hx_probe_result r, const char *fmt, ...)
{
	va_list ap;
	p->result = r;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof p->text, fmt, ap);
	va_end(ap);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Starts a non-blocking connect; the descriptor, or -1 with p answered. */
static int start(struct hx_probe *p, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		if (rc == EAI_NONAME || rc == EAI_AGAIN || rc == EAI_FAIL)
			say(p, HX_PROBE_DNS, "the name %s does not resolve (DNS: %s)", host,
			    gai_strerror(rc));
		else
			say(p, HX_PROBE_ERROR, "cannot look up %s: %s", host, gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0) {
		say(p, HX_PROBE_ERROR, "cannot open a socket for %s: %s", host, strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc == 0) {
		say(p, HX_PROBE_OK, "%s port %s answers", host, port);
		close(fd);
		return -1;
	}
	if (errno == EINPROGRESS)
		return fd;
	if (errno == ECONNREFUSED)
		say(p, HX_PROBE_REFUSED,
		    "connection refused: nothing listens on %s port %s (is its node running?)",
		    host, port);
	else
		say(p, HX_PROBE_ERROR, "cannot connect to %s: %s", host, strerror(errno));
	close(fd);
	return -1;
}

void hx_probe_endpoints(struct hx_probe *p, size_t n, unsigned timeout_ms)
{
	struct pollfd *pf = calloc(n ? n : 1, sizeof *pf);
	char host[256], port[16];
	size_t waiting = 0;

	for (size_t i = 0; i < n; i++) {
		pf[i].fd = -1;
		if (split(p[i].endpoint, host, sizeof host, port, sizeof port)) {
			say(&p[i], HX_PROBE_ERROR, "'%s' is not tcp://HOST:PORT", p[i].endpoint);
			continue;
		}
		snprintf(p[i].host, sizeof p[i].host, "%s", host);
		snprintf(p[i].port, sizeof p[i].port, "%s", port);
		if (!pf) {
			say(&p[i], HX_PROBE_ERROR, "out of memory");
			continue;
		}
		if ((pf[i].fd = start(&p[i], host, port)) >= 0) {
			pf[i].events = POLLOUT;
			waiting++;
		}
	}
	uint64_t deadline = now_ms() + timeout_ms;
	while (pf && waiting) {
		uint64_t t = now_ms();
		if (t >= deadline)
			break;
		int r = poll(pf, n, (int)(deadline - t));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			int err = 0;
			socklen_t el = sizeof err;
			if (getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &err, &el))
				err = errno;
			if (!err)
				say(&p[i], HX_PROBE_OK, "%s port %s answers", p[i].host, p[i].port);
			else if (err == ECONNREFUSED)
				say(&p[i], HX_PROBE_REFUSED,
				    "connection refused: nothing listens on %s port %s (is its node "
				    "running?)",
				    p[i].host, p[i].port);
			else if (err == ETIMEDOUT)
				say(&p[i], HX_PROBE_TIMEOUT, "%s port %s does not answer (timeout)",
				    p[i].host, p[i].port);
			else
				say(&p[i], HX_PROBE_ERROR, "cannot connect to %s: %s", p[i].host,
				    strerror(err));
			close(pf[i].fd);
			pf[i].fd = -1;
			waiting--;
		}
	}
	for (size_t i = 0; pf && i < n; i++) {
		if (pf[i].fd < 0)
			continue;
		char secs[32];
		snprintf(secs, sizeof secs, "%.1f", timeout_ms / 1000.0);
		say(&p[i], HX_PROBE_TIMEOUT,
		    "%s does not answer within %s s (timeout: the host is "
		    "down, or a firewall drops the connection)",
		    p[i].host, secs);
		close(pf[i].fd);
	}
	free(pf);
}

const char *hx_probe_name(enum hx_probe_result r)
{
	static const char *const names[] = { "ok", "dns", "refused", "timeout", "error" };
	return r <= HX_PROBE_ERROR ? names[r] : "error";
}
