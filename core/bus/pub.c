/* pub.c - the event publisher, never blocking the reader: our own SP listener for
 * ipc:// and tcp:// (pub_sp.c), nanomsg's NN_PUB for any other transport. */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "bus_internal.h"

/* Per-subscriber queue in the kernel socket buffers: large enough to ride out a burst
 * (an exec storm) while a subscriber catches up. */
#define PUB_SNDBUF (4 * 1024 * 1024)

struct vigil_pub {
	struct pub_sp *sp;		/* or, for other transports, the nanomsg socket: */
	int sock;
	char *url;
	_Atomic uint64_t sent;
	_Atomic uint64_t dropped;
	uint64_t incarnation;		/* stamp.c: fixed for the publisher's life */
	_Atomic uint64_t seq;		/* the last number given */
};

/* 64 random bits, never 0; the clock stands in when getrandom cannot answer. */
static uint64_t new_incarnation(void)
{
	struct timespec ts;
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 48);
	}
	return v ? v : 1;
}

struct vigil_pub *vigil_pub__open(const char *url, unsigned int mode)
{
	struct vigil_pub *p = calloc(1, sizeof(*p));
	int sndbuf = PUB_SNDBUF;
	int err;

	if (!p)
		return NULL;
	p->sock = -1;
	p->incarnation = new_incarnation();
	p->url = strdup(url);
	if (!p->url) {
		err = -ENOMEM;
		goto err_out;
	}
	p->sp = pub_sp_open(url, mode, PUB_SNDBUF);
	if (p->sp)
		return p;
	if (errno != EPROTONOSUPPORT) {
		err = -errno;
		pr_warn("bus: cannot listen on %s: %s", url, strerror(-err));
		goto err_out;
	}
	err = bus_prepare_ipc(url);
	if (err)
		goto err_out;	/* logged, naming the directory */
	p->sock = nn_socket(AF_SP, NN_PUB);
	if (p->sock < 0) {
		err = -errno;
		goto err_out;
	}
	nn_setsockopt(p->sock, NN_SOL_SOCKET, NN_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* a stale socket file from a killed agent would make bind fail */
	bus_unlink_ipc(url);
	if (nn_bind(p->sock, url) < 0) {
		err = -errno;
		pr_warn("bus: cannot bind %s: %s", url, nn_strerror(errno));
		goto err_out;
	}
	err = bus_chmod_ipc(url, mode);
	if (err) {
		pr_warn("bus: cannot chmod %s: %s", url, strerror(-err));
		goto err_out;
	}
	return p;

err_out:
	vigil_pub__close(p);
	errno = -err;
	return NULL;
}

static int send_msg(struct vigil_pub *p, const void *data, size_t len, bool hold)
{
	if (p->sp) {
		uint64_t dropped = 0;
		int err = pub_sp_send(p->sp, data, len, hold, &dropped);

		if (dropped)
			atomic_fetch_add(&p->dropped, dropped);
		if (!err)
			atomic_fetch_add(&p->sent, 1);
		return err;
	}
	if (nn_send(p->sock, data, len, NN_DONTWAIT) < 0) {	/* nanomsg: nothing held */
		int err = errno;

		atomic_fetch_add(&p->dropped, 1);
		return -err;
	}
	atomic_fetch_add(&p->sent, 1);
	return 0;
}

int vigil_pub__send(struct vigil_pub *p, const void *data, size_t len)
{
	return send_msg(p, data, len, false);
}

static int publish(struct vigil_pub *p, struct vigil_buf *msg, uint64_t *seq, bool hold)
{
	/* one publishing thread at a time in the agent (under its pipe lock); the atomic keeps
	 * the readers of vigil_pub__last_seq honest */
	uint64_t n = atomic_load(&p->seq) + 1;
	int err = vigil_bus_stamp(msg, p->incarnation, n);

	if (err)
		return err;
	atomic_store(&p->seq, n);
	if (seq)
		*seq = n;
	return send_msg(p, msg->data, msg->len, hold);
}

int vigil_pub__publish(struct vigil_pub *p, struct vigil_buf *msg, uint64_t *seq)
{
	return publish(p, msg, seq, false);
}

int vigil_pub__publish_held(struct vigil_pub *p, struct vigil_buf *msg, uint64_t *seq)
{
	return publish(p, msg, seq, true);
}

int vigil_pub__flush(struct vigil_pub *p)
{
	return p->sp ? pub_sp_flush(p->sp) : 0;
}

uint64_t vigil_pub__incarnation(const struct vigil_pub *p)
{
	return p->incarnation;
}

uint64_t vigil_pub__last_seq(const struct vigil_pub *p)
{
	return atomic_load(&p->seq);
}

size_t vigil_pub__peers(const struct vigil_pub *p, struct vigil_pub_peer *out, size_t max)
{
	return p->sp ? pub_sp_peers(p->sp, out, max) : 0;
}

uint64_t vigil_pub__sent(const struct vigil_pub *p)
{
	return atomic_load(&p->sent);
}

uint64_t vigil_pub__dropped(const struct vigil_pub *p)
{
	return atomic_load(&p->dropped);
}

void vigil_pub__close(struct vigil_pub *p)
{
	if (!p)
		return;
	pub_sp_close(p->sp);
	if (p->sock >= 0) {
		nn_close(p->sock);
		bus_unlink_ipc(p->url);
	}
	free(p->url);
	free(p);
}
