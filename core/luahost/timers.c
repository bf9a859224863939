/* timers.c - every(seconds, fn): fn() runs each period from the host's tick, under the same
 * budget as on_event, for rules that expire state or report aggregates.
 *
 * every() returns a handle with :cancel(); closing it (`local t <close> = every(...)`)
 * cancels too. Dropping the handle does not: a timer set at the top of a rule file runs for
 * the rule's life, so the handle has no __gc (it owns nothing; the timer belongs to the
 * rule, and closing the state frees it). A late tick runs a timer once, not once per
 * missed period.
 */
#include <math.h>
#include <stdlib.h>

#include "luahost_internal.h"

static char timer_key;		/* registry key of the handle metatable */

struct timer_handle {
	uint64_t id;
};

static struct lh_timer *find(struct lh_rule *r, uint64_t id)
{
	size_t i;

	for (i = 0; i < r->ntimers; i++)
		if (r->timers[i].id == id && !r->timers[i].cancelled)
			return &r->timers[i];
	return NULL;
}

static void cancel(lua_State *L, struct lh_rule *r, uint64_t id)
{
	struct lh_timer *t = find(r, id);

	if (t) {
		t->cancelled = true;
		luaL_unref(L, LUA_REGISTRYINDEX, t->fn_ref);
		t->fn_ref = LUA_NOREF;
	}
}

int lh_every(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	lua_Number secs = luaL_checknumber(L, 1);
	struct timer_handle *h;
	struct lh_timer *t;
	size_t live = 0, i;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_argcheck(L, isfinite(secs) && secs >= 0.001 && secs <= 86400.0 * 365, 1,
		      "a period from 0.001 s to a year");
	for (i = 0; i < r->ntimers; i++)
		live += !r->timers[i].cancelled;
	if (live >= LH_MAX_TIMERS)
		return luaL_error(L, "every(): at most %d timers per rule", LH_MAX_TIMERS);
	h = lua_newuserdatauv(L, sizeof(*h), 0);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &timer_key);
	lua_setmetatable(L, -2);
	t = realloc(r->timers, (r->ntimers + 1) * sizeof(*t));
	if (!t)
		return luaL_error(L, "out of memory");
	r->timers = t;
	t = &r->timers[r->ntimers];
	t->id = ++r->next_timer_id;
	t->interval_ns = (uint64_t)(secs * 1e9);
	t->next_ns = lh_clock(r->host) + t->interval_ns;
	t->cancelled = false;
	lua_pushvalue(L, 2);
	t->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	r->ntimers++;
	h->id = t->id;
	return 1;
}

static int handle_cancel(lua_State *L)
{
	struct timer_handle *h = luaL_checkudata(L, 1, "vigil.timer");

	cancel(L, lh_rule_of(L), h->id);
	return 0;
}

static const luaL_Reg handle_methods[] = {
	{ "cancel", handle_cancel },
	{ NULL, NULL },
};

void lh_timers_open(lua_State *L)
{
	luaL_newmetatable(L, "vigil.timer");
	luaL_newlib(L, handle_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, handle_cancel);
	lua_setfield(L, -2, "__close");
	lua_pushliteral(L, "vigil.timer");
	lua_setfield(L, -2, "__metatable");
	lua_rawsetp(L, LUA_REGISTRYINDEX, &timer_key);
}

/* Drop cancelled timers (outside the run loop, which indexes the array). */
static void compact(struct lh_rule *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->ntimers; i++)
		if (!r->timers[i].cancelled)
			r->timers[n++] = r->timers[i];
	r->ntimers = n;
}

int lh_timers_run(struct lh_rule *r, uint64_t now)
{
	struct lh_timer *t;
	size_t i;
	int err = 0;

	/* timers added by a callback wait for the next tick */
	for (i = 0; i < r->ntimers && !err; i++) {
		t = &r->timers[i];
		if (t->cancelled || t->next_ns > now)
			continue;
		t->next_ns += t->interval_ns;
		if (t->next_ns <= now)
			t->next_ns = now + t->interval_ns;
		lua_rawgeti(r->L, LUA_REGISTRYINDEX, t->fn_ref);
		r->ev = NULL;
		err = lh_call(r, 0, 0);
		r->gen++;
	}
	if (!err)
		compact(r);
	return err;
}

uint64_t lh_timers_next(struct vigil_luahost *h)
{
	uint64_t due = UINT64_MAX;
	const struct lh_rule *r;
	size_t i, j;

	pthread_mutex_lock(&h->run_lock);
	for (i = 0; i < h->nrules; i++) {
		r = h->rules[i];
		for (j = 0; !r->disabled && j < r->ntimers; j++)
			if (!r->timers[j].cancelled && r->timers[j].next_ns < due)
				due = r->timers[j].next_ns;
	}
	pthread_mutex_unlock(&h->run_lock);
	return due;
}

void lh_timers_free(struct lh_rule *r)
{
	free(r->timers);
	r->timers = NULL;
	r->ntimers = 0;
}
