/* log.c - one line per message on stderr, prefixed so osqueryd's log shows whose it is. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

bool log_verbose;

void log_print(const char *level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line: session threads log concurrently */
	fprintf(stderr, "vigil.ext: %s: %s\n", level, line);
}
