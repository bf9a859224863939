/* seqtrack.c - gap detection over the delivery stamps a subscriber receives (stamp.c).
 *
 * Within one incarnation the agent numbers every message it publishes 1, 2, 3...; a jump
 * from last to seq means seq - last - 1 messages never arrived. A new incarnation is a
 * restarted agent: a new stream, counted as a restart, not as loss. */
#include "bus_internal.h"

uint64_t bus_seqtrack_note(struct vigil_delivery *t, const void *data, size_t len,
			   uint64_t *gap_first, uint64_t *gap_last)
{
	uint64_t inc = 0, seq = 0;
	int err = vigil_bus_stamp_read(data, len, &inc, &seq);

	return bus_seqtrack_stamp(t, err, inc, seq, gap_first, gap_last);
}

uint64_t bus_seqtrack_stamp(struct vigil_delivery *t, int stamp_err, uint64_t inc, uint64_t seq,
			    uint64_t *gap_first, uint64_t *gap_last)
{
	uint64_t missed = 0;

	t->received++;
	if (stamp_err) {
		t->unstamped++;		/* an older agent, a test publisher, or garbage */
		return 0;
	}
	if (inc != t->incarnation) {
		if (t->incarnation)
			t->restarts++;
		t->incarnation = inc;
		t->first_seq = seq;
		t->last_seq = seq;
		return 0;
	}
	if (seq <= t->last_seq) {
		t->reordered++;		/* a repeat or an older one: nothing to count as lost */
		return 0;
	}
	if (seq > t->last_seq + 1) {
		missed = seq - t->last_seq - 1;
		t->missed += missed;
		t->gaps++;
		t->last_gap_first = t->last_seq + 1;
		t->last_gap_last = seq - 1;
		if (gap_first)
			*gap_first = t->last_gap_first;
		if (gap_last)
			*gap_last = t->last_gap_last;
	}
	t->last_seq = seq;
	return missed;
}
