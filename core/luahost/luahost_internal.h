/* luahost_internal.h - what the Lua host's files share: the rule and host objects, the
 * sandboxed state, the event view, templates, timers and the rule events. */
#ifndef VIGIL_LUAHOST_INTERNAL_H
#define VIGIL_LUAHOST_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>

#include "luahost.h"

/* The count hook fires every LH_HOOK_STEP instructions, so the budget is enforced to within
 * that many; small enough that an exhausted budget stops a loop within microseconds, large
 * enough that the hook costs nothing measurable. */
#define LH_HOOK_STEP 1000
#define LH_MAX_TIMERS 64
#define LH_MAX_EXEC_IDS 16		/* exec_ids one alert or action carries */
#define LH_MAX_TAGS 32
#define LH_MAX_HOOKS 64
#define LH_MAX_FILE (1u << 20)		/* a rule file larger than this is refused */
#define LH_MAX_DEPTH 32			/* copy() and the template's Lua traversal */

/* Caps on what one C call of a rule may do (limits.c explains each). */
#define LH_MAX_REP (1u << 20)		/* bytes string.rep may build */
#define LH_MAX_PATTERN 512		/* bytes of a Lua pattern */

enum lh_fatal {
	LH_FATAL_NONE,
	LH_FATAL_BUDGET,		/* the count hook ran the budget out */
	LH_FATAL_MEMORY,		/* the allocator refused: the memory cap */
	LH_FATAL_DEADLINE,		/* the call ran past its wall-clock deadline */
	LH_FATAL_COST,			/* a C function would cost more than the budget left (r->reason) */
};

struct lh_timer {
	uint64_t id;
	uint64_t interval_ns;
	uint64_t next_ns;
	int fn_ref;			/* registry reference to the function */
	bool cancelled;
};

/* A process rebuilt from an event's fields when the agent's cache no longer has it. */
struct lh_proc_buf {
	struct vigil_process p;
	char binary[4096];
	char arguments[4096];
	char cwd[4096];
};

/* What an alert or action builds before it emits; one per rule, allocated on first use. */
struct lh_scratch {
	struct lh_proc_buf procs[2];	/* process, parent */
	char ids[LH_MAX_EXEC_IDS][VIGIL_EXEC_ID_MAX];
	const char *idp[LH_MAX_EXEC_IDS];
	size_t nids;
	struct vigil_buf text;		/* the rendered output */
};

/* One rule: its file, its Lua state and what the host reports about it. */
/* The hooks the enabled rules select, for the reader (host.c). */
struct lh_hook_filter {
	uint32_t all;			/* type bits some rule takes without a hooks list */
	uint32_t hooked;		/* type bits some rule takes for listed hooks only */
	char **names;			/* those rules' hooks, all of them */
	size_t n;
	struct lh_hook_filter *older;
};

struct lh_rule {
	struct vigil_luahost *host;
	char *file;			/* full path */
	uint64_t hash;			/* of the file's bytes: unchanged files keep their state */
	size_t size;

	lua_State *L;			/* NULL once disabled: the state is closed at once */
	char *name;
	char *desc;
	char *output;			/* the template */
	enum vigil_rule_priority priority;
	char *tags[LH_MAX_TAGS];
	size_t ntags;
	uint32_t events;		/* bit lh_type_bit(type) per wanted event type */
	const char *event_keys[8];
	size_t nevents;
	/* `hooks`: the policy events (kprobe, tracepoint, lsm, uprobe) it gets are only those of
	 * these hooks (lh_hook_name); none listed: all of its types' */
	char *hooks[LH_MAX_HOOKS];
	size_t nhooks;
	int on_event_ref;		/* LUA_NOREF for timer-only rules */

	/* the call in progress */
	bool live;			/* loaded: actions and lookups are allowed (not while the file runs) */
	uint64_t gen;			/* bumped after every call: views of older events expire */
	const struct vigil_msg *msg;	/* the event being handled, NULL in timers */
	enum lh_fatal fatal;
	int64_t steps_left;
	uint64_t deadline_at;		/* CLOCK_MONOTONIC ns when the call in progress must end */
	size_t mem;
	size_t mem_limit;
	uint64_t refusals;		/* allocations the cap refused */
	uint64_t budget;

	struct lh_timer *timers;
	size_t ntimers;
	uint64_t next_timer_id;

	bool disabled;
	char reason[512];

	uint64_t calls, alerts, actions, errors, time_ns;
	/* deny() rate limit: a token bucket of opts.deny_rate tokens a minute */
	double deny_tokens;
	uint64_t deny_refill_ns;
	uint64_t denies_limited;
	/* What vigil_luahost__list shows: copied from the fields above under the host lock after
	 * each event and tick (lh_publish), so that listing never waits for a rule's call. */
	struct lh_stats {
		uint64_t calls, alerts, actions, errors, time_ns, denies_limited;
		size_t mem, timers;
		bool disabled;		/* then reason and dropped_final are final */
	} pub;
	/* queue drops of each wanted type (struct lh_queue.dropped) when the rule came in, and
	 * what it had missed when it was disabled */
	uint64_t dropped_base[8];
	uint64_t dropped_final;

	struct lh_scratch *scratch;
};

struct lh_refused {
	char *file;
	struct vigil_rule_error err;
};

/* A call in progress, on its caller's stack, for the watchdog (watchdog.c). */
struct lh_watch {
	lua_State *L;
	uint64_t deadline_at;		/* CLOCK_MONOTONIC ns */
	bool forced;
	struct lh_watch *next;
};

struct lh_watchdog {
	pthread_mutex_t lock;		/* the list, and the states in it stay open while listed */
	pthread_cond_t wake;
	struct lh_watch *calls;
	bool idle;			/* waiting without a timeout: a new call must signal */
	bool stop;
	bool started;
	pthread_t thread;
};

/* Events waiting for the rules thread (queue.c): a ring of slots whose buffers are reused. */
struct lh_slot {
	struct vigil_buf data;
	int bit;			/* lh_type_bit of the event */
};

struct lh_queue {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct lh_slot *slots;
	size_t cap, head, count;	/* the slot at head is the consumer's until it pops it */
	bool waiting;			/* the rules thread sleeps: a post must signal */
	bool stop;
	bool started;
	pthread_t thread;
	_Atomic uint64_t dropped[8];	/* per type bit */
	_Atomic uint64_t dropped_all;
};

struct vigil_luahost {
	struct vigil_luahost_opts opts;
	uint64_t deadline_ns;
	/* Two locks, taken in this order. run_lock is held while rules run (an event, a tick)
	 * and while a reload swaps the rule array; lock guards the array, the refused list and
	 * each rule's published stats, and is only ever held briefly: listing and status never
	 * wait for a rule stuck until its deadline. */
	pthread_mutex_t run_lock;
	pthread_mutex_t lock;
	pthread_mutex_t reload_lock;	/* one reload at a time */
	struct lh_rule **rules;		/* file order */
	size_t nrules;
	struct lh_refused *refused;
	size_t nrefused;
	atomic_uint wants;		/* OR of the enabled rules' event bits */
	/* what vigil_luahost__wants_hook reads without a lock: the filter lh_update_wants built
	 * last; the ones before it stay (older) until the host is freed, as a reader may still
	 * hold one (a reload or a disabled rule makes one, never the event path) */
	_Atomic(struct lh_hook_filter *) filter;
	struct lh_hook_filter *filter_lost;	/* filters retired while none could be made */
	struct lh_watchdog wd;
	struct lh_queue q;
};

/* ---- host.c ---- */

/* Bit of an event type in lh_rule.events, or -1 for types rules cannot ask for. */
int lh_type_bit(enum vigil_event_type type);
uint64_t lh_clock(const struct vigil_luahost *h);
/* Recompute host->wants; under run_lock. */
void lh_update_wants(struct vigil_luahost *h);
/* Copy r's counters and state to r->pub; under the lock. */
void lh_publish(struct lh_rule *r);

/* ---- sandbox.c: the state ---- */

static inline struct lh_rule *lh_rule_of(lua_State *L)
{
	return *(struct lh_rule **)lua_getextraspace(L);
}

/* A sandboxed state for r (r->mem_limit, r->budget set): safe libraries, the rule API, the
 * event view. NULL when the memory cap does not even allow that. */
lua_State *lh_state_new(struct lh_rule *r);
/* Call the function below nargs arguments on the stack, protected, with the budget reset
 * and a traceback handler; nresults results are left on the stack. Counts the call and its
 * time. Returns 0, or with r->reason saying why and nothing left on the stack (the caller
 * disables the rule): -E2BIG (instruction budget or a costed call), -ENOMEM (memory cap),
 * -ETIMEDOUT (deadline), -ECANCELED (the rule raised an error). */
int lh_call(struct lh_rule *r, int nargs, int nresults);
/* Refuse a call that needs a loaded rule (actions, lookups) while the file runs. */
void lh_check_live(lua_State *L, struct lh_rule *r, const char *what);
/* The count hook (the watchdog forces it) and CLOCK_MONOTONIC in ns. */
void lh_count_hook(lua_State *L, lua_Debug *ar);
uint64_t lh_mono_ns(void);
/* Charge cost instructions to the call's budget before a C function does that much work:
 * raises (and seals the rule) when the budget cannot pay or the deadline has passed; what
 * names the function and its input for the reason. */
void lh_charge(lua_State *L, struct lh_rule *r, double cost, const char *what);

/* ---- limits.c: the C functions that could run long on one instruction ---- */

/* Replace string.rep, find, match, gmatch, gsub, table.move, table.sort and load in the
 * state's libraries with wrappers that cap or charge them. */
void lh_limits_open(lua_State *L);

/* ---- pattern.c ---- */

/* A bound on the calls Lua's matcher makes for pattern p (lp bytes) on any subject of n
 * bytes, from its backtracking items; anchored when one start position is tried. */
double lh_pattern_work(const char *p, size_t lp, size_t n, bool anchored);
/* The calls it makes at most on subject s (n bytes), searching from every start unless the
 * pattern is anchored: exact for plain items, else lh_pattern_work. */
double lh_pattern_cost(const char *p, size_t lp, const char *s, size_t n);

/* ---- watchdog.c ---- */

int lh_watchdog_start(struct vigil_luahost *h);
void lh_watchdog_stop(struct vigil_luahost *h);
/* Around one protected call: w lives on the caller's stack. */
void lh_watch_begin(struct vigil_luahost *h, struct lh_watch *w, lua_State *L, uint64_t deadline_at);
void lh_watch_end(struct vigil_luahost *h, struct lh_watch *w);

/* ---- queue.c: the rules thread ---- */

int lh_queue_init(struct vigil_luahost *h);
/* Stop and join the thread, free the slots. */
void lh_queue_fini(struct vigil_luahost *h);
/* The wanted events the full queue dropped while r was enabled. */
uint64_t lh_rule_dropped(struct vigil_luahost *h, const struct lh_rule *r);
/* Start counting r's drops from now (a rule coming in). */
void lh_queue_baseline(struct vigil_luahost *h, struct lh_rule *r);

/* ---- signal.c ---- */

/* Send sig to pid through a pidfd when the process holding pid started no later than
 * start_ktime (CLOCK_BOOTTIME ns; 0: unchecked). 0 or -errno; -ESRCH for a reused pid. */
int lh_signal(int pid, uint64_t start_ktime, int sig);

/* ---- modules.c (generated from lua/vigil/ *.lua) ---- */

struct lh_module {
	const char *name;		/* "vigil.window" */
	const char *chunkname;		/* "@lua/vigil/window.lua" */
	const unsigned char *src;
	size_t len;
};

extern const struct lh_module lh_modules[];
extern const size_t lh_nmodules;

/* ---- ev.c: the event view ---- */

void lh_view_open(lua_State *L);
/* Push the view of r->msg's root. */
void lh_push_event(lua_State *L, struct lh_rule *r);
/* The object a live view at idx stands for, or NULL when idx is no view; raises an error
 * for an expired one. *root is set for the event itself. */
const msgpack_object *lh_view_object(lua_State *L, int idx, bool *root);
/* One step of a path under o: a map key, or a 0-based index into an array. */
const msgpack_object *lh_obj_child(const msgpack_object *o, const char *seg, size_t n);
/* A dotted path under o ("process.binary", "args.0.string_arg"); NULL when absent. */
const msgpack_object *lh_obj_find(const msgpack_object *o, const char *path, size_t len);
/* The dotted path under the event: the body first, then the root ("node_name", "time"). */
const msgpack_object *lh_msg_find(const struct vigil_msg *m, const char *path, size_t len);
/* require "vigil.native": the C helpers the modules use (arg). */
int lh_open_native(lua_State *L);
/* copy(v): a plain table for a view (the event flattened: its body's keys, type, node_name,
 * time), v itself otherwise. */
int lh_copy(lua_State *L);

/* ---- template.c ---- */

/* Append the value at name (n bytes) to out and return 1, or return 0 when there is none. */
typedef int (*lh_lookup_fn)(void *ctx, const char *name, size_t n, struct vigil_buf *out);

/* Render tmpl: "%name" (letters, digits, '_' and '.', a trailing '.' left out) and
 * "%{name}" are replaced by the looked-up value, "<NA>" when there is none; "%%" is '%'.
 * Appends; 0 or -ENOMEM. */
int lh_render(const char *tmpl, lh_lookup_fn lookup, void *ctx, struct vigil_buf *out);
/* A msgpack value as template text: strings as they are, numbers in decimal, containers as
 * JSON. Returns 1, or 0 for nil. */
int lh_format_obj(const msgpack_object *o, struct vigil_buf *out);

/* ---- api.c: the rule API ---- */

void lh_api_open(lua_State *L);
/* Send a rule event through the host's emit callback, stamped with the wall clock and the
 * node name. */
void lh_emit(struct lh_rule *r, struct vigil_event *ev);
/* r->scratch, allocated (and reset) on first use; raises on allocation failure. */
struct lh_scratch *lh_scratch(lua_State *L, struct lh_rule *r);

/* ---- src.c: where an alert or action reads its event from ---- */

struct lh_src {
	const struct vigil_msg *msg;	/* the current event, or a view of its root */
	const msgpack_object *obj;	/* a nested view (a process map, say) */
	int idx;			/* a plain table at this stack index (from copy()) */
};

/* The source at idx: a view, a table, or (nil, or idx 0) the event being handled, if any.
 * Raises for other values. */
void lh_src_at(lua_State *L, struct lh_rule *r, int idx, struct lh_src *s);
/* Append the value at the dotted path as template text; 1, or 0 when absent. Knows Falco's
 * proc.name, proc.cmdline, proc.pname, proc.exepath, proc.pid, proc.ppid, user.uid,
 * evt.type and evt.time too. */
int lh_src_format(lua_State *L, const struct lh_src *s, const char *path, size_t n, struct vigil_buf *out);
/* The source's process and parent: from the agent's cache by exec_id, else rebuilt from the
 * source's fields into sc. NULL when the source has none. */
void lh_src_process(lua_State *L, struct lh_rule *r, const struct lh_src *s, struct lh_scratch *sc,
		    const struct vigil_process **proc, const struct vigil_process **parent);
/* Add exec_ids to sc (lh_scratch() empties it): the source's process first, then those of
 * the events (views, tables or exec_id strings) in the array at events_idx, and the strings
 * in the array at ids_idx (0: none). Duplicates are dropped; at most LH_MAX_EXEC_IDS. */
void lh_src_exec_ids(lua_State *L, const struct lh_src *s, int events_idx, int ids_idx, struct lh_scratch *sc);
/* One exec_id (n bytes), unless already there or sc is full. */
void lh_scratch_add_id(struct lh_scratch *sc, const char *id, size_t n);
/* Push the value at a dotted path under the table or view at idx (numeric segments index
 * arrays from 0), or nil. */
void lh_push_path(lua_State *L, int idx, const char *path, size_t n);

/* ---- alert.c, actions.c, timers.c ---- */

int lh_alert(lua_State *L);
int lh_kill(lua_State *L);
int lh_deny(lua_State *L);
int lh_every(lua_State *L);
void lh_timers_open(lua_State *L);
/* Run r's due timers; returns -1 when one failed (r->reason says why). */
int lh_timers_run(struct lh_rule *r, uint64_t now);
void lh_timers_free(struct lh_rule *r);

/* ---- rules.c ---- */

/* Load a rule from its file's bytes. NULL with err filled on refusal. */
struct lh_rule *lh_rule_load(struct vigil_luahost *h, const char *file, const char *data, size_t len,
			     struct vigil_rule_error *err);
void lh_rule_free(struct lh_rule *r);
/* Disable r after a failed call: close its state and emit a rule_status event. */
void lh_rule_disable(struct lh_rule *r);
uint64_t lh_hash(const char *data, size_t len);

#endif
