/* table_alerts.c - vigil_alerts: the alerts Lua correlation rules raise (process_alert). */
#include <string.h>

#include "table.h"

static const struct column columns[] = {
	{ "time", "BIGINT", COL_ADDITIONAL },
	{ "eid", "INTEGER", COL_HIDDEN },
	{ "ntime", "TEXT", COL_HIDDEN },
	{ "rule", "TEXT", 0 },
	{ "priority", "TEXT", 0 },
	{ "output", "TEXT", 0 },
	{ "tags", "TEXT", 0 },
	{ "exec_ids", "TEXT", 0 },
	{ "pid", "BIGINT", COL_INDEX },
	{ "binary", "TEXT", 0 },
	{ "exec_id", "TEXT", 0 },
	{ "container_id", "TEXT", 0 },
	{ "alert", "TEXT", 0 },
};

/* The Lua host's alert body is young: each column takes the first of these keys the
 * alert has, so either spelling reaches the table. "alert" keeps the whole body. */
static const struct {
	const char *column;
	const char *keys[3];
} fields[] = {
	{ "rule", { "rule", "rule_name", "name" } },
	{ "priority", { "priority" } },
	{ "output", { "output", "message" } },
	{ "tags", { "tags" } },
	{ "exec_ids", { "exec_ids", "events" } },
};

static int extract(const struct vigil_msg *m, struct row_builder *rb)
{
	const msgpack_object *v;
	size_t i, k;

	if (strcmp(vigil_msg__type_key(m), "process_alert"))
		return 0;
	rb_fill_common(rb, m);
	for (i = 0; i < VIGIL_ARRAY_SIZE(fields); i++) {
		v = NULL;
		for (k = 0; !v && k < VIGIL_ARRAY_SIZE(fields[i].keys) && fields[i].keys[k]; k++)
			v = vigil_msg__find(m, fields[i].keys[k]);
		rb_set_obj(rb, fields[i].column, v);
	}
	rb_set_obj(rb, "alert", vigil_msg__body(m));
	return 1;
}

const struct table table_alerts = {
	.name = "vigil_alerts",
	.columns = columns,
	.ncolumns = VIGIL_ARRAY_SIZE(columns),
	.extract = extract,
};
