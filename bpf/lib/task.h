/* task.h - read a task's identity for records and for the exec map: creds, capabilities,
 * namespaces, and the key of its parent. Each reader takes how to load (enum vg_load,
 * VG_READ): direct loads from a tp_btf program's typed task, probe reads from raw_tp and
 * every caller whose task is a plain number. */
#ifndef VIGIL_TASK_H
#define VIGIL_TASK_H

#include "vigil_bpf.h"
#include "process.h"
#include "process_maps.h"

/* /proc/<pid>/stat reports start times in USER_HZ (100 on Linux) ticks: keys are built on
 * that tick so that the /proc scan lands on the same one. */
#define VIGIL_USER_HZ_NS 10000000ULL

/* The key of a task's current incarnation: the ktime half of (tgid, ktime) and of its
 * exec_id. It is computed from the task alone, never looked up, so exec, fork, exit and
 * the policy hooks name a process the same way whether or not vg_execs holds it:
 *
 *   key = the group leader's start_boottime rounded down to a USER_HZ tick
 *       + the execs the process made since its fork
 *
 * self_exec_id counts execs and a child inherits it; parent_exec_id is the parent's count
 * when the child was forked; both are u64 since v5.7 (commit d1e7fd6462ca). de_thread()
 * gives an exec'ing thread the old leader's start_boottime, so a thread's exec keeps the
 * process's tick. A new incarnation of the same pid sorts after the old one as long as a
 * process execs fewer than 10^7 times (one tick) and no pid is reused within one tick
 * (that would take the whole pid space wrapping in 10 ms). */
static __always_inline __u64 task_exec_gen(enum vg_load ld, struct task_struct *task)
{
	struct task_struct *leader = VG_READ(ld, task, group_leader);

	return VG_READ(ld, leader, self_exec_id) - VG_READ(ld, leader, parent_exec_id);
}

static __always_inline __u64 task_key(enum vg_load ld, struct task_struct *task)
{
	__u64 start = VG_READ(ld, task, group_leader, start_boottime);

	return start / VIGIL_USER_HZ_NS * VIGIL_USER_HZ_NS + task_exec_gen(ld, task);
}

/* struct cred's capability sets as 6.3+ lays them out (kernel_cap_t = one u64, commit
 * f122a08b197d): a CO-RE flavour, so a typed load of one is relocated where it exists and left
 * out where kernel_cap_t is still two u32 (vmlinux.h may come from either). */
struct cred___cap64 {
	struct {
		__u64 val;
	} cap_inheritable, cap_permitted, cap_effective;
} __attribute__((preserve_access_index));

/* ids and capabilities (permitted, effective, inheritable) of a struct cred */
static __always_inline void read_cred(enum vg_load ld, const struct cred *cred, struct vigil_creds_raw *c,
				      __u64 caps[3])
{
	const struct cred___cap64 *c64 = (const void *)cred;

	c->uid = VG_READ(ld, cred, uid.val);
	c->gid = VG_READ(ld, cred, gid.val);
	c->euid = VG_READ(ld, cred, euid.val);
	c->egid = VG_READ(ld, cred, egid.val);
	c->suid = VG_READ(ld, cred, suid.val);
	c->sgid = VG_READ(ld, cred, sgid.val);
	c->fsuid = VG_READ(ld, cred, fsuid.val);
	c->fsgid = VG_READ(ld, cred, fsgid.val);
	if (ld == VG_LOAD_BTF && bpf_core_field_exists(c64->cap_permitted.val)) {
		caps[VIGIL_CAPS_PERMITTED] = c64->cap_permitted.val;
		caps[VIGIL_CAPS_EFFECTIVE] = c64->cap_effective.val;
		caps[VIGIL_CAPS_INHERITABLE] = c64->cap_inheritable.val;
		return;
	}
	/* two u32 before 6.3: 8 little-endian bytes either way */
	bpf_probe_read_kernel(&caps[VIGIL_CAPS_PERMITTED], sizeof(__u64), &cred->cap_permitted);
	bpf_probe_read_kernel(&caps[VIGIL_CAPS_EFFECTIVE], sizeof(__u64), &cred->cap_effective);
	bpf_probe_read_kernel(&caps[VIGIL_CAPS_INHERITABLE], sizeof(__u64), &cred->cap_inheritable);
}

static __always_inline void task_creds(enum vg_load ld, struct task_struct *task, struct vigil_creds_raw *c,
				       __u64 caps[3])
{
	read_cred(ld, VG_READ(ld, task, cred), c, caps);
}

/* securebits and the user namespace (level, owner, group) of the task's credentials */
static __always_inline void task_cred_extra(enum vg_load ld, struct task_struct *task, __u32 out[4])
{
	const struct cred *cred = VG_READ(ld, task, cred);
	struct user_namespace *user_ns = VG_READ(ld, cred, user_ns);

	out[0] = VG_READ(ld, cred, securebits);
	out[1] = VG_READ(ld, user_ns, level);
	out[2] = VG_READ(ld, user_ns, owner.val);
	out[3] = VG_READ(ld, user_ns, group.val);
}

static __always_inline __u32 task_auid(enum vg_load ld, struct task_struct *task)
{
	if (bpf_core_field_exists(task->loginuid))
		return VG_READ(ld, task, loginuid.val);
	return (__u32)-1;
}

/* pid 1 of a pid namespace other than the initial one: a container's (or unshare's) init.
 * numbers[] is indexed by a variable, which a typed load cannot be: a probe read either way. */
static __always_inline bool task_is_ns_init(enum vg_load ld, struct task_struct *task)
{
	struct pid *pid = VG_READ(ld, task, thread_pid);
	unsigned int level = VG_READ(ld, pid, level);
	struct upid upid = {};

	if (!level)
		return false;
	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]);
	return upid.nr == 1;
}

/* Namespace inode numbers in the slot order of struct vigil_exec_record.ns. */
static __always_inline void task_namespaces(enum vg_load ld, struct task_struct *task, __u32 ns[VIGIL_NS_SLOTS])
{
	struct nsproxy *nsp = VG_READ(ld, task, nsproxy);
	struct pid *pid = VG_READ(ld, task, thread_pid);
	unsigned int level = VG_READ(ld, pid, level);
	struct upid upid = {};

	if (!nsp)
		return;		/* an exiting task has dropped its nsproxy */
	ns[0] = VG_READ(ld, nsp, uts_ns, ns.inum);
	ns[1] = VG_READ(ld, nsp, ipc_ns, ns.inum);
	ns[2] = VG_READ(ld, nsp, mnt_ns, ns.inum);
	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]);
	ns[3] = BPF_CORE_READ(upid.ns, ns.inum);	/* a number from a probe read: probe-read on */
	ns[4] = VG_READ(ld, nsp, pid_ns_for_children, ns.inum);
	ns[5] = VG_READ(ld, nsp, net_ns, ns.inum);
	if (bpf_core_field_exists(nsp->time_ns)) {
		ns[6] = VG_READ(ld, nsp, time_ns, ns.inum);
		ns[7] = VG_READ(ld, nsp, time_ns_for_children, ns.inum);
	}
	ns[8] = VG_READ(ld, nsp, cgroup_ns, ns.inum);
	ns[9] = VG_READ(ld, task, cred, user_ns, ns.inum);
}

#endif
