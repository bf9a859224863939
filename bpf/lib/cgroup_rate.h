/* cgroup_rate.h - --cgroup-rate: per-cgroup rate limiting of process records, as Tetragon's.
 *
 * Each CPU keeps a sliding window of a cgroup's exec, clone and exit records (the current
 * and the previous interval, the previous one weighted by how much of it the window still
 * covers): Tetragon counts the same three (its bpf_execve_event.c, bpf_fork.c and
 * bpf_exit.h each call cgroup_rate). When the rate reaches the limit, the cgroup is
 * throttled on that CPU: one throttle record tells user space (THROTTLE_START), and from
 * then on that cgroup's exec and clone records on that CPU are counted, not sent, until
 * user space sees the rate fall and clears `throttled` (THROTTLE_STOP). An exit goes
 * where its exec or clone went (vg_execs' VIGIL_KF_THROTTLED), where Tetragon drops an
 * exit by the rate at exit time: a consumer never sees an exit without its start, nor a
 * start without its exit. The process is still remembered in vg_execs: selectors keep
 * working.
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

/* Which record a window counts: the held_* counter it bumps while throttled. */
enum cgroup_rate_kind {
	CGROUP_RATE_EXEC,
	CGROUP_RATE_CLONE,
	CGROUP_RATE_EXIT,	/* counted in the rate; its fate is its start's */
};

/* Count one record of cgroup_id in its window; whether the cgroup is not throttled (an exec
 * or clone record may then be sent). */
static __always_inline bool cgroup_rate_allows(__u64 cgroup_id, __u64 now, enum cgroup_rate_kind kind)
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
	if (v->throttled) {
		if (kind == CGROUP_RATE_EXEC)
			v->held_execs++;
		else if (kind == CGROUP_RATE_CLONE)
			v->held_clones++;
	}
	return !v->throttled;
}

/* An exit: counted in the current cgroup's rate, and when its exec or clone was held back
 * (held true), counted as held with it. */
static __always_inline void cgroup_rate_exit(__u64 now, bool held)
{
	__u64 id = bpf_get_current_cgroup_id();
	struct vigil_cgroup_rate *v;

	if (!cgroup_rate_events || !cgroup_rate_interval)
		return;
	cgroup_rate_allows(id, now, CGROUP_RATE_EXIT);
	if (!held)
		return;
	v = bpf_map_lookup_elem(&vg_cgrate, &id);
	if (v)
		v->held_exits++;
}

#endif
