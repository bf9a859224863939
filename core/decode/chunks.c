/* chunks.c - maxData: the chunk records (bpf/generic.h struct vg_chunk_record) that carry
 * an argument's bytes ahead of its event's record, gathered per (thread, event time,
 * argument) until the record takes them.
 *
 * The kernel side writes a thread's chunks and then its record back to back from one
 * program run, so a few buffers in flight suffice: CHUNK_SLOTS are reused in turn, and the
 * buffer an event borrowed stays untouched until the next record is decoded. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "decode_internal.h"
#include "generic.h"

static struct chunk_asm *find(struct vigil_decoder *d, uint32_t tid, uint64_t ktime, uint32_t slot)
{
	size_t i;

	for (i = 0; i < CHUNK_SLOTS; i++) {
		struct chunk_asm *a = &d->chunks[i];

		if (a->buf && a->tid == tid && a->ktime == ktime && a->slot == slot)
			return a;
	}
	return NULL;
}

int decode_chunk(struct vigil_decoder *d, const void *data, size_t size)
{
	struct vg_chunk_record c;
	struct chunk_asm *a;

	if (size < offsetof(struct vg_chunk_record, data) || size > sizeof(c))
		return decode_bad(d);
	memcpy(&c, data, offsetof(struct vg_chunk_record, data));
	if (c.len > VG_CHUNK_MAX || size != offsetof(struct vg_chunk_record, data) + c.len ||
	    (uint64_t)c.offset + c.len > VG_MAX_DATA_BYTES || c.slot >= VG_MAX_ARGS)
		return decode_bad(d);
	a = find(d, c.tid, c.event_ktime, c.slot);
	if (!a && c.offset)
		return 0;	/* its first chunk was lost: the event's argument will say truncated */
	if (!a) {
		a = &d->chunks[d->next_chunk++ % CHUNK_SLOTS];
		if (!a->buf)
			a->buf = malloc(VG_MAX_DATA_BYTES);
		if (!a->buf)
			return -ENOMEM;
		a->tid = c.tid;
		a->ktime = c.event_ktime;
		a->slot = c.slot;
		a->have = 0;
		a->broken = false;
	}
	if (c.offset != a->have) {
		a->broken = true;	/* a chunk in between was lost */
		return 0;
	}
	memcpy(a->buf + a->have, (const char *)data + offsetof(struct vg_chunk_record, data), c.len);
	a->have += c.len;
	return 0;
}

const char *decode_chunks_take(struct vigil_decoder *d, uint32_t tid, uint64_t ktime, uint32_t slot, uint32_t full)
{
	struct chunk_asm *a = find(d, tid, ktime, slot);

	if (!a || a->broken || a->have != full)
		return NULL;
	a->tid = 0, a->ktime = 0;	/* taken: no later chunk adds to it */
	return a->buf;
}

void decode_chunks_free(struct vigil_decoder *d)
{
	size_t i;

	for (i = 0; i < CHUNK_SLOTS; i++)
		free(d->chunks[i].buf);
}
