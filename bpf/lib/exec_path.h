/* exec_path.h - the binary's path walked once per exec, not once per exec policy.
 *
 * Every shipped exec policy (sched_process_exec, a linux_binprm argument) needs the path of
 * the file the exec runs, and the walk up its dentries is most of what such a hook costs.
 * The programs on one tracepoint run one after another on one CPU, so the first walks and
 * leaves the result in a per-CPU slot (vg_exec_path) and the others copy it: the exec
 * record's own program (attached first, bpf/process.bpf.c) fills it for them all. A slot is
 * taken only for the same exec: the same task, thread, exec count (self_exec_id, bumped by
 * every exec before this tracepoint) and file (its f_path), walked less than EXEC_PATH_FRESH_NS ago
 * (the programs of one tracepoint run within microseconds); anything else walks again.
 * Enabled by the compiler (cfg.exec_path_once) for sched_process_exec hooks only. */
#ifndef VIGIL_EXEC_PATH_H
#define VIGIL_EXEC_PATH_H

#define EXEC_PATH_FRESH_NS 1000000ULL

static __always_inline struct vg_exec_path *exec_path_slot(enum vg_load ld, struct task_struct *task,
							    const struct path *f, bool *hit)
{
	__u32 zero = 0;
	struct vg_exec_path *c = bpf_map_lookup_elem(&vg_exec_path, &zero);

	*hit = false;
	if (!c)
		return NULL;
	*hit = c->task == (__u64)task && c->pid_tgid == bpf_get_current_pid_tgid() &&
	       c->exec_id == VG_READ(ld, task, self_exec_id) && c->file == (__u64)f &&
	       bpf_ktime_get_ns() - c->stamp < EXEC_PATH_FRESH_NS;
	return c;
}

/* A walk's result (len bytes at src) into the slot, for the exec's next programs. */
static __always_inline void exec_path_keep(enum vg_load ld, struct vg_exec_path *c, struct task_struct *task,
					   const struct path *f, const char *src, __u32 len, bool truncated, bool error)
{
	len &= VIGIL_PATH_MAX - 1;
	c->task = 0;	/* invalid while it is written */
	if (bpf_probe_read_kernel(c->data, len, src))
		return;
	c->len = len;
	c->truncated = truncated;
	c->error = error;
	c->pid_tgid = bpf_get_current_pid_tgid();
	c->exec_id = VG_READ(ld, task, self_exec_id);
	c->file = (__u64)f;
	c->stamp = bpf_ktime_get_ns();
	c->task = (__u64)task;
}

/* The exec record's program walks the binary first (bpf/process.bpf.c): it leaves the
 * result for the policies after it on the same tracepoint. */
static __always_inline void exec_path_share(enum vg_load ld, struct task_struct *task, const struct path *f,
					    const char *src, __u32 len, bool truncated, bool error)
{
	__u32 zero = 0;
	struct vg_exec_path *c = bpf_map_lookup_elem(&vg_exec_path, &zero);

	if (c)
		exec_path_keep(ld, c, task, f, src, len, truncated, error);
}

#endif
