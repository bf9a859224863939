/* dispatch.h - the raw_syscalls dispatcher's table, both sides.
 *
 * Where a syscall has no syscalls:sys_enter_X tracepoint of its own (kprobes and fentry
 * missing too), its hooks go on raw_syscalls/sys_enter, which every syscall of every task
 * passes. One dispatcher program sits there and tail-calls only the hooks registered for
 * the syscall's number, so a tenth such hook costs nothing on other syscalls. Slot
 * nr * VG_SYSCALL_CHAIN + k holds the k-th hook of syscall nr; a hook, once done, tail-calls
 * the next filled slot of its syscall (bpf/generic.bpf.c). Before any tail call the
 * dispatcher runs the prefilters of all of nr's hooks (below, "The hooks' prefilters") and
 * calls only the slots that passed; each hook's own "next slot" skips the others too (the
 * verdicts travel in vg_sys_regs). Filled by core/sensors/dispatch.c.
 */
#ifndef VIGIL_BPF_DISPATCH_H
#define VIGIL_BPF_DISPATCH_H

#define VG_SYSCALL_SLOTS 512	/* x86-64 syscall numbers (x32 ones, 512 and up, are not hooked); arm64 ends below 470 */
/* hooks per syscall number in the table; more attach alone on raw_syscalls (every syscall
 * pays for those). Every syscalls:sys_enter_X policy of the same syscall is one here: openat
 * takes three in the shipped configuration. Slots after the last filled one cost a failed
 * tail call each; 16 + the dispatcher stay under the kernel's 33 tail calls. (dispatch.c's
 * taken[] has a bit per slot: 16 at most.) */
#define VG_SYSCALL_CHAIN 16

/* With BPF trampolines a syscall's entry hooks are fentry programs on __x64_sys_X, and each
 * fentry program on a function costs its trampoline a call with its own enter and exit
 * bookkeeping (rcu, migration, stats). So one fentry program per hooked syscall (bpf/
 * fentry_dispatch.bpf.c) runs the hooks' prefilters (bpf/lib/syscall_prefilter.h, the rows by
 * the same slots as the raw_syscalls tables') and tail-calls those that pass through
 * vg_fentry: syscall nr's k-th hook in slot nr * VG_SYSCALL_CHAIN + k. Filled by
 * core/sensors/fentry_dispatch.c. (The i386 wrappers' programs stay one a hook: 32-bit calls
 * are rare, and a syscall may have several wrappers.) */
#define VG_FENTRY_TARGETS VG_SYSCALL_SLOTS

/* The hooks' prefilters (bpf/prefilter.h), held where the dispatcher evaluates them all on
 * the registers it copied (bpf/lib/syscall_prefilter.h), reading a string argument's first
 * bytes once per argument rather than once per hook, and tail-calling only the hooks whose
 * prefilter passed: on the shipped open storm, none. A hook's row is its prefilter rewritten
 * for that: each integer check on a register, with the capture's sign extension and the
 * filter's values as unsigned ranges and one mask; per selector the checks it needs and its
 * strings' first bytes. A row that cannot say all the hook's prefilter says (more selectors,
 * checks or ranges than it holds; an argument read otherwise than from a register) says less
 * (a check left out only lets more calls through) and is not `exact`: the hook then runs its
 * own prefilter as well. A hook without a row always runs (its own prefilter decides).
 * Compiled and kept by core/sensors/dispatch_prefilter.c and dispatch.c. */
#define VG_SPF_ROWS 128		/* hooks with a row at once (~113 KiB); more run unjudged */
#define VG_SPF_SELECTORS 4	/* selectors a row holds; more: no row (an extra one cannot be left out) */
#define VG_SPF_INTS 4		/* distinct integer checks per row (openat's shipped hooks: 1) */
#define VG_SPF_RANGES 4		/* value ranges per check (Equal: one a value) */
#define VG_SPF_STRS 8		/* strings per selector: bpf/prefilter.h VG_PF_VALUES */
#define VG_SPF_REGS 6		/* the syscall's argument registers */
#define VG_SPF_ALL 0xffffffffu	/* a pass mask: every slot runs */
#define VG_SPF_BYTES 8		/* first bytes of a string compared: bpf/prefilter.h VG_PF_BYTES */

struct vg_spf_int {
	__u8 reg;		/* argument register 0 .. 5 */
	__u8 shift;		/* the capture's sign_extend: v = (reg << shift) >> shift, */
	__u8 sext;		/* arithmetic when sext */
	__u8 negate;		/* pass when nothing hit */
	__u8 nranges;
	__u8 plain;		/* a quick test's Mask alone, on bits the extension keeps: reg & mask */
	__u8 pad[2];
	__u64 flip;		/* xor'ed into v before the ranges: 1 << 63 for signed order */
	__u64 mask;		/* a hit: v & mask */
	__u64 lo[VG_SPF_RANGES];	/* a hit: (v ^ flip) - lo <= span (unsigned) */
	__u64 span[VG_SPF_RANGES];
};

struct vg_spf_selector {
	__u8 ints;		/* bit j: check j must pass */
	__u8 nstr;		/* 0: no string check */
	__u8 pad[6];
	__u64 str_word[VG_SPF_STRS];	/* as bpf/prefilter.h's vg_pf_selector */
	__u64 str_mask[VG_SPF_STRS];
};

struct vg_spf_hook {
	__u8 nsel;
	__u8 nints;
	__u8 str_reg;		/* the register of the string the selectors' strings compare */
	__u8 exact;		/* the row is the hook's whole prefilter: a pass is its pass */
	__u8 pad[4];
	struct vg_spf_int ints[VG_SPF_INTS];
	struct vg_spf_selector sel[VG_SPF_SELECTORS];
};

/* Per syscall number: the row of each slot's hook (0: none, the hook always runs), 1 + the
 * last slot with a row, and its quick test (0: none). */
struct vg_spf_chain {
	__u8 row[VG_SYSCALL_CHAIN];
	__u8 end;
	__u8 quick;
	__u8 pad[6];
};

/* A syscall's quick test: all its rows' selectors at once, their equal integer checks made
 * one and their strings on the one register, so that a call none of its hooks can match (the
 * open storm: every open of the machine against openat's three shipped hooks) is known from
 * one pass over a few checks, without a row's lookup and call per hook. It answers "no row
 * passes" only when the walk of the rows would: the slots with a row are then all rejected
 * (pass = `none`); otherwise the rows are walked as before. A chain whose rows do not fit it
 * (more checks, selectors or strings than it holds, strings on two registers) has none.
 * Written whole into a free entry before its chain names it, as rows are, so a dispatcher
 * never reads one half written. Compiled by core/sensors/dispatch_prefilter.c; a syscall's
 * fentry dispatcher also gets it as constants, in a second instance of its program
 * (bpf/fentry_dispatch.bpf.c). */
#define VG_SPF_QUICKS 64	/* syscalls with a quick test at once (~65 KiB) */
#define VG_SPF_QINTS 8		/* distinct integer checks of all the rows (openat's shipped: 2) */
#define VG_SPF_QSEL 16		/* selectors of all the rows (openat's shipped: 4) */
#define VG_SPF_QSTRS 16		/* distinct strings of all the rows (openat's shipped: 10) */
#define VG_SPF_QPASS (1u << VG_SPF_QSTRS)	/* fentry_dispatch.bpf.c sel_need: a selector
						 * without strings passes */

struct vg_spf_quick_sel {
	__u8 ints;		/* bit j: check j must pass */
	__u8 pad;
	__u16 strs;		/* bit s: string s may match; 0: no string check */
};

struct vg_spf_quick {
	__u8 nints;
	__u8 nsel;
	__u8 nstr;
	__u8 str_reg;		/* the register of every string compared */
	__u32 none;		/* the pass mask when every row rejects: the slots without one */
	struct vg_spf_int ints[VG_SPF_QINTS];
	struct vg_spf_quick_sel sel[VG_SPF_QSEL];
	__u64 str_word[VG_SPF_QSTRS];
	__u64 str_mask[VG_SPF_QSTRS];
};

/* 32-bit syscalls (int 0x80, or a 32-bit task's: TS_COMPAT) carry i386 numbers. The
 * dispatcher maps each onto its x86-64 twin through vg_compat (i386 nr -> entry; slot
 * VG_COMPAT_SLOTS + call: socketcall's call `call`), rewrites its arguments into the x86-64
 * registers the hooks read, and runs the twin's hooks: a policy on openat sees int 0x80's
 * openat. Filled by core/sensors/dispatch.c from the table cmake/CompatSyscalls.cmake
 * generates, which says which calls map and why the others do not. */
#define VG_COMPAT_SLOTS 512		/* i386 numbers end below 470 */
#define VG_SOCKETCALL_CALLS 32		/* socketcall's calls (SYS_SOCKET 1 .. SYS_SENDMMSG 20) */
#define VG_IPC_CALLS 32			/* ipc's calls (SEMOP 1 .. SHMCTL 24), after socketcall's */
#define VG_IPC_SEMCTL 3			/* ipc's calls that read an argument through ptr */
#define VG_IPC_MSGRCV 12

/* How an i386 call's registers (ebx, ecx, edx, esi, edi, ebp: arguments 0 to 5, 32 bits
 * each, zero-extended) become the x86-64 twin's arguments. */
enum vg_compat_kind {
	VG_COMPAT_NONE = 0,	/* no twin: the call reaches no hook */
	VG_COMPAT_PLAIN,	/* the same arguments in the same order */
	VG_COMPAT_STRUCT,	/* one pointer to `mask` u32 arguments (old_mmap, old_select, a
				 * socketcall's call) */
	VG_COMPAT_SOCKETCALL,	/* socketcall(call, u32 *args): the call picks the twin */
	VG_COMPAT_UID16,	/* arguments in `mask` are 16-bit ids: 0xffff is -1 */
	VG_COMPAT_SPLIT64,	/* arguments in `mask` start a (low, high) pair: one 64-bit value */
	VG_COMPAT_MMAP2,	/* mmap's offset in pages */
	VG_COMPAT_CLONE,	/* tls and child_tid swapped (CLONE_BACKWARDS) */
	VG_COMPAT_ORDER,	/* argument j is i386 argument (order >> 4j) & 15, 15: none (0):
				 * waitpid is wait4 without rusage, statfs64 statfs without size */
	VG_COMPAT_LLSEEK,	/* _llseek(fd, high, low, result, whence): lseek(fd, offset, whence) */
	VG_COMPAT_IPC,		/* ipc(call, first, second, third, ptr, fifth): the call picks the
				 * twin (an ORDER entry after socketcall's) */
};

struct vg_compat_entry {
	__s16 nr;	/* the x86-64 twin; -1: none */
	__u8 kind;	/* enum vg_compat_kind */
	__u8 mask;
	__u32 order;	/* VG_COMPAT_ORDER */
};

#endif
