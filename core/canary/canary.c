/* canary.c - the queue, the per-policy token buckets and the worker of GetUrl/DnsLookup. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "canary.h"
#include "canary_internal.h"

#define TARGET_MAX 512		/* a URL or a name, NUL included */
#define POLICY_MAX 128
#define BUCKETS 64		/* policies remembered; the least recently used one is reused */

struct request {
	enum vigil_canary_kind kind;
	char target[TARGET_MAX];
};

struct bucket {
	char policy[POLICY_MAX];
	double tokens;
	long long refilled_ms, used_ms;
};

struct vigil_canary {
	struct sockaddr_storage dns;
	socklen_t dns_len;
	int timeout_ms;
	char *ca_file;		/* https: the CAs to trust; NULL: the system's */
	pthread_t thread;
	bool started, stop, busy;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	struct request q[VIGIL_CANARY_QUEUE];
	size_t head, n;
	struct bucket buckets[BUCKETS];
	struct vigil_canary_stats stats;
};

long long canary_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int canary_wait(int fd, short events, long long deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left;
	int r;

	for (;;) {
		left = deadline_ms - canary_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* "1.2.3.4:53" or "[::1]:53" */
static int parse_server(const char *s, struct sockaddr_storage *out, socklen_t *len)
{
	char host[64];
	const char *colon;
	char *end;
	unsigned long port;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - s - 1);
		if (n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, n);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		n = (size_t)(colon - s);
		memcpy(host, s, n);
	}
	host[n] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || !port || port > 65535)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)out)->sin_addr) == 1) {
		((struct sockaddr_in *)out)->sin_family = AF_INET;
		((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)out)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)out)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

static void *worker(void *arg)
{
	struct vigil_canary *c = arg;
	struct request r;
	int err;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->n && !c->stop) {
			c->busy = false;
			pthread_cond_broadcast(&c->idle);
			pthread_cond_wait(&c->wake, &c->lock);
		}
		if (c->stop)
			break;
		r = c->q[c->head];
		c->head = (c->head + 1) % VIGIL_CANARY_QUEUE;
		c->n--;
		c->busy = true;
		pthread_mutex_unlock(&c->lock);
		if (r.kind == VIGIL_CANARY_URL && !strncmp(r.target, "https://", 8))
			err = canary_https_get(r.target, c->timeout_ms, c->ca_file);
		else if (r.kind == VIGIL_CANARY_URL)
			err = canary_http_get(r.target, c->timeout_ms);
		else
			err = canary_dns_lookup((struct sockaddr *)&c->dns, c->dns_len, r.target, c->timeout_ms);
		pthread_mutex_lock(&c->lock);
		if (err) {
			c->stats.failed++;
			c->stats.kind[r.kind].failed++;
			pr_debug("canary: %s %s: %s", r.kind == VIGIL_CANARY_URL ? "GET" : "lookup of", r.target,
				 strerror(-err));
		} else {
			c->stats.sent++;
			c->stats.kind[r.kind].sent++;
		}
	}
	c->busy = false;
	pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct vigil_canary *vigil_canary__new(const struct vigil_canary_opts *opts)
{
	struct vigil_canary *c = calloc(1, sizeof(*c));
	const char *dns = opts && opts->dns_server ? opts->dns_server : VIGIL_CANARY_DNS_DEFAULT;
	int err;

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->timeout_ms = opts && opts->timeout_ms ? (int)opts->timeout_ms : 3000;
	err = parse_server(dns, &c->dns, &c->dns_len);
	/* a CA file that cannot be read would fail every https request later: say so now */
	if (!err && opts && opts->ca_file && access(opts->ca_file, R_OK))
		err = -errno;
	if (!err && opts && opts->ca_file && !(c->ca_file = strdup(opts->ca_file)))
		err = -ENOMEM;
	if (!err)
		err = -pthread_create(&c->thread, NULL, worker, c);
	if (err)
		goto err_out;
	c->started = true;
	return c;

err_out:
	vigil_canary__free(c);
	errno = -err;
	return NULL;
}

/* The policy's bucket, refilled for the time since; a policy not seen yet takes the least
 * recently used slot with a full bucket. Under lock. */
static struct bucket *bucket_of(struct vigil_canary *c, const char *policy, long long now)
{
	struct bucket *b = NULL, *oldest = &c->buckets[0];
	size_t i;

	for (i = 0; i < BUCKETS && !b; i++) {
		if (!strncmp(c->buckets[i].policy, policy, POLICY_MAX - 1) && c->buckets[i].policy[0])
			b = &c->buckets[i];
		else if (c->buckets[i].used_ms < oldest->used_ms)
			oldest = &c->buckets[i];
	}
	if (!b) {
		b = oldest;
		snprintf(b->policy, sizeof(b->policy), "%s", policy);
		b->tokens = VIGIL_CANARY_BURST;
		b->refilled_ms = now;
	}
	b->tokens += (double)(now - b->refilled_ms) * VIGIL_CANARY_PER_MINUTE / 60000.0;
	if (b->tokens > VIGIL_CANARY_BURST)
		b->tokens = VIGIL_CANARY_BURST;
	b->refilled_ms = now;
	b->used_ms = now;
	return b;
}

int vigil_canary__submit(struct vigil_canary *c, const char *policy, enum vigil_canary_kind kind, const char *target)
{
	long long now = canary_now_ms();
	struct bucket *b;
	struct request *r;
	int err = 0;

	if (strlen(target) >= TARGET_MAX)
		return -ENAMETOOLONG;
	if (kind != VIGIL_CANARY_URL && kind != VIGIL_CANARY_DNS)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	c->stats.requested++;
	c->stats.kind[kind].requested++;
	b = bucket_of(c, policy ? policy : "", now);
	if (b->tokens < 1) {
		c->stats.rate_limited++;
		c->stats.kind[kind].rate_limited++;
		err = -EAGAIN;
	} else if (c->n == VIGIL_CANARY_QUEUE) {
		c->stats.queue_full++;
		c->stats.kind[kind].queue_full++;
		err = -ENOBUFS;
	} else {
		b->tokens -= 1;
		r = &c->q[(c->head + c->n++) % VIGIL_CANARY_QUEUE];
		r->kind = kind;
		snprintf(r->target, sizeof(r->target), "%s", target);
		pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

int vigil_canary__drain(struct vigil_canary *c, unsigned int timeout_ms)
{
	long long deadline = canary_now_ms() + timeout_ms;
	struct timespec ts;
	int err = 0;

	pthread_mutex_lock(&c->lock);
	while ((c->n || c->busy) && !err) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->idle, &c->lock, &ts);
		if (canary_now_ms() >= deadline && (c->n || c->busy))
			err = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

void vigil_canary__stats(struct vigil_canary *c, struct vigil_canary_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}

void vigil_canary__free(struct vigil_canary *c)
{
	if (!c)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	pthread_cond_destroy(&c->idle);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->ca_file);
	free(c);
}
