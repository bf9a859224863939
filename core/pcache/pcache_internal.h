/* pcache_internal.h - what the process-cache files share: the cache layout and its helpers. */
#ifndef VIGIL_PCACHE_INTERNAL_H
#define VIGIL_PCACHE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcache.h"

#define pcache_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* The kernel builds every key on a USER_HZ tick plus the process's exec count (task_key in
 * bpf/lib/task.h); the /proc scan sees only the tick. */
#define PCACHE_TICK_NS 10000000ULL

/* A doubly linked list of nodes, oldest (least recently used) at the head. */
struct pcache_list {
	struct pcache_node *head;
	struct pcache_node *tail;
};

/* Every process is born inside a node (vigil_process__new), so inserting it into a cache
 * needs no second allocation and a process pointer leads straight to its links. */
struct pcache_node {
	struct vigil_process proc;
	struct pcache_node *key_next;	/* chain in the (pid, ktime) table */
	struct pcache_node *pid_next;	/* chain in the pid table, while indexed */
	struct pcache_node *prev;	/* links in the one list that holds it (see lists.c) */
	struct pcache_node *next;
	struct pcache_list *list;	/* NULL while on none */
	uint64_t deadline;		/* boot ns after which the GC may free it */
	bool cached;			/* linked into a cache's key table */
	bool indexed;			/* the newest live incarnation of its pid */
	bool alive;			/* still holds its own reference (not exited or retired) */
	bool parent_ref;		/* holds one reference on (ppid, pktime) */
};

static inline struct pcache_node *pcache_node_of(struct vigil_process *p)
{
	return pcache_container_of(p, struct pcache_node, proc);
}

struct vigil_pcache {
	struct pcache_node **keys;	/* (pid, ktime) -> incarnation, chained */
	struct pcache_node **pids;	/* pid -> newest live incarnation, chained */
	size_t mask;			/* bucket count - 1 (a power of two) for both tables */
	size_t capacity;
	uint64_t gc_delay_ns;
	char *node_name;
	/* Each cached entry is on exactly one list; eviction takes the heads in this order. */
	struct pcache_list gc;		/* refcnt 0, by deadline: what the GC frees */
	struct pcache_list exited;	/* exited or retired, still referenced by children; LRU */
	struct pcache_list live;	/* running, not known to be root's; LRU */
	struct pcache_list live_root;	/* running as uid 0: evicted last (see evict.c) */
	struct pcache_node *detached;	/* an exec that could not be cached, until the next insert */
	struct vigil_pcache_stats stats;
};

/* process.c: copy what a fork inherits (strings, creds, caps, ns, auid, cgroup); the
 * strings are shared (counted), not copied. */
int pcache_process_inherit(struct vigil_process *dst, const struct vigil_process *src);
/* process.c: *field (a process's string) becomes src, another process's, shared. */
void pcache_str_share(char **field, char *src);
/* process.c: an exec's binary, cwd and container_id become its parent's strings where they
 * are the same (a shell starting shells in one directory): one copy for the tree. */
void pcache_process_share_equal(struct vigil_process *p, const struct vigil_process *parent);

/* table.c: the two hash tables; neither counts misses. */
struct pcache_node *pcache_key_find(const struct vigil_pcache *c, uint32_t pid, uint64_t ktime);
void pcache_key_add(struct vigil_pcache *c, struct pcache_node *n);
void pcache_key_del(struct vigil_pcache *c, struct pcache_node *n);
struct pcache_node *pcache_pid_find(const struct vigil_pcache *c, uint32_t pid);
void pcache_pid_add(struct vigil_pcache *c, struct pcache_node *n);
void pcache_pid_del(struct vigil_pcache *c, struct pcache_node *n);

/* table.c: (pid, ktime), else the pid's running incarnation when it is a /proc entry of
 * the same tick: the scan cannot see how often a process exec'd before the agent started,
 * so the kernel's key for it may be a few ns past the scan's. NULL when neither. */
struct pcache_node *pcache_resolve(const struct vigil_pcache *c, uint32_t pid, uint64_t ktime);

/* lists.c: list membership. */
void pcache_list_append(struct pcache_list *l, struct pcache_node *n);
void pcache_list_remove(struct pcache_node *n);
/* Put n on the list its state calls for (refcnt 0: gc; alive: live or live_root; else
 * exited), at the tail. The gc list is entered only through pcache_unref (deadline order). */
void pcache_place(struct vigil_pcache *c, struct pcache_node *n);
/* n was just used: move it to the tail of its LRU list (no-op on the gc list). */
void pcache_touch(struct vigil_pcache *c, struct pcache_node *n);

/* refs.c: reference counts and the GC list. */
void pcache_ref(struct vigil_pcache *c, struct pcache_node *n);
void pcache_unref(struct vigil_pcache *c, struct pcache_node *n, uint64_t now_ns);
/* Drop n's own reference and the one it holds on its parent; no-op once done. */
void pcache_retire(struct vigil_pcache *c, struct pcache_node *n, uint64_t now_ns);
/* Unlink n from every table and list and free it. Its parent reference must be gone. */
void pcache_destroy(struct vigil_pcache *c, struct pcache_node *n);

/* evict.c: make room for one more entry, never evicting keep. Returns 0 or -ENOSPC (only
 * when nothing but keep is cached). */
int pcache_make_room(struct vigil_pcache *c, const struct pcache_node *keep, uint64_t now_ns);

/* procread.c: one /proc/<pid>, read through the directory fd dfd. */
struct pcache_stat {
	uint32_t ppid;
	uint64_t ktime;		/* starttime converted to boot ns */
	bool kthread;		/* PF_KTHREAD set in the stat flags */
};

struct pcache_host_ns {
	uint32_t ns[VIGIL_NS_COUNT];	/* pid 1's inodes, 0 where unreadable */
};

/* Parse stat. Returns 0, -ENOENT/-ESRCH when the process is gone, or another -errno. */
int pcache_read_stat(int dfd, struct pcache_stat *st);
/* Read the namespace inodes into ns (0 where unreadable). */
void pcache_read_ns(int dfd, uint32_t ns[VIGIL_NS_COUNT]);
/* Fill everything but ppid/pktime/ktime/start_time. Returns 0, -ENOENT when the process
 * vanished or is a kernel thread (skip it), or -ENOMEM. */
int pcache_read_process(int dfd, const struct pcache_host_ns *host, struct vigil_process *p);

#endif
