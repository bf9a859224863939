/* loader.bpf.c - the loader sensor: which executable files processes map.
 *
 * Tetragon reads perf's mmap records through a kprobe on perf_event_mmap_output; kprobes are
 * missing on some of our kernels, so this sensor uses what every kernel we run has:
 *  - syscalls:sys_exit_mmap, a per-syscall tracepoint (it runs on mmap only), finds the
 *    mapping the call returned with bpf_find_vma (5.17+) and reports its file when the
 *    mapping is executable (the dynamic loader maps each library's text with PROT_EXEC);
 *  - raw_tp sched_process_exec reports the binary itself, which the kernel maps without mmap.
 * The build id is read from the file by user space (core/decode/decode_loader.c). */
#include "vigil_bpf.h"
#include "loader.h"
#include "lib/process_maps.h"
#include "lib/output.h"
#include "lib/path.h"
#include "lib/task.h"

char LICENSE[] SEC("license") = "GPL";

#define VM_EXEC_FLAG 0x00000004UL	/* include/linux/mm.h VM_EXEC */

struct loader_scratch {
	struct vigil_loader_record rec;
	struct path_buf buf;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct loader_scratch);
} loader_heap SEC(".maps");	/* 0 -> scratch record */

static __always_inline void report(struct task_struct *task, struct file *file, __u16 flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct loader_scratch *s;
	struct path_result res = {};
	struct fs_struct *fs;
	struct inode *inode;
	__u32 zero = 0, len, size;

	s = bpf_map_lookup_elem(&loader_heap, &zero);
	if (!s || !file)
		return;
	s->rec.hdr.op = VIGIL_OP_LOADER;
	s->rec.hdr.ktime = bpf_ktime_get_boot_ns();
	s->rec.pid = pid_tgid >> 32;
	s->rec.tid = (__u32)pid_tgid;
	s->rec.proc_ktime = task_key(VG_LOAD_PROBE, task);
	inode = BPF_CORE_READ(file, f_inode);
	s->rec.ino = BPF_CORE_READ(inode, i_ino);
	s->rec.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	s->rec.flags = flags;
	fs = BPF_CORE_READ(task, fs);
	path_walk(VG_LOAD_PROBE, &file->f_path, &fs->root, &s->buf, &res);
	if (res.truncated)
		s->rec.flags |= VIGIL_LOADER_TRUNCATED;
	if (res.error) {
		s->rec.flags |= VIGIL_LOADER_ERROR;
		count_error(VIGIL_KERR_PATH_READ);
	}
	len = res.len & (VIGIL_PATH_MAX - 1);
	if (bpf_probe_read_kernel(s->rec.path, len + 1, &s->buf.data[res.start & (VIGIL_PATH_MAX - 1)]))
		len = 0;
	s->rec.path[len & (VIGIL_PATH_MAX - 1)] = '\0';
	s->rec.path_len = (__u16)len;
	size = offsetof(struct vigil_loader_record, path) + len + 1;
	if (size > sizeof(s->rec))
		size = sizeof(s->rec);
	s->rec.hdr.size = size;
	barrier_var(size);
	output_record(&s->rec, size);
}

struct vma_found {
	struct file *file;
};

/* bpf_find_vma's callback: the file of an executable mapping */
static long executable_file(struct task_struct *task, struct vm_area_struct *vma, struct vma_found *found)
{
	if (BPF_CORE_READ(vma, vm_flags) & VM_EXEC_FLAG)
		found->file = BPF_CORE_READ(vma, vm_file);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int tracepoint_loader_mmap(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vma_found found = {};
	long ret = ctx->ret;

	if (ret < 0 && ret > -4096)
		return 0;	/* mmap failed */
	if (bpf_find_vma(task, (__u64)ret, executable_file, &found, 0) || !found.file)
		return 0;
	report(task, found.file, 0);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_tp_loader_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	/* the exec's task is current: its BTF pointer, which the walk may read through */
	report(bpf_get_current_task_btf(), BPF_CORE_READ(bprm, file), VIGIL_LOADER_EXEC);
	return 0;
}
