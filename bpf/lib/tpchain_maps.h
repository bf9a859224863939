/* tpchain_maps.h - a tracepoint chain's maps (bpf/tpchain.h), defined alike in the head and
 * in every hook instance, which reuses the chain's fds (core/sensors/tpchain.c). */
#ifndef VIGIL_TPCHAIN_MAPS_H
#define VIGIL_TPCHAIN_MAPS_H

#include "tpchain.h"

/* k -> the program of the hook that holds slot k of this tracepoint's chain */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, VG_TP_CHAIN);
	__type(key, __u32);
	__type(value, __u32);
} vg_tp_chain SEC(".maps");

/* 0 -> 1 + the last filled slot: the chain stops there, not at every empty slot after it */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vg_tp_end SEC(".maps");

/* 0 -> per CPU, the number of the head's latest run: a capture left in the chain's scratch
 * is this firing's only while the number it was taken under is still the latest */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vg_tp_run SEC(".maps");

/* Run the chain's filled slots from slot `from` on: the first tail call that finds a program
 * does not return; an empty slot (a hook removed) falls through to the next. */
static __always_inline void tp_chain_from(void *ctx, __u32 from)
{
	__u32 k, zero = 0, end, *e;

	e = bpf_map_lookup_elem(&vg_tp_end, &zero);
	end = e ? *e : VG_TP_CHAIN;
#pragma unroll
	for (k = 0; k < VG_TP_CHAIN; k++)
		if (k >= from && k < end)
			bpf_tail_call(ctx, &vg_tp_chain, k);
}

#endif
