/* queue.c - the rules thread and the bounded queue that feeds it.
 *
 * The agent's reader must keep draining the kernel ring buffer whatever a rule does: a rule
 * call may last up to its deadline, and a reload holds the host lock while it swaps rules in.
 * So the reader only copies each wanted event's msgpack bytes into a slot of a fixed ring and
 * goes on; the rules thread runs them (the rules read the bytes where they look), and runs the timers between batches. When
 * the ring is full the event is dropped, never waited for, and counted per event type: a rule
 * has missed exactly the drops of the types it wants since it came in (lh_queue_dropped
 * against its baseline), which is what `vigil rules list` reports as its "dropped".
 *
 * The rules thread takes every queued slot as one batch and pops them all once they have
 * run; until then they are its own: the poster writes only at head + count, which never
 * reaches them. A slot's buffer goes back to a small pool when it has run, and the next post
 * takes it from there, so a steady stream allocates nothing. Slots do not keep their
 * buffers: the ring cycles through all of its slots, so a buffer per slot would grow to one
 * per slot of the largest event each ever held (16 MiB at the default length), whereas the
 * pool bounds what the queue keeps idle to LH_POOL_MAX buffers of at most LH_POOL_BUF_MAX.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <time.h>

#include "luahost_internal.h"

/* How long the rules thread sleeps without events before it looks at the timers (and at
 * what the reader holds for it) again: the agent's poll interval, and every()'s resolution. */
#define TICK_NS VIGIL_LUAHOST_TICK_NS
/* A second without events and it sleeps until its next timer instead, a second at most: an
 * idle agent's rules thread wakes ~once a second, not 50 times. A post then wakes it at
 * once (nothing is held), and it ticks again while events come. */
#define IDLE_AFTER_NS 1000000000ULL
#define IDLE_SLEEP_MAX_NS 1000000000ULL

/* The pool: enough buffers for the batches of a steady stream (a batch is what queued while
 * the last one ran); a burst's extra buffers and those grown past LH_POOL_BUF_MAX (an exec
 * with long arguments) are freed once they have run. */
#define LH_POOL_MAX 128
#define LH_POOL_BUF_MAX 8192

/* Buffers freed by bursts after which, once the burst is over, the heap's free pages go
 * back to the system: they were malloc'd on the reader's thread (its arena), which would
 * otherwise keep a burst's worth of megabytes resident for the next one. */
#define LH_TRIM_AFTER_SPILLED 1024

int lh_queue_init(struct vigil_luahost *h)
{
	struct lh_queue *q = &h->q;
	pthread_condattr_t ca;

	q->cap = h->opts.queue_len;
	q->slots = calloc(q->cap, sizeof(*q->slots));
	q->pool = calloc(LH_POOL_MAX, sizeof(*q->pool));
	if (!q->slots || !q->pool) {
		free(q->slots);
		free(q->pool);
		q->slots = NULL;
		q->pool = NULL;
		return -ENOMEM;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->wake, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

static void run_slot(struct vigil_luahost *h, struct lh_slot *s)
{
	/* read where the rules look (event.c), never decoded whole */
	if (lh_run_event(h, s->data.data, s->data.len) < 0)
		pr_warn("luahost: a queued event is not an event (%zu bytes)", s->data.len);
}

/* After a batch ran, outside the lock: free the buffers the pool will not take (those past
 * the first LH_POOL_MAX of the batch, or grown large). */
static void spill_slots(struct lh_queue *q, size_t head, size_t n)
{
	struct lh_slot *s;
	size_t i;

	for (i = 0; i < n; i++) {
		s = &q->slots[(head + i) % q->cap];
		if (s->data.data && (i >= LH_POOL_MAX || s->data.cap > LH_POOL_BUF_MAX)) {
			vigil_buf_free(&s->data);
			q->spilled++;
		}
	}
	if (n < LH_POOL_MAX && q->spilled >= LH_TRIM_AFTER_SPILLED) {
		q->spilled = 0;
		malloc_trim(0);
	}
}

/* Under the lock, before the pop: the batch's remaining buffers go to the pool while it has
 * room (at most LH_POOL_MAX frees here when it has none). */
static void recycle_slots(struct lh_queue *q, size_t head, size_t n)
{
	struct lh_slot *s;
	size_t i;

	for (i = 0; i < n && i < LH_POOL_MAX; i++) {
		s = &q->slots[(head + i) % q->cap];
		if (!s->data.data)
			continue;
		if (q->npool < LH_POOL_MAX)
			q->pool[q->npool++] = s->data;
		else
			vigil_buf_free(&s->data);
		s->data = (struct vigil_buf){ 0 };
	}
}

/* The next wait without events: a tick, or once idle until the next timer is due. Timers
 * on a clock of the caller's (tests, benches) are not the monotonic one: ticks only. */
static uint64_t idle_sleep_ns(struct vigil_luahost *h, uint64_t now, uint64_t last_event)
{
	uint64_t due;

	if (h->opts.clock || now - last_event < IDLE_AFTER_NS)
		return TICK_NS;
	due = lh_timers_next(h);
	if (due <= now)
		return 0;
	return due - now < IDLE_SLEEP_MAX_NS ? due - now : IDLE_SLEEP_MAX_NS;
}

static void *rules_main(void *arg)
{
	struct vigil_luahost *h = arg;
	struct lh_queue *q = &h->q;
	uint64_t last_tick = 0, now, last_event = lh_mono_ns(), sleep_ns = TICK_NS;
	struct timespec ts;
	size_t head, n, i;

	pthread_mutex_lock(&q->lock);
	while (!q->stop) {
		if (!q->count && sleep_ns) {
			now = lh_mono_ns() + sleep_ns;
			ts = (struct timespec){ .tv_sec = (time_t)(now / 1000000000ULL),
						.tv_nsec = (long)(now % 1000000000ULL) };
			lh_watch_idle(h);
			q->waiting = true;
			q->idle = sleep_ns > TICK_NS;
			pthread_cond_timedwait(&q->wake, &q->lock, &ts);
			q->waiting = q->idle = false;
		}
		/* take what is there as one batch: the slots stay ours until popped */
		q->held_since = 0;
		head = q->head;
		n = q->count;
		pthread_mutex_unlock(&q->lock);
		for (i = 0; i < n; i++)
			run_slot(h, &q->slots[(head + i) % q->cap]);
		now = lh_mono_ns();
		if (n)
			last_event = now;
		if (!n || now - last_tick >= TICK_NS) {
			vigil_luahost__tick(h);
			last_tick = now;
		}
		sleep_ns = idle_sleep_ns(h, lh_mono_ns(), last_event);
		spill_slots(q, head, n);
		pthread_mutex_lock(&q->lock);
		recycle_slots(q, head, n);
		q->head = (q->head + n) % q->cap;
		q->count -= n;
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int vigil_luahost__start(struct vigil_luahost *h)
{
	struct lh_queue *q = &h->q;
	int err;

	if (!h)
		return -EINVAL;
	if (q->started)
		return -EALREADY;
	err = pthread_create(&q->thread, NULL, rules_main, h);
	if (err)
		return -err;
	q->started = true;
	return 0;
}

/* Held posts wake the rules thread themselves only once this many wait: a long drain of the
 * ring buffer overlaps with the rules instead of handing them everything at its end. */
#define LH_HELD_MAX 64

static int post(struct vigil_luahost *h, enum vigil_event_type type, const void *data, size_t len, bool wake)
{
	struct lh_queue *q = &h->q;
	int bit = lh_type_bit(type), err = 0;
	struct lh_slot *s;

	if (!q->started || bit < 0)
		return -EINVAL;
	pthread_mutex_lock(&q->lock);
	if (q->count == q->cap) {
		atomic_fetch_add(&q->dropped[bit], 1);
		atomic_fetch_add(&q->dropped_all, 1);
		err = -EAGAIN;
		goto out;
	}
	s = &q->slots[(q->head + q->count) % q->cap];
	if (!s->data.data && q->npool)
		s->data = q->pool[--q->npool];
	vigil_buf_reset(&s->data);
	if (vigil_buf_append(&s->data, data, len)) {
		err = -ENOMEM;
		goto out;
	}
	s->bit = bit;
	q->count++;
	if (q->waiting && (wake || q->idle || q->count >= LH_HELD_MAX)) {
		pthread_cond_signal(&q->wake);
		q->held_since = 0;
	} else if (q->waiting && !q->held_since) {
		q->held_since = lh_mono_ns();
	}
out:
	pthread_mutex_unlock(&q->lock);
	return err;
}

int vigil_luahost__post(struct vigil_luahost *h, enum vigil_event_type type, const void *data, size_t len)
{
	return post(h, type, data, len, true);
}

int vigil_luahost__post_held(struct vigil_luahost *h, enum vigil_event_type type, const void *data, size_t len)
{
	return post(h, type, data, len, false);
}

void vigil_luahost__wake(struct vigil_luahost *h, uint64_t hold_ns)
{
	struct lh_queue *q = &h->q;

	if (!q->started)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->waiting && q->count && (!hold_ns || !q->held_since || lh_mono_ns() - q->held_since >= hold_ns)) {
		pthread_cond_signal(&q->wake);
		q->held_since = 0;
	}
	pthread_mutex_unlock(&q->lock);
}

void lh_queue_kick(struct vigil_luahost *h)
{
	struct lh_queue *q = &h->q;

	if (!q->started)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->waiting)
		pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

uint64_t vigil_luahost__dropped(struct vigil_luahost *h)
{
	return h ? atomic_load(&h->q.dropped_all) : 0;
}

uint64_t lh_rule_dropped(struct vigil_luahost *h, const struct lh_rule *r)
{
	uint64_t n = 0;
	int bit;

	if (r->pub.disabled)
		return r->dropped_final;
	for (bit = 0; bit < 8; bit++)
		if (r->events & (1u << bit))
			n += atomic_load(&h->q.dropped[bit]) - r->dropped_base[bit];
	return n;
}

void lh_queue_baseline(struct vigil_luahost *h, struct lh_rule *r)
{
	int bit;

	for (bit = 0; bit < 8; bit++)
		r->dropped_base[bit] = atomic_load(&h->q.dropped[bit]);
}

void lh_queue_fini(struct vigil_luahost *h)
{
	struct lh_queue *q = &h->q;
	size_t i;

	if (!q->slots)
		return;
	if (q->started) {
		pthread_mutex_lock(&q->lock);
		q->stop = true;
		pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->lock);
		pthread_join(q->thread, NULL);
		q->started = false;
	}
	for (i = 0; i < q->cap; i++)
		vigil_buf_free(&q->slots[i].data);
	for (i = 0; i < q->npool; i++)
		vigil_buf_free(&q->pool[i]);
	free(q->slots);
	free(q->pool);
	q->slots = NULL;
	q->pool = NULL;
	q->npool = 0;
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
}
