/*
 * threadnodes.h: running hansa nodes in threads of one process, on
 * 127.0.0.1, for the C tests and benchmarks that need several (test_sync,
 * bench_sync): a partner with its keys and signed member record, a free
 * port, and a node started in a thread and stopped again.
 */
#ifndef HX_THREADNODES_H
#define HX_THREADNODES_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "node/node.h"
#include "node/state.h"

struct who {
	uint8_t pk[32], sk[64], cpk[32], csk[32];
	uint8_t *rec; /* signed member record, malloc'd */
	size_t reclen;
};

struct running {
	hx_node *node;
	hx_store *store;
	pthread_t tid;
	volatile sig_atomic_t stop;
	int rc;
	int done; /* hx_node_run returned (atomic): rc is its outcome */
};

static inline double tn_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* New identity and transport keys and the signed member record. */
static inline int tn_make_who(struct who *w, const char *name)
{
	hx_meta prof[1] = { { "name", (char *)name } };
	hx_member m = { .timestamp = hx_now_us(), .profile = prof, .nprofile = 1 };
	crypto_sign_keypair(w->pk, w->sk);
	randombytes_buf(w->csk, 32);
	crypto_scalarmult_base(w->cpk, w->csk);
	memcpy(m.transport, w->cpk, 32);
	return hx_member_sign(&m, w->sk, &w->rec, &w->reclen);
}

/* Opens (creating) the store ROOT/NAME. */
static inline int tn_open_store(hx_store **s, const char *root, const char *name)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/%s", root, name);
	return hx_store_open(s, dir, HX_STORE_CREATE);
}

/* A TCP port free on 127.0.0.1 just now; 0 on failure. It is drawn from
 * below the kernel's ephemeral range (ip_local_port_range), where no
 * outgoing connection takes its source port: a port the kernel handed out
 * as free (bind to port 0) was now and then the source port of another
 * node's connection by the time its node bound it, and that node never
 * listened (bench_fanout, 20 nodes: about 1 run in 20 under load). */
static inline int tn_free_port(void)
{
	static uint16_t given[256]; /* not the same port twice in a process */
	static unsigned ngiven;
	unsigned lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	unsigned base = 10000, span = lo > base + 1000 ? lo - base : 0;
	for (int tries = 0; tries < 200; tries++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
			                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		if (span)
			a.sin_port = htons((uint16_t)(base + randombytes_uniform(span)));
		socklen_t l = sizeof a;
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int ok = fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
		         !getsockname(fd, (struct sockaddr *)&a, &l);
		if (fd >= 0)
			close(fd);
		int again = 0;
		for (unsigned i = 0; ok && i < ngiven && i < 256; i++)
			again |= given[i] == ntohs(a.sin_port);
		if (ok && !again) {
			given[ngiven++ % 256] = ntohs(a.sin_port);
			return ntohs(a.sin_port);
		}
		if (!span && !again)
			break;
	}
	return 0;
}

/* ep (cap bytes) = the endpoint tcp://127.0.0.1:PORT of a port free just
 * now (tn_free_port); returns the port, 0 on failure. */
static inline int tn_free_endpoint(char *ep, size_t cap)
{
	int port = tn_free_port();
	snprintf(ep, cap, "tcp://127.0.0.1:%d", port);
	return port;
}

static inline void *tn_run(void *arg)
{
	struct running *r = arg;
	r->rc = hx_node_run(r->node, &r->stop);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Creates the node over s with cfg and runs it in a new thread. */
static inline int tn_start(struct running *r, hx_store *s, const hx_node_config *cfg)
{
	memset(r, 0, sizeof *r);
	r->store = s;
	int rc = hx_node_new(&r->node, s, cfg);
	if (rc)
		return rc;
	return pthread_create(&r->tid, NULL, tn_run, r) ? HX_ENOMEM : HX_OK;
}

/* Stops the node (waking it: it sleeps until its next timer otherwise),
 * waits for its thread and destroys it; returns what hx_node_run did. */
static inline int tn_stop(struct running *r)
{
	r->stop = 1;
	hx_store_wake(r->store);
	pthread_join(r->tid, NULL);
	hx_node_destroy(&r->node);
	return r->rc;
}

#endif
