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
	struct pt_regs r;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_sys_regs);
} vg_sys_regs SEC(".maps");

/* dir * VG_SYSCALL_SLOTS + nr -> 1 + the last filled slot of syscall nr in that direction's
 * table: the chain stops there instead of trying every empty slot after it (kept by
 * core/sensors/dispatch.c) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * VG_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} vg_sys_ends SEC(".maps");

/* Run the filled slots of syscall nr from slot `from` on: the first tail call that finds a
 * program does not return; an empty slot (a hook removed) falls through to the next. */
static __always_inline void dispatch_from(void *ctx, void *table, __u64 nr, __u32 from)
{
	__u32 k, key = (table == (void *)&vg_sys_exit ? VG_SYSCALL_SLOTS : 0) + (__u32)nr, end;
	__u32 *e;

	if (nr >= VG_SYSCALL_SLOTS)
		return;
	e = bpf_map_lookup_elem(&vg_sys_ends, &key);
	end = e ? *e : VG_SYSCALL_CHAIN;
#pragma unroll
	for (k = 0; k < VG_SYSCALL_CHAIN; k++)
		if (k >= from && k < end)
			bpf_tail_call(ctx, table, nr * VG_SYSCALL_CHAIN + k);
}

#endif
