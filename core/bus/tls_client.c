/* tls_client.c - the client side of the control channel over mutual TLS (tetra's
 * --server-address HOST:PORT with --tls-*): one identity (CA bundles, certificate, the name
 * the server must carry), a connection, and requests; the event stream is tls_stream.c. The
 * server's certificate is verified against the CAs and the server name (host or IP), as
 * tetra does, unless skip_verify was asked for. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_client_internal.h"

static void set_error(struct vigil_tls_client *c, const char *fmt, const char *what)
{
	snprintf(c->error, sizeof(c->error), fmt, what);
}

static int load_cas(SSL_CTX *ctx, const char *list, char *why, size_t why_len)
{
	char *files = strdup(list), *save = NULL, *f;
	int err = files ? 0 : -ENOMEM;

	for (f = files ? strtok_r(files, ",", &save) : NULL; f && !err; f = strtok_r(NULL, ",", &save)) {
		if (SSL_CTX_load_verify_locations(ctx, f, NULL) != 1) {
			bus_tls_reason(NULL, why, why_len);
			snprintf(why + strlen(why), why_len - strlen(why), " (CA file %s)", f);
			err = -EINVAL;
		}
	}
	free(files);
	return err;
}

struct vigil_tls_client *vigil_tls_client__new(const struct vigil_tls_client_opts *opts, char *why, size_t why_len)
{
	struct vigil_tls_client_opts o = {0};
	struct vigil_tls_client *c = calloc(1, sizeof(*c));
	char scratch[256];
	int err = -ENOMEM;

	if (!why) {
		why = scratch;
		why_len = sizeof(scratch);
	}
	snprintf(why, why_len, "out of memory");
	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (!c)
		goto err_out;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		goto err_out;
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	c->skip_verify = o.skip_verify;
	SSL_CTX_set_verify(c->ctx, o.skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	if (!!o.cert_file != !!o.key_file) {
		snprintf(why, why_len, "--tls-cert-file and --tls-key-file go together");
		err = -EINVAL;
		goto err_out;
	}
	if (o.cert_file && (SSL_CTX_use_certificate_chain_file(c->ctx, o.cert_file) != 1 ||
			    SSL_CTX_use_PrivateKey_file(c->ctx, o.key_file, SSL_FILETYPE_PEM) != 1 ||
			    SSL_CTX_check_private_key(c->ctx) != 1)) {
		bus_tls_reason(NULL, why, why_len);
		snprintf(why + strlen(why), why_len - strlen(why), " (%s, %s)", o.cert_file, o.key_file);
		err = -EINVAL;
		goto err_out;
	}
	err = o.ca_files ? load_cas(c->ctx, o.ca_files, why, why_len) :
	      SSL_CTX_set_default_verify_paths(c->ctx) == 1 ? 0 : -EINVAL;
	if (err)
		goto err_out;
	if (o.server_name && !(c->server_name = strdup(o.server_name))) {
		err = -ENOMEM;
		goto err_out;
	}
	why[0] = '\0';
	return c;

err_out:
	vigil_tls_client__free(c);
	errno = -err;
	return NULL;
}

void vigil_tls_client__free(struct vigil_tls_client *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c->server_name);
	free(c);
}

const char *vigil_tls_client__error(const struct vigil_tls_client *c)
{
	return c ? c->error : "";
}

void bus_tls_link_close(struct tls_link *l)
{
	if (l->ssl) {
		SSL_shutdown(l->ssl);
		SSL_free(l->ssl);
	}
	if (l->fd >= 0)
		close(l->fd);
	l->ssl = NULL;
	l->fd = -1;
	ERR_clear_error();
}

/* A non-blocking connect to the first address that answers, before deadline. */
static int tcp_connect(struct vigil_tls_client *c, const char *address, uint64_t deadline)
{
	struct addrinfo *ai = NULL, *a;
	int fd = -1, err;

	err = bus_tls_resolve(address, false, &ai);
	if (err) {
		set_error(c, "cannot resolve %s (HOST:PORT or [V6]:PORT)", address);
		return err;
	}
	for (a = ai, err = -ECONNREFUSED; a && err; a = a->ai_next) {
		struct pollfd p = {.events = POLLOUT};
		socklen_t len = sizeof(err);
		uint64_t now = bus_now_ms();

		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		p.fd = fd;
		err = connect(fd, a->ai_addr, a->ai_addrlen) ? -errno : 0;
		if (err == -EINPROGRESS) {
			err = poll(&p, 1, now < deadline ? (int)(deadline - now) : 0) == 1 ? 0 : -ETIMEDOUT;
			if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
				err = errno;
			err = err > 0 ? -err : err;
		}
		if (err) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (!err)
		bus_tls_nodelay(fd);
	if (err)
		snprintf(c->error, sizeof(c->error), "cannot connect to %s: %s", address, strerror(-err));
	return err ? err : fd;
}

/* The host of HOST:PORT / [V6]:PORT into out. */
static void host_of(const char *address, char *out, size_t len)
{
	const char *colon = strrchr(address, ':');
	size_t n = colon ? (size_t)(colon - address) : strlen(address);

	if (n >= 2 && address[0] == '[' && address[n - 1] == ']') {
		address++;
		n -= 2;
	}
	snprintf(out, len, "%.*s", (int)n, address);
}

/* Connect and shake hands: the server's certificate must chain to our CAs and carry the
 * server name (a DNS name, or an IP address in an IP subjectAltName). */
int bus_tls_link_open(struct vigil_tls_client *c, const char *address, struct tls_link *l, uint64_t deadline)
{
	unsigned char ip[16];
	char name[256], why[200];
	const char *want = c->server_name;
	bool is_ip;
	int err;

	l->ssl = NULL;
	l->fd = tcp_connect(c, address, deadline);
	if (l->fd < 0)
		return l->fd;
	if (!want) {
		host_of(address, name, sizeof(name));
		want = name;
	}
	/* an empty name would switch the name check off (":PORT"): refuse it instead */
	if (!*want && !c->skip_verify) {
		bus_tls_link_close(l);
		set_error(c, "%.200s names no host: give --tls-server-name", address);
		return -EINVAL;
	}
	is_ip = inet_pton(AF_INET, want, ip) == 1 || inet_pton(AF_INET6, want, ip) == 1;
	l->ssl = SSL_new(c->ctx);
	if (!l->ssl || SSL_set_fd(l->ssl, l->fd) != 1) {
		bus_tls_link_close(l);
		return -ENOMEM;
	}
	SSL_set_connect_state(l->ssl);
	if (!is_ip)
		SSL_set_tlsext_host_name(l->ssl, want);	/* SNI */
	if (!c->skip_verify && !(is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(l->ssl), want)
				       : X509_VERIFY_PARAM_set1_host(SSL_get0_param(l->ssl), want, 0))) {
		bus_tls_link_close(l);
		set_error(c, "invalid server name '%.200s'", want);
		return -EINVAL;
	}
	err = bus_tls_handshake(l->ssl, l->fd, deadline);
	if (err) {
		bus_tls_reason(l->ssl, why, sizeof(why));
		snprintf(c->error, sizeof(c->error), "TLS handshake with %.64s (as '%.64s') failed: %.100s", address, want,
			 err == -ETIMEDOUT ? "timed out" : err == -EPROTO ? why : strerror(-err));
		bus_tls_link_close(l);
	}
	return err;
}

/* After the handshake, a server that refused our certificate says so with an alert on the
 * first read (TLS 1.3 ends the client's handshake first): name it. */
int bus_tls_io_error(struct vigil_tls_client *c, struct tls_link *l, const char *address, int err)
{
	char why[200];

	if (err == -EPROTO) {
		bus_tls_reason(l->ssl, why, sizeof(why));
		snprintf(c->error, sizeof(c->error), "%.64s refused us: %.170s", address, why);
	} else {
		snprintf(c->error, sizeof(c->error), "%s: %s", address,
			 err == -ECONNRESET ? "connection closed by the agent" : strerror(-err));
	}
	/* a reset after our request is the server dropping a connection it refused */
	return err == -ECONNRESET ? -EPROTO : err;
}

int vigil_tls_client__request(struct vigil_tls_client *c, const char *address, const void *req, size_t req_len,
			      struct vigil_buf *reply, int timeout_ms)
{
	uint64_t deadline = bus_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	struct vigil_buf frame = {0};
	struct tls_link l = {.fd = -1};
	int err;

	c->error[0] = '\0';
	err = bus_tls_link_open(c, address, &l, deadline);
	if (err)
		return err;
	err = bus_tls_send_frame(l.ssl, l.fd, req, req_len, deadline);
	/* a server that refused our certificate may have said so and closed before our request
	 * went out: its alert is still there to read */
	if (!err || err == -EPIPE || err == -ECONNRESET)
		err = bus_tls_recv_frame(l.ssl, l.fd, &frame, CTL_MSG_MAX, deadline, timeout_ms);
	if (err)
		err = bus_tls_io_error(c, &l, address, err);
	else
		err = vigil_buf_append(reply, frame.data ? frame.data : "", frame.len);
	bus_tls_link_close(&l);
	vigil_buf_free(&frame);
	return err;
}
