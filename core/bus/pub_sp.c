/* pub_sp.c - the event publisher on our own SP listener (sp.c), spoken to by unchanged
 * nanomsg NN_SUB peers: what a subscriber sends after its header is read and discarded.
 *
 * Threads: the reader publishes (pub_sp_send queues a frame for every subscriber and
 * writes what the socket takes at once, or, held, at the end of the reader's round:
 * pub_sp_flush); a thread of our own accepts, completes
 * handshakes, discards input and flushes queues. A subscriber's queue is bounded: what
 * does not fit is dropped for that subscriber alone and counted. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus.h"
#include "bus_internal.h"

/* A peer that has not sent its SP header by then is not a subscriber. */
#define HANDSHAKE_NS 2000000000ULL
/* Beyond this, connections are refused at once: each one may hold a full queue. */
#define MAX_PEERS 128
#define POLL_MS 200
/* Held frames are written at once past 64 KiB for a subscriber or 100 us since the first:
 * a batch costs the latency of a part of a reader's round, not all of it. */
#define PUB_HOLD_MAX (64 * 1024)
#define PUB_HOLD_NS 100000ULL

struct pub_sp {
	struct sp_listener l;
	int wake[2];			/* pipe: a queue became non-empty */
	size_t queue_max;
	pthread_mutex_t lock;
	uint64_t held_since;		/* the first frame held for pub_sp_flush (sp_now_ns), or 0 */
	struct sp_peer peers[MAX_PEERS];
	size_t npeers;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
};

/* Ask the serve thread to write what a socket did not take at once. 0 or -errno. */
static int wake_server(struct pub_sp *s)
{
	if (write(s->wake[1], "", 1) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

/* Write what p's socket takes now; true when some stays queued for the serve thread. */
static bool flush_peer(struct sp_peer *p)
{
	if (sp_flush(p)) {
		p->off = p->len;	/* gone: the thread sees the hang-up and closes it */
		return false;
	}
	return p->off < p->len;
}

int pub_sp_send(struct pub_sp *s, const void *data, size_t len, bool hold, uint64_t *dropped)
{
	uint8_t head[9];
	size_t hlen = sp_frame_head(s->l.ipc, len, head), i;
	bool wake = false;

	pthread_mutex_lock(&s->lock);
	if (hold) {	/* a long round's first frames do not wait for its end */
		uint64_t now = sp_now_ns();

		if (!s->held_since)
			s->held_since = now;
		else if (now - s->held_since > PUB_HOLD_NS)
			hold = false;
	}
	for (i = 0; i < s->npeers; i++) {
		struct sp_peer *p = &s->peers[i];

		if (!p->ready)
			continue;
		if (p->len - p->off + hlen + len > s->queue_max || sp_queue(p, head, hlen, data, len)) {
			(*dropped)++;	/* this subscriber alone misses it */
			p->dropped++;
			continue;
		}
		p->sent++;
		/* held frames go out together at the next pub_sp_flush: one send, one wake-up of
		 * the subscriber, for a round's events; a big round still streams */
		if (hold && p->len - p->off < PUB_HOLD_MAX)
			continue;
		wake |= flush_peer(p);
	}
	if (!hold)
		s->held_since = 0;	/* written: the next held frame starts a new batch */
	pthread_mutex_unlock(&s->lock);
	return wake ? wake_server(s) : 0;
}

int pub_sp_flush(struct pub_sp *s)
{
	bool wake = false;
	size_t i;

	pthread_mutex_lock(&s->lock);
	if (s->held_since)
		for (i = 0; i < s->npeers; i++)
			if (s->peers[i].ready && s->peers[i].off < s->peers[i].len)
				wake |= flush_peer(&s->peers[i]);
	s->held_since = 0;
	pthread_mutex_unlock(&s->lock);
	return wake ? wake_server(s) : 0;
}

size_t pub_sp_peers(struct pub_sp *s, struct vigil_pub_peer *out, size_t max)
{
	size_t i, n;

	pthread_mutex_lock(&s->lock);
	n = s->npeers;
	for (i = 0; i < n && i < max; i++)
		out[i] = (struct vigil_pub_peer){
			.pid = s->peers[i].pid,
			.uid = s->peers[i].uid,
			.sent = s->peers[i].sent,
			.dropped = s->peers[i].dropped,
			.queued_bytes = s->peers[i].len - s->peers[i].off,
		};
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void drop_peer(struct pub_sp *s, size_t i)
{
	sp_peer_close(&s->peers[i]);
	s->peers[i] = s->peers[--s->npeers];
}

static void accept_peers(struct pub_sp *s)
{
	struct sp_peer p;

	while (!sp_accept(s->l.fd, s->l.ipc, SP_PROTO_PUB, &p)) {
		if (s->npeers == MAX_PEERS)
			sp_peer_close(&p);
		else
			s->peers[s->npeers++] = p;
	}
}

/* Input from a peer: its header, then anything, read and thrown away. 0, or -errno to
 * drop the peer. */
static int read_peer(struct sp_peer *p)
{
	char buf[4096];
	ssize_t n;

	if (!p->ready) {
		int err = sp_read_header(p, SP_PROTO_SUB);

		if (err || !p->ready)
			return err;
	}
	while ((n = recv(p->fd, buf, sizeof(buf), 0)) > 0)
		;	/* a subscriber has nothing to say to a publisher */
	if (n == 0)
		return -ECONNRESET;
	return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

static void *serve(void *arg)
{
	struct pub_sp *s = arg;
	struct pollfd fds[2 + MAX_PEERS];

	while (!atomic_load(&s->stop)) {
		uint64_t now;
		size_t i, n;
		char junk[64];

		pthread_mutex_lock(&s->lock);
		fds[0] = (struct pollfd){.fd = s->l.fd, .events = POLLIN};
		fds[1] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
		n = s->npeers;
		/* held frames are the publisher's to write (pub_sp_flush wakes us for the rest) */
		for (i = 0; i < n; i++)
			fds[2 + i] = (struct pollfd){
				.fd = s->peers[i].fd,
				.events = POLLIN | (s->peers[i].off < s->peers[i].len && !s->held_since ? POLLOUT : 0),
			};
		pthread_mutex_unlock(&s->lock);
		if (poll(fds, 2 + n, POLL_MS) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			while (read(s->wake[0], junk, sizeof(junk)) > 0)
				;
		now = sp_now_ns();
		pthread_mutex_lock(&s->lock);
		/* peers only leave here, so the first n are the ones polled; go backwards so
		 * that dropping one (swapped with the last) keeps the rest in place */
		for (i = n; i-- > 0;) {
			struct sp_peer *p = &s->peers[i];
			short re = fds[2 + i].revents;
			bool gone = false;

			if (re & POLLIN)
				gone = read_peer(p) < 0;
			else if (re & (POLLHUP | POLLERR | POLLNVAL))
				gone = true;
			if (!gone && (re & POLLOUT))
				gone = sp_flush(p) < 0;
			if (!gone && !p->ready && now - p->accepted_ns > HANDSHAKE_NS)
				gone = true;
			if (gone)
				drop_peer(s, i);
		}
		if (fds[0].revents & POLLIN)
			accept_peers(s);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

void pub_sp_close(struct pub_sp *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	while (s->npeers)
		drop_peer(s, s->npeers - 1);
	sp_listener_close(&s->l);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct pub_sp *pub_sp_open(const char *url, unsigned int mode, size_t queue_max)
{
	struct pub_sp *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->wake[0] = s->wake[1] = -1;
	s->queue_max = queue_max;
	pthread_mutex_init(&s->lock, NULL);
	err = sp_listen(&s->l, url, mode);
	if (err)
		goto err_out;
	if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC)) {
		err = -errno;
		goto err_out;
	}
	err = -pthread_create(&s->thread, NULL, serve, s);
	if (err)
		goto err_out;
	s->thread_started = true;
	return s;

err_out:
	pub_sp_close(s);
	errno = -err;
	return NULL;
}
