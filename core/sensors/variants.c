/* variants.c - the ELF bytes a hook's instance opens: generic.bpf.c built for its
 * mechanism alone (bpf/CMakeLists.txt, VG_VARIANT in bpf/generic.bpf.c).
 *
 * libbpf keeps a copy of every program of an open object (instructions, BTF, line info)
 * until the object is closed, and a hook's object lives as long as its policy: the whole
 * generic.bpf.c costs ~1.5 MiB of heap per hook, a variant a fifth of that. Every variant
 * has every program name (the others are empty stubs) and the same maps and data, so
 * generic.bpf.c's skeleton opens any of them. */
#include "sensors_internal.h"

#include "generic_tp_btf_sys.skel.h"
#include "generic_raw_tp_sys.skel.h"
#include "generic_tracepoint.skel.h"
#include "generic_kprobe.skel.h"
#include "generic_fentry.skel.h"
#include "generic_fmod_ret.skel.h"
#include "generic_lsm.skel.h"
#include "generic_uprobe.skel.h"
#include "generic_usdt.skel.h"
#include "generic_connect.skel.h"

const void *sensor_variant_elf(enum sensor_mech m, size_t *size)
{
	switch (m) {
	case MECH_RAW_SYSCALL_TP_BTF: return generic_tp_btf_sys_bpf__elf_bytes(size);
	case MECH_RAW_SYSCALL_RAW_TP:
	case MECH_RAW_SYSCALL_DISPATCH: return generic_raw_tp_sys_bpf__elf_bytes(size);
	case MECH_TRACEPOINT:
	case MECH_SYSCALL_TRACEPOINT: return generic_tracepoint_bpf__elf_bytes(size);
	case MECH_KPROBE: return generic_kprobe_bpf__elf_bytes(size);
	case MECH_TP_BTF:	/* generic_fentry, retargeted */
	case MECH_FENTRY: return generic_fentry_bpf__elf_bytes(size);
	case MECH_FMOD_RET: return generic_fmod_ret_bpf__elf_bytes(size);
	case MECH_LSM: return generic_lsm_bpf__elf_bytes(size);
	case MECH_UPROBE: return generic_uprobe_bpf__elf_bytes(size);
	case MECH_USDT: return generic_usdt_bpf__elf_bytes(size);
	case MECH_CGROUP_CONNECT: return generic_connect_bpf__elf_bytes(size);
	case MECH_FANOTIFY: break;
	}
	*size = 0;
	return NULL;
}
