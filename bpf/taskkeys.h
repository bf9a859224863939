/* taskkeys.h - the record bpf/taskkeys.bpf.c writes for each process, read by
 * core/loader/taskkeys.c to seed the /proc scan's processes under the kernel's key. */
#ifndef VIGIL_BPF_TASKKEYS_H
#define VIGIL_BPF_TASKKEYS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* flags of a task key */
#define VIGIL_TASK_NS_INIT 1u		/* pid 1 of a pid namespace below the host's */

struct vigil_task_key {
	__u32 pid;			/* tgid */
	__u32 flags;			/* VIGIL_TASK_* */
	__u64 ktime;			/* its key, task_key() in bpf/lib/task.h */
	/* what an exec record carries and /proc does not show (--enable-process-cred):
	 * securebits, and the user namespace's level, owner and group */
	__u32 cred_extra[4];
};

#endif
