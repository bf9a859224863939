/* test_decode.c - unit tests for core/decode/decode.c: kernel records into cache and events. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode.h"
#include "events/events.h"
#include "pcache/pcache.h"
#include "process.h"
#include "records.h"

#define B2W 1000000000000LL

struct fixture {
	struct vigil_pcache *cache;
	struct vigil_decoder *dec;
	struct vigil_exec_record rec;
};

static int setup(void **state)
{
	struct vigil_pcache_opts o = {.sz = sizeof(o), .node_name = "node"};
	struct fixture *f = calloc(1, sizeof(*f));

	f->cache = vigil_pcache__new(&o);
	f->dec = vigil_decoder__new(f->cache, B2W, "/nonexistent");
	*state = f;
	return f->cache && f->dec ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vigil_decoder__free(f->dec);
	vigil_pcache__free(f->cache);
	free(f);
	return 0;
}

static void test_exec_record_becomes_exec_event_with_process(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;
	static const char args[] = "/bin/true\0a\0b c";
	size_t n = make_exec(&f->rec, 42, 5000, "/usr/bin/true", "/", args, sizeof(args),
			     VIGIL_KF_EXECVE | VIGIL_KF_CLONE);

	assert_int_equal(vigil_decoder__record(f->dec, &f->rec, n, &ev), 1);
	assert_int_equal(ev.type, VIGIL_EVENT_EXEC);
	assert_int_equal(ev.time, 5000 + B2W);
	assert_string_equal(ev.process->binary, "/usr/bin/true");
	assert_string_equal(ev.process->arguments, "a \"b c\"");
	assert_string_equal(ev.process->cwd, "/");
	assert_int_equal(ev.process->flags,
			 VIGIL_PROC_EXECVE | VIGIL_PROC_CLONE | VIGIL_PROC_ROOTCWD | VIGIL_PROC_NOPARENT);
	assert_int_equal(ev.process->auid, 1000);
	assert_int_equal(ev.process->caps.effective, 1ULL << 21);
	assert_true(ev.process->parent_exec_id[0] != '\0');
	assert_null(ev.parent);	/* pid 1 is not in this cache */
}

static void test_truncation_flags_reach_the_process(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;
	size_t n = make_exec(&f->rec, 43, 6000, "/x", "/tmp", "x\0yy", 4,
			     VIGIL_KF_EXECVE | VIGIL_KF_TRUNC_ARGS | VIGIL_KF_TRUNC_FILENAME);

	assert_int_equal(vigil_decoder__record(f->dec, &f->rec, n, &ev), 1);
	assert_int_equal(ev.process->flags, VIGIL_PROC_EXECVE | VIGIL_PROC_TRUNC_ARGS | VIGIL_PROC_TRUNC_FILENAME |
					    VIGIL_PROC_NOPARENT);
	assert_string_equal(ev.process->arguments, "yy");
}

static void test_clone_then_exit_reports_clone_with_status_and_signal(void **state)
{
	struct fixture *f = *state;
	struct vigil_clone_record c = {.hdr = {.op = VIGIL_OP_CLONE, .size = sizeof(c), .ktime = 7003},
				       .pid = 50, .tid = 50, .ppid = 42, .pktime = 5000, .flags = VIGIL_KF_CLONE,
				       .proc_ktime = 7000};
	struct vigil_exit_record x = {.hdr = {.op = VIGIL_OP_EXIT, .size = sizeof(x), .ktime = 8000},
				      .pid = 50, .tid = 50, .proc_ktime = 7000, .exit_code = (3 << 8) | 9};
	struct vigil_event ev;
	static const char args[] = "/bin/true";
	size_t n = make_exec(&f->rec, 42, 5000, "/usr/bin/true", "/", args, sizeof(args), VIGIL_KF_EXECVE);

	assert_int_equal(vigil_decoder__record(f->dec, &f->rec, n, &ev), 1);
	assert_int_equal(vigil_decoder__record(f->dec, &c, sizeof(c), &ev), 0);
	assert_int_equal(vigil_decoder__record(f->dec, &x, sizeof(x), &ev), 1);
	assert_int_equal(ev.type, VIGIL_EVENT_EXIT);
	assert_int_equal(ev.process->pid, 50);
	assert_int_equal(ev.process->flags, VIGIL_PROC_CLONE);
	assert_string_equal(ev.process->binary, "/usr/bin/true");
	assert_non_null(ev.parent);
	assert_int_equal(ev.parent->pid, 42);
	assert_int_equal(ev.exit.status, 3);
	assert_int_equal(ev.exit.signal, 9);
}

static void test_exit_of_unknown_process_is_reported_and_counted(void **state)
{
	struct fixture *f = *state;
	struct vigil_exit_record x = {.hdr = {.op = VIGIL_OP_EXIT, .size = sizeof(x), .ktime = 8000},
				      .pid = 77, .tid = 77, .proc_ktime = 100, .exit_code = 0};
	struct vigil_decoder_stats st;
	struct vigil_event ev;

	assert_int_equal(vigil_decoder__record(f->dec, &x, sizeof(x), &ev), 1);
	assert_int_equal(ev.process->pid, 77);
	assert_true(ev.process->flags & VIGIL_PROC_UNKNOWN);
	vigil_decoder__stats(f->dec, &st);
	assert_int_equal(st.exit_unknown, 1);
	assert_int_equal(st.degraded[VIGIL_DEGRADED_PROCESS_UNKNOWN], 1);
}

static void test_exec_key_is_the_kernel_key_and_time_the_exec_time(void **state)
{
	struct fixture *f = *state;
	struct vigil_event ev;
	size_t n = make_exec(&f->rec, 44, 90000123, "/x", "/", "x", 2, VIGIL_KF_EXECVE);

	f->rec.proc_ktime = 30000001;	/* start tick + one exec */
	assert_int_equal(vigil_decoder__record(f->dec, &f->rec, n, &ev), 1);
	assert_int_equal(ev.process->ktime, 30000001);
	assert_int_equal(ev.time, 90000123 + B2W);
	assert_non_null(vigil_pcache__lookup(f->cache, 44, 30000001));
}

static void test_exec_without_cached_parent_is_flagged_and_counted(void **state)
{
	struct fixture *f = *state;
	struct vigil_decoder_stats st;
	struct vigil_event ev;
	size_t n = make_exec(&f->rec, 45, 5000, "/x", "/", "x", 2, VIGIL_KF_EXECVE);

	assert_int_equal(vigil_decoder__record(f->dec, &f->rec, n, &ev), 1);
	assert_null(ev.parent);
	assert_true(ev.process->flags & VIGIL_PROC_NOPARENT);
	vigil_decoder__stats(f->dec, &st);
	assert_int_equal(st.degraded[VIGIL_DEGRADED_PARENT_UNKNOWN], 1);
	assert_int_equal(st.degraded[VIGIL_DEGRADED_UNCACHED], 0);
}

static void test_exec_already_cached_is_dropped_as_duplicate(void **state)
{
	struct fixture *f = *state;
	struct vigil_decoder_stats st;
	struct vigil_event ev;
	size_t n = make_exec(&f->rec, 46, 5000, "/x", "/", "x", 2, VIGIL_KF_EXECVE);

	assert_int_equal(vigil_decoder__record(f->dec, &f->rec, n, &ev), 1);
	assert_int_equal(vigil_decoder__record(f->dec, &f->rec, n, &ev), -EEXIST);
	vigil_decoder__stats(f->dec, &st);
	assert_int_equal(st.dropped[VIGIL_DROPPED_DUPLICATE], 1);
}

static void test_malformed_records_are_counted_and_dropped(void **state)
{
	struct fixture *f = *state;
	struct vigil_clone_record c = {.hdr = {.op = VIGIL_OP_CLONE, .size = sizeof(c)}};
	struct vigil_decoder_stats st;
	struct vigil_event ev;
	size_t n;

	/* size in the header disagrees with the bytes received */
	assert_int_equal(vigil_decoder__record(f->dec, &c, sizeof(c) - 1, &ev), -EBADMSG);
	/* unknown op */
	c.hdr.op = 99;
	assert_int_equal(vigil_decoder__record(f->dec, &c, sizeof(c), &ev), -EBADMSG);
	/* shorter than a header */
	assert_int_equal(vigil_decoder__record(f->dec, &c, 3, &ev), -EBADMSG);
	/* string lengths pointing past the record */
	n = make_exec(&f->rec, 44, 9000, "/x", "/", "x", 1, VIGIL_KF_EXECVE);
	f->rec.args_len = 4000;
	assert_int_equal(vigil_decoder__record(f->dec, &f->rec, n, &ev), -EBADMSG);
	vigil_decoder__stats(f->dec, &st);
	assert_int_equal(st.bad_records, 4);
	assert_int_equal(st.records, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exec_record_becomes_exec_event_with_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_flags_reach_the_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clone_then_exit_reports_clone_with_status_and_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_of_unknown_process_is_reported_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_records_are_counted_and_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_key_is_the_kernel_key_and_time_the_exec_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_without_cached_parent_is_flagged_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_already_cached_is_dropped_as_duplicate, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
