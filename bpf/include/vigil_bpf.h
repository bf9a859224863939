/* vigil_bpf.h - toolchain glue every BPF object includes first. */
#ifndef VIGIL_BPF_H
#define VIGIL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* vmlinux.h carries types, not macros. */
#ifndef NULL
#define NULL ((void *)0)
#endif
#define SIGKILL 9

/* How a reader loads kernel memory. A tp_btf program's arguments are BTF-typed pointers: a
 * plain load through them (and through the pointers loaded from them) is one instruction the
 * verifier makes fault-safe (BPF_PROBE_MEM), where a probe read is a helper call. raw_tp and
 * kprobe programs see plain numbers and must probe-read. */
enum vg_load {
	VG_LOAD_PROBE,		/* bpf_probe_read_kernel (BPF_CORE_READ): any pointer */
	VG_LOAD_BTF,		/* direct loads: BTF-typed pointers only (tp_btf, fentry, iterators) */
};

/* VG_READ(ld, src, a, b, ...): src->a->b... read the way ld says; ld must be a constant once
 * inlined, so that only one form is compiled in (the other would not pass the verifier). Both
 * are CO-RE relocated (vmlinux.h's types keep their access index). */
#define VG_READ(ld, src, a, ...)                                                                   \
	((ld) == VG_LOAD_BTF ? ___arrow(src, a, ##__VA_ARGS__) : BPF_CORE_READ(src, a, ##__VA_ARGS__))

/* A syscall's number and its sixth argument in the user registers the syscall entry saved
 * (struct pt_regs), per __TARGET_ARCH: libbpf's PT_REGS_PARMn_CORE_SYSCALL covers arguments
 * one to five only. x86-64 passes the sixth in r9 and keeps the number in orig_ax; arm64
 * passes it in x5 and keeps the number in syscallno (arch/arm64/include/asm/ptrace.h). */
#if defined(__TARGET_ARCH_x86)
#define VG_SYSCALL_PARM6_CORE(regs) BPF_CORE_READ((regs), r9)
#define VG_SYSCALL_NR_CORE(regs) BPF_CORE_READ((regs), orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define VG_SYSCALL_PARM6_CORE(regs) BPF_CORE_READ((const struct user_pt_regs *)(regs), regs[5])
#define VG_SYSCALL_NR_CORE(regs) BPF_CORE_READ((regs), syscallno)
#else
#error "vigil's BPF objects are built for __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

#if defined(__TARGET_ARCH_x86)
/* Argument i of a 64-bit syscall from a trampoline's (fentry, fexit, fmod_ret on __x64_sys_X)
 * first argument, which the verifier types as the struct pt_regs it is: plain loads it checks
 * against BTF, where BPF_CORE_READ calls bpf_probe_read_kernel per register (~100
 * instructions each, every time the hook runs; tests/bench/README.md, "The storms in
 * instructions"). */
static __always_inline __u64 vg_syscall_reg_typed(const struct pt_regs *regs, __u32 i)
{
	switch (i) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	default: return regs->r9;
	}
}
#endif

/* Is the current syscall a 32-bit one (int 0x80 or a 32-bit task on x86-64)? Its number is
 * in the other table (open is 5 there, fstat here): a hook keyed by number must not run for
 * it. syscalls:sys_enter_X tracepoints skip these calls too (ARCH_TRACE_IGNORE_COMPAT_
 * SYSCALLS). x86: TS_COMPAT in thread_info.status (arch/x86/include/asm/thread_info.h);
 * arm64 keys its compat tasks by TIF_32BIT, not tested here: false. */
#define VG_TS_COMPAT 0x0002
static __always_inline bool vg_compat_syscall(void)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *t = bpf_get_current_task_btf();

	return bpf_core_field_exists(t->thread_info.status) && (t->thread_info.status & VG_TS_COMPAT);
#else
	return false;
#endif
}


#endif
