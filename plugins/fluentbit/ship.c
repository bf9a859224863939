/* ship.c - the delivery state machine: disconnected (retry at a time) -> connecting ->
 * connected (write in order, up to --max-inflight unacked; read acks) -> on any failure,
 * every batch in flight is queued again and the next attempt waits a backoff delay. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "reply.h"
#include "ship.h"

struct fwd_ship {
	const struct fwd_config *cfg;
	struct fwd_endpoint ep;
	struct fwd_spool *sp;
	struct fwd_stats *st;
	struct backoff backoff;
	int fd;
	bool connecting;
	uint64_t connect_deadline;	/* a TCP connect to a silent host: give up then */
	uint64_t retry_at;		/* disconnected: next attempt */
	struct frame *writing;		/* partly written batch, or NULL */
	size_t written;
	bool want_write;		/* the socket buffer was full */
	bool away_logged;		/* the outage was reported; quiet until we reconnect */
	bool helo_logged;
	unsigned char rbuf[FWD_REPLY_MAX];
	size_t rlen;
};

struct fwd_ship *ship_new(const struct fwd_config *cfg, struct fwd_spool *sp, struct fwd_stats *st)
{
	struct fwd_ship *sh = calloc(1, sizeof(*sh));
	int err;

	if (!sh)
		return NULL;
	sh->fd = -1;
	sh->cfg = cfg;
	sh->sp = sp;
	sh->st = st;
	sh->backoff = (struct backoff){ .min_ms = cfg->retry_min_ms, .max_ms = cfg->retry_max_ms };
	err = endpoint_parse(cfg->to, &sh->ep);
	if (err)
		goto err_out;
	return sh;

err_out:
	ship_free(sh);
	errno = -err;
	return NULL;
}

void ship_free(struct fwd_ship *sh)
{
	if (!sh)
		return;
	if (sh->fd >= 0)
		close(sh->fd);
	free(sh);
}

static void schedule_retry(struct fwd_ship *sh, uint64_t now_ms)
{
	sh->retry_at = now_ms + (uint64_t)backoff_next(&sh->backoff);
}

/* Drop the connection; everything unacked goes back to the queue, to be resent in order. */
static void disconnect(struct fwd_ship *sh, uint64_t now_ms, const char *why)
{
	uint64_t inflight = sh->st->inflight;

	close(sh->fd);
	sh->fd = -1;
	sh->connecting = false;
	sh->writing = NULL;
	sh->written = 0;
	sh->want_write = false;
	sh->rlen = 0;
	sh->st->connected = 0;
	sh->st->disconnects++;
	ack_requeue_all(sh->sp);
	schedule_retry(sh, now_ms);
	fwd_warn("connection to %s lost: %s; %llu batches in flight will be resent", sh->cfg->to, why,
		 (unsigned long long)inflight);
	sh->away_logged = true;
}

static void connect_failed(struct fwd_ship *sh, uint64_t now_ms, int err)
{
	sh->st->connect_failures++;
	schedule_retry(sh, now_ms);
	if (!sh->away_logged)
		fwd_warn("cannot connect to %s: %s; spooling and retrying", sh->cfg->to, strerror(-err));
	else
		fwd_debug("cannot connect to %s: %s; next try in %llu ms", sh->cfg->to, strerror(-err),
			  (unsigned long long)(sh->retry_at - now_ms));
	sh->away_logged = true;
}

static void connected(struct fwd_ship *sh)
{
	sh->connecting = false;
	sh->st->connects++;
	sh->st->connected = 1;
	fwd_info("connected to %s", sh->cfg->to);
	sh->away_logged = false;
}

static void try_connect(struct fwd_ship *sh, uint64_t now_ms)
{
	bool pending;
	int fd = conn_open(&sh->ep, &pending);

	if (fd < 0) {
		connect_failed(sh, now_ms, fd);
		return;
	}
	sh->fd = fd;
	if (pending) {
		sh->connecting = true;
		sh->connect_deadline = now_ms + (uint64_t)sh->cfg->ack_timeout_ms;
		return;
	}
	connected(sh);
}

static void finish_connect(struct fwd_ship *sh, uint64_t now_ms)
{
	int err = conn_finish(sh->fd);

	if (err) {
		close(sh->fd);
		sh->fd = -1;
		sh->connecting = false;
		connect_failed(sh, now_ms, err);
		return;
	}
	connected(sh);
}

static void on_reply(struct fwd_ship *sh, const struct fwd_reply *r)
{
	int n;

	switch (r->kind) {
	case FWD_REPLY_ACK:
		n = ack_settle(sh->sp, r->chunk, r->chunk_len);
		if (n < 0) {
			sh->st->acks_unknown++;
			fwd_debug("ack for an unknown chunk '%.*s'", (int)(r->chunk_len > 64 ? 64 : r->chunk_len),
				  r->chunk);
			break;
		}
		sh->st->batches_acked++;
		sh->st->events_acked += (uint64_t)n;
		backoff_reset(&sh->backoff);	/* the peer works: the next outage starts from min */
		break;
	case FWD_REPLY_HELO:
		sh->st->replies_bad++;
		if (!sh->helo_logged)
			fwd_warn("%s asks for shared-key authentication (HELO), which vigil-forward does not "
				 "implement: configure its forward input without shared_key", sh->cfg->to);
		sh->helo_logged = true;
		break;
	case FWD_REPLY_OTHER:
		sh->st->replies_bad++;
		break;
	}
}

/* Read what the peer sent and act on each complete reply. */
static void read_replies(struct fwd_ship *sh, uint64_t now_ms)
{
	for (;;) {
		struct fwd_reply r;
		ssize_t n;
		int used;

		/* reply_next refuses a full buffer, so there is always room here */
		n = recv(sh->fd, sh->rbuf + sh->rlen, sizeof(sh->rbuf) - sh->rlen, MSG_DONTWAIT);
		if (n == 0) {
			disconnect(sh, now_ms, "closed by the peer");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				disconnect(sh, now_ms, strerror(errno));
			return;
		}
		sh->rlen += (size_t)n;
		while ((used = reply_next(sh->rbuf, sh->rlen, &r)) > 0) {
			on_reply(sh, &r);
			memmove(sh->rbuf, sh->rbuf + used, sh->rlen - (size_t)used);
			sh->rlen -= (size_t)used;
		}
		if (used < 0) {
			/* the stream cannot be resynchronised after invalid msgpack */
			sh->st->replies_garbage++;
			disconnect(sh, now_ms, "the peer sent a reply that is not msgpack");
			return;
		}
	}
}

/* Write queued batches in order while the window and the socket allow. */
static void write_batches(struct fwd_ship *sh, uint64_t now_ms)
{
	bool ack = sh->cfg->ack;

	while (sh->fd >= 0) {
		struct frame *f = sh->writing;
		ssize_t n;

		if (!f) {
			if (sh->st->inflight >= (uint64_t)sh->cfg->max_inflight)
				break;
			f = spool_next_queued(sh->sp);
			if (!f)
				break;
			spool_set_state(sh->sp, f, FRAME_WRITING);
			if (f->resend)
				sh->st->batches_resent++;
			sh->writing = f;
			sh->written = 0;
		}
		n = send(sh->fd, f->data + sh->written, f->len - sh->written, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				sh->want_write = true;
			else
				disconnect(sh, now_ms, strerror(errno));
			break;
		}
		sh->want_write = false;
		sh->written += (size_t)n;
		sh->st->bytes_sent += (uint64_t)n;
		if (sh->written < f->len)
			continue;
		sh->st->batches_sent++;
		sh->writing = NULL;
		if (ack) {
			ack_sent(sh->sp, f, now_ms);
		} else {
			/* fire and forget: written is as delivered as it gets */
			sh->st->events_acked += f->nevents;
			spool_remove(sh->sp, f);
			backoff_reset(&sh->backoff);
		}
	}
}

void ship_poll_events(const struct fwd_ship *sh, struct pollfd *pfd)
{
	pfd->fd = sh->fd;
	pfd->revents = 0;
	if (sh->connecting)
		pfd->events = POLLOUT;
	else
		pfd->events = POLLIN | (sh->want_write ? POLLOUT : 0);
}

void ship_run(struct fwd_ship *sh, short revents, uint64_t now_ms)
{
	if (sh->fd < 0 && now_ms >= sh->retry_at)
		try_connect(sh, now_ms);
	if (sh->fd >= 0 && sh->connecting) {
		if (revents & (POLLOUT | POLLERR | POLLHUP)) {
			finish_connect(sh, now_ms);
		} else if (now_ms >= sh->connect_deadline) {
			close(sh->fd);
			sh->fd = -1;
			sh->connecting = false;
			connect_failed(sh, now_ms, -ETIMEDOUT);
		}
		if (sh->connecting)
			return;
	}
	if (sh->fd < 0)
		return;
	if (revents & (POLLIN | POLLERR | POLLHUP))
		read_replies(sh, now_ms);
	if (sh->fd >= 0)
		write_batches(sh, now_ms);
	if (sh->fd >= 0 && sh->cfg->ack && ack_deadline(sh->sp, (uint64_t)sh->cfg->ack_timeout_ms) <= now_ms) {
		sh->st->ack_timeouts++;
		disconnect(sh, now_ms, "no ack in time");
	}
}

uint64_t ship_deadline(const struct fwd_ship *sh)
{
	if (sh->fd < 0)
		return sh->retry_at;
	if (sh->connecting)
		return sh->connect_deadline;
	return sh->cfg->ack ? ack_deadline(sh->sp, (uint64_t)sh->cfg->ack_timeout_ms) : UINT64_MAX;
}
