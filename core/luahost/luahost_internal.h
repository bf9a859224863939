/* luahost_internal.h - what the Lua host's files share: the rule and host objects, the
 * sandboxed state, the event view, templates, timers and the rule events. */
#ifndef VIGIL_LUAHOST_INTERNAL_H
#define VIGIL_LUAHOST_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "luahost.h"

/* The count hook fires every LH_HOOK_STEP instructions, so the budget is enforced to within
 * that many. While any count hook is set, Lua 5.4 runs every VM instruction through
 * luaG_traceexec (ldebug.c), whatever the step: ~15% of the shipped rules' cost. So a call
 * starts without one; the watchdog arms it once the call has run for LH_WATCH_PERIOD_NS
 * (watchdog.c): the budget counts a call's instructions from then on, and a call that ends
 * sooner (every rule call we ship, by three orders of magnitude) pays nothing for it. */
#define LH_HOOK_STEP 1000
#define LH_WATCH_PERIOD_NS 2000000ULL	/* a call runs about this long uncounted */
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
	char exec_id[VIGIL_EXEC_ID_MAX];
	char parent_exec_id[VIGIL_EXEC_ID_MAX];
	char container_id[VIGIL_CONTAINER_ID_MAX];
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
	size_t hook_lens[LH_MAX_HOOKS];	/* strlen of each: compared on every policy event */
	size_t nhooks;
	int on_event_ref;		/* LUA_NOREF for timer-only rules */
	/* on_event's second and third arguments, interned at load so that a call allocates
	 * nothing before its protected call: the type key per type bit, each listed hook */
	int type_refs[8];
	int hook_refs[LH_MAX_HOOKS];
	int view_mt_ref;		/* the event view's metatable (ev.c): an array slot of the registry */

	/* the call in progress */
	bool live;			/* loaded: actions and lookups are allowed (not while the file runs) */
	uint64_t gen;			/* bumped after every call: views of older events expire */
	struct lh_event *ev;		/* the event being handled, NULL in timers */
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

/* A call in progress, on its caller's stack (watchdog.c). The signal handler reads it on
 * the call's own thread only; the watchdog thread sees the call through its slot. */
struct lh_watch {
	lua_State *L;
	uint64_t deadline_at;		/* CLOCK_MONOTONIC ns */
	struct lh_call_slot *slot;	/* NULL: no slot free, the call counts from its start */
	uint64_t seq;			/* the slot's sequence number for this call */
	struct lh_watch *outer;		/* the call this one runs inside, on the same thread */
	volatile sig_atomic_t counting;	/* the handler armed the count hook */
	volatile sig_atomic_t forced;	/* the handler armed it for every instruction */
};

/* What the watchdog thread reads of one call in progress, without a lock. seq is even when
 * the slot holds no call and odd while one runs; each call moves it on by two, so the
 * watchdog tells one long call from many short ones. LH_SLOT_KICK is set by the watchdog
 * while it signals the slot's thread: the call's end waits for it (the thread must stay
 * alive for pthread_kill). */
#define LH_MAX_CALLERS 4
#define LH_SLOT_KICK (1ULL << 63)
struct lh_call_slot {
	atomic_bool taken;		/* claimed by a call */
	_Atomic uint64_t seq;
	_Atomic uint64_t deadline_at;
	_Atomic uint64_t start_at;	/* CLOCK_MONOTONIC ns the call began */
	pthread_t thread;		/* written before seq turns odd, as L is */
	lua_State *L;
	_Atomic uint64_t forced;	/* seq of the last call the handler forced (watchdog.c) */
	/* the watchdog thread's own */
	uint64_t kicked;		/* seq it last signalled to count, and */
	uint64_t kicked_late;		/* to stop (the deadline passed) */
	uint64_t forced_here;		/* seq it forced from its own thread: the signal did not take */
};

struct lh_watchdog {
	int timer_fd;			/* one-shot CLOCK_MONOTONIC timerfd: a call may run long */
	int stop_fd;			/* eventfd: lh_watchdog_stop */
	pthread_mutex_t arm_lock;	/* setting and clearing the timer */
	_Atomic uint64_t armed_at;	/* when the timer fires; 0: not armed */
	struct lh_call_slot slots[LH_MAX_CALLERS];
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
	bool idle;			/* ... past its tick (idle_sleep_ns): a post signals at once */
	uint64_t held_since;		/* lh_mono_ns of the first post held while it sleeps; 0: none */
	bool stop;
	bool started;
	pthread_t thread;
	_Atomic uint64_t dropped[8];	/* per type bit */
	_Atomic uint64_t dropped_all;
	/* buffers of run slots, kept for the next posts (queue.c): at most LH_POOL_MAX */
	struct vigil_buf *pool;
	size_t npool;
	size_t spilled;			/* the rules thread's: buffers freed since the last trim */
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
	char dir_refused[512];		/* why the rules directory is not read; "" when it is */
	atomic_uint wants;		/* OR of the enabled rules' event bits */
	/* what vigil_luahost__wants_hook reads without a lock: the filter lh_update_wants built
	 * last; the ones before it stay (older) until the host is freed, as a reader may still
	 * hold one (a reload or a disabled rule makes one, never the event path) */
	_Atomic(struct lh_hook_filter *) filter;
	struct lh_hook_filter *filter_lost;	/* filters retired while none could be made */
	struct lh_watchdog wd;
	struct lh_queue q;
	/* under run_lock: the event the rules are handling (event.c), and vigil_luahost__event's
	 * message packed back into bytes for it */
	struct lh_event *event;
	struct vigil_buf packed;
};

/* ---- host.c ---- */

/* Bit of an event type in lh_rule.events, or -1 for types rules cannot ask for. */
int lh_type_bit(enum vigil_event_type type);
uint64_t lh_clock(const struct vigil_luahost *h);
/* Run the rules that want the event in data[0..len) (borrowed for the call); under no lock.
 * Returns the number of rules called, or -EBADMSG when the bytes are no event. */
int lh_run_event(struct vigil_luahost *h, const void *data, size_t len);
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
/* lh_call with no results, for a caller that pushed lh_push_handler's handler below the
 * function (on_event's calls: no stack rotation either side). *clock, when not 0, is the
 * call's start (the previous call's end: one clock read a call, not two); the call leaves
 * its end there. */
void lh_push_handler(lua_State *L);
int lh_call_handled(struct lh_rule *r, int nargs, uint64_t *clock);
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

/* Where p (lp bytes) first occurs in s (n bytes), as memmem answers (an empty p at s), or
 * NULL: the first byte by memchr, then a compare. The rules' subjects and needles are
 * short, where memmem's setup costs more than the search; the callers charge n * lp. */
static inline const char *lh_find_plain(const char *s, size_t n, const char *p, size_t lp)
{
	const char *at = s, *end = s + n;

	if (!lp)
		return s;
	while (lp <= (size_t)(end - at) && (at = memchr(at, p[0], (size_t)(end - at) - lp + 1))) {
		if (!memcmp(at + 1, p + 1, lp - 1))
			return at;
		at++;
	}
	return NULL;
}

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
/* Around one protected call: w lives on the caller's stack. begin leaves L without a hook
 * (the watchdog arms one when the call runs long) unless no slot is free, when the count
 * hook runs from the start; end puts the count hook back for what runs between calls. */
void lh_watch_begin(struct vigil_luahost *h, struct lh_watch *w, lua_State *L, uint64_t deadline_at);
void lh_watch_end(struct vigil_luahost *h, struct lh_watch *w);
/* The caller makes no call for a while (the rules thread, before it waits): the timer that
 * would wake the watchdog for a call that runs long is cleared when no call runs. */
void lh_watch_idle(struct vigil_luahost *h);

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

/* ---- mpread.c: msgpack values read from bytes ---- */

enum lh_mptype { LH_MP_NIL, LH_MP_BOOL, LH_MP_UINT, LH_MP_INT, LH_MP_FLOAT, LH_MP_STR, LH_MP_BIN, LH_MP_ARRAY,
		 LH_MP_MAP, LH_MP_EXT, LH_MP_BAD };

/* One header and, for a scalar, its value. A non-negative signed integer reads as
 * LH_MP_UINT, as msgpack-c unpacks it. */
struct lh_mpval {
	uint8_t type;			/* enum lh_mptype */
	union {
		bool b;
		uint64_t u;
		int64_t i;		/* LH_MP_INT: negative */
		double f;
	};
	const char *str;		/* LH_MP_STR, LH_MP_BIN: the bytes */
	uint32_t len;
	uint32_t count;			/* LH_MP_ARRAY elements, LH_MP_MAP entries */
	size_t next;			/* past the header and a scalar's payload: a container's first child */
};

/* The value at off of p[0..len); false when it does not read within len. */
bool lh_mp_read(const unsigned char *p, size_t len, size_t off, struct lh_mpval *v);
/* The offset past the whole object at off, or 0 when it does not read within len. */
size_t lh_mp_skip(const unsigned char *p, size_t len, size_t off);

/* lh_mp_skip, with the scalars an event is mostly made of (small integers, short strings,
 * 8- to 64-bit integers, str8) inline. */
static inline size_t lh_mp_next(const unsigned char *p, size_t len, size_t off)
{
	unsigned char c;
	size_t end;

	if (off >= len)
		return 0;
	c = p[off];
	if (c < 0x80 || c >= 0xe0)
		end = off + 1;
	else if (c >= 0xa0 && c <= 0xbf)
		end = off + 1 + (c & 0x1f);
	else if (c >= 0xcc && c <= 0xd3)
		end = off + 1 + (1u << ((c - 0xcc) & 3));
	else if (c == 0xd9 && off + 1 < len)
		end = off + 2 + p[off + 1];
	else
		return lh_mp_skip(p, len, off);
	return end <= len ? end : 0;
}

/* ---- event.c: the event being handled, read from its bytes ---- */

#define LH_EV_MAPS 8			/* maps whose keys one event notes (event.c) */
#define LH_EV_KEYS 32			/* keys noted per map */
#define LH_EV_OBJS 16			/* subtrees unpacked per event, remembered */
#define LH_EV_MEMO 32			/* root lookups one event remembers (a power of 2) */
#define LH_EV_MEMO_KEY 30		/* longest key remembered */

/* A map entry: its key (when a string) and where its value starts. */
struct lh_entry {
	size_t key;
	size_t val;
	uint32_t klen;
	bool str;
};

/* One remembered lookup under the root: several rules read the same few fields of an
 * event, and a path walked once is answered from here after (event.c). */
struct lh_memo {
	uint32_t stamp;			/* the event's (lh_event.stamp) while it holds */
	uint8_t kind;			/* which lookup: LH_MEMO_GET, _FIND, _ARG */
	uint8_t len;
	char key[LH_EV_MEMO_KEY];
	size_t off;
};

enum { LH_MEMO_GET = 1, LH_MEMO_FIND, LH_MEMO_ARG };

struct lh_mapidx {
	size_t off;			/* the map's header */
	size_t next;			/* the last noted entry's key (its value is skipped lazily) */
	uint32_t count, done;
	struct lh_entry e[LH_EV_KEYS];
};

/* Offsets are from the start of the bytes; 0, the root's header, means "absent" wherever a
 * value is looked up (no value starts there). */
struct lh_event {
	const unsigned char *data;	/* borrowed for the event */
	size_t len;
	enum vigil_event_type type;	/* 0 for a type rules cannot receive */
	const char *type_key;		/* "process_exec"; NULL with type 0 */
	size_t body;			/* the map under the type key */
	struct lh_mapidx maps[LH_EV_MAPS];
	unsigned int nmaps;
	bool root_done;
	uint32_t root_count;		/* the root's entries, the delivery stamp left out */
	bool hook_done;
	const char *hook;		/* lh_event_hook's answer */
	size_t hook_len;
	msgpack_zone *zone;		/* unpacked subtrees; kept across events, emptied after */
	bool zone_used;
	struct {
		size_t off;
		const msgpack_object *obj;
	} objs[LH_EV_OBJS];
	unsigned int nobjs;
	uint32_t stamp;			/* per event: the memo's entries of other events are stale */
	struct lh_memo memo[LH_EV_MEMO];
	/* the last element lh_array_at found: a loop over an array (for i = 1, #a) walks it
	 * once, not from its start at every index (a root exec's 41 capabilities) */
	struct {
		size_t array, at;	/* array 0: none */
		uint64_t idx;
	} walk;
};

/* Start reading an event (data borrowed until lh_event_end): the root must be a map whose
 * first entry is "<event key>": {body}. 0, or -EBADMSG. */
int lh_event_init(struct lh_event *e, const void *data, size_t len);
/* The event is over: forget its bytes and empty the zone. */
void lh_event_end(struct lh_event *e);
void lh_event_fini(struct lh_event *e);
/* The value of key in the map at off (the first, if keys repeat), or 0. */
size_t lh_map_get(struct lh_event *e, size_t off, const char *key, size_t n);
/* Entry i of the map at off; false past its end. */
bool lh_map_at(struct lh_event *e, size_t off, uint32_t i, struct lh_entry *en);
/* Element idx (0-based) of the array at off, or 0. */
size_t lh_array_at(struct lh_event *e, size_t off, uint64_t idx);
/* One step of a path under off: a map key, or a 0-based index into an array; 0 if absent. */
size_t lh_child(struct lh_event *e, size_t off, const char *seg, size_t n);
/* A dotted path under off ("process.binary", "args.0.string_arg"); 0 when absent. */
size_t lh_find(struct lh_event *e, size_t off, const char *path, size_t len);
/* The root's visible entries (the stamp left out), and the value of one of its keys. */
uint32_t lh_root_count(struct lh_event *e);
size_t lh_root_get(struct lh_event *e, const char *key, size_t n);
/* A key of the event: the body's, else the root's ("node_name" and "time" the root's
 * first; the type key's value is the body). */
size_t lh_event_get(struct lh_event *e, const char *key, size_t n);
/* A dotted path under the event: the body first, then the root. */
size_t lh_event_find(struct lh_event *e, const char *path, size_t len);
/* The remembered answer of lookup kind for key (n bytes) in this event: true with *off set
 * (0: absent), false when not remembered. */
bool lh_memo_get(const struct lh_event *e, unsigned int kind, const char *key, size_t n, size_t *off);
/* Remember it (keys longer than LH_EV_MEMO_KEY are not); returns off. */
size_t lh_memo_put(struct lh_event *e, unsigned int kind, const char *key, size_t n, size_t off);
/* The name a rule's hooks list matches (host.c hook_selected); false when none. */
bool lh_event_hook(struct lh_event *e, const char **name, size_t *n);
/* The subtree at off unpacked (off 0: the root, the stamp hidden), valid until the event
 * ends; NULL when it does not unpack. */
const msgpack_object *lh_event_obj(struct lh_event *e, size_t off);

/* ---- ev.c: the event view ---- */

void lh_view_open(lua_State *L);
/* Push the view of r->ev's root. */
void lh_push_event(lua_State *L, struct lh_rule *r);
/* Whether idx is a live view (raises an error for an expired one): *off is the value it
 * stands for, 0 for the event itself. */
bool lh_view_at(lua_State *L, int idx, size_t *off);
/* One step of a path under o: a map key, or a 0-based index into an array. */
const msgpack_object *lh_obj_child(const msgpack_object *o, const char *seg, size_t n);
/* A dotted path under o ("process.binary", "args.0.string_arg"); NULL when absent. */
const msgpack_object *lh_obj_find(const msgpack_object *o, const char *path, size_t len);
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
	struct lh_event *ev;		/* the current event, or a view of its root */
	const msgpack_object *obj;	/* a nested view (a process map, say), unpacked */
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
/* The earliest every() timer of the enabled rules (lh_clock), UINT64_MAX for none. */
uint64_t lh_timers_next(struct vigil_luahost *h);
/* Wake the rules thread to look at its timers again (a reload brought new ones). */
void lh_queue_kick(struct vigil_luahost *h);
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
