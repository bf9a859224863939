/* rthooks.c - the runtime hook's control command (tetra rthooks create-container, and
 * vigil-oci-hook from the container runtime): a container about to start is recorded with its
 * pod (core/containers/rthooks.c) and the policy scopes are brought up to date before the
 * runtime lets its first process run, so a namespaced or pod-selected policy applies from
 * that first exec rather than from the CRI's next listing. Root's: it decides which
 * policies apply to a cgroup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent_internal.h"

#define RTHOOK_MAX_LABELS 64
#define RTHOOK_MAX_TEXT 1024

/* The annotations containerd and CRI-O give a pod's containers, first found wins (the
 * names Tetragon's hook reads). */
static const char *const ann_container_name[] = {"io.kubernetes.cri.container-name", "io.kubernetes.container.name"};
static const char *const ann_image[] = {"io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName"};
static const char *const ann_container_id[] = {"io.kubernetes.cri-o.ContainerID"};
static const char *const ann_pod_name[] = {"io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"};
static const char *const ann_pod_uid[] = {"io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"};
static const char *const ann_pod_namespace[] = {"io.kubernetes.cri.sandbox-namespace",
						"io.kubernetes.pod.namespace"};

/* Annotations that are the runtime's bookkeeping; the others are taken as the pod's labels
 * (podSelector matches them). */
static bool runtime_annotation(const char *key)
{
	static const char *const prefixes[] = {"io.kubernetes.", "io.containerd.", "org.opencontainers.",
					       "io.cri-o.", "io.katacontainers."};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(prefixes); i++)
		if (!strncmp(key, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

struct request {
	char *cgroups_path, *root_dir, *container_id, *container_name, *image, *pod_name, *pod_uid, *pod_namespace;
	struct vigil_pod_label labels[RTHOOK_MAX_LABELS];
	size_t nlabels;
	const char *runtime;
	char err[256];
};

static char *dup_obj(const msgpack_object *o)
{
	return strndup(o->via.str.ptr, o->via.str.size);
}

/* A string field of the request into *out (NULL when absent). -EINVAL: not a string, or too long. */
static int take(const msgpack_object *req, const char *key, char **out, char *err, size_t size)
{
	const msgpack_object *v = ctl_get(req, key);

	if (!v)
		return 0;
	if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= RTHOOK_MAX_TEXT ||
	    memchr(v->via.str.ptr, '\0', v->via.str.size)) {
		snprintf(err, size, "rthooks: \"%s\" must be a string of less than %d bytes", key, RTHOOK_MAX_TEXT);
		return -EINVAL;
	}
	*out = dup_obj(v);
	return *out ? 0 : -ENOMEM;
}

/* The first of keys the annotations have, into *out when the request did not say. */
static int from_annotations(const msgpack_object *ann, const char *const *keys, size_t n, char **out)
{
	const msgpack_object *v;
	size_t i;

	for (i = 0; !*out && ann && i < n; i++) {
		v = vigil_msgpack_get(ann, keys[i]);
		if (v && v->type == MSGPACK_OBJECT_STR && v->via.str.size < RTHOOK_MAX_TEXT) {
			*out = dup_obj(v);
			if (!*out)
				return -ENOMEM;
		}
	}
	return 0;
}

static int read_annotations(const msgpack_object *ann, struct request *r)
{
	const msgpack_object_kv *kv;
	char key[RTHOOK_MAX_TEXT];
	uint32_t i;

	if (ann->type != MSGPACK_OBJECT_MAP) {
		snprintf(r->err, sizeof(r->err), "rthooks: \"annotations\" must be a map of strings");
		return -EINVAL;
	}
	for (i = 0; i < ann->via.map.size; i++) {
		kv = &ann->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR ||
		    kv->key.via.str.size >= RTHOOK_MAX_TEXT || kv->val.via.str.size >= RTHOOK_MAX_TEXT ||
		    !kv->key.via.str.size) {
			snprintf(r->err, sizeof(r->err),
				 "rthooks: annotation %u: keys and values must be strings of less than %d bytes", i,
				 RTHOOK_MAX_TEXT);
			return -EINVAL;
		}
		snprintf(key, sizeof(key), "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
		if (!strncmp(key, "io.kubernetes.cri.", 18))
			r->runtime = "containerd";
		else if (!strncmp(key, "io.kubernetes.cri-o.", 20))
			r->runtime = "cri-o";
		if (runtime_annotation(key))
			continue;
		if (r->nlabels == RTHOOK_MAX_LABELS) {
			snprintf(r->err, sizeof(r->err), "rthooks: more than %d labels in the annotations",
				 RTHOOK_MAX_LABELS);
			return -E2BIG;
		}
		r->labels[r->nlabels].key = strdup(key);
		r->labels[r->nlabels].value = dup_obj(&kv->val);
		r->nlabels++;
		if (!r->labels[r->nlabels - 1].key || !r->labels[r->nlabels - 1].value)
			return -ENOMEM;
	}
	return 0;
}

static int read_request(const msgpack_object *req, struct request *r)
{
	const msgpack_object *ann = ctl_get(req, "annotations");
	int err;

	err = take(req, "cgroupsPath", &r->cgroups_path, r->err, sizeof(r->err)) ?:
	      take(req, "rootDir", &r->root_dir, r->err, sizeof(r->err)) ?:
	      take(req, "containerID", &r->container_id, r->err, sizeof(r->err)) ?:
	      take(req, "containerName", &r->container_name, r->err, sizeof(r->err)) ?:
	      take(req, "containerImage", &r->image, r->err, sizeof(r->err)) ?:
	      take(req, "podName", &r->pod_name, r->err, sizeof(r->err)) ?:
	      take(req, "podUID", &r->pod_uid, r->err, sizeof(r->err)) ?:
	      take(req, "podNamespace", &r->pod_namespace, r->err, sizeof(r->err));
	if (!err && ann)
		err = read_annotations(ann, r);
	if (!err)
		err = from_annotations(ann, ann_container_name, VIGIL_ARRAY_SIZE(ann_container_name),
				       &r->container_name) ?:
		      from_annotations(ann, ann_image, VIGIL_ARRAY_SIZE(ann_image), &r->image) ?:
		      from_annotations(ann, ann_container_id, VIGIL_ARRAY_SIZE(ann_container_id), &r->container_id) ?:
		      from_annotations(ann, ann_pod_name, VIGIL_ARRAY_SIZE(ann_pod_name), &r->pod_name) ?:
		      from_annotations(ann, ann_pod_uid, VIGIL_ARRAY_SIZE(ann_pod_uid), &r->pod_uid) ?:
		      from_annotations(ann, ann_pod_namespace, VIGIL_ARRAY_SIZE(ann_pod_namespace),
				       &r->pod_namespace);
	return err;
}

static void request_free(struct request *r)
{
	size_t i;

	free(r->cgroups_path);
	free(r->root_dir);
	free(r->container_id);
	free(r->container_name);
	free(r->image);
	free(r->pod_name);
	free(r->pod_uid);
	free(r->pod_namespace);
	for (i = 0; i < r->nlabels; i++) {
		free((char *)r->labels[i].key);
		free((char *)r->labels[i].value);
	}
}

/* The cgroup of an OCI linux.cgroupsPath, relative to the v2 mount, and its id (the
 * directory's inode number). No ".." and nothing outside the mount. */
static int resolve_cgroup(struct vigil_agent *a, const char *in, char *rel, size_t size, uint64_t *id, char *err,
			  size_t err_size)
{
	const char *mount = a->cgroups ? vigil_cgroups__mount(a->cgroups) : NULL;
	char full[PATH_MAX + 64];
	struct stat st, mst;
	int n;

	if (!mount) {
		snprintf(err, err_size, "rthooks: the host has no cgroup v2 mount");
		return -ENOENT;
	}
	n = vigil_cgroup_path_of_oci(in, rel, size);
	if (n == -ENAMETOOLONG) {
		snprintf(err, err_size, "rthooks: cgroupsPath too long");
		return n;
	}
	if (n) {
		snprintf(err, err_size,
			 "rthooks: cgroupsPath %.120s: \"..\" is not allowed, and a name with ':' must be systemd's "
			 "slice:prefix:name",
			 in);
		return n;
	}
	n = snprintf(full, sizeof(full), "%s%s", mount, rel);
	if (n < 0 || (size_t)n >= sizeof(full) || stat(full, &st) || stat(mount, &mst)) {
		snprintf(err, err_size, "rthooks: no cgroup %.120s under %.60s: %s", rel, mount,
			 n < 0 || (size_t)n >= sizeof(full) ? "path too long" : strerror(errno));
		return -ENOENT;
	}
	if (!S_ISDIR(st.st_mode) || st.st_dev != mst.st_dev) {
		snprintf(err, err_size, "rthooks: %.120s is not a cgroup of the v2 hierarchy at %.60s", rel, mount);
		return -EINVAL;
	}
	*id = st.st_ino;
	return 0;
}

static void pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	ctl_pack_str(pk, k);
	ctl_pack_str(pk, v ? v : "");
}

/* rootDir (the container's root filesystem), when the hook sends one, must be a directory
 * the runtime has made: vigil scopes by cgroup, so this is its only use, a check that the
 * announcement is about a container being created. */
static int check_root_dir(const char *dir, char *err, size_t err_size)
{
	struct stat st;

	if (!dir || !*dir)
		return 0;
	if (dir[0] != '/') {
		snprintf(err, err_size, "rthooks: rootDir %s is not an absolute path", dir);
		return -EINVAL;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, err_size, "rthooks: rootDir %s is not a directory", dir);
		return -EINVAL;
	}
	return 0;
}

/* {"cmd": "rthooks_create_container", "cgroupsPath", "rootDir"?, "annotations"?: {k: v},
 * "containerName"?, "containerID"?, "podName"?, "podUID"?, "podNamespace"?, "containerImage"?}
 * (Tetragon's CreateContainer) -> {"ok", "cgroup_id", "cgroup_path", "container_id",
 * "pod_namespace", "pod_name", "replaced", "pending"}. */
int agent_rthooks_create(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct request r = {0};
	char rel[PATH_MAX], cid[VIGIL_CONTAINER_ID_MAX];
	struct vigil_rthooks_stats st;
	struct vigil_rthook e;
	uint64_t id = 0;
	int ret;

	ret = read_request(req, &r);
	if (!ret && !a->rthooks) {
		snprintf(r.err, sizeof(r.err), "rthooks: the agent keeps no container table");
		ret = -ENODEV;
	}
	if (!ret && (!r.cgroups_path || !r.cgroups_path[0])) {
		/* Tetragon finds a container from its rootDir too; vigil scopes by cgroup */
		snprintf(r.err, sizeof(r.err), "rthooks: cgroupsPath is required (the container's linux.cgroupsPath)");
		ret = -EINVAL;
	}
	if (!ret)
		ret = check_root_dir(r.root_dir, r.err, sizeof(r.err));
	if (!ret)
		ret = resolve_cgroup(a, r.cgroups_path, rel, sizeof(rel), &id, r.err, sizeof(r.err));
	if (!ret && !r.container_id && vigil_container_id_from_path(rel, cid))
		r.container_id = strdup(cid);
	if (!ret) {
		e = (struct vigil_rthook){
			.cgroup_path = rel, .container_id = r.container_id, .container_name = r.container_name,
			.image = r.image, .pod_name = r.pod_name, .pod_uid = r.pod_uid,
			.pod_namespace = r.pod_namespace, .runtime = r.runtime ? r.runtime : "",
			.labels = r.labels, .nlabels = r.nlabels,
		};
		ret = vigil_rthooks__add(a->rthooks, id, &e);
		if (ret == -ENOSPC) {
			vigil_rthooks__stats(a->rthooks, &st);
			snprintf(r.err, sizeof(r.err),
				 "rthooks: %llu containers are pending already (none of their cgroups is gone): this "
				 "one is scoped when the CRI lists it",
				 (unsigned long long)st.capacity);
		}
	}
	if (ret < 0) {
		ctl_pack_error(pk, r.err[0] ? r.err : strerror(-ret));
		request_free(&r);
		return 0;
	}
	/* before the runtime starts the container: its first exec is in scope */
	agent_scopes_sync(a);
	pr_info("rthooks: container %s of pod %s/%s announced: cgroup %s (%llu)", r.container_id ? r.container_id : "",
		r.pod_namespace ? r.pod_namespace : "", r.pod_name ? r.pod_name : "", rel, (unsigned long long)id);
	vigil_rthooks__stats(a->rthooks, &st);
	msgpack_pack_map(pk, 9);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	pack_kv_str(pk, "root_dir", r.root_dir);
	ctl_pack_str(pk, "cgroup_id");
	msgpack_pack_uint64(pk, id);
	pack_kv_str(pk, "cgroup_path", rel);
	pack_kv_str(pk, "container_id", r.container_id);
	pack_kv_str(pk, "pod_namespace", r.pod_namespace);
	pack_kv_str(pk, "pod_name", r.pod_name);
	ctl_pack_str(pk, "replaced");
	if (ret == 1)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	ctl_pack_str(pk, "pending");
	msgpack_pack_uint64(pk, st.entries);
	request_free(&r);
	return 0;
}

static bool listed_by_cri(void *ctx, const struct vigil_pod *pod)
{
	struct vigil_agent *a = ctx;

	return a->cri && vigil_cri__knows(a->cri, pod->container_id);
}

void agent_rthooks_prune(struct vigil_agent *a)
{
	vigil_rthooks__prune(a->rthooks, listed_by_cri, a);
}

/* {entries, capacity, added, replaced, superseded, evicted, refused_full} */
void agent_rthooks_pack(struct vigil_agent *a, msgpack_packer *pk)
{
	struct vigil_rthooks_stats st;

	vigil_rthooks__stats(a->rthooks, &st);
	msgpack_pack_map(pk, 7);
	ctl_pack_str(pk, "entries");
	msgpack_pack_uint64(pk, st.entries);
	ctl_pack_str(pk, "capacity");
	msgpack_pack_uint64(pk, st.capacity);
	ctl_pack_str(pk, "added");
	msgpack_pack_uint64(pk, st.added);
	ctl_pack_str(pk, "replaced");
	msgpack_pack_uint64(pk, st.replaced);
	ctl_pack_str(pk, "superseded");
	msgpack_pack_uint64(pk, st.superseded);
	ctl_pack_str(pk, "evicted");
	msgpack_pack_uint64(pk, st.evicted);
	ctl_pack_str(pk, "refused_full");
	msgpack_pack_uint64(pk, st.refused_full);
}
