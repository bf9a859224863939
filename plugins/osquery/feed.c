/* feed.c - the bus subscription: each event offered to every event table, and the rows
 * they make pushed into their stores. One thread, the stores' only writer. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "ext.h"
#include "log.h"

struct feed {
	struct ext *x;
	struct vigil_sub *sub;
	pthread_t thread;
	bool thread_started;
	_Atomic int stopping;
	uint64_t *eids;		/* last eid per table */
	uint64_t received, malformed, failed;
};

static void offer(struct feed *f, const struct vigil_msg *m, struct row_builder *rb)
{
	struct row *row;
	size_t i;
	int ret;

	for (i = 0; i < ntables; i++) {
		if (!tables[i]->extract)
			continue;
		rb_reset(rb, tables[i]);
		ret = tables[i]->extract(m, rb);
		if (ret <= 0) {
			f->failed += ret < 0;
			continue;
		}
		/* eid: the table's own sequence, as osquery's event tables number their rows */
		rb_setf(rb, "eid", "%" PRIu64, ++f->eids[i]);
		row = rb_finish(rb, mono_now_ms());
		if (!row) {
			f->failed++;
			continue;
		}
		store_push(f->x->stores[i], row, row->arrived);
	}
}

/* A hole in the stamps: the agent published these and the bus dropped them for us. */
static void on_gap(void *ctx, uint64_t incarnation, uint64_t first, uint64_t last)
{
	log_warn("bus: missed %" PRIu64 " events (seq %" PRIu64 "..%" PRIu64 " of agent incarnation %016" PRIx64
		 "): the extension fell behind; see the vigil_delivery table", last - first + 1, first, last,
		 incarnation);
}

/* Publish the subscription's counters for vigil_delivery. */
static void share_delivery(struct feed *f)
{
	struct ext *x = f->x;

	pthread_mutex_lock(&x->delivery_lock);
	vigil_sub__delivery(f->sub, &x->delivery.d);
	x->delivery.malformed = f->malformed;
	x->delivery.subscribed = true;
	pthread_mutex_unlock(&x->delivery_lock);
}

static void *feed_main(void *arg)
{
	struct feed *f = arg;
	struct row_builder rb;
	struct vigil_msg *m;
	void *data;
	int n;

	rb_init(&rb);
	while (!atomic_load(&f->stopping)) {
		data = NULL;
		n = vigil_sub__recv(f->sub, &data);
		if (n == -ETIMEDOUT || n == -EINTR)
			continue;
		if (n < 0) {
			log_warn("bus %s: receive failed: %s", f->x->opt.bus_url, strerror(-n));
			break;
		}
		f->received++;
		m = vigil_msg__decode(data, (size_t)n);
		vigil_bus_msg_free(data);
		if (!m)
			f->malformed++;
		share_delivery(f);
		if (!m)
			continue;
		offer(f, m, &rb);
		vigil_msg__free(m);
	}
	rb_free(&rb);
	return NULL;
}

struct feed *feed_start(struct ext *x)
{
	struct feed *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return NULL;
	f->x = x;
	f->eids = calloc(ntables, sizeof(*f->eids));
	if (!f->eids) {
		err = -ENOMEM;
		goto err_out;
	}
	/* a short receive timeout lets the thread see a stop */
	f->sub = vigil_sub__open(x->opt.bus_url, EXT_POLL_MS);
	if (!f->sub) {
		err = -errno;
		log_warn("cannot subscribe to %s: %s", x->opt.bus_url, strerror(-err));
		goto err_out;
	}
	vigil_sub__on_gap(f->sub, on_gap, f);
	share_delivery(f);
	err = -pthread_create(&f->thread, NULL, feed_main, f);
	if (err)
		goto err_out;
	f->thread_started = true;
	return f;

err_out:
	feed_stop(f);
	errno = -err;
	return NULL;
}

void feed_stop(struct feed *f)
{
	if (!f)
		return;
	atomic_store(&f->stopping, 1);
	if (f->thread_started)
		pthread_join(f->thread, NULL);
	if (f->received)
		log_debug("bus: %" PRIu64 " events, %" PRIu64 " malformed, %" PRIu64 " not stored", f->received,
			  f->malformed, f->failed);
	vigil_sub__close(f->sub);
	free(f->eids);
	free(f);
}
