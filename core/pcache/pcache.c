/* pcache.c - the process cache object: options, lifetime, lookups, statistics. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcache_internal.h"

#define DEFAULT_CAPACITY 65536		/* Tetragon's --process-cache-size */
#define DEFAULT_GC_DELAY_NS (30ULL * 1000000000ULL)	/* one Tetragon GC interval */
#define NODE_NAME_MAX 64		/* HOST_NAME_MAX: keeps every exec_id in VIGIL_EXEC_ID_MAX */

/* Read a field only if the caller's struct is big enough to have it (libbpf's OPTS_GET):
 * a caller built against an older, shorter vigil_pcache_opts keeps working. */
#define OPT(opts, field, dflt)                                                         \
	((opts) && (opts)->sz >= offsetof(struct vigil_pcache_opts, field) + sizeof((opts)->field) && \
	 (opts)->field ? (opts)->field : (dflt))

static int opts_valid(const struct vigil_pcache_opts *opts)
{
	const char *tail;
	size_t i;

	if (!opts)
		return 0;
	if (opts->sz < sizeof(opts->sz))
		return -EINVAL;
	/* A newer caller may pass a longer struct, but only with the fields we lack zeroed. */
	tail = (const char *)opts;
	for (i = sizeof(*opts); i < opts->sz; i++)
		if (tail[i])
			return -EINVAL;
	return 0;
}

static size_t bucket_count(size_t capacity)
{
	size_t n = 16;

	while (n < capacity && n <= SIZE_MAX / 2)
		n *= 2;
	return n;
}

static char *default_node_name(void)
{
	char host[NODE_NAME_MAX + 1] = "";

	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[NODE_NAME_MAX] = '\0';
	return strdup(host);
}

struct vigil_pcache *vigil_pcache__new(const struct vigil_pcache_opts *opts)
{
	struct vigil_pcache *c = NULL;
	const char *node;
	size_t buckets;
	int err;

	err = opts_valid(opts);
	if (err)
		goto err_out;
	node = OPT(opts, node_name, NULL);
	if (node && strlen(node) > NODE_NAME_MAX) {
		err = -ENAMETOOLONG;
		goto err_out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		err = -ENOMEM;
		goto err_out;
	}
	c->capacity = OPT(opts, capacity, DEFAULT_CAPACITY);
	c->gc_delay_ns = OPT(opts, gc_delay_ns, DEFAULT_GC_DELAY_NS);
	buckets = bucket_count(c->capacity);
	c->mask = buckets - 1;
	c->keys = calloc(buckets, sizeof(*c->keys));
	c->pids = calloc(buckets, sizeof(*c->pids));
	c->node_name = node ? strdup(node) : default_node_name();
	if (!c->keys || !c->pids || !c->node_name) {
		err = -ENOMEM;
		goto err_out;
	}
	return c;

err_out:
	vigil_pcache__free(c);
	errno = -err;
	return NULL;
}

void vigil_pcache__free(struct vigil_pcache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; c->keys && i <= c->mask; i++)
		while (c->keys[i])
			pcache_destroy(c, c->keys[i]);
	if (c->detached)
		vigil_process__free(&c->detached->proc);
	free(c->keys);
	free(c->pids);
	free(c->node_name);
	free(c);
}

const char *vigil_pcache__node_name(const struct vigil_pcache *c)
{
	return c ? c->node_name : NULL;
}

struct vigil_process *vigil_pcache__lookup(struct vigil_pcache *c, uint32_t pid, uint64_t ktime)
{
	struct pcache_node *n;

	if (!c)
		return NULL;
	n = pcache_resolve(c, pid, ktime);
	if (!n) {
		c->stats.misses++;
		return NULL;
	}
	pcache_touch(c, n);
	return &n->proc;
}

struct vigil_process *vigil_pcache__find_pid(struct vigil_pcache *c, uint32_t pid)
{
	struct pcache_node *n;

	if (!c)
		return NULL;
	n = pcache_pid_find(c, pid);
	if (!n) {
		c->stats.misses++;
		return NULL;
	}
	pcache_touch(c, n);
	return &n->proc;
}

const struct vigil_process *vigil_pcache__peek(const struct vigil_pcache *c, uint32_t pid, uint64_t ktime)
{
	const struct pcache_node *n = c ? pcache_key_find(c, pid, ktime) : NULL;

	return n ? &n->proc : NULL;
}

const struct vigil_process *vigil_pcache__peek_pid(const struct vigil_pcache *c, uint32_t pid)
{
	const struct pcache_node *n = c ? pcache_pid_find(c, pid) : NULL;

	return n ? &n->proc : NULL;
}

void vigil_pcache__stats(const struct vigil_pcache *c, struct vigil_pcache_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (c)
		*out = c->stats;
}
