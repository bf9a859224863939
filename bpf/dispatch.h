/* dispatch.h - the raw_syscalls dispatcher's table, both sides.
 *
 * Where a syscall has no syscalls:sys_enter_X tracepoint of its own (kprobes and fentry
 * missing too), its hooks go on raw_syscalls/sys_enter, which every syscall of every task
 * passes. One dispatcher program sits there and tail-calls only the hooks registered for
 * the syscall's number, so a tenth such hook costs nothing on other syscalls. Slot
 * nr * VG_SYSCALL_CHAIN + k holds the k-th hook of syscall nr; a hook, once done, tail-calls
 * the next filled slot of its syscall (bpf/generic.bpf.c). Filled by core/sensors/dispatch.c.
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

#endif
