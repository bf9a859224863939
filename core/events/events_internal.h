/* events_internal.h - the decoder object and what the decode files share. */
#ifndef VIGIL_EVENTS_INTERNAL_H
#define VIGIL_EVENTS_INTERNAL_H

#include <stddef.h>

#include "events.h"

struct vigil_decoder {
	struct vigil_pcache *cache;
	int64_t boot_to_wall;
	uint32_t host_ns[VIGIL_NS_COUNT];
	struct vigil_decoder_stats stats;
	vigil_hook_resolver resolve;
	void *resolve_ctx;
	struct vigil_process *unknown;	/* stands in for processes the cache does not know */
};

/* Count a malformed record; returns -EBADMSG. */
int decode_bad(struct vigil_decoder *d);

/* A policy hook record (bpf/generic.h). Same contract as vigil_decoder__record. */
int decode_generic(struct vigil_decoder *d, const void *data, size_t size, struct vigil_event *ev);

#endif
