/* ctl_tls_conn.c - one TLS connection of the control listener, on its own thread: the
 * handshake (client certificate required), then framed requests answered by the control
 * handler, or, after {"cmd": "subscribe"}, the event bus relayed. Every wait has a deadline;
 * a malformed frame ends the connection and is counted. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_tls_internal.h"
#include "encode/encode.h"

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
		err = bus_tls_rate_request(c);
		if (err)
			break;
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

void *bus_tls_serve_conn(void *arg)
{
	struct tls_conn *c = arg;
	struct ctl_tls *t = c->t;
	char why[160];
	int err;

	pthread_mutex_lock(&t->lock);	/* a reload may be swapping it */
	c->ssl = SSL_new(t->ctx);
	pthread_mutex_unlock(&t->lock);
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
		bus_tls_rights_of(c);
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
