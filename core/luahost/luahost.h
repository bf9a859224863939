/* luahost.h - Lua correlation rules: stateful detection after the kernel, and actions back
 * into it.
 *
 * Every *.lua file of the rules directory is one rule, run in its own Lua 5.4 state: a
 * sandbox without os, io, debug, package or bytecode loading, whose allocator enforces a
 * memory cap and whose count hook enforces an instruction budget per call. A rule file
 * returns a table {name, desc, priority, tags, output, events, on_event}; the host calls
 * on_event(ev) for the event types (and hooks) the rule listed, with ev a lazy view of the
 * bus message that reads its msgpack bytes only where the rule looks. Rules
 * raise alerts (alert{...}), act (kill(pid, sig), deny(list, value)) and set timers
 * (every(seconds, fn)); alerts, actions and the disabling of a broken rule are events of
 * their own (VIGIL_EVENT_ALERT, _RULE_ACTION, _RULE_STATUS) handed to the emit callback.
 * lua/README.md documents the rule API.
 *
 * Every call into a rule is bounded: an instruction budget (the count hook, which a
 * watchdog thread arms in a call that has run for 2 ms, and C functions that can run long on
 * one instruction - string.rep, the pattern functions, table.move and table.sort, load -
 * charge what they will cost before they run, and refuse what the budget cannot pay), and a
 * wall-clock deadline, checked in the count hook and enforced by the watchdog, which forces
 * the hook on the next VM instruction of a call that overran.
 * A rule that runs out of either is disabled with a rule_status event saying why.
 *
 * Thread model: one lock is held while rules run (an event, a tick, or a reload swapping
 * rules in), another, held only briefly, guards what listing reads. Events reach the rules
 * in one of two ways. vigil_luahost__event and vigil_luahost__tick run the rules on the
 * caller's thread. The agent instead starts the rules thread (vigil_luahost__start) and
 * posts each wanted event's msgpack bytes (vigil_luahost__post): a copy goes into a bounded
 * queue and the caller returns at once, whatever a rule is doing; a full queue drops the
 * event and counts it against every rule that wanted it. The rules thread runs the queued
 * events and the timers. The control thread lists and reloads. A reload compiles and runs
 * the changed files outside the locks and swaps them in between two events. The callbacks
 * below (emit, process, process_by_pid, deny, kill) are called with the run lock held, from
 * the thread that runs the rules (the rules thread once started; emit also from the control
 * thread while a file's top level runs, where actions and lookups are refused): they must
 * not call back into the host, and with the rules thread they run concurrently with the
 * poster.
 */
#ifndef VIGIL_LUAHOST_H
#define VIGIL_LUAHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../encode/encode.h"
#include "../events/events.h"

/* Falco's priority levels, most severe first. */
enum vigil_rule_priority {
	VIGIL_PRIO_EMERGENCY,
	VIGIL_PRIO_ALERT,
	VIGIL_PRIO_CRITICAL,
	VIGIL_PRIO_ERROR,
	VIGIL_PRIO_WARNING,
	VIGIL_PRIO_NOTICE,
	VIGIL_PRIO_INFORMATIONAL,
	VIGIL_PRIO_DEBUG,
	VIGIL_PRIO_COUNT,
};

/* "emergency" ... "debug"; NULL past the enum. */
VIGIL_API const char *vigil_rule_priority_name(enum vigil_rule_priority p);
/* Parse a level, case-insensitive; "info" is accepted for "informational". 0 or -EINVAL. */
VIGIL_API int vigil_rule_priority_parse(const char *s, enum vigil_rule_priority *out);

#define VIGIL_LUAHOST_DEFAULT_MEM (32u << 20)		/* bytes per rule state */
#define VIGIL_LUAHOST_DEFAULT_BUDGET 2000000ULL		/* Lua instructions per call (~10-20 ms) */
#define VIGIL_LUAHOST_DEFAULT_DEADLINE_MS 50u		/* wall clock per call */
#define VIGIL_LUAHOST_DEFAULT_QUEUE 4096u		/* events waiting for the rules thread */
#define VIGIL_LUAHOST_DEFAULT_DENY_RATE 10		/* deny() calls per rule per minute */
/* The rules thread looks at its queue and timers by itself this often, woken or not: what a
 * poster holds (vigil_luahost__post_held) waits at most about this long unwoken. */
#define VIGIL_LUAHOST_TICK_NS 20000000ULL

/* What a rule's deny() asks of the agent: everything borrowed for the call. */
struct vigil_deny_request {
	const char *rule;
	const char *list;
	const char *value;
	/* The evidence: the process of the event the rule names (NULL when neither the cache
	 * nor the event knows it), that event's type key and time (NULL when unknown). */
	const struct vigil_process *process;
	const char *evidence;
	const char *evidence_time;
};

/* The agent's answer, reported in the rule_action event. */
struct vigil_deny_outcome {
	char reason[256];		/* why it was refused, or a note on what was done; "" */
	uint64_t expires;		/* wall-clock ns when the value leaves the list; 0 never */
	bool has_file;			/* a files list took the evidence process's binary: */
	struct vigil_file_id file;	/* this file */
};

struct vigil_luahost_opts {
	size_t sz;			/* sizeof(struct vigil_luahost_opts) */
	const char *rules_dir;		/* every *.lua in it (not recursive); NULL: no rules */
	const char *node_name;		/* in emitted events; borrowed */
	size_t mem_limit;		/* 0: VIGIL_LUAHOST_DEFAULT_MEM */
	uint64_t budget;		/* 0: VIGIL_LUAHOST_DEFAULT_BUDGET */
	/* The clock of now(), windows and timers, in ns; NULL: CLOCK_MONOTONIC. */
	uint64_t (*clock)(void *ctx);
	/* Alerts, actions and rule status events; ev and everything it points to are borrowed
	 * for the call. NULL: dropped. */
	void (*emit)(void *ctx, const struct vigil_event *ev);
	/* The agent's process cache: by exec_id, and the live process with a pid. The result is
	 * borrowed until the callback returns to Lua; the host holds at most two at a time (a
	 * process and its parent), so an answer that is a copy may be reused two lookups
	 * later. NULL: nothing is found. */
	const struct vigil_process *(*process)(void *ctx, const char *exec_id);
	const struct vigil_process *(*process_by_pid)(void *ctx, uint32_t pid);
	/* deny(): add the value to the kernel list, or refuse (out->reason says why). Returns
	 * the number of kernel maps updated or -errno. NULL: deny() fails with ENOTSUP. */
	int (*deny)(void *ctx, const struct vigil_deny_request *req, struct vigil_deny_outcome *out);
	/* deny() calls a rule may make per minute, beyond which they fail with EBUSY and are
	 * counted (denies_limited); 0: VIGIL_LUAHOST_DEFAULT_DENY_RATE. */
	uint32_t deny_rate;
	/* kill(): 0 or -errno. NULL: the host signals through a pidfd (pidfd_open, then
	 * pidfd_send_signal) after checking that the process holding pid still started when
	 * the target did (start_ktime: the exec_id's ktime, CLOCK_BOOTTIME ns, or 0 when
	 * unknown); a pid reused by another process is -ESRCH. */
	int (*kill)(void *ctx, int pid, int sig);
	void *ctx;
	unsigned int deadline_ms;	/* 0: VIGIL_LUAHOST_DEFAULT_DEADLINE_MS */
	size_t queue_len;		/* events the rules thread may lag by; 0: VIGIL_LUAHOST_DEFAULT_QUEUE */
	/* kill() only reports: its rule_action event says "monitor mode" and nothing is
	 * signalled (the agent's --default-policy-mode monitor) */
	bool monitor;
};

struct vigil_luahost;

/* A host with the rules of opts->rules_dir loaded; a file that fails to load is reported
 * (pr_warn, and vigil_luahost__list shows it as "refused") and skipped. Strings in opts are
 * borrowed and must outlive the host. NULL + errno (ENOENT: the directory is missing). */
VIGIL_API struct vigil_luahost *vigil_luahost__new(const struct vigil_luahost_opts *opts);
/* Close every rule state. Accepts NULL. */
VIGIL_API void vigil_luahost__free(struct vigil_luahost *h);

/* Whether any enabled rule listed this event type: the caller decodes an event only then.
 * Lock-free. */
VIGIL_API bool vigil_luahost__wants(struct vigil_luahost *h, enum vigil_event_type type);
/* The same for a policy event of the hook named hook (the tracepoint's event, the kprobe's
 * or LSM hook's function, the uprobe's symbol; NULL: unnamed): false when every rule that
 * wants its type lists hooks (`hooks`) and none lists this one, so the caller posts only
 * what some rule can get. For other types, vigil_luahost__wants. Lock-free. */
VIGIL_API bool vigil_luahost__wants_hook(struct vigil_luahost *h, enum vigil_event_type type, const char *hook);
/* Call on_event(ev) of every enabled rule that listed the event's type (and, for a policy
 * event, its hook when the rule lists hooks), in file order. m is borrowed for the call;
 * views of it that a rule keeps expire when it returns. A rule that errs, runs out of
 * instructions or memory is disabled and a rule_status event emitted. Returns the number of
 * rules called. */
VIGIL_API int vigil_luahost__event(struct vigil_luahost *h, const struct vigil_msg *m);
/* The same for one event's msgpack bytes as vigil_encode_msgpack wrote them (what
 * vigil_luahost__post queues and the rules thread runs): nothing is decoded up front, the
 * rules' views read the bytes where they look, and bytes that do not read are absent
 * values, never read past len. data is borrowed for the call. Returns the number of rules
 * called, or -EBADMSG when the root is not a map whose first entry is an event's body. */
VIGIL_API int vigil_luahost__event_raw(struct vigil_luahost *h, const void *data, size_t len);
/* Run the timers that are due. Call often (the agent does after every reader poll). */
VIGIL_API void vigil_luahost__tick(struct vigil_luahost *h);

/* Start the rules thread: from now on events go through vigil_luahost__post, and the thread
 * runs the timers itself (do not call __event or __tick any more). vigil_luahost__free stops
 * and joins it. 0 or -errno (-EALREADY when started). */
VIGIL_API int vigil_luahost__start(struct vigil_luahost *h);
/* Queue a copy of one event's msgpack bytes (as vigil_msg__decode reads them) for the rules
 * thread; never blocks on a rule. type is the event's type (vigil_luahost__wants was true
 * for it). 0, -EAGAIN when the queue is full (the event is dropped and counted against the
 * rules that wanted it), -ENOMEM, -EINVAL when the thread is not started. Safe from one
 * posting thread at a time. */
VIGIL_API int vigil_luahost__post(struct vigil_luahost *h, enum vigil_event_type type, const void *data,
				  size_t len);
/* The same, but the rules thread is not woken for it (unless many wait): a poster that
 * posts a batch (the agent's reader, per drain of the ring buffer) wakes it once, after,
 * with vigil_luahost__wake. A wake-up per event cost the rules thread a switch per event. */
VIGIL_API int vigil_luahost__post_held(struct vigil_luahost *h, enum vigil_event_type type, const void *data,
				       size_t len);
/* Wake the rules thread for what was posted held, once the first of it has waited hold_ns
 * (0: now). A poster that comes back often (the reader, every 500 us to 2 ms while records
 * come) holds a steady stream up to VIGIL_LUAHOST_TICK_NS, which the rules thread then runs
 * at its own tick, with no wake-up by the poster at all. */
VIGIL_API void vigil_luahost__wake(struct vigil_luahost *h, uint64_t hold_ns);
/* Events dropped because the queue was full, in all. */
VIGIL_API uint64_t vigil_luahost__dropped(struct vigil_luahost *h);

/* ---- reloading ---- */

enum vigil_rule_outcome {
	VIGIL_RULE_LOADED,	/* a new file */
	VIGIL_RULE_REPLACED,	/* a changed file: a fresh state replaces the old one */
	VIGIL_RULE_UNCHANGED,	/* same bytes: the running state, timers and counters are kept */
	VIGIL_RULE_REMOVED,	/* the file is gone: its state is closed */
	VIGIL_RULE_REFUSED,	/* does not load: the previous version, if any, keeps running */
};

/* "loaded", "replaced", ... */
VIGIL_API const char *vigil_rule_outcome_name(enum vigil_rule_outcome o);

/* Where and why a file was refused: "file:line: reason" (line 0 when it has none). */
struct vigil_rule_error {
	char file[256];
	int line;
	char reason[512];
};

/* Called once per file. name is the rule's name (NULL when it never loaded); err is set
 * for VIGIL_RULE_REFUSED only. Everything is borrowed for the call. */
typedef void (*vigil_rule_reload_fn)(const char *file, const char *name, enum vigil_rule_outcome outcome,
				     const struct vigil_rule_error *err, void *ctx);

/* Read the rules directory again: new files load, changed ones replace their rule (a file
 * that fails keeps the previous version running), unchanged ones keep their state, and
 * rules whose file is gone are closed. A rule disabled at run time is reloaded even when its
 * file is unchanged: a reload re-arms it. fn may be NULL. Returns the number of refused files,
 * or -errno when the directory cannot be read (nothing changes then). */
VIGIL_API int vigil_luahost__reload(struct vigil_luahost *h, vigil_rule_reload_fn fn, void *ctx);

/* ---- listing ---- */

struct vigil_rule_status {
	const char *name;		/* the file name when the rule never loaded */
	const char *file;
	const char *desc;		/* "" when none */
	const char *state;		/* "enabled", "disabled" (at run time), "refused" (never loaded) */
	const char *reason;		/* why disabled or refused; NULL when enabled */
	const char *priority;
	const char *const *events;	/* the event keys the rule wants */
	size_t nevents;
	const char *const *tags;
	size_t ntags;
	uint64_t calls;			/* on_event and timer calls */
	uint64_t alerts;
	uint64_t actions;		/* kill and deny calls */
	uint64_t denies_limited;	/* deny calls refused by the per-rule rate limit */
	uint64_t errors;		/* calls that failed (each one disables the rule) */
	uint64_t time_ns;		/* wall time spent in calls */
	uint64_t dropped;		/* wanted events the full queue dropped while the rule was enabled */
	size_t memory;			/* bytes the rule state holds now */
	size_t timers;
};

/* Call fn for every rule, then for every refused file, under the host lock (do not call
 * back into h). It never waits for a rule's call: counters are those published when the
 * rules last finished an event or a tick. */
typedef void (*vigil_rule_status_fn)(const struct vigil_rule_status *st, void *ctx);
VIGIL_API void vigil_luahost__list(struct vigil_luahost *h, vigil_rule_status_fn fn, void *ctx);
/* Enabled rules. */
VIGIL_API size_t vigil_luahost__count(struct vigil_luahost *h);

#endif
