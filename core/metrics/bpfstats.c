/* bpfstats.c - run counts and run time of the agent's BPF programs, as the kernel counts
 * them while kernel.bpf_stats_enabled is on (BPF_ENABLE_STATS holds it on for as long as
 * its fd is open, and puts it back when the agent exits, even on a crash). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "metrics_internal.h"

int metrics_bpf_stats_enable(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	return fd < 0 ? -errno : fd;
}

/* The prog_id line of an fd's fdinfo (programs and links have one), or 0. */
static uint32_t fd_prog_id(int dfd, const char *fd)
{
	char buf[4096], *p;
	ssize_t n;
	int f = openat(dfd, fd, O_RDONLY | O_CLOEXEC);
	unsigned long id = 0;

	if (f < 0)
		return 0;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "\nprog_id:");
	if (p)
		id = strtoul(p + 9, NULL, 10);
	return (uint32_t)id;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_stat(const void *a, const void *b)
{
	return strcmp(((const struct prog_stat *)a)->name, ((const struct prog_stat *)b)->name);
}

/* Every prog id this process holds, sorted and unique. */
static int own_prog_ids(uint32_t **out)
{
	uint32_t *ids = NULL, *grown, id;
	size_t n = 0, cap = 0, i, k;
	struct dirent *de;
	DIR *d = opendir("/proc/self/fdinfo");

	*out = NULL;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		id = fd_prog_id(dirfd(d), de->d_name);
		if (!id)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(ids, cap * sizeof(*ids));
			if (!grown) {
				free(ids);
				closedir(d);
				return -ENOMEM;
			}
			ids = grown;
		}
		ids[n++] = id;
	}
	closedir(d);
	if (!n)
		return 0;
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (i = 1, k = 1; i < n; i++)
		if (ids[i] != ids[k - 1])
			ids[k++] = ids[i];
	*out = ids;
	return (int)k;
}

int metrics_bpf_progs(struct prog_stat **out)
{
	struct bpf_prog_info info;
	struct prog_stat *v = NULL;
	uint32_t *ids = NULL, len;
	size_t n = 0, i, k;
	int nids, fd;

	*out = NULL;
	nids = own_prog_ids(&ids);
	if (nids <= 0)
		return nids;
	v = calloc((size_t)nids, sizeof(*v));
	if (!v) {
		free(ids);
		return -ENOMEM;
	}
	for (i = 0; i < (size_t)nids; i++) {
		/* by id, not by our fd number: a policy deleted meanwhile cannot make us read
		 * whatever reused the fd */
		fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			snprintf(v[n].name, sizeof(v[n].name), "%s", info.name[0] ? info.name : "unnamed");
			v[n].run_cnt = info.run_cnt;
			v[n].run_time_ns = info.run_time_ns;
			v[n].recursion_misses = info.recursion_misses;
			n++;
		}
		close(fd);
	}
	free(ids);
	/* programs of several policies share names: sum them */
	qsort(v, n, sizeof(*v), cmp_stat);
	for (i = 1, k = n ? 1 : 0; i < n; i++) {
		if (!strcmp(v[i].name, v[k - 1].name)) {
			v[k - 1].run_cnt += v[i].run_cnt;
			v[k - 1].run_time_ns += v[i].run_time_ns;
			v[k - 1].recursion_misses += v[i].recursion_misses;
		} else {
			v[k++] = v[i];
		}
	}
	*out = v;
	return (int)k;
}
