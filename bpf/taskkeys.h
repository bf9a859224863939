/* taskkeys.h - the record bpf/taskkeys.bpf.c writes for each process, read by
 * core/loader/taskkeys.c to seed the /proc scan's processes under the kernel's key. */
#ifndef VIGIL_BPF_TASKKEYS_H
#define VIGIL_BPF_TASKKEYS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct vigil_task_key {
	__u32 pid;			/* tgid */
	__u32 pad;
	__u64 ktime;			/* its key, task_key() in bpf/lib/task.h */
};

#endif
