/* asm/errno.h - for libbpf's usdt.bpf.h, whose <linux/errno.h> wants the architecture's
 * header, which BPF builds (vmlinux.h, no target sysroot) do not have; every architecture
 * we build for uses the generic numbers. */
#include <asm-generic/errno.h>
