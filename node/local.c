/*
 * local.c: what this node learns of entries written by other processes on
 * its home (`hansa publish`, `import`, the web app): the store's change log,
 * read when a writer wakes the node through its UNIX datagram socket
 * (node.sock in the store folder; docs/PROTOCOL.md §6.3), or every
 * CHANGES_POLL_MS when that socket cannot be had. New entries go out as
 * live pushes (transfer.c); a backlog too large becomes a reconciliation.
 * Also the peer list as `hansa peer add/remove` and `join` change it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "node/node_int.h"

/* The change log read from the last look on: seqs in n->handled (this
 * node stored them; ascending, like the log) are passed over with a
 * cursor, at, so that a log of many thousands costs no more than a look
 * at each (it was a memmove of the rest of handled per row: quadratic in
 * an initial sync). */
struct changes {
	hx_node *n;
	size_t at;
};

static int change_cb(void *arg, uint64_t seq, const uint8_t id[HX_ID_LEN])
{
	struct changes *x = arg;
	hx_node *n = x->n;
	while (x->at < n->nhandled && n->handled[x->at] < seq)
		x->at++;
	if (x->at < n->nhandled && n->handled[x->at] == seq) {
		x->at++;
		return 0;
	}
	if (n->fresh.n >= PUSH_BACKLOG_MAX) {
		n->fresh_over++;
		return 0;
	}
	hx_nd_idq_push(&n->fresh, id, 1);
	return 0;
}

void hx_nd_poll_changes(hx_node *n)
{
	uint64_t last;
	struct changes x = { n, 0 };
	if (hx_store_changes(n->store, n->last_seq, change_cb, &x, &last)) {
		/* read again from the same row next time, handled as it is */
		hx_nd_idq_clear(&n->fresh);
		n->fresh_over = 0;
		return;
	}
	n->last_seq = last;
	/* what this node stored itself is already queued */
	n->nhandled = 0;
	if (n->fresh_over) {
		if (n->cfg.verbose)
			hx_nd_log(n, "%zu new local entries: reconciling instead of pushing",
			          n->fresh.n + n->fresh_over);
		for (size_t i = 0; i < n->nconns; i++)
			n->conns[i]->recon_due = 2;
	} else if (n->fresh.n) {
		n->live_at = hx_now_us();
		hx_nd_relay(n, NULL, (const uint8_t(*)[HX_ID_LEN])(n->fresh.id + n->fresh.head),
		            n->fresh.n, 1);
	}
	hx_nd_idq_clear(&n->fresh);
	n->fresh_over = 0;
}

/* The wake-up socket: writers (hx_store_put_batch in any process) send it a
 * byte after they commit, so that an idle node sleeps instead of polling the
 * change log. Without it (path too long, bind refused) the node polls. */
void hx_nd_wake_open(hx_node *n)
{
	const char *path = hx_store_wake_path(n->store);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd = -1;
	if (!path)
		goto fallback;
	memcpy(a.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fallback;
	/* a socket left by a node that was killed (`serve` refuses to run
	 * twice on one home, so it is not a live node's) */
	if (unlink(path) && errno != ENOENT)
		goto fallback;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) || stat(path, &st))
		goto fallback;
	n->wake_fd = fd;
	n->wake_dev = st.st_dev;
	n->wake_ino = st.st_ino;
	return;
fallback:
	hx_nd_log(n, "no wake-up socket%s%s (%s): looking for local changes every %u ms",
	          path ? " at " : "", path ? path : "", path ? strerror(errno) : "path too long",
	          CHANGES_POLL_MS);
	if (fd >= 0)
		close(fd);
	n->cfg.poll_ms = CHANGES_POLL_MS;
}

void hx_nd_wake_close(hx_node *n)
{
	const char *path = hx_store_wake_path(n->store);
	struct stat st;
	if (n->wake_fd < 0)
		return;
	close(n->wake_fd);
	n->wake_fd = -1;
	if (path && !stat(path, &st) && st.st_dev == n->wake_dev && st.st_ino == n->wake_ino)
		unlink(path);
}

void hx_nd_on_wake(hx_node *n)
{
	char b[64];
	ssize_t k;
	while ((k = recv(n->wake_fd, b, sizeof b, MSG_DONTWAIT)) >= 0) {
		if (k >= 1 && b[0] == HX_WAKE_CONFIG[0])
			n->reload_due = 1;
		else
			n->changes_due = 1;
	}
}

/* Follows `hansa peer add/remove`, `join` and `member add/remove` made
 * while the node runs: connects to new peers, drops removed ones and
 * reconnects when a member's transport key changed. */
void hx_nd_reload_peers(hx_node *n)
{
	hx_peer_conf *pcs;
	size_t npc;
	if (hx_peer_list(n->store, &pcs, &npc))
		return;
	for (size_t i = 0; i < n->nconns;) {
		struct conn *c = n->conns[i];
		const hx_member *m = c->out ? hx_nd_member_by_key(n, c->peer->key) : NULL;
		int keep = !c->out;
		for (size_t j = 0; !keep && j < npc; j++)
			keep = !strcmp(pcs[j].endpoint, c->endpoint) &&
			       !memcmp(pcs[j].key, c->peer->key, HX_KEY_LEN) && m &&
			       m->has_transport && !memcmp(m->transport, c->server_key, 32);
		if (keep) {
			i++;
			continue;
		}
		hx_nd_log(n, "no longer connecting to %s at %s", c->peer->name, c->endpoint);
		hx_nd_flush_pending(n); /* the pipeline may hold its entries */
		hx_nd_conn_down(n, c, "peer removed or its key changed");
		hx_nd_conn_remove(n, i);
	}
	for (size_t j = 0; j < npc; j++) {
		const hx_member *m = hx_nd_member_by_key(n, pcs[j].key);
		int have = 0;
		if (!m || !m->has_transport || !memcmp(pcs[j].key, n->cfg.pk, HX_KEY_LEN))
			continue;
		for (size_t i = 0; i < n->nconns && !have; i++)
			have = n->conns[i]->out && !strcmp(n->conns[i]->endpoint, pcs[j].endpoint);
		if (have)
			continue;
		hx_nd_log(n, "connecting to new peer at %s", pcs[j].endpoint);
		/* a bad endpoint is logged and stays, finished, not retried */
		(void)hx_nd_conn_open_out(n, &pcs[j], NULL);
	}
	free(pcs);
}
