/* sandbox.c - one rule's Lua state: the allocator that enforces its memory cap, the count
 * hook that enforces its instruction budget, the libraries it may use, and the protected
 * call every entry into Lua goes through.
 *
 * What a rule gets: the base library without dofile, loadfile, require and warn, with
 * load() limited to text chunks and collectgarbage() to "count" and "step" (a full collection
 * of a large state is tens of milliseconds in one instruction);
 * string (without string.dump), table, math and utf8; require() of vigil's own modules,
 * which are compiled into the library (modules.c), and of vigil.native, the C helpers they
 * use, and nothing else. No io, os, debug, package or coroutine: a coroutine would be a
 * thread the budget's error can be caught in. pcall and xpcall are wrapped so that Lua code
 * cannot catch the budget's or the cap's error: once either fires, the rule's fate is sealed
 * and every further instruction raises it again. The same holds for the wall-clock deadline:
 * the hook reads the clock each time it fires, and the watchdog (watchdog.c) makes it fire
 * on the very next instruction of a call that overran (a C function on one instruction is
 * bounded by limits.c's caps and charges, not interrupted). A call starts without the hook:
 * the watchdog arms it once the call has run for LH_WATCH_PERIOD_NS, and the budget counts
 * the instructions from there (and every charge from the start).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lualib.h>

#include "luahost_internal.h"

/* Lua's allocator contract (lauxlib.c l_alloc): nsize 0 frees; ptr NULL allocates, with
 * osize then a type tag; shrinking must not fail. */
static void *rule_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lh_rule *r = ud;
	void *p;

	if (!ptr)
		osize = 0;
	if (!nsize) {
		free(ptr);
		r->mem -= osize;
		return NULL;
	}
	if (nsize > osize && nsize - osize > r->mem_limit - r->mem) {
		/* Lua collects and retries once, then raises LUA_ERRMEM; lauxlib's buffers raise
		 * a plain error ("not enough memory"), so the refusal is counted here */
		r->refusals++;
		return NULL;
	}
	p = ptr ? realloc(ptr, nsize) : malloc(nsize);	/* most are new: malloc's shorter path */
	if (p)
		r->mem = r->mem - osize + nsize;
	return p;
}

static void seal(lua_State *L, struct lh_rule *r, enum lh_fatal why);

uint64_t lh_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *fatal_text(enum lh_fatal f)
{
	switch (f) {
	case LH_FATAL_BUDGET:
		return "instruction budget exhausted";
	case LH_FATAL_MEMORY:
		return "memory cap exceeded";
	case LH_FATAL_DEADLINE:
		return "deadline exceeded";
	default:
		return "cost over the budget";
	}
}

void lh_count_hook(lua_State *L, lua_Debug *ar)
{
	struct lh_rule *r = lh_rule_of(L);

	(void)ar;
	if (!r->fatal) {
		/* the watchdog sets a count of 1 only once the deadline has passed, so the steps
		 * counted below only matter while the count is LH_HOOK_STEP */
		r->steps_left -= LH_HOOK_STEP;
		if (lh_mono_ns() >= r->deadline_at)
			seal(L, r, LH_FATAL_DEADLINE);
		else if (r->steps_left > 0)
			return;
		else
			seal(L, r, LH_FATAL_BUDGET);
	}
	luaL_error(L, "%s", fatal_text(r->fatal));
}

void lh_charge(lua_State *L, struct lh_rule *r, double cost, const char *what)
{
	if (!r->fatal) {
		if (cost < (double)r->steps_left) {
			r->steps_left -= (int64_t)cost;
			if (lh_mono_ns() < r->deadline_at)
				return;
			seal(L, r, LH_FATAL_DEADLINE);
		} else {
			snprintf(r->reason, sizeof(r->reason), "%s would cost about %.3g instructions, more than the %lld left of the budget of %llu",
				 what, cost, (long long)(r->steps_left > 0 ? r->steps_left : 0), (unsigned long long)r->budget);
			seal(L, r, LH_FATAL_COST);
		}
	}
	luaL_error(L, "%s", fatal_text(r->fatal));
}

/* From now on the hook fires on every instruction, and raises. */
static void seal(lua_State *L, struct lh_rule *r, enum lh_fatal why)
{
	if (!r->fatal)
		r->fatal = why;
	lua_sethook(L, lh_count_hook, LUA_MASKCOUNT, 1);
}

/* After a protected call inside the rule: a sealed rule's error goes on up. A call that
 * failed after the cap refused memory failed for lack of it. */
static void rethrow_if_sealed(lua_State *L, struct lh_rule *r, int status, uint64_t refusals)
{
	if (status == LUA_ERRMEM || (status != LUA_OK && r->refusals != refusals))
		seal(L, r, LH_FATAL_MEMORY);
	if (r->fatal)
		lua_error(L);
}

/* pcall(f, ...), as lbaselib's, without continuations (no coroutines here) */
static int sb_pcall(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	uint64_t refusals = r->refusals;
	int status;

	luaL_checkany(L, 1);
	status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	rethrow_if_sealed(L, r, status, refusals);
	lua_pushboolean(L, status == LUA_OK);
	lua_insert(L, 1);
	return lua_gettop(L);
}

/* xpcall(f, msgh, ...) */
static int sb_xpcall(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	uint64_t refusals = r->refusals;
	int n = lua_gettop(L), status;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushboolean(L, 1);
	lua_pushvalue(L, 1);
	lua_rotate(L, 3, 2);
	status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
	rethrow_if_sealed(L, r, status, refusals);
	if (status != LUA_OK) {
		lua_pushboolean(L, 0);
		lua_pushvalue(L, -2);
		return 2;
	}
	return lua_gettop(L) - 2;
}

/* load(chunk [, chunkname [, mode [, env]]]): text only, whatever mode says */
static int sb_load(lua_State *L)
{
	int n = lua_gettop(L);

	if (n < 3)
		lua_settop(L, 3);
	lua_pushliteral(L, "t");
	lua_replace(L, 3);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n < 3 ? 3 : n, LUA_MULTRET);
	return lua_gettop(L);
}

/* collectgarbage("count" | "step"): a step is the collector's basic one, whatever size is
 * asked; no "collect" (the default): a full collection is not the rule's to order */
static int sb_collectgarbage(lua_State *L)
{
	static const char *const opts[] = { "count", "step", NULL };
	int o = luaL_checkoption(L, 1, "collect", opts);

	if (o == 0) {
		lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) + (lua_Number)lua_gc(L, LUA_GCCOUNTB, 0) / 1024);
		return 1;
	}
	lua_pushboolean(L, lua_gc(L, LUA_GCSTEP, 0));
	return 1;
}

/* require(name): vigil's compiled-in modules only, cached in package.loaded's place */
static int sb_require(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const struct lh_module *m = NULL;
	size_t i;

	lua_settop(L, 1);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, 2, name) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	if (!strcmp(name, "vigil.native")) {
		luaL_requiref(L, name, lh_open_native, 0);
		return 1;
	}
	for (i = 0; i < lh_nmodules; i++)
		if (!strcmp(lh_modules[i].name, name))
			m = &lh_modules[i];
	if (!m)
		return luaL_error(L, "module '%s' not found: rules may require only vigil's modules (lua/vigil/)",
				  name);
	if (luaL_loadbufferx(L, (const char *)m->src, m->len, m->chunkname, "t"))
		return lua_error(L);
	lua_pushstring(L, name);
	lua_call(L, 1, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, 2, name);
	return 1;
}

static const char *const removed_globals[] = {
	"dofile", "loadfile", "require", "warn", "load", "collectgarbage", "pcall", "xpcall",
};

static const luaL_Reg sandbox_globals[] = {
	{ "pcall", sb_pcall },
	{ "xpcall", sb_xpcall },
	{ "collectgarbage", sb_collectgarbage },
	{ "require", sb_require },
	{ NULL, NULL },
};

static const luaL_Reg safe_libs[] = {
	{ LUA_GNAME, luaopen_base },
	{ LUA_STRLIBNAME, luaopen_string },
	{ LUA_TABLIBNAME, luaopen_table },
	{ LUA_MATHLIBNAME, luaopen_math },
	{ LUA_UTF8LIBNAME, luaopen_utf8 },
	{ NULL, NULL },
};

/* Runs protected: a memory cap too small for the libraries fails here, not by panicking. */
static int open_sandbox(lua_State *L)
{
	const luaL_Reg *lib;
	size_t i;

	for (lib = safe_libs; lib->func; lib++) {
		luaL_requiref(L, lib->name, lib->func, 1);
		lua_pop(L, 1);
	}
	lua_pushglobaltable(L);
	lua_getfield(L, -1, "load");
	lua_pushcclosure(L, sb_load, 1);
	for (i = 0; i < VIGIL_ARRAY_SIZE(removed_globals); i++) {
		lua_pushnil(L);
		lua_setfield(L, -3, removed_globals[i]);
	}
	lua_setfield(L, -2, "load");
	luaL_setfuncs(L, sandbox_globals, 0);
	lua_getfield(L, -1, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 2);
	lh_limits_open(L);
	lh_view_open(L);
	lh_timers_open(L);
	lh_api_open(L);
	return 0;
}

lua_State *lh_state_new(struct lh_rule *r)
{
	lua_State *L = lua_newstate(rule_alloc, r);

	if (!L)
		return NULL;
	*(struct lh_rule **)lua_getextraspace(L) = r;
	/* generational mode: most garbage is the short-lived views of one call */
	lua_gc(L, LUA_GCGEN, 0, 0);
	lua_pushcfunction(L, open_sandbox);
	if (lua_pcall(L, 0, 0, 0)) {
		lua_close(L);
		return NULL;
	}
	lua_sethook(L, lh_count_hook, LUA_MASKCOUNT, LH_HOOK_STEP);
	return L;
}

void lh_check_live(lua_State *L, struct lh_rule *r, const char *what)
{
	if (!r->live)
		luaL_error(L, "%s() is not available while the rule file loads (or closes)", what);
}

/* The message handler: the error with a traceback. */
static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* The first line of the error (the traceback goes to the log). */
static void set_reason(struct lh_rule *r, const char *msg, uint64_t elapsed_ns)
{
	size_t n = strcspn(msg, "\n");

	if (r->fatal == LH_FATAL_COST)
		return;		/* lh_charge wrote it */
	if (r->fatal == LH_FATAL_BUDGET)
		snprintf(r->reason, sizeof(r->reason), "instruction budget of %llu exhausted",
			 (unsigned long long)r->budget);
	else if (r->fatal == LH_FATAL_DEADLINE)
		snprintf(r->reason, sizeof(r->reason), "deadline of %llu ms exceeded (the call ran %llu ms)",
			 (unsigned long long)(r->host->deadline_ns / 1000000),
			 (unsigned long long)(elapsed_ns / 1000000));
	else if (r->fatal == LH_FATAL_MEMORY)
		snprintf(r->reason, sizeof(r->reason), "memory cap of %zu bytes exceeded", r->mem_limit);
	else
		snprintf(r->reason, sizeof(r->reason), "%.*s", (int)(n < 400 ? n : 400), msg);
}

/* Why a call failed, as an errno: a limit it ran into, or an error the rule raised. */
static int call_errno(enum lh_fatal fatal)
{
	switch (fatal) {
	case LH_FATAL_MEMORY:
		return -ENOMEM;
	case LH_FATAL_DEADLINE:
		return -ETIMEDOUT;
	case LH_FATAL_BUDGET:
	case LH_FATAL_COST:
		return -E2BIG;
	default:
		return -ECANCELED;
	}
}

void lh_push_handler(lua_State *L)
{
	lua_pushcfunction(L, traceback);
}

/* The protected call of the function above nargs arguments, with the handler at base. It
 * starts at *clock when that is set (the end of the call just before, in the same event)
 * and leaves its end there. */
static int call_at(struct lh_rule *r, int base, int nargs, int nresults, uint64_t *clock)
{
	lua_State *L = r->L;
	uint64_t t0 = *clock ? *clock : lh_mono_ns(), refusals = r->refusals, elapsed;
	struct lh_watch w;
	const char *msg;
	int status;

	r->fatal = LH_FATAL_NONE;
	r->steps_left = (int64_t)r->budget;
	r->deadline_at = t0 + r->host->deadline_ns;
	lh_watch_begin(r->host, &w, L, r->deadline_at);
	status = lua_pcall(L, nargs, nresults, base);
	lh_watch_end(r->host, &w);
	*clock = lh_mono_ns();
	elapsed = *clock - t0;
	r->calls++;
	r->time_ns += elapsed;
	if ((status == LUA_ERRMEM || (status != LUA_OK && r->refusals != refusals)) && !r->fatal)
		r->fatal = LH_FATAL_MEMORY;
	if (status == LUA_OK && !r->fatal) {
		if (nresults)
			lua_remove(L, base);
		else
			lua_settop(L, base - 1);	/* the handler was on top: no rotation */
		return 0;
	}
	msg = lua_tostring(L, -1);
	set_reason(r, msg ? msg : "error without a message", elapsed);
	pr_warn("luahost: rule %s (%s): %s", r->name ? r->name : "?", r->file, msg ? msg : r->reason);
	lua_settop(L, base - 1);
	r->errors++;
	return call_errno(r->fatal);
}

int lh_call(struct lh_rule *r, int nargs, int nresults)
{
	lua_State *L = r->L;
	int base = lua_gettop(L) - nargs;
	uint64_t clock = 0;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	return call_at(r, base, nargs, nresults, &clock);
}

int lh_call_handled(struct lh_rule *r, int nargs, uint64_t *clock)
{
	return call_at(r, lua_gettop(r->L) - nargs - 1, nargs, 0, clock);
}
