/* stacks.h - kernelStackTrace / userStackTrace: the addresses of the current kernel and
 * user stacks appended to the record after the arguments; user space names them (kallsyms,
 * the ELF symbols of the mapped binaries). Copied into the record rather than kept in a
 * stack map so a record carries its own stacks: nothing to look up or free later, and
 * return probes keep them with the record until the exit. */
#ifndef VIGIL_STACKS_H
#define VIGIL_STACKS_H

#include "args.h"

#define STACK_BYTES (VG_STACK_FRAMES * 8)

/* The stack flags of the selector's Post actions. */
static __always_inline __u8 selector_stacks(const volatile struct vg_selector *sel)
{
	__u8 want = 0;
	int i;

	for (i = 0; i < VG_MAX_ACTIONS; i++) {
		if (i >= sel->nactions)
			break;
		if (sel->actions[i].kind == VG_ACT_POST)
			want |= sel->actions[i].stacks;
	}
	return want;
}

/* Append the stacks `want` names after the arguments. With the arguments already past
 * DATA_OFF_LIMIT there is no room: the stacks are left out and counted. */
static __always_inline void capture_stacks(struct generic_scratch *s, void *ctx, __u8 want)
{
	__u32 off = s->rec.hdr.size - offsetof(struct vg_generic_record, data);
	long n;

	s->rec.kstack_len = 0;
	s->rec.ustack_len = 0;
	s->rec.stack_off = 0;
	if (!want)
		return;
	off = (off + 7) & ~7u;
	if (off > DATA_OFF_LIMIT) {
		count_error(VIGIL_KERR_STACK_NO_ROOM);
		return;
	}
	off &= DATA_OFF_LIMIT;
	s->rec.stack_off = off;
	if (want & VG_STACK_KERNEL) {
		n = bpf_get_stack(ctx, &s->rec.data[off], STACK_BYTES, 0);
		if (n > 0) {
			s->rec.kstack_len = n & 1023;
			off += n & 1023;
		}
	}
	if (want & VG_STACK_USER) {
		n = bpf_get_stack(ctx, &s->rec.data[off & (DATA_OFF_LIMIT + 1024 - 1)], STACK_BYTES, BPF_F_USER_STACK);
		if (n > 0) {
			s->rec.ustack_len = n & 1023;
			off += n & 1023;
		}
	}
	s->rec.hdr.size = offsetof(struct vg_generic_record, data) + (off & (VG_DATA_MAX - 1));
}

#endif
