/* process.h - the process lifecycle records and map values both sides compile.
 *
 * Written by bpf/process.bpf.c, decoded by core/decode/decode.c. Fixed-width types and
 * fixed-size arrays only; every record opens with struct vigil_msg_hdr and the reader
 * checks hdr.size against the size it expects before decoding.
 */
#ifndef VIGIL_BPF_PROCESS_H
#define VIGIL_BPF_PROCESS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Path and argument limits. A path is assembled right to left in a scratch buffer of
 * VIGIL_PATH_MAX + VIGIL_NAME_MAX bytes; offsets are masked with VIGIL_PATH_MAX - 1 so the
 * verifier can bound every write, which is why the sizes are powers of two. */
#define VIGIL_PATH_MAX 4096
#define VIGIL_NAME_MAX 256
#define VIGIL_ARGS_MAX 4096
#define VIGIL_PATH_DEPTH 64		/* components walked before a path is marked truncated */
/* binary | cwd | args | env, each shorter than its limit; masked offsets stay inside. */
#define VIGIL_DATA_MAX (4 * 4096)
#define VIGIL_BINARY_KEY 256		/* binary prefix kept in the exec map for selectors */
#define VIGIL_ENV_MAX 4096		/* environment bytes an exec record can carry */

enum vigil_msg_op {
	VIGIL_OP_EXEC = 1,
	VIGIL_OP_CLONE = 2,
	VIGIL_OP_EXIT = 3,
	VIGIL_OP_GENERIC = 4,		/* a policy hook fired: bpf/generic.h */
	VIGIL_OP_GENERIC_CHUNK = 5,	/* a maxData argument's bytes, before its record: bpf/generic.h */
	VIGIL_OP_THROTTLE = 6,		/* a cgroup went over --cgroup-rate: struct vigil_throttle_record */
	VIGIL_OP_LOADER = 7,		/* an executable file mapped: bpf/loader.h */
};

/* Kernel-side counters, one slot per reason in the per-CPU vg_errors map. */
enum vigil_kerr {
	VIGIL_KERR_RINGBUF_FULL,	/* bpf_ringbuf_output failed: event lost */
	VIGIL_KERR_EXECS_FULL,		/* vg_execs update failed: later matches may miss */
	VIGIL_KERR_PATH_READ,		/* a path could not be read */
	VIGIL_KERR_ARGS_READ,		/* the argument area could not be read */
	VIGIL_KERR_PENDING_FULL,	/* a return probe's call could not be kept: no event for it */
	VIGIL_KERR_RINGBUF_FULL_EXEC,	/* of RINGBUF_FULL, the exec records: execs seen = exec
					 * records read + these, exactly */
	VIGIL_KERR_SIGNAL_FAILED,	/* bpf_send_signal refused (an exiting task, a kernel
					 * thread): the event does not claim the action */
	VIGIL_KERR_STACK_NO_ROOM,	/* arguments filled the record: posted without its stacks */
	VIGIL_KERR_ENV_TRUNCATED,	/* exec: the environment was cut to --process-environment-max */
	VIGIL_KERR_THROTTLED_EXEC,	/* exec records not sent: the cgroup is over --cgroup-rate */
	VIGIL_KERR_THROTTLED_EXIT,	/* exit records of those execs (and clones), not sent either */
	VIGIL_KERR_THROTTLED_CLONE,	/* clone records not sent: the cgroup is over --cgroup-rate */
	VIGIL_KERR_SET_FAILED,		/* Set could not write the USDT argument: the event does not
					 * claim the action */
	VIGIL_KERR_IMA_HASH_FAILED,	/* imaHash: bpf_ima_file_hash failed (or no room left for
					 * it): posted without ima_hash */
	VIGIL_KERR_MAX,
};

/* Flags the kernel sets on a record (user space adds procFS, rootcwd, ...). */
enum vigil_kflag {
	VIGIL_KF_EXECVE = 1u << 0,
	VIGIL_KF_CLONE = 1u << 1,		/* exec: the first since fork; clone: a fork */
	VIGIL_KF_TRUNC_FILENAME = 1u << 2,
	VIGIL_KF_TRUNC_ARGS = 1u << 3,
	VIGIL_KF_ERROR_FILENAME = 1u << 4,
	VIGIL_KF_ERROR_ARGS = 1u << 5,
	VIGIL_KF_ERROR_CWD = 1u << 6,
	VIGIL_KF_MISS = 1u << 7,		/* fork/exit: the process was not in vg_execs */
	VIGIL_KF_PROCFS = 1u << 8,		/* entry seeded by the /proc scan */
	VIGIL_KF_NS_INIT = 1u << 9,		/* exec: the task is pid 1 of a pid namespace below the
						 * host's (a container's init): in_init_tree */
	VIGIL_KF_TRUNC_ENV = 1u << 10,		/* exec: the environment was cut (truncEnvs) */
	VIGIL_KF_ERROR_ENV = 1u << 11,		/* exec: the environment could not be read (errorEnvs) */
	VIGIL_KF_THROTTLED = 1u << 12,		/* vg_execs: this exec's (or clone's) record was throttled,
						 * so is its exit */
};

#define VIGIL_NS_SLOTS 10	/* uts ipc mnt pid pid_for_children net time time_for_children cgroup user */
#define VIGIL_NS_SLOT_USER 9	/* the slots follow enum vigil_ns_kind (core/events/events.h) */

/* Where each capability set sits in a caps[3] array (vg_execs entries, read_cred's output). */
enum vigil_caps_slot {
	VIGIL_CAPS_PERMITTED,
	VIGIL_CAPS_EFFECTIVE,
	VIGIL_CAPS_INHERITABLE,
	VIGIL_CAPS_SLOTS,
};

struct vigil_msg_hdr {
	__u16 op;			/* enum vigil_msg_op */
	__u16 pad;
	__u32 size;			/* bytes of the whole record, data included */
	__u64 ktime;			/* bpf_ktime_get_boot_ns() when it was written */
};

/* vg_wake value, one per CPU: when this CPU's records last woke the reader. The loader
 * writes bound_ns into every CPU's slot before any program runs. */
struct vigil_wake {
	__u64 pending;		/* records submitted without a wake-up since the last one */
	__u64 last_ns;		/* bpf_ktime_get_ns() of the last forced wake-up */
	__u64 bound_ns;		/* a record this long after the last wake-up wakes; 0: count only */
};

/* vg_execs value, keyed by tgid: the current incarnation of every known process. */
struct vigil_exec_entry {
	__u64 ktime;			/* the process's key (bpf/lib/task.h task_key): half of the exec_id */
	__u64 pktime;			/* the parent's ktime */
	__u32 ppid;
	__u32 flags;			/* enum vigil_kflag */
	__u32 binary_len;
	__u32 pad;
	char binary[VIGIL_BINARY_KEY];	/* path prefix, NUL-padded */
	/* namespaces and capabilities at exec, for matchNamespaceChanges/CapabilityChanges */
	__u32 ns[VIGIL_NS_SLOTS];
	__u64 caps[VIGIL_CAPS_SLOTS];	/* enum vigil_caps_slot order */
};

struct vigil_creds_raw {
	__u32 uid, gid, euid, egid, suid, sgid, fsuid, fsgid;
};

/* vg_scopes' key; written by core/agent/scopes.c. */
struct vigil_scope_key {
	__u64 cgroup_id;		/* bpf_get_current_cgroup_id(): the task's cgroup v2 id */
	__u32 scope;			/* the policy's scope (vg_hook_config.scope) */
	__u32 pad;
};

struct vigil_exec_record {
	struct vigil_msg_hdr hdr;	/* hdr.ktime is the exec time (the event's time) */
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 flags;			/* enum vigil_kflag */
	__u64 pktime;			/* the parent's key */
	struct vigil_creds_raw creds;
	__u32 auid;
	__u32 pad;
	__u64 cap_permitted;
	__u64 cap_effective;
	__u64 cap_inheritable;
	__u32 ns[VIGIL_NS_SLOTS];
	__u64 cgroup_id;
	/* the file executed (bprm->file): its identity for "files" lists, owner and mode */
	__u64 file_ino;
	__u32 file_dev;			/* i_sb->s_dev, kernel encoding (major << 20 | minor) */
	__u32 file_uid;
	__u32 file_mode;
	__u32 file_nlink;
	__u16 binary_len;		/* data = binary, then cwd, then args (NUL-separated) */
	__u16 cwd_len;
	__u16 args_len;
	__u16 env_len;			/* then the environment (NUL-separated), when captured */
	__u64 proc_ktime;		/* the process's key after this exec (task_key) */
	/* the rest of the credentials (Tetragon's --enable-process-cred): securebits, and the
	 * user namespace's nesting level, owner and group */
	__u32 securebits;
	__u32 userns_level;
	__u32 userns_owner;
	__u32 userns_group;
	char data[VIGIL_DATA_MAX];	/* only the used part is sent */
};

struct vigil_clone_record {
	struct vigil_msg_hdr hdr;	/* hdr.ktime is the fork time */
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 flags;
	__u64 pktime;			/* the parent's key */
	__u64 proc_ktime;		/* the child's key (task_key) */
};

/* A cgroup's process event rate reached --cgroup-rate on one CPU: its exec and clone records
 * (and their exits) are held back until user space sees the rate fall and clears the throttle. */
struct vigil_throttle_record {
	struct vigil_msg_hdr hdr;
	__u64 cgroup_id;
};

/* vg_cgrate value, per CPU, keyed by cgroup id: the sliding-window rate of a cgroup's exec,
 * clone and exit records, as Tetragon counts them (its cgroup_rate_value). Times are
 * bpf_ktime_get_boot_ns(). */
struct vigil_cgroup_rate {
	__u64 curr;			/* records in the current window */
	__u64 prev;			/* records in the window before */
	__u64 time;			/* start of the current window */
	__u64 rate;			/* last computed rate */
	__u64 throttled;		/* when it was throttled, 0 when not: user space clears it */
	__u64 held_execs;		/* exec records not sent while throttled, ever */
	__u64 held_exits;		/* and the exit records of those execs and clones */
	__u64 held_clones;		/* clone records (fork without exec) not sent, ever */
};

struct vigil_exit_record {
	struct vigil_msg_hdr hdr;
	__u32 pid;
	__u32 tid;
	__u64 proc_ktime;		/* key of the incarnation that exited (task_key) */
	__u32 exit_code;		/* as wait(2) encodes it: status << 8 | signal */
	__u32 flags;
};

#endif
