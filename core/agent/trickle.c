/* trickle.c - whether the records reaching the reader are a trickle (reader_wait, agent.c).
 *
 * A trickle (an exec storm's few records a millisecond) lets the reader poll by the kernel's
 * wake-up bound with no wake-ups forced; a denser stream keeps its 500 us poll and its
 * wake-ups. The rate is counted over windows of at least TRICKLE_WINDOW_NS, not over the
 * reader's last rounds: a round can be a few microseconds (epoll is ready again while a burst
 * is still being written, or a wake-up from another CPU), so two rounds could fall between
 * two bursts of a paced stream and judge 50 records a millisecond a trickle. The stream then
 * waited for a 2 ms poll, 1 round in 4 at 50k/s: bench_latency's p99 2-3 ms.
 *
 * A fast stream (FAST_PER_MS and more, over the same windows) is polled every 250 us instead
 * of 500 (agent.c): its records come in runs the subscriber takes ~7 us each to read (nanomsg's
 * receive path: 50 a millisecond keep it busy ~350 us), so a run's last record reached it
 * ~350 us after the run's first was read, and the reader's wait (up to its poll) came on top:
 * at 50k/s the p99's ~1 ms was that wait's 500 us, that drain, and this machine's scheduling
 * delays. A slower dense stream's drain is short and keeps the 500 us poll: the shorter poll
 * costs the agent a timer wake-up more each 500 us, the traced tasks nothing. */
#include "agent_internal.h"

/* Records a millisecond at most, over the last full window and the current one, for the
 * stream to count as a trickle: an exec storm's ~3 (clone, exec, exit a millisecond), not a
 * paced 10k/s (10 a millisecond). Not 8: the span measured is 2-3 ms (a window closes at the
 * first round past 2 ms, the current one may have no records yet) and holds 2 or 3 of a paced
 * stream's bursts, so 10 a millisecond could read 20 in 3 ms, a trickle: at 8, 1 round in ~10
 * of bench_latency's 10k/s waited for the 2 ms poll (its p99 2.1 ms in every half second) */
#define TRICKLE_PER_MS 6
/* At least a paced stream's period (bench_latency: a burst a millisecond) and the reader's
 * trickle poll (2 ms): a trickle's rounds are each a window, as they were before */
#define TRICKLE_WINDOW_NS 2000000ULL
/* Records a millisecond from which the stream is fast: a paced 50k/s (50), not a 10k/s (10) */
#define FAST_PER_MS 24

void agent_trickle_init(struct agent_trickle *t, uint64_t now)
{
	*t = (struct agent_trickle){.prev_from = now, .from = now};
}

bool agent_trickle_next(struct agent_trickle *t, uint32_t records, uint64_t now)
{
	bool trickle;

	t->records += records;
	trickle = (t->prev_records + t->records) * 1000000ULL <= TRICKLE_PER_MS * (now - t->prev_from);
	t->fast = !trickle && (t->prev_records + t->records) * 1000000ULL >= FAST_PER_MS * (now - t->prev_from);
	if (now - t->from >= TRICKLE_WINDOW_NS) {
		t->prev_from = t->from;
		t->prev_records = t->records;
		t->from = now;
		t->records = 0;
	}
	return trickle;
}
