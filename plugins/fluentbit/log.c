/* log.c - vigil-forward's messages to stderr (a daemon's stderr is its journal). */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static bool verbose;

void fwd_log_verbose(bool on)
{
	verbose = on;
}

void fwd_log(enum fwd_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {
		[FWD_WARN] = "warning: ",
		[FWD_INFO] = "",
		[FWD_DEBUG] = "debug: ",
	};
	va_list ap;

	if (level == FWD_DEBUG && !verbose)
		return;
	/* one fprintf per part, but stderr is unbuffered and we are single-threaded */
	fprintf(stderr, "vigil-forward: %s", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
