/* process.c - process objects: construction, owned strings, what a fork inherits.
 *
 * A process's strings (exec_id, parent_exec_id, binary, arguments, cwd, container_id) are shared,
 * counted: a fork holds its parent's binary, arguments and cwd until it execs, so 30,000
 * forks of one server hold one copy of each; a process's parent_exec_id is its parent's
 * exec_id; and a new process holds no string at all (every "" is one static string). Each string sits after its
 * count; the count is atomic because a process may be freed on another thread than the one
 * that shares its strings with a fork. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcache_internal.h"

struct pcache_str {
	uint32_t refs;
	char s[];
};

/* The one "" every process starts with: never counted, never freed. */
static char empty_string[1];

static void str_put(char *s)
{
	struct pcache_str *h;

	if (!s || s == empty_string)
		return;
	h = pcache_container_of(s, struct pcache_str, s);
	if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(h);
}

static char *str_share(char *s)
{
	if (s != empty_string)
		__atomic_add_fetch(&pcache_container_of(s, struct pcache_str, s)->refs, 1, __ATOMIC_RELAXED);
	return s;
}

struct vigil_process *vigil_process__new(void)
{
	struct pcache_node *n;
	struct vigil_process *p;

	n = calloc(1, sizeof(*n));
	if (!n) {
		errno = ENOMEM;
		return NULL;
	}
	p = &n->proc;
	p->auid = UINT32_MAX;	/* "unset", as the kernel's loginuid says */
	p->exec_id = empty_string;
	p->parent_exec_id = empty_string;
	p->binary = empty_string;
	p->arguments = empty_string;
	p->cwd = empty_string;
	p->container_id = empty_string;
	return p;
}

int vigil_process__set_str(char **field, const char *s, size_t len)
{
	struct pcache_str *h;

	if (!field || (!s && len))
		return -EINVAL;
	if (!len) {
		str_put(*field);
		*field = empty_string;
		return 0;
	}
	h = malloc(sizeof(*h) + len + 1);
	if (!h)
		return -ENOMEM;
	h->refs = 1;
	memcpy(h->s, s, len);
	h->s[len] = '\0';
	str_put(*field);
	*field = h->s;
	return 0;
}

void vigil_process__free(struct vigil_process *p)
{
	if (!p)
		return;
	if (pcache_node_of(p)->cached) {
		/* Freeing it would leave dangling links in the cache: leak it and say so. */
		pr_warn("pcache: process %u still cached, not freed", p->pid);
		return;
	}
	str_put(p->exec_id);
	str_put(p->parent_exec_id);
	str_put(p->binary);
	str_put(p->arguments);
	str_put(p->cwd);
	str_put(p->container_id);
	free(pcache_node_of(p));
}

void pcache_str_share(char **field, char *src)
{
	if (*field == src)
		return;
	str_put(*field);
	*field = str_share(src);
}

void pcache_process_share_equal(struct vigil_process *p, const struct vigil_process *parent)
{
	if (p->binary != parent->binary && !strcmp(p->binary, parent->binary)) {
		str_put(p->binary);
		p->binary = str_share(parent->binary);
	}
	if (p->cwd != parent->cwd && !strcmp(p->cwd, parent->cwd)) {
		str_put(p->cwd);
		p->cwd = str_share(parent->cwd);
	}
	if (p->container_id != parent->container_id && !strcmp(p->container_id, parent->container_id)) {
		str_put(p->container_id);
		p->container_id = str_share(parent->container_id);
	}
}

int pcache_process_inherit(struct vigil_process *dst, const struct vigil_process *src)
{
	/* the parent's strings, shared: src is a cached process, whose strings came from
	 * vigil_process__set_str like every cached one's */
	str_put(dst->binary);
	str_put(dst->arguments);
	str_put(dst->cwd);
	dst->binary = str_share(src->binary);
	dst->arguments = str_share(src->arguments);
	dst->cwd = str_share(src->cwd);
	dst->auid = src->auid;
	dst->creds = src->creds;
	dst->cred_extra = src->cred_extra;
	dst->caps = src->caps;
	memcpy(dst->ns, src->ns, sizeof(dst->ns));
	dst->ns_host_mask = src->ns_host_mask;
	dst->cgroup_id = src->cgroup_id;
	str_put(dst->container_id);
	dst->container_id = str_share(src->container_id);
	dst->in_init_tree = src->in_init_tree;
	dst->file = src->file;
	return 0;
}
