/* row.c - building a row: column values as text, then one allocation for the store. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "table.h"

void rb_init(struct row_builder *rb)
{
	memset(rb, 0, sizeof(*rb));
}

void rb_reset(struct row_builder *rb, const struct table *t)
{
	size_t i;

	rb->t = t;
	vigil_buf_reset(&rb->text);
	for (i = 0; i < TABLE_MAX_COLUMNS; i++)
		rb->at[i] = SIZE_MAX;
	rb->time = 0;
	rb->pid = 0;
	rb->has_pid = false;
	rb->err = 0;
}

void rb_free(struct row_builder *rb)
{
	vigil_buf_free(&rb->text);
}

static int column_of(const struct row_builder *rb, const char *column)
{
	size_t i;

	for (i = 0; i < rb->t->ncolumns; i++)
		if (!strcmp(rb->t->columns[i].name, column))
			return (int)i;
	return -1;
}

/* Append value + NUL and point the column at it. */
static void set_n(struct row_builder *rb, const char *column, const char *value, size_t n)
{
	int col = column_of(rb, column);
	size_t at = rb->text.len;

	if (col < 0 || rb->err)
		return;
	rb->err = vigil_buf_append(&rb->text, value, n);
	if (!rb->err)
		rb->err = vigil_buf_append(&rb->text, "", 1);
	if (!rb->err)
		rb->at[col] = at;
}

void rb_set(struct row_builder *rb, const char *column, const char *value)
{
	set_n(rb, column, value, strlen(value));
}

void rb_setf(struct row_builder *rb, const char *column, const char *fmt, ...)
{
	char small[128];
	char *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		set_n(rb, column, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&big, fmt, ap) < 0) {
		big = NULL;
		rb->err = -ENOMEM;
	}
	va_end(ap);
	if (big)
		set_n(rb, column, big, strlen(big));
	free(big);
}

void rb_set_obj(struct row_builder *rb, const char *column, const msgpack_object *o)
{
	struct vigil_buf json = { 0 };

	if (!o)
		return;
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		set_n(rb, column, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		rb_setf(rb, column, "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		rb_setf(rb, column, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		rb_set(rb, column, o->via.boolean ? "1" : "0");
		break;
	case MSGPACK_OBJECT_NIL:
		rb_set(rb, column, "");
		break;
	default:
		if (vigil_json_from_msgpack(o, &json))
			rb->err = -ENOMEM;
		else
			set_n(rb, column, json.data ? json.data : "", json.len);
		break;
	}
	vigil_buf_free(&json);
}

/* Columns every event table shares, from Tetragon's process / parent objects. */
static const struct {
	const char *column, *path;
} common_fields[] = {
	{ "tid", "process.tid" },
	{ "pid", "process.pid" },
	{ "parent", "parent.pid" },
	{ "uid", "process.uid" },
	{ "gid", "process.process_credentials.gid" },
	{ "auid", "process.auid" },
	{ "path", "process.binary" },
	{ "binary", "process.binary" },
	{ "exec_id", "process.exec_id" },
	{ "parent_exec_id", "process.parent_exec_id" },
	{ "container_id", "process.docker" },
};

void rb_fill_common(struct row_builder *rb, const struct vigil_msg *m)
{
	int64_t ns = 0;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(common_fields); i++)
		rb_set_obj(rb, common_fields[i].column, vigil_msg__find(m, common_fields[i].path));
	rb->has_pid = !vigil_msg__find_u64(m, "process.pid", &rb->pid);
	/* an event without a readable time is stamped with its arrival */
	if (event_time_ns(m, &ns)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	rb->time = ns / 1000000000;
	rb_setf(rb, "time", "%" PRId64, rb->time);
	/* ntime: boot-time ns, as the bpf_* tables' BPF timestamps were */
	rb_setf(rb, "ntime", "%" PRId64, ns - vigil_boot_to_wall_offset());
}

struct row *rb_finish(struct row_builder *rb, uint64_t arrived)
{
	size_t n = rb->t->ncolumns, head = sizeof(struct row) + n * sizeof(char *), i;
	struct row *row;
	char *text;

	if (rb->err) {
		errno = -rb->err;
		return NULL;
	}
	row = malloc(head + rb->text.len);
	if (!row)
		return NULL;
	text = (char *)row + head;
	if (rb->text.len)
		memcpy(text, rb->text.data, rb->text.len);
	row->time = rb->time;
	row->pid = rb->pid;
	row->has_pid = rb->has_pid;
	row->arrived = arrived;
	for (i = 0; i < n; i++)
		row->values[i] = rb->at[i] == SIZE_MAX ? NULL : text + rb->at[i];
	return row;
}
