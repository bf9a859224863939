/* conn.c - endpoints, non-blocking connects and backoff. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/common.h"
#include "conn.h"

int endpoint_parse(const char *url, struct fwd_endpoint *ep)
{
	const char *hp, *colon;
	size_t hlen;
	long port;

	memset(ep, 0, sizeof(*ep));
	if (!strncmp(url, "unix://", 7)) {
		const char *path = url + 7;

		if (path[0] != '/' || strlen(path) >= sizeof(ep->path))
			return -EINVAL;
		ep->is_unix = true;
		strcpy(ep->path, path);
		return 0;
	}
	if (strncmp(url, "tcp://", 6))
		return -EINVAL;
	hp = url + 6;
	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hp++;
		hlen = (size_t)(close - hp);
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - hp);
		if (memchr(hp, ':', hlen))
			return -EINVAL;		/* a bare IPv6 address needs brackets */
	}
	if (!hlen || hlen >= sizeof(ep->host) || memchr(hp, '/', hlen))
		return -EINVAL;
	if (vigil_parse_long(colon + 1, 1, 65535, &port) || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	memcpy(ep->host, hp, hlen);
	snprintf(ep->port, sizeof(ep->port), "%ld", port);
	return 0;
}

static int open_unix(const struct fwd_endpoint *ep, bool *pending)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, ep->path, strlen(ep->path) + 1);
	/* a UNIX connect completes at once or fails (EAGAIN: the peer's backlog is full) */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	*pending = false;
	return fd;
}

static int open_tcp(const struct fwd_endpoint *ep, bool *pending)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res = NULL, *ai;
	int fd = -1, err, one = 1, rc;

	rc = getaddrinfo(ep->host, ep->port, &hints, &res);
	if (rc) {
		err = rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
		goto out;
	}
	err = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		/* batches go out whole; acks should not wait on Nagle */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (!rc || errno == EINPROGRESS) {
			*pending = rc != 0;
			err = 0;
			break;
		}
		err = -errno;
		close(fd);
		fd = -1;
	}
out:
	if (res)
		freeaddrinfo(res);
	return err ? err : fd;
}

int conn_open(const struct fwd_endpoint *ep, bool *pending)
{
	*pending = false;
	return ep->is_unix ? open_unix(ep, pending) : open_tcp(ep, pending);
}

int conn_finish(int fd)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		return -errno;
	return -soerr;
}

long backoff_next(struct backoff *b)
{
	long d = b->min_ms;
	unsigned i;

	for (i = 0; i < b->failures && d < b->max_ms; i++)
		d *= 2;
	if (d > b->max_ms)
		d = b->max_ms;
	b->failures++;
	/* +-25%: random() is plenty for spreading retries */
	return d - d / 4 + (d >= 2 ? random() % (d / 2 + 1) : 0);
}

void backoff_reset(struct backoff *b)
{
	b->failures = 0;
}
