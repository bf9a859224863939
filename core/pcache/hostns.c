/* hostns.c - the host's namespace inode numbers, which is_host compares against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcache.h"

/* /proc/<pid>/ns link names, in enum vigil_ns_kind order. */
static const char *const ns_links[VIGIL_NS_COUNT] = {
	"uts", "ipc", "mnt", "pid", "pid_for_children", "net", "time", "time_for_children", "cgroup", "user",
};

/* The initial namespaces have fixed inode numbers (include/linux/proc_ns.h, PROC_*_INIT_INO);
 * net and mnt got theirs only recently, so for those the agent's own are the fallback. */
static const uint32_t init_inodes[VIGIL_NS_COUNT] = {
	[VIGIL_NS_UTS] = 0xEFFFFFFEU,
	[VIGIL_NS_IPC] = 0xEFFFFFFFU,
	[VIGIL_NS_PID] = 0xEFFFFFFCU,
	[VIGIL_NS_PID_FOR_CHILDREN] = 0xEFFFFFFCU,
	[VIGIL_NS_TIME] = 0xEFFFFFFAU,
	[VIGIL_NS_TIME_FOR_CHILDREN] = 0xEFFFFFFAU,
	[VIGIL_NS_CGROUP] = 0xEFFFFFFBU,
	[VIGIL_NS_USER] = 0xEFFFFFFDU,
};

static uint32_t read_ns(const char *proc_root, const char *who, const char *name)
{
	char path[512], link[64];
	const char *open;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/ns/%s", proc_root, who, name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	open = strchr(link, '[');	/* "mnt:[4026531840]" */
	return open ? (uint32_t)strtoul(open + 1, NULL, 10) : 0;
}

void vigil_host_ns_read(const char *proc_root, uint32_t out[VIGIL_NS_COUNT])
{
	int k;

	for (k = 0; k < VIGIL_NS_COUNT; k++) {
		out[k] = read_ns(proc_root, "1", ns_links[k]);
		if (out[k])
			continue;
		/* pid 1 hidden from us (a sandbox's init, or no CAP_SYS_PTRACE over it) */
		out[k] = init_inodes[k] ? init_inodes[k] : read_ns(proc_root, "self", ns_links[k]);
	}
}
