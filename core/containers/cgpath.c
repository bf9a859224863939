/* cgpath.c - the container id in a cgroup path, a process's cgroup v2 path from /proc, and
 * the cgroup path an OCI bundle's linux.cgroupsPath names. */
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

/* ---- OCI's linux.cgroupsPath ---- */

#define CGPATH_MAX_PART 1024

/* systemd's "slice:prefix:name" (runc --systemd-cgroup, as kubelet's systemd driver has it):
 * "kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>" is the unit
 * cri-containerd-<id>.scope in kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice */
static int systemd_path(const char *in, char *out, size_t size)
{
	const char *c1 = strchr(in, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char slice[CGPATH_MAX_PART], prefix[CGPATH_MAX_PART], name[CGPATH_MAX_PART];
	size_t len = 0, i, slen;
	int n;

	if (!c2 || strchr(c2 + 1, ':') || c1 == in || !c2[1] || (size_t)(c1 - in) >= sizeof(slice) ||
	    (size_t)(c2 - c1 - 1) >= sizeof(prefix) || strlen(c2 + 1) >= sizeof(name))
		return -EINVAL;
	snprintf(slice, sizeof(slice), "%.*s", (int)(c1 - in), in);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	snprintf(name, sizeof(name), "%s", c2 + 1);
	slen = strlen(slice);
	if (slen < 7 || strcmp(slice + slen - 6, ".slice"))
		return -EINVAL;
	out[0] = '\0';
	if (strcmp(slice, "-.slice")) {
		slice[slen - 6] = '\0';
		for (i = 0; i <= slen - 6; i++) {
			if (slice[i] != '-' && slice[i] != '\0')
				continue;
			if (!i || slice[i - 1] == '-')
				return -EINVAL;		/* "-a" or "a--b" name no slice */
			n = snprintf(out + len, size - len, "/%.*s.slice", (int)i, slice);
			if (n < 0 || (size_t)n >= size - len)
				return -ENAMETOOLONG;
			len += (size_t)n;
		}
	}
	n = strlen(name) > 6 && !strcmp(name + strlen(name) - 6, ".slice")
		    ? snprintf(out + len, size - len, "/%s", name)
		    : snprintf(out + len, size - len, "/%s%s%s.scope", prefix, prefix[0] ? "-" : "", name);
	return n < 0 || (size_t)n >= size - len ? -ENAMETOOLONG : 0;
}

int vigil_cgroup_path_of_oci(const char *in, char *out, size_t size)
{
	size_t len;

	if (!strchr(in, '/') && strchr(in, ':')) {
		if (systemd_path(in, out, size))
			return -EINVAL;
	} else if (snprintf(out, size, "%s%s", in[0] == '/' ? "" : "/", in) >= (int)size) {
		return -ENAMETOOLONG;
	}
	len = strlen(out);
	if (strstr(out, "/../") || (len >= 3 && !strcmp(out + len - 3, "/..")))
		return -EINVAL;
	return 0;
}
