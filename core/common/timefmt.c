/* timefmt.c - boot-time to wall-clock conversion and protojson timestamp formatting. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"

int64_t vigil_boot_to_wall_offset(void)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return ((int64_t)rt.tv_sec - bt.tv_sec) * 1000000000LL + (rt.tv_nsec - bt.tv_nsec);
}

void vigil_format_time(uint64_t wall_ns, char out[40])
{
	time_t secs = (time_t)(wall_ns / 1000000000ULL);
	uint32_t nsec = (uint32_t)(wall_ns % 1000000000ULL);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	/* protojson prints 0, 3, 6 or 9 fractional digits: the shortest that is exact */
	if (nsec == 0)
		snprintf(out + n, 40 - n, "Z");
	else if (nsec % 1000000 == 0)
		snprintf(out + n, 40 - n, ".%03uZ", nsec / 1000000);
	else if (nsec % 1000 == 0)
		snprintf(out + n, 40 - n, ".%06uZ", nsec / 1000);
	else
		snprintf(out + n, 40 - n, ".%09uZ", nsec);
}
