/* events.h - vigil's event model: what the kernel reported, enriched with process context.
 *
 * One model, three encodings (core/encode): Tetragon's protojson export format, the compact
 * line of `tetra getevents -o compact`, and msgpack carrying the JSON tree key for key.
 */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/common.h"
#include "../containers/containers.h"

/* Event types; values are Tetragon's EventType numbers so filters and plugins agree. */
enum vigil_event_type {
	VIGIL_EVENT_EXEC = 1,
	VIGIL_EVENT_EXIT = 5,
	VIGIL_EVENT_KPROBE = 9,
	VIGIL_EVENT_TRACEPOINT = 10,
	VIGIL_EVENT_LOADER = 11,		/* "process_loader": spec.loader */
	VIGIL_EVENT_UPROBE = 12,
	VIGIL_EVENT_THROTTLE = 27,		/* "process_throttle": --cgroup-rate started/stopped */
	VIGIL_EVENT_LSM = 28,
	VIGIL_EVENT_USDT = 29,			/* "process_usdt": spec.usdts */
	/* vigil's own, raised by the Lua rules (core/luahost). Tetragon's enum ends at TEST
	 * (40000) and RATE_LIMIT_INFO (40001); 401xx stays clear of it and of its future
	 * process events, which it numbers from 1 up. */
	VIGIL_EVENT_ALERT = 40100,		/* "process_alert" */
	VIGIL_EVENT_RULE_ACTION = 40101,	/* "rule_action": a kill or deny a rule took */
	VIGIL_EVENT_RULE_STATUS = 40102,	/* "rule_status": a rule disabled at run time */
	/* raised by the agent's policy directory watch (core/agent/policy_dir.c) */
	VIGIL_EVENT_POLICY_STATUS = 40103,	/* "policy_status": a policy file loaded, replaced,
						 * unloaded or refused without a restart */
};

/* Process flags, rendered space-separated in this order as Tetragon names them. */
enum vigil_process_flag {
	VIGIL_PROC_EXECVE = 1u << 0,		/* "execve" */
	VIGIL_PROC_PROCFS = 1u << 1,		/* "procFS": found by the /proc scan at start */
	VIGIL_PROC_TRUNC_FILENAME = 1u << 2,	/* "truncFilename" */
	VIGIL_PROC_TRUNC_ARGS = 1u << 3,	/* "truncArgs" */
	VIGIL_PROC_MISS = 1u << 4,		/* "miss": built without its exec record */
	VIGIL_PROC_ERROR_FILENAME = 1u << 5,	/* "errorFilename" */
	VIGIL_PROC_ERROR_ARGS = 1u << 6,	/* "errorArgs" */
	VIGIL_PROC_ERROR_CWD = 1u << 7,		/* "errorCWD" */
	VIGIL_PROC_ROOTCWD = 1u << 8,		/* "rootcwd": cwd is "/" */
	VIGIL_PROC_CLONE = 1u << 9,		/* "clone": created by fork; on exec: first exec after fork */
	VIGIL_PROC_UNKNOWN = 1u << 10,		/* "unknown": nothing known but the pid */
	/* vigil's own, for events the process cache could not fully resolve (core/pcache): */
	VIGIL_PROC_UNCACHED = 1u << 11,		/* "uncached": cache full, nothing evictable: only what
						 * the exec record carried; later events say "unknown" */
	VIGIL_PROC_NOPARENT = 1u << 12,		/* "noParent": the parent was not in the cache (never
						 * seen, or evicted): no `parent`; parent_exec_id stands */
	VIGIL_PROC_TRUNC_ENV = 1u << 13,	/* "truncEnvs": the environment was cut in the kernel */
	VIGIL_PROC_ERROR_ENV = 1u << 14,	/* "errorEnvs" (Tetragon's): it could not be read */
};

/* Namespaces in the order Tetragon's Namespaces message lists them. */
enum vigil_ns_kind {
	VIGIL_NS_UTS,
	VIGIL_NS_IPC,
	VIGIL_NS_MNT,
	VIGIL_NS_PID,
	VIGIL_NS_PID_FOR_CHILDREN,
	VIGIL_NS_NET,
	VIGIL_NS_TIME,
	VIGIL_NS_TIME_FOR_CHILDREN,
	VIGIL_NS_CGROUP,
	VIGIL_NS_USER,
	VIGIL_NS_COUNT,
};

struct vigil_creds {
	uint32_t uid, gid, euid, egid, suid, sgid, fsuid, fsgid;
};

/* The rest of a process's credentials, known from an exec record (not the /proc scan). */
struct vigil_cred_extra {
	bool known;
	uint32_t securebits;		/* SECBIT_* bits */
	uint32_t userns_level;		/* 0: the initial user namespace */
	uint32_t userns_owner, userns_group;
};

struct vigil_caps {
	uint64_t permitted, effective, inheritable;	/* bit n = capability n (CAP_CHOWN = 0) */
};

/* exec_id is base64("node:ktime:pid"); node names are limited to 64 bytes (HOST_NAME_MAX). */
#define VIGIL_EXEC_ID_MAX 128

/* A process incarnation: one exec (or one fork without exec). Owned by the process cache
 * (core/pcache); events borrow it for as long as the cache keeps it. */
/* The file a process executed, as the kernel opened it: what a "files" list denies. */
struct vigil_file_id {
	uint32_t dev;			/* kernel encoding (major << 20 | minor); 0 = unknown */
	uint32_t uid;			/* owner */
	uint64_t ino;
	uint32_t mode;			/* i_mode: type and permission bits */
	uint32_t nlink;
};

/* The kernel's dev_t encoding from user space's (stat's st_dev), and back. */
VIGIL_API uint32_t vigil_dev_to_kernel(uint64_t st_dev);
VIGIL_API uint64_t vigil_dev_from_kernel(uint32_t kdev);

struct vigil_process {
	/* Ordered so that no field leaves a hole: the cache holds one per process (30,000 on a
	 * busy host), and a cache entry is one malloc chunk (tests/unit/test_pcache.c checks it). */
	uint32_t pid;			/* host tgid */
	uint32_t tid;
	uint64_t ktime;			/* boot-time ns of the exec/clone: part of exec_id */
	uint32_t ppid;			/* parent's tgid and ktime: the parent's key */
	uint32_t flags;			/* enum vigil_process_flag */
	uint64_t pktime;
	/* The strings are owned, never NULL, and set with vigil_process__set_str: a cached
	 * process shares them, counted (a fork its parent's, parent_exec_id the parent's
	 * exec_id), so a copy of the struct must copy the strings it keeps. */
	char *exec_id;			/* at most VIGIL_EXEC_ID_MAX bytes with its NUL */
	char *parent_exec_id;		/* "" when the parent is unknown */
	char *binary;			/* owned, never NULL ("" when unknown) */
	char *arguments;		/* owned, never NULL: argv[1..] space-joined, quoted where needed */
	char *cwd;			/* owned, never NULL */
	/* the container it runs in, "" on the host: at most VIGIL_CONTAINER_ID_MAX bytes with
	 * its NUL; owned and shared like the strings above */
	char *container_id;
	uint64_t start_time;		/* wall-clock ns */
	uint32_t auid;			/* 4294967295 when unset */
	struct vigil_creds creds;
	struct vigil_cred_extra cred_extra;	/* securebits, user namespace (--enable-process-cred) */
	struct vigil_caps caps;
	uint32_t ns[VIGIL_NS_COUNT];	/* inode numbers, 0 = unknown */
	uint32_t ns_host_mask;		/* bit k set: ns[k] equals the host's (pid 1's) namespace */
	uint32_t refcnt;		/* the cache's reference count, reported as Tetragon does */
	uint64_t cgroup_id;		/* the cgroup v2 id at exec; 0 when unknown (/proc scan) */
	struct vigil_file_id file;	/* the binary's identity; file.dev 0 when unknown */
	/* Tetragon's in_init_tree, for processes in a pid namespace other than the host's: the
	 * namespace's init, or a descendant of it through forks and execs that stayed in that
	 * namespace (not a process that entered it by setns, as `kubectl exec` does) */
	bool in_init_tree;
};

/* ---- policy events: what a hook of a TracingPolicy reported ---- */

#define VIGIL_EVENT_MAX_ARGS 5

/* What an event needs to know about the hook that produced it. Owned by the agent's
 * sensor table, which keeps it after its policy is deleted until the reader has drained
 * the ring buffer past the deletion (records of a deleted policy may still be in flight):
 * see vigil_sensors__reap. */
/* A GetUrl or DnsLookup action of a hook's selector: the agent makes the request when that
 * selector matched (core/canary). */
struct vigil_hook_canary {
	uint32_t selector;
	int kind;			/* enum vigil_canary_kind: 0 GetUrl, 1 DnsLookup */
	const char *target;		/* argUrl / argFqdn, borrowed from the policy */
};

struct vigil_hook_info {
	uint32_t id;
	enum vigil_event_type type;	/* KPROBE, TRACEPOINT, LSM or UPROBE */
	const char *policy_name;
	const char *function_name;	/* kprobe: "__x64_sys_setns", "security_file_open"; lsm: "file_open" */
	bool per_syscall;		/* one hook for every syscall (generated_syscalls): each event
					 * names its own, policy.function_name */
	const char *subsys;		/* tracepoints */
	const char *event;
	const char *path;		/* uprobes */
	const char *symbol;
	const char *message;		/* NULL when none */
	const char *const *tags;
	size_t ntags;
	size_t nargs;
	struct {
		int type;		/* enum vigil_arg_type (core/policy/policy.h) */
		const char *label;	/* NULL when none */
		bool data;		/* from the hook's `data`: the event's data field, not args */
	} args[VIGIL_EVENT_MAX_ARGS];
	int return_type;		/* return probes: returnArg's type; 0 (nop) otherwise */
	const char *const *selector_labels;	/* per selector, NULL where it has no `label` */
	size_t nselectors;
	const struct vigil_hook_canary *canaries;	/* every selector's, in order */
	size_t ncanaries;
	/* The count of its policy's events (core/sensors, shown by `tp list`): the reader adds
	 * each event of this hook with __atomic_fetch_add, no lock; NULL: not counted. */
	uint64_t *events;
};

enum vigil_event_arg_flag {
	VIGIL_ARG_TRUNCATED = 1u << 0,	/* the value was cut (long string, deep path) */
	VIGIL_ARG_ERROR = 1u << 1,	/* the kernel could not read it */
};

struct vigil_sock_info {
	uint16_t family, type, protocol, state;
	uint32_t mark, priority;
	uint8_t saddr[16], daddr[16];	/* IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	uint64_t cookie;
};

/* What an skb has beyond its addresses, ports, protocol, mark and priority (those are in
 * the arg's sock, type and state 0). */
struct vigil_skb_info {
	uint32_t hash, len;
	uint32_t secpath_len, secpath_olen;
};

struct vigil_sockaddr_info {
	uint16_t family;
	uint16_t port;
	uint8_t addr[16];
	const char *path;		/* AF_UNIX, borrowed */
};

/* A kernel object an argument names (bpf_attr, bpf_prog, bpf_map, perf_event,
 * user_namespace, module, load_info): which fields mean something follows the type. */
struct vigil_kobj_info {
	uint32_t type;			/* bpf prog type, bpf map type, perf event type */
	uint32_t insn_cnt;
	uint32_t key_size, value_size, max_entries;
	int32_t level;			/* user namespace nesting, 0 for the host's */
	uint32_t uid, gid, inum;
	int sig_ok;			/* load_info: 1 / 0; -1 where the kernel does not say */
	uint64_t config, probe_offset;
	uint64_t taints;
	const char *name;		/* borrowed, name_len bytes, not NUL-terminated */
	size_t name_len;
};

/* One argument of a policy event, decoded. Pointers borrow the kernel record: valid only
 * while the event is being dispatched. Which member holds the value follows `type`. */
struct vigil_event_arg {
	int type;			/* enum vigil_arg_type */
	const char *label;
	uint32_t flags;			/* enum vigil_event_arg_flag */
	uint64_t value;			/* integers (sign-extended for signed types), caps, syscall ids */
	const char *bytes;		/* strings, buffers, paths */
	size_t len;
	size_t orig_len;		/* buffers the kernel knew the size of: that size (>= len), else 0 */
	uint32_t mode;			/* files and paths: i_mode (type and permission bits) */
	uint32_t file_flags;
	struct vigil_sock_info sock;	/* sock, socket; skb: its IP/TCP/UDP headers */
	struct vigil_skb_info skb;
	struct vigil_sockaddr_info sockaddr;
	struct vigil_creds creds;	/* cred */
	struct vigil_caps cred_caps;
	struct vigil_kobj_info kobj;	/* the kernel object types */
};

/* KprobeAction values (Tetragon's enum), reported as "KPROBE_ACTION_<NAME>". */
enum vigil_event_action {
	VIGIL_EVENT_ACTION_UNKNOWN = 0,
	VIGIL_EVENT_ACTION_POST = 1,
	VIGIL_EVENT_ACTION_SIGKILL = 3,
	VIGIL_EVENT_ACTION_OVERRIDE = 5,
	VIGIL_EVENT_ACTION_GETURL = 7,
	VIGIL_EVENT_ACTION_DNSLOOKUP = 8,
	VIGIL_EVENT_ACTION_NOPOST = 9,
	VIGIL_EVENT_ACTION_SIGNAL = 10,
	VIGIL_EVENT_ACTION_SET = 15,
};

/* "KPROBE_ACTION_POST" and so on. */
VIGIL_API const char *vigil_event_action_name(enum vigil_event_action a);

/* One frame of a stack trace (Tetragon's StackTraceEntry). */
struct vigil_stack_frame {
	uint64_t address;
	uint64_t offset;	/* from the symbol's start; without a symbol, from the file's start */
	const char *symbol;	/* NULL when nothing names the address */
	const char *module;	/* kernel module name, or the path of the mapped file; NULL for the kernel */
};

/* A decoded event. Processes are borrowed from the process cache. */
struct vigil_event {
	enum vigil_event_type type;
	uint64_t time;			/* wall-clock ns when the kernel saw it */
	const char *node_name;		/* borrowed */
	const struct vigil_process *process;
	const struct vigil_process *parent;	/* NULL when unknown */
	/* Optional process fields, set by the agent when asked (--enable-ancestors,
	 * --username-metadata) and written by the encoder when set: the processes beyond the
	 * parent, nearest first (Tetragon's ancestors), and the user name of a process's uid
	 * (NULL when it has none to give). */
	const struct vigil_process *const *ancestors;
	size_t nancestors;
	const char *(*user_name)(void *ctx, const struct vigil_process *p);
	void *user_ctx;
	bool binary_properties;		/* exec: the process's binary_properties (--enable-process-cred) */
	/* a process's arguments as they may leave the agent (--redaction-filters); NULL: as they are */
	const char *(*arguments)(void *ctx, const struct vigil_process *p);
	/* exec: the environment as NUL-terminated "KEY=VALUE" strings back to back, borrowed
	 * (--enable-process-environment-variables; the agent filters and redacts it before
	 * encoding); NULL when not captured */
	const char *env;
	size_t env_len;
	/* the pods process and parent run in (core/containers), NULL when none is known */
	const struct vigil_pod *pod;
	const struct vigil_pod *parent_pod;
	union {
		struct {
			uint32_t status;	/* exit code (the value passed to exit()) */
			int32_t signal;		/* terminating signal number, 0 when none */
		} exit;
		struct {
			const struct vigil_hook_info *hook;
			enum vigil_event_action action;	/* the strongest action taken */
			bool monitored;		/* policy in monitor mode: `action` would have been taken */
			uint32_t selector;	/* index of the selector that matched in its hook */
			bool has_return;	/* return probes: ret holds the value returned */
			struct vigil_event_arg ret;
			enum vigil_event_action return_action;
			int32_t override_err;	/* Override: the errno the operation failed with */
			/* the function this event ran in where the hook covers many (per_syscall):
			 * "__x64_sys_kill"; NULL: the hook's. Borrowed until the next record */
			const char *function_name;
			size_t nargs;
			struct vigil_event_arg args[VIGIL_EVENT_MAX_ARGS];
			/* kernelStackTrace / userStackTrace, innermost first; borrowed until the
			 * next record */
			const struct vigil_stack_frame *kernel_stack;
			size_t nkernel_stack;
			const struct vigil_stack_frame *user_stack;
			size_t nuser_stack;
			/* imaHash: "sha256:<hex>" as Tetragon writes it; NULL when the event has
			 * none. Borrowed until the next record */
			const char *ima_hash;
		} policy;	/* KPROBE, TRACEPOINT, LSM, UPROBE */
		struct {
			const char *path;	/* the file mapped executable (or exec'd); borrowed */
			const uint8_t *build_id;	/* its GNU build id, NULL when it has none */
			size_t build_id_len;
		} loader;	/* LOADER */
		/* Rule events: strings are borrowed for the dispatch. process is the process of
		 * the triggering event (ALERT, RULE_ACTION deny), the target (RULE_ACTION kill), or
		 * NULL (an alert from a timer, RULE_STATUS). */
		struct {
			const char *rule;
			const char *priority;		/* Falco's level name */
			const char *output;		/* the rule's output template, rendered */
			const char *const *tags;
			size_t ntags;
			const char *const *exec_ids;	/* the triggering events' processes */
			size_t nexec_ids;
		} alert;	/* ALERT */
		struct {
			const char *rule;		/* the rule, or "operator" for the CLI */
			const char *action;		/* "kill", "deny"; the operator's "add_value",
							 * "remove_value"; "expire" when a TTL ran out */
			int32_t pid;			/* kill: target and signal number */
			int32_t signal;
			const char *list;		/* deny: the kernel list and the value added */
			const char *value;
			const struct vigil_file_id *file;	/* a files list: the file denied */
			uint32_t maps;			/* deny: kernel maps updated */
			int32_t error;			/* 0, or the errno the action failed with */
			const char *reason;		/* why it was refused or done; NULL when none */
			const uint32_t *cause_uid;	/* the user whose process caused it; NULL unknown */
			uint64_t expires;		/* wall-clock ns when the value leaves the list; 0 never */
			const char *evidence;		/* the triggering event's type key, NULL none */
			const char *evidence_time;	/* and its time, as that event printed it */
			const char *const *exec_ids;
			size_t nexec_ids;
		} rule_action;	/* RULE_ACTION */
		struct {
			const char *rule;
			const char *file;
			const char *state;		/* "disabled"; "refused": a file the rules
							 * directory's watch could not load */
			const char *reason;
		} rule_status;	/* RULE_STATUS */
		struct {
			const char *policy;		/* the policy's name; the file's when it never parsed */
			const char *file;
			const char *state;		/* "loaded", "replaced", "unloaded", "refused" */
			const char *reason;		/* refused: "file:line:column: why"; else NULL */
		} policy_status;	/* POLICY_STATUS */
		struct {
			int32_t type;			/* Tetragon's ThrottleType: 1 START, 2 STOP */
			uint64_t cgroup_id;
			const char *cgroup;		/* the cgroup's path, or its id in decimal */
		} throttle;	/* THROTTLE (no process) */
	};
};

/* "PROCESS_EXEC" for VIGIL_EVENT_EXEC and so on (Tetragon's enum names); NULL if unknown. */
VIGIL_API const char *vigil_event_type_name(enum vigil_event_type type);
/* "process_exec" and so on: the JSON key of the event; NULL if unknown. */
VIGIL_API const char *vigil_event_type_key(enum vigil_event_type type);
/* Parse either spelling ("exec", "process_exec", "PROCESS_EXEC"). Returns 0 or -EINVAL. */
VIGIL_API int vigil_event_type_parse(const char *s, enum vigil_event_type *out);

/* "SIGKILL" for 9 and so on; NULL for unknown numbers. */
VIGIL_API const char *vigil_signal_name(int sig);
/* "CAP_CHOWN" for 0 and so on; NULL past the last known capability. */
VIGIL_API const char *vigil_cap_name(unsigned int cap);
/* "uts", "ipc", ... as JSON keys of the ns object. */
VIGIL_API const char *vigil_ns_name(enum vigil_ns_kind kind);

/* Render flags space-separated into out (size bytes). Returns the length written. */
VIGIL_API size_t vigil_process_flags_format(uint32_t flags, char *out, size_t size);

#endif
