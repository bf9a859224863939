/* pidset.c - pid_set: a process matches when it or one of its ancestors is in the set.
 * With a resolver (the agent's process cache) ancestors are walked; a bus subscriber has
 * no tree, so it learns descendants from the stream, as Tetragon's filter does. */
#include <stdlib.h>
#include <string.h>

#include "export_filter.h"

/* Deeper than any real process tree; a loop in a corrupt tree stops here too. */
#define MAX_ANCESTORS 128
#define NBUCKETS (FILTER_LEARNED_MAX * 2)

static size_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return (size_t)(h & (NBUCKETS - 1));
}

static bool learned_has(const struct filter_learned *l, const char *s, size_t n)
{
	const struct learned_node *e;

	if (!l->buckets)
		return false;
	for (e = l->buckets[hash(s, n)]; e; e = e->next)
		if (strlen(e->id) == n && !memcmp(e->id, s, n))
			return true;
	return false;
}

static void learned_forget_oldest(struct filter_learned *l)
{
	struct learned_node *old = l->ring[l->head], **pp;

	for (pp = &l->buckets[hash(old->id, strlen(old->id))]; *pp; pp = &(*pp)->next) {
		if (*pp == old) {
			*pp = old->next;
			break;
		}
	}
	free(old);
	l->head = (l->head + 1) % FILTER_LEARNED_MAX;
	l->count--;
}

static void learned_add(struct filter_learned *l, const char *s, size_t n)
{
	struct learned_node *e;
	size_t b;

	if (!l->buckets) {
		l->buckets = calloc(NBUCKETS, sizeof(*l->buckets));
		l->ring = calloc(FILTER_LEARNED_MAX, sizeof(*l->ring));
		if (!l->buckets || !l->ring) {
			filter_learned_free(l);
			return;		/* out of memory: this descendant is missed, not the process */
		}
	}
	if (l->count == FILTER_LEARNED_MAX)
		learned_forget_oldest(l);
	e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return;
	memcpy(e->id, s, n);
	e->id[n] = '\0';
	b = hash(s, n);
	e->next = l->buckets[b];
	l->buckets[b] = e;
	l->ring[(l->head + l->count++) % FILTER_LEARNED_MAX] = e;
}

void filter_learned_free(struct filter_learned *l)
{
	while (l->buckets && l->ring && l->count)
		learned_forget_oldest(l);
	free(l->buckets);
	free(l->ring);
	memset(l, 0, sizeof(*l));
}

static bool str_at(const struct vigil_msg *m, const char *path, const char **s, size_t *n)
{
	const msgpack_object *o = vigil_msg__find(m, path);

	if (!o || o->type != MSGPACK_OBJECT_STR || !o->via.str.size)
		return false;
	*s = o->via.str.ptr;
	*n = o->via.str.size;
	return true;
}

bool filter_pid_set_match(struct vigil_filter *f, struct filter_obj *o, const struct vigil_msg *m)
{
	uint32_t anc[MAX_ANCESTORS];
	const char *id, *pid_id;
	size_t n, idn, pidn, i;
	uint64_t pid, ppid;

	if (vigil_msg__find_u64(m, "process.pid", &pid))
		return false;
	if (filter_pid_in(&o->pid_set, (uint32_t)pid))
		return true;
	if (f->ancestors) {
		n = f->ancestors(f->ancestors_ctx, m, anc, MAX_ANCESTORS);
		for (i = 0; i < n && i < MAX_ANCESTORS; i++)
			if (filter_pid_in(&o->pid_set, anc[i]))
				return true;
		return false;
	}
	/* no tree: what the stream taught us */
	if (!str_at(m, "process.exec_id", &id, &idn))
		return false;
	if (learned_has(&o->learned, id, idn))
		return true;
	if ((!vigil_msg__find_u64(m, "parent.pid", &ppid) && filter_pid_in(&o->pid_set, (uint32_t)ppid)) ||
	    (str_at(m, "process.parent_exec_id", &pid_id, &pidn) && learned_has(&o->learned, pid_id, pidn))) {
		learned_add(&o->learned, id, idn);
		return true;
	}
	return false;
}
