/* log.c - the library's print callback: the host decides where messages go. */
#include <stdio.h>

#include "common.h"

static int debug_enabled;
static vigil_print_fn print_fn = vigil_print_stderr;

vigil_print_fn vigil_set_print(vigil_print_fn fn)
{
	vigil_print_fn old = print_fn;

	print_fn = fn;
	return old;
}

void vigil_print_set_debug(int enabled)
{
	debug_enabled = enabled;
}

void vigil_print_stderr(enum vigil_log_level level, const char *fmt, va_list ap)
{
	if (level == VIGIL_LOG_DEBUG && !debug_enabled)
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
