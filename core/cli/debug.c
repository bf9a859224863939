/* debug.c - `vigil debug progs`: tetra's per-program overhead table (Ovh(%) Id Cnt Time
 * Name), from the kernel's BPF run-time statistics sampled over an interval. The programs
 * are the agent's (held open by a process named vigild), or every program with --all. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "common/common.h"

#define MAX_PROGS 4096

struct prog_sample {
	uint32_t id;
	uint64_t cnt, ns;
	char name[17];
	double pct;
	uint64_t dcnt, dns;
};

/* The prog_id lines of every fdinfo of pid. */
static size_t prog_ids_of(const char *pid, uint32_t *ids, size_t n, size_t max)
{
	char path[64], buf[4096], *p;
	struct dirent *de;
	ssize_t len;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo", pid);
	d = opendir(path);
	while (d && (de = readdir(d)) && n < max) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		p = strstr(buf, "\nprog_id:");
		if (p)
			ids[n++] = (uint32_t)strtoul(p + 9, NULL, 10);
	}
	if (d)
		closedir(d);
	return n;
}

/* The agent's programs: those its processes hold. */
static size_t agent_prog_ids(uint32_t *ids, size_t max)
{
	char path[300], comm[32];
	struct dirent *de;
	size_t n = 0;
	FILE *f;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "vigild\n"))
			n = prog_ids_of(de->d_name, ids, n, max);
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

static size_t all_prog_ids(uint32_t *ids, size_t max)
{
	uint32_t id = 0;
	size_t n = 0;

	while (n < max && !bpf_prog_get_next_id(id, &id))
		ids[n++] = id;
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* One sample of each program; ones gone meanwhile are left out. */
static size_t sample(bool all, struct prog_sample *out)
{
	static uint32_t ids[MAX_PROGS];
	struct bpf_prog_info info;
	size_t n = all ? all_prog_ids(ids, MAX_PROGS) : agent_prog_ids(ids, MAX_PROGS), i, k = 0;
	uint32_t len;
	int fd;

	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (i = 0; i < n; i++) {
		if (i && ids[i] == ids[i - 1])
			continue;
		fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			out[k] = (struct prog_sample){.id = ids[i], .cnt = info.run_cnt, .ns = info.run_time_ns};
			snprintf(out[k].name, sizeof(out[k].name), "%s", info.name);
			k++;
		}
		close(fd);
	}
	return k;
}

static int cmp_pct(const void *a, const void *b)
{
	double x = ((const struct prog_sample *)a)->pct, y = ((const struct prog_sample *)b)->pct;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int debug_progs(int argc, char **argv)
{
	static const struct option options[] = {
		{"all", no_argument, NULL, 'a'},
		{"once", no_argument, NULL, 'o'},
		{"timeout", required_argument, NULL, 't'},
		{"no-clear", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct prog_sample before[MAX_PROGS], after[MAX_PROGS];
	bool all = false, once = false, clear = true;
	long interval = 1;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nb, na, i, j;
	time_t now;
	int c, stats;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'o': once = true; break;
		case 'n': clear = false; break;
		case 't':
			if (vigil_parse_long(optarg, 1, 3600, &interval))
				return cli_bad_value("debug progs", "timeout", optarg);
			break;
		case 'h':
			printf("usage: vigil debug progs [--all] [--once] [--timeout SECONDS] [--no-clear]\n"
			       "  the agent's BPF programs (--all: every program) by overhead over each interval:\n"
			       "  Ovh(%%) = run time / (interval x CPUs), as tetra debug progs (needs root)\n");
			return 0;
		default: return 2;
		}
	}
	/* the kernel counts run time only while someone holds stats enabled: we do, meanwhile */
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0) {
		fprintf(stderr, "vigil debug progs: cannot enable BPF statistics: %s (root needed)\n", strerror(errno));
		return 1;
	}
	nb = sample(all, before);
	do {
		sleep((unsigned int)interval);
		na = sample(all, after);
		for (i = 0; i < na; i++) {
			for (j = 0; j < nb && before[j].id != after[i].id; j++)
				;
			after[i].dcnt = after[i].cnt - (j < nb ? before[j].cnt : 0);
			after[i].dns = after[i].ns - (j < nb ? before[j].ns : 0);
			after[i].pct = (double)after[i].dns / ((double)interval * 1e9 * (double)(ncpu > 0 ? ncpu : 1)) * 100;
		}
		if (clear && !once)
			printf("\033[H\033[2J");
		now = time(NULL);
		printf("%s\n%8s %8s %12s %16s %s\n", ctime(&now), "Ovh(%)", "Id", "Cnt", "Time", "Name");
		qsort(after, na, sizeof(*after), cmp_pct);
		for (i = 0; i < na; i++)
			printf("%8.2f %8u %12llu %16llu %s\n", after[i].pct, after[i].id, (unsigned long long)after[i].dcnt,
			       (unsigned long long)after[i].dns, after[i].name);
		fflush(stdout);
		memcpy(before, after, na * sizeof(*after));
		nb = na;
	} while (!once);
	close(stats);
	return 0;
}

int cmd_debug(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "progs"))
		return debug_progs(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "maps") || !strcmp(argv[1], "map")))
		return cli_debug_maps(argc - 1, argv + 1);
	fprintf(stderr, "usage: vigil debug progs [--all] [--once] [--timeout SECONDS] [--no-clear]\n"
			"       vigil debug maps [-o tab|json] [-n LINES]\n");
	return 2;
}
