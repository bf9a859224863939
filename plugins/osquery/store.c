/* store.c - a bounded ring of rows that forgets them after a time.
 *
 * osquery's own event expiry (--events_expiry) never reaches an extension's tables, so
 * the extension keeps at most capacity rows per table and drops each expiry_s seconds
 * after it arrived (in milliseconds of CLOCK_MONOTONIC, which no clock change moves).
 * Rows arrive in order, so the oldest is always at the head of the ring and both limits
 * are enforced by popping from there.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "table.h"

struct store {
	pthread_mutex_t lock;
	bool lock_ready;
	struct row **ring;
	size_t capacity, head, size;	/* oldest at head, next free at head + size */
	uint64_t expiry_ms;
	uint64_t pushed, dropped, expired;
};

uint64_t mono_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct store *store_new(size_t capacity, unsigned int expiry_s)
{
	struct store *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	if (!capacity || !expiry_s) {
		err = -EINVAL;
		goto err_out;
	}
	s->capacity = capacity;
	s->expiry_ms = (uint64_t)expiry_s * 1000;
	s->ring = calloc(capacity, sizeof(*s->ring));
	if (!s->ring) {
		err = -ENOMEM;
		goto err_out;
	}
	err = -pthread_mutex_init(&s->lock, NULL);
	if (err)
		goto err_out;
	s->lock_ready = true;
	return s;

err_out:
	store_free(s);
	errno = -err;
	return NULL;
}

void store_free(struct store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; s->ring && i < s->size; i++)
		free(s->ring[(s->head + i) % s->capacity]);
	free(s->ring);
	if (s->lock_ready)
		pthread_mutex_destroy(&s->lock);
	free(s);
}

static void pop_oldest(struct store *s)
{
	free(s->ring[s->head]);
	s->ring[s->head] = NULL;
	s->head = (s->head + 1) % s->capacity;
	s->size--;
}

/* Called with the lock held. */
static void expire(struct store *s, uint64_t now)
{
	while (s->size && now >= s->ring[s->head]->arrived && now - s->ring[s->head]->arrived >= s->expiry_ms) {
		pop_oldest(s);
		s->expired++;
	}
}

void store_push(struct store *s, struct row *row, uint64_t now)
{
	pthread_mutex_lock(&s->lock);
	expire(s, now);
	if (s->size == s->capacity) {
		pop_oldest(s);
		s->dropped++;
	}
	s->ring[(s->head + s->size) % s->capacity] = row;
	s->size++;
	s->pushed++;
	pthread_mutex_unlock(&s->lock);
}

int store_each(struct store *s, uint64_t now, int (*fn)(const struct row *row, void *arg), void *arg)
{
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	expire(s, now);
	for (i = 0; !ret && i < s->size; i++)
		ret = fn(s->ring[(s->head + i) % s->capacity], arg);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void store_stats(struct store *s, struct store_stats *out)
{
	pthread_mutex_lock(&s->lock);
	out->size = s->size;
	out->pushed = s->pushed;
	out->dropped = s->dropped;
	out->expired = s->expired;
	pthread_mutex_unlock(&s->lock);
}
