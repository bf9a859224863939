/* scopes.c - policies scoped to workloads (TracingPolicyNamespaced, podSelector,
 * containerSelector): the kernel map vg_scopes lists, per scoped policy, the cgroups of the
 * containers it selects, and a scoped hook runs only in those (bpf/generic.bpf.c).
 *
 * Kept current from the container runtime: after every CRI refresh (its thread) and after
 * a policy is added or deleted, the cgroup v2 tree is walked for the cgroups each container
 * id names (a directory's inode number is its cgroup id) and the map is made to match. A
 * container that started since the last refresh is not covered until the refresh its first
 * event asks for (within ~100 ms), unless the runtime hook announced it before it started
 * (rthooks.c): the cgroups of those entries are matched as they are, with the pod the hook
 * told, until the CRI lists them.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent_internal.h"
#include "process.h"

struct cg_pair {
	char id[VIGIL_CONTAINER_ID_MAX];
	uint64_t cgroup_id;
};

struct walk {
	struct cg_pair *v;
	size_t n, cap;
	size_t mlen;
	int err;
};

static __thread struct walk *walking;	/* nftw takes no context */

static int on_dir(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct walk *w = walking;
	struct cg_pair *grown;
	char id[VIGIL_CONTAINER_ID_MAX];

	if (type != FTW_D || !vigil_container_id_from_path(path + w->mlen, id))
		return 0;
	if (w->n == w->cap) {
		grown = realloc(w->v, (w->cap ? 2 * w->cap : 64) * sizeof(*grown));
		if (!grown) {
			w->err = -ENOMEM;
			return 1;
		}
		w->v = grown;
		w->cap = w->cap ? 2 * w->cap : 64;
	}
	memcpy(w->v[w->n].id, id, sizeof(id));
	w->v[w->n++].cgroup_id = st->st_ino;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	const struct vigil_scope_key *x = a, *y = b;

	if (x->cgroup_id != y->cgroup_id)
		return x->cgroup_id < y->cgroup_id ? -1 : 1;
	return x->scope < y->scope ? -1 : x->scope > y->scope;
}

struct want {
	struct vigil_agent *a;
	struct walk *w;
	struct vigil_scope_key *keys;
	size_t n, cap;
	int err;
};

static bool selects(const struct vigil_policy *p, const struct vigil_pod *pod)
{
	const char *keys[64], *values[64];
	const char *name_key = "name";
	size_t i, n = pod->nlabels < 64 ? pod->nlabels : 64;

	if (p->namespaced && strcmp(p->namespace_, pod->namespace_))
		return false;
	for (i = 0; i < n; i++) {
		keys[i] = pod->labels[i].key;
		values[i] = pod->labels[i].value;
	}
	if (p->pod_selector.present && !vigil_label_selector_match(&p->pod_selector, keys, values, n))
		return false;
	/* a pod's sandbox has no container name: only an empty containerSelector takes it */
	if (p->container_selector.present &&
	    !vigil_label_selector_match(&p->container_selector, &name_key, &pod->container_name,
					pod->container_name[0] ? 1 : 0))
		return false;
	return true;
}

struct pod_match {
	struct want *wt;
	const struct vigil_pod *pod;
};

static void want_key(struct want *wt, uint64_t cgroup_id, uint32_t scope)
{
	struct vigil_scope_key *grown;

	if (wt->n == wt->cap) {
		grown = realloc(wt->keys, (wt->cap ? 2 * wt->cap : 64) * sizeof(*grown));
		if (!grown) {
			wt->err = -ENOMEM;
			return;
		}
		wt->keys = grown;
		wt->cap = wt->cap ? 2 * wt->cap : 64;
	}
	wt->keys[wt->n++] = (struct vigil_scope_key){ .cgroup_id = cgroup_id, .scope = scope };
}

/* Under the sensors' lock: the keys a scoped policy wants for one pod's container. */
static void match_policy(void *ctx, const struct vigil_policy *p)
{
	struct pod_match *pm = ctx;
	struct want *wt = pm->wt;
	uint32_t id = vigil_policy_scope_id(p);
	size_t i;

	if (!id || wt->err || !selects(p, pm->pod))
		return;
	for (i = 0; i < wt->w->n && !wt->err; i++)
		if (!strcmp(wt->w->v[i].id, pm->pod->container_id))
			want_key(wt, wt->w->v[i].cgroup_id, id);
}

struct hooked_match {
	struct want *wt;
	const struct vigil_pod *pod;
	uint64_t cgroup_id;
};

/* The same for a container the runtime hook announced: its one cgroup, as the hook named it. */
static void match_hooked_policy(void *ctx, const struct vigil_policy *p)
{
	struct hooked_match *hm = ctx;
	uint32_t id = vigil_policy_scope_id(p);

	if (id && !hm->wt->err && selects(p, hm->pod))
		want_key(hm->wt, hm->cgroup_id, id);
}

struct hooked_ids {
	uint64_t *v;
	size_t n;
	int err;
};

/* Under the hook table's lock: only the ids are taken, the policies are matched after it
 * (the sensors' lock is never taken inside it). */
static void on_hooked(void *ctx, uint64_t cgroup_id, const char *cgroup_path, const struct vigil_pod *pod)
{
	struct hooked_ids *ids = ctx;
	uint64_t *grown;

	(void)cgroup_path;
	(void)pod;
	grown = ids->err ? NULL : realloc(ids->v, (ids->n + 1) * sizeof(*grown));
	if (!grown) {
		ids->err = -ENOMEM;
		return;
	}
	ids->v = grown;
	ids->v[ids->n++] = cgroup_id;
}

/* The keys the scoped policies want for the containers the runtime hook announced. */
static int match_hooked(struct vigil_agent *a, struct want *wt)
{
	struct hooked_ids ids = { 0 };
	struct hooked_match hm = { wt, NULL, 0 };
	size_t i;

	vigil_rthooks__each(a->rthooks, on_hooked, &ids);
	for (i = 0; !ids.err && !wt->err && i < ids.n; i++) {
		hm.pod = vigil_rthooks__get(a->rthooks, ids.v[i]);	/* held: an eviction meanwhile is harmless */
		hm.cgroup_id = ids.v[i];
		if (hm.pod)
			vigil_sensors__each_policy(a->sensors, match_hooked_policy, &hm);
		vigil_pod__put(hm.pod);
	}
	free(ids.v);
	return ids.err ?: wt->err;
}

static void on_pod(void *ctx, const struct vigil_pod *pod)
{
	struct want *wt = ctx;
	struct pod_match pm = { wt, pod };

	vigil_sensors__each_policy(wt->a->sensors, match_policy, &pm);
}

static void count_scoped(void *ctx, const struct vigil_policy *p)
{
	*(size_t *)ctx += vigil_policy_is_scoped(p);
}

/* Make vg_scopes hold exactly the wanted keys. Under scopes_lock. */
static int write_map(struct vigil_agent *a, struct vigil_scope_key *want, size_t n)
{
	struct vigil_scope_key key, next, *stale = NULL, *grown;
	size_t nstale = 0, i;
	int fd = vigil_loader__scopes_fd(a->loader), err = 0;
	const __u8 one = 1;
	bool first = true;

	if (n)
		qsort(want, n, sizeof(*want), by_key);
	/* collect first, delete after: deleting while iterating can restart the walk */
	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (n && bsearch(&key, want, n, sizeof(*want), by_key))
			continue;
		grown = realloc(stale, (nstale + 1) * sizeof(*stale));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		stale = grown;
		stale[nstale++] = key;
	}
	for (i = 0; i < nstale; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	for (i = 0; !err && i < n; i++)
		if (bpf_map_update_elem(fd, &want[i], &one, BPF_ANY))
			err = -errno;
	free(stale);
	a->scope_entries = n;
	return err;
}

void agent_scopes_sync(struct vigil_agent *a)
{
	const char *mount = a->cgroups ? vigil_cgroups__mount(a->cgroups) : NULL;
	struct walk w = { 0 };
	struct want wt = { .a = a, .w = &w };
	size_t nscoped = 0;
	int err = 0;

	if (!a->loader || !a->sensors)
		return;		/* no kernel side (the control fuzzer's agent) */
	pthread_mutex_lock(&a->scopes_lock);
	agent_rthooks_prune(a);		/* what the CRI lists now is matched from its answer */
	vigil_sensors__each_policy(a->sensors, count_scoped, &nscoped);
	if (!nscoped && !a->scope_entries)
		goto out;
	if (nscoped && !a->cri && !a->scopes_warned) {
		a->scopes_warned = true;
		pr_warn("scopes: policies apply to pods, and no container runtime is asked (--cri-endpoint none): "
			"they apply only to the containers the runtime hook announces (vigil-oci-hook)");
	}
	if (nscoped && a->cri && mount) {
		w.mlen = strlen(mount);
		walking = &w;
		if (nftw(mount, on_dir, 16, FTW_PHYS | FTW_MOUNT) < 0)
			err = -errno;
		walking = NULL;
		err = err ?: w.err;
		if (!err)
			vigil_cri__each(a->cri, on_pod, &wt);
		err = err ?: wt.err;
	}
	if (nscoped && !err)
		err = match_hooked(a, &wt);
	if (!err)
		err = write_map(a, wt.keys, wt.n);
	if (err)
		pr_warn("scopes: cannot bring the policy scopes up to date: %s", strerror(-err));
out:
	pthread_mutex_unlock(&a->scopes_lock);
	free(w.v);
	free(wt.keys);
}
