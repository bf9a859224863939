/* table_policy.c - vigil_policy_events: every event a TracingPolicy produced. */
#include "table.h"

static const struct column columns[] = {
	{ "time", "BIGINT", COL_ADDITIONAL },
	{ "eid", "INTEGER", COL_HIDDEN },
	{ "ntime", "TEXT", COL_HIDDEN },
	{ "event", "TEXT", 0 },
	{ "policy", "TEXT", 0 },
	{ "action", "TEXT", 0 },
	{ "function", "TEXT", 0 },
	{ "args", "TEXT", 0 },
	{ "return_value", "TEXT", 0 },
	{ "message", "TEXT", 0 },
	{ "tags", "TEXT", 0 },
	{ "pid", "BIGINT", COL_INDEX },
	{ "tid", "BIGINT", 0 },
	{ "parent", "BIGINT", 0 },
	{ "uid", "BIGINT", 0 },
	{ "binary", "TEXT", 0 },
	{ "exec_id", "TEXT", 0 },
	{ "parent_exec_id", "TEXT", 0 },
	{ "container_id", "TEXT", 0 },
};

static int extract(const struct vigil_msg *m, struct row_builder *rb)
{
	char function[256];

	if (!event_is_policy(m))
		return 0;
	event_function(m, function, sizeof(function));
	rb_fill_common(rb, m);
	rb_set(rb, "event", vigil_msg__type_key(m));
	rb_set(rb, "function", function);
	rb_set_obj(rb, "policy", vigil_msg__find(m, "policy_name"));
	rb_set_obj(rb, "action", vigil_msg__find(m, "action"));
	rb_set_obj(rb, "args", vigil_msg__find(m, "args"));
	rb_set_obj(rb, "return_value", event_return_value(m));
	rb_set_obj(rb, "message", vigil_msg__find(m, "message"));
	rb_set_obj(rb, "tags", vigil_msg__find(m, "tags"));
	return 1;
}

const struct table table_policy_events = {
	.name = "vigil_policy_events",
	.columns = columns,
	.ncolumns = VIGIL_ARRAY_SIZE(columns),
	.extract = extract,
};
