/* rthooks.c - containers announced by the runtime's createContainer hook (vigil-oci-hook,
 * vigil rthooks) before their first process runs: the cgroup, and the pod the hook read from
 * the container's annotations. Each entry is a pod of its own, held the way the CRI
 * snapshot's pods are (one snapshot of one item), so events and policy scopes use it as they
 * use the CRI's until the CRI lists the container (then the entry is superseded) or the
 * cgroup goes away (then it is evicted). Bounded: a full table refuses new entries. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "containers_internal.h"

#define RTHOOKS_DEFAULT_CAPACITY 1024

struct rthook_entry {
	uint64_t cgroup_id;
	char *path;			/* relative to the cgroup v2 mount */
	struct cri_snap *snap;		/* one item: the pod; the table holds one reference */
};

struct vigil_rthooks {
	char *mount;
	pthread_mutex_t lock;
	struct rthook_entry *v;
	size_t n, cap;
	_Atomic size_t count;		/* n, read without the lock by the events' fast path */
	struct vigil_rthooks_stats stats;
};

struct vigil_rthooks *vigil_rthooks__new(const char *cgroup_mount, size_t capacity)
{
	struct vigil_rthooks *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->cap = capacity ? capacity : RTHOOKS_DEFAULT_CAPACITY;
	h->v = calloc(h->cap, sizeof(*h->v));
	h->mount = cgroup_mount ? strdup(cgroup_mount) : NULL;
	if (!h->v || (cgroup_mount && !h->mount)) {
		free(h->v);
		free(h->mount);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->stats.capacity = h->cap;
	return h;
}

static void entry_free(struct rthook_entry *e)
{
	free(e->path);
	cri_snap_put(e->snap);
}

void vigil_rthooks__free(struct vigil_rthooks *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++)
		entry_free(&h->v[i]);
	pthread_mutex_destroy(&h->lock);
	free(h->v);
	free(h->mount);
	free(h);
}

/* The hook's fields as a pod: one item, its strings owned (item layout as cri.c's). */
static struct cri_snap *snap_of(const struct vigil_rthook *e)
{
	const char *strs[] = { e->container_id, e->container_name, e->image, "", e->pod_name, e->pod_namespace,
			       e->pod_uid, e->pod_name, e->runtime };
	struct cri_snap *s = calloc(1, sizeof(*s));
	struct cri_item *it;
	struct timespec now;
	size_t i;

	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	s->items = calloc(1, sizeof(*s->items));
	if (!s->items)
		goto err_out;
	s->n = s->cap = 1;
	it = &s->items[0];
	for (i = 0; i < VIGIL_ARRAY_SIZE(strs); i++)
		if (!(it->strs[i] = strdup(strs[i] ? strs[i] : "")))
			goto err_out;
	it->labels = calloc(e->nlabels ? e->nlabels : 1, sizeof(*it->labels));
	if (!it->labels)
		goto err_out;
	for (i = 0; i < e->nlabels; i++) {
		it->labels[i].key = strdup(e->labels[i].key);
		it->labels[i].value = strdup(e->labels[i].value);
		it->pod.nlabels = i + 1;
		if (!it->labels[i].key || !it->labels[i].value)
			goto err_out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	it->pod = (struct vigil_pod){
		.runtime = it->strs[8], .container_id = it->strs[0], .container_name = it->strs[1],
		.image_name = it->strs[2], .image_id = it->strs[3],
		.start_time = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec,
		.name = it->strs[4], .namespace_ = it->strs[5], .uid = it->strs[6], .workload = it->strs[7],
		.workload_kind = "Pod", .labels = it->labels, .nlabels = e->nlabels, .owner_ = s,
	};
	return s;

err_out:
	cri_snap_put(s);
	return NULL;
}

static struct rthook_entry *find(struct vigil_rthooks *h, uint64_t cgroup_id)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->v[i].cgroup_id == cgroup_id)
			return &h->v[i];
	return NULL;
}

/* Under lock: entry i out, the last one in its place. */
static void remove_at(struct vigil_rthooks *h, size_t i)
{
	entry_free(&h->v[i]);
	h->v[i] = h->v[--h->n];
	atomic_store(&h->count, h->n);
	h->stats.entries = h->n;
}

/* The cgroup is gone when its directory is, or a new one took its name (another id). */
static bool cgroup_gone(const struct vigil_rthooks *h, const struct rthook_entry *e)
{
	char full[4200];
	struct stat st;

	if (!h->mount || snprintf(full, sizeof(full), "%s%s", h->mount, e->path) >= (int)sizeof(full))
		return false;
	return stat(full, &st) ? errno == ENOENT || errno == ENOTDIR : st.st_ino != e->cgroup_id;
}

/* Under lock: evict the entries whose cgroup is gone. */
static void evict_gone(struct vigil_rthooks *h)
{
	size_t i = 0;

	while (i < h->n) {
		if (cgroup_gone(h, &h->v[i])) {
			remove_at(h, i);
			h->stats.evicted++;
		} else {
			i++;
		}
	}
}

int vigil_rthooks__add(struct vigil_rthooks *h, uint64_t cgroup_id, const struct vigil_rthook *e)
{
	struct cri_snap *s = snap_of(e);
	struct rthook_entry *old;
	char *path = strdup(e->cgroup_path ? e->cgroup_path : "");
	int ret = 0;

	if (!s || !path) {
		cri_snap_put(s);
		free(path);
		return -ENOMEM;
	}
	pthread_mutex_lock(&h->lock);
	old = find(h, cgroup_id);
	if (!old && h->n == h->cap)
		evict_gone(h);
	if (old) {
		entry_free(old);
		*old = (struct rthook_entry){ cgroup_id, path, s };
		h->stats.replaced++;
		ret = 1;
	} else if (h->n == h->cap) {
		h->stats.refused_full++;
		ret = -ENOSPC;
	} else {
		h->v[h->n++] = (struct rthook_entry){ cgroup_id, path, s };
		atomic_store(&h->count, h->n);
		h->stats.entries = h->n;
		h->stats.added++;
	}
	pthread_mutex_unlock(&h->lock);
	if (ret < 0) {
		cri_snap_put(s);
		free(path);
	}
	return ret;
}

const struct vigil_pod *vigil_rthooks__get(struct vigil_rthooks *h, uint64_t cgroup_id)
{
	struct rthook_entry *e;
	const struct vigil_pod *pod = NULL;

	if (!h || !cgroup_id || !atomic_load(&h->count))
		return NULL;
	pthread_mutex_lock(&h->lock);
	e = find(h, cgroup_id);
	if (e) {
		atomic_fetch_add(&e->snap->refs, 1);
		pod = &e->snap->items[0].pod;
	}
	pthread_mutex_unlock(&h->lock);
	return pod;
}

size_t vigil_rthooks__each(struct vigil_rthooks *h, vigil_rthook_fn fn, void *ctx)
{
	size_t i, n;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	n = h->n;
	for (i = 0; i < n; i++)
		fn(ctx, h->v[i].cgroup_id, h->v[i].path, &h->v[i].snap->items[0].pod);
	pthread_mutex_unlock(&h->lock);
	return n;
}

size_t vigil_rthooks__prune(struct vigil_rthooks *h, bool (*superseded)(void *ctx, const struct vigil_pod *pod),
			    void *ctx)
{
	size_t i = 0, before;

	if (!h || !atomic_load(&h->count))
		return 0;
	pthread_mutex_lock(&h->lock);
	before = h->n;
	evict_gone(h);
	while (superseded && i < h->n) {
		if (h->v[i].snap->items[0].pod.container_id[0] && superseded(ctx, &h->v[i].snap->items[0].pod)) {
			remove_at(h, i);
			h->stats.superseded++;
		} else {
			i++;
		}
	}
	i = before - h->n;
	pthread_mutex_unlock(&h->lock);
	return i;
}

void vigil_rthooks__stats(struct vigil_rthooks *h, struct vigil_rthooks_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	*out = h->stats;
	pthread_mutex_unlock(&h->lock);
}
