/* ctl_unix.c - the control channel over ipc://: a plain AF_UNIX stream socket, so the
 * server learns who connected (SO_PEERCRED, SO_PEERGROUPS) and answers each request
 * according to it. One request per connection; every message is framed as a 4-byte
 * big-endian length, then the bytes. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bus_internal.h"

/* How long a connected peer may take to send its request or read the reply: the server
 * answers one connection at a time. */
#define CTL_PEER_MS 2000
/* Connections of peers other than root served at once; more are closed at once. */
#define CTL_MAX_UNPRIVILEGED 8
/* Between tries while the agent's socket is not there yet (vigil_ctl_request). */
#define CTL_RETRY_MS 100

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* Move all n bytes of buf before the deadline (CLOCK_MONOTONIC ms). 0, -ETIMEDOUT,
 * -ECONNRESET when the peer closed first, or -errno. */
static int move_all(int fd, void *buf, size_t n, bool out, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = out ? POLLOUT : POLLIN};
	size_t done = 0;
	ssize_t k;
	int r;

	while (done < n) {
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline - now_ms()));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		k = out ? send(fd, (char *)buf + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT)
			: recv(fd, (char *)buf + done, n - done, MSG_DONTWAIT);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -ECONNRESET;
		done += (size_t)k;
	}
	return 0;
}

static int send_frame(int fd, const void *data, size_t len, uint64_t deadline)
{
	unsigned char head[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
				 (unsigned char)len};
	int err;

	if (len > CTL_MSG_MAX)
		return -EMSGSIZE;
	err = move_all(fd, head, sizeof(head), true, deadline);
	return err ? err : move_all(fd, (void *)data, len, true, deadline);
}

/* One frame appended to out. 0, -EMSGSIZE past CTL_MSG_MAX, or move_all's errors. */
static int recv_frame(int fd, struct vigil_buf *out, uint64_t deadline)
{
	unsigned char head[4];
	char *body = NULL;
	size_t len;
	int err;

	err = move_all(fd, head, sizeof(head), false, deadline);
	if (err)
		return err;
	len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
	if (len > CTL_MSG_MAX)
		return -EMSGSIZE;
	body = malloc(len ? len : 1);
	if (!body)
		return -ENOMEM;
	err = move_all(fd, body, len, false, deadline);
	if (!err)
		err = vigil_buf_append(out, body, len);
	free(body);
	return err;
}

static bool in_group(int fd, const struct ucred *cred, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = cred->gid == gid;
	size_t i;

	if (found)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) && errno == ERANGE) {
		/* len now holds the size needed */
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
			len = 0;
	}
	for (i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == gid;
	if (groups != small)
		free(groups);
	return found;
}

/* What the connecting process may do: the kernel's record of its credentials at connect
 * time (translated into our user namespace: a container's root is not root here). */
static void peer_of(const struct vigil_ctl_server *s, int fd, struct vigil_ctl_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(peer, 0, sizeof(*peer));
	peer->access = VIGIL_CTL_DENIED;
	peer->uid = peer->gid = (uint32_t)-1;
	peer->pid = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return;
	peer->local = true;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	peer->pid = cred.pid;
	peer->events = cred.uid == 0;
	if (cred.uid == 0)
		peer->access = VIGIL_CTL_ALL;
	else if (s->read_gid >= 0 && in_group(fd, &cred, (gid_t)s->read_gid))
		peer->access = VIGIL_CTL_READ;
}

/* One connection: read the request, answer it, send the reply. */
static void serve_one(struct vigil_ctl_server *s, int fd, const struct vigil_ctl_peer *peer)
{
	uint64_t deadline = now_ms() + CTL_PEER_MS;
	struct vigil_buf req = {0}, reply = {0};
	int err;

	/* A refused peer gets its answer at once, its request unread (the client reads the
	 * reply even when its send failed). */
	err = peer->access == VIGIL_CTL_DENIED ? 0 : recv_frame(fd, &req, deadline);
	if (err) {
		atomic_fetch_add(&s->bad_requests, 1);
		pr_debug("control: no request from pid %d: %s", peer->pid, strerror(-err));
		goto out;
	}
	bus_ctl_answer(s, peer, req.data, req.len, &reply);
	/* the peer's time to read starts now: a policy add may take the verifier longer than
	 * CTL_PEER_MS on a loaded machine, and its caller must still hear that it worked */
	err = send_frame(fd, reply.data ? reply.data : "", reply.len, now_ms() + CTL_PEER_MS);
	if (err)
		pr_debug("control: reply to pid %d lost: %s", peer->pid, strerror(-err));
out:
	vigil_buf_free(&req);
	vigil_buf_free(&reply);
}

struct conn {
	struct vigil_ctl_server *s;
	int fd;
	struct vigil_ctl_peer peer;
};

/* A connection's own thread: a peer that sends slowly, or never reads its reply, holds
 * only this thread (for at most CTL_PEER_MS each way), never the next caller. */
static void *serve_conn(void *arg)
{
	struct conn *c = arg;
	struct vigil_ctl_server *s = c->s;

	serve_one(s, c->fd, &c->peer);
	close(c->fd);
	pthread_mutex_lock(&s->conns_lock);
	s->conns--;
	if (c->peer.access != VIGIL_CTL_ALL)
		s->conns_unprivileged--;
	pthread_cond_broadcast(&s->conns_done);
	pthread_mutex_unlock(&s->conns_lock);
	free(c);
	return NULL;
}

/* Hand fd to a thread of its own. Root always gets one; other peers at most
 * CTL_MAX_UNPRIVILEGED at once, so they cannot use up the agent's threads. */
static void dispatch(struct vigil_ctl_server *s, int fd, const struct vigil_ctl_peer *peer)
{
	struct conn *c = NULL;
	pthread_attr_t attr;
	bool busy;

	pthread_mutex_lock(&s->conns_lock);
	busy = peer->access != VIGIL_CTL_ALL && s->conns_unprivileged >= CTL_MAX_UNPRIVILEGED;
	if (!busy) {
		s->conns++;
		if (peer->access != VIGIL_CTL_ALL)
			s->conns_unprivileged++;
	}
	pthread_mutex_unlock(&s->conns_lock);
	if (busy) {
		pr_debug("control: uid %u: too many connections, closed", peer->uid);
		close(fd);
		return;
	}
	c = malloc(sizeof(*c));
	if (c) {
		*c = (struct conn){.s = s, .fd = fd, .peer = *peer};
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (!pthread_create(&(pthread_t){0}, &attr, serve_conn, c)) {
			pthread_attr_destroy(&attr);
			return;
		}
		pthread_attr_destroy(&attr);
	}
	/* no thread: answer here rather than not at all */
	free(c);
	pthread_mutex_lock(&s->conns_lock);
	s->conns--;
	if (peer->access != VIGIL_CTL_ALL)
		s->conns_unprivileged--;
	pthread_mutex_unlock(&s->conns_lock);
	serve_one(s, fd, peer);
	close(fd);
}

static void *serve(void *arg)
{
	struct vigil_ctl_server *s = arg;
	struct pollfd p = {.fd = s->fd, .events = POLLIN};
	struct vigil_ctl_peer peer;
	int fd;

	while (!atomic_load(&s->stop)) {
		if (poll(&p, 1, CTL_POLL_MS) <= 0)
			continue;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		peer_of(s, fd, &peer);
		if (peer.access == VIGIL_CTL_DENIED) {
			serve_one(s, fd, &peer);	/* answered without waiting for it */
			close(fd);
			continue;
		}
		dispatch(s, fd, &peer);
	}
	return NULL;
}

int bus_ctl_unix_start(struct vigil_ctl_server *s)
{
	const char *path = bus_ipc_path(s->url);
	struct sockaddr_un sa;
	int err;

	err = unix_addr(path, &sa);
	if (err)
		return err;
	err = bus_prepare_ipc(s->url);
	if (err)
		return err;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/* a stale socket file from a killed agent would make bind fail */
	bus_unlink_ipc(s->url);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->fd, 16)) {
		err = -errno;
		pr_warn("control: cannot bind %s: %s", s->url, strerror(-err));
		return err;
	}
	/* The mode is the first gate (who may connect at all); each request is then judged by
	 * the peer's credentials, so a loosened mode still lets no one else in. */
	err = s->read_gid >= 0 ? bus_chgrp_ipc(s->url, (gid_t)s->read_gid) : 0;
	if (!err)
		err = bus_chmod_ipc(s->url, s->read_gid >= 0 ? 0660 : 0600);
	if (err) {
		pr_warn("control: cannot set the owner or mode of %s: %s", path, strerror(-err));
		return err;
	}
	err = -pthread_create(&s->thread, NULL, serve, s);
	if (!err)
		s->thread_started = true;
	return err;
}

int bus_ctl_unix_request(const char *path, const void *req, size_t req_len, struct vigil_buf *reply, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	struct sockaddr_un sa;
	int fd = -1, err;

	err = unix_addr(path, &sa);
	if (err)
		return err;
	/* Like nanomsg's REQ before it: an agent still starting is waited for. */
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		err = -errno;
		close(fd);
		fd = -1;
		if (err != -ENOENT && err != -ECONNREFUSED)
			return err;
		if (now_ms() + CTL_RETRY_MS > deadline)
			return -ETIMEDOUT;
		usleep(CTL_RETRY_MS * 1000);
	}
	err = send_frame(fd, req, req_len, deadline);
	/* a server that refused us may have answered and closed before reading the request:
	 * its answer is still there to read */
	if (!err || err == -EPIPE || err == -ECONNRESET)
		err = recv_frame(fd, reply, deadline);
	close(fd);
	return err;
}
