/* lifecycle.c - exec, clone and exit: entries come and go, references follow Tetragon. */
#include <errno.h>

#include "pcache_internal.h"

static int fill_ids(const struct vigil_pcache *c, struct vigil_process *p, struct pcache_node *parent)
{
	char id[VIGIL_EXEC_ID_MAX];
	int n;

	n = vigil_exec_id_format(c->node_name, p->ktime, p->pid, id);
	if (n < 0)
		return n;
	n = vigil_process__set_str(&p->exec_id, id, (size_t)n);
	if (n < 0)
		return n;
	/* The parent's exec_id follows from its key alone, so it is filled even when the
	 * parent is not cached (Tetragon does the same); pid 0 means "no parent". A cached
	 * parent's is the same string, shared. */
	if (!p->ppid)
		return vigil_process__set_str(&p->parent_exec_id, "", 0);
	if (parent && parent->proc.pid == p->ppid && parent->proc.ktime == p->pktime && parent->proc.exec_id[0]) {
		pcache_str_share(&p->parent_exec_id, parent->proc.exec_id);
		return 0;
	}
	n = vigil_exec_id_format(c->node_name, p->pktime, p->ppid, id);
	if (n < 0)
		return n;
	return vigil_process__set_str(&p->parent_exec_id, id, (size_t)n);
}

static struct pcache_node *find_parent(const struct vigil_pcache *c, const struct vigil_process *p)
{
	if (!p->ppid || (p->ppid == p->pid && p->pktime == p->ktime))
		return NULL;
	return pcache_resolve(c, p->ppid, p->pktime);
}

/* Nothing could be evicted (only the parent is cached): hand p back uncached, kept until
 * the next insert so the event that reports it can borrow it. */
static struct vigil_process *detach(struct vigil_pcache *c, struct vigil_process *p)
{
	struct pcache_node *old = c->detached;

	c->detached = pcache_node_of(p);
	vigil_process__free(old ? &old->proc : NULL);
	p->flags |= VIGIL_PROC_UNCACHED;
	p->refcnt = 0;
	c->stats.uncached++;
	return p;
}

/* The one way in for exec and clone. Takes p; frees it on failure. */
static struct vigil_process *insert(struct vigil_pcache *c, struct vigil_process *p, uint64_t now_ns,
				    bool may_detach)
{
	struct pcache_node *n = pcache_node_of(p);
	struct pcache_node *old, *parent;
	int err;

	if (c->detached) {
		vigil_process__free(&c->detached->proc);
		c->detached = NULL;
	}
	if (pcache_key_find(c, p->pid, p->ktime)) {
		err = -EEXIST;
		goto err_out;
	}
	/* The parent's key as the cache knows it: a /proc entry found by its tick keeps its
	 * own, so parent_exec_id names the same process as the parent's events did. */
	parent = find_parent(c, p);
	if (parent)
		p->pktime = parent->proc.ktime;
	else if (p->ppid)
		p->flags |= VIGIL_PROC_NOPARENT;
	err = fill_ids(c, p, parent);
	if (err)
		goto err_out;

	/* The pid's previous incarnation (the pre-exec clone, the previous exec, or one whose
	 * exit we never saw) ends here, as if it had exited. A newer one means this record is
	 * late: it is cached but does not take over the pid. That happens even if the insert
	 * fails below: the old incarnation is gone either way. */
	old = pcache_pid_find(c, p->pid);
	if (old && old->proc.ktime < p->ktime)
		pcache_retire(c, old, now_ns);

	err = pcache_make_room(c, parent, now_ns);
	if (err && may_detach)
		return detach(c, p);
	if (err)
		goto err_out;

	p->refcnt = 1;
	n->alive = true;
	c->stats.running++;
	pcache_key_add(c, n);
	if (!pcache_pid_find(c, p->pid))
		pcache_pid_add(c, n);
	pcache_place(c, n);
	if (parent) {
		pcache_ref(c, parent);
		pcache_touch(c, parent);
		n->parent_ref = true;
		pcache_process_share_equal(p, &parent->proc);
	}
	c->stats.size++;
	c->stats.inserts++;
	return p;

err_out:
	vigil_process__free(p);
	errno = -err;
	return NULL;
}

struct vigil_process *vigil_pcache__exec(struct vigil_pcache *c, struct vigil_process *p, uint64_t now_ns)
{
	if (!c || !p) {
		vigil_process__free(p);
		errno = EINVAL;
		return NULL;
	}
	if (pcache_node_of(p)->cached) {
		/* Already owned by a cache: inserting it again would corrupt both links. */
		errno = EEXIST;
		return NULL;
	}
	return insert(c, p, now_ns, true);
}

struct vigil_process *vigil_pcache__clone(struct vigil_pcache *c, uint32_t pid, uint64_t ktime,
					  uint32_t ppid, uint64_t pktime, uint64_t start_time, uint64_t now_ns)
{
	struct vigil_process *p = NULL;
	struct pcache_node *parent;
	int err;

	if (!c) {
		err = -EINVAL;
		goto err_out;
	}
	p = vigil_process__new();
	if (!p) {
		err = -ENOMEM;
		goto err_out;
	}
	p->pid = p->tid = pid;
	p->ktime = ktime;
	p->ppid = ppid;
	p->pktime = pktime;
	p->start_time = start_time;
	p->flags = VIGIL_PROC_CLONE;

	/* A fork runs the parent's image until it execs: same binary, arguments, cwd. */
	parent = find_parent(c, p);
	if (parent) {
		err = pcache_process_inherit(p, &parent->proc);
		if (err)
			goto err_out;
	} else {
		p->flags |= VIGIL_PROC_MISS;
	}
	return insert(c, p, now_ns, false);

err_out:
	vigil_process__free(p);
	errno = -err;
	return NULL;
}

struct vigil_process *vigil_pcache__exit(struct vigil_pcache *c, uint32_t pid, uint64_t ktime, uint64_t now_ns)
{
	struct pcache_node *n;

	if (!c)
		return NULL;
	n = pcache_resolve(c, pid, ktime);
	if (!n) {
		c->stats.misses++;
		return NULL;
	}
	/* A second exit for the same incarnation changes nothing. */
	pcache_retire(c, n, now_ns);
	return &n->proc;
}
