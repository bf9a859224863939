/* variants.c - the ELF bytes a hook's instance opens: generic.bpf.c built for its
 * mechanism alone (bpf/CMakeLists.txt, VG_VARIANT in bpf/generic.bpf.c).
 *
 * libbpf keeps a copy of every program of an open object (instructions, BTF, line info)
 * until the object is closed, and a hook's object lives as long as its policy: the whole
 * generic.bpf.c costs ~1.5 MiB of heap per hook, a variant a fifth of that. Every variant
 * has every program name (the others are empty stubs) and the same maps and data, so
 * generic.bpf.c's skeleton opens any of them. */
#include <sys/mman.h>
#include <stdint.h>
#include <unistd.h>

#include "sensors_internal.h"

#include "generic_tp_btf_sys.skel.h"
#include "generic_raw_tp_sys.skel.h"
#include "generic_tracepoint.skel.h"
#include "generic_kprobe.skel.h"
#include "generic_fentry.skel.h"
#include "generic_tp_btf.skel.h"
#include "generic_raw_tp_sys_enter.skel.h"
#include "generic_fmod_ret.skel.h"
#include "generic_lsm.skel.h"
#include "generic_uprobe.skel.h"
#include "generic_usdt.skel.h"
#include "generic_connect.skel.h"
#include "generic_strnstr.skel.h"	/* only its ELF bytes: see open_generic() */

const void *sensor_variant_elf(enum sensor_mech m, size_t *size)
{
	switch (m) {
	case MECH_RAW_SYSCALL_TP_BTF: return generic_tp_btf_sys_bpf__elf_bytes(size);
	case MECH_RAW_SYSCALL_RAW_TP:
	case MECH_RAW_SYSCALL_DISPATCH: return generic_raw_tp_sys_bpf__elf_bytes(size);
	case MECH_TRACEPOINT:
	case MECH_SYSCALL_TRACEPOINT: return generic_tracepoint_bpf__elf_bytes(size);
	case MECH_KPROBE: return generic_kprobe_bpf__elf_bytes(size);
	case MECH_TP_BTF:
	case MECH_TP_BTF_CHAIN: return generic_tp_btf_bpf__elf_bytes(size);
	case MECH_FENTRY:
	case MECH_FEXIT:
	case MECH_FENTRY_DISPATCH: return generic_fentry_bpf__elf_bytes(size);
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

const void *sensor_raw_tp_entry_elf(size_t *size)
{
	return generic_raw_tp_sys_enter_bpf__elf_bytes(size);
}

const void *sensor_strnstr_elf(size_t *size)
{
	return generic_strnstr_bpf__elf_bytes(size);
}

/* Drop the pages of bytes from the agent's resident set: they are libvigil.so's read-only
 * data, mapped from the file, so the next read faults them in again from the page cache. */
static void release_bytes(const void *bytes, size_t size)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)bytes + page - 1) & ~(page - 1);
	uintptr_t hi = ((uintptr_t)bytes + size) & ~(page - 1);

	if (bytes && hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

void sensor_variants_release(void)
{
	const void *bytes;
	enum sensor_mech m;
	size_t size;

	for (m = MECH_RAW_SYSCALL_TP_BTF; m <= MECH_USDT; m++) {
		bytes = sensor_variant_elf(m, &size);
		release_bytes(bytes, size);
	}
	bytes = sensor_raw_tp_entry_elf(&size);
	release_bytes(bytes, size);
	bytes = sensor_strnstr_elf(&size);
	release_bytes(bytes, size);
}
