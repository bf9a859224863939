/* luahost.h - Lua correlation rules: stateful detection after the kernel, and actions back
 * into it.
 *
 * Every *.lua file of the rules directory is one rule, run in its own Lua 5.4 state: a
 * sandbox without os, io, debug, package or bytecode loading, whose allocator enforces a
 * memory cap and whose count hook enforces an instruction budget per call. A rule file
 * returns a table {name, desc, priority, tags, output, events, on_event}; the host calls
 * on_event(ev) for the event types the rule listed, with ev a lazy view of the decoded bus
 * message (struct vigil_msg) that reads the msgpack tree only where the rule looks. Rules
 * raise alerts (alert{...}), act (kill(pid, sig), deny(list, value)) and set timers
 * (every(seconds, fn)); alerts, actions and the disabling of a broken rule are events of
 * their own (VIGIL_EVENT_ALERT, _RULE_ACTION, _RULE_STATUS) handed to the emit callback.
 * lua/README.md documents the rule API.
 *
 * Thread model: one lock. The agent's reader thread hands events and ticks; the control
 * thread lists and reloads. A reload compiles and runs the changed files outside the lock
 * and swaps them in under it, so events keep flowing; the callbacks below (emit, process,
 * deny, kill) are only ever called from vigil_luahost__event and vigil_luahost__tick, on
 * the caller's thread, with the lock held: they must not call back into the host.
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
#define VIGIL_LUAHOST_DEFAULT_DENY_RATE 10		/* deny() calls per rule per minute */

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
	 * borrowed until the callback returns to Lua. NULL: nothing is found. */
	const struct vigil_process *(*process)(void *ctx, const char *exec_id);
	const struct vigil_process *(*process_by_pid)(void *ctx, uint32_t pid);
	/* deny(): add the value to the kernel list, or refuse (out->reason says why). Returns
	 * the number of kernel maps updated or -errno. NULL: deny() fails with ENOTSUP. */
	int (*deny)(void *ctx, const struct vigil_deny_request *req, struct vigil_deny_outcome *out);
	/* deny() calls a rule may make per minute, beyond which they fail with EBUSY and are
	 * counted (denies_limited); 0: VIGIL_LUAHOST_DEFAULT_DENY_RATE. */
	uint32_t deny_rate;
	/* kill(): 0 or -errno. NULL: kill(2). */
	int (*kill)(void *ctx, int pid, int sig);
	void *ctx;
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
/* Call on_event(ev) of every enabled rule that listed the event's type, in file order. m is
 * borrowed for the call; views of it that a rule keeps expire when it returns. A rule that
 * errs, runs out of instructions or memory is disabled and a rule_status event emitted.
 * Returns the number of rules called. */
VIGIL_API int vigil_luahost__event(struct vigil_luahost *h, const struct vigil_msg *m);
/* Run the timers that are due. Call often (the agent does after every reader poll). */
VIGIL_API void vigil_luahost__tick(struct vigil_luahost *h);

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
	size_t memory;			/* bytes the rule state holds now */
	size_t timers;
};

/* Call fn for every rule, then for every refused file, under the host lock (do not call
 * back into h). */
typedef void (*vigil_rule_status_fn)(const struct vigil_rule_status *st, void *ctx);
VIGIL_API void vigil_luahost__list(struct vigil_luahost *h, vigil_rule_status_fn fn, void *ctx);
/* Enabled rules. */
VIGIL_API size_t vigil_luahost__count(struct vigil_luahost *h);

#endif
