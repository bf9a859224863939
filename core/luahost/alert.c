/* alert.c - alert{...}: render the rule's output template over the triggering event and
 * emit a process_alert event.
 *
 *   alert{ev = e, output = "...", priority = "critical", fields = {count = n},
 *         events = {a, b}, exec_ids = {"..."}}
 *
 * Every key is optional: ev defaults to the event being handled (none in a timer), output
 * and priority to the rule's. Template names are looked up in `fields` first, then in the
 * event; `%rule` and `%priority` name the rule.
 */
#include <string.h>

#include "luahost_internal.h"

enum { ARG_EV = 2, ARG_OUTPUT, ARG_PRIORITY, ARG_FIELDS, ARG_EVENTS, ARG_IDS, ARG_TOP = ARG_IDS };

static const char *const keys[] = { "ev", "output", "priority", "fields", "events", "exec_ids" };

struct render_ctx {
	lua_State *L;
	struct lh_rule *r;
	const char *priority;
	struct lh_src src;
};

static int lookup(void *ctx, const char *name, size_t n, struct vigil_buf *out)
{
	struct render_ctx *c = ctx;
	lua_State *L = c->L;
	const char *s, *dot;
	size_t len, first;

	if (n == 4 && !memcmp(name, "rule", 4))
		return vigil_buf_puts(out, c->r->name) == 0;
	if (n == 8 && !memcmp(name, "priority", 8))
		return vigil_buf_puts(out, c->priority) == 0;
	if (lua_istable(L, ARG_FIELDS)) {
		/* the first segment by name, as lh_push_path's first step takes it: a plain name
		 * (the usual) is then found, and a path whose first step is missing ("proc.pid"
		 * for lh_src_format) nil without the walk */
		dot = n ? memchr(name, '.', n) : NULL;
		first = dot ? (size_t)(dot - name) : n;
		if (first && first < 128 && !(name[0] >= '0' && name[0] <= '9')) {
			lua_pushlstring(L, name, first);
			lua_gettable(L, ARG_FIELDS);
			if (dot && !lua_isnil(L, -1)) {
				lua_pop(L, 1);
				lh_push_path(L, ARG_FIELDS, name, n);
			}
		} else {
			lh_push_path(L, ARG_FIELDS, name, n);
		}
		if (!lua_isnil(L, -1)) {
			if (lua_type(L, -1) == LUA_TBOOLEAN) {
				vigil_buf_puts(out, lua_toboolean(L, -1) ? "true" : "false");
			} else {
				s = luaL_tolstring(L, -1, &len);
				vigil_buf_append(out, s, len);
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
			return 1;
		}
		lua_pop(L, 1);
	}
	return lh_src_format(L, &c->src, name, n, out);
}

static void check_type(lua_State *L, int idx, int type, const char *key)
{
	if (!lua_isnil(L, idx) && lua_type(L, idx) != type)
		luaL_error(L, "alert{%s = ...} must be a %s", key, lua_typename(L, type));
}

int lh_alert(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	struct render_ctx c = { .L = L, .r = r, .priority = vigil_rule_priority_name(r->priority) };
	struct vigil_event ev = { .type = VIGIL_EVENT_ALERT };
	enum vigil_rule_priority prio;
	const char *tmpl = r->output;
	struct lh_scratch *sc;
	size_t i;

	lh_check_live(L, r, "alert");
	lua_settop(L, 1);
	if (!lua_isnil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	for (i = 0; i < VIGIL_ARRAY_SIZE(keys); i++) {
		if (lua_isnil(L, 1))
			lua_pushnil(L);
		else
			lua_getfield(L, 1, keys[i]);
	}
	check_type(L, ARG_OUTPUT, LUA_TSTRING, "output");
	check_type(L, ARG_PRIORITY, LUA_TSTRING, "priority");
	check_type(L, ARG_FIELDS, LUA_TTABLE, "fields");
	check_type(L, ARG_EVENTS, LUA_TTABLE, "events");
	check_type(L, ARG_IDS, LUA_TTABLE, "exec_ids");
	if (lua_isstring(L, ARG_OUTPUT))
		tmpl = lua_tostring(L, ARG_OUTPUT);
	if (lua_isstring(L, ARG_PRIORITY)) {
		if (vigil_rule_priority_parse(lua_tostring(L, ARG_PRIORITY), &prio))
			return luaL_error(L, "alert{priority = \"%s\"}: not a priority (emergency ... debug)",
					  lua_tostring(L, ARG_PRIORITY));
		c.priority = vigil_rule_priority_name(prio);
	}
	lh_src_at(L, r, ARG_EV, &c.src);
	sc = lh_scratch(L, r);

	if (lh_render(tmpl, lookup, &c, &sc->text))
		return luaL_error(L, "out of memory");
	lh_src_exec_ids(L, &c.src, ARG_EVENTS, ARG_IDS, sc);
	lh_src_process(L, r, &c.src, sc, &ev.process, &ev.parent);
	lua_settop(L, ARG_TOP);

	ev.alert.rule = r->name;
	ev.alert.priority = c.priority;
	ev.alert.output = sc->text.data ? sc->text.data : "";
	ev.alert.tags = (const char *const *)r->tags;
	ev.alert.ntags = r->ntags;
	ev.alert.exec_ids = sc->idp;
	ev.alert.nexec_ids = sc->nids;
	r->alerts++;
	lh_emit(r, &ev);
	return 0;
}
