/* process_maps.h - maps shared by every vigil program: the event ring buffer, the exec map,
 * the per-reason error counters. Later objects reuse them (the loader passes the fds). */
#ifndef VIGIL_PROCESS_MAPS_H
#define VIGIL_PROCESS_MAPS_H

#include "process.h"

/* All events to user space. Placeholder size: the loader sets it from --rb-size. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} vg_events SEC(".maps");

/* tgid -> struct vigil_exec_entry: the current incarnation of every process. Placeholder
 * size: the loader sets it (default 32768, as Tetragon's execve_map). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct vigil_exec_entry);
} vg_execs SEC(".maps");

/* enum vigil_kerr -> count, per CPU: nothing is lost silently. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VIGIL_KERR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} vg_errors SEC(".maps");

/* 0 -> this CPU's wake-up state (struct vigil_wake, bpf/process.h; lib/output.h): per CPU,
 * so counting records takes no atomic and no cache line moves between CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_wake);
} vg_wake SEC(".maps");

/* 0 -> when the reader will next look at the ring buffer by itself (bpf_ktime_get_ns();
 * 0: not before its idle poll). The reader writes it, mapped into its memory, before each
 * wait that its own short timer ends (core/agent): a record submitted before then needs no
 * wake-up, which costs the program that forces it an interrupt and the reader a switch. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} vg_reader SEC(".maps");

/* (cgroup id, scope) -> 1: the cgroups of the containers a scoped policy applies to
 * (TracingPolicyNamespaced, podSelector, containerSelector). The agent keeps it current
 * from the container runtime (core/agent/scopes.c); a policy hook with a scope runs only
 * in its cgroups. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* written from user space only: no need to preallocate */
	__uint(max_entries, 16384);
	__type(key, struct vigil_scope_key);
	__type(value, __u8);
} vg_scopes SEC(".maps");

/* A tracked sock's owner (TrackSock, bpf/lib/socktrack.h). */
struct vg_sock_owner {
	__u32 pid;
	__u32 tid;
	__u64 ktime;		/* the owner's process key, as in vg_execs */
};

/* struct sock address -> its owner. LRU, as Tetragon's socktrack_map: a sock freed without
 * UntrackSock ages out instead of filling the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u64);
	__type(value, struct vg_sock_owner);
} vg_socks SEC(".maps");

/* The path of the binary an exec runs, walked by the first exec policy that needs it and
 * read by the others (bpf/lib/exec_path.h): one slot per CPU. */
struct vg_exec_path {
	__u64 task, pid_tgid, exec_id, file, stamp;	/* whose exec, and when the walk ran */
	__u32 len;
	__u8 truncated, error, pad[2];
	char data[VIGIL_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_exec_path);
} vg_exec_path SEC(".maps");

static __always_inline void count_error(enum vigil_kerr reason)
{
	__u32 key = reason;
	__u64 *n = bpf_map_lookup_elem(&vg_errors, &key);

	if (n)
		*n += 1;	/* per-CPU slot: no atomics needed */
}

#endif
