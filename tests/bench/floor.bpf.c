/* floor.bpf.c - empty programs: the cost of merely having a hook (the bench's floor). */
#include "vigil_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* every syscall of every task */
SEC("raw_tp/sys_enter")
int floor_raw_sys_enter(void *ctx)
{
	return 0;
}

/* one classic tracepoint, chosen at attach time (syscalls:sys_enter_openat...) */
SEC("tracepoint")
int floor_tracepoint(void *ctx)
{
	return 0;
}

/* cgroup connect4 on the cgroup v2 root: every IPv4 connect; 1 allows it */
SEC("cgroup/connect4")
int floor_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

/* fentry on one kernel function, chosen at load time (__x64_sys_openat: the trampoline's own
 * cost, the floor of vigil's hooks on kernels with trampolines) */
SEC("fentry")
int floor_fentry(void *ctx)
{
	return 0;
}
