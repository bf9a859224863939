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

int evtime_parse(struct evtime_cache *c, const char *s, size_t n, uint64_t *wall_ns)
{
	char minute[EVTIME_MINUTE + 4];
	uint64_t in_minute;
	int err;

	if (n >= 20 && c->valid && !memcmp(s, c->minute, EVTIME_MINUTE)) {
		err = vigil_parse_time_in_minute(s, n, &in_minute);
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
