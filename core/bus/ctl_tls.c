/* ctl_tls.c - the control channel's network listener: mutual TLS over TCP (tetra's
 * --server-address HOST:PORT with --server-tls-*). A thread accepts; each connection gets a
 * thread of its own (ctl_tls_conn.c, at most max_conns), so that a peer that stalls holds up
 * only itself. The handler is the local socket's (bus_ctl_answer), with the rights the
 * client certificate's names earn (ctl_tls_names.c). */
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_tls_internal.h"

static void describe(const struct sockaddr_storage *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	getnameinfo((const struct sockaddr *)sa, sizeof(*sa), host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(out, len, "%s:%s", host, port);
}

/* A thread for fd, or a close when max_conns are open (counted as busy). */
static void dispatch(struct ctl_tls *t, int fd, const struct sockaddr_storage *sa)
{
	struct tls_conn *c = NULL;
	pthread_attr_t attr;
	bool busy;

	pthread_mutex_lock(&t->lock);
	busy = t->conns >= t->max_conns;
	if (!busy)
		t->conns++;
	pthread_mutex_unlock(&t->lock);
	if (!busy) {
		c = calloc(1, sizeof(*c));
		if (c) {
			*c = (struct tls_conn){.t = t, .fd = fd, .peer = {.access = VIGIL_CTL_DENIED, .pid = -1}};
			c->peer.uid = c->peer.gid = (uint32_t)-1;
			describe(sa, c->from, sizeof(c->from));
			bus_tls_rate_key(c, sa);
			pthread_attr_init(&attr);
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
			busy = !!pthread_create(&(pthread_t){0}, &attr, bus_tls_serve_conn, c);
			pthread_attr_destroy(&attr);
			if (!busy)
				return;
		}
		free(c);
		pthread_mutex_lock(&t->lock);
		t->conns--;
		pthread_mutex_unlock(&t->lock);
	}
	atomic_fetch_add(&t->busy, 1);
	close(fd);
}

static void *serve(void *arg)
{
	struct ctl_tls *t = arg;
	struct pollfd p = {.fd = t->fd, .events = POLLIN};
	struct sockaddr_storage sa;
	socklen_t len;
	int fd;

	while (!atomic_load(&t->stop)) {
		if (poll(&p, 1, CTL_POLL_MS) <= 0)
			continue;
		len = sizeof(sa);
		fd = accept4(t->fd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			/* out of descriptors (EMFILE) would wake poll at once again: no busy loop */
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				usleep(CTL_POLL_MS * 1000 / 4);
			continue;
		}
		atomic_fetch_add(&t->accepted, 1);
		if (!bus_tls_rate_connect(t, &sa)) {
			close(fd);		/* before the handshake, which is what costs */
			continue;
		}
		bus_tls_nodelay(fd);
		dispatch(t, fd, &sa);
	}
	return NULL;
}

/* ---- setup ---- */

/* The server's certificate and key, and the client CAs, into ctx. 0, -ENOMEM, or -EINVAL
 * (logged with the reason). */
static int load_files(SSL_CTX *ctx, const struct ctl_tls *t)
{
	char *files = strdup(t->client_ca_files), *save = NULL, *f;
	STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
	char why[160];
	int err = 0, n = 0;

	if (!files || !names) {
		err = -ENOMEM;
		goto out;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		bus_tls_reason(NULL, why, sizeof(why));
		pr_warn("control tls: cannot use %s and %s: %s", t->cert_file, t->key_file, why);
		err = -EINVAL;
		goto out;
	}
	for (f = strtok_r(files, ",", &save); f; f = strtok_r(NULL, ",", &save), n++) {
		if (SSL_CTX_load_verify_locations(ctx, f, NULL) != 1 ||
		    SSL_add_file_cert_subjects_to_stack(names, f) != 1) {
			bus_tls_reason(NULL, why, sizeof(why));
			pr_warn("control tls: cannot load the client CA file %s: %s", f, why);
			err = -EINVAL;
			goto out;
		}
	}
	if (!n) {
		err = -EINVAL;
		goto out;
	}
	/* the CAs' names go to clients, which pick a matching certificate */
	SSL_CTX_set_client_CA_list(ctx, names);
	names = NULL;
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	free(files);
	return err;
}

/* A server context from t's files; NULL with *err set. */
static SSL_CTX *make_ctx(const struct ctl_tls *t, int *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		*err = -ENOMEM;
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	/* mutual TLS, always: no certificate, or one no client CA signed, ends the handshake */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* no session tickets: each connection proves its certificate afresh */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	*err = load_files(ctx, t);
	if (*err) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Certificates are renewed (cert-manager, an ACME client) while the agent runs: the files are
 * read again into a new context, which the next handshakes use; open connections keep the one
 * they began with (SSL_new holds a reference). Files that do not load leave the old context
 * serving, and say why in the log. */
int vigil_ctl_server__tls_reload(struct vigil_ctl_server *s)
{
	struct ctl_tls *t = s ? s->tls : NULL;
	SSL_CTX *ctx, *old;
	int err;

	if (!t)
		return -ENOENT;
	ctx = make_ctx(t, &err);
	if (!ctx) {
		atomic_fetch_add(&t->reload_failed, 1);
		pr_warn("control tls: reload failed: the certificates loaded before still serve");
		return err;
	}
	pthread_mutex_lock(&t->lock);
	old = t->ctx;
	t->ctx = ctx;
	pthread_mutex_unlock(&t->lock);
	SSL_CTX_free(old);
	atomic_fetch_add(&t->reloads, 1);
	pr_info("control tls: certificate %s, key and client CAs read again", t->cert_file);
	return 0;
}

static int bind_address(struct ctl_tls *t)
{
	struct addrinfo *ai = NULL;
	int err, one = 1;

	err = bus_tls_resolve(t->address, true, &ai);
	if (err) {
		pr_warn("control tls: cannot resolve %s (HOST:PORT, [V6]:PORT or :PORT)", t->address);
		return err;
	}
	t->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (t->fd < 0) {
		err = -errno;
		goto out;
	}
	setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t->fd, ai->ai_addr, ai->ai_addrlen) || listen(t->fd, 64)) {
		err = -errno;
		pr_warn("control tls: cannot listen on %s: %s", t->address, strerror(-err));
	}
out:
	freeaddrinfo(ai);
	return err;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int vigil_ctl_server__listen_tls(struct vigil_ctl_server *s, const struct vigil_ctl_tls_opts *opts)
{
	struct vigil_ctl_tls_opts o = {0};
	struct ctl_tls *t;
	int err;

	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (s->tls)
		return -EALREADY;
	if (!o.address || !o.cert_file || !o.key_file || !o.client_ca_files || !*o.client_ca_files) {
		pr_warn("control tls: a TCP listener needs TLS with client certificates: --server-tls-cert-file, "
			"--server-tls-key-file and --server-tls-client-ca-files");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->s = s;
	t->fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->done, NULL);
	pthread_mutex_init(&t->rate_lock, NULL);
	s->tls = t;
	t->rate = o.client_rate == VIGIL_CTL_TLS_RATE_OFF ? 0 : o.client_rate ? o.client_rate : VIGIL_CTL_TLS_CLIENT_RATE;
	t->max_conns = o.max_conns ? o.max_conns : VIGIL_CTL_TLS_MAX_CONNS;
	t->handshake_ms = o.handshake_ms > 0 ? o.handshake_ms : VIGIL_CTL_TLS_HANDSHAKE_MS;
	t->max_frame = o.max_frame ? o.max_frame : VIGIL_CTL_TLS_MAX_FRAME;
	t->address = strdup(o.address);
	t->admin_names = dup_or_null(o.admin_names);
	t->events_names = dup_or_null(o.events_names);
	t->events_url = strdup(o.events_url ? o.events_url : VIGIL_BUS_DEFAULT_EVENTS);
	t->cert_file = strdup(o.cert_file);
	t->key_file = strdup(o.key_file);
	t->client_ca_files = strdup(o.client_ca_files);
	err = t->address && t->events_url && t->cert_file && t->key_file && t->client_ca_files ? 0 : -ENOMEM;
	if (!err)
		t->ctx = make_ctx(t, &err);
	if (!err)
		err = bind_address(t);
	if (!err)
		err = -pthread_create(&t->thread, NULL, serve, t);
	if (err) {
		bus_ctl_tls_close(s);
		return err;
	}
	t->thread_started = true;
	pr_info("control tls: listening on %s (mutual TLS; admin names: %s; events names: %s)", t->address,
		t->admin_names ? t->admin_names : "none", t->events_names ? t->events_names : "none");
	return 0;
}

void vigil_ctl_server__tls_stats(const struct vigil_ctl_server *s, struct vigil_ctl_tls_stats *out)
{
	struct ctl_tls *t = s ? s->tls : NULL;

	memset(out, 0, sizeof(*out));
	if (!t)
		return;
	out->accepted = atomic_load(&t->accepted);
	out->handshake_failed = atomic_load(&t->handshake_failed);
	out->busy = atomic_load(&t->busy);
	out->bad_frames = atomic_load(&t->bad_frames);
	out->timeouts = atomic_load(&t->timeouts);
	out->requests = atomic_load(&t->requests);
	out->subscribers = atomic_load(&t->subscribers);
	out->events_sent = atomic_load(&t->events_sent);
	out->reloads = atomic_load(&t->reloads);
	out->reload_failed = atomic_load(&t->reload_failed);
	out->rate_limited = atomic_load(&t->rate_limited);
	out->throttled = atomic_load(&t->throttled);
	pthread_mutex_lock(&t->lock);
	out->open = t->conns;
	pthread_mutex_unlock(&t->lock);
}

void bus_ctl_tls_close(struct vigil_ctl_server *s)
{
	struct ctl_tls *t = s->tls;

	if (!t)
		return;
	atomic_store(&t->stop, true);
	if (t->thread_started)
		pthread_join(t->thread, NULL);
	/* connection threads see stop within their deadlines (a relay within TLS_SUB_POLL_MS) */
	pthread_mutex_lock(&t->lock);
	while (t->conns)
		pthread_cond_wait(&t->done, &t->lock);
	pthread_mutex_unlock(&t->lock);
	if (t->fd >= 0)
		close(t->fd);
	SSL_CTX_free(t->ctx);
	pthread_cond_destroy(&t->done);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->rate_lock);
	free(t->address);
	free(t->admin_names);
	free(t->events_names);
	free(t->events_url);
	free(t->cert_file);
	free(t->key_file);
	free(t->client_ca_files);
	free(t);
	s->tls = NULL;
}
