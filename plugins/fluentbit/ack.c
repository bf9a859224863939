/* ack.c - the batches in flight: Forward's chunk/ack pairing for at-least-once delivery.
 *
 * Batches are written in queue order, so those in flight are always a prefix of the queue
 * (acks may still arrive out of order and take batches from the middle of it). A peer acks
 * a chunk only after it has taken the batch in (Fluent Bit: fw_prot.c, once the chunk is
 * appended), so a batch acked is delivered, and one not acked is sent again: duplicates are
 * possible (a batch taken in whose ack was lost with the connection), loss is not.
 */
#include <errno.h>
#include <string.h>

#include "spool.h"

void ack_sent(struct fwd_spool *sp, struct frame *f, uint64_t now_ms)
{
	spool_set_state(sp, f, FRAME_SENT);
	f->sent_ms = now_ms;
}

int ack_settle(struct fwd_spool *sp, const char *chunk, size_t len)
{
	struct frame *f;
	int n;

	/* an empty id or one of another length cannot be ours: never match --ack off's "" */
	if (len != FWD_CHUNK_LEN)
		return -ENOENT;
	for (f = spool_first(sp); f && f->state != FRAME_QUEUED; f = f->next) {
		/* a batch still being written cannot have been taken in yet */
		if (f->state == FRAME_SENT && !memcmp(f->chunk, chunk, len)) {
			n = (int)f->nevents;
			spool_remove(sp, f);
			return n;
		}
	}
	return -ENOENT;
}

uint64_t ack_deadline(struct fwd_spool *sp, uint64_t timeout_ms)
{
	uint64_t first = UINT64_MAX;
	struct frame *f;

	for (f = spool_first(sp); f && f->state != FRAME_QUEUED; f = f->next)
		if (f->state == FRAME_SENT && f->sent_ms < first)
			first = f->sent_ms;
	return first == UINT64_MAX ? first : first + timeout_ms;
}

void ack_requeue_all(struct fwd_spool *sp)
{
	struct frame *f;

	for (f = spool_first(sp); f && f->state != FRAME_QUEUED; f = f->next) {
		spool_set_state(sp, f, FRAME_QUEUED);
		f->resend = true;
	}
}
