/* eval.c - evaluating a checked AST against one event: CEL's operators with their error rules
 * (&& and || absorb an error when the other side decides; everything else passes it on), field
 * lookups straight into the event by path, and comprehensions. Every node evaluated costs a
 * step (p->steps); the recursion is as deep as the AST, which the parser bounds. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "cel_internal.h"

static struct cel_value boolean(bool b)
{
	struct cel_value v = {.kind = V_BOOL};

	v.v.b = b;
	return v;
}

/* The variable of event index e: the event's body when it is of that kind, else an unset
 * message (Tetragon binds the other kinds to typed nils, whose fields read as defaults). */
static struct cel_value event_var(struct vigil_cel *p, int e)
{
	struct cel_value v = {.kind = V_MSG};

	v.v.msg.m = cel_schema_events[e].msg;
	if (e == p->msg_event)
		v.v.msg.o = vigil_msg__body(p->msg);
	return v;
}

/* a.f where a is an event variable or a path of messages from one: one lookup by path */
static struct cel_value path_field(struct vigil_cel *p, const struct cel_node *n, bool *present)
{
	const msgpack_object *o = n->event == p->msg_event ? vigil_msg__find(p->msg, n->path) : NULL;
	struct cel_value v = cel_from_field(p, o, n->field, false);

	if (present)
		*present = v.kind != V_ERR && cel_present(&v, n->field, o && o->type != MSGPACK_OBJECT_NIL);
	return v;
}

static struct cel_value select_value(struct vigil_cel *p, const struct cel_node *n, int depth, bool has)
{
	struct cel_value operand, key, v;
	bool present = false, found;

	/* has() of a message, list or map below the event: its kind and count, nothing unpacked */
	if (n->path && has && (n->field->kind == CELF_MSG || n->field->repeated || n->field->kind == CELF_MAP)) {
		msgpack_object_type type;
		uint32_t count;

		if (n->event != p->msg_event || vigil_msg__find_kind(p->msg, n->path, &type, &count))
			return boolean(false);
		if (n->field->repeated || n->field->kind == CELF_MAP)
			return boolean((type == MSGPACK_OBJECT_ARRAY || type == MSGPACK_OBJECT_MAP) && count > 0);
		return boolean(type == MSGPACK_OBJECT_MAP);
	}
	if (n->path) {
		v = path_field(p, n, &present);
		return has && v.kind != V_ERR ? boolean(present) : v;
	}
	operand = cel_eval(p, n->a, depth + 1);
	if (operand.kind == V_ERR)
		return operand;
	if (operand.kind == V_MSG) {
		const struct cel_field *f = n->field ? n->field : cel_field_find(operand.v.msg.m, n->name, n->name_len);

		if (!f)
			return cel_err("no such field");
		v = cel_msg_field(p, &operand, f, &present);
		return has && v.kind != V_ERR ? boolean(present) : v;
	}
	if (operand.kind == V_MAP) {
		key.kind = V_STRING;
		key.v.s.p = n->name;
		key.v.s.n = n->name_len;
		v = cel_map_get(p, &operand, &key, &found);
		if (has)
			return found ? boolean(true) : v.kind == V_ERR && strcmp(v.v.err, "no such key") ? v : boolean(false);
		return v;
	}
	return cel_err("field selection on a value that has no fields");
}

static struct cel_value logical(struct vigil_cel *p, const struct cel_node *n, int depth)
{
	bool and = n->op == N_AND;
	struct cel_value a = cel_eval(p, n->a, depth + 1), b;

	/* the left side decides alone: false && _, true || _ */
	if (a.kind == V_BOOL && a.v.b != and)
		return a;
	b = cel_eval(p, n->b, depth + 1);
	if (b.kind == V_BOOL && b.v.b != and)
		return b;
	if (a.kind == V_ERR)
		return a;
	if (b.kind == V_ERR)
		return b;
	if (a.kind != V_BOOL || b.kind != V_BOOL)
		return cel_err("no matching overload for a logical operator");
	return boolean(and);
}

static struct cel_value arith_int(const struct cel_node *n, int64_t x, int64_t y)
{
	struct cel_value v = {.kind = V_INT};
	bool overflow = false;

	switch (n->fn) {
	case F_ADD: overflow = __builtin_add_overflow(x, y, &v.v.i); break;
	case F_SUB: overflow = __builtin_sub_overflow(x, y, &v.v.i); break;
	case F_MUL: overflow = __builtin_mul_overflow(x, y, &v.v.i); break;
	case F_DIV: case F_MOD:
		if (!y)
			return cel_err(n->fn == F_DIV ? "division by zero" : "modulus by zero");
		if (x == INT64_MIN && y == -1)
			return cel_err("integer overflow");
		v.v.i = n->fn == F_DIV ? x / y : x % y;
		break;
	}
	return overflow ? cel_err("integer overflow") : v;
}

static struct cel_value arith_uint(const struct cel_node *n, uint64_t x, uint64_t y)
{
	struct cel_value v = {.kind = V_UINT};
	bool overflow = false;

	switch (n->fn) {
	case F_ADD: overflow = __builtin_add_overflow(x, y, &v.v.u); break;
	case F_SUB: overflow = __builtin_sub_overflow(x, y, &v.v.u); break;
	case F_MUL: overflow = __builtin_mul_overflow(x, y, &v.v.u); break;
	case F_DIV: case F_MOD:
		if (!y)
			return cel_err(n->fn == F_DIV ? "division by zero" : "modulus by zero");
		v.v.u = n->fn == F_DIV ? x / y : x % y;
		break;
	}
	return overflow ? cel_err("unsigned integer overflow") : v;
}

/* a + b for strings, bytes and lists: a new value in scratch */
static struct cel_value concat(struct vigil_cel *p, const struct cel_value *a, const struct cel_value *b)
{
	struct cel_value v = *a, *items;
	uint32_t i;
	char *s;

	if (a->kind == V_STRING || a->kind == V_BYTES) {
		s = cel_scratch(p, a->v.s.n + b->v.s.n + 1);
		if (!s)
			return cel_err("evaluation memory limit");
		memcpy(s, a->v.s.p, a->v.s.n);
		memcpy(s + a->v.s.n, b->v.s.p, b->v.s.n);
		v.v.s.p = s;
		v.v.s.n = a->v.s.n + b->v.s.n;
		return v;
	}
	if ((uint64_t)a->v.c.n + b->v.c.n > UINT32_MAX)
		return cel_err("evaluation memory limit");
	items = cel_scratch(p, ((size_t)a->v.c.n + b->v.c.n) * sizeof(*items) + 1);
	if (!items)
		return cel_err("evaluation memory limit");
	for (i = 0; i < a->v.c.n + b->v.c.n; i++) {
		if (--p->steps < 0)
			return cel_err("evaluation step limit");
		items[i] = i < a->v.c.n ? cel_list_item(p, a, i) : cel_list_item(p, b, i - a->v.c.n);
	}
	memset(&v.v.c, 0, sizeof(v.v.c));
	v.v.c.items = items;
	v.v.c.n = a->v.c.n + b->v.c.n;
	return v;
}

static struct cel_value member_in(struct vigil_cel *p, const struct cel_value *a, const struct cel_value *b)
{
	struct cel_value item, eq;
	bool found;
	uint32_t i;

	if (b->kind == V_MAP) {
		item = cel_map_get(p, b, a, &found);
		return found || item.kind != V_ERR || !strcmp(item.v.err, "no such key") ? boolean(found) : item;
	}
	if (b->kind != V_LIST)
		return cel_err("no matching overload for 'in'");
	for (i = 0; i < b->v.c.n; i++) {
		if (--p->steps < 0)
			return cel_err("evaluation step limit");
		item = cel_list_item(p, b, i);
		eq = cel_equal(p, a, &item);
		if (eq.kind == V_ERR)
			return eq;
		if (eq.v.b)
			return boolean(true);
	}
	return boolean(false);
}

static struct cel_value binop(struct vigil_cel *p, const struct cel_node *n, int depth)
{
	struct cel_value a = cel_eval(p, n->a, depth + 1), b, v;
	bool ok;
	int d;

	if (a.kind == V_ERR)
		return a;
	b = cel_eval(p, n->b, depth + 1);
	if (b.kind == V_ERR)
		return b;
	switch (n->fn) {
	case F_EQ: case F_NE:
		v = cel_equal(p, &a, &b);
		if (v.kind == V_BOOL && n->fn == F_NE)
			v.v.b = !v.v.b;
		return v;
	case F_LT: case F_LE: case F_GT: case F_GE:
		d = cel_compare(&a, &b, &ok);
		/* NaN orders with nothing: every comparison with it is false */
		if (!ok && (a.kind == V_DOUBLE || b.kind == V_DOUBLE) && a.kind != V_NULL && b.kind != V_NULL &&
		    (a.kind == V_INT || a.kind == V_UINT || a.kind == V_DOUBLE) &&
		    (b.kind == V_INT || b.kind == V_UINT || b.kind == V_DOUBLE))
			return boolean(false);
		if (!ok)
			return cel_err("no such overload for an ordering of these values");
		return boolean(n->fn == F_LT ? d < 0 : n->fn == F_LE ? d <= 0 : n->fn == F_GT ? d > 0 : d >= 0);
	case F_IN:
		return member_in(p, &a, &b);
	default:
		break;
	}
	if (a.kind != b.kind)
		return cel_err("no matching overload for arithmetic on these values");
	switch (a.kind) {
	case V_INT: return arith_int(n, a.v.i, b.v.i);
	case V_UINT: return arith_uint(n, a.v.u, b.v.u);
	case V_DOUBLE:
		v = a;
		switch (n->fn) {
		case F_ADD: v.v.d = a.v.d + b.v.d; return v;
		case F_SUB: v.v.d = a.v.d - b.v.d; return v;
		case F_MUL: v.v.d = a.v.d * b.v.d; return v;
		case F_DIV: v.v.d = a.v.d / b.v.d; return v;
		default: return cel_err("no matching overload for '%' on doubles");
		}
	case V_STRING: case V_BYTES: case V_LIST:
		if (n->fn == F_ADD)
			return concat(p, &a, &b);
		break;
	default:
		break;
	}
	return cel_err("no matching overload for arithmetic on these values");
}

static struct cel_value index_value(struct vigil_cel *p, const struct cel_node *n, int depth)
{
	struct cel_value a = cel_eval(p, n->a, depth + 1), b;
	bool found;
	int64_t i;

	if (a.kind == V_ERR)
		return a;
	b = cel_eval(p, n->b, depth + 1);
	if (b.kind == V_ERR)
		return b;
	if (a.kind == V_MAP)
		return cel_map_get(p, &a, &b, &found);
	if (a.kind != V_LIST)
		return cel_err("indexing a value that is neither a list nor a map");
	if (b.kind == V_INT)
		i = b.v.i;
	else if (b.kind == V_UINT && b.v.u <= INT64_MAX)
		i = (int64_t)b.v.u;
	else if (b.kind == V_DOUBLE && b.v.d == floor(b.v.d) && b.v.d >= 0 && b.v.d < 4294967296.0)
		i = (int64_t)b.v.d;
	else
		return cel_err("a list index that is not an integer");
	if (i < 0 || i >= a.v.c.n)
		return cel_err("index out of range");
	return cel_list_item(p, &a, (uint32_t)i);
}

/* list or map literal */
static struct cel_value build(struct vigil_cel *p, const struct cel_node *n, int depth)
{
	struct cel_value v = {.kind = n->op == N_LIST ? V_LIST : V_MAP}, *items;
	int i;

	items = cel_scratch(p, (size_t)n->nargs * sizeof(*items) + 1);
	if (!items)
		return cel_err("evaluation memory limit");
	for (i = 0; i < n->nargs; i++) {
		items[i] = cel_eval(p, n->args[i], depth + 1);
		if (items[i].kind == V_ERR)
			return items[i];
	}
	v.v.c.items = items;
	v.v.c.n = (uint32_t)(n->op == N_LIST ? n->nargs : n->nargs / 2);
	return v;
}

/* all, exists, exists_one, filter, map: the variable in slot n->slot takes each item (a
 * map's keys), the predicate and transform see it. */
static struct cel_value comprehension(struct vigil_cel *p, const struct cel_node *n, int depth)
{
	struct cel_value range = cel_eval(p, n->a, depth + 1), pred, out = {.kind = V_LIST}, *items = NULL;
	struct cel_value first_err = {.kind = V_NULL};
	uint32_t i, count = 0, kept = 0;

	if (range.kind == V_ERR)
		return range;
	if (range.kind != V_LIST && range.kind != V_MAP)
		return cel_err("a comprehension over a value that is neither a list nor a map");
	if (n->fn == F_FILTER || n->fn == F_MAP || n->fn == F_MAP_FILTER) {
		items = cel_scratch(p, (size_t)range.v.c.n * sizeof(*items) + 1);
		if (!items)
			return cel_err("evaluation memory limit");
	}
	for (i = 0; i < range.v.c.n; i++) {
		if (--p->steps < 0)
			return cel_err("evaluation step limit");
		p->scope[n->slot] = range.kind == V_LIST ? cel_list_item(p, &range, i) : cel_map_key(p, &range, i);
		if (p->scope[n->slot].kind == V_ERR)
			return p->scope[n->slot];
		pred = cel_eval(p, n->b, depth + 1);
		if (n->fn == F_MAP) {
			if (pred.kind == V_ERR)
				return pred;
			items[kept++] = pred;
			continue;
		}
		if (pred.kind != V_BOOL && pred.kind != V_ERR)
			pred = cel_err("a predicate that is not bool");
		switch (n->fn) {
		case F_ALL: case F_EXISTS:
			/* like && and ||: an item that decides wins over an earlier error */
			if (pred.kind == V_BOOL && pred.v.b == (n->fn == F_EXISTS))
				return pred;
			if (pred.kind == V_ERR && first_err.kind != V_ERR)
				first_err = pred;
			break;
		case F_EXISTS_ONE:
			if (pred.kind == V_ERR)
				return pred;
			count += pred.v.b;
			break;
		default:	/* filter, map with a filter */
			if (pred.kind == V_ERR)
				return pred;
			if (!pred.v.b)
				break;
			if (n->fn == F_FILTER) {
				items[kept++] = p->scope[n->slot];
			} else {
				items[kept] = cel_eval(p, n->c, depth + 1);
				if (items[kept].kind == V_ERR)
					return items[kept];
				kept++;
			}
		}
	}
	switch (n->fn) {
	case F_ALL: case F_EXISTS:
		return first_err.kind == V_ERR ? first_err : boolean(n->fn == F_ALL);
	case F_EXISTS_ONE:
		return boolean(count == 1);
	default:
		out.v.c.items = items;
		out.v.c.n = kept;
		return out;
	}
}

static struct cel_value cond(struct vigil_cel *p, const struct cel_node *n, int depth)
{
	struct cel_value c = cel_eval(p, n->a, depth + 1);

	if (c.kind == V_ERR)
		return c;
	if (c.kind != V_BOOL)
		return cel_err("a condition that is not bool");
	return cel_eval(p, c.v.b ? n->b : n->c, depth + 1);
}

static struct cel_value call(struct vigil_cel *p, const struct cel_node *n, int depth)
{
	struct cel_value args[3];
	int nargs = n->nargs + (n->receiver ? 1 : 0), i, arg;

	for (i = 0; i < nargs && i < 3; i++) {
		arg = n->receiver ? (i ? n->args[i - 1] : n->a) : n->args[i];
		args[i] = cel_eval(p, arg, depth + 1);
		if (args[i].kind == V_ERR)
			return args[i];
	}
	return cel_call(p, n, args, nargs);
}

struct cel_value cel_eval(struct vigil_cel *p, int idx, int depth)
{
	const struct cel_node *n = &p->nodes[idx];
	struct cel_value v;

	if (--p->steps < 0)
		return cel_err("evaluation step limit");
	/* the parser bounds the AST's height; this is the belt to its braces */
	if (depth > 2 * CEL_MAX_DEPTH)
		return cel_err("evaluation depth limit");
	switch (n->op) {
	case N_LIT: return n->lit;
	case N_VAR: return p->scope[n->slot];
	case N_EVENT: return event_var(p, n->slot);
	case N_SELECT: return select_value(p, n, depth, false);
	case N_HAS: return select_value(p, n, depth, true);
	case N_INDEX: return index_value(p, n, depth);
	case N_CALL: return call(p, n, depth);
	case N_LIST: case N_MAP: return build(p, n, depth);
	case N_COMPRE: return comprehension(p, n, depth);
	case N_AND: case N_OR: return logical(p, n, depth);
	case N_NOT:
		v = cel_eval(p, n->a, depth + 1);
		if (v.kind == V_BOOL)
			v.v.b = !v.v.b;
		else if (v.kind != V_ERR)
			v = cel_err("no matching overload for '!'");
		return v;
	case N_NEG:
		v = cel_eval(p, n->a, depth + 1);
		if (v.kind == V_INT) {
			if (v.v.i == INT64_MIN)
				return cel_err("integer overflow");
			v.v.i = -v.v.i;
		} else if (v.kind == V_DOUBLE) {
			v.v.d = -v.v.d;
		} else if (v.kind != V_ERR) {
			v = cel_err("no matching overload for '-'");
		}
		return v;
	case N_COND: return cond(p, n, depth);
	case N_BINOP: return binop(p, n, depth);
	default: return cel_err("an unchecked node");
	}
}
