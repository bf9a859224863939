/* table_process.c - vigil_process_events: exec and exit, with bpf_process_events' columns. */
#include <errno.h>
#include <string.h>

#include "table.h"

/* bpf_process_events' columns, names and types, in its order; then vigil's own. */
static const struct column columns[] = {
	{ "tid", "BIGINT", 0 },
	{ "pid", "BIGINT", COL_INDEX },
	{ "parent", "BIGINT", 0 },
	{ "uid", "BIGINT", 0 },
	{ "gid", "BIGINT", 0 },
	{ "cid", "INTEGER", 0 },
	{ "exit_code", "TEXT", 0 },
	{ "probe_error", "INTEGER", 0 },
	{ "syscall", "TEXT", 0 },
	{ "path", "TEXT", 0 },
	{ "cwd", "TEXT", 0 },
	{ "cmdline", "TEXT", 0 },
	{ "duration", "INTEGER", 0 },
	{ "json_cmdline", "TEXT", COL_HIDDEN },
	{ "ntime", "TEXT", 0 },
	{ "time", "BIGINT", COL_HIDDEN | COL_ADDITIONAL },
	{ "eid", "INTEGER", COL_HIDDEN },
	{ "exec_id", "TEXT", 0 },
	{ "parent_exec_id", "TEXT", 0 },
	{ "binary", "TEXT", 0 },
	{ "container_id", "TEXT", 0 },
	{ "auid", "BIGINT", 0 },
	{ "signal", "TEXT", 0 },
};

/* Process flags that mean part of the record could not be read: bpf_process_events'
 * probe_error. */
static const char *const error_flags[] = {
	"truncFilename", "truncArgs", "errorFilename", "errorArgs", "errorCWD", "miss",
};

static bool has_error_flag(const char *flags)
{
	size_t i, n;
	const char *p;

	for (i = 0; i < VIGIL_ARRAY_SIZE(error_flags); i++) {
		n = strlen(error_flags[i]);
		for (p = strstr(flags, error_flags[i]); p; p = strstr(p + 1, error_flags[i]))
			if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
				return true;
	}
	return false;
}

/* One argument of Tetragon's `arguments` string: a bare word, or "..." with \" and \\
 * escaped (how core/pcache quotes arguments that hold a space or are empty). Puts the
 * decoded argument in arg and returns where the next one starts. */
static const char *split_one(const char *s, struct vigil_buf *arg, int *err)
{
	const char *q;

	vigil_buf_reset(arg);
	if (*s == '"') {
		/* quoted only if an unescaped closing quote ends the word */
		for (q = s + 1; *q && *q != '"'; q++)
			if (*q == '\\' && q[1])
				q++;
		if (*q == '"' && (q[1] == ' ' || !q[1])) {
			for (s++; !*err && s < q; s++) {
				if (*s == '\\' && s + 1 < q)
					s++;
				*err = vigil_buf_append(arg, s, 1);
			}
			return q[1] ? q + 2 : q + 1;
		}
	}
	q = strchrnul(s, ' ');
	*err = vigil_buf_append(arg, s, (size_t)(q - s));
	return *q ? q + 1 : q;
}

/* ["<binary>", "<arg1>", ...]: argv[0] is not in the event, the binary stands for it. */
static int json_cmdline(const char *binary, const char *args, struct vigil_buf *out)
{
	struct vigil_buf arg = { 0 };
	int err;

	err = vigil_buf_append(out, "[", 1);
	if (!err)
		err = json_put_string(out, binary, strlen(binary));
	while (!err && *args) {
		args = split_one(args, &arg, &err);
		if (!err)
			err = vigil_buf_append(out, ",", 1);
		if (!err)
			err = json_put_string(out, arg.data ? arg.data : "", arg.len);
	}
	if (!err)
		err = vigil_buf_append(out, "]", 1);
	vigil_buf_free(&arg);
	return err;
}

static int fill_command(const struct vigil_msg *m, struct row_builder *rb)
{
	char binary[4096] = "", flags[256] = "";
	struct vigil_buf args = { 0 }, json = { 0 };
	const msgpack_object *a = vigil_msg__find(m, "process.arguments");
	int err = 0;

	vigil_msg__find_str(m, "process.binary", binary, sizeof(binary));
	vigil_msg__find_str(m, "process.flags", flags, sizeof(flags));
	rb_set(rb, "probe_error", has_error_flag(flags) ? "1" : "0");
	rb_set_obj(rb, "cwd", vigil_msg__find(m, "process.cwd"));
	if (a && a->type == MSGPACK_OBJECT_STR)
		err = vigil_buf_append(&args, a->via.str.ptr, a->via.str.size);
	else
		err = vigil_buf_append(&args, "", 0);
	if (err)
		goto out;
	if (args.len)
		rb_setf(rb, "cmdline", "%s %s", binary, args.data);
	else
		rb_set(rb, "cmdline", binary);
	err = json_cmdline(binary, args.data, &json);
	if (!err)
		rb_set(rb, "json_cmdline", json.data);
out:
	vigil_buf_free(&args);
	vigil_buf_free(&json);
	return err;
}

static int extract(const struct vigil_msg *m, struct row_builder *rb)
{
	enum vigil_event_type type = vigil_msg__type(m);
	uint64_t status = 0;
	int err;

	if (type != VIGIL_EVENT_EXEC && type != VIGIL_EVENT_EXIT)
		return 0;
	rb_fill_common(rb, m);
	err = fill_command(m, rb);
	if (err)
		return err;
	if (type == VIGIL_EVENT_EXEC) {
		rb_set(rb, "syscall", "exec");
		rb_set(rb, "exit_code", "0");	/* the exec succeeded: the kernel saw its image */
	} else {
		/* protojson leaves out a zero status and an absent signal */
		vigil_msg__find_u64(m, "status", &status);
		rb_set(rb, "syscall", "exit");
		rb_setf(rb, "exit_code", "%llu", (unsigned long long)status);
		rb_set(rb, "signal", "");
		rb_set_obj(rb, "signal", vigil_msg__find(m, "signal"));
	}
	return 1;
}

const struct table table_process_events = {
	.name = "vigil_process_events",
	.columns = columns,
	.ncolumns = VIGIL_ARRAY_SIZE(columns),
	.extract = extract,
};
