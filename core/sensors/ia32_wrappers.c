/* ia32_wrappers.c - which i386 wrapper functions a hook on x86-64 syscall X must also sit on
 * to see X's 32-bit calls (int 0x80) where syscall hooks are trampolines or kprobes. The i386
 * table calls __ia32_sys_X or __ia32_compat_sys_X for most calls, but some i386 calls whose
 * twin is X (the table of cmake/CompatSyscalls.cmake) have entries named otherwise:
 * setuid16 (__ia32_sys_setuid16), socketcall and ipc (their calls' twins), _llseek
 * (__ia32_sys_llseek), stat (newstat), stat64 and old mmap (ia32_/x86_ by kernel version)...
 * The names are looked up in the running kernel's BTF; a wrapper that no call of X reaches
 * costs only runs its program turns away (bpf/lib/args.h wrapper_compat checks each 32-bit
 * call's twin), a missing one is a hole, so the candidates err on the side of many. */
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "sensors_internal.h"

static const char *const prefixes[] = {"__ia32_compat_sys_", "__ia32_sys_"};

static bool known(char out[][64], size_t n, const char *fn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(out[i], fn))
			return true;
	return false;
}

/* The first of the two wrappers of base that BTF has, into fn; false when neither. */
static bool find_wrapper(const struct btf *vmlinux, const char *base, char fn[64])
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(prefixes); i++) {
		if (snprintf(fn, 64, "%s%s", prefixes[i], base) >= 64)
			continue;	/* no wrapper's name is that long */
		if (btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC) >= 0)
			return true;
	}
	return false;
}

/* An i386 call n's entry: the kernel's name for it, the most specific form first
 * (setuid is sys_setuid16 while __ia32_sys_setuid is setuid32's). */
static bool entry_of(const struct btf *vmlinux, const char *n, char fn[64])
{
	static const char *const forms[] = {"%s16", "ia32_%s", "x86_%s", "old_%s", "new%s", "%s_time32", "%s"};
	char base[48];
	size_t i;

	if (n[0] == '_')	/* _llseek is sys_llseek, _newselect sys_select */
		n++;
	for (i = 0; i < VIGIL_ARRAY_SIZE(forms); i++) {
		snprintf(base, sizeof(base), forms[i], n);
		if (find_wrapper(vmlinux, base, fn))
			return true;
	}
	return false;
}

/* A same-name call (open, setuid32, futex_time64) enters through X's own wrapper. */
static bool enters_as_twin(const char *n, enum vg_compat_kind kind, const char *name)
{
	size_t len = strlen(name);

	if (kind != VG_COMPAT_PLAIN || strncmp(n, name, len))
		return false;
	return !n[len] || !strcmp(n + len, "32") || !strcmp(n + len, "_time64");
}

size_t ia32_wrappers(const struct btf *vmlinux, const char *name, char out[][64], size_t *missed)
{
	const char *names[16];
	enum vg_compat_kind kinds[16];
	size_t i, n = 0, nnames;
	char fn[64];

	*missed = 0;
	if (!vmlinux)
		return 0;
	if (find_wrapper(vmlinux, name, fn))
		snprintf(out[n++], 64, "%s", fn);
	nnames = compat_names_of(syscall_nr(name), names, kinds, VIGIL_ARRAY_SIZE(names));
	for (i = 0; i < nnames; i++) {
		if (enters_as_twin(names[i], kinds[i], name) || !entry_of(vmlinux, names[i], fn) || known(out, n, fn))
			continue;
		if (n < VG_IA32_WRAPPERS)
			snprintf(out[n++], 64, "%s", fn);
		else
			(*missed)++;
	}
	return n;
}
