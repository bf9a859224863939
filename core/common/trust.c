/* trust.c - may anyone but the agent's own side change this? Whoever can write the policy
 * directory or the Lua rules directory decides what the agent enforces, so both are read only
 * when they belong to root (or to the agent's user, or to the owner of the agent's own
 * binary, who controls the agent anyway) and nobody else may write to them, or when they are
 * on a read-only mount; each file, and the directory its symlink resolves into (a Kubernetes
 * ConfigMap's ..data), is checked the same way. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common.h"

static bool trusted_owner(uid_t uid)
{
	struct stat exe;

	if (uid == 0 || uid == geteuid())
		return true;
	return !stat("/proc/self/exe", &exe) && exe.st_uid == uid;
}

/* On a read-only mount nobody here can change it, whatever its mode: a Kubernetes ConfigMap
 * volume is a 0777 directory, mounted read-only into the container, that only the kubelet
 * writes from outside. */
int vigil_trust_check(const char *what, const char *path, const struct stat *st, char *why, size_t size)
{
	struct statvfs vfs;

	if (!statvfs(path, &vfs) && (vfs.f_flag & ST_RDONLY))
		return 0;
	if (!trusted_owner(st->st_uid)) {
		snprintf(why, size, "%s %.700s is owned by uid %u, not root: refused, anyone owning it could aim the agent",
			 what, path, (unsigned int)st->st_uid);
		return -EPERM;
	}
	if (st->st_mode & S_IWOTH) {
		snprintf(why, size, "%s %.700s is writable by others (mode %03o): refused", what, path,
			 (unsigned int)(st->st_mode & 0777));
		return -EPERM;
	}
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0) {
		snprintf(why, size, "%s %.700s is writable by group %u (mode %03o): refused", what, path,
			 (unsigned int)st->st_gid, (unsigned int)(st->st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

int vigil_trust_dir(const char *what, const char *dir, char *why, size_t size)
{
	struct stat st;

	if (stat(dir, &st)) {
		int err = -errno;

		snprintf(why, size, "cannot read %s %.400s: %s", what, dir, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, size, "%s %.400s is not a directory", what, dir);
		return -ENOTDIR;
	}
	return vigil_trust_check(what, dir, &st, why, size);
}

int vigil_trust_file(const char *what, int fd, const char *path, struct stat *st, char *why, size_t size)
{
	char real[PATH_MAX], *slash;
	struct stat parent;
	int err;

	if (fstat(fd, st)) {
		err = -errno;
		snprintf(why, size, "%.700s: %s", path, strerror(-err));
		return err;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, size, "%.700s: not a regular file", path);
		return -EINVAL;
	}
	err = vigil_trust_check(what, path, st, why, size);
	if (err)
		return err;
	if (realpath(path, real) && (slash = strrchr(real, '/')) && slash != real) {
		*slash = '\0';
		if (!stat(real, &parent))
			return vigil_trust_check("directory", real, &parent, why, size);
	}
	return 0;
}
