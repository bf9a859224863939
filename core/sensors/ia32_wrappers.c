/* ia32_wrappers.c - which i386 wrapper functions a hook on x86-64 syscall X must also sit on
 * to see X's 32-bit calls (int 0x80) where syscall hooks are trampolines or kprobes. The i386
 * table calls __ia32_sys_X or __ia32_compat_sys_X for most calls, but some i386 calls whose
 * twin is X (the table of cmake/CompatSyscalls.cmake) have entries named otherwise:
 * setuid16 (__ia32_sys_setuid16), socketcall and ipc (their calls' twins), _llseek
 * (__ia32_sys_llseek), stat (newstat), stat64 and old mmap (ia32_/x86_ by kernel version)...
 * The names are looked up in the running kernel's BTF; a wrapper that no call of X reaches
 * costs only runs its program turns away (bpf/lib/dispatch_maps.h vg_wrapper_compat checks
 * each 32-bit call's twin), a missing one is a hole, so the candidates err on the side of many. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "sensors_internal.h"

static const char *const prefixes[] = {"__ia32_compat_sys_", "__ia32_sys_"};

/* The kernel's __ia32_ functions, sorted: one walk of its BTF a hook, not one a candidate. */
struct ia32_names {
	const char **names;
	size_t n;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int ia32_names_read(const struct btf *vmlinux, struct ia32_names *out)
{
	uint32_t id, cnt = btf__type_cnt(vmlinux);
	size_t cap = 0;

	out->names = NULL;
	out->n = 0;
	for (id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(vmlinux, id);
		const char *name = t && btf_is_func(t) ? btf__name_by_offset(vmlinux, t->name_off) : NULL;

		if (!name || strncmp(name, "__ia32_", 7))
			continue;
		if (out->n == cap) {
			const char **grown = realloc(out->names, (cap = cap ? cap * 2 : 1024) * sizeof(*grown));

			if (!grown) {
				free(out->names);
				return -ENOMEM;
			}
			out->names = grown;
		}
		out->names[out->n++] = name;
	}
	if (out->n)	/* none (no IA32_EMULATION): names is NULL, which qsort may not take */
		qsort(out->names, out->n, sizeof(*out->names), cmp_names);
	return 0;
}

static bool known(char out[][64], size_t n, const char *fn)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(out[i], fn))
			return true;
	return false;
}

/* The first of the two wrappers of base the kernel has, into fn; false when neither. */
static bool find_wrapper(const struct ia32_names *k, const char *base, char fn[64])
{
	const char *key = fn;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(prefixes); i++) {
		if (snprintf(fn, 64, "%s%s", prefixes[i], base) >= 64)
			continue;	/* no wrapper's name is that long */
		if (k->n && bsearch(&key, k->names, k->n, sizeof(*k->names), cmp_names))
			return true;
	}
	return false;
}

/* An i386 call n's entry: the kernel's name for it, the most specific form first
 * (setuid is sys_setuid16 while __ia32_sys_setuid is setuid32's, time sys_time32, the old
 * getrlimit compat_sys_old_getrlimit, stat sys_newstat, umount sys_oldumount). A call of X's
 * own name finds X's wrapper, found already. */
static bool entry_of(const struct ia32_names *k, const char *n, char fn[64])
{
	static const char *const forms[] = {"%s16", "ia32_%s", "x86_%s", "old_%s", "old%s", "new%s",
					    "%s_time32", "%s32", "%s"};
	/* names no form gives (x86_: Linux 6.9's renames of 6.1's ia32_ ones) */
	static const char *const odd[][2] = {{"mmap2", "mmap_pgoff"}, {"pread64", "x86_pread"},
					     {"pwrite64", "x86_pwrite"}, {"fstatat64", "x86_fstatat"}};
	char base[48];
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(odd); i++)
		if (!strcmp(n, odd[i][0]) && find_wrapper(k, odd[i][1], fn))
			return true;
	if (n[0] == '_')	/* _llseek is sys_llseek, _newselect sys_select */
		n++;
	for (i = 0; i < VIGIL_ARRAY_SIZE(forms); i++) {
		snprintf(base, sizeof(base), forms[i], n);
		if (find_wrapper(k, base, fn))
			return true;
	}
	return false;
}

size_t ia32_wrappers(const struct btf *vmlinux, const char *name, char out[][64], size_t *missed)
{
	struct ia32_names k;
	const char *names[16];
	size_t i, n = 0, nnames;
	char fn[64];

	*missed = 0;
	if (!vmlinux)
		return 0;
	if (ia32_names_read(vmlinux, &k)) {
		pr_warn("sensors: the kernel's i386 wrappers of %s cannot be listed: its 32-bit calls are not seen", name);
		return 0;
	}
	if (find_wrapper(&k, name, fn))
		snprintf(out[n++], 64, "%s", fn);
	nnames = compat_names_of(syscall_nr(name), names, VIGIL_ARRAY_SIZE(names));
	for (i = 0; i < nnames; i++) {
		if (!entry_of(&k, names[i], fn) || known(out, n, fn))
			continue;
		if (n < VG_IA32_WRAPPERS)
			snprintf(out[n++], 64, "%s", fn);
		else
			(*missed)++;
	}
	free(k.names);
	return n;
}
