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

/* The proleptic Gregorian date of a day count since 1970-01-01 (days >= 0): Howard Hinnant's
 * civil_from_days, over 400-year eras of 146097 days that start on March 1st. */
static void civil_from_days(uint64_t days, uint32_t *y, uint32_t *m, uint32_t *d)
{
	uint64_t z = days + 719468;	/* days since 0000-03-01 */
	uint64_t era = z / 146097;
	uint32_t doe = (uint32_t)(z - era * 146097);	/* [0, 146096] */
	uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;	/* [0, 399] */
	uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);	/* [0, 365], from March 1st */
	uint32_t mp = (5 * doy + 2) / 153;	/* [0, 11], March first */

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (uint32_t)(yoe + era * 400) + (*m <= 2);
}

void vigil_format_time(uint64_t wall_ns, char out[40])
{
	/* an event formats several times of the same few seconds (its own, its processes'
	 * starts): the calendar part is kept per thread for the last second seen. A miss is
	 * arithmetic, not gmtime_r + strftime (~1,300 instructions and the time zone's lock):
	 * an exec's event alternates between now and its processes' start times, and missed
	 * on most of them */
	static __thread uint64_t last_secs = UINT64_MAX;
	static __thread char last[20];
	uint64_t secs = wall_ns / 1000000000ULL;
	uint32_t nsec = (uint32_t)(wall_ns % 1000000000ULL);
	size_t n = 19;

	if (secs != last_secs) {
		uint32_t sod = (uint32_t)(secs % 86400), y, m, d;

		civil_from_days(secs / 86400, &y, &m, &d);	/* uint64 ns end in 2554: 4 digits */
		put_digits(last, y, 4);
		last[4] = '-';
		put_digits(last + 5, m, 2);
		last[7] = '-';
		put_digits(last + 8, d, 2);
		last[10] = 'T';
		put_digits(last + 11, sod / 3600, 2);
		last[13] = ':';
		put_digits(last + 14, sod / 60 % 60, 2);
		last[16] = ':';
		put_digits(last + 17, sod % 60, 2);
		last_secs = secs;
	}
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
