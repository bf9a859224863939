/* ev.c - the event as rules see it: a lazy view of the bus message's bytes.
 *
 * Nothing is converted up front, nor unpacked: `ev` is a small userdata standing for the
 * msgpack root; indexing it finds the key in the bytes (event.c, which notes the keys it
 * passes, so each value is skipped once per event whatever the rules ask) and pushes
 * scalars as Lua values and maps and arrays as further views, so a rule that reads two
 * fields pays for two lookups. The view borrows the bytes, which live only for the
 * on_event call: each view records the rule's call generation and refuses to be read once
 * the call has returned (copy() keeps a plain table instead). The metatable is hidden from
 * Lua (__metatable), so the metamethods are only ever called on views and can trust their
 * first argument.
 *
 * A view is a light userdata that packs the generation and the offset (LH_VIEW_OFF_BITS):
 * making one allocates nothing and leaves nothing for the collector, which a full userdata
 * per call and per nested view cost (~30% of an empty on_event). The state's light userdata
 * metatable is the view's: the host pushes no other light userdata into a rule's state, and
 * a rule cannot make one. Offsets past LH_VIEW_OFF_BITS (no event vigil encodes is that
 * large) and generations past LH_VIEW_GEN_MAX (2^36 calls of one rule) fall back to a full
 * userdata, checked the same way.
 *
 * The event view answers the keys of the root ("process_exec", "node_name", "time"), then
 * those of the body ("process", "parent", "args", ...), then "type" (the event key). A key
 * with dots is a path ("process.binary", "args.0.string_arg": array indexes 0-based as in
 * the JSON), which skips the intermediate views.
 */
#include <string.h>

#include "luahost_internal.h"

static char view_key;		/* registry key of the view metatable */

#define LH_VIEW_OFF_BITS 28
#define LH_VIEW_OFF_MASK ((1ULL << LH_VIEW_OFF_BITS) - 1)
#define LH_VIEW_GEN_MAX (1ULL << (64 - LH_VIEW_OFF_BITS))

/* The fallback: a view that does not pack into a pointer. */
struct lh_view {
	uint64_t gen;			/* 0 once closed */
	size_t off;			/* the value in the event's bytes; 0: the event itself */
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

static void push_view(lua_State *L, struct lh_rule *r, size_t off)
{
	struct lh_view *v;

	if (sizeof(void *) == sizeof(uint64_t) && off <= LH_VIEW_OFF_MASK && r->gen < LH_VIEW_GEN_MAX) {
		lua_pushlightuserdata(L, (void *)(uintptr_t)((r->gen << LH_VIEW_OFF_BITS) | off));
		return;
	}
	v = lua_newuserdatauv(L, sizeof(*v), 0);
	v->gen = r->gen;
	v->off = off;
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->view_mt_ref);	/* the array part: cheaper than by key */
	lua_setmetatable(L, -2);
}

/* The value at off as Lua pushes it: scalars as values, containers as views; nil when
 * absent (off 0) or unreadable. */
static void push_val(lua_State *L, struct lh_rule *r, size_t off)
{
	struct lh_mpval v;

	if (!off || !lh_mp_read(r->ev->data, r->ev->len, off, &v)) {
		lua_pushnil(L);
		return;
	}
	switch (v.type) {
	case LH_MP_BOOL:
		lua_pushboolean(L, v.b);
		break;
	case LH_MP_UINT:
		if (v.u <= (uint64_t)LUA_MAXINTEGER)
			lua_pushinteger(L, (lua_Integer)v.u);
		else
			lua_pushnumber(L, (lua_Number)v.u);
		break;
	case LH_MP_INT:
		lua_pushinteger(L, (lua_Integer)v.i);
		break;
	case LH_MP_FLOAT:
		lua_pushnumber(L, (lua_Number)v.f);
		break;
	case LH_MP_STR:
	case LH_MP_BIN:
		lua_pushlstring(L, v.str, v.len);
		break;
	case LH_MP_ARRAY:
	case LH_MP_MAP:
		push_view(L, r, off);
		break;
	default:
		lua_pushnil(L);
		break;
	}
}

void lh_push_event(lua_State *L, struct lh_rule *r)
{
	push_view(L, r, 0);
}

/* The offset of the view at idx (a metamethod's self: the metatable is hidden, so it is
 * one), checked to belong to the call in progress. */
static size_t live_view(lua_State *L, int idx, struct lh_rule **rp)
{
	struct lh_rule *r = lh_rule_of(L);
	uint64_t gen = 0, packed;
	struct lh_view *v;
	size_t off = 0;

	if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) {
		packed = (uint64_t)(uintptr_t)lua_touserdata(L, idx);
		gen = packed >> LH_VIEW_OFF_BITS;
		off = (size_t)(packed & LH_VIEW_OFF_MASK);
	} else if ((v = lua_touserdata(L, idx))) {
		gen = v->gen;
		off = v->off;
	}
	if (!gen || !r->ev || gen != r->gen)
		luaL_error(L, "event used after its on_event call returned (copy() what you keep)");
	*rp = r;
	return off;
}

bool lh_view_at(lua_State *L, int idx, size_t *off)
{
	struct lh_rule *r;
	bool is_view;

	/* a light userdata is a view: no other is ever pushed into a rule's state */
	if (lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx)) {
		*off = live_view(L, idx, &r);
		return true;
	}
	if (!lua_touserdata(L, idx) || !lua_getmetatable(L, idx))
		return false;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &view_key);
	is_view = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	if (!is_view)
		return false;
	*off = live_view(L, idx, &r);
	return true;
}

static int view_index(lua_State *L)
{
	struct lh_rule *r;
	size_t voff = live_view(L, 1, &r), off = 0, n;
	struct lh_event *e = r->ev;
	lua_Integer i;
	const char *key;

	if (lua_type(L, 2) == LUA_TNUMBER) {
		i = lua_tointeger(L, 2);
		if (voff && i >= 1)
			off = lh_array_at(e, voff, (uint64_t)i - 1);
	} else if ((key = lua_tolstring(L, 2, &n))) {
		if (!voff) {
			/* no event has a "type" key: the pseudo-key goes first, as rules ask it most */
			if (n == 4 && !memcmp(key, "type", 4)) {
				lua_pushstring(L, e->type_key);
				return 1;
			}
			off = memchr(key, '.', n) ? lh_event_find(e, key, n) : lh_event_get(e, key, n);
		} else {
			off = memchr(key, '.', n) ? lh_find(e, voff, key, n) : lh_child(e, voff, key, n);
		}
	}
	push_val(L, r, off);
	return 1;
}

static int view_len(lua_State *L)
{
	struct lh_rule *r;
	size_t off = live_view(L, 1, &r);
	struct lh_mpval m;

	if (!off)
		lua_pushinteger(L, lh_root_count(r->ev));
	else
		lua_pushinteger(L, lh_mp_read(r->ev->data, r->ev->len, off, &m) &&
					   (m.type == LH_MP_ARRAY || m.type == LH_MP_MAP) ? (lua_Integer)m.count : 0);
	return 1;
}

/* The iterator __pairs returns: upvalues are the view, the next position and, for an
 * array, where that element starts. */
static int view_next(lua_State *L)
{
	struct lh_rule *r;
	size_t voff = live_view(L, lua_upvalueindex(1), &r);
	struct lh_event *e = r->ev;
	lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
	size_t at = (size_t)lua_tointeger(L, lua_upvalueindex(3));
	struct lh_mpval m;
	struct lh_entry en;
	uint32_t count;

	if (!lh_mp_read(e->data, e->len, voff, &m)) {
		lua_pushnil(L);
		return 1;
	}
	count = voff ? m.count : lh_root_count(e);
	for (;; i++) {
		if (m.type == LH_MP_ARRAY && (uint64_t)i < count && at) {
			lua_pushinteger(L, i + 1);
			push_val(L, r, at);
			lua_pushinteger(L, (lua_Integer)lh_mp_next(e->data, e->len, at));
			lua_replace(L, lua_upvalueindex(3));
		} else if (m.type == LH_MP_MAP && (uint64_t)i < count && lh_map_at(e, voff, (uint32_t)i, &en)) {
			if (!en.str)
				continue;
			lua_pushlstring(L, (const char *)e->data + en.key, en.klen);
			push_val(L, r, en.val);
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
	size_t off = live_view(L, 1, &r);
	struct lh_mpval m;

	lua_pushvalue(L, 1);
	lua_pushinteger(L, 0);
	lua_pushinteger(L, lh_mp_read(r->ev->data, r->ev->len, off, &m) ? (lua_Integer)m.next : 0);
	lua_pushcclosure(L, view_next, 3);
	return 1;
}

static int view_tostring(lua_State *L)
{
	struct lh_rule *r;
	size_t off = live_view(L, 1, &r);
	const msgpack_object *o = lh_event_obj(r->ev, off);
	struct vigil_buf b = { 0 };

	if (!o || vigil_json_from_msgpack(o, &b)) {
		vigil_buf_free(&b);
		return luaL_error(L, "cannot render the event as JSON");
	}
	lua_pushlstring(L, b.data ? b.data : "", b.len);
	vigil_buf_free(&b);
	return 1;
}

/* `local p <close> = ev.process`: a full userdata view is dead from the end of the block; a
 * packed one (the usual) cannot be marked, and dies with the call as every view does */
static int view_close(lua_State *L)
{
	struct lh_view *v = lua_type(L, 1) == LUA_TUSERDATA ? lua_touserdata(L, 1) : NULL;

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
	lua_pushvalue(L, -1);
	lh_rule_of(L)->view_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	/* the packed views' metatable: every light userdata's in this state */
	lua_pushlightuserdata(L, NULL);
	lua_pushvalue(L, -2);
	lua_setmetatable(L, -2);
	lua_pop(L, 1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &view_key);
}

/* ---- vigil.native: what is worth doing in C for the modules ---- */

/* The value of a policy argument map: its one key besides "label"; 0 when none. */
static size_t arg_value(struct lh_event *e, size_t a)
{
	struct lh_entry en;
	uint32_t i;

	for (i = 0; lh_map_at(e, a, i, &en); i++)
		if (!(en.str && en.klen == 5 && !memcmp(e->data + en.key, "label", 5)))
			return en.val;
	return 0;
}

/* The value of the argument labelled want (n bytes) in the args array at args (its header
 * read into v), or 0. */
static size_t arg_labelled(struct lh_event *e, const struct lh_mpval *v, const char *want, size_t n)
{
	size_t a, label, at;
	struct lh_mpval l;
	uint32_t i;

	for (i = 0, at = v->next; i < v->count && at; i++) {
		a = at;
		label = lh_child(e, a, "label", 5);
		if (label && lh_mp_read(e->data, e->len, label, &l) && l.type == LH_MP_STR && l.len == n &&
		    !memcmp(l.str, want, n))
			return arg_value(e, a);
		at = lh_mp_next(e->data, e->len, a);
	}
	return 0;
}

/* arg(ev, which): the value of the event's argument labelled which, or at position which
 * (from 1); nil when there is none. vigil.event.arg is this. A label asked of the event
 * itself is remembered for the event: most rules on a policy event ask for the same one. */
static int native_arg(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	struct lh_event *e;
	size_t off = 0, args, a, found = 0, n = 0;
	struct lh_mpval v;
	lua_Integer idx;
	const char *want = NULL;

	if (!lh_view_at(L, 1, &off))
		return luaL_argerror(L, 1, "an event (or a part of one holding args)");
	e = r->ev;
	if (lua_type(L, 2) != LUA_TNUMBER) {
		want = luaL_checklstring(L, 2, &n);
		if (!off && lh_memo_get(e, LH_MEMO_ARG, want, n, &found)) {
			push_val(L, r, found);
			return 1;
		}
	}
	args = lh_child(e, off ? off : e->body, "args", 4);
	if (args && lh_mp_read(e->data, e->len, args, &v) && v.type == LH_MP_ARRAY) {
		if (lua_type(L, 2) == LUA_TNUMBER) {
			idx = luaL_checkinteger(L, 2);
			if (idx >= 1 && (uint64_t)idx <= v.count && (a = lh_array_at(e, args, (uint64_t)idx - 1)))
				found = arg_value(e, a);
		} else {
			found = arg_labelled(e, &v, want, n);
		}
	}
	if (!off && want)
		lh_memo_put(e, LH_MEMO_ARG, want, n, found);
	push_val(L, r, found);
	return 1;
}

/* The answer of a helper given other than what it takes: nil and false, for the module's
 * Lua lines to answer instead (their own type checks would cost a call each). */
static int not_mine(lua_State *L)
{
	lua_pushnil(L);
	lua_pushboolean(L, 0);
	return 2;
}

/* basename(s): what follows the last '/' of the string s (all of it without one): what
 * vigil.proctree.basename computes with ("([^/]*)$"), without the matcher's backtracking;
 * nil and false for other than a string. */
static int native_basename(lua_State *L)
{
	size_t n;
	const char *s, *slash;

	if (lua_type(L, 1) != LUA_TSTRING)
		return not_mine(L);
	s = lua_tolstring(L, 1, &n);
	slash = n ? memrchr(s, '/', n) : NULL;

	if (slash)
		lua_pushlstring(L, slash + 1, n - (size_t)(slash + 1 - s));
	else
		lua_pushvalue(L, 1);
	return 1;
}

/* abspath(path, cwd): vigil.event.abspath for a string path and a string (or nil) cwd (nil
 * and false for others): a relative path is taken from cwd (or "/"); then "." segments are
 * dropped, ".." drops the segment before it (none at the top), empty ones vanish; the
 * result starts with "/". */
static int native_abspath(lua_State *L)
{
	size_t lp, lc = 1, seg;
	const char *path, *cwd, *src, *end;
	size_t len = 0;
	luaL_Buffer b;
	char *out;
	int pass;

	if (lua_type(L, 1) != LUA_TSTRING || !(lua_isnoneornil(L, 2) || lua_type(L, 2) == LUA_TSTRING))
		return not_mine(L);
	path = lua_tolstring(L, 1, &lp);
	cwd = luaL_optlstring(L, 2, "/", &lc);

	/* each segment kept is its bytes and a '/': at most twice the input, plus the root */
	out = luaL_buffinitsize(L, &b, 2 * (lc + lp) + 2);
	/* two pieces: cwd then path, as if joined with a '/' between them */
	for (pass = path[0] == '/' ? 1 : 0; pass < 2; pass++) {
		src = pass ? path : cwd;
		end = src + (pass ? lp : lc);
		while (src < end) {
			while (src < end && *src == '/')
				src++;
			for (seg = 0; src + seg < end && src[seg] != '/'; seg++)
				;
			if (seg == 2 && src[0] == '.' && src[1] == '.') {
				while (len && out[len - 1] != '/')
					len--;
				if (len)
					len--;		/* the '/' before the dropped segment */
			} else if (seg && !(seg == 1 && src[0] == '.')) {
				out[len++] = '/';
				memcpy(out + len, src, seg);
				len += seg;
			}
			src += seg;
		}
	}
	if (!len)
		out[len++] = '/';
	luaL_pushresultsize(&b, len);
	return 1;
}

/* has_prefix(s, prefixes): whether the string s starts with one of the strings in the list;
 * nil when the list holds something else before a match, or s is no string or the list no
 * table (vigil.event then asks Lua). */
static int native_has_prefix(lua_State *L)
{
	size_t n, lp;
	const char *s, *p;
	lua_Integer i;

	if (lua_type(L, 1) != LUA_TSTRING || lua_type(L, 2) != LUA_TTABLE)
		return not_mine(L);
	s = lua_tolstring(L, 1, &n);
	for (i = 1;; i++) {
		if (lua_geti(L, 2, i) == LUA_TNIL)
			break;
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pushnil(L);
			return 1;
		}
		p = lua_tolstring(L, -1, &lp);
		lua_pop(L, 1);
		if (lp <= n && !memcmp(s, p, lp)) {
			lua_pushboolean(L, 1);
			return 1;
		}
	}
	lua_pushboolean(L, 0);
	return 1;
}

/* find_any(s, list): the first string of the list found in s as plain text (what a loop of
 * s:find(p, 1, true) over it finds first), or nil; nil and false when the list holds
 * something other than strings, or s is no string or the list no table (vigil.event then
 * asks Lua). Charged, once, as the finds it stands for. */
static int native_find_any(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	size_t n, lp;
	const char *s, *p;
	double work = 0;
	lua_Integer i, count;

	if (lua_type(L, 1) != LUA_TSTRING || lua_type(L, 2) != LUA_TTABLE)
		return not_mine(L);
	s = lua_tolstring(L, 1, &n);
	for (count = 0;; count++) {
		if (lua_geti(L, 2, count + 1) == LUA_TNIL)
			break;
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pushnil(L);
			lua_pushboolean(L, 0);
			return 2;
		}
		work += (double)n * (double)(lua_rawlen(L, -1) ? lua_rawlen(L, -1) : 1);
		lua_pop(L, 1);
	}
	lh_charge(L, r, work, "find_any");
	for (i = 1; i <= count; i++) {
		lua_geti(L, 2, i);
		p = lua_tolstring(L, -1, &lp);
		if (p && lh_find_plain(s, n, p, lp))
			return 1;	/* the string found, on top */
		lua_pop(L, 1);
	}
	lua_pushnil(L);
	return 1;
}

static const luaL_Reg native_funcs[] = {
	{ "arg", native_arg },
	{ "find_any", native_find_any },
	{ "basename", native_basename },
	{ "abspath", native_abspath },
	{ "has_prefix", native_has_prefix },
	{ NULL, NULL },
};

int lh_open_native(lua_State *L)
{
	luaL_newlib(L, native_funcs);
	return 1;
}

/* ---- copy() ---- */

static size_t copy_val(lua_State *L, struct lh_rule *r, size_t off, int depth);

/* The map's string keys and their values into the table on top; the offset past the map,
 * or 0 when its bytes end early (what was read is kept). */
static size_t copy_map_into(lua_State *L, struct lh_rule *r, const struct lh_mpval *m, int depth)
{
	const struct lh_event *e = r->ev;
	struct lh_mpval k;
	size_t at = m->next;
	uint32_t i;

	for (i = 0; i < m->count && at; i++) {
		if (!lh_mp_read(e->data, e->len, at, &k))
			return 0;
		if (k.type != LH_MP_STR) {
			at = lh_mp_next(e->data, e->len, at);
			at = at ? lh_mp_next(e->data, e->len, at) : 0;
			continue;
		}
		lua_pushlstring(L, k.str, k.len);
		at = copy_val(L, r, k.next, depth + 1);
		lua_rawset(L, -3);
	}
	return at;
}

/* Push the value at off as plain Lua values and tables; returns the offset past it, or 0
 * when its bytes end early (nil, or the part read, is pushed). */
static size_t copy_val(lua_State *L, struct lh_rule *r, size_t off, int depth)
{
	const struct lh_event *e = r->ev;
	struct lh_mpval v;
	size_t at;
	uint32_t i;

	if (depth > LH_MAX_DEPTH)
		luaL_error(L, "copy(): nested deeper than %d", LH_MAX_DEPTH);
	luaL_checkstack(L, 4, "copy()");
	if (!lh_mp_read(e->data, e->len, off, &v)) {
		lua_pushnil(L);
		return 0;
	}
	if (v.type == LH_MP_ARRAY) {
		lua_createtable(L, (int)v.count, 0);
		for (i = 0, at = v.next; i < v.count && at; i++) {
			at = copy_val(L, r, at, depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		return at;
	}
	if (v.type == LH_MP_MAP) {
		lua_createtable(L, 0, (int)v.count);
		return copy_map_into(L, r, &v, depth);
	}
	push_val(L, r, off);
	return v.next;
}

int lh_copy(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	struct lh_event *e;
	struct lh_mpval body;
	size_t off = 0;

	luaL_checkany(L, 1);
	if (!lh_view_at(L, 1, &off)) {
		lua_settop(L, 1);
		return 1;
	}
	if (off) {
		copy_val(L, r, off, 0);
		return 1;
	}
	/* the event, flattened: the body's keys, then type, node_name and time */
	e = r->ev;
	if (!lh_mp_read(e->data, e->len, e->body, &body))
		return luaL_error(L, "copy(): the event does not read");
	lua_createtable(L, 0, (int)body.count + 3);
	copy_map_into(L, r, &body, 0);
	lua_pushstring(L, e->type_key);
	lua_setfield(L, -2, "type");
	off = lh_root_get(e, "node_name", 9);
	if (off) {
		copy_val(L, r, off, 1);
		lua_setfield(L, -2, "node_name");
	}
	off = lh_root_get(e, "time", 4);
	if (off) {
		copy_val(L, r, off, 1);
		lua_setfield(L, -2, "time");
	}
	return 1;
}
