/* exec_path.h - the binary's path walked once per exec, not once per exec policy.
 *
 * Every shipped exec policy (sched_process_exec, a linux_binprm argument) needs the path of
 * the file the exec runs, and the walk up its dentries is most of what such a hook costs.
 * The programs on one tracepoint run one after another on one CPU, so the first walks and
 * leaves the result in a per-CPU slot (vg_exec_path) and the others copy it. A slot is
 * taken only for the same exec: the same task, thread, exec count (self_exec_id, bumped by
 * every exec before this tracepoint) and file (its f_path), walked less than EXEC_PATH_FRESH_NS ago
 * (the programs of one tracepoint run within microseconds); anything else walks again.
 * Enabled by the compiler (cfg.exec_path_once) for sched_process_exec hooks only. */
#ifndef VIGIL_EXEC_PATH_H
#define VIGIL_EXEC_PATH_H

#define EXEC_PATH_FRESH_NS 1000000ULL

static __always_inline struct vg_exec_path *exec_path_slot(struct task_struct *task, const struct path *f,
						    bool *hit)
{
	__u32 zero = 0;
	struct vg_exec_path *c = bpf_map_lookup_elem(&vg_exec_path, &zero);

	*hit = false;
	if (!c)
		return NULL;
	*hit = c->task == (__u64)task && c->pid_tgid == bpf_get_current_pid_tgid() &&
	       c->exec_id == BPF_CORE_READ(task, self_exec_id) && c->file == (__u64)f &&
	       bpf_ktime_get_ns() - c->stamp < EXEC_PATH_FRESH_NS;
	return c;
}

/* The walk's result into the slot, for the exec's next policies. */
static __always_inline void exec_path_keep(struct vg_exec_path *c, struct task_struct *task, const struct path *f,
					   struct path_buf *buf, struct path_result *res)
{
	__u32 len = res->len & (VIGIL_PATH_MAX - 1);

	c->task = 0;	/* invalid while it is written */
	if (bpf_probe_read_kernel(c->data, len, &buf->data[res->start & (VIGIL_PATH_MAX - 1)]))
		return;
	c->len = len;
	c->truncated = res->truncated;
	c->error = res->error;
	c->pid_tgid = bpf_get_current_pid_tgid();
	c->exec_id = BPF_CORE_READ(task, self_exec_id);
	c->file = (__u64)f;
	c->stamp = bpf_ktime_get_ns();
	c->task = (__u64)task;
}

#endif
