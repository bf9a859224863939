/* log.c - the library's print callback: the host decides where messages go. */
#include <stdio.h>

#include "common.h"

/* the default callback's level; changed at run time by the control socket (loglevel_set),
 * read by every thread that logs */
static int max_level = VIGIL_LOG_INFO;
static vigil_print_fn print_fn = vigil_print_stderr;

vigil_print_fn vigil_set_print(vigil_print_fn fn)
{
	vigil_print_fn old = print_fn;

	print_fn = fn;
	return old;
}

void vigil_print_set_debug(int enabled)
{
	vigil_print_set_level(enabled ? VIGIL_LOG_DEBUG : VIGIL_LOG_INFO);
}

void vigil_print_set_level(enum vigil_log_level level)
{
	__atomic_store_n(&max_level, (int)level, __ATOMIC_RELAXED);
}

enum vigil_log_level vigil_print_level(void)
{
	return (enum vigil_log_level)__atomic_load_n(&max_level, __ATOMIC_RELAXED);
}

void vigil_print_stderr(enum vigil_log_level level, const char *fmt, va_list ap)
{
	if ((int)level > __atomic_load_n(&max_level, __ATOMIC_RELAXED))
		return;
	vfprintf(stderr, fmt, ap);
}

void vigil_log(enum vigil_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!print_fn)
		return;
	va_start(ap, fmt);
	print_fn(level, fmt, ap);
	va_end(ap);
}
