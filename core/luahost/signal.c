/* signal.c - kill()'s signal, sent to the process the rule meant and not to whoever holds
 * its pid now.
 *
 * A rule runs after the event (on the rules thread, behind a queue): by then the target may
 * have exited and its pid gone to another process. A pidfd pins one process; the check that
 * makes it the right one is its start time. /proc/<pid>/stat's starttime (field 22, in
 * USER_HZ ticks of CLOCK_BOOTTIME, the group leader's) is read after pidfd_open, so the
 * pidfd and the start time belong to the same process; an incarnation keyed by exec_id
 * ktime K (the exec's or clone's CLOCK_BOOTTIME ns, or for a process seen only in /proc its
 * start time rounded down to a tick: bpf/lib/task.h) started at or before K, and a process
 * that took its pid later started after the original exited, so after K. Rounding down to
 * ticks leaves one window: a pid reused within the same 10 ms tick as K passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "luahost_internal.h"

#define USER_HZ_NS 10000000ULL

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* Field 22 of /proc/<pid>/stat in ns; 0 on failure (errno set). */
static uint64_t start_ns(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;
		return 0;
	}
	buf[n] = '\0';
	/* the command (field 2) may hold spaces and parentheses: count from its last ')' */
	p = strrchr(buf, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1) {
		errno = EINVAL;
		return 0;
	}
	return ticks * USER_HZ_NS;
}

int lh_signal(int pid, uint64_t start_ktime, int sig)
{
	uint64_t started;
	int fd, err = 0;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	if (start_ktime) {
		started = start_ns(pid);
		if (!started) {
			err = errno == ENOENT ? -ESRCH : -errno;
			goto out;
		}
		if (started > start_ktime) {
			err = -ESRCH;	/* another process has the pid now */
			goto out;
		}
	}
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0))
		err = -errno;
out:
	close(fd);
	return err;
}

