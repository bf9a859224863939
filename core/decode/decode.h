/* decode.h - the decoder: kernel records (bpf/process.h, bpf/generic.h) applied to the process
 * cache, and the events they make. Depends on events/ (the model) and pcache/ (the cache it
 * mutates); neither depends on it. */
#ifndef VIGIL_DECODE_H
#define VIGIL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "../events/events.h"

struct vigil_pcache;
struct vigil_decoder;

/* Why an event went out with less than usual: each is counted once per event. */
enum vigil_degraded_reason {
	VIGIL_DEGRADED_UNCACHED,	/* "uncached": exec the full cache could not keep (flag uncached) */
	VIGIL_DEGRADED_PROCESS_UNKNOWN,	/* "process_unknown": exit/policy event of a process not cached */
	VIGIL_DEGRADED_PARENT_UNKNOWN,	/* "parent_unknown": exec/exit whose parent is not cached */
	VIGIL_DEGRADED_ARG_TRUNCATED,	/* "arg_truncated": a maxData argument cut (past 327360
					 * bytes, or a chunk the ring buffer lost) */
	VIGIL_DEGRADED_COUNT,
};

/* Why a record produced no event (or, for clone records, no cache entry). */
enum vigil_dropped_reason {
	VIGIL_DROPPED_BAD_RECORD,	/* "bad_record": malformed */
	VIGIL_DROPPED_UNKNOWN_HOOK,	/* "unknown_hook": a policy record of a hook no longer known */
	VIGIL_DROPPED_DUPLICATE,	/* "duplicate": an exec or fork already cached (the /proc scan
					 * raced with it and announced it) */
	VIGIL_DROPPED_NOMEM,		/* "nomem": out of memory */
	VIGIL_DROPPED_CACHE_FULL,	/* "cache_full": a fork nothing could make room for */
	VIGIL_DROPPED_COUNT,
};

/* "uncached", "bad_record", ...: the label values of the counters above. */
VIGIL_API const char *vigil_degraded_reason_name(enum vigil_degraded_reason r);
VIGIL_API const char *vigil_dropped_reason_name(enum vigil_dropped_reason r);

struct vigil_decoder_stats {
	uint64_t records;		/* records seen */
	uint64_t policy;		/* policy hook records */
	uint64_t unknown_hook;		/* policy records whose hook the table does not know (dropped) */
	uint64_t bad_records;		/* malformed: wrong size, unknown op (dropped) */
	uint64_t exec, clone, exit;	/* records per op */
	uint64_t exit_unknown;		/* exits of processes the cache did not know */
	uint64_t degraded[VIGIL_DEGRADED_COUNT];	/* events emitted with less, by reason */
	uint64_t dropped[VIGIL_DROPPED_COUNT];		/* records that produced nothing, by reason */
};

/* A decoder applies kernel records to the process cache (borrowed) and produces events.
 * It reads the host's namespaces from proc_root/1/ns to set ns_host_mask. NULL + errno. */
VIGIL_API struct vigil_decoder *vigil_decoder__new(struct vigil_pcache *cache, int64_t boot_to_wall,
						   const char *proc_root);
VIGIL_API void vigil_decoder__free(struct vigil_decoder *d);
/* Records carry the boot clock; events, the wall clock: ktime + boot_to_wall. The wall clock
 * moves against the boot clock (NTP slews and steps it, a VM's clock is corrected), so the
 * owner sets the offset again as time goes (the agent: each reader round). */
VIGIL_API void vigil_decoder__set_boot_to_wall(struct vigil_decoder *d, int64_t boot_to_wall);
/* Kernel stack traces are named from fd, an open /proc/kallsyms, which the decoder takes
 * (-1: none). The file shows addresses to the credentials that opened it: an agent that
 * drops CAP_SYSLOG opens it first. Without one the decoder opens PROC_ROOT/kallsyms itself. */
VIGIL_API void vigil_decoder__set_kallsyms(struct vigil_decoder *d, int fd);

/* Apply one record (borrowed; decode or copy before returning). Returns 1 when *ev holds an
 * event (its processes are borrowed from the cache until the next call), 0 when the record
 * only updated the cache, or a negative errno when it produced nothing, counted in
 * stats.dropped by reason: -EBADMSG malformed, -EEXIST already cached, -ENOMEM, -ENOSPC (a
 * fork the full cache could not take). A full cache never costs an exec, exit or policy
 * event: they go out degraded (stats.degraded). */
VIGIL_API int vigil_decoder__record(struct vigil_decoder *d, const void *data, size_t size, struct vigil_event *ev);

/* Resolve a policy record's hook id to what the event reports (core/sensors). */
typedef const struct vigil_hook_info *(*vigil_hook_resolver)(void *ctx, uint32_t hook_id);
VIGIL_API void vigil_decoder__set_hook_resolver(struct vigil_decoder *d, vigil_hook_resolver fn, void *ctx);

/* Name the container an exec'd process runs in from its cgroup id (and pid, while it
 * lives): vigil_cgroups__container_id has this shape. Writes out ("" when none) and returns
 * the length. Without one, processes carry no container id. */
typedef size_t (*vigil_container_resolver)(void *ctx, uint64_t cgroup_id, uint32_t pid,
					   char out[VIGIL_CONTAINER_ID_MAX]);
VIGIL_API void vigil_decoder__set_container_resolver(struct vigil_decoder *d, vigil_container_resolver fn,
						     void *ctx);

VIGIL_API void vigil_decoder__stats(const struct vigil_decoder *d, struct vigil_decoder_stats *out);
/* The host namespace inode numbers the decoder compares against. */
VIGIL_API const uint32_t *vigil_decoder__host_ns(const struct vigil_decoder *d);

#endif
