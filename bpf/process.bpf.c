/* process.bpf.c - process lifecycle: exec, fork and exit records, and the exec map.
 *
 * Pipeline, per hook:
 *   exec: read the new image's path, cwd and argument area, the creds, caps and
 *         namespaces into a per-CPU scratch record; compute its key and its parent's
 *         (task_key: never looked up, so a full vg_execs cannot make them disagree);
 *         replace this tgid's vg_execs entry; submit the used part of the record.
 *   fork: a new process (not a thread) inherits its parent's vg_execs entry with its own
 *         key and the clone flag; a clone record tells user space (unless --cgroup-rate
 *         holds it back: lib/cgroup_rate.h).
 *   exit: only when the last thread of the group is gone; the entry is deleted and the
 *         exit code goes out with the key of the incarnation that ended.
 * Each hook has a tp_btf wrapper and a raw_tp one; the loader autoloads one set. The same
 * handlers serve both, told how to load (enum vg_load): the tp_btf ones load straight through
 * their typed task and linux_binprm, the raw_tp ones probe-read.
 */
#include "vigil_bpf.h"
#include "process.h"
#include "lib/process_maps.h"
#include "lib/output.h"
#include "lib/path.h"
#include "lib/task.h"
#include "lib/exec_path.h"
#include "lib/cgroup_rate.h"

char LICENSE[] SEC("license") = "GPL";

/* offsets into data[] are masked to this, lengths to VIGIL_PATH_MAX - 1: see process.h */
#define DATA_OFF_MASK (2 * VIGIL_PATH_MAX - 1)

/* Environment bytes to capture at exec (--enable-process-environment-variables): 0 = none,
 * at most VIGIL_ENV_MAX - 1. Set by the loader. */
const volatile __u32 env_max = 0;

struct exec_scratch {
	struct vigil_exec_record rec;
	/* the environment starts at a masked offset below VIGIL_DATA_MAX with a masked length:
	 * the verifier's bound on its end runs past data[] (the real end never does, it is
	 * checked), so the scratch value has room behind the record */
	char env_slack[VIGIL_ENV_MAX];
	struct path_buf path;
	/* kept here, not on the stack: with the path walk's bpf_loop callback the exec
	 * program's combined stack must stay under 512 bytes (6.1's verifier counts both) */
	__u64 caps[3];
};

/* 0 -> per-CPU scratch space: records are far larger than the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_heap SEC(".maps");

/* Walk a path and append it to rec->data at *off; returns the bytes appended. */
static __always_inline __u32 put_path(enum vg_load ld, struct exec_scratch *s, __u32 off, const struct path *path,
				      const struct path *root, __u32 trunc_flag, __u32 error_flag)
{
	struct path_result res;
	__u32 len;

	path_walk(ld, path, root, &s->path, &res);
	if (res.truncated)
		s->rec.flags |= trunc_flag;
	if (res.error) {
		s->rec.flags |= error_flag;
		count_error(VIGIL_KERR_PATH_READ);
	}
	len = res.len & (VIGIL_PATH_MAX - 1);
	if (bpf_probe_read_kernel(&s->rec.data[off & DATA_OFF_MASK], len,
				  &s->path.data[res.start & (VIGIL_PATH_MAX - 1)])) {
		s->rec.flags |= error_flag;
		return 0;
	}
	return len;
}

static __always_inline void file_identity(enum vg_load ld, struct vigil_exec_record *rec, struct inode *inode)
{
	rec->file_ino = VG_READ(ld, inode, i_ino);
	rec->file_dev = VG_READ(ld, inode, i_sb, s_dev);
	rec->file_uid = VG_READ(ld, inode, i_uid.val);
	rec->file_mode = VG_READ(ld, inode, i_mode);
	rec->file_nlink = VG_READ(ld, inode, __i_nlink);
}

static __always_inline void remember_exec(__u32 tgid, struct vigil_exec_record *rec, __u32 flags)
{
	struct vigil_exec_entry entry = {
		.ktime = rec->proc_ktime,
		.pktime = rec->pktime,
		.ppid = rec->ppid,
		.flags = VIGIL_KF_EXECVE | flags,
	};
	__u32 len = rec->binary_len;

	/* selectors compare a fixed-size, NUL-padded key: copy at most VIGIL_BINARY_KEY - 1 */
	if (len > VIGIL_BINARY_KEY - 1)
		len = VIGIL_BINARY_KEY - 1;
	__builtin_memcpy(entry.ns, rec->ns, sizeof(entry.ns));
	entry.caps[0] = rec->cap_permitted;
	entry.caps[1] = rec->cap_effective;
	entry.caps[2] = rec->cap_inheritable;
	entry.binary_len = len;
	bpf_probe_read_kernel(entry.binary, len & (VIGIL_BINARY_KEY - 1), rec->data);
	if (bpf_map_update_elem(&vg_execs, &tgid, &entry, BPF_ANY))
		count_error(VIGIL_KERR_EXECS_FULL);
}

/* The argument area (NUL-separated) at data + off, cut to VIGIL_ARGS_MAX - 1 bytes and
 * flagged when longer. Returns the bytes appended. */
static __always_inline __u32 put_args(enum vg_load ld, struct exec_scratch *s, struct mm_struct *mm, __u32 off)
{
	unsigned long start = VG_READ(ld, mm, arg_start), end = VG_READ(ld, mm, arg_end);
	__u32 len = end > start ? end - start : 0;

	if (len > VIGIL_ARGS_MAX - 1) {
		len = VIGIL_ARGS_MAX - 1;
		s->rec.flags |= VIGIL_KF_TRUNC_ARGS;
	}
	if (bpf_probe_read_user(&s->rec.data[off & DATA_OFF_MASK], len & (VIGIL_ARGS_MAX - 1), (void *)start)) {
		s->rec.flags |= VIGIL_KF_ERROR_ARGS;
		count_error(VIGIL_KERR_ARGS_READ);
		len = 0;
	}
	s->rec.args_len = len;
	return len;
}

/* The environment area (NUL-separated KEY=VALUE strings) at data + off, at most env_max
 * bytes; a longer one is cut (user space drops the partial last string), flagged and
 * counted. Returns the bytes appended. */
static __always_inline __u32 put_env(enum vg_load ld, struct exec_scratch *s, struct mm_struct *mm, __u32 off)
{
	unsigned long start, end;
	__u32 len, max = env_max;

	s->rec.env_len = 0;
	if (!max)
		return 0;
	if (max > VIGIL_ENV_MAX - 1)
		max = VIGIL_ENV_MAX - 1;
	start = VG_READ(ld, mm, env_start);
	end = VG_READ(ld, mm, env_end);
	len = end > start ? end - start : 0;
	if (len > max) {
		len = max;
		s->rec.flags |= VIGIL_KF_TRUNC_ENV;
		count_error(VIGIL_KERR_ENV_TRUNCATED);
	}
	if (off + len > VIGIL_DATA_MAX)		/* never with the limits above; says so to the reader */
		return 0;
	if (bpf_probe_read_user(&s->rec.data[off & (VIGIL_DATA_MAX - 1)], len & (VIGIL_ENV_MAX - 1),
				(void *)start)) {
		s->rec.flags |= VIGIL_KF_ERROR_ENV;
		return 0;
	}
	s->rec.env_len = len;
	return len;
}

static __always_inline int handle_exec(enum vg_load ld, struct task_struct *task, struct linux_binprm *bprm)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct task_struct *parent = VG_READ(ld, task, real_parent);
	__u32 ppid = VG_READ(ld, parent, tgid);
	struct file *file = VG_READ(ld, bprm, file);
	struct fs_struct *fs = VG_READ(ld, task, fs);
	struct vigil_exec_entry *prev;
	struct exec_scratch *s;
	struct mm_struct *mm;
	__u32 zero = 0, off, len;

	s = bpf_map_lookup_elem(&exec_heap, &zero);
	if (!s)
		return 0;

	s->rec.hdr.op = VIGIL_OP_EXEC;
	s->rec.hdr.ktime = bpf_ktime_get_boot_ns();
	s->rec.pid = tgid;
	s->rec.tid = (__u32)pid_tgid;
	s->rec.ppid = ppid;
	s->rec.flags = VIGIL_KF_EXECVE;
	s->rec.pktime = task_key(ld, parent);
	s->rec.proc_ktime = task_key(ld, task);
	/* the first exec after a fork (Tetragon's "clone" flag): the exec count went from 0 to
	 * 1, or, for a child of CLONE_PARENT that inherited a count, it replaces a clone entry */
	prev = bpf_map_lookup_elem(&vg_execs, &tgid);
	if (task_exec_gen(ld, task) == 1 || (prev && (prev->flags & VIGIL_KF_CLONE)))
		s->rec.flags |= VIGIL_KF_CLONE;

	task_creds(ld, task, &s->rec.creds, s->caps);
	s->rec.cap_permitted = s->caps[0];
	s->rec.cap_effective = s->caps[1];
	s->rec.cap_inheritable = s->caps[2];
	s->rec.auid = task_auid(ld, task);
	task_cred_extra(ld, task, &s->rec.securebits);
	__builtin_memset(s->rec.ns, 0, sizeof(s->rec.ns));
	task_namespaces(ld, task, s->rec.ns);
	if (task_is_ns_init(ld, task))
		s->rec.flags |= VIGIL_KF_NS_INIT;
	s->rec.cgroup_id = bpf_get_current_cgroup_id();
	file_identity(ld, &s->rec, VG_READ(ld, file, f_inode));

	/* data = binary | cwd | args */
	off = put_path(ld, s, 0, &file->f_path, &fs->root, VIGIL_KF_TRUNC_FILENAME, VIGIL_KF_ERROR_FILENAME);
	s->rec.binary_len = off;
	if (off)	/* 0: nothing walked, or the copy failed: the policies walk themselves */
		exec_path_share(ld, task, &file->f_path, s->rec.data, off, s->rec.flags & VIGIL_KF_TRUNC_FILENAME,
				s->rec.flags & VIGIL_KF_ERROR_FILENAME);
	len = put_path(ld, s, off, &fs->pwd, &fs->root, 0, VIGIL_KF_ERROR_CWD);
	s->rec.cwd_len = len;
	off += len;

	mm = VG_READ(ld, task, mm);
	off += put_args(ld, s, mm, off);
	off += put_env(ld, s, mm, off);

	len = offsetof(struct vigil_exec_record, data) + (off & (VIGIL_DATA_MAX - 1));
	s->rec.hdr.size = len;
	/* over --cgroup-rate: remembered (selectors, later records) but not sent, and neither
	 * will its exit be */
	if (!cgroup_rate_allows(s->rec.cgroup_id, s->rec.hdr.ktime, CGROUP_RATE_EXEC)) {
		remember_exec(tgid, &s->rec, VIGIL_KF_THROTTLED);
		count_error(VIGIL_KERR_THROTTLED_EXEC);
		return 0;
	}
	remember_exec(tgid, &s->rec, 0);
	output_record(&s->rec, len);
	return 0;
}

static __always_inline int handle_fork(enum vg_load ld, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = VG_READ(ld, child, pid);
	__u32 tgid = VG_READ(ld, child, tgid);
	__u32 ptgid = VG_READ(ld, parent, tgid);
	struct vigil_exec_entry entry = {}, *pe;
	struct vigil_clone_record rec = {};

	if (pid != tgid)
		return 0;	/* a new thread, not a new process */

	rec.hdr.op = VIGIL_OP_CLONE;
	rec.hdr.size = sizeof(rec);
	rec.hdr.ktime = bpf_ktime_get_boot_ns();
	rec.pid = tgid;
	rec.tid = pid;
	rec.ppid = ptgid;
	rec.flags = VIGIL_KF_CLONE;
	rec.pktime = task_key(ld, parent);
	rec.proc_ktime = task_key(ld, child);

	/* the child runs its parent's image: selectors need its binary, ns and caps */
	pe = bpf_map_lookup_elem(&vg_execs, &ptgid);
	if (pe)
		entry = *pe;
	else
		rec.flags |= VIGIL_KF_MISS;
	entry.ktime = rec.proc_ktime;
	entry.pktime = rec.pktime;
	entry.ppid = ptgid;
	entry.flags = VIGIL_KF_CLONE;
	/* over --cgroup-rate (the child's cgroup: CLONE_INTO_CGROUP may differ from the
	 * parent's): remembered, not sent, and neither will its exit be unless it execs. The
	 * reads of its cgroup are left out by the verifier when the rate is off. */
	if (cgroup_rate_events &&
	    !cgroup_rate_allows(VG_READ(ld, child, cgroups, dfl_cgrp, kn, id), rec.hdr.ktime, CGROUP_RATE_CLONE)) {
		entry.flags |= VIGIL_KF_THROTTLED;
		count_error(VIGIL_KERR_THROTTLED_CLONE);
	}
	if (bpf_map_update_elem(&vg_execs, &tgid, &entry, BPF_ANY))
		count_error(VIGIL_KERR_EXECS_FULL);
	if (!(entry.flags & VIGIL_KF_THROTTLED))
		output_record(&rec, sizeof(rec));
	return 0;
}

static __always_inline int handle_exit(enum vg_load ld, struct task_struct *task)
{
	__u32 tgid = VG_READ(ld, task, tgid);
	struct vigil_exit_record rec = {};
	struct vigil_exec_entry *e;

	/* every thread passes here; the group is gone when signal->live reached zero, which
	 * do_exit decrements before this tracepoint */
	if (VG_READ(ld, task, signal, live.counter) != 0)
		return 0;

	rec.hdr.op = VIGIL_OP_EXIT;
	rec.hdr.size = sizeof(rec);
	rec.hdr.ktime = bpf_ktime_get_boot_ns();
	rec.pid = tgid;
	rec.tid = VG_READ(ld, task, pid);
	rec.exit_code = VG_READ(ld, task, exit_code);
	rec.proc_ktime = task_key(ld, task);
	e = bpf_map_lookup_elem(&vg_execs, &tgid);
	if (e) {
		rec.flags = e->flags;
		/* two threads may both see live == 0: only the one that deletes reports */
		if (bpf_map_delete_elem(&vg_execs, &tgid))
			return 0;
		/* its exec or clone went unreported (--cgroup-rate): so does its end */
		cgroup_rate_exit(rec.hdr.ktime, rec.flags & VIGIL_KF_THROTTLED);
		if (rec.flags & VIGIL_KF_THROTTLED) {
			count_error(VIGIL_KERR_THROTTLED_EXIT);
			return 0;
		}
	} else {
		rec.flags = VIGIL_KF_MISS;
		cgroup_rate_exit(rec.hdr.ktime, false);
	}
	output_record(&rec, sizeof(rec));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return handle_exec(VG_LOAD_BTF, task, bprm);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(tp_btf_fork, struct task_struct *parent, struct task_struct *child)
{
	return handle_fork(VG_LOAD_BTF, parent, child);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf_exit, struct task_struct *task)
{
	return handle_exit(VG_LOAD_BTF, task);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_tp_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return handle_exec(VG_LOAD_PROBE, task, bprm);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_tp_fork, struct task_struct *parent, struct task_struct *child)
{
	return handle_fork(VG_LOAD_PROBE, parent, child);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(raw_tp_exit, struct task_struct *task)
{
	return handle_exit(VG_LOAD_PROBE, task);
}
