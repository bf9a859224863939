/* pins.c - the agent's own bpffs directory for --keep-enforcing: a directory per run that
 * holds the pinned links of what must outlive the process, and the removal of the runs
 * before this one once this run enforces in their place. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/libbpf.h>

#include "loader.h"

#define RUN_PREFIX "run-"

struct vigil_pins {
	char root[256];
	char run[PATH_MAX];		/* this run's directory; empty when not keeping */
	char (*previous)[NAME_MAX + 1];	/* run directories found at start */
	size_t nprevious;
};

/* The root must be ours alone: a directory on bpffs, owned by root, 0700. /sys/fs/bpf is
 * world-writable (1777), so anyone may have created the name first: refuse what root does
 * not own, and tighten a root-owned one that is too open. */
static int check_root(const char *root, bool create)
{
	struct statfs fs;
	struct stat st;
	int err;

	if (lstat(root, &st)) {
		err = -errno;
		if (err != -ENOENT || !create)
			return err;
		if (mkdir(root, 0700) && errno != EEXIST) {
			err = -errno;
			pr_warn("pins: cannot create %s: %s", root, strerror(-err));
			return err;
		}
		if (lstat(root, &st))
			return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0) {
		pr_warn("pins: %s is not a directory owned by root: refusing to use it", root);
		return -EPERM;
	}
	if (statfs(root, &fs) || fs.f_type != BPF_FS_MAGIC) {
		pr_warn("pins: %s is not on a BPF filesystem", root);
		return -ENOTSUP;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(root, 0700)) {
		err = -errno;
		pr_warn("pins: cannot make %s 0700: %s", root, strerror(-err));
		return err;
	}
	return 0;
}

static int list_previous(struct vigil_pins *p)
{
	DIR *d = opendir(p->root);
	struct dirent *de;
	int err = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		void *grown;

		if (strncmp(de->d_name, RUN_PREFIX, strlen(RUN_PREFIX)))
			continue;
		grown = realloc(p->previous, (p->nprevious + 1) * sizeof(*p->previous));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		p->previous = grown;
		snprintf(p->previous[p->nprevious++], sizeof(*p->previous), "%s", de->d_name);
	}
	closedir(d);
	return err;
}

struct vigil_pins *vigil_pins__open(const char *root, bool keep)
{
	struct vigil_pins *p = calloc(1, sizeof(*p));
	struct timespec ts;
	int err;

	if (!p)
		return NULL;
	snprintf(p->root, sizeof(p->root), "%s", root ? root : VIGIL_PIN_ROOT);
	err = check_root(p->root, keep);
	if (err && !keep) {
		/* nothing to pin; what is there is not ours to remove (or there is nothing) */
		if (err != -ENOENT)
			pr_warn("pins: leaving %s alone: %s", p->root, strerror(-err));
		return p;
	}
	if (err)
		goto err_out;
	err = list_previous(p);
	if (err)
		goto err_out;
	if (keep) {
		/* boot-time ns: unique across restarts, where a pid may come back */
		clock_gettime(CLOCK_BOOTTIME, &ts);
		snprintf(p->run, sizeof(p->run), "%s/" RUN_PREFIX "%lld%09ld", p->root, (long long)ts.tv_sec,
			 ts.tv_nsec);
		if (mkdir(p->run, 0700)) {
			err = -errno;
			pr_warn("pins: cannot create %s: %s", p->run, strerror(-err));
			goto err_out;
		}
		pr_info("pins: enforcing programs pinned under %s", p->run);
	}
	if (p->nprevious)
		pr_info("pins: %zu run%s of a previous agent pinned under %s: replaced once this one enforces",
			p->nprevious, p->nprevious == 1 ? "" : "s", p->root);
	return p;

err_out:
	vigil_pins__close(p);
	errno = -err;
	return NULL;
}

const char *vigil_pins__run_dir(const struct vigil_pins *p)
{
	return p && p->run[0] ? p->run : NULL;
}

static _Thread_local int removed;	/* nftw passes no context: one count per calling thread */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP ? rmdir(path) : unlink(path))
		pr_warn("pins: cannot remove %s: %s", path, strerror(errno));
	else if (type != FTW_DP)
		removed++;
	return 0;	/* remove what can be removed */
}

/* Everything under path, depth first; the number of pins removed. */
static int remove_tree(const char *path)
{
	removed = 0;
	nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return removed;
}

int vigil_pins__remove_previous(struct vigil_pins *p)
{
	char path[PATH_MAX + NAME_MAX + 2];
	int n = 0;
	size_t i;

	if (!p)
		return 0;
	for (i = 0; i < p->nprevious; i++) {
		snprintf(path, sizeof(path), "%s/%s", p->root, p->previous[i]);
		n += remove_tree(path);
	}
	if (p->nprevious)
		pr_info("pins: %d pinned link%s of the previous agent removed", n, n == 1 ? "" : "s");
	free(p->previous);
	p->previous = NULL;
	p->nprevious = 0;
	return n;
}

void vigil_pins__remove_run(struct vigil_pins *p)
{
	if (p && p->run[0]) {
		remove_tree(p->run);
		p->run[0] = '\0';
	}
}

void vigil_pins__close(struct vigil_pins *p)
{
	if (!p)
		return;
	free(p->previous);
	free(p);
}

int vigil_pin_link(struct bpf_link *link, const char *dir, const char *name)
{
	char path[PATH_MAX];
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	err = bpf_link__pin(link, path);
	if (err)
		pr_warn("pins: cannot pin %s: %s", path, strerror(-err));
	return err;
}
