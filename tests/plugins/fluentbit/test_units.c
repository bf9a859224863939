/* test_units.c - cmocka tests for vigil-forward's pure parts: EventTime parsing, the peer
 * reply scanner, tag templates, the Forward encoder, and the spool's caps, order and ack
 * pairing. The end-to-end behaviour against a real peer is in the python tests beside it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "evtime.h"
#include "frame.h"
#include "reply.h"
#include "spool.h"
#include "tag.h"

/* ---- EventTime ---- */

static int parse(const char *s, struct fwd_evtime *t)
{
	return evtime_parse(s, strlen(s), t);
}

static void test_evtime_keeps_all_nine_fraction_digits(void **state)
{
	struct fwd_evtime t;

	assert_int_equal(parse("2026-11-29T08:02:18.369395371Z", &t), 0);
	assert_int_equal(t.sec, 1795939338);
	assert_int_equal(t.nsec, 369395371);
}

static void test_evtime_scales_short_fractions_to_nanoseconds(void **state)
{
	struct fwd_evtime t;

	assert_int_equal(parse("1970-01-01T00:00:01.5Z", &t), 0);
	assert_int_equal(t.sec, 1);
	assert_int_equal(t.nsec, 500000000);
	assert_int_equal(parse("2000-02-29T23:59:59Z", &t), 0);
	assert_int_equal(t.sec, 951868799);
	assert_int_equal(t.nsec, 0);
}

static void test_evtime_rejects_what_vigil_never_writes(void **state)
{
	static const char *const bad[] = {
		"2026-11-29T08:02:18.3693953710Z",	/* ten digits */
		"2026-11-29T08:02:18+01:00",		/* not UTC */
		"2026-11-29T08:02:18.Z",
		"2026-11-29 08:02:18Z",
		"2026-02-29T08:02:18Z",			/* not a leap year */
		"2026-13-01T08:02:18Z",
		"1969-12-31T23:59:59Z",			/* before the epoch: not uint32 */
		"2026-11-29T24:00:00Z",
		"2026-11-29T08:02:18Zjunk",
		"",
	};
	struct fwd_evtime t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &t), -EINVAL);
}

/* ---- replies ---- */

static const unsigned char ACK[] = "\x81\xa3" "ack" "\xb8" "AAAAAAAAAAAAAAAAAAAAAA==";

static void test_reply_reads_an_ack_and_its_chunk(void **state)
{
	struct fwd_reply r;

	assert_int_equal(reply_next(ACK, sizeof(ACK) - 1, &r), (int)sizeof(ACK) - 1);
	assert_int_equal(r.kind, FWD_REPLY_ACK);
	assert_int_equal(r.chunk_len, 24);
	assert_memory_equal(r.chunk, "AAAAAAAAAAAAAAAAAAAAAA==", 24);
}

static void test_reply_waits_for_every_prefix_of_an_ack(void **state)
{
	struct fwd_reply r;
	size_t n;

	for (n = 0; n < sizeof(ACK) - 1; n++)
		assert_int_equal(reply_next(ACK, n, &r), 0);
}

static void test_reply_takes_back_to_back_replies_one_at_a_time(void **state)
{
	unsigned char two[2 * (sizeof(ACK) - 1) + 3];
	struct fwd_reply r;
	size_t n = sizeof(ACK) - 1;

	memcpy(two, "\x92\x01\x02", 3);
	memcpy(two + 3, ACK, n);
	memcpy(two + 3 + n, ACK, n);
	assert_int_equal(reply_next(two, sizeof(two), &r), 3);
	assert_int_equal(r.kind, FWD_REPLY_OTHER);
	assert_int_equal(reply_next(two + 3, sizeof(two) - 3, &r), (int)n);
	assert_int_equal(r.kind, FWD_REPLY_ACK);
}

static void test_reply_refuses_invalid_bytes_and_gigabyte_headers_at_once(void **state)
{
	static const unsigned char c1[] = { 0xc1 };
	static const unsigned char arr[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char str[] = { 0xdb, 0x40, 0x00, 0x00, 0x00 };
	static const unsigned char map[] = { 0xdf, 0x00, 0x01, 0x00, 0x00 };
	struct fwd_reply r;

	assert_int_equal(reply_next(c1, sizeof(c1), &r), -EBADMSG);
	assert_int_equal(reply_next(arr, sizeof(arr), &r), -EBADMSG);
	assert_int_equal(reply_next(str, sizeof(str), &r), -EBADMSG);
	assert_int_equal(reply_next(map, sizeof(map), &r), -EBADMSG);
}

static void test_reply_refuses_an_incomplete_reply_that_fills_the_buffer(void **state)
{
	unsigned char *big = calloc(1, FWD_REPLY_MAX);
	struct fwd_reply r;

	/* an array of 2 whose first element, a bin16 of 4092 bytes, ends right at the limit:
	 * the second element cannot fit */
	big[0] = 0x92;
	big[1] = 0xc5;
	big[2] = 0x0f;
	big[3] = 0xfc;
	assert_int_equal(reply_next(big, 100, &r), 0);
	assert_int_equal(reply_next(big, FWD_REPLY_MAX, &r), -EBADMSG);
	free(big);
}

static void test_reply_tells_helo_and_non_string_acks_apart(void **state)
{
	static const unsigned char helo[] = "\x92\xa4" "HELO" "\x80";
	static const unsigned char acknum[] = "\x81\xa3" "ack" "\x05";
	static const unsigned char other[] = "\x81\xa3" "foo" "\xa3" "bar";
	struct fwd_reply r;

	assert_int_equal(reply_next(helo, sizeof(helo) - 1, &r), (int)sizeof(helo) - 1);
	assert_int_equal(r.kind, FWD_REPLY_HELO);
	assert_int_equal(reply_next(acknum, sizeof(acknum) - 1, &r), (int)sizeof(acknum) - 1);
	assert_int_equal(r.kind, FWD_REPLY_OTHER);
	assert_int_equal(reply_next(other, sizeof(other) - 1, &r), (int)sizeof(other) - 1);
	assert_int_equal(r.kind, FWD_REPLY_OTHER);
}

/* ---- tags ---- */

static void test_tag_template_expands_and_sanitises(void **state)
{
	char tag[FWD_TAG_MAX];

	assert_int_equal(tag_check("vigil.{event_type}"), 0);
	assert_int_equal(tag_expand("vigil.{event_type}", "process_exec", NULL, tag), 0);
	assert_string_equal(tag, "vigil.process_exec");
	assert_int_equal(tag_expand("k8s.{node_name}.{event_type}", "process_exit", "node 1/a", tag), 0);
	assert_string_equal(tag, "k8s.node_1_a.process_exit");
	assert_int_equal(tag_expand("x.{node_name}", "t", NULL, tag), 0);
	assert_string_equal(tag, "x.unknown");
}

static void test_tag_check_rejects_unknown_placeholders_and_spaces(void **state)
{
	char longer[FWD_TAG_MAX + 1];

	memset(longer, 'a', FWD_TAG_MAX);
	longer[FWD_TAG_MAX] = '\0';
	assert_int_equal(tag_check("vigil.{pid}"), -EINVAL);
	assert_int_equal(tag_check("vigil events"), -EINVAL);
	assert_int_equal(tag_check("vigil.{event_type"), -EINVAL);
	assert_int_equal(tag_check(""), -EINVAL);
	assert_int_equal(tag_check(longer), -EINVAL);
}

/* ---- Forward encoder ---- */

static void test_chunk_ids_are_24_base64_characters_and_fresh(void **state)
{
	char a[FWD_CHUNK_LEN + 1], b[FWD_CHUNK_LEN + 1];

	assert_int_equal(frame_chunk_id(a), 0);
	assert_int_equal(frame_chunk_id(b), 0);
	assert_int_equal(strlen(a), 24);
	assert_string_equal(a + 22, "==");
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="), 24);
	assert_string_not_equal(a, b);
}

/* Pack {"k": "v"} as a record, return the entries bytes. */
static void one_entry(struct vigil_buf *entries, uint32_t sec, uint32_t nsec)
{
	msgpack_object_kv kv;
	msgpack_object rec = { .type = MSGPACK_OBJECT_MAP };

	kv.key = (msgpack_object){ .type = MSGPACK_OBJECT_STR, .via.str = { 1, "k" } };
	kv.val = (msgpack_object){ .type = MSGPACK_OBJECT_STR, .via.str = { 1, "v" } };
	rec.via.map.size = 1;
	rec.via.map.ptr = &kv;
	assert_int_equal(frame_pack_entry(entries, (struct fwd_evtime){ sec, nsec }, &rec), 0);
}

static void test_entry_is_eventtime_ext0_then_the_record(void **state)
{
	struct vigil_buf e = { 0 };
	static const unsigned char want[] = { 0x92, 0xd7, 0x00, 0x69, 0x0a, 0x8c, 0x0a, 0x16, 0x04, 0x4c, 0x2b,
					      0x81, 0xa1, 'k', 0xa1, 'v' };

	one_entry(&e, 1762298890, 369380395);
	assert_int_equal(e.len, sizeof(want));
	assert_memory_equal(e.data, want, sizeof(want));
	vigil_buf_free(&e);
}

/* A record handed over as bytes (a rewritten map header, then the entries) is the same
 * entry as the record packed from its tree. */
static void test_raw_entry_is_the_packed_entry(void **state)
{
	struct vigil_buf packed = { 0 }, raw = { 0 };
	static const unsigned char head[] = { 0x81 }, body[] = { 0xa1, 'k', 0xa1, 'v' };

	one_entry(&packed, 1762298890, 369380395);
	assert_int_equal(frame_pack_entry_raw(&raw, (struct fwd_evtime){ 1762298890, 369380395 }, head, sizeof(head),
					      body, sizeof(body)),
			 0);
	assert_int_equal(raw.len, packed.len);
	assert_memory_equal(raw.data, packed.data, packed.len);
	vigil_buf_free(&packed);
	vigil_buf_free(&raw);
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	uint32_t i;

	for (i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
		    !memcmp(k->via.str.ptr, key, k->via.str.size))
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

static void test_frame_is_packed_forward_with_size_chunk_and_gzip(void **state)
{
	struct vigil_buf e = { 0 }, msg = { 0 };
	msgpack_unpacked u;
	const msgpack_object *opt, *v;
	unsigned char plain[256];
	uLongf plain_len = sizeof(plain);
	z_stream z = { 0 };
	size_t off = 0;

	one_entry(&e, 1, 2);
	one_entry(&e, 3, 4);
	assert_int_equal(frame_encode(&msg, "vigil.process_exec", e.data, e.len, 2, "AAAAAAAAAAAAAAAAAAAAAA==",
				      true), 0);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, msg.data, msg.len, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, msg.len);
	assert_int_equal(u.data.type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(u.data.via.array.size, 3);
	assert_int_equal(u.data.via.array.ptr[0].type, MSGPACK_OBJECT_STR);
	assert_memory_equal(u.data.via.array.ptr[0].via.str.ptr, "vigil.process_exec", 18);
	assert_int_equal(u.data.via.array.ptr[1].type, MSGPACK_OBJECT_BIN);
	opt = &u.data.via.array.ptr[2];
	assert_int_equal(opt->type, MSGPACK_OBJECT_MAP);
	assert_non_null(v = map_get(opt, "size"));
	assert_int_equal(v->via.u64, 2);
	assert_non_null(v = map_get(opt, "chunk"));
	assert_memory_equal(v->via.str.ptr, "AAAAAAAAAAAAAAAAAAAAAA==", 24);
	assert_non_null(v = map_get(opt, "compressed"));
	assert_memory_equal(v->via.str.ptr, "gzip", 4);
	/* the bin is one gzip member holding exactly the entries */
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)u.data.via.array.ptr[1].via.bin.ptr;
	z.avail_in = u.data.via.array.ptr[1].via.bin.size;
	z.next_out = plain;
	z.avail_out = (uInt)plain_len;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, e.len);
	assert_memory_equal(plain, e.data, e.len);
	inflateEnd(&z);
	msgpack_unpacked_destroy(&u);
	vigil_buf_free(&msg);
	vigil_buf_free(&e);
}

static void test_frame_without_ack_has_no_chunk(void **state)
{
	struct vigil_buf e = { 0 }, msg = { 0 };
	msgpack_unpacked u;
	size_t off = 0;

	one_entry(&e, 1, 2);
	assert_int_equal(frame_encode(&msg, "t", e.data, e.len, 1, NULL, false), 0);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, msg.data, msg.len, &off), MSGPACK_UNPACK_SUCCESS);
	assert_null(map_get(&u.data.via.array.ptr[2], "chunk"));
	assert_null(map_get(&u.data.via.array.ptr[2], "compressed"));
	assert_int_equal(u.data.via.array.ptr[1].via.bin.size, e.len);
	msgpack_unpacked_destroy(&u);
	vigil_buf_free(&msg);
	vigil_buf_free(&e);
}

/* ---- spool ---- */

struct spool_fx {
	struct fwd_stats st;
	struct fwd_spool *sp;
	char dir[64];
};

static int spool_teardown(void **state)
{
	struct spool_fx *fx = *state;
	char cmd[128];

	spool_close(fx->sp, false);
	if (fx->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
		assert_int_equal(system(cmd), 0);
	}
	free(fx);
	return 0;
}

static int spool_setup_mem(void **state)
{
	struct spool_fx *fx = calloc(1, sizeof(*fx));
	struct spool_opts o = { .mem_limit = 1000 };

	fx->sp = spool_open(&o, &fx->st);
	*state = fx;
	return fx->sp ? 0 : -1;
}

static int spool_setup_disk(void **state)
{
	struct spool_fx *fx = calloc(1, sizeof(*fx));
	struct spool_opts o = { .mem_limit = 1000, .disk_limit = 3 * (300 + 40) };

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/vigil-fwd-unit-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	o.dir = fx->dir;
	fx->sp = spool_open(&o, &fx->st);
	*state = fx;
	return fx->sp ? 0 : -1;
}

/* Queue a 300-byte message of n events whose bytes are all `fill`. */
static void push(struct spool_fx *fx, uint32_t n, char fill)
{
	struct vigil_buf m = { 0 };
	char bytes[300], chunk[FWD_CHUNK_LEN + 1];

	memset(bytes, fill, sizeof(bytes));
	assert_int_equal(vigil_buf_append(&m, bytes, sizeof(bytes)), 0);
	snprintf(chunk, sizeof(chunk), "%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c%c==", fill, fill, fill, fill,
		 fill, fill, fill, fill, fill, fill, fill, fill, fill, fill, fill, fill, fill, fill, fill, fill,
		 fill, fill);
	spool_push(fx->sp, &m, n, chunk, 0);
	assert_null(m.data);
}

static void test_memory_spool_drops_the_oldest_backlog_never_in_flight(void **state)
{
	struct spool_fx *fx = *state;
	struct frame *f;

	push(fx, 1, 'a');
	push(fx, 2, 'b');
	push(fx, 3, 'c');
	f = spool_next_queued(fx->sp);
	assert_int_equal(f->data[0], 'a');
	ack_sent(fx->sp, f, 0);			/* 'a' in flight */
	push(fx, 4, 'd');			/* 1200 > 1000: 'b' goes, not 'a' */
	assert_int_equal(fx->st.dropped_batches, 1);
	assert_int_equal(fx->st.dropped_events, 2);
	assert_true(fx->st.mem_bytes <= 1000);
	assert_int_equal(fx->st.queued_events, 1 + 3 + 4);
	f = spool_first(fx->sp);
	assert_int_equal(f->data[0], 'a');
	assert_int_equal(f->next->data[0], 'c');
	assert_int_equal(f->next->next->data[0], 'd');
}

static void test_ack_settles_only_a_sent_batch_with_that_chunk(void **state)
{
	struct spool_fx *fx = *state;
	struct frame *a, *b;

	push(fx, 5, 'a');
	push(fx, 7, 'b');
	a = spool_next_queued(fx->sp);
	ack_sent(fx->sp, a, 100);
	b = spool_next_queued(fx->sp);
	spool_set_state(fx->sp, b, FRAME_WRITING);
	assert_int_equal(fx->st.inflight, 2);
	assert_int_equal(ack_settle(fx->sp, "bbbbbbbbbbbbbbbbbbbbbb==", 24), -ENOENT);	/* still writing */
	assert_int_equal(ack_settle(fx->sp, "zzzzzzzzzzzzzzzzzzzzzz==", 24), -ENOENT);
	assert_int_equal(ack_settle(fx->sp, "aaaa", 4), -ENOENT);
	assert_int_equal(ack_deadline(fx->sp, 50), 150);
	assert_int_equal(ack_settle(fx->sp, "aaaaaaaaaaaaaaaaaaaaaa==", 24), 5);
	assert_int_equal(fx->st.queued_batches, 1);
	ack_requeue_all(fx->sp);
	assert_int_equal(fx->st.inflight, 0);
	assert_true(spool_first(fx->sp)->resend);
	assert_ptr_equal(spool_next_queued(fx->sp), b);
}

static void test_disk_spool_keeps_order_and_cap_and_drops_oldest_on_disk(void **state)
{
	struct spool_fx *fx = *state;
	const char *want = "abcfgh";
	struct frame *f;
	size_t i = 0;

	/* memory holds a, b, c (900 of 1000); d, e, f, g, h go to disk, which holds three */
	push(fx, 1, 'a');
	push(fx, 1, 'b');
	push(fx, 1, 'c');
	push(fx, 1, 'd');
	push(fx, 1, 'e');
	push(fx, 1, 'f');
	push(fx, 1, 'g');
	push(fx, 1, 'h');
	assert_int_equal(fx->st.disk_writes, 5);
	assert_int_equal(fx->st.dropped_batches, 2);		/* d and e */
	assert_true(fx->st.disk_bytes_max <= 3 * (300 + 40));
	assert_true(fx->st.mem_bytes_max <= 1000);
	/* deliver in order: acks free memory, disk batches come back in */
	while ((f = spool_next_queued(fx->sp))) {
		assert_int_equal(f->data[0], want[i++]);
		ack_sent(fx->sp, f, 0);
		assert_true(ack_settle(fx->sp, f->chunk, FWD_CHUNK_LEN) == 1);
	}
	assert_int_equal(i, strlen(want));
	assert_int_equal(fx->st.disk_loads, 3);
	assert_int_equal(fx->st.disk_bytes, 0);
	assert_true(spool_empty(fx->sp));
}

static void test_disk_spool_survives_a_restart_in_order(void **state)
{
	struct spool_fx *fx = *state;
	struct spool_opts o = { .mem_limit = 1000, .disk_limit = 3 * (300 + 40), .dir = fx->dir };
	struct fwd_stats st2 = { 0 };
	struct fwd_spool *again;
	struct frame *f;

	push(fx, 1, 'a');
	push(fx, 2, 'b');
	push(fx, 3, 'c');
	push(fx, 4, 'd');					/* on disk */
	/* a second forwarder on the same directory is refused */
	assert_null(spool_open(&o, &st2));
	assert_int_equal(errno, EWOULDBLOCK);
	spool_close(fx->sp, true);				/* a, b, c persisted; c, b fit, a does not */
	fx->sp = NULL;
	again = spool_open(&o, &st2);
	assert_non_null(again);
	assert_int_equal(st2.queued_batches, 3);
	assert_int_equal(st2.queued_events, 2 + 3 + 4);
	f = spool_next_queued(again);
	assert_int_equal(f->data[0], 'b');
	assert_string_equal(f->chunk, "bbbbbbbbbbbbbbbbbbbbbb==");
	ack_sent(again, f, 0);
	f = spool_next_queued(again);
	assert_int_equal(f->data[0], 'c');
	ack_sent(again, f, 0);
	f = spool_next_queued(again);
	assert_int_equal(f->data[0], 'd');
	spool_close(again, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_entry_is_the_packed_entry),
		cmocka_unit_test(test_evtime_keeps_all_nine_fraction_digits),
		cmocka_unit_test(test_evtime_scales_short_fractions_to_nanoseconds),
		cmocka_unit_test(test_evtime_rejects_what_vigil_never_writes),
		cmocka_unit_test(test_reply_reads_an_ack_and_its_chunk),
		cmocka_unit_test(test_reply_waits_for_every_prefix_of_an_ack),
		cmocka_unit_test(test_reply_takes_back_to_back_replies_one_at_a_time),
		cmocka_unit_test(test_reply_refuses_invalid_bytes_and_gigabyte_headers_at_once),
		cmocka_unit_test(test_reply_refuses_an_incomplete_reply_that_fills_the_buffer),
		cmocka_unit_test(test_reply_tells_helo_and_non_string_acks_apart),
		cmocka_unit_test(test_tag_template_expands_and_sanitises),
		cmocka_unit_test(test_tag_check_rejects_unknown_placeholders_and_spaces),
		cmocka_unit_test(test_chunk_ids_are_24_base64_characters_and_fresh),
		cmocka_unit_test(test_entry_is_eventtime_ext0_then_the_record),
		cmocka_unit_test(test_frame_is_packed_forward_with_size_chunk_and_gzip),
		cmocka_unit_test(test_frame_without_ack_has_no_chunk),
		cmocka_unit_test_setup_teardown(test_memory_spool_drops_the_oldest_backlog_never_in_flight,
						spool_setup_mem, spool_teardown),
		cmocka_unit_test_setup_teardown(test_ack_settles_only_a_sent_batch_with_that_chunk, spool_setup_mem,
						spool_teardown),
		cmocka_unit_test_setup_teardown(test_disk_spool_keeps_order_and_cap_and_drops_oldest_on_disk,
						spool_setup_disk, spool_teardown),
		cmocka_unit_test_setup_teardown(test_disk_spool_survives_a_restart_in_order, spool_setup_disk,
						spool_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
