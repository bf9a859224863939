/* timefmt.c - boot-time to wall-clock conversion, protojson timestamp formatting and its
 * inverse. */
#include <errno.h>
#include <stdbool.h>
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

/* digits decimal digits of v at out, zero-padded */
static void put_digits(char *out, uint32_t v, int digits)
{
	while (digits--) {
		out[digits] = (char)('0' + v % 10);
		v /= 10;
	}
}

void vigil_format_time(uint64_t wall_ns, char out[40])
{
	/* an event formats several times of the same few seconds (its own, its processes'
	 * starts): the calendar part is kept per thread for the last second seen */
	static __thread time_t last_secs = -1;
	static __thread char last[32];
	static __thread size_t last_n;
	time_t secs = (time_t)(wall_ns / 1000000000ULL);
	uint32_t nsec = (uint32_t)(wall_ns % 1000000000ULL);
	struct tm tm;
	size_t n;

	if (secs != last_secs) {
		gmtime_r(&secs, &tm);
		last_n = strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%S", &tm);
		if (last_n > 28)	/* never: uint64 ns end in year 2554; room for ".123456789Z" */
			last_n = 0;
		last_secs = secs;
	}
	n = last_n;
	memcpy(out, last, n);
	/* protojson prints 0, 3, 6 or 9 fractional digits: the shortest that is exact */
	if (nsec == 0) {
		out[n++] = 'Z';
	} else {
		out[n++] = '.';
		if (nsec % 1000000 == 0) {
			put_digits(out + n, nsec / 1000000, 3);
			n += 3;
		} else if (nsec % 1000 == 0) {
			put_digits(out + n, nsec / 1000, 6);
			n += 6;
		} else {
			put_digits(out + n, nsec, 9);
			n += 9;
		}
		out[n++] = 'Z';
	}
	out[n] = '\0';
}

/* n decimal digits at s; false if any is not a digit. */
static bool digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil: the year starts in March so the leap day comes last). Plain arithmetic:
 * timegm would consult the time zone state on every call. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap_year(uint64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int vigil_parse_time_in_minute(const char *s, size_t n, uint64_t *ns)
{
	uint64_t se, frac = 0;
	size_t i = 19, nfrac = 0;

	/* ":SS", then "Z" or "." 1 to 9 digits "Z" */
	if (n < 20 || s[16] != ':' || !digits(s + 17, 2, &se) || se > 59)
		return -EINVAL;
	if (s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nfrac++) {
			if (nfrac == 9)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(s[i] - '0');
		}
		if (!nfrac)
			return -EINVAL;
	}
	if (i + 1 != n || s[i] != 'Z')
		return -EINVAL;
	for (; nfrac < 9; nfrac++)
		frac *= 10;
	*ns = se * 1000000000ULL + frac;
	return 0;
}

int vigil_parse_time(const char *s, size_t n, uint64_t *wall_ns)
{
	static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint64_t y, mo, d, h, mi, in_minute;

	/* "YYYY-MM-DDTHH:MM", then the seconds */
	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap_year(y)) ||
	    h > 23 || mi > 59 || vigil_parse_time_in_minute(s, n, &in_minute))
		return -EINVAL;
	*wall_ns = ((uint64_t)days_from_civil((int64_t)y, (int64_t)mo, (int64_t)d) * 86400 + h * 3600 + mi * 60) *
			   1000000000ULL +
		   in_minute;
	return 0;
}
