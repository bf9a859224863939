/* test_filters.c - unit tests for core/export's filters: Tetragon's allow/deny Filter
 * objects (each key, AND inside an object, OR across objects, deny wins, pid_set through
 * ancestors and learned descendants, parse errors) and field filters. Events are built
 * with the real encoder and decoded back, as the agent and subscribers see them. */
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

#include "encode/encode.h"
#include "cli/getevents_tetra.h"
#include "export/export.h"
#include "pcache/pcache.h"

/* ================================================================ events */

struct proc {
	uint32_t pid;
	const char *binary;
	const char *args;
	const char *exec_id;		/* NULL: "id-<pid>" */
	const char *parent_exec_id;	/* NULL: "" */
	uint32_t uid, euid;		/* real and effective uid (0: root) */
	const char *container;		/* container id, NULL: the host */
	const struct vigil_pod *pod;	/* NULL: not in a pod */
};

static struct vigil_hook_info hook = {
	.id = 1,
	.type = VIGIL_EVENT_KPROBE,
	.policy_name = "file-monitoring",
	.function_name = "security_file_open",
};

static struct vigil_process *process_of(const struct proc *s)
{
	struct vigil_process *p = vigil_process__new();
	char id[VIGIL_EXEC_ID_MAX];
	const char *pid_s = s->parent_exec_id ? s->parent_exec_id : "";

	assert_non_null(p);
	p->pid = p->tid = s->pid;
	p->ktime = 1000 + s->pid;
	assert_int_equal(vigil_process__set_str(&p->binary, s->binary, strlen(s->binary)), 0);
	if (s->args)
		assert_int_equal(vigil_process__set_str(&p->arguments, s->args, strlen(s->args)), 0);
	if (s->exec_id)
		snprintf(id, sizeof(id), "%s", s->exec_id);
	else
		snprintf(id, sizeof(id), "id-%u", s->pid);
	assert_int_equal(vigil_process__set_str(&p->exec_id, id, strlen(id)), 0);
	assert_int_equal(vigil_process__set_str(&p->parent_exec_id, pid_s, strlen(pid_s)), 0);
	p->flags = VIGIL_PROC_EXECVE;
	p->creds.uid = s->uid;
	p->creds.euid = s->euid;
	if (s->container)
		assert_int_equal(vigil_process__set_str(&p->container_id, s->container, strlen(s->container)), 0);
	return p;
}

/* An event of type for process s with parent ps (NULL: none), through msgpack and back. */
static struct vigil_msg *msg_of(enum vigil_event_type type, const struct proc *s, const struct proc *ps)
{
	struct vigil_event ev = {0};
	struct vigil_buf wire = {0};
	struct vigil_process *p = process_of(s), *pp = ps ? process_of(ps) : NULL;
	struct vigil_msg *m;

	ev.type = type;
	ev.time = 1764403338369395371ULL;
	ev.node_name = "node";
	ev.process = p;
	ev.parent = pp;
	ev.pod = s->pod;
	ev.parent_pod = ps ? ps->pod : NULL;
	if (type != VIGIL_EVENT_EXEC && type != VIGIL_EVENT_EXIT) {
		ev.policy.hook = &hook;
		ev.policy.action = VIGIL_EVENT_ACTION_POST;
	}
	assert_int_equal(vigil_encode_msgpack(&ev, &wire), 0);
	m = vigil_msg__decode(wire.data, wire.len);
	assert_non_null(m);
	vigil_buf_free(&wire);
	vigil_process__free(p);
	vigil_process__free(pp);
	return m;
}

static const struct proc bash = {.pid = 100, .binary = "/usr/bin/bash", .args = "-l"};
static const struct proc curl = {.pid = 200, .binary = "/usr/bin/curl", .args = "https://example.com --silent",
				 .parent_exec_id = "id-100"};
static const struct proc init = {.pid = 1, .binary = "/sbin/init"};

static struct vigil_filter *filter(const char *json)
{
	struct vigil_export_error err;
	struct vigil_filter *f = vigil_filter__new_json(json, &err);

	if (!f)
		fail_msg("filter %s: %s", json, err.reason);
	return f;
}

/* Whether the filter text matches the event. */
static bool matches(const char *json, enum vigil_event_type type, const struct proc *s, const struct proc *ps)
{
	struct vigil_filter *f = filter(json);
	struct vigil_msg *m = msg_of(type, s, ps);
	bool r = vigil_filter__match(f, m);

	vigil_msg__free(m);
	vigil_filter__free(f);
	return r;
}

/* ================================================================ each key */

static void test_empty_object_matches_everything(void **state)
{
	assert_true(matches("{}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_true(matches("{}", VIGIL_EVENT_KPROBE, &curl, NULL));
}

static void test_event_set_matches_listed_types_in_any_spelling(void **state)
{
	assert_true(matches("{\"event_set\":[\"PROCESS_EXEC\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches("{\"event_set\":[\"PROCESS_EXEC\"]}", VIGIL_EVENT_EXIT, &curl, &bash));
	assert_true(matches("{\"event_set\":[\"process_exit\",\"kprobe\"]}", VIGIL_EVENT_KPROBE, &curl, &bash));
	assert_true(matches("{\"event_set\":[5]}", VIGIL_EVENT_EXIT, &curl, &bash));	/* PROCESS_EXIT = 5 */
	assert_false(matches("{\"event_set\":[]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

static void test_binary_regex_searches_unanchored_and_ors_its_list(void **state)
{
	assert_true(matches("{\"binary_regex\":[\"curl\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_true(matches("{\"binary_regex\":[\"^/usr/bin/(wget|curl)$\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_true(matches("{\"binary_regex\":[\"nope\",\"bin/cu\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches("{\"binary_regex\":[\"^curl\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

static void test_parent_binary_regex_looks_at_the_parent(void **state)
{
	assert_true(matches("{\"parent_binary_regex\":[\"bash$\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches("{\"parent_binary_regex\":[\"curl\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches("{\"parent_binary_regex\":[\".*\"]}", VIGIL_EVENT_EXEC, &curl, NULL));
}

static void test_arguments_regex_matches_the_argument_string(void **state)
{
	assert_true(matches("{\"arguments_regex\":[\"--silent\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_true(matches("{\"arguments_regex\":[\"^https://[a-z]+\\\\.com\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches("{\"arguments_regex\":[\"--verbose\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

/* Tetragon's container_id: regexes against process.docker, the id's first 31 characters */
static void test_container_id_matches_the_docker_field(void **state)
{
	static const struct proc in_ct = {
		.pid = 300,
		.binary = "/bin/sh",
		.container = "5290f4228a5e723bfcb581de489a4b2d6376e4d3978332d43cf9b715e2a5d0a0",
	};

	assert_true(matches("{\"container_id\":[\"^5290f4228a5e\"]}", VIGIL_EVENT_EXEC, &in_ct, &bash));
	assert_true(matches("{\"container_id\":[\"nope\",\"^5290f4228a5e723bfcb581de489a4b2$\"]}", VIGIL_EVENT_EXEC,
			    &in_ct, &bash));
	/* past the 31 characters the event carries */
	assert_false(matches("{\"container_id\":[\"5290f4228a5e723bfcb581de489a4b2d6\"]}", VIGIL_EVENT_EXEC, &in_ct,
			     &bash));
	assert_false(matches("{\"container_id\":[\".*\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

static const struct vigil_pod_label web_labels[] = { {"app", "web"}, {"tier", "front"} };
static const struct vigil_pod web_pod = {
	.runtime = "containerd", .container_id = "16ecce28d6808e01f6b91f990b07616c0fc8dff67036231f9911191c7ff3d1cd",
	.container_name = "web", .name = "web-6f87496b94-qdlh8", .namespace_ = "team-a", .uid = "u-1",
	.workload = "web", .workload_kind = "Deployment", .labels = web_labels, .nlabels = 2,
};
static const struct proc in_pod = {
	.pid = 400, .binary = "/bin/sh", .container = "16ecce28d6808e01f6b91f990b07616c0fc8dff67036231f9911191c7ff3d1cd",
	.pod = &web_pod,
};

static void test_namespace_matches_the_pod_and_empty_matches_the_host(void **state)
{
	assert_true(matches("{\"namespace\":[\"team-a\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_true(matches("{\"namespace\":[\"other\",\"team-a\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_false(matches("{\"namespace\":[\"team\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_false(matches("{\"namespace\":[\"team-a\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_true(matches("{\"namespace\":[\"\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches("{\"namespace\":[\"\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
}

static void test_pod_regex_matches_the_pod_name(void **state)
{
	assert_true(matches("{\"pod_regex\":[\"^web-\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_false(matches("{\"pod_regex\":[\"^db-\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_false(matches("{\"pod_regex\":[\".*\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

static void test_labels_are_kubernetes_selectors_any_of_which_matches(void **state)
{
	assert_true(matches("{\"labels\":[\"app=web\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_true(matches("{\"labels\":[\"app==web, tier in (front,back)\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_false(matches("{\"labels\":[\"app=web,tier notin (front)\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_true(matches("{\"labels\":[\"app!=db,!legacy,tier\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_false(matches("{\"labels\":[\"legacy\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	assert_true(matches("{\"labels\":[\"legacy\",\"app=web\"]}", VIGIL_EVENT_EXEC, &in_pod, &bash));
	/* no pod, no match (Tetragon), even for a selector only of absences */
	assert_false(matches("{\"labels\":[\"!legacy\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

static void test_bad_label_selector_is_refused(void **state)
{
	struct vigil_export_error err;

	assert_null(vigil_filter__new_json("{\"labels\":[\"app in web\"]}", &err));
	assert_string_equal(err.reason, "labels: 'app in web' is not a label selector");
	assert_null(vigil_filter__new_json("{\"labels\":[\"app=web,\"]}", &err));
	assert_null(vigil_filter__new_json("{\"labels\":[\"=web\"]}", &err));
	assert_null(vigil_filter__new_json("{\"labels\":[\"app=(\"]}", &err));
}

static void test_pid_matches_the_process_not_its_parent(void **state)
{
	assert_true(matches("{\"pid\":[7,200]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches("{\"pid\":[100]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

static void test_policy_names_match_policy_events_only(void **state)
{
	assert_true(matches("{\"policy_names\":[\"other\",\"file-monitoring\"]}", VIGIL_EVENT_KPROBE, &curl, &bash));
	assert_false(matches("{\"policy_names\":[\"other\"]}", VIGIL_EVENT_KPROBE, &curl, &bash));
	assert_false(matches("{\"policy_names\":[\"file-monitoring\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

/* The installed client the health_check tests use (the default is found from the running
 * program; these tests name it). */
#define CLIENT "/usr/local/bin/vigil"

static bool matches_probe(const char *json, const struct proc *s, const struct proc *ps)
{
	struct vigil_filter *f = filter(json);
	struct vigil_msg *m = msg_of(VIGIL_EVENT_EXEC, s, ps);
	bool r;

	assert_int_equal(vigil_filter__set_client(f, CLIENT), 0);
	r = vigil_filter__match(f, m);
	vigil_msg__free(m);
	vigil_filter__free(f);
	return r;
}

static void test_health_check_matches_the_installed_client_run_by_root_or_its_children(void **state)
{
	const struct proc probe = {.pid = 300, .binary = CLIENT, .args = "status -o json"};
	const struct proc bare = {.pid = 303, .binary = CLIENT, .args = "status"};
	const struct proc child = {.pid = 301, .binary = "/usr/bin/true"};
	const struct proc other = {.pid = 302, .binary = CLIENT, .args = "getevents"};

	assert_true(matches_probe("{\"health_check\":true}", &probe, &bash));
	assert_true(matches_probe("{\"health_check\":true}", &bare, &bash));
	assert_true(matches_probe("{\"health_check\":true}", &child, &probe));
	assert_false(matches_probe("{\"health_check\":true}", &other, &bash));
	assert_true(matches_probe("{\"health_check\":false}", &other, &bash));
	assert_false(matches_probe("{\"health_check\":false}", &probe, &bash));
}

/* The hole this closes: any binary named vigil with `status` hid itself and its children. */
static void test_health_check_ignores_a_vigil_look_alike_and_its_children(void **state)
{
	const struct proc fake = {.pid = 310, .binary = "/home/eve/bin/vigil", .args = "status", .uid = 1000,
				  .euid = 1000};
	const struct proc fake_root = {.pid = 311, .binary = "/tmp/vigil", .args = "status"};
	const struct proc child = {.pid = 312, .binary = "/usr/bin/nc", .args = "-l 4444", .uid = 1000, .euid = 1000};

	assert_false(matches_probe("{\"health_check\":true}", &fake, &bash));
	assert_false(matches_probe("{\"health_check\":true}", &child, &fake));
	assert_false(matches_probe("{\"health_check\":true}", &fake_root, &bash));
	assert_false(matches_probe("{\"health_check\":true}", &child, &fake_root));
	assert_true(matches_probe("{\"health_check\":false}", &child, &fake));
}

static void test_health_check_ignores_the_client_run_by_another_user(void **state)
{
	const struct proc user = {.pid = 320, .binary = CLIENT, .args = "status", .uid = 1000, .euid = 1000};
	const struct proc setuid = {.pid = 321, .binary = CLIENT, .args = "status", .uid = 1000, .euid = 0};
	const struct proc dropped = {.pid = 322, .binary = CLIENT, .args = "status", .uid = 0, .euid = 1000};
	const struct proc child = {.pid = 323, .binary = "/usr/bin/true", .uid = 1000, .euid = 1000};

	assert_false(matches_probe("{\"health_check\":true}", &user, &bash));
	assert_false(matches_probe("{\"health_check\":true}", &child, &user));
	assert_false(matches_probe("{\"health_check\":true}", &setuid, &bash));
	assert_false(matches_probe("{\"health_check\":true}", &dropped, &bash));
}

static void test_health_check_needs_status_as_the_first_argument(void **state)
{
	const struct proc longer = {.pid = 330, .binary = CLIENT, .args = "statusx"};
	const struct proc later = {.pid = 331, .binary = CLIENT, .args = "getevents status"};

	assert_false(matches_probe("{\"health_check\":true}", &longer, &bash));
	assert_false(matches_probe("{\"health_check\":true}", &later, &bash));
}

static void test_health_check_matches_nothing_without_a_client(void **state)
{
	const struct proc probe = {.pid = 340, .binary = CLIENT, .args = "status"};
	struct vigil_filter *f = filter("{\"health_check\":true}");
	struct vigil_msg *m = msg_of(VIGIL_EVENT_EXEC, &probe, &bash);

	assert_int_equal(vigil_filter__set_client(f, NULL), 0);
	assert_false(vigil_filter__match(f, m));
	vigil_msg__free(m);
	vigil_filter__free(f);
}

/* ================================================================ pid_set */

static size_t fake_ancestors(void *ctx, const struct vigil_msg *m, uint32_t *pids, size_t max)
{
	static const uint32_t chain[] = {200, 100, 1};	/* curl's child: parent curl, bash, init */
	size_t i;

	(void)ctx;
	(void)m;
	for (i = 0; i < VIGIL_ARRAY_SIZE(chain) && i < max; i++)
		pids[i] = chain[i];
	return i;
}

static void test_pid_set_matches_descendants_through_the_resolver(void **state)
{
	const struct proc grandchild = {.pid = 250, .binary = "/usr/bin/sh", .parent_exec_id = "id-200"};
	struct vigil_filter *f = filter("{\"pid_set\":[100]}"), *g = filter("{\"pid_set\":[42]}");
	struct vigil_msg *m = msg_of(VIGIL_EVENT_EXEC, &grandchild, &curl);

	vigil_filter__set_ancestors(f, fake_ancestors, NULL);
	vigil_filter__set_ancestors(g, fake_ancestors, NULL);
	assert_true(vigil_filter__match(f, m));
	assert_false(vigil_filter__match(g, m));
	vigil_msg__free(m);
	vigil_filter__free(f);
	vigil_filter__free(g);
}

static void test_pid_set_without_resolver_learns_descendants_from_the_stream(void **state)
{
	const struct proc grandchild = {.pid = 250, .binary = "/usr/bin/sh", .parent_exec_id = "id-200"};
	const struct proc stranger = {.pid = 260, .binary = "/usr/bin/sh", .parent_exec_id = "id-999"};
	const struct proc unrelated = {.pid = 999, .binary = "/usr/bin/zsh"};
	struct vigil_filter *f = filter("{\"pid_set\":[100]}");
	struct vigil_msg *self = msg_of(VIGIL_EVENT_EXEC, &bash, &init);
	struct vigil_msg *child = msg_of(VIGIL_EVENT_EXEC, &curl, &bash);
	struct vigil_msg *gc = msg_of(VIGIL_EVENT_EXEC, &grandchild, &curl);
	struct vigil_msg *gc_exit = msg_of(VIGIL_EVENT_EXIT, &grandchild, &curl);
	struct vigil_msg *other = msg_of(VIGIL_EVENT_EXEC, &stranger, &unrelated);

	/* a grandchild seen before its parent was learned is not known yet */
	assert_false(vigil_filter__match(f, gc));
	assert_true(vigil_filter__match(f, self));
	assert_true(vigil_filter__match(f, child));	/* parent pid in the set: learned */
	assert_true(vigil_filter__match(f, gc));	/* parent exec_id learned */
	assert_true(vigil_filter__match(f, gc_exit));	/* its own exec_id learned */
	assert_false(vigil_filter__match(f, other));
	vigil_msg__free(self);
	vigil_msg__free(child);
	vigil_msg__free(gc);
	vigil_msg__free(gc_exit);
	vigil_msg__free(other);
	vigil_filter__free(f);
}

static void test_pid_set_does_not_adopt_a_reused_pid(void **state)
{
	/* pid 200 again, a new incarnation under an unrelated parent */
	const struct proc reused = {.pid = 200, .binary = "/usr/bin/ls", .exec_id = "id-200-again",
				    .parent_exec_id = "id-999"};
	const struct proc unrelated = {.pid = 999, .binary = "/usr/bin/zsh"};
	struct vigil_filter *f = filter("{\"pid_set\":[100]}");
	struct vigil_msg *child = msg_of(VIGIL_EVENT_EXEC, &curl, &bash);
	struct vigil_msg *again = msg_of(VIGIL_EVENT_EXEC, &reused, &unrelated);

	assert_true(vigil_filter__match(f, child));
	assert_false(vigil_filter__match(f, again));
	vigil_msg__free(child);
	vigil_msg__free(again);
	vigil_filter__free(f);
}

/* ================================================================ AND, OR, deny */

static void test_keys_inside_one_object_are_anded(void **state)
{
	const char *f = "{\"event_set\":[\"PROCESS_EXEC\"],\"binary_regex\":[\"curl\"],\"pid\":[200]}";

	assert_true(matches(f, VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches(f, VIGIL_EVENT_EXIT, &curl, &bash));
	assert_false(matches(f, VIGIL_EVENT_EXEC, &bash, &init));
	assert_false(matches("{\"binary_regex\":[\"curl\"],\"pid\":[201]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

static void test_objects_are_ored(void **state)
{
	const char *f = "{\"binary_regex\":[\"wget\"]}\n{\"pid\":[200]}";

	assert_true(matches(f, VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches(f, VIGIL_EVENT_EXEC, &bash, &init));
}

static void test_deny_wins_over_allow(void **state)
{
	struct vigil_filter *allow = filter("{\"event_set\":[\"PROCESS_EXEC\"]}");
	struct vigil_filter *deny = filter("{\"binary_regex\":[\"curl\"]}");
	struct vigil_msg *c = msg_of(VIGIL_EVENT_EXEC, &curl, &bash), *b = msg_of(VIGIL_EVENT_EXEC, &bash, &init);
	struct vigil_msg *x = msg_of(VIGIL_EVENT_EXIT, &bash, &init);

	assert_false(vigil_filter__pass(allow, deny, c));
	assert_true(vigil_filter__pass(allow, deny, b));
	assert_false(vigil_filter__pass(allow, deny, x));
	assert_true(vigil_filter__pass(NULL, NULL, c));
	assert_false(vigil_filter__pass(NULL, deny, c));
	vigil_msg__free(c);
	vigil_msg__free(b);
	vigil_msg__free(x);
	vigil_filter__free(allow);
	vigil_filter__free(deny);
}

static void test_empty_lists_pass_everything_as_in_tetragon(void **state)
{
	struct vigil_filter *none = filter("  \n"), *empty = filter("[]");
	struct vigil_msg *c = msg_of(VIGIL_EVENT_EXEC, &curl, &bash);

	assert_int_equal(vigil_filter__count(none), 0);
	assert_false(vigil_filter__match(none, c));
	assert_true(vigil_filter__pass(none, empty, c));
	vigil_msg__free(c);
	vigil_filter__free(none);
	vigil_filter__free(empty);
}

/* ================================================================ parsing */

static void test_accepts_an_object_an_array_and_objects_one_per_line(void **state)
{
	struct vigil_filter *a = filter("{\"pid\":[1]}");
	struct vigil_filter *b = filter("[{\"pid\":[1]}, {\"pid\":[2]}]");
	struct vigil_filter *c = filter("{\"pid\":[1]}\n{\"pid\":[2]}\n{\"health_check\":true}\n");

	assert_int_equal(vigil_filter__count(a), 1);
	assert_int_equal(vigil_filter__count(b), 2);
	assert_int_equal(vigil_filter__count(c), 3);
	vigil_filter__free(a);
	vigil_filter__free(b);
	vigil_filter__free(c);
}

static void test_unsupported_key_is_refused_naming_key_and_object(void **state)
{
	struct vigil_export_error err;

	assert_null(vigil_filter__new_json("{\"pid\":[1]}\n{\"capabilities\":[\"\"]}", &err));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(err.index, 2);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.reason, "unknown or unsupported filter key 'capabilities'");
}

/* glibc's regexec retries an unanchored pattern at every start: arguments_regex a+b against
 * a 128 KiB argument (any user's to pass) took over 30 s before filter.c searched as ^.*(re) */
static void test_argument_regexes_are_linear_in_the_argument(void **state)
{
	static const char *const res[] = {"a+b", "(a|aa)*b", "a.*a.*b"};
	size_t n = 131072, i;
	char *arg = malloc(n + 1);
	struct proc big = {.pid = 300, .binary = "/usr/bin/big"};
	struct vigil_msg *m;
	char text[128];
	clock_t start;

	assert_non_null(arg);
	memset(arg, 'a', n);
	arg[n] = '\0';
	big.args = arg;
	m = msg_of(VIGIL_EVENT_EXEC, &big, &bash);
	start = clock();
	for (i = 0; i < VIGIL_ARRAY_SIZE(res); i++) {
		struct vigil_filter *f;

		snprintf(text, sizeof(text), "{\"arguments_regex\":[\"%s\"]}", res[i]);
		f = filter(text);
		assert_false(vigil_filter__match(f, m));
		vigil_filter__free(f);
	}
	assert_true(matches("{\"arguments_regex\":[\"^a+$\", \"x\"]}", VIGIL_EVENT_EXEC, &big, &bash));
	/* milliseconds; 5 s leaves room for memcheck */
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 5.0);
	vigil_msg__free(m);
	free(arg);
}

/* getevents' --process and --namespace-regex were unanchored regexecs: a+b took 30 ms an
 * event against a 4 KiB binary path (the most exec gives), 3 s for these 100 events */
static void test_getevents_process_regexes_are_linear_and_checked(void **state)
{
	struct tetra_filter tf = {0};
	struct proc longp = {.pid = 301};
	struct vigil_msg *m;
	char *path = malloc(4096);
	clock_t start;
	int i;

	assert_non_null(path);
	path[0] = '/';
	memset(path + 1, 'a', 4094);
	path[4095] = '\0';
	longp.binary = path;
	m = msg_of(VIGIL_EVENT_EXEC, &longp, &bash);
	assert_int_equal(tetra_filter_add_process(&tf, "a+b,(a|aa)*b"), 0);
	start = clock();
	for (i = 0; i < 100; i++)
		assert_false(tetra_filter_match(&tf, m));
	/* milliseconds; 1 s leaves room for memcheck */
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
	assert_int_equal(tetra_filter_add_process(&tf, "^/a+$"), 0);
	assert_true(tetra_filter_match(&tf, m));
	/* the filter regexes' cost rules: glibc took both, the second behind ^.*( as a group end */
	assert_int_equal(tetra_filter_add_process(&tf, "a++"), -EINVAL);
	assert_int_equal(tetra_filter_add_ns_regex(&tf, "x)+"), -EINVAL);
	tetra_filter_free(&tf);
	vigil_msg__free(m);
	free(path);
}

/* a redact regex is searched for its groups as written; an argument it does not match at
 * all is passed over in one pass: (a+)b took 0.8 s against 16 KiB of "a" before */
static void test_redaction_skips_what_it_does_not_match_in_one_pass(void **state)
{
	struct vigil_export_error err;
	struct vigil_redaction *r = vigil_redaction__new_json("{\"redact\": [\"(a+)b\", \"--pw=(x+)\"]}", &err);
	struct vigil_buf scratch = {0};
	size_t n = 131072;
	char *arg = malloc(n + 1);
	clock_t start;

	assert_non_null(r);
	assert_non_null(arg);
	memset(arg, 'a', n);
	arg[n] = '\0';
	start = clock();
	assert_ptr_equal(vigil_redaction__apply(r, "/bin/x", arg, &scratch), arg);
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
	assert_string_equal(vigil_redaction__apply(r, "/bin/x", "-v --pw=xxx aab", &scratch), "-v --pw=***** *****b");
	vigil_redaction__free(r);
	/* binary_regex and redact follow the filter regexes' cost rules */
	assert_null(vigil_redaction__new_json("{\"binary_regex\": [\"x)+\"], \"redact\": [\"(a)\"]}", &err));
	assert_null(vigil_redaction__new_json("{\"redact\": [\"(a++)\"]}", &err));
	vigil_buf_free(&scratch);
	free(arg);
}

/* ================================================================ cel_expression */

static void test_cel_expression_is_checked_when_the_filter_is_built(void **state)
{
	struct vigil_export_error err;

	assert_null(vigil_filter__new_json("{\"cel_expression\":[\"process_exec.process.binary == 'x'\", "
					   "\"process_exec.process.pid == 1\"]}", &err));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err.reason, "cel_expression: expression 2: column 26: found no matching overload for "
			    "'_==_' applied to '(wrapper(uint), int)'");
}

static void test_cel_expression_matches_as_tetragon_runs_it(void **state)
{
	/* the kinds an expression names; AND with the object's other keys; any expression */
	assert_true(matches("{\"cel_expression\":[\"process_exec.process.binary.endsWith('/curl')\"]}",
			    VIGIL_EVENT_EXEC, &curl, &bash));
	assert_false(matches("{\"cel_expression\":[\"process_exec.process.binary.endsWith('/curl')\"]}",
			     VIGIL_EVENT_EXIT, &curl, &bash));
	assert_false(matches("{\"cel_expression\":[\"process_exec.process.binary.endsWith('/curl')\"], \"pid\":[1]}",
			     VIGIL_EVENT_EXEC, &curl, &bash));
	assert_true(matches("{\"cel_expression\":[\"process_exit.process.pid == 1u\", "
			    "\"process_exec.parent.binary == '/usr/bin/bash'\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	/* an expression that fails ends the object, later ones are not tried (Tetragon returns) */
	assert_false(matches("{\"cel_expression\":[\"process_exec.process.pod.pod_labels['x'] == ''\", "
			     "\"process_exec.process.pid == 200u\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	assert_true(matches("{\"cel_expression\":[\"process_exec.process.pid == 200u\", "
			    "\"process_exec.process.pod.pod_labels['x'] == ''\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
	/* an expression naming no kind is never evaluated, so never true (as in Tetragon) */
	assert_false(matches("{\"cel_expression\":[\"1 == 1\"]}", VIGIL_EVENT_EXEC, &curl, &bash));
}

static void test_cel_expression_failures_are_counted(void **state)
{
	struct vigil_filter *deny = filter("{\"cel_expression\":[\"process_exec.process.pod.pod_labels['x'] == ''\"]}");
	struct vigil_msg *m = msg_of(VIGIL_EVENT_EXEC, &curl, &bash);
	const char *last = NULL;

	/* a deny list whose expression fails does not deny: Tetragon's rule, counted here */
	assert_true(vigil_filter__pass(NULL, deny, m));
	assert_int_equal(vigil_filter__cel_errors(deny, &last), 1);
	assert_string_equal(last, "no such key");
	vigil_msg__free(m);
	vigil_filter__free(deny);
}

static void test_bad_json_reports_line_and_column(void **state)
{
	struct vigil_export_error err;

	assert_null(vigil_filter__new_json("{\"pid\":[1]}\n{\"pid\": [1,}", &err));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 12);
	assert_int_equal(err.index, 2);
	assert_non_null(strstr(err.reason, "unexpected token"));
}

static void test_wrong_value_types_are_refused(void **state)
{
	struct vigil_export_error err;

	assert_null(vigil_filter__new_json("{\"pid\":200}", &err));
	assert_string_equal(err.reason, "pid: expected a list");
	assert_null(vigil_filter__new_json("{\"pid\":[-1]}", &err));
	assert_string_equal(err.reason, "pid: expected pids (integers 0-4294967295)");
	assert_null(vigil_filter__new_json("{\"health_check\":\"yes\"}", &err));
	assert_string_equal(err.reason, "health_check: expected true or false");
	assert_null(vigil_filter__new_json("{\"event_set\":[\"PROCESS_NOPE\"]}", &err));
	assert_string_equal(err.reason, "event_set: unknown event type at position 1");
	assert_null(vigil_filter__new_json("[1]", &err));
	assert_string_equal(err.reason, "expected a JSON object, got a value");
	assert_null(vigil_filter__new_json("{\"pid\":[1],\"pid\":[2]}", &err));
	assert_non_null(strstr(err.reason, "duplicate"));
}

static void test_bad_regex_is_refused_with_the_regex(void **state)
{
	struct vigil_export_error err;

	assert_null(vigil_filter__new_json("{\"binary_regex\":[\"(unclosed\"]}", &err));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err.reason, "binary_regex: bad regex '(unclosed'"));
}

/* glibc's regcomp copies repeated parts out (x+ is xx*): stacked and nested repetitions
 * ran it out of memory (tests/fuzz/regressions/export_filter). RE2's rules apply instead. */
static void test_regex_that_would_expand_without_bound_is_refused(void **state)
{
	static const char *const refused[] = {
		"{\"binary_regex\":[\"^/usr/++++++++bin\"]}",		/* stacked repetitions */
		"{\"binary_regex\":[\"a*{2}\"]}",
		"{\"arguments_regex\":[\"(a{1000}){1000}\"]}",		/* a million copies */
		"{\"arguments_regex\":[\"((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+\"]}",	/* 2^13 */
		"{\"parent_binary_regex\":[\"x{1001}\"]}",			/* RE2's limit is 1000 */
		"{\"parent_binary_regex\":[\"(){20501}\"]}",			/* every digit counts */
		"{\"parent_binary_regex\":[\"x{2,99999999999999999999999}\"]}",
		"{\"binary_regex\":[\"(a)\\\\1\"]}",			/* back-reference */
		"{\"arguments_regex\":[\"(a|)+)+)+)+)+)+)+)+\"]}",	/* ')' would close ^.*( */
	};
	struct vigil_export_error err;
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_null(vigil_filter__new_json(refused[i], &err));
		assert_int_equal(errno, EINVAL);
		assert_non_null(strstr(err.reason, "bad regex"));
	}
}

/* glibc's closures over repeated groups grow about cubically with their number ("()*"
 * 1000 times took 2.3 s in regcomp; 64 repeated groups pass, 65 do not), and double with
 * each repetition of what can match nothing (8 pass, 9 do not). */
static void test_regex_with_too_many_repeated_groups_is_refused(void **state)
{
	struct vigil_export_error err;
	struct vigil_filter *f;
	char json[1024];
	int n, i, len;

	for (n = 64; n <= 65; n++) {
		len = snprintf(json, sizeof(json), "{\"binary_regex\":[\"");
		for (i = 0; i < n; i++)
			len += snprintf(json + len, sizeof(json) - (size_t)len, "(a)*");
		snprintf(json + len, sizeof(json) - (size_t)len, "\"]}");
		f = vigil_filter__new_json(json, &err);
		if (n == 64) {
			assert_non_null(f);
		} else {
			assert_null(f);
			assert_non_null(strstr(err.reason, "repeated groups"));
		}
		vigil_filter__free(f);
	}
	/* repetitions of what can match nothing double glibc's closures next to an anchor */
	f = vigil_filter__new_json("{\"binary_regex\":[\"^(a*)*(b|)*(c?)*($)*(d*)*(e*)*(f*)*(g*)*$\"]}", &err);
	assert_non_null(f);
	vigil_filter__free(f);
	assert_null(vigil_filter__new_json("{\"binary_regex\":[\"^(a*)*(b|)*(c?)+($)*(d*)*(e*)*(f*)*(g*)*(h*)*$\"]}",
					   &err));
	assert_non_null(strstr(err.reason, "can match nothing"));
	assert_null(vigil_filter__new_json("{\"binary_regex\":[\"(()*){1000}\"]}", &err));
	assert_null(vigil_filter__new_json("{\"binary_regex\":[\"((((a)+)+)+)+\"]}", &err));
	assert_non_null(strstr(err.reason, "nested deeper"));
}

static void test_regex_with_bounded_repetitions_is_accepted(void **state)
{
	struct vigil_filter *f = filter("{\"binary_regex\":[\"^/usr/s?bin/(curl|wget)+$\","
					"\"^([0-9]{1,3}\\\\.){3}[0-9]{1,3}$\", \"a{,5}b{2,}[]a-z]+\", \"x{1000}\"]}");

	assert_int_equal(vigil_filter__count(f), 1);
	vigil_filter__free(f);
}

/* ================================================================ field filters */

static struct vigil_field_filter *fields(const char *json)
{
	struct vigil_export_error err;
	struct vigil_field_filter *f = vigil_field_filter__new_json(json, &err);

	if (!f)
		fail_msg("field filter %s: %s", json, err.reason);
	return f;
}

/* The event's JSON after the field filters. */
static char *filtered_json(const char *json, enum vigil_event_type type)
{
	struct vigil_field_filter *f = fields(json);
	struct vigil_msg *m = msg_of(type, &curl, &bash);
	struct vigil_buf out = {0};
	const msgpack_object *root = vigil_field_filter__apply(f, m);
	char *s;

	assert_non_null(root);
	assert_int_equal(vigil_json_from_msgpack(root, &out), 0);
	s = strdup(out.data);
	vigil_buf_free(&out);
	vigil_msg__free(m);
	vigil_field_filter__free(f);
	return s;
}

static void test_include_keeps_only_the_named_fields(void **state)
{
	char *s = filtered_json("{\"fields\":\"process.binary,process.pid,parent.binary\",\"action\":\"INCLUDE\"}",
				VIGIL_EVENT_EXEC);

	assert_string_equal(s, "{\"process_exec\":{\"process\":{\"pid\":200,\"binary\":\"/usr/bin/curl\"},"
			       "\"parent\":{\"binary\":\"/usr/bin/bash\"}},"
			       "\"node_name\":\"node\",\"time\":\"2025-11-29T08:02:18.369395371Z\"}");
	free(s);
}

static void test_exclude_drops_the_named_fields_and_keeps_the_rest(void **state)
{
	char *s = filtered_json("{\"fields\":\"parent, process.arguments ,process.cap,process.ns\","
				"\"action\":\"EXCLUDE\"}", VIGIL_EVENT_EXEC);

	assert_null(strstr(s, "\"parent\""));
	assert_null(strstr(s, "\"arguments\""));
	assert_non_null(strstr(s, "\"binary\":\"/usr/bin/curl\""));
	assert_non_null(strstr(s, "\"exec_id\":\"id-200\""));
	assert_non_null(strstr(s, "\"node_name\":\"node\""));
	free(s);
}

static void test_field_filter_applies_only_to_its_event_set_or_the_inverse(void **state)
{
	const char *f = "{\"fields\":\"process.binary\",\"event_set\":[\"PROCESS_EXIT\"]}";
	const char *g = "{\"fields\":\"process.binary\",\"event_set\":[\"PROCESS_EXIT\"],\"invert_event_set\":true}";
	char *exec_f = filtered_json(f, VIGIL_EVENT_EXEC), *exit_f = filtered_json(f, VIGIL_EVENT_EXIT);
	char *exec_g = filtered_json(g, VIGIL_EVENT_EXEC);

	assert_non_null(strstr(exec_f, "\"arguments\""));		/* untouched */
	assert_null(strstr(exit_f, "\"arguments\""));			/* INCLUDE is the default */
	assert_non_null(strstr(exit_f, "\"binary\":\"/usr/bin/curl\""));
	assert_null(strstr(exec_g, "\"arguments\""));
	free(exec_f);
	free(exit_f);
	free(exec_g);
}

static int buf_write(void *data, const char *buf, size_t len)
{
	return vigil_buf_append(data, buf, len);
}

static void test_field_path_through_a_list_applies_to_each_element(void **state)
{
	struct vigil_field_filter *f = fields("{\"fields\":\"args.label\",\"action\":\"EXCLUDE\"}");
	struct vigil_buf wire = {0}, out = {0};
	msgpack_packer pk;
	struct vigil_msg *m;

	/* {"process_kprobe": {"args": [{"int_arg": 1, "label": "a"}, {"int_arg": 2, "label": "b"}]}} */
	msgpack_packer_init(&pk, &wire, buf_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "process_kprobe", 14);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "args", 4);
	msgpack_pack_array(&pk, 2);
	for (int i = 1; i <= 2; i++) {
		msgpack_pack_map(&pk, 2);
		msgpack_pack_str_with_body(&pk, "int_arg", 7);
		msgpack_pack_int(&pk, i);
		msgpack_pack_str_with_body(&pk, "label", 5);
		msgpack_pack_str_with_body(&pk, i == 1 ? "a" : "b", 1);
	}
	m = vigil_msg__decode(wire.data, wire.len);
	assert_non_null(m);
	assert_int_equal(vigil_json_from_msgpack(vigil_field_filter__apply(f, m), &out), 0);
	assert_string_equal(out.data, "{\"process_kprobe\":{\"args\":[{\"int_arg\":1},{\"int_arg\":2}]}}");
	vigil_buf_free(&out);
	vigil_buf_free(&wire);
	vigil_msg__free(m);
	vigil_field_filter__free(f);
}

static void test_field_filters_apply_in_order(void **state)
{
	char *s = filtered_json("{\"fields\":\"process\"}\n{\"fields\":\"process.arguments\",\"action\":\"EXCLUDE\"}",
				VIGIL_EVENT_EXEC);

	assert_null(strstr(s, "\"parent\""));
	assert_null(strstr(s, "\"arguments\""));
	assert_non_null(strstr(s, "\"binary\":\"/usr/bin/curl\""));
	free(s);
}

static void test_field_filter_errors_name_the_problem(void **state)
{
	struct vigil_export_error err;

	assert_null(vigil_field_filter__new_json("{\"action\":\"INCLUDE\"}", &err));
	assert_string_equal(err.reason, "fields: expected a comma-separated string of paths");
	assert_null(vigil_field_filter__new_json("{\"fields\":\"process..pid\"}", &err));
	assert_string_equal(err.reason, "fields: bad path 'process..pid'");
	assert_null(vigil_field_filter__new_json("{\"fields\":\"a\",\"action\":\"DROP\"}", &err));
	assert_string_equal(err.reason, "action: expected \"INCLUDE\" or \"EXCLUDE\"");
	assert_null(vigil_field_filter__new_json("{\"fields\":\"a\",\"redact\":[]}", &err));
	assert_string_equal(err.reason, "unknown field filter key 'redact'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_object_matches_everything),
		cmocka_unit_test(test_event_set_matches_listed_types_in_any_spelling),
		cmocka_unit_test(test_binary_regex_searches_unanchored_and_ors_its_list),
		cmocka_unit_test(test_parent_binary_regex_looks_at_the_parent),
		cmocka_unit_test(test_arguments_regex_matches_the_argument_string),
		cmocka_unit_test(test_regex_that_would_expand_without_bound_is_refused),
		cmocka_unit_test(test_regex_with_too_many_repeated_groups_is_refused),
		cmocka_unit_test(test_regex_with_bounded_repetitions_is_accepted),
		cmocka_unit_test(test_container_id_matches_the_docker_field),
		cmocka_unit_test(test_namespace_matches_the_pod_and_empty_matches_the_host),
		cmocka_unit_test(test_pod_regex_matches_the_pod_name),
		cmocka_unit_test(test_labels_are_kubernetes_selectors_any_of_which_matches),
		cmocka_unit_test(test_bad_label_selector_is_refused),
		cmocka_unit_test(test_pid_matches_the_process_not_its_parent),
		cmocka_unit_test(test_policy_names_match_policy_events_only),
		cmocka_unit_test(test_health_check_matches_the_installed_client_run_by_root_or_its_children),
		cmocka_unit_test(test_health_check_ignores_a_vigil_look_alike_and_its_children),
		cmocka_unit_test(test_health_check_ignores_the_client_run_by_another_user),
		cmocka_unit_test(test_health_check_needs_status_as_the_first_argument),
		cmocka_unit_test(test_health_check_matches_nothing_without_a_client),
		cmocka_unit_test(test_pid_set_matches_descendants_through_the_resolver),
		cmocka_unit_test(test_pid_set_without_resolver_learns_descendants_from_the_stream),
		cmocka_unit_test(test_pid_set_does_not_adopt_a_reused_pid),
		cmocka_unit_test(test_keys_inside_one_object_are_anded),
		cmocka_unit_test(test_objects_are_ored),
		cmocka_unit_test(test_deny_wins_over_allow),
		cmocka_unit_test(test_empty_lists_pass_everything_as_in_tetragon),
		cmocka_unit_test(test_accepts_an_object_an_array_and_objects_one_per_line),
		cmocka_unit_test(test_unsupported_key_is_refused_naming_key_and_object),
		cmocka_unit_test(test_argument_regexes_are_linear_in_the_argument),
		cmocka_unit_test(test_getevents_process_regexes_are_linear_and_checked),
		cmocka_unit_test(test_redaction_skips_what_it_does_not_match_in_one_pass),
		cmocka_unit_test(test_cel_expression_is_checked_when_the_filter_is_built),
		cmocka_unit_test(test_cel_expression_matches_as_tetragon_runs_it),
		cmocka_unit_test(test_cel_expression_failures_are_counted),
		cmocka_unit_test(test_bad_json_reports_line_and_column),
		cmocka_unit_test(test_wrong_value_types_are_refused),
		cmocka_unit_test(test_bad_regex_is_refused_with_the_regex),
		cmocka_unit_test(test_include_keeps_only_the_named_fields),
		cmocka_unit_test(test_exclude_drops_the_named_fields_and_keeps_the_rest),
		cmocka_unit_test(test_field_filter_applies_only_to_its_event_set_or_the_inverse),
		cmocka_unit_test(test_field_path_through_a_list_applies_to_each_element),
		cmocka_unit_test(test_field_filters_apply_in_order),
		cmocka_unit_test(test_field_filter_errors_name_the_problem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
