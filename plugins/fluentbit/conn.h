/* conn.h - the Forward peer's address, a non-blocking stream socket to it, and the
 * reconnect backoff. */
#ifndef FWD_CONN_H
#define FWD_CONN_H

#include <stdbool.h>
#include <sys/un.h>

struct fwd_endpoint {
	bool is_unix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* unix:// */
	char host[256];							/* tcp:// */
	char port[6];
};

/* Parse "unix:///absolute/path" or "tcp://host:port" ("tcp://[::1]:24224" for IPv6).
 * 0 or -EINVAL. */
int endpoint_parse(const char *url, struct fwd_endpoint *ep);
/* Start connecting. Returns a non-blocking socket, with *pending set while the connection
 * is still being made (wait for POLLOUT, then conn_finish), or -errno. Host names are
 * resolved here, synchronously, on every attempt (the peer may move). */
int conn_open(const struct fwd_endpoint *ep, bool *pending);
/* The outcome of a pending connect: 0 or -errno. */
int conn_finish(int fd);

/* Reconnect delays: min_ms doubling to max_ms, each with +-25% jitter so that many
 * forwarders restarting together do not all knock at once. */
struct backoff {
	long min_ms, max_ms;
	unsigned failures;
};

long backoff_next(struct backoff *b);
void backoff_reset(struct backoff *b);

#endif
