/* ipc.c - filesystem chores for ipc:// endpoints: the directory (created, and checked to be
 * root's alone), the socket's mode and group, cleanup. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus_internal.h"

const char *bus_ipc_path(const char *url)
{
	static const char scheme[] = "ipc://";

	if (strncmp(url, scheme, sizeof(scheme) - 1))
		return NULL;
	return url + sizeof(scheme) - 1;
}

static int mkdir_p(char *dir)
{
	char *p;

	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* One directory on the way: owned by us (above the socket's own directory, root's will do
 * too), and nobody else may add, remove or rename its entries (the sticky bit stops that,
 * but only above the socket's own directory: others could still create names in it). */
static int check_dir(const char *dir, bool last)
{
	struct stat st;
	bool others_write, owner_ok;

	if (lstat(dir, &st))
		return -errno;
	others_write = (st.st_mode & (S_IWGRP | S_IWOTH)) && (last || !(st.st_mode & S_ISVTX));
	owner_ok = st.st_uid == geteuid() || (!last && st.st_uid == 0);
	if (!S_ISDIR(st.st_mode) || !owner_ok || others_write) {
		pr_warn("bus: refusing socket directory %s (owner uid %u, mode %04o): it must be a directory "
			"owned by uid %u that no one else can write", dir, (unsigned)st.st_uid,
			(unsigned)(st.st_mode & 07777), (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}

/* Walk the resolved directory from / down, so a symlink cannot lead the check astray. */
static int check_dirs(const char *dir)
{
	char real[PATH_MAX];
	char *p;
	int err;

	if (!realpath(dir, real))
		return -errno;
	for (p = real + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		err = check_dir(real, false);
		*p = '/';
		if (err)
			return err;
	}
	return check_dir(real, true);
}

int bus_prepare_ipc(const char *url)
{
	const char *path = bus_ipc_path(url);
	char dir[PATH_MAX];
	char *p;
	int err;

	if (!path)
		return 0;
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	p = strrchr(dir, '/');
	if (!p)
		snprintf(dir, sizeof(dir), ".");	/* a relative name: the working directory */
	else if (p == dir)
		dir[1] = '\0';
	else
		*p = '\0';
	if (strcmp(dir, ".") && strcmp(dir, "/")) {
		err = mkdir_p(dir);
		if (err) {
			pr_warn("bus: cannot create %s: %s", dir, strerror(-err));
			return err;
		}
	}
	return check_dirs(dir);
}

int bus_chmod_ipc(const char *url, unsigned int mode)
{
	const char *path = bus_ipc_path(url);

	if (!path)
		return 0;
	return chmod(path, mode) ? -errno : 0;
}

int bus_chgrp_ipc(const char *url, gid_t gid)
{
	const char *path = bus_ipc_path(url);

	if (!path)
		return 0;
	return chown(path, 0, gid) ? -errno : 0;
}

void bus_unlink_ipc(const char *url)
{
	const char *path = bus_ipc_path(url);

	if (path)
		unlink(path);
}
