/* fields.c - the fields a Falco rule writer sees, and how each is read from an event.
 *
 * Paths are those of Tetragon's JSON export, under the event's body ("process.binary" in
 * {"process_exec": {"process": {...}}}); a leading '/' starts at the root. The table order
 * is the field id both ABIs pass back, so entries are only ever appended.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "falco_internal.h"

/* The view key of each field's path, resolved once per process. */
int8_t fp_field_keys[FP_FIELDS_MAX];
#define field_keys fp_field_keys
static pthread_once_t field_keys_once = PTHREAD_ONCE_INIT;

static void resolve_field_keys(void)
{
	size_t i;

	for (i = 0; i < fp_nfields; i++)
		field_keys[i] = (int8_t)(fp_fields[i].path ? view_key_of(fp_fields[i].path) : -1);
}

void fields_init(void)
{
	pthread_once(&field_keys_once, resolve_field_keys);
}

static const msgpack_object *find(struct fx *x, const struct fp_field *f)
{
	return view_get(x->st, x->v, field_keys[f - fp_fields], &x->err);
}

static const msgpack_object *find_key(struct fx *x, int key)
{
	return view_get(x->st, x->v, key, &x->err);
}

/* Integers, or the decimal strings protojson writes for 64-bit ones (libvigil's rule). */
static int as_u64(const msgpack_object *o, uint64_t *out)
{
	uint64_t v = 0, d;
	uint32_t i;

	if (!o)
		return -ENOENT;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		v = o->via.u64;
	} else if (o->type == MSGPACK_OBJECT_STR && o->via.str.size) {
		for (i = 0; i < o->via.str.size; i++) {
			d = (uint64_t)(o->via.str.ptr[i] - '0');
			if (d > 9 || v > (UINT64_MAX - d) / 10)
				return -ENOENT;
			v = v * 10 + d;
		}
	} else {
		return -ENOENT;
	}
	*out = v;
	return 0;
}

static void get_type_key(struct fx *x, const struct fp_field *f)
{
	fx_str(x, (const char *)x->v->data + x->v->type_off, x->v->type_len);
}

/* Any scalar as text; absent and null are absent. Strings, nearly all of them, are taken
 * from the event's bytes as they are. */
static void get_text(struct fx *x, const struct fp_field *f)
{
	const msgpack_object *o;
	const char *s;
	uint32_t n;

	if (view_str(x->v, field_keys[f - fp_fields], &s, &n)) {
		fx_str(x, s, n);
		return;
	}
	o = find(x, f);
	if (o)
		fx_text(x, o);
}

/* Integers, or the decimal strings protojson writes for 64-bit ones. */
static void get_u64(struct fx *x, const struct fp_field *f)
{
	uint64_t v;

	if (!as_u64(find(x, f), &v))
		fx_u64(x, v);
}

static void get_time(struct fx *x, const struct fp_field *f)
{
	const msgpack_object *o = find(x, f);
	uint64_t ns;

	if (o && o->type == MSGPACK_OBJECT_STR && !vigil_parse_time(o->via.str.ptr, o->via.str.size, &ns))
		fx_u64(x, ns);
}

static void get_list(struct fx *x, const struct fp_field *f)
{
	const msgpack_object *o = find(x, f);
	uint32_t i;

	for (i = 0; o && o->type == MSGPACK_OBJECT_ARRAY && i < o->via.array.size; i++)
		fx_text(x, &o->via.array.ptr[i]);
}

/* The hook: function_name of kprobe and lsm events; a tracepoint event names its
 * subsystem and event instead, written perf's way ("syscalls:sys_enter_openat"). */
static void get_function(struct fx *x, const struct fp_field *f)
{
	const msgpack_object *fn = find_key(x, VK_FUNCTION);
	const msgpack_object *sub = find_key(x, VK_SUBSYS), *ev = find_key(x, VK_EVENT);
	struct vigil_buf *b = &x->st->scratch;

	if (fn) {
		fx_text(x, fn);
		return;
	}
	if (!sub || !ev || sub->type != MSGPACK_OBJECT_STR || ev->type != MSGPACK_OBJECT_STR)
		return;
	vigil_buf_reset(b);
	if (vigil_buf_append(b, sub->via.str.ptr, sub->via.str.size) || vigil_buf_append(b, ":", 1) ||
	    vigil_buf_append(b, ev->via.str.ptr, ev->via.str.size))
		x->err = -ENOMEM;
	else
		fx_str(x, b->data, b->len);
}

/* Tetragon writes exit status 0 by leaving it out: on an exit event, absent means 0. */
static void get_exit_status(struct fx *x, const struct fp_field *f)
{
	uint64_t v = 0;

	if (!view_type_is(x->v, vigil_event_type_key(VIGIL_EVENT_EXIT)))
		return;
	as_u64(find(x, f), &v);
	fx_u64(x, v);
}

/* ---- kprobe / tracepoint / lsm arguments: "args": [{"<kind>_arg": value}, ...] ---- */

static const msgpack_object *args_of(struct fx *x)
{
	const msgpack_object *a = find_key(x, VK_ARGS);

	return a && a->type == MSGPACK_OBJECT_ARRAY ? a : NULL;
}

static bool str_is(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && !memcmp(o->via.str.ptr, s, n);
}

/* The kind of an argument ("file_arg") and its value: Tetragon's KprobeArgument is a map
 * whose first key names the member holding the value; "label" may follow. */
static bool arg_kind(const msgpack_object *arg, const msgpack_object **kind, const msgpack_object **val)
{
	if (arg->type != MSGPACK_OBJECT_MAP || !arg->via.map.size || arg->via.map.ptr[0].key.type != MSGPACK_OBJECT_STR)
		return false;
	*kind = &arg->via.map.ptr[0].key;
	*val = &arg->via.map.ptr[0].val;
	return true;
}

static const msgpack_object *member(const msgpack_object *map, const char *key)
{
	uint32_t i;

	for (i = 0; map->type == MSGPACK_OBJECT_MAP && i < map->via.map.size; i++)
		if (str_is(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	return NULL;
}

/* vigil.args[N]: the value of argument N as text (objects as JSON). */
static void get_arg_n(struct fx *x, const struct fp_field *f)
{
	const msgpack_object *args = args_of(x), *kind, *val;

	if (!args || !x->arg_present || x->arg_index >= args->via.array.size)
		return;
	if (arg_kind(&args->via.array.ptr[x->arg_index], &kind, &val))
		fx_text(x, val);
	else
		fx_text(x, &args->via.array.ptr[x->arg_index]);
}

/* The first value found under one of the (kind, member) pairs, in argument order; a NULL
 * member means the value itself. */
struct pick {
	const char *kind, *member;
};

static const msgpack_object *first_arg(struct fx *x, const struct pick *picks, size_t npicks,
				       bool (*accept)(const msgpack_object *))
{
	const msgpack_object *args = args_of(x), *kind, *val, *v;
	uint32_t i;
	size_t p;

	for (i = 0; args && i < args->via.array.size; i++) {
		if (!arg_kind(&args->via.array.ptr[i], &kind, &val))
			continue;
		for (p = 0; p < npicks; p++) {
			if (!str_is(kind, picks[p].kind))
				continue;
			v = picks[p].member ? member(val, picks[p].member) : val;
			if (v && accept(v))
				return v;
		}
	}
	return NULL;
}

static bool is_path(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size && o->via.str.ptr[0] == '/';
}

static bool is_text(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size;
}

static bool is_port(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
}

/* Paths of files (file_arg, path_arg, linux_binprm_arg); a syscall policy that reads the
 * name as a string (string_arg) counts when the string is absolute. */
static const struct pick path_picks[] = {
	{ "file_arg", "path" }, { "path_arg", "path" }, { "linux_binprm_arg", "path" }, { "string_arg", NULL },
};

static void get_arg_path(struct fx *x, const struct fp_field *f)
{
	const msgpack_object *v = first_arg(x, path_picks, VIGIL_ARRAY_SIZE(path_picks), is_path);

	if (v)
		fx_str(x, v->via.str.ptr, v->via.str.size);
}

static const struct pick daddr_picks[] = {
	{ "sock_arg", "daddr" }, { "skb_arg", "daddr" }, { "sockaddr_arg", "addr" },
};

static void get_arg_daddr(struct fx *x, const struct fp_field *f)
{
	const msgpack_object *v = first_arg(x, daddr_picks, VIGIL_ARRAY_SIZE(daddr_picks), is_text);
	unsigned char addr[16];
	char text[64];

	if (!v || v->via.str.size >= sizeof(text))
		return;
	memcpy(text, v->via.str.ptr, v->via.str.size);
	text[v->via.str.size] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1)
		fx_ip(x, addr, 4);
	else if (inet_pton(AF_INET6, text, addr) == 1)
		fx_ip(x, addr, 16);
}

static const struct pick dport_picks[] = {
	{ "sock_arg", "dport" }, { "skb_arg", "dport" }, { "sockaddr_arg", "port" },
};

static void get_arg_dport(struct fx *x, const struct fp_field *f)
{
	const msgpack_object *v = first_arg(x, dport_picks, VIGIL_ARRAY_SIZE(dport_picks), is_port);

	if (v)
		fx_u64(x, v->via.u64);
}

#define STR(n, p, d, ds) { n, FP_STRING, FIELD_TEXT, d, ds, get_text, p }
#define U64(n, p, d, ds) { n, FP_U64, FIELD_UINT, d, ds, get_u64, p }

const struct fp_field fp_fields[] = {
	{ "vigil.event_type", FP_STRING, 0, "Event type",
	  "The event's key in the JSON export: process_exec, process_exit, process_kprobe, process_tracepoint, "
	  "process_lsm, process_alert", get_type_key, NULL },
	STR("vigil.node_name", "/node_name", "Node", "The node that reported the event"),
	STR("vigil.policy", "policy_name", "Policy", "The TracingPolicy that produced the event"),
	STR("vigil.action", "action", "Action", "What the policy did: KPROBE_ACTION_POST, _SIGKILL, _OVERRIDE, ..."),
	{ "vigil.function", FP_STRING, 0, "Function",
	  "The hook: kernel function of kprobe and lsm events, subsystem:event of tracepoint events", get_function,
	  NULL },
	STR("vigil.message", "message", "Message", "The policy's or the rule's message"),
	{ "vigil.tags", FP_STRING, FIELD_LIST, "Tags", "The policy's or the rule's tags", get_list, "tags" },
	U64("vigil.process.pid", "process.pid", "PID", "Process ID (host namespace)"),
	U64("vigil.process.tid", "process.tid", "TID", "Thread ID that triggered the event"),
	U64("vigil.process.uid", "process.uid", "UID", "Real user ID"),
	U64("vigil.process.auid", "process.auid", "Login UID", "Audit (login) user ID; 4294967295 when unset"),
	STR("vigil.process.binary", "process.binary", "Binary", "Full path of the executed file"),
	STR("vigil.process.arguments", "process.arguments", "Arguments", "Arguments, space-separated, quoted as tetra does"),
	STR("vigil.process.cwd", "process.cwd", "CWD", "Working directory at exec"),
	STR("vigil.process.exec_id", "process.exec_id", "Exec ID", "Unique ID of this process incarnation"),
	{ "vigil.process.start_time", FP_ABSTIME, 0, "Start time", "When the process started (ns since the epoch)",
	  get_time, "process.start_time" },
	STR("vigil.process.flags", "process.flags", "Flags", "How the process was seen: execve, procFS, clone, ..."),
	U64("vigil.parent.pid", "parent.pid", "Parent PID", "Parent's process ID"),
	STR("vigil.parent.binary", "parent.binary", "Parent binary", "Parent's executed file"),
	STR("vigil.parent.arguments", "parent.arguments", "Parent arguments", "Parent's arguments"),
	STR("vigil.parent.exec_id", "parent.exec_id", "Parent exec ID", "Parent's exec ID"),
	{ "vigil.args", FP_STRING, FIELD_INDEX, "Argument",
	  "Argument N of a kprobe, tracepoint or lsm event as text (objects as JSON), e.g. vigil.args[0]",
	  get_arg_n, NULL },
	{ "vigil.arg.path", FP_STRING, 0, "Path argument",
	  "The first file, path or binprm argument's path (or absolute string argument)", get_arg_path, NULL },
	{ "vigil.arg.daddr", FP_IPADDR, 0, "Destination address", "The first socket argument's destination address",
	  get_arg_daddr, NULL },
	{ "vigil.arg.dport", FP_U64, 0, "Destination port", "The first socket argument's destination port",
	  get_arg_dport, NULL },
	{ "vigil.exit.status", FP_U64, 0, "Exit status", "Exit code of a process_exit event (0 when it exited by a signal)",
	  get_exit_status, "status" },
	STR("vigil.exit.signal", "signal", "Exit signal", "Signal that ended the process (SIGKILL, ...), process_exit only"),
	STR("vigil.alert.rule", "rule", "Alert rule", "The Lua rule that raised a process_alert"),
	STR("vigil.alert.priority", "priority", "Alert priority", "The alert's priority"),
};

const size_t fp_nfields = VIGIL_ARRAY_SIZE(fp_fields);
_Static_assert(VIGIL_ARRAY_SIZE(fp_fields) <= FP_FIELDS_MAX, "extraction keeps one result per field id");
