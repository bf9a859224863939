/* refs.c - reference counts and the delayed garbage collection of refcnt-0 entries.
 *
 * As in Tetragon, an entry holds one reference for itself while it runs and one for each
 * child that named it as parent. At zero it is not freed at once: events that arrive late
 * (an exit's parent, a kprobe queued behind the exit) must still find it, so it waits
 * gc_delay_ns on a FIFO list. Deadlines are now + a fixed delay, so the list stays sorted
 * and the GC only ever looks at its head.
 */
#include <errno.h>

#include "pcache_internal.h"

static void gc_push(struct vigil_pcache *c, struct pcache_node *n, uint64_t now_ns)
{
	n->deadline = now_ns > UINT64_MAX - c->gc_delay_ns ? UINT64_MAX : now_ns + c->gc_delay_ns;
	pcache_list_remove(n);
	pcache_list_append(&c->gc, n);
}

void pcache_ref(struct vigil_pcache *c, struct pcache_node *n)
{
	if (n->proc.refcnt < UINT32_MAX)
		n->proc.refcnt++;
	/* A late child revives an entry waiting for the GC. */
	if (n->list == &c->gc)
		pcache_place(c, n);
}

void pcache_unref(struct vigil_pcache *c, struct pcache_node *n, uint64_t now_ns)
{
	/* Every reference is dropped by whoever took it, so zero here means a bug upstream;
	 * clamp rather than wrap to 4 billion and pin the entry forever. */
	if (n->proc.refcnt == 0)
		return;
	if (--n->proc.refcnt == 0)
		gc_push(c, n, now_ns);
}

void pcache_retire(struct vigil_pcache *c, struct pcache_node *n, uint64_t now_ns)
{
	struct pcache_node *parent;

	pcache_pid_del(c, n);
	if (!n->alive)
		return;
	n->alive = false;
	c->stats.running--;
	if (n->parent_ref) {
		n->parent_ref = false;
		/* NULL only when the parent was evicted while still referenced (evict.c). */
		parent = pcache_key_find(c, n->proc.ppid, n->proc.pktime);
		if (parent)
			pcache_unref(c, parent, now_ns);
	}
	pcache_unref(c, n, now_ns);
	if (n->proc.refcnt)
		pcache_place(c, n);	/* running -> exited: children still name it */
}

void pcache_destroy(struct vigil_pcache *c, struct pcache_node *n)
{
	/* Callers have dropped its parent reference; this keeps a forced free
	 * (vigil_pcache__free) from needing any order. */
	if (n->alive)
		c->stats.running--;
	n->alive = false;
	n->parent_ref = false;
	pcache_list_remove(n);
	pcache_pid_del(c, n);
	pcache_key_del(c, n);
	c->stats.size--;
	vigil_process__free(&n->proc);
}

void vigil_pcache__gc(struct vigil_pcache *c, uint64_t now_ns)
{
	if (!c)
		return;
	while (c->gc.head && c->gc.head->deadline < now_ns) {
		pcache_destroy(c, c->gc.head);
		c->stats.freed++;
	}
}
