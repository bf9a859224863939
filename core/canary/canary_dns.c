/* canary_dns.c - DnsLookup: one DNS query (type A, class IN, recursion desired) over UDP to
 * the configured resolver, as Tetragon's lookup asks 1.1.1.1. Answered means a reply with
 * the query's id, whatever its rcode: the canary is the query reaching the resolver. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "canary_internal.h"

/* header (12) + name (at most 255) + type and class (4) */
#define QUERY_MAX (12 + 255 + 4)

/* The query for name into q; its length, or -EINVAL for a name DNS cannot carry. */
static int build_query(uint8_t *q, uint16_t id, const char *name)
{
	size_t n = 12, label;
	const char *p = name;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01;		/* RD */
	q[5] = 1;		/* QDCOUNT */
	while (*p) {
		label = strcspn(p, ".");
		if (!label || label > 63 || n + 1 + label > 12 + 254)
			return -EINVAL;
		q[n++] = (uint8_t)label;
		memcpy(q + n, p, label);
		n += label;
		p += label;
		if (*p == '.')
			p++;
	}
	if (n == 12)
		return -EINVAL;
	q[n++] = 0;
	q[n++] = 0, q[n++] = 1;	/* A */
	q[n++] = 0, q[n++] = 1;	/* IN */
	return (int)n;
}

int canary_dns_lookup(const struct sockaddr *server, socklen_t len, const char *name, int timeout_ms)
{
	long long deadline = canary_now_ms() + timeout_ms;
	uint8_t q[QUERY_MAX], r[512];
	uint16_t id = 0;
	int fd, n, err;
	ssize_t got;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id))
		id = (uint16_t)canary_now_ms();
	n = build_query(q, id, name);
	if (n < 0)
		return n;
	fd = socket(server->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* connected: replies from anyone but the server are not ours */
	err = connect(fd, server, len) || send(fd, q, (size_t)n, 0) != n ? -errno : 0;
	while (!err) {
		err = canary_wait(fd, POLLIN, deadline);
		if (err)
			break;
		got = recv(fd, r, sizeof(r), 0);
		if (got < 0) {
			err = errno == EAGAIN ? 0 : -errno;
			continue;
		}
		if (got >= 12 && r[0] == q[0] && r[1] == q[1] && (r[2] & 0x80))
			break;	/* a response (QR) to our id */
	}
	close(fd);
	return err;
}
