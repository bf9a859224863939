/* taskkeys.c - read every process's kernel key once, through the task iterator of
 * bpf/taskkeys.bpf.c, for the /proc scan to seed under. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader_maps.h"
#include "taskkeys.h"
#include "taskkeys.skel.h"

static int by_pid(const void *a, const void *b)
{
	const struct vigil_task_key *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Read the iterator's output until EOF into a growing array. */
static int read_keys(int fd, struct vigil_task_key **out, size_t *n)
{
	struct vigil_task_key *keys = NULL, *grown;
	size_t cap = 0, bytes = 0;
	ssize_t got;

	for (;;) {
		if (bytes + 4096 > cap * sizeof(*keys)) {
			cap = cap ? cap * 2 : 4096;
			grown = realloc(keys, cap * sizeof(*keys));
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		got = read(fd, (char *)keys + bytes, cap * sizeof(*keys) - bytes);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(keys);
			return -errno;
		}
		if (got == 0)
			break;
		bytes += (size_t)got;
	}
	*n = bytes / sizeof(*keys);
	qsort(keys, *n, sizeof(*keys), by_pid);
	*out = keys;
	return 0;
}

int vigil_loader__task_keys(const struct vigil_loader *l, struct vigil_task_key **out, size_t *n)
{
	struct taskkeys_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	int fd = -1, err;

	*out = NULL;
	*n = 0;
	skel = taskkeys_bpf__open();
	if (!skel) {
		err = -errno;
		goto out;
	}
	err = vigil_loader__reuse_shared_maps(l, skel->obj);
	if (!err)
		err = taskkeys_bpf__load(skel);
	if (err)
		goto out;
	link = bpf_program__attach_iter(skel->progs.iter_task_keys, NULL);
	if (!link) {
		err = -errno;
		goto out;
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = read_keys(fd, out, n);
out:
	if (err)
		pr_warn("loader: cannot read the processes' keys with a task iterator: %s", strerror(-err));
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	taskkeys_bpf__destroy(skel);
	return err;
}
