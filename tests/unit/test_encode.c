/* test_encode.c - event names, the msgpack tree, its decoding, and the JSON and compact
 * renderings, checked against goldens written from Tetragon's documented output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode/encode.h"
#include "export/export_internal.h"
#include "pcache/pcache.h"
#include "events/events.h"
#include "policy/policy.h"

/* ---- fixtures: one curl exec'd from bash, as in the goldens ---- */

#define CAP(n) (1ULL << (n))

struct state {
	struct vigil_process child, parent;
	struct vigil_event exec, exit_signal, exit_status;
	struct vigil_hook_info hook;	/* the hook of ev */
	struct vigil_event ev;		/* a policy event, built by the test */
	struct vigil_buf wire;	/* msgpack bytes */
	struct vigil_buf out;	/* rendered text */
	struct vigil_msg *msg;
	char *golden;
};

static void fill_child(struct vigil_process *p)
{
	static const uint32_t ns[VIGIL_NS_COUNT] = {
		4026531838, 4026531839, 4026532398, 4026532401, 4026532401,
		4026531840, 4026531834, 4026531834, 4026531835, 4026531837,
	};

	p->pid = 68862;
	p->tid = 68862;
	p->ktime = 13668922405188ULL;
	p->exec_id = (char *)"bXktbm9kZToxMzY2ODkyMjQwNTE4ODo2ODg2Mg==";
	p->parent_exec_id = (char *)"bXktbm9kZToxMzY2MDUxMzEwNzM1MTo2ODYzNQ==";
	p->binary = (char *)"/usr/bin/curl";
	p->arguments = (char *)"https://ebpf.io/applications/#tetragon";
	p->cwd = (char *)"/";
	p->container_id = (char *)"";
	p->flags = VIGIL_PROC_EXECVE | VIGIL_PROC_ROOTCWD | VIGIL_PROC_CLONE;
	p->start_time = 1666062981373328662ULL;
	p->auid = 4294967295u;
	p->creds = (struct vigil_creds){ 1000, 1000, 0, 1000, 0, 1000, 0, 1000 };
	p->caps.permitted = CAP(0) | CAP(1) | CAP(13) | CAP(21);
	p->caps.effective = p->caps.permitted;
	memcpy(p->ns, ns, sizeof(ns));
	/* mnt, pid and pid_for_children are the container's own */
	p->ns_host_mask = ((1u << VIGIL_NS_COUNT) - 1) &
			  ~(1u << VIGIL_NS_MNT | 1u << VIGIL_NS_PID | 1u << VIGIL_NS_PID_FOR_CHILDREN);
	p->refcnt = 1;
}

static void fill_parent(struct vigil_process *p)
{
	p->pid = 68635;
	p->tid = 68635;
	p->exec_id = (char *)"bXktbm9kZToxMzY2MDUxMzEwNzM1MTo2ODYzNQ==";
	p->parent_exec_id = (char *)"bXktbm9kZToxMzY2MDQ4NTE5NDE2MTo2ODYwNQ==";
	p->binary = (char *)"/bin/bash";
	p->arguments = (char *)"";
	p->cwd = (char *)"/root";
	p->container_id = (char *)"";
	p->flags = VIGIL_PROC_EXECVE | VIGIL_PROC_CLONE;
	p->start_time = 1666062972964030374ULL;
	p->auid = 1000;
	p->creds = (struct vigil_creds){ 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };
	p->refcnt = 2;
}

static int setup(void **ctx)
{
	struct state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	fill_child(&s->child);
	fill_parent(&s->parent);
	s->exec = (struct vigil_event){
		.type = VIGIL_EVENT_EXEC, .time = 1666062981373327754ULL, .node_name = "my-node",
		.process = &s->child, .parent = &s->parent,
	};
	s->exit_signal = (struct vigil_event){
		.type = VIGIL_EVENT_EXIT, .time = 1666062981616000000ULL, .node_name = "my-node",
		.process = &s->child, .parent = &s->parent, .exit = { .signal = 9 },
	};
	s->exit_status = (struct vigil_event){
		.type = VIGIL_EVENT_EXIT, .time = 1666062982000000000ULL, .node_name = "my-node",
		.process = &s->child, .parent = &s->parent, .exit = { .status = 3 },
	};
	*ctx = s;
	return 0;
}

/* ---- fixtures: policy events ---- */

#define POLICY_TIME 1666062981500000001ULL	/* "2022-10-18T03:16:21.500000001Z" */

static const char *const openat_tags[] = { "observability.filesystem", "cis" };

/* A hook of type `type` with nothing set; the test fills in what it needs. */
static struct vigil_event *policy_event(struct state *s, enum vigil_event_type type)
{
	memset(&s->hook, 0, sizeof(s->hook));
	s->hook.type = type;
	s->ev = (struct vigil_event){
		.type = type, .time = POLICY_TIME, .node_name = "my-node",
		.process = &s->child, .parent = &s->parent,
	};
	s->ev.policy.hook = &s->hook;
	s->ev.policy.action = VIGIL_EVENT_ACTION_POST;
	return &s->ev;
}

/* Append an argument of the given type; the caller sets its value. */
static struct vigil_event_arg *add_arg(struct state *s, int type)
{
	struct vigil_event_arg *a = &s->ev.policy.args[s->ev.policy.nargs];

	assert_true(s->ev.policy.nargs < VIGIL_EVENT_MAX_ARGS);
	memset(a, 0, sizeof(*a));
	a->type = type;
	s->hook.args[s->hook.nargs].type = type;
	s->ev.policy.nargs++;
	s->hook.nargs++;
	return a;
}

static void add_int(struct state *s, int type, int64_t v)
{
	add_arg(s, type)->value = (uint64_t)v;
}

static void add_text(struct state *s, int type, const char *text)
{
	struct vigil_event_arg *a = add_arg(s, type);

	a->bytes = text;
	a->len = strlen(text);
}

static void add_file(struct state *s, int type, const char *path, uint32_t mode)
{
	struct vigil_event_arg *a = add_arg(s, type);

	a->bytes = path;
	a->len = strlen(path);
	a->mode = mode;
}

/* openat(AT_FDCWD, "/etc/passwd", O_RDONLY) caught by a kprobe, as in kprobe_openat.json */
static struct vigil_event *openat_event(struct state *s)
{
	struct vigil_event *ev = policy_event(s, VIGIL_EVENT_KPROBE);

	s->hook.policy_name = "sys-openat";
	s->hook.function_name = "__x64_sys_openat";
	s->hook.message = "sensitive file opened";
	s->hook.tags = openat_tags;
	s->hook.ntags = 2;
	add_int(s, VIGIL_ARG_INT, -100);
	ev->policy.args[0].label = "dfd";		/* the event's own label */
	add_text(s, VIGIL_ARG_STRING, "/etc/passwd");
	s->hook.args[1].label = "pathname";		/* the hook's */
	add_int(s, VIGIL_ARG_INT, 0);
	return ev;
}

static struct vigil_event *mkdirat_event(struct state *s)
{
	struct vigil_event *ev = policy_event(s, VIGIL_EVENT_TRACEPOINT);

	s->hook.policy_name = "mkdir-watch";
	s->hook.subsys = "syscalls";
	s->hook.event = "sys_enter_mkdirat";
	add_int(s, VIGIL_ARG_LONG, -100);
	add_text(s, VIGIL_ARG_STRING, "/tmp/x");
	add_int(s, VIGIL_ARG_SIZE_T, 0755);
	return ev;
}

static struct vigil_event *bprm_event(struct state *s)
{
	struct vigil_event *ev = policy_event(s, VIGIL_EVENT_LSM);

	s->hook.policy_name = "file-integrity-monitoring";
	s->hook.function_name = "bprm_check_security";
	add_file(s, VIGIL_ARG_LINUX_BINPRM, "/usr/bin/grep", 0100755);
	return ev;
}

static struct vigil_event *readline_event(struct state *s)
{
	struct vigil_event *ev = policy_event(s, VIGIL_EVENT_UPROBE);

	s->hook.policy_name = "example-uprobe";
	s->hook.path = "/bin/bash";
	s->hook.symbol = "readline";
	return ev;
}

/* A kprobe on function with no arguments yet; the child has no CAP_SYS_ADMIN, so compact
 * lines end where tetra's detail does. */
static struct vigil_event *kprobe_on(struct state *s, const char *function)
{
	struct vigil_event *ev = policy_event(s, VIGIL_EVENT_KPROBE);

	s->hook.policy_name = "p";
	s->hook.function_name = function;
	s->child.caps.effective = 0;
	return ev;
}

static int teardown(void **ctx)
{
	struct state *s = *ctx;

	vigil_msg__free(s->msg);
	vigil_buf_free(&s->wire);
	vigil_buf_free(&s->out);
	free(s->golden);
	free(s);
	return 0;
}

/* The golden file's one line, without its newline. */
static const char *golden(struct state *s, const char *name)
{
	char path[512];
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", VIGIL_GOLDEN_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	free(s->golden);
	s->golden = calloc(1, (size_t)n + 1);
	assert_non_null(s->golden);
	assert_int_equal(fread(s->golden, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (n && s->golden[n - 1] == '\n')
		s->golden[n - 1] = '\0';
	return s->golden;
}

/* The tree writes msgpack itself (encode_internal.h): its bytes must be the forms msgpack-c's
 * packer chooses (the smallest for each value), which unpacking and packing again shows. */
static void assert_packer_forms(const struct vigil_buf *b)
{
	msgpack_unpacked u;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(msgpack_unpack_next(&u, b->data, b->len, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, b->len);
	assert_int_equal(msgpack_pack_object(&pk, u.data), 0);
	assert_int_equal(sb.size, b->len);
	assert_memory_equal(sb.data, b->data, b->len);
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacked_destroy(&u);
}

/* ---- the agent's view of its own bytes (own.c) against the decoded tree ---- */

/* The paths the compact line, the export filters and the field filters look up. */
static const char *const view_paths[] = {
	"process", "process.binary", "process.arguments", "process.pid", "process.uid", "process.exec_id",
	"process.parent_exec_id", "process.docker", "process.pod", "process.pod.namespace", "process.pod.name",
	"process.pod.pod_labels", "process.cap.effective", "process.cap.effective.0", "parent.binary",
	"parent.pid", "parent.process_credentials.euid", "policy_name", "function_name", "args", "args.0",
	"args.0.file_arg.path", "args.1.int_arg", "args.9", "status", "signal", "monitored", "action", "rule",
	"list", "/node_name", "/time", "/process_exec", "process.nope", "process..binary", "", "args.x",
};

/* Field filter lists the export applies; each with and without the Tetragon-pure strip. */
static const char *const view_field_filters[] = {
	NULL,
	"{\"fields\": \"process.cwd,parent\", \"action\": \"EXCLUDE\"}",
	"{\"fields\": \"process.binary,process.pid,args.file_arg.path,args.int_arg,policy_name\"}",
	"{\"fields\": \"process.cap,args,monitored\", \"action\": \"EXCLUDE\"}"
	"{\"fields\": \"process.binary.deeper,parent,args.string_arg\", \"event_set\": [\"PROCESS_EXEC\", "
	"\"PROCESS_KPROBE\", \"PROCESS_TRACEPOINT\"]}",
	"{\"fields\": \"process\", \"event_set\": [\"PROCESS_EXEC\"], \"invert_event_set\": true}",
};

static void assert_same_find(const struct vigil_msg *tree, const struct vigil_msg *view, const char *path)
{
	const msgpack_object *a = vigil_msg__find(tree, path), *b;
	struct vigil_buf ja = {0}, jb = {0};
	msgpack_object_type ta = 0, tb = 0;
	uint32_t na = 0, nb = 0;

	assert_int_equal(vigil_msg__find_kind(tree, path, &ta, &na), vigil_msg__find_kind(view, path, &tb, &nb));
	assert_int_equal(ta, tb);
	assert_int_equal(na, nb);
	b = vigil_msg__find(view, path);
	assert_true(!a == !b);
	if (!a)
		return;
	assert_int_equal(vigil_json_from_msgpack(a, &ja), 0);
	assert_int_equal(vigil_json_from_msgpack(b, &jb), 0);
	assert_string_equal(ja.data, jb.data);
	vigil_buf_free(&ja);
	vigil_buf_free(&jb);
}

static void assert_same_compact(const struct vigil_msg *tree, const struct vigil_msg *view)
{
	struct vigil_buf a = {0}, b = {0};
	int i;

	for (i = 0; i < 4; i++) {
		struct vigil_compact_opts o = { .color = i & 1, .timestamps = i & 2 };

		vigil_buf_reset(&a);
		vigil_buf_reset(&b);
		assert_int_equal(vigil_msg__to_compact(tree, &o, &a), vigil_msg__to_compact(view, &o, &b));
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data ? a.data : "", b.data ? b.data : "", a.len);
	}
	vigil_buf_free(&a);
	vigil_buf_free(&b);
}

/* The export line streamed from the bytes (stream.c) against fields.c and pure.c on the
 * tree, then vigil_json_from_msgpack: what the exporter wrote before it had a view. */
static void assert_same_export(const struct vigil_msg *tree, const struct vigil_buf *bytes)
{
	struct vigil_buf a = {0}, b = {0};
	struct vigil_field_filter *ff;
	const msgpack_object *root;
	msgpack_object stripped_root;
	msgpack_zone z;
	bool strip, stripped;
	size_t i;

	assert_true(msgpack_zone_init(&z, 4096));
	for (i = 0; i < sizeof(view_field_filters) / sizeof(view_field_filters[0]); i++) {
		ff = view_field_filters[i] ? vigil_field_filter__new_json(view_field_filters[i], NULL) : NULL;
		assert_true(!view_field_filters[i] || ff);
		for (strip = false;; strip = true) {
			root = ff ? vigil_field_filter__apply(ff, tree) : vigil_msg__root(tree);
			assert_non_null(root);
			msgpack_zone_clear(&z);
			if (strip)
				root = export_strip_own(&z, root, &stripped_root);
			vigil_buf_reset(&a);
			vigil_buf_reset(&b);
			assert_int_equal(vigil_json_from_msgpack(root, &a), 0);
			stripped = false;
			assert_int_equal(export_stream_line(ff, vigil_msg__type(tree), strip, bytes->data, bytes->len, &b,
							    &stripped), 0);
			assert_string_equal(a.data, b.data);
			assert_true(stripped == (strip && root == &stripped_root));
			if (strip)
				break;
		}
		vigil_field_filter__free(ff);
	}
	msgpack_zone_destroy(&z);
	vigil_buf_free(&a);
	vigil_buf_free(&b);
}

/* Whatever the agent reads through its view of the bytes (the compact line, filters'
 * lookups, the export line) must be what a subscriber reads from the decoded tree. */
static void assert_view_agrees(const struct vigil_msg *tree, const struct vigil_buf *bytes, size_t body_end)
{
	struct vigil_msg *view = vigil_msg__new_view();
	size_t i, mark;

	assert_non_null(view);
	/* with the encoder's mark and without (the root then walked past the body); lookups in
	 * both orders, so that each map's index is met half-built */
	for (mark = 0; mark < 2; mark++) {
		assert_int_equal(vigil_msg__view_own(view, bytes->data, bytes->len, mark ? body_end : 0), 0);
		assert_int_equal(vigil_msg__type(view), vigil_msg__type(tree));
		assert_string_equal(vigil_msg__type_key(view), vigil_msg__type_key(tree));
		for (i = 0; i < sizeof(view_paths) / sizeof(view_paths[0]); i++)
			assert_same_find(tree, view, view_paths[mark ? i : sizeof(view_paths) / sizeof(view_paths[0]) - 1 - i]);
		assert_same_compact(tree, view);
		assert_int_equal(vigil_msg__view_own(view, bytes->data, bytes->len, mark ? body_end : 0), 0);
		assert_same_compact(tree, view);
	}
	assert_same_export(tree, bytes);
	vigil_msg__free(view);
}

/* Encode ev and decode it back into s->msg; every fixture also checks that the agent's view
 * of the same bytes reads the same. */
static struct vigil_msg *wire(struct state *s, const struct vigil_event *ev)
{
	struct vigil_buf marked = {0};
	size_t body_end = 0;

	vigil_buf_reset(&s->wire);
	assert_int_equal(vigil_encode_msgpack(ev, &s->wire), 0);
	assert_packer_forms(&s->wire);
	/* the same bytes, with where the body ends */
	assert_int_equal(vigil_encode_msgpack_marked(ev, &marked, &body_end), 0);
	assert_int_equal(marked.len, s->wire.len);
	assert_memory_equal(marked.data, s->wire.data, marked.len);
	assert_true(body_end > 0 && body_end < marked.len);
	vigil_buf_free(&marked);
	vigil_msg__free(s->msg);
	s->msg = vigil_msg__decode(s->wire.data, s->wire.len);
	assert_non_null(s->msg);
	assert_view_agrees(s->msg, &s->wire, body_end);
	return s->msg;
}

/* The JSON line of ev, as subscribers print it; the agent's own stdout path (straight from
 * the encoded bytes, nothing unpacked) must print the same, byte for byte. */
static const char *json_of(struct state *s, const struct vigil_event *ev)
{
	struct vigil_buf own = {0};

	vigil_buf_reset(&s->out);
	assert_int_equal(vigil_msg__to_json(wire(s, ev), &s->out), 0);
	assert_int_equal(vigil_json_from_own_msgpack(s->wire.data, s->wire.len, &own), 0);
	assert_string_equal(own.data, s->out.data);
	vigil_buf_free(&own);
	return s->out.data;
}

static const char *compact_of(struct state *s, const struct vigil_event *ev, bool color,
			      bool timestamps)
{
	struct vigil_compact_opts opts = { .color = color, .timestamps = timestamps };

	vigil_buf_reset(&s->out);
	assert_int_equal(vigil_msg__to_compact(wire(s, ev), &opts, &s->out), 0);
	return s->out.data;
}

/* The JSON of what path holds in ev's tree ("args", "args.0", ...). */
static const char *json_at(struct state *s, const struct vigil_event *ev, const char *path)
{
	const msgpack_object *o = vigil_msg__find(wire(s, ev), path);

	assert_non_null(o);
	vigil_buf_reset(&s->out);
	assert_int_equal(vigil_json_from_msgpack(o, &s->out), 0);
	return s->out.data;
}

/* The JSON of the only argument of ev. */
static const char *arg_json(struct state *s, const struct vigil_event *ev)
{
	assert_int_equal(vigil_msg__find(wire(s, ev), "args")->via.array.size, 1);
	return json_at(s, ev, "args.0");
}

/* ---- hand-built msgpack for the decoder and renderers ---- */

struct mp {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void mp_init(struct mp *m)
{
	msgpack_sbuffer_init(&m->sb);
	msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
}

static void mp_str(struct mp *m, const char *s)
{
	msgpack_pack_str_with_body(&m->pk, s, strlen(s));
}

static void expect_bad(const void *data, size_t len)
{
	errno = 0;
	assert_null(vigil_msg__decode(data, len));
	assert_int_equal(errno, EBADMSG);
}

/* ---- names ---- */

static void test_signal_name_maps_9_to_sigkill(void **ctx)
{
	assert_string_equal(vigil_signal_name(9), "SIGKILL");
	assert_string_equal(vigil_signal_name(1), "SIGHUP");
	assert_string_equal(vigil_signal_name(6), "SIGABRT");
	assert_string_equal(vigil_signal_name(31), "SIGSYS");
}

static void test_signal_name_unknown_is_null(void **ctx)
{
	assert_null(vigil_signal_name(0));
	assert_null(vigil_signal_name(-9));
	assert_null(vigil_signal_name(32));
	assert_null(vigil_signal_name(64));
}

static void test_cap_name_uses_tetragon_enum_names(void **ctx)
{
	assert_string_equal(vigil_cap_name(0), "CAP_CHOWN");
	assert_string_equal(vigil_cap_name(1), "DAC_OVERRIDE");
	assert_string_equal(vigil_cap_name(21), "CAP_SYS_ADMIN");
	assert_string_equal(vigil_cap_name(40), "CAP_CHECKPOINT_RESTORE");
	assert_null(vigil_cap_name(41));
}

static void test_ns_names_follow_enum_order(void **ctx)
{
	static const char *const want[VIGIL_NS_COUNT] = {
		"uts", "ipc", "mnt", "pid", "pid_for_children",
		"net", "time", "time_for_children", "cgroup", "user",
	};
	int k;

	for (k = 0; k < VIGIL_NS_COUNT; k++)
		assert_string_equal(vigil_ns_name(k), want[k]);
	assert_null(vigil_ns_name(VIGIL_NS_COUNT));
}

static void test_flags_format_in_bit_order(void **ctx)
{
	char out[128];

	assert_int_equal(vigil_process_flags_format(VIGIL_PROC_CLONE | VIGIL_PROC_ROOTCWD |
						    VIGIL_PROC_EXECVE, out, sizeof(out)), 20);
	assert_string_equal(out, "execve rootcwd clone");
	vigil_process_flags_format(0x7ff, out, sizeof(out));
	assert_string_equal(out, "execve procFS truncFilename truncArgs miss errorFilename "
				 "errorArgs errorCWD rootcwd clone unknown");
}

static void test_flags_format_drops_names_that_do_not_fit(void **ctx)
{
	char out[10];

	assert_int_equal(vigil_process_flags_format(VIGIL_PROC_EXECVE | VIGIL_PROC_CLONE, out,
						    sizeof(out)), 6);
	assert_string_equal(out, "execve");
	assert_int_equal(vigil_process_flags_format(0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_event_type_names_and_keys(void **ctx)
{
	assert_string_equal(vigil_event_type_name(VIGIL_EVENT_EXIT), "PROCESS_EXIT");
	assert_string_equal(vigil_event_type_key(VIGIL_EVENT_LSM), "process_lsm");
	assert_null(vigil_event_type_key(2));
}

static void test_event_type_parse_accepts_every_spelling(void **ctx)
{
	enum vigil_event_type t = 0;

	assert_int_equal(vigil_event_type_parse("exec", &t), 0);
	assert_int_equal(t, VIGIL_EVENT_EXEC);
	assert_int_equal(vigil_event_type_parse("process_kprobe", &t), 0);
	assert_int_equal(t, VIGIL_EVENT_KPROBE);
	assert_int_equal(vigil_event_type_parse("PROCESS_EXIT", &t), 0);
	assert_int_equal(t, VIGIL_EVENT_EXIT);
}

static void test_event_type_parse_rejects_unknown(void **ctx)
{
	enum vigil_event_type t = VIGIL_EVENT_EXEC;

	assert_int_equal(vigil_event_type_parse("process_fuzzy_future", &t), -EINVAL);
	assert_int_equal(vigil_event_type_parse("", &t), -EINVAL);
	assert_int_equal(vigil_event_type_parse(NULL, &t), -EINVAL);
	assert_int_equal(t, VIGIL_EVENT_EXEC);
}

static void test_action_names_are_tetragon_kprobe_actions(void **ctx)
{
	assert_string_equal(vigil_event_action_name(VIGIL_EVENT_ACTION_UNKNOWN), "KPROBE_ACTION_UNKNOWN");
	assert_string_equal(vigil_event_action_name(VIGIL_EVENT_ACTION_POST), "KPROBE_ACTION_POST");
	assert_string_equal(vigil_event_action_name(VIGIL_EVENT_ACTION_SIGKILL), "KPROBE_ACTION_SIGKILL");
	assert_string_equal(vigil_event_action_name(VIGIL_EVENT_ACTION_OVERRIDE), "KPROBE_ACTION_OVERRIDE");
	assert_string_equal(vigil_event_action_name(VIGIL_EVENT_ACTION_NOPOST), "KPROBE_ACTION_NOPOST");
	assert_string_equal(vigil_event_action_name(VIGIL_EVENT_ACTION_SIGNAL), "KPROBE_ACTION_SIGNAL");
	assert_string_equal(vigil_event_action_name(15), "KPROBE_ACTION_SET");
}

static void test_action_name_past_the_enum_is_null(void **ctx)
{
	assert_null(vigil_event_action_name(16));
	assert_null(vigil_event_action_name((enum vigil_event_action)-1));
}

/* ---- the tree, as JSON ---- */

static void test_exec_json_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_of(s, &s->exec), golden(s, "exec.json"));
}

static void test_exit_signal_json_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_of(s, &s->exit_signal), golden(s, "exit_signal.json"));
}

static void test_exit_status_json_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_of(s, &s->exit_status), golden(s, "exit_status.json"));
}

static void test_zero_refcnt_is_omitted(void **ctx)
{
	struct state *s = *ctx;

	s->child.refcnt = 0;
	s->exec.parent = NULL;
	assert_null(strstr(json_of(s, &s->exec), "refcnt"));
}

static void test_empty_arguments_are_omitted(void **ctx)
{
	struct state *s = *ctx;

	s->child.arguments = (char *)"";
	s->exec.parent = NULL;
	assert_null(strstr(json_of(s, &s->exec), "arguments"));
}

static void test_missing_parent_omits_parent_key(void **ctx)
{
	struct state *s = *ctx;

	s->exec.parent = NULL;
	assert_null(strstr(json_of(s, &s->exec), "\"parent\""));
	assert_null(vigil_msg__find(s->msg, "parent"));
}

static void test_minimal_process_keeps_only_wrapper_fields(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process p = { .pid = 7, .auid = 4294967295u, .exec_id = (char *)"",
				   .parent_exec_id = (char *)"", .binary = (char *)"",
				   .arguments = (char *)"", .cwd = (char *)"", .container_id = (char *)"" };
	struct vigil_event ev = { .type = VIGIL_EVENT_EXEC, .time = 0, .process = &p };

	assert_string_equal(json_of(s, &ev),
			    "{\"process_exec\":{\"process\":{\"pid\":7,\"uid\":0,\"auid\":4294967295,"
			    "\"process_credentials\":{\"uid\":0,\"gid\":0,\"euid\":0,\"egid\":0,"
			    "\"suid\":0,\"sgid\":0,\"fsuid\":0,\"fsgid\":0}}},"
			    "\"time\":\"1970-01-01T00:00:00Z\"}");
}

/* More sets of credentials and namespaces than the per-thread memo keeps (4 each), cycled:
 * each process renders as it did the first time, memo hit or miss */
static void test_memoised_members_render_as_written(void **ctx)
{
	struct state *s = *ctx;
	char first[6][2048];
	int round, i;

	s->exec.parent = NULL;
	for (round = 0; round < 3; round++)
		for (i = 0; i < 6; i++) {
			s->child.creds.euid = 1000u + (uint32_t)i;
			s->child.creds.fsgid = 2000u * (uint32_t)i;
			s->child.ns[VIGIL_NS_NET] = 4026531840u + (uint32_t)i;
			s->child.ns_host_mask = i % 2 ? 0 : ~0u;
			if (round == 0) {
				snprintf(first[i], sizeof(first[i]), "%s", json_of(s, &s->exec));
				assert_non_null(strstr(first[i], "\"fsgid\""));
			} else {
				assert_string_equal(json_of(s, &s->exec), first[i]);
			}
		}
}

/* Tetragon's docker: after auid, before parent_exec_id, the container id's first 31 characters */
static void test_container_id_is_docker_cut_to_31_characters(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process p = { .pid = 7, .auid = 4294967295u, .exec_id = (char *)"", .binary = (char *)"",
				   .arguments = (char *)"", .cwd = (char *)"",
				   .parent_exec_id = (char *)"cGFyZW50",
				   .container_id = (char *)"16ecce28d6808e01f6b91f990b07616c0fc8dff67036231f9911191c7ff3d1cd" };
	struct vigil_event ev = { .type = VIGIL_EVENT_EXEC, .time = 0, .process = &p };

	assert_non_null(strstr(json_of(s, &ev), "\"auid\":4294967295,\"docker\":\"16ecce28d6808e01f6b91f990b07616\","
						"\"parent_exec_id\":\"cGFyZW50\""));
}

/* Tetragon's pod object, after auid and before docker; compact names namespace/pod */
static void test_pod_is_written_as_tetragon_prints_it(void **ctx)
{
	static const struct vigil_pod_label labels[] = { {"app", "web"} };
	static const struct vigil_pod pod = {
		.runtime = "containerd", .container_id = "16ecce28d6808e01f6b91f990b07616c0fc8dff67036231f9911191c7ff3d1cd",
		.container_name = "web", .image_name = "docker.io/library/busybox:latest", .image_id = "sha256:abc",
		.start_time = 1666062981000000000ULL, .name = "web-6f87496b94-qdlh8", .namespace_ = "team-a", .uid = "u-1",
		.workload = "web", .workload_kind = "Deployment", .labels = labels, .nlabels = 1,
	};
	struct state *s = *ctx;
	struct vigil_process p = { .pid = 7, .auid = 4294967295u, .exec_id = (char *)"",
				   .parent_exec_id = (char *)"", .binary = (char *)"/bin/sh",
				   .arguments = (char *)"", .cwd = (char *)"",
				   .container_id = (char *)"16ecce28d6808e01f6b91f990b07616c0fc8dff67036231f9911191c7ff3d1cd" };
	struct vigil_event ev = { .type = VIGIL_EVENT_EXEC, .time = 0, .process = &p, .pod = &pod };

	assert_non_null(strstr(json_of(s, &ev),
			       "\"auid\":4294967295,\"pod\":{\"namespace\":\"team-a\",\"name\":\"web-6f87496b94-qdlh8\","
			       "\"uid\":\"u-1\",\"container\":{\"id\":\"containerd://16ecce28d6808e01f6b91f990b07616c0fc8dff"
			       "67036231f9911191c7ff3d1cd\",\"name\":\"web\",\"image\":{\"id\":\"sha256:abc\",\"name\":"
			       "\"docker.io/library/busybox:latest\"},\"start_time\":\"2022-10-18T03:16:21Z\"},"
			       "\"pod_labels\":{\"app\":\"web\"},\"workload\":\"web\",\"workload_kind\":\"Deployment\"},"
			       "\"docker\":\"16ecce28d6808e01f6b91f990b07616\""));
	assert_non_null(strstr(compact_of(s, &ev, false, false), " team-a/web-6f87496b94-qdlh8 /bin/sh"));
}

static void test_host_namespace_without_inode_keeps_is_host(void **ctx)
{
	struct state *s = *ctx;

	memset(s->child.ns, 0, sizeof(s->child.ns));
	s->child.ns_host_mask = 1u << VIGIL_NS_NET;
	s->exec.parent = NULL;
	assert_non_null(strstr(json_of(s, &s->exec), "\"ns\":{\"net\":{\"is_host\":true}},"));
}

static void test_unnamed_signal_is_omitted(void **ctx)
{
	struct state *s = *ctx;

	s->exit_signal.exit.signal = 40;	/* SIGRTMIN+6: no name in Go's table either */
	assert_null(strstr(json_of(s, &s->exit_signal), "\"signal\""));
}

static void test_encode_rejects_type_it_cannot_build(void **ctx)
{
	struct state *s = *ctx;

	s->exec.type = 2;	/* no such event type */
	assert_int_equal(vigil_buf_puts(&s->wire, "keep"), 0);
	assert_int_equal(vigil_encode_msgpack(&s->exec, &s->wire), -EINVAL);
	assert_int_equal(s->wire.len, 4);
	assert_string_equal(s->wire.data, "keep");
}

static void test_strings_are_msgpack_str(void **ctx)
{
	struct state *s = *ctx;
	const msgpack_object *o = vigil_msg__find(wire(s, &s->exec), "process.exec_id");

	assert_non_null(o);
	assert_int_equal(o->type, MSGPACK_OBJECT_STR);
	assert_int_equal(vigil_msg__find(s->msg, "process.pid")->type,
			 MSGPACK_OBJECT_POSITIVE_INTEGER);
}

/* ---- policy events, as JSON ---- */

static void test_kprobe_json_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_of(s, openat_event(s)), golden(s, "kprobe_openat.json"));
}

static void test_tracepoint_json_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_of(s, mkdirat_event(s)), golden(s, "tracepoint_mkdirat.json"));
}

static void test_lsm_json_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_of(s, bprm_event(s)), golden(s, "lsm_bprm.json"));
}

static void test_uprobe_json_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_of(s, readline_event(s)), golden(s, "uprobe_readline.json"));
}

static void test_policy_round_trip_repacks_to_identical_bytes(void **ctx)
{
	struct state *s = *ctx;
	struct mp m;

	wire(s, openat_event(s));
	mp_init(&m);
	msgpack_pack_object(&m.pk, *vigil_msg__root(s->msg));
	assert_int_equal(m.sb.size, s->wire.len);
	assert_memory_equal(m.sb.data, s->wire.data, s->wire.len);
	msgpack_sbuffer_destroy(&m.sb);
}

static void test_policy_event_types_decode_to_their_enum(void **ctx)
{
	struct state *s = *ctx;

	assert_int_equal(vigil_msg__type(wire(s, openat_event(s))), VIGIL_EVENT_KPROBE);
	assert_int_equal(vigil_msg__type(wire(s, mkdirat_event(s))), VIGIL_EVENT_TRACEPOINT);
	assert_int_equal(vigil_msg__type(wire(s, bprm_event(s))), VIGIL_EVENT_LSM);
	assert_int_equal(vigil_msg__type(wire(s, readline_event(s))), VIGIL_EVENT_UPROBE);
	assert_string_equal(vigil_msg__type_key(s->msg), "process_uprobe");
}

static void test_kprobe_without_args_tags_or_message_omits_them(void **ctx)
{
	struct state *s = *ctx;
	const char *json;

	kprobe_on(s, "security_file_open");
	s->ev.parent = NULL;
	json = json_of(s, &s->ev);
	assert_null(strstr(json, "\"args\""));
	assert_null(strstr(json, "\"tags\""));
	assert_null(strstr(json, "\"message\""));
	assert_null(strstr(json, "\"parent\""));
	assert_null(strstr(json, "\"monitored\""));
	assert_non_null(strstr(json, "},\"in_init_tree\":false},\"function_name\":\"security_file_open\","
				     "\"action\":\"KPROBE_ACTION_POST\",\"policy_name\":\"p\"},"));
}

static void test_kprobe_return_and_return_action_in_proto_order(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "security_file_open");
	s->ev.parent = NULL;
	s->ev.policy.has_return = true;
	s->ev.policy.ret.type = VIGIL_ARG_INT;
	s->ev.policy.ret.value = (uint64_t)-13;
	s->ev.policy.return_action = VIGIL_EVENT_ACTION_POST;
	assert_non_null(strstr(json_of(s, &s->ev),
			       "},\"in_init_tree\":false},\"function_name\":\"security_file_open\",\"return\":{\"int_arg\":-13},"
			       "\"action\":\"KPROBE_ACTION_POST\",\"policy_name\":\"p\","
			       "\"return_action\":\"KPROBE_ACTION_POST\"},"));
}

static void test_unknown_action_is_omitted(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	s->ev.policy.action = VIGIL_EVENT_ACTION_UNKNOWN;
	assert_null(strstr(json_of(s, &s->ev), "\"action\""));
}

static void test_monitored_flag_comes_last(void **ctx)
{
	struct state *s = *ctx;

	openat_event(s);
	s->ev.policy.action = VIGIL_EVENT_ACTION_SIGKILL;
	s->ev.policy.monitored = true;
	assert_non_null(strstr(json_of(s, &s->ev),
			       "\"action\":\"KPROBE_ACTION_SIGKILL\",\"policy_name\":\"sys-openat\","
			       "\"message\":\"sensitive file opened\","
			       "\"tags\":[\"observability.filesystem\",\"cis\"],\"monitored\":true},"
			       "\"node_name\""));
}

static void test_uprobe_keys_follow_proto_order(void **ctx)
{
	struct state *s = *ctx;

	readline_event(s);
	s->hook.message = "m";
	s->hook.tags = openat_tags;
	s->hook.ntags = 1;
	add_int(s, VIGIL_ARG_INT, 1);
	assert_non_null(strstr(json_of(s, &s->ev),
			       "\"path\":\"/bin/bash\",\"symbol\":\"readline\",\"policy_name\":\"example-uprobe\","
			       "\"message\":\"m\",\"args\":[{\"int_arg\":1}],"
			       "\"tags\":[\"observability.filesystem\"],\"action\":\"KPROBE_ACTION_POST\"}"));
}

static void test_lsm_keys_follow_proto_order(void **ctx)
{
	struct state *s = *ctx;

	bprm_event(s);
	s->hook.message = "m";
	s->hook.tags = openat_tags + 1;
	s->hook.ntags = 1;
	assert_non_null(strstr(json_of(s, &s->ev),
			       "\"function_name\":\"bprm_check_security\","
			       "\"policy_name\":\"file-integrity-monitoring\",\"message\":\"m\",\"args\":["));
	assert_non_null(strstr(s->out.data, "}],\"action\":\"KPROBE_ACTION_POST\",\"tags\":[\"cis\"]}"));
}

static void test_tracepoint_message_follows_action(void **ctx)
{
	struct state *s = *ctx;

	mkdirat_event(s);
	s->hook.message = "m";
	assert_non_null(strstr(json_of(s, &s->ev),
			       "\"policy_name\":\"mkdir-watch\",\"action\":\"KPROBE_ACTION_POST\",\"message\":\"m\"}"));
}

static void test_encode_rejects_policy_event_without_hook(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f")->policy.hook = NULL;
	assert_int_equal(vigil_encode_msgpack(&s->ev, &s->wire), -EINVAL);
	assert_int_equal(s->wire.len, 0);
}

static void test_encode_rejects_too_many_args(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f")->policy.nargs = VIGIL_EVENT_MAX_ARGS + 1;
	assert_int_equal(vigil_encode_msgpack(&s->ev, &s->wire), -EINVAL);
}

/* ---- each argument type's JSON ---- */

static void test_int_args_are_int_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_INT, -2147483648LL);
	add_int(s, VIGIL_ARG_SINT8, -1);
	add_int(s, VIGIL_ARG_SINT16, 300);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"int_arg\":-2147483648},{\"int_arg\":-1},{\"int_arg\":300}]");
}

static void test_uint_args_are_uint_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_UINT8, 255);
	add_int(s, VIGIL_ARG_UINT16, 0);
	add_int(s, VIGIL_ARG_UINT32, 4294967295LL);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"uint_arg\":255},{\"uint_arg\":0},{\"uint_arg\":4294967295}]");
}

static void test_64_bit_args_are_decimal_strings(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_LONG, INT64_MIN);
	add_int(s, VIGIL_ARG_ULONG, -1);
	add_int(s, VIGIL_ARG_SIZE_T, 4096);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"long_arg\":\"-9223372036854775808\"},"
			    "{\"size_arg\":\"18446744073709551615\"},{\"size_arg\":\"4096\"}]");
	assert_int_equal(vigil_msg__find(s->msg, "args.2.size_arg")->type, MSGPACK_OBJECT_STR);
}

static void test_string_types_are_string_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_text(s, VIGIL_ARG_STRING, "a\"b");
	add_text(s, VIGIL_ARG_FILENAME, "/tmp/f");
	add_text(s, VIGIL_ARG_DATA_LOC, "");
	add_arg(s, VIGIL_ARG_STRING);		/* no bytes at all */
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"string_arg\":\"a\\\"b\"},{\"string_arg\":\"/tmp/f\"},"
			    "{\"string_arg\":\"\"},{\"string_arg\":\"\"}]");
}

static void test_string_arg_keeps_embedded_nul_bytes(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "f");
	a = add_arg(s, VIGIL_ARG_STRING);
	a->bytes = "a\0b";
	a->len = 3;
	assert_string_equal(arg_json(s, &s->ev), "{\"string_arg\":\"a\\u0000b\"}");
}

static void test_char_buf_is_base64_text_in_the_tree(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "f");
	a = add_arg(s, VIGIL_ARG_CHAR_BUF);
	a->bytes = "\x00\xfb\xff" "a";
	a->len = 4;
	assert_string_equal(arg_json(s, &s->ev), "{\"bytes_arg\":\"APv/YQ==\"}");
	assert_int_equal(vigil_msg__find(s->msg, "args.0.bytes_arg")->type, MSGPACK_OBJECT_STR);
}

static void test_char_iovec_empty_is_empty_bytes_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_arg(s, VIGIL_ARG_CHAR_IOVEC);
	assert_string_equal(arg_json(s, &s->ev), "{\"bytes_arg\":\"\"}");
}

static void test_long_char_buf_base64_crosses_pieces(void **ctx)
{
	struct state *s = *ctx;
	static char buf[600];
	struct vigil_event_arg *a;
	const char *json;
	size_t i;

	memset(buf, 0xff, sizeof(buf));	/* 600 bytes: 800 characters of '/' */
	kprobe_on(s, "f");
	a = add_arg(s, VIGIL_ARG_CHAR_BUF);
	a->bytes = buf;
	a->len = sizeof(buf);
	json = arg_json(s, &s->ev);
	assert_int_equal(strlen(json), strlen("{\"bytes_arg\":\"\"}") + 800);
	for (i = 0; i < 800; i++)
		assert_int_equal(json[14 + i], '/');
}

static void test_truncated_char_buf_is_truncated_bytes_arg(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "f");
	a = add_arg(s, VIGIL_ARG_CHAR_BUF);
	a->bytes = "hello";
	a->len = 5;
	a->flags = VIGIL_ARG_TRUNCATED;
	a->label = "buf";
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"truncated_bytes_arg\":{\"bytes_arg\":\"aGVsbG8=\",\"orig_size\":\"5\"},"
			    "\"label\":\"buf\"}");
}

static void test_file_types_are_file_arg_with_permission(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_file(s, VIGIL_ARG_FILE, "/etc/passwd", 0100644);
	add_file(s, VIGIL_ARG_FD, "/dev/null", 0020666);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"file_arg\":{\"path\":\"/etc/passwd\",\"permission\":\"-rw-r--r--\"}},"
			    "{\"file_arg\":{\"path\":\"/dev/null\",\"permission\":\"crw-rw-rw-\"}}]");
}

static void test_path_types_are_path_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_file(s, VIGIL_ARG_PATH, "/tmp", 041777);
	add_file(s, VIGIL_ARG_DENTRY, "lib", 0120777);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"path_arg\":{\"path\":\"/tmp\",\"permission\":\"drwxrwxrwt\"}},"
			    "{\"path_arg\":{\"path\":\"lib\",\"permission\":\"lrwxrwxrwx\"}}]");
}

static void test_permission_marks_setuid_setgid_and_sticky_like_ls(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_file(s, VIGIL_ARG_FILE, "/usr/bin/passwd", 0104755);
	add_file(s, VIGIL_ARG_FILE, "/x", 0107644);		/* all three, no execute bits */
	add_file(s, VIGIL_ARG_FILE, "/run/s", 0140700);
	add_file(s, VIGIL_ARG_FILE, "/q", 0010600);
	add_file(s, VIGIL_ARG_FILE, "/b", 0060660);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"file_arg\":{\"path\":\"/usr/bin/passwd\",\"permission\":\"-rwsr-xr-x\"}},"
			    "{\"file_arg\":{\"path\":\"/x\",\"permission\":\"-rwSr-Sr-T\"}},"
			    "{\"file_arg\":{\"path\":\"/run/s\",\"permission\":\"srwx------\"}},"
			    "{\"file_arg\":{\"path\":\"/q\",\"permission\":\"prw-------\"}},"
			    "{\"file_arg\":{\"path\":\"/b\",\"permission\":\"brw-rw----\"}}]");
}

/* Tetragon's FilePathModeToStr writes no type letter for a mode without a file type, and
 * vigil leaves a zero mode out. */
static void test_permission_without_type_or_mode(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_file(s, VIGIL_ARG_FILE, "/a", 0755);
	add_file(s, VIGIL_ARG_FILE, "/b", 0);
	add_file(s, VIGIL_ARG_FILE, "", 0);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"file_arg\":{\"path\":\"/a\",\"permission\":\"rwxr-xr-x\"}},"
			    "{\"file_arg\":{\"path\":\"/b\"}},{\"file_arg\":{}}]");
}

static void test_truncated_path_is_flagged_unresolved(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_file(s, VIGIL_ARG_PATH, "a/b/c", 040755);
	s->ev.policy.args[0].flags = VIGIL_ARG_TRUNCATED;
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"path_arg\":{\"path\":\"a/b/c\",\"flags\":\"unresolvedPathComponents\","
			    "\"permission\":\"drwxr-xr-x\"}}");
}

static void test_linux_binprm_is_linux_binprm_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_file(s, VIGIL_ARG_LINUX_BINPRM, "/usr/bin/ls", 0100755);
	s->hook.args[0].label = "bprm";
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"linux_binprm_arg\":{\"path\":\"/usr/bin/ls\",\"permission\":\"-rwxr-xr-x\"},"
			    "\"label\":\"bprm\"}");
}

static void test_sock_ipv4_is_sock_arg(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "tcp_connect");
	a = add_arg(s, VIGIL_ARG_SOCK);
	a->sock = (struct vigil_sock_info){
		.family = 2, .type = 1, .protocol = 6, .state = 2, .mark = 7, .priority = 6,
		.saddr = { 10, 0, 0, 1 }, .daddr = { 93, 184, 216, 34 }, .sport = 43210,
		.dport = 443, .cookie = 18446623,
	};
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"sock_arg\":{\"family\":\"AF_INET\",\"type\":\"SOCK_STREAM\","
			    "\"protocol\":\"IPPROTO_TCP\",\"mark\":7,\"priority\":6,"
			    "\"saddr\":\"10.0.0.1\",\"daddr\":\"93.184.216.34\",\"sport\":43210,"
			    "\"dport\":443,\"cookie\":\"18446623\",\"state\":\"TCP_SYN_SENT\"}}");
}

static void test_sock_ipv6_uses_standard_text_form(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "tcp_connect");
	a = add_arg(s, VIGIL_ARG_SOCK);
	a->sock = (struct vigil_sock_info){
		.family = 10, .type = 2, .protocol = 17, .state = 7,
		.saddr = { [15] = 1 },
		.daddr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x42 },
		.dport = 53,
	};
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"sock_arg\":{\"family\":\"AF_INET6\",\"type\":\"SOCK_DGRAM\","
			    "\"protocol\":\"IPPROTO_UDP\",\"saddr\":\"::1\",\"daddr\":\"2001:db8::42\","
			    "\"dport\":53,\"state\":\"TCP_CLOSE\"}}");
}

static void test_sock_unknown_numbers_are_decimal_and_zeros_omitted(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "f");
	a = add_arg(s, VIGIL_ARG_SOCK);
	a->sock = (struct vigil_sock_info){ .family = 22, .type = 9, .protocol = 200, .state = 99 };
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"sock_arg\":{\"family\":\"22\",\"type\":\"9\",\"protocol\":\"200\","
			    "\"state\":\"99\"}}");
	s->ev.policy.args[0].sock = (struct vigil_sock_info){ 0 };
	assert_string_equal(arg_json(s, &s->ev), "{\"sock_arg\":{}}");
}

static void test_sock_unbound_ipv4_keeps_zero_addresses(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_arg(s, VIGIL_ARG_SOCK)->sock = (struct vigil_sock_info){ .family = 2, .protocol = 255 };
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"sock_arg\":{\"family\":\"AF_INET\",\"protocol\":\"IPPROTO_RAW\","
			    "\"saddr\":\"0.0.0.0\",\"daddr\":\"0.0.0.0\"}}");
}

/* skb_arg in tetragon.proto's KprobeSkb order: proto the number, protocol its name */
static void test_skb_is_skb_arg(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "ip_output");
	a = add_arg(s, VIGIL_ARG_SKB);
	a->sock = (struct vigil_sock_info){
		.family = 2, .protocol = 17, .mark = 5, .priority = 4,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 53 }, .sport = 40000, .dport = 53,
	};
	a->skb = (struct vigil_skb_info){ .hash = 99, .len = 70, .secpath_len = 1, .secpath_olen = 2 };
	s->hook.args[0].label = "datagram";
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"skb_arg\":{\"hash\":99,\"len\":70,\"priority\":4,\"mark\":5,"
			    "\"saddr\":\"127.0.0.1\",\"daddr\":\"127.0.0.53\",\"sport\":40000,\"dport\":53,"
			    "\"proto\":17,\"sec_path_len\":1,\"sec_path_olen\":2,\"protocol\":\"IPPROTO_UDP\","
			    "\"family\":\"AF_INET\"},\"label\":\"datagram\"}");
}

/* a packet that is not IP (ARP): no family, so no addresses */
static void test_skb_not_ip_has_no_addresses(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "dev_queue_xmit");
	add_arg(s, VIGIL_ARG_SKB)->skb = (struct vigil_skb_info){ .len = 42 };
	assert_string_equal(arg_json(s, &s->ev), "{\"skb_arg\":{\"len\":42}}");
}

static void test_net_device_is_net_dev_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "dev_hard_start_xmit");
	add_text(s, VIGIL_ARG_NET_DEVICE, "lo");
	assert_string_equal(arg_json(s, &s->ev), "{\"net_dev_arg\":{\"name\":\"lo\"}}");
}

/* a sock returnArg (inet_csk_accept) is the return's sock_arg */
static void test_returned_sock_is_return_sock_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "inet_csk_accept");
	s->ev.parent = NULL;
	s->ev.policy.has_return = true;
	s->ev.policy.ret.type = VIGIL_ARG_SOCK;
	s->ev.policy.ret.sock = (struct vigil_sock_info){
		.family = 2, .type = 1, .protocol = 6, .state = 1,
		.saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 }, .sport = 8331, .dport = 50000,
	};
	s->ev.policy.return_action = VIGIL_EVENT_ACTION_POST;
	assert_non_null(strstr(json_of(s, &s->ev),
			       "\"function_name\":\"inet_csk_accept\",\"return\":{\"sock_arg\":{\"family\":\"AF_INET\","
			       "\"type\":\"SOCK_STREAM\",\"protocol\":\"IPPROTO_TCP\",\"saddr\":\"127.0.0.1\","
			       "\"daddr\":\"127.0.0.1\",\"sport\":8331,\"dport\":50000,\"state\":\"TCP_ESTABLISHED\"}},"));
}

static void test_sockaddr_is_sockaddr_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_arg(s, VIGIL_ARG_SOCKADDR)->sockaddr = (struct vigil_sockaddr_info){
		.family = 2, .port = 8080, .addr = { 1, 2, 3, 4 },
	};
	add_arg(s, VIGIL_ARG_SOCKADDR)->sockaddr = (struct vigil_sockaddr_info){
		.family = 10, .addr = { 0xfe, 0x80, [15] = 1 },
	};
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"sockaddr_arg\":{\"family\":\"AF_INET\",\"addr\":\"1.2.3.4\",\"port\":8080}},"
			    "{\"sockaddr_arg\":{\"family\":\"AF_INET6\",\"addr\":\"fe80::1\"}}]");
}

static void test_sockaddr_unix_is_sockaddrun_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_arg(s, VIGIL_ARG_SOCKADDR)->sockaddr = (struct vigil_sockaddr_info){
		.family = 1, .path = "@/tmp/.X11-unix/X0",
	};
	add_arg(s, VIGIL_ARG_SOCKADDR)->sockaddr = (struct vigil_sockaddr_info){ .family = 1 };
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"sockaddrun_arg\":{\"family\":\"AF_UNIX\",\"path\":\"@/tmp/.X11-unix/X0\"}},"
			    "{\"sockaddrun_arg\":{\"family\":\"AF_UNIX\"}}]");
}

static void test_cred_is_process_credentials_arg(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "commit_creds");
	a = add_arg(s, VIGIL_ARG_CRED);
	a->creds = (struct vigil_creds){ 0, 1, 2, 3, 4, 5, 6, 7 };
	a->cred_caps.effective = CAP(21);
	a->cred_caps.permitted = CAP(21) | CAP(0);
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"process_credentials_arg\":{\"uid\":0,\"gid\":1,\"euid\":2,\"egid\":3,"
			    "\"suid\":4,\"sgid\":5,\"fsuid\":6,\"fsgid\":7,"
			    "\"caps\":{\"permitted\":[\"CAP_CHOWN\",\"CAP_SYS_ADMIN\"],"
			    "\"effective\":[\"CAP_SYS_ADMIN\"]}}}");
	a->cred_caps = (struct vigil_caps){ 0 };
	assert_null(strstr(arg_json(s, &s->ev), "caps"));
}

static void test_capability_is_capability_arg(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "cap_capable");
	add_int(s, VIGIL_ARG_CAPABILITY, 21);
	add_int(s, VIGIL_ARG_CAPABILITY, 0);
	add_int(s, VIGIL_ARG_CAPABILITY, 63);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"capability_arg\":{\"value\":21,\"name\":\"CAP_SYS_ADMIN\"}},"
			    "{\"capability_arg\":{\"value\":0,\"name\":\"CAP_CHOWN\"}},"
			    "{\"capability_arg\":{\"value\":63}}]");
}

/* The kernel object types: Tetragon's capitalised members, enum names (a number without
 * one in decimal), scalars at zero left out, 64-bit values as strings. */
static void test_bpf_objects_are_bpf_attr_prog_and_map_args(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "bpf_check");
	a = add_arg(s, VIGIL_ARG_BPF_ATTR);
	a->kobj = (struct vigil_kobj_info){ .type = 1, .insn_cnt = 2, .name = "vg_prog", .name_len = 7 };
	a = add_arg(s, VIGIL_ARG_BPF_PROG);
	a->kobj = (struct vigil_kobj_info){ .type = 99 };
	a = add_arg(s, VIGIL_ARG_BPF_MAP);
	a->kobj = (struct vigil_kobj_info){ .type = 2, .key_size = 4, .value_size = 8, .max_entries = 2,
					    .name = "vg_mapXX", .name_len = 6 };
	add_int(s, VIGIL_ARG_BPF_CMD, 5);
	add_int(s, VIGIL_ARG_BPF_CMD, 400);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"bpf_attr_arg\":{\"ProgType\":\"BPF_PROG_TYPE_SOCKET_FILTER\",\"InsnCnt\":2,"
			    "\"ProgName\":\"vg_prog\"}},"
			    "{\"bpf_prog_arg\":{\"ProgType\":\"99\"}},"
			    "{\"bpf_map_arg\":{\"MapType\":\"BPF_MAP_TYPE_ARRAY\",\"KeySize\":4,\"ValueSize\":8,"
			    "\"MaxEntries\":2,\"MapName\":\"vg_map\"}},"
			    "{\"bpf_cmd_arg\":\"BPF_PROG_LOAD\"},{\"bpf_cmd_arg\":400}]");
}

static void test_perf_event_user_ns_and_module_args(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "f");
	a = add_arg(s, VIGIL_ARG_PERF_EVENT);
	a->kobj = (struct vigil_kobj_info){ .type = 6, .config = 1ull << 40, .name = "vfs_read", .name_len = 8 };
	a = add_arg(s, VIGIL_ARG_USER_NAMESPACE);
	a->kobj = (struct vigil_kobj_info){ .level = 0, .inum = 4026531837u };
	a = add_arg(s, VIGIL_ARG_USER_NAMESPACE);
	a->kobj = (struct vigil_kobj_info){ .level = 1, .uid = 1000, .gid = 1000, .inum = 4026532000u };
	a = add_arg(s, VIGIL_ARG_LOAD_INFO);
	a->kobj = (struct vigil_kobj_info){ .sig_ok = 1, .taints = 4096 | 8192 | 8, .name = "crc7", .name_len = 4 };
	a = add_arg(s, VIGIL_ARG_MODULE);
	a->kobj = (struct vigil_kobj_info){ .sig_ok = -1, .name = "crc7", .name_len = 4 };
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"perf_event_arg\":{\"KprobeFunc\":\"vfs_read\",\"Type\":\"PERF_TYPE_MAX\","
			    "\"Config\":\"1099511627776\"}},"
			    "{\"user_ns_arg\":{\"level\":0,\"uid\":0,\"gid\":0,\"ns\":{\"inum\":4026531837,"
			    "\"is_host\":true}}},"
			    "{\"user_ns_arg\":{\"level\":1,\"uid\":1000,\"gid\":1000,\"ns\":{\"inum\":4026532000}}},"
			    "{\"module_arg\":{\"name\":\"crc7\",\"signature_ok\":true,"
			    "\"tainted\":[\"TAINT_OUT_OF_TREE_MODULE\",\"TAINT_UNSIGNED_MODULE\"]}},"
			    "{\"module_arg\":{\"name\":\"crc7\"}}]");
}

/* kiocb is its file; iov_iter, char_iovec and const_buf are bytes; sockaddr_un is
 * sockaddrun_arg whatever the family it holds */
static void test_kiocb_buffers_and_sockaddr_un(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "f");
	add_file(s, VIGIL_ARG_KIOCB, "/dev/ttyS0", 020620);
	a = add_arg(s, VIGIL_ARG_IOV_ITER);
	a->bytes = "hi";
	a->len = 2;
	a = add_arg(s, VIGIL_ARG_CONST_BUF);
	a->bytes = "abc";
	a->len = 3;
	a->flags = VIGIL_ARG_TRUNCATED;
	a = add_arg(s, VIGIL_ARG_SOCKADDR_UN);
	a->sockaddr = (struct vigil_sockaddr_info){ .family = AF_UNIX, .path = "@abstract" };
	a = add_arg(s, VIGIL_ARG_SOCKADDR_UN);
	a->sockaddr = (struct vigil_sockaddr_info){ .family = AF_INET, .path = "" };
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"file_arg\":{\"path\":\"/dev/ttyS0\",\"permission\":\"crw--w----\"}},"
			    "{\"bytes_arg\":\"aGk=\"},"
			    "{\"truncated_bytes_arg\":{\"bytes_arg\":\"YWJj\",\"orig_size\":\"3\"}},"
			    "{\"sockaddrun_arg\":{\"family\":\"AF_UNIX\",\"path\":\"@abstract\"}},"
			    "{\"sockaddrun_arg\":{\"family\":\"AF_INET\"}}]");
}

static void test_kernel_cap_t_is_hex_like_tetragon(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_KERNEL_CAP_T, (int64_t)(CAP(21) | CAP(0)));
	assert_string_equal(arg_json(s, &s->ev), "{\"kernel_cap_t_arg\":\"0000000000200001\"}");
}

static const char *name_of_1000(void *ctx, const struct vigil_process *p)
{
	return p->creds.uid == 1000 ? "alice" : NULL;
}

static void test_ancestors_follow_the_parent_nearest_first(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process grand = s->parent, great = s->parent;
	const struct vigil_process *anc[] = { &grand, &great };

	grand.pid = 600;
	great.pid = 1;
	s->exec.ancestors = anc;
	s->exec.nancestors = 2;
	assert_string_equal(json_at(s, &s->exec, "ancestors.0.pid"), "600");
	assert_string_equal(json_at(s, &s->exec, "ancestors.1.pid"), "1");
	/* ProcessExec field 3: after the parent */
	assert_non_null(strstr(json_of(s, &s->exec), "}},\"ancestors\":[{\"exec_id\""));
	s->exec.nancestors = 0;
	assert_null(strstr(json_of(s, &s->exec), "ancestors"));
}

static void test_user_name_only_where_the_resolver_has_one(void **ctx)
{
	struct state *s = *ctx;

	s->exec.user_name = name_of_1000;
	assert_string_equal(json_at(s, &s->exec, "parent.user"), "{\"name\":\"alice\"}");
	s->exec.user_name = NULL;
	assert_null(strstr(json_of(s, &s->exec), "\"user\":{\"name\""));
}

static void test_binary_properties_of_a_setuid_exec_and_an_unlinked_binary(void **ctx)
{
	struct state *s = *ctx;

	s->child.file = (struct vigil_file_id){ .dev = 8, .uid = 0, .ino = 99, .mode = 0104755, .nlink = 1 };
	s->child.creds.uid = 1000;
	s->child.creds.euid = 0;
	s->exec.binary_properties = true;
	assert_string_equal(json_at(s, &s->exec, "process.binary_properties"),
			    "{\"setuid\":0,\"privileges_changed\":[\"PRIVILEGES_RAISED_EXEC_FILE_SETUID\"]}");
	assert_null(vigil_msg__find(wire(s, &s->exec), "parent.binary_properties"));
	s->child.file.mode = 0100755;
	s->child.file.nlink = 0;
	assert_string_equal(json_at(s, &s->exec, "process.binary_properties"),
			    "{\"file\":{\"inode\":{\"number\":\"99\",\"links\":0}}}");
	s->exec.binary_properties = false;
	assert_null(vigil_msg__find(wire(s, &s->exec), "process.binary_properties"));
	/* an exec that changed nothing has none */
	s->exec.binary_properties = true;
	s->child.file.nlink = 1;
	assert_null(vigil_msg__find(wire(s, &s->exec), "process.binary_properties"));
}

static void test_cap_sets_have_their_own_keys(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_CAP_INHERITABLE, (int64_t)CAP(1));
	add_int(s, VIGIL_ARG_CAP_PERMITTED, (int64_t)CAP(2));
	add_int(s, VIGIL_ARG_CAP_EFFECTIVE, (int64_t)CAP(3));
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"cap_inheritable_arg\":\"0000000000000002\"},"
			    "{\"cap_permitted_arg\":\"0000000000000004\"},"
			    "{\"cap_effective_arg\":\"0000000000000008\"}]");
}

/* The JSON list of the names of mask's bits, in bit order. */
static void cap_names_json(uint64_t mask, char *out, size_t size)
{
	size_t n = 0;
	unsigned int bit;

	n += (size_t)snprintf(out + n, size - n, "[");
	for (bit = 0; bit < 41; bit++)
		if (mask & CAP(bit))
			n += (size_t)snprintf(out + n, size - n, "%s\"%s\"", n > 1 ? "," : "", vigil_cap_name(bit));
	snprintf(out + n, size - n, "]");
}

/* Lists are copied a run of consecutive bits at a time (tree.c): a whole set, runs at both
 * ends, lone bits and bits past the named ones all list exactly their names. */
static void test_cap_lists_name_every_bit_in_order(void **ctx)
{
	static const uint64_t masks[] = { (1ULL << 41) - 1, CAP(0) | CAP(1) | CAP(2) | CAP(21) | CAP(39) | CAP(40),
					  CAP(40), CAP(5) | CAP(7) | CAP(9), ~0ULL, ((1ULL << 41) - 1) & ~CAP(21) };
	struct state *s = *ctx;
	char want[2048];
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(masks); i++) {
		s->child.caps.permitted = masks[i];
		s->child.caps.effective = masks[(i + 1) % VIGIL_ARRAY_SIZE(masks)];
		cap_names_json(masks[i], want, sizeof(want));
		assert_string_equal(json_at(s, &s->exec, "process.cap.permitted"), want);
		cap_names_json(masks[(i + 1) % VIGIL_ARRAY_SIZE(masks)], want, sizeof(want));
		assert_string_equal(json_at(s, &s->exec, "process.cap.effective"), want);
	}
}

/* The ns member is kept per thread by value (tree.c): processes of other namespaces, taking
 * turns past the memo's four sets, each get their own. */
static void test_ns_of_many_processes_each_their_own(void **ctx)
{
	struct state *s = *ctx;
	uint64_t inum;
	uint32_t k;
	int round;

	for (round = 0; round < 3; round++) {
		for (k = 0; k < 6; k++) {
			s->child.ns[VIGIL_NS_MNT] = 4026532000u + k;
			s->child.ns_host_mask = k % 2 ? 0 : 1u << VIGIL_NS_UTS;
			wire(s, &s->exec);
			assert_int_equal(vigil_msg__find_u64(s->msg, "process.ns.mnt.inum", &inum), 0);
			assert_int_equal(inum, 4026532000u + k);
			if (k % 2)
				assert_null(vigil_msg__find(s->msg, "process.ns.uts.is_host"));
			else
				assert_non_null(vigil_msg__find(s->msg, "process.ns.uts.is_host"));
		}
	}
}

static void test_syscall64_is_syscall_id_with_abi(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_SYSCALL64, 257);
	add_int(s, VIGIL_ARG_SYSCALL64, 0x80000000LL | 5);
	add_int(s, VIGIL_ARG_SYSCALL64, 0);
	assert_string_equal(json_at(s, &s->ev, "args"),
			    "[{\"syscall_id\":{\"id\":257,\"abi\":\"x64\"}},"
			    "{\"syscall_id\":{\"id\":5,\"abi\":\"i386\"}},"
			    "{\"syscall_id\":{\"abi\":\"x64\"}}]");
}

static void test_unreadable_arg_is_error_arg_with_label(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_text(s, VIGIL_ARG_STRING, "partial");
	s->ev.policy.args[0].flags = VIGIL_ARG_ERROR;
	s->hook.args[0].label = "name";
	assert_string_equal(arg_json(s, &s->ev),
			    "{\"error_arg\":{\"Message\":\"could not read argument\"},\"label\":\"name\"}");
}

static void test_data_entries_go_to_data_not_args(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_INT, 1);
	add_text(s, VIGIL_ARG_STRING, "comm");
	s->hook.args[1].data = true;
	s->hook.args[1].label = "owner";
	add_int(s, VIGIL_ARG_UINT32, 7);
	s->hook.args[2].data = true;
	assert_string_equal(json_at(s, &s->ev, "args"), "[{\"int_arg\":1}]");
	assert_string_equal(json_at(s, &s->ev, "data"),
			    "[{\"string_arg\":\"comm\",\"label\":\"owner\"},{\"uint_arg\":7}]");
	/* ProcessKprobe field 14: after tags, the last field vigil writes before its own */
	assert_non_null(strstr(json_of(s, &s->ev), "\"data\":[{\"string_arg\":\"comm\""));
}

static void test_only_data_entries_omit_args(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_INT, 3);
	s->hook.args[0].data = true;
	assert_null(strstr(json_of(s, &s->ev), "\"args\""));
	assert_string_equal(json_at(s, &s->ev, "data"), "[{\"int_arg\":3}]");
}

static void test_args_without_spelling_are_skipped(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_NOP, 1);
	add_int(s, VIGIL_ARG_AUTO, 1);
	add_int(s, VIGIL_ARG_TYPE_COUNT, 1);
	add_int(s, -1, 1);
	add_int(s, VIGIL_ARG_INT, 9);
	assert_string_equal(json_at(s, &s->ev, "args"), "[{\"int_arg\":9}]");
}

static void test_only_skipped_args_omit_the_array(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_NOP, 1);
	assert_null(strstr(json_of(s, &s->ev), "\"args\""));
}

static void test_event_label_wins_over_hook_label(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_INT, 1);
	s->hook.args[0].label = "hook";
	s->ev.policy.args[0].label = "event";
	assert_string_equal(arg_json(s, &s->ev), "{\"int_arg\":1,\"label\":\"event\"}");
	s->ev.policy.args[0].label = "";
	assert_string_equal(arg_json(s, &s->ev), "{\"int_arg\":1}");
}

static void test_labels_follow_args_past_skipped_ones(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "f");
	add_int(s, VIGIL_ARG_NOP, 0);
	add_int(s, VIGIL_ARG_UINT32, 2);
	s->hook.args[1].label = "second";
	assert_string_equal(json_at(s, &s->ev, "args"), "[{\"uint_arg\":2,\"label\":\"second\"}]");
}

/* ---- decode, round trip, lookups ---- */

static void test_round_trip_repacks_to_identical_bytes(void **ctx)
{
	struct state *s = *ctx;
	struct mp m;

	wire(s, &s->exec);
	mp_init(&m);
	msgpack_pack_object(&m.pk, *vigil_msg__root(s->msg));
	assert_int_equal(m.sb.size, s->wire.len);
	assert_memory_equal(m.sb.data, s->wire.data, s->wire.len);
	msgpack_sbuffer_destroy(&m.sb);
}

static void test_round_trip_json_equals_golden(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_msg *again;

	/* the bytes are ours alone: decode from a copy that is wiped afterwards */
	wire(s, &s->exit_signal);
	again = vigil_msg__decode(s->wire.data, s->wire.len);
	assert_non_null(again);
	memset(s->wire.data, 0, s->wire.len);
	assert_int_equal(vigil_msg__to_json(again, &s->out), 0);
	vigil_msg__free(again);
	assert_string_equal(s->out.data, golden(s, "exit_signal.json"));
}

static void test_decode_reports_type_key_and_body(void **ctx)
{
	struct state *s = *ctx;

	wire(s, &s->exit_status);
	assert_int_equal(vigil_msg__type(s->msg), VIGIL_EVENT_EXIT);
	assert_string_equal(vigil_msg__type_key(s->msg), "process_exit");
	assert_int_equal(vigil_msg__body(s->msg)->type, MSGPACK_OBJECT_MAP);
}

static void test_find_process_binary(void **ctx)
{
	struct state *s = *ctx;
	const msgpack_object *o = vigil_msg__find(wire(s, &s->exec), "process.binary");

	assert_non_null(o);
	assert_int_equal(o->type, MSGPACK_OBJECT_STR);
	assert_int_equal(o->via.str.size, strlen("/usr/bin/curl"));
	assert_memory_equal(o->via.str.ptr, "/usr/bin/curl", o->via.str.size);
}

static void test_find_parent_pid(void **ctx)
{
	struct state *s = *ctx;
	uint64_t pid = 0;

	wire(s, &s->exec);
	assert_int_equal(vigil_msg__find_u64(s->msg, "parent.pid", &pid), 0);
	assert_int_equal(pid, 68635);
}

static void test_find_root_node_name(void **ctx)
{
	struct state *s = *ctx;
	char node[16];

	wire(s, &s->exec);
	assert_int_equal(vigil_msg__find_str(s->msg, "/node_name", node, sizeof(node)), 7);
	assert_string_equal(node, "my-node");
	/* without the slash the path is under the body, which has no node_name */
	assert_null(vigil_msg__find(s->msg, "node_name"));
}

static void test_find_array_element_by_index(void **ctx)
{
	struct state *s = *ctx;
	char cap[32];

	wire(s, &s->exec);
	assert_int_equal(vigil_msg__find_str(s->msg, "process.cap.effective.3", cap, sizeof(cap)), 13);
	assert_string_equal(cap, "CAP_SYS_ADMIN");
	assert_null(vigil_msg__find(s->msg, "process.cap.effective.4"));
	assert_null(vigil_msg__find(s->msg, "process.cap.effective.x"));
}

static void test_find_absent_or_malformed_path_is_null(void **ctx)
{
	struct state *s = *ctx;

	wire(s, &s->exec);
	assert_null(vigil_msg__find(s->msg, "process.nope"));
	assert_null(vigil_msg__find(s->msg, "process..pid"));
	assert_null(vigil_msg__find(s->msg, "process."));
	assert_null(vigil_msg__find(s->msg, ""));
	assert_null(vigil_msg__find(s->msg, "process.pid.deeper"));
	assert_null(vigil_msg__find(NULL, "process"));
}

static void test_find_str_truncates_and_returns_full_length(void **ctx)
{
	struct state *s = *ctx;
	char small[5];

	wire(s, &s->exec);
	assert_int_equal(vigil_msg__find_str(s->msg, "process.binary", small, sizeof(small)), 13);
	assert_string_equal(small, "/usr");
	assert_int_equal(vigil_msg__find_str(s->msg, "process.pid", small, sizeof(small)), -ENOENT);
	assert_int_equal(vigil_msg__find_str(s->msg, "process.gone", small, sizeof(small)), -ENOENT);
}

static void test_find_u64_reads_decimal_strings(void **ctx)
{
	struct vigil_msg *msg;
	uint64_t v = 0;
	struct mp m;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "process_kprobe");
	msgpack_pack_map(&m.pk, 3);
	mp_str(&m, "size");
	mp_str(&m, "18446744073709551615");
	mp_str(&m, "over");
	mp_str(&m, "18446744073709551616");
	mp_str(&m, "neg");
	msgpack_pack_int64(&m.pk, -1);
	msg = vigil_msg__decode(m.sb.data, m.sb.size);
	assert_non_null(msg);
	assert_int_equal(vigil_msg__find_u64(msg, "size", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(vigil_msg__find_u64(msg, "over", &v), -ENOENT);
	assert_int_equal(vigil_msg__find_u64(msg, "neg", &v), -ENOENT);
	vigil_msg__free(msg);
	msgpack_sbuffer_destroy(&m.sb);
}

static void test_decode_accepts_unknown_event_key(void **ctx)
{
	struct vigil_msg *msg;
	struct mp m;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "process_fuzzy_future");
	msgpack_pack_map(&m.pk, 0);
	msg = vigil_msg__decode(m.sb.data, m.sb.size);
	assert_non_null(msg);
	assert_int_equal(vigil_msg__type(msg), 0);
	assert_string_equal(vigil_msg__type_key(msg), "process_fuzzy_future");
	vigil_msg__free(msg);
	msgpack_sbuffer_destroy(&m.sb);
}

static void test_decode_short_type_name_is_not_a_known_type(void **ctx)
{
	struct vigil_msg *msg;
	struct mp m;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "exec");
	msgpack_pack_map(&m.pk, 0);
	msg = vigil_msg__decode(m.sb.data, m.sb.size);
	assert_non_null(msg);
	assert_int_equal(vigil_msg__type(msg), 0);
	vigil_msg__free(msg);
	msgpack_sbuffer_destroy(&m.sb);
}

static void test_decode_rejects_empty_input(void **ctx)
{
	expect_bad("", 0);
	expect_bad(NULL, 0);
}

static void test_decode_rejects_every_truncation(void **ctx)
{
	struct state *s = *ctx;
	size_t n;

	wire(s, &s->exec);
	for (n = 0; n < s->wire.len; n++)
		expect_bad(s->wire.data, n);
}

static void test_decode_rejects_trailing_garbage(void **ctx)
{
	struct state *s = *ctx;

	wire(s, &s->exec);
	assert_int_equal(vigil_buf_append(&s->wire, "\xc0", 1), 0);
	expect_bad(s->wire.data, s->wire.len);
}

static void test_decode_rejects_non_map_root(void **ctx)
{
	expect_bad("\xa3" "abc", 4);	/* "abc" */
	expect_bad("\x2a", 1);		/* 42 */
	expect_bad("\xc0", 1);		/* nil */
}

static void test_decode_rejects_array_root(void **ctx)
{
	expect_bad("\x91\x81\xa1p\x80", 5);	/* [{"p": {}}] */
}

static void test_decode_rejects_int_key(void **ctx)
{
	expect_bad("\x81\x01\x80", 3);		/* {1: {}} */
}

static void test_decode_rejects_empty_map(void **ctx)
{
	expect_bad("\x80", 1);
}

static void test_decode_rejects_body_that_is_not_a_map(void **ctx)
{
	expect_bad("\x81\xa1p\x01", 4);		/* {"p": 1} */
	expect_bad("\x81\xa0\x80", 3);		/* {"": {}} */
}

static void test_decode_rejects_reserved_marker(void **ctx)
{
	expect_bad("\x82\xa1p\x80\xa1q\xc1", 7);
}

static void test_decode_rejects_counts_the_bytes_cannot_hold(void **ctx)
{
	/* {"p": {}, "a": [4294967295 elements]}: must fail without allocating them */
	expect_bad("\x82\xa1p\x80\xa1" "a\xdd\xff\xff\xff\xff", 11);
	expect_bad("\x81\xa1p\xdf\xff\xff\xff\xff", 8);
	expect_bad("\x81\xa1p\x81\xa1s\xdb\xff\xff\xff\xff", 11);
}

/* {"process_exec": {"a": {"a": ... {}}}} with depth maps in all */
static void pack_nested(struct mp *m, int depth)
{
	int i;

	mp_init(m);
	msgpack_pack_map(&m->pk, 1);
	mp_str(m, "process_exec");
	for (i = 2; i < depth; i++) {
		msgpack_pack_map(&m->pk, 1);
		mp_str(m, "a");
	}
	msgpack_pack_map(&m->pk, 0);
}

static void test_decode_accepts_nesting_at_limit(void **ctx)
{
	struct vigil_msg *msg;
	struct vigil_buf out = { 0 };
	struct mp m;

	pack_nested(&m, 32);
	msg = vigil_msg__decode(m.sb.data, m.sb.size);
	assert_non_null(msg);
	assert_int_equal(vigil_msg__to_json(msg, &out), 0);
	vigil_buf_free(&out);
	vigil_msg__free(msg);
	msgpack_sbuffer_destroy(&m.sb);
}

static void test_decode_rejects_nesting_beyond_limit(void **ctx)
{
	struct mp m;

	pack_nested(&m, 33);
	expect_bad(m.sb.data, m.sb.size);
	msgpack_sbuffer_destroy(&m.sb);
	pack_nested(&m, 5000);
	expect_bad(m.sb.data, m.sb.size);
	msgpack_sbuffer_destroy(&m.sb);
}

/* ---- JSON rendering of arbitrary objects ---- */

static const char *json_str(struct state *s, const char *str, size_t n)
{
	msgpack_object o = { .type = MSGPACK_OBJECT_STR, .via.str = { (uint32_t)n, str } };

	vigil_buf_reset(&s->out);
	assert_int_equal(vigil_json_from_msgpack(&o, &s->out), 0);
	return s->out.data;
}

static void test_json_escapes_quote_and_backslash(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_str(s, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
}

static void test_json_uses_short_escapes(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_str(s, "\n\t\r\b\f", 5), "\"\\n\\t\\r\\b\\f\"");
}

static void test_json_escapes_other_controls_as_u00xx(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_str(s, "\x01" "x\x1b\x1f", 4), "\"\\u0001x\\u001b\\u001f\"");
	assert_string_equal(json_str(s, "a\0b", 3), "\"a\\u0000b\"");
}

static void test_json_passes_utf8_through(void **ctx)
{
	struct state *s = *ctx;
	const char *u = "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x9a\x80 \x7f";

	assert_string_equal(json_str(s, u, strlen(u)),
			    "\"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x9a\x80 \x7f\"");
}

static void test_json_replaces_invalid_utf8_bytes(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_str(s, "a\xff" "b", 3), "\"a\\ufffdb\"");
	assert_string_equal(json_str(s, "\xc0\x80", 2), "\"\\ufffd\\ufffd\"");	/* overlong NUL */
	assert_string_equal(json_str(s, "\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(json_str(s, "\xe2\x9c", 2), "\"\\ufffd\\ufffd\"");	/* cut short */
}

static void test_json_renders_bin_as_base64(void **ctx)
{
	struct state *s = *ctx;
	msgpack_object o = { .type = MSGPACK_OBJECT_BIN, .via.bin = { 4, "\x00\xfb\xff" "a" } };

	assert_int_equal(vigil_json_from_msgpack(&o, &s->out), 0);
	assert_string_equal(s->out.data, "\"APv/YQ==\"");
}

static void test_json_renders_scalars(void **ctx)
{
	struct state *s = *ctx;
	msgpack_object items[7] = {
		{ .type = MSGPACK_OBJECT_NIL },
		{ .type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = true },
		{ .type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = false },
		{ .type = MSGPACK_OBJECT_NEGATIVE_INTEGER, .via.i64 = -42 },
		{ .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = UINT64_MAX },
		{ .type = MSGPACK_OBJECT_FLOAT64, .via.f64 = 0.1 },
		{ .type = MSGPACK_OBJECT_FLOAT32, .via.f64 = (double)1.1f },
	};
	msgpack_object arr = { .type = MSGPACK_OBJECT_ARRAY, .via.array = { 7, items } };

	assert_int_equal(vigil_json_from_msgpack(&arr, &s->out), 0);
	assert_string_equal(s->out.data, "[null,true,false,-42,18446744073709551615,0.1,1.1]");
}

static void test_json_renders_integer_keys_as_strings(void **ctx)
{
	struct state *s = *ctx;
	msgpack_object_kv kv = { .key = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 7 },
				 .val = { .type = MSGPACK_OBJECT_NIL } };
	msgpack_object map = { .type = MSGPACK_OBJECT_MAP, .via.map = { 1, &kv } };

	assert_int_equal(vigil_json_from_msgpack(&map, &s->out), 0);
	assert_string_equal(s->out.data, "{\"7\":null}");
}

/* n arrays, each holding the next, the last empty */
static void chain(msgpack_object *objs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		objs[i].type = MSGPACK_OBJECT_ARRAY;
		objs[i].via.array.size = i + 1 < n;
		objs[i].via.array.ptr = i + 1 < n ? &objs[i + 1] : NULL;
	}
}

static void test_json_depth_limit_fails_and_keeps_buffer(void **ctx)
{
	struct state *s = *ctx;
	msgpack_object objs[33];

	assert_int_equal(vigil_buf_puts(&s->out, "keep"), 0);
	chain(objs, 33);
	assert_int_equal(vigil_json_from_msgpack(&objs[0], &s->out), -EINVAL);
	assert_string_equal(s->out.data, "keep");
	chain(objs, 32);
	assert_int_equal(vigil_json_from_msgpack(&objs[0], &s->out), 0);
	assert_int_equal(s->out.len, 4 + 64);
}

/* ---- compact ---- */

static void test_compact_exec_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, &s->exec, false, false), golden(s, "exec.txt"));
}

static void test_compact_exit_signal_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, &s->exit_signal, false, false),
			    golden(s, "exit_signal.txt"));
}

static void test_compact_exit_status_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, &s->exit_status, false, false),
			    golden(s, "exit_status.txt"));
}

/* argv ["\"-rf", "/\""] and ["-rf", "/"], as the process cache renders them (core/pcache
 * args.c), stay apart in the JSON and compact encodings alike. */
static void test_arguments_with_quotes_and_without_read_apart_in_json_and_compact(void **ctx)
{
	static const char tricky[] = "rm\0\"-rf\0/\"\0", plain[] = "rm\0-rf\0/\0";
	struct state *s = *ctx;
	struct vigil_buf a = {0}, b = {0};
	char *line;

	s->child.caps.effective = 0;
	assert_int_equal(vigil_args_format(tricky, sizeof(tricky) - 1, &a), 0);
	assert_int_equal(vigil_args_format(plain, sizeof(plain) - 1, &b), 0);
	s->child.arguments = a.data;
	assert_string_equal(json_at(s, &s->exec, "process.arguments"), "\"\\\"\\\\\\\"-rf\\\" \\\"/\\\\\\\"\\\"\"");
	line = strdup(compact_of(s, &s->exec, false, false));
	assert_string_equal(line, "🚀 process my-node /usr/bin/curl \"\\\"-rf\" \"/\\\"\"");
	s->child.arguments = b.data;
	assert_string_equal(json_at(s, &s->exec, "process.arguments"), "\"-rf /\"");
	assert_string_equal(compact_of(s, &s->exec, false, false), "🚀 process my-node /usr/bin/curl -rf /");
	free(line);
	vigil_buf_free(&a);
	vigil_buf_free(&b);
}

static void test_compact_exit_without_status_prints_zero(void **ctx)
{
	struct state *s = *ctx;

	s->child.caps.effective = 0;
	s->exit_status.exit.status = 0;
	assert_string_equal(compact_of(s, &s->exit_status, false, false),
			    "💥 exit    my-node /usr/bin/curl https://ebpf.io/applications/#tetragon 0");
}

static void test_compact_empty_args_keep_trailing_space(void **ctx)
{
	struct state *s = *ctx;

	s->child.arguments = (char *)"";
	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exec, false, false),
			    "🚀 process my-node /usr/bin/curl ");
}

static void test_compact_args_with_control_characters_are_quoted_on_one_line(void **ctx)
{
	struct state *s = *ctx;

	s->child.arguments = (char *)"-c \"a\nb\" \x1b[2J";
	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exec, false, false),
			    "🚀 process my-node /usr/bin/curl \"-c \\\"a\\nb\\\" \\x1b[2J\"");
}

static void test_compact_args_with_spaces_only_stay_raw(void **ctx)
{
	struct state *s = *ctx;

	s->child.arguments = (char *)"a \"b c\"";
	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exec, false, false), "🚀 process my-node /usr/bin/curl a \"b c\"");
}

static void test_compact_binary_with_space_is_quoted(void **ctx)
{
	struct state *s = *ctx;

	s->child.binary = (char *)"/opt/my app/run";
	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exec, false, false),
			    "🚀 process my-node \"/opt/my app/run\" https://ebpf.io/applications/#tetragon");
}

static void test_compact_binary_escapes_like_go_quote(void **ctx)
{
	struct state *s = *ctx;

	s->child.binary = (char *)"/tmp/\x1b[31mx\"\\\t\x7f\xc2\x85\xff";
	s->child.arguments = (char *)"";
	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exec, false, false),
			    "🚀 process my-node \"/tmp/\\x1b[31mx\\\"\\\\\\t\\x7f\\u0085\\xff\" ");
}

static void test_compact_binary_with_printable_utf8_is_not_quoted(void **ctx)
{
	struct state *s = *ctx;

	s->child.binary = (char *)"/usr/bin/caf\xc3\xa9";
	s->child.arguments = (char *)"";
	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exec, false, false),
			    "🚀 process my-node /usr/bin/caf\xc3\xa9 ");
}

static void test_compact_arguments_are_printed_as_is(void **ctx)
{
	struct state *s = *ctx;

	s->child.arguments = (char *)"-s \"a b\" c";
	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exec, false, false),
			    "🚀 process my-node /usr/bin/curl -s \"a b\" c");
}

static void test_compact_cap_trailer_after_long_line_has_one_space(void **ctx)
{
	struct state *s = *ctx;
	char args[121], want[256];

	memset(args, 'x', 120);
	args[120] = '\0';
	s->child.arguments = args;
	snprintf(want, sizeof(want), "🚀 process my-node /usr/bin/curl %s 🛑 CAP_SYS_ADMIN", args);
	assert_string_equal(compact_of(s, &s->exec, false, false), want);
}

static void test_compact_cap_trailer_needs_sys_admin_in_effective(void **ctx)
{
	struct state *s = *ctx;

	s->child.caps.effective = CAP(0) | CAP(12);	/* permitted still has CAP_SYS_ADMIN */
	assert_string_equal(compact_of(s, &s->exec, false, false),
			    "🚀 process my-node /usr/bin/curl https://ebpf.io/applications/#tetragon");
}

static void test_compact_color_exit_line(void **ctx)
{
	struct state *s = *ctx;

	/* 126 bytes before the trailer, so it gets one space */
	assert_string_equal(compact_of(s, &s->exit_signal, true, false),
			    "\x1b[34m💥 exit   \x1b[0m \x1b[32mmy-node\x1b[0m \x1b[35m/usr/bin/curl\x1b[0m "
			    "\x1b[36mhttps://ebpf.io/applications/#tetragon\x1b[0m \x1b[31mSIGKILL\x1b[0m"
			    " \x1b[35m🛑 CAP_SYS_ADMIN\x1b[0m");
}

static void test_compact_color_pads_even_without_trailer(void **ctx)
{
	struct state *s = *ctx;

	/* tetra wraps the empty trailer in magenta too: 109 bytes, pad 11 less its 9 runes */
	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exec, true, false),
			    "\x1b[34m🚀 process\x1b[0m \x1b[32mmy-node\x1b[0m \x1b[35m/usr/bin/curl\x1b[0m "
			    "\x1b[36mhttps://ebpf.io/applications/#tetragon\x1b[0m   \x1b[35m\x1b[0m");
}

static void test_compact_timestamps_widen_fraction_to_nine_digits(void **ctx)
{
	struct state *s = *ctx;

	s->child.caps.effective = 0;
	assert_string_equal(compact_of(s, &s->exit_signal, false, true),
			    "2022-10-18T03:16:21.616000000Z 💥 exit    my-node /usr/bin/curl "
			    "https://ebpf.io/applications/#tetragon SIGKILL");
	assert_string_equal(compact_of(s, &s->exit_status, false, true),
			    "2022-10-18T03:16:22.000000000Z 💥 exit    my-node /usr/bin/curl "
			    "https://ebpf.io/applications/#tetragon 3");
}

static void test_compact_timestamps_do_not_move_cap_trailer(void **ctx)
{
	struct state *s = *ctx;
	const char *line = compact_of(s, &s->exec, false, true);

	assert_string_equal(line + strlen("2022-10-18T03:16:21.373327754Z "), golden(s, "exec.txt"));
	assert_memory_equal(line, "2022-10-18T03:16:21.373327754Z ", 31);
}

static struct vigil_msg *decode_or_fail(struct mp *m)
{
	struct vigil_msg *msg = vigil_msg__decode(m->sb.data, m->sb.size);

	assert_non_null(msg);
	msgpack_sbuffer_destroy(&m->sb);
	return msg;
}

static void test_compact_pod_source_is_namespace_slash_name(void **ctx)
{
	struct state *s = *ctx;
	struct mp m;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mp_str(&m, "process_exec");
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "process");
	msgpack_pack_map(&m.pk, 3);
	mp_str(&m, "binary");
	mp_str(&m, "/usr/bin/curl");
	mp_str(&m, "arguments");
	mp_str(&m, "cilium.io");
	mp_str(&m, "pod");
	msgpack_pack_map(&m.pk, 2);
	mp_str(&m, "namespace");
	mp_str(&m, "kube-system");
	mp_str(&m, "name");
	mp_str(&m, "tetragon");
	mp_str(&m, "node_name");
	mp_str(&m, "my-node");
	s->msg = decode_or_fail(&m);
	assert_int_equal(vigil_msg__to_compact(s->msg, NULL, &s->out), 0);
	assert_string_equal(s->out.data, "🚀 process kube-system/tetragon /usr/bin/curl cilium.io");
}

static void test_compact_unknown_event_type(void **ctx)
{
	struct state *s = *ctx;
	struct mp m;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 2);
	mp_str(&m, "process_fuzzy_future");
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "process");
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "binary");
	mp_str(&m, "/bin/sh");
	mp_str(&m, "node_name");
	mp_str(&m, "my node");
	s->msg = decode_or_fail(&m);
	assert_int_equal(vigil_msg__to_compact(s->msg, NULL, &s->out), 0);
	assert_string_equal(s->out.data, "❓ process_fuzzy_future \"my node\" /bin/sh");
}

static void test_compact_rejects_exec_without_process(void **ctx)
{
	struct state *s = *ctx;
	struct mp m;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "process_exec");
	msgpack_pack_map(&m.pk, 0);
	s->msg = decode_or_fail(&m);
	assert_int_equal(vigil_buf_puts(&s->out, "keep"), 0);
	assert_int_equal(vigil_msg__to_compact(s->msg, NULL, &s->out), -EINVAL);
	assert_string_equal(s->out.data, "keep");
}

/* ---- compact: policy events ---- */

static const char *compact_ev(struct state *s)
{
	return compact_of(s, &s->ev, false, false);
}

static void test_compact_openat_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, openat_event(s), false, false), golden(s, "kprobe_openat.txt"));
}

static void test_compact_tracepoint_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, mkdirat_event(s), false, false),
			    golden(s, "tracepoint_mkdirat.txt"));
}

static void test_compact_lsm_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, bprm_event(s), false, false), golden(s, "lsm_bprm.txt"));
}

static void test_compact_uprobe_matches_golden(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, readline_event(s), false, false), golden(s, "uprobe_readline.txt"));
}

static void test_compact_write_shows_file_and_size(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__x64_sys_write");
	add_file(s, VIGIL_ARG_FD, "/tmp/log", 0100644);
	add_arg(s, VIGIL_ARG_CHAR_BUF);
	add_int(s, VIGIL_ARG_SIZE_T, 12);
	assert_string_equal(compact_ev(s), "📝 write   my-node /usr/bin/curl /tmp/log 12 bytes");
}

static void test_compact_read_without_size_arg_keeps_tetra_spacing(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "sys_read");
	add_file(s, VIGIL_ARG_FD, "/etc/hosts", 0100644);
	assert_string_equal(compact_ev(s), "📚 read    my-node /usr/bin/curl /etc/hosts ");
}

static void test_compact_read_size_of_another_type_is_zero(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__arm64_sys_read");
	add_int(s, VIGIL_ARG_INT, 3);
	add_arg(s, VIGIL_ARG_CHAR_BUF);
	add_int(s, VIGIL_ARG_INT, 12);		/* tetra reads GetSizeArg(): 0 */
	assert_string_equal(compact_ev(s), "📚 read    my-node /usr/bin/curl  0 bytes");
}

static void test_compact_fd_install_shows_second_file(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "fd_install");
	add_int(s, VIGIL_ARG_INT, 3);
	add_file(s, VIGIL_ARG_FILE, "/etc/shadow", 0100640);
	assert_string_equal(compact_ev(s), "📬 open    my-node /usr/bin/curl /etc/shadow");
}

static void test_compact_open_shows_second_string(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__x64_sys_open");
	add_int(s, VIGIL_ARG_INT, -100);
	add_text(s, VIGIL_ARG_STRING, "/etc/motd");
	assert_string_equal(compact_ev(s), "📬️ open    my-node /usr/bin/curl /etc/motd");
}

static void test_compact_close_shows_file(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__x64_sys_close");
	add_file(s, VIGIL_ARG_FD, "/tmp/log", 0100644);
	assert_string_equal(compact_ev(s), "📪 close   my-node /usr/bin/curl /tmp/log");
}

static void test_compact_mount_shows_source_and_target(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__x64_sys_mount");
	add_text(s, VIGIL_ARG_STRING, "/dev/sda1");
	add_text(s, VIGIL_ARG_STRING, "/mnt");
	assert_string_equal(compact_ev(s), "💾 mount   my-node /usr/bin/curl /dev/sda1 /mnt");
}

static void test_compact_setuid_shows_uid(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__x64_sys_setuid");
	add_int(s, VIGIL_ARG_INT, 0);
	assert_string_equal(compact_ev(s), "🔑 setuid  my-node /usr/bin/curl 0");
}

static void test_compact_setns_names_namespace(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__x64_sys_setns");
	add_int(s, VIGIL_ARG_INT, 3);
	add_int(s, VIGIL_ARG_INT, 0x40000000);		/* CLONE_NEWNET */
	assert_string_equal(compact_ev(s), "🔧 setns   my-node /usr/bin/curl net");
	s->ev.policy.args[1].value = 0x00020000;	/* CLONE_NEWNS */
	assert_string_equal(compact_ev(s), "🔧 setns   my-node /usr/bin/curl mnt");
	s->ev.policy.args[1].value = 0;
	assert_string_equal(compact_ev(s), "🔧 setns   my-node /usr/bin/curl any");
	s->ev.policy.args[1].value = 0x00000080;	/* CLONE_NEWTIME */
	assert_string_equal(compact_ev(s), "🔧 setns   my-node /usr/bin/curl time");
	s->ev.policy.args[1].value = 0x3;
	assert_string_equal(compact_ev(s), "🔧 setns   my-node /usr/bin/curl ");
}

static void add_tcp_sock(struct state *s)
{
	add_arg(s, VIGIL_ARG_SOCK)->sock = (struct vigil_sock_info){
		.family = 2, .type = 1, .protocol = 6, .saddr = { 10, 0, 0, 1 },
		.daddr = { 93, 184, 216, 34 }, .sport = 43210, .dport = 443,
	};
}

static void test_compact_tcp_connect_shows_endpoints(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "tcp_connect");
	add_tcp_sock(s);
	assert_string_equal(compact_ev(s),
			    "🔌 connect my-node /usr/bin/curl tcp 10.0.0.1:43210 -> 93.184.216.34:443");
}

static void test_compact_tcp_close_uses_broom(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "tcp_close");
	add_tcp_sock(s);
	assert_string_equal(compact_ev(s),
			    "🧹 close   my-node /usr/bin/curl tcp 10.0.0.1:43210 -> 93.184.216.34:443");
}

static void test_compact_tcp_sendmsg_shows_bytes(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "tcp_sendmsg");
	add_tcp_sock(s);
	add_int(s, VIGIL_ARG_INT, 517);
	assert_string_equal(compact_ev(s),
			    "📤 sendmsg my-node /usr/bin/curl tcp 10.0.0.1:43210 -> 93.184.216.34:443 bytes 517");
}

static void test_compact_tcp_sendmsg_without_args(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "tcp_sendmsg");
	assert_string_equal(compact_ev(s), "📤 sendmsg my-node /usr/bin/curl  bytes 0");
}

static void test_compact_file_permission_by_mask(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "security_file_permission");
	add_file(s, VIGIL_ARG_FILE, "/etc/passwd", 0100644);
	add_int(s, VIGIL_ARG_INT, 2);		/* MAY_WRITE */
	assert_string_equal(compact_ev(s), "📝 write   my-node /usr/bin/curl /etc/passwd");
	s->ev.policy.args[1].value = 4;		/* MAY_READ */
	assert_string_equal(compact_ev(s), "📚 read    my-node /usr/bin/curl /etc/passwd");
	s->ev.policy.args[1].value = 1;		/* MAY_EXEC */
	assert_string_equal(compact_ev(s),
			    "❓ security_file_permission my-node /usr/bin/curl /etc/passwd");
	s->ev.policy.nargs = 1;
	assert_string_equal(compact_ev(s), "❓ security_file_permission my-node /usr/bin/curl ");
}

static void test_compact_mmap_names_protection(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "security_mmap_file");
	add_file(s, VIGIL_ARG_FILE, "/lib/libc.so.6", 0100755);
	add_int(s, VIGIL_ARG_UINT32, 5);	/* PROT_READ | PROT_EXEC */
	assert_string_equal(compact_ev(s), "📝 mmap-rx my-node /usr/bin/curl /lib/libc.so.6");
}

static void test_compact_path_truncate_shows_path(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "security_path_truncate");
	add_file(s, VIGIL_ARG_PATH, "/var/log/auth.log", 0100640);
	assert_string_equal(compact_ev(s), "📝 truncate my-node /usr/bin/curl /var/log/auth.log");
}

/* tetra's bpf and perf lines: the kernel object's fields in one span */
static void test_compact_bpf_load_map_and_perf_event(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event_arg *a;

	kprobe_on(s, "bpf_check");
	a = add_arg(s, VIGIL_ARG_BPF_ATTR);
	a->kobj = (struct vigil_kobj_info){ .type = 2, .insn_cnt = 12, .name = "probe", .name_len = 5 };
	assert_string_equal(compact_ev(s), "🐝 bpf_load my-node /usr/bin/curl BPF_PROG_TYPE_KPROBE probe instruction count 12");
	kprobe_on(s, "security_bpf_map_create");
	a = add_arg(s, VIGIL_ARG_BPF_MAP);
	a->kobj = (struct vigil_kobj_info){ .type = 1, .key_size = 4, .value_size = 8, .max_entries = 16,
					    .name = "m", .name_len = 1 };
	assert_string_equal(compact_ev(s),
			    "🗺 bpf_map_create my-node /usr/bin/curl BPF_MAP_TYPE_HASH m key size 4 value size 8 max entries 16");
	kprobe_on(s, "security_perf_event_alloc");
	a = add_arg(s, VIGIL_ARG_PERF_EVENT);
	a->kobj = (struct vigil_kobj_info){ .type = 1, .name = "vfs_read", .name_len = 8 };
	assert_string_equal(compact_ev(s), "🐝 perf_event_alloc my-node /usr/bin/curl PERF_TYPE_SOFTWARE vfs_read");
}

static void test_compact_other_kprobe_names_function(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "security_file_open");
	add_file(s, VIGIL_ARG_FILE, "/etc/passwd", 0100644);
	assert_string_equal(compact_ev(s), "❓ syscall my-node /usr/bin/curl security_file_open");
	s->hook.function_name = "__x64_sys_unlinkat";
	assert_string_equal(compact_ev(s), "❓ syscall my-node /usr/bin/curl __x64_sys_unlinkat");
}

static void test_compact_prefix_must_be_whole(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__x64_sys_writev");
	assert_string_equal(compact_ev(s), "❓ syscall my-node /usr/bin/curl __x64_sys_writev");
}

static void test_compact_sys_enter_prints_syscall_number(void **ctx)
{
	struct state *s = *ctx;

	policy_event(s, VIGIL_EVENT_TRACEPOINT);
	s->child.caps.effective = 0;
	s->hook.subsys = "raw_syscalls";
	s->hook.event = "sys_enter";
	add_int(s, VIGIL_ARG_LONG, 257);
	assert_string_equal(compact_ev(s), "☎  syscall my-node /usr/bin/curl 257");
	s->ev.policy.args[0].type = VIGIL_ARG_SYSCALL64;
	assert_string_equal(compact_ev(s), "☎  syscall my-node /usr/bin/curl 257");
	s->ev.policy.args[0].value = 0x80000000u | 11;
	assert_string_equal(compact_ev(s), "☎  syscall my-node /usr/bin/curl i386/11");
	s->ev.policy.args[0].value = 0;			/* read: the id is left out of the tree */
	assert_string_equal(compact_ev(s), "☎  syscall my-node /usr/bin/curl 0");
}

static void test_compact_sys_enter_without_id_is_unknown(void **ctx)
{
	struct state *s = *ctx;

	policy_event(s, VIGIL_EVENT_TRACEPOINT);
	s->child.caps.effective = 0;
	s->hook.subsys = "raw_syscalls";
	s->hook.event = "sys_enter";
	assert_string_equal(compact_ev(s), "☎  syscall my-node /usr/bin/curl unknown");
	add_int(s, VIGIL_ARG_LONG, -1);
	assert_string_equal(compact_ev(s), "☎  syscall my-node /usr/bin/curl unknown");
}

static void test_compact_sigkill_is_marked(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "security_file_open");
	s->ev.policy.action = VIGIL_EVENT_ACTION_SIGKILL;
	assert_string_equal(compact_ev(s), "❓ syscall my-node /usr/bin/curl security_file_open 💀 SIGKILL");
	s->ev.policy.monitored = true;
	assert_string_equal(compact_ev(s),
			    "❓ syscall my-node /usr/bin/curl security_file_open 💀 SIGKILL (monitor)");
}

static void test_compact_override_and_signal_are_marked(void **ctx)
{
	struct state *s = *ctx;

	policy_event(s, VIGIL_EVENT_LSM);
	s->child.caps.effective = 0;
	s->hook.function_name = "file_open";
	s->ev.policy.action = VIGIL_EVENT_ACTION_OVERRIDE;
	s->ev.policy.override_err = -1;
	assert_string_equal(compact_ev(s), "🔒 LSM     my-node /usr/bin/curl file_open 🚫 OVERRIDE");
	s->ev.policy.action = VIGIL_EVENT_ACTION_SIGNAL;
	assert_string_equal(compact_ev(s), "🔒 LSM     my-node /usr/bin/curl file_open 📣 SIGNAL");
	s->ev.policy.action = VIGIL_EVENT_ACTION_SET;
	assert_string_equal(compact_ev(s), "🔒 LSM     my-node /usr/bin/curl file_open ✏️ SET");
	s->ev.policy.action = VIGIL_EVENT_ACTION_NOPOST;
	assert_string_equal(compact_ev(s), "🔒 LSM     my-node /usr/bin/curl file_open");
}

static void test_compact_enforcement_mark_precedes_cap_trailer(void **ctx)
{
	struct state *s = *ctx;
	const char *line;

	readline_event(s);
	s->ev.policy.action = VIGIL_EVENT_ACTION_SIGKILL;
	line = compact_ev(s);
	assert_memory_equal(line, "🕵️ uprobe  my-node /usr/bin/curl /bin/bash readline 💀 SIGKILL ",
			    strlen("🕵️ uprobe  my-node /usr/bin/curl /bin/bash readline 💀 SIGKILL "));
	assert_non_null(strstr(line, "  🛑 CAP_SYS_ADMIN"));
}

static void test_compact_color_policy_line(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "__x64_sys_write");
	add_file(s, VIGIL_ARG_FD, "/tmp/log", 0100644);
	add_arg(s, VIGIL_ARG_CHAR_BUF);
	add_int(s, VIGIL_ARG_SIZE_T, 12);
	s->ev.policy.action = VIGIL_EVENT_ACTION_SIGKILL;
	/* the mark is red and part of the line; 119 bytes, so the empty trailer gets one space */
	assert_string_equal(compact_of(s, &s->ev, true, false),
			    "\x1b[34m📝 write  \x1b[0m \x1b[32mmy-node\x1b[0m \x1b[35m/usr/bin/curl\x1b[0m "
			    "\x1b[36m/tmp/log\x1b[0m \x1b[36m12 bytes\x1b[0m \x1b[31m💀 SIGKILL\x1b[0m"
			    " \x1b[35m\x1b[0m");
}

static void test_compact_control_characters_in_args_are_quoted(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "fd_install");
	add_int(s, VIGIL_ARG_INT, 3);
	add_file(s, VIGIL_ARG_FILE, "/tmp/\x1b]0;pwned\x07", 0100644);
	assert_string_equal(compact_ev(s), "📬 open    my-node /usr/bin/curl \"/tmp/\\x1b]0;pwned\\a\"");
}

static void test_compact_spaces_in_args_stay_raw_as_tetra(void **ctx)
{
	struct state *s = *ctx;

	kprobe_on(s, "fd_install");
	add_int(s, VIGIL_ARG_INT, 3);
	add_file(s, VIGIL_ARG_FILE, "/tmp/my file", 0100644);
	assert_string_equal(compact_ev(s), "📬 open    my-node /usr/bin/curl /tmp/my file");
}

static void test_compact_rejects_policy_event_without_process(void **ctx)
{
	struct state *s = *ctx;
	struct mp m;

	mp_init(&m);
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "process_kprobe");
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "function_name");
	mp_str(&m, "f");
	s->msg = decode_or_fail(&m);
	assert_int_equal(vigil_msg__to_compact(s->msg, NULL, &s->out), -EINVAL);
}

/* ---- rule events (core/luahost): process_alert, rule_action, rule_status ---- */

static const char *const alert_tags[] = { "MITRE:T1059", "webshell" };
static const char *const alert_ids[] = { "aWQtMQ==", "aWQtMg==" };

static struct vigil_event *alert_event(struct state *s)
{
	s->child.caps.effective = 0;	/* no CAP_SYS_ADMIN trailer in the compact lines */
	s->ev = (struct vigil_event){
		.type = VIGIL_EVENT_ALERT, .time = POLICY_TIME, .node_name = "my-node",
		.process = &s->child, .parent = &s->parent,
	};
	s->ev.alert.rule = "web-shell";
	s->ev.alert.priority = "critical";
	s->ev.alert.output = "curl spawned under bash";
	s->ev.alert.tags = alert_tags;
	s->ev.alert.ntags = 2;
	s->ev.alert.exec_ids = alert_ids;
	s->ev.alert.nexec_ids = 2;
	return &s->ev;
}

static void test_alert_json_is_process_alert_with_rule_fields_after_the_processes(void **ctx)
{
	struct state *s = *ctx;
	const char *json = json_of(s, alert_event(s));

	assert_true(!strncmp(json, "{\"process_alert\":{\"process\":{\"exec_id\":\"bXktbm9kZToxMzY2ODkyMjQwNTE4ODo2ODg2Mg==\"",
			     80));
	assert_non_null(strstr(json, "},\"parent\":{\"exec_id\":\"bXktbm9kZToxMzY2MDUxMzEwNzM1MTo2ODYzNQ==\""));
	assert_non_null(strstr(json, "}},\"rule\":\"web-shell\",\"priority\":\"critical\","
				     "\"output\":\"curl spawned under bash\",\"tags\":[\"MITRE:T1059\",\"webshell\"],"
				     "\"exec_ids\":[\"aWQtMQ==\",\"aWQtMg==\"]},\"node_name\":\"my-node\","
				     "\"time\":\"2022-10-18T03:16:21.500000001Z\"}"));
}

static void test_alert_without_process_or_optional_fields_omits_them(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event *ev = alert_event(s);

	ev->process = ev->parent = NULL;
	ev->alert.output = "";
	ev->alert.ntags = 0;
	ev->alert.nexec_ids = 0;
	assert_string_equal(json_of(s, ev), "{\"process_alert\":{\"rule\":\"web-shell\",\"priority\":\"critical\"},"
					    "\"node_name\":\"my-node\",\"time\":\"2022-10-18T03:16:21.500000001Z\"}");
}

static void test_rule_event_types_decode_and_parse(void **ctx)
{
	struct state *s = *ctx;
	enum vigil_event_type t;

	assert_int_equal(vigil_msg__type(wire(s, alert_event(s))), VIGIL_EVENT_ALERT);
	assert_int_equal(vigil_event_type_parse("alert", &t), 0);
	assert_int_equal(t, VIGIL_EVENT_ALERT);
	assert_int_equal(vigil_event_type_parse("rule_action", &t), 0);
	assert_int_equal(t, VIGIL_EVENT_RULE_ACTION);
	assert_int_equal(vigil_event_type_parse("RULE_STATUS", &t), 0);
	assert_int_equal(t, VIGIL_EVENT_RULE_STATUS);
	assert_string_equal(vigil_event_type_name(VIGIL_EVENT_ALERT), "PROCESS_ALERT");
	/* outside Tetragon's enum, whose last values are 40000 and 40001 */
	assert_true(VIGIL_EVENT_ALERT > 40001);
}

static void test_encode_rejects_rule_event_without_rule(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event *ev = alert_event(s);

	ev->alert.rule = "";
	assert_int_equal(vigil_encode_msgpack(ev, &s->wire), -EINVAL);
	assert_int_equal(s->wire.len, 0);
}

static struct vigil_event *action_event(struct state *s, const char *action)
{
	s->child.caps.effective = 0;
	s->ev = (struct vigil_event){
		.type = VIGIL_EVENT_RULE_ACTION, .time = POLICY_TIME, .node_name = "my-node", .process = &s->child,
	};
	s->ev.rule_action.rule = "miner";
	s->ev.rule_action.action = action;
	s->ev.rule_action.exec_ids = alert_ids;
	s->ev.rule_action.nexec_ids = 1;
	return &s->ev;
}

static void test_rule_action_kill_names_pid_and_signal(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event *ev = action_event(s, "kill");

	ev->rule_action.pid = 68862;
	ev->rule_action.signal = 9;
	assert_non_null(strstr(json_of(s, ev), "},\"rule\":\"miner\",\"action\":\"kill\",\"pid\":68862,\"signal\":\"SIGKILL\","
					       "\"exec_ids\":[\"aWQtMQ==\"]},\"node_name\""));
	assert_true(!strncmp(s->out.data, "{\"rule_action\":{\"process\":{", 27));
}

static void test_rule_action_deny_names_list_value_and_error(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event *ev = action_event(s, "deny");

	ev->rule_action.list = "lua-denied-binaries";
	ev->rule_action.value = "/tmp/xmrig";
	ev->rule_action.maps = 2;
	assert_non_null(strstr(json_of(s, ev), "\"action\":\"deny\",\"list\":\"lua-denied-binaries\",\"value\":\"/tmp/xmrig\","
					       "\"maps_updated\":2,\"exec_ids\""));
	ev->rule_action.maps = 0;
	ev->rule_action.error = ENOENT;
	assert_non_null(strstr(json_of(s, ev), "\"value\":\"/tmp/xmrig\",\"error\":\"No such file or directory\","));
}

static struct vigil_event *status_event(struct state *s)
{
	s->ev = (struct vigil_event){ .type = VIGIL_EVENT_RULE_STATUS, .time = POLICY_TIME, .node_name = "my-node" };
	s->ev.rule_status.rule = "loop";
	s->ev.rule_status.file = "/etc/vigil/rules/loop.lua";
	s->ev.rule_status.state = "disabled";
	s->ev.rule_status.reason = "instruction budget of 2000000 exhausted";
	return &s->ev;
}

static void test_rule_status_has_rule_file_state_and_reason(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(json_of(s, status_event(s)),
			    "{\"rule_status\":{\"rule\":\"loop\",\"file\":\"/etc/vigil/rules/loop.lua\",\"state\":\"disabled\","
			    "\"reason\":\"instruction budget of 2000000 exhausted\"},\"node_name\":\"my-node\","
			    "\"time\":\"2022-10-18T03:16:21.500000001Z\"}");
}

/* the policy directory's reports (core/agent/policy_dir.c): no process, like rule_status */
static struct vigil_event *policy_status_event(struct state *s)
{
	s->ev = (struct vigil_event){ .type = VIGIL_EVENT_POLICY_STATUS, .time = POLICY_TIME, .node_name = "my-node" };
	s->ev.policy_status.policy = "open-etc";
	s->ev.policy_status.file = "/etc/vigil/policies/etc.yaml";
	s->ev.policy_status.state = "refused";
	s->ev.policy_status.reason = "/etc/vigil/policies/etc.yaml:15:19: unknown operator \"Nonsense\"";
	return &s->ev;
}

static void test_policy_status_has_policy_file_state_and_reason(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event *ev = policy_status_event(s);

	assert_string_equal(json_of(s, ev),
			    "{\"policy_status\":{\"policy\":\"open-etc\",\"file\":\"/etc/vigil/policies/etc.yaml\","
			    "\"state\":\"refused\",\"reason\":\"/etc/vigil/policies/etc.yaml:15:19: unknown operator "
			    "\\\"Nonsense\\\"\"},\"node_name\":\"my-node\",\"time\":\"2022-10-18T03:16:21.500000001Z\"}");
	ev->policy_status.state = "loaded";
	ev->policy_status.reason = NULL;
	assert_string_equal(compact_of(s, ev, false, false),
			    "📜 policy  open-etc /etc/vigil/policies/etc.yaml: loaded");
}

static void test_compact_alert_line(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, alert_event(s), false, false),
			    "🚨 alert   my-node /usr/bin/curl web-shell: curl spawned under bash");
}

static void test_compact_alert_without_process_names_the_node(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event *ev = alert_event(s);

	ev->process = ev->parent = NULL;
	assert_string_equal(compact_of(s, ev, false, false), "🚨 alert   my-node web-shell: curl spawned under bash");
}

static void test_compact_alert_output_with_control_characters_is_quoted(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event *ev = alert_event(s);

	ev->alert.output = "file \x1b[2Jx";
	assert_string_equal(compact_of(s, ev, false, false),
			    "🚨 alert   my-node /usr/bin/curl web-shell: \"file \\x1b[2Jx\"");
}

static void test_compact_rule_actions(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_event *ev = action_event(s, "kill");

	ev->rule_action.pid = 68862;
	ev->rule_action.signal = 9;
	assert_string_equal(compact_of(s, ev, false, false), "⚡ action  my-node /usr/bin/curl miner: kill 68862 SIGKILL");
	ev = action_event(s, "deny");
	ev->rule_action.list = "lua-denied-binaries";
	ev->rule_action.value = "/tmp/xmrig";
	ev->rule_action.error = ENOENT;
	assert_string_equal(compact_of(s, ev, false, false),
			    "⚡ action  my-node /usr/bin/curl miner: deny lua-denied-binaries /tmp/xmrig "
			    "failed: No such file or directory");
}

static void test_compact_rule_status_line(void **ctx)
{
	struct state *s = *ctx;

	assert_string_equal(compact_of(s, status_event(s), false, false),
			    "⚠️ rule    my-node loop: disabled: instruction budget of 2000000 exhausted");
}

/* ---- vigil_msgpack_scan: the control socket's guard before msgpack-c ---- */

static bool plausible(const void *data, size_t len)
{
	size_t used;

	return !vigil_msgpack_scan(data, len, &used) && used == len;
}

static void test_plausible_accepts_whole_requests(void **ctx)
{
	static const char req[] = "\x82\xa3""cmd\xa6status\xa4yaml\xda\x00\x02hi";

	(void)ctx;
	assert_true(plausible(req, sizeof(req) - 1));
	assert_true(plausible("\x93\x01\xcb\x00\x00\x00\x00\x00\x00\x00\x00\xc0", 12));
}

static void test_plausible_refuses_a_map_count_the_bytes_cannot_hold(void **ctx)
{
	(void)ctx;
	/* 2^32 - 1 entries: msgpack-c would ask for 64 GiB */
	assert_false(plausible("\xdf\xff\xff\xff\xff", 5));
	assert_false(plausible("\xdc\x00\x10\x01", 4));
	assert_false(plausible("\x81\xa1k\x9f\x01", 5));	/* nested: 15 items in 1 byte */
}

static void test_plausible_refuses_strings_longer_than_the_bytes_left_and_0xc1(void **ctx)
{
	(void)ctx;
	assert_false(plausible("\xdb\xff\xff\xff\xf0" "abc", 8));
	assert_false(plausible("\xa5" "ab", 3));
	assert_false(plausible("\xc1", 1));
}

/* vigil_base64_*: RFC 4648's test vectors both ways, and what decoding refuses. */
static void test_base64_rfc4648_vectors(void **ctx)
{
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char text[16], back[16];
	size_t i;
	int n;

	(void)ctx;
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		assert_int_equal(vigil_base64_encode(plain[i], strlen(plain[i]), text), strlen(coded[i]));
		assert_string_equal(text, coded[i]);
		n = vigil_base64_decode(coded[i], strlen(coded[i]), back, sizeof(back));
		assert_int_equal(n, (int)strlen(plain[i]));
		assert_memory_equal(back, plain[i], (size_t)n);
	}
	assert_int_equal(vigil_base64_decode("Zm9v!", 5, back, sizeof(back)), -EINVAL);
	assert_int_equal(vigil_base64_decode("Zm9vYmFy", 8, back, 5), -EINVAL);
}

/* vigil_parse_time undoes vigil_format_time, to the nanosecond, and refuses what it never writes. */
static void test_parse_time_inverts_format_time(void **ctx)
{
	static const uint64_t times[] = { 0, 1000000000ULL, 951782400123000000ULL /* 2000-02-29 */,
					  1795000000123456789ULL, 4102444799999999999ULL };
	static const char *bad[] = { "1969-12-31T23:59:59Z", "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z",
				     "2026-11-29T08:02:18+01:00", "2026-11-29T08:02:18.Z",
				     "2026-11-29T08:02:18.1234567890Z", "2026-11-29 08:02:18Z", "2026-11-29T24:00:00Z" };
	char text[40];
	uint64_t ns;
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		vigil_format_time(times[i], text);
		assert_int_equal(vigil_parse_time(text, strlen(text), &ns), 0);
		assert_true(ns == times[i]);
	}
	assert_int_equal(vigil_parse_time("2026-11-29T08:02:18.5Z", 22, &ns), 0);
	assert_true(ns % 1000000000ULL == 500000000ULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vigil_parse_time(bad[i], strlen(bad[i]), &ns), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_signal_name_maps_9_to_sigkill),
		T(test_signal_name_unknown_is_null),
		T(test_cap_name_uses_tetragon_enum_names),
		T(test_ns_names_follow_enum_order),
		T(test_flags_format_in_bit_order),
		T(test_flags_format_drops_names_that_do_not_fit),
		T(test_event_type_names_and_keys),
		T(test_event_type_parse_accepts_every_spelling),
		T(test_event_type_parse_rejects_unknown),
		T(test_action_names_are_tetragon_kprobe_actions),
		T(test_action_name_past_the_enum_is_null),

		T(test_exec_json_matches_golden),
		T(test_exit_signal_json_matches_golden),
		T(test_exit_status_json_matches_golden),
		T(test_zero_refcnt_is_omitted),
		T(test_empty_arguments_are_omitted),
		T(test_missing_parent_omits_parent_key),
		T(test_memoised_members_render_as_written),
		T(test_minimal_process_keeps_only_wrapper_fields),
		T(test_container_id_is_docker_cut_to_31_characters),
		T(test_pod_is_written_as_tetragon_prints_it),
		T(test_host_namespace_without_inode_keeps_is_host),
		T(test_unnamed_signal_is_omitted),
		T(test_encode_rejects_type_it_cannot_build),
		T(test_strings_are_msgpack_str),

		T(test_kprobe_json_matches_golden),
		T(test_tracepoint_json_matches_golden),
		T(test_lsm_json_matches_golden),
		T(test_uprobe_json_matches_golden),
		T(test_policy_round_trip_repacks_to_identical_bytes),
		T(test_policy_event_types_decode_to_their_enum),
		T(test_kprobe_without_args_tags_or_message_omits_them),
		T(test_kprobe_return_and_return_action_in_proto_order),
		T(test_unknown_action_is_omitted),
		T(test_monitored_flag_comes_last),
		T(test_uprobe_keys_follow_proto_order),
		T(test_lsm_keys_follow_proto_order),
		T(test_tracepoint_message_follows_action),
		T(test_encode_rejects_policy_event_without_hook),
		T(test_encode_rejects_too_many_args),

		T(test_int_args_are_int_arg),
		T(test_uint_args_are_uint_arg),
		T(test_64_bit_args_are_decimal_strings),
		T(test_string_types_are_string_arg),
		T(test_string_arg_keeps_embedded_nul_bytes),
		T(test_char_buf_is_base64_text_in_the_tree),
		T(test_char_iovec_empty_is_empty_bytes_arg),
		T(test_long_char_buf_base64_crosses_pieces),
		T(test_truncated_char_buf_is_truncated_bytes_arg),
		T(test_file_types_are_file_arg_with_permission),
		T(test_path_types_are_path_arg),
		T(test_permission_marks_setuid_setgid_and_sticky_like_ls),
		T(test_permission_without_type_or_mode),
		T(test_truncated_path_is_flagged_unresolved),
		T(test_linux_binprm_is_linux_binprm_arg),
		T(test_sock_ipv4_is_sock_arg),
		T(test_sock_ipv6_uses_standard_text_form),
		T(test_sock_unknown_numbers_are_decimal_and_zeros_omitted),
		T(test_sock_unbound_ipv4_keeps_zero_addresses),
		T(test_skb_is_skb_arg),
		T(test_skb_not_ip_has_no_addresses),
		T(test_net_device_is_net_dev_arg),
		T(test_returned_sock_is_return_sock_arg),
		T(test_sockaddr_is_sockaddr_arg),
		T(test_sockaddr_unix_is_sockaddrun_arg),
		T(test_cred_is_process_credentials_arg),
		T(test_capability_is_capability_arg),
		T(test_kernel_cap_t_is_hex_like_tetragon),
		T(test_bpf_objects_are_bpf_attr_prog_and_map_args),
		T(test_perf_event_user_ns_and_module_args),
		T(test_kiocb_buffers_and_sockaddr_un),
		T(test_cap_sets_have_their_own_keys),
		T(test_cap_lists_name_every_bit_in_order),
		T(test_ns_of_many_processes_each_their_own),
		T(test_ancestors_follow_the_parent_nearest_first),
		T(test_binary_properties_of_a_setuid_exec_and_an_unlinked_binary),
		T(test_user_name_only_where_the_resolver_has_one),
		T(test_data_entries_go_to_data_not_args),
		T(test_only_data_entries_omit_args),
		T(test_syscall64_is_syscall_id_with_abi),
		T(test_unreadable_arg_is_error_arg_with_label),
		T(test_args_without_spelling_are_skipped),
		T(test_only_skipped_args_omit_the_array),
		T(test_event_label_wins_over_hook_label),
		T(test_labels_follow_args_past_skipped_ones),

		T(test_round_trip_repacks_to_identical_bytes),
		T(test_round_trip_json_equals_golden),
		T(test_decode_reports_type_key_and_body),
		T(test_find_process_binary),
		T(test_find_parent_pid),
		T(test_find_root_node_name),
		T(test_find_array_element_by_index),
		T(test_find_absent_or_malformed_path_is_null),
		T(test_find_str_truncates_and_returns_full_length),
		T(test_find_u64_reads_decimal_strings),
		T(test_decode_accepts_unknown_event_key),
		T(test_decode_short_type_name_is_not_a_known_type),
		T(test_decode_rejects_empty_input),
		T(test_decode_rejects_every_truncation),
		T(test_decode_rejects_trailing_garbage),
		T(test_decode_rejects_non_map_root),
		T(test_decode_rejects_array_root),
		T(test_decode_rejects_int_key),
		T(test_decode_rejects_empty_map),
		T(test_decode_rejects_body_that_is_not_a_map),
		T(test_decode_rejects_reserved_marker),
		T(test_decode_rejects_counts_the_bytes_cannot_hold),
		T(test_decode_accepts_nesting_at_limit),
		T(test_decode_rejects_nesting_beyond_limit),

		T(test_json_escapes_quote_and_backslash),
		T(test_json_uses_short_escapes),
		T(test_json_escapes_other_controls_as_u00xx),
		T(test_json_passes_utf8_through),
		T(test_json_replaces_invalid_utf8_bytes),
		T(test_json_renders_bin_as_base64),
		T(test_json_renders_scalars),
		T(test_json_renders_integer_keys_as_strings),
		T(test_json_depth_limit_fails_and_keeps_buffer),

		T(test_compact_exec_matches_golden),
		T(test_compact_exit_signal_matches_golden),
		T(test_compact_exit_status_matches_golden),
		T(test_compact_exit_without_status_prints_zero),
		T(test_arguments_with_quotes_and_without_read_apart_in_json_and_compact),
		T(test_compact_empty_args_keep_trailing_space),
		T(test_compact_args_with_control_characters_are_quoted_on_one_line),
		T(test_compact_args_with_spaces_only_stay_raw),
		T(test_compact_binary_with_space_is_quoted),
		T(test_compact_binary_escapes_like_go_quote),
		T(test_compact_binary_with_printable_utf8_is_not_quoted),
		T(test_compact_arguments_are_printed_as_is),
		T(test_compact_cap_trailer_after_long_line_has_one_space),
		T(test_compact_cap_trailer_needs_sys_admin_in_effective),
		T(test_compact_color_exit_line),
		T(test_compact_color_pads_even_without_trailer),
		T(test_compact_timestamps_widen_fraction_to_nine_digits),
		T(test_compact_timestamps_do_not_move_cap_trailer),
		T(test_compact_pod_source_is_namespace_slash_name),
		T(test_compact_unknown_event_type),
		T(test_compact_rejects_exec_without_process),

		T(test_compact_openat_matches_golden),
		T(test_compact_tracepoint_matches_golden),
		T(test_compact_lsm_matches_golden),
		T(test_compact_uprobe_matches_golden),
		T(test_compact_write_shows_file_and_size),
		T(test_compact_read_without_size_arg_keeps_tetra_spacing),
		T(test_compact_read_size_of_another_type_is_zero),
		T(test_compact_fd_install_shows_second_file),
		T(test_compact_open_shows_second_string),
		T(test_compact_close_shows_file),
		T(test_compact_mount_shows_source_and_target),
		T(test_compact_setuid_shows_uid),
		T(test_compact_setns_names_namespace),
		T(test_compact_tcp_connect_shows_endpoints),
		T(test_compact_tcp_close_uses_broom),
		T(test_compact_tcp_sendmsg_shows_bytes),
		T(test_compact_tcp_sendmsg_without_args),
		T(test_compact_file_permission_by_mask),
		T(test_compact_mmap_names_protection),
		T(test_compact_bpf_load_map_and_perf_event),
		T(test_compact_path_truncate_shows_path),
		T(test_compact_other_kprobe_names_function),
		T(test_compact_prefix_must_be_whole),
		T(test_compact_sys_enter_prints_syscall_number),
		T(test_compact_sys_enter_without_id_is_unknown),
		T(test_compact_sigkill_is_marked),
		T(test_compact_override_and_signal_are_marked),
		T(test_compact_enforcement_mark_precedes_cap_trailer),
		T(test_compact_color_policy_line),
		T(test_compact_control_characters_in_args_are_quoted),
		T(test_compact_spaces_in_args_stay_raw_as_tetra),
		T(test_compact_rejects_policy_event_without_process),

		T(test_alert_json_is_process_alert_with_rule_fields_after_the_processes),
		T(test_alert_without_process_or_optional_fields_omits_them),
		T(test_rule_event_types_decode_and_parse),
		T(test_encode_rejects_rule_event_without_rule),
		T(test_rule_action_kill_names_pid_and_signal),
		T(test_rule_action_deny_names_list_value_and_error),
		T(test_rule_status_has_rule_file_state_and_reason),
		T(test_policy_status_has_policy_file_state_and_reason),
		T(test_compact_alert_line),
		T(test_compact_alert_without_process_names_the_node),
		T(test_compact_alert_output_with_control_characters_is_quoted),
		T(test_compact_rule_actions),
		T(test_compact_rule_status_line),
		cmocka_unit_test(test_plausible_accepts_whole_requests),
		cmocka_unit_test(test_plausible_refuses_a_map_count_the_bytes_cannot_hold),
		cmocka_unit_test(test_plausible_refuses_strings_longer_than_the_bytes_left_and_0xc1),
		cmocka_unit_test(test_parse_time_inverts_format_time),
		cmocka_unit_test(test_base64_rfc4648_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
