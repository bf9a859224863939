/* cgpath.c - the container id in a cgroup path, and a process's cgroup v2 path from /proc. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "containers.h"

/* What runtimes put before the id in a cgroup's name, with the systemd driver (a unit
 * "<prefix><id>.scope") and with cgroupfs (Podman's "libpod-<id>"). containerd's own
 * cgroupfs layout (/<namespace>/<id>, /kubepods/<qos>/pod<uid>/<id>) and Docker's
 * (/docker/<id>) use the bare id. */
static const char *const prefixes[] = {
	"docker-", "cri-containerd-", "crio-", "libpod-", "",
};

/* A container monitor's cgroup holds conmon, not the container's processes. */
static const char *const monitors[] = {
	"libpod-conmon-", "crio-conmon-",
};

static bool is_hex_id(const char *s, size_t len)
{
	size_t i;

	if (len != VIGIL_CONTAINER_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

/* The id in one path component, or NULL; *monitor is set when it is a monitor's cgroup. */
static const char *component_id(const char *s, size_t len, bool *monitor)
{
	static const char scope[] = ".scope";
	size_t k, n;

	for (k = 0; k < VIGIL_ARRAY_SIZE(monitors); k++)
		if (has_prefix(s, len, monitors[k])) {
			*monitor = true;
			return NULL;
		}
	if (len > sizeof(scope) - 1 && !memcmp(s + len - (sizeof(scope) - 1), scope, sizeof(scope) - 1))
		len -= sizeof(scope) - 1;
	for (k = 0; k < VIGIL_ARRAY_SIZE(prefixes); k++) {
		n = strlen(prefixes[k]);
		if (has_prefix(s, len, prefixes[k]) && is_hex_id(s + n, len - n))
			return s + n;
	}
	return NULL;
}

size_t vigil_container_id_from_path(const char *cgroup_path, char out[VIGIL_CONTAINER_ID_MAX])
{
	const char *end, *start, *id;
	bool monitor = false;

	out[0] = '\0';
	if (!cgroup_path)
		return 0;
	/* deepest first: a container's payload may sit in a child cgroup of its scope
	 * (Podman's "libpod-<id>.scope/container"), and a nested container wins */
	end = cgroup_path + strlen(cgroup_path);
	while (end > cgroup_path) {
		start = end;
		while (start > cgroup_path && start[-1] != '/')
			start--;
		id = end > start ? component_id(start, (size_t)(end - start), &monitor) : NULL;
		if (monitor)
			return 0;
		if (id) {
			memcpy(out, id, VIGIL_CONTAINER_ID_LEN);
			out[VIGIL_CONTAINER_ID_LEN] = '\0';
			return VIGIL_CONTAINER_ID_LEN;
		}
		end = start > cgroup_path ? start - 1 : cgroup_path;
	}
	return 0;
}

int vigil_cgroup_path_of_pid(const char *proc_root, uint32_t pid, char *out, size_t size)
{
	char path[64 + 4096], line[4096 + 16];
	int err = -ENOENT;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/cgroup", proc_root ? proc_root : "/proc", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* v1 lines are "N:controllers:/path"; the unified hierarchy's is "0::/path" */
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		n = strcspn(line + 3, "\n");
		if (n + 1 > size) {
			err = -ENAMETOOLONG;
			break;
		}
		memcpy(out, line + 3, n);
		out[n] = '\0';
		err = 0;
		break;
	}
	fclose(f);
	return err;
}
