/* syscalls.c - the build architecture's syscall names and numbers (from the kernel headers at
 * build time, core/sensors/CMakeLists.txt). */
#include <errno.h>
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

/* i386 -> x86-64 (cmake/CompatSyscalls.cmake): the generated lines fill these three tables */
struct compat_row {
	unsigned int nr32;
	const char *name;
	int nr;
	enum vg_compat_kind kind;
	unsigned int mask;	/* VG_COMPAT_ORDER: the order */
};

#define VG_COMPAT_ENTRY(nr32, name, nr, kind, mask) {nr32, name, nr, kind, mask},
#define VG_SOCKETCALL_ENTRY(call, name, nr, nargs)
#define VG_IPC_ENTRY(call, name, nr, order)
static const struct compat_row compat_rows[] = {
#include "compat_syscalls.inc"
	{0, NULL, -1, VG_COMPAT_NONE, 0},	/* an arch without a table has this row only */
};
#undef VG_COMPAT_ENTRY
#undef VG_SOCKETCALL_ENTRY
#define VG_COMPAT_ENTRY(nr32, name, nr, kind, mask)
#define VG_SOCKETCALL_ENTRY(call, name, nr, nargs) {call, name, nr, VG_COMPAT_STRUCT, nargs},
static const struct compat_row socketcall_rows[] = {
#include "compat_syscalls.inc"
	{0, NULL, -1, VG_COMPAT_NONE, 0},
};
#undef VG_SOCKETCALL_ENTRY
#undef VG_IPC_ENTRY
#define VG_SOCKETCALL_ENTRY(call, name, nr, nargs)
#define VG_IPC_ENTRY(call, name, nr, order) {call, name, nr, VG_COMPAT_ORDER, order},
static const struct compat_row ipc_rows[] = {
#include "compat_syscalls.inc"
	{0, NULL, -1, VG_COMPAT_NONE, 0},
};
#undef VG_COMPAT_ENTRY
#undef VG_SOCKETCALL_ENTRY
#undef VG_IPC_ENTRY

static int compat_find(const struct compat_row *rows, size_t n, unsigned int key, struct vg_compat_entry *out,
		       const char **name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].name && rows[i].nr32 == key) {
			out->nr = (__s16)rows[i].nr;
			out->kind = (__u8)rows[i].kind;
			out->mask = rows[i].kind == VG_COMPAT_ORDER ? 0 : (__u8)rows[i].mask;
			out->order = rows[i].kind == VG_COMPAT_ORDER ? rows[i].mask : 0;
			if (name)
				*name = rows[i].name;
			return 0;
		}
	out->nr = -1;
	out->kind = VG_COMPAT_NONE;
	out->mask = 0;
	out->order = 0;
	if (name)
		*name = NULL;
	return -ENOENT;
}

int compat_syscall_twin(unsigned int nr32, struct vg_compat_entry *out, const char **name)
{
	return compat_find(compat_rows, VIGIL_ARRAY_SIZE(compat_rows), nr32, out, name);
}

int compat_socketcall_twin(unsigned int call, struct vg_compat_entry *out)
{
	return compat_find(socketcall_rows, VIGIL_ARRAY_SIZE(socketcall_rows), call, out, NULL);
}

int compat_ipc_twin(unsigned int call, struct vg_compat_entry *out)
{
	return compat_find(ipc_rows, VIGIL_ARRAY_SIZE(ipc_rows), call, out, NULL);
}

static bool rows_reach(const struct compat_row *rows, size_t n, int nr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].name && rows[i].nr == nr)
			return true;
	return false;
}

size_t compat_names_of(int nr, const char **names, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < VIGIL_ARRAY_SIZE(compat_rows) && n < max; i++)
		if (compat_rows[i].name && compat_rows[i].nr == nr)
			names[n++] = compat_rows[i].name;
	if (n < max && rows_reach(socketcall_rows, VIGIL_ARRAY_SIZE(socketcall_rows), nr))
		names[n++] = "socketcall";
	if (n < max && rows_reach(ipc_rows, VIGIL_ARRAY_SIZE(ipc_rows), nr))
		names[n++] = "ipc";
	return n;
}
