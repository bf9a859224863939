/* procread.c - read one /proc/<pid> directory into a process. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcache_internal.h"

#define PF_KTHREAD 0x00200000		/* include/linux/sched.h: stat field 9 */
#define CMDLINE_MAX (64 * 1024)		/* beyond this the arguments are marked truncated */
#define DELETED_SUFFIX " (deleted)"	/* d_path() appends it to unlinked files */

/* The file names under /proc/<pid>/ns, in enum vigil_ns_kind order. */
static const char *const ns_files[VIGIL_NS_COUNT] = {
	[VIGIL_NS_UTS] = "ns/uts",
	[VIGIL_NS_IPC] = "ns/ipc",
	[VIGIL_NS_MNT] = "ns/mnt",
	[VIGIL_NS_PID] = "ns/pid",
	[VIGIL_NS_PID_FOR_CHILDREN] = "ns/pid_for_children",
	[VIGIL_NS_NET] = "ns/net",
	[VIGIL_NS_TIME] = "ns/time",
	[VIGIL_NS_TIME_FOR_CHILDREN] = "ns/time_for_children",
	[VIGIL_NS_CGROUP] = "ns/cgroup",
	[VIGIL_NS_USER] = "ns/user",
};

static bool gone(int err)
{
	/* ENOENT once the task is reaped, ESRCH while it is being torn down. */
	return err == -ENOENT || err == -ESRCH;
}

/* Read a whole file (procfs reports size 0, so read until EOF), at most max bytes.
 * Returns 0, 1 when cut at max, or -errno. */
static int read_file(int dfd, const char *name, struct vigil_buf *out, size_t max)
{
	char chunk[4096];
	ssize_t n;
	int fd, err = 0;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (out->len < max) {
		n = read(fd, chunk, sizeof(chunk) < max - out->len ? sizeof(chunk) : max - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		err = vigil_buf_append(out, chunk, (size_t)n);
		if (err)
			break;
	}
	if (!err && out->len >= max)
		err = 1;
	close(fd);
	return err;
}

/* readlink into buf, NUL-terminated. Returns the length or -errno. */
static ssize_t read_link(int dfd, const char *name, char *buf, size_t size)
{
	ssize_t n = readlinkat(dfd, name, buf, size - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

static uint64_t ns_per_tick(void)
{
	/* stat counts in USER_HZ ticks, which is 100 on every Linux ABI, but ask anyway. */
	long tck = sysconf(_SC_CLK_TCK);

	return tck > 0 && tck <= 1000000000L ? 1000000000ULL / (uint64_t)tck : 10000000ULL;
}

int pcache_read_stat(int dfd, struct pcache_stat *st)
{
	struct vigil_buf b = { 0 };
	unsigned long long v[20];
	const char *s;
	char *end;
	int err, i;

	err = read_file(dfd, "stat", &b, 4096);
	if (err < 0)
		goto out;
	/* comm sits in parentheses and may itself hold ") (", so fields start after the
	 * last ')'. */
	s = b.len ? memrchr(b.data, ')', b.len) : NULL;
	if (!s) {
		err = -EINVAL;
		goto out;
	}
	s++;
	while (*s == ' ')
		s++;
	if (!*s) {
		err = -EINVAL;
		goto out;
	}
	s++;	/* field 3: the state letter */
	/* v[0] is field 4 (ppid), v[5] field 9 (flags), v[18] field 22 (starttime). */
	for (i = 0; i < 19; i++) {
		errno = 0;
		v[i] = strtoull(s, &end, 10);
		if (end == s || errno) {
			err = -EINVAL;
			goto out;
		}
		s = end;
	}
	st->ppid = v[0] <= UINT32_MAX ? (uint32_t)v[0] : 0;
	st->kthread = (v[5] & PF_KTHREAD) != 0;
	st->ktime = (uint64_t)v[18] * ns_per_tick();
	err = 0;
out:
	vigil_buf_free(&b);
	return err;
}

void pcache_read_ns(int dfd, uint32_t ns[VIGIL_NS_COUNT])
{
	char link[64];
	const char *open;
	int k;

	for (k = 0; k < VIGIL_NS_COUNT; k++) {
		ns[k] = 0;
		/* "mnt:[4026531840]" */
		if (read_link(dfd, ns_files[k], link, sizeof(link)) < 0)
			continue;
		open = strchr(link, '[');
		if (open)
			ns[k] = (uint32_t)strtoul(open + 1, NULL, 10);
	}
}

static void parse_status(const char *s, struct vigil_process *p)
{
	struct vigil_creds *cr = &p->creds;
	uint64_t cap;

	while (s && *s) {
		if (!strncmp(s, "Uid:", 4))
			sscanf(s + 4, "%u %u %u %u", &cr->uid, &cr->euid, &cr->suid, &cr->fsuid);
		else if (!strncmp(s, "Gid:", 4))
			sscanf(s + 4, "%u %u %u %u", &cr->gid, &cr->egid, &cr->sgid, &cr->fsgid);
		else if (!strncmp(s, "CapInh:", 7) && sscanf(s + 7, "%" SCNx64, &cap) == 1)
			p->caps.inheritable = cap;
		else if (!strncmp(s, "CapPrm:", 7) && sscanf(s + 7, "%" SCNx64, &cap) == 1)
			p->caps.permitted = cap;
		else if (!strncmp(s, "CapEff:", 7) && sscanf(s + 7, "%" SCNx64, &cap) == 1)
			p->caps.effective = cap;
		s = strchr(s, '\n');
		if (s)
			s++;
	}
}

/* The file behind exe, as the kernel record would carry it (stat follows the magic link
 * to the file the process runs, even when its path is gone). */
static void read_file_id(int dfd, struct vigil_process *p)
{
	struct stat st;

	if (fstatat(dfd, "exe", &st, 0))
		return;
	p->file = (struct vigil_file_id){
		.dev = vigil_dev_to_kernel(st.st_dev),
		.uid = st.st_uid,
		.ino = st.st_ino,
		.mode = st.st_mode,
		.nlink = (uint32_t)st.st_nlink,
	};
}

/* exe: the binary, without the suffix the kernel adds once the file is unlinked. */
static int read_binary(int dfd, struct vigil_process *p)
{
	static const size_t suffix = sizeof(DELETED_SUFFIX) - 1;
	char path[PATH_MAX];
	ssize_t n;

	n = read_link(dfd, "exe", path, sizeof(path));
	if (n < 0)
		return (int)n;
	if ((size_t)n > suffix && !strcmp(path + n - suffix, DELETED_SUFFIX))
		n -= (ssize_t)suffix;
	read_file_id(dfd, p);
	return vigil_process__set_str(&p->binary, path, (size_t)n);
}

static int read_cwd(int dfd, struct vigil_process *p)
{
	char path[PATH_MAX];
	ssize_t n;

	n = read_link(dfd, "cwd", path, sizeof(path));
	if (n < 0)
		return 0;	/* not ours to read (EACCES): leave it empty */
	if (!strcmp(path, "/"))
		p->flags |= VIGIL_PROC_ROOTCWD;
	return vigil_process__set_str(&p->cwd, path, (size_t)n);
}

static int read_args(const struct vigil_buf *cmdline, struct vigil_process *p)
{
	struct vigil_buf args = { 0 };
	int err;

	err = vigil_args_format(cmdline->data, cmdline->len, &args);
	if (!err)
		err = vigil_process__set_str(&p->arguments, args.data, args.len);
	vigil_buf_free(&args);
	return err;
}

static void read_auid(int dfd, struct vigil_process *p)
{
	struct vigil_buf b = { 0 };
	unsigned long v;
	char *end;

	if (read_file(dfd, "loginuid", &b, 32) >= 0 && b.len) {
		errno = 0;
		v = strtoul(b.data, &end, 10);
		if (end != b.data && !errno && v <= UINT32_MAX)
			p->auid = (uint32_t)v;
	}
	vigil_buf_free(&b);
}

/* The container it runs in, from its cgroup v2 line ("0::/path"). 0 or -ENOMEM. */
static int read_container(int dfd, struct vigil_process *p)
{
	char id[VIGIL_CONTAINER_ID_MAX];
	struct vigil_buf b = { 0 };
	char *line, *nl;
	int err = 0;
	size_t n;

	if (read_file(dfd, "cgroup", &b, 65536) >= 0 && b.len) {
		for (line = b.data; line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (!strncmp(line, "0::", 3)) {
				n = vigil_container_id_from_path(line + 3, id);
				if (n)
					err = vigil_process__set_str(&p->container_id, id, n);
				break;
			}
		}
	}
	vigil_buf_free(&b);
	return err;
}

int pcache_read_process(int dfd, const struct pcache_host_ns *host, struct vigil_process *p)
{
	struct vigil_buf cmdline = { 0 }, status = { 0 };
	int err, exe_err, k;

	/* Each field is read on its own: a field we may not read (EACCES on another user's
	 * exe or cwd) stays empty, only a vanished process is skipped. */
	err = read_file(dfd, "cmdline", &cmdline, CMDLINE_MAX);
	if (gone(err) || err == -ENOMEM)
		goto out;
	if (err == 1)
		p->flags |= VIGIL_PROC_TRUNC_ARGS;
	exe_err = read_binary(dfd, p);
	if (exe_err == -ENOMEM) {
		err = exe_err;
		goto out;
	}
	/* Kernel threads have no mm: no exe and an empty argument area. */
	if (exe_err && !cmdline.len) {
		err = -ENOENT;
		goto out;
	}
	err = read_file(dfd, "status", &status, 16384);
	if (gone(err) || err == -ENOMEM)
		goto out;
	if (err >= 0)
		parse_status(status.data, p);

	err = read_args(&cmdline, p);
	if (!err)
		err = read_cwd(dfd, p);
	if (err)
		goto out;
	read_auid(dfd, p);
	err = read_container(dfd, p);
	if (err)
		goto out;
	pcache_read_ns(dfd, p->ns);
	for (k = 0; k < VIGIL_NS_COUNT; k++)
		if (p->ns[k] && p->ns[k] == host->ns[k])
			p->ns_host_mask |= 1u << k;
	p->flags |= VIGIL_PROC_PROCFS;
out:
	vigil_buf_free(&status);
	vigil_buf_free(&cmdline);
	return gone(err) ? -ENOENT : err;
}
