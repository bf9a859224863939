/* generic_maps.h - the maps of one policy hook instance. Each instance owns them: the
 * compiler assigns filter ids within the hook and the loader sizes every map to what the
 * hook's selectors need (the sizes below are placeholders). */
#ifndef VIGIL_GENERIC_MAPS_H
#define VIGIL_GENERIC_MAPS_H

#include "generic.h"
#include "path.h"
#include "record.h"

/* (filter, len, bytes) -> 1: string and binary Equal / In. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct vg_str_key);
	__type(value, __u8);
} str_eq SEC(".maps");

/* (filter, bytes) longest-prefix -> 1: Prefix. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_lpm_str_key);
	__type(value, __u8);
} str_prefix SEC(".maps");

/* (filter, reversed bytes) longest-prefix -> 1: Postfix, a prefix of the reversed string. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_lpm_str_key);
	__type(value, __u8);
} str_postfix SEC(".maps");

/* (filter, k) -> the k-th SubString value of the filter (objects built with the
 * bpf_strnstr kfunc only use it). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct vg_sub_key);
	__type(value, struct vg_str_key);
} str_sub SEC(".maps");

/* (filter, value) -> 1: InMap / NotInMap. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct vg_int_key);
	__type(value, __u8);
} int_set SEC(".maps");

/* (filter, IPv4 address) longest-prefix -> 1: SAddr/DAddr with CIDRs. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_addr4_key);
	__type(value, __u8);
} addr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_addr6_key);
	__type(value, __u8);
} addr6 SEC(".maps");

struct rate_key {
	__u32 selector;
	__u32 pad;
	__u64 who;		/* tid, tgid or 0 by scope */
	__u64 arg_hash;		/* the arguments that make two events "the same" */
};

/* rate_key -> boot ns of the last posted event: Post's rateLimit. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rate_key);
	__type(value, __u64);
} rate_last SEC(".maps");

/* pid_tgid -> the entry's record, waiting for the return (return probes only; sized to
 * VG_PENDING_MAX by the loader, 1 otherwise). Preallocated: tracing programs on older
 * kernels may not allocate map elements. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, struct vg_generic_record);
} pending SEC(".maps");

/* VIGIL_NS_SLOTS rounded up to a power of two: an index masked with SCRATCH_NS_SLOTS - 1
 * stays inside ns[] for the verifier. */
#define SCRATCH_NS_SLOTS 16
_Static_assert(SCRATCH_NS_SLOTS >= VIGIL_NS_SLOTS, "scratch ns slots");

struct generic_scratch {
	struct vg_generic_record rec;
	struct path_buf path;
	struct vg_str_key key;
	struct vg_lpm_str_key lpm;
	__u32 ns[SCRATCH_NS_SLOTS];	/* current namespaces (VIGIL_NS_SLOTS used) */
	__u64 caps[VIGIL_CAPS_SLOTS];	/* current capabilities, enum vigil_caps_slot order */
	__u64 sk[ARG_SLOT_MASK + 1];	/* each sock argument's kernel address (TrackSock's key); it
					 * never enters the record */
	/* maxData arguments: where the whole buffer is, for the chunk records (indexed by a
	 * slot masked with ARG_SLOT_MASK, hence the size) */
	__u64 big_ptr[ARG_SLOT_MASK + 1];
	__u8 big_user[ARG_SLOT_MASK + 1];
	__u8 big_iov[ARG_SLOT_MASK + 1];	/* char_iovec: big_ptr is the iovec array of this many segments */
	__u8 ima_wanted;		/* the matching selector's Post asked for imaHash */
	__u8 compat32;			/* a 32-bit syscall the dispatcher rewrote as its twin: user
					 * structs have their i386 layout (dispatch_maps.h) */
	/* a tracepoint chain's capture (bpf/tpchain.h): the head's run it was taken in, the
	 * hook's capture_sig and the record's size after it; the next hook of the same run
	 * with the same signature takes it as it is */
	__u64 share_run;
	__u64 share_sig;
	__u32 share_size;
};

/* 0 -> per-CPU room for one chunk record (maxData). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_chunk_record);
} chunk_heap SEC(".maps");

/* 0 -> per-CPU scratch: the record and lookup keys are far larger than the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct generic_scratch);
} generic_heap SEC(".maps");

#endif
