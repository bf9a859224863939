/* state.c - one plugin state per plugin_init: its config, its counters, its last error. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "falco_internal.h"

/* What the framework reads when there is no state at all (init ran out of memory). */
static const char no_state[] = "vigil: no plugin state (plugin_init failed to allocate one)";

struct fp_state *fp_state__new(size_t headroom)
{
	struct fp_state *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return NULL;
	st->headroom = headroom;
	fields_init();
	view_init();
	st->zone_gen = 1;		/* views start at 0: their first container clears the zone */
	if (!msgpack_zone_init(&st->zone, 2048)) {
		free(st);
		errno = ENOMEM;
		return NULL;
	}
	err = config_parse(NULL, &st->cfg, st->error, sizeof(st->error));
	if (err) {
		fp_state__free(st);
		errno = -err;
		return NULL;
	}
	return st;
}

int fp_state__configure(struct fp_state *st, const char *config)
{
	char why[sizeof(st->error) - 32];
	int err;

	err = config_parse(config, &st->cfg, why, sizeof(why));
	if (err)
		state_fail(st, "vigil: %s", why);
	return err;
}

void fp_state__free(struct fp_state *st)
{
	if (!st)
		return;
	fp_source__close(st, st->src);
	lookup_free(&st->lookup);
	msgpack_zone_destroy(&st->zone);
	vigil_msg__free(st->shown);
	arena_free(&st->arena);
	vigil_buf_free(&st->text);
	vigil_buf_free(&st->scratch);
	config_free(&st->cfg);
	free(st->abi_scratch);
	free(st);
}

void state_fail(struct fp_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->error, sizeof(st->error), fmt, ap);
	va_end(ap);
}

const char *fp_state__last_error(struct fp_state *st)
{
	if (!st)
		return no_state;
	if (st->error[0])
		return st->error;
	/* no failure: say what was seen, so a quiet source can be told from a broken one */
	snprintf(st->summary, sizeof(st->summary),
		 "vigil: no error; bus %s: %" PRIu64 " events delivered, %" PRIu64 " malformed messages skipped, %" PRIu64
		 " events filtered out, %" PRIu64 " payloads undecodable at extraction, %" PRIu64
		 " events missed (bus gaps)",
		 st->src ? st->src->url : st->cfg.bus, st->cnt.delivered, st->cnt.malformed, st->cnt.filtered, st->cnt.undecodable,
		 st->cnt.missed);
	return st->summary;
}

uint32_t fp_state__batch_size(const struct fp_state *st)
{
	return st->cfg.batch_size;
}

void fp_state__set_log(struct fp_state *st, fp_log_fn fn, void *owner)
{
	st->log = fn;
	st->log_owner = owner;
}

uint32_t fp_state__metrics(const struct fp_state *st, struct fp_metric *out)
{
	const struct fp_metric m[] = {
		{"events_missed", true, st->cnt.missed},	/* the bus dropped them: Falco fell behind */
		{"bus_gaps", true, st->cnt.gaps},
		{"agent_restarts", true, st->cnt.restarts},
		{"last_seq", false, st->cnt.last_seq},
		{"messages_received", true, st->cnt.received},
		{"events_delivered", true, st->cnt.delivered},
		{"messages_malformed", true, st->cnt.malformed},
		{"events_filtered", true, st->cnt.filtered},
	};
	uint32_t i;

	_Static_assert(sizeof(m) / sizeof(m[0]) <= FP_METRICS_MAX, "FP_METRICS_MAX holds every metric");
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		out[i] = m[i];
	return i;
}

void **fp_state__abi_scratch(struct fp_state *st)
{
	return &st->abi_scratch;
}
