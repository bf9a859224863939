/* privileges.c - after start-up mounts, the agent keeps only the capabilities its run-time
 * work needs, in the effective, permitted and bounding sets (inheritable and ambient
 * emptied), and sets no_new_privs. The README's "Privileges" section lists the same set. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "agent_internal.h"

/* Measured on 6.18 by running the host lane with one capability removed at a time; the
 * reason is what broke without it. CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN are not kept:
 * the kernel's bpf_capable(), perfmon_capable() and bpf_net_capable() all accept
 * CAP_SYS_ADMIN, which uprobes and program statistics need anyway, so they add nothing
 * (removing them broke no test). */
static const struct {
	int cap;
	const char *name;
} keep[] = {
	/* policy add / enable / set-mode: program load, map create, link pin; uprobe attach
	 * (EACCES without it, CAP_PERFMON or not); BPF_ENABLE_STATS for the metrics' program
	 * run counts; cgroup sock_addr programs */
	{CAP_SYS_ADMIN, "sys_admin"},
	/* /proc/<pid>/exe, cwd and ns of processes holding capabilities the agent dropped
	 * (every root process): the ptrace access check wants the target's capabilities to
	 * be a subset of ours, or CAP_SYS_PTRACE */
	{CAP_SYS_PTRACE, "sys_ptrace"},
	/* Lua rules' kill() of processes of other users */
	{CAP_KILL, "kill"},
	/* a "files" list value (deny(), add-value, a policy's values) is stat()ed for its
	 * device and inode: a file under another user's 0700 home is out of reach without it */
	{CAP_DAC_READ_SEARCH, "dac_read_search"},
};

static uint64_t keep_mask(const struct vigil_agent_opts *o)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(keep); i++)
		m |= 1ULL << keep[i].cap;
	/* --control-group: the control socket is given that group (core/bus), which a process
	 * outside the group may only do with CAP_CHOWN */
	if (o->control_group)
		m |= 1ULL << CAP_CHOWN;
	return m;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

int agent_drop_privileges(const struct vigil_agent_opts *o)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	uint64_t mask = keep_mask(o), permitted;
	int cap, last = last_cap(), err;

	if (syscall(SYS_capget, &hdr, data)) {
		err = -errno;
		goto err_out;
	}
	permitted = ((uint64_t)data[1].permitted << 32 | data[0].permitted) & mask;

	/* the bounding set first: dropping from it needs CAP_SETPCAP, which goes next; an agent
	 * started without it (not root) cannot gain anything back through exec anyway */
	for (cap = 0; cap <= last && (data[0].effective & (1u << CAP_SETPCAP)); cap++)
		if (!(mask & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL) {
			err = -errno;
			goto err_out;
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		err = -errno;
		goto err_out;
	}
	data[0].effective = data[0].permitted = (uint32_t)permitted;
	data[1].effective = data[1].permitted = (uint32_t)(permitted >> 32);
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data)) {
		err = -errno;
		goto err_out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		goto err_out;
	}
	pr_info("agent: capabilities reduced to %#llx (sys_admin, sys_ptrace, kill, dac_read_search%s); "
		"no_new_privs set",
		(unsigned long long)permitted, o->control_group ? ", chown" : "");
	return 0;

err_out:
	pr_warn("agent: cannot drop privileges: %s", strerror(-err));
	return err;
}
