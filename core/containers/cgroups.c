/* cgroups.c - the resolver: a kernel cgroup id to the container id its path names, cached.
 *
 * bpf_get_current_cgroup_id() is the id of the task's cgroup in the v2 hierarchy, which is
 * also the inode number of the cgroup's directory and what the kernel's file handles for
 * cgroupfs carry (kernfs export ops, FILEID_KERNFS), so open_by_handle_at() on the v2 mount
 * opens the cgroup from its id and /proc/self/fd names its path: no walk of the tree.
 * Cgroup ids are never reused before reboot (a 64-bit counter), so an answer stays true as
 * long as it is cached; the cache is bounded and replaces its oldest entry per set.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containers.h"

#define CGROUPS_WAYS 4
#define CGROUPS_DEFAULT_CAPACITY 4096
/* include/linux/exportfs.h: FILEID_KERNFS, a handle holding the 64-bit kernfs node id */
#define FILEID_KERNFS 0xfe

struct cg_entry {
	uint64_t cgroup_id;		/* 0: empty */
	char id[VIGIL_CONTAINER_ID_MAX];
};

struct vigil_cgroups {
	char *mount;			/* the v2 mount point, NULL when none */
	char *proc_root;
	int mount_fd;
	struct cg_entry *entries;	/* nsets * CGROUPS_WAYS */
	uint8_t *next_way;		/* per set: the way the next insert replaces */
	size_t nsets;
	struct vigil_cgroups_stats stats;
};

/* /proc/mounts escapes space, tab, newline and backslash in octal (\040). */
static void unescape_mount(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* The first cgroup2 mount point in mounts_path, or NULL. */
static char *find_v2_mount(const char *mounts_path)
{
	char line[4096], *dev, *dir, *type, *save = NULL;
	char *found = NULL;
	FILE *f;

	f = fopen(mounts_path, "re");
	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		dev = strtok_r(line, " ", &save);
		dir = dev ? strtok_r(NULL, " ", &save) : NULL;
		type = dir ? strtok_r(NULL, " ", &save) : NULL;
		if (type && !strcmp(type, "cgroup2")) {
			unescape_mount(dir);
			found = strdup(dir);
		}
	}
	fclose(f);
	return found;
}

struct vigil_cgroups *vigil_cgroups__new(const char *mounts_path, const char *proc_root, size_t capacity)
{
	struct vigil_cgroups *cg;
	size_t nsets = 1;
	int err;

	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return NULL;
	cg->mount_fd = -1;
	if (!capacity)
		capacity = CGROUPS_DEFAULT_CAPACITY;
	while (nsets * CGROUPS_WAYS < capacity)
		nsets <<= 1;
	cg->nsets = nsets;
	cg->entries = calloc(nsets * CGROUPS_WAYS, sizeof(*cg->entries));
	cg->next_way = calloc(nsets, 1);
	cg->proc_root = strdup(proc_root ? proc_root : "/proc");
	if (!cg->entries || !cg->next_way || !cg->proc_root) {
		err = -ENOMEM;
		goto err_out;
	}
	cg->mount = find_v2_mount(mounts_path ? mounts_path : "/proc/self/mounts");
	if (cg->mount) {
		cg->mount_fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->mount_fd < 0)
			pr_warn("containers: cannot open the cgroup v2 mount %s: %s; container ids come from "
				"/proc only",
				cg->mount, strerror(errno));
	} else {
		pr_info("containers: no cgroup v2 mount in %s; container ids come from /proc only",
			mounts_path ? mounts_path : "/proc/self/mounts");
	}
	return cg;

err_out:
	vigil_cgroups__free(cg);
	errno = -err;
	return NULL;
}

void vigil_cgroups__free(struct vigil_cgroups *cg)
{
	if (!cg)
		return;
	if (cg->mount_fd >= 0)
		close(cg->mount_fd);
	free(cg->mount);
	free(cg->proc_root);
	free(cg->entries);
	free(cg->next_way);
	free(cg);
}

const char *vigil_cgroups__mount(const struct vigil_cgroups *cg)
{
	return cg->mount;
}

int vigil_cgroups__path(const struct vigil_cgroups *cg, uint64_t cgroup_id, char *out, size_t size)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	char link[64], path[PATH_MAX];
	size_t mlen;
	ssize_t n;
	int fd, err = 0;

	if (cg->mount_fd < 0)
		return -ENOENT;
	h.fh.handle_bytes = sizeof(h.id);
	h.fh.handle_type = FILEID_KERNFS;
	h.id = cgroup_id;
	fd = open_by_handle_at(cg->mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	path[n] = '\0';
	/* the path in our mount namespace: take the mount point off */
	mlen = strlen(cg->mount);
	if (strncmp(path, cg->mount, mlen) || (path[mlen] && path[mlen] != '/')) {
		err = -EXDEV;
		goto out;
	}
	if (snprintf(out, size, "%s", path[mlen] ? path + mlen : "/") >= (int)size)
		err = -ENAMETOOLONG;
out:
	close(fd);
	return err;
}

static size_t set_of(const struct vigil_cgroups *cg, uint64_t cgroup_id)
{
	/* ids are sequential: mix them so neighbours spread over the sets */
	uint64_t h = cgroup_id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (cg->nsets - 1);
}

static struct cg_entry *cache_find(struct vigil_cgroups *cg, uint64_t cgroup_id)
{
	struct cg_entry *set = cg->entries + set_of(cg, cgroup_id) * CGROUPS_WAYS;
	int w;

	for (w = 0; w < CGROUPS_WAYS; w++)
		if (set[w].cgroup_id == cgroup_id)
			return &set[w];
	return NULL;
}

static void cache_store(struct vigil_cgroups *cg, uint64_t cgroup_id, const char *id)
{
	size_t s = set_of(cg, cgroup_id);
	struct cg_entry *e = cg->entries + s * CGROUPS_WAYS + cg->next_way[s];

	cg->next_way[s] = (uint8_t)((cg->next_way[s] + 1) % CGROUPS_WAYS);
	if (e->cgroup_id) {
		cg->stats.evictions++;
		if (e->id[0])
			cg->stats.containers--;
	}
	e->cgroup_id = cgroup_id;
	memcpy(e->id, id, VIGIL_CONTAINER_ID_MAX);
	if (id[0])
		cg->stats.containers++;
}

size_t vigil_cgroups__container_id(struct vigil_cgroups *cg, uint64_t cgroup_id, uint32_t pid,
				   char out[VIGIL_CONTAINER_ID_MAX])
{
	char path[PATH_MAX];
	struct cg_entry *e;
	size_t n;

	out[0] = '\0';
	cg->stats.lookups++;
	if (cgroup_id) {
		e = cache_find(cg, cgroup_id);
		if (e) {
			cg->stats.hits++;
			memcpy(out, e->id, VIGIL_CONTAINER_ID_MAX);
			return strlen(out);
		}
		if (!vigil_cgroups__path(cg, cgroup_id, path, sizeof(path))) {
			n = vigil_container_id_from_path(path, out);
			cache_store(cg, cgroup_id, out);
			cg->stats.resolved++;
			return n;
		}
	}
	/* the cgroup is gone or cannot be opened: the process may still say where it is,
	 * but it may have moved since, so that answer is not cached against cgroup_id */
	if (pid && !vigil_cgroup_path_of_pid(cg->proc_root, pid, path, sizeof(path))) {
		cg->stats.resolved++;
		return vigil_container_id_from_path(path, out);
	}
	cg->stats.unresolved++;
	return 0;
}

void vigil_cgroups__stats(const struct vigil_cgroups *cg, struct vigil_cgroups_stats *out)
{
	*out = cg->stats;
}
