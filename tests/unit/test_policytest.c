/* test_policytest.c - `vigil policytest`'s tests file: what the parser refuses (with line and
 * column), and how an expected event matches one from the bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/policytest.h"

struct fixture {
	char path[64];
	char err[2048];		/* what the parser said on stderr */
	struct pt_file f;
	msgpack_sbuffer sb;
	msgpack_unpacked up;
};

/* Load text as a tests file; 0 or 1 as pt_file_load, its stderr in fx->err. */
static int load(struct fixture *fx, const char *text)
{
	int fd, saved = dup(STDERR_FILENO);
	FILE *cap = tmpfile();
	size_t n;
	int rc;

	if (strcmp(fx->path, "/tmp/test-policytest-XXXXXX"))
		unlink(fx->path);
	snprintf(fx->path, sizeof(fx->path), "/tmp/test-policytest-XXXXXX");
	fd = mkstemp(fx->path);

	assert_true(fd >= 0 && saved >= 0 && cap);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	fflush(stderr);
	dup2(fileno(cap), STDERR_FILENO);
	rc = pt_file_load(fx->path, &fx->f);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(cap);
	n = fread(fx->err, 1, sizeof(fx->err) - 1, cap);
	fx->err[n] = '\0';
	fclose(cap);
	return rc;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	snprintf(fx->path, sizeof(fx->path), "/tmp/test-policytest-XXXXXX");
	msgpack_sbuffer_init(&fx->sb);
	msgpack_unpacked_init(&fx->up);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	pt_file_free(&fx->f);
	unlink(fx->path);
	msgpack_sbuffer_destroy(&fx->sb);
	msgpack_unpacked_destroy(&fx->up);
	free(fx);
	return 0;
}

static void str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* {"process_kprobe": {"policy_name": policy, "function_name": "__x64_sys_connect",
 *  "process": {"pid": 42, "binary": "/usr/bin/bash", "cwd": "/tmp/d"},
 *  "args": [{"int_arg": 3}, {"sockaddr_arg": {"addr": "192.0.2.1", "port": 9}}]}} */
static const msgpack_object *event(struct fixture *fx, const char *policy)
{
	msgpack_packer pk;
	size_t off = 0;

	msgpack_sbuffer_clear(&fx->sb);
	msgpack_packer_init(&pk, &fx->sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	str(&pk, "process_kprobe");
	msgpack_pack_map(&pk, 4);
	str(&pk, "policy_name");
	str(&pk, policy);
	str(&pk, "function_name");
	str(&pk, "__x64_sys_connect");
	str(&pk, "process");
	msgpack_pack_map(&pk, 3);
	str(&pk, "pid");
	msgpack_pack_uint32(&pk, 42);
	str(&pk, "binary");
	str(&pk, "/usr/bin/bash");
	str(&pk, "cwd");
	str(&pk, "/tmp/d");
	str(&pk, "args");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_map(&pk, 1);
	str(&pk, "int_arg");
	msgpack_pack_int32(&pk, 3);
	msgpack_pack_map(&pk, 1);
	str(&pk, "sockaddr_arg");
	msgpack_pack_map(&pk, 2);
	str(&pk, "addr");
	str(&pk, "192.0.2.1");
	str(&pk, "port");
	msgpack_pack_uint16(&pk, 9);
	assert_int_equal(msgpack_unpack_next(&fx->up, fx->sb.data, fx->sb.size, &off), MSGPACK_UNPACK_SUCCESS);
	return &fx->up.data;
}

#define ONE_TEST(events) \
	"tests:\n- name: t\n  policy: p\n  scenarios:\n  - name: s\n    trigger: {run: true}\n" \
	"    expect:\n      events:\n" events

/* Does the file's first expected event match the event, and why not. */
static bool matches(struct fixture *fx, const char *text, const char *policy, char *why, size_t size)
{
	struct pt_vars vars = {.dir = "/tmp/d", .policy = "p"};
	struct vigil_buf w = {0};
	yaml_node_t *seq;
	bool ok;

	assert_int_equal(load(fx, text), 0);
	seq = yaml_document_get_node(&fx->f.doc, fx->f.tests[0].scenarios[0].events);
	ok = pt_match_event(&fx->f.doc, seq->data.sequence.items.start[0], event(fx, policy), &vars, &w);
	snprintf(why, size, "%s", w.data ? w.data : "");
	vigil_buf_free(&w);
	return ok;
}

static void test_a_valid_file_loads_its_tests_and_scenarios(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, "tests:\n- name: a\n  policy: pa\n  labels: [x, y]\n  mode: enforce\n"
				  "  scenarios:\n  - name: s1\n    trigger: {run: 'true', user: nobody, timeout: 2s}\n"
				  "    expect: {outcome: {code: '0'}, enforce_outcome: {signal: KILL}, actions: {sigkill: 1}}\n"),
			 0);
	assert_int_equal(fx->f.ntests, 1);
	assert_string_equal(fx->f.tests[0].policy, "pa");
	assert_int_equal(fx->f.tests[0].nlabels, 2);
	assert_true(fx->f.tests[0].enforce);
	assert_int_equal(fx->f.tests[0].scenarios[0].timeout_ms, 2000);
	assert_string_equal(fx->f.tests[0].scenarios[0].user, "nobody");
	assert_int_equal(fx->f.tests[0].scenarios[0].enforce_outcome.signal, 9);
	assert_int_equal(fx->f.tests[0].scenarios[0].actions[PT_SIGKILL], 1);
	assert_int_equal(fx->f.tests[0].scenarios[0].actions[PT_POST], -1);
}

static void test_an_unknown_field_is_refused_with_its_line_and_column(void **state)
{
	struct fixture *fx = *state;
	char want[128];

	assert_int_equal(load(fx, "tests:\n- name: a\n  policy: pa\n  scenarios:\n  - name: s\n    trigger: {run: x}\n"
				  "    expekt: {}\n"),
			 1);
	snprintf(want, sizeof(want), "vigil policytest: %s:7:5: unknown field 'expekt'\n", fx->path);
	assert_string_equal(fx->err, want);
}

static void test_a_scenario_that_expects_nothing_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, "tests:\n- name: a\n  policy: pa\n  scenarios:\n  - name: s\n    trigger: {run: x}\n"), 1);
	assert_non_null(strstr(fx->err, ":5:5: scenario s expects nothing"));
}

static void test_bad_values_are_refused_naming_them(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, ONE_TEST("      - process_kprobe: {}\n      - {a: 1, b: 2}\n")), 1);
	assert_non_null(strstr(fx->err, ":10:9: events: each event is a mapping with one key"));
	pt_file_free(&fx->f);
	assert_int_equal(load(fx, "tests:\n- name: a\n  policy: pa\n  scenarios:\n  - name: s\n"
				  "    trigger: {run: x, timeout: forever}\n    expect: {outcome: {code: 0}}\n"),
			 1);
	assert_non_null(strstr(fx->err, ":6:32: timeout must be a duration from 100ms to 10m, not 'forever'"));
	pt_file_free(&fx->f);
	assert_int_equal(load(fx, "tests:\n- name: a\n  policy: pa\n  scenarios:\n  - name: s\n    trigger: {run: x}\n"
				  "    expect: {outcome: {signal: STOPPED}}\n"),
			 1);
	assert_non_null(strstr(fx->err, "signal 'STOPPED' is not one of"));
	pt_file_free(&fx->f);
	assert_int_equal(load(fx, "tests: [{name: a, policy: p, scenarios: [{name: s, trigger: {run: x}, expect: "
				  "{outcome: {code: 0}}}]}, {name: a, policy: q, scenarios: [{name: s, trigger: {run: x}, "
				  "expect: {outcome: {code: 0}}}]}]\n"),
			 1);
	assert_non_null(strstr(fx->err, "test name 'a' given twice"));
}

/* A tag compare() does not know would compare as plain text, a regex that does not compile
 * would never match: both are refused when the file is read, naming the scalar. */
static void test_unknown_tags_and_bad_regexes_are_refused_where_they_are(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, ONE_TEST("      - process_kprobe: {process: {binary: !regexp '^/usr'}}\n")), 1);
	assert_non_null(strstr(fx->err, ":9:44: unknown tag !regexp"));
	pt_file_free(&fx->f);
	assert_int_equal(load(fx, ONE_TEST("      - process_kprobe: {process: {binary: !regex '${dir}/(a'}}\n")), 1);
	assert_non_null(strstr(fx->err, ":9:44: "));
	pt_file_free(&fx->f);
	assert_int_equal(load(fx, ONE_TEST("      - process_kprobe: {process: {binary: !regex '${dir}/[ab]+'}}\n")), 0);
}

static void test_keys_given_must_match_scalars_as_text(void **state)
{
	struct fixture *fx = *state;
	char why[256];

	assert_true(matches(fx, ONE_TEST("      - process_kprobe: {process: {pid: 42}, args: [{int_arg: 3}]}\n"), "p",
			    why, sizeof(why)));
	pt_file_free(&fx->f);
	assert_false(matches(fx, ONE_TEST("      - process_kprobe: {args: [{int_arg: 3}, {sockaddr_arg: {port: 10}}]}\n"),
			     "p", why, sizeof(why)));
	assert_string_equal(why, "process_kprobe.args[1].sockaddr_arg.port: want 10, got 9");
}

static void test_tags_compare_by_prefix_suffix_contains_regex(void **state)
{
	struct fixture *fx = *state;
	char why[256];

	assert_true(matches(fx, ONE_TEST("      - process_kprobe: {function_name: !suffix sys_connect, process: "
					 "{binary: !prefix /usr/, cwd: !contains mp/}, args: [{}, {sockaddr_arg: "
					 "{addr: !regex '^192\\.0\\.2\\.[0-9]+$'}}]}\n"),
			    "p", why, sizeof(why)));
	pt_file_free(&fx->f);
	assert_false(matches(fx, ONE_TEST("      - process_kprobe: {function_name: !suffix sys_accept}\n"), "p", why,
			     sizeof(why)));
	assert_string_equal(why, "process_kprobe.function_name: want sys_accept, got __x64_sys_connect");
}

static void test_dir_is_substituted_and_a_missing_key_is_named(void **state)
{
	struct fixture *fx = *state;
	char why[256];

	assert_true(matches(fx, ONE_TEST("      - process_kprobe: {process: {cwd: '${dir}'}}\n"), "p", why, sizeof(why)));
	pt_file_free(&fx->f);
	assert_false(matches(fx, ONE_TEST("      - process_kprobe: {process: {uid: 0}}\n"), "p", why, sizeof(why)));
	assert_string_equal(why, "process_kprobe.process.uid: want the field, got absent");
	pt_file_free(&fx->f);
	assert_false(matches(fx, ONE_TEST("      - process_kprobe: {args: [{}, {}, {}]}\n"), "p", why, sizeof(why)));
	assert_string_equal(why, "process_kprobe.args[2]: want an element, got absent");
}

static void test_a_policy_event_must_be_the_tested_policys_unless_named(void **state)
{
	struct fixture *fx = *state;
	char why[256];

	assert_false(matches(fx, ONE_TEST("      - process_kprobe: {}\n"), "other", why, sizeof(why)));
	assert_string_equal(why, "process_kprobe.policy_name: want p, got other");
	pt_file_free(&fx->f);
	assert_true(matches(fx, ONE_TEST("      - process_kprobe: {policy_name: other}\n"), "other", why, sizeof(why)));
	pt_file_free(&fx->f);
	/* another kind of event is no match, and no mismatch to report */
	assert_false(matches(fx, ONE_TEST("      - process_exec: {}\n"), "p", why, sizeof(why)));
	assert_string_equal(why, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_valid_file_loads_its_tests_and_scenarios, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_unknown_field_is_refused_with_its_line_and_column, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_scenario_that_expects_nothing_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values_are_refused_naming_them, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_tags_and_bad_regexes_are_refused_where_they_are, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keys_given_must_match_scalars_as_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags_compare_by_prefix_suffix_contains_regex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_is_substituted_and_a_missing_key_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_policy_event_must_be_the_tested_policys_unless_named, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
