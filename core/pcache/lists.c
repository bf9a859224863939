/* lists.c - which list holds an entry: the GC's, the exited one, or a running one (LRU).
 *
 * An entry is on exactly one list, chosen by its state, so eviction (evict.c) can take the
 * cheapest victim first without scanning: the head of each list is its oldest member.
 */
#include "pcache_internal.h"

void pcache_list_append(struct pcache_list *l, struct pcache_node *n)
{
	n->next = NULL;
	n->prev = l->tail;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
	n->list = l;
}

void pcache_list_remove(struct pcache_node *n)
{
	struct pcache_list *l = n->list;

	if (!l)
		return;
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
	n->list = NULL;
}

/* Root's running processes are evicted last: an unprivileged user who fills the cache
 * loses their own entries first and cannot blind the parent links of root's daemons.
 * Only a uid the kernel reported counts; a fork of an unknown parent has no creds. */
static struct pcache_list *running_list(struct vigil_pcache *c, const struct pcache_node *n)
{
	bool known = !(n->proc.flags & (VIGIL_PROC_MISS | VIGIL_PROC_UNKNOWN));

	return known && n->proc.creds.uid == 0 ? &c->live_root : &c->live;
}

void pcache_place(struct vigil_pcache *c, struct pcache_node *n)
{
	pcache_list_remove(n);
	if (n->proc.refcnt == 0)
		return;		/* pcache_unref puts it on the gc list with its deadline */
	pcache_list_append(n->alive ? running_list(c, n) : &c->exited, n);
}

void pcache_touch(struct vigil_pcache *c, struct pcache_node *n)
{
	if (!n->list || n->list == &c->gc || n->list->tail == n)
		return;
	pcache_list_remove(n);
	pcache_list_append(n->alive ? running_list(c, n) : &c->exited, n);
}
