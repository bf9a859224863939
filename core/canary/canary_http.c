/* canary_http.c - GetUrl: one HTTP/1.0 GET, read until the status line, then closed. The
 * host name is resolved with getaddrinfo (the worker thread may block on it: it is off
 * the event path). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "canary_internal.h"

/* "http://host[:port][/path]" split; host may be "[v6]". */
static int split_url(const char *url, char *host, size_t hsz, char *port, size_t psz, const char **path)
{
	const char *h, *end, *colon;
	size_t n;

	if (!strncmp(url, "https://", 8))
		return -EPROTONOSUPPORT;
	if (strncmp(url, "http://", 7))
		return -EINVAL;
	h = url + 7;
	end = h + strcspn(h, "/?#");
	*path = *end == '/' ? end : "/";
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (!close)
			return -EINVAL;
		n = (size_t)(close - h - 1);
		if (n >= hsz)
			return -EINVAL;
		memcpy(host, h + 1, n);
		host[n] = '\0';
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
		if (!n || n >= hsz)
			return -EINVAL;
		memcpy(host, h, n);
		host[n] = '\0';
	}
	if (colon) {
		n = (size_t)(end - colon - 1);
		if (!n || n >= psz)
			return -EINVAL;
		memcpy(port, colon + 1, n);
		port[n] = '\0';
	} else {
		snprintf(port, psz, "80");
	}
	return 0;
}

static int connect_by(const struct addrinfo *ai, long long deadline)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	int err = 0, soerr = 0;
	socklen_t len = sizeof(soerr);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		err = -errno;
	if (!err)
		err = canary_wait(fd, POLLOUT, deadline);
	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		err = -errno;
	if (!err && soerr)
		err = -soerr;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int canary_http_get(const char *url, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	long long deadline = canary_now_ms() + timeout_ms;
	char host[256], port[8], req[1024], status[16];
	const char *path;
	size_t got = 0;
	ssize_t n;
	int fd = -1, err, len;

	err = split_url(url, host, sizeof(host), port, sizeof(port), &path);
	if (err)
		return err;
	err = getaddrinfo(host, port, &hints, &res);
	if (err)
		return -EHOSTUNREACH;
	for (ai = res, err = -EHOSTUNREACH; ai && fd < 0; ai = ai->ai_next) {
		fd = connect_by(ai, deadline);
		if (fd < 0)
			err = fd;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err;
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: vigil\r\nConnection: close\r\n\r\n",
		       path, host);
	err = len > 0 && (size_t)len < sizeof(req) ? 0 : -E2BIG;
	/* a request this small fits the socket buffer of a fresh connection */
	if (!err && send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		err = -EIO;
	while (!err && got < 12) {	/* "HTTP/1.x NNN" */
		err = canary_wait(fd, POLLIN, deadline);
		if (err)
			break;
		n = recv(fd, status + got, sizeof(status) - 1 - got, 0);
		if (n <= 0)
			err = n ? -errno : -ECONNRESET;
		else
			got += (size_t)n;
	}
	if (!err && strncmp(status, "HTTP/", 5))
		err = -EPROTO;
	close(fd);
	return err;
}
