/* batch.c - open batches, one per tag, in a small fixed table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "common/common.h"
#include "frame.h"
#include "tag.h"

/* Tags open at once. vigil has a handful of event types, and the default tag has one per
 * type; a template with {node_name} on a relay might see more, and then the oldest open
 * batch is sealed early to make room, which costs only batch size. */
#define BATCH_SLOTS 16

struct batch {
	char tag[FWD_TAG_MAX];
	struct vigil_buf entries;	/* packed [EventTime, record] entries */
	uint32_t n;			/* 0: the slot is free */
	uint64_t opened_ms;
	uint64_t first_seq;		/* the lowest journal seq in it, 0: none */
};

struct fwd_batcher {
	uint32_t count_max;
	size_t bytes_max;
	uint64_t flush_ms;
	batch_seal_fn seal;
	void *ctx;
	struct batch slots[BATCH_SLOTS];
};

struct fwd_batcher *batcher_new(uint32_t count_max, size_t bytes_max, uint64_t flush_ms, batch_seal_fn seal,
				void *ctx)
{
	struct fwd_batcher *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->count_max = count_max;
	b->bytes_max = bytes_max;
	b->flush_ms = flush_ms;
	b->seal = seal;
	b->ctx = ctx;
	return b;
}

void batcher_free(struct fwd_batcher *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < BATCH_SLOTS; i++)
		vigil_buf_free(&b->slots[i].entries);
	free(b);
}

static void seal(struct fwd_batcher *b, struct batch *s)
{
	b->seal(b->ctx, s->tag, s->entries.data, s->entries.len, s->n, s->first_seq);
	/* keep the memory: the next batch of this tag is about as large */
	vigil_buf_reset(&s->entries);
	s->n = 0;
	s->first_seq = 0;
}

/* The open batch for tag, or a free slot, or the oldest slot sealed to make room. */
static struct batch *slot_for(struct fwd_batcher *b, const char *tag)
{
	struct batch *free_slot = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < BATCH_SLOTS; i++) {
		struct batch *s = &b->slots[i];

		if (!s->n) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (!strcmp(s->tag, tag))
			return s;
		if (!oldest || s->opened_ms < oldest->opened_ms)
			oldest = s;
	}
	if (!free_slot) {
		seal(b, oldest);
		free_slot = oldest;
	}
	return free_slot;
}

int batcher_add(struct fwd_batcher *b, const char *tag, struct fwd_evtime t, const void *head, size_t head_len,
		const void *body, size_t body_len, uint64_t seq, uint64_t now_ms)
{
	struct batch *s = slot_for(b, tag);
	int err;

	err = frame_pack_entry_raw(&s->entries, t, head, head_len, body, body_len);
	if (err)
		return err;
	if (!s->n) {
		snprintf(s->tag, sizeof(s->tag), "%s", tag);
		s->opened_ms = now_ms;
	}
	s->n++;
	if (seq && (!s->first_seq || seq < s->first_seq))
		s->first_seq = seq;
	if (s->n >= b->count_max || s->entries.len >= b->bytes_max)
		seal(b, s);
	return 0;
}

void batcher_flush(struct fwd_batcher *b, uint64_t now_ms, bool all)
{
	size_t i;

	for (i = 0; i < BATCH_SLOTS; i++) {
		struct batch *s = &b->slots[i];

		if (s->n && (all || now_ms >= s->opened_ms + b->flush_ms))
			seal(b, s);
	}
}

uint64_t batcher_min_seq(const struct fwd_batcher *b)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < BATCH_SLOTS; i++)
		if (b->slots[i].n && b->slots[i].first_seq && (!m || b->slots[i].first_seq < m))
			m = b->slots[i].first_seq;
	return m;
}

uint64_t batcher_deadline(const struct fwd_batcher *b)
{
	uint64_t d = UINT64_MAX;
	size_t i;

	for (i = 0; i < BATCH_SLOTS; i++)
		if (b->slots[i].n && b->slots[i].opened_ms + b->flush_ms < d)
			d = b->slots[i].opened_ms + b->flush_ms;
	return d;
}
