/* sp.c - nanomsg's scalability-protocol wire on our own stream sockets, for the event
 * publisher: listeners for ipc:// and tcp://, the 8-byte protocol header, message frames,
 * bounded output queues.
 *
 * Why our own listener: libnanomsg 1.1.5 aborts the whole process on peer input it does
 * not expect. A subscriber that sends a message makes xpub.c:134 assert(0), and an ipc
 * frame whose type byte is not 1 trips sipc.c:336; any local user who may connect (group
 * root for the ipc bus, everyone for tcp on 127.0.0.1) could stop the agent. Here every
 * byte a peer sends is checked, and a peer that breaks the protocol is disconnected.
 *
 * Wire (nanomsg's ipc and tcp transports): each side sends "\0SP\0", its protocol id
 * (u16 BE) and two zero bytes; every message then is its length as a u64 BE, after a
 * type byte of 1 on ipc, followed by the body. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "bus_internal.h"

uint64_t sp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void sp_header(uint8_t out[SP_HDR_LEN], uint16_t proto)
{
	static const uint8_t head[4] = {0, 'S', 'P', 0};

	memcpy(out, head, 4);
	out[4] = (uint8_t)(proto >> 8);
	out[5] = (uint8_t)proto;
	out[6] = out[7] = 0;
}

size_t sp_frame_head(bool ipc, uint64_t len, uint8_t out[9])
{
	size_t n = 0;
	int k;

	if (ipc)
		out[n++] = 1;
	for (k = 7; k >= 0; k--)
		out[n++] = (uint8_t)(len >> (8 * k));
	return n;
}

int sp_queue(struct sp_peer *p, const void *a, size_t alen, const void *b, size_t blen)
{
	size_t need = alen + blen;

	if (p->off && p->off == p->len)
		p->off = p->len = 0;
	if (p->len + need > p->cap && p->off) {	/* slide the unsent part to the front */
		memmove(p->out, p->out + p->off, p->len - p->off);
		p->len -= p->off;
		p->off = 0;
	}
	if (p->len + need > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		char *n;

		while (cap < p->len + need)
			cap *= 2;
		n = realloc(p->out, cap);
		if (!n)
			return -ENOMEM;
		p->out = n;
		p->cap = cap;
	}
	memcpy(p->out + p->len, a, alen);
	if (blen)
		memcpy(p->out + p->len + alen, b, blen);
	p->len += need;
	return 0;
}

int sp_flush(struct sp_peer *p)
{
	while (p->off < p->len) {
		ssize_t n = send(p->fd, p->out + p->off, p->len - p->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		p->off += (size_t)n;
	}
	if (p->cap > (1u << 20)) {	/* a burst is over: give its memory back */
		free(p->out);
		p->out = NULL;
		p->off = p->len = p->cap = 0;
	}
	return 0;
}

int sp_read_header(struct sp_peer *p, uint16_t want_proto)
{
	uint8_t want[SP_HDR_LEN];
	ssize_t n;

	while (p->hdr_len < SP_HDR_LEN) {
		n = recv(p->fd, p->hdr + p->hdr_len, SP_HDR_LEN - p->hdr_len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		p->hdr_len += (size_t)n;
	}
	sp_header(want, want_proto);
	if (memcmp(p->hdr, want, SP_HDR_LEN))
		return -EPROTO;
	p->ready = true;
	return 0;
}

int sp_accept(int lfd, bool ipc, uint16_t our_proto, struct sp_peer *p)
{
	uint8_t ours[SP_HDR_LEN];
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (!ipc)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->accepted_ns = sp_now_ns();
	p->pid = -1;
	p->uid = -1;
	if (ipc) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);

		if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
			p->pid = cred.pid;
			p->uid = cred.uid;
		}
	}
	sp_header(ours, our_proto);
	if (sp_queue(p, ours, sizeof(ours), NULL, 0) || sp_flush(p)) {
		sp_peer_close(p);
		return -EIO;
	}
	return 0;
}

void sp_peer_close(struct sp_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	free(p->out);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

static int listen_ipc(struct sp_listener *l, const char *url, unsigned int mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = url + 6;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	l->ipc = true;
	l->path = strdup(path);
	if (!l->path)
		return -ENOMEM;
	err = bus_prepare_ipc(url);
	if (err)
		return err;	/* logged, naming the directory */
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -errno;
	unlink(path);	/* a stale socket file from a killed agent would make bind fail */
	if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(l->fd, 128))
		return -errno;
	l->bound = true;
	err = bus_chmod_ipc(url, mode);
	if (err)
		pr_warn("bus: cannot chmod %s: %s", url, strerror(-err));
	return err;
}

const char *sp_split_hostport(const char *hostport, char *host, size_t size)
{
	const char *colon = strrchr(hostport, ':');
	size_t hlen = colon ? (size_t)(colon - hostport) : 0;

	if (!colon || hlen >= size)
		return NULL;
	memcpy(host, hostport, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	return colon + 1;
}

static int listen_tcp(struct sp_listener *l, const char *url)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICHOST}, *ai = NULL;
	char host[256];
	const char *port = sp_split_hostport(url + 6, host, sizeof(host));
	int err = 0, one = 1;

	if (!port)
		return -EINVAL;
	if (getaddrinfo(!strcmp(host, "*") || !host[0] ? NULL : host, port, &hints, &ai))
		return -EPROTONOSUPPORT;	/* an interface name: leave it to nanomsg */
	l->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->fd, ai->ai_addr, ai->ai_addrlen) || listen(l->fd, 128))
		err = -errno;
	freeaddrinfo(ai);
	return err;
}

int sp_listen(struct sp_listener *l, const char *url, unsigned int mode)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (!strncmp(url, "ipc://", 6))
		return listen_ipc(l, url, mode);
	if (!strncmp(url, "tcp://", 6))
		return listen_tcp(l, url);
	return -EPROTONOSUPPORT;
}

void sp_listener_close(struct sp_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->bound && l->path)
		unlink(l->path);
	free(l->path);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}
