/* taskkeys.bpf.c - a task iterator that writes every process's key, once, at start.
 *
 * The /proc scan sees a process's start time but not how often it exec'd, which the key
 * counts (bpf/lib/task.h task_key). Reading the keys here lets the seeded entries carry the
 * very key the exec, fork and exit programs will name them by, and the credentials and
 * init-tree flag an exec record would have given them. The loader reuses the
 * process object's maps, so this one-shot object allocates none of its own.
 */
#include "vigil_bpf.h"
#include "taskkeys.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000	/* include/linux/sched.h */

SEC("iter/task")
int iter_task_keys(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct vigil_task_key k = {};

	/* every thread is visited: one record per process, none for kernel threads */
	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD))
		return 0;
	k.pid = task->tgid;
	k.ktime = task_key(VG_LOAD_PROBE, task);
	if (task_is_ns_init(VG_LOAD_PROBE, task))
		k.flags |= VIGIL_TASK_NS_INIT;
	task_cred_extra(VG_LOAD_PROBE, task, k.cred_extra);
	bpf_seq_write(ctx->meta->seq, &k, sizeof(k));
	return 0;
}
