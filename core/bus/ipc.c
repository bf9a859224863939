/* ipc.c - filesystem chores for ipc:// endpoints: parent directory, mode, cleanup. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus_internal.h"

static const char *ipc_path(const char *url)
{
	static const char scheme[] = "ipc://";

	if (strncmp(url, scheme, sizeof(scheme) - 1))
		return NULL;
	return url + sizeof(scheme) - 1;
}

int bus_prepare_ipc(const char *url)
{
	const char *path = ipc_path(url);
	char dir[PATH_MAX];
	char *p;

	if (!path)
		return 0;
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
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

int bus_chmod_ipc(const char *url, unsigned int mode)
{
	const char *path = ipc_path(url);

	if (!path)
		return 0;
	return chmod(path, mode) ? -errno : 0;
}

void bus_unlink_ipc(const char *url)
{
	const char *path = ipc_path(url);

	if (path)
		unlink(path);
}
