/* seed.c - processes that were running before the agent: into the exec map (so later
 * records find their parents) and the cache, each announced by a procFS exec event. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "taskkeys.h"

static struct vigil_process *copy_process(const struct vigil_process *src)
{
	struct vigil_process *p = vigil_process__new();
	char *exec_id, *parent_exec_id, *binary, *arguments, *cwd, *container_id;

	if (!p)
		return NULL;
	/* the strings are p's own (the cache gives it its exec_ids), the rest src's */
	exec_id = p->exec_id;
	parent_exec_id = p->parent_exec_id;
	binary = p->binary;
	arguments = p->arguments;
	cwd = p->cwd;
	container_id = p->container_id;
	*p = *src;
	p->exec_id = exec_id;
	p->parent_exec_id = parent_exec_id;
	p->binary = binary;
	p->arguments = arguments;
	p->cwd = cwd;
	p->container_id = container_id;
	if (vigil_process__set_str(&p->binary, src->binary, strlen(src->binary)) ||
	    vigil_process__set_str(&p->arguments, src->arguments, strlen(src->arguments)) ||
	    vigil_process__set_str(&p->cwd, src->cwd, strlen(src->cwd)) ||
	    vigil_process__set_str(&p->container_id, src->container_id, strlen(src->container_id))) {
		vigil_process__free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

/* Whether pid still runs: /proc/<pid>/stat exists and its state is not zombie or dead (the
 * exit tracepoint has run for both). */
static bool still_running(const char *proc_root, uint32_t pid)
{
	char path[4096], buf[512], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static int by_pid(const void *a, const void *b)
{
	const struct vigil_task_key *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The /proc scan sees a start tick (USER_HZ, 10 ms); the kernel's key is that tick plus
 * the process's exec count (bpf/lib/task.h task_key). */
#define TICK_NS 10000000ULL

struct seed {
	struct vigil_agent *a;
	struct vigil_task_key *keys;	/* the kernel's, sorted by pid; NULL when unreadable */
	size_t nkeys;
};

/* pid's kernel record when the task iterator saw the same process (same start tick; a pid
 * reused since has another), else NULL: the cache finds a /proc entry by the scan's tick
 * then (vigil_pcache__lookup). */
static const struct vigil_task_key *kernel_task(const struct seed *s, uint32_t pid, uint64_t scan_ktime)
{
	const struct vigil_task_key want = {.pid = pid}, *k;

	k = s->nkeys ? bsearch(&want, s->keys, s->nkeys, sizeof(*k), by_pid) : NULL;
	return k && k->ktime / TICK_NS == scan_ktime / TICK_NS ? k : NULL;
}

static uint64_t kernel_key(const struct seed *s, uint32_t pid, uint64_t scan_ktime)
{
	const struct vigil_task_key *k = kernel_task(s, pid, scan_ktime);

	return k ? k->ktime : scan_ktime;
}

/* What an exec record would have said and /proc does not: securebits and the user
 * namespace (the task iterator read them), and in_init_tree (the namespace's init, or a
 * child of the tree in the same pid namespace; the scan hands parents over first). */
static void exec_like(const struct seed *s, struct vigil_process *p, const struct vigil_task_key *k)
{
	const struct vigil_process *parent;

	if (!k)
		return;
	p->cred_extra = (struct vigil_cred_extra){.known = true, .securebits = k->cred_extra[0],
						 .userns_level = k->cred_extra[1], .userns_owner = k->cred_extra[2],
						 .userns_group = k->cred_extra[3]};
	parent = p->ppid ? vigil_pcache__peek(s->a->cache, p->ppid, p->pktime) : NULL;
	p->in_init_tree = (k->flags & VIGIL_TASK_NS_INIT) ||
			  (parent && parent->in_init_tree && parent->ns[VIGIL_NS_PID] == p->ns[VIGIL_NS_PID]);
}

static int seed_one(const struct vigil_process *found, void *ctx)
{
	struct seed *s = ctx;
	struct vigil_agent *a = s->a;
	const struct vigil_task_key *k;
	struct vigil_process *p;
	struct vigil_event ev = {0};
	uint64_t kernel_ktime = 0;
	int err;

	p = copy_process(found);
	if (!p)
		return 0;
	k = kernel_task(s, p->pid, p->ktime);
	p->ktime = k ? k->ktime : p->ktime;
	if (p->ppid)
		p->pktime = kernel_key(s, p->ppid, p->pktime);
	exec_like(s, p, k);

	err = vigil_loader__seed(a->loader, p, &kernel_ktime);
	/* the kernel saw it exec or fork since attaching: its own record will follow */
	if (err == -EEXIST) {
		vigil_process__free(p);
		return 0;
	}
	if (err)
		pr_warn("agent: cannot seed pid %u into the exec map: %s", p->pid, strerror(-err));
	/* exited between the scan and the seed: its exit found no entry to delete, so the
	 * seeded one would stay forever; its exit record retires the cache entry */
	if (!err && !still_running(a->opts.proc_root, p->pid))
		vigil_loader__unseed(a->loader, p);

	p = vigil_pcache__exec(a->cache, p, agent_now_ns());
	if (!p)
		return 0;
	a->counters.procfs_seeded++;
	ev.type = VIGIL_EVENT_EXEC;
	ev.time = p->start_time;
	ev.node_name = a->node_name;
	ev.process = p;
	ev.parent = p->ppid ? vigil_pcache__lookup(a->cache, p->ppid, p->pktime) : NULL;
	agent_dispatch(a, &ev);
	return 0;
}

int agent_seed_from_proc(struct vigil_agent *a)
{
	struct seed s = {.a = a};
	int n;

	/* the keys first: a process that execs between the two is seeded under its older
	 * key, and its exec record then retires that entry */
	vigil_loader__task_keys(a->loader, &s.keys, &s.nkeys);
	n = vigil_procfs_scan(a->opts.proc_root, a->boot_to_wall, seed_one, &s);
	free(s.keys);
	if (n < 0) {
		pr_warn("agent: /proc scan failed: %s", strerror(-n));
		return n;
	}
	pr_info("agent: %d running processes seeded from %s (%zu kernel keys)", n, a->opts.proc_root, s.nkeys);
	return n;
}
