/* test_agent.c - unit tests for the agent's record path (core/agent/agent.c agent_on_record,
 * sinks.c agent_dispatch) without BPF: the ring buffer callback fed by hand. The agent is the
 * smallest one the path needs, as tests/fuzz/control_fuzz.c builds it: a zeroed struct
 * vigil_agent with a real process cache, decoder, metrics and a real publisher on an ipc://
 * socket in a private directory, read back by a real subscriber.
 *
 * Malformed records (empty, shorter than a header, truncated, oversized, unknown op, lengths
 * past the end, a policy record of a hook nobody knows) must each be counted by the decoder,
 * reach no sink and leave the callback returning 0 (the ring buffer goes on); a well-formed
 * exec record must reach the bus whole. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_internal.h"
#include "generic.h"
#include "records.h"

struct fixture {
	char dir[64], url[128];
	struct vigil_agent *a;
	struct vigil_sub *sub;
};

static int setup(void **state)
{
	struct vigil_pcache_opts co = {.sz = sizeof(co), .node_name = "unit"};
	struct fixture *f = calloc(1, sizeof(*f));
	struct vigil_agent *a;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-agent-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->url, sizeof(f->url), "ipc://%s/events.sock", f->dir);
	f->a = a = calloc(1, sizeof(*a));
	if (!a)
		return -1;
	snprintf(a->node_name, sizeof(a->node_name), "unit");
	pthread_mutex_init(&a->pipe_lock, NULL);
	pthread_mutex_init(&a->snap_lock, NULL);
	pthread_mutex_init(&a->lists_lock, NULL);
	pthread_mutex_init(&a->scopes_lock, NULL);
	a->cache = vigil_pcache__new(&co);
	a->decoder = a->cache ? vigil_decoder__new(a->cache, 0, "/nonexistent") : NULL;
	a->metrics = vigil_metrics__new(NULL);
	a->pub = vigil_pub__open(f->url, 0600);
	f->sub = vigil_sub__open(f->url, 500);
	*state = f;
	return a->decoder && a->metrics && a->pub && f->sub ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct vigil_agent *a = f->a;

	if (f->sub)
		vigil_sub__close(f->sub);
	vigil_pub__close(a->pub);
	vigil_metrics__free(a->metrics);
	vigil_decoder__free(a->decoder);
	vigil_pcache__free(a->cache);
	vigil_buf_free(&a->msgpack);
	vigil_buf_free(&a->line);
	vigil_msg__free(a->view);
	vigil_buf_free(&a->environ);
	pthread_mutex_destroy(&a->pipe_lock);
	pthread_mutex_destroy(&a->snap_lock);
	pthread_mutex_destroy(&a->lists_lock);
	pthread_mutex_destroy(&a->scopes_lock);
	free(a);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Unstamped probes until the subscription is through (nanomsg connects lazily): after this
 * the subscriber receives what the agent publishes. */
static void subscribe(struct fixture *f)
{
	static const char empty_map[] = "\x80";
	void *data;
	int i, r = -ETIMEDOUT;

	for (i = 0; i < 100 && r <= 0; i++) {
		assert_int_equal(vigil_pub__send(f->a->pub, empty_map, 1), 0);
		r = vigil_sub__recv(f->sub, &data);
		if (r > 0)
			vigil_bus_msg_free(data);
	}
	assert_true(r > 0);
	/* drain the probes that were still in flight */
	while (vigil_sub__wait(f->sub, 50) == 1 && vigil_sub__recv(f->sub, &data) > 0)
		vigil_bus_msg_free(data);
}

static void feed(struct fixture *f, const void *rec, size_t size)
{
	/* the ring buffer callback's contract: 0 whatever the record, or the reader stops */
	assert_int_equal(agent_on_record(f->a, (void *)rec, size), 0);
	/* the end of the reader's round: what the round published held goes out */
	pthread_mutex_lock(&f->a->pipe_lock);
	agent_flush(f->a);
	pthread_mutex_unlock(&f->a->pipe_lock);
}

static void test_malformed_records_are_counted_and_reach_no_sink(void **state)
{
	struct fixture *f = *state;
	struct vigil_agent *a = f->a;
	struct vigil_exec_record *big = calloc(1, sizeof(*big) + 64);
	struct vigil_exec_record rec;
	struct vigil_clone_record clone = {.hdr = {.op = VIGIL_OP_CLONE, .size = sizeof(clone)}};
	struct vigil_exit_record ex = {.hdr = {.op = VIGIL_OP_EXIT, .size = sizeof(ex) - 1}};
	struct vg_generic_record *gen = calloc(1, sizeof(*gen));
	struct vigil_decoder_stats st;
	size_t n;

	assert_non_null(big);
	assert_non_null(gen);
	subscribe(f);
	/* zero bytes, then fewer bytes than a header */
	feed(f, &clone, 0);
	feed(f, &clone, 3);
	/* the header says more than arrived: a record cut short */
	feed(f, &clone, sizeof(clone) - 1);
	/* a clone or exit of the wrong size, its header agreeing */
	clone.hdr.size = sizeof(clone) - 4;
	feed(f, &clone, sizeof(clone) - 4);
	feed(f, &ex, sizeof(ex) - 1);
	/* an op nobody defines */
	clone.hdr.size = sizeof(clone);
	clone.hdr.op = 0xee;
	feed(f, &clone, sizeof(clone));
	/* an exec larger than the largest the kernel side writes */
	make_exec(big, 50, 6000, "/bin/x", "/", "x", 1, VIGIL_KF_EXECVE);
	big->hdr.size = (uint32_t)(sizeof(*big) + 64);
	feed(f, big, sizeof(*big) + 64);
	/* an exec whose strings claim more bytes than the record holds */
	n = make_exec(&rec, 51, 6001, "/bin/x", "/", "x", 1, VIGIL_KF_EXECVE);
	rec.binary_len = 60000;
	feed(f, &rec, n);
	/* a policy record with too many arguments */
	gen->hdr.op = VIGIL_OP_GENERIC;
	gen->hdr.size = (uint32_t)offsetof(struct vg_generic_record, data);
	gen->nargs = VG_MAX_ARGS + 1;
	feed(f, gen, gen->hdr.size);

	vigil_decoder__stats(a->decoder, &st);
	assert_int_equal(st.records, 9);
	assert_int_equal(st.bad_records, 9);
	assert_int_equal(st.dropped[VIGIL_DROPPED_BAD_RECORD], 9);

	/* a well-formed policy record of a hook this agent does not know: dropped by reason */
	gen->nargs = 0;
	gen->hook_id = 12345;
	feed(f, gen, gen->hdr.size);
	vigil_decoder__stats(a->decoder, &st);
	assert_int_equal(st.records, 10);
	assert_int_equal(st.bad_records, 9);
	assert_int_equal(st.unknown_hook, 1);
	assert_int_equal(st.dropped[VIGIL_DROPPED_UNKNOWN_HOOK], 1);

	/* none of them became an event: no sink saw anything, the bus has no number given */
	assert_int_equal(a->counters.events_exec + a->counters.events_exit + a->counters.events_policy, 0);
	assert_int_equal(a->counters.encode_errors, 0);
	assert_int_equal(vigil_pub__last_seq(a->pub), 0);
	assert_int_equal(vigil_sub__wait(f->sub, 100), 0);
	free(gen);
	free(big);
}

static void test_exec_record_reaches_the_bus(void **state)
{
	struct fixture *f = *state;
	struct vigil_agent *a = f->a;
	static const char args[] = "/usr/bin/true\0--unit-marker";
	struct vigil_exec_record rec;
	struct vigil_buf json = {0};
	struct vigil_msg *m;
	size_t n = make_exec(&rec, 4711, 7000, "/usr/bin/true", "/tmp", args, sizeof(args), VIGIL_KF_EXECVE);
	void *data;
	int len;

	subscribe(f);
	feed(f, &rec, n);
	assert_int_equal(a->counters.events_exec, 1);
	assert_int_equal(a->counters.encode_errors, 0);
	assert_int_equal(vigil_pub__last_seq(a->pub), 1);

	len = vigil_sub__recv(f->sub, &data);
	assert_true(len > 0);
	m = vigil_msg__decode(data, (size_t)len);
	assert_non_null(m);
	assert_int_equal(vigil_msg__to_json(m, &json), 0);
	assert_non_null(strstr(json.data, "\"process_exec\""));
	assert_non_null(strstr(json.data, "\"binary\":\"/usr/bin/true\""));
	assert_non_null(strstr(json.data, "--unit-marker"));
	assert_non_null(strstr(json.data, "\"pid\":4711"));
	vigil_msg__free(m);
	vigil_bus_msg_free(data);
	vigil_buf_free(&json);

	/* the same exec again: the decoder drops it as a duplicate, nothing more is sent */
	feed(f, &rec, n);
	assert_int_equal(a->counters.events_exec, 1);
	assert_int_equal(vigil_pub__last_seq(a->pub), 1);
}

/* The hooks of test_policy_events_are_counted_once_through_their_hook: id 1 counts into
 * its policy's count, id 2 has none (a hook the sensors do not count). */
static uint64_t policy_count;
static struct vigil_hook_info counted_hooks[2] = {
	{ .id = 1, .type = VIGIL_EVENT_TRACEPOINT, .policy_name = "counted", .subsys = "syscalls",
	  .event = "sys_enter_openat", .events = &policy_count },
	{ .id = 2, .type = VIGIL_EVENT_TRACEPOINT, .policy_name = "uncounted", .subsys = "syscalls",
	  .event = "sys_enter_close" },
};

static const struct vigil_hook_info *counted_hook(void *ctx, uint32_t id)
{
	(void)ctx;
	return id >= 1 && id <= 2 ? &counted_hooks[id - 1] : NULL;
}

static void feed_policy(struct fixture *f, uint32_t hook_id, uint32_t pid, uint64_t ktime)
{
	struct vg_generic_record gen;

	memset(&gen, 0, sizeof(gen));
	gen.hdr.op = VIGIL_OP_GENERIC;
	gen.hdr.size = (uint32_t)offsetof(struct vg_generic_record, data);
	gen.hdr.ktime = ktime + 1;
	gen.pid = gen.tid = pid;
	gen.proc_ktime = ktime;
	gen.hook_id = hook_id;
	gen.actions = 1u << VG_ACT_POST;
	feed(f, &gen, gen.hdr.size);
}

/* One count per event, in one place (sinks.c): the agent's policy counter, and the policy's
 * count for `tp list` through the hook the decoder resolved (an atomic add, no lock); a
 * hook without a count only moves the agent's counter, and an exec counts as an exec. */
static void test_policy_events_are_counted_once_through_their_hook(void **state)
{
	struct fixture *f = *state;
	struct vigil_agent *a = f->a;
	struct vigil_exec_record rec;
	size_t n = make_exec(&rec, 4712, 8000, "/usr/bin/true", "/tmp", "true", 5, VIGIL_KF_EXECVE);

	policy_count = 0;
	vigil_decoder__set_hook_resolver(a->decoder, counted_hook, NULL);
	feed(f, &rec, n);
	feed_policy(f, 1, 4712, 8000);
	feed_policy(f, 1, 4712, 8000);
	feed_policy(f, 2, 4712, 8000);
	assert_int_equal(policy_count, 2);
	assert_int_equal(a->counters.events_policy, 3);
	assert_int_equal(a->counters.events_exec, 1);
	assert_int_equal(a->counters.encode_errors, 0);
	assert_int_equal(vigil_pub__last_seq(a->pub), 4);
}

/* The reader's trickle test (trickle.c) counts records over windows of time, not over its
 * last rounds: a paced 50k/s (a burst of 50 each millisecond) read in rounds of which some
 * are a few microseconds long is never a trickle, where two short rounds between bursts
 * once made it one (a 2 ms poll for 1 round in 5: bench_latency's p99 2-3 ms); an exec
 * storm's 3 records a millisecond, read every 2 ms, is one. The paced 50k/s is fast (the
 * reader's 250 us poll), a paced 10k/s is neither, nor is the exec storm. */
/* One reader round of records at time at: counted, it adds to *trickles when the stream is
 * judged a trickle and to *fast when fast */
static void round_at(struct agent_trickle *t, uint32_t records, uint64_t at, bool counted, int *trickles, int *fast)
{
	*trickles += agent_trickle_next(t, records, at) && counted;
	*fast += t->fast && counted;
}

static void test_trickle_is_a_rate_over_time_not_rounds(void **state)
{
	struct agent_trickle t;
	uint64_t now = 1000000000ULL, ms;
	int trickles = 0, fast = 0;

	(void)state;
	agent_trickle_init(&t, now);
	for (ms = 0; ms < 100; ms++) {
		uint64_t burst = now + ms * 1000000ULL;

		/* woken by the burst: a round of 48, one of 2 a few us later, then an empty
		 * 500 us poll, which ends before the next burst */
		round_at(&t, 0, burst, ms > 2, &trickles, &fast);
		round_at(&t, 48, burst + 200000ULL, ms > 2, &trickles, &fast);
		round_at(&t, 2, burst + 203000ULL, ms > 2, &trickles, &fast);
		round_at(&t, 0, burst + 703000ULL, ms > 2, &trickles, &fast);
	}
	assert_int_equal(trickles, 0);
	assert_int_equal(fast, 97 * 4);	/* 50 a millisecond: the reader's shorter poll */

	now += 200 * 1000000ULL;
	agent_trickle_init(&t, now);
	for (ms = 0, fast = 0; ms < 100; ms++) {	/* 10k/s: dense, but neither a trickle nor fast */
		uint64_t burst = now + ms * 1000000ULL;

		round_at(&t, 0, burst, ms > 2, &trickles, &fast);
		round_at(&t, 10, burst + 100000ULL, ms > 2, &trickles, &fast);
		round_at(&t, 0, burst + 600000ULL, ms > 2, &trickles, &fast);
	}
	assert_int_equal(trickles, 0);
	assert_int_equal(fast, 0);

	/* the same 10k/s read by 500 us polls that do not line up with its bursts (a burst at
	 * each ms, polls at .45 and .95): a window closes at 2.45 ms with 2 bursts, the next
	 * round's span is 2.95 ms with those 20 records alone, 6.8 a millisecond */
	now += 200 * 1000000ULL;
	agent_trickle_init(&t, now);
	for (ms = 0; ms < 100; ms++) {
		uint64_t burst = now + ms * 1000000ULL;

		trickles += agent_trickle_next(&t, 10, burst + 450000ULL) && ms > 2;
		trickles += agent_trickle_next(&t, 0, burst + 950000ULL) && ms > 2;
	}
	assert_int_equal(trickles, 0);

	now += 200 * 1000000ULL;
	agent_trickle_init(&t, now);
	trickles = 0;
	for (ms = 0; ms < 100; ms += 2)	/* an exec storm's rounds of 2 ms: 6 records each */
		trickles += agent_trickle_next(&t, 6, now + ms * 1000000ULL + 2050000ULL) && !t.fast;
	assert_int_equal(trickles, 50);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* a look whose times are old enough to be trusted */
static struct agent_dirsig settled_look(const char *dir, bool entries)
{
	struct agent_dirsig sig;

	usleep(60 * 1000);	/* past dirsig.c's 50 ms racy window */
	sig = agent_dirsig_look(dir, entries);
	assert_false(sig.racy);
	return sig;
}

/* The watch's look at a directory (dirsig.c) changes with each way a policy file changes:
 * written in place with the same size, renamed over, chmod, a ConfigMap's ..data swapped;
 * a look right after a write is racy, a time far in the future is not. */
static void test_dirsig_sees_every_kind_of_change(void **state)
{
	char dir[] = "/tmp/vigil-dirsig-XXXXXX", path[256], link[256];
	struct timespec future[2] = {{.tv_sec = time(NULL) + 86400}, {.tv_sec = time(NULL) + 86400}};
	struct agent_dirsig a, b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put(dir, "a.yaml", "aaaa");
	assert_true(agent_dirsig_look(dir, true).racy);
	a = settled_look(dir, true);
	assert_true(settled_look(dir, true).value == a.value);

	put(dir, "a.yaml", "bbbb");			/* in place, same size */
	b = settled_look(dir, true);
	assert_true(b.value != a.value);

	put(dir, "a.tmp", "bbbb");			/* renamed over: a new inode */
	a = settled_look(dir, true);
	snprintf(path, sizeof(path), "%s/a.tmp", dir);
	snprintf(link, sizeof(link), "%s/a.yaml", dir);
	assert_int_equal(rename(path, link), 0);
	b = settled_look(dir, true);
	assert_true(b.value != a.value);

	assert_int_equal(chmod(dir, 0777), 0);		/* what the trust check reads */
	a = settled_look(dir, true);
	assert_true(a.value != b.value);
	assert_int_equal(chmod(dir, 0700), 0);

	/* entries not looked at: a file's change is not seen, the directory's own is */
	a = settled_look(dir, false);
	put(dir, "a.yaml", "cccc");
	assert_true(settled_look(dir, false).value == a.value);

	/* a ConfigMap: cm.yaml -> ..data/cm.yaml, ..data swapped to a new directory */
	snprintf(path, sizeof(path), "%s/..v1", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	put(path, "cm.yaml", "v1");
	snprintf(path, sizeof(path), "%s/..data", dir);
	assert_int_equal(symlink("..v1", path), 0);
	snprintf(link, sizeof(link), "%s/cm.yaml", dir);
	assert_int_equal(symlink("..data/cm.yaml", link), 0);
	snprintf(path, sizeof(path), "%s/..v2", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	put(path, "cm.yaml", "v2");
	a = settled_look(dir, true);
	snprintf(path, sizeof(path), "%s/..data_tmp", dir);
	assert_int_equal(symlink("..v2", path), 0);
	snprintf(link, sizeof(link), "%s/..data", dir);
	assert_int_equal(rename(path, link), 0);
	assert_true(settled_look(dir, true).value != a.value);

	/* touch -d tomorrow: racy only while its ctime is new, never for its mtime */
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	assert_int_equal(utimensat(AT_FDCWD, path, future, 0), 0);
	settled_look(dir, true);

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malformed_records_are_counted_and_reach_no_sink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_record_reaches_the_bus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_events_are_counted_once_through_their_hook, setup,
						teardown),
		cmocka_unit_test(test_trickle_is_a_rate_over_time_not_rounds),
		cmocka_unit_test(test_dirsig_sees_every_kind_of_change),
	};

	vigil_set_print(NULL);	/* the bus's and decoder's warnings are expected here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
