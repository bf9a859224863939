/* stats.h - vigil-forward's counters and gauges, written as one JSON object. */
#ifndef FWD_STATS_H
#define FWD_STATS_H

#include <stdint.h>

#include "common/common.h"

/* Counters only grow; gauges (marked) are the present value; *_max are high-water marks. */
struct fwd_stats {
	/* intake */
	uint64_t events_in;		/* decoded from the bus */
	uint64_t events_malformed;	/* bus messages that did not decode */
	uint64_t time_fallbacks;	/* events without a usable "time": receive time used */
	uint64_t events_missed;		/* published by the agent, never received (the stamps' gaps) */
	uint64_t gaps;			/* holes those were in */
	uint64_t loss_records;		/* vigil.delivery_loss records shipped for them */
	uint64_t journal_errors;	/* pulls from the agent's journal that failed (agent away?) */
	/* batches */
	uint64_t batches_sealed;
	uint64_t encode_errors;		/* batches lost to ENOMEM or zlib */
	/* delivery */
	uint64_t batches_sent;		/* written in full, resends included */
	uint64_t batches_resent;	/* written again after a disconnect or timeout */
	uint64_t bytes_sent;
	uint64_t batches_acked;
	uint64_t events_acked;		/* --ack on: delivered; --ack off: written */
	uint64_t acks_unknown;		/* acks naming no batch in flight */
	uint64_t replies_bad;		/* well-formed replies that are not acks */
	uint64_t replies_garbage;	/* invalid msgpack: the connection is dropped */
	uint64_t ack_timeouts;
	uint64_t connects;
	uint64_t connect_failures;
	uint64_t disconnects;
	/* spool */
	uint64_t dropped_batches;	/* spool full: the oldest backlog batch is dropped */
	uint64_t dropped_events;
	uint64_t disk_writes;
	uint64_t disk_loads;
	uint64_t disk_errors;
	uint64_t mem_bytes;		/* gauge */
	uint64_t mem_bytes_max;
	uint64_t disk_bytes;		/* gauge */
	uint64_t disk_bytes_max;
	uint64_t queued_batches;	/* gauge: in the spool, in flight included */
	uint64_t queued_events;		/* gauge */
	uint64_t inflight;		/* gauge: sent, awaiting ack */
	uint64_t connected;		/* gauge: 1 while a connection is up */
};

/* Append the stats as one JSON object (no newline). 0 or -ENOMEM. */
int stats_json(const struct fwd_stats *s, struct vigil_buf *out);
/* Replace path atomically (write a temporary file, then rename). 0 or -errno. */
int stats_write(const struct fwd_stats *s, const char *path);

#endif
