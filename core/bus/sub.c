/* sub.c - a subscriber to the event bus, counting from the delivery stamps what it
 * missed (seqtrack.c): on our own SP reader (sub_sp.c) for ipc:// and tcp://, over
 * nanomsg for its other transports (inproc://), or over a TLS stream (tls_client.c). */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdlib.h>

#include "bus.h"
#include "bus_internal.h"

struct vigil_sub {
	int sock;			/* nanomsg's, when neither sp nor tls */
	struct sub_sp *sp;
	struct tls_stream *tls;		/* vigil_sub__open_tls: read this instead of sock */
	int recv_timeout_ms;
	struct vigil_delivery seen;
	vigil_gap_fn on_gap;
	void *on_gap_ctx;
};

struct vigil_sub *vigil_sub__open(const char *url, int recv_timeout_ms)
{
	struct vigil_sub *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->sock = -1;
	s->recv_timeout_ms = recv_timeout_ms;
	s->sp = sub_sp_open(url);
	if (s->sp)
		return s;
	if (errno != EPROTONOSUPPORT) {
		err = -errno;
		goto err_out;
	}
	s->sock = nn_socket(AF_SP, NN_SUB);
	if (s->sock < 0) {
		err = -errno;
		goto err_out;
	}
	if (nn_setsockopt(s->sock, NN_SUB, NN_SUB_SUBSCRIBE, "", 0) < 0 ||
	    nn_setsockopt(s->sock, NN_SOL_SOCKET, NN_RCVTIMEO, &recv_timeout_ms, sizeof(recv_timeout_ms)) < 0) {
		err = -errno;
		goto err_out;
	}
	if (nn_connect(s->sock, url) < 0) {
		err = -errno;
		pr_warn("bus: cannot connect to %s: %s", url, nn_strerror(errno));
		goto err_out;
	}
	return s;

err_out:
	vigil_sub__close(s);
	errno = -err;
	return NULL;
}

struct vigil_sub *bus_sub_wrap_tls(struct tls_stream *t, int recv_timeout_ms)
{
	struct vigil_sub *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->sock = -1;
	s->tls = t;
	s->recv_timeout_ms = recv_timeout_ms;
	return s;
}

/* One message from the transport: its length, or -errno (-ETIMEDOUT for none). */
static int take(struct vigil_sub *s, void **msg)
{
	int n;

	if (s->sp)
		return sub_sp_recv(s->sp, msg, s->recv_timeout_ms);
	if (s->tls)
		return bus_tls_stream_recv(s->tls, msg, s->recv_timeout_ms);
	n = nn_recv(s->sock, msg, NN_MSG, 0);
	return n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : n;
}

int vigil_sub__recv(struct vigil_sub *s, void **data)
{
	void *msg = NULL;
	int n = take(s, &msg);

	uint64_t first = 0, last = 0;

	if (n < 0)
		return n;
	if (bus_seqtrack_note(&s->seen, msg, (size_t)n, &first, &last) && s->on_gap)
		s->on_gap(s->on_gap_ctx, s->seen.incarnation, first, last);
	*data = msg;
	return n;
}

int vigil_sub__take(struct vigil_sub *s, void **data)
{
	void *msg = NULL;
	int n = take(s, &msg);

	if (n < 0)
		return n;
	*data = msg;
	return n;
}

void vigil_sub__note(struct vigil_sub *s, const void *data, size_t len, const struct vigil_msgpack_tail *tail)
{
	uint64_t inc = 0, seq = 0, first = 0, last = 0;
	int err;

	if (!tail) {
		if (bus_seqtrack_note(&s->seen, data, len, &first, &last) && s->on_gap)
			s->on_gap(s->on_gap_ctx, s->seen.incarnation, first, last);
		return;
	}
	err = vigil_bus_stamp_from_tail(data, tail, &inc, &seq);
	if (bus_seqtrack_stamp(&s->seen, err, inc, seq, &first, &last) && s->on_gap)
		s->on_gap(s->on_gap_ctx, s->seen.incarnation, first, last);
}

void vigil_sub__delivery(const struct vigil_sub *s, struct vigil_delivery *out)
{
	*out = s->seen;
}

uint64_t vigil_sub__missed(const struct vigil_sub *s)
{
	return s->seen.missed;
}

uint64_t vigil_sub__restarts(const struct vigil_sub *s)
{
	return s->seen.restarts;
}

void vigil_sub__on_gap(struct vigil_sub *s, vigil_gap_fn fn, void *ctx)
{
	s->on_gap = fn;
	s->on_gap_ctx = ctx;
}

int vigil_sub__set(struct vigil_sub *s, enum vigil_sub_option opt, int value)
{
	static const int nn_option[] = {
		[VIGIL_SUB_RECV_BUFFER] = NN_RCVBUF,
		[VIGIL_SUB_MAX_MESSAGE] = NN_RCVMAXSIZE,
		[VIGIL_SUB_RECONNECT_MS] = NN_RECONNECT_IVL,
	};

	if ((unsigned int)opt >= VIGIL_ARRAY_SIZE(nn_option))
		return -EINVAL;
	if (s->sp)
		return sub_sp_set(s->sp, opt, value);
	if (s->tls)
		return bus_tls_stream_set(s->tls, opt, value);
	return nn_setsockopt(s->sock, NN_SOL_SOCKET, nn_option[opt], &value, sizeof(value)) < 0 ? -errno : 0;
}

int vigil_sub__wait(struct vigil_sub *s, int timeout_ms)
{
	struct nn_pollfd pfd = { .fd = s->sock, .events = NN_POLLIN };
	int n;

	if (s->sp)
		return sub_sp_wait(s->sp, timeout_ms);
	if (s->tls)
		return -EOPNOTSUPP;
	n = nn_poll(&pfd, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n > 0 && (pfd.revents & NN_POLLIN) ? 1 : 0;
}

int vigil_sub__fd(const struct vigil_sub *s)
{
	int fd = -1;
	size_t sz = sizeof(fd);

	if (s->sp)
		return sub_sp_fd(s->sp);
	if (s->tls)
		return -EOPNOTSUPP;
	return nn_getsockopt(s->sock, NN_SOL_SOCKET, NN_RCVFD, &fd, &sz) < 0 ? -errno : fd;
}

void vigil_sub__close(struct vigil_sub *s)
{
	if (!s)
		return;
	if (s->sock >= 0)
		nn_close(s->sock);
	sub_sp_close(s->sp);
	bus_tls_stream_free(s->tls);
	free(s);
}

void vigil_bus_msg_free(void *data)
{
	if (data)
		nn_freemsg(data);
}
