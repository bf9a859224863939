/* fentry_dispatch.bpf.c - with BPF trampolines, the one fentry program on a hooked syscall's
 * function (__x64_sys_X): it tail-calls the syscall's fentry hooks through vg_fentry
 * (bpf/dispatch.h), so the
 * trampoline calls one program, with one enter and exit bookkeeping, however many policies
 * hook the syscall, and it runs their prefilters itself, tail-calling only the hooks that
 * may match. One instance per function, loaded by core/sensors/fentry_dispatch.c. */
#include "vigil_bpf.h"
#include "lib/dispatch_maps.h"
#include "lib/syscall_prefilter.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target;	/* its syscall's number: its chain in vg_fentry */

/* Every hook's prefilter at once (bpf/lib/syscall_prefilter.h) on the call's argument
 * registers (a 32-bit call's rewritten in c; a 64-bit call's read where the trampoline has
 * them), then, when some hook is to run, the registers copied into c (a 32-bit call's are
 * there already) and the slots whose hook may match, and those whose whole prefilter passed
 * here, said to the hooks (generic.bpf.c) with the call they are for. A call no hook may
 * match (the open storm's) writes nothing. Every slot when there is no copy. */
static __always_inline __u32 prefilter_all(struct vg_sys_regs *c, struct pt_regs *regs, __u32 nr, int compat)
{
#if defined(__TARGET_ARCH_x86)
	__u32 judged, pass;

	if (!c)
		return VG_SPF_ALL;
	if (compat) {
		pass = vg_syscall_prefilter(nr, &c->r, 0, &judged);
	} else {
		pass = vg_syscall_prefilter(nr, regs, 0, &judged);
		if (!pass)
			return 0;
		c->regs = 0;	/* r no longer the raw_syscalls dispatcher's copy */
		c->r.di = regs->di;
		c->r.si = regs->si;
		c->r.dx = regs->dx;
		c->r.r10 = regs->r10;
		c->r.r8 = regs->r8;
		c->r.r9 = regs->r9;
	}
	c->pass = pass;
	c->judged = judged;
	c->fentry_call = (__u64)regs;
	return pass;
#else
	return VG_SPF_ALL;
#endif
}

/* A lone hook in the chain's first slot prefilters itself: the rows' walk costs more than its
 * own check (596 against 341 instructions a run, vm lane). Its verdicts are forgotten, so the
 * hook finds none for this call and judges it alone. */
static __always_inline bool lone_hook(struct vg_sys_regs *c, __u32 nr)
{
	__u32 *end;

	end = nr < VG_FENTRY_TARGETS ? bpf_map_lookup_elem(&vg_fentry_ends, &nr) : NULL;
	if (!end || *end != 1)
		return false;
	if (c)
		c->fentry_call = 0;
	return true;
}

/* ctx[0]: the syscall's struct pt_regs. On the open storm no hook's prefilter passes: the
 * call costs this program and no tail call. vg_sys_regs is looked up once (on 6.1 a per-CPU
 * array's lookup is a helper call). */
SEC("fentry")
int fentry_dispatch(__u64 *ctx)
{
	__u32 nr = target, pass, zero = 0;
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	struct vg_sys_regs *c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	/* what each hook's own would do, once for all of them: -1 no hook runs */
	int compat = vg_wrapper_compat_in(c, regs, (int)nr);

	if (compat < 0)
		return 0;
	if (!compat && lone_hook(c, nr)) {
		fentry_chain_from(ctx, nr, 0, 1);
		return 0;
	}
	pass = prefilter_all(c, regs, nr, compat);
	if (pass)
		fentry_chain_from(ctx, target, 0, pass);
	return 0;
}
