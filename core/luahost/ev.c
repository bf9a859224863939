/* ev.c - the event as rules see it: a lazy view of the decoded bus message.
 *
 * Nothing is converted up front. `ev` is a small userdata standing for the msgpack root;
 * indexing it finds the key in the tree and pushes scalars as Lua values and maps and
 * arrays as further views, so a rule that reads two fields pays for two lookups. The view
 * borrows the message, which lives only for the on_event call: each view records the rule's
 * call generation and refuses to be read once the call has returned (copy() keeps a plain
 * table instead). The metatable is hidden from Lua (__metatable), so the metamethods are
 * only ever called on views and can trust their first argument.
 *
 * The event view answers the keys of the root ("process_exec", "node_name", "time"), then
 * those of the body ("process", "parent", "args", ...), then "type" (the event key). A key
 * with dots is a path ("process.binary", "args.0.string_arg": array indexes 0-based as in
 * the JSON), which skips the intermediate views.
 */
#include <string.h>

#include "luahost_internal.h"

static char view_key;		/* registry key of the view metatable */

struct lh_view {
	uint64_t gen;			/* 0 once closed */
	const msgpack_object *obj;
	bool root;
};

const msgpack_object *lh_obj_child(const msgpack_object *o, const char *seg, size_t n)
{
	const msgpack_object_kv *kv;
	uint64_t idx = 0;
	uint32_t i;
	size_t k;

	if (!o || !n)
		return NULL;
	if (o->type == MSGPACK_OBJECT_MAP) {
		for (i = 0; i < o->via.map.size; i++) {
			kv = &o->via.map.ptr[i];
			if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == n &&
			    !memcmp(kv->key.via.str.ptr, seg, n))
				return &kv->val;
		}
	} else if (o->type == MSGPACK_OBJECT_ARRAY && n <= 10) {
		for (k = 0; k < n; k++) {
			if (seg[k] < '0' || seg[k] > '9')
				return NULL;
			idx = idx * 10 + (uint64_t)(seg[k] - '0');
		}
		if (idx < o->via.array.size)
			return &o->via.array.ptr[idx];
	}
	return NULL;
}

const msgpack_object *lh_obj_find(const msgpack_object *o, const char *path, size_t len)
{
	const char *end = path + len, *dot;

	while (o && path <= end) {
		dot = memchr(path, '.', (size_t)(end - path));
		if (!dot)
			dot = end;
		o = lh_obj_child(o, path, (size_t)(dot - path));
		path = dot + 1;
	}
	return o;
}

const msgpack_object *lh_msg_find(const struct vigil_msg *m, const char *path, size_t len)
{
	const msgpack_object *o = lh_obj_find(vigil_msg__body(m), path, len);

	return o ? o : lh_obj_find(vigil_msg__root(m), path, len);
}

static void push_view(lua_State *L, struct lh_rule *r, const msgpack_object *o, bool root)
{
	struct lh_view *v = lua_newuserdatauv(L, sizeof(*v), 0);

	v->gen = r->gen;
	v->obj = o;
	v->root = root;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &view_key);
	lua_setmetatable(L, -2);
}

static void push_obj(lua_State *L, struct lh_rule *r, const msgpack_object *o)
{
	switch (o ? o->type : MSGPACK_OBJECT_NIL) {
	case MSGPACK_OBJECT_BOOLEAN:
		lua_pushboolean(L, o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 <= (uint64_t)LUA_MAXINTEGER)
			lua_pushinteger(L, (lua_Integer)o->via.u64);
		else
			lua_pushnumber(L, (lua_Number)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		lua_pushinteger(L, (lua_Integer)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		lua_pushnumber(L, (lua_Number)o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		lua_pushlstring(L, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		lua_pushlstring(L, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
	case MSGPACK_OBJECT_MAP:
		push_view(L, r, o, false);
		break;
	default:
		lua_pushnil(L);
		break;
	}
}

void lh_push_event(lua_State *L, struct lh_rule *r)
{
	push_view(L, r, vigil_msg__root(r->msg), true);
}

/* The view at idx (a metamethod's self: the metatable is hidden, so it is one), checked to
 * belong to the call in progress. */
static struct lh_view *live_view(lua_State *L, int idx, struct lh_rule **rp)
{
	struct lh_view *v = lua_touserdata(L, idx);
	struct lh_rule *r = lh_rule_of(L);

	if (!v || !r->msg || v->gen != r->gen)
		luaL_error(L, "event used after its on_event call returned (copy() what you keep)");
	*rp = r;
	return v;
}

const msgpack_object *lh_view_object(lua_State *L, int idx, bool *root)
{
	struct lh_view *v = lua_touserdata(L, idx);
	struct lh_rule *r;
	bool is_view;

	if (!v || !lua_getmetatable(L, idx))
		return NULL;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &view_key);
	is_view = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	if (!is_view)
		return NULL;
	live_view(L, idx, &r);
	*root = v->root;
	return v->obj;
}

static int view_index(lua_State *L)
{
	struct lh_rule *r;
	struct lh_view *v = live_view(L, 1, &r);
	const msgpack_object *o = NULL;
	lua_Integer i;
	const char *key;
	size_t n;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		i = lua_tointeger(L, 2);
		if (v->obj->type == MSGPACK_OBJECT_ARRAY && i >= 1 && (uint64_t)i <= v->obj->via.array.size)
			o = &v->obj->via.array.ptr[i - 1];
	} else if ((key = lua_tolstring(L, 2, &n))) {
		if (v->root) {
			/* no event has a "type" key: the pseudo-key goes first, as rules ask it most */
			if (n == 4 && !memcmp(key, "type", 4)) {
				lua_pushstring(L, vigil_msg__type_key(r->msg));
				return 1;
			}
			o = memchr(key, '.', n) ? lh_msg_find(r->msg, key, n) : lh_obj_child(v->obj, key, n);
			if (!o)
				o = lh_obj_child(vigil_msg__body(r->msg), key, n);
		} else {
			o = memchr(key, '.', n) ? lh_obj_find(v->obj, key, n) : lh_obj_child(v->obj, key, n);
		}
	}
	push_obj(L, r, o);
	return 1;
}

static int view_len(lua_State *L)
{
	struct lh_rule *r;
	struct lh_view *v = live_view(L, 1, &r);

	lua_pushinteger(L, v->obj->type == MSGPACK_OBJECT_ARRAY ? (lua_Integer)v->obj->via.array.size
			   : v->obj->type == MSGPACK_OBJECT_MAP	  ? (lua_Integer)v->obj->via.map.size
								  : 0);
	return 1;
}

/* The iterator __pairs returns: upvalues are the view and the next position. */
static int view_next(lua_State *L)
{
	struct lh_rule *r;
	struct lh_view *v = live_view(L, lua_upvalueindex(1), &r);
	lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
	const msgpack_object *o = v->obj;

	for (;; i++) {
		if (o->type == MSGPACK_OBJECT_ARRAY && (uint64_t)i < o->via.array.size) {
			lua_pushinteger(L, i + 1);
			push_obj(L, r, &o->via.array.ptr[i]);
		} else if (o->type == MSGPACK_OBJECT_MAP && (uint64_t)i < o->via.map.size) {
			if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
				continue;
			push_obj(L, r, &o->via.map.ptr[i].key);
			push_obj(L, r, &o->via.map.ptr[i].val);
		} else {
			lua_pushnil(L);
			return 1;
		}
		lua_pushinteger(L, i + 1);
		lua_replace(L, lua_upvalueindex(2));
		return 2;
	}
}

static int view_pairs(lua_State *L)
{
	struct lh_rule *r;

	live_view(L, 1, &r);
	lua_pushvalue(L, 1);
	lua_pushinteger(L, 0);
	lua_pushcclosure(L, view_next, 2);
	return 1;
}

static int view_tostring(lua_State *L)
{
	struct lh_rule *r;
	struct lh_view *v = live_view(L, 1, &r);
	struct vigil_buf b = { 0 };

	if (vigil_json_from_msgpack(v->obj, &b)) {
		vigil_buf_free(&b);
		return luaL_error(L, "cannot render the event as JSON");
	}
	lua_pushlstring(L, b.data ? b.data : "", b.len);
	vigil_buf_free(&b);
	return 1;
}

/* `local p <close> = ev.process`: the view is dead from the end of the block */
static int view_close(lua_State *L)
{
	struct lh_view *v = lua_touserdata(L, 1);

	if (v)
		v->gen = 0;
	return 0;
}

static const luaL_Reg view_meta[] = {
	{ "__index", view_index },
	{ "__len", view_len },
	{ "__pairs", view_pairs },
	{ "__tostring", view_tostring },
	{ "__close", view_close },
	{ NULL, NULL },
};

void lh_view_open(lua_State *L)
{
	luaL_newmetatable(L, "vigil.ev");
	luaL_setfuncs(L, view_meta, 0);
	lua_pushliteral(L, "vigil.ev");
	lua_setfield(L, -2, "__metatable");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &view_key);
}

/* ---- vigil.native: what is worth doing in C for the modules ---- */

/* The value of a policy argument map: its one key besides "label". */
static const msgpack_object *arg_value(const msgpack_object *a)
{
	uint32_t i;

	for (i = 0; a->type == MSGPACK_OBJECT_MAP && i < a->via.map.size; i++)
		if (!(a->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR && a->via.map.ptr[i].key.via.str.size == 5 &&
		      !memcmp(a->via.map.ptr[i].key.via.str.ptr, "label", 5)))
			return &a->via.map.ptr[i].val;
	return NULL;
}

/* arg(ev, which): the value of the event's argument labelled which, or at position which
 * (from 1); nil when there is none. vigil.event.arg is this. */
static int native_arg(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	const msgpack_object *o, *args, *a, *label, *found = NULL;
	lua_Integer idx;
	const char *want;
	bool root = false;
	size_t n;
	uint32_t i;

	o = lh_view_object(L, 1, &root);
	if (!o)
		return luaL_argerror(L, 1, "an event (or a part of one holding args)");
	args = lh_obj_child(root ? vigil_msg__body(r->msg) : o, "args", 4);
	if (args && args->type == MSGPACK_OBJECT_ARRAY) {
		if (lua_type(L, 2) == LUA_TNUMBER) {
			idx = luaL_checkinteger(L, 2);
			if (idx >= 1 && (uint64_t)idx <= args->via.array.size)
				found = arg_value(&args->via.array.ptr[idx - 1]);
		} else {
			want = luaL_checklstring(L, 2, &n);
			for (i = 0; i < args->via.array.size && !found; i++) {
				a = &args->via.array.ptr[i];
				label = lh_obj_child(a, "label", 5);
				if (label && label->type == MSGPACK_OBJECT_STR && label->via.str.size == n &&
				    !memcmp(label->via.str.ptr, want, n))
					found = arg_value(a);
			}
		}
	}
	push_obj(L, r, found);
	return 1;
}

static const luaL_Reg native_funcs[] = {
	{ "arg", native_arg },
	{ NULL, NULL },
};

int lh_open_native(lua_State *L)
{
	luaL_newlib(L, native_funcs);
	return 1;
}

/* ---- copy() ---- */

static void copy_obj(lua_State *L, const msgpack_object *o, int depth);

static void copy_map_into(lua_State *L, const msgpack_object *o, int depth)
{
	uint32_t i;

	for (i = 0; i < o->via.map.size; i++) {
		if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
			continue;
		lua_pushlstring(L, o->via.map.ptr[i].key.via.str.ptr, o->via.map.ptr[i].key.via.str.size);
		copy_obj(L, &o->via.map.ptr[i].val, depth + 1);
		lua_rawset(L, -3);
	}
}

static void copy_obj(lua_State *L, const msgpack_object *o, int depth)
{
	struct lh_rule *r = lh_rule_of(L);
	uint32_t i;

	if (depth > LH_MAX_DEPTH)
		luaL_error(L, "copy(): nested deeper than %d", LH_MAX_DEPTH);
	luaL_checkstack(L, 4, "copy()");
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		lua_createtable(L, (int)o->via.array.size, 0);
		for (i = 0; i < o->via.array.size; i++) {
			copy_obj(L, &o->via.array.ptr[i], depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	} else if (o->type == MSGPACK_OBJECT_MAP) {
		lua_createtable(L, 0, (int)o->via.map.size);
		copy_map_into(L, o, depth);
	} else {
		push_obj(L, r, o);
	}
}

int lh_copy(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	const msgpack_object *o;
	bool root = false;

	luaL_checkany(L, 1);
	o = lh_view_object(L, 1, &root);
	if (!o) {
		lua_settop(L, 1);
		return 1;
	}
	if (!root) {
		copy_obj(L, o, 0);
		return 1;
	}
	/* the event, flattened: the body's keys, then type, node_name and time */
	o = vigil_msg__body(r->msg);
	lua_createtable(L, 0, (int)o->via.map.size + 3);
	copy_map_into(L, o, 0);
	lua_pushstring(L, vigil_msg__type_key(r->msg));
	lua_setfield(L, -2, "type");
	o = lh_obj_child(vigil_msg__root(r->msg), "node_name", 9);
	if (o) {
		copy_obj(L, o, 1);
		lua_setfield(L, -2, "node_name");
	}
	o = lh_obj_child(vigil_msg__root(r->msg), "time", 4);
	if (o) {
		copy_obj(L, o, 1);
		lua_setfield(L, -2, "time");
	}
	return 1;
}
