/* probe.c - the health_check key: which process is a health probe of the agent. Only the
 * installed `vigil` client running `status` as root is; a look-alike is not. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_filter.h"

/* Where the client is installed when it is not next to the running program. */
static const char *const install_paths[] = {"/usr/bin/vigil", "/usr/local/bin/vigil"};

/* A client binary is trusted when only root can have put it there: a regular file owned
 * by root that group and others cannot write. Anything else named vigil is a look-alike. */
static bool trusted(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* The kernel reports the file it executed by its resolved path, so compare with that:
 * /bin/vigil and /usr/bin/vigil are one file on a merged-/usr system. */
static int set_resolved(struct vigil_filter *f, const char *path)
{
	char real[PATH_MAX];
	char *copy = strdup(realpath(path, real) ? real : path);

	if (!copy)
		return -ENOMEM;
	free(f->client);
	f->client = copy;
	return 0;
}

int filter_client_default(struct vigil_filter *f)
{
	char exe[PATH_MAX], path[PATH_MAX + 8];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	size_t i;

	/* the vigil next to this program: vigild's and getevents' own client */
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/vigil", exe);
			if (trusted(path))
				return set_resolved(f, path);
		}
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(install_paths); i++)
		if (trusted(install_paths[i]))
			return set_resolved(f, install_paths[i]);
	pr_debug("filter: no trusted vigil client found: health_check matches no process");
	return 0;
}

int vigil_filter__set_client(struct vigil_filter *f, const char *path)
{
	if (!path) {
		free(f->client);
		f->client = NULL;
		return 0;
	}
	return set_resolved(f, path);
}

static bool str_is(const msgpack_object *o, const char *s)
{
	return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	       !memcmp(o->via.str.ptr, s, o->via.str.size);
}

static bool is_root(const struct vigil_msg *m, const char *path)
{
	uint64_t id;

	return !vigil_msg__find_u64(m, path, &id) && id == 0;
}

bool filter_is_probe(const struct vigil_filter *f, const struct vigil_msg *m, const char *who)
{
	const msgpack_object *args;
	char path[64];
	uint64_t euid;

	if (!f->client)
		return false;
	snprintf(path, sizeof(path), "%s.binary", who);
	if (!str_is(vigil_msg__find(m, path), f->client))
		return false;
	/* run by root: the real uid, and the effective one when the event carries it */
	snprintf(path, sizeof(path), "%s.uid", who);
	if (!is_root(m, path))
		return false;
	snprintf(path, sizeof(path), "%s.process_credentials.euid", who);
	if (!vigil_msg__find_u64(m, path, &euid) && euid != 0)
		return false;
	snprintf(path, sizeof(path), "%s.arguments", who);
	args = vigil_msg__find(m, path);
	if (!args || args->type != MSGPACK_OBJECT_STR || args->via.str.size < 6 ||
	    memcmp(args->via.str.ptr, "status", 6))
		return false;
	return args->via.str.size == 6 || args->via.str.ptr[6] == ' ';
}
