/*
 * local.c: what this node learns of entries written by other processes on
 * its home (`hansa publish`, `import`, the web app): the store's change log,
 * read when a writer wakes the node through its UNIX datagram socket
 * (node.sock in the store folder; docs/PROTOCOL.md §6.3), or every
 * CHANGES_POLL_MS when that socket cannot be had. New entries go out as
 * live pushes (transfer.c); a backlog too large becomes a reconciliation.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "node/node_int.h"

static int change_cb(void *arg, uint64_t seq, const uint8_t id[HX_ID_LEN])
{
	hx_node *n = arg;
	size_t i = 0;
	while (i < n->nhandled && n->handled[i] < seq)
		i++;
	if (i < n->nhandled && n->handled[i] == seq) {
		memmove(n->handled, n->handled + i + 1, (n->nhandled - i - 1) * sizeof *n->handled);
		n->nhandled -= i + 1;
		return 0;
	}
	if (i) {
		memmove(n->handled, n->handled + i, (n->nhandled - i) * sizeof *n->handled);
		n->nhandled -= i;
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
	if (hx_store_changes(n->store, n->last_seq, change_cb, n, &last))
		return;
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
