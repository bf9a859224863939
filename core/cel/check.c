/* check.c - names and types, as Tetragon's CEL environment checks them before it evaluates:
 * event variables, fields of Tetragon's messages (schema.c), enum constants, comprehension
 * variables; functions and operators with the argument types CEL's standard library
 * declares (no cross-type numeric overloads: Tetragon's environment does not enable them);
 * macros turned into comprehensions; static paths for lookups into the event; and the
 * refusal of whatever this subset does not implement. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cel_internal.h"

struct checker {
	struct vigil_cel *p;
	struct vigil_cel_error *err;
	const char *scope_name[CEL_MAX_SCOPES];
	size_t scope_len[CEL_MAX_SCOPES];
	struct cel_type scope_type[CEL_MAX_SCOPES];
	int nscopes;
};

static const struct cel_type t_dyn = {T_DYN, 0, false, NULL};
static const struct cel_type t_bool = {T_BOOL, 0, false, NULL};
static const struct cel_type t_int = {T_INT, 0, false, NULL};

static struct cel_type scalar(unsigned char kind)
{
	struct cel_type t = {kind, 0, false, NULL};

	return t;
}

const char *cel_kind_name(const struct cel_type *t)
{
	static const char *const names[] = {
		[T_DYN] = "dyn", [T_NULL] = "null_type", [T_BOOL] = "bool", [T_INT] = "int", [T_UINT] = "uint",
		[T_DOUBLE] = "double", [T_STRING] = "string", [T_BYTES] = "bytes", [T_LIST] = "list",
		[T_MAP] = "map", [T_MSG] = "message", [T_TIMESTAMP] = "google.protobuf.Timestamp",
		[T_IP] = "net.IP", [T_CIDR] = "net.CIDR",
	};

	if (t->kind == T_MSG && t->msg)
		return t->msg->name;
	return names[t->kind];
}

/* "wrapper(uint)", "list(tetragon.KprobeArgument)", ... into buf */
static const char *type_name(const struct cel_type *t, char *buf, size_t size)
{
	struct cel_type e = {t->elem, 0, false, t->msg};

	if (t->wrapper)
		snprintf(buf, size, "wrapper(%s)", cel_kind_name(t));
	else if (t->kind == T_LIST)
		snprintf(buf, size, "list(%s)", cel_kind_name(&e));
	else if (t->kind == T_MAP)
		snprintf(buf, size, "map(string, %s)", cel_kind_name(&e));
	else
		snprintf(buf, size, "%s", cel_kind_name(t));
	return buf;
}

static int no_overload(struct checker *c, const struct cel_node *n, const char *fn, const struct cel_type *a,
		       const struct cel_type *b)
{
	char x[96], y[96];

	if (!b)
		return cel_fail(c->err, n->col, "found no matching overload for '%s' applied to '(%s)'", fn,
				type_name(a, x, sizeof(x)));
	return cel_fail(c->err, n->col, "found no matching overload for '%s' applied to '(%s, %s)'", fn,
			type_name(a, x, sizeof(x)), type_name(b, y, sizeof(y)));
}

/* The static type of a schema field (of one item when item). */
static struct cel_type field_type(const struct cel_field *f, bool item)
{
	struct cel_type t = t_dyn;
	unsigned char k;

	switch (f->kind) {
	case CELF_STRING: case CELF_WRAP_STRING: k = T_STRING; break;
	case CELF_BYTES: k = T_BYTES; break;
	case CELF_BOOL: case CELF_WRAP_BOOL: k = T_BOOL; break;
	case CELF_INT32: case CELF_INT64: case CELF_ENUM: case CELF_WRAP_INT32: case CELF_WRAP_INT64: k = T_INT; break;
	case CELF_UINT32: case CELF_UINT64: case CELF_WRAP_UINT32: case CELF_WRAP_UINT64: k = T_UINT; break;
	case CELF_DOUBLE: case CELF_WRAP_DOUBLE: k = T_DOUBLE; break;
	case CELF_TIMESTAMP: k = T_TIMESTAMP; break;
	case CELF_MSG: k = T_MSG; t.msg = f->msg; break;
	default: k = T_MAP; t.elem = T_STRING; break;
	}
	if (f->repeated && !item) {
		t.kind = T_LIST;
		t.elem = k;
		return t;
	}
	t.kind = k;
	t.wrapper = f->kind >= CELF_WRAP_BOOL && f->kind <= CELF_WRAP_DOUBLE;
	return t;
}

/* Whether values of a and b may be compared for equality (CEL's _==_(A, A)). */
static bool same_type(const struct cel_type *a, const struct cel_type *b)
{
	if (a->kind == T_DYN || b->kind == T_DYN)
		return true;
	if (a->kind == T_NULL || b->kind == T_NULL) {
		const struct cel_type *o = a->kind == T_NULL ? b : a;

		return o->kind == T_NULL || o->wrapper || o->kind == T_MSG || o->kind == T_TIMESTAMP;
	}
	if (a->kind != b->kind)
		return false;
	if (a->kind == T_MSG)
		return a->msg == b->msg;
	if (a->kind == T_LIST || a->kind == T_MAP)
		return a->elem == b->elem || a->elem == T_DYN || b->elem == T_DYN ||
		       (a->elem == T_MSG && b->elem == T_MSG && a->msg == b->msg);
	return true;
}

static int check(struct checker *c, int n);

static int enum_constant(struct checker *c, int n, const char *name, size_t len)
{
	const struct cel_enum *e;
	char full[256];
	size_t i, k, el;

	snprintf(full, sizeof(full), "%s%.*s", strncmp(name, "tetragon.", 9) ? "tetragon." : "", (int)len, name);
	for (i = 0; i < cel_schema_nenums; i++) {
		e = cel_schema_enums[i];
		el = strlen(e->name);
		if (strncmp(full, e->name, el) || full[el] != '.')
			continue;
		for (k = 0; k < e->n; k++) {
			if (strcmp(full + el + 1, e->values[k].name))
				continue;
			c->p->nodes[n].op = N_LIT;
			c->p->nodes[n].lit.kind = V_INT;
			c->p->nodes[n].lit.v.i = e->values[k].number;
			c->p->nodes[n].type = t_int;
			return 0;
		}
	}
	return cel_fail(c->err, c->p->nodes[n].col, "undeclared reference to '%.*s'", (int)len, name);
}

/* A qualified name written as a.b.c (identifiers and selections only) into buf; its length,
 * or 0 when n is not one. */
static size_t qualified(struct checker *c, int n, char *buf, size_t size)
{
	const struct cel_node *nd = &c->p->nodes[n];
	size_t l;

	if (nd->op == N_IDENT)
		return nd->name_len < size ? (size_t)snprintf(buf, size, "%.*s", (int)nd->name_len, nd->name) : 0;
	if (nd->op != N_SELECT)
		return 0;
	l = qualified(c, nd->a, buf, size);
	if (!l || l + 1 + nd->name_len >= size)
		return 0;
	return l + (size_t)snprintf(buf + l, size - l, ".%.*s", (int)nd->name_len, nd->name);
}

/* Whether the identifier at n names a variable in scope or an event. */
static bool is_variable(struct checker *c, const struct cel_node *nd)
{
	size_t i;
	int s;

	for (s = 0; s < c->nscopes; s++)
		if (c->scope_len[s] == nd->name_len && !memcmp(c->scope_name[s], nd->name, nd->name_len))
			return true;
	for (i = 0; i < cel_schema_nevents; i++)
		if (cel_schema_events[i].kind == CELF_MSG && strlen(cel_schema_events[i].name) == nd->name_len &&
		    !memcmp(cel_schema_events[i].name, nd->name, nd->name_len))
			return true;
	return false;
}

static int ident(struct checker *c, int n)
{
	struct cel_node *nd = &c->p->nodes[n];
	size_t i;
	int s;

	/* the innermost comprehension variable of that name */
	for (s = c->nscopes - 1; s >= 0; s--) {
		if (c->scope_len[s] == nd->name_len && !memcmp(c->scope_name[s], nd->name, nd->name_len)) {
			nd->op = N_VAR;
			nd->slot = s;
			nd->type = c->scope_type[s];
			return 0;
		}
	}
	for (i = 0; i < cel_schema_nevents; i++) {
		const struct cel_field *f = &cel_schema_events[i];

		if (f->kind == CELF_MSG && strlen(f->name) == nd->name_len && !memcmp(f->name, nd->name, nd->name_len)) {
			nd->op = N_EVENT;
			nd->slot = (int)i;
			nd->type = field_type(f, false);
			c->p->events |= 1ull << i;
			return 0;
		}
	}
	return enum_constant(c, n, nd->name, nd->name_len);
}

/* The path of a field below an event variable ("process.pod.name"), when the operand is one. */
static int event_path(struct checker *c, int n, const struct cel_node *operand)
{
	struct cel_node *nd = &c->p->nodes[n];
	size_t base = 0;

	if (operand->op == N_EVENT) {
		nd->event = operand->slot;
	} else if ((operand->op == N_SELECT && operand->path && operand->field && !operand->field->repeated &&
		    operand->field->kind == CELF_MSG)) {
		nd->event = operand->event;
		base = strlen(operand->path);
	} else {
		return 0;
	}
	nd->path = cel_own(c->p, base + 1 + nd->name_len + 1);
	if (!nd->path)
		return -ENOMEM;
	if (base)
		snprintf(nd->path, base + 2 + nd->name_len, "%s.%.*s", operand->path, (int)nd->name_len, nd->name);
	else
		snprintf(nd->path, nd->name_len + 1, "%.*s", (int)nd->name_len, nd->name);
	return 0;
}

/* a.f: a field of a message, a key of a map. has: the has() macro's test of the same. */
static int select_field(struct checker *c, int n, bool has)
{
	struct cel_node *nd = &c->p->nodes[n];
	const struct cel_node *operand;
	char name[256];
	const struct cel_field *f;
	size_t len;
	int ret;

	/* a qualified enum constant: KprobeAction.KPROBE_ACTION_SIGKILL, tetragon.X.Y */
	if (!has && c->p->nodes[nd->a].op != N_CALL) {
		len = qualified(c, n, name, sizeof(name));
		if (len) {
			const struct cel_node *root = &c->p->nodes[nd->a];

			while (root->op == N_SELECT)
				root = &c->p->nodes[root->a];
			if (!is_variable(c, root))
				return enum_constant(c, n, name, len);
		}
	}
	ret = check(c, nd->a);
	if (ret)
		return ret;
	nd = &c->p->nodes[n];
	operand = &c->p->nodes[nd->a];
	switch (operand->type.kind) {
	case T_MSG:
		f = cel_field_find(operand->type.msg, nd->name, nd->name_len);
		if (!f)
			return cel_fail(c->err, nd->col, "undefined field '%.*s' (in %s)", (int)nd->name_len, nd->name,
					operand->type.msg->name);
		nd->field = f;
		nd->type = has ? t_bool : field_type(f, false);
		return event_path(c, n, operand);
	case T_MAP:
		nd->type = has ? t_bool : scalar(operand->type.elem);
		return 0;
	case T_DYN:
		nd->type = has ? t_bool : t_dyn;
		return 0;
	default:
		return cel_fail(c->err, nd->col, "type '%s' does not support field selection", cel_kind_name(&operand->type));
	}
}

static const struct {
	const char *name;
	enum cel_fn fn;
	bool receiver, global;
	int arity;		/* with the receiver */
} functions[] = {
	{"size", F_SIZE, true, true, 1},
	{"contains", F_CONTAINS, true, false, 2},
	{"startsWith", F_STARTS, true, false, 2},
	{"endsWith", F_ENDS, true, false, 2},
	{"matches", F_MATCHES, true, true, 2},
	{"int", F_INT, false, true, 1},
	{"uint", F_UINT, false, true, 1},
	{"double", F_DOUBLE, false, true, 1},
	{"string", F_STRING, false, true, 1},
	{"bytes", F_BYTES, false, true, 1},
	{"bool", F_BOOL, false, true, 1},
	{"dyn", F_DYN, false, true, 1},
	{"timestamp", F_TIMESTAMP, false, true, 1},
	{"ip", F_IP, true, true, 1},
	{"isIP", F_IS_IP, false, true, 1},
	{"cidr", F_CIDR, false, true, 1},
	{"isCIDR", F_IS_CIDR, false, true, 1},
	{"family", F_FAMILY, true, false, 1},
	{"isUnspecified", F_IS_UNSPECIFIED, true, false, 1},
	{"isLoopback", F_IS_LOOPBACK, true, false, 1},
	{"isLinkLocalMulticast", F_IS_LL_MULTICAST, true, false, 1},
	{"isLinkLocalUnicast", F_IS_LL_UNICAST, true, false, 1},
	{"isGlobalUnicast", F_IS_GLOBAL_UNICAST, true, false, 1},
	{"containsIP", F_CONTAINS_IP, true, false, 2},
	{"containsCIDR", F_CONTAINS_CIDR, true, false, 2},
	{"prefixLength", F_PREFIX_LENGTH, true, false, 1},
	{"masked", F_MASKED, true, false, 1},
};

/* CEL functions and libraries this subset refuses, with the reason. */
static const struct {
	const char *name;
	const char *why;
} refused[] = {
	{"duration", "durations are not supported (compare timestamps, or their string())"},
	{"type", "type() and type values are not supported"},
	{"getFullYear", "timestamp accessors (getFullYear(), getHours(), ...) are not supported"},
	{"getMonth", "timestamp accessors are not supported"},
	{"getDate", "timestamp accessors are not supported"},
	{"getDayOfMonth", "timestamp accessors are not supported"},
	{"getDayOfWeek", "timestamp accessors are not supported"},
	{"getDayOfYear", "timestamp accessors are not supported"},
	{"getHours", "timestamp accessors are not supported"},
	{"getMinutes", "timestamp accessors are not supported"},
	{"getSeconds", "timestamp accessors are not supported"},
	{"getMilliseconds", "timestamp accessors are not supported"},
};

static bool is_num(unsigned char k)
{
	return k == T_INT || k == T_UINT || k == T_DOUBLE;
}

/* The argument types a function takes (T_DYN passes any check). */
static int call_types(struct checker *c, struct cel_node *nd, const struct cel_type *t, int nargs, const char *name)
{
	unsigned char k = t[0].kind;
	bool ok = k == T_DYN;

	switch (nd->fn) {
	case F_SIZE:
		ok |= k == T_STRING || k == T_BYTES || k == T_LIST || k == T_MAP;
		nd->type = t_int;
		break;
	case F_CONTAINS: case F_STARTS: case F_ENDS: case F_MATCHES:
		ok = (k == T_STRING || k == T_DYN) && (t[1].kind == T_STRING || t[1].kind == T_DYN);
		nd->type = t_bool;
		break;
	case F_INT:
		ok |= is_num(k) || k == T_STRING || k == T_TIMESTAMP;
		nd->type = t_int;
		break;
	case F_UINT: case F_DOUBLE:
		ok |= is_num(k) || k == T_STRING;
		nd->type = scalar(nd->fn == F_UINT ? T_UINT : T_DOUBLE);
		break;
	case F_STRING:
		ok |= is_num(k) || k == T_STRING || k == T_BYTES || k == T_BOOL || k == T_TIMESTAMP || k == T_IP ||
		      k == T_CIDR;
		nd->type = scalar(T_STRING);
		break;
	case F_BYTES:
		ok |= k == T_STRING || k == T_BYTES;
		nd->type = scalar(T_BYTES);
		break;
	case F_BOOL:
		ok |= k == T_STRING || k == T_BOOL;
		nd->type = t_bool;
		break;
	case F_DYN:
		ok = true;
		nd->type = t_dyn;
		break;
	case F_TIMESTAMP:
		ok |= k == T_STRING || k == T_TIMESTAMP;
		nd->type = scalar(T_TIMESTAMP);
		break;
	case F_IP:
		/* ip(string), or a CIDR's cidr.ip() */
		ok |= nd->receiver ? k == T_CIDR : k == T_STRING;
		nd->type = scalar(T_IP);
		break;
	case F_CIDR: case F_IS_IP: case F_IS_CIDR:
		ok |= k == T_STRING;
		nd->type = nd->fn == F_CIDR ? scalar(T_CIDR) : t_bool;
		break;
	case F_FAMILY: case F_IS_UNSPECIFIED: case F_IS_LOOPBACK: case F_IS_LL_MULTICAST: case F_IS_LL_UNICAST:
	case F_IS_GLOBAL_UNICAST:
		ok |= k == T_IP;
		nd->type = nd->fn == F_FAMILY ? t_int : t_bool;
		break;
	case F_PREFIX_LENGTH: case F_MASKED:
		ok |= k == T_CIDR;
		nd->type = nd->fn == F_MASKED ? scalar(T_CIDR) : t_int;
		break;
	case F_CONTAINS_IP: case F_CONTAINS_CIDR:
		ok = (k == T_CIDR || k == T_DYN) &&
		     (t[1].kind == T_STRING || t[1].kind == T_DYN || t[1].kind == (nd->fn == F_CONTAINS_IP ? T_IP : T_CIDR));
		nd->type = t_bool;
		break;
	}
	if (!ok)
		return no_overload(c, nd, name, &t[0], nargs > 1 ? &t[1] : NULL);
	return 0;
}

static int matches_pattern(struct checker *c, struct cel_node *nd, int arg)
{
	const struct cel_node *pat = &c->p->nodes[arg];
	char why[160];
	int ret;

	/* the pattern is checked against RE2's meaning once, here, so none is refused later */
	if (pat->op != N_LIT || pat->lit.kind != V_STRING)
		return cel_fail(c->err, pat->col, "matches() takes a string literal as its pattern in vigil "
				"(a pattern is checked when the expression is compiled)");
	if (memchr(pat->lit.v.s.p, '\0', pat->lit.v.s.n))
		return cel_fail(c->err, pat->col, "matches(): a NUL in the pattern");
	ret = cel_regex_compile(pat->lit.v.s.p, &nd->re, why, sizeof(why));
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return cel_fail(c->err, pat->col, "matches(): %s", why);
	return 0;
}

/* has(a.f): the macro, on a field selection only. */
static int has_macro(struct checker *c, int n)
{
	struct cel_node *nd = &c->p->nodes[n];
	int sel, ret;

	if (nd->receiver || nd->nargs != 1 || c->p->nodes[nd->args[0]].op != N_SELECT)
		return cel_fail(c->err, nd->col, "invalid argument to has() macro (it takes a field selection, a.f)");
	sel = nd->args[0];
	ret = select_field(c, sel, true);
	if (ret)
		return ret;
	/* the node becomes the test: operand, field and path of the selection */
	nd = &c->p->nodes[n];
	*nd = c->p->nodes[sel];
	nd->op = N_HAS;
	nd->type = t_bool;
	return 0;
}

static const struct {
	const char *name;
	enum cel_fn fn;
	int nargs;
} macros[] = {
	{"all", F_ALL, 2}, {"exists", F_EXISTS, 2}, {"exists_one", F_EXISTS_ONE, 2}, {"filter", F_FILTER, 2},
	{"map", F_MAP, 2}, {"map", F_MAP_FILTER, 3},
};

/* range.all(x, p) and the other comprehensions: a scope for x while p (and the transform) are checked. */
static int comprehension(struct checker *c, int n, enum cel_fn fn)
{
	struct cel_node *nd = &c->p->nodes[n];
	const struct cel_node *var = &c->p->nodes[nd->args[0]], *range;
	struct cel_type vt = t_dyn, bt;
	int s, ret, i;

	if (var->op != N_IDENT)
		return cel_fail(c->err, var->col, "%.*s(): the first argument must be a simple name", (int)nd->name_len,
				nd->name);
	if (c->nscopes == CEL_MAX_SCOPES)
		return cel_fail(c->err, nd->col, "comprehensions nested deeper than %d", CEL_MAX_SCOPES);
	ret = check(c, nd->a);
	if (ret)
		return ret;
	nd = &c->p->nodes[n];
	range = &c->p->nodes[nd->a];
	if (range->type.kind == T_LIST) {
		vt = scalar(range->type.elem);
		vt.msg = range->type.msg;
	} else if (range->type.kind == T_MAP) {
		vt = scalar(T_STRING);
	} else if (range->type.kind != T_DYN) {
		return cel_fail(c->err, nd->col, "%.*s() ranges over a list or a map, not %s", (int)nd->name_len, nd->name,
				cel_kind_name(&range->type));
	}
	s = c->nscopes++;
	c->scope_name[s] = var->name;
	c->scope_len[s] = var->name_len;
	c->scope_type[s] = vt;
	for (i = 1; i < nd->nargs; i++) {
		ret = check(c, nd->args[i]);
		if (ret)
			return ret;
		nd = &c->p->nodes[n];
		bt = c->p->nodes[nd->args[i]].type;
		/* predicates (all but map's transform) are bool */
		if ((fn != F_MAP && fn != F_MAP_FILTER) || (fn == F_MAP_FILTER && i == 1)) {
			if (bt.kind != T_BOOL && bt.kind != T_DYN)
				return cel_fail(c->err, c->p->nodes[nd->args[i]].col, "%.*s(): the predicate is %s, not bool",
						(int)nd->name_len, nd->name, cel_kind_name(&bt));
		}
	}
	c->nscopes--;
	nd->op = N_COMPRE;
	nd->fn = (unsigned char)fn;
	nd->slot = s;
	nd->b = nd->args[1];
	nd->c = nd->nargs == 3 ? nd->args[2] : -1;
	if (fn == F_FILTER) {
		nd->type = range->type.kind == T_MAP ? scalar(T_LIST) : range->type;
		if (range->type.kind == T_MAP)
			nd->type.elem = T_STRING;
	} else if (fn == F_MAP || fn == F_MAP_FILTER) {
		bt = c->p->nodes[fn == F_MAP ? nd->b : nd->c].type;
		nd->type = scalar(T_LIST);
		nd->type.elem = bt.kind == T_LIST || bt.kind == T_MAP ? T_DYN : bt.kind;
		nd->type.msg = bt.msg;
	} else {
		nd->type = t_bool;
	}
	return 0;
}

static int call(struct checker *c, int n)
{
	struct cel_node *nd = &c->p->nodes[n];
	struct cel_type t[3];
	size_t k;
	int nargs, i, ret, argn[3];

	if (!nd->receiver && nd->name_len == 3 && !memcmp(nd->name, "has", 3))
		return has_macro(c, n);
	for (k = 0; nd->receiver && k < VIGIL_ARRAY_SIZE(macros); k++)
		if (strlen(macros[k].name) == nd->name_len && !memcmp(macros[k].name, nd->name, nd->name_len) &&
		    nd->nargs == macros[k].nargs)
			return comprehension(c, n, macros[k].fn);
	for (k = 0; k < VIGIL_ARRAY_SIZE(refused); k++)
		if (strlen(refused[k].name) == nd->name_len && !memcmp(refused[k].name, nd->name, nd->name_len))
			return cel_fail(c->err, nd->col, "%s: %s", refused[k].name, refused[k].why);
	nargs = nd->nargs + (nd->receiver ? 1 : 0);
	/* the receiver first, so that what is wrong inside it is what is reported */
	if (nd->receiver) {
		ret = check(c, nd->a);
		if (ret)
			return ret;
		nd = &c->p->nodes[n];
	}
	for (k = 0; k < VIGIL_ARRAY_SIZE(functions); k++)
		if (strlen(functions[k].name) == nd->name_len && !memcmp(functions[k].name, nd->name, nd->name_len))
			break;
	if (k == VIGIL_ARRAY_SIZE(functions))
		return cel_fail(c->err, nd->col, "undeclared reference to '%.*s'", (int)nd->name_len, nd->name);
	if ((nd->receiver ? !functions[k].receiver : !functions[k].global) || nargs != functions[k].arity)
		return cel_fail(c->err, nd->col, "found no matching overload for '%s' with %d argument%s%s",
				functions[k].name, nargs, nargs == 1 ? "" : "s", nd->receiver ? " as a method" : "");
	nd->fn = (unsigned char)functions[k].fn;
	for (i = 0; i < nargs; i++) {
		argn[i] = nd->receiver ? (i ? nd->args[i - 1] : nd->a) : nd->args[i];
		ret = nd->receiver && !i ? 0 : check(c, argn[i]);
		if (ret)
			return ret;
		nd = &c->p->nodes[n];
		t[i] = c->p->nodes[argn[i]].type;
	}
	ret = call_types(c, nd, t, nargs, functions[k].name);
	if (!ret && nd->fn == F_MATCHES)
		ret = matches_pattern(c, nd, argn[1]);
	return ret;
}

static int binop(struct checker *c, struct cel_node *nd, const struct cel_type *a, const struct cel_type *b)
{
	static const char *const ops[] = {
		[F_EQ] = "_==_", [F_NE] = "_!=_", [F_LT] = "_<_", [F_LE] = "_<=_", [F_GT] = "_>_", [F_GE] = "_>=_",
		[F_ADD] = "_+_", [F_SUB] = "_-_", [F_MUL] = "_*_", [F_DIV] = "_/_", [F_MOD] = "_%_", [F_IN] = "@in",
	};
	bool dyn = a->kind == T_DYN || b->kind == T_DYN;
	unsigned char k = a->kind == T_DYN ? b->kind : a->kind;

	switch (nd->fn) {
	case F_EQ: case F_NE:
		/* messages compare field by field in CEL; vigil does not: refused, not false */
		if ((a->kind == T_MSG && b->kind != T_NULL) || (b->kind == T_MSG && a->kind != T_NULL) ||
		    (a->kind == T_LIST && a->elem == T_MSG) || (b->kind == T_LIST && b->elem == T_MSG))
			return cel_fail(c->err, nd->col, "comparing messages (%s) is not supported: compare their fields",
					cel_kind_name(a->kind == T_MSG || a->kind == T_LIST ? a : b));
		if (!same_type(a, b))
			return no_overload(c, nd, ops[nd->fn], a, b);
		nd->type = t_bool;
		return 0;
	case F_LT: case F_LE: case F_GT: case F_GE:
		if (!dyn && a->kind != b->kind)
			return no_overload(c, nd, ops[nd->fn], a, b);
		if (k != T_DYN && !is_num(k) && k != T_STRING && k != T_BYTES && k != T_BOOL && k != T_TIMESTAMP)
			return no_overload(c, nd, ops[nd->fn], a, b);
		nd->type = t_bool;
		return 0;
	case F_IN:
		if (b->kind == T_LIST && b->elem == T_MSG)
			return cel_fail(c->err, nd->col, "comparing messages is not supported: compare their fields");
		if (b->kind == T_LIST) {
			struct cel_type e = {b->elem, 0, false, b->msg};

			if (!same_type(a, &e))
				return no_overload(c, nd, ops[nd->fn], a, b);
		} else if (b->kind == T_MAP) {
			if (a->kind != T_STRING && a->kind != T_DYN)
				return no_overload(c, nd, ops[nd->fn], a, b);
		} else if (b->kind != T_DYN) {
			return no_overload(c, nd, ops[nd->fn], a, b);
		}
		nd->type = t_bool;
		return 0;
	default:
		break;
	}
	/* arithmetic: both sides of one type */
	if (!dyn && (a->kind != b->kind || (a->kind == T_LIST && !same_type(a, b))))
		return no_overload(c, nd, ops[nd->fn], a, b);
	if (nd->fn == F_ADD ? !(k == T_DYN || is_num(k) || k == T_STRING || k == T_BYTES || k == T_LIST) :
	    nd->fn == F_MOD ? !(k == T_DYN || k == T_INT || k == T_UINT) : !(k == T_DYN || is_num(k)))
		return no_overload(c, nd, ops[nd->fn], a, b);
	nd->type = a->kind == T_DYN ? *b : *a;
	nd->type.wrapper = false;
	if (nd->type.kind == T_LIST && a->kind == T_LIST && b->kind == T_LIST && a->elem != b->elem)
		nd->type.elem = T_DYN;
	return 0;
}

/* The common type of items (list or map values): theirs when they agree, dyn when not. */
static struct cel_type common(struct checker *c, const int *items, int n, int step)
{
	struct cel_type t = c->p->nodes[items[0]].type;
	int i;

	t.wrapper = false;
	for (i = step; i < n; i += step)
		if (!same_type(&t, &c->p->nodes[items[i]].type) || c->p->nodes[items[i]].type.kind != t.kind)
			return t_dyn;
	return t;
}

/* a list or map literal: its items' common type, its keys' kinds */
static int aggregate(struct checker *c, int n)
{
	struct cel_node *nd = &c->p->nodes[n];
	struct cel_type e;
	int ret, i;

	for (i = 0; i < nd->nargs; i++) {
		ret = check(c, nd->args[i]);
		if (ret)
			return ret;
		nd = &c->p->nodes[n];
	}
	nd->type = scalar(nd->op == N_LIST ? T_LIST : T_MAP);
	nd->type.elem = T_DYN;
	if (nd->nargs) {
		e = common(c, nd->op == N_LIST ? nd->args : nd->args + 1, nd->nargs, nd->op == N_LIST ? 1 : 2);
		nd->type.elem = e.kind == T_LIST || e.kind == T_MAP ? T_DYN : e.kind;
		nd->type.msg = e.msg;
	}
	for (i = 0; nd->op == N_MAP && i < nd->nargs; i += 2) {
		unsigned char k = c->p->nodes[nd->args[i]].type.kind;

		if (k != T_STRING && k != T_INT && k != T_UINT && k != T_BOOL && k != T_DYN)
			return cel_fail(c->err, c->p->nodes[nd->args[i]].col, "unsupported map key type %s",
					cel_kind_name(&c->p->nodes[nd->args[i]].type));
	}
	return 0;
}

static int check(struct checker *c, int n)
{
	struct cel_node *nd = &c->p->nodes[n];
	struct cel_type a, b, e;
	int ret = 0;

	switch (nd->op) {
	case N_LIT:
		nd->type = scalar(nd->lit.kind == V_NULL ? T_NULL : nd->lit.kind == V_BOOL ? T_BOOL :
				  nd->lit.kind == V_INT ? T_INT : nd->lit.kind == V_UINT ? T_UINT :
				  nd->lit.kind == V_DOUBLE ? T_DOUBLE : nd->lit.kind == V_STRING ? T_STRING : T_BYTES);
		return 0;
	case N_IDENT:
		return ident(c, n);
	case N_SELECT:
		return select_field(c, n, false);
	case N_CALL:
		return call(c, n);
	case N_LIST: case N_MAP:
		return aggregate(c, n);
	default:
		break;
	}
	/* operators: the operands first */
	ret = check(c, nd->a);
	if (!ret && nd->b >= 0)
		ret = check(c, nd->b);
	if (!ret && nd->c >= 0)
		ret = check(c, nd->c);
	if (ret)
		return ret;
	nd = &c->p->nodes[n];
	a = c->p->nodes[nd->a].type;
	b = nd->b >= 0 ? c->p->nodes[nd->b].type : t_dyn;
	switch (nd->op) {
	case N_AND: case N_OR:
		if ((a.kind != T_BOOL && a.kind != T_DYN) || (b.kind != T_BOOL && b.kind != T_DYN))
			return no_overload(c, nd, nd->op == N_AND ? "_&&_" : "_||_", &a, &b);
		nd->type = t_bool;
		return 0;
	case N_NOT:
		if (a.kind != T_BOOL && a.kind != T_DYN)
			return no_overload(c, nd, "!_", &a, NULL);
		nd->type = t_bool;
		return 0;
	case N_NEG:
		if (a.kind != T_INT && a.kind != T_DOUBLE && a.kind != T_DYN)
			return no_overload(c, nd, "-_", &a, NULL);
		nd->type = a;
		nd->type.wrapper = false;
		return 0;
	case N_COND:
		if (a.kind != T_BOOL && a.kind != T_DYN)
			return no_overload(c, nd, "_?_:_", &a, NULL);
		e = c->p->nodes[nd->c].type;
		if (!same_type(&b, &e))
			return no_overload(c, nd, "_?_:_", &b, &e);
		nd->type = b.kind == T_DYN || b.kind == T_NULL ? e : b;
		return 0;
	case N_INDEX:
		if (a.kind == T_LIST) {
			if (b.kind != T_INT && b.kind != T_UINT && b.kind != T_DYN)
				return no_overload(c, nd, "_[_]", &a, &b);
			nd->type = scalar(a.elem);
			nd->type.msg = a.msg;
		} else if (a.kind == T_MAP) {
			nd->type = scalar(a.elem);
		} else if (a.kind == T_DYN) {
			nd->type = t_dyn;
		} else {
			return no_overload(c, nd, "_[_]", &a, &b);
		}
		return 0;
	default:
		return binop(c, nd, &a, &b);
	}
}

int cel_check(struct vigil_cel *p, struct vigil_cel_error *err)
{
	struct checker c = {.p = p, .err = err};
	const struct cel_type *t;
	char name[96];
	int ret = check(&c, p->root);

	if (ret)
		return ret;
	t = &p->nodes[p->root].type;
	/* Tetragon wants bool exactly: a dyn result is refused there too */
	if (t->kind != T_BOOL || t->wrapper)
		return cel_fail(err, p->nodes[p->root].col, "got '%s', wanted 'bool' result type",
				type_name(t, name, sizeof(name)));
	return 0;
}

const struct cel_field *cel_field_find(const struct cel_message *m, const char *name, size_t n)
{
	size_t lo = 0, hi = m->n, mid;
	int d;

	/* fields are sorted by name (scripts/cel_schema.py) */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		d = strncmp(m->fields[mid].name, name, n);
		if (!d)
			d = m->fields[mid].name[n] ? 1 : 0;
		if (!d)
			return &m->fields[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
