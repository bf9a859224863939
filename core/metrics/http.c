/* http.c - GET /metrics over HTTP with libmicrohttpd on a thread of its own. The listening
 * socket is made here, so a taken port or a bad address fails with its own errno. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics_internal.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
	struct MHD_Daemon *daemon;
	int port;
	bool loopback;		/* bound to a loopback address */
};

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size,
			      void **con_cls)
{
	struct vigil_metrics *m = cls;
	struct vigil_buf text = {0};
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (strcmp(url, "/metrics"))
		return reply_text(c, MHD_HTTP_NOT_FOUND, "vigil: metrics are at /metrics\n");
	if (vigil_metrics__render(m, &text) || !text.data) {
		vigil_buf_free(&text);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	/* the buffer is malloc'd: libmicrohttpd frees it with the response */
	r = MHD_create_response_from_buffer(text.len, text.data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		vigil_buf_free(&text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	pr_debug("metrics: http: %s", msg);
}

/* Whether the bound address is reachable from this host only: 127/8, ::1, or 127/8
 * mapped into IPv6. Anything else (0.0.0.0, ::, an interface) is seen from the network. */
static bool loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr) && a6->sin6_addr.s6_addr[12] == 127;
}

/* ":2112" -> 127.0.0.1:2112; "HOST:PORT"; "[V6]:PORT". */
static int listen_on(const char *addr, int *port_out, bool *loopback_out)
{
	char host[256], port[16];
	const char *colon;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	long p;
	int fd = -1, one = 1, err;

	if (addr[0] == '[') {
		colon = strstr(addr, "]:");
		if (!colon || (size_t)(colon - addr - 1) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr - 1), addr + 1);
		colon++;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	}
	if (vigil_parse_long(colon + 1, 0, 65535, &p))
		return -EINVAL;
	snprintf(port, sizeof(port), "%ld", p);
	if (!host[0])
		snprintf(host, sizeof(host), "127.0.0.1");	/* never all interfaces by surprise */
	err = getaddrinfo(host, port, &hints, &res);
	if (err)
		return err == EAI_SYSTEM ? -errno : -EINVAL;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 32) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		err = -errno;
		goto out;
	}
	*loopback_out = loopback(&ss);
	*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	err = 0;
out:
	freeaddrinfo(res);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

struct metrics_http *metrics_http_start(struct vigil_metrics *m, const char *addr)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	int fd, err;

	if (!h)
		return NULL;
	fd = listen_on(addr, &h->port, &h->loopback);
	if (fd < 0) {
		err = fd;
		pr_warn("metrics: cannot listen on %s: %s", addr, err == -EINVAL ? "bad address" : strerror(-err));
		goto err_out;
	}
	err = metrics_listening_on(m, addr, h->loopback);
	if (err) {
		close(fd);
		goto err_out;
	}
	/* epoll: the agent holds many BPF fds, past select's FD_SETSIZE */
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, m,
				     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 64u,
				     MHD_OPTION_END);
	if (!h->daemon) {
		close(fd);
		err = -EIO;
		pr_warn("metrics: cannot start the HTTP server on %s", addr);
		goto err_out;
	}
	return h;

err_out:
	free(h);
	errno = -err;
	return NULL;
}

int metrics_http_port(const struct metrics_http *h)
{
	return h ? h->port : 0;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->daemon)
		MHD_stop_daemon(h->daemon);	/* closes the listening socket */
	free(h);
}
