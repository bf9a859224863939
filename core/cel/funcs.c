/* funcs.c - CEL's standard functions that vigil implements: size, contains, startsWith,
 * endsWith, matches, and the conversions int, uint, double, string, bytes, bool, dyn and
 * timestamp, with CEL's range and format errors. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_internal.h"

static struct cel_value mk(unsigned char kind)
{
	struct cel_value v;

	memset(&v, 0, sizeof(v));
	v.kind = kind;
	return v;
}

/* Code points of valid UTF-8 (CEL's size of a string); -1 when s is not UTF-8. */
static int64_t utf8_len(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	int64_t count = 0;
	uint32_t cp;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			count++;
			continue;
		}
		need = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? (c < 0xf0 ? 2 : 0) : c >= 0xc2 ? 1 : 0;
		if (!need)
			return -1;
		cp = c & (0x3f >> need);
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return -1;
		i += need + 1;
		count++;
	}
	return count;
}

static bool has_sub(const struct cel_value *s, const struct cel_value *t, int where)
{
	if (t->v.s.n > s->v.s.n)
		return false;
	if (!t->v.s.n)
		return true;
	if (where < 0)
		return !memcmp(s->v.s.p, t->v.s.p, t->v.s.n);
	if (where > 0)
		return !memcmp(s->v.s.p + s->v.s.n - t->v.s.n, t->v.s.p, t->v.s.n);
	/* glibc's memmem is linear (two-way): a long subject of repeated bytes costs no more */
	return memmem(s->v.s.p, s->v.s.n, t->v.s.p, t->v.s.n) != NULL;
}

/* regexec needs a terminated string; a NUL inside the subject cuts what glibc sees, so a
 * subject with one is matched as far as its first NUL */
static struct cel_value matches(struct vigil_cel *p, const struct cel_node *n, const struct cel_value *s)
{
	char *text = cel_scratch(p, s->v.s.n + 1);
	struct cel_value v = mk(V_BOOL);

	if (!text)
		return cel_err("evaluation memory limit");
	memcpy(text, s->v.s.p, s->v.s.n);
	text[s->v.s.n] = '\0';
	v.v.b = !regexec(n->re, text, 0, NULL, 0);
	return v;
}

/* s[0..n) as a C string in buf, or NULL when it does not fit */
static const char *cstr(const struct cel_value *s, char *buf, size_t size)
{
	if (s->v.s.n >= size || memchr(s->v.s.p, '\0', s->v.s.n))
		return NULL;
	memcpy(buf, s->v.s.p, s->v.s.n);
	buf[s->v.s.n] = '\0';
	return buf;
}

static struct cel_value to_int(const struct cel_value *a)
{
	struct cel_value v = mk(V_INT);
	char buf[64], *end;
	const char *s;

	switch (a->kind) {
	case V_INT: return *a;
	case V_UINT:
		if (a->v.u > INT64_MAX)
			return cel_err("int() range error");
		v.v.i = (int64_t)a->v.u;
		return v;
	case V_DOUBLE:
		/* the doubles that truncate into int64's range */
		if (!(a->v.d > -9223372036854775808.0 - 1025.0 && a->v.d < 9223372036854775808.0))
			return cel_err("int() range error");
		v.v.i = (int64_t)a->v.d;
		return v;
	case V_TS:
		v.v.i = a->v.ts / 1000000000;
		return v;
	case V_STRING:
		s = cstr(a, buf, sizeof(buf));
		if (!s || !*s)
			return cel_err("int() of a string that is not an integer");
		errno = 0;
		v.v.i = strtoll(s, &end, 10);
		if (errno || *end || s[0] == '+' || s[0] == ' ')
			return cel_err("int() of a string that is not an integer");
		return v;
	default: return cel_err("no matching overload for int()");
	}
}

static struct cel_value to_uint(const struct cel_value *a)
{
	struct cel_value v = mk(V_UINT);
	char buf[64], *end;
	const char *s;

	switch (a->kind) {
	case V_UINT: return *a;
	case V_INT:
		if (a->v.i < 0)
			return cel_err("uint() range error");
		v.v.u = (uint64_t)a->v.i;
		return v;
	case V_DOUBLE:
		if (!(a->v.d > -1.0 && a->v.d < 18446744073709551616.0))
			return cel_err("uint() range error");
		v.v.u = (uint64_t)a->v.d;
		return v;
	case V_STRING:
		s = cstr(a, buf, sizeof(buf));
		if (!s || *s < '0' || *s > '9')
			return cel_err("uint() of a string that is not an unsigned integer");
		errno = 0;
		v.v.u = strtoull(s, &end, 10);
		if (errno || *end)
			return cel_err("uint() of a string that is not an unsigned integer");
		return v;
	default: return cel_err("no matching overload for uint()");
	}
}

static struct cel_value to_double(const struct cel_value *a)
{
	struct cel_value v = mk(V_DOUBLE);
	char buf[128], *end;
	const char *s;

	switch (a->kind) {
	case V_DOUBLE: return *a;
	case V_INT: v.v.d = (double)a->v.i; return v;
	case V_UINT: v.v.d = (double)a->v.u; return v;
	case V_STRING:
		s = cstr(a, buf, sizeof(buf));
		if (!s || !*s || *s == ' ')
			return cel_err("double() of a string that is not a number");
		v.v.d = strtod(s, &end);
		if (*end)
			return cel_err("double() of a string that is not a number");
		return v;
	default: return cel_err("no matching overload for double()");
	}
}

static struct cel_value to_string(struct vigil_cel *p, const struct cel_value *a)
{
	struct cel_value v = mk(V_STRING);
	char *out;

	switch (a->kind) {
	case V_STRING: return *a;
	case V_BYTES:
		if (utf8_len((const unsigned char *)a->v.s.p, a->v.s.n) < 0)
			return cel_err("string() of bytes that are not UTF-8");
		v.v.s = a->v.s;
		return v;
	case V_BOOL:
		v.v.s.p = a->v.b ? "true" : "false";
		v.v.s.n = strlen(v.v.s.p);
		return v;
	case V_TS: return cel_format_ts(p, a->v.ts);
	case V_IP: case V_CIDR: return cel_net_string(p, a);
	case V_INT: case V_UINT: case V_DOUBLE:
		out = cel_scratch(p, 40);
		if (!out)
			return cel_err("evaluation memory limit");
		if (a->kind == V_INT)
			snprintf(out, 40, "%" PRId64, a->v.i);
		else if (a->kind == V_UINT)
			snprintf(out, 40, "%" PRIu64, a->v.u);
		else if (isnan(a->v.d))
			snprintf(out, 40, "NaN");
		else if (isinf(a->v.d))
			snprintf(out, 40, "%s", a->v.d > 0 ? "+Inf" : "-Inf");
		else
			snprintf(out, 40, "%.17g", a->v.d);
		v.v.s.p = out;
		v.v.s.n = strlen(out);
		return v;
	default: return cel_err("no matching overload for string()");
	}
}

static struct cel_value to_bool(const struct cel_value *a)
{
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
	struct cel_value v = mk(V_BOOL);
	size_t i;

	if (a->kind == V_BOOL)
		return *a;
	for (i = 0; i < VIGIL_ARRAY_SIZE(yes); i++) {
		if (strlen(yes[i]) == a->v.s.n && !memcmp(yes[i], a->v.s.p, a->v.s.n)) {
			v.v.b = true;
			return v;
		}
		if (strlen(no[i]) == a->v.s.n && !memcmp(no[i], a->v.s.p, a->v.s.n))
			return v;
	}
	return cel_err("bool() of a string that is not a boolean");
}

static struct cel_value size_of(const struct cel_value *a)
{
	struct cel_value v = mk(V_INT);

	switch (a->kind) {
	case V_STRING:
		v.v.i = utf8_len((const unsigned char *)a->v.s.p, a->v.s.n);
		/* the encoder writes UTF-8 (invalid bytes replaced); anything else counts bytes */
		if (v.v.i < 0)
			v.v.i = (int64_t)a->v.s.n;
		return v;
	case V_BYTES: v.v.i = (int64_t)a->v.s.n; return v;
	case V_LIST: case V_MAP: v.v.i = a->v.c.n; return v;
	default: return cel_err("no matching overload for size()");
	}
}

struct cel_value cel_call(struct vigil_cel *p, const struct cel_node *n, const struct cel_value *args, int nargs)
{
	struct cel_value v = mk(V_BOOL);

	if (nargs < 1)
		return cel_err("a call without arguments");
	switch (n->fn) {
	case F_SIZE: return size_of(&args[0]);
	case F_CONTAINS: case F_STARTS: case F_ENDS: case F_MATCHES:
		if (nargs != 2 || args[0].kind != V_STRING || args[1].kind != V_STRING)
			return cel_err("no matching overload for a string function");
		if (n->fn == F_MATCHES)
			return matches(p, n, &args[0]);
		v.v.b = has_sub(&args[0], &args[1], n->fn == F_STARTS ? -1 : n->fn == F_ENDS ? 1 : 0);
		return v;
	case F_INT: return to_int(&args[0]);
	case F_UINT: return to_uint(&args[0]);
	case F_DOUBLE: return to_double(&args[0]);
	case F_STRING: return to_string(p, &args[0]);
	case F_BYTES:
		if (args[0].kind != V_STRING && args[0].kind != V_BYTES)
			return cel_err("no matching overload for bytes()");
		v = args[0];
		v.kind = V_BYTES;
		return v;
	case F_BOOL:
		if (args[0].kind != V_STRING && args[0].kind != V_BOOL)
			return cel_err("no matching overload for bool()");
		return to_bool(&args[0]);
	case F_DYN: return args[0];
	case F_TIMESTAMP:
		if (args[0].kind == V_TS)
			return args[0];
		if (args[0].kind != V_STRING)
			return cel_err("no matching overload for timestamp()");
		v.kind = V_TS;
		if (cel_parse_ts(args[0].v.s.p, args[0].v.s.n, &v.v.ts))
			return cel_err("timestamp() of a string that is not an RFC 3339 time in UTC");
		return v;
	default: return cel_net_call(p, n, args, nargs);
	}
}
