/* json_list.c - reading lists of JSON filter objects (jansson), and the errors about them. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "export_internal.h"

int export_fail(struct vigil_export_error *err, int line, int column, int index, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		err->column = column;
		err->index = index;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

uint64_t export_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* 1-based line and column of byte off in text. */
static void position(const char *text, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int export_json_each(const char *text, export_json_fn fn, void *ctx, struct vigil_export_error *err)
{
	size_t off = 0, len = strlen(text), i;
	int index = 0, line, col, ret = 0;
	json_error_t je;
	json_t *v;

	for (;;) {
		while (off < len && isspace((unsigned char)text[off]))
			off++;
		if (off == len)
			break;
		position(text, off, &line, &col);
		v = json_loadb(text + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
		if (!v) {
			/* jansson counts from the start of what it was given */
			return export_fail(err, line + je.line - 1, je.line == 1 ? col + je.column - 1 : je.column,
					   index + 1, "%s", je.text);
		}
		off += (size_t)je.position;
		if (json_is_object(v)) {
			ret = fn(ctx, v, ++index, line, err);
		} else if (json_is_array(v)) {
			for (i = 0; !ret && i < json_array_size(v); i++) {
				if (!json_is_object(json_array_get(v, i)))
					ret = export_fail(err, line, col, index + 1, "expected a JSON object, got %s",
							  json_is_array(json_array_get(v, i)) ? "an array" : "a value");
				else
					ret = fn(ctx, json_array_get(v, i), ++index, line, err);
			}
		} else {
			ret = export_fail(err, line, col, index + 1, "expected a JSON object or an array of objects");
		}
		json_decref(v);
		if (ret)
			return ret;
	}
	return 0;
}

int export_types_add(struct export_types *s, enum vigil_event_type t)
{
	if (export_types_has(s, t))
		return 0;
	if (s->n == EXPORT_MAX_TYPES)
		return -E2BIG;
	s->t[s->n++] = t;
	return 0;
}

bool export_types_has(const struct export_types *s, enum vigil_event_type t)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->t[i] == t)
			return true;
	return false;
}

int export_event_type(json_t *v, enum vigil_event_type *out)
{
	json_int_t n;

	if (json_is_string(v))
		return vigil_event_type_parse(json_string_value(v), out);
	if (!json_is_integer(v))
		return -EINVAL;
	n = json_integer_value(v);
	if (n <= 0 || n > INT32_MAX || !vigil_event_type_name((enum vigil_event_type)n))
		return -EINVAL;
	*out = (enum vigil_event_type)n;
	return 0;
}
