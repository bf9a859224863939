/* watchdog.c - the thread that enforces the wall-clock deadline of every call into a rule.
 *
 * The count hook reads the clock when it fires, every LH_HOOK_STEP instructions; a thousand
 * instructions that each call a slow (but capped) C function still take far longer than the
 * deadline. The watchdog sleeps until the earliest deadline of the calls in progress and, for
 * a call past it, sets the state's hook to fire on every instruction: lua_sethook is the one
 * Lua call documented as safe from another thread (lua.c calls it from a signal handler).
 * The call's own thread then raises at its next instruction. The list lock keeps a state
 * open while the watchdog may touch it: a call leaves the list before its state can close.
 *
 * Calls in progress are a list because the rules thread runs events while the control
 * thread may be running a reloaded file's top level. When nothing runs, the watchdog sleeps
 * without a timeout and the next call wakes it: one signal per idle period, not per call.
 */
#include <errno.h>
#include <time.h>

#include "luahost_internal.h"

static struct timespec abs_mono(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ULL), .tv_nsec = (long)(ns % 1000000000ULL) };
}

static void *watchdog_main(void *arg)
{
	struct lh_watchdog *wd = arg;
	struct lh_watch *w;
	struct timespec ts;
	uint64_t now, next;

	pthread_mutex_lock(&wd->lock);
	while (!wd->stop) {
		now = lh_mono_ns();
		next = UINT64_MAX;
		for (w = wd->calls; w; w = w->next) {
			if (w->forced)
				continue;
			if (now >= w->deadline_at) {
				lua_sethook(w->L, lh_count_hook, LUA_MASKCOUNT, 1);
				w->forced = true;
			} else if (w->deadline_at < next) {
				next = w->deadline_at;
			}
		}
		/* nothing to watch: sleep until a call comes in; a forced call is re-checked
		 * after a deadline's length in case it is stuck in C */
		if (next == UINT64_MAX && !wd->calls) {
			wd->idle = true;
			pthread_cond_wait(&wd->wake, &wd->lock);
			wd->idle = false;
			continue;
		}
		ts = abs_mono(next == UINT64_MAX ? now + 10000000ULL : next);
		pthread_cond_timedwait(&wd->wake, &wd->lock, &ts);
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

int lh_watchdog_start(struct vigil_luahost *h)
{
	struct lh_watchdog *wd = &h->wd;
	pthread_condattr_t ca;
	int err;

	pthread_mutex_init(&wd->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wd->wake, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&wd->thread, NULL, watchdog_main, wd);
	if (err)
		return -err;
	wd->started = true;
	return 0;
}

void lh_watchdog_stop(struct vigil_luahost *h)
{
	struct lh_watchdog *wd = &h->wd;

	if (!wd->started)
		return;
	pthread_mutex_lock(&wd->lock);
	wd->stop = true;
	pthread_cond_signal(&wd->wake);
	pthread_mutex_unlock(&wd->lock);
	pthread_join(wd->thread, NULL);
	wd->started = false;
	pthread_cond_destroy(&wd->wake);
	pthread_mutex_destroy(&wd->lock);
}

void lh_watch_begin(struct vigil_luahost *h, struct lh_watch *w, lua_State *L, uint64_t deadline_at)
{
	struct lh_watchdog *wd = &h->wd;

	w->L = L;
	w->deadline_at = deadline_at;
	w->forced = false;
	if (!wd->started)
		return;
	pthread_mutex_lock(&wd->lock);
	w->next = wd->calls;
	wd->calls = w;
	if (wd->idle)
		pthread_cond_signal(&wd->wake);
	pthread_mutex_unlock(&wd->lock);
}

void lh_watch_end(struct vigil_luahost *h, struct lh_watch *w)
{
	struct lh_watchdog *wd = &h->wd;
	struct lh_watch **pp;

	if (!wd->started)
		return;
	pthread_mutex_lock(&wd->lock);
	for (pp = &wd->calls; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&wd->lock);
}
