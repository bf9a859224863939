/* setns_self [NS] - call setns(2) on one of this process's own namespaces (uts by default):
 * a harmless setns that policies can watch. Exits 0 when setns succeeded, 1 otherwise. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *ns = argc > 1 ? argv[1] : "uts";
	char path[64];
	int fd, rc;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	rc = setns(fd, strcmp(ns, "uts") ? 0 : CLONE_NEWUTS);
	close(fd);
	return rc ? 1 : 0;
}
