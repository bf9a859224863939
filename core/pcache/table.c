/* table.c - the cache's two chained hash tables: (pid, ktime) -> entry, pid -> live entry. */
#include "pcache_internal.h"

/* splitmix64's finaliser: pids and ktimes are dense and sequential, the mask keeps only the
 * low bits, so every input bit has to reach them. */
static size_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x;
}

static size_t key_bucket(const struct vigil_pcache *c, uint32_t pid, uint64_t ktime)
{
	return mix(ktime ^ ((uint64_t)pid << 32 | pid)) & c->mask;
}

static size_t pid_bucket(const struct vigil_pcache *c, uint32_t pid)
{
	return mix(pid) & c->mask;
}

struct pcache_node *pcache_key_find(const struct vigil_pcache *c, uint32_t pid, uint64_t ktime)
{
	struct pcache_node *n = c->keys[key_bucket(c, pid, ktime)];

	while (n && (n->proc.pid != pid || n->proc.ktime != ktime))
		n = n->key_next;
	return n;
}

void pcache_key_add(struct vigil_pcache *c, struct pcache_node *n)
{
	struct pcache_node **head = &c->keys[key_bucket(c, n->proc.pid, n->proc.ktime)];

	n->key_next = *head;
	*head = n;
	n->cached = true;
}

void pcache_key_del(struct vigil_pcache *c, struct pcache_node *n)
{
	struct pcache_node **pp = &c->keys[key_bucket(c, n->proc.pid, n->proc.ktime)];

	while (*pp && *pp != n)
		pp = &(*pp)->key_next;
	if (*pp)
		*pp = n->key_next;
	n->key_next = NULL;
	n->cached = false;
}

struct pcache_node *pcache_pid_find(const struct vigil_pcache *c, uint32_t pid)
{
	struct pcache_node *n = c->pids[pid_bucket(c, pid)];

	while (n && n->proc.pid != pid)
		n = n->pid_next;
	return n;
}

void pcache_pid_add(struct vigil_pcache *c, struct pcache_node *n)
{
	struct pcache_node **head = &c->pids[pid_bucket(c, n->proc.pid)];

	n->pid_next = *head;
	*head = n;
	n->indexed = true;
}

void pcache_pid_del(struct vigil_pcache *c, struct pcache_node *n)
{
	struct pcache_node **pp = &c->pids[pid_bucket(c, n->proc.pid)];

	if (!n->indexed)
		return;
	while (*pp && *pp != n)
		pp = &(*pp)->pid_next;
	if (*pp)
		*pp = n->pid_next;
	n->pid_next = NULL;
	n->indexed = false;
}

struct pcache_node *pcache_resolve(const struct vigil_pcache *c, uint32_t pid, uint64_t ktime)
{
	struct pcache_node *n = pcache_key_find(c, pid, ktime);

	if (n)
		return n;
	n = pcache_pid_find(c, pid);
	if (n && (n->proc.flags & VIGIL_PROC_PROCFS) && n->proc.ktime <= ktime &&
	    n->proc.ktime / PCACHE_TICK_NS == ktime / PCACHE_TICK_NS)
		return n;
	return NULL;
}
