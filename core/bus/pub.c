/* pub.c - the event publisher: NN_PUB, never blocking the reader. */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "bus_internal.h"

/* Per-subscriber queue in the kernel socket buffers: large enough to ride out a burst
 * (an exec storm) while a subscriber catches up. */
#define PUB_SNDBUF (4 * 1024 * 1024)

struct vigil_pub {
	int sock;
	char *url;
	_Atomic uint64_t sent;
	_Atomic uint64_t dropped;
};

struct vigil_pub *vigil_pub__open(const char *url, unsigned int mode)
{
	struct vigil_pub *p = calloc(1, sizeof(*p));
	int sndbuf = PUB_SNDBUF;
	int err;

	if (!p)
		return NULL;
	p->sock = -1;
	p->url = strdup(url);
	if (!p->url) {
		err = -ENOMEM;
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

int vigil_pub__send(struct vigil_pub *p, const void *data, size_t len)
{
	if (nn_send(p->sock, data, len, NN_DONTWAIT) < 0) {
		int err = errno;

		atomic_fetch_add(&p->dropped, 1);
		return -err;
	}
	atomic_fetch_add(&p->sent, 1);
	return 0;
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
	if (p->sock >= 0) {
		nn_close(p->sock);
		bus_unlink_ipc(p->url);
	}
	free(p->url);
	free(p);
}
