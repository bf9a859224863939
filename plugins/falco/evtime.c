/* evtime.c - the event's time for next_batch, converted with its minute remembered.
 *
 * Every event carries its time as RFC 3339 text ("2026-11-29T08:02:18.369395371Z") and
 * next_batch hands the framework nanoseconds. Events of one batch nearly always share their
 * minute, so the date and "hh:mm" are converted once (by libvigil's vigil_parse_time) and
 * only the seconds and the fraction per event. What is accepted, and the value, are
 * exactly vigil_parse_time's (tests/plugins/falco/test_evtime.c compares the two).
 */
#include <errno.h>
#include <string.h>

#include "falco_internal.h"

/* Seconds, fraction and "Z" after a minute the cache holds: vigil_parse_time's grammar
 * from offset 16 on. */
static int parse_tail(const char *s, size_t n, uint64_t *ns_in_minute)
{
	uint64_t se, frac = 0;
	size_t i = 19, nfrac = 0;

	if (s[16] != ':' || s[17] < '0' || s[17] > '9' || s[18] < '0' || s[18] > '9')
		return -EINVAL;
	se = (uint64_t)(s[17] - '0') * 10 + (uint64_t)(s[18] - '0');
	if (se > 59)
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
	*ns_in_minute = se * 1000000000ULL + frac;
	return 0;
}

int evtime_parse(struct evtime_cache *c, const char *s, size_t n, uint64_t *wall_ns)
{
	char minute[EVTIME_MINUTE + 4];
	uint64_t in_minute;
	int err;

	if (n >= 20 && c->valid && !memcmp(s, c->minute, EVTIME_MINUTE)) {
		err = parse_tail(s, n, &in_minute);
		if (!err)
			*wall_ns = c->base_ns + in_minute;
		return err;
	}
	err = vigil_parse_time(s, n, wall_ns);
	if (err)
		return err;
	/* a new minute: its start, written out and converted the long way */
	memcpy(minute, s, EVTIME_MINUTE);
	memcpy(minute + EVTIME_MINUTE, ":00Z", 4);
	if (vigil_parse_time(minute, sizeof(minute), &c->base_ns))
		return 0;	/* cannot happen (s parsed); the cache just stays as it was */
	memcpy(c->minute, s, EVTIME_MINUTE);
	c->valid = true;
	return 0;
}
