/* memory.c - what a policy costs the kernel: the locked memory of the maps and programs
 * its hooks loaded, as the kernel accounts it ("memlock:" in each fd's fdinfo; Tetragon's
 * kernel_memory_bytes sums its maps' the same way). Maps shared with the process programs
 * or the syscall dispatcher (vg_*), and a tracepoint chain's scratch, belong to no policy
 * and are left out. */
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "sensors_internal.h"

static uint64_t fd_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

uint64_t sensor_memlock(const struct sensor *s)
{
	struct bpf_object *obj = sensor_object(s);
	struct bpf_program *prog;
	struct bpf_map *map;
	uint64_t total = 0;

	if (!obj)
		return 0;	/* a fanotify watch: no BPF at all */
	bpf_object__for_each_map(map, obj)
		if (strncmp(bpf_map__name(map), "vg_", 3) &&
		    !(sensor_chained(s) && !strcmp(bpf_map__name(map), "generic_heap")))
			total += fd_memlock(bpf_map__fd(map));
	bpf_object__for_each_program(prog, obj)
		total += fd_memlock(bpf_program__fd(prog));
	return total;
}
