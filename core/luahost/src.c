/* src.c - the event an alert or action speaks of: the one being handled, a view of it, or
 * a table a rule copied earlier. Reads template fields, exec_ids and the process from
 * whichever it is. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luahost_internal.h"

/* The value at off of the event unpacked, or NULL (off 0: absent). */
static const msgpack_object *event_obj(struct lh_event *e, size_t off)
{
	return off ? lh_event_obj(e, off) : NULL;
}

void lh_src_at(lua_State *L, struct lh_rule *r, int idx, struct lh_src *s)
{
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	if (!idx || lua_isnoneornil(L, idx)) {
		s->ev = r->ev;
	} else if (lh_view_at(L, idx, &off)) {
		if (off)
			s->obj = lh_event_obj(r->ev, off);
		else
			s->ev = r->ev;
	} else if (lua_istable(L, idx)) {
		s->idx = lua_absindex(L, idx);
	} else {
		luaL_error(L, "an event must be ev, a part of it, or a copy() of it (got a %s value)",
			   luaL_typename(L, idx));
	}
}

void lh_push_path(lua_State *L, int idx, const char *path, size_t n)
{
	const char *end = path + n, *dot;
	char seg[128];
	size_t len, k;
	bool digits;

	lua_pushvalue(L, idx);
	while (path <= end) {
		dot = memchr(path, '.', (size_t)(end - path));
		if (!dot)
			dot = end;
		len = (size_t)(dot - path);
		if (!len || len >= sizeof(seg) || (!lua_istable(L, -1) && !lua_isuserdata(L, -1))) {
			lua_pop(L, 1);
			lua_pushnil(L);
			return;
		}
		memcpy(seg, path, len);
		seg[len] = '\0';
		for (k = 0, digits = true; k < len; k++)
			digits = digits && seg[k] >= '0' && seg[k] <= '9';
		if (digits && len < 10)
			lua_geti(L, -1, (lua_Integer)strtoll(seg, NULL, 10) + 1);
		else
			lua_getfield(L, -1, seg);
		lua_remove(L, -2);
		path = dot + 1;
	}
}

/* The Lua value on top as template text (popped); 1, or 0 for nil. */
static int format_top(lua_State *L, struct vigil_buf *out)
{
	struct lh_rule *r;
	const msgpack_object *o;
	const char *s;
	size_t n, off = 0;
	int found = 1;

	switch (lua_type(L, -1)) {
	case LUA_TNIL:
		found = 0;
		break;
	case LUA_TBOOLEAN:
		vigil_buf_puts(out, lua_toboolean(L, -1) ? "true" : "false");
		break;
	case LUA_TNUMBER:
	case LUA_TSTRING:
		lua_pushvalue(L, -1);	/* tolstring converts numbers in place: a copy */
		s = lua_tolstring(L, -1, &n);
		vigil_buf_append(out, s, n);
		lua_pop(L, 1);
		break;
	default:
		r = lh_rule_of(L);
		o = lh_view_at(L, -1, &off) && off ? lh_event_obj(r->ev, off) : NULL;
		if (o)
			lh_format_obj(o, out);
		else
			vigil_buf_puts(out, luaL_typename(L, -1));
		break;
	}
	lua_pop(L, 1);
	return found;
}

/* The value at off of the event as template text, as lh_format_obj writes it: scalars
 * straight from the bytes (an alert reads a handful), containers unpacked. */
static int format_at(struct lh_event *e, size_t off, struct vigil_buf *out)
{
	char num[24], *p = num + sizeof(num);
	struct lh_mpval v;
	uint64_t u;

	if (!off || !lh_mp_read(e->data, e->len, off, &v))
		return 0;
	switch (v.type) {
	case LH_MP_NIL:
		return 0;
	case LH_MP_STR:
		vigil_buf_append(out, v.str, v.len);
		return 1;
	case LH_MP_BOOL:
		vigil_buf_puts(out, v.b ? "true" : "false");
		return 1;
	case LH_MP_UINT:
	case LH_MP_INT:
		u = v.type == LH_MP_UINT ? v.u : 0 - (uint64_t)v.i;
		do
			*--p = (char)('0' + u % 10);
		while ((u /= 10));
		if (v.type == LH_MP_INT)
			*--p = '-';
		vigil_buf_append(out, p, (size_t)(num + sizeof(num) - p));
		return 1;
	default:
		return lh_format_obj(event_obj(e, off), out);
	}
}

static int format_path(lua_State *L, const struct lh_src *s, const char *path, size_t n, struct vigil_buf *out)
{
	if (s->ev)
		return format_at(s->ev, lh_event_find(s->ev, path, n), out);
	if (s->obj)
		return lh_format_obj(lh_obj_find(s->obj, path, n), out);
	if (s->idx) {
		lh_push_path(L, s->idx, path, n);
		return format_top(L, out);
	}
	return 0;
}

/* Falco's field names for what the tree spells otherwise. protojson leaves empty arguments
 * out; Falco prints them empty, so OPTIONAL is never "<NA>". */
enum alias_form { AS_IS, OPTIONAL, BASENAME, CMDLINE, TYPE };

static const struct {
	const char *name;
	const char *path;
	enum alias_form form;
} aliases[] = {
	{ "proc.name", "process.binary", BASENAME },
	{ "proc.exepath", "process.binary", AS_IS },
	{ "proc.cmdline", "process", CMDLINE },
	{ "proc.args", "process.arguments", OPTIONAL },
	{ "proc.pid", "process.pid", AS_IS },
	{ "proc.cwd", "process.cwd", AS_IS },
	{ "proc.pname", "parent.binary", BASENAME },
	{ "proc.ppid", "parent.pid", AS_IS },
	{ "user.uid", "process.uid", AS_IS },
	{ "evt.type", "type", TYPE },
	{ "evt.time", "time", AS_IS },
};

/* Keep what follows the last '/' of out past start. */
static void keep_basename(struct vigil_buf *out, size_t start)
{
	const char *slash = NULL, *p;
	size_t n;

	for (p = out->data + start; p < out->data + out->len; p++)
		if (*p == '/')
			slash = p;
	if (!slash)
		return;
	n = (size_t)(out->data + out->len - slash - 1);
	memmove(out->data + start, slash + 1, n);
	out->len = start + n;
	out->data[out->len] = '\0';
}

/* Written straight into out (no temporary buffer: a Lua error may leave at any lookup). */
int lh_src_format(lua_State *L, const struct lh_src *s, const char *path, size_t n, struct vigil_buf *out)
{
	size_t i, start = out->len;
	int found;

	for (i = 0; i < VIGIL_ARRAY_SIZE(aliases); i++)
		if (strlen(aliases[i].name) == n && !memcmp(aliases[i].name, path, n))
			break;
	if (i == VIGIL_ARRAY_SIZE(aliases))
		return format_path(L, s, path, n, out);

	path = aliases[i].path;
	switch (aliases[i].form) {
	case OPTIONAL:
		format_path(L, s, path, strlen(path), out);
		return 1;
	case TYPE:
		if (s->ev)
			return vigil_buf_puts(out, s->ev->type_key) == 0;
		return format_path(L, s, path, strlen(path), out);
	case BASENAME:
		found = format_path(L, s, path, strlen(path), out);
		if (found && out->data)
			keep_basename(out, start);
		return found;
	case CMDLINE:
		found = format_path(L, s, "process.binary", 14, out);
		if (found) {
			vigil_buf_append(out, " ", 1);
			start = out->len;
			if (!format_path(L, s, "process.arguments", 17, out) || out->len == start) {
				out->len = start - 1;	/* no arguments: no separator */
				if (out->data)
					out->data[out->len] = '\0';
			}
		}
		return found;
	default:
		return format_path(L, s, path, strlen(path), out);
	}
}

/* ---- the process ---- */

static void copy_str(const msgpack_object *o, char *out, size_t size)
{
	size_t n = 0;

	if (o && o->type == MSGPACK_OBJECT_STR) {
		n = o->via.str.size < size ? o->via.str.size : size - 1;
		memcpy(out, o->via.str.ptr, n);
	}
	out[n] = '\0';
}

static uint32_t get_u32(const msgpack_object *map, const char *key, uint32_t dflt)
{
	const msgpack_object *o = lh_obj_child(map, key, strlen(key));

	return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (uint32_t)o->via.u64 : dflt;
}

static uint64_t cap_bits(const msgpack_object *list)
{
	uint64_t bits = 0;
	unsigned int c;
	const char *name;
	uint32_t i;

	for (i = 0; list && list->type == MSGPACK_OBJECT_ARRAY && i < list->via.array.size; i++) {
		if (list->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
			continue;
		for (c = 0; (name = vigil_cap_name(c)); c++)
			if (strlen(name) == list->via.array.ptr[i].via.str.size &&
			    !memcmp(name, list->via.array.ptr[i].via.str.ptr, strlen(name)))
				bits |= 1ULL << c;
	}
	return bits;
}

static void proc_init(struct lh_proc_buf *b)
{
	memset(&b->p, 0, sizeof(b->p));
	b->exec_id[0] = b->parent_exec_id[0] = b->container_id[0] = b->binary[0] = b->arguments[0] = b->cwd[0] = '\0';
	b->p.exec_id = b->exec_id;
	b->p.parent_exec_id = b->parent_exec_id;
	b->p.binary = b->binary;
	b->p.arguments = b->arguments;
	b->p.cwd = b->cwd;
	b->p.container_id = b->container_id;
	b->p.auid = 4294967295u;
}

/* A process map of the tree back into a struct vigil_process (flags, start time and
 * namespaces are not carried back). */
static const struct vigil_process *from_obj(const msgpack_object *pm, struct lh_proc_buf *b)
{
	const msgpack_object *creds, *cap;
	struct vigil_creds *c = &b->p.creds;

	if (!pm || pm->type != MSGPACK_OBJECT_MAP)
		return NULL;
	proc_init(b);
	copy_str(lh_obj_child(pm, "exec_id", 7), b->exec_id, sizeof(b->exec_id));
	copy_str(lh_obj_child(pm, "parent_exec_id", 14), b->parent_exec_id, sizeof(b->parent_exec_id));
	copy_str(lh_obj_child(pm, "binary", 6), b->binary, sizeof(b->binary));
	copy_str(lh_obj_child(pm, "arguments", 9), b->arguments, sizeof(b->arguments));
	copy_str(lh_obj_child(pm, "cwd", 3), b->cwd, sizeof(b->cwd));
	copy_str(lh_obj_child(pm, "docker", 6), b->container_id, VIGIL_DOCKER_ID_LEN + 1);
	b->p.pid = get_u32(pm, "pid", 0);
	b->p.tid = get_u32(pm, "tid", 0);
	b->p.auid = get_u32(pm, "auid", 4294967295u);
	b->p.refcnt = get_u32(pm, "refcnt", 0);
	c->uid = get_u32(pm, "uid", 0);
	creds = lh_obj_child(pm, "process_credentials", 19);
	if (creds) {
		*c = (struct vigil_creds){
			get_u32(creds, "uid", c->uid), get_u32(creds, "gid", 0),   get_u32(creds, "euid", 0),
			get_u32(creds, "egid", 0),     get_u32(creds, "suid", 0),  get_u32(creds, "sgid", 0),
			get_u32(creds, "fsuid", 0),    get_u32(creds, "fsgid", 0),
		};
	}
	cap = lh_obj_child(pm, "cap", 3);
	b->p.caps.permitted = cap_bits(lh_obj_child(cap, "permitted", 9));
	b->p.caps.effective = cap_bits(lh_obj_child(cap, "effective", 9));
	b->p.caps.inheritable = cap_bits(lh_obj_child(cap, "inheritable", 11));
	return &b->p;
}

static void lua_str(lua_State *L, int t, const char *key, char *out, size_t size)
{
	const char *s;
	size_t n = 0;

	lua_getfield(L, t, key);
	if ((s = lua_tolstring(L, -1, &n))) {
		n = n < size ? n : size - 1;
		memcpy(out, s, n);
	}
	out[n] = '\0';
	lua_pop(L, 1);
}

static uint32_t lua_u32(lua_State *L, int t, const char *key, uint32_t dflt)
{
	lua_Integer v;
	int ok;

	lua_getfield(L, t, key);
	v = lua_tointegerx(L, -1, &ok);
	lua_pop(L, 1);
	return ok ? (uint32_t)v : dflt;
}

/* The process table of a copy() (or the table process() returned). */
static const struct vigil_process *from_lua(lua_State *L, int t, struct lh_proc_buf *b)
{
	if (!lua_istable(L, t))
		return NULL;
	proc_init(b);
	lua_str(L, t, "exec_id", b->exec_id, sizeof(b->exec_id));
	lua_str(L, t, "parent_exec_id", b->parent_exec_id, sizeof(b->parent_exec_id));
	lua_str(L, t, "binary", b->binary, sizeof(b->binary));
	lua_str(L, t, "arguments", b->arguments, sizeof(b->arguments));
	lua_str(L, t, "cwd", b->cwd, sizeof(b->cwd));
	lua_str(L, t, "docker", b->container_id, VIGIL_DOCKER_ID_LEN + 1);
	b->p.pid = lua_u32(L, t, "pid", 0);
	b->p.tid = lua_u32(L, t, "tid", 0);
	b->p.auid = lua_u32(L, t, "auid", 4294967295u);
	b->p.creds.uid = lua_u32(L, t, "uid", 0);
	return &b->p;
}

static const struct vigil_process *lookup(struct lh_rule *r, const char *exec_id)
{
	const struct vigil_luahost_opts *o = &r->host->opts;

	return exec_id[0] && o->process ? o->process(o->ctx, exec_id) : NULL;
}

/* The string at path of the event into id (VIGIL_EXEC_ID_MAX bytes); false when there is
 * none that fits. */
static bool event_exec_id(struct lh_event *e, const char *path, size_t n, char *id)
{
	struct lh_mpval v;
	size_t off = lh_event_find(e, path, n);

	if (!off || !lh_mp_read(e->data, e->len, off, &v) || v.type != LH_MP_STR || v.len >= VIGIL_EXEC_ID_MAX)
		return false;
	memcpy(id, v.str, v.len);
	id[v.len] = '\0';
	return true;
}

/* The process (which 0) or parent (1) map of the source, rebuilt into sc->procs[which]. */
static const struct vigil_process *rebuild(lua_State *L, const struct lh_src *s, int which, struct lh_scratch *sc)
{
	const char *key = which ? "parent" : "process";
	const struct vigil_process *p = NULL;

	if (s->ev) {
		p = from_obj(event_obj(s->ev, lh_map_get(s->ev, s->ev->body, key, strlen(key))), &sc->procs[which]);
	} else if (s->obj) {
		/* a view of a process map itself, or of something holding one */
		p = lh_obj_child(s->obj, "exec_id", 7) && !which ? from_obj(s->obj, &sc->procs[which])
								: from_obj(lh_obj_child(s->obj, key, strlen(key)),
									   &sc->procs[which]);
	} else if (s->idx) {
		lua_getfield(L, s->idx, "exec_id");
		if (!lua_isnil(L, -1) && !which) {
			p = from_lua(L, s->idx, &sc->procs[which]);
		} else {
			lua_getfield(L, s->idx, key);
			p = from_lua(L, lua_gettop(L), &sc->procs[which]);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	return p;
}

void lh_src_process(lua_State *L, struct lh_rule *r, const struct lh_src *s, struct lh_scratch *sc,
		    const struct vigil_process **proc, const struct vigil_process **parent)
{
	const struct vigil_process *p;

	*proc = *parent = NULL;
	/* the event's process in the cache, by its exec_id read from the bytes: nothing to
	 * rebuild (the usual alert) */
	if (s->ev && event_exec_id(s->ev, "process.exec_id", 15, sc->procs[0].exec_id) &&
	    (*proc = lookup(r, sc->procs[0].exec_id)) && (*parent = lookup(r, (*proc)->parent_exec_id)))
		return;
	*proc = *parent = NULL;
	p = rebuild(L, s, 0, sc);
	if (!p)
		return;
	/* the cache's record is the full one (flags, namespaces, start time) */
	*proc = lookup(r, p->exec_id);
	if (*proc) {
		*parent = lookup(r, (*proc)->parent_exec_id);
	} else {
		*proc = p;
		*parent = lookup(r, p->parent_exec_id);
	}
	if (!*parent)
		*parent = rebuild(L, s, 1, sc);
}

void lh_scratch_add_id(struct lh_scratch *sc, const char *id, size_t n)
{
	size_t i;

	if (!n || n >= VIGIL_EXEC_ID_MAX || sc->nids == LH_MAX_EXEC_IDS)
		return;
	for (i = 0; i < sc->nids; i++)
		if (strlen(sc->ids[i]) == n && !memcmp(sc->ids[i], id, n))
			return;
	memcpy(sc->ids[sc->nids], id, n);
	sc->ids[sc->nids][n] = '\0';
	sc->idp[sc->nids] = sc->ids[sc->nids];
	sc->nids++;
}

static void add_src_id(lua_State *L, const struct lh_src *s, struct lh_scratch *sc)
{
	struct vigil_buf id = { 0 };
	char direct[VIGIL_EXEC_ID_MAX];

	/* the event's own: read from its bytes, no buffer */
	if (s->ev && event_exec_id(s->ev, "process.exec_id", 15, direct)) {
		lh_scratch_add_id(sc, direct, strlen(direct));
		return;
	}

	if (lh_src_format(L, s, "process.exec_id", 15, &id) && id.data)
		lh_scratch_add_id(sc, id.data, id.len);
	else if (!s->ev && lh_src_format(L, s, "exec_id", 7, &id) && id.data)
		lh_scratch_add_id(sc, id.data, id.len);
	vigil_buf_free(&id);
}

void lh_src_exec_ids(lua_State *L, const struct lh_src *s, int events_idx, int ids_idx, struct lh_scratch *sc)
{
	struct lh_rule *r = lh_rule_of(L);
	struct lh_src e;
	const char *str;
	lua_Integer i, n;
	size_t len;

	add_src_id(L, s, sc);
	if (events_idx && lua_istable(L, events_idx)) {
		n = (lua_Integer)lua_rawlen(L, events_idx);
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, events_idx, i);
			if (lua_type(L, -1) == LUA_TSTRING) {
				str = lua_tolstring(L, -1, &len);
				lh_scratch_add_id(sc, str, len);
			} else if (!lua_isnil(L, -1)) {
				lh_src_at(L, r, -1, &e);
				add_src_id(L, &e, sc);
			}
			lua_pop(L, 1);
		}
	}
	if (ids_idx && lua_istable(L, ids_idx)) {
		n = (lua_Integer)lua_rawlen(L, ids_idx);
		for (i = 1; i <= n; i++) {
			lua_rawgeti(L, ids_idx, i);
			if (lua_type(L, -1) == LUA_TSTRING) {
				str = lua_tolstring(L, -1, &len);
				lh_scratch_add_id(sc, str, len);
			}
			lua_pop(L, 1);
		}
	}
}
