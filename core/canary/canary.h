/* canary.h - GetUrl and DnsLookup, the two actions Tetragon carries out in user space: when
 * a selector with one matches, the agent makes an HTTP GET of argUrl or a DNS lookup of
 * argFqdn (a "canary" that tells a listener the selector fired).
 *
 * Off the event path: vigil_canary__submit only queues (never blocks, never does I/O) and
 * one worker thread makes the requests with short timeouts. Whoever triggers a selector
 * may be an unprivileged user in a loop, so each policy has a token bucket
 * (VIGIL_CANARY_BURST at once, then VIGIL_CANARY_PER_MINUTE) and the queue is bounded;
 * what either refuses is counted, as are the requests made and their failures. */
#ifndef VIGIL_CANARY_H
#define VIGIL_CANARY_H

#include <stdint.h>

#include "common/common.h"

#define VIGIL_CANARY_BURST 5		/* requests one policy may make at once */
#define VIGIL_CANARY_PER_MINUTE 30	/* then this many a minute, per policy */
#define VIGIL_CANARY_QUEUE 64		/* requests waiting for the worker, all policies */
#define VIGIL_CANARY_DNS_DEFAULT "1.1.1.1:53"	/* Tetragon's resolver for DnsLookup */

enum vigil_canary_kind {
	VIGIL_CANARY_URL,		/* GetUrl: HTTP or HTTPS GET */
	VIGIL_CANARY_DNS,		/* DnsLookup: an A query */
};

struct vigil_canary_opts {
	size_t sz;			/* sizeof(struct vigil_canary_opts) */
	const char *dns_server;		/* "ADDR:PORT" (IPv4, or [IPv6]:PORT); NULL: VIGIL_CANARY_DNS_DEFAULT */
	unsigned int timeout_ms;	/* per request; 0: 3000 */
	/* https GetUrl: a PEM file of the CAs to trust instead of the system's store
	 * (/etc/ssl/certs), for a listener with a private CA; checked readable by
	 * vigil_canary__new. NULL: the system's store. Verification is always on. */
	const char *ca_file;
};

struct vigil_canary_stats {
	uint64_t requested;		/* selectors that matched with a canary action */
	uint64_t sent;			/* requests made that got an answer */
	uint64_t failed;		/* requests made that failed (no answer, refused, timeout) */
	uint64_t rate_limited;		/* not made: the policy's bucket was empty */
	uint64_t queue_full;		/* not made: the worker's queue was full */
	/* the same five, per kind (enum vigil_canary_kind): the metrics label them */
	struct vigil_canary_kind_stats {
		uint64_t requested, sent, failed, rate_limited, queue_full;
	} kind[2];
};

struct vigil_canary;

/* Start the worker. Returns NULL with errno set (EINVAL: a dns_server that is no
 * ADDR:PORT; ENOENT, EACCES ...: a ca_file that cannot be read). Free with
 * vigil_canary__free. */
struct vigil_canary *vigil_canary__new(const struct vigil_canary_opts *opts);

/* Queue a request for policy (its name, the rate limit's key) to target (the URL or the
 * name); both are copied. Never blocks. Returns 0, -EAGAIN when rate limited, -ENOBUFS
 * when the queue is full, -ENAMETOOLONG for a target too long to queue, -EINVAL for a kind
 * that is not one of enum vigil_canary_kind. */
int vigil_canary__submit(struct vigil_canary *c, const char *policy, enum vigil_canary_kind kind,
			 const char *target);

/* Wait until the queue is empty and the worker idle, at most timeout_ms (tests). 0 or
 * -ETIMEDOUT. */
int vigil_canary__drain(struct vigil_canary *c, unsigned int timeout_ms);

void vigil_canary__stats(struct vigil_canary *c, struct vigil_canary_stats *out);

/* Stop the worker (an unfinished request is abandoned at its next timeout) and free.
 * Accepts NULL. */
void vigil_canary__free(struct vigil_canary *c);

#endif
