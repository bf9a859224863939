/* test_pcache.c - unit tests for core/pcache: exec_id, arguments, the cache, the /proc scan. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pcache/pcache.h"
#include "pcache/pcache_internal.h"

#define PF_KTHREAD 0x00200000
#define GC_DELAY 100
#define B2W 1000000000000LL	/* boot-to-wall offset handed to the fake scans */

/* ================================================================ exec_id */

static void test_exec_id_is_base64_of_node_ktime_pid(void **state)
{
	char out[VIGIL_EXEC_ID_MAX];
	int n;

	n = vigil_exec_id_format("my-node", 13548674321373ULL, 52699, out);
	assert_string_equal(out, "bXktbm9kZToxMzU0ODY3NDMyMTM3Mzo1MjY5OQ==");
	assert_int_equal(n, (int)strlen(out));
}

static void test_exec_id_matches_tetragon_example(void **state)
{
	char out[VIGIL_EXEC_ID_MAX];

	vigil_exec_id_format("gke-john-632-default-pool-7041cac0-9s95", 13548674321373ULL, 52699, out);
	assert_string_equal(out, "Z2tlLWpvaG4tNjMyLWRlZmF1bHQtcG9vbC03MDQxY2FjMC05czk1OjEzNTQ4Njc0MzIxMzczOjUyNjk5");
}

static void test_exec_id_pads_with_one_or_no_equals(void **state)
{
	char out[VIGIL_EXEC_ID_MAX];

	vigil_exec_id_format("abcd", 1, 1, out);	/* 8 bytes: one '=' */
	assert_string_equal(out, "YWJjZDoxOjE=");
	vigil_exec_id_format("ab", 1, 1, out);		/* 6 bytes: no padding */
	assert_string_equal(out, "YWI6MTox");
}

static void test_exec_id_parses_back_to_ktime_and_pid_whatever_the_node_holds(void **state)
{
	char out[VIGIL_EXEC_ID_MAX];
	uint64_t ktime;
	uint32_t pid;

	vigil_exec_id_format("node:with:colons", 13548674321373ULL, 52699, out);
	assert_int_equal(vigil_exec_id_parse(out, &ktime, &pid), 0);
	assert_int_equal(ktime, 13548674321373ULL);
	assert_int_equal(pid, 52699);
	assert_int_equal(vigil_exec_id_parse("YWJjZDoxOjE=", &ktime, &pid), 0);	/* abcd:1:1 */
	assert_int_equal(ktime, 1);
	assert_int_equal(pid, 1);
	assert_int_equal(vigil_exec_id_parse("not base64!", &ktime, &pid), -EINVAL);
	assert_int_equal(vigil_exec_id_parse("YWJjZA==", &ktime, &pid), -EINVAL);	/* abcd: no fields */
	assert_int_equal(vigil_exec_id_parse("YTp4OjE=", &ktime, &pid), -EINVAL);	/* a:x:1 */
	assert_int_equal(vigil_exec_id_parse(NULL, &ktime, &pid), -EINVAL);
}

static void test_exec_id_rejects_what_does_not_fit(void **state)
{
	char node[101], out[VIGIL_EXEC_ID_MAX];

	memset(node, 'x', 100);
	node[100] = '\0';
	assert_int_equal(vigil_exec_id_format(node, 1, 1, out), -ENAMETOOLONG);
}

/* ================================================================ arguments */

static void assert_args(const char *raw, size_t len, const char *want)
{
	struct vigil_buf b = { 0 };

	assert_int_equal(vigil_args_format(raw, len, &b), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, want);
	vigil_buf_free(&b);
}

#define RAW(s) (s), sizeof(s) - 1

static void test_args_join_argv_after_argv0_with_spaces(void **state)
{
	assert_args(RAW("/bin/ls\0-l\0-a\0/tmp\0"), "-l -a /tmp");
}

static void test_args_quote_an_argument_containing_a_space(void **state)
{
	assert_args(RAW("/bin/true\0a\0b c\0"), "a \"b c\"");
}

static void test_args_are_empty_with_only_argv0(void **state)
{
	assert_args(RAW("/bin/true\0"), "");
}

static void test_args_are_empty_for_an_empty_area(void **state)
{
	assert_args("", 0, "");
	assert_args(NULL, 0, "");
}

static void test_args_quote_an_empty_argument(void **state)
{
	assert_args(RAW("/bin/x\0a\0\0b\0"), "a \"\" b");
}

static void test_args_escape_quote_and_backslash_inside_quotes(void **state)
{
	assert_args(RAW("sh\0-c\0echo \"hi\" \\n\0"), "-c \"echo \\\"hi\\\" \\\\n\"");
}

static void test_args_quote_an_argument_holding_a_quote_without_a_space(void **state)
{
	assert_args(RAW("x\0say\"hi\"\0"), "\"say\\\"hi\\\"\"");
}

static void test_args_quote_an_argument_holding_a_backslash(void **state)
{
	assert_args(RAW("x\0a\\b\0"), "\"a\\\\b\"");
}

static void test_args_quote_tabs_and_newlines(void **state)
{
	assert_args(RAW("x\0a\tb\0c\nd\0"), "\"a\tb\" \"c\nd\"");
}

/* The ambiguity this quoting exists for: argv ["\"-rf", "/\""] used to print "-rf /"
 * when quoting followed only spaces, the same as argv ["-rf", "/"]. */
static void test_args_quotes_inside_arguments_do_not_read_as_argument_boundaries(void **state)
{
	assert_args(RAW("rm\0\"-rf\0/\"\0"), "\"\\\"-rf\" \"/\\\"\"");
	assert_args(RAW("rm\0-rf\0/\0"), "-rf /");
	assert_args(RAW("sh\0\"a b\"\0"), "\"\\\"a b\\\"\"");
	assert_args(RAW("sh\0\"a\0b\"\0"), "\"\\\"a\" \"b\\\"\"");
}

static void test_args_keep_a_truncated_last_argument(void **state)
{
	assert_args(RAW("/bin/true\0a\0b c"), "a \"b c\"");
	assert_args(RAW("/bin/true\0abc\0de"), "abc de");
}

static void test_args_append_to_what_the_buffer_holds(void **state)
{
	struct vigil_buf b = { 0 };

	vigil_buf_puts(&b, "x=");
	assert_int_equal(vigil_args_format(RAW("p\0a\0b\0"), &b), 0);
	assert_string_equal(b.data, "x=a b");
	vigil_buf_free(&b);
}

/* ================================================================ processes */

static void test_process_new_starts_empty(void **state)
{
	struct vigil_process *p = vigil_process__new();

	assert_non_null(p);
	assert_string_equal(p->binary, "");
	assert_string_equal(p->arguments, "");
	assert_string_equal(p->cwd, "");
	assert_int_equal(p->auid, 4294967295u);
	assert_int_equal(p->refcnt, 0);
	vigil_process__free(p);
}

static void test_process_set_str_replaces_with_a_copy(void **state)
{
	struct vigil_process *p = vigil_process__new();
	char src[] = "/usr/bin/env-and-more";

	assert_int_equal(vigil_process__set_str(&p->binary, src, 12), 0);
	src[0] = 'X';
	assert_string_equal(p->binary, "/usr/bin/env");
	vigil_process__free(p);
}

static void test_process_free_accepts_null(void **state)
{
	vigil_process__free(NULL);
	vigil_pcache__free(NULL);
}

/* ================================================================ the cache */

struct cache_state {
	struct vigil_pcache *c;
};

static int cache_setup_cap(void **state, size_t capacity)
{
	struct vigil_pcache_opts opts = {
		.sz = sizeof(opts),
		.capacity = capacity,
		.gc_delay_ns = GC_DELAY,
		.node_name = "n1",
	};
	struct cache_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->c = vigil_pcache__new(&opts);
	if (!s->c) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int cache_setup(void **state)
{
	return cache_setup_cap(state, 64);
}

static int cache_setup_small(void **state)
{
	return cache_setup_cap(state, 4);
}

static int cache_teardown(void **state)
{
	struct cache_state *s = *state;

	vigil_pcache__free(s->c);
	free(s);
	return 0;
}

static struct vigil_process *exec_at(struct vigil_pcache *c, uint32_t pid, uint64_t ktime,
				     uint32_t ppid, uint64_t pktime, uint64_t now)
{
	struct vigil_process *p = vigil_process__new();

	assert_non_null(p);
	p->pid = p->tid = pid;
	p->ktime = ktime;
	p->ppid = ppid;
	p->pktime = pktime;
	p->flags = VIGIL_PROC_EXECVE;
	vigil_process__set_str(&p->binary, "/bin/sh", 7);
	return vigil_pcache__exec(c, p, now);
}

static struct vigil_process *exec_of(struct vigil_pcache *c, uint32_t pid, uint64_t ktime,
				     uint32_t ppid, uint64_t pktime)
{
	return exec_at(c, pid, ktime, ppid, pktime, 0);
}

static uint64_t stat_of(struct vigil_pcache *c, size_t offset)
{
	struct vigil_pcache_stats st;

	vigil_pcache__stats(c, &st);
	return *(uint64_t *)((char *)&st + offset);
}

#define STAT(c, field) stat_of((c), offsetof(struct vigil_pcache_stats, field))

static void test_exec_gives_process_one_ref_and_parent_one_more(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = exec_of(s->c, 10, 100, 0, 0);
	struct vigil_process *child = exec_of(s->c, 20, 200, 10, 100);

	assert_non_null(child);
	assert_int_equal(child->refcnt, 1);
	assert_int_equal(parent->refcnt, 2);
}

static void test_exit_drops_process_and_parent_refs(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = exec_of(s->c, 10, 100, 0, 0);
	struct vigil_process *child = exec_of(s->c, 20, 200, 10, 100);

	assert_ptr_equal(vigil_pcache__exit(s->c, 20, 200, 5), child);
	assert_int_equal(child->refcnt, 0);
	assert_int_equal(parent->refcnt, 1);
}

static void test_exit_twice_does_not_underflow(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = exec_of(s->c, 10, 100, 0, 0);
	struct vigil_process *child = exec_of(s->c, 20, 200, 10, 100);

	vigil_pcache__exit(s->c, 20, 200, 5);
	vigil_pcache__exit(s->c, 20, 200, 6);
	assert_int_equal(child->refcnt, 0);
	assert_int_equal(parent->refcnt, 1);
}

static void test_second_exit_keeps_refs_held_by_children(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = exec_of(s->c, 10, 100, 0, 0);

	exec_of(s->c, 20, 200, 10, 100);
	vigil_pcache__exit(s->c, 10, 100, 5);
	vigil_pcache__exit(s->c, 10, 100, 6);
	assert_int_equal(parent->refcnt, 1);	/* the child's reference survives */
}

static void test_exit_keeps_entry_for_late_lookups(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *p = exec_of(s->c, 10, 100, 0, 0);

	vigil_pcache__exit(s->c, 10, 100, 5);
	assert_ptr_equal(vigil_pcache__lookup(s->c, 10, 100), p);
}

static void test_find_pid_misses_after_exit(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 100, 0, 0);
	vigil_pcache__exit(s->c, 10, 100, 5);
	assert_null(vigil_pcache__find_pid(s->c, 10));
}

static void test_exec_fills_exec_id_from_node_ktime_pid(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *p = exec_of(s->c, 42, 1000, 0, 0);

	assert_string_equal(vigil_pcache__node_name(s->c), "n1");
	assert_string_equal(p->exec_id, "bjE6MTAwMDo0Mg==");	/* "n1:1000:42" */
}

static void test_exec_fills_parent_exec_id_of_uncached_parent(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *p = exec_of(s->c, 20, 200, 1, 7);

	assert_null(vigil_pcache__lookup(s->c, 1, 7));
	assert_string_equal(p->parent_exec_id, "bjE6Nzox");	/* "n1:7:1" */
}

static void test_exec_without_ppid_has_no_parent_exec_id(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *p = exec_of(s->c, 1, 10, 0, 0);

	assert_string_equal(p->parent_exec_id, "");
}

static void test_exec_retires_previous_incarnation_of_same_pid(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = exec_of(s->c, 10, 100, 0, 0);
	struct vigil_process *fork = vigil_pcache__clone(s->c, 20, 150, 10, 100, 0, 0);
	struct vigil_process *exec;

	assert_int_equal(parent->refcnt, 2);
	exec = exec_of(s->c, 20, 200, 10, 100);
	assert_int_equal(fork->refcnt, 0);
	assert_int_equal(exec->refcnt, 1);
	assert_int_equal(parent->refcnt, 2);	/* +1 for the exec, -1 for the retired fork */
	assert_ptr_equal(vigil_pcache__find_pid(s->c, 20), exec);
}

static void test_exec_after_exec_retires_the_previous_image(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *first = exec_of(s->c, 20, 200, 10, 100);
	struct vigil_process *second = exec_of(s->c, 20, 300, 10, 100);

	assert_int_equal(first->refcnt, 0);
	assert_ptr_equal(vigil_pcache__find_pid(s->c, 20), second);
}

static void test_exec_older_than_live_incarnation_does_not_replace_it(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *newer = exec_of(s->c, 20, 300, 0, 0);
	struct vigil_process *late = exec_of(s->c, 20, 200, 0, 0);

	assert_non_null(late);
	assert_int_equal(newer->refcnt, 1);
	assert_ptr_equal(vigil_pcache__find_pid(s->c, 20), newer);
}

static void test_exec_of_cached_key_fails_with_eexist(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 20, 200, 0, 0);
	errno = 0;
	assert_null(exec_of(s->c, 20, 200, 0, 0));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(STAT(s->c, size), 1);
}

static void test_clone_copies_parent_strings_and_sets_clone_flag(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = vigil_process__new();
	struct vigil_process *fork;

	parent->pid = 10;
	parent->ktime = 100;
	vigil_process__set_str(&parent->binary, "/usr/bin/bash", 13);
	vigil_process__set_str(&parent->arguments, "-c true", 7);
	vigil_process__set_str(&parent->cwd, "/srv", 4);
	parent->flags = VIGIL_PROC_EXECVE | VIGIL_PROC_ROOTCWD;
	parent->auid = 1000;
	parent->creds.euid = 33;
	parent->caps.effective = 0x400;
	parent->ns[VIGIL_NS_MNT] = 4026531840u;
	parent->ns_host_mask = 1u << VIGIL_NS_MNT;
	parent->cgroup_id = 77;
	assert_non_null(vigil_pcache__exec(s->c, parent, 0));

	fork = vigil_pcache__clone(s->c, 11, 150, 10, 100, 5555, 1);
	assert_non_null(fork);
	assert_string_equal(fork->binary, "/usr/bin/bash");
	assert_string_equal(fork->arguments, "-c true");
	assert_string_equal(fork->cwd, "/srv");
	assert_int_equal(fork->flags, VIGIL_PROC_CLONE);
	assert_int_equal(fork->auid, 1000);
	assert_int_equal(fork->creds.euid, 33);
	assert_int_equal(fork->caps.effective, 0x400);
	assert_int_equal(fork->ns[VIGIL_NS_MNT], 4026531840u);
	assert_int_equal(fork->ns_host_mask, 1u << VIGIL_NS_MNT);
	assert_int_equal(fork->cgroup_id, 77);
	assert_int_equal(fork->start_time, 5555);
	assert_int_equal(fork->pid, 11);
	assert_int_equal(fork->tid, 11);
	assert_int_equal(fork->ppid, 10);
	assert_int_equal(fork->pktime, 100);
	assert_string_equal(fork->parent_exec_id, parent->exec_id);
}

/* Strings are shared, counted: a fork holds its parent's, an exec its parent's binary and cwd
 * where they are the same; each outlives the process it came from (ASan checks the reads). */
static void test_strings_are_shared_and_outlive_their_first_owner(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent, *fork, *child;

	parent = exec_of(s->c, 10, 100, 0, 0);
	vigil_process__set_str(&parent->arguments, "-c sleep", 8);
	vigil_process__set_str(&parent->cwd, "/srv", 4);
	vigil_process__set_str(&parent->container_id, "16ecce28d680", 12);
	fork = vigil_pcache__clone(s->c, 11, 150, 10, 100, 0, 1);
	assert_non_null(fork);
	assert_ptr_equal(fork->binary, parent->binary);
	assert_ptr_equal(fork->arguments, parent->arguments);
	assert_ptr_equal(fork->cwd, parent->cwd);
	assert_ptr_equal(fork->container_id, parent->container_id);

	child = vigil_process__new();	/* an exec of the same binary in the same cwd */
	child->pid = child->tid = 12;
	child->ktime = 160;
	child->ppid = 10;
	child->pktime = 100;
	vigil_process__set_str(&child->binary, "/bin/sh", 7);
	vigil_process__set_str(&child->arguments, "-c other", 8);
	vigil_process__set_str(&child->cwd, "/srv", 4);
	vigil_process__set_str(&child->container_id, "16ecce28d680", 12);
	assert_non_null(vigil_pcache__exec(s->c, child, 1));
	assert_ptr_equal(child->binary, parent->binary);
	assert_ptr_equal(child->cwd, parent->cwd);
	assert_ptr_equal(child->container_id, parent->container_id);
	assert_string_equal(child->arguments, "-c other");

	/* the parent goes (its own exit and its children's references; the GC frees it),
	 * then the fork execs something else: what is left still reads */
	vigil_pcache__exit(s->c, 11, 150, 2);
	vigil_pcache__exit(s->c, 12, 160, 2);
	vigil_pcache__exit(s->c, 10, 100, 2);
	vigil_pcache__gc(s->c, 2 + GC_DELAY + 1);
	assert_null(vigil_pcache__peek(s->c, 10, 100));
	assert_int_equal(STAT(s->c, size), 0);

	parent = exec_of(s->c, 20, 200, 0, 0);
	vigil_process__set_str(&parent->cwd, "/home/u", 7);
	fork = vigil_pcache__clone(s->c, 21, 250, 20, 200, 0, 3);
	assert_non_null(fork);
	vigil_pcache__exit(s->c, 20, 200, 3);
	assert_int_equal(vigil_process__set_str(&parent->cwd, "/elsewhere", 10), 0);
	assert_string_equal(fork->cwd, "/home/u");
	assert_string_equal(fork->binary, "/bin/sh");
	assert_string_equal(fork->container_id, "");
}

/* A cache entry is one malloc chunk per process (30,000 of them on a busy host): with
 * glibc's 8-byte header and 16-byte rounding, a node of at most 312 bytes takes a 320-byte
 * chunk; 376 (the container id inline, holes between fields) took 384. The strings are
 * not in it: a fork adds none (see above), an exec its own. */
static void test_a_cache_entry_fits_a_320_byte_chunk(void **state)
{
	struct vigil_process *p = vigil_process__new();

	(void)state;
	assert_true(sizeof(struct pcache_node) <= 312);
	assert_true(sizeof(struct vigil_process) <= 256);
	assert_string_equal(p->container_id, "");
	vigil_process__free(p);
}

static void test_clone_holds_one_ref_on_parent(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = exec_of(s->c, 10, 100, 0, 0);
	struct vigil_process *fork = vigil_pcache__clone(s->c, 11, 150, 10, 100, 0, 0);

	assert_int_equal(fork->refcnt, 1);
	assert_int_equal(parent->refcnt, 2);
}

static void test_clone_of_unknown_parent_is_flagged_miss(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *fork = vigil_pcache__clone(s->c, 11, 150, 10, 100, 0, 0);

	assert_non_null(fork);
	assert_int_equal(fork->flags, VIGIL_PROC_CLONE | VIGIL_PROC_MISS | VIGIL_PROC_NOPARENT);
	assert_string_equal(fork->binary, "");
}

static void test_gc_keeps_zero_ref_entry_until_delay_passes(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 100, 0, 0);
	vigil_pcache__exit(s->c, 10, 100, 1000);
	vigil_pcache__gc(s->c, 1000 + GC_DELAY);
	assert_non_null(vigil_pcache__lookup(s->c, 10, 100));
}

static void test_gc_frees_entry_once_delay_passed(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 100, 0, 0);
	vigil_pcache__exit(s->c, 10, 100, 1000);
	vigil_pcache__gc(s->c, 1000 + GC_DELAY + 1);
	assert_null(vigil_pcache__lookup(s->c, 10, 100));
	assert_int_equal(STAT(s->c, freed), 1);
}

static void test_gc_leaves_referenced_entries_alone(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 100, 0, 0);
	vigil_pcache__gc(s->c, UINT64_MAX);
	assert_non_null(vigil_pcache__lookup(s->c, 10, 100));
}

static void test_gc_frees_only_the_expired_in_fifo_order(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 100, 0, 0);
	exec_of(s->c, 11, 110, 0, 0);
	vigil_pcache__exit(s->c, 10, 100, 1000);
	vigil_pcache__exit(s->c, 11, 110, 1050);
	vigil_pcache__gc(s->c, 1120);
	assert_null(vigil_pcache__lookup(s->c, 10, 100));
	assert_non_null(vigil_pcache__lookup(s->c, 11, 110));
}

static void test_gc_spares_entry_revived_by_late_child(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = exec_of(s->c, 10, 100, 0, 0);

	vigil_pcache__exit(s->c, 10, 100, 1000);
	assert_int_equal(parent->refcnt, 0);
	exec_at(s->c, 20, 200, 10, 100, 1010);
	assert_int_equal(parent->refcnt, 1);
	vigil_pcache__gc(s->c, 5000);
	assert_ptr_equal(vigil_pcache__lookup(s->c, 10, 100), parent);
}

static void test_gc_frees_revived_entry_after_its_new_delay(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 100, 0, 0);
	vigil_pcache__exit(s->c, 10, 100, 1000);
	exec_at(s->c, 20, 200, 10, 100, 1010);
	vigil_pcache__exit(s->c, 20, 200, 6000);
	vigil_pcache__gc(s->c, 6000 + GC_DELAY);
	assert_non_null(vigil_pcache__lookup(s->c, 10, 100));
	vigil_pcache__gc(s->c, 6001 + GC_DELAY);
	assert_null(vigil_pcache__lookup(s->c, 10, 100));
	assert_null(vigil_pcache__lookup(s->c, 20, 200));
}

static void test_full_cache_evicts_oldest_zero_ref_entry(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 1, 10, 0, 0);
	exec_of(s->c, 2, 20, 0, 0);
	exec_of(s->c, 3, 30, 0, 0);
	vigil_pcache__exit(s->c, 2, 20, 10);	/* oldest at zero */
	vigil_pcache__exit(s->c, 1, 10, 20);
	exec_of(s->c, 4, 40, 0, 0);		/* fills the cache */
	assert_int_equal(STAT(s->c, evictions), 0);
	assert_non_null(exec_of(s->c, 5, 50, 0, 0));
	assert_null(vigil_pcache__lookup(s->c, 2, 20));
	assert_non_null(vigil_pcache__lookup(s->c, 1, 10));
	assert_int_equal(STAT(s->c, evictions), 1);
	assert_int_equal(STAT(s->c, size), 4);
}

static void test_full_cache_spares_parent_of_new_entry(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *child;

	exec_of(s->c, 1, 10, 0, 0);
	exec_of(s->c, 2, 20, 0, 0);
	exec_of(s->c, 3, 30, 0, 0);
	exec_of(s->c, 4, 40, 0, 0);
	vigil_pcache__exit(s->c, 1, 10, 10);	/* oldest, but about to be a parent */
	vigil_pcache__exit(s->c, 2, 20, 20);
	child = exec_of(s->c, 5, 50, 1, 10);
	assert_non_null(child);
	assert_null(vigil_pcache__lookup(s->c, 2, 20));
	assert_int_equal(vigil_pcache__lookup(s->c, 1, 10)->refcnt, 1);
}

/* An exec of pid as uid (root's entries are evicted last). */
static struct vigil_process *exec_uid(struct vigil_pcache *c, uint32_t pid, uint64_t ktime, uint32_t ppid,
				      uint64_t pktime, uint32_t uid)
{
	struct vigil_process *p = vigil_process__new();

	assert_non_null(p);
	p->pid = p->tid = pid;
	p->ktime = ktime;
	p->ppid = ppid;
	p->pktime = pktime;
	p->flags = VIGIL_PROC_EXECVE;
	p->creds.uid = uid;
	return vigil_pcache__exec(c, p, 0);
}

static void test_full_cache_of_running_root_entries_still_takes_an_exec(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 1, 10, 0, 0);
	exec_of(s->c, 2, 20, 0, 0);
	exec_of(s->c, 3, 30, 0, 0);
	exec_of(s->c, 4, 40, 0, 0);
	assert_non_null(exec_of(s->c, 5, 50, 0, 0));
	assert_null(vigil_pcache__lookup(s->c, 1, 10));		/* least recently used */
	assert_non_null(vigil_pcache__clone(s->c, 6, 60, 5, 50, 0, 0));
	assert_int_equal(STAT(s->c, size), 4);
	assert_int_equal(STAT(s->c, evicted_live), 2);
	assert_int_equal(STAT(s->c, uncached), 0);
}

static void test_full_cache_evicts_least_recently_used_user_entry_before_root(void **state)
{
	struct cache_state *s = *state;

	exec_uid(s->c, 1, 10, 0, 0, 0);		/* root's, and the oldest */
	exec_uid(s->c, 2, 20, 0, 0, 1000);
	exec_uid(s->c, 3, 30, 0, 0, 1000);
	exec_uid(s->c, 4, 40, 0, 0, 1000);
	assert_non_null(vigil_pcache__lookup(s->c, 2, 20));	/* used: 3 is now the LRU user entry */
	assert_non_null(exec_uid(s->c, 5, 50, 0, 0, 1000));
	assert_null(vigil_pcache__lookup(s->c, 3, 30));
	assert_non_null(vigil_pcache__lookup(s->c, 1, 10));
	assert_non_null(vigil_pcache__lookup(s->c, 2, 20));
	assert_int_equal(STAT(s->c, evicted_live), 1);
}

static void test_full_cache_evicts_exited_parent_before_running_entries(void **state)
{
	struct cache_state *s = *state;

	exec_uid(s->c, 1, 10, 0, 0, 1000);
	exec_uid(s->c, 2, 20, 1, 10, 1000);	/* holds a reference on 1 */
	exec_uid(s->c, 3, 30, 0, 0, 1000);
	exec_uid(s->c, 4, 40, 0, 0, 1000);
	vigil_pcache__exit(s->c, 1, 10, 5);	/* exited, still named by 2 */
	assert_non_null(vigil_pcache__lookup(s->c, 2, 20));	/* 3 is the LRU running one */
	assert_non_null(exec_uid(s->c, 5, 50, 0, 0, 1000));
	assert_null(vigil_pcache__lookup(s->c, 1, 10));
	assert_non_null(vigil_pcache__lookup(s->c, 3, 30));
	assert_int_equal(STAT(s->c, evicted_exited), 1);
	assert_int_equal(STAT(s->c, evicted_live), 0);
	/* the child's exit finds no parent to release, and the cache stays consistent */
	assert_non_null(vigil_pcache__exit(s->c, 2, 20, 6));
	vigil_pcache__gc(s->c, 6 + GC_DELAY + 1);
	assert_int_equal(STAT(s->c, size), 3);
}

static void test_evicted_running_entry_releases_its_parent(void **state)
{
	struct cache_state *s = *state;

	exec_uid(s->c, 1, 10, 0, 0, 0);
	exec_uid(s->c, 2, 20, 1, 10, 1000);
	assert_int_equal(vigil_pcache__lookup(s->c, 1, 10)->refcnt, 2);
	exec_uid(s->c, 3, 30, 0, 0, 1000);
	exec_uid(s->c, 4, 40, 0, 0, 1000);
	exec_uid(s->c, 5, 50, 0, 0, 1000);	/* evicts 2, the LRU user entry */
	assert_null(vigil_pcache__lookup(s->c, 2, 20));
	assert_int_equal(vigil_pcache__lookup(s->c, 1, 10)->refcnt, 1);
	/* so the parent's exit lets the GC free it: the cache shrinks back */
	vigil_pcache__exit(s->c, 1, 10, 7);
	vigil_pcache__gc(s->c, 7 + GC_DELAY + 1);
	assert_null(vigil_pcache__lookup(s->c, 1, 10));
	assert_int_equal(STAT(s->c, size), 3);
}

static int cache_setup_one(void **state)
{
	return cache_setup_cap(state, 1);
}

static void test_exec_nothing_can_make_room_for_is_returned_uncached(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *parent = exec_of(s->c, 1, 10, 0, 0);
	struct vigil_process *p = exec_of(s->c, 2, 20, 1, 10);	/* the only entry is its parent */

	assert_non_null(p);
	assert_true(p->flags & VIGIL_PROC_UNCACHED);
	assert_int_equal(p->pid, 2);
	assert_true(p->exec_id[0] != '\0');
	assert_string_equal(p->parent_exec_id, parent->exec_id);
	assert_null(vigil_pcache__lookup(s->c, 2, 20));
	assert_int_equal(parent->refcnt, 1);
	assert_int_equal(STAT(s->c, uncached), 1);
	/* the next insert releases it (the sanitizer lane checks nothing leaks) */
	assert_non_null(exec_of(s->c, 3, 30, 1, 10));
	assert_int_equal(STAT(s->c, size), 1);
}

static void test_proc_entry_is_found_by_a_kernel_key_of_the_same_tick(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *p = vigil_process__new(), *child;
	const uint64_t tick = 10000000ULL;

	/* the scan saw start tick 3; the kernel counts two execs made before the agent ran */
	p->pid = p->tid = 10;
	p->ktime = 3 * tick;
	p->flags = VIGIL_PROC_PROCFS;
	assert_non_null(vigil_pcache__exec(s->c, p, 0));
	assert_ptr_equal(vigil_pcache__lookup(s->c, 10, 3 * tick + 2), p);
	assert_null(vigil_pcache__lookup(s->c, 10, 4 * tick));	/* another tick: another process */
	child = exec_of(s->c, 11, 5 * tick, 10, 3 * tick + 2);
	assert_int_equal(child->pktime, 3 * tick);
	assert_string_equal(child->parent_exec_id, p->exec_id);
	assert_int_equal(p->refcnt, 2);
	assert_ptr_equal(vigil_pcache__exit(s->c, 10, 3 * tick + 2, 1), p);
	assert_int_equal(p->refcnt, 1);
}

static void test_exec_entry_is_not_found_by_tick(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 30000000, 0, 0);
	assert_null(vigil_pcache__lookup(s->c, 10, 30000001));
}

static void test_lookup_misses_are_counted(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 100, 0, 0);
	assert_null(vigil_pcache__lookup(s->c, 10, 101));
	assert_null(vigil_pcache__find_pid(s->c, 11));
	assert_non_null(vigil_pcache__lookup(s->c, 10, 100));
	assert_int_equal(STAT(s->c, misses), 2);
}

static void test_stats_count_inserts_and_size(void **state)
{
	struct cache_state *s = *state;

	exec_of(s->c, 10, 100, 0, 0);
	vigil_pcache__clone(s->c, 11, 110, 10, 100, 0, 0);
	exec_of(s->c, 11, 120, 10, 100);
	assert_int_equal(STAT(s->c, inserts), 3);
	assert_int_equal(STAT(s->c, size), 3);
	vigil_pcache__gc(s->c, 1 + GC_DELAY);	/* the retired clone */
	assert_int_equal(STAT(s->c, size), 2);
	assert_int_equal(STAT(s->c, freed), 1);
}

static void test_many_entries_stay_findable(void **state)
{
	struct cache_state *s = *state;
	uint32_t i;

	for (i = 1; i <= 64; i++)
		assert_non_null(exec_of(s->c, i, i * 1000, i / 2, (i / 2) * 1000));
	for (i = 1; i <= 64; i++) {
		assert_non_null(vigil_pcache__lookup(s->c, i, i * 1000));
		assert_ptr_equal(vigil_pcache__find_pid(s->c, i), vigil_pcache__lookup(s->c, i, i * 1000));
	}
	assert_int_equal(vigil_pcache__lookup(s->c, 8, 8000)->refcnt, 3);
}

static void test_free_of_cached_process_is_refused(void **state)
{
	struct cache_state *s = *state;
	struct vigil_process *p = exec_of(s->c, 10, 100, 0, 0);
	vigil_print_fn old = vigil_set_print(NULL);

	vigil_process__free(p);
	vigil_set_print(old);
	assert_ptr_equal(vigil_pcache__lookup(s->c, 10, 100), p);
}

static void test_default_node_name_is_hostname(void **state)
{
	struct vigil_pcache *c = vigil_pcache__new(NULL);
	char host[256] = "";

	assert_non_null(c);
	gethostname(host, sizeof(host));
	assert_string_equal(vigil_pcache__node_name(c), host);
	vigil_pcache__free(c);
}

static void test_new_rejects_unknown_nonzero_option_bytes(void **state)
{
	struct {
		struct vigil_pcache_opts opts;
		uint64_t future;
	} big = { .opts = { .sz = sizeof(big) }, .future = 1 };

	errno = 0;
	assert_null(vigil_pcache__new(&big.opts));
	assert_int_equal(errno, EINVAL);
}

/* ================================================================ /proc scan */

struct fake {
	uint32_t pid;
	const char *comm;
	uint32_t ppid;
	unsigned long flags;		/* stat field 9 */
	unsigned long starttime;	/* stat field 22, ticks */
	const char *exe;		/* NULL: no link (kernel thread) */
	const char *cwd;
	const char *cmdline;
	size_t cmdline_len;
	const char *status;		/* NULL: status is a directory, unreadable as a file */
	const char *loginuid;		/* NULL: no file */
	uint32_t mnt_ns;
};

#define HOST_NS 4026531800u	/* fake host inodes: HOST_NS + kind */
#define CMD(s) (s), sizeof(s) - 1

static const char root_status[] =
	"Name:\tsystemd\nUmask:\t0000\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
	"CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n";
static const char user_status[] =
	"Name:\tbash\nUid:\t1000\t1001\t1002\t1003\nGid:\t2000\t2001\t2002\t2003\n"
	"Groups:\t2000\nCapInh:\t0000000000000001\nCapPrm:\t00000000000004c0\n"
	"CapEff:\t0000000000000400\nCapBnd:\t000001ffffffffff\n";

static const struct fake fakes[] = {
	{ 1, "systemd", 0, 0x400100, 1, "/usr/lib/systemd/systemd", "/", CMD("/sbin/init\0splash\0"),
	  root_status, "4294967295", HOST_NS + VIGIL_NS_MNT },
	{ 2, "kthreadd", 0, PF_KTHREAD | 0x8040, 1, NULL, "/", CMD(""), root_status, "4294967295",
	  HOST_NS + VIGIL_NS_MNT },
	/* A kernel thread told apart only by having no exe and no arguments. */
	{ 3, "rcu_gp", 2, 0, 2, NULL, "/", CMD(""), root_status, NULL, HOST_NS + VIGIL_NS_MNT },
	/* Lower pid than its parent (pids wrapped); comm holds ") (". */
	{ 150, "my) (prog", 200, 0x400000, 900, "/tmp/my prog (deleted)", "/tmp",
	  CMD("./my prog\0--x\0a \"q\"\0"), user_status, "1000", 4026532200u },
	{ 200, "bash", 1, 0x400000, 500, "/usr/bin/bash", "/home/u", CMD("bash\0-c\0echo hi\0"),
	  user_status, "1000", 4026532200u },
	/* A usermode helper: its parent is kthreadd. */
	{ 300, "modprobe", 2, 0x400000, 700, "/sbin/modprobe", "/", CMD("/sbin/modprobe\0-q\0"),
	  root_status, "4294967295", HOST_NS + VIGIL_NS_MNT },
	/* Its parent is not in this /proc. */
	{ 400, "orphan", 999, 0x400000, 800, "/usr/bin/orphan", "/", CMD("orphan\0"), root_status,
	  NULL, HOST_NS + VIGIL_NS_MNT },
	/* status cannot be read: only that field is lost. */
	{ 500, "sleep", 1, 0x400000, 600, "/usr/bin/sleep", "/", CMD("sleep\0" "9\0"), NULL,
	  "0", HOST_NS + VIGIL_NS_MNT },
};

static const char *const ns_names[VIGIL_NS_COUNT] = {
	"uts", "ipc", "mnt", "pid", "pid_for_children", "net", "time", "time_for_children",
	"cgroup", "user",
};

struct scan_state {
	char root[64];
	struct vigil_process *seen[64];
	size_t n;
	int ret;
};

static uint64_t tick_ns(void)
{
	return 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK);
}

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void make_link(const char *dir, const char *name, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(symlink(target, path), 0);
}

static void make_fake(const char *root, const struct fake *f)
{
	char dir[128], buf[512];
	int k, n;

	snprintf(dir, sizeof(dir), "%s/%u", root, f->pid);
	assert_int_equal(mkdir(dir, 0755), 0);
	n = snprintf(buf, sizeof(buf),
		     "%u (%s) S %u %u %u 0 -1 %lu 100 0 0 0 3 4 0 0 20 0 1 0 %lu 1000 10 "
		     "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		     f->pid, f->comm, f->ppid, f->pid, f->pid, f->flags, f->starttime);
	write_file(dir, "stat", buf, (size_t)n);
	write_file(dir, "cmdline", f->cmdline, f->cmdline_len);
	if (f->status) {
		write_file(dir, "status", f->status, strlen(f->status));
	} else {
		snprintf(buf, sizeof(buf), "%s/status", dir);
		assert_int_equal(mkdir(buf, 0755), 0);
	}
	if (f->loginuid)
		write_file(dir, "loginuid", f->loginuid, strlen(f->loginuid));
	if (f->exe)
		make_link(dir, "exe", f->exe);
	make_link(dir, "cwd", f->cwd);
	snprintf(buf, sizeof(buf), "%s/ns", dir);
	assert_int_equal(mkdir(buf, 0755), 0);
	for (k = 0; k < VIGIL_NS_COUNT; k++) {
		char name[64], target[64];

		snprintf(name, sizeof(name), "ns/%s", ns_names[k]);
		snprintf(target, sizeof(target), "%s:[%u]", ns_names[k],
			 k == VIGIL_NS_MNT ? f->mnt_ns : HOST_NS + (unsigned)k);
		make_link(dir, name, target);
	}
}

static struct vigil_process *copy_process(const struct vigil_process *p)
{
	struct vigil_process *q = vigil_process__new();
	char *exec_id, *parent_exec_id, *binary, *arguments, *cwd;

	assert_non_null(q);
	exec_id = q->exec_id;
	parent_exec_id = q->parent_exec_id;
	binary = q->binary;
	arguments = q->arguments;
	cwd = q->cwd;
	*q = *p;
	q->exec_id = exec_id;
	q->parent_exec_id = parent_exec_id;
	q->binary = binary;
	q->arguments = arguments;
	q->cwd = cwd;
	vigil_process__set_str(&q->binary, p->binary, strlen(p->binary));
	vigil_process__set_str(&q->arguments, p->arguments, strlen(p->arguments));
	vigil_process__set_str(&q->cwd, p->cwd, strlen(p->cwd));
	return q;
}

static int collect(const struct vigil_process *p, void *ctx)
{
	struct scan_state *s = ctx;

	if (s->n < VIGIL_ARRAY_SIZE(s->seen))
		s->seen[s->n++] = copy_process(p);
	return 0;
}

static int stop_at_first(const struct vigil_process *p, void *ctx)
{
	return 1;
}

static int fake_setup(void **state)
{
	struct scan_state *s = calloc(1, sizeof(*s));
	char gone[PATH_MAX];
	size_t i;

	if (!s)
		return -1;
	strcpy(s->root, "/tmp/vigil-proc-XXXXXX");
	if (!mkdtemp(s->root)) {
		free(s);
		return -1;
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(fakes); i++)
		make_fake(s->root, &fakes[i]);
	/* What else lives in /proc: non-pid entries, and a process gone before we read it. */
	write_file(s->root, "uptime", "1.0 1.0\n", 8);
	make_link(s->root, "self", "1");
	snprintf(gone, sizeof(gone), "%s/77", s->root);
	mkdir(gone, 0755);
	s->ret = vigil_procfs_scan(s->root, B2W, collect, s);
	*state = s;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return remove(path);
}

static int scan_teardown(void **state)
{
	struct scan_state *s = *state;
	size_t i;

	for (i = 0; i < s->n; i++)
		vigil_process__free(s->seen[i]);
	if (s->root[0])
		nftw(s->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(s);
	return 0;
}

static const struct vigil_process *seen_pid(const struct scan_state *s, uint32_t pid)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->seen[i]->pid == pid)
			return s->seen[i];
	return NULL;
}

static const struct vigil_process *must_see(const struct scan_state *s, uint32_t pid)
{
	const struct vigil_process *p = seen_pid(s, pid);

	if (!p)
		fail_msg("pid %u not reported", pid);
	return p;
}

static void test_procfs_reports_every_user_process_once(void **state)
{
	struct scan_state *s = *state;

	assert_int_equal(s->ret, 6);
	assert_int_equal(s->n, 6);
}

static void test_procfs_reports_parents_before_children(void **state)
{
	static const uint32_t want[] = { 1, 200, 150, 500, 300, 400 };
	struct scan_state *s = *state;
	size_t i;

	assert_int_equal(s->n, VIGIL_ARRAY_SIZE(want));
	for (i = 0; i < s->n; i++)
		assert_int_equal(s->seen[i]->pid, want[i]);
}

static void test_procfs_skips_kernel_threads(void **state)
{
	struct scan_state *s = *state;

	assert_null(seen_pid(s, 2));	/* PF_KTHREAD */
	assert_null(seen_pid(s, 3));	/* no exe, empty cmdline */
}

static void test_procfs_skips_vanished_process(void **state)
{
	assert_null(seen_pid(*state, 77));
}

static void test_procfs_fills_ppid_and_parent_ktime(void **state)
{
	const struct vigil_process *p = must_see(*state, 200);

	assert_int_equal(p->ppid, 1);
	assert_int_equal(p->pktime, 1 * tick_ns());
}

static void test_procfs_converts_starttime_to_ktime_and_start_time(void **state)
{
	const struct vigil_process *p = must_see(*state, 200);

	assert_int_equal(p->ktime, 500 * tick_ns());
	assert_int_equal(p->start_time, 500 * tick_ns() + (uint64_t)B2W);
}

static void test_procfs_parses_stat_with_paren_space_in_comm(void **state)
{
	const struct vigil_process *p = must_see(*state, 150);

	assert_int_equal(p->ppid, 200);
	assert_int_equal(p->pktime, 500 * tick_ns());
	assert_int_equal(p->ktime, 900 * tick_ns());
}

static void test_procfs_takes_parent_ktime_from_kernel_thread(void **state)
{
	const struct vigil_process *p = must_see(*state, 300);

	assert_int_equal(p->ppid, 2);
	assert_int_equal(p->pktime, 1 * tick_ns());
}

static void test_procfs_missing_parent_gives_zero_pktime(void **state)
{
	const struct vigil_process *p = must_see(*state, 400);

	assert_int_equal(p->ppid, 999);
	assert_int_equal(p->pktime, 0);
}

static void test_procfs_init_has_no_parent(void **state)
{
	const struct vigil_process *p = must_see(*state, 1);

	assert_int_equal(p->ppid, 0);
	assert_int_equal(p->pktime, 0);
}

static void test_procfs_reads_creds(void **state)
{
	const struct vigil_process *p = must_see(*state, 200);

	assert_int_equal(p->creds.uid, 1000);
	assert_int_equal(p->creds.euid, 1001);
	assert_int_equal(p->creds.suid, 1002);
	assert_int_equal(p->creds.fsuid, 1003);
	assert_int_equal(p->creds.gid, 2000);
	assert_int_equal(p->creds.egid, 2001);
	assert_int_equal(p->creds.sgid, 2002);
	assert_int_equal(p->creds.fsgid, 2003);
}

static void test_procfs_reads_caps(void **state)
{
	const struct vigil_process *p = must_see(*state, 200);

	assert_int_equal(p->caps.inheritable, 0x1);
	assert_int_equal(p->caps.permitted, 0x4c0);
	assert_int_equal(p->caps.effective, 0x400);
	assert_int_equal(must_see(*state, 1)->caps.effective, 0x1ffffffffffULL);
}

static void test_procfs_reads_auid_from_loginuid(void **state)
{
	assert_int_equal(must_see(*state, 200)->auid, 1000);
	assert_int_equal(must_see(*state, 1)->auid, 4294967295u);
	assert_int_equal(must_see(*state, 400)->auid, 4294967295u);	/* no file */
}

static void test_procfs_reads_namespace_inodes(void **state)
{
	const struct vigil_process *p = must_see(*state, 200);
	int k;

	for (k = 0; k < VIGIL_NS_COUNT; k++)
		assert_int_equal(p->ns[k], k == VIGIL_NS_MNT ? 4026532200u : HOST_NS + (unsigned)k);
}

static void test_procfs_marks_namespaces_shared_with_pid_1(void **state)
{
	const uint32_t all = (1u << VIGIL_NS_COUNT) - 1;

	assert_int_equal(must_see(*state, 1)->ns_host_mask, all);
	assert_int_equal(must_see(*state, 200)->ns_host_mask, all & ~(1u << VIGIL_NS_MNT));
}

static void test_procfs_formats_arguments_from_cmdline(void **state)
{
	assert_string_equal(must_see(*state, 200)->arguments, "-c \"echo hi\"");
	assert_string_equal(must_see(*state, 150)->arguments, "--x \"a \\\"q\\\"\"");
	assert_string_equal(must_see(*state, 400)->arguments, "");
}

static void test_procfs_reads_binary_and_strips_deleted(void **state)
{
	assert_string_equal(must_see(*state, 200)->binary, "/usr/bin/bash");
	assert_string_equal(must_see(*state, 150)->binary, "/tmp/my prog");
}

static void test_procfs_reads_cwd_and_flags_rootcwd(void **state)
{
	const struct vigil_process *init = must_see(*state, 1), *bash = must_see(*state, 200);

	assert_string_equal(init->cwd, "/");
	assert_int_equal(init->flags, VIGIL_PROC_PROCFS | VIGIL_PROC_ROOTCWD);
	assert_string_equal(bash->cwd, "/home/u");
	assert_int_equal(bash->flags, VIGIL_PROC_PROCFS);
}

static void test_procfs_sets_tid_to_pid(void **state)
{
	assert_int_equal(must_see(*state, 200)->tid, 200);
}

static void test_procfs_unreadable_field_keeps_the_process(void **state)
{
	const struct vigil_process *p = must_see(*state, 500);

	assert_string_equal(p->binary, "/usr/bin/sleep");
	assert_string_equal(p->arguments, "9");
	assert_int_equal(p->creds.euid, 0);
	assert_int_equal(p->caps.effective, 0);
	assert_int_equal(p->auid, 0);
}

static void test_procfs_stops_when_callback_returns_nonzero(void **state)
{
	struct scan_state *s = *state;

	assert_int_equal(vigil_procfs_scan(s->root, 0, stop_at_first, NULL), 1);
}

static void test_procfs_missing_root_fails_with_enoent(void **state)
{
	assert_int_equal(vigil_procfs_scan("/nonexistent/vigil-proc", 0, stop_at_first, NULL), -ENOENT);
}

static int real_setup(void **state)
{
	struct scan_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	*state = s;
	return 0;
}

/* Keep only this process and its parent: the real /proc holds more than seen[] fits. */
static int collect_self(const struct vigil_process *p, void *ctx)
{
	struct scan_state *s = ctx;

	if ((p->pid == (uint32_t)getpid() || p->pid == (uint32_t)getppid()) &&
	    s->n < VIGIL_ARRAY_SIZE(s->seen))
		s->seen[s->n++] = copy_process(p);
	return 0;
}

static void test_procfs_real_finds_self_with_its_binary(void **state)
{
	struct scan_state *s = *state;
	const struct vigil_process *self;
	char exe[PATH_MAX];
	ssize_t n;

	assert_true(vigil_procfs_scan("/proc", 0, collect_self, s) > 0);
	self = must_see(s, (uint32_t)getpid());
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(self->binary, exe);
	assert_int_equal(self->ppid, (uint32_t)getppid());
	assert_true(self->flags & VIGIL_PROC_PROCFS);
	assert_true(self->ktime > 0);
}

static void test_procfs_real_reports_parent_before_self(void **state)
{
	struct scan_state *s = *state;

	assert_true(vigil_procfs_scan("/proc", 0, collect_self, s) > 0);
	if (!seen_pid(s, (uint32_t)getppid()))
		skip();		/* the parent is a kernel thread or outside our pid namespace */
	assert_int_equal(s->n, 2);
	assert_int_equal(s->seen[0]->pid, (uint32_t)getppid());
	assert_int_equal(s->seen[1]->pktime, s->seen[0]->ktime);
}

/* ================================================================ main */

#define CACHE_TEST(f) cmocka_unit_test_setup_teardown(f, cache_setup, cache_teardown)
#define SMALL_TEST(f) cmocka_unit_test_setup_teardown(f, cache_setup_small, cache_teardown)
#define FAKE_TEST(f) cmocka_unit_test_setup_teardown(f, fake_setup, scan_teardown)
#define REAL_TEST(f) cmocka_unit_test_setup_teardown(f, real_setup, scan_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_id_is_base64_of_node_ktime_pid),
		cmocka_unit_test(test_exec_id_matches_tetragon_example),
		cmocka_unit_test(test_exec_id_pads_with_one_or_no_equals),
		cmocka_unit_test(test_exec_id_parses_back_to_ktime_and_pid_whatever_the_node_holds),
		cmocka_unit_test(test_exec_id_rejects_what_does_not_fit),

		cmocka_unit_test(test_args_join_argv_after_argv0_with_spaces),
		cmocka_unit_test(test_args_quote_an_argument_containing_a_space),
		cmocka_unit_test(test_args_are_empty_with_only_argv0),
		cmocka_unit_test(test_args_are_empty_for_an_empty_area),
		cmocka_unit_test(test_args_quote_an_empty_argument),
		cmocka_unit_test(test_args_escape_quote_and_backslash_inside_quotes),
		cmocka_unit_test(test_args_quote_an_argument_holding_a_quote_without_a_space),
		cmocka_unit_test(test_args_quote_an_argument_holding_a_backslash),
		cmocka_unit_test(test_args_quote_tabs_and_newlines),
		cmocka_unit_test(test_args_quotes_inside_arguments_do_not_read_as_argument_boundaries),
		cmocka_unit_test(test_args_keep_a_truncated_last_argument),
		cmocka_unit_test(test_args_append_to_what_the_buffer_holds),

		cmocka_unit_test(test_process_new_starts_empty),
		cmocka_unit_test(test_process_set_str_replaces_with_a_copy),
		cmocka_unit_test(test_process_free_accepts_null),

		CACHE_TEST(test_exec_gives_process_one_ref_and_parent_one_more),
		CACHE_TEST(test_exit_drops_process_and_parent_refs),
		CACHE_TEST(test_exit_twice_does_not_underflow),
		CACHE_TEST(test_second_exit_keeps_refs_held_by_children),
		CACHE_TEST(test_exit_keeps_entry_for_late_lookups),
		CACHE_TEST(test_find_pid_misses_after_exit),
		CACHE_TEST(test_exec_fills_exec_id_from_node_ktime_pid),
		CACHE_TEST(test_exec_fills_parent_exec_id_of_uncached_parent),
		CACHE_TEST(test_exec_without_ppid_has_no_parent_exec_id),
		CACHE_TEST(test_exec_retires_previous_incarnation_of_same_pid),
		CACHE_TEST(test_exec_after_exec_retires_the_previous_image),
		CACHE_TEST(test_exec_older_than_live_incarnation_does_not_replace_it),
		CACHE_TEST(test_exec_of_cached_key_fails_with_eexist),
		CACHE_TEST(test_clone_copies_parent_strings_and_sets_clone_flag),
		CACHE_TEST(test_strings_are_shared_and_outlive_their_first_owner),
		cmocka_unit_test(test_a_cache_entry_fits_a_320_byte_chunk),
		CACHE_TEST(test_clone_holds_one_ref_on_parent),
		CACHE_TEST(test_clone_of_unknown_parent_is_flagged_miss),
		CACHE_TEST(test_gc_keeps_zero_ref_entry_until_delay_passes),
		CACHE_TEST(test_gc_frees_entry_once_delay_passed),
		CACHE_TEST(test_gc_leaves_referenced_entries_alone),
		CACHE_TEST(test_gc_frees_only_the_expired_in_fifo_order),
		CACHE_TEST(test_gc_spares_entry_revived_by_late_child),
		CACHE_TEST(test_gc_frees_revived_entry_after_its_new_delay),
		SMALL_TEST(test_full_cache_evicts_oldest_zero_ref_entry),
		SMALL_TEST(test_full_cache_spares_parent_of_new_entry),
		SMALL_TEST(test_full_cache_of_running_root_entries_still_takes_an_exec),
		SMALL_TEST(test_full_cache_evicts_least_recently_used_user_entry_before_root),
		SMALL_TEST(test_full_cache_evicts_exited_parent_before_running_entries),
		SMALL_TEST(test_evicted_running_entry_releases_its_parent),
		cmocka_unit_test_setup_teardown(test_exec_nothing_can_make_room_for_is_returned_uncached, cache_setup_one,
						cache_teardown),
		CACHE_TEST(test_proc_entry_is_found_by_a_kernel_key_of_the_same_tick),
		CACHE_TEST(test_exec_entry_is_not_found_by_tick),
		CACHE_TEST(test_lookup_misses_are_counted),
		CACHE_TEST(test_stats_count_inserts_and_size),
		CACHE_TEST(test_many_entries_stay_findable),
		CACHE_TEST(test_free_of_cached_process_is_refused),
		cmocka_unit_test(test_default_node_name_is_hostname),
		cmocka_unit_test(test_new_rejects_unknown_nonzero_option_bytes),

		FAKE_TEST(test_procfs_reports_every_user_process_once),
		FAKE_TEST(test_procfs_reports_parents_before_children),
		FAKE_TEST(test_procfs_skips_kernel_threads),
		FAKE_TEST(test_procfs_skips_vanished_process),
		FAKE_TEST(test_procfs_fills_ppid_and_parent_ktime),
		FAKE_TEST(test_procfs_converts_starttime_to_ktime_and_start_time),
		FAKE_TEST(test_procfs_parses_stat_with_paren_space_in_comm),
		FAKE_TEST(test_procfs_takes_parent_ktime_from_kernel_thread),
		FAKE_TEST(test_procfs_missing_parent_gives_zero_pktime),
		FAKE_TEST(test_procfs_init_has_no_parent),
		FAKE_TEST(test_procfs_reads_creds),
		FAKE_TEST(test_procfs_reads_caps),
		FAKE_TEST(test_procfs_reads_auid_from_loginuid),
		FAKE_TEST(test_procfs_reads_namespace_inodes),
		FAKE_TEST(test_procfs_marks_namespaces_shared_with_pid_1),
		FAKE_TEST(test_procfs_formats_arguments_from_cmdline),
		FAKE_TEST(test_procfs_reads_binary_and_strips_deleted),
		FAKE_TEST(test_procfs_reads_cwd_and_flags_rootcwd),
		FAKE_TEST(test_procfs_sets_tid_to_pid),
		FAKE_TEST(test_procfs_unreadable_field_keeps_the_process),
		FAKE_TEST(test_procfs_stops_when_callback_returns_nonzero),
		cmocka_unit_test(test_procfs_missing_root_fails_with_enoent),
		REAL_TEST(test_procfs_real_finds_self_with_its_binary),
		REAL_TEST(test_procfs_real_reports_parent_before_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
