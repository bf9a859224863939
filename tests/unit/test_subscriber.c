/*
 * test_subscriber.c - the bus subscriber's own SP reader (core/bus/sub_sp.c): nanomsg's
 * NN_PUB over ipc and tcp (and nanomsg's NN_SUB on the agent's publisher), frames of every
 * size, many frames a read from the agent's publisher, what a poll(2) caller sees, an
 * oversized frame, a lost publisher, and peers that are not publishers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>

#include "bus/bus.h"
#include "bus/bus_internal.h"
#include "encode/encode.h"

/* A msgpack map of n entries {"k<i>": i}: an event-shaped message of any size. */
static void event(struct vigil_buf *out, unsigned int n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char key[16];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		msgpack_pack_str_with_body(&pk, key, strlen(key));
		msgpack_pack_uint32(&pk, i);
	}
	vigil_buf_reset(out);
	assert_int_equal(vigil_buf_append(out, sb.data, sb.size), 0);
	msgpack_sbuffer_destroy(&sb);
}

/* Unstamped probes until one gets through (the subscriber connects lazily), then the
 * probes still under way. */
static void subscribed(struct vigil_pub *pub, struct vigil_sub *sub)
{
	struct vigil_buf probe = {0};
	void *data;

	event(&probe, 1);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(vigil_pub__send(pub, probe.data, probe.len), 0);
		if (vigil_sub__wait(sub, 50) == 1) {
			while (vigil_sub__wait(sub, 20) == 1 && vigil_sub__recv(sub, &data) > 0)
				vigil_bus_msg_free(data);
			vigil_buf_free(&probe);
			return;
		}
	}
	fail_msg("no probe reached the subscriber in 100 tries");
}

static void tmp_url(char *dir, char *url, size_t len)
{
	assert_non_null(mkdtemp(dir));
	snprintf(url, len, "ipc://%s/events.sock", dir);
}

/* A nanomsg publisher: every size arrives whole and in order, on ipc and on tcp. */
static void nanomsg_publisher_over(const char *url)
{
	static const size_t sizes[] = {1, 9, 100, 65536 - 9, 65536, 70000, 200000, 3};
	struct vigil_sub *sub;
	char *body;
	void *data;
	int p, r, i;

	p = nn_socket(AF_SP, NN_PUB);
	assert_true(p >= 0);
	assert_true(nn_bind(p, url) >= 0);
	sub = vigil_sub__open(url, 100);
	assert_non_null(sub);
	for (i = 0; i < 100; i++) {	/* "probe" until the subscription is through */
		assert_int_equal(nn_send(p, "probe", 5, 0), 5);
		r = vigil_sub__recv(sub, &data);
		if (r > 0) {
			vigil_bus_msg_free(data);
			break;
		}
	}
	assert_true(i < 100);
	body = malloc(200000);
	assert_non_null(body);
	for (i = 0; i < (int)(sizeof(sizes) / sizeof(sizes[0])); i++) {
		memset(body, 'a' + i, sizes[i]);
		/* one at a time: nanomsg's NN_PUB drops what its pipe is not ready for */
		assert_int_equal(nn_send(p, body, sizes[i], 0), (int)sizes[i]);
		do {
			r = vigil_sub__recv(sub, &data);
			assert_true(r > 0);
			if (r == 5 && !memcmp(data, "probe", 5)) {
				vigil_bus_msg_free(data);
				continue;
			}
			break;
		} while (1);
		assert_int_equal(r, (int)sizes[i]);
		assert_memory_equal(data, body, sizes[i]);
		vigil_bus_msg_free(data);
	}
	free(body);
	vigil_sub__close(sub);
	nn_close(p);
}

/* tcp:// on a free loopback port. */
static void tcp_url(char *url, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t slen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	close(fd);
	snprintf(url, len, "tcp://127.0.0.1:%u", ntohs(sa.sin_port));
}

static void test_nanomsg_publishers_on_ipc_and_tcp_are_read_whole(void **state)
{
	char dir[] = "/tmp/vigil-test-sub-XXXXXX", url[128];

	(void)state;
	tmp_url(dir, url, sizeof(url));
	nanomsg_publisher_over(url);
	unlink(url + 6);
	rmdir(dir);
	tcp_url(url, sizeof(url));
	nanomsg_publisher_over(url);
}

/* The other way round: nanomsg's own NN_SUB (what scripts and older plugins use) reads the
 * agent's publisher, a round's frames written at once. */
static void test_nanomsg_subscribers_read_the_agent_publisher(void **state)
{
	char dir[] = "/tmp/vigil-test-sub-XXXXXX", url[128];
	struct vigil_buf msg = {0};
	struct vigil_pub *pub;
	uint64_t seq = 0;
	void *data;
	int s, r, i, timeout = 100;

	(void)state;
	tmp_url(dir, url, sizeof(url));
	pub = vigil_pub__open(url, 0600);
	assert_non_null(pub);
	s = nn_socket(AF_SP, NN_SUB);
	assert_true(s >= 0);
	assert_int_equal(nn_setsockopt(s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0), 0);
	assert_int_equal(nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &timeout, sizeof(timeout)), 0);
	assert_true(nn_connect(s, url) >= 0);
	event(&msg, 1);
	for (i = 0; i < 100; i++) {	/* unstamped probes until one is through */
		assert_int_equal(vigil_pub__send(pub, msg.data, msg.len), 0);
		if ((r = nn_recv(s, &data, NN_MSG, 0)) > 0) {
			nn_freemsg(data);
			break;
		}
	}
	assert_true(i < 100);
	while ((r = nn_recv(s, &data, NN_MSG, 0)) > 0)
		nn_freemsg(data);
	for (i = 0; i < 10; i++) {
		event(&msg, 50 + (unsigned int)i);
		assert_int_equal(vigil_pub__publish_held(pub, &msg, &seq), 0);
	}
	assert_int_equal(vigil_pub__flush(pub), 0);
	for (i = 0; i < 10; i++) {
		r = nn_recv(s, &data, NN_MSG, 0);
		assert_true(r > 0);
		nn_freemsg(data);
	}
	nn_close(s);
	vigil_pub__close(pub);
	vigil_buf_free(&msg);
	rmdir(dir);
}

/* The agent's publisher writes a round's frames at once: one poll(2) readiness covers them
 * all, the descriptor stays readable while one is buffered and not once they are taken. */
static void test_the_fd_is_readable_while_a_buffered_message_waits(void **state)
{
	char dir[] = "/tmp/vigil-test-sub-XXXXXX", url[128];
	struct vigil_buf msg = {0};
	struct vigil_delivery d0, d;
	struct vigil_pub *pub;
	struct vigil_sub *sub;
	struct pollfd p;
	uint64_t seq = 0;
	void *data;
	int i, fd;

	(void)state;
	tmp_url(dir, url, sizeof(url));
	pub = vigil_pub__open(url, 0600);
	assert_non_null(pub);
	sub = vigil_sub__open(url, 0);	/* never blocks: poll(2) waits, as the forwarder does */
	assert_non_null(sub);
	fd = vigil_sub__fd(sub);
	assert_true(fd >= 0);
	subscribed(pub, sub);
	vigil_sub__delivery(sub, &d0);

	for (i = 0; i < 20; i++) {
		event(&msg, 10 + (unsigned int)i);
		assert_int_equal(vigil_pub__publish_held(pub, &msg, &seq), 0);
	}
	assert_int_equal(vigil_pub__flush(pub), 0);
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_true(vigil_sub__recv(sub, &data) > 0);
	vigil_bus_msg_free(data);
	for (i = 1; i < 20; i++) {
		p.revents = 0;
		assert_int_equal(poll(&p, 1, 1000), 1);	/* buffered by the first read, or on the socket */
		assert_true(vigil_sub__recv(sub, &data) > 0);
		vigil_bus_msg_free(data);
	}
	p.revents = 0;
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(vigil_sub__wait(sub, 0), 0);
	assert_int_equal(vigil_sub__recv(sub, &data), -ETIMEDOUT);
	vigil_sub__delivery(sub, &d);
	assert_int_equal(d.received - d0.received, 20);
	assert_int_equal(d.missed, 0);
	assert_int_equal(d.last_seq, 20);

	vigil_sub__close(sub);
	vigil_pub__close(pub);
	vigil_buf_free(&msg);
	rmdir(dir);
}

/* A message over VIGIL_SUB_MAX_MESSAGE is skipped on the stream (the stamps count it
 * missed); the connection and the messages after it stay. */
static void test_an_oversized_message_is_skipped_and_counted_missed(void **state)
{
	char dir[] = "/tmp/vigil-test-sub-XXXXXX", url[128];
	struct vigil_buf small = {0}, big = {0};
	struct vigil_delivery d0, d;
	struct vigil_pub *pub;
	struct vigil_sub *sub;
	uint64_t seq = 0;
	void *data;

	(void)state;
	tmp_url(dir, url, sizeof(url));
	pub = vigil_pub__open(url, 0600);
	assert_non_null(pub);
	sub = vigil_sub__open(url, 500);
	assert_non_null(sub);
	assert_int_equal(vigil_sub__set(sub, VIGIL_SUB_MAX_MESSAGE, 4096), 0);
	subscribed(pub, sub);
	vigil_sub__delivery(sub, &d0);

	event(&big, 20000);	/* ~200 KB: more than a read, and past the limit */
	assert_true(big.len > 65536);
	event(&small, 3);
	assert_int_equal(vigil_pub__publish_held(pub, &small, &seq), 0);	/* stamps it */
	assert_int_equal(vigil_pub__publish_held(pub, &big, &seq), 0);
	event(&small, 3);
	assert_int_equal(vigil_pub__publish_held(pub, &small, &seq), 0);
	assert_int_equal(vigil_pub__flush(pub), 0);
	assert_int_equal(vigil_sub__recv(sub, &data), (int)small.len);
	vigil_bus_msg_free(data);
	assert_int_equal(vigil_sub__recv(sub, &data), (int)small.len);
	vigil_bus_msg_free(data);
	vigil_sub__delivery(sub, &d);
	assert_int_equal(d.received - d0.received, 2);
	assert_int_equal(d.missed, 1);
	assert_int_equal(d.last_seq, 3);
	assert_int_equal(d.restarts, 0);

	vigil_sub__close(sub);
	vigil_pub__close(pub);
	vigil_buf_free(&small);
	vigil_buf_free(&big);
	rmdir(dir);
}

/* The publisher goes and a new one comes at the same address: a poll(2) caller is woken to
 * reconnect (it never calls recv otherwise), the new incarnation is a restart, and once
 * connected the descriptor is quiet while nothing is published. */
static void reconnect_over(const char *url)
{
	struct vigil_buf msg = {0};
	struct vigil_delivery d;
	struct vigil_pub *pub;
	struct vigil_sub *sub;
	struct pollfd p;
	uint64_t seq = 0;
	void *data;
	int fd, i, r;

	pub = vigil_pub__open(url, 0600);
	assert_non_null(pub);
	sub = vigil_sub__open(url, 0);
	assert_non_null(sub);
	assert_int_equal(vigil_sub__set(sub, VIGIL_SUB_RECONNECT_MS, 20), 0);
	fd = vigil_sub__fd(sub);
	assert_true(fd >= 0);
	subscribed(pub, sub);
	event(&msg, 3);
	assert_int_equal(vigil_pub__publish(pub, &msg, &seq), 0);
	assert_true(vigil_sub__wait(sub, 1000) == 1 && vigil_sub__recv(sub, &data) > 0);
	vigil_bus_msg_free(data);

	vigil_pub__close(pub);
	pub = vigil_pub__open(url, 0600);
	assert_non_null(pub);
	/* only poll(2) and non-blocking recvs, as the forwarder's loop: the stamped message of
	 * the new incarnation must come through */
	for (i = 0, r = 0; i < 200 && r <= 0; i++) {
		p = (struct pollfd){.fd = fd, .events = POLLIN};
		assert_true(poll(&p, 1, 100) >= 0);
		event(&msg, 3);
		assert_int_equal(vigil_pub__publish(pub, &msg, &seq), 0);
		if ((p.revents & POLLIN) && (r = vigil_sub__recv(sub, &data)) > 0)
			vigil_bus_msg_free(data);
	}
	assert_true(r > 0);
	vigil_sub__delivery(sub, &d);
	assert_int_equal(d.restarts, 1);
	while (vigil_sub__wait(sub, 50) == 1 && vigil_sub__recv(sub, &data) > 0)
		vigil_bus_msg_free(data);
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 200), 0);	/* no timer or stale readiness left */

	vigil_sub__close(sub);
	vigil_pub__close(pub);
	vigil_buf_free(&msg);
}

static void test_a_lost_publisher_is_reconnected_for_a_poll_caller(void **state)
{
	char dir[] = "/tmp/vigil-test-sub-XXXXXX", url[128];

	(void)state;
	tmp_url(dir, url, sizeof(url));
	reconnect_over(url);
	rmdir(dir);
	tcp_url(url, sizeof(url));
	reconnect_over(url);
}

/* A listener that is not a publisher: a SUB header, then a publisher's header with a frame
 * that is not a message, then a good frame. Nothing crashes or is delivered until the
 * good one; each bad peer costs one connection. */
static void test_peers_that_are_not_publishers_are_dropped(void **state)
{
	static const char sub_hdr[8] = {0, 'S', 'P', 0, 0, SP_PROTO_SUB, 0, 0};
	static const char pub_hdr[8] = {0, 'S', 'P', 0, 0, SP_PROTO_PUB, 0, 0};
	static const char bad_frame[9 + 1] = {2, 0, 0, 0, 0, 0, 0, 0, 1, 'x'};
	static const char good_frame[9 + 2] = {1, 0, 0, 0, 0, 0, 0, 0, 2, 'o', 'k'};
	char dir[] = "/tmp/vigil-test-sub-XXXXXX", url[128];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vigil_sub *sub;
	void *data;
	char hdr[8];
	int l, c, r;

	(void)state;
	tmp_url(dir, url, sizeof(url));
	assert_true(strlen(url + 6) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, url + 6, strlen(url + 6) + 1);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	sub = vigil_sub__open(url, 50);
	assert_non_null(sub);
	assert_int_equal(vigil_sub__set(sub, VIGIL_SUB_RECONNECT_MS, 10), 0);

	/* 1: another subscriber's header */
	assert_int_equal(vigil_sub__recv(sub, &data), -ETIMEDOUT);	/* connects, sends its own */
	c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	assert_int_equal(recv(c, hdr, sizeof(hdr), MSG_WAITALL), 8);
	assert_memory_equal(hdr, sub_hdr, 8);
	assert_int_equal(send(c, sub_hdr, 8, 0), 8);
	assert_int_equal(vigil_sub__recv(sub, &data), -ETIMEDOUT);
	assert_int_equal(recv(c, hdr, 1, 0), 0);	/* it hung up */
	close(c);

	/* 2: a publisher's header, then a frame of type 2 */
	r = vigil_sub__recv(sub, &data);	/* reconnects after 10 ms */
	assert_int_equal(r, -ETIMEDOUT);
	c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	assert_int_equal(recv(c, hdr, sizeof(hdr), MSG_WAITALL), 8);
	assert_int_equal(send(c, pub_hdr, 8, 0), 8);
	assert_int_equal(send(c, bad_frame, sizeof(bad_frame), 0), (int)sizeof(bad_frame));
	assert_int_equal(vigil_sub__recv(sub, &data), -ETIMEDOUT);
	assert_int_equal(recv(c, hdr, 1, 0), 0);
	close(c);

	/* 3: a good frame, sent a byte at a time */
	assert_int_equal(vigil_sub__recv(sub, &data), -ETIMEDOUT);
	c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	assert_int_equal(recv(c, hdr, sizeof(hdr), MSG_WAITALL), 8);
	assert_int_equal(send(c, pub_hdr, 8, 0), 8);
	for (size_t i = 0; i < sizeof(good_frame); i++) {
		assert_int_equal(send(c, good_frame + i, 1, 0), 1);
		if (i + 1 < sizeof(good_frame))
			assert_int_equal(vigil_sub__wait(sub, 5), 0);
	}
	assert_int_equal(vigil_sub__recv(sub, &data), 2);
	assert_memory_equal(data, "ok", 2);
	vigil_bus_msg_free(data);

	close(c);
	vigil_sub__close(sub);
	close(l);
	unlink(url + 6);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nanomsg_publishers_on_ipc_and_tcp_are_read_whole),
		cmocka_unit_test(test_nanomsg_subscribers_read_the_agent_publisher),
		cmocka_unit_test(test_the_fd_is_readable_while_a_buffered_message_waits),
		cmocka_unit_test(test_an_oversized_message_is_skipped_and_counted_missed),
		cmocka_unit_test(test_a_lost_publisher_is_reconnected_for_a_poll_caller),
		cmocka_unit_test(test_peers_that_are_not_publishers_are_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
