/* test_delivery.c - unit tests for the bus's delivery stamp (core/bus stamp.c) and the
 * subscriber's gap counting (seqtrack.c, sub.c): the stamp survives every map header
 * form, decoding hides it so JSON is unchanged, crafted streams (holes, restarts,
 * repeats, unstamped, malformed, a stamp of the wrong type) are counted as what they are,
 * and a real publisher and subscriber over ipc:// agree. The journal (journal.c) reads
 * back by seq, counts what it never had and what its bound evicted, exactly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/bus.h"
#include "bus/bus_internal.h"
#include "encode/encode.h"

/* {"process_exec": {"process": {"binary": "/bin/true"}}, "node_name": "n", "time": "t",
 * then extra - 3 filler entries "k<i>": i} - extra entries in all */
static void event(struct vigil_buf *out, unsigned int entries)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	unsigned int i;
	char key[16];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, entries);
	msgpack_pack_str_with_body(&pk, "process_exec", 12);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "process", 7);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "binary", 6);
	msgpack_pack_str_with_body(&pk, "/bin/true", 9);
	msgpack_pack_str_with_body(&pk, "node_name", 9);
	msgpack_pack_str_with_body(&pk, "n", 1);
	msgpack_pack_str_with_body(&pk, "time", 4);
	msgpack_pack_str_with_body(&pk, "t", 1);
	for (i = 3; i < entries; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		msgpack_pack_str_with_body(&pk, key, strlen(key));
		msgpack_pack_uint32(&pk, i);
	}
	vigil_buf_reset(out);
	assert_int_equal(vigil_buf_append(out, sb.data, sb.size), 0);
	msgpack_sbuffer_destroy(&sb);
}

static void json_of(const void *data, size_t len, struct vigil_buf *out)
{
	struct vigil_msg *m = vigil_msg__decode(data, len);

	assert_non_null(m);
	vigil_buf_reset(out);
	assert_int_equal(vigil_msg__to_json(m, out), 0);
	vigil_msg__free(m);
}

static void test_stamp_is_hidden_from_json_and_read_back(void **state)
{
	struct vigil_buf msg = {0}, plain = {0}, stamped = {0};
	struct vigil_msg *m;
	uint64_t inc = 0, seq = 0;

	event(&msg, 3);
	json_of(msg.data, msg.len, &plain);
	assert_int_equal(vigil_bus_stamp(&msg, 0x1122334455667788ULL, 42), 0);
	json_of(msg.data, msg.len, &stamped);
	assert_string_equal(stamped.data, plain.data);
	assert_null(strstr(stamped.data, "vigil_"));

	m = vigil_msg__decode(msg.data, msg.len);
	assert_non_null(m);
	assert_int_equal(vigil_msg__delivery(m, &inc, &seq), 0);
	assert_true(inc == 0x1122334455667788ULL);
	assert_int_equal(seq, 42);
	assert_null(vigil_msg__find(m, "/vigil_seq"));
	vigil_msg__free(m);

	assert_int_equal(vigil_bus_stamp_read(msg.data, msg.len, &inc, &seq), 0);
	assert_int_equal(seq, 42);
	vigil_buf_free(&msg);
	vigil_buf_free(&plain);
	vigil_buf_free(&stamped);
}

/* 14 entries + 2 no longer fit a fixmap: the header grows to map16 and the body moves */
static void test_stamp_grows_the_map_header(void **state)
{
	static const unsigned int sizes[] = {13, 14, 15, 16, 65534};
	struct vigil_buf msg = {0}, plain = {0}, stamped = {0};
	uint64_t inc, seq;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		event(&msg, sizes[i]);
		json_of(msg.data, msg.len, &plain);
		assert_int_equal(vigil_bus_stamp(&msg, 7, 1000 + i), 0);
		json_of(msg.data, msg.len, &stamped);
		assert_string_equal(stamped.data, plain.data);
		assert_int_equal(vigil_bus_stamp_read(msg.data, msg.len, &inc, &seq), 0);
		assert_int_equal(inc, 7);
		assert_int_equal(seq, 1000 + i);
	}
	vigil_buf_free(&msg);
	vigil_buf_free(&plain);
	vigil_buf_free(&stamped);
}

static void test_stamp_refuses_what_is_not_a_map(void **state)
{
	struct vigil_buf msg = {0};

	assert_int_equal(vigil_buf_append(&msg, "\x93\x01\x02\x03", 4), 0);	/* [1, 2, 3] */
	assert_int_equal(vigil_bus_stamp(&msg, 1, 1), -EINVAL);
	assert_int_equal(msg.len, 4);		/* unchanged */
	vigil_buf_free(&msg);
}

static void test_stamp_read_absent_malformed_and_mistyped(void **state)
{
	struct vigil_buf msg = {0};
	uint64_t inc, seq;
	/* {"vigil_seq": "5", "vigil_incarnation": 1}: a string is no sequence number */
	static const char mistyped[] = "\x82\xa9vigil_seq\xa1" "5\xb1vigil_incarnation\x01";
	/* {"vigil_seq": 0, "vigil_incarnation": 1}: 0 is never given */
	static const char zero[] = "\x82\xa9vigil_seq\x00\xb1vigil_incarnation\x01";
	/* {"vigil_seq": 3, "vigil_incarnation": 9}, small ints (any width is read) */
	static const char small[] = "\x82\xa9vigil_seq\x03\xb1vigil_incarnation\x09";

	event(&msg, 3);
	assert_int_equal(vigil_bus_stamp_read(msg.data, msg.len, &inc, &seq), -ENOENT);
	assert_int_equal(vigil_bus_stamp_read(msg.data, msg.len - 1, &inc, &seq), -EBADMSG);
	assert_int_equal(vigil_bus_stamp_read("\xde\xff", 2, &inc, &seq), -EBADMSG);
	assert_int_equal(vigil_bus_stamp_read("", 0, &inc, &seq), -EBADMSG);
	assert_int_equal(vigil_bus_stamp_read("\xc1", 1, &inc, &seq), -EBADMSG);
	assert_int_equal(vigil_bus_stamp_read(mistyped, sizeof(mistyped) - 1, &inc, &seq), -ENOENT);
	assert_int_equal(vigil_bus_stamp_read(zero, sizeof(zero) - 1, &inc, &seq), -ENOENT);
	/* signed forms of a non-negative value (msgpack-c reads them as the same), not negative */
	static const char signed_ok[] = "\x82\xa9vigil_seq\xd0\x03\xb1vigil_incarnation\xd3\x00\x00\x00\x00\x00\x00\x00\x09";
	static const char negative[] = "\x82\xa9vigil_seq\xd0\xfd\xb1vigil_incarnation\x09";

	assert_int_equal(vigil_bus_stamp_read(small, sizeof(small) - 1, &inc, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(inc, 9);
	seq = inc = 0;
	assert_int_equal(vigil_bus_stamp_read(signed_ok, sizeof(signed_ok) - 1, &inc, &seq), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(inc, 9);
	assert_int_equal(vigil_bus_stamp_read(negative, sizeof(negative) - 1, &inc, &seq), -ENOENT);
	/* a stamped message cut short is malformed, not a message with a stamp */
	assert_int_equal(vigil_bus_stamp(&msg, 1, 1), 0);
	assert_int_equal(vigil_bus_stamp_read(msg.data, msg.len - 3, &inc, &seq), -EBADMSG);
	vigil_buf_free(&msg);
}

static void note(struct vigil_delivery *t, uint64_t inc, uint64_t seq, uint64_t expect_missed)
{
	struct vigil_buf msg = {0};

	event(&msg, 3);
	assert_int_equal(vigil_bus_stamp(&msg, inc, seq), 0);
	assert_int_equal(bus_seqtrack_note(t, msg.data, msg.len, NULL, NULL), expect_missed);
	vigil_buf_free(&msg);
}

static void test_track_counts_holes_restarts_repeats(void **state)
{
	struct vigil_delivery t = {0};
	struct vigil_buf plain = {0};
	uint64_t first = 0, last = 0;

	/* joining late is not a loss: the first seq seen starts the count */
	note(&t, 5, 100, 0);
	note(&t, 5, 101, 0);
	note(&t, 5, 105, 3);
	assert_int_equal(t.missed, 3);
	assert_int_equal(t.gaps, 1);
	assert_int_equal(t.last_gap_first, 102);
	assert_int_equal(t.last_gap_last, 104);
	/* a repeat and an older one: counted apart, last stays */
	note(&t, 5, 105, 0);
	note(&t, 5, 50, 0);
	assert_int_equal(t.reordered, 2);
	assert_int_equal(t.last_seq, 105);
	/* unstamped and malformed messages count as received, not as gaps */
	event(&plain, 3);
	assert_int_equal(bus_seqtrack_note(&t, plain.data, plain.len, &first, &last), 0);
	assert_int_equal(bus_seqtrack_note(&t, "\xc1\xc1", 2, &first, &last), 0);
	assert_int_equal(first, 0);
	assert_int_equal(t.unstamped, 2);
	/* a restarted agent: a new stream whose seq starts again, whatever it starts at */
	note(&t, 6, 20, 0);
	assert_int_equal(t.restarts, 1);
	assert_int_equal(t.incarnation, 6);
	note(&t, 6, 22, 1);
	assert_int_equal(t.missed, 4);
	assert_int_equal(t.gaps, 2);
	assert_int_equal(t.received, 9);
	vigil_buf_free(&plain);
}

struct gaps_seen {
	int calls;
	uint64_t inc, first, last;
};

static void on_gap(void *ctx, uint64_t incarnation, uint64_t first, uint64_t last)
{
	struct gaps_seen *g = ctx;

	g->calls++;
	g->inc = incarnation;
	g->first = first;
	g->last = last;
}

/* Receive until n messages arrived (the subscriber connects lazily: repeat a first probe
 * until it is through). */
static void recv_n(struct vigil_sub *sub, int n)
{
	void *data;
	int got = 0, r;

	while (got < n) {
		r = vigil_sub__recv(sub, &data);
		assert_true(r > 0);
		vigil_bus_msg_free(data);
		got++;
	}
}

/* Unstamped probes (msg) until one gets through: the subscription is up. */
static void subscribed(struct vigil_pub *pub, struct vigil_sub *sub, const struct vigil_buf *msg)
{
	void *data;
	int i;

	for (i = 0; i < 100; i++) {
		assert_int_equal(vigil_pub__send(pub, msg->data, msg->len), 0);
		if (vigil_sub__recv(sub, &data) > 0) {
			vigil_bus_msg_free(data);
			return;
		}
	}
	fail_msg("no probe reached the subscriber in 100 tries");
}

static void test_subscriber_counts_what_a_real_publisher_skipped(void **state)
{
	char dir[] = "/tmp/vigil-test-delivery-XXXXXX", url[128];
	struct vigil_buf msg = {0};
	struct gaps_seen g = {0};
	struct vigil_delivery d, d0;
	struct vigil_pub *pub;
	struct vigil_sub *sub;
	uint64_t seq = 0, inc;
	int i;

	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/events.sock", dir);
	pub = vigil_pub__open(url, 0600);
	assert_non_null(pub);
	sub = vigil_sub__open(url, 500);
	assert_non_null(sub);
	vigil_sub__on_gap(sub, on_gap, &g);
	inc = vigil_pub__incarnation(pub);
	assert_true(inc != 0);

	/* unstamped probes until the subscription is through */
	event(&msg, 3);
	subscribed(pub, sub, &msg);
	vigil_sub__delivery(sub, &d0);	/* the probe that got through: received, unstamped */

	/* seq 1 and 2 published; 3, 4 and 5 stamped but never sent (as a full queue would) */
	for (i = 0; i < 2; i++) {
		event(&msg, 3);
		assert_int_equal(vigil_pub__publish(pub, &msg, &seq), 0);
	}
	assert_int_equal(seq, 2);
	for (i = 0; i < 3; i++) {
		event(&msg, 3);
		assert_int_equal(vigil_bus_stamp(&msg, inc, 3 + i), 0);
	}
	/* the publisher's own numbers go on from 2: hand it the hole by stamping past it */
	event(&msg, 3);
	assert_int_equal(vigil_bus_stamp(&msg, inc, 6), 0);
	assert_int_equal(vigil_pub__send(pub, msg.data, msg.len), 0);
	/* garbage and an unstamped message on the way */
	assert_int_equal(vigil_pub__send(pub, "\xc1", 1), 0);
	event(&msg, 3);
	assert_int_equal(vigil_pub__send(pub, msg.data, msg.len), 0);
	recv_n(sub, 5);

	vigil_sub__delivery(sub, &d);
	assert_int_equal(d0.unstamped, 1);
	assert_int_equal(d.received - d0.received, 5);
	assert_int_equal(d.missed, 3);
	assert_int_equal(vigil_sub__missed(sub), 3);
	assert_int_equal(vigil_sub__restarts(sub), 0);
	assert_int_equal(d.unstamped - d0.unstamped, 2);
	assert_int_equal(d.last_seq, 6);
	assert_int_equal(g.calls, 1);
	assert_true(g.inc == inc);
	assert_int_equal(g.first, 3);
	assert_int_equal(g.last, 5);
	assert_int_equal(vigil_pub__last_seq(pub), 2);

	vigil_sub__close(sub);
	vigil_pub__close(pub);
	vigil_buf_free(&msg);
	rmdir(dir);
}

/* A held message (the agent's reader round) reaches nobody before the flush; a batch goes
 * out in order, several frames in one write; a message held
 * past 100 us is written with the next one, flush or not. */
static void test_held_messages_go_out_together_at_the_flush(void **state)
{
	char dir[] = "/tmp/vigil-test-delivery-XXXXXX", url[128];
	struct timespec ms = {.tv_nsec = 2000000};
	struct vigil_buf msg = {0};
	struct vigil_delivery d0, d;
	struct vigil_pub *pub;
	struct vigil_sub *sub;
	uint64_t seq = 0, inc, s, sent0;
	void *data;
	int i, r;

	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/events.sock", dir);
	pub = vigil_pub__open(url, 0600);
	assert_non_null(pub);
	sub = vigil_sub__open(url, 200);
	assert_non_null(sub);
	event(&msg, 3);
	subscribed(pub, sub, &msg);
	while ((r = vigil_sub__recv(sub, &data)) > 0)	/* the probes still under way */
		vigil_bus_msg_free(data);
	vigil_sub__delivery(sub, &d0);
	inc = vigil_pub__incarnation(pub);
	sent0 = vigil_pub__sent(pub);

	event(&msg, 3);
	assert_int_equal(vigil_pub__publish_held(pub, &msg, &seq), 0);
	assert_int_equal(vigil_pub__sent(pub) - sent0, 1);	/* counted when held */
	assert_true(vigil_sub__recv(sub, &data) < 0);		/* written by nobody yet */
	for (i = 0; i < 4; i++) {
		event(&msg, 3);
		assert_int_equal(vigil_pub__publish_held(pub, &msg, &seq), 0);
	}
	assert_int_equal(vigil_pub__flush(pub), 0);
	for (i = 0; i < 5; i++) {
		r = vigil_sub__recv(sub, &data);
		assert_true(r > 0);
		assert_int_equal(vigil_bus_stamp_read(data, (size_t)r, &inc, &s), 0);
		assert_true(s == seq - 4 + (uint64_t)i);
		vigil_bus_msg_free(data);
	}

	/* held longer than the bound: the next one writes both, no flush */
	event(&msg, 3);
	assert_int_equal(vigil_pub__publish_held(pub, &msg, &seq), 0);
	nanosleep(&ms, NULL);
	event(&msg, 3);
	assert_int_equal(vigil_pub__publish_held(pub, &msg, &seq), 0);
	recv_n(sub, 2);
	assert_int_equal(vigil_pub__flush(pub), 0);
	vigil_sub__delivery(sub, &d);
	assert_int_equal(d.received - d0.received, 7);
	assert_int_equal(d.missed, 0);
	assert_int_equal(d.last_seq, seq);
	assert_int_equal(vigil_pub__dropped(pub), 0);

	vigil_sub__close(sub);
	vigil_pub__close(pub);
	vigil_buf_free(&msg);
	rmdir(dir);
}

/* ---- the journal (journal.c) ---- */

struct got {
	uint64_t seqs[4096];
	size_t n;
	bool bad;
};

static int collect(void *ctx, uint64_t seq, const void *data, size_t len)
{
	struct got *g = ctx;
	uint64_t inc, s;

	/* what comes back is the message as appended: here a stamped event of that seq */
	if (vigil_bus_stamp_read(data, len, &inc, &s) || s != seq || inc != 77)
		g->bad = true;
	if (g->n < 4096)
		g->seqs[g->n++] = seq;
	return 0;
}

static void append(struct vigil_journal *j, uint64_t seq, unsigned int entries)
{
	struct vigil_buf msg = {0};

	event(&msg, entries);
	assert_int_equal(vigil_bus_stamp(&msg, 77, seq), 0);
	assert_int_equal(vigil_journal__append(j, seq, msg.data, msg.len), 0);
	vigil_buf_free(&msg);
}

static void wait_written(struct vigil_journal *j, uint64_t n)
{
	struct vigil_journal_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		vigil_journal__stats(j, &st);
		if (st.written >= n)
			return;
		usleep(10000);
	}
	fail_msg("the journal wrote %llu of %llu", (unsigned long long)st.written, (unsigned long long)n);
}

static struct vigil_journal *journal_in(char *dir, uint64_t max_bytes)
{
	struct vigil_journal_opts o = {.sz = sizeof(o), .dir = dir, .max_bytes = max_bytes};
	struct vigil_journal *j;

	assert_non_null(mkdtemp(dir));
	chmod(dir, 0700);
	j = vigil_journal__open(&o);
	assert_non_null(j);
	return j;
}

static void test_journal_reads_back_by_seq_and_counts_holes(void **state)
{
	char dir[] = "/tmp/vigil-test-journal-XXXXXX";
	struct vigil_journal *j = journal_in(dir, 0);
	struct vigil_journal_pos pos;
	struct got *g = calloc(1, sizeof(*g));
	uint64_t s;

	for (s = 1; s <= 100; s++)
		append(j, s, 3);
	append(j, 104, 3);		/* 101..103 never reached the journal */
	wait_written(j, 101);

	assert_int_equal(vigil_journal__read(j, 0, 1000, 1 << 20, collect, g, &pos), 0);
	assert_false(g->bad);
	assert_int_equal(g->n, 101);
	assert_int_equal(g->seqs[0], 1);
	assert_int_equal(g->seqs[100], 104);
	assert_int_equal(pos.lost, 3);
	assert_int_equal(pos.next, 105);
	assert_int_equal(pos.oldest, 1);
	assert_int_equal(pos.last, 104);

	g->n = 0;
	assert_int_equal(vigil_journal__read(j, 50, 10, 1 << 20, collect, g, &pos), 0);
	assert_int_equal(g->n, 10);
	assert_int_equal(g->seqs[0], 50);
	assert_int_equal(pos.next, 60);
	assert_int_equal(pos.lost, 0);

	/* nothing new past the end: an empty answer that keeps the place */
	g->n = 0;
	assert_int_equal(vigil_journal__read(j, 105, 10, 1 << 20, collect, g, &pos), 0);
	assert_int_equal(g->n, 0);
	assert_int_equal(pos.next, 105);
	vigil_journal__close(j);
	assert_int_equal(rmdir(dir), 0);	/* its files went with it */
	free(g);
}

static void test_journal_bound_evicts_and_the_reader_is_told_exactly(void **state)
{
	char dir[] = "/tmp/vigil-test-journal-XXXXXX";
	struct vigil_journal *j = journal_in(dir, 1 << 20);	/* 1 MiB: segments of 1 MiB */
	struct vigil_journal_stats st;
	struct vigil_journal_pos pos;
	struct got *g = calloc(1, sizeof(*g));
	uint64_t s, total = 0;

	/* ~3 MiB of 200-entry events */
	for (s = 1; s <= 1500; s++)
		append(j, s, 200);
	wait_written(j, 1500);
	vigil_journal__stats(j, &st);
	assert_true(st.evicted > 0);
	assert_true(st.bytes <= (2u << 20));
	assert_int_equal(st.oldest, st.evicted + 1);
	/* from 1: told exactly what the bound cost, then everything still kept, in order */
	do {
		g->n = 0;
		assert_int_equal(vigil_journal__read(j, total ? pos.next : 1, 4096, 1 << 20, collect, g, &pos), 0);
		if (!total)
			assert_int_equal(pos.lost, st.evicted);
		else
			assert_int_equal(pos.lost, 0);
		total += g->n;
	} while (g->n);
	assert_false(g->bad);
	assert_int_equal(total + st.evicted, 1500);
	vigil_journal__close(j);
	rmdir(dir);
	free(g);
}

static void test_journal_refuses_a_directory_others_can_read(void **state)
{
	char dir[] = "/tmp/vigil-test-journal-XXXXXX";
	struct vigil_journal_opts o = {.sz = sizeof(o), .dir = dir};

	assert_non_null(mkdtemp(dir));
	chmod(dir, 0755);
	assert_null(vigil_journal__open(&o));
	assert_int_equal(errno, EPERM);
	o.dir = "";
	assert_null(vigil_journal__open(&o));
	assert_int_equal(errno, EINVAL);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamp_is_hidden_from_json_and_read_back),
		cmocka_unit_test(test_stamp_grows_the_map_header),
		cmocka_unit_test(test_stamp_refuses_what_is_not_a_map),
		cmocka_unit_test(test_stamp_read_absent_malformed_and_mistyped),
		cmocka_unit_test(test_track_counts_holes_restarts_repeats),
		cmocka_unit_test(test_subscriber_counts_what_a_real_publisher_skipped),
		cmocka_unit_test(test_held_messages_go_out_together_at_the_flush),
		cmocka_unit_test(test_journal_reads_back_by_seq_and_counts_holes),
		cmocka_unit_test(test_journal_bound_evicts_and_the_reader_is_told_exactly),
		cmocka_unit_test(test_journal_refuses_a_directory_others_can_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
