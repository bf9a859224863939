/* sub_sp.c - a subscriber of our own on nanomsg's SP wire (sp.c), for ipc:// and tcp://.
 *
 * Why: a nanomsg NN_SUB hands each message from its worker thread to the caller's through
 * a queue and an eventfd: ~4 system calls and two thread switches a message, ~7 us on our
 * VMs, which made `vigil getevents` cost more CPU per exec than the agent. Here the
 * caller's thread reads the stream itself, many frames a read(2).
 *
 * Kept from nanomsg: the connection is made lazily and made again reconnect_ms after it is
 * lost (the stamps show what was missed meanwhile), a frame over max_msg is not delivered
 * (here it is skipped, not the connection dropped: the stamps count it), and the fd given
 * to poll(2) callers is readable while a message waits. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nanomsg/nn.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus.h"
#include "bus_internal.h"

/* nanomsg's defaults: NN_RCVMAXSIZE and NN_RECONNECT_IVL. */
#define SUB_MAX_MSG (1024 * 1024)
#define SUB_RECONNECT_MS 100
/* One read takes up to this much: ~90 exec events. */
#define SUB_READ_CHUNK (64 * 1024)

enum sub_state {
	SUB_DOWN,		/* no socket; the next try at next_try */
	SUB_CONNECTING,		/* tcp connect in progress */
	SUB_HEADER,		/* connected, our header sent, the publisher's not yet read */
	SUB_READY,
};

struct sub_sp {
	bool ipc;			/* ipc frames carry a type byte */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int fd;
	enum sub_state state;
	uint64_t next_try;		/* bus_now_ms() */
	int reconnect_ms;
	uint32_t max_msg;
	int rcvbuf;			/* SO_RCVBUF for each socket, 0: the kernel's */
	uint64_t skip;			/* bytes of an oversized frame still to discard */
	char *buf;			/* bytes read, not yet taken: from off to len */
	size_t off, len, cap;
	/* vigil_sub__fd: an epoll set of the socket, "a frame is buffered" and "time to
	 * reconnect"; made on first use */
	int epfd, pending_fd, retry_fd;
	bool pending_set;
	bool warned;			/* about a peer that is not a publisher, once */
};

static int parse_ipc(struct sub_sp *s, const char *path)
{
	struct sockaddr_un *sa = (struct sockaddr_un *)&s->addr;

	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	s->addr_len = sizeof(*sa);
	s->ipc = true;
	return 0;
}

/* tcp://HOST:PORT with a numeric host; names and nanomsg's "iface;host" form are left to
 * nanomsg (-EPROTONOSUPPORT). */
static int parse_tcp(struct sub_sp *s, const char *hostport)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *ai;
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = sp_split_hostport(hostport, host, sizeof(host));

	if (!port || !host[0] || strchr(hostport, ';'))
		return -EPROTONOSUPPORT;
	if (getaddrinfo(host, port, &hints, &ai))
		return -EPROTONOSUPPORT;
	memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
	s->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

struct sub_sp *sub_sp_open(const char *url)
{
	struct sub_sp *s;
	int err;

	if (strncmp(url, "ipc://", 6) && strncmp(url, "tcp://", 6)) {
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = s->epfd = s->pending_fd = s->retry_fd = -1;
	s->reconnect_ms = SUB_RECONNECT_MS;
	s->max_msg = SUB_MAX_MSG;
	err = url[0] == 'i' ? parse_ipc(s, url + 6) : parse_tcp(s, url + 6);
	if (err) {
		free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

/* vigil_sub__fd's descriptors, if made. */
static void poll_close(struct sub_sp *s)
{
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->pending_fd >= 0)
		close(s->pending_fd);
	if (s->retry_fd >= 0)
		close(s->retry_fd);
	s->epfd = s->pending_fd = s->retry_fd = -1;
}

void sub_sp_close(struct sub_sp *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	poll_close(s);
	free(s->buf);
	free(s);
}

/* ---- the fd for poll(2) callers: kept in step only once asked for ---- */

static void poll_watch_socket(struct sub_sp *s)
{
	struct epoll_event ev = {.events = s->state == SUB_CONNECTING ? EPOLLIN | EPOLLOUT : EPOLLIN};

	if (s->epfd < 0 || s->fd < 0)
		return;
	ev.data.fd = s->fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->fd, &ev) && errno == ENOENT)
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->fd, &ev);
}

static void poll_retry_at(struct sub_sp *s, int ms)
{
	struct itimerspec it = {.it_value = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 + 1}};

	if (s->retry_fd >= 0)
		timerfd_settime(s->retry_fd, 0, &it, NULL);
}

/* A try is under way: the timer neither due nor readable (else a poll caller would spin). */
static void poll_retry_clear(struct sub_sp *s)
{
	struct itimerspec off = {0};
	uint64_t expired;

	if (s->retry_fd < 0)
		return;
	timerfd_settime(s->retry_fd, 0, &off, NULL);
	if (read(s->retry_fd, &expired, sizeof(expired)) < 0 && errno != EAGAIN)
		pr_debug("bus: subscriber's retry timer: %s", strerror(errno));
}

/* Whether a whole frame is buffered, told to the pending eventfd on a change only. */
static bool frame_buffered(const struct sub_sp *s);

static void poll_note_pending(struct sub_sp *s)
{
	uint64_t v = 1;
	bool now;

	if (s->pending_fd < 0)
		return;
	now = frame_buffered(s);
	if (now == s->pending_set)
		return;
	if (now ? write(s->pending_fd, &v, sizeof(v)) == sizeof(v) : read(s->pending_fd, &v, sizeof(v)) == sizeof(v))
		s->pending_set = now;
}

int sub_sp_fd(struct sub_sp *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	if (s->epfd >= 0)
		return s->epfd;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->pending_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epfd < 0 || s->pending_fd < 0 || s->retry_fd < 0)
		goto err_out;
	ev.data.fd = s->pending_fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->pending_fd, &ev))
		goto err_out;
	ev.data.fd = s->retry_fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->retry_fd, &ev))
		goto err_out;
	poll_watch_socket(s);
	poll_note_pending(s);
	if (s->state == SUB_DOWN)	/* the caller's first recv connects */
		poll_retry_at(s, 0);
	return s->epfd;

err_out:
	err = -errno;
	poll_close(s);
	return err;
}

/* ---- the connection ---- */

static void drop(struct sub_sp *s)
{
	if (s->fd >= 0)
		close(s->fd);	/* leaves the epoll set with it */
	s->fd = -1;
	s->state = SUB_DOWN;
	s->off = s->len = 0;
	s->skip = 0;
	s->next_try = bus_now_ms() + (uint64_t)s->reconnect_ms;
	poll_note_pending(s);
	poll_retry_at(s, s->reconnect_ms);
}

static int send_header(struct sub_sp *s)
{
	uint8_t hdr[SP_HDR_LEN];

	sp_header(hdr, SP_PROTO_SUB);
	if (send(s->fd, hdr, sizeof(hdr), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(hdr))
		return -EIO;
	s->state = SUB_HEADER;
	poll_watch_socket(s);
	return 0;
}

/* The size asked for, past net.core.rmem_max where we may (CAP_NET_ADMIN), as nanomsg's
 * NN_RCVBUF is not capped. 0 or -errno. */
static int set_rcvbuf(int fd, int bytes)
{
	if (!setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) ? -errno : 0;
}

static void try_connect(struct sub_sp *s)
{
	int one = 1;

	poll_retry_clear(s);
	s->fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto retry;
	if (s->rcvbuf > 0)
		set_rcvbuf(s->fd, s->rcvbuf);
	if (!s->ipc)
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!connect(s->fd, (struct sockaddr *)&s->addr, s->addr_len)) {
		if (!send_header(s))
			return;
	} else if (errno == EINPROGRESS) {
		s->state = SUB_CONNECTING;
		poll_watch_socket(s);
		return;
	}
retry:
	drop(s);
}

/* A tcp connect finished (the socket was writable). */
static void connected(struct sub_sp *s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err || send_header(s))
		drop(s);
}

/* ---- frames ---- */

static uint64_t be64(const char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | (uint8_t)p[i];
	return v;
}

/* The next frame's head: 0 while it is incomplete, its size (9 or 8) with *len, or
 * -EPROTO for an ipc frame that is not a message. */
static int frame_head(const struct sub_sp *s, uint64_t *len)
{
	size_t head = s->ipc ? 9 : 8, have = s->len - s->off;
	const char *p = s->buf + s->off;

	if (have < head)
		return 0;
	if (s->ipc && p[0] != 1)
		return -EPROTO;
	*len = be64(p + head - 8);
	return (int)head;
}

static bool frame_buffered(const struct sub_sp *s)
{
	uint64_t len;
	int head;

	if (s->state != SUB_READY || s->skip)
		return false;
	head = frame_head(s, &len);
	return head > 0 && len <= s->max_msg && s->len - s->off - (size_t)head >= len;
}

/* Make room to read into: at least a chunk, or the rest of the frame the unread bytes
 * begin (up to max_msg), sliding them to the front first when that makes the room. */
static int make_room(struct sub_sp *s)
{
	size_t need = SUB_READ_CHUNK, have = s->len - s->off;
	uint64_t len;
	int head = s->state == SUB_READY && !s->skip ? frame_head(s, &len) : 0;
	char *n;

	if (head > 0 && len <= s->max_msg && (size_t)head + len > have + need)
		need = (size_t)head + (size_t)len - have;
	if (s->off && (!have || s->cap - s->len < need)) {
		memmove(s->buf, s->buf + s->off, have);
		s->len = have;
		s->off = 0;
	}
	if (s->cap - s->len >= need)
		return 0;
	n = realloc(s->buf, s->len + need);
	if (!n)
		return -ENOMEM;
	s->buf = n;
	s->cap = s->len + need;
	return 0;
}

/* Read what the socket has without blocking. 1 when bytes came, 0 for none now, -errno
 * when the connection is gone (dropped here). */
static int fill_once(struct sub_sp *s)
{
	ssize_t n;
	int err = make_room(s);

	if (err)
		return err;
	n = recv(s->fd, s->buf + s->len, s->cap - s->len, MSG_DONTWAIT);
	if (n > 0) {
		s->len += (size_t)n;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	drop(s);
	return -ECONNRESET;
}

/* Consume the header and any oversized frame's bytes; then whether a whole frame waits.
 * A publisher that is not one, or a broken frame, ends the connection. */
static bool settle(struct sub_sp *s)
{
	uint8_t want[SP_HDR_LEN];
	uint64_t len;
	int head;

	if (s->state == SUB_HEADER) {
		if (s->len - s->off < SP_HDR_LEN)
			return false;
		sp_header(want, SP_PROTO_PUB);
		if (memcmp(s->buf + s->off, want, SP_HDR_LEN)) {
			if (!s->warned)
				pr_warn("bus: the peer at the subscribed address is not an SP publisher: "
					"disconnected (and again at each reconnect)");
			s->warned = true;
			drop(s);
			return false;
		}
		s->off += SP_HDR_LEN;
		s->state = SUB_READY;
	}
	for (;;) {
		if (s->skip) {
			size_t n = s->len - s->off < s->skip ? s->len - s->off : (size_t)s->skip;

			s->off += n;
			s->skip -= n;
			if (s->skip)
				return false;
		}
		head = frame_head(s, &len);
		if (head < 0) {
			drop(s);
			return false;
		}
		if (head == 0)
			return false;
		if (len <= s->max_msg)
			return s->len - s->off - (size_t)head >= len;
		s->off += (size_t)head;	/* too large: skipped, and missed by the stamps */
		s->skip = len;
	}
}

/* Wait until a whole frame is buffered, the deadline (bus_now_ms(); UINT64_MAX: none), or a
 * signal. 1, 0 (-ETIMEDOUT's case), -EINTR or -errno. */
static int fill(struct sub_sp *s, uint64_t deadline)
{
	for (;;) {
		struct pollfd p;
		uint64_t now, until;
		int err;

		if (s->state == SUB_DOWN && bus_now_ms() >= s->next_try)
			try_connect(s);
		if (s->state == SUB_CONNECTING) {	/* done by now? (a timeout of 0 never polls below) */
			p = (struct pollfd){.fd = s->fd, .events = POLLOUT};
			if (poll(&p, 1, 0) > 0) {
				connected(s);
				continue;
			}
		}
		if (s->state == SUB_HEADER || s->state == SUB_READY) {
			if (settle(s))
				return 1;
			if (s->fd >= 0) {
				err = fill_once(s);
				if (err == -ENOMEM)
					return err;
				if (err == 1 || err == -ECONNRESET)
					continue;
			}
		}
		now = bus_now_ms();
		if (now >= deadline)
			return 0;
		until = deadline;
		if (s->state == SUB_DOWN && s->next_try < until)
			until = s->next_try;
		p = (struct pollfd){.fd = s->state == SUB_DOWN ? -1 : s->fd,
				    .events = s->state == SUB_CONNECTING ? POLLOUT : POLLIN};
		err = poll(&p, 1, until == UINT64_MAX ? -1 : (int)(until - now));
		if (err < 0)
			return errno == EINTR ? -EINTR : -errno;
		if (s->state == SUB_CONNECTING && p.revents)
			connected(s);
		else if (p.revents & (POLLERR | POLLHUP) && !(p.revents & POLLIN))
			drop(s);
	}
}

static uint64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX : bus_now_ms() + (uint64_t)timeout_ms;
}

int sub_sp_wait(struct sub_sp *s, int timeout_ms)
{
	int n = fill(s, deadline_of(timeout_ms));

	poll_note_pending(s);
	return n;
}

int sub_sp_recv(struct sub_sp *s, void **msg, int timeout_ms)
{
	uint64_t len;
	int head, n = fill(s, deadline_of(timeout_ms));
	void *m;

	if (n <= 0) {
		poll_note_pending(s);
		return n ? n : -ETIMEDOUT;
	}
	head = frame_head(s, &len);
	m = nn_allocmsg(len ? (size_t)len : 1, 0);	/* freed by vigil_bus_msg_free */
	if (!m)
		return -ENOMEM;
	memcpy(m, s->buf + s->off + head, (size_t)len);
	s->off += (size_t)head + (size_t)len;
	poll_note_pending(s);
	*msg = m;
	return (int)len;
}

int sub_sp_set(struct sub_sp *s, enum vigil_sub_option opt, int value)
{
	if (value <= 0)
		return -EINVAL;
	switch (opt) {
	case VIGIL_SUB_RECV_BUFFER:
		s->rcvbuf = value;
		return s->fd >= 0 ? set_rcvbuf(s->fd, value) : 0;
	case VIGIL_SUB_MAX_MESSAGE:
		s->max_msg = (uint32_t)value;
		return 0;
	case VIGIL_SUB_RECONNECT_MS:
		s->reconnect_ms = value;
		return 0;
	}
	return -EINVAL;
}
