/* procfs.c - the startup /proc scan: every running process, parents before children. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcache_internal.h"

struct entry {
	uint32_t pid;
	struct pcache_stat st;
	struct vigil_process *p;	/* NULL: a kernel thread or a process that vanished */
	size_t child;			/* first child, sibling: next one; SIZE_MAX = none */
	size_t sibling;
	bool done;
};

struct scan {
	DIR *dir;
	struct entry *e;
	size_t n, cap;
	struct pcache_host_ns host;
	int64_t boot_to_wall;
};

#define NONE SIZE_MAX

static bool parse_pid(const char *name, uint32_t *pid)
{
	unsigned long v = 0;
	const char *s;

	for (s = name; *s; s++) {
		if (*s < '0' || *s > '9' || v > UINT32_MAX / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (s == name || v > UINT32_MAX)
		return false;
	*pid = (uint32_t)v;
	return true;
}

static int open_pid(const struct scan *s, uint32_t pid)
{
	char name[16];

	snprintf(name, sizeof(name), "%u", pid);
	return openat(dirfd(s->dir), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int push(struct scan *s, const struct entry *e)
{
	struct entry *grown;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 256;
		grown = realloc(s->e, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->e = grown;
		s->cap = cap;
	}
	s->e[s->n++] = *e;
	return 0;
}

/* Read one pid. Kernel threads keep an entry without a process: their children (usermode
 * helpers of kthreadd) still need their ktime. */
static int collect(struct scan *s, uint32_t pid)
{
	struct entry e = { .pid = pid, .child = NONE, .sibling = NONE };
	int dfd, err = 0;

	dfd = open_pid(s, pid);
	if (dfd < 0)
		return 0;	/* vanished since readdir */
	if (pcache_read_stat(dfd, &e.st))
		goto out;	/* vanished, or not a process directory */
	if (!e.st.kthread) {
		e.p = vigil_process__new();
		if (!e.p) {
			err = -ENOMEM;
			goto out;
		}
		err = pcache_read_process(dfd, &s->host, e.p);
		if (err) {
			vigil_process__free(e.p);
			e.p = NULL;
			if (err != -ENOMEM)
				err = 0;	/* gone, or a kernel thread by the exe/cmdline test */
		}
	}
	if (!err)
		err = push(s, &e);
	if (err)
		vigil_process__free(e.p);
out:
	close(dfd);
	return err;
}

static int by_pid(const void *a, const void *b)
{
	uint32_t x = ((const struct entry *)a)->pid, y = ((const struct entry *)b)->pid;

	return x < y ? -1 : x > y;
}

static struct entry *find(const struct scan *s, uint32_t pid)
{
	struct entry key = { .pid = pid };

	return s->n ? bsearch(&key, s->e, s->n, sizeof(*s->e), by_pid) : NULL;
}

/* The parent's ktime; a parent that appeared after readdir is read on its own. */
static uint64_t parent_ktime(const struct scan *s, uint32_t ppid)
{
	const struct entry *pe;
	struct pcache_stat st;
	int dfd;

	if (!ppid)
		return 0;
	pe = find(s, ppid);
	if (pe)
		return pe->st.ktime;
	dfd = open_pid(s, ppid);
	if (dfd < 0)
		return 0;
	if (pcache_read_stat(dfd, &st))
		st.ktime = 0;
	close(dfd);
	return st.ktime;
}

/* Fill the keys and link every reported process under its reported parent. Iterating
 * backwards leaves each child list in ascending pid order. */
static void link_tree(struct scan *s)
{
	struct vigil_process *p;
	struct entry *pe;
	size_t i;

	for (i = s->n; i-- > 0;) {
		p = s->e[i].p;
		if (!p)
			continue;
		p->pid = p->tid = s->e[i].pid;
		p->ktime = s->e[i].st.ktime;
		p->ppid = s->e[i].st.ppid;
		p->pktime = parent_ktime(s, p->ppid);
		p->start_time = p->ktime + (uint64_t)s->boot_to_wall;
		pe = p->ppid != p->pid ? find(s, p->ppid) : NULL;
		if (pe && pe->p) {
			s->e[i].sibling = pe->child;
			pe->child = i;
		}
	}
}

/* Depth-first from root: each process before its subtree. stack holds n + 1 slots: every
 * entry is pushed at most once by its one parent, plus the root. The done flag also stops
 * a (kernel-impossible) ppid cycle from looping. */
static int emit_tree(struct scan *s, size_t root, size_t *stack, vigil_procfs_fn fn, void *ctx,
		     int *count)
{
	size_t top = 0, lo, hi, i, c, tmp;

	stack[top++] = root;
	while (top) {
		i = stack[--top];
		if (s->e[i].done)
			continue;
		s->e[i].done = true;
		(*count)++;
		if (fn(s->e[i].p, ctx))
			return 1;
		/* Push the children, then reverse them so the lowest pid comes off first. */
		lo = top;
		for (c = s->e[i].child; c != NONE && top <= s->n; c = s->e[c].sibling)
			if (!s->e[c].done)
				stack[top++] = c;
		for (hi = top; lo + 1 < hi; lo++, hi--) {
			tmp = stack[lo];
			stack[lo] = stack[hi - 1];
			stack[hi - 1] = tmp;
		}
	}
	return 0;
}

/* Roots first (no reported parent), in pid order; then whatever a cycle kept unreached. */
static int emit(struct scan *s, vigil_procfs_fn fn, void *ctx)
{
	struct entry *pe;
	size_t *stack, i;
	int count = 0, pass, stop = 0;

	stack = malloc((s->n + 1) * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	for (pass = 0; pass < 2 && !stop; pass++) {
		for (i = 0; i < s->n && !stop; i++) {
			if (!s->e[i].p || s->e[i].done)
				continue;
			pe = s->e[i].p->ppid != s->e[i].pid ? find(s, s->e[i].p->ppid) : NULL;
			if (pass == 0 && pe && pe->p)
				continue;
			stop = emit_tree(s, i, stack, fn, ctx, &count);
		}
	}
	free(stack);
	return count;
}

static void scan_free(struct scan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		vigil_process__free(s->e[i].p);
	free(s->e);
	if (s->dir)
		closedir(s->dir);
}

int vigil_procfs_scan(const char *proc_root, int64_t boot_to_wall, vigil_procfs_fn fn, void *ctx)
{
	struct scan s = { .boot_to_wall = boot_to_wall };
	struct dirent *d;
	uint32_t pid;
	int err = 0;

	if (!proc_root || !fn)
		return -EINVAL;
	s.dir = opendir(proc_root);
	if (!s.dir) {
		err = -errno;
		goto out;
	}
	vigil_host_ns_read(proc_root, s.host.ns);

	/* Collect everything first: a parent may have a higher pid than its child once pids
	 * wrap, so readdir order is no order to report in. */
	for (errno = 0; (d = readdir(s.dir)); errno = 0) {
		if (!parse_pid(d->d_name, &pid))
			continue;
		err = collect(&s, pid);
		if (err)
			goto out;
	}
	if (errno) {
		err = -errno;
		goto out;
	}
	if (s.n)
		qsort(s.e, s.n, sizeof(*s.e), by_pid);
	link_tree(&s);
	err = emit(&s, fn, ctx);
out:
	scan_free(&s);
	return err;
}
