/* watchdog.c - the thread that bounds every call into a rule: it arms the count hook of a
 * call that runs long, and stops one that runs past its wall-clock deadline.
 *
 * A call starts with no hook at all: while any count hook is set, Lua 5.4 sends every VM
 * instruction through luaG_traceexec (ldebug.c), whatever its count. The watchdog wakes
 * only when a call could be running long: a call makes sure a one-shot timer (timerfd) fires
 * by LH_WATCH_PERIOD_NS after its start (or its deadline, if sooner), and the rules thread
 * clears it before it waits for events, so calls that end in time wake nothing (it used to
 * look every period while calls came: half a wake-up per call at a call a millisecond). A
 * call it finds running for a period is signalled (LH_KICK_SIGNAL) to arm the count hook: from then on the instruction budget counts, as before. A call past its
 * deadline is signalled again, and the hook is armed to fire on every instruction: the
 * hook reads the clock and raises at the call's next instruction, even where each
 * instruction is a slow (but capped) C function.
 *
 * Why a signal to the call's thread rather than lua_sethook from this one: Debian's Lua
 * 5.4.4 (5.4.4-3+deb12u1, ldebug.c above lua_sethook) promises only that "this function can
 * be called during a signal, under 'reasonable' assumptions": hookmask is a byte written
 * atomically, pointers are assumed atomic, hook is checked before it is called, and
 * hookcount may take a wrong value for one hook call. A signal handler runs on the state's
 * own thread, between two of its instructions. lua_sethook also walks the thread's
 * CallInfo list (settraps) to make the VM look at the hook; only the state's own thread
 * changes that list (a returning call's CallInfo may be freed by the collector,
 * luaE_shrinkCI), so from another thread the walk could read a freed one.
 *
 * No lock on the call's path: a call claims a slot with one atomic exchange and publishes
 * its start, deadline and an odd sequence number in it; the watchdog reads them. The timer
 * takes a lock only when a call must set it (none is due by the call's first period): once
 * a batch of calls, and its clearing once a wait of the rules thread. While the watchdog
 * signals a call's thread it marks the slot (LH_SLOT_KICK), and the call's end waits for
 * the mark to go: the thread is alive for pthread_kill. Calls it has seen running it
 * follows with its own timeout (their first period, deadline, a period past it).
 *
 * Between calls the state keeps a count hook set (lh_watch_end): a __gc metamethod can run
 * Lua code outside any call (in lua_close, or a collection step that C code starts), and it
 * is bounded there as before (the last call's deadline has passed: the hook raises).
 *
 * Should the signal not take (a thread that blocks it, a program that took it over), the
 * watchdog forces the hook of a call a period past its deadline from its own thread, as it
 * always did before (force_here).
 *
 * The host takes LH_KICK_SIGNAL for itself: SIGURG, ignored by default (a stray one kills
 * nothing), and used by no other part of vigil.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "luahost_internal.h"

#define LH_KICK_SIGNAL SIGURG

/* The calls in progress on this thread, innermost first: what the handler arms. The handler
 * reads it without allocating where libvigil was loaded with the program (vigild, vigil): its
 * TLS is then in every thread's static block. Not tls_model("initial-exec"): that would make
 * all of libvigil's TLS (~87 KB) static for the programs that dlopen it (Falco's libsinsp
 * through the plugin, ctypes), and glibc refuses ("cannot allocate memory in static TLS
 * block"); those never run rules. */
static __thread struct lh_watch *innermost;

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_err;

/* On the call's thread, in the signal handler: arm the count hook of each call in progress.
 * Every decision is the handler's own (a late signal may find a newer call): at or past
 * the deadline, or once the rule is sealed, the hook fires on every instruction; before
 * it, it counts. lh_mono_ns (clock_gettime) is async-signal-safe. */
static void on_kick(int sig)
{
	int saved = errno;
	uint64_t now = lh_mono_ns();
	struct lh_watch *w;

	(void)sig;
	for (w = innermost; w; w = w->outer) {
		if (lh_rule_of(w->L)->fatal || now >= w->deadline_at) {
			w->counting = w->forced = 1;
			lua_sethook(w->L, lh_count_hook, LUA_MASKCOUNT, 1);
			if (w->slot)
				atomic_store(&w->slot->forced, w->seq);
		} else if (!w->counting) {
			w->counting = 1;
			lua_sethook(w->L, lh_count_hook, LUA_MASKCOUNT, LH_HOOK_STEP);
		}
	}
	errno = saved;
}

static void install_handler(void)
{
	struct sigaction sa = { .sa_handler = on_kick, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	if (sigaction(LH_KICK_SIGNAL, &sa, NULL))
		handler_err = -errno;
}

static struct timespec abs_mono(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ULL), .tv_nsec = (long)(ns % 1000000000ULL) };
}

/* Signal the thread of the call whose sequence is seq, if that call is still running. */
static void kick(struct lh_call_slot *s, uint64_t seq)
{
	uint64_t expect = seq;

	if (!atomic_compare_exchange_strong(&s->seq, &expect, seq | LH_SLOT_KICK))
		return;		/* it ended meanwhile */
	pthread_kill(s->thread, LH_KICK_SIGNAL);
	atomic_store(&s->seq, seq);
}

/* The signal did not take a period after the deadline (the thread blocks it, or someone
 * else took LH_KICK_SIGNAL): force the hook from this thread, as the watchdog did before it
 * signalled, and with the CallInfo walk's race described above. The mark keeps the call
 * (and its state) from ending meanwhile. */
static void force_here(struct lh_call_slot *s, uint64_t seq)
{
	uint64_t expect = seq;

	if (!atomic_compare_exchange_strong(&s->seq, &expect, seq | LH_SLOT_KICK))
		return;
	lua_sethook(s->L, lh_count_hook, LUA_MASKCOUNT, 1);
	atomic_store(&s->seq, seq);
}

/* One look at every slot: kick what runs long or late; next comes down to the earliest
 * time a call in progress needs another look. */
static void look(struct lh_watchdog *wd, uint64_t now, uint64_t *next)
{
	struct lh_call_slot *s;
	uint64_t seq, deadline, start, follow;

	for (s = wd->slots; s < wd->slots + LH_MAX_CALLERS; s++) {
		seq = atomic_load(&s->seq);
		if (!(seq & 1))
			continue;
		deadline = atomic_load(&s->deadline_at);
		start = atomic_load(&s->start_at);
		if (atomic_load(&s->seq) != seq)
			continue;	/* a new call came in between: its timer covers it */
		if (now >= deadline) {
			if (s->kicked_late != seq) {
				s->kicked_late = seq;
				kick(s, seq);
			} else if (now >= deadline + LH_WATCH_PERIOD_NS && s->forced_here != seq &&
				   atomic_load(&s->forced) != seq) {
				s->forced_here = seq;
				force_here(s, seq);
			}
			/* until the hook is forced one way or the other: a look a period past the
			 * deadline, and a period after the signal */
			follow = now < deadline + LH_WATCH_PERIOD_NS ? deadline + LH_WATCH_PERIOD_NS
								      : now + LH_WATCH_PERIOD_NS;
			if (s->forced_here != seq && atomic_load(&s->forced) != seq && follow < *next)
				*next = follow;
		} else if (now >= start + LH_WATCH_PERIOD_NS) {
			if (s->kicked != seq) {
				s->kicked = seq;
				kick(s, seq);
			}
			if (deadline < *next)
				*next = deadline;
		} else if (start + LH_WATCH_PERIOD_NS < *next) {
			*next = start + LH_WATCH_PERIOD_NS;
		}
	}
}

static void set_timer(struct lh_watchdog *wd, uint64_t at)
{
	struct itimerspec its = { .it_value = abs_mono(at) };

	timerfd_settime(wd->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
	atomic_store(&wd->armed_at, at);
}

/* The timer fired: it is armed no more, unless a call set it again meanwhile. Cleared
 * before the look: a call that saw it still set is then seen running by the look (both
 * sequentially consistent, as lh_watch_begin publishes its slot before it reads). */
static void timer_fired(struct lh_watchdog *wd, uint64_t now)
{
	uint64_t ticks;

	if (read(wd->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&wd->arm_lock);
	if (atomic_load(&wd->armed_at) <= now)
		atomic_store(&wd->armed_at, 0);
	pthread_mutex_unlock(&wd->arm_lock);
}

static void *watchdog_main(void *arg)
{
	struct lh_watchdog *wd = arg;
	struct pollfd fds[2] = { { .fd = wd->timer_fd, .events = POLLIN }, { .fd = wd->stop_fd, .events = POLLIN } };
	struct timespec ts;
	uint64_t now, next;

	for (;;) {
		now = lh_mono_ns();
		timer_fired(wd, now);
		next = UINT64_MAX;
		look(wd, now, &next);
		if (next != UINT64_MAX) {
			now = lh_mono_ns();
			next = next > now ? next - now : 0;
			ts = (struct timespec){ .tv_sec = (time_t)(next / 1000000000ULL),
						.tv_nsec = (long)(next % 1000000000ULL) };
		}
		if (ppoll(fds, 2, next == UINT64_MAX ? NULL : &ts, NULL) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
	}
	return NULL;
}

int lh_watchdog_start(struct vigil_luahost *h)
{
	struct lh_watchdog *wd = &h->wd;
	int err;

	pthread_once(&handler_once, install_handler);
	if (handler_err)
		return handler_err;
	wd->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (wd->timer_fd < 0)
		return -errno;
	wd->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (wd->stop_fd < 0) {
		err = -errno;
		close(wd->timer_fd);
		return err;
	}
	pthread_mutex_init(&wd->arm_lock, NULL);
	atomic_store(&wd->armed_at, 0);
	err = pthread_create(&wd->thread, NULL, watchdog_main, wd);
	if (err) {
		close(wd->timer_fd);
		close(wd->stop_fd);
		pthread_mutex_destroy(&wd->arm_lock);
		return -err;
	}
	wd->started = true;
	return 0;
}

void lh_watchdog_stop(struct vigil_luahost *h)
{
	struct lh_watchdog *wd = &h->wd;
	uint64_t one = 1;

	if (!wd->started)
		return;
	if (write(wd->stop_fd, &one, sizeof(one)) < 0)
		abort();	/* an eventfd counter this far from its limit takes the write */
	pthread_join(wd->thread, NULL);
	wd->started = false;
	close(wd->timer_fd);
	close(wd->stop_fd);
	pthread_mutex_destroy(&wd->arm_lock);
}

static struct lh_call_slot *claim(struct lh_watchdog *wd)
{
	struct lh_call_slot *s;

	if (!wd->started)
		return NULL;
	for (s = wd->slots; s < wd->slots + LH_MAX_CALLERS; s++)
		if (!atomic_load_explicit(&s->taken, memory_order_relaxed) &&
		    !atomic_exchange_explicit(&s->taken, true, memory_order_acquire))
			return s;
	return NULL;
}

void lh_watch_begin(struct vigil_luahost *h, struct lh_watch *w, lua_State *L, uint64_t deadline_at)
{
	struct lh_watchdog *wd = &h->wd;
	struct lh_call_slot *s = claim(wd);
	uint64_t seq, now, due, armed;

	w->L = L;
	w->deadline_at = deadline_at;
	w->slot = s;
	w->forced = 0;
	if (!s) {
		/* no slot (more concurrent calls than LH_MAX_CALLERS): the hook counts from the
		 * start and reads the clock every LH_HOOK_STEP instructions, as it did for all */
		w->counting = 1;
		lua_sethook(L, lh_count_hook, LUA_MASKCOUNT, LH_HOOK_STEP);
		return;
	}
	w->counting = 0;
	seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	w->seq = seq + 1;
	lua_sethook(L, NULL, 0, 0);
	w->outer = innermost;
	atomic_signal_fence(memory_order_seq_cst);
	innermost = w;		/* from here the handler may arm L */
	atomic_signal_fence(memory_order_seq_cst);
	s->thread = pthread_self();
	s->L = L;
	now = lh_mono_ns();
	due = now + LH_WATCH_PERIOD_NS < deadline_at ? now + LH_WATCH_PERIOD_NS : deadline_at;
	atomic_store_explicit(&s->deadline_at, deadline_at, memory_order_relaxed);
	atomic_store_explicit(&s->start_at, now, memory_order_relaxed);
	atomic_store(&s->seq, w->seq);
	/* published, then read: a timer due by then wakes a watchdog that sees this call */
	armed = atomic_load(&wd->armed_at);
	if (!armed || armed > due) {
		pthread_mutex_lock(&wd->arm_lock);
		armed = atomic_load(&wd->armed_at);
		if (!armed || armed > due)
			set_timer(wd, due);
		pthread_mutex_unlock(&wd->arm_lock);
	}
}

void lh_watch_end(struct vigil_luahost *h, struct lh_watch *w)
{
	struct lh_call_slot *s = w->slot;
	uint64_t seq;

	(void)h;
	if (s) {
		atomic_signal_fence(memory_order_seq_cst);
		innermost = w->outer;	/* the handler leaves L alone from here */
		atomic_signal_fence(memory_order_seq_cst);
		seq = atomic_load_explicit(&s->seq, memory_order_relaxed) & ~LH_SLOT_KICK;
		/* the watchdog may be signalling this thread: wait until it is done */
		while (!atomic_compare_exchange_weak(&s->seq, &seq, seq + 1)) {
			if (seq & LH_SLOT_KICK)
				sched_yield();
			seq &= ~LH_SLOT_KICK;
		}
		atomic_store_explicit(&s->taken, false, memory_order_release);
	}
	/* between calls: the count hook bounds a __gc metamethod run outside any call */
	lua_sethook(w->L, lh_count_hook, LUA_MASKCOUNT, LH_HOOK_STEP);
}

void lh_watch_idle(struct vigil_luahost *h)
{
	struct lh_watchdog *wd = &h->wd;
	static const struct itimerspec off;
	struct lh_call_slot *s;
	uint64_t armed;

	if (!wd->started || !atomic_load_explicit(&wd->armed_at, memory_order_relaxed))
		return;
	pthread_mutex_lock(&wd->arm_lock);
	armed = atomic_load(&wd->armed_at);
	atomic_store(&wd->armed_at, 0);
	/* cleared, then read: a call that begins now either sees 0 and arms, or is seen here */
	for (s = wd->slots; s < wd->slots + LH_MAX_CALLERS; s++)
		if (atomic_load(&s->seq) & 1)
			break;
	if (s < wd->slots + LH_MAX_CALLERS)
		atomic_store(&wd->armed_at, armed);	/* another thread's call runs: it stays */
	else if (armed)
		timerfd_settime(wd->timer_fd, 0, &off, NULL);
	pthread_mutex_unlock(&wd->arm_lock);
}
