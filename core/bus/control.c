/* control.c - the control channel: an NN_REP server on its own thread, and the client call. */
#include <errno.h>
#include <msgpack.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "bus_internal.h"

/* How often the server thread looks at its stop flag. */
#define CTL_POLL_MS 200

struct vigil_ctl_server {
	int sock;
	char *url;
	vigil_ctl_handler handler;
	void *ctx;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	_Atomic uint64_t bad_requests;
};

/* {"ok": false, "error": "<strerror>"} */
static void error_reply(struct vigil_buf *reply, int err)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *msg = strerror(-err);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "ok", 2);
	msgpack_pack_false(&pk);
	msgpack_pack_str_with_body(&pk, "error", 5);
	msgpack_pack_str_with_body(&pk, msg, strlen(msg));
	vigil_buf_reset(reply);
	vigil_buf_append(reply, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

static void *serve(void *arg)
{
	struct vigil_ctl_server *s = arg;
	struct vigil_buf reply = {0};

	while (!atomic_load(&s->stop)) {
		void *req = NULL;
		int n = nn_recv(s->sock, &req, NN_MSG, 0);
		int err;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == EBADF || errno == ETERM)
				break;
			continue;
		}
		vigil_buf_reset(&reply);
		err = s->handler(req, (size_t)n, &reply, s->ctx);
		nn_freemsg(req);
		if (err) {
			atomic_fetch_add(&s->bad_requests, 1);
			error_reply(&reply, err);
		}
		nn_send(s->sock, reply.data ? reply.data : "", reply.len, 0);
	}
	vigil_buf_free(&reply);
	return NULL;
}

struct vigil_ctl_server *vigil_ctl_server__start(const char *url, vigil_ctl_handler handler, void *ctx)
{
	struct vigil_ctl_server *s = calloc(1, sizeof(*s));
	int timeout = CTL_POLL_MS;
	int err;

	if (!s)
		return NULL;
	s->sock = -1;
	s->handler = handler;
	s->ctx = ctx;
	s->url = strdup(url);
	if (!s->url) {
		err = -ENOMEM;
		goto err_out;
	}
	err = bus_prepare_ipc(url);
	if (err)
		goto err_out;
	s->sock = nn_socket(AF_SP, NN_REP);
	if (s->sock < 0) {
		err = -errno;
		goto err_out;
	}
	nn_setsockopt(s->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout));
	bus_unlink_ipc(url);
	if (nn_bind(s->sock, url) < 0) {
		err = -errno;
		pr_warn("control: cannot bind %s: %s", url, nn_strerror(errno));
		goto err_out;
	}
	bus_chmod_ipc(url, 0600);
	err = -pthread_create(&s->thread, NULL, serve, s);
	if (err)
		goto err_out;
	s->thread_started = true;
	return s;

err_out:
	vigil_ctl_server__close(s);
	errno = -err;
	return NULL;
}

uint64_t vigil_ctl_server__bad_requests(const struct vigil_ctl_server *s)
{
	return atomic_load(&s->bad_requests);
}

void vigil_ctl_server__close(struct vigil_ctl_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	if (s->sock >= 0) {
		nn_close(s->sock);
		bus_unlink_ipc(s->url);
	}
	free(s->url);
	free(s);
}

int vigil_ctl_request(const char *url, const void *req, size_t req_len, struct vigil_buf *reply, int timeout_ms)
{
	void *msg = NULL;
	int sock, n, err = 0;

	sock = nn_socket(AF_SP, NN_REQ);
	if (sock < 0)
		return -errno;
	if (nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout_ms, sizeof(timeout_ms)) < 0 ||
	    nn_setsockopt(sock, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout_ms, sizeof(timeout_ms)) < 0 ||
	    nn_connect(sock, url) < 0) {
		err = -errno;
		goto out;
	}
	if (nn_send(sock, req, req_len, 0) < 0) {
		err = errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	n = nn_recv(sock, &msg, NN_MSG, 0);
	if (n < 0) {
		err = errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out;
	}
	err = vigil_buf_append(reply, msg, (size_t)n);
	nn_freemsg(msg);
out:
	nn_close(sock);
	return err;
}
