/* ctl_tls_rate.c - how often one client address may use the TLS listener. Before the
 * handshake a peer is only an address, and a handshake costs the agent a few ms of CPU; after
 * it, a verified client's `status` costs as much again. Each address has a token bucket of
 * `rate` tokens a second, holding at most two seconds' worth: a new connection takes a token
 * or is closed at once (before any handshake), a request takes one or waits for it (served
 * later, never dropped). The table is bounded: when it is full, the address heard from
 * longest ago gives up its slot (it comes back with a full bucket). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_tls_internal.h"

/* The 16 bytes of the peer's address: IPv4 as IPv4-mapped IPv6; the port is left out. */
static void address_key(const struct sockaddr_storage *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* The bucket of key, made (full) when missing: under t->rate_lock. */
static struct tls_bucket *bucket(struct ctl_tls *t, const uint8_t key[16], uint64_t now)
{
	struct tls_bucket *b, *oldest = &t->buckets[0];
	size_t i;

	for (i = 0; i < TLS_RATE_CLIENTS; i++) {
		b = &t->buckets[i];
		if (b->used && !memcmp(b->key, key, 16))
			return b;
		if (!b->used || (oldest->used && b->last_ms < oldest->last_ms))
			oldest = b;
	}
	memcpy(oldest->key, key, 16);
	oldest->used = true;
	oldest->tokens = 2.0 * t->rate;
	oldest->last_ms = now;
	return oldest;
}

/* Take a token for the address: 0, or how many ms until one is there. */
static uint64_t take(struct ctl_tls *t, const uint8_t key[16])
{
	uint64_t now = bus_now_ms(), wait = 0;
	struct tls_bucket *b;

	pthread_mutex_lock(&t->rate_lock);
	b = bucket(t, key, now);
	b->tokens += (double)(now - b->last_ms) * t->rate / 1000.0;
	if (b->tokens > 2.0 * t->rate)
		b->tokens = 2.0 * t->rate;
	b->last_ms = now;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait = (uint64_t)((1.0 - b->tokens) * 1000.0 / t->rate) + 1;
	pthread_mutex_unlock(&t->rate_lock);
	return wait;
}

bool bus_tls_rate_connect(struct ctl_tls *t, const struct sockaddr_storage *sa)
{
	uint8_t key[16];

	if (!t->rate)
		return true;
	address_key(sa, key);
	if (!take(t, key))
		return true;
	atomic_fetch_add(&t->rate_limited, 1);
	return false;
}

int bus_tls_rate_request(struct tls_conn *c)
{
	struct ctl_tls *t = c->t;
	uint64_t wait;
	bool counted = false;

	if (!t->rate)
		return 0;
	while ((wait = take(t, c->key))) {
		if (!counted)
			atomic_fetch_add(&t->throttled, 1);
		counted = true;
		if (atomic_load(&t->stop))
			return -ECANCELED;
		usleep((useconds_t)(wait < TLS_SUB_POLL_MS ? wait : TLS_SUB_POLL_MS) * 1000);
	}
	return 0;
}

void bus_tls_rate_key(struct tls_conn *c, const struct sockaddr_storage *sa)
{
	address_key(sa, c->key);
}
