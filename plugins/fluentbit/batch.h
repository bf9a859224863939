/* batch.h - events grouped into batches per tag, sealed by count, size or age. */
#ifndef FWD_BATCH_H
#define FWD_BATCH_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evtime.h"

/* Called with a sealed batch: n packed entries under one tag; first_seq is the lowest
 * journal seq among them (0: none given). All arguments are borrowed for the duration of
 * the call. */
typedef void (*batch_seal_fn)(void *ctx, const char *tag, const void *entries, size_t len, uint32_t n,
			      uint64_t first_seq);

struct fwd_batcher;

/* NULL + errno. */
struct fwd_batcher *batcher_new(uint32_t count_max, size_t bytes_max, uint64_t flush_ms, batch_seal_fn seal,
				void *ctx);
/* Accepts NULL. Open batches are dropped: flush them first. */
void batcher_free(struct fwd_batcher *b);
/* Add one event to the batch of its tag: its record is head then body, together the bytes
 * of one well-formed msgpack map, copied at once; seq is its journal seq (0: none). The
 * batch is sealed when it reaches the count or byte limit. 0 or -ENOMEM (the event is
 * lost). */
int batcher_add(struct fwd_batcher *b, const char *tag, struct fwd_evtime t, const void *head, size_t head_len,
		const void *body, size_t body_len, uint64_t seq, uint64_t now_ms);
/* Seal the batches whose first event is flush_ms old by now_ms, or all of them. */
void batcher_flush(struct fwd_batcher *b, uint64_t now_ms, bool all);
/* The lowest journal seq in an open batch, or 0 when none holds one. */
uint64_t batcher_min_seq(const struct fwd_batcher *b);
/* When the oldest open batch falls due, or UINT64_MAX when none is open. */
uint64_t batcher_deadline(const struct fwd_batcher *b);

#endif
