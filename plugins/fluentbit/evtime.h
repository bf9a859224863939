/* evtime.h - Forward's EventTime from an event's "time" string. */
#ifndef FWD_EVTIME_H
#define FWD_EVTIME_H

#include <stddef.h>
#include <stdint.h>

/* EventTime is msgpack ext type 0 with 8 bytes: seconds and nanoseconds since the epoch,
 * each a big-endian uint32 (Forward protocol v1). */
struct fwd_evtime {
	uint32_t sec;
	uint32_t nsec;
};

/* Parse protojson's timestamp as vigil writes it (core/common/timefmt.c): RFC 3339 in UTC,
 * "2026-11-29T08:02:18.369395371Z", with 0 to 9 fractional digits. s is len bytes, not
 * NUL-terminated. Returns 0, or -EINVAL for anything else (including other zones and
 * times outside uint32 seconds). */
int evtime_parse(const char *s, size_t len, struct fwd_evtime *out);

/* The wall clock now (the fallback when an event has no usable "time"). */
struct fwd_evtime evtime_now(void);

#endif
