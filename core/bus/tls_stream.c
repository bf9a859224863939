/* tls_stream.c - the event stream behind vigil_sub__open_tls: connect, {"cmd": "subscribe"},
 * then one message a frame; a lost connection is made again after the reconnect interval (as
 * nanomsg does), a refusal ends it. */
#include <errno.h>
#include <nanomsg/nn.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls_client_internal.h"

/* Between tries to reach an agent that is not there (yet): nanomsg's default. */
#define TLS_RECONNECT_MS 100

struct tls_stream {
	struct vigil_tls_client *c;
	char *address;
	struct tls_link link;
	bool connected;
	int reconnect_ms;
	uint32_t max_frame;
	uint64_t next_try;		/* bus_now_ms() of the next connect */
	struct vigil_buf frame;
};

/* Connect and subscribe. 0, -EPROTO when refused for good (the reason in c->error), or
 * another error to retry after reconnect_ms. */
static int stream_open(struct tls_stream *t, uint64_t deadline)
{
	static const char req[] = "\x81\xa3" "cmd" "\xa9" "subscribe";	/* {"cmd": "subscribe"} */
	static const char ok[] = "\x81\xa2" "ok" "\xc3";
	struct vigil_tls_client *c = t->c;
	int err;

	err = bus_tls_link_open(c, t->address, &t->link, deadline);
	if (err)
		return err;
	err = bus_tls_send_frame(t->link.ssl, t->link.fd, req, sizeof(req) - 1, deadline);
	if (!err)
		err = bus_tls_recv_frame(t->link.ssl, t->link.fd, &t->frame, t->max_frame, deadline, 5000);
	if (err) {
		err = bus_tls_io_error(c, &t->link, t->address, err);
	} else if (t->frame.len != sizeof(ok) - 1 || memcmp(t->frame.data, ok, sizeof(ok) - 1)) {
		snprintf(c->error, sizeof(c->error), "%s refused the subscription (%s)", t->address,
			 memmem(t->frame.data, t->frame.len, "permission denied", 17) ?
			 "permission denied: this certificate's names are not in the agent's "
			 "--server-tls-events-names or --server-tls-admin-names" : "not a vigil agent?");
		err = -EPROTO;
	}
	if (err) {
		bus_tls_link_close(&t->link);
		return err;
	}
	t->connected = true;
	return 0;
}

struct vigil_sub *vigil_sub__open_tls(struct vigil_tls_client *c, const char *address, int recv_timeout_ms)
{
	struct tls_stream *t = calloc(1, sizeof(*t));
	struct vigil_sub *s;

	if (!t)
		return NULL;
	t->c = c;
	t->link.fd = -1;
	t->reconnect_ms = TLS_RECONNECT_MS;
	t->max_frame = CTL_MSG_MAX;
	t->address = strdup(address);
	if (!vigil_bus_tls_address(address) || !t->address) {
		errno = t->address ? EINVAL : ENOMEM;
		bus_tls_stream_free(t);
		return NULL;
	}
	s = bus_sub_wrap_tls(t, recv_timeout_ms);
	if (!s)
		bus_tls_stream_free(t);
	return s;
}

void bus_tls_stream_free(struct tls_stream *t)
{
	if (!t)
		return;
	bus_tls_link_close(&t->link);
	vigil_buf_free(&t->frame);
	free(t->address);
	free(t);
}

int bus_tls_stream_set(struct tls_stream *t, enum vigil_sub_option opt, int value)
{
	if (opt == VIGIL_SUB_RECONNECT_MS && value > 0)
		t->reconnect_ms = value;
	else if (opt == VIGIL_SUB_MAX_MESSAGE && value > 0)
		t->max_frame = (uint32_t)value;
	else
		return -EOPNOTSUPP;
	return 0;
}

int bus_tls_stream_recv(struct tls_stream *t, void **data, int timeout_ms)
{
	uint64_t deadline = bus_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	struct pollfd p;
	void *msg;
	int err;

	if (!t->connected) {
		if (bus_now_ms() < t->next_try) {
			usleep((useconds_t)((t->next_try < deadline ? t->next_try : deadline) - bus_now_ms()) * 1000);
			return -ETIMEDOUT;
		}
		t->next_try = bus_now_ms() + (uint64_t)t->reconnect_ms;
		err = stream_open(t, bus_now_ms() + 5000);
		if (err)
			return err == -EPROTO || err == -EINVAL ? -EPROTO : -ETIMEDOUT;
	}
	/* wait for a frame's first bytes up to the receive timeout; then the frame in full */
	p = (struct pollfd){.fd = t->link.fd, .events = POLLIN};
	if (!SSL_pending(t->link.ssl) && poll(&p, 1, timeout_ms) == 0)
		return -ETIMEDOUT;
	err = bus_tls_recv_frame(t->link.ssl, t->link.fd, &t->frame, t->max_frame, bus_now_ms() + 5000, 5000);
	if (err) {
		bus_tls_io_error(t->c, &t->link, t->address, err);
		/* lost: connect again (nanomsg's behaviour), with the hole shown by the stamps */
		bus_tls_link_close(&t->link);
		t->connected = false;
		t->next_try = bus_now_ms() + (uint64_t)t->reconnect_ms;
		return -ETIMEDOUT;
	}
	msg = nn_allocmsg(t->frame.len ? t->frame.len : 1, 0);
	if (!msg)
		return -ENOMEM;
	memcpy(msg, t->frame.data, t->frame.len);
	*data = msg;
	return (int)t->frame.len;
}
