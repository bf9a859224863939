/* tls_io.c - what the control channel's TLS server (ctl_tls.c) and client (tls_client.c)
 * share: address parsing, the handshake and framed I/O on non-blocking sockets with
 * deadlines, so that no peer can hold a thread longer than its bound, and OpenSSL's reasons. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "bus_internal.h"

uint64_t bus_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int bus_tls_resolve(const char *address, bool passive, struct addrinfo **out)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = passive ? AI_PASSIVE : 0};
	const char *colon = strrchr(address, ':');
	char host[256];
	size_t hlen;
	int rc;

	if (!colon || !colon[1] || strlen(colon + 1) > 5 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	hlen = (size_t)(colon - address);
	if (hlen >= 2 && address[0] == '[' && address[hlen - 1] == ']') {
		address++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, address, hlen);
	host[hlen] = '\0';
	rc = getaddrinfo(hlen ? host : NULL, colon + 1, &hints, out);
	if (rc)
		return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	return 0;
}

bool vigil_bus_tls_address(const char *address)
{
	const char *colon = address ? strrchr(address, ':') : NULL;

	return colon && !strstr(address, "://") && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1);
}

/* Wait for what OpenSSL said it needs. 0, -ETIMEDOUT, or -errno. */
static int wait_for(int fd, int ssl_err, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
	uint64_t now = bus_now_ms();
	int r;

	if (now >= deadline)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)(deadline - now));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r ? 0 : -ETIMEDOUT;
}

/* What a failed SSL_* call means: 1 to wait and retry, else the error to return. */
static int failure(struct ssl_st *ssl, int rc, int *ssl_err)
{
	*ssl_err = SSL_get_error(ssl, rc);
	switch (*ssl_err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 1;
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	case SSL_ERROR_SYSCALL:
		/* an EOF without close_notify leaves errno alone: say so rather than repeat it */
		return ERR_peek_error() ? -EPROTO : errno && errno != EAGAIN ? -errno : -ECONNRESET;
	default:
		return -EPROTO;
	}
}

void bus_tls_nodelay(int fd)
{
	int one = 1;

	/* requests and replies are small and answered at once: no Nagle wait */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int bus_tls_handshake(struct ssl_st *ssl, int fd, uint64_t deadline)
{
	int rc, ssl_err, err;

	for (;;) {
		errno = 0;
		rc = SSL_do_handshake(ssl);
		if (rc == 1)
			return 0;
		err = failure(ssl, rc, &ssl_err);
		if (err != 1)
			return err;
		err = wait_for(fd, ssl_err, deadline);
		if (err)
			return err;
	}
}

int bus_tls_move(struct ssl_st *ssl, int fd, void *buf, size_t n, bool out, uint64_t deadline)
{
	size_t done = 0;
	int rc, ssl_err, err;

	while (done < n) {
		size_t chunk = n - done > INT32_MAX ? INT32_MAX : n - done;

		errno = 0;
		rc = out ? SSL_write(ssl, (char *)buf + done, (int)chunk) : SSL_read(ssl, (char *)buf + done, (int)chunk);
		if (rc > 0) {
			done += (size_t)rc;
			continue;
		}
		err = failure(ssl, rc, &ssl_err);
		if (err != 1)
			return err;
		err = wait_for(fd, ssl_err, deadline);
		if (err)
			return err;
	}
	return 0;
}

void bus_frame_head(size_t len, unsigned char head[4])
{
	head[0] = (unsigned char)(len >> 24);
	head[1] = (unsigned char)(len >> 16);
	head[2] = (unsigned char)(len >> 8);
	head[3] = (unsigned char)len;
}

int bus_tls_send_frame(struct ssl_st *ssl, int fd, const void *data, size_t len, uint64_t deadline)
{
	unsigned char head[4];
	int err;

	char small[4 + 16384];

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	bus_frame_head(len, head);
	/* one TLS record when it fits: a head and a body written apart wait for the peer's
	 * delayed ACK of the first (40 ms a reply) */
	if (len <= sizeof(small) - 4) {
		memcpy(small, head, 4);
		memcpy(small + 4, data, len);
		return bus_tls_move(ssl, fd, small, len + 4, true, deadline);
	}
	err = bus_tls_move(ssl, fd, head, sizeof(head), true, deadline);
	return err ? err : bus_tls_move(ssl, fd, (void *)data, len, true, deadline);
}

int bus_tls_recv_frame(struct ssl_st *ssl, int fd, struct vigil_buf *out, uint32_t max, uint64_t first_deadline,
		       int rest_ms)
{
	unsigned char head[4];
	uint64_t deadline;
	size_t len;
	int err;

	vigil_buf_reset(out);
	/* the first byte may take until first_deadline (an idle connection), the rest of the
	 * frame only rest_ms: a peer trickling bytes holds its thread for a bounded time */
	err = bus_tls_move(ssl, fd, head, 1, false, first_deadline);
	deadline = bus_now_ms() + (uint64_t)rest_ms;
	if (!err)
		err = bus_tls_move(ssl, fd, head + 1, 3, false, deadline);
	if (err)
		return err;
	len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
	if (len > max)
		return -EMSGSIZE;
	if (len && (!out->data || out->cap < len)) {
		char *p = realloc(out->data, len);

		if (!p)
			return -ENOMEM;
		out->data = p;
		out->cap = len;
	}
	err = len ? bus_tls_move(ssl, fd, out->data, len, false, deadline) : 0;
	if (!err)
		out->len = len;
	return err;
}

void bus_tls_reason(struct ssl_st *ssl, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	if (ssl && verify != X509_V_OK && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(verify));
	else if (reason)
		snprintf(buf, len, "%s", reason);
	else if (e)
		snprintf(buf, len, "OpenSSL error %#lx", e);
	else
		snprintf(buf, len, "connection closed during the TLS exchange");
	ERR_clear_error();
}
