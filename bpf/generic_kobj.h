/* generic_kobj.h - the captured form of the argument types that name a kernel object
 * (bpf_attr, bpf_prog, bpf_map, perf_event, user_namespace, load_info, module): one summary
 * layout for all, filled by bpf/lib/args_kobj.h, decoded by core/decode/decode_kobj.c. */
#ifndef VIGIL_BPF_GENERIC_KOBJ_H
#define VIGIL_BPF_GENERIC_KOBJ_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VG_KOBJ_NAME 64		/* module names are at most 56 bytes (MODULE_NAME_LEN) */

/* sig_ok of a struct module: the kernel keeps it only with CONFIG_MODULE_SIG, and Tetragon
 * reports it for load_info only. */
#define VG_KOBJ_SIG_UNKNOWN 0xffffffffu

struct vg_kobj {
	__u32 type;		/* bpf prog type, bpf map type, perf event type */
	__u32 insn_cnt;		/* bpf_attr, bpf_prog */
	__u32 key_size, value_size, max_entries;	/* bpf_map */
	__s32 level;		/* user_namespace: nesting, 0 for the host's */
	__u32 uid, gid, inum;	/* user_namespace: owner, group, ns inode */
	__u32 sig_ok;		/* load_info: 1 when the signature checked out; else VG_KOBJ_SIG_UNKNOWN */
	__u64 config, probe_offset;	/* perf_event */
	__u64 taints;		/* module, load_info: the module's taint bits */
	char name[VG_KOBJ_NAME];	/* prog, map, module name; perf_event's kprobe function */
};

#endif
