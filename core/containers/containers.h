/* containers.h - which container a process runs in: the container id from its cgroup
 * (the paths container runtimes give their cgroups), and a cache from the cgroup id the
 * kernel records to that container id.
 *
 * Single-threaded: only the agent's reader thread uses a resolver.
 */
#ifndef VIGIL_CONTAINERS_H
#define VIGIL_CONTAINERS_H

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

#endif
