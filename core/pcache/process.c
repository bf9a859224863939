/* process.c - process objects: construction, owned strings, what a fork inherits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcache_internal.h"

static char *empty_string(void)
{
	return calloc(1, 1);
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
	p->binary = empty_string();
	p->arguments = empty_string();
	p->cwd = empty_string();
	if (!p->binary || !p->arguments || !p->cwd) {
		vigil_process__free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

int vigil_process__set_str(char **field, const char *s, size_t len)
{
	char *copy;

	if (!field || (!s && len))
		return -EINVAL;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, s, len);
	copy[len] = '\0';
	free(*field);
	*field = copy;
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
	free(p->binary);
	free(p->arguments);
	free(p->cwd);
	free(pcache_node_of(p));
}

int pcache_process_inherit(struct vigil_process *dst, const struct vigil_process *src)
{
	int err;

	err = vigil_process__set_str(&dst->binary, src->binary, strlen(src->binary));
	if (!err)
		err = vigil_process__set_str(&dst->arguments, src->arguments, strlen(src->arguments));
	if (!err)
		err = vigil_process__set_str(&dst->cwd, src->cwd, strlen(src->cwd));
	if (err)
		return err;
	dst->auid = src->auid;
	dst->creds = src->creds;
	dst->cred_extra = src->cred_extra;
	dst->caps = src->caps;
	memcpy(dst->ns, src->ns, sizeof(dst->ns));
	dst->ns_host_mask = src->ns_host_mask;
	dst->cgroup_id = src->cgroup_id;
	memcpy(dst->container_id, src->container_id, sizeof(dst->container_id));
	dst->in_init_tree = src->in_init_tree;
	dst->file = src->file;
	return 0;
}
