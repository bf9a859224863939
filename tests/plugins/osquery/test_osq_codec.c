/* test_osq_codec.c - unit tests for plugins/osquery's Thrift codec (tbinary_*, wire_*),
 * its context reader (constraints.c) and its row store (store.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "constraints.h"
#include "table.h"
#include "tbinary.h"
#include "wire.h"

#define LIMIT (1u << 20)

/* What python3-thrift writes for ping() and for call("table", "t", {"action":
 * "generate"}) (captured, see the research notes on osquery's protocol). */
static const uint8_t ping_call[] = {
	0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4, 'p', 'i', 'n', 'g', 0, 0, 0, 0, 0x00,
};

static const uint8_t generate_call[] = {
	0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4, 'c', 'a', 'l', 'l', 0, 0, 0, 0,
	0x0b, 0x00, 0x01, 0, 0, 0, 5, 't', 'a', 'b', 'l', 'e',
	0x0b, 0x00, 0x02, 0, 0, 0, 1, 't',
	0x0d, 0x00, 0x03, 0x0b, 0x0b, 0, 0, 0, 1,
	0, 0, 0, 6, 'a', 'c', 't', 'i', 'o', 'n', 0, 0, 0, 8, 'g', 'e', 'n', 'e', 'r', 'a', 't', 'e',
	0x00,
};

static void test_ping_call_parses_to_ping(void **state)
{
	struct osq_request req;
	size_t used = 0;

	assert_int_equal(osq_request_parse(ping_call, sizeof(ping_call), LIMIT, &req, &used), 0);
	assert_int_equal(req.method, OSQ_M_PING);
	assert_int_equal(req.seqid, 0);
	assert_int_equal(used, sizeof(ping_call));
}

static void test_generate_call_parses_registry_item_and_request(void **state)
{
	const struct tb_slice *action;
	struct osq_request req;
	size_t used = 0;

	assert_int_equal(osq_request_parse(generate_call, sizeof(generate_call), LIMIT, &req, &used), 0);
	assert_int_equal(req.method, OSQ_M_CALL);
	assert_true(tb_slice_eq(req.registry, "table"));
	assert_true(tb_slice_eq(req.item, "t"));
	action = osq_request_get(&req, "action");
	assert_non_null(action);
	assert_true(tb_slice_eq(*action, "generate"));
	assert_null(osq_request_get(&req, "context"));
	assert_int_equal(used, sizeof(generate_call));
}

static void test_every_prefix_of_a_valid_call_asks_for_more(void **state)
{
	struct osq_request req;
	size_t used, n;

	for (n = 0; n < sizeof(generate_call); n++)
		assert_int_equal(osq_request_parse(generate_call, n, LIMIT, &req, &used), -EAGAIN);
}

static void test_trailing_bytes_are_left_for_the_next_message(void **state)
{
	uint8_t two[sizeof(ping_call) * 2];
	struct osq_request req;
	size_t used = 0;

	memcpy(two, ping_call, sizeof(ping_call));
	memcpy(two + sizeof(ping_call), ping_call, sizeof(ping_call));
	assert_int_equal(osq_request_parse(two, sizeof(two), LIMIT, &req, &used), 0);
	assert_int_equal(used, sizeof(ping_call));
}

static void test_huge_string_length_is_refused_before_its_bytes_arrive(void **state)
{
	const uint8_t msg[] = { 0x80, 0x01, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, 'p' };
	struct osq_request req;
	size_t used;

	assert_int_equal(osq_request_parse(msg, sizeof(msg), LIMIT, &req, &used), -EMSGSIZE);
}

static void test_negative_string_length_is_malformed(void **state)
{
	const uint8_t msg[] = { 0x80, 0x01, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe };
	struct osq_request req;
	size_t used;

	assert_int_equal(osq_request_parse(msg, sizeof(msg), LIMIT, &req, &used), -EBADMSG);
}

static void test_huge_map_count_is_refused_before_its_bytes_arrive(void **state)
{
	const uint8_t msg[] = {
		0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4, 'c', 'a', 'l', 'l', 0, 0, 0, 0,
		0x0d, 0x00, 0x03, 0x0b, 0x0b, 0x10, 0x00, 0x00, 0x00,
	};
	struct osq_request req;
	size_t used;

	assert_int_equal(osq_request_parse(msg, sizeof(msg), LIMIT, &req, &used), -EMSGSIZE);
}

static void test_non_strict_and_non_call_messages_are_malformed(void **state)
{
	const uint8_t old[] = { 0, 0, 0, 4, 'p', 'i', 'n', 'g', 0x01, 0, 0, 0, 0, 0x00 };
	uint8_t reply[sizeof(ping_call)];
	struct osq_request req;
	size_t used;

	assert_int_equal(osq_request_parse(old, sizeof(old), LIMIT, &req, &used), -EBADMSG);
	memcpy(reply, ping_call, sizeof(reply));
	reply[3] = TB_REPLY;
	assert_int_equal(osq_request_parse(reply, sizeof(reply), LIMIT, &req, &used), -EBADMSG);
}

static void test_nesting_past_the_limit_is_malformed(void **state)
{
	uint8_t msg[16 + 3 * 40 + 41];
	struct osq_request req;
	size_t used, i, n = 0;

	memcpy(msg, ping_call, 16);
	n = 16;
	for (i = 0; i < 40; i++) {
		msg[n++] = TB_STRUCT;
		msg[n++] = 0;
		msg[n++] = 1;
	}
	memset(msg + n, TB_STOP, 41);
	n += 41;
	assert_int_equal(osq_request_parse(msg, n, LIMIT, &req, &used), -EBADMSG);
}

static void test_unknown_method_is_parsed_and_its_arguments_skipped(void **state)
{
	const uint8_t msg[] = {
		0x80, 0x01, 0x00, 0x01, 0, 0, 0, 3, 'f', 'o', 'o', 0, 0, 0, 9,
		0x08, 0x00, 0x01, 0, 0, 0, 5,
		0x0f, 0x00, 0x02, 0x0b, 0, 0, 0, 1, 0, 0, 0, 1, 'x',
		0x00,
	};
	struct osq_request req;
	size_t used = 0;

	assert_int_equal(osq_request_parse(msg, sizeof(msg), LIMIT, &req, &used), 0);
	assert_int_equal(req.method, OSQ_M_UNKNOWN);
	assert_true(tb_slice_eq(req.name, "foo"));
	assert_int_equal(req.seqid, 9);
	assert_int_equal(used, sizeof(msg));
}

static void test_ping_reply_is_byte_exact(void **state)
{
	const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x02, 0, 0, 0, 4, 'p', 'i', 'n', 'g', 0, 0, 0, 3,
		0x0c, 0x00, 0x00,
		0x08, 0x00, 0x01, 0, 0, 0, 0,
		0x0b, 0x00, 0x02, 0, 0, 0, 4, 'p', 'o', 'n', 'g',
		0x0a, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0x30, 0x39,
		0x00, 0x00,
	};
	struct vigil_buf out = { 0 };
	struct tb_writer w;

	tb_writer_init(&w, &out);
	osq_write_status_reply(&w, "ping", 3, 0, "pong", 12345);
	assert_int_equal(w.err, 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	vigil_buf_free(&out);
}

static void test_response_rows_count_is_patched_in(void **state)
{
	struct vigil_buf out = { 0 };
	struct osq_rows rows;
	struct tb_writer w;
	struct tb_reader r;
	struct tb_slice name;
	uint8_t type, et;
	int16_t id;
	int32_t seqid;
	uint32_t n;

	tb_writer_init(&w, &out);
	osq_write_response_begin(&w, 5, 0, "OK", 1, &rows);
	osq_write_row_begin(&w, &rows, 1);
	osq_write_pair(&w, "pid", "1");
	osq_write_row_begin(&w, &rows, 1);
	osq_write_pair(&w, "pid", "2");
	osq_write_response_end(&w, &rows);
	assert_int_equal(w.err, 0);

	/* reply header, result field 0 (struct), status field 1 (skipped), rows field 2 */
	tb_reader_init(&r, out.data, out.len, LIMIT);
	assert_int_equal(tb_read_message_begin(&r, &name, &type, &seqid), 0);
	assert_int_equal(type, TB_REPLY);
	assert_int_equal(tb_read_field_begin(&r, &type, &id), 0);
	assert_int_equal(tb_read_field_begin(&r, &type, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(tb_skip(&r, type), 0);
	assert_int_equal(tb_read_field_begin(&r, &type, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(tb_read_list_begin(&r, &et, &n), 0);
	assert_int_equal(et, TB_MAP);
	assert_int_equal(n, 2);
	vigil_buf_free(&out);
}

static void test_status_reply_round_trips_and_exceptions_are_reported(void **state)
{
	struct vigil_buf out = { 0 };
	struct osq_status st;
	struct tb_writer w;
	size_t used;

	tb_writer_init(&w, &out);
	osq_write_status_reply(&w, "registerExtension", 1, 0, "OK", 4242);
	assert_int_equal(osq_status_reply_parse(out.data, out.len, LIMIT, "registerExtension", 1, &st, &used), 0);
	assert_int_equal(st.code, 0);
	assert_int_equal(st.uuid, 4242);
	assert_string_equal(st.message, "OK");
	assert_int_equal(osq_status_reply_parse(out.data, out.len, LIMIT, "registerExtension", 2, &st, &used),
			 -EPROTO);

	vigil_buf_reset(&out);
	osq_write_exception(&w, "registerExtension", 1, TB_APP_UNKNOWN_METHOD, "Unknown function");
	assert_int_equal(osq_status_reply_parse(out.data, out.len, LIMIT, "registerExtension", 1, &st, &used),
			 -EPROTO);
	assert_string_equal(st.message, "Unknown function");
	vigil_buf_free(&out);
}

static void test_extensions_reply_finds_our_uuid(void **state)
{
	struct vigil_buf out = { 0 };
	struct tb_writer w;
	bool found;
	size_t used;

	tb_writer_init(&w, &out);
	tb_write_message_begin(&w, "extensions", TB_REPLY, 1);
	tb_write_field_begin(&w, TB_MAP, 0);
	tb_write_map_begin(&w, TB_I64, TB_STRUCT, 2);
	tb_write_i64(&w, 11);
	tb_write_field_begin(&w, TB_STRING, 1);
	tb_write_cstr(&w, "other");
	tb_write_field_stop(&w);
	tb_write_i64(&w, 4242);
	tb_write_field_stop(&w);
	tb_write_field_stop(&w);
	assert_int_equal(osq_extensions_reply_parse(out.data, out.len, LIMIT, 1, 4242, &found, &used), 0);
	assert_true(found);
	assert_int_equal(used, out.len);
	assert_int_equal(osq_extensions_reply_parse(out.data, out.len, LIMIT, 1, 7, &found, &used), 0);
	assert_false(found);
	vigil_buf_free(&out);
}

static void test_context_pid_equality_and_time_bounds(void **state)
{
	const char *json = "{\"constraints\":[{\"name\":\"pid\",\"list\":[{\"op\":2,\"expr\":\"42\"},"
			   "{\"op\":4,\"expr\":\"7\"}],\"affinity\":\"BIGINT\"},"
			   "{\"name\":\"time\",\"list\":[{\"op\":4,\"expr\":\"100\"},{\"op\":16,\"expr\":\"200\"}],"
			   "\"affinity\":\"BIGINT\"},{\"name\":\"path\",\"list\":[{\"op\":2,\"expr\":\"/x\"}]}],"
			   "\"colsUsed\":[\"pid\"],\"colsUsedBitset\":3}";
	struct osq_constraints c;

	assert_int_equal(osq_constraints_parse(json, strlen(json), &c), 0);
	assert_int_equal(c.npids, 1);
	assert_int_equal(c.pids[0], 42);
	assert_int_equal(c.time_min, 101);
	assert_int_equal(c.time_max, 199);
	assert_true(osq_constraints_pass(&c, true, 42, 150));
	assert_false(osq_constraints_pass(&c, true, 43, 150));
	assert_false(osq_constraints_pass(&c, true, 42, 100));
	assert_false(osq_constraints_pass(&c, false, 0, 150));
}

static void test_context_that_is_not_json_constrains_nothing(void **state)
{
	const char *bad[] = { "", "{", "{\"constraints\":[{\"name\":\"pid\",\"list\":[{\"op\":2,\"expr\":\"4",
			      "[]", "{\"a\":tru}", "{\"a\":\"\\q\"}", "{} x" };
	struct osq_constraints c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(osq_constraints_parse(bad[i], strlen(bad[i]), &c), -EINVAL);
		assert_int_equal(c.npids, 0);
		assert_true(osq_constraints_pass(&c, true, 1, 1));
	}
}

static void test_context_with_unusable_expressions_constrains_nothing(void **state)
{
	const char *json = "{\"constraints\":[{\"name\":\"pid\",\"list\":[{\"op\":2,\"expr\":\"4x\"}]},"
			   "{\"name\":\"time\",\"list\":[{\"op\":4,\"expr\":\"soon\"}]}]}";
	struct osq_constraints c;

	assert_int_equal(osq_constraints_parse(json, strlen(json), &c), 0);
	assert_int_equal(c.npids, 0);
	assert_true(osq_constraints_pass(&c, true, 9, 0));
}

static const struct column cols[] = { { "pid", "BIGINT", 0 }, { "eid", "INTEGER", 0 } };
static const struct table tbl = { .name = "t", .columns = cols, .ncolumns = 2 };

static struct row *row_of(uint64_t pid, uint64_t arrived)
{
	struct row_builder rb;
	struct row *row;

	rb_init(&rb);
	rb_reset(&rb, &tbl);
	rb_setf(&rb, "pid", "%llu", (unsigned long long)pid);
	rb_set(&rb, "no_such_column", "ignored");
	rb.pid = pid;
	rb.has_pid = true;
	row = rb_finish(&rb, arrived);
	rb_free(&rb);
	return row;
}

static int collect(const struct row *row, void *arg)
{
	uint64_t **out = arg;

	*(*out)++ = row->pid;
	assert_null(row->values[1]);
	return 0;
}

static void test_store_keeps_the_newest_rows_up_to_capacity(void **state)
{
	struct store *s = store_new(3, 10);
	uint64_t got[8], *p = got;
	struct store_stats st;
	uint64_t i;

	assert_non_null(s);
	for (i = 1; i <= 5; i++)
		store_push(s, row_of(i, 1000), 1000);
	assert_int_equal(store_each(s, 1000, collect, &p), 0);
	assert_int_equal(p - got, 3);
	assert_int_equal(got[0], 3);
	assert_int_equal(got[2], 5);
	store_stats(s, &st);
	assert_int_equal(st.dropped, 2);
	store_free(s);
}

static void test_store_forgets_rows_after_the_expiry(void **state)
{
	struct store *s = store_new(10, 2);
	uint64_t got[8], *p = got;
	struct store_stats st;

	store_push(s, row_of(1, 1000), 1000);
	store_push(s, row_of(2, 2500), 2500);
	assert_int_equal(store_each(s, 2999, collect, &p), 0);
	assert_int_equal(p - got, 2);
	p = got;
	assert_int_equal(store_each(s, 3000, collect, &p), 0);
	assert_int_equal(p - got, 1);
	assert_int_equal(got[0], 2);
	store_stats(s, &st);
	assert_int_equal(st.expired, 1);
	store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_call_parses_to_ping),
		cmocka_unit_test(test_generate_call_parses_registry_item_and_request),
		cmocka_unit_test(test_every_prefix_of_a_valid_call_asks_for_more),
		cmocka_unit_test(test_trailing_bytes_are_left_for_the_next_message),
		cmocka_unit_test(test_huge_string_length_is_refused_before_its_bytes_arrive),
		cmocka_unit_test(test_negative_string_length_is_malformed),
		cmocka_unit_test(test_huge_map_count_is_refused_before_its_bytes_arrive),
		cmocka_unit_test(test_non_strict_and_non_call_messages_are_malformed),
		cmocka_unit_test(test_nesting_past_the_limit_is_malformed),
		cmocka_unit_test(test_unknown_method_is_parsed_and_its_arguments_skipped),
		cmocka_unit_test(test_ping_reply_is_byte_exact),
		cmocka_unit_test(test_response_rows_count_is_patched_in),
		cmocka_unit_test(test_status_reply_round_trips_and_exceptions_are_reported),
		cmocka_unit_test(test_extensions_reply_finds_our_uuid),
		cmocka_unit_test(test_context_pid_equality_and_time_bounds),
		cmocka_unit_test(test_context_that_is_not_json_constrains_nothing),
		cmocka_unit_test(test_context_with_unusable_expressions_constrains_nothing),
		cmocka_unit_test(test_store_keeps_the_newest_rows_up_to_capacity),
		cmocka_unit_test(test_store_forgets_rows_after_the_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
