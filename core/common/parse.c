/* parse.c - strict number and duration parsing for command-line values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int vigil_parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s || *end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int vigil_parse_duration(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000ULL}, {"m", 60000000000ULL},
		     {"h", 3600000000000ULL}};
	uint64_t total = 0;
	unsigned long long n;
	char *end;
	size_t i, best, len;

	if (!*s)
		return -EINVAL;
	while (*s) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		errno = 0;
		n = strtoull(s, &end, 10);
		if (errno)
			return -EINVAL;
		if (!*end && !total) {		/* a bare number: seconds */
			*out = n * 1000000000ULL;
			return n > 10ULL * 365 * 86400 ? -ERANGE : 0;
		}
		for (i = 0, best = VIGIL_ARRAY_SIZE(units), len = 0; i < VIGIL_ARRAY_SIZE(units); i++)
			if (!strncmp(end, units[i].unit, strlen(units[i].unit)) && strlen(units[i].unit) > len) {
				best = i;
				len = strlen(units[i].unit);
			}
		if (best == VIGIL_ARRAY_SIZE(units) || n > 10ULL * 365 * 86400 * 1000000000ULL / units[best].ns)
			return -EINVAL;
		total += n * units[best].ns;
		s = end + len;
	}
	*out = total;
	return 0;
}
