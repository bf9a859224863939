/* bench_latency BUS RATE SECONDS [LONE] - kernel-to-subscriber latency of policy events.
 *
 * A thread makes RATE getppid syscalls a second for SECONDS (paced in 1 ms steps); the agent,
 * given a policy on syscalls/sys_enter_getppid for this binary (bench_latency.py writes it),
 * publishes one event for each. The main thread subscribes to BUS and, for every event of
 * that policy, takes the latency as its receive time (CLOCK_REALTIME) minus the event's
 * `time` (the kernel's clock turned into wall time by the agent). Then LONE (default 5)
 * single syscalls 300 ms apart: each alone in the ring buffer, which the kernel does not
 * wake the reader for (wake-ups are batched), so it waits for the agent's poll bound.
 * Prints one line of JSON: {"rate", "sent", "received", "p50_us", "p99_us", "max_us",
 * "p99_windows_us": [...], "lone_ms": [...], "missed"}: p99_windows_us is the p99 of each
 * half second of receive time, sorted, so that a stall of the whole machine (tens of ms on
 * our shared VMs, which puts a thousand events past 1 ms, enough to make the p99 alone) shows
 * as what it is: one bad window among calm ones. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "common/common.h"
#include "encode/encode.h"

static long rate, seconds;
static volatile int generating = 1;

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* RATE a second, in bursts of RATE/1000 each millisecond */
static void *generate(void *arg)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), step = 1000000ULL;
	long per_ms = rate / 1000 ? rate / 1000 : 1, ms, i;

	(void)arg;
	for (ms = 0; ms < seconds * 1000; ms++) {
		uint64_t at = start + (uint64_t)ms * step;
		struct timespec ts = { .tv_sec = (time_t)(at / 1000000000ULL), .tv_nsec = (long)(at % 1000000000ULL) };

		/* slept, not spun: on a small machine a spinning generator takes the agent's core */
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		for (i = 0; i < per_ms; i++)
			syscall(SYS_getppid);
	}
	generating = 0;
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The latency of a message that is a tracepoint event (the policy's, this process's only),
 * in ns; 0 for any other. Read from the raw bytes, not decoded: the subscriber must keep up
 * with the agent at the rates measured, or its own queue becomes the latency. The event is
 * {"process_tracepoint": {...}, "node_name": ..., "time": "<RFC 3339>", stamp}: the root's
 * "time" is the last key spelled exactly that way (the process's is "start_time"). */
static uint64_t latency_of(const unsigned char *d, size_t len, uint64_t recv_ns)
{
	static const unsigned char key[] = "\xb2process_tracepoint", tkey[] = "\xa4time";
	const unsigned char *t = NULL, *p;
	uint64_t ev_ns;
	size_t n;

	if (len < sizeof(key) || (d[0] & 0xf0) != 0x80 || memcmp(d + 1, key, sizeof(key) - 1))
		return 0;
	for (p = d; (p = memmem(p, len - (size_t)(p - d), tkey, sizeof(tkey) - 1)); p++)
		t = p + sizeof(tkey) - 1;
	if (!t || t >= d + len)
		return 0;
	if ((*t & 0xe0) == 0xa0) {
		n = *t & 0x1f;
		t++;
	} else if (*t == 0xd9 && t + 1 < d + len) {
		n = t[1];
		t += 2;
	} else {
		return 0;
	}
	if (t + n > d + len || vigil_parse_time((const char *)t, n, &ev_ns))
		return 0;
	return recv_ns > ev_ns ? recv_ns - ev_ns : 1;
}

/* Half seconds of receive time, each with its own p99 */
#define WINDOW_NS 500000000ULL
#define MAX_WINDOWS 64
static uint64_t started_ns;	/* CLOCK_MONOTONIC when the stream started */
static uint8_t *window_of;	/* per latency noted: its window */

/* Receive for up to ms, noting latencies into lat (at most cap); the number noted. */
static size_t collect(struct vigil_sub *s, int ms, uint64_t *lat, size_t cap)
{
	uint64_t until = now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ULL, l;
	size_t n = 0;
	void *data;
	int len;

	while (now_ns(CLOCK_MONOTONIC) < until) {
		len = vigil_sub__recv(s, &data);
		if (len == -ETIMEDOUT || len == -EINTR)
			continue;
		if (len < 0)
			break;
		l = latency_of(data, (size_t)len, now_ns(CLOCK_REALTIME));
		vigil_bus_msg_free(data);
		if (l && n < cap) {
			uint64_t w = (now_ns(CLOCK_MONOTONIC) - started_ns) / WINDOW_NS;

			if (window_of)
				window_of[n] = (uint8_t)(w < MAX_WINDOWS - 1 ? w : MAX_WINDOWS - 1);
			lat[n++] = l;
		}
	}
	return n;
}

/* The p99 of each window of at least 1000 latencies, sorted, into p99s; how many. */
static size_t window_p99s(const uint64_t *lat, size_t n, uint64_t *p99s)
{
	uint64_t *one = calloc(n ? n : 1, sizeof(*one));
	size_t w, i, k, nw = 0;

	for (w = 0; one && w < MAX_WINDOWS; w++) {
		for (i = 0, k = 0; i < n; i++)
			if (window_of[i] == w)
				one[k++] = lat[i];
		if (k < 1000)
			continue;
		qsort(one, k, sizeof(*one), cmp_u64);
		p99s[nw++] = one[k * 99 / 100];
	}
	free(one);
	qsort(p99s, nw, sizeof(*p99s), cmp_u64);
	return nw;
}

int main(int argc, char **argv)
{
	long lone = argc > 4 ? strtol(argv[4], NULL, 10) : 5, i;
	uint64_t *lat, lone_lat[64], p99s[MAX_WINDOWS];
	size_t n, cap, k, nw;
	struct vigil_sub *s;
	pthread_t gen;

	if (argc < 4 || (rate = strtol(argv[2], NULL, 10)) <= 0 || (seconds = strtol(argv[3], NULL, 10)) <= 0 ||
	    lone < 0 || lone > 64) {
		fprintf(stderr, "usage: bench_latency BUS RATE SECONDS [LONE]\n");
		return 2;
	}
	cap = (size_t)(rate * seconds) + 1024;
	lat = calloc(cap, sizeof(*lat));
	window_of = calloc(cap, 1);
	s = vigil_sub__open(argv[1], 10);
	if (!lat || !window_of || !s) {
		fprintf(stderr, "bench_latency: %s\n", strerror(errno));
		return 1;
	}
	vigil_sub__set(s, VIGIL_SUB_RECV_BUFFER, 64 << 20);
	collect(s, 500, lat, 0);	/* the subscription settles; nothing of ours yet */
	started_ns = now_ns(CLOCK_MONOTONIC);
	pthread_create(&gen, NULL, generate, NULL);
	n = collect(s, (int)(seconds * 1000 + 1000), lat, cap);
	pthread_join(gen, NULL);
	nw = window_p99s(lat, n, p99s);
	free(window_of);
	window_of = NULL;	/* the lone events' windows are not noted */
	/* lone events: each the only record in the ring buffer */
	for (i = 0, k = 0; i < lone; i++) {
		syscall(SYS_getppid);
		if (collect(s, 300, &lone_lat[k], 1))
			k++;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("{\"rate\": %ld, \"sent\": %ld, \"received\": %zu, \"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f, "
	       "\"missed\": %llu, \"p99_windows_us\": [",
	       rate, (rate / 1000 ? rate / 1000 : 1) * seconds * 1000, n, n ? lat[n / 2] / 1e3 : 0.0,
	       n ? lat[n * 99 / 100] / 1e3 : 0.0, n ? lat[n - 1] / 1e3 : 0.0,
	       (unsigned long long)vigil_sub__missed(s));
	for (i = 0; i < (long)nw; i++)
		printf("%s%.1f", i ? ", " : "", p99s[i] / 1e3);
	printf("], \"lone_ms\": [");
	for (i = 0; i < (long)k; i++)
		printf("%s%.2f", i ? ", " : "", lone_lat[i] / 1e6);
	printf("]}\n");
	vigil_sub__close(s);
	free(lat);
	return 0;
}
