/* selectors_strnstr_test.bpf.c - selectors_test.bpf.c with SubString's kfunc, as
 * bpf/generic_strnstr.bpf.c is generic.bpf.c with it. */
#define VG_STRNSTR_KFUNC 1
#include "selectors_test.bpf.c"
