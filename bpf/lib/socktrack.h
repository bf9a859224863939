/* socktrack.h - TrackSock / UntrackSock: a sock tied to the process that owns it, so events
 * on it that run in another task's context (softirq receive, a peer's send on loopback) are
 * reported as the owner's, as Tetragon does. The owner map is shared by every hook
 * (process_maps.h, vg_socks): one hook tracks, another reports. */
#ifndef VIGIL_SOCKTRACK_H
#define VIGIL_SOCKTRACK_H

#include "generic_maps.h"
#include "process_maps.h"

/* The record's process becomes the sock's owner, when the sock is tracked. */
static __always_inline void sock_owner_apply(struct generic_scratch *s, __u64 sk)
{
	struct vg_sock_owner *o;

	if (!sk)
		return;
	o = bpf_map_lookup_elem(&vg_socks, &sk);
	if (!o)
		return;
	s->rec.pid = o->pid;
	s->rec.tid = o->tid;
	s->rec.proc_ktime = o->ktime;
}

/* TrackSock: sk belongs to the record's process from now on; UntrackSock forgets it. */
static __always_inline void sock_track(struct generic_scratch *s, __u64 sk, bool track)
{
	struct vg_sock_owner o = {.pid = s->rec.pid, .tid = s->rec.tid, .ktime = s->rec.proc_ktime};

	if (!sk)
		return;
	if (!track) {
		bpf_map_delete_elem(&vg_socks, &sk);
		return;
	}
	bpf_map_update_elem(&vg_socks, &sk, &o, BPF_ANY);	/* LRU: makes room by forgetting the oldest */
}

#endif
