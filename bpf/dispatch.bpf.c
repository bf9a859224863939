/* dispatch.bpf.c - one program per direction on raw_syscalls: run only the hooks registered
 * for this syscall's number (bpf/dispatch.h). */
#include "vigil_bpf.h"
#include "lib/dispatch_maps.h"

char LICENSE[] SEC("license") = "GPL";

/* A 32-bit syscall's number is from the other table: the hooks turn those calls away
 * themselves (vg_compat_syscall), after their prefilter, so the common case pays no helper
 * call for it. */

/* Bit nr of [dir]: syscall nr has a hook in that direction's table. Every syscall of the
 * machine passes here and nearly none is hooked: one load and a test turn those away
 * before any tail call is tried. Kept by core/sensors/dispatch.c through the mmapped .bss. */
__u64 vg_hooked[2][VG_SYSCALL_SLOTS / 64];

static __always_inline bool hooked(int dir, __u64 nr)
{
	return nr < VG_SYSCALL_SLOTS && (vg_hooked[dir][nr / 64] & (1ULL << (nr % 64)));
}

/* One read of the registers for every hook of the syscall (vg_sys_regs). x86-64 only: the
 * hooks of other architectures read their registers themselves. */
static __always_inline void copy_regs(__u64 *ctx)
{
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	if (!c)
		return;
	c->regs = bpf_probe_read_kernel(&c->r, sizeof(c->r), (void *)ctx[0]) ? 0 : ctx[0];
#endif
}

/* ctx = {struct pt_regs *regs, long id} */
SEC("raw_tp/sys_enter")
int raw_tp_dispatch_enter(__u64 *ctx)
{
	__u64 nr = ctx[1];

	if (hooked(0, nr)) {
		copy_regs(ctx);
		dispatch_from(ctx, &vg_sys_enter, nr, 0);
	}
	return 0;
}

/* ctx = {struct pt_regs *regs, long ret}: the number is still in the regs */
SEC("raw_tp/sys_exit")
int raw_tp_dispatch_exit(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	__u64 nr = VG_SYSCALL_NR_CORE(regs);

	if (hooked(1, nr))
		dispatch_from(ctx, &vg_sys_exit, nr, 0);
	return 0;
}
