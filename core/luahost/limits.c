/* limits.c - the library functions that can run long on one VM instruction, capped or
 * charged to the call's instruction budget before they run.
 *
 * The count hook only runs between VM instructions, and the watchdog can only make it run
 * sooner: a C function that works for seconds in one instruction is out of both's reach.
 * Measured before this file: ("a"):rep(200):find(("a-"):rep(4) .. "b") ran 30-35 s in one
 * call, and string.rep built 4 MiB strings for the price of one instruction. So each such
 * function states its cost up front, in instructions (one matcher step or one copied element
 * costs about what a VM instruction does), through lh_charge: a cost the budget can pay is
 * deducted, one it cannot seals the rule, which is then disabled with the reason.
 *
 *  - string.rep: at most LH_MAX_REP bytes (a catchable error above); charged a step per 32
 *    bytes built. ("").rep("", 2^60) would loop 2^60 times building nothing: it returns "".
 *  - string.find / match / gmatch / gsub: patterns of at most LH_MAX_PATTERN bytes, charged
 *    the matcher's worst case on this subject (pattern.c). A plain find costs n times the
 *    pattern's length.
 *  - table.move: charged the number of elements (moving 2^40 nils allocates nothing).
 *  - table.sort: charged n log2 n comparisons (a comparison function is Lua, and counted).
 *  - load: charged a step per byte compiled.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lualib.h>

#include "luahost_internal.h"

static bool pattern_special(const char *p, size_t lp)
{
	return strpbrk(p, "^$*+?.([%-") != NULL || strlen(p) != lp;
}

/* The original function is upvalue 1 of every wrapper: call it with the same arguments. */
static int call_original(lua_State *L)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

static int lim_rep(lua_State *L)
{
	size_t l, lsep = 0;
	const char *s = luaL_checklstring(L, 1, &l);
	lua_Integer n = luaL_checkinteger(L, 2);
	char msg[128];
	double total;

	luaL_optlstring(L, 3, "", &lsep);
	if (n <= 0 || l + lsep == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	total = (double)n * (double)l + (double)(n - 1) * (double)lsep;
	if (total > LH_MAX_REP) {
		/* lua_pushfstring knows neither %.0f nor %zu */
		snprintf(msg, sizeof(msg), "string.rep: a result of %.0f bytes is over the cap of %u", total, LH_MAX_REP);
		return luaL_error(L, "%s", msg);
	}
	(void)s;
	lh_charge(L, lh_rule_of(L), total / 32, "string.rep");
	return call_original(L);
}

/* find(s, p, init, plain) / match(s, p, init) / gmatch(s, p, init) / gsub(s, p, repl, n) */
static int charge_pattern(lua_State *L, const char *what, bool may_be_plain, bool whole)
{
	size_t n, lp;
	const char *p;
	char label[160];
	struct lh_rule *r;
	double work;

	const char *subject = luaL_checklstring(L, 1, &n);

	p = luaL_checklstring(L, 2, &lp);
	if (lp > LH_MAX_PATTERN) {
		snprintf(label, sizeof(label), "%s: a pattern of %zu bytes is over the cap of %d", what, lp, LH_MAX_PATTERN);
		return luaL_error(L, "%s", label);
	}
	if (may_be_plain && (lua_toboolean(L, 4) || !pattern_special(p, lp)))
		work = (double)n * (double)(lp ? lp : 1);
	else
		work = lh_pattern_cost(p, lp, subject, n);
	if (whole)	/* gsub and gmatch go on past the first match: the subject's length again */
		work += (double)n;
	/* the label says what ran out: written only when it will (lh_charge reads it then) */
	r = lh_rule_of(L);
	if (r->fatal || work >= (double)r->steps_left)
		snprintf(label, sizeof(label), "%s on a %zu-byte subject (pattern \"%.*s\")", what, n,
			 (int)(lp < 40 ? lp : 40), p);
	else
		label[0] = '\0';
	lh_charge(L, r, work, label);
	return 0;
}

/* string.find's start position (lstrlib's posrelatI): from 1, negative from the end */
static size_t find_init(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

/* A plain find (the 4th argument, or a pattern without specials) is answered here, as
 * lstrlib answers it (lh_find_plain; an empty pattern matches at init), without calling through
 * to the original: rules run many, and the call was most of their cost. */
static int lim_find(lua_State *L)
{
	size_t n, lp, init;
	const char *s, *p, *at;

	charge_pattern(L, "string.find", true, false);
	s = lua_tolstring(L, 1, &n);
	p = lua_tolstring(L, 2, &lp);
	if (!lua_toboolean(L, 4) && pattern_special(p, lp))
		return call_original(L);
	init = find_init(luaL_optinteger(L, 3, 1), n) - 1;
	if (init > n) {
		lua_pushnil(L);
		return 1;
	}
	at = lh_find_plain(s + init, n - init, p, lp);
	if (!at) {
		lua_pushnil(L);
		return 1;
	}
	lua_pushinteger(L, (lua_Integer)(at - s) + 1);
	lua_pushinteger(L, (lua_Integer)(at - s) + (lua_Integer)lp);
	return 2;
}

static int lim_match(lua_State *L)
{
	charge_pattern(L, "string.match", false, false);
	return call_original(L);
}

static int lim_gmatch(lua_State *L)
{
	charge_pattern(L, "string.gmatch", false, true);
	return call_original(L);
}

static int lim_gsub(lua_State *L)
{
	charge_pattern(L, "string.gsub", false, true);
	return call_original(L);
}

/* table.move(a1, f, e, t [, a2]) */
static int lim_move(lua_State *L)
{
	lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);

	if (e >= f)
		lh_charge(L, lh_rule_of(L), (double)e - (double)f + 1, "table.move");
	return call_original(L);
}

/* table.sort(t [, comp]) */
static int lim_sort(lua_State *L)
{
	double n;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = (double)lua_rawlen(L, 1);
	if (n > 1)
		lh_charge(L, lh_rule_of(L), n * log2(n), "table.sort");
	return call_original(L);
}

/* load(chunk, ...): the sandbox's text-only load, charged by the text's size */
static int lim_load(lua_State *L)
{
	size_t len;

	if (lua_type(L, 1) == LUA_TSTRING) {
		lua_tolstring(L, 1, &len);
		lh_charge(L, lh_rule_of(L), (double)len, "load");
	}
	return call_original(L);
}

static void wrap(lua_State *L, const char *name, lua_CFunction fn)
{
	lua_getfield(L, -1, name);
	lua_pushcclosure(L, fn, 1);
	lua_setfield(L, -2, name);
}

void lh_limits_open(lua_State *L)
{
	lua_getglobal(L, LUA_STRLIBNAME);
	wrap(L, "rep", lim_rep);
	wrap(L, "find", lim_find);
	wrap(L, "match", lim_match);
	wrap(L, "gmatch", lim_gmatch);
	wrap(L, "gsub", lim_gsub);
	lua_pop(L, 1);
	lua_getglobal(L, LUA_TABLIBNAME);
	wrap(L, "move", lim_move);
	wrap(L, "sort", lim_sort);
	lua_pop(L, 1);
	lua_pushglobaltable(L);
	wrap(L, "load", lim_load);
	lua_pop(L, 1);
}
