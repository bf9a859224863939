/* test_metrics.c - unit tests for core/metrics: the exposition text (checked line by line
 * by a strict reader written here, then parsed back with vigil_metrics_parse), event
 * counting and its labels, the binary label cap, escaping, the rule source, the sources
 * the agent wires in, msgpack packing for the control socket, and the HTTP endpoint on
 * the loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/bus.h"
#include "events/events.h"
#include "metrics/metrics.h"
#include "metrics/metrics_internal.h"
#include "pcache/pcache.h"
#include "policy/policy.h"

/* ================================================================ helpers */

static struct vigil_metrics *metrics(size_t cap)
{
	struct vigil_metrics_opts o = {.sz = sizeof(o), .binary_cap = cap};
	struct vigil_metrics *m = vigil_metrics__new(&o);

	assert_non_null(m);
	return m;
}

static char *render(struct vigil_metrics *m)
{
	struct vigil_buf b = {0};
	char *s;

	assert_int_equal(vigil_metrics__render(m, &b), 0);
	s = strdup(b.data);
	vigil_buf_free(&b);
	return s;
}

/* Find one sample: name and a label string "k=v,k=v" (in order), parsed back. */
struct lookup {
	const char *name;
	const char *labels;
	double value;
	int found;
};

static int on_sample(void *ctx, const char *name, const struct vigil_metrics_label *labels, size_t n, double v)
{
	struct lookup *l = ctx;
	char buf[1024] = "";
	size_t i, len = 0;

	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s=%s", i ? "," : "", labels[i].name,
					labels[i].value);
	if (!strcmp(name, l->name) && !strcmp(buf, l->labels)) {
		l->value = v;
		l->found++;
	}
	return 0;
}

/* The value of the sample, or -1 when it is not there (and fail when it is twice). */
static double value_of(const char *text, const char *name, const char *labels)
{
	struct lookup l = {.name = name, .labels = labels};

	assert_int_equal(vigil_metrics_parse(text, strlen(text), on_sample, &l, NULL), 0);
	assert_true(l.found <= 1);
	return l.found ? l.value : -1;
}

static const struct vigil_hook_info kprobe = {
	.id = 1, .type = VIGIL_EVENT_KPROBE, .policy_name = "block-curl", .function_name = "security_bprm_check",
};
static const struct vigil_hook_info tracepoint = {
	.id = 2, .type = VIGIL_EVENT_TRACEPOINT, .policy_name = "opens", .subsys = "syscalls",
	.event = "sys_enter_openat",
};

static void count(struct vigil_metrics *m, enum vigil_event_type type, const char *binary,
		  const struct vigil_hook_info *hook, enum vigil_event_action action, bool monitored)
{
	struct vigil_process *p = vigil_process__new();
	struct vigil_event ev = {.type = type, .process = p};

	assert_non_null(p);
	assert_int_equal(vigil_process__set_str(&p->binary, binary, strlen(binary)), 0);
	if (hook) {
		ev.policy.hook = hook;
		ev.policy.action = action;
		ev.policy.monitored = monitored;
	}
	vigil_metrics__count_event(m, &ev);
	vigil_process__free(p);
}

/* ================================================================ the format */

/* A reader independent of the one under test: every line is a comment (# HELP / # TYPE
 * with a known type) or a sample of the family the last TYPE named. */
static void test_every_line_is_valid_exposition_text(void **state)
{
	struct vigil_metrics *m = metrics(0);
	regex_t sample, help, type;
	char *text, *line, *save = NULL, family[128] = "";
	int samples = 0, families = 0;

	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	count(m, VIGIL_EVENT_KPROBE, "/usr/bin/curl", &kprobe, VIGIL_EVENT_ACTION_SIGKILL, false);
	assert_int_equal(regcomp(&sample, "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
					  "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*)?\\})? "
					  "(-?[0-9]+(\\.[0-9]+)?(e[-+]?[0-9]+)?|[-+]Inf|NaN)$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]+$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$", REG_EXTENDED), 0);
	text = render(m);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		regmatch_t g[2];

		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(regexec(&help, line, 0, NULL, 0), 0);
		} else if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(regexec(&type, line, 2, g, 0), 0);
			snprintf(family, sizeof(family), "%.*s", (int)(g[1].rm_eo - g[1].rm_so), line + g[1].rm_so);
			families++;
		} else {
			if (regexec(&sample, line, 2, g, 0))
				fail_msg("not a sample line: %s", line);
			if ((size_t)(g[1].rm_eo - g[1].rm_so) != strlen(family) || strncmp(line, family, strlen(family)))
				fail_msg("sample %s outside its family %s", line, family);
			samples++;
		}
	}
	assert_true(families >= 25);
	assert_true(samples >= 10);
	free(text);
	regfree(&sample);
	regfree(&help);
	regfree(&type);
	vigil_metrics__free(m);
}

static void test_the_issue_names_are_all_there(void **state)
{
	static const char *const names[] = {
		"vigil_build_info", "vigil_events_total", "vigil_policy_events_total", "vigil_enforcement_total",
		"vigil_bpf_missed_events_total", "vigil_ringbuf_records_received_total",
		"vigil_ringbuf_records_bad_total", "vigil_bus_dropped_total", "vigil_process_cache_size",
		"vigil_process_cache_evictions_total", "vigil_process_cache_misses_total", "vigil_policy_state",
		"vigil_lua_rule_calls_total", "vigil_lua_rule_alerts_total", "vigil_lua_rule_errors_total",
		"vigil_lua_rule_seconds_total", "vigil_lua_rule_dropped_total", "vigil_bpf_prog_run_count_total",
		"vigil_bpf_prog_run_seconds_total",
		"vigil_events_exported_total", "vigil_export_ratelimit_events_dropped_total",
	};
	struct vigil_metrics *m = metrics(0);
	char *text = render(m), want[128];
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(names); i++) {
		snprintf(want, sizeof(want), "\n# TYPE %s ", names[i]);
		if (!strstr(text, want))
			fail_msg("missing family %s", names[i]);
	}
	assert_int_equal(value_of(text, "vigil_build_info", "version=" VIGIL_VERSION), 1);
	free(text);
	vigil_metrics__free(m);
}

/* ================================================================ counting */

static void test_events_are_counted_by_type_binary_and_policy(void **state)
{
	struct vigil_metrics *m = metrics(0);
	char *text;

	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	count(m, VIGIL_EVENT_EXIT, "/usr/bin/true", NULL, 0, false);
	count(m, VIGIL_EVENT_KPROBE, "/usr/bin/curl", &kprobe, VIGIL_EVENT_ACTION_POST, false);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXEC,binary=/usr/bin/true,policy="), 2);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXIT,binary=/usr/bin/true,policy="), 1);
	assert_int_equal(value_of(text, "vigil_events_total",
				  "type=PROCESS_KPROBE,binary=/usr/bin/curl,policy=block-curl"), 1);
	free(text);
	vigil_metrics__free(m);
}

/* A label set counted before is counted without the lock (memo.c): every event is still in
 * the table when read, whether read between events, after the same pod object changed its
 * labels, or after binary labels were hidden under the memo's entries. */
static void test_repeated_label_sets_count_every_event(void **state)
{
	struct vigil_pod pod = { .runtime = "containerd", .container_id = "c", .name = "web-1", .namespace_ = "team-a",
				 .workload = "web" };
	struct vigil_metrics *m = metrics(0);
	struct vigil_process *p = vigil_process__new();
	struct vigil_event ev = { .type = VIGIL_EVENT_KPROBE, .process = p, .pod = &pod };
	char *text;
	int i;

	assert_non_null(p);
	assert_int_equal(vigil_process__set_str(&p->binary, "/bin/sh", 7), 0);
	ev.policy.hook = &kprobe;
	ev.policy.action = VIGIL_EVENT_ACTION_POST;
	for (i = 0; i < 1000; i++)
		count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	for (i = 0; i < 300; i++)
		vigil_metrics__count_event(m, &ev);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXEC,binary=/usr/bin/true,policy="), 1000);
	assert_int_equal(value_of(text, "vigil_policy_events_total",
				  "policy=block-curl,hook=kprobe:security_bprm_check,action=KPROBE_ACTION_POST,"
				  "namespace=team-a,pod=web-1,workload=web"), 300);
	free(text);
	/* the same pod object, renamed: its events go to the new labels */
	pod.name = "web-2";
	for (i = 0; i < 7; i++)
		vigil_metrics__count_event(m, &ev);
	for (i = 0; i < 5; i++)
		count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXEC,binary=/usr/bin/true,policy="), 1005);
	assert_int_equal(value_of(text, "vigil_events_total",
				  "type=PROCESS_KPROBE,binary=/bin/sh,policy=block-curl,namespace=team-a,pod=web-2,"
				  "workload=web"), 7);
	free(text);
	/* binaries hidden: the entries go on counting into the hidden series */
	assert_int_equal(metrics_listening_on(m, "0.0.0.0:0", false), 0);
	for (i = 0; i < 10; i++)
		count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	count(m, VIGIL_EVENT_EXEC, "/usr/bin/id", NULL, 0, false);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXEC,binary=hidden,policy="), 1016);
	assert_null(strstr(text, "/usr/bin/true"));
	free(text);
	vigil_process__free(p);
	vigil_metrics__free(m);
}

/* Tetragon's namespace, pod and workload labels on events of a pod; none outside pods */
static void test_events_of_a_pod_carry_namespace_pod_and_workload(void **state)
{
	static const struct vigil_pod pod = { .runtime = "containerd", .container_id = "c", .name = "web-1",
					      .namespace_ = "team-a", .workload = "web", .workload_kind = "Deployment" };
	struct vigil_metrics *m = metrics(0);
	struct vigil_process *p = vigil_process__new();
	struct vigil_event ev = { .type = VIGIL_EVENT_KPROBE, .process = p, .pod = &pod };
	char *text;

	assert_non_null(p);
	assert_int_equal(vigil_process__set_str(&p->binary, "/bin/sh", 7), 0);
	ev.policy.hook = &kprobe;
	ev.policy.action = VIGIL_EVENT_ACTION_POST;
	vigil_metrics__count_event(m, &ev);
	vigil_process__free(p);
	count(m, VIGIL_EVENT_KPROBE, "/bin/sh", &kprobe, VIGIL_EVENT_ACTION_POST, false);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_events_total",
				  "type=PROCESS_KPROBE,binary=/bin/sh,policy=block-curl,namespace=team-a,pod=web-1,"
				  "workload=web"), 1);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_KPROBE,binary=/bin/sh,policy=block-curl"), 1);
	assert_int_equal(value_of(text, "vigil_policy_events_total",
				  "policy=block-curl,hook=kprobe:security_bprm_check,action=KPROBE_ACTION_POST,"
				  "namespace=team-a,pod=web-1,workload=web"), 1);
	free(text);
	vigil_metrics__free(m);
}

static void test_policy_events_carry_hook_and_action_and_enforcement_its_mode(void **state)
{
	struct vigil_metrics *m = metrics(0);
	char *text;

	count(m, VIGIL_EVENT_KPROBE, "/usr/bin/curl", &kprobe, VIGIL_EVENT_ACTION_SIGKILL, false);
	count(m, VIGIL_EVENT_KPROBE, "/usr/bin/curl", &kprobe, VIGIL_EVENT_ACTION_SIGKILL, true);
	count(m, VIGIL_EVENT_TRACEPOINT, "/usr/bin/cat", &tracepoint, VIGIL_EVENT_ACTION_POST, false);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_policy_events_total",
				  "policy=block-curl,hook=kprobe:security_bprm_check,action=KPROBE_ACTION_SIGKILL"), 2);
	assert_int_equal(value_of(text, "vigil_policy_events_total",
				  "policy=opens,hook=tracepoint:syscalls/sys_enter_openat,action=KPROBE_ACTION_POST"), 1);
	assert_int_equal(value_of(text, "vigil_enforcement_total", "policy=block-curl,action=Sigkill,mode=enforce"), 1);
	assert_int_equal(value_of(text, "vigil_enforcement_total", "policy=block-curl,action=Sigkill,mode=monitor"), 1);
	assert_int_equal(value_of(text, "vigil_enforcement_total", "policy=opens,action=Post,mode=enforce"), -1);
	free(text);
	vigil_metrics__free(m);
}

static void test_binary_labels_past_the_cap_count_as_other(void **state)
{
	struct vigil_metrics *m = metrics(2);
	char *text;

	count(m, VIGIL_EVENT_EXEC, "/bin/a", NULL, 0, false);
	count(m, VIGIL_EVENT_EXEC, "/bin/b", NULL, 0, false);
	count(m, VIGIL_EVENT_EXEC, "/bin/c", NULL, 0, false);
	count(m, VIGIL_EVENT_EXEC, "/bin/d", NULL, 0, false);
	count(m, VIGIL_EVENT_EXIT, "/bin/a", NULL, 0, false);	/* a known value stays itself */
	text = render(m);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXEC,binary=/bin/a,policy="), 1);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXEC,binary=/bin/b,policy="), 1);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXEC,binary=other,policy="), 2);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXEC,binary=/bin/c,policy="), -1);
	assert_int_equal(value_of(text, "vigil_events_total", "type=PROCESS_EXIT,binary=/bin/a,policy="), 1);
	free(text);
	vigil_metrics__free(m);
}

static void test_label_values_are_escaped_and_read_back_unchanged(void **state)
{
	const char *odd = "/tmp/a \"quoted\" back\\slash\nnewline";
	struct vigil_metrics *m = metrics(0);
	char *text, want[256];

	count(m, VIGIL_EVENT_EXEC, odd, NULL, 0, false);
	text = render(m);
	assert_non_null(strstr(text, "binary=\"/tmp/a \\\"quoted\\\" back\\\\slash\\nnewline\""));
	snprintf(want, sizeof(want), "type=PROCESS_EXEC,binary=%s,policy=", odd);
	assert_int_equal(value_of(text, "vigil_events_total", want), 1);
	free(text);
	vigil_metrics__free(m);
}

static int never(void *ctx, const char *name, const struct vigil_metrics_label *l, size_t n, double v)
{
	return 0;
}

static void test_parse_rejects_malformed_lines_giving_the_line(void **state)
{
	static const char *const bad[] = {
		"ok 1\nbad{x=\"1\" 2\n", "ok 1\n3starts_with_digit 1\n", "ok 1\nno_value\n",
		"ok 1\nlabel{x=unquoted} 1\n", "ok 1\nescape{x=\"\\t\"} 1\n", "ok 1\nvalue abc\n",
	};
	const char *good;
	int line = 0;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(bad); i++) {
		line = 0;
		assert_int_equal(vigil_metrics_parse(bad[i], strlen(bad[i]), never, NULL, &line), -EBADMSG);
		assert_int_equal(line, 2);
	}
	good = "# c\n\nx{a=\"1\",} 1 1700000000000\ny +Inf\n";
	assert_int_equal(vigil_metrics_parse(good, strlen(good), never, NULL, &line), 0);
}

/* ================================================================ sources */

static void two_rules(void *ctx, vigil_metrics_rule_emit emit, void *ectx)
{
	const struct vigil_metrics_rule a = {.name = "shell_in_container", .calls = 10, .alerts = 2, .errors = 0,
					     .seconds = 0.25};
	const struct vigil_metrics_rule b = {.name = "crypto_miner", .calls = 7, .alerts = 0, .errors = 1,
					     .seconds = 1.5, .dropped = 42};

	emit(ectx, &a);
	emit(ectx, &b);
}

static void test_rule_source_gives_one_sample_per_rule_and_counter(void **state)
{
	struct vigil_metrics *m = metrics(0);
	char *text;

	vigil_metrics__set_rule_source(m, two_rules, NULL);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_lua_rule_calls_total", "rule=shell_in_container"), 10);
	assert_int_equal(value_of(text, "vigil_lua_rule_alerts_total", "rule=shell_in_container"), 2);
	assert_int_equal(value_of(text, "vigil_lua_rule_errors_total", "rule=crypto_miner"), 1);
	assert_int_equal(value_of(text, "vigil_lua_rule_dropped_total", "rule=crypto_miner"), 42);
	assert_int_equal(value_of(text, "vigil_lua_rule_dropped_total", "rule=shell_in_container"), 0);
	assert_true(value_of(text, "vigil_lua_rule_seconds_total", "rule=crypto_miner") == 1.5);
	free(text);
	vigil_metrics__set_rule_source(m, NULL, NULL);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_lua_rule_calls_total", "rule=shell_in_container"), -1);
	free(text);
	vigil_metrics__free(m);
}

static void fake_reader(void *ctx, struct vigil_decoder_stats *d, struct vigil_pcache_stats *p)
{
	memset(d, 0, sizeof(*d));
	memset(p, 0, sizeof(*p));
	d->records = 1234;
	d->bad_records = 5;
	p->size = 77;
	p->evictions = 3;
	p->misses = 9;
	p->evicted_exited = 1;
	p->evicted_live = 2;
	p->running = 70;
	d->degraded[VIGIL_DEGRADED_PROCESS_UNKNOWN] = 4;
	d->dropped[VIGIL_DROPPED_CACHE_FULL] = 6;
}

static void test_sources_feed_the_reader_bus_and_cache_families(void **state)
{
	struct vigil_metrics *m = metrics(0);
	char url[128], dir[] = "/tmp/vigil-test-metrics-XXXXXX";
	struct vigil_pub *pub;
	struct vigil_metrics_sources src = {.sz = sizeof(src), .reader_stats = fake_reader};
	char *text;
	int i;

	/* a directory of our own: the bus refuses one others can write, such as /tmp */
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/events.sock", dir);
	pub = vigil_pub__open(url, 0600);
	assert_non_null(pub);
	for (i = 0; i < 3; i++)
		assert_int_equal(vigil_pub__send(pub, "x", 1), 0);
	src.pub = pub;
	vigil_metrics__set_sources(m, &src);
	text = render(m);
	assert_int_equal(value_of(text, "vigil_ringbuf_records_received_total", ""), 1234);
	assert_int_equal(value_of(text, "vigil_ringbuf_records_bad_total", ""), 5);
	assert_int_equal(value_of(text, "vigil_process_cache_size", ""), 77);
	assert_int_equal(value_of(text, "vigil_process_cache_evictions_total", ""), 3);
	assert_int_equal(value_of(text, "vigil_process_cache_misses_total", ""), 9);
	assert_int_equal(value_of(text, "vigil_process_cache_running", ""), 70);
	assert_int_equal(value_of(text, "vigil_process_cache_evicted_total", "state=unreferenced"), 0);
	assert_int_equal(value_of(text, "vigil_process_cache_evicted_total", "state=exited"), 1);
	assert_int_equal(value_of(text, "vigil_process_cache_evicted_total", "state=running"), 2);
	assert_int_equal(value_of(text, "vigil_events_degraded_total", "reason=process_unknown"), 4);
	assert_int_equal(value_of(text, "vigil_events_degraded_total", "reason=uncached"), 0);
	assert_int_equal(value_of(text, "vigil_events_dropped_total", "reason=cache_full"), 6);
	assert_int_equal(value_of(text, "vigil_events_dropped_total", "reason=duplicate"), 0);
	assert_int_equal(value_of(text, "vigil_bus_sent_total", ""), 3);
	assert_int_equal(value_of(text, "vigil_bus_dropped_total", "subscriber=all"), 0);
	/* no loader: the kernel families are declared without samples */
	assert_non_null(strstr(text, "# TYPE vigil_bpf_missed_events_total counter\n"));
	assert_int_equal(value_of(text, "vigil_bpf_missed_events_total", "reason=ringbuf_full"), -1);
	free(text);
	vigil_metrics__free(m);
	vigil_pub__close(pub);
	rmdir(dir);
}

static void test_pack_gives_one_entry_per_sample_keyed_by_its_text(void **state)
{
	struct vigil_metrics *m = metrics(0);
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;
	const msgpack_object_kv *kv;
	bool found = false;
	uint32_t i;

	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(vigil_metrics__pack(m, &pk), 0);
	msgpack_unpacked_init(&up);
	assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(up.data.type, MSGPACK_OBJECT_MAP);
	for (i = 0; i < up.data.via.map.size; i++) {
		static const char key[] = "vigil_events_total{type=\"PROCESS_EXEC\",binary=\"/usr/bin/true\",policy=\"\"}";

		kv = &up.data.via.map.ptr[i];
		if (kv->key.via.str.size == sizeof(key) - 1 && !memcmp(kv->key.via.str.ptr, key, sizeof(key) - 1)) {
			assert_int_equal(kv->val.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
			assert_int_equal(kv->val.via.u64, 2);
			found = true;
		}
	}
	assert_true(found);
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	vigil_metrics__free(m);
}

/* ================================================================ Tetragon's names */

static struct vigil_metrics *metrics_named(enum vigil_metrics_names names)
{
	struct vigil_metrics_opts o = {.sz = sizeof(o), .names = names, .node_name = "n1",
				       .process_cache_capacity = 4096};
	struct vigil_metrics *m = vigil_metrics__new(&o);

	assert_non_null(m);
	return m;
}

static const struct vigil_hook_info raw_enter = {
	.id = 3, .type = VIGIL_EVENT_TRACEPOINT, .policy_name = "sys", .subsys = "raw_syscalls", .event = "sys_enter",
	.nargs = 1, .args = {{.type = VIGIL_ARG_SYSCALL64}},
};

static void count_syscall(struct vigil_metrics *m, const char *binary, uint64_t id)
{
	struct vigil_process *p = vigil_process__new();
	struct vigil_event ev = {.type = VIGIL_EVENT_TRACEPOINT, .process = p};

	assert_non_null(p);
	assert_int_equal(vigil_process__set_str(&p->binary, binary, strlen(binary)), 0);
	ev.policy.hook = &raw_enter;
	ev.policy.action = VIGIL_EVENT_ACTION_POST;
	ev.policy.nargs = 1;
	ev.policy.args[0].type = VIGIL_ARG_SYSCALL64;
	ev.policy.args[0].value = id;
	vigil_metrics__count_event(m, &ev);
	vigil_process__free(p);
}

#define PROC_LABELS(binary) "binary=" binary ",namespace=,node_name=n1,pod="

static void test_tetragon_events_total_sums_over_policies_with_tetragons_labels(void **state)
{
	struct vigil_metrics *m = metrics_named(VIGIL_METRICS_NAMES_BOTH);
	char *text;

	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	count(m, VIGIL_EVENT_KPROBE, "/usr/bin/curl", &kprobe, VIGIL_EVENT_ACTION_POST, false);
	count(m, VIGIL_EVENT_TRACEPOINT, "/usr/bin/curl", &tracepoint, VIGIL_EVENT_ACTION_POST, false);
	count(m, VIGIL_EVENT_TRACEPOINT, "/usr/bin/curl", &tracepoint, VIGIL_EVENT_ACTION_POST, false);
	count(m, VIGIL_EVENT_ALERT, "/usr/bin/curl", NULL, 0, false);
	text = render(m);
	assert_int_equal(value_of(text, "tetragon_events_total",
				  PROC_LABELS("/usr/bin/true") ",type=PROCESS_EXEC,workload="), 2);
	assert_int_equal(value_of(text, "tetragon_events_total",
				  PROC_LABELS("/usr/bin/curl") ",type=PROCESS_TRACEPOINT,workload="), 2);
	assert_int_equal(value_of(text, "tetragon_process_exec_total", PROC_LABELS("/usr/bin/true") ",workload="), 2);
	assert_int_equal(value_of(text, "tetragon_policy_events_total",
				  "binary=/usr/bin/curl,hook=kprobe:security_bprm_check,namespace=,node_name=n1,pod=,"
				  "policy=block-curl,workload="), 1);
	assert_int_equal(value_of(text, "tetragon_policy_events_total",
				  "binary=/usr/bin/curl,hook=tracepoint:syscalls/sys_enter_openat,namespace=,node_name=n1,"
				  "pod=,policy=opens,workload="), 2);
	/* vigil's own kinds have no Tetragon type */
	assert_null(strstr(text, "tetragon_events_total{binary=\"/usr/bin/curl\",namespace=\"\",node_name=\"n1\","
				 "pod=\"\",type=\"PROCESS_ALERT\""));
	assert_int_equal(value_of(text, "tetragon_process_cache_capacity", ""), 4096);
	free(text);
	vigil_metrics__free(m);
}

/* Tetragon's families carry the pod's namespace, pod and workload, and sum over policies
 * only events of the same pod: two policies' events in one pod are one row, another pod's
 * and the host's are rows of their own */
static void test_tetragon_families_carry_the_pod_and_sum_per_pod(void **state)
{
	static const struct vigil_pod web = { .runtime = "containerd", .container_id = "c", .name = "web-1",
					      .namespace_ = "team-a", .workload = "web" };
	static const struct vigil_pod db = { .runtime = "containerd", .container_id = "d", .name = "db-0",
					     .namespace_ = "team-b", .workload = "db" };
	static const struct vigil_hook_info other = {
		.id = 4, .type = VIGIL_EVENT_KPROBE, .policy_name = "other", .function_name = "security_bprm_check",
	};
	static const struct vigil_hook_info *const hooks[] = {&kprobe, &tracepoint, &kprobe, &other};
	const struct vigil_pod *const pods[] = {&web, &web, &db, &web};
	struct vigil_metrics *m = metrics_named(VIGIL_METRICS_NAMES_BOTH);
	struct vigil_process *p = vigil_process__new();
	char *text;
	size_t i;

	(void)state;
	assert_non_null(p);
	assert_int_equal(vigil_process__set_str(&p->binary, "/bin/sh", 7), 0);
	for (i = 0; i < VIGIL_ARRAY_SIZE(hooks); i++) {
		struct vigil_event ev = {.type = hooks[i]->type, .process = p, .pod = pods[i]};

		ev.policy.hook = hooks[i];
		ev.policy.action = VIGIL_EVENT_ACTION_POST;
		vigil_metrics__count_event(m, &ev);
	}
	vigil_process__free(p);
	count(m, VIGIL_EVENT_KPROBE, "/bin/sh", &kprobe, VIGIL_EVENT_ACTION_POST, false);
	text = render(m);
	assert_int_equal(value_of(text, "tetragon_events_total",
				  "binary=/bin/sh,namespace=team-a,node_name=n1,pod=web-1,type=PROCESS_KPROBE,workload=web"), 2);
	assert_int_equal(value_of(text, "tetragon_events_total",
				  "binary=/bin/sh,namespace=team-b,node_name=n1,pod=db-0,type=PROCESS_KPROBE,workload=db"), 1);
	assert_int_equal(value_of(text, "tetragon_events_total", PROC_LABELS("/bin/sh") ",type=PROCESS_KPROBE,workload="), 1);
	assert_int_equal(value_of(text, "tetragon_policy_events_total",
				  "binary=/bin/sh,hook=kprobe:security_bprm_check,namespace=team-a,node_name=n1,pod=web-1,"
				  "policy=block-curl,workload=web"), 1);
	assert_int_equal(value_of(text, "tetragon_policy_events_total",
				  "binary=/bin/sh,hook=tracepoint:syscalls/sys_enter_openat,namespace=team-a,node_name=n1,"
				  "pod=web-1,policy=opens,workload=web"), 1);
	/* the generic ops of tetragon_msg_op_total are the events of each kind */
	assert_int_equal(value_of(text, "tetragon_msg_op_total", "msg_op=13"), 4);
	assert_int_equal(value_of(text, "tetragon_msg_op_total", "msg_op=14"), 1);
	free(text);
	vigil_metrics__free(m);
}

static void test_tetragon_syscalls_total_names_raw_syscalls(void **state)
{
	struct vigil_metrics *m = metrics_named(VIGIL_METRICS_NAMES_TETRAGON);
	char *text;

	count_syscall(m, "/bin/sh", 257);
	count_syscall(m, "/bin/sh", 257);
	count_syscall(m, "/bin/sh", 0x80000000u | 5);
	count_syscall(m, "/bin/sh", 100000);
	text = render(m);
	assert_int_equal(value_of(text, "tetragon_syscalls_total", PROC_LABELS("/bin/sh") ",syscall=openat,workload="), 2);
	assert_int_equal(value_of(text, "tetragon_syscalls_total", PROC_LABELS("/bin/sh") ",syscall=i386/5,workload="), 1);
	assert_int_equal(value_of(text, "tetragon_syscalls_total", PROC_LABELS("/bin/sh") ",syscall=100000,workload="), 1);
	free(text);
	vigil_metrics__free(m);
}

static void test_selector_actions_take_tetragons_labels(void **state)
{
	struct vigil_metrics *m = metrics_named(VIGIL_METRICS_NAMES_TETRAGON);
	char *text;

	count(m, VIGIL_EVENT_KPROBE, "/usr/bin/curl", &kprobe, VIGIL_EVENT_ACTION_SIGKILL, true);
	text = render(m);
	assert_int_equal(value_of(text, "tetragon_tracingpolicy_selector_actions_total",
				  "action=monitor_sigkill,hook=security_bprm_check,hook_index=0,policy=block-curl,"
				  "policy_namespace=,selector_index=0,selector_label="), 1);
	free(text);
	vigil_metrics__free(m);
}

static void test_metrics_names_choose_the_families_and_pack_keeps_vigils(void **state)
{
	static const enum vigil_metrics_names all[] = {VIGIL_METRICS_NAMES_BOTH, VIGIL_METRICS_NAMES_VIGIL,
						       VIGIL_METRICS_NAMES_TETRAGON};
	enum vigil_metrics_names parsed;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t i;
	char *text;

	for (i = 0; i < VIGIL_ARRAY_SIZE(all); i++) {
		struct vigil_metrics *m = metrics_named(all[i]);

		count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
		text = render(m);
		assert_int_equal(!!strstr(text, "\nvigil_events_total{"), all[i] != VIGIL_METRICS_NAMES_TETRAGON);
		assert_int_equal(!!strstr(text, "\ntetragon_events_total{"), all[i] != VIGIL_METRICS_NAMES_VIGIL);
		free(text);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		assert_int_equal(vigil_metrics__pack(m, &pk), 0);
		assert_non_null(memmem(sb.data, sb.size, "vigil_events_total{", 19));
		assert_null(memmem(sb.data, sb.size, "tetragon_", 9));
		msgpack_sbuffer_destroy(&sb);
		vigil_metrics__free(m);
	}
	assert_int_equal(vigil_metrics_names_parse("tetragon", &parsed), 0);
	assert_int_equal(parsed, VIGIL_METRICS_NAMES_TETRAGON);
	assert_int_equal(vigil_metrics_names_parse("both", &parsed), 0);
	assert_int_equal(parsed, VIGIL_METRICS_NAMES_BOTH);
	assert_int_equal(vigil_metrics_names_parse("Tetragon", &parsed), -EINVAL);
	assert_int_equal(vigil_metrics_names_parse("", &parsed), -EINVAL);
}

/* ================================================================ HTTP */

/* One HTTP/1.0 request to 127.0.0.1:port; the whole response. */
static char *http(int port, const char *method, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256], *resp = calloc(1, 1 << 20);
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, resp + len, (1 << 20) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	return resp;
}

static void test_http_serves_metrics_on_the_loopback_and_404_elsewhere(void **state)
{
	struct vigil_metrics *m = metrics(0);
	char *resp, *body, addr[64];

	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	assert_int_equal(vigil_metrics__serve(m, ":0"), 0);	/* ":PORT" binds 127.0.0.1 */
	assert_true(vigil_metrics__port(m) > 0);
	assert_int_equal(vigil_metrics__serve(m, ":0"), -EALREADY);
	resp = http(vigil_metrics__port(m), "GET", "/metrics");
	assert_true(!strncmp(resp, "HTTP/1.0 200", 12) || !strncmp(resp, "HTTP/1.1 200", 12));
	assert_non_null(strstr(resp, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	body = strstr(resp, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	assert_int_equal(value_of(body, "vigil_events_total", "type=PROCESS_EXEC,binary=/usr/bin/true,policy="), 1);
	free(resp);
	resp = http(vigil_metrics__port(m), "GET", "/other");
	assert_non_null(strstr(resp, " 404 "));
	free(resp);
	resp = http(vigil_metrics__port(m), "POST", "/metrics");
	assert_non_null(strstr(resp, " 405 "));
	free(resp);
	/* stopping closes the listening socket: the port can be served again */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", vigil_metrics__port(m));
	vigil_metrics__free(m);
	m = metrics(0);
	assert_int_equal(vigil_metrics__serve(m, addr), 0);
	vigil_metrics__free(m);
}

/* The metrics of a server on addr with binary labels mode, after one exec of /usr/bin/true
 * before serving and one of /usr/bin/id after; the body of GET /metrics. */
static char *served_body(const char *addr, enum vigil_metrics_binary_labels mode)
{
	struct vigil_metrics_opts o = {.sz = sizeof(o), .binary_labels = mode};
	struct vigil_metrics *m = vigil_metrics__new(&o);
	char *resp, *body;

	assert_non_null(m);
	count(m, VIGIL_EVENT_EXEC, "/usr/bin/true", NULL, 0, false);
	assert_int_equal(vigil_metrics__serve(m, addr), 0);
	count(m, VIGIL_EVENT_EXEC, "/usr/bin/id", NULL, 0, false);
	resp = http(vigil_metrics__port(m), "GET", "/metrics");
	body = strstr(resp, "\r\n\r\n");
	assert_non_null(body);
	body = strdup(body + 4);
	free(resp);
	vigil_metrics__free(m);
	return body;
}

static void test_binary_labels_stay_on_a_loopback_endpoint(void **state)
{
	char *body = served_body("127.0.0.1:0", VIGIL_METRICS_BINARY_AUTO);

	assert_int_equal(value_of(body, "vigil_events_total", "type=PROCESS_EXEC,binary=/usr/bin/true,policy="), 1);
	assert_int_equal(value_of(body, "vigil_events_total", "type=PROCESS_EXEC,binary=/usr/bin/id,policy="), 1);
	assert_null(strstr(body, "hidden"));
	free(body);
}

/* Other users' activity must not reach the network: binary labels off by default on an
 * endpoint that is not loopback, those counted before serving included. */
static void test_binary_labels_are_hidden_by_default_on_a_non_loopback_endpoint(void **state)
{
	char *body = served_body("0.0.0.0:0", VIGIL_METRICS_BINARY_AUTO);

	assert_int_equal(value_of(body, "vigil_events_total", "type=PROCESS_EXEC,binary=hidden,policy="), 2);
	assert_null(strstr(body, "/usr/bin/true"));
	assert_null(strstr(body, "/usr/bin/id"));
	free(body);
}

static void test_binary_labels_on_or_off_when_asked_whatever_the_endpoint(void **state)
{
	char *body = served_body("0.0.0.0:0", VIGIL_METRICS_BINARY_ON);

	assert_int_equal(value_of(body, "vigil_events_total", "type=PROCESS_EXEC,binary=/usr/bin/true,policy="), 1);
	assert_int_equal(value_of(body, "vigil_events_total", "type=PROCESS_EXEC,binary=/usr/bin/id,policy="), 1);
	free(body);
	body = served_body("127.0.0.1:0", VIGIL_METRICS_BINARY_OFF);
	assert_int_equal(value_of(body, "vigil_events_total", "type=PROCESS_EXEC,binary=hidden,policy="), 2);
	assert_null(strstr(body, "/usr/bin/"));
	free(body);
}

static void test_serve_refuses_bad_addresses_and_taken_ports(void **state)
{
	struct vigil_metrics *m = metrics(0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char addr[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(vigil_metrics__serve(m, "2112"), -EINVAL);
	assert_int_equal(vigil_metrics__serve(m, ":65536"), -EINVAL);
	assert_int_equal(vigil_metrics__serve(m, ":21x"), -EINVAL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sa.sin_port));
	assert_int_equal(vigil_metrics__serve(m, addr), -EADDRINUSE);
	assert_int_equal(vigil_metrics__port(m), 0);
	close(fd);
	vigil_metrics__free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_line_is_valid_exposition_text),
		cmocka_unit_test(test_the_issue_names_are_all_there),
		cmocka_unit_test(test_events_are_counted_by_type_binary_and_policy),
		cmocka_unit_test(test_repeated_label_sets_count_every_event),
		cmocka_unit_test(test_events_of_a_pod_carry_namespace_pod_and_workload),
		cmocka_unit_test(test_policy_events_carry_hook_and_action_and_enforcement_its_mode),
		cmocka_unit_test(test_binary_labels_past_the_cap_count_as_other),
		cmocka_unit_test(test_label_values_are_escaped_and_read_back_unchanged),
		cmocka_unit_test(test_parse_rejects_malformed_lines_giving_the_line),
		cmocka_unit_test(test_rule_source_gives_one_sample_per_rule_and_counter),
		cmocka_unit_test(test_sources_feed_the_reader_bus_and_cache_families),
		cmocka_unit_test(test_pack_gives_one_entry_per_sample_keyed_by_its_text),
		cmocka_unit_test(test_tetragon_events_total_sums_over_policies_with_tetragons_labels),
		cmocka_unit_test(test_tetragon_syscalls_total_names_raw_syscalls),
		cmocka_unit_test(test_selector_actions_take_tetragons_labels),
		cmocka_unit_test(test_metrics_names_choose_the_families_and_pack_keeps_vigils),
		cmocka_unit_test(test_http_serves_metrics_on_the_loopback_and_404_elsewhere),
		cmocka_unit_test(test_serve_refuses_bad_addresses_and_taken_ports),
		cmocka_unit_test(test_binary_labels_stay_on_a_loopback_endpoint),
		cmocka_unit_test(test_binary_labels_are_hidden_by_default_on_a_non_loopback_endpoint),
		cmocka_unit_test(test_binary_labels_on_or_off_when_asked_whatever_the_endpoint),
		cmocka_unit_test(test_tetragon_families_carry_the_pod_and_sum_per_pod),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
