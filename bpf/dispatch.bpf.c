/* dispatch.bpf.c - one program per direction on raw_syscalls: run only the hooks registered
 * for this syscall's number (bpf/dispatch.h), a 32-bit syscall's those of its x86-64 twin. */
#include "vigil_bpf.h"
#include "lib/dispatch_maps.h"
#include "lib/syscall_prefilter.h"

char LICENSE[] SEC("license") = "GPL";

/* Bit nr of [dir]: syscall nr has a hook in that direction's table (vg_native), or is the
 * i386 number of a syscall whose x86-64 twin has one (vg_compat_hooked); vg_hooked is the
 * union of the two. Every syscall of the machine passes here and nearly none is hooked: one
 * load and a test turn those away before anything else. Kept by core/sensors/dispatch.c
 * through the mmapped .bss. */
__u64 vg_hooked[2][VG_SYSCALL_SLOTS / 64];
__u64 vg_native[2][VG_SYSCALL_SLOTS / 64];
__u64 vg_compat_hooked[2][VG_COMPAT_SLOTS / 64];

static __always_inline bool bit(__u64 *map, __u64 nr)
{
	return map[nr / 64] & (1ULL << (nr % 64));
}

/* Which hooks run for the syscall (nr: its number as the entry saw it), its registers copied
 * once for all of them on entry (vg_sys_regs). A 32-bit call is asked for (one helper call)
 * only when its number is a hooked twin's i386 number: a 64-bit call whose number only
 * collides with a hooked x86-64 one goes to the hooks unchecked, which ask themselves once
 * their prefilter passed (generic.bpf.c). -1: none. */
static __always_inline int route(__u64 *ctx, int dir, __u64 nr)
{
	bool compat_hooked, compat = false;

	if (nr >= VG_SYSCALL_SLOTS || !bit(vg_hooked[dir], nr))
		return -1;
	compat_hooked = nr < VG_COMPAT_SLOTS && bit(vg_compat_hooked[dir], nr);
	if (compat_hooked) {
		compat = vg_compat_syscall();
		if (!compat && !bit(vg_native[dir], nr))
			return -1;
	}
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	if (!c)
		return compat ? -1 : (int)nr;
	if (dir == 0)
		return vg_sys_regs_fill(c, ctx[0], nr, compat, compat_hooked);
	/* the exit: which syscall its hooks run for, said to those that are no return probe's
	 * second half (syscalls:sys_exit_X: no entry kept a record to pair with) */
	c->exit_regs = ctx[0];
	c->exit_compat = compat;
	c->exit_checked = compat_hooked;
	c->exit_nr = (__u16)nr;
	if (compat) {
		/* only the twin's number (its registers still hold the call's own) */
		int twin;

		if (bpf_probe_read_kernel(&c->r, sizeof(c->r), (void *)ctx[0]))
			return -1;
		c->regs = 0;
		twin = vg_compat_args(c, nr);
		c->exit_nr = (__u16)twin;
		return twin;
	}
#endif
	return (int)nr;
}

/* The slots of syscall nr whose hooks' prefilters pass on the registers route copied, said
 * to the hooks through the copy; every slot when there is no copy (the hooks read the
 * registers themselves, and prefilter themselves). */
static __always_inline __u32 prefilter_all(__u64 *ctx, __u32 nr)
{
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c;
	__u32 zero = 0, judged, pass;

	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	if (!c || c->regs != ctx[0])
		return VG_SPF_ALL;
	pass = vg_syscall_prefilter(nr, &c->r, 0, &judged);
	c->pass = pass;
	c->judged = judged;
	return pass;
#else
	return VG_SPF_ALL;
#endif
}

/* ctx = {struct pt_regs *regs, long id} */
SEC("raw_tp/sys_enter")
int raw_tp_dispatch_enter(__u64 *ctx)
{
	int nr = route(ctx, 0, ctx[1]);
	__u32 pass;

	if (nr < 0)
		return 0;
	pass = prefilter_all(ctx, nr);
	if (pass)
		dispatch_from(ctx, &vg_sys_enter, nr, 0, pass);
	return 0;
}

/* ctx = {struct pt_regs *regs, long ret}: the number is still in the regs. Every syscall
 * exit of the machine passes here while a return hook is loaded, so this side is tp_btf: its
 * regs are typed and the number is one load, where raw_tp's untyped ctx takes a helper read
 * (~45 of its ~100 ns a run on the getppid storm, bpf_stats on). Its table holds tp_btf
 * programs (generic_tp_btf_sys_exit): a tail call keeps to programs of its own kind. */
SEC("tp_btf/sys_exit")
int tp_btf_dispatch_exit(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
#if defined(__TARGET_ARCH_x86)
	int nr = route(ctx, 1, regs->orig_ax);
#else
	int nr = route(ctx, 1, regs->syscallno);
#endif

	if (nr >= 0)
		dispatch_from(ctx, &vg_sys_exit, nr, 0, VG_SPF_ALL);
	return 0;
}
