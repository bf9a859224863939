/* dispatch.bpf.c - one program per direction on raw_syscalls: run only the hooks registered
 * for this syscall's number (bpf/dispatch.h). */
#include "vigil_bpf.h"
#include "lib/dispatch_maps.h"

char LICENSE[] SEC("license") = "GPL";

/* ctx = {struct pt_regs *regs, long id} */
SEC("raw_tp/sys_enter")
int raw_tp_dispatch_enter(__u64 *ctx)
{
	dispatch_from(ctx, &vg_sys_enter, ctx[1], 0);
	return 0;
}

/* ctx = {struct pt_regs *regs, long ret}: the number is still in the regs */
SEC("raw_tp/sys_exit")
int raw_tp_dispatch_exit(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];

	dispatch_from(ctx, &vg_sys_exit, VG_SYSCALL_NR_CORE(regs), 0);
	return 0;
}
