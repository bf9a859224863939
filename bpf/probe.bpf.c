/* probe.bpf.c - one minimal program per attach mechanism. The loader loads and attaches
 * each on its own (autoload switched per probe) to learn what this kernel permits: BTF
 * alone lists functions whose fentry load still fails with EPERM on our machines. */
#include "vigil_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Never true at run time: keeps bpf_send_signal in a program that must pass the verifier. */
const volatile __u32 never_pid = 0xffffffff;

SEC("tp_btf/sched_process_fork")
int BPF_PROG(probe_tp_btf, struct task_struct *parent, struct task_struct *child)
{
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(probe_raw_tp, struct task_struct *parent, struct task_struct *child)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_tracepoint(void *ctx)
{
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(probe_kprobe)
{
	return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("fmod_ret/security_file_open")
int BPF_PROG(probe_fmod_ret, struct file *file)
{
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file)
{
	return 0;
}

SEC("cgroup/connect4")
int probe_cgroup_connect4(struct bpf_sock_addr *ctx)
{
	return 1;	/* allow */
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(probe_send_signal, struct task_struct *parent, struct task_struct *child)
{
	if ((bpf_get_current_pid_tgid() >> 32) == never_pid)
		bpf_send_signal(SIGKILL);
	return 0;
}
