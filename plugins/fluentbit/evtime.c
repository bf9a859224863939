/* evtime.c - the events' RFC 3339 UTC timestamps to Forward's EventTime (32-bit seconds and
 * nanoseconds). */
#include <errno.h>
#include <time.h>

#include "common/common.h"
#include "evtime.h"

int evtime_parse(const char *s, size_t len, struct fwd_evtime *out)
{
	uint64_t ns;

	if (vigil_parse_time(s, len, &ns) || ns / 1000000000ULL > UINT32_MAX)
		return -EINVAL;
	out->sec = (uint32_t)(ns / 1000000000ULL);
	out->nsec = (uint32_t)(ns % 1000000000ULL);
	return 0;
}

struct fwd_evtime evtime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct fwd_evtime){ .sec = (uint32_t)ts.tv_sec, .nsec = (uint32_t)ts.tv_nsec };
}
