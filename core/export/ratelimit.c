/* ratelimit.c - the export rate limit: a token bucket per event type, N events a minute
 * with bursts of up to N (Tetragon's --export-rate-limit unit, per type here). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export_ratelimit.h"

#define MINUTE_NS 60000000000.0

static int parse_count(const char *s, size_t n, int64_t *out)
{
	char buf[32];
	long v;

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (vigil_parse_long(buf, -1, 1L << 40, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

static struct export_rate_slot *slot_of(struct export_rate *r, enum vigil_event_type t, bool create)
{
	struct export_rate_slot *s;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->slot[i].type == t)
			return &r->slot[i];
	if (!create || r->n == VIGIL_EXPORT_RATE_TYPES)
		return NULL;
	s = &r->slot[r->n++];
	s->type = t;
	s->limit = r->def;
	s->tokens = r->def > 0 ? (double)r->def : 0;
	s->last_ns = 0;
	return s;
}

int export_rate_parse(const char *spec, struct export_rate *r)
{
	struct export_rate_slot *s;
	enum vigil_event_type t;
	const char *item, *end, *eq;
	char name[32];
	int64_t v;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->def = -1;
	if (!spec || !*spec)
		return -EINVAL;
	for (item = spec;; item = end + 1) {
		end = strchrnul(item, ',');
		eq = memchr(item, '=', (size_t)(end - item));
		if (!eq) {
			if (parse_count(item, (size_t)(end - item), &r->def))
				return -EINVAL;
		} else {
			if ((size_t)(eq - item) >= sizeof(name))
				return -EINVAL;
			memcpy(name, item, (size_t)(eq - item));
			name[eq - item] = '\0';
			if (vigil_event_type_parse(name, &t) || parse_count(eq + 1, (size_t)(end - eq - 1), &v))
				return -EINVAL;
			s = slot_of(r, t, true);
			if (!s)
				return -EINVAL;
			s->limit = v;
		}
		if (!*end)
			break;
	}
	/* buckets start full, at the limit they ended up with */
	for (i = 0; i < r->n; i++)
		r->slot[i].tokens = r->slot[i].limit > 0 ? (double)r->slot[i].limit : 0;
	return 0;
}

bool export_rate_allow(struct export_rate *r, enum vigil_event_type t, uint64_t now_ns, int *slot)
{
	struct export_rate_slot *s = slot_of(r, t, true);

	*slot = s ? (int)(s - r->slot) : -1;
	if (!s || s->limit < 0)
		return true;
	if (s->limit == 0)
		return false;
	if (s->last_ns) {
		s->tokens += (double)(now_ns - s->last_ns) * (double)s->limit / MINUTE_NS;
		if (s->tokens > (double)s->limit)
			s->tokens = (double)s->limit;
	}
	s->last_ns = now_ns;
	if (s->tokens < 1.0)
		return false;
	s->tokens -= 1.0;
	return true;
}
