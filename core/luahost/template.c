/* template.c - a rule's output template rendered: "%process.binary ran %{count}x" with the
 * values its lookup finds, "<NA>" for those it does not (Falco's spelling). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "luahost_internal.h"

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

int lh_render(const char *tmpl, lh_lookup_fn lookup, void *ctx, struct vigil_buf *out)
{
	const char *p = tmpl, *name, *end;
	size_t n;
	int err = 0;

	while (!err && *p) {
		end = strchr(p, '%');
		if (!end) {
			err = vigil_buf_puts(out, p);
			break;
		}
		err = vigil_buf_append(out, p, (size_t)(end - p));
		p = end + 1;
		if (err)
			break;
		if (*p == '%') {
			err = vigil_buf_append(out, "%", 1);
			p++;
			continue;
		}
		if (*p == '{' && (end = strchr(p, '}'))) {
			name = p + 1;
			n = (size_t)(end - name);
			p = end + 1;
		} else {
			name = p;
			for (n = 0; name_char(name[n]); n++)
				;
			/* "... renamed %count." ends a sentence, not the name */
			while (n && name[n - 1] == '.')
				n--;
			p = name + n;
		}
		if (!n) {
			err = vigil_buf_append(out, "%", 1);
			continue;
		}
		if (!lookup(ctx, name, n, out))
			err = vigil_buf_puts(out, "<NA>");
	}
	return err;
}

int lh_format_obj(const msgpack_object *o, struct vigil_buf *out)
{
	char num[32];

	switch (o ? o->type : MSGPACK_OBJECT_NIL) {
	case MSGPACK_OBJECT_NIL:
		return 0;
	case MSGPACK_OBJECT_STR:
		vigil_buf_append(out, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		vigil_buf_puts(out, o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(num, sizeof(num), "%" PRIu64, o->via.u64);
		vigil_buf_puts(out, num);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(num, sizeof(num), "%" PRId64, o->via.i64);
		vigil_buf_puts(out, num);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		snprintf(num, sizeof(num), "%.14g", o->via.f64);
		vigil_buf_puts(out, num);
		break;
	default:
		vigil_json_from_msgpack(o, out);
		break;
	}
	return 1;
}
