/* feed.c - publish synthetic vigil events on a bus, as vigild would, for the sysdig test
 * (kprobe events the agent cannot emit yet) and for the benchmark (a steady stream).
 *
 * usage: falco_feed --bus URL [--subscribers K] [--count N] [--rate EVENTS_PER_S] SPEC...
 *   SPEC  exec:PID:BINARY:ARGS | exit:PID:BINARY:STATUS | kprobe:PID:BINARY:PATH:DADDR:DPORT
 *         | alert:PID:RULE:PRIORITY
 * Binds the bus, waits until K subscribers are connected (default 1), then publishes the
 * specs in turn until N events went out (default: each spec once), paced to the rate
 * (default: as fast as the socket takes them). Prints "sent N dropped D" at the end.
 */
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	double start, deadline;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bus") && i + 1 < argc) {
			bus = argv[++i];
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
	if (sock >= 0)
		nn_close(sock);
	for (i = 0; i < nspecs; i++)
		vigil_buf_free(&events[i]);
	return ret;
}
