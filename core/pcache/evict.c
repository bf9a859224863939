/* evict.c - when the cache is full, who makes room.
 *
 * An event is never dropped because the cache is full: some entry always goes, cheapest
 * first, each list's least recently used member first:
 *   1. entries nobody references any more (waiting for the GC): nothing is lost;
 *   2. exited entries still named by running children: those children's events lose
 *      their `parent` object (parent_exec_id stays, it follows from the key);
 *   3. running processes not known to be root's: their later events are reported with
 *      what the kernel record carries (flag "unknown");
 *   4. root's running processes, only when nothing else is left.
 * So a user who keeps tens of thousands of processes alive evicts their own entries,
 * not root's daemons. keep (the parent the new entry is about to reference) never goes.
 */
#include <errno.h>

#include "pcache_internal.h"

static struct pcache_node *first_but(const struct pcache_list *l, const struct pcache_node *keep)
{
	struct pcache_node *n = l->head;

	return n && n == keep ? n->next : n;
}

static void evict(struct vigil_pcache *c, struct pcache_node *n, uint64_t now_ns)
{
	struct pcache_node *parent;

	if (n->alive)
		c->stats.evicted_live++;
	else if (n->proc.refcnt)
		c->stats.evicted_exited++;
	/* Its own reference on its parent goes with it, or the parent would never reach
	 * refcnt 0 and never leave. References its children hold on it are forgotten:
	 * their retire finds no parent and skips it. */
	if (n->parent_ref) {
		n->parent_ref = false;
		parent = pcache_key_find(c, n->proc.ppid, n->proc.pktime);
		if (parent)
			pcache_unref(c, parent, now_ns);
	}
	pcache_destroy(c, n);
	c->stats.evictions++;
}

int pcache_make_room(struct vigil_pcache *c, const struct pcache_node *keep, uint64_t now_ns)
{
	struct pcache_list *const order[] = {&c->gc, &c->exited, &c->live, &c->live_root};
	struct pcache_node *victim = NULL;
	size_t i;

	if (c->stats.size < c->capacity)
		return 0;
	for (i = 0; i < VIGIL_ARRAY_SIZE(order) && !victim; i++)
		victim = first_but(order[i], keep);
	if (!victim)
		return -ENOSPC;
	evict(c, victim, now_ns);
	return 0;
}
