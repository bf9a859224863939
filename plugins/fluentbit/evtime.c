/* evtime.c - RFC 3339 UTC timestamps to EventTime, without the C library's time zone state
 * (timegm reads TZ; this is pure arithmetic). */
#include <errno.h>
#include <stdbool.h>
#include <time.h>

#include "evtime.h"

/* n decimal digits at s; false if any is not a digit. */
static bool digits(const char *s, int n, long *out)
{
	long v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil: shift the year to start in March so the leap day comes last). */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int evtime_parse(const char *s, size_t len, struct fwd_evtime *out)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long y, mo, d, h, mi, se, frac = 0, secs;
	size_t i, nfrac = 0;

	/* fixed part: YYYY-MM-DDTHH:MM:SS */
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap(y)) || h > 23 ||
	    mi > 59 || se > 59)
		return -EINVAL;
	/* optional fraction, then Z */
	i = 19;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nfrac++) {
			if (nfrac == 9)
				return -EINVAL;
			frac = frac * 10 + (s[i] - '0');
		}
		if (!nfrac)
			return -EINVAL;
	}
	if (i + 1 != len || s[i] != 'Z')
		return -EINVAL;
	for (; nfrac < 9; nfrac++)
		frac *= 10;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	if (secs < 0 || secs > (long)UINT32_MAX)
		return -EINVAL;
	out->sec = (uint32_t)secs;
	out->nsec = (uint32_t)frac;
	return 0;
}

struct fwd_evtime evtime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct fwd_evtime){ .sec = (uint32_t)ts.tv_sec, .nsec = (uint32_t)ts.tv_nsec };
}
