/* dispatch_maps.h - the dispatcher's program tables (bpf/dispatch.h), one per direction.
 * Defined alike in the dispatcher and in every hook instance, which reuses the
 * dispatcher's fds (core/sensors/dispatch.c). */
#ifndef VIGIL_DISPATCH_MAPS_H
#define VIGIL_DISPATCH_MAPS_H

#include "dispatch.h"

/* nr * VG_SYSCALL_CHAIN + k -> the k-th entry program on syscall nr */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, VG_SYSCALL_SLOTS * VG_SYSCALL_CHAIN);
	__type(key, __u32);
	__type(value, __u32);
} vg_sys_enter SEC(".maps");

/* nr * VG_SYSCALL_CHAIN + k -> the k-th return program on syscall nr */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, VG_SYSCALL_SLOTS * VG_SYSCALL_CHAIN);
	__type(key, __u32);
	__type(value, __u32);
} vg_sys_exit SEC(".maps");

/* The running syscall's user registers, copied by the dispatcher before its tail calls, so
 * its hooks read their arguments with loads instead of a helper call per argument each.
 * regs names whose copy it is (ctx[0], the struct pt_regs *): a hook that finds another
 * task's (preempted between the copy and the read) reads the registers itself. */
struct vg_sys_regs {
	__u64 regs;
	__u32 nr32;	/* a 32-bit call's i386 number (compat set) */
	__u16 nr;	/* the syscall whose hooks these registers are for */
	__u8 compat;	/* a 32-bit call, its registers rewritten as its x86-64 twin's */
	__u8 checked;	/* the copier knows whether the call is 32-bit (else the hook asks) */
	__u8 unread;	/* a 32-bit call whose argument array could not be read: zeros */
	__u8 exit_compat;	/* the exit side's own (exit_regs names whose): a 32-bit call */
	__u8 exit_checked;	/* the exit's copier knew whether the call is 32-bit */
	__u16 exit_nr;		/* the syscall whose exit hooks run (a 32-bit call's twin) */
	__u64 exit_regs;
	__u64 wrapper_regs;	/* fentry/kprobe on __ia32_sys_X: r holds this 32-bit call's
				 * registers as its twin's (generic.bpf.c); 0: a 64-bit call */
	/* the hooks' prefilters, which the dispatcher ran on r (bpf/lib/syscall_prefilter.h):
	 * bit k of pass, slot k's hook may match (the others are not tail-called); of judged,
	 * its prefilter passed there (the hook does not run it again). Reset with each copy. */
	__u32 pass;
	__u32 judged;
	__u64 fentry_call;	/* whose pass and judged they are when a syscall's fentry
				 * dispatcher set them (its struct pt_regs *, fentry_dispatch.bpf.c) */
	struct pt_regs r;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_sys_regs);
} vg_sys_regs SEC(".maps");

/* i386 nr -> its x86-64 twin and how its arguments map; VG_COMPAT_SLOTS + call -> socketcall's
 * call, VG_COMPAT_SLOTS + VG_SOCKETCALL_CALLS + call -> ipc's (bpf/dispatch.h). Filled once by
 * core/sensors/dispatch.c. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_COMPAT_SLOTS + VG_SOCKETCALL_CALLS + VG_IPC_CALLS);
	__type(key, __u32);
	__type(value, struct vg_compat_entry);
} vg_compat SEC(".maps");

/* dir * VG_SYSCALL_SLOTS + nr -> 1 + the last filled slot of syscall nr in that direction's
 * table: the chain stops there instead of trying every empty slot after it (kept by
 * core/sensors/dispatch.c) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * VG_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} vg_sys_ends SEC(".maps");

/* nr * VG_SYSCALL_CHAIN + k -> the k-th fentry hook on __x64_sys_X of syscall nr
 * (bpf/dispatch.h, VG_FENTRY_TARGETS): fentry programs on functions of one const struct
 * pt_regs * (a tail call reaches only programs of its own kind) */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, VG_FENTRY_TARGETS * VG_SYSCALL_CHAIN);
	__type(key, __u32);
	__type(value, __u32);
} vg_fentry SEC(".maps");

/* nr -> 1 + the last filled slot of vg_fentry's chain for syscall nr */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_FENTRY_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} vg_fentry_ends SEC(".maps");

/* Run vg_fentry's filled slots of target from slot `from` on, of those in `pass`, as
 * dispatch_from does. */
static __always_inline void fentry_chain_from(void *ctx, __u32 target, __u32 from, __u32 pass)
{
	__u32 k, end;
	__u32 *e;

	if (target >= VG_FENTRY_TARGETS)
		return;
	e = bpf_map_lookup_elem(&vg_fentry_ends, &target);
	end = e ? *e : VG_SYSCALL_CHAIN;
#pragma unroll
	for (k = 0; k < VG_SYSCALL_CHAIN; k++)
		if (k >= from && k < end && (pass & (1u << k)))
			bpf_tail_call(ctx, &vg_fentry, target * VG_SYSCALL_CHAIN + k);
}

/* Run the filled slots of syscall nr from slot `from` on, of those in `pass` (the slots whose
 * prefilter passed: vg_sys_regs): the first tail call that finds a program does not return;
 * an empty slot (a hook removed) falls through to the next. */
static __always_inline void dispatch_from(void *ctx, void *table, __u64 nr, __u32 from, __u32 pass)
{
	__u32 k, key = (table == (void *)&vg_sys_exit ? VG_SYSCALL_SLOTS : 0) + (__u32)nr, end;
	__u32 *e;

	if (nr >= VG_SYSCALL_SLOTS)
		return;
	e = bpf_map_lookup_elem(&vg_sys_ends, &key);
	end = e ? *e : VG_SYSCALL_CHAIN;
#pragma unroll
	for (k = 0; k < VG_SYSCALL_CHAIN; k++)
		if (k >= from && k < end && (pass & (1u << k)))
			bpf_tail_call(ctx, table, nr * VG_SYSCALL_CHAIN + k);
}

/* ipc(call, first, second, third, ptr, fifth) (a: its registers): the entry of its call (the
 * version in call's top half), whose ORDER picks the twin's arguments. semctl's fourth and
 * old msgrcv's msgp and msgtyp are read through ptr, as the kernel reads them. NULL: none. */
static __always_inline struct vg_compat_entry *vg_compat_ipc(__u32 *a)
{
	__u32 call = a[0] & 0xffff, version = a[0] >> 16, key, p[2] = {};

	if (call >= VG_IPC_CALLS)
		return NULL;
	if (call == VG_IPC_SEMCTL || (call == VG_IPC_MSGRCV && !version)) {
		bpf_probe_read_user(p, call == VG_IPC_SEMCTL ? 4 : 8, (void *)(__u64)a[4]);
		a[4] = p[0];
		if (call == VG_IPC_MSGRCV)
			a[5] = p[1];
	}
	key = VG_COMPAT_SLOTS + VG_SOCKETCALL_CALLS + call;
	return bpf_map_lookup_elem(&vg_compat, &key);
}

/* STRUCT: the n u32 arguments a[0] points to, in a[]; zeros past them. */
static __always_inline void vg_compat_struct(struct vg_sys_regs *c, __u32 n, __u32 *a)
{
	__u32 j;

	if (n > 6)
		n = 6;
	if (bpf_probe_read_user(a, n * sizeof(a[0]), (void *)(__u64)a[0])) {
		/* the kernel reads it next and may succeed (a page not yet faulted in): the hooks
		 * still run, on zeros, and count it */
		n = 0;
		c->unread = 1;
	}
#pragma unroll
	for (j = 0; j < 6; j++)
		if (j >= n)
			a[j] = 0;
}

/* ORDER: argument j of the twin is i386 argument (order >> 4j) & 15 (15: none, 0); LLSEEK's
 * offset is two of them, high half first. */
static __always_inline void vg_compat_order(const struct vg_compat_entry *e, __u32 *a, __u64 *v)
{
	__u32 j, k;

	if (e->kind == VG_COMPAT_LLSEEK) {
		v[0] = a[0];
		v[1] = (__u64)a[1] << 32 | a[2];
		v[2] = a[4];
		v[3] = v[4] = v[5] = 0;
		return;
	}
#pragma unroll
	for (j = 0; j < 6; j++) {
		k = (e->order >> (4 * j)) & 15;
		v[j] = k < 6 ? a[k] : 0;
	}
}

/* A 32-bit syscall (nr: its i386 number, regs: its saved user registers) as its x86-64 twin:
 * c->r gets the twin's arguments in the registers an x86-64 call passes them in (di, si, dx,
 * r10, r8, r9), zero-extended from the i386 ones (bx, cx, dx, si, di, bp), decoded where the
 * i386 ABI differs. Returns the twin's number, -1 when it has none. A subprogram: only 32-bit
 * calls pay for it, and each hook carries it once. */
static __noinline int vg_compat_args(struct vg_sys_regs *c, __u64 nr)
{
#if defined(__TARGET_ARCH_x86)
	struct vg_compat_entry *e;
	__u32 a[6], key, j, o;
	__u64 v[6] = {};

	if (!c || nr >= VG_COMPAT_SLOTS)
		return -1;
	key = (__u32)nr;
	e = bpf_map_lookup_elem(&vg_compat, &key);
	if (!e || (e->nr < 0 && e->kind != VG_COMPAT_SOCKETCALL && e->kind != VG_COMPAT_IPC))
		return -1;
	a[0] = (__u32)c->r.bx;
	a[1] = (__u32)c->r.cx;
	a[2] = (__u32)c->r.dx;
	a[3] = (__u32)c->r.si;
	a[4] = (__u32)c->r.di;
	a[5] = (__u32)c->r.bp;
	c->unread = 0;
	if (e->kind == VG_COMPAT_SOCKETCALL) {
		/* socketcall(call, args): the call's own entry, its arguments an array */
		if (a[0] >= VG_SOCKETCALL_CALLS)
			return -1;
		key = VG_COMPAT_SLOTS + a[0];
		e = bpf_map_lookup_elem(&vg_compat, &key);
		if (!e || e->nr < 0)
			return -1;
		a[0] = a[1];
	} else if (e->kind == VG_COMPAT_IPC) {
		e = vg_compat_ipc(a);
		if (!e || e->nr < 0)
			return -1;
	}
	if (e->kind == VG_COMPAT_STRUCT)
		vg_compat_struct(c, e->mask, a);
	for (j = 0, o = 0; j < 6; j++) {
		if (o >= 6)
			break;
		if (e->kind == VG_COMPAT_SPLIT64 && (e->mask & (1u << j)) && j < 5) {
			v[o++] = a[j] | (__u64)a[j + 1] << 32;
			j++;
			continue;
		}
		v[o] = a[j];
		if (e->kind == VG_COMPAT_UID16 && (e->mask & (1u << j)))
			v[o] = (a[j] & 0xffff) == 0xffff ? 0xffffffffULL : a[j] & 0xffff;
		o++;
	}
	if (e->kind == VG_COMPAT_ORDER || e->kind == VG_COMPAT_LLSEEK)
		vg_compat_order(e, a, v);
	if (e->kind == VG_COMPAT_MMAP2)
		v[5] <<= 12;	/* pages of 4 KiB, as the kernel's mmap2 takes them on x86 */
	if (e->kind == VG_COMPAT_CLONE) {
		__u64 t = v[3];

		v[3] = v[4];
		v[4] = t;
	}
	c->r.di = v[0];
	c->r.si = v[1];
	c->r.dx = v[2];
	c->r.r10 = v[3];
	c->r.r8 = v[4];
	c->r.r9 = v[5];
	c->nr32 = (__u32)nr;
	c->compat = 1;
	return e->nr;
#else
	return -1;
#endif
}

/* Before a syscall wrapper's hooks read an argument (fentry or kprobe on __x64_sys_X and on
 * __ia32_sys_X beside it, core/sensors/instance.c; once for all of them in the fentry
 * dispatcher, bpf/fentry_dispatch.bpf.c): a 32-bit call's registers are copied into
 * vg_sys_regs and rewritten as its x86-64 twin's, and marked with the call's regs (a 64-bit
 * call clears the mark, which args.h's wrapper_copy would otherwise find from an earlier
 * 32-bit call of the task). c: this CPU's vg_sys_regs (NULL when the lookup failed); nr: the
 * x86-64 syscall the hooks are for. 1: a 32-bit call of nr, 0: a 64-bit call, -1: a 32-bit
 * call of another syscall, or registers that cannot be read: no hook runs. */
static __always_inline int vg_wrapper_compat_in(struct vg_sys_regs *c, struct pt_regs *regs, int nr)
{
#if defined(__TARGET_ARCH_x86)
	if (!c)
		return vg_compat_syscall() ? -1 : 0;
	c->wrapper_regs = 0;
	if (!vg_compat_syscall())
		return 0;
	if (bpf_probe_read_kernel(&c->r, sizeof(c->r), regs))
		return -1;
	c->regs = 0;	/* not the raw_syscalls dispatcher's copy */
	if (vg_compat_args(c, c->r.orig_ax) != nr)
		return -1;
	c->wrapper_regs = (__u64)regs;
	return 1;
#else
	return 0;
#endif
}

/* vg_wrapper_compat_in on this CPU's vg_sys_regs (the fentry dispatcher, which keeps the
 * copy for its prefilter, looks it up once and calls the other). */
static __always_inline int vg_wrapper_compat(struct pt_regs *regs, int nr)
{
	__u32 zero = 0;

	return vg_wrapper_compat_in(bpf_map_lookup_elem(&vg_sys_regs, &zero), regs, nr);
}

/* Copy the running syscall's registers (ctx[0]) into c for the hooks of syscall nr; a
 * 32-bit call's as its twin's (compat: the caller checked). Returns the number the hooks
 * are for, -1: none. */
static __always_inline int vg_sys_regs_fill(struct vg_sys_regs *c, __u64 regs, __u64 nr, bool compat, bool checked)
{
	c->compat = 0;
	c->checked = checked;
	c->unread = 0;
	c->regs = 0;
	c->pass = VG_SPF_ALL;
	c->judged = 0;
	if (bpf_probe_read_kernel(&c->r, sizeof(c->r), (void *)regs))
		return compat ? -1 : (int)nr;	/* a 64-bit call's hooks read the registers themselves */
	if (compat) {
		int twin = vg_compat_args(c, nr);

		if (twin < 0)
			return -1;
		nr = twin;
	}
	c->nr = (__u16)nr;
	c->regs = regs;
	return (int)nr;
}

#endif
