/*
 * wake.c: waking the node that serves a store after a write (docs/PROTOCOL.md
 * §6.3). The node binds a UNIX datagram socket, node.sock in the store's
 * directory; a writer that committed new entries sends it the byte 'e', one
 * that changed the members or peers 'm'. Best
 * effort and never blocking: with no node running, a full queue or a
 * directory path too long for a socket address nothing happens, and the
 * node still finds the change in the change log on its slow timer.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "store/store_int.h"

void hx_store_wake_init(hx_store *s, const char *dir)
{
	struct sockaddr_un a;
	int len = snprintf(s->wake, sizeof s->wake, "%s/node.sock", dir);
	if (len < 0 || (size_t)len >= sizeof a.sun_path || (size_t)len >= sizeof s->wake)
		s->wake[0] = 0;
}

const char *hx_store_wake_path(const hx_store *s)
{
	return s->wake[0] ? s->wake : NULL;
}

static void wake(hx_store *s, const char *what)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (!s->wake[0])
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memcpy(a.sun_path, s->wake, strlen(s->wake) + 1);
	/* ENOENT / ECONNREFUSED: no node; EAGAIN: it has wake-ups waiting */
	(void)!sendto(fd, what, 1, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a);
	close(fd);
}

void hx_store_wake(hx_store *s)
{
	wake(s, HX_WAKE_ENTRIES);
}

void hx_store_wake_config(hx_store *s)
{
	wake(s, HX_WAKE_CONFIG);
}
