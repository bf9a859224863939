/* loader.h - the kernel side from user space: what this kernel permits (probed by loading
 * and attaching), the filesystems BPF needs, and the process-lifecycle programs. */
#ifndef VIGIL_LOADER_H
#define VIGIL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

/* ---- what the kernel permits ---- */

enum vigil_mech {
	VIGIL_MECH_TP_BTF,
	VIGIL_MECH_RAW_TP,
	VIGIL_MECH_TRACEPOINT,
	VIGIL_MECH_KPROBE,
	VIGIL_MECH_FENTRY,
	VIGIL_MECH_FMOD_RET,
	VIGIL_MECH_LSM,
	VIGIL_MECH_CGROUP_SOCK_ADDR,
	VIGIL_MECH_RINGBUF,
	VIGIL_MECH_SEND_SIGNAL,
	/* not a BPF mechanism: does the kernel run 32-bit syscalls (x86-64: int 0x80)? Its
	 * syscall tracepoints skip them, so where it does, a hook must see them another way */
	VIGIL_MECH_COMPAT_SYSCALLS,
	VIGIL_MECH_COUNT,
};

struct vigil_mech_status {
	bool ok;
	int err;		/* the errno that ruled it out, 0 when ok */
	char reason[160];	/* "attach: ENOENT (kprobes not built into this kernel)" */
};

struct vigil_probe_report {
	struct vigil_mech_status mech[VIGIL_MECH_COUNT];
};

/* "tp_btf", "raw_tp", "tracepoint", "kprobe", "fentry", "fmod_ret", "lsm",
 * "cgroup_sock_addr", "ringbuf", "bpf_send_signal", "compat_syscalls". */
VIGIL_API const char *vigil_mech_name(enum vigil_mech m);

/* Try each mechanism: load (and attach where attaching is the test) a minimal program,
 * keep the errno, detach. Needs root; tracefs must be mounted for the tracepoint probe
 * (vigil_mount_fs). Fills out; returns 0 or -errno when probing itself failed. */
VIGIL_API int vigil_probe_kernel(struct vigil_probe_report *out);

/* Mount bpffs at /sys/fs/bpf and tracefs at /sys/kernel/tracing when they are not mounted
 * yet. Returns 0, or the first -errno (and logs which mount failed). */
VIGIL_API int vigil_mount_fs(void);

/* The cgroup v2 mount point from /proc/mounts (e.g. /sys/fs/cgroup/unified on a hybrid
 * layout) into out. Returns 0 or -ENOENT. */
VIGIL_API int vigil_cgroup2_path(char *out, size_t size);

/* ---- pinned links: enforcement that outlives the agent (--keep-enforcing) ---- */

#define VIGIL_PIN_ROOT "/sys/fs/bpf/vigil"

/* The agent's bpffs directory: root owns it, mode 0700 (anyone else's is refused). Each
 * run that keeps enforcing pins under a directory of its own, <root>/run-<boot ns>/; the
 * pins of earlier runs stay in force until vigil_pins__remove_previous. */
struct vigil_pins;

/* Check (keep: create) root, note the runs pinned before, and with keep make this run's
 * directory. root NULL: VIGIL_PIN_ROOT. NULL + errno (-EPERM: root is not ours). */
VIGIL_API struct vigil_pins *vigil_pins__open(const char *root, bool keep);
/* This run's directory, or NULL when it does not keep enforcing. Borrowed. */
VIGIL_API const char *vigil_pins__run_dir(const struct vigil_pins *p);
/* Unpin every link of the runs found at open (they stop enforcing unless this run has
 * attached its own). Returns how many were removed. Accepts NULL. */
VIGIL_API int vigil_pins__remove_previous(struct vigil_pins *p);
/* Unpin this run's links (a start that failed). Accepts NULL. */
VIGIL_API void vigil_pins__remove_run(struct vigil_pins *p);
/* Free; pins stay in the kernel. Accepts NULL. */
VIGIL_API void vigil_pins__close(struct vigil_pins *p);

struct bpf_link;

/* Pin link at dir/name (libbpf remembers the path for bpf_link__unpin). 0 or -errno. */
int vigil_pin_link(struct bpf_link *link, const char *dir, const char *name);

/* ---- the process lifecycle programs ---- */

struct vigil_loader;

struct vigil_loader_opts {
	size_t sz;			/* sizeof(struct vigil_loader_opts) */
	uint32_t ringbuf_bytes;		/* power of two, >= page size; default 8 MiB */
	uint32_t exec_map_entries;	/* default 32768 */
	uint32_t wakeup_batch;		/* records per forced reader wake-up; default 64 */
	/* pin the links here (vigil_pins__run_dir) so the exec map stays current for the
	 * pinned policies when the agent dies; NULL: links die with the agent */
	const char *pin_dir;
	/* environment bytes each exec record carries (--enable-process-environment-variables):
	 * 0 = none, at most VIGIL_ENV_MAX - 1 (bpf/process.h) */
	uint32_t env_max;
	/* --cgroup-rate: execs per interval per cgroup and CPU before its records are held
	 * back (0 = off), and the interval */
	uint64_t cgroup_rate_events;
	uint64_t cgroup_rate_interval_ns;
	/* a record wakes the reader when this CPU's last wake-up is this old (bpf/lib/output.h),
	 * in µs: 0 = default (2000), -1 = never (wake-ups by wakeup_batch alone) */
	int32_t wakeup_us;
};

/* Kernel-side loss and failure counters, summed over CPUs. */
struct vigil_kernel_counters {
	uint64_t ringbuf_full;		/* events lost: ring buffer full */
	uint64_t execs_full;		/* exec map updates that failed */
	uint64_t path_read;		/* paths that could not be read */
	uint64_t args_read;		/* argument areas that could not be read */
	uint64_t pending_full;		/* return-probe calls dropped: too many in flight */
	uint64_t ringbuf_full_exec;	/* of ringbuf_full, the exec records */
	uint64_t signal_failed;		/* Sigkill/Signal actions the kernel refused */
	uint64_t stack_no_room;		/* events posted without the stacks asked for */
	uint64_t env_truncated;		/* exec records whose environment was cut */
	uint64_t throttled_exec;	/* exec records held back by --cgroup-rate */
	uint64_t throttled_exit;	/* exit records of those execs and clones, held back too */
	uint64_t throttled_clone;	/* clone records held back by --cgroup-rate */
	uint64_t set_failed;		/* Set actions whose write failed */
	uint64_t ima_hash_failed;	/* imaHash events posted without their hash */
};

/* Open, size, load and attach the exec/fork/exit programs on the best tracepoint mechanism
 * the probe report allows (tp_btf, else raw_tp). NULL + errno; the reason is logged. */
VIGIL_API struct vigil_loader *vigil_loader__open(const struct vigil_loader_opts *opts,
						  const struct vigil_probe_report *probe);
/* Detach every link and unload everything. Accepts NULL. */
VIGIL_API void vigil_loader__close(struct vigil_loader *l);

/* "tp_btf" or "raw_tp": the mechanism in use. */
VIGIL_API const char *vigil_loader__mechanism(const struct vigil_loader *l);
/* The ring buffer map fd (borrowed). */
VIGIL_API int vigil_loader__ringbuf_fd(const struct vigil_loader *l);
/* The time bound of the kernel's wake-ups in ns (vigil_loader_opts.wakeup_us); 0: none. */
VIGIL_API uint64_t vigil_loader__wakeup_ns(const struct vigil_loader *l);
/* The reader promises to look at the ring buffer by mono_ns (CLOCK_MONOTONIC, the kernel's
 * bpf_ktime_get_ns), or takes its promise back (0): records before then force no wake-up
 * (bpf/lib/output.h). A plain store into vg_reader, mapped: no system call. */
VIGIL_API void vigil_loader__set_poll_by(struct vigil_loader *l, uint64_t mono_ns);
/* The exec map fd (borrowed): tgid -> current incarnation. */
VIGIL_API int vigil_loader__execs_fd(const struct vigil_loader *l);
/* vg_scopes (struct vigil_scope_key -> 1): the cgroups each scoped policy applies to. */
VIGIL_API int vigil_loader__scopes_fd(const struct vigil_loader *l);

/* vg_cgrate (cgroup id -> struct vigil_cgroup_rate per CPU): --cgroup-rate's windows. */
VIGIL_API int vigil_loader__cgrate_fd(const struct vigil_loader *l);

/* Entries in the exec map now (walks its keys: for status, not for a hot path). */
VIGIL_API uint64_t vigil_loader__execs_count(const struct vigil_loader *l);

struct vigil_process;

/* Seed the exec map with a process found by the /proc scan (its key, parent key, binary,
 * namespaces and capabilities), unless the kernel already knows it. Returns 0, -EEXIST
 * (then *ktime_out holds the kernel's ktime), or -errno. */
VIGIL_API int vigil_loader__seed(struct vigil_loader *l, const struct vigil_process *p, uint64_t *ktime_out);

struct vigil_task_key;

/* Every running process's key as the exec, fork and exit programs compute it (a task
 * iterator, bpf/taskkeys.bpf.c), sorted by pid: *out is malloc'd, the caller frees it.
 * Returns 0 or -errno (logged); then *out is NULL and *n 0. */
VIGIL_API int vigil_loader__task_keys(const struct vigil_loader *l, struct vigil_task_key **out, size_t *n);

/* Undo vigil_loader__seed for p when the entry is still the seeded one (a process that
 * exited before it was seeded: its exit came and went, so nothing else would delete it).
 * Returns 0 or -errno (-ENOENT when there is nothing of p's to delete). */
VIGIL_API int vigil_loader__unseed(struct vigil_loader *l, const struct vigil_process *p);

VIGIL_API int vigil_loader__counters(const struct vigil_loader *l, struct vigil_kernel_counters *out);

#endif
