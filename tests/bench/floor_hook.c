/* floor_hook HOOK... - attach empty BPF programs until stdin closes, to measure the floor.
 *
 * HOOK is `raw` (raw_syscalls/sys_enter), `tp:SUBSYS/EVENT` (a classic tracepoint),
 * `fentry:FUNCTION` (one at most: an fentry program on a kernel function) or
 * `connect4:CGROUP_DIR` (cgroup connect4). Prints "ready" once attached. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"

#define MAX_LINKS 16

static struct bpf_link *attach_one(struct floor_bpf *skel, const char *hook)
{
	char subsys[64], event[128];
	struct bpf_link *link;
	int fd;

	if (!strcmp(hook, "raw"))
		return bpf_program__attach(skel->progs.floor_raw_sys_enter);
	if (sscanf(hook, "tp:%63[^/]/%127s", subsys, event) == 2)
		return bpf_program__attach_tracepoint(skel->progs.floor_tracepoint, subsys, event);
	if (!strncmp(hook, "fentry:", 7))
		return bpf_program__attach_trace(skel->progs.floor_fentry);
	if (!strncmp(hook, "connect4:", 9)) {
		fd = open(hook + 9, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		link = bpf_program__attach_cgroup(skel->progs.floor_connect4, fd);
		close(fd);
		return link;
	}
	errno = EINVAL;
	return NULL;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[MAX_LINKS] = {};
	struct floor_bpf *skel = NULL;
	const char *fentry = NULL;
	int i, n = 0, err = 1;
	char c;

	if (argc < 2 || argc - 1 > MAX_LINKS) {
		fprintf(stderr, "usage: floor_hook raw|tp:SUBSYS/EVENT|fentry:FUNCTION|connect4:CGROUP_DIR...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "fentry:", 7))
			continue;
		if (fentry) {
			fprintf(stderr, "floor_hook: one fentry:FUNCTION at most\n");
			return 2;
		}
		fentry = argv[i] + 7;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor_hook: open: %s\n", strerror(errno));
		goto out;
	}
	/* an fentry program is loaded for its function: none asked, none loaded */
	if (fentry)
		err = bpf_program__set_attach_target(skel->progs.floor_fentry, 0, fentry);
	else
		err = bpf_program__set_autoload(skel->progs.floor_fentry, false);
	if (err || floor_bpf__load(skel)) {
		fprintf(stderr, "floor_hook: load: %s\n", strerror(errno));
		err = 1;
		goto out;
	}
	err = 1;
	for (i = 1; i < argc; i++) {
		links[n] = attach_one(skel, argv[i]);
		if (!links[n]) {
			fprintf(stderr, "floor_hook: attach %s: %s\n", argv[i], strerror(errno));
			goto out;
		}
		n++;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	err = 0;
out:
	while (n > 0)
		bpf_link__destroy(links[--n]);
	floor_bpf__destroy(skel);
	return err;
}
