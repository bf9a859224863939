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
	n->gc_next = NULL;
	n->gc_prev = c->gc_tail;
	if (c->gc_tail)
		c->gc_tail->gc_next = n;
	else
		c->gc_head = n;
	c->gc_tail = n;
	n->on_gc = true;
}

static void gc_remove(struct vigil_pcache *c, struct pcache_node *n)
{
	if (!n->on_gc)
		return;
	if (n->gc_prev)
		n->gc_prev->gc_next = n->gc_next;
	else
		c->gc_head = n->gc_next;
	if (n->gc_next)
		n->gc_next->gc_prev = n->gc_prev;
	else
		c->gc_tail = n->gc_prev;
	n->gc_prev = n->gc_next = NULL;
	n->on_gc = false;
}

void pcache_ref(struct vigil_pcache *c, struct pcache_node *n)
{
	/* A late child revives an entry waiting for the GC. */
	gc_remove(c, n);
	if (n->proc.refcnt < UINT32_MAX)
		n->proc.refcnt++;
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
	if (n->parent_ref) {
		n->parent_ref = false;
		/* Never NULL: a referenced parent has refcnt > 0, so neither GC nor eviction
		 * has freed it. */
		parent = pcache_key_find(c, n->proc.ppid, n->proc.pktime);
		if (parent)
			pcache_unref(c, parent, now_ns);
	}
	pcache_unref(c, n, now_ns);
}

void pcache_destroy(struct vigil_pcache *c, struct pcache_node *n)
{
	/* Only refcnt-0 entries get here, and those have already retired; this keeps a
	 * forced free (vigil_pcache__free) from needing any order. */
	n->alive = false;
	n->parent_ref = false;
	gc_remove(c, n);
	pcache_pid_del(c, n);
	pcache_key_del(c, n);
	c->stats.size--;
	vigil_process__free(&n->proc);
}

int pcache_make_room(struct vigil_pcache *c, const struct pcache_node *keep)
{
	struct pcache_node *victim = c->gc_head;

	if (c->stats.size < c->capacity)
		return 0;
	/* The oldest entry nobody references goes first, unless it is the parent the new
	 * entry is about to reference. */
	if (victim && victim == keep)
		victim = victim->gc_next;
	if (!victim)
		return -ENOSPC;
	pcache_destroy(c, victim);
	c->stats.evictions++;
	return 0;
}

void vigil_pcache__gc(struct vigil_pcache *c, uint64_t now_ns)
{
	if (!c)
		return;
	while (c->gc_head && c->gc_head->deadline < now_ns) {
		pcache_destroy(c, c->gc_head);
		c->stats.freed++;
	}
}
