/* test_cel.c - unit tests for core/cel: what Tetragon's CEL environment refuses at compile
 * time (with columns), what evaluates and how (defaults of absent fields, wrappers, error
 * absorption of && and ||, overflow, kinds an expression does not name), the RE2 constructs
 * refused in matches(), and the limits. Events are Tetragon JSON lines packed as the bus
 * carries them, read decoded and as the agent's in-place view. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "cel/cel.h"
#include "encode/encode.h"

#define CEL_TEST_BIG 10000

static const char exec_json[] =
	"{\"process_exec\":{\"process\":{\"exec_id\":\"aWQ=\",\"pid\":4242,\"uid\":1000,\"cwd\":\"/home/u\","
	"\"binary\":\"/usr/bin/true\",\"arguments\":\"-x 'quoted' \xc3\xa9t\xc3\xa9\",\"flags\":\"execve\","
	"\"start_time\":\"2026-12-07T02:00:00.123456789Z\",\"auid\":4294967295,\"refcnt\":1},"
	"\"parent\":{\"pid\":1,\"binary\":\"/bin/bash\"}},\"node_name\":\"n\",\"time\":\"2026-12-07T02:00:01Z\"}";

/* an exec whose process has no pid (a wrapper: null) */
static const char nopid_json[] = "{\"process_exec\":{\"process\":{\"binary\":\"/bin/x\"}}}";

static const char kprobe_json[] =
	"{\"process_kprobe\":{\"process\":{\"pid\":7,\"binary\":\"/usr/bin/cat\",\"pod\":{\"namespace\":\"ns\","
	"\"name\":\"web\",\"pod_labels\":{\"app\":\"web\",\"tier\":\"front\"}}},\"function_name\":\"security_file_open\","
	"\"args\":[{\"file_arg\":{\"path\":\"/etc/shadow\"}},{\"int_arg\":-3},{\"size_arg\":\"18446744073709551615\"},"
	"{\"sock_arg\":{\"saddr\":\"10.0.2.21\",\"dport\":443}}],\"action\":\"KPROBE_ACTION_SIGKILL\","
	"\"policy_name\":\"files\",\"tags\":[\"a\",\"b\"]}}";

static int pack_write(void *data, const char *buf, size_t len)
{
	return vigil_buf_append(data, buf, len);
}

static void pack_json(msgpack_packer *pk, json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach(j, key, v) {
			msgpack_pack_str_with_body(pk, key, strlen(key));
			pack_json(pk, v);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
			pack_json(pk, v);
		break;
	case JSON_STRING: msgpack_pack_str_with_body(pk, json_string_value(j), json_string_length(j)); break;
	case JSON_INTEGER: msgpack_pack_int64(pk, json_integer_value(j)); break;
	case JSON_TRUE: msgpack_pack_true(pk); break;
	case JSON_FALSE: msgpack_pack_false(pk); break;
	default: msgpack_pack_nil(pk); break;
	}
}

static void pack(const char *text, struct vigil_buf *wire)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	msgpack_packer pk;

	assert_non_null(j);
	msgpack_packer_init(&pk, wire, pack_write);
	pack_json(&pk, j);
	json_decref(j);
}

/* expr against the event in JSON, decoded; and the same through the agent's view, which
 * must agree */
static int eval_json(const char *expr, const char *json)
{
	struct vigil_cel_error err;
	struct vigil_cel *p = vigil_cel__compile(expr, &err);
	struct vigil_buf wire = {0};
	struct vigil_msg *m, *view;
	int rc, rc_view;

	if (!p)
		fail_msg("'%s' refused: column %d: %s", expr, err.column, err.reason);
	pack(json, &wire);
	m = vigil_msg__decode(wire.data, wire.len);
	assert_non_null(m);
	rc = vigil_cel__eval(p, m);
	view = vigil_msg__new_view();
	assert_non_null(view);
	assert_int_equal(vigil_msg__view_own(view, wire.data, wire.len, 0), 0);
	rc_view = vigil_cel__eval(p, view);
	assert_int_equal(rc, rc_view);
	vigil_msg__free(view);
	vigil_msg__free(m);
	vigil_cel__free(p);
	vigil_buf_free(&wire);
	return rc;
}

/* the refusal of expr: its column, and reason containing want */
static void refused(const char *expr, int column, const char *want)
{
	struct vigil_cel_error err;
	struct vigil_cel *p = vigil_cel__compile(expr, &err);

	if (p)
		fail_msg("'%s' was accepted", expr);
	assert_int_equal(errno, EINVAL);
	if (!strstr(err.reason, want))
		fail_msg("'%s': reason '%s' lacks '%s'", expr, err.reason, want);
	if (column >= 0)
		assert_int_equal(err.column, column);
}

/* ================================================================ compile-time */

static void test_unknown_field_refused_with_its_column(void **state)
{
	refused("process_exec.process.bad_field_name == 'curl'", 22, "undefined field 'bad_field_name'");
	refused("process_exec.proces.binary == 'x'", 14, "undefined field 'proces'");
}

static void test_syntax_errors_name_the_column(void **state)
{
	refused("process_exec.process.binary ==", -1, "expected an expression");
	refused("process_exec.process.binary == 'x", 32, "unterminated string");
	refused("(1 == 1", 8, "expected ')'");
	refused("1 == 1 )", 8, "unexpected ')'");
	refused("", 1, "empty expression");
	refused("1 == 1 && var", 11, "reserved word");
	refused("'\\q' == 'q'", 2, "invalid escape");
}

static void test_numeric_types_do_not_mix(void **state)
{
	refused("1 == 1u", 3, "no matching overload for '_==_' applied to '(int, uint)'");
	refused("process_exec.process.pid > 1", 26, "'(wrapper(uint), int)'");
	refused("1.0 < 2", -1, "'(double, int)'");
	refused("'a' + 1 == 'a1'", -1, "_+_");
}

static void test_result_must_be_bool(void **state)
{
	refused("process_exec.process.binary", 22, "got 'string', wanted 'bool'");
	refused("dyn(true)", -1, "got 'dyn'");
}

static void test_unsupported_is_refused_not_false(void **state)
{
	refused("duration('1s') > duration('0s')", 1, "durations are not supported");
	refused("process_exec.process.binary.lowerAscii() == 'x'", -1, "undeclared reference to 'lowerAscii'");
	refused("tetragon.Process{pid: 1} == null", -1, "message construction");
	refused("process_exec.process.binary.matches(process_exec.process.cwd)", -1, "string literal");
	refused("nosuchvar == 1", 1, "undeclared reference");
	refused("process_exec.process == process_exec.parent", 22, "comparing messages");
	refused("process_kprobe.args == []", -1, "comparing messages");
}

static void test_re2_only_regex_constructs_refused(void **state)
{
	refused("process_exec.process.binary.matches('(?i)curl')", 37, "(?...)");
	refused("process_exec.process.arguments.matches('\\\\d+')", -1, "Perl character classes");
	refused("process_exec.process.binary.matches('a.*?b')", -1, "lazy quantifiers");
	refused("process_exec.process.binary.matches('a++')", -1, "repetition");
	refused("process_exec.process.binary.matches('[\\\\w]')", -1, "inside [...]");
	assert_int_equal(eval_json("process_exec.process.binary.matches('^/usr/(s?bin)/t[a-z]+$')", exec_json), 1);
	assert_int_equal(eval_json("matches(process_exec.process.binary, 'cat')", exec_json), 0);
	/* searched anywhere, anchors kept where they are */
	assert_int_equal(eval_json("process_exec.process.binary.matches('bin/t')", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.binary.matches('^bin/t')", exec_json), 0);
	assert_int_equal(eval_json("process_exec.process.binary.matches('tru|^/nope')", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.binary.matches('ru$')", exec_json), 0);
	assert_int_equal(eval_json("process_exec.process.binary.matches('')", exec_json), 1);
}

/* glibc's regexec retries an unanchored pattern at every start: a+b against 128 KiB of "a"
 * took over 10 s before matches() anchored its patterns behind .* (regex.c) */
static void test_matches_is_linear_in_the_subject(void **state)
{
	static const char head[] = "{\"process_exec\":{\"process\":{\"binary\":\"/x\",\"arguments\":\"";
	size_t n = 131072;
	char *json = malloc(sizeof(head) + n + 8);
	clock_t start;

	assert_non_null(json);
	strcpy(json, head);
	memset(json + strlen(head), 'a', n);
	strcpy(json + strlen(head) + n, "\"}}}");
	start = clock();
	assert_int_equal(eval_json("process_exec.process.arguments.matches('a+b')", json), 0);
	assert_int_equal(eval_json("process_exec.process.arguments.matches('(a|aa)*b')", json), 0);
	assert_int_equal(eval_json("process_exec.process.arguments.matches('a.*a.*b|^a+$')", json), 1);
	/* 6 searches (decoded and viewed): milliseconds; 5 s leaves room for memcheck */
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 5.0);
	free(json);
}

static void test_limits_refuse_deep_and_long_expressions(void **state)
{
	char text[CEL_TEST_BIG];
	size_t i, n = 0;

	for (i = 0; i < 200; i++)
		text[n++] = '(';
	memcpy(text + n, "true", 4);
	n += 4;
	for (i = 0; i < 200; i++)
		text[n++] = ')';
	text[n] = '\0';
	refused(text, -1, "nested deeper");
	/* a left-deep chain, which the parser's recursion alone would not see */
	n = 0;
	for (i = 0; i < 300; i++)
		n += (size_t)sprintf(text + n, "1+");
	sprintf(text + n, "1 == 301");
	refused(text, -1, "nested deeper");
	memset(text, ' ', 9000);
	strcpy(text + 9000, "true");
	refused(text, 0, "longer than");
}

/* ================================================================ evaluation */

static void test_string_functions_on_an_exec(void **state)
{
	assert_int_equal(eval_json("process_exec.process.binary.endsWith('/true')", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.binary.startsWith('/usr/')", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.arguments.contains(\"'quoted'\")", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.binary.endsWith('/false')", exec_json), 0);
	assert_int_equal(eval_json("process_exec.parent.binary == r'/bin/bash'", exec_json), 1);
	/* size counts code points: "-x 'quoted' été" */
	assert_int_equal(eval_json("size(process_exec.process.arguments) == 15", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.binary + '!' == '/usr/bin/true!'", exec_json), 1);
}

static void test_wrappers_uints_and_null(void **state)
{
	assert_int_equal(eval_json("process_exec.process.pid > uint(1)", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.pid == 4242u", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.auid == 4294967295u", exec_json), 1);
	/* an absent wrapper is null: ordering it is an error, equality is false */
	assert_int_equal(eval_json("process_exec.process.pid > uint(1)", nopid_json), -EINVAL);
	assert_int_equal(eval_json("process_exec.process.pid == null", nopid_json), 1);
	assert_int_equal(eval_json("process_exec.process.pid == 1u", nopid_json), 0);
}

static void test_absent_fields_read_as_protobuf_defaults(void **state)
{
	assert_int_equal(eval_json("process_exec.process.pod.name == ''", exec_json), 1);
	assert_int_equal(eval_json("has(process_exec.process.pod)", exec_json), 0);
	assert_int_equal(eval_json("has(process_exec.process.binary)", exec_json), 1);
	assert_int_equal(eval_json("size(process_exec.ancestors) == 0", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.docker == ''", exec_json), 1);
	assert_int_equal(eval_json("process_exec.process.refcnt == 1u", exec_json), 1);
	assert_int_equal(eval_json("has(process_kprobe.process.pod)", kprobe_json), 1);
}

static void test_logical_operators_absorb_errors(void **state)
{
	/* the pid is null here: `pid > uint(1)` is an error */
	assert_int_equal(eval_json("false && process_exec.process.pid > uint(1)", nopid_json), 0);
	assert_int_equal(eval_json("process_exec.process.pid > uint(1) && false", nopid_json), 0);
	assert_int_equal(eval_json("process_exec.process.pid > uint(1) || true", nopid_json), 1);
	assert_int_equal(eval_json("true || process_exec.process.pid > uint(1)", nopid_json), 1);
	assert_int_equal(eval_json("process_exec.process.pid > uint(1) && true", nopid_json), -EINVAL);
	assert_int_equal(eval_json("!(process_exec.process.pid > uint(1))", nopid_json), -EINVAL);
	assert_int_equal(eval_json("process_exec.process.pid > uint(1) ? true : true", nopid_json), -EINVAL);
}

static void test_runtime_errors_do_not_pass(void **state)
{
	assert_int_equal(eval_json("process_exec.process.pid > 0u && 9223372036854775807 + 1 > 0", exec_json), -EINVAL);
	assert_int_equal(eval_json("has(process_exec.process) && 1 / 0 == 0", exec_json), -EINVAL);
	assert_int_equal(eval_json("has(process_exec.process) && 0u - 1u == 0u", exec_json), -EINVAL);
	assert_int_equal(eval_json("process_kprobe.process.pod.pod_labels['nope'] == 'x'", kprobe_json), -EINVAL);
	assert_int_equal(eval_json("process_kprobe.args[9].int_arg == 0", kprobe_json), -EINVAL);
	assert_int_equal(eval_json("process_exec.process.pid > 0u && int('12x') == 12", exec_json), -EINVAL);
}

static void test_only_named_kinds_are_evaluated(void **state)
{
	struct vigil_cel *p = vigil_cel__compile("process_kprobe.function_name == 'x'", NULL);

	assert_non_null(p);
	assert_true(vigil_cel__names_kind(p, "process_kprobe"));
	assert_false(vigil_cel__names_kind(p, "process_exec"));
	vigil_cel__free(p);
	assert_int_equal(eval_json("process_kprobe.function_name == 'x'", exec_json), -ENOENT);
	/* an expression over two kinds sees the other as an unset message */
	assert_int_equal(eval_json("(has(process_exec.process) && process_exec.process.pid > uint(1)) || "
				   "(has(process_exit.process) && process_exit.process.pid > uint(1))", exec_json), 1);
	assert_int_equal(eval_json("process_exit.process.binary == ''", exec_json), -ENOENT);
}

static void test_lists_maps_and_macros(void **state)
{
	assert_int_equal(eval_json("process_kprobe.args.exists(a, a.file_arg.path == '/etc/shadow')", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.args[1].int_arg == -3", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.args[2].size_arg == 18446744073709551615u", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.args[3].sock_arg.dport == 443u", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.args.filter(a, has(a.int_arg)).size() == 1", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.args.exists_one(a, has(a.sock_arg))", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.args.all(a, has(a.file_arg))", kprobe_json), 0);
	assert_int_equal(eval_json("process_kprobe.args.map(a, a.int_arg) == [0, -3, 0, 0]", kprobe_json), 1);
	assert_int_equal(eval_json("'b' in process_kprobe.tags && !('c' in process_kprobe.tags)", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.process.pod.pod_labels['app'] == 'web'", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.process.pod.pod_labels.tier == 'front'", kprobe_json), 1);
	assert_int_equal(eval_json("'tier' in process_kprobe.process.pod.pod_labels", kprobe_json), 1);
	assert_int_equal(eval_json("has(process_kprobe.process.pod.pod_labels.nope)", kprobe_json), 0);
	assert_int_equal(eval_json("process_kprobe.function_name in ['security_file_open', 'x']", kprobe_json), 1);
	assert_int_equal(eval_json("{'a': 1}['a'] == 1 && [1, 2, 3][2] == 3", kprobe_json), -ENOENT);
	assert_int_equal(eval_json("process_kprobe.policy_name == 'files' && {'a': 1}['a'] == 1", kprobe_json), 1);
}

static void test_enums_are_ints_with_named_constants(void **state)
{
	assert_int_equal(eval_json("process_kprobe.action == KprobeAction.KPROBE_ACTION_SIGKILL", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.action == tetragon.KprobeAction.KPROBE_ACTION_SIGKILL", kprobe_json), 1);
	assert_int_equal(eval_json("process_kprobe.action == 3", kprobe_json), 1);
	refused("process_kprobe.action == KprobeAction.NOPE", -1, "undeclared reference");
}

static void test_timestamps_compare_and_print(void **state)
{
	assert_int_equal(eval_json("process_exec.process.start_time > timestamp('2026-01-01T00:00:00Z')", exec_json), 1);
	assert_int_equal(eval_json("string(process_exec.process.start_time) == '2026-12-07T02:00:00.123456789Z'", exec_json), 1);
	assert_int_equal(eval_json("string(process_exec.process.start_time).startsWith('2026-12-07')", exec_json), 1);
	assert_int_equal(eval_json("int(process_exec.process.start_time) == 1796608800", exec_json), 1);
	refused("process_exec.process.start_time == '2026'", -1, "Timestamp");
}

/* Tetragon's own CEL tests: cidr().containsIP() and ip().family() on a socket argument */
static void test_ip_and_cidr_library(void **state)
{
	assert_int_equal(eval_json("cidr('10.0.0.0/16').containsIP(process_kprobe.args[3].sock_arg.saddr)", kprobe_json), 1);
	assert_int_equal(eval_json("cidr('192.0.2.0/24').containsIP(process_kprobe.args[3].sock_arg.saddr)", kprobe_json), 0);
	assert_int_equal(eval_json("ip(process_kprobe.args[3].sock_arg.saddr).family() == 4", kprobe_json), 1);
	assert_int_equal(eval_json("has(process_kprobe.process) && ip('2001:db8::abcd').family() == 6 && "
				   "cidr('2001:db8::/32').containsIP(ip('2001:db8::1')) && ip('127.0.0.2').isLoopback() && "
				   "!ip('10.1.2.3').isLoopback() && ip('10.1.2.3').isGlobalUnicast() && "
				   "ip('fe80::1').isLinkLocalUnicast() && ip('224.0.0.1').isLinkLocalMulticast() && "
				   "ip('0.0.0.0').isUnspecified() && cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8') && "
				   "cidr('10.0.0.0/8').prefixLength() == 8 && cidr('10.0.0.0/8').containsCIDR('10.2.0.0/16') && "
				   "!cidr('10.0.0.0/16').containsCIDR('10.0.0.0/8') && string(cidr('10.1.0.0/16').ip()) == '10.1.0.0' "
				   "&& string(ip('2001:DB8::1')) == '2001:db8::1' && isIP('1.2.3.4') && !isIP('::ffff:1.2.3.4') && "
				   "!isIP('fe80::1%eth0') && isCIDR('::/0') && !isCIDR('10.0.0.0/33')", kprobe_json), 1);
	assert_int_equal(eval_json("ip(process_kprobe.function_name).family() == 4", kprobe_json), -EINVAL);
	refused("ip(1) == ip('1.2.3.4')", -1, "no matching overload for 'ip'");
}

static void test_conversions(void **state)
{
	assert_int_equal(eval_json("has(process_exec.process) && int('-12') == -12 && uint(3) == 3u && "
				   "double(1) == 1.0 && string(12u) == '12' && string(true) == 'true' && "
				   "bool('false') == false && bytes('a') == b'a' && int(2.9) == 2", exec_json), 1);
	assert_int_equal(eval_json("has(process_exec.process) && uint(-1) == 0u", exec_json), -EINVAL);
	assert_int_equal(eval_json("has(process_exec.process) && 1 == dyn(1u)", exec_json), 1);
}

static void test_step_limit_bounds_evaluation(void **state)
{
	const char *l = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30]";
	char text[1024];

	snprintf(text, sizeof(text), "has(process_exec.process) && %s.all(a, %s.all(b, %s.all(c, %s.all(d, a > 0))))", l,
		 l, l, l);
	assert_int_equal(eval_json(text, exec_json), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_field_refused_with_its_column),
		cmocka_unit_test(test_syntax_errors_name_the_column),
		cmocka_unit_test(test_numeric_types_do_not_mix),
		cmocka_unit_test(test_result_must_be_bool),
		cmocka_unit_test(test_unsupported_is_refused_not_false),
		cmocka_unit_test(test_re2_only_regex_constructs_refused),
		cmocka_unit_test(test_matches_is_linear_in_the_subject),
		cmocka_unit_test(test_limits_refuse_deep_and_long_expressions),
		cmocka_unit_test(test_string_functions_on_an_exec),
		cmocka_unit_test(test_wrappers_uints_and_null),
		cmocka_unit_test(test_absent_fields_read_as_protobuf_defaults),
		cmocka_unit_test(test_logical_operators_absorb_errors),
		cmocka_unit_test(test_runtime_errors_do_not_pass),
		cmocka_unit_test(test_only_named_kinds_are_evaluated),
		cmocka_unit_test(test_lists_maps_and_macros),
		cmocka_unit_test(test_enums_are_ints_with_named_constants),
		cmocka_unit_test(test_timestamps_compare_and_print),
		cmocka_unit_test(test_ip_and_cidr_library),
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_step_limit_bounds_evaluation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
