/* libbpf_print.c - libbpf's messages go where vigil's go. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "loader.h"
#include "loader_internal.h"

/* Verifier logs arrive as one message of many kilobytes: format it whole. */
static void forward(enum vigil_log_level level, const char *fmt, va_list ap)
{
	char *line = NULL;

	if (vasprintf(&line, fmt, ap) < 0)
		return;
	vigil_log(level, "libbpf: %s", line);
	free(line);
}

static int print_normal(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	forward(level == LIBBPF_WARN ? VIGIL_LOG_WARN : VIGIL_LOG_DEBUG, fmt, ap);
	return 0;
}

static int print_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	forward(VIGIL_LOG_DEBUG, fmt, ap);
	return 0;
}

libbpf_print_fn_t loader_libbpf_print(bool quiet)
{
	return libbpf_set_print(quiet ? print_quiet : print_normal);
}
