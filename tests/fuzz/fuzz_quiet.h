/* fuzz_quiet.h - a print callback for fuzz targets: formats every message (so format
 * strings and their arguments are exercised) and prints nothing. */
#ifndef VIGIL_FUZZ_QUIET_H
#define VIGIL_FUZZ_QUIET_H

#include <stdarg.h>
#include <stdio.h>

#include "common/common.h"

static void fuzz_quiet(enum vigil_log_level level, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
}

#endif
