/* control.c - the control channel: one server object over either transport (ctl_unix.c for
 * ipc://, ctl_nn.c for tcp://), the answer to each request, and the client call. */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus_internal.h"

/* {"ok": false, "error": msg} */
static void error_reply(struct vigil_buf *reply, const char *msg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "ok", 2);
	msgpack_pack_false(&pk);
	msgpack_pack_str_with_body(&pk, "error", 5);
	msgpack_pack_str_with_body(&pk, msg, strlen(msg));
	vigil_buf_reset(reply);
	vigil_buf_append(reply, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

void bus_ctl_answer(struct vigil_ctl_server *s, const struct vigil_ctl_peer *peer, const void *req, size_t len,
		struct vigil_buf *reply)
{
	char msg[160];
	int err;

	vigil_buf_reset(reply);
	if (peer->access == VIGIL_CTL_DENIED) {
		atomic_fetch_add(&s->refused, 1);
		snprintf(msg, sizeof(msg), "permission denied: uid %u is not root%s", peer->uid,
			 s->read_gid >= 0 ? " nor in the control group" : "");
		pr_info("control: refused uid %u (pid %d)", peer->uid, peer->pid);
		error_reply(reply, msg);
		return;
	}
	pthread_mutex_lock(&s->handler_lock);
	err = s->handler(peer, req, len, reply, s->ctx);
	pthread_mutex_unlock(&s->handler_lock);
	if (!err)
		return;
	if (err == -EACCES) {
		atomic_fetch_add(&s->refused, 1);
		if (peer->identity)
			pr_info("control: refused a command from TLS client '%s'", peer->identity);
		else
			pr_info("control: refused a command from uid %u (pid %d)", peer->uid, peer->pid);
	} else {
		atomic_fetch_add(&s->bad_requests, 1);
	}
	if (!reply->len)
		error_reply(reply, strerror(-err));
}

struct vigil_ctl_server *vigil_ctl_server__open(const char *url, const struct vigil_ctl_server_opts *opts,
						  vigil_ctl_handler handler, void *ctx)
{
	struct vigil_ctl_server *s = calloc(1, sizeof(*s));
	struct vigil_ctl_server_opts o = {.read_gid = -1};
	int err;

	if (!s)
		return NULL;
	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	s->fd = s->sock = -1;
	pthread_mutex_init(&s->handler_lock, NULL);
	pthread_mutex_init(&s->conns_lock, NULL);
	pthread_cond_init(&s->conns_done, NULL);
	s->read_gid = o.read_gid;
	s->handler = handler;
	s->ctx = ctx;
	s->url = strdup(url);
	if (!s->url) {
		err = -ENOMEM;
		goto err_out;
	}
	err = bus_ipc_path(url) ? bus_ctl_unix_start(s) : bus_ctl_nn_open(s);
	if (err)
		goto err_out;
	return s;

err_out:
	vigil_ctl_server__close(s);
	errno = -err;
	return NULL;
}

uint64_t vigil_ctl_server__bad_requests(const struct vigil_ctl_server *s)
{
	return atomic_load(&s->bad_requests);
}

uint64_t vigil_ctl_server__refused(const struct vigil_ctl_server *s)
{
	return atomic_load(&s->refused);
}

void vigil_ctl_server__close(struct vigil_ctl_server *s)
{
	if (!s)
		return;
	bus_ctl_tls_close(s);
	atomic_store(&s->stop, true);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	/* connection threads end within their CTL_PEER_MS deadlines */
	pthread_mutex_lock(&s->conns_lock);
	while (s->conns)
		pthread_cond_wait(&s->conns_done, &s->conns_lock);
	pthread_mutex_unlock(&s->conns_lock);
	if (s->fd >= 0) {
		close(s->fd);
		bus_unlink_ipc(s->url);
	}
	bus_ctl_nn_close(s);
	pthread_cond_destroy(&s->conns_done);
	pthread_mutex_destroy(&s->conns_lock);
	pthread_mutex_destroy(&s->handler_lock);
	free(s->url);
	free(s);
}

int vigil_ctl_request(const char *url, const void *req, size_t req_len, struct vigil_buf *reply, int timeout_ms)
{
	const char *path = bus_ipc_path(url);

	/* tetra's unix:///path is the ipc:// socket at path */
	if (!path && !strncmp(url, "unix://", 7))
		path = url + 7;
	if (path)
		return bus_ctl_unix_request(path, req, req_len, reply, timeout_ms);
	return bus_ctl_nn_request(url, req, req_len, reply, timeout_ms);
}
