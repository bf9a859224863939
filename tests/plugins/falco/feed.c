/* feed.c - publish synthetic vigil events on a bus, as vigild would, for the sysdig test
 * (kprobe events the agent cannot emit yet) and for the benchmark (a steady stream).
 *
 * usage: falco_feed --bus URL [--subscribers K] [--count N] [--rate EVENTS_PER_S] [--agent-pub] SPEC...
 *   SPEC  exec:PID:BINARY:ARGS | exit:PID:BINARY:STATUS | kprobe:PID:BINARY:PATH:DADDR:DPORT
 *         | alert:PID:RULE:PRIORITY
 * Binds the bus, waits until K subscribers are connected (default 1), then publishes the
 * specs in turn until N events went out (default: each spec once), paced to the rate
 * (default: as fast as the socket takes them). Prints "sent N dropped D" at the end.
 *
 * --agent-pub publishes as vigild does: libvigil's publisher (its own SP listener with a
 * 4 MiB queue per subscriber, every message stamped with a sequence number, so the
 * subscriber counts what it missed). Without it, a plain nanomsg NN_PUB, whose ipc pipe
 * takes one message at a time from its worker thread and silently drops the others while
 * that thread waits for a core: on a loaded machine that, not the subscriber, bounds the
 * rate (tests/bench/DELIVERY.md).
 */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/bus.h"
#include "common/common.h"
#include "testevents.h"

#define MAX_SPECS 64

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int encode_spec(char *spec, struct vigil_buf *out)
{
	char *f[6] = { 0 }, *save = NULL, *kind = strtok_r(spec, ":", &save);
	int n = 0;

	while (n < 6 && (f[n] = strtok_r(NULL, n == 2 && kind && !strcmp(kind, "exec") ? "" : ":", &save)))
		n++;
	if (!kind)
		return -EINVAL;
	if (!strcmp(kind, "exec") && n >= 2)
		return tev_exec(out, (uint32_t)atoi(f[0]), f[1], n > 2 ? f[2] : "");
	if (!strcmp(kind, "exit") && n == 3)
		return tev_exit(out, (uint32_t)atoi(f[0]), f[1], (uint32_t)atoi(f[2]), 0);
	if (!strcmp(kind, "kprobe") && n == 5)
		return tev_kprobe(out, (uint32_t)atoi(f[0]), f[1], f[2], f[3], (uint32_t)atoi(f[4]));
	if (!strcmp(kind, "alert") && n == 3)
		return tev_alert(out, (uint32_t)atoi(f[0]), f[1], f[2]);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct vigil_buf events[MAX_SPECS] = { 0 };
	const char *bus = NULL;
	long subscribers = 1, count = -1, rate = 0, sent = 0, dropped = 0, v;
	int sock = -1, i, nspecs = 0, ret = 1;
	bool agent_pub = false;
	struct vigil_pub *pub = NULL;
	struct vigil_buf msg = { 0 };
	double start, deadline;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bus") && i + 1 < argc) {
			bus = argv[++i];
		} else if (!strcmp(argv[i], "--agent-pub")) {
			agent_pub = true;
		} else if ((!strcmp(argv[i], "--subscribers") || !strcmp(argv[i], "--count") ||
			    !strcmp(argv[i], "--rate")) && i + 1 < argc) {
			if (vigil_parse_long(argv[i + 1], 0, 100000000, &v)) {
				fprintf(stderr, "falco_feed: bad value for %s: %s\n", argv[i], argv[i + 1]);
				goto out;
			}
			if (!strcmp(argv[i], "--subscribers"))
				subscribers = v;
			else if (!strcmp(argv[i], "--count"))
				count = v;
			else
				rate = v;
			i++;
		} else if (nspecs < MAX_SPECS) {
			if (encode_spec(argv[i], &events[nspecs])) {
				fprintf(stderr, "falco_feed: bad event spec '%s'\n", argv[i]);
				goto out;
			}
			nspecs++;
		}
	}
	if (!bus || !nspecs) {
		fprintf(stderr, "usage: falco_feed --bus URL [--subscribers K] [--count N] [--rate R] SPEC...\n");
		goto out;
	}
	if (count < 0)
		count = nspecs;

	if (agent_pub) {
		pub = vigil_pub__open(bus, 0600);
		if (!pub) {
			fprintf(stderr, "falco_feed: cannot publish on %s: %s\n", bus, strerror(errno));
			goto out;
		}
		deadline = now_s() + 30;
		while (vigil_pub__peers(pub, NULL, 0) < (size_t)subscribers && now_s() < deadline)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
		if (vigil_pub__peers(pub, NULL, 0) < (size_t)subscribers) {
			fprintf(stderr, "falco_feed: %ld subscribers did not connect within 30 s\n", subscribers);
			goto out;
		}
		/* a connection counts before its SP header exchange ends, and gets nothing until
		 * then: give it time on a busy machine */
		nanosleep(&(struct timespec){ 1, 0 }, NULL);
		start = now_s();
		for (sent = 0; sent < count; sent++) {
			const struct vigil_buf *ev = &events[sent % nspecs];

			while (rate && sent > (now_s() - start) * (double)rate)
				nanosleep(&(struct timespec){ 0, 200000 }, NULL);
			/* the stamp is added in place: publish a fresh copy each time */
			vigil_buf_reset(&msg);
			if (vigil_buf_append(&msg, ev->data, ev->len) || vigil_pub__publish(pub, &msg, NULL))
				dropped++;
		}
		printf("sent %ld dropped %ld in %.3f s\n", sent, dropped + (long)vigil_pub__dropped(pub),
		       now_s() - start);
		fflush(stdout);
		/* our publisher flushes from its own thread: linger until the queues drained */
		deadline = now_s() + 10;
		for (;;) {
			struct vigil_pub_peer peers[8];
			size_t k, np = vigil_pub__peers(pub, peers, 8);
			uint64_t left = 0;

			for (k = 0; k < np && k < 8; k++)
				left += peers[k].queued_bytes;
			if (!left || now_s() > deadline) {
				for (k = 0; k < np && k < 8; k++)
					fprintf(stderr, "falco_feed: subscriber %d took %llu, dropped %llu, left %llu bytes\n",
						(int)peers[k].pid, (unsigned long long)peers[k].sent,
						(unsigned long long)peers[k].dropped, (unsigned long long)peers[k].queued_bytes);
				break;
			}
			nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
		}
		nanosleep(&(struct timespec){ 0, 500000000 }, NULL);
		ret = 0;
		goto out;
	}
	sock = nn_socket(AF_SP, NN_PUB);
	/* the agent's publisher queues 4 MiB per subscriber (core/bus/pub.c): so does this one,
	 * so that a feeder that falls behind and catches up in a burst is not what drops */
	if (sock >= 0)
		nn_setsockopt(sock, NN_SOL_SOCKET, NN_SNDBUF, &(int){ 4 * 1024 * 1024 }, sizeof(int));
	if (sock < 0 || nn_bind(sock, bus) < 0) {
		fprintf(stderr, "falco_feed: cannot bind %s: %s\n", bus, nn_strerror(errno));
		goto out;
	}
	/* PUB drops what no subscriber is connected to take: wait for them */
	deadline = now_s() + 30;
	while ((long)nn_get_statistic(sock, NN_STAT_CURRENT_CONNECTIONS) < subscribers && now_s() < deadline)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	if ((long)nn_get_statistic(sock, NN_STAT_CURRENT_CONNECTIONS) < subscribers) {
		fprintf(stderr, "falco_feed: %ld subscribers did not connect within 30 s\n", subscribers);
		goto out;
	}
	/* the connection counts before the SP header exchange ends: let it finish */
	nanosleep(&(struct timespec){ 0, 300000000 }, NULL);

	start = now_s();
	for (sent = 0; sent < count; sent++) {
		while (rate && sent > (now_s() - start) * (double)rate)
			nanosleep(&(struct timespec){ 0, 200000 }, NULL);
		if (nn_send(sock, events[sent % nspecs].data, events[sent % nspecs].len, NN_DONTWAIT) < 0)
			dropped++;
	}
	printf("sent %ld dropped %ld in %.3f s\n", sent, dropped, now_s() - start);
	fflush(stdout);
	/* nanomsg sends from its own thread: linger so the last messages leave */
	nanosleep(&(struct timespec){ 0, 500000000 }, NULL);
	ret = 0;
out:
	vigil_pub__close(pub);
	vigil_buf_free(&msg);
	if (sock >= 0)
		nn_close(sock);
	for (i = 0; i < nspecs; i++)
		vigil_buf_free(&events[i]);
	return ret;
}
