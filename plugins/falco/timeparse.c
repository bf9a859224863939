/* timeparse.c - protojson timestamps back to nanoseconds, for event times and abstime fields.
 *
 * The encoder (core/common/timefmt.c) writes UTC with "Z" and 0 to 9 fractional digits;
 * that is all we accept. timegm would do, but it consults the time zone database on
 * every call; days from the civil date are plain arithmetic.
 */
#include <errno.h>

#include "falco_internal.h"

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

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, uint64_t m, uint64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int parse_rfc3339(const char *s, size_t n, uint64_t *ns)
{
	uint64_t year, mon, day, hh, mm, ss, frac = 0;
	size_t fdigits = 0, i;
	int64_t days;
	int err = -EINVAL;

	/* "YYYY-MM-DDTHH:MM:SS" then "Z" or "." 1-9 digits "Z" */
	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[n - 1] != 'Z')
		goto out;
	if (!digits(s, 4, &year) || !digits(s + 5, 2, &mon) || !digits(s + 8, 2, &day) ||
	    !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss))
		goto out;
	if (n > 20) {
		fdigits = n - 21;
		if (s[19] != '.' || !fdigits || fdigits > 9 || !digits(s + 20, fdigits, &frac))
			goto out;
		for (i = fdigits; i < 9; i++)
			frac *= 10;
	}
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		goto out;
	days = days_from_civil((int64_t)year, mon, day);
	*ns = (((uint64_t)days * 24 + hh) * 60 + mm) * 60 + ss;
	*ns = *ns * 1000000000ULL + frac;
	err = 0;
out:
	return err;
}
