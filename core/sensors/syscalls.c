/* syscalls.c - the build architecture's syscall names and numbers (from the kernel headers at
 * build time, core/sensors/CMakeLists.txt). */
#include <string.h>

#include "sensors_internal.h"
#include "syscall_arch.h"

const char syscall_sym_prefix[] = SYSCALL_SYM_PREFIX;
const char syscall_arch_name[] = SYSCALL_ARCH_NAME;

static const struct {
	const char *name;
	int nr;
} syscalls[] = {
#include "syscall_table.inc"
};

const char *syscall_base_name(const char *call)
{
	static const char *const prefixes[] = {SYSCALL_SYM_PREFIX, "__ia32_sys_", "sys_"};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(prefixes); i++)
		if (!strncmp(call, prefixes[i], strlen(prefixes[i])))
			return call + strlen(prefixes[i]);
	return call;
}

const char *vigil_syscall_name(unsigned int nr)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(syscalls); i++)
		if (syscalls[i].nr >= 0 && (unsigned int)syscalls[i].nr == nr)
			return syscalls[i].name;
	return NULL;
}

int syscall_nr(const char *name)
{
	/* Tetragon's lists may name the ABI; x64 is the only one vigil hooks */
	const char *base = syscall_base_name(strncmp(name, "x64/", 4) ? name : name + 4);
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(syscalls); i++)
		if (!strcmp(syscalls[i].name, base))
			return syscalls[i].nr;
	return -1;
}

int syscall_nth(size_t i)
{
	return i < VIGIL_ARRAY_SIZE(syscalls) ? syscalls[i].nr : -1;
}
