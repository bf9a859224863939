/* trust.c - may anyone but the agent's own side change this? Whoever can write the policy
 * directory or the Lua rules directory decides what the agent enforces, so both are read only
 * when they belong to root (or to the agent's user, or to the owner of the agent's own
 * binary, who controls the agent anyway) and nobody else may write to them, or when they are
 * on a read-only mount; each file, and the directory its symlink resolves into (a Kubernetes
 * ConfigMap's ..data), is checked the same way. */
#include <errno.h>
#include <fcntl.h>
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
static int trust_check(const char *what, const char *path, const struct stat *st, char *why, size_t size)
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
	return trust_check(what, dir, &st, why, size);
}

/* The open file fd at path (its fstat in *st) must be a regular file, and the directory it
 * resolves into (through symlinks) is checked as well. */
static int trust_file(const char *what, int fd, const char *path, struct stat *st, char *why, size_t size)
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
	err = trust_check(what, path, st, why, size);
	if (err)
		return err;
	if (realpath(path, real) && (slash = strrchr(real, '/')) && slash != real) {
		*slash = '\0';
		if (!stat(real, &parent))
			return trust_check("directory", real, &parent, why, size);
	}
	return 0;
}

int vigil_trust_read(const char *what, const char *path, size_t max, char **out, size_t *len, char *why,
		     size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char *buf = NULL;
	struct stat st;
	ssize_t n = 0;
	size_t got = 0;
	int err;

	if (fd < 0) {
		err = -errno;
		snprintf(why, size, "%.700s: cannot open: %s", path, strerror(-err));
		return err;
	}
	err = trust_file(what, fd, path, &st, why, size);
	if (err)
		goto out;
	if ((size_t)st.st_size > max) {
		err = -EFBIG;
		snprintf(why, size, "%.700s: larger than %zu bytes", path, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		snprintf(why, size, "%.700s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	if (n < 0) {
		err = -errno;
		snprintf(why, size, "%.700s: cannot read: %s", path, strerror(-err));
		goto out;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}
