/* generic_strnstr.bpf.c - generic.bpf.c with SubString's kfunc (bpf_strnstr, Linux 6.17+).
 * A separate object: a kernel without the kfunc refuses any program that calls it, so
 * only hooks with a SubString filter load this one (core/sensors/instance.c), and only
 * where the compiler found the kfunc in the kernel's BTF. */
#define VG_STRNSTR_KFUNC 1
#include "generic.bpf.c"
