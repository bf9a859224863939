/* uaddr.c - an uprobe's `addrs` entry (a virtual address as the ELF's symbols and a
 * disassembler show it) into the file offset the kernel's uprobes attach at: the address
 * must lie in the file-backed part of an executable PT_LOAD segment, whose p_offset and
 * p_vaddr map one onto the other. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include "sensors_internal.h"

int uprobe_addr_offset(const char *path, uint64_t addr, uint64_t *off)
{
	Elf *elf = NULL;
	size_t i, n;
	GElf_Phdr ph;
	int fd, err = -ERANGE;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n)) {
		err = -ENOEXEC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz) {
			*off = addr - ph.p_vaddr + ph.p_offset;
			err = 0;
			break;
		}
	}
out:
	elf_end(elf);
	close(fd);
	return err;
}
