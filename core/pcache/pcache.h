/* pcache.h - the process cache: every known process incarnation, keyed by (pid, ktime),
 * with parent links, Tetragon-style reference counts and delayed garbage collection, plus
 * the helpers that build processes (exec_id, argument formatting, the /proc scan).
 *
 * Single-threaded by design: only the agent's reader thread touches a cache.
 */
#ifndef VIGIL_PCACHE_H
#define VIGIL_PCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../events/events.h"

/* ---- exec_id ---- */

/* Write base64("node:ktime:pid") into out (VIGIL_EXEC_ID_MAX bytes). Returns the length, or
 * -ENAMETOOLONG if it does not fit. */
VIGIL_API int vigil_exec_id_format(const char *node, uint64_t ktime, uint32_t pid, char *out);
/* The ktime and pid an exec_id was made of. 0, or -EINVAL when it is not one. */
VIGIL_API int vigil_exec_id_parse(const char *exec_id, uint64_t *ktime, uint32_t *pid);

/* ---- arguments ---- */

/* Turn the raw argument area (argv[0]\0argv[1]\0...argv[n]\0, as the kernel lays it out in
 * mm->arg_start..arg_end; the last NUL may be missing when truncated) into Tetragon's
 * `arguments` string: argv[1..] joined by single spaces, an argument that contains a space
 * or is empty wrapped in double quotes with '"' and '\\' escaped. When truncated is set, the
 * last (partial) argument is kept as it is. Appends to out. Returns 0 or -ENOMEM. */
VIGIL_API int vigil_args_format(const char *raw, size_t len, struct vigil_buf *out);

/* ---- processes ---- */

/* A new empty process: strings set to "", auid 4294967295, refcnt 0. NULL + errno. */
VIGIL_API struct vigil_process *vigil_process__new(void);
/* Replace an owned string field (binary, arguments, cwd) with a copy of len bytes of s. */
VIGIL_API int vigil_process__set_str(char **field, const char *s, size_t len);
/* Free a process that is not in a cache. Accepts NULL. */
VIGIL_API void vigil_process__free(struct vigil_process *p);

/* ---- the cache ---- */

struct vigil_pcache;

struct vigil_pcache_opts {
	size_t sz;			/* sizeof(struct vigil_pcache_opts) */
	size_t capacity;		/* max entries (default 65536) */
	uint64_t gc_delay_ns;		/* how long an entry survives at refcnt 0 (default 30 s) */
	const char *node_name;		/* copied; exec_ids are built from it (default: hostname) */
};

struct vigil_pcache_stats {
	uint64_t size;			/* entries now */
	uint64_t inserts;
	uint64_t evictions;		/* entries freed before their GC delay ran out (cache full) */
	uint64_t misses;		/* lookups that found nothing */
	uint64_t freed;			/* entries freed by GC */
	uint64_t evicted_exited;	/* of evictions: exited entries running children still named */
	uint64_t evicted_live;		/* of evictions: running processes (their later events: "unknown") */
	uint64_t uncached;		/* execs returned flagged "uncached": nothing could be evicted */
	uint64_t running;		/* entries of processes that have not exited: the cache's floor */
};

/* Create an empty cache. opts may be NULL for defaults. Returns NULL + errno. */
VIGIL_API struct vigil_pcache *vigil_pcache__new(const struct vigil_pcache_opts *opts);
/* Free the cache and every process in it. Accepts NULL. */
VIGIL_API void vigil_pcache__free(struct vigil_pcache *c);

VIGIL_API const char *vigil_pcache__node_name(const struct vigil_pcache *c);

/* The incarnation (pid, ktime), or NULL (counted as a miss). A /proc entry is also found
 * by a key of the same USER_HZ tick: the scan cannot see how often the process exec'd
 * before the agent started, which the kernel's key counts (bpf/lib/task.h task_key).
 * A hit counts as a use for eviction (least recently used goes first). */
VIGIL_API struct vigil_process *vigil_pcache__lookup(struct vigil_pcache *c, uint32_t pid, uint64_t ktime);
/* The newest live incarnation of tgid pid, or NULL (counted as a miss). */
VIGIL_API struct vigil_process *vigil_pcache__find_pid(struct vigil_pcache *c, uint32_t pid);
/* The same two lookups for readers that only look (rules, export filters): an exact key,
 * no miss counted, no use recorded. A walk off the top of a process tree is not a miss. */
VIGIL_API const struct vigil_process *vigil_pcache__peek(const struct vigil_pcache *c, uint32_t pid, uint64_t ktime);
VIGIL_API const struct vigil_process *vigil_pcache__peek_pid(const struct vigil_pcache *c, uint32_t pid);

/* Insert an exec'd process. Takes ownership of p, whose pid, ktime, ppid and pktime must be
 * set; fills exec_id and parent_exec_id (pktime becomes the cached parent's key when the
 * parent was found by its tick, see lookup). Reference counts as Tetragon: p gets 1, its
 * parent (ppid, pktime) one more. A live older incarnation of the same pid is retired: it
 * and its parent lose one, as if it had exited. now_ns is the boot-time clock used by the GC.
 * A full cache evicts an entry (core/pcache/evict.c says which); a parent that is not
 * cached sets VIGIL_PROC_NOPARENT. Only when nothing can be evicted is p not inserted: it
 * is returned flagged VIGIL_PROC_UNCACHED, still owned by the cache, and valid until the
 * next exec or clone call. Returns p, or NULL + errno (p is freed then): -EEXIST when
 * (pid, ktime) is already cached, -ENOMEM. */
VIGIL_API struct vigil_process *vigil_pcache__exec(struct vigil_pcache *c, struct vigil_process *p, uint64_t now_ns);

/* Insert a fork without exec: a copy of the parent incarnation (ppid, pktime) with the new
 * pid and ktime, flags VIGIL_PROC_CLONE. An unknown parent gives flags VIGIL_PROC_CLONE |
 * VIGIL_PROC_MISS | VIGIL_PROC_NOPARENT and empty strings. Evicts like exec. Returns the
 * new entry or NULL + errno (-ENOSPC when nothing could be evicted). */
VIGIL_API struct vigil_process *vigil_pcache__clone(struct vigil_pcache *c, uint32_t pid, uint64_t ktime,
						    uint32_t ppid, uint64_t pktime, uint64_t start_time, uint64_t now_ns);

/* The incarnation (pid, ktime) exited: it and its parent lose one reference. The entry
 * stays until the GC frees it, so late events still find it. Returns it, or NULL. */
VIGIL_API struct vigil_process *vigil_pcache__exit(struct vigil_pcache *c, uint32_t pid, uint64_t ktime, uint64_t now_ns);

/* Free the entries that have been at refcnt 0 for longer than the GC delay. */
VIGIL_API void vigil_pcache__gc(struct vigil_pcache *c, uint64_t now_ns);

VIGIL_API void vigil_pcache__stats(const struct vigil_pcache *c, struct vigil_pcache_stats *out);

/* ---- the host ---- */

/* The host's namespace inode numbers, in enum vigil_ns_kind order: those of
 * proc_root/1/ns, and where pid 1 cannot be read, the fixed inodes of the initial
 * namespaces (uts, ipc, pid, time, cgroup, user) and the agent's own (net, mnt: the agent
 * runs in the host's network and mount namespaces). */
VIGIL_API void vigil_host_ns_read(const char *proc_root, uint32_t out[VIGIL_NS_COUNT]);

/* ---- the /proc scan ---- */

/* Called once per process found; p is borrowed (copy what you keep). Return non-zero to stop. */
typedef int (*vigil_procfs_fn)(const struct vigil_process *p, void *ctx);

/* Read every /proc/<pid> under proc_root ("/proc" normally): stat (ppid, starttime),
 * status (uids, gids, caps), loginuid, cmdline, cwd, exe and ns/<type>. Fills pid, ppid, ktime
 * and pktime (starttime in clock ticks * 10^9 / USER_HZ, as Tetragon), start_time
 * (ktime + boot_to_wall), binary, arguments, cwd, creds, caps, ns, auid, and flags
 * VIGIL_PROC_PROCFS (| VIGIL_PROC_ROOTCWD when cwd is "/"). ns_host_mask compares with
 * vigil_host_ns_read(). Kernel threads (empty cmdline and no exe) are skipped.
 * Processes are reported parents first where the parent is also found. Processes that
 * vanish during the scan are skipped silently. Returns the number reported or -errno. */
VIGIL_API int vigil_procfs_scan(const char *proc_root, int64_t boot_to_wall, vigil_procfs_fn fn, void *ctx);

#endif
