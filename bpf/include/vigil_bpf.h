/* vigil_bpf.h - toolchain glue every BPF object includes first. */
#ifndef VIGIL_BPF_H
#define VIGIL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* vmlinux.h carries types, not macros. */
#ifndef NULL
#define NULL ((void *)0)
#endif
#define SIGKILL 9


#endif
