/* ctl_nn.c - the control channel over tcp://: nanomsg NN_REP / NN_REQ. TCP carries no
 * credentials, so every tcp:// peer is read-only, and the server binds loopback only. */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <string.h>

#include "bus_internal.h"

/* "tcp://127.0.0.1:5555", "tcp://[::1]:5555", "tcp://localhost:5555". nanomsg also takes
 * a wildcard host ("*") and interface names: those reach beyond this host and are refused. */
static bool loopback_url(const char *url)
{
	static const char *const hosts[] = {"tcp://127.", "tcp://[::1]:", "tcp://localhost:"};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(hosts); i++)
		if (!strncmp(url, hosts[i], strlen(hosts[i])))
			return true;
	return false;
}

static void *serve(void *arg)
{
	struct vigil_ctl_server *s = arg;
	struct vigil_ctl_peer peer = {.access = VIGIL_CTL_READ, .local = false};
	struct vigil_buf reply = {0};

	while (!atomic_load(&s->stop)) {
		void *req = NULL;
		int n = nn_recv(s->sock, &req, NN_MSG, 0);

		if (n < 0) {
			if (errno == EBADF || errno == ETERM)
				break;
			continue;	/* EAGAIN: the poll interval passed; EINTR */
		}
		bus_ctl_answer(s, &peer, req, (size_t)n, &reply);
		nn_freemsg(req);
		nn_send(s->sock, reply.data ? reply.data : "", reply.len, 0);
	}
	vigil_buf_free(&reply);
	return NULL;
}

int bus_ctl_nn_open(struct vigil_ctl_server *s)
{
	int timeout = CTL_POLL_MS;
	int err;

	if (!loopback_url(s->url)) {
		pr_warn("control: refusing %s: a tcp:// control socket carries no credentials and must bind "
			"127.x.x.x, [::1] or localhost (use ipc:// for root and --control-group access)", s->url);
		return -EINVAL;
	}
	s->sock = nn_socket(AF_SP, NN_REP);
	if (s->sock < 0)
		return -errno;
	nn_setsockopt(s->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout));
	if (nn_bind(s->sock, s->url) < 0) {
		err = -errno;
		pr_warn("control: cannot bind %s: %s", s->url, nn_strerror(errno));
		return err;
	}
	err = -pthread_create(&s->thread, NULL, serve, s);
	if (!err)
		s->thread_started = true;
	return err;
}

void bus_ctl_nn_close(struct vigil_ctl_server *s)
{
	if (s->sock >= 0)
		nn_close(s->sock);
	s->sock = -1;
}

int bus_ctl_nn_request(const char *url, const void *req, size_t req_len, struct vigil_buf *reply, int timeout_ms)
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
