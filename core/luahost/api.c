/* api.c - the globals a rule gets besides the safe standard library: alert, kill, deny,
 * every, now, process, copy, print and log; and the emission of rule events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "luahost_internal.h"

struct lh_scratch *lh_scratch(lua_State *L, struct lh_rule *r)
{
	if (!r->scratch) {
		r->scratch = calloc(1, sizeof(*r->scratch));
		if (!r->scratch)
			luaL_error(L, "out of memory");
	}
	vigil_buf_reset(&r->scratch->text);
	r->scratch->nids = 0;
	return r->scratch;
}

void lh_emit(struct lh_rule *r, struct vigil_event *ev)
{
	const struct vigil_luahost_opts *o = &r->host->opts;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev->time = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	ev->node_name = o->node_name;
	if (o->emit)
		o->emit(o->ctx, ev);
}

/* now(): the host clock in seconds, a float */
static int l_now(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);

	lua_pushnumber(L, (lua_Number)lh_clock(r->host) / 1e9);
	return 1;
}

static void set_str(lua_State *L, const char *key, const char *val)
{
	lua_pushstring(L, val);
	lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, lua_Integer val)
{
	lua_pushinteger(L, val);
	lua_setfield(L, -2, key);
}

static void set_caps(lua_State *L, const char *key, uint64_t mask)
{
	unsigned int bit;
	int n = 0;

	lua_createtable(L, __builtin_popcountll(mask), 0);
	for (bit = 0; bit < 64; bit++)
		if ((mask & (1ULL << bit)) && vigil_cap_name(bit)) {
			lua_pushstring(L, vigil_cap_name(bit));
			lua_rawseti(L, -2, ++n);
		}
	lua_setfield(L, -2, key);
}

/* A cache entry as a table with the JSON's keys. */
static void push_process(lua_State *L, const struct vigil_process *p)
{
	char flags[128], ts[40];

	lua_createtable(L, 0, 16);
	set_str(L, "exec_id", p->exec_id);
	set_int(L, "pid", p->pid);
	set_int(L, "uid", p->creds.uid);
	set_str(L, "cwd", p->cwd);
	set_str(L, "binary", p->binary);
	set_str(L, "arguments", p->arguments);
	vigil_process_flags_format(p->flags, flags, sizeof(flags));
	set_str(L, "flags", flags);
	if (p->start_time) {
		vigil_format_time(p->start_time, ts);
		set_str(L, "start_time", ts);
	}
	set_int(L, "auid", p->auid);
	/* as in the JSON: Tetragon's docker, the container id's first 31 characters */
	if (p->container_id[0]) {
		lua_pushlstring(L, p->container_id, strnlen(p->container_id, VIGIL_DOCKER_ID_LEN));
		lua_setfield(L, -2, "docker");
	}
	set_str(L, "parent_exec_id", p->parent_exec_id);
	set_int(L, "refcnt", p->refcnt);
	set_int(L, "tid", p->tid);
	lua_createtable(L, 0, 8);
	set_int(L, "uid", p->creds.uid);
	set_int(L, "gid", p->creds.gid);
	set_int(L, "euid", p->creds.euid);
	set_int(L, "egid", p->creds.egid);
	set_int(L, "suid", p->creds.suid);
	set_int(L, "sgid", p->creds.sgid);
	set_int(L, "fsuid", p->creds.fsuid);
	set_int(L, "fsgid", p->creds.fsgid);
	lua_setfield(L, -2, "process_credentials");
	lua_createtable(L, 0, 3);
	set_caps(L, "permitted", p->caps.permitted);
	set_caps(L, "effective", p->caps.effective);
	set_caps(L, "inheritable", p->caps.inheritable);
	lua_setfield(L, -2, "cap");
}

/* process(exec_id): the agent's cache entry as a table, or nil */
static int l_process(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	const struct vigil_luahost_opts *o = &r->host->opts;
	const char *id = luaL_checkstring(L, 1);
	const struct vigil_process *p;

	lh_check_live(L, r, "process");
	p = o->process && id[0] ? o->process(o->ctx, id) : NULL;
	if (p)
		push_process(L, p);
	else
		lua_pushnil(L);
	return 1;
}

/* print(...) and log(...): one line in the agent's log, tab-separated as print's */
static int l_print(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	int i, n = lua_gettop(L);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	pr_info("rule %s: %s", r->name ? r->name : r->file, lua_tostring(L, -1));
	return 0;
}

static const luaL_Reg api[] = {
	{ "alert", lh_alert },
	{ "kill", lh_kill },
	{ "deny", lh_deny },
	{ "every", lh_every },
	{ "now", l_now },
	{ "process", l_process },
	{ "copy", lh_copy },
	{ "print", l_print },
	{ "log", l_print },
	{ NULL, NULL },
};

void lh_api_open(lua_State *L)
{
	lua_pushglobaltable(L);
	luaL_setfuncs(L, api, 0);
	lua_pop(L, 1);
}
