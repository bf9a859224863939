/* output.h - submit a record to the ring buffer with batched wake-ups, bounded in time.
 *
 * Waking the reader for every record costs more than the program itself (an exec storm
 * measured +7.4% with a wake-up per record, +2.1% batched), so records go out with
 * BPF_RB_NO_WAKEUP, and a record forces the wake-up when either
 *   - `wakeup_batch` records of this CPU went out without one, or
 *   - the last wake-up of this CPU is bound_ns old or more (vg_wake; --wakeup-us).
 * The second rule bounds how long a record waits while records keep coming (a burst of 50
 * records a millisecond never reaches a batch of 64), and makes the first record after a
 * quiet spell wake the reader at once: a lone event is not left to the reader's poll timer.
 * Wake-ups stay at most one per bound_ns (default 2 ms) per CPU however fast records come:
 * a wake-up costs the program that forces it ~15-20 us on our VMs. Records between them are
 * found by the reader, which polls every 500 us until none came for bound_ns (core/agent).
 * While it polls so, it says until when in vg_reader, and while it says so a record forces
 * nothing (an exec storm: no wake-up per exec): before that time the reader looks by
 * itself, and after it the reader is late, its timer already fired: runnable or still
 * reading, it consumes at the end of its round whatever came, and a wake-up would only cost
 * the traced task its interrupt (a self-IPI through the APIC: a VM exit here, ~30% of the
 * exec record's samples under perf). A reader that goes idle or meets a denser stream
 * writes 0 first and looks once more soon after (core/agent); from 0 on, the rules above
 * apply. */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include "process_maps.h"

/* Records per forced wake-up; 1 wakes for every record. Set by the loader. */
const volatile __u32 wakeup_batch = 64;

static __always_inline void output_record(void *data, __u64 size)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u32 zero = 0;
	struct vigil_wake *w = bpf_map_lookup_elem(&vg_wake, &zero);
	__u64 *poll_by = bpf_map_lookup_elem(&vg_reader, &zero);

	if (!w) {
		flags = BPF_RB_FORCE_WAKEUP;
	} else {
		__u64 now = bpf_ktime_get_ns();

		if (poll_by && *(volatile __u64 *)poll_by) {
			w->pending = 0;		/* the reader looks by then, or as soon as it runs */
		} else if (++w->pending >= wakeup_batch || (w->bound_ns && now - w->last_ns >= w->bound_ns)) {
			w->pending = 0;
			w->last_ns = now;
			flags = BPF_RB_FORCE_WAKEUP;
		}
	}
	if (bpf_ringbuf_output(&vg_events, data, size, flags)) {
		count_error(VIGIL_KERR_RINGBUF_FULL);
		if (((struct vigil_msg_hdr *)data)->op == VIGIL_OP_EXEC)
			count_error(VIGIL_KERR_RINGBUF_FULL_EXEC);
	}
}

#endif
