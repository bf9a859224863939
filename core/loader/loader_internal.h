/* loader_internal.h - what the loader files share. */
#ifndef VIGIL_LOADER_INTERNAL_H
#define VIGIL_LOADER_INTERNAL_H

#include <bpf/libbpf.h>

/* Route libbpf's messages through vigil's print callback; `quiet` demotes its warnings to
 * debug (probing expects failures). Returns the previous libbpf print function. */
libbpf_print_fn_t loader_libbpf_print(bool quiet);

#endif
