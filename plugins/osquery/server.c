/* server.c - the Extension service on <socket>.<uuid>: one thread accepts, one thread
 * per connection answers.
 *
 * osquery opens a new connection for every call and closes it after the reply, from as
 * many threads as it runs queries on; other clients keep one open for several calls. A
 * session therefore answers requests until its peer closes, and sessions run side by
 * side, so a slow generate or an idle peer never holds up a ping. A malformed request
 * ends its session (the peer sees the connection close); nothing else is affected.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ext.h"
#include "log.h"

struct server {
	struct ext *x;
	int fd;
	pthread_t thread;
	bool thread_started;
	_Atomic int stopping;
	pthread_mutex_t lock;
	pthread_cond_t idle;	/* signalled when a session ends */
	unsigned int sessions;
};

struct session {
	struct server *srv;
	int fd;
};

static int parse_request(const void *buf, size_t len, void *arg, size_t *used)
{
	return osq_request_parse(buf, len, EXT_REQUEST_LIMIT, arg, used);
}

/* Drop the first n bytes of b (the request just answered). */
static void consume(struct vigil_buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

static void serve(struct session *ss)
{
	struct ext *x = ss->srv->x;
	struct vigil_buf in = { 0 }, out = { 0 };
	struct osq_request req;
	struct tb_writer w;
	size_t used;
	int err;

	for (;;) {
		err = io_read_message(ss->fd, &in, EXT_IDLE_TIMEOUT_MS, &ss->srv->stopping, parse_request, &req, &used);
		if (err) {
			/* a peer that closed between requests is the normal end */
			if (err != -ECONNRESET || in.len)
				log_debug("connection %d dropped: %s", ss->fd, strerror(-err));
			break;
		}
		vigil_buf_reset(&out);
		tb_writer_init(&w, &out);
		ext_handle(x, &req, &w);
		if (w.err) {
			log_warn("cannot answer %.*s: %s", (int)req.name.n, req.name.p, strerror(-w.err));
			break;
		}
		err = io_write_all(ss->fd, out.data, out.len, EXT_IDLE_TIMEOUT_MS);
		if (err) {
			log_debug("connection %d: reply not sent: %s", ss->fd, strerror(-err));
			break;
		}
		consume(&in, used);
		if (req.method == OSQ_M_SHUTDOWN)
			break;
	}
	vigil_buf_free(&in);
	vigil_buf_free(&out);
}

static void *session_main(void *arg)
{
	struct session *ss = arg;
	struct server *srv = ss->srv;

	serve(ss);
	close(ss->fd);
	free(ss);
	pthread_mutex_lock(&srv->lock);
	srv->sessions--;
	pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Start a detached session thread for fd; on failure fd is closed. */
static void start_session(struct server *srv, int fd)
{
	struct session *ss = NULL;
	pthread_attr_t attr;
	pthread_t t;
	int err;

	pthread_mutex_lock(&srv->lock);
	if (srv->sessions >= EXT_MAX_SESSIONS) {
		pthread_mutex_unlock(&srv->lock);
		log_warn("%u connections already: closing a new one", srv->sessions);
		close(fd);
		return;
	}
	srv->sessions++;
	pthread_mutex_unlock(&srv->lock);

	ss = malloc(sizeof(*ss));
	err = ss ? -pthread_attr_init(&attr) : -ENOMEM;
	if (!err) {
		ss->srv = srv;
		ss->fd = fd;
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		err = -pthread_create(&t, &attr, session_main, ss);
		pthread_attr_destroy(&attr);
	}
	if (err) {
		log_warn("cannot serve a connection: %s", strerror(-err));
		free(ss);
		close(fd);
		pthread_mutex_lock(&srv->lock);
		srv->sessions--;
		pthread_cond_broadcast(&srv->idle);
		pthread_mutex_unlock(&srv->lock);
	}
}

static void *accept_main(void *arg)
{
	struct server *srv = arg;
	struct pollfd pfd = { .fd = srv->fd, .events = POLLIN };
	int fd;

	while (!atomic_load(&srv->stopping)) {
		if (poll(&pfd, 1, EXT_POLL_MS) <= 0)
			continue;
		fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept on %s: %s", srv->x->path, strerror(errno));
			continue;
		}
		start_session(srv, fd);
	}
	return NULL;
}

struct server *server_start(struct ext *x)
{
	struct server *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->x = x;
	s->fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->fd = io_listen_unix(x->path);
	if (s->fd < 0) {
		err = s->fd;
		log_warn("cannot listen on %s: %s", x->path, strerror(-err));
		goto err_out;
	}
	err = -pthread_create(&s->thread, NULL, accept_main, s);
	if (err)
		goto err_out;
	s->thread_started = true;
	return s;

err_out:
	server_stop(s);
	errno = -err;
	return NULL;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, 1);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	/* sessions see the flag within EXT_POLL_MS, or finish the reply they are writing */
	pthread_mutex_lock(&s->lock);
	while (s->sessions)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->x->path);
	}
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
