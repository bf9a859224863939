/* ctl_tls.c - the control channel's network listener: mutual TLS over TCP (tetra's
 * --server-address HOST:PORT with --server-tls-*). A thread accepts; each connection gets a
 * thread of its own (at most max_conns), so that a peer that stalls holds up only itself,
 * and every wait has a deadline. The handler is the local socket's (bus_ctl_answer), with
 * the rights the client certificate's names earn; "subscribe" is answered here, by relaying
 * the event bus. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus_internal.h"
#include "encode/encode.h"

/* A connection may stay idle between requests this long. */
#define TLS_IDLE_MS 30000
/* Once a frame's first byte came, the rest must follow within this. */
#define TLS_FRAME_MS 5000
/* A reply or an event must be taken by the peer within this, or it is dropped. */
#define TLS_WRITE_MS 5000
/* How often a subscriber's relay looks at the stop flag and the peer. */
#define TLS_SUB_POLL_MS 200

struct ctl_tls {
	struct vigil_ctl_server *s;
	SSL_CTX *ctx;
	int fd;
	char *address, *admin_names, *events_names, *events_url;
	unsigned int max_conns;
	int handshake_ms;
	uint32_t max_frame;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	pthread_mutex_t lock;		/* conns */
	pthread_cond_t done;
	unsigned int conns;
	_Atomic uint64_t accepted, handshake_failed, busy, bad_frames, timeouts, requests, subscribers, events_sent;
};

struct tls_conn {
	struct ctl_tls *t;
	int fd;
	SSL *ssl;
	char from[64];			/* the peer's address, for the log */
	char cn[128];			/* the certificate's subject CN (or first name) */
	struct vigil_ctl_peer peer;
};

/* ---- the certificate's names against the lists ---- */

/* Does list (comma-separated) hold the len bytes of name? Host names compare without case. */
static bool listed(const char *list, const char *name, size_t len, bool host)
{
	const char *p = list, *end;
	size_t n;

	if (!list || !len || memchr(name, '\0', len))	/* an embedded NUL names nothing */
		return false;
	while (*p) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && (host ? !strncasecmp(p, name, len) : !memcmp(p, name, len)))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

/* Note one name of the certificate: which lists hold it, and the first one for the log. */
static void note_name(struct tls_conn *c, const char *name, size_t len, bool host, bool *admin, bool *events)
{
	*admin |= listed(c->t->admin_names, name, len, host);
	*events |= listed(c->t->events_names, name, len, host);
	if (!c->cn[0] && len && !memchr(name, '\0', len))
		snprintf(c->cn, sizeof(c->cn), "%.*s", (int)len, name);
}

/* The rights of the verified client: its subject CN and every DNS, URI, email or IP
 * subjectAltName are looked up in --server-tls-admin-names and --server-tls-events-names. */
static void rights_of(struct tls_conn *c)
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);
	GENERAL_NAMES *sans;
	X509_NAME *subject;
	bool admin = false, events = false;
	char ip[INET6_ADDRSTRLEN];
	int i;

	if (!cert)
		return;
	subject = X509_get_subject_name(cert);
	i = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
	if (i >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));

		note_name(c, (const char *)ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d), true, &admin, &events);
	}
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		const ASN1_STRING *v = NULL;

		if (g->type == GEN_DNS || g->type == GEN_URI || g->type == GEN_EMAIL) {
			v = g->d.ia5;
			note_name(c, (const char *)ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
				  g->type == GEN_DNS, &admin, &events);
		} else if (g->type == GEN_IPADD && (g->d.ip->length == 4 || g->d.ip->length == 16)) {
			inet_ntop(g->d.ip->length == 4 ? AF_INET : AF_INET6, g->d.ip->data, ip, sizeof(ip));
			note_name(c, ip, strlen(ip), false, &admin, &events);
		}
	}
	GENERAL_NAMES_free(sans);
	c->peer.access = admin ? VIGIL_CTL_ALL : VIGIL_CTL_READ;
	c->peer.events = admin || events;
	c->peer.identity = c->cn;
}

/* ---- one connection ---- */

static bool is_subscribe(const void *req, size_t len)
{
	msgpack_unpacked up;
	const msgpack_object *cmd;
	size_t off = 0;
	bool yes = false;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, req, len, &off) == MSGPACK_UNPACK_SUCCESS) {
		cmd = vigil_msgpack_get(&up.data, "cmd");
		yes = cmd && cmd->type == MSGPACK_OBJECT_STR && cmd->via.str.size == 9 &&
		      !memcmp(cmd->via.str.ptr, "subscribe", 9);
	}
	msgpack_unpacked_destroy(&up);
	return yes;
}

/* One msgpack map, wholly: anything else is a malformed frame. */
static bool well_formed(const struct vigil_buf *req)
{
	size_t used = 0;
	unsigned char b = req->len ? (unsigned char)req->data[0] : 0;

	return req->len && (b >> 4 == 0x8 || b == 0xde || b == 0xdf) && !vigil_msgpack_scan(req->data, req->len, &used) &&
	       used == req->len;
}

static void count_error(struct tls_conn *c, int err, const char *what)
{
	struct ctl_tls *t = c->t;

	if (err == -EMSGSIZE || err == -EBADMSG) {
		atomic_fetch_add(&t->bad_frames, 1);
		pr_info("control tls: %s (%s): %s; connection dropped", c->from, c->cn,
			err == -EMSGSIZE ? "frame longer than the bound" : "malformed frame");
	} else if (err == -ETIMEDOUT) {
		atomic_fetch_add(&t->timeouts, 1);
		pr_debug("control tls: %s (%s): %s timed out", c->from, c->cn, what);
	} else {
		pr_debug("control tls: %s (%s): %s: %s", c->from, c->cn, what, strerror(-err));
	}
}

/* Is the subscriber still there, and quiet? 0, or -ECONNRESET / -EBADMSG (it sent something:
 * nothing is expected after subscribe). */
static int peer_quiet(struct tls_conn *c)
{
	char byte;
	int rc, e;

	ERR_clear_error();
	rc = SSL_read(c->ssl, &byte, 1);
	if (rc > 0)
		return -EBADMSG;
	e = SSL_get_error(c->ssl, rc);
	ERR_clear_error();
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -ECONNRESET;
}

static int pack_to_buf(void *data, const char *buf, size_t len)
{
	return vigil_buf_append(data, buf, len);
}

/* {"cmd": "subscribe"}: relay the bus until the peer goes, falls behind or the server stops.
 * The relay is a subscriber of the agent's own bus, so a slow peer costs the publisher
 * nothing but the drops it counts for that subscriber. */
static int relay_events(struct tls_conn *c, struct vigil_buf *reply)
{
	static const char ok[] = "\x81\xa2" "ok" "\xc3";	/* {"ok": true} */
	struct ctl_tls *t = c->t;
	struct vigil_sub *sub;
	int err, n;

	if (!c->peer.events) {
		static const char why[] = "permission denied: events need a certificate named in "
					  "--server-tls-events-names or --server-tls-admin-names";
		msgpack_packer pk;

		atomic_fetch_add(&t->s->refused, 1);
		pr_info("control tls: %s (%s): subscribe refused", c->from, c->cn);
		vigil_buf_reset(reply);
		msgpack_packer_init(&pk, reply, pack_to_buf);
		msgpack_pack_map(&pk, 2);
		msgpack_pack_str_with_body(&pk, "ok", 2);
		msgpack_pack_false(&pk);
		msgpack_pack_str_with_body(&pk, "error", 5);
		msgpack_pack_str_with_body(&pk, why, sizeof(why) - 1);
		return bus_tls_send_frame(c->ssl, c->fd, reply->data, reply->len, bus_now_ms() + TLS_WRITE_MS);
	}
	sub = vigil_sub__open(t->events_url, TLS_SUB_POLL_MS);
	if (!sub)
		return -errno;
	atomic_fetch_add(&t->subscribers, 1);
	err = bus_tls_send_frame(c->ssl, c->fd, ok, sizeof(ok) - 1, bus_now_ms() + TLS_WRITE_MS);
	while (!err && !atomic_load(&t->stop)) {
		void *data = NULL;

		n = vigil_sub__take(sub, &data);
		if (n >= 0) {
			err = bus_tls_send_frame(c->ssl, c->fd, data, (size_t)n, bus_now_ms() + TLS_WRITE_MS);
			vigil_bus_msg_free(data);
			if (!err)
				atomic_fetch_add(&t->events_sent, 1);
		} else if (n != -ETIMEDOUT && n != -EINTR) {
			err = n;
		}
		if (!err)
			err = peer_quiet(c);
	}
	vigil_sub__close(sub);
	return err;
}

/* Wait for the next request's first bytes, up to TLS_IDLE_MS, looking at the stop flag
 * meanwhile. 0, -ETIMEDOUT, -ECANCELED (stopping), or -errno. */
static int wait_request(struct tls_conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	uint64_t deadline = bus_now_ms() + TLS_IDLE_MS;
	int r;

	while (!SSL_pending(c->ssl)) {
		if (atomic_load(&c->t->stop))
			return -ECANCELED;
		if (bus_now_ms() >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, TLS_SUB_POLL_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			break;
	}
	return 0;
}

/* Requests until the peer closes, idles too long, errs, or subscribes. */
static void serve_requests(struct tls_conn *c)
{
	struct ctl_tls *t = c->t;
	struct vigil_buf req = {0}, reply = {0};
	int err = 0;

	while (!err && !atomic_load(&t->stop)) {
		err = wait_request(c);
		if (!err)
			err = bus_tls_recv_frame(c->ssl, c->fd, &req, t->max_frame, bus_now_ms() + TLS_FRAME_MS,
						 TLS_FRAME_MS);
		if (err)
			break;
		if (!well_formed(&req)) {
			err = -EBADMSG;
			break;
		}
		if (is_subscribe(req.data, req.len)) {
			err = relay_events(c, &reply);
			break;
		}
		bus_ctl_answer(t->s, &c->peer, req.data, req.len, &reply);
		atomic_fetch_add(&t->requests, 1);
		err = bus_tls_send_frame(c->ssl, c->fd, reply.data ? reply.data : "", reply.len, bus_now_ms() + TLS_WRITE_MS);
	}
	if (err && err != -ECONNRESET && err != -ECANCELED)
		count_error(c, err, "request");
	vigil_buf_free(&req);
	vigil_buf_free(&reply);
}

static void *serve_conn(void *arg)
{
	struct tls_conn *c = arg;
	struct ctl_tls *t = c->t;
	char why[160];
	int err;

	c->ssl = SSL_new(t->ctx);
	err = c->ssl && SSL_set_fd(c->ssl, c->fd) ? 0 : -ENOMEM;
	if (!err) {
		SSL_set_accept_state(c->ssl);
		err = bus_tls_handshake(c->ssl, c->fd, bus_now_ms() + (uint64_t)t->handshake_ms);
	}
	if (err) {
		/* no certificate, one of another CA, not TLS at all, or too slow: all refused here */
		atomic_fetch_add(&t->handshake_failed, 1);
		bus_tls_reason(c->ssl, why, sizeof(why));
		pr_info("control tls: %s refused in the handshake: %s", c->from,
			err == -ETIMEDOUT ? "timed out" : err == -EPROTO ? why : strerror(-err));
	} else {
		rights_of(c);
		pr_debug("control tls: %s is '%s' (%s)", c->from, c->cn,
			 c->peer.access == VIGIL_CTL_ALL ? "admin" : c->peer.events ? "read-only, events" : "read-only");
		serve_requests(c);
		SSL_shutdown(c->ssl);
	}
	SSL_free(c->ssl);
	ERR_clear_error();
	close(c->fd);
	pthread_mutex_lock(&t->lock);
	t->conns--;
	pthread_cond_broadcast(&t->done);
	pthread_mutex_unlock(&t->lock);
	free(c);
	return NULL;
}

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
			pthread_attr_init(&attr);
			pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
			busy = !!pthread_create(&(pthread_t){0}, &attr, serve_conn, c);
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
		bus_tls_nodelay(fd);
		dispatch(t, fd, &sa);
	}
	return NULL;
}

/* ---- setup ---- */

static int load_files(struct ctl_tls *t, const struct vigil_ctl_tls_opts *o)
{
	char *files = strdup(o->client_ca_files), *save = NULL, *f;
	STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
	char why[160];
	int err = 0, n = 0;

	if (!files || !names) {
		err = -ENOMEM;
		goto out;
	}
	if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t->ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1) {
		bus_tls_reason(NULL, why, sizeof(why));
		pr_warn("control tls: cannot use %s and %s: %s", o->cert_file, o->key_file, why);
		err = -EINVAL;
		goto out;
	}
	for (f = strtok_r(files, ",", &save); f; f = strtok_r(NULL, ",", &save), n++) {
		if (SSL_CTX_load_verify_locations(t->ctx, f, NULL) != 1 ||
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
	SSL_CTX_set_client_CA_list(t->ctx, names);
	names = NULL;
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	free(files);
	return err;
}

static int make_ctx(struct ctl_tls *t, const struct vigil_ctl_tls_opts *o)
{
	t->ctx = SSL_CTX_new(TLS_server_method());
	if (!t->ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION);
	/* mutual TLS, always: no certificate, or one no client CA signed, ends the handshake */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* no session tickets: each connection proves its certificate afresh */
	SSL_CTX_set_num_tickets(t->ctx, 0);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	return load_files(t, o);
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
	s->tls = t;
	t->max_conns = o.max_conns ? o.max_conns : VIGIL_CTL_TLS_MAX_CONNS;
	t->handshake_ms = o.handshake_ms > 0 ? o.handshake_ms : VIGIL_CTL_TLS_HANDSHAKE_MS;
	t->max_frame = o.max_frame ? o.max_frame : VIGIL_CTL_TLS_MAX_FRAME;
	t->address = strdup(o.address);
	t->admin_names = dup_or_null(o.admin_names);
	t->events_names = dup_or_null(o.events_names);
	t->events_url = strdup(o.events_url ? o.events_url : VIGIL_BUS_DEFAULT_EVENTS);
	err = t->address && t->events_url ? make_ctx(t, &o) : -ENOMEM;
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
	free(t->address);
	free(t->admin_names);
	free(t->events_names);
	free(t->events_url);
	free(t);
	s->tls = NULL;
}
