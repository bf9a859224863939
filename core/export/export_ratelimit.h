/* export_ratelimit.h - the per event type token buckets behind --export-rate-limit. */
#ifndef VIGIL_EXPORT_RATELIMIT_H
#define VIGIL_EXPORT_RATELIMIT_H

#include "export_internal.h"

struct export_rate_slot {
	enum vigil_event_type type;
	int64_t limit;			/* events a minute; -1 unlimited, 0 none */
	double tokens;			/* starts full: a burst of `limit` passes */
	uint64_t last_ns;
};

struct export_rate {
	int64_t def;			/* for types the spec does not name */
	size_t n;
	struct export_rate_slot slot[VIGIL_EXPORT_RATE_TYPES];
};

/* Parse a --export-rate-limit spec (see export.h) into r. 0 or -EINVAL. */
int export_rate_parse(const char *spec, struct export_rate *r);
/* Take a token for an event of type t at now_ns (monotonic). *slot gets the index of t's
 * bucket (-1 when there was no room for one: then the event passes). */
bool export_rate_allow(struct export_rate *r, enum vigil_event_type t, uint64_t now_ns, int *slot);

#endif
