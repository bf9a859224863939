/* cgroup_rate.h - --cgroup-rate: per-cgroup exec rate limiting, as Tetragon's.
 *
 * Each CPU keeps a sliding window of its execs per cgroup (the current and the previous
 * interval, the previous one weighted by how much of it the window still covers). When
 * the rate reaches the limit, the cgroup is throttled on that CPU: one throttle record
 * tells user space (THROTTLE_START), and from then on that cgroup's exec records on that
 * CPU are counted, not sent, until user space sees the rate fall and clears `throttled`
 * (THROTTLE_STOP). The process is still remembered in vg_execs: selectors keep working.
 */
#ifndef VIGIL_CGROUP_RATE_H
#define VIGIL_CGROUP_RATE_H

#include "process_maps.h"
#include "output.h"

/* Execs per interval (0: off) and the interval in ns. Set by the loader. */
const volatile __u64 cgroup_rate_events = 0;
const volatile __u64 cgroup_rate_interval = 0;

/* cgroup id -> struct vigil_cgroup_rate, per CPU. Read and cleared by core/agent/throttle.c. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u64);
	__type(value, struct vigil_cgroup_rate);
} vg_cgrate SEC(".maps");

static __always_inline void send_throttle(__u64 cgroup_id, __u64 now)
{
	struct vigil_throttle_record rec = {
		.hdr = {.op = VIGIL_OP_THROTTLE, .size = sizeof(rec), .ktime = now},
		.cgroup_id = cgroup_id,
	};

	output_record(&rec, sizeof(rec));
}

/* Whether this exec of cgroup_id may be sent: false while the cgroup is throttled. */
static __always_inline bool cgroup_rate_allows(__u64 cgroup_id, __u64 now)
{
	__u64 interval = cgroup_rate_interval, delta, slide;
	struct vigil_cgroup_rate *v;

	if (!cgroup_rate_events || !interval)
		return true;
	v = bpf_map_lookup_elem(&vg_cgrate, &cgroup_id);
	if (!v) {
		struct vigil_cgroup_rate fresh = {.time = now / interval * interval, .curr = 1, .rate = 1};

		bpf_map_update_elem(&vg_cgrate, &cgroup_id, &fresh, BPF_ANY);
		return true;
	}
	delta = now - v->time;
	if (delta > interval) {
		if (delta > 2 * interval) {
			v->prev = 0;
			v->time = now / interval * interval;
		} else {
			v->prev = v->curr;
			v->time += interval;
		}
		v->curr = 0;
	}
	v->curr++;
	slide = now - v->time < interval ? interval - (now - v->time) : 0;
	v->rate = slide * v->prev / interval + v->curr;
	if (!v->throttled && v->rate >= cgroup_rate_events) {
		v->throttled = now;
		send_throttle(cgroup_id, now);
	}
	if (v->throttled)
		v->held_execs++;
	return !v->throttled;
}

/* An exit held back with its exec: counted against the cgroup it exits in. */
static __always_inline void cgroup_rate_held_exit(void)
{
	__u64 id = bpf_get_current_cgroup_id();
	struct vigil_cgroup_rate *v = bpf_map_lookup_elem(&vg_cgrate, &id);

	if (v)
		v->held_exits++;
}

#endif
