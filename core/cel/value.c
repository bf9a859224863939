/* value.c - CEL values from the event tree (protojson's forms in msgpack: 64-bit integers and
 * enums as strings, timestamps as RFC 3339, bytes as base64), protobuf defaults for what is
 * absent, and CEL's equality and ordering. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cel_internal.h"

struct cel_value cel_err(const char *why)
{
	struct cel_value v = {.kind = V_ERR};

	v.v.err = why;
	return v;
}

static struct cel_value mk(unsigned char kind)
{
	struct cel_value v;

	memset(&v, 0, sizeof(v));
	v.kind = kind;
	return v;
}

/* "123" or an integer, as protojson writes 64-bit integers (strings) and 32-bit ones. */
static int int_of(const msgpack_object *o, bool is_signed, int64_t *i, uint64_t *u)
{
	char buf[32], *end;

	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		*u = o->via.u64;
		if (is_signed && o->via.u64 > INT64_MAX)
			return -ERANGE;
		*i = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		if (!is_signed)
			return -ERANGE;
		*i = o->via.i64;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_STR || !o->via.str.size || o->via.str.size >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	errno = 0;
	if (is_signed)
		*i = strtoll(buf, &end, 10);
	else if (buf[0] == '-')
		return -ERANGE;
	else
		*u = strtoull(buf, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static struct cel_value enum_of(const msgpack_object *o, const struct cel_enum *e)
{
	struct cel_value v = mk(V_INT);
	size_t i;

	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		v.v.i = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)(o->via.u64 & 0x7fffffff) : o->via.i64;
		return v;
	}
	if (o->type != MSGPACK_OBJECT_STR)
		return cel_err("an enum field that is neither a name nor a number");
	for (i = 0; e && i < e->n; i++)
		if (strlen(e->values[i].name) == o->via.str.size && !memcmp(e->values[i].name, o->via.str.ptr, o->via.str.size)) {
			v.v.i = e->values[i].number;
			return v;
		}
	return cel_err("an enum value name the schema does not know");
}

/* The default of a field absent from the event (proto3): "", 0, false, null for wrappers, an
 * empty list or map, an unset message, the epoch. */
static struct cel_value absent(const struct cel_field *f, bool item)
{
	struct cel_value v = mk(V_NULL);

	if (f->repeated && !item) {
		v.kind = V_LIST;
		v.v.c.f = f;
		return v;
	}
	switch (f->kind) {
	case CELF_STRING: v.kind = V_STRING; v.v.s.p = ""; break;
	case CELF_BYTES: v.kind = V_BYTES; v.v.s.p = ""; break;
	case CELF_BOOL: v.kind = V_BOOL; break;
	case CELF_INT32: case CELF_INT64: case CELF_ENUM: v.kind = V_INT; break;
	case CELF_UINT32: case CELF_UINT64: v.kind = V_UINT; break;
	case CELF_DOUBLE: v.kind = V_DOUBLE; break;
	case CELF_MSG: v.kind = V_MSG; v.v.msg.m = f->msg; break;
	case CELF_TIMESTAMP: v.kind = V_TS; break;
	case CELF_MAP: v.kind = V_MAP; v.v.c.f = f; break;
	default: break;	/* wrappers: null */
	}
	return v;
}

/* bools and numbers, in protojson's forms */
static struct cel_value number_of(const msgpack_object *o, const struct cel_field *f)
{
	struct cel_value v = mk(V_NULL);
	int64_t i = 0;
	uint64_t u = 0;

	switch (f->kind) {
	case CELF_BOOL: case CELF_WRAP_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			return cel_err("a bool field that is not a bool");
		v.kind = V_BOOL;
		v.v.b = o->via.boolean;
		return v;
	case CELF_INT32: case CELF_INT64: case CELF_WRAP_INT32: case CELF_WRAP_INT64:
		if (int_of(o, true, &i, &u))
			return cel_err("an int field that is not an integer");
		v.kind = V_INT;
		v.v.i = i;
		return v;
	case CELF_UINT32: case CELF_UINT64: case CELF_WRAP_UINT32: case CELF_WRAP_UINT64:
		if (int_of(o, false, &i, &u))
			return cel_err("a uint field that is not an unsigned integer");
		v.kind = V_UINT;
		v.v.u = u;
		return v;
	case CELF_DOUBLE: case CELF_WRAP_DOUBLE:
		v.kind = V_DOUBLE;
		if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
			v.v.d = o->via.f64;
		else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			v.v.d = (double)o->via.u64;
		else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			v.v.d = (double)o->via.i64;
		else
			return cel_err("a double field that is not a number");
		return v;
	default:
		return cel_err("a field of an unknown kind");
	}
}

struct cel_value cel_from_field(struct vigil_cel *p, const msgpack_object *o, const struct cel_field *f, bool item)
{
	struct cel_value v = mk(V_NULL);
	int64_t i = 0;
	char *buf;
	int n;

	if (!o || o->type == MSGPACK_OBJECT_NIL)
		return absent(f, item);
	if (f->repeated && !item) {
		if (o->type != MSGPACK_OBJECT_ARRAY)
			return cel_err("a repeated field that is not a list");
		v.kind = V_LIST;
		v.v.c.o = o;
		v.v.c.f = f;
		v.v.c.n = o->via.array.size;
		return v;
	}
	switch (f->kind) {
	case CELF_STRING: case CELF_WRAP_STRING:
		if (o->type != MSGPACK_OBJECT_STR)
			return cel_err("a string field that is not a string");
		v.kind = V_STRING;
		v.v.s.p = o->via.str.ptr;
		v.v.s.n = o->via.str.size;
		return v;
	case CELF_BYTES:
		v.kind = V_BYTES;
		if (o->type == MSGPACK_OBJECT_BIN) {
			v.v.s.p = o->via.bin.ptr;
			v.v.s.n = o->via.bin.size;
			return v;
		}
		if (o->type != MSGPACK_OBJECT_STR)
			return cel_err("a bytes field that is neither bytes nor base64");
		buf = cel_scratch(p, o->via.str.size + 1);
		if (!buf)
			return cel_err("evaluation memory limit");
		n = vigil_base64_decode(o->via.str.ptr, o->via.str.size, buf, o->via.str.size + 1);
		if (n < 0)
			return cel_err("a bytes field that is not base64");
		v.v.s.p = buf;
		v.v.s.n = (size_t)n;
		return v;
	case CELF_BOOL: case CELF_WRAP_BOOL: case CELF_INT32: case CELF_INT64: case CELF_WRAP_INT32: case CELF_WRAP_INT64:
	case CELF_UINT32: case CELF_UINT64: case CELF_WRAP_UINT32: case CELF_WRAP_UINT64: case CELF_DOUBLE:
	case CELF_WRAP_DOUBLE:
		return number_of(o, f);
	case CELF_ENUM:
		return enum_of(o, f->en);
	case CELF_MSG:
		if (o->type != MSGPACK_OBJECT_MAP)
			return cel_err("a message field that is not a map");
		v.kind = V_MSG;
		v.v.msg.o = o;
		v.v.msg.m = f->msg;
		return v;
	case CELF_TIMESTAMP:
		if (o->type != MSGPACK_OBJECT_STR || cel_parse_ts(o->via.str.ptr, o->via.str.size, &i))
			return cel_err("a timestamp field that is not RFC 3339");
		v.kind = V_TS;
		v.v.ts = i;
		return v;
	case CELF_MAP:
		if (o->type != MSGPACK_OBJECT_MAP)
			return cel_err("a map field that is not a map");
		v.kind = V_MAP;
		v.v.c.o = o;
		v.v.c.f = f;
		v.v.c.n = o->via.map.size;
		return v;
	}
	return cel_err("a field of an unknown kind");
}

/* map<string, string> values read as strings */
static const struct cel_field string_value = {"value", CELF_STRING, false, NULL, NULL};

struct cel_value cel_list_item(struct vigil_cel *p, const struct cel_value *l, uint32_t i)
{
	if (i >= l->v.c.n)
		return cel_err("index out of range");
	if (l->v.c.o)
		return cel_from_field(p, &l->v.c.o->via.array.ptr[i], l->v.c.f, true);
	return l->v.c.items[i];
}

struct cel_value cel_map_key(struct vigil_cel *p, const struct cel_value *m, uint32_t i)
{
	struct cel_value k = mk(V_STRING);

	if (!m->v.c.o)
		return m->v.c.items[2 * i];
	if (m->v.c.o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
		return cel_err("a map key that is not a string");
	k.v.s.p = m->v.c.o->via.map.ptr[i].key.via.str.ptr;
	k.v.s.n = m->v.c.o->via.map.ptr[i].key.via.str.size;
	return k;
}

struct cel_value cel_map_get(struct vigil_cel *p, const struct cel_value *m, const struct cel_value *key, bool *found)
{
	struct cel_value k, eq;
	uint32_t i;

	*found = false;
	for (i = 0; i < m->v.c.n; i++) {
		k = cel_map_key(p, m, i);
		if (k.kind == V_ERR)
			return k;
		eq = cel_equal(p, &k, key);
		if (eq.kind == V_BOOL && eq.v.b) {
			*found = true;
			if (m->v.c.o)
				return cel_from_field(p, &m->v.c.o->via.map.ptr[i].val, &string_value, false);
			return m->v.c.items[2 * i + 1];
		}
	}
	return cel_err("no such key");
}

bool cel_present(const struct cel_value *v, const struct cel_field *f, bool found)
{
	if (!found || v->kind == V_NULL)
		return false;
	if (f->repeated || f->kind == CELF_MAP)
		return v->v.c.n > 0;
	switch (f->kind) {
	/* proto3 scalars have no presence: set means not the default */
	case CELF_STRING: case CELF_BYTES: return v->v.s.n > 0;
	case CELF_BOOL: return v->v.b;
	case CELF_INT32: case CELF_INT64: case CELF_ENUM: return v->v.i != 0;
	case CELF_UINT32: case CELF_UINT64: return v->v.u != 0;
	case CELF_DOUBLE: return v->v.d != 0;
	default: return true;	/* messages, wrappers, timestamps: present */
	}
}

struct cel_value cel_msg_field(struct vigil_cel *p, const struct cel_value *msg, const struct cel_field *f,
			       bool *present)
{
	const msgpack_object *o = msg->v.msg.o, *val = NULL;
	struct cel_value v;
	size_t n = strlen(f->name);
	uint32_t i;

	for (i = 0; o && i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && !memcmp(k->via.str.ptr, f->name, n)) {
			val = &o->via.map.ptr[i].val;
			break;
		}
	}
	v = cel_from_field(p, val, f, false);
	if (present)
		*present = v.kind != V_ERR && cel_present(&v, f, val && val->type != MSGPACK_OBJECT_NIL);
	return v;
}

/* ---- equality and ordering ---- */

static bool is_number(unsigned char k)
{
	return k == V_INT || k == V_UINT || k == V_DOUBLE;
}

/* numbers of any kind by value: -1, 0, 1; *ok false for NaN */
static int num_compare(const struct cel_value *a, const struct cel_value *b, bool *ok)
{
	double x, y;

	*ok = true;
	if (a->kind == b->kind && a->kind == V_INT)
		return (a->v.i > b->v.i) - (a->v.i < b->v.i);
	if (a->kind == b->kind && a->kind == V_UINT)
		return (a->v.u > b->v.u) - (a->v.u < b->v.u);
	if (a->kind == V_INT && b->kind == V_UINT)
		return a->v.i < 0 ? -1 : ((uint64_t)a->v.i > b->v.u) - ((uint64_t)a->v.i < b->v.u);
	if (a->kind == V_UINT && b->kind == V_INT)
		return b->v.i < 0 ? 1 : (a->v.u > (uint64_t)b->v.i) - (a->v.u < (uint64_t)b->v.i);
	x = a->kind == V_DOUBLE ? a->v.d : a->kind == V_INT ? (double)a->v.i : (double)a->v.u;
	y = b->kind == V_DOUBLE ? b->v.d : b->kind == V_INT ? (double)b->v.i : (double)b->v.u;
	if (isnan(x) || isnan(y)) {
		*ok = false;
		return 0;
	}
	return (x > y) - (x < y);
}

int cel_compare(const struct cel_value *a, const struct cel_value *b, bool *ok)
{
	size_t n;
	int d;

	*ok = true;
	if (is_number(a->kind) && is_number(b->kind))
		return num_compare(a, b, ok);
	if (a->kind != b->kind) {
		*ok = false;
		return 0;
	}
	switch (a->kind) {
	case V_BOOL: return (a->v.b > b->v.b) - (a->v.b < b->v.b);
	case V_TS: return (a->v.ts > b->v.ts) - (a->v.ts < b->v.ts);
	case V_STRING: case V_BYTES:
		/* bytewise order of UTF-8 is the order of code points */
		n = a->v.s.n < b->v.s.n ? a->v.s.n : b->v.s.n;
		d = n ? memcmp(a->v.s.p, b->v.s.p, n) : 0;
		if (d)
			return d < 0 ? -1 : 1;
		return (a->v.s.n > b->v.s.n) - (a->v.s.n < b->v.s.n);
	default:
		*ok = false;
		return 0;
	}
}

static struct cel_value boolean(bool b)
{
	struct cel_value v = mk(V_BOOL);

	v.v.b = b;
	return v;
}

struct cel_value cel_equal(struct vigil_cel *p, const struct cel_value *a, const struct cel_value *b)
{
	struct cel_value x, y, eq;
	bool ok, found;
	uint32_t i;
	int d;

	if (a->kind == V_ERR)
		return *a;
	if (b->kind == V_ERR)
		return *b;
	if (is_number(a->kind) && is_number(b->kind)) {
		d = num_compare(a, b, &ok);
		return boolean(ok && !d);
	}
	if (a->kind != b->kind)
		return boolean(false);
	switch (a->kind) {
	case V_NULL: return boolean(true);
	case V_BOOL: case V_STRING: case V_BYTES: case V_TS:
		d = cel_compare(a, b, &ok);
		return boolean(ok && !d);
	case V_IP: case V_CIDR:
		return boolean(cel_net_equal(a, b));
	case V_LIST:
		if (a->v.c.n != b->v.c.n)
			return boolean(false);
		for (i = 0; i < a->v.c.n; i++) {
			if (--p->steps < 0)
				return cel_err("evaluation step limit");
			x = cel_list_item(p, a, i);
			y = cel_list_item(p, b, i);
			eq = cel_equal(p, &x, &y);
			if (eq.kind != V_BOOL || !eq.v.b)
				return eq;
		}
		return boolean(true);
	case V_MAP:
		if (a->v.c.n != b->v.c.n)
			return boolean(false);
		for (i = 0; i < a->v.c.n; i++) {
			if (--p->steps < 0)
				return cel_err("evaluation step limit");
			x = cel_map_key(p, a, i);
			if (x.kind == V_ERR)
				return x;
			y = cel_map_get(p, b, &x, &found);
			if (!found)
				return boolean(false);
			x = cel_map_get(p, a, &x, &found);
			eq = cel_equal(p, &x, &y);
			if (eq.kind != V_BOOL || !eq.v.b)
				return eq;
		}
		return boolean(true);
	default:
		/* messages: the checker lets only `== null` through (false for a message); dyn()
		 * can smuggle two in, and an answer vigil cannot give is an error, not false */
		return cel_err("comparing messages is not supported");
	}
}

/* ---- timestamps ---- */

int cel_parse_ts(const char *s, size_t n, int64_t *ns)
{
	uint64_t wall;

	/* RFC 3339 in UTC ("Z"), as protojson writes Timestamps; before 1970 is refused */
	if (vigil_parse_time(s, n, &wall) || wall > INT64_MAX)
		return -EINVAL;
	*ns = (int64_t)wall;
	return 0;
}

struct cel_value cel_format_ts(struct vigil_cel *p, int64_t ns)
{
	struct cel_value v = mk(V_STRING);
	char *out = cel_scratch(p, 40);

	if (!out)
		return cel_err("evaluation memory limit");
	if (ns < 0)
		return cel_err("a timestamp before 1970");
	vigil_format_time((uint64_t)ns, out);
	v.v.s.p = out;
	v.v.s.n = strlen(out);
	return v;
}
