/* table_file.c - vigil_file_events: policy events that name a file. */
#include <string.h>

#include "table.h"

/* bpf_process_events' process columns, then the file (named as the bpf_file_events
 * proposal, osquery#7947, named them), then vigil's own. */
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
	{ "file_path", "TEXT", 0 },
	{ "flags", "TEXT", 0 },
	{ "permission", "TEXT", 0 },
	{ "ntime", "TEXT", 0 },
	{ "time", "BIGINT", COL_HIDDEN | COL_ADDITIONAL },
	{ "eid", "INTEGER", COL_HIDDEN },
	{ "exec_id", "TEXT", 0 },
	{ "parent_exec_id", "TEXT", 0 },
	{ "container_id", "TEXT", 0 },
	{ "policy", "TEXT", 0 },
	{ "action", "TEXT", 0 },
};

/* Typed file arguments: Tetragon fills path, permission and flags in each. */
static const char *const file_args[] = { "file_arg", "path_arg", "linux_binprm_arg" };

/* Syscall tracepoints pass a file name as a plain string argument; these hooks take
 * one first, so their first string_arg is the file. */
static const char *const path_syscalls[] = {
	"open", "creat", "unlink", "rename", "chmod", "chown", "mkdir", "rmdir", "truncate", "link", "mknod",
};

static bool takes_path(const char *function)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(path_syscalls); i++)
		if (strstr(function, path_syscalls[i]))
			return true;
	return false;
}

static int extract(const struct vigil_msg *m, struct row_builder *rb)
{
	const msgpack_object *file = NULL, *name = NULL;
	char function[256];
	size_t i;

	if (!event_is_policy(m))
		return 0;
	event_function(m, function, sizeof(function));
	for (i = 0; !file && i < VIGIL_ARRAY_SIZE(file_args); i++)
		file = event_arg(m, file_args[i]);
	if (!file && takes_path(function))
		name = event_arg(m, "string_arg");
	if (!file && !name)
		return 0;
	rb_fill_common(rb, m);
	rb_set(rb, "syscall", function);
	rb_set(rb, "probe_error", "0");
	rb_set_obj(rb, "exit_code", event_return_value(m));
	rb_set_obj(rb, "policy", vigil_msg__find(m, "policy_name"));
	rb_set_obj(rb, "action", vigil_msg__find(m, "action"));
	if (file) {
		rb_set_obj(rb, "file_path", obj_get(file, "path"));
		rb_set_obj(rb, "flags", obj_get(file, "flags"));
		rb_set_obj(rb, "permission", obj_get(file, "permission"));
	} else {
		rb_set_obj(rb, "file_path", name);
	}
	return 1;
}

const struct table table_file_events = {
	.name = "vigil_file_events",
	.columns = columns,
	.ncolumns = VIGIL_ARRAY_SIZE(columns),
	.extract = extract,
};
