/* task.h - read a task's identity for records and for the exec map: creds, capabilities,
 * namespaces, and the key of its parent. CO-RE reads throughout, so the same code runs
 * from tp_btf (where direct loads would be allowed) and raw_tp (where they are not). */
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
static __always_inline __u64 task_exec_gen(struct task_struct *task)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	return BPF_CORE_READ(leader, self_exec_id) - BPF_CORE_READ(leader, parent_exec_id);
}

static __always_inline __u64 task_key(struct task_struct *task)
{
	__u64 start = BPF_CORE_READ(task, group_leader, start_boottime);

	return start / VIGIL_USER_HZ_NS * VIGIL_USER_HZ_NS + task_exec_gen(task);
}

/* ids and capabilities (permitted, effective, inheritable) of a struct cred */
static __always_inline void read_cred(const struct cred *cred, struct vigil_creds_raw *c, __u64 caps[3])
{
	c->uid = BPF_CORE_READ(cred, uid.val);
	c->gid = BPF_CORE_READ(cred, gid.val);
	c->euid = BPF_CORE_READ(cred, euid.val);
	c->egid = BPF_CORE_READ(cred, egid.val);
	c->suid = BPF_CORE_READ(cred, suid.val);
	c->sgid = BPF_CORE_READ(cred, sgid.val);
	c->fsuid = BPF_CORE_READ(cred, fsuid.val);
	c->fsgid = BPF_CORE_READ(cred, fsgid.val);
	/* kernel_cap_t is a u64 since 6.3 and two u32 before: 8 little-endian bytes either way */
	bpf_probe_read_kernel(&caps[VIGIL_CAPS_PERMITTED], sizeof(__u64), &cred->cap_permitted);
	bpf_probe_read_kernel(&caps[VIGIL_CAPS_EFFECTIVE], sizeof(__u64), &cred->cap_effective);
	bpf_probe_read_kernel(&caps[VIGIL_CAPS_INHERITABLE], sizeof(__u64), &cred->cap_inheritable);
}

static __always_inline void task_creds(struct task_struct *task, struct vigil_creds_raw *c, __u64 caps[3])
{
	read_cred(BPF_CORE_READ(task, cred), c, caps);
}

/* securebits and the user namespace (level, owner, group) of the task's credentials */
static __always_inline void task_cred_extra(struct task_struct *task, __u32 out[4])
{
	const struct cred *cred = BPF_CORE_READ(task, cred);

	out[0] = BPF_CORE_READ(cred, securebits);
	out[1] = BPF_CORE_READ(cred, user_ns, level);
	out[2] = BPF_CORE_READ(cred, user_ns, owner.val);
	out[3] = BPF_CORE_READ(cred, user_ns, group.val);
}

static __always_inline __u32 task_auid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->loginuid))
		return BPF_CORE_READ(task, loginuid.val);
	return (__u32)-1;
}

/* pid 1 of a pid namespace other than the initial one: a container's (or unshare's) init */
static __always_inline bool task_is_ns_init(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	if (!level)
		return false;
	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]);
	return upid.nr == 1;
}

/* Namespace inode numbers in the slot order of struct vigil_exec_record.ns. */
static __always_inline void task_namespaces(struct task_struct *task, __u32 ns[VIGIL_NS_SLOTS])
{
	struct nsproxy *nsp = BPF_CORE_READ(task, nsproxy);
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	if (!nsp)
		return;		/* an exiting task has dropped its nsproxy */
	ns[0] = BPF_CORE_READ(nsp, uts_ns, ns.inum);
	ns[1] = BPF_CORE_READ(nsp, ipc_ns, ns.inum);
	ns[2] = BPF_CORE_READ(nsp, mnt_ns, ns.inum);
	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]);
	ns[3] = BPF_CORE_READ(upid.ns, ns.inum);
	ns[4] = BPF_CORE_READ(nsp, pid_ns_for_children, ns.inum);
	ns[5] = BPF_CORE_READ(nsp, net_ns, ns.inum);
	if (bpf_core_field_exists(nsp->time_ns)) {
		ns[6] = BPF_CORE_READ(nsp, time_ns, ns.inum);
		ns[7] = BPF_CORE_READ(nsp, time_ns_for_children, ns.inum);
	}
	ns[8] = BPF_CORE_READ(nsp, cgroup_ns, ns.inum);
	ns[9] = BPF_CORE_READ(task, cred, user_ns, ns.inum);
}

#endif
