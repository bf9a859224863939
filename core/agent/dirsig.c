/* dirsig.c - what the policy and rules directories look like, as one number: the watch
 * (watch.c) compares it between two looks instead of holding an fsnotify mark.
 *
 * Every entry is looked at through its symlinks (stat, not lstat): a Kubernetes ConfigMap
 * update leaves name.yaml -> ..data/name.yaml alone and swaps ..data, so the entry resolves to
 * a new inode. An editor that writes in place changes the size or the times, one that renames
 * a new version over the old changes the inode, a chmod or chown changes the mode or the owner
 * (what the trust check reads). Entries are combined by a sum, so the order readdir returns
 * them in does not matter.
 *
 * Timestamps are coarse: a write in the same clock tick as a look, that keeps the size, leaves
 * the times as they were. A look that finds a time within DIRSIG_RACY_NS of its own clock is
 * therefore "racy" (as git calls its index entries): the watch looks again later rather than
 * trusting it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"

#define DIRSIG_RACY_NS (50 * 1000000LL)	/* well over any filesystem's timestamp tick here */

/* FNV-1a over bytes, continuing from h */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static bool is_racy(const struct stat *st, int64_t now)
{
	int64_t m = ts_ns(&st->st_mtim) - now, c = ts_ns(&st->st_ctim) - now;

	/* a time far in the future (touch -d) is not racy: it would be forever */
	return (m > -DIRSIG_RACY_NS && m < DIRSIG_RACY_NS) || (c > -DIRSIG_RACY_NS && c < DIRSIG_RACY_NS);
}

/* one stat's worth of what a change can alter, under a name; a failed stat is its errno */
static uint64_t entry_hash(const char *name, const struct stat *st, int err)
{
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, name, strlen(name) + 1);
	int64_t t[2];

	if (err)
		return fnv1a(h, &err, sizeof(err));
	t[0] = ts_ns(&st->st_mtim);
	t[1] = ts_ns(&st->st_ctim);
	h = fnv1a(h, &st->st_dev, sizeof(st->st_dev));
	h = fnv1a(h, &st->st_ino, sizeof(st->st_ino));
	h = fnv1a(h, &st->st_mode, sizeof(st->st_mode));
	h = fnv1a(h, &st->st_uid, sizeof(st->st_uid));
	h = fnv1a(h, &st->st_gid, sizeof(st->st_gid));
	h = fnv1a(h, &st->st_size, sizeof(st->st_size));
	return fnv1a(h, t, sizeof(t));
}

struct agent_dirsig agent_dirsig_look(const char *dir, bool entries)
{
	struct agent_dirsig sig = {0};
	struct timespec now_ts;
	struct dirent *de;
	struct stat st;
	int64_t now;
	DIR *d;
	int err;

	clock_gettime(CLOCK_REALTIME, &now_ts);
	now = ts_ns(&now_ts);
	err = stat(dir, &st) ? errno : 0;
	sig.value = entry_hash(".", &st, err);
	if (err)
		return sig;
	sig.racy = is_racy(&st, now);
	if (!entries)
		return sig;
	d = opendir(dir);
	if (!d) {
		err = errno;
		sig.value += fnv1a(0, &err, sizeof(err));
		return sig;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		err = fstatat(dirfd(d), de->d_name, &st, 0) ? errno : 0;
		sig.value += entry_hash(de->d_name, &st, err);
		sig.racy = sig.racy || (!err && is_racy(&st, now));
	}
	closedir(d);
	return sig;
}
