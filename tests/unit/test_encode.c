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
#include "events/events.h"

/* ---- fixtures: one curl exec'd from bash, as in the goldens ---- */

#define CAP(n) (1ULL << (n))

struct state {
	struct vigil_process child, parent;
	struct vigil_event exec, exit_signal, exit_status;
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
	strcpy(p->exec_id, "bXktbm9kZToxMzY2ODkyMjQwNTE4ODo2ODg2Mg==");
	strcpy(p->parent_exec_id, "bXktbm9kZToxMzY2MDUxMzEwNzM1MTo2ODYzNQ==");
	p->binary = (char *)"/usr/bin/curl";
	p->arguments = (char *)"https://ebpf.io/applications/#tetragon";
	p->cwd = (char *)"/";
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
	strcpy(p->exec_id, "bXktbm9kZToxMzY2MDUxMzEwNzM1MTo2ODYzNQ==");
	strcpy(p->parent_exec_id, "bXktbm9kZToxMzY2MDQ4NTE5NDE2MTo2ODYwNQ==");
	p->binary = (char *)"/bin/bash";
	p->arguments = (char *)"";
	p->cwd = (char *)"/root";
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

/* Encode ev and decode it back into s->msg. */
static struct vigil_msg *wire(struct state *s, const struct vigil_event *ev)
{
	vigil_buf_reset(&s->wire);
	assert_int_equal(vigil_encode_msgpack(ev, &s->wire), 0);
	vigil_msg__free(s->msg);
	s->msg = vigil_msg__decode(s->wire.data, s->wire.len);
	assert_non_null(s->msg);
	return s->msg;
}

static const char *json_of(struct state *s, const struct vigil_event *ev)
{
	vigil_buf_reset(&s->out);
	assert_int_equal(vigil_msg__to_json(wire(s, ev), &s->out), 0);
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

	assert_int_equal(vigil_event_type_parse("process_loader", &t), -EINVAL);
	assert_int_equal(vigil_event_type_parse("", &t), -EINVAL);
	assert_int_equal(vigil_event_type_parse(NULL, &t), -EINVAL);
	assert_int_equal(t, VIGIL_EVENT_EXEC);
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
	struct vigil_process p = { .pid = 7, .auid = 4294967295u, .binary = (char *)"",
				   .arguments = (char *)"", .cwd = (char *)"" };
	struct vigil_event ev = { .type = VIGIL_EVENT_EXEC, .time = 0, .process = &p };

	assert_string_equal(json_of(s, &ev),
			    "{\"process_exec\":{\"process\":{\"pid\":7,\"uid\":0,\"auid\":4294967295,"
			    "\"process_credentials\":{\"uid\":0,\"gid\":0,\"euid\":0,\"egid\":0,"
			    "\"suid\":0,\"sgid\":0,\"fsuid\":0,\"fsgid\":0}}},"
			    "\"time\":\"1970-01-01T00:00:00Z\"}");
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

	s->exec.type = VIGIL_EVENT_KPROBE;
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
	mp_str(&m, "process_alert");
	msgpack_pack_map(&m.pk, 0);
	msg = vigil_msg__decode(m.sb.data, m.sb.size);
	assert_non_null(msg);
	assert_int_equal(vigil_msg__type(msg), 0);
	assert_string_equal(vigil_msg__type_key(msg), "process_alert");
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
	mp_str(&m, "process_alert");
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "process");
	msgpack_pack_map(&m.pk, 1);
	mp_str(&m, "binary");
	mp_str(&m, "/bin/sh");
	mp_str(&m, "node_name");
	mp_str(&m, "my node");
	s->msg = decode_or_fail(&m);
	assert_int_equal(vigil_msg__to_compact(s->msg, NULL, &s->out), 0);
	assert_string_equal(s->out.data, "❓ process_alert \"my node\" /bin/sh");
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

		T(test_exec_json_matches_golden),
		T(test_exit_signal_json_matches_golden),
		T(test_exit_status_json_matches_golden),
		T(test_zero_refcnt_is_omitted),
		T(test_empty_arguments_are_omitted),
		T(test_missing_parent_omits_parent_key),
		T(test_minimal_process_keeps_only_wrapper_fields),
		T(test_host_namespace_without_inode_keeps_is_host),
		T(test_unnamed_signal_is_omitted),
		T(test_encode_rejects_type_it_cannot_build),
		T(test_strings_are_msgpack_str),

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
		T(test_compact_empty_args_keep_trailing_space),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
