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


#endif
