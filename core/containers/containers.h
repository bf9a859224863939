/* containers.h - which container a process runs in: the container id from its cgroup
 * (the paths container runtimes give their cgroups), and a cache from the cgroup id the
 * kernel records to that container id.
 *
 * Single-threaded: only the agent's reader thread uses a resolver.
 */
#ifndef VIGIL_CONTAINERS_H
#define VIGIL_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

/* Container ids are 64 lowercase hex digits (containerd, CRI-O, Docker, Podman). */
#define VIGIL_CONTAINER_ID_LEN 64
#define VIGIL_CONTAINER_ID_MAX (VIGIL_CONTAINER_ID_LEN + 1)
/* Tetragon's process.docker: the id cut to its first 31 characters. */
#define VIGIL_DOCKER_ID_LEN 31

/* The container id in a cgroup path ("/system.slice/docker-<id>.scope",
 * "/kubepods/besteffort/pod<uid>/<id>", "/libpod_parent/libpod-<id>", ...): the deepest
 * path component that is, once a runtime's prefix (docker-, cri-containerd-, crio-,
 * libpod-) and ".scope" are taken off, 64 hex digits. Components of a container monitor
 * (libpod-conmon-<id>, crio-conmon-<id>) name no container's processes and end the search.
 * Writes the id to out (VIGIL_CONTAINER_ID_MAX bytes, "" when none). Returns its length
 * (64) or 0. */
VIGIL_API size_t vigil_container_id_from_path(const char *cgroup_path, char out[VIGIL_CONTAINER_ID_MAX]);

/* The cgroup v2 path of pid from proc_root/<pid>/cgroup (its "0::" line) into out.
 * 0, or a negative errno (-ENOENT: the process is gone, or has no v2 line). */
VIGIL_API int vigil_cgroup_path_of_pid(const char *proc_root, uint32_t pid, char *out, size_t size);

/* OCI's linux.cgroupsPath as a path relative to the cgroup v2 mount, into out: a path is
 * taken as is ("/" put in front when missing); systemd's "slice:prefix:name" (runc
 * --systemd-cgroup) is expanded as systemd places the unit:
 * "kubepods-besteffort-pod1.slice:cri-containerd:ID" is
 * /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-ID.scope.
 * 0, -EINVAL (a ".." component, a malformed slice) or -ENAMETOOLONG. */
VIGIL_API int vigil_cgroup_path_of_oci(const char *in, char *out, size_t size);

/* ---- the resolver: cgroup id -> container id, cached ---- */

struct vigil_cgroups;

struct vigil_cgroups_stats {
	uint64_t lookups;
	uint64_t hits;
	uint64_t resolved;		/* misses answered from the cgroup (by handle or by pid) */
	uint64_t unresolved;		/* misses neither way answered (cgroup and process gone) */
	uint64_t evictions;		/* cached entries replaced by newer ones (cache full) */
	uint64_t containers;		/* cached entries that name a container */
};

/* A resolver for the cgroup v2 hierarchy mounted per mounts_path ("/proc/self/mounts";
 * on a hybrid host v2 sits at /sys/fs/cgroup/unified), with room for capacity cgroups
 * (0: 4096). proc_root ("/proc") is where a miss falls back to the process's own cgroup
 * line. A host without a cgroup v2 mount still gets a resolver, which then answers only
 * by pid. NULL + errno (ENOMEM). */
VIGIL_API struct vigil_cgroups *vigil_cgroups__new(const char *mounts_path, const char *proc_root, size_t capacity);
/* Accepts NULL. */
VIGIL_API void vigil_cgroups__free(struct vigil_cgroups *cg);
/* The v2 mount point found, or NULL. */
VIGIL_API const char *vigil_cgroups__mount(const struct vigil_cgroups *cg);

/* The container id of cgroup cgroup_id (as bpf_get_current_cgroup_id() reports it), which
 * process pid was in: from the cache, else from the cgroup's path (opened by its id, which
 * the kernel's file handles for cgroupfs carry), else from pid's /proc cgroup line. Writes
 * out ("" when the cgroup is not a container's). cgroup_id 0 asks by pid alone, uncached.
 * Returns the id's length or 0. */
VIGIL_API size_t vigil_cgroups__container_id(struct vigil_cgroups *cg, uint64_t cgroup_id, uint32_t pid,
					     char out[VIGIL_CONTAINER_ID_MAX]);

/* The cgroup v2 path (relative to the mount, "/system.slice/x.scope") of cgroup_id into out.
 * 0 or a negative errno (-ESTALE: the cgroup is gone; -ENOENT: no v2 mount). */
VIGIL_API int vigil_cgroups__path(const struct vigil_cgroups *cg, uint64_t cgroup_id, char *out, size_t size);

VIGIL_API void vigil_cgroups__stats(const struct vigil_cgroups *cg, struct vigil_cgroups_stats *out);

/* ---- pods: what the node's container runtime says through the CRI API ---- */

#define VIGIL_CRI_DEFAULT_ENDPOINT "/run/containerd/containerd.sock"

struct vigil_pod_label {
	const char *key, *value;
};

/* A container of a pod, as the runtime listed it. Read-only; owned by the CRI cache and
 * valid until vigil_pod__put. */
struct vigil_pod {
	const char *runtime;		/* "containerd", "cri-o": the prefix of container ids ("containerd://") */
	const char *container_id;	/* 64 hex */
	const char *container_name;
	const char *image_name;		/* as the pod spec named it ("docker.io/library/busybox:latest") */
	const char *image_id;		/* the runtime's image reference (a digest), "" when unknown */
	uint64_t start_time;		/* wall-clock ns the container was created; 0 when unknown */
	const char *name;		/* the pod's */
	const char *namespace_;
	const char *uid;
	const char *workload;		/* the owner its labels name, else the pod's name */
	const char *workload_kind;	/* "Deployment", "StatefulSet", "Pod" */
	const struct vigil_pod_label *labels;	/* the pod's own labels (not kubelet's io.kubernetes.*) */
	size_t nlabels;
	const void *owner_;		/* private: the snapshot that holds it */
};

struct vigil_cri;

struct vigil_cri_opts {
	size_t sz;			/* sizeof(struct vigil_cri_opts) */
	const char *endpoint;		/* unix socket path ("unix://" accepted); default containerd's */
	unsigned int refresh_ms;	/* full refresh period (default 5000) */
	unsigned int timeout_ms;	/* per call (default 2000) */
};

struct vigil_cri_status {
	bool connected;			/* the last refresh succeeded */
	char runtime[64];		/* "containerd 1.6.20~ds1" */
	char error[256];		/* why the last refresh failed, "" when it did not */
	uint64_t pods, containers;	/* in the cache now */
	uint64_t refreshes, failures;
	uint64_t lookups, unknown;	/* lookups, and those of a container the cache did not know */
};

/* Start the CRI client thread: it lists pod sandboxes and containers now, every refresh_ms,
 * and soon after a lookup missed. A runtime that is not there is no error (the host runs
 * without pods; status says why). NULL + errno (ENOMEM, EINVAL). */
VIGIL_API struct vigil_cri *vigil_cri__new(const struct vigil_cri_opts *opts);
/* Stop the thread and free the cache; pods still held stay valid until put. Accepts NULL. */
VIGIL_API void vigil_cri__free(struct vigil_cri *cri);
/* The pod container container_id (64 hex) belongs to, or NULL: then a refresh is asked
 * for (at most one a second) and the caller goes on without. Never waits on the runtime.
 * The result is held: release it with vigil_pod__put. */
VIGIL_API const struct vigil_pod *vigil_cri__get(struct vigil_cri *cri, const char *container_id);
/* Accepts NULL. */
VIGIL_API void vigil_pod__put(const struct vigil_pod *pod);
VIGIL_API void vigil_cri__status(struct vigil_cri *cri, struct vigil_cri_status *out);
/* Call fn for every container (and pod sandbox) of the current snapshot; pods are valid
 * during the call only. Returns how many. */
typedef void (*vigil_pod_fn)(void *ctx, const struct vigil_pod *pod);
VIGIL_API size_t vigil_cri__each(struct vigil_cri *cri, vigil_pod_fn fn, void *ctx);
/* fn(ctx) runs on the CRI thread after every successful refresh (policy scopes follow the
 * pods from there). NULL removes it. */
VIGIL_API void vigil_cri__set_listener(struct vigil_cri *cri, void (*fn)(void *ctx), void *ctx);
/* Refresh now, on the caller's thread (tests). 0 or a negative errno. */
VIGIL_API int vigil_cri__refresh(struct vigil_cri *cri);
/* Whether the current snapshot lists container_id (no refresh is asked for). */
VIGIL_API bool vigil_cri__knows(struct vigil_cri *cri, const char *container_id);

/* ---- runtime hooks: containers the runtime announced before they start ---- */

/* What a createContainer hook (vigil-oci-hook, vigil rthooks) says of a container; strings
 * may be NULL or "" when unknown. */
struct vigil_rthook {
	const char *cgroup_path;	/* relative to the cgroup v2 mount ("/kubepods/.../<id>") */
	const char *container_id, *container_name, *image;
	const char *pod_name, *pod_uid, *pod_namespace;
	const char *runtime;		/* "containerd", "cri-o", "" */
	const struct vigil_pod_label *labels;
	size_t nlabels;
};

struct vigil_rthooks_stats {
	uint64_t entries, capacity;	/* pending now, and at most */
	uint64_t added;			/* new entries */
	uint64_t replaced;		/* a hook for a cgroup already pending: the new one is kept */
	uint64_t superseded;		/* the CRI listed the container: its answer is used from then on */
	uint64_t evicted;		/* the cgroup went away */
	uint64_t refused_full;		/* the table was full (after evicting gone cgroups) */
};

struct vigil_rthooks;

/* A table of at most capacity (0: 1024) pending containers; cgroup_mount (the v2 mount, NULL
 * when none) is where an entry's path is checked for eviction. NULL + errno (ENOMEM). */
VIGIL_API struct vigil_rthooks *vigil_rthooks__new(const char *cgroup_mount, size_t capacity);
/* Accepts NULL; pods still held stay valid until put. */
VIGIL_API void vigil_rthooks__free(struct vigil_rthooks *h);
/* Record the container of cgroup cgroup_id (fields copied). 0: added; 1: replaced an entry of
 * the same cgroup; -ENOSPC: full (counted); -ENOMEM. Any thread. */
VIGIL_API int vigil_rthooks__add(struct vigil_rthooks *h, uint64_t cgroup_id, const struct vigil_rthook *e);
/* The pod of cgroup_id's entry, held (release with vigil_pod__put), or NULL. Accepts NULL h;
 * one atomic load when the table is empty. */
VIGIL_API const struct vigil_pod *vigil_rthooks__get(struct vigil_rthooks *h, uint64_t cgroup_id);
/* fn for every entry, under the table's lock (fn must not call back into h). Returns how many. */
typedef void (*vigil_rthook_fn)(void *ctx, uint64_t cgroup_id, const char *cgroup_path, const struct vigil_pod *pod);
VIGIL_API size_t vigil_rthooks__each(struct vigil_rthooks *h, vigil_rthook_fn fn, void *ctx);
/* Evict the entries whose cgroup is gone, and drop those superseded(ctx, pod) says the CRI
 * now lists (entries with a container id only; superseded may be NULL). Returns how many left. */
VIGIL_API size_t vigil_rthooks__prune(struct vigil_rthooks *h,
				      bool (*superseded)(void *ctx, const struct vigil_pod *pod), void *ctx);
VIGIL_API void vigil_rthooks__stats(struct vigil_rthooks *h, struct vigil_rthooks_stats *out);

#endif
