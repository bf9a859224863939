/* stacks.h - names the addresses of the stack traces a policy asked for
 * (kernelStackTrace, userStackTrace): kernel addresses from /proc/kallsyms, user addresses
 * from the ELF symbols of the file each one is mapped from (/proc/PID/maps). Private to
 * core/events. */
#ifndef VIGIL_EVENTS_STACKS_H
#define VIGIL_EVENTS_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

struct stack_symbols;

/* kallsyms_fd: an open /proc/kallsyms (borrowed), or -1 to open PROC_ROOT/kallsyms. */
struct stack_symbols *stack_symbols_new(const char *proc_root, int kallsyms_fd);
void stack_symbols_free(struct stack_symbols *s);

/* Name n kernel addresses into the symbolizer's kernel frames; returns them (valid until the
 * next call), *count set. Addresses no symbol covers keep a NULL symbol. */
const struct vigil_stack_frame *stack_symbols_kernel(struct stack_symbols *s, const uint64_t *addrs, size_t n,
						     size_t *count);
/* The same for the user addresses of process pid. */
const struct vigil_stack_frame *stack_symbols_user(struct stack_symbols *s, uint32_t pid, const uint64_t *addrs,
						   size_t n, size_t *count);

#endif
