/* mounts.c - the filesystems BPF work needs, mounted only when missing. */
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "loader.h"

static bool mounted(const char *dir, const char *type)
{
	struct mntent *m;
	bool found = false;
	FILE *f = setmntent("/proc/mounts", "r");

	if (!f)
		return false;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_dir, dir) && !strcmp(m->mnt_type, type)) {
			found = true;
			break;
		}
	}
	endmntent(f);
	return found;
}

static int ensure_mount(const char *dir, const char *type)
{
	if (mounted(dir, type))
		return 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (mount(type, dir, type, 0, NULL)) {
		int err = -errno;

		pr_warn("loader: cannot mount %s at %s: %s", type, dir, strerror(-err));
		return err;
	}
	pr_info("mounted %s at %s", type, dir);
	return 0;
}

int vigil_mount_fs(void)
{
	int err = ensure_mount("/sys/fs/bpf", "bpf");
	int err2 = ensure_mount("/sys/kernel/tracing", "tracefs");

	return err ? err : err2;
}

int vigil_cgroup2_path(char *out, size_t size)
{
	struct mntent *m;
	int err = -ENOENT;
	FILE *f = setmntent("/proc/mounts", "r");

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(out, size, "%s", m->mnt_dir);
			err = 0;
			break;
		}
	}
	endmntent(f);
	return err;
}
