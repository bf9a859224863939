/* grpc.c - one unary gRPC call: HTTP/2 (nghttp2) over a unix socket, blocking, with a
 * deadline. A gRPC message is a 5-byte prefix (compressed flag, big-endian length) and the
 * protobuf bytes; the status comes in the trailers (grpc-status, grpc-message). */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "containers_internal.h"

#define WINDOW (16u << 20)

struct call {
	int fd;
	uint64_t deadline_ms;
	const uint8_t *req;		/* prefix + message, sent by read_req */
	size_t req_len, req_off;
	struct vigil_buf *resp;		/* the raw DATA: prefix + message */
	size_t resp_start;
	int32_t stream;
	bool closed;
	uint32_t h2_error;
	int grpc_status;		/* -1 until the trailers say */
	char grpc_message[160];
	int err;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int wait_fd(struct call *c, short events)
{
	struct pollfd p = { c->fd, events, 0 };
	uint64_t now = now_ms();
	int n;

	if (now >= c->deadline_ms)
		return -ETIMEDOUT;
	n = poll(&p, 1, (int)(c->deadline_ms - now));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user)
{
	struct call *c = user;
	ssize_t n;

	n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return NGHTTP2_ERR_WOULDBLOCK;
	if (n < 0) {
		c->err = -errno;
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return n;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
		     const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
	struct call *c = user;

	if (frame->hd.stream_id != c->stream)
		return 0;
	if (namelen == 11 && !memcmp(name, "grpc-status", 11)) {
		char v[16];

		snprintf(v, sizeof(v), "%.*s", (int)(valuelen < 15 ? valuelen : 15), (const char *)value);
		c->grpc_status = atoi(v);
	} else if (namelen == 12 && !memcmp(name, "grpc-message", 12)) {
		snprintf(c->grpc_message, sizeof(c->grpc_message), "%.*s", (int)valuelen, (const char *)value);
	}
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data, size_t len, void *user)
{
	struct call *c = user;

	if (stream != c->stream)
		return 0;
	if (c->resp->len - c->resp_start + len > CRI_GRPC_MAX_RESPONSE + 5) {
		c->err = -EMSGSIZE;
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	if (vigil_buf_append(c->resp, data, len)) {
		c->err = -ENOMEM;
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int on_close(nghttp2_session *s, int32_t stream, uint32_t error_code, void *user)
{
	struct call *c = user;

	if (stream == c->stream) {
		c->closed = true;
		c->h2_error = error_code;
	}
	return 0;
}

static ssize_t read_req(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t len, uint32_t *flags,
			nghttp2_data_source *src, void *user)
{
	struct call *c = user;
	size_t n = c->req_len - c->req_off;

	if (n > len)
		n = len;
	memcpy(buf, c->req + c->req_off, n);
	c->req_off += n;
	if (c->req_off == c->req_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

#define HDR(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/* Send what nghttp2 has, read what comes, until the stream closes. */
static int pump(nghttp2_session *s, struct call *c)
{
	uint8_t buf[16384];
	ssize_t n;
	int err;

	while (!c->closed) {
		if (nghttp2_session_send(s))
			return c->err ? c->err : -EPROTO;
		if (c->closed)
			break;
		err = wait_fd(c, nghttp2_session_want_write(s) ? POLLIN | POLLOUT : POLLIN);
		if (err)
			return err;
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		if (nghttp2_session_mem_recv(s, buf, (size_t)n) < 0)
			return c->err ? c->err : -EPROTO;
	}
	return 0;
}

/* An HTTP/2 client session whose callbacks fill c; *cb is freed by the caller. 0 or -ENOMEM. */
static int new_session(struct call *c, nghttp2_session_callbacks **cb, nghttp2_session **s)
{
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, WINDOW },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};

	if (nghttp2_session_callbacks_new(cb))
		return -ENOMEM;
	nghttp2_session_callbacks_set_send_callback(*cb, on_send);
	nghttp2_session_callbacks_set_on_header_callback(*cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(*cb, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(*cb, on_close);
	if (nghttp2_session_client_new(s, *cb, c))
		return -ENOMEM;
	nghttp2_submit_settings(*s, NGHTTP2_FLAG_NONE, settings, VIGIL_ARRAY_SIZE(settings));
	nghttp2_session_set_local_window_size(*s, NGHTTP2_FLAG_NONE, 0, WINDOW);
	return 0;
}

/* The reply from start on is one gRPC message: drop its 5-byte prefix. A compressed one we
 * never asked for, or any other length, is -EPROTO. */
static int unframe(struct vigil_buf *resp, size_t start, const char *method, char *err, size_t err_size)
{
	const uint8_t *p = (const uint8_t *)resp->data + start;
	size_t mlen = resp->len - start;

	if (mlen < 5 || p[0] != 0 || ((size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4]) != mlen - 5) {
		snprintf(err, err_size, "%s: not one uncompressed gRPC message (%zu bytes)", method, mlen);
		return -EPROTO;
	}
	memmove(resp->data + start, resp->data + start + 5, mlen - 5);
	resp->len -= 5;
	resp->data[resp->len] = '\0';
	return 0;
}

int cri_grpc_call(const char *path, const char *method, const void *req, size_t req_len, struct vigil_buf *resp,
		  int timeout_ms, char *err, size_t err_size)
{
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_session *s = NULL;
	struct vigil_buf framed = { 0 };
	struct call c = { .fd = -1, .grpc_status = -1, .resp = resp, .resp_start = resp->len };
	nghttp2_data_provider dp = { .read_callback = read_req };
	uint8_t prefix[5] = { 0, (uint8_t)(req_len >> 24), (uint8_t)(req_len >> 16), (uint8_t)(req_len >> 8),
			      (uint8_t)req_len };
	nghttp2_nv hdrs[] = {
		HDR(":method", "POST"), HDR(":scheme", "http"), HDR(":authority", "localhost"), HDR(":path", method),
		HDR("content-type", "application/grpc"), HDR("te", "trailers"),
	};
	int ret;

	err[0] = '\0';
	c.deadline_ms = now_ms() + (uint64_t)timeout_ms;
	if (vigil_buf_append(&framed, prefix, sizeof(prefix)) || vigil_buf_append(&framed, req, req_len)) {
		ret = -ENOMEM;
		goto out;
	}
	c.req = (const uint8_t *)framed.data;
	c.req_len = framed.len;
	c.fd = connect_unix(path);
	if (c.fd < 0) {
		ret = c.fd;
		snprintf(err, err_size, "connect %s: %s", path, strerror(-ret));
		goto out;
	}
	ret = new_session(&c, &cb, &s);
	if (ret)
		goto out;
	c.stream = nghttp2_submit_request(s, NULL, hdrs, VIGIL_ARRAY_SIZE(hdrs), &dp, NULL);
	if (c.stream < 0) {
		ret = -EPROTO;
		goto out;
	}
	ret = pump(s, &c);
	if (ret) {
		snprintf(err, err_size, "%s: %s", method, ret == -EPROTO ? "HTTP/2 error" : strerror(-ret));
		goto out;
	}
	if (c.h2_error || c.grpc_status != 0) {
		ret = -EPROTO;
		snprintf(err, err_size, "%s: grpc-status %d%s%s (HTTP/2 error %u)", method, c.grpc_status,
			 c.grpc_message[0] ? ": " : "", c.grpc_message, c.h2_error);
		goto out;
	}
	ret = unframe(resp, c.resp_start, method, err, err_size);
out:
	if (ret)
		resp->len = c.resp_start;
	nghttp2_session_del(s);
	nghttp2_session_callbacks_del(cb);
	if (c.fd >= 0)
		close(c.fd);
	vigil_buf_free(&framed);
	return ret;
}
