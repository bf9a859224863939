/* loader_sensor.c - the loader sensor (bpf/loader.bpf.c): loaded and attached while some
 * policy with spec.loader: true is loaded, shared by all of them. One per process. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/common.h"
#include "loader/loader_maps.h"
#include "sensors_internal.h"
#include "loader.skel.h"

static struct {
	pthread_mutex_t lock;
	struct loader_bpf *skel;
	unsigned int refs;
} ls = {.lock = PTHREAD_MUTEX_INITIALIZER};

const char *loader_sensor_mechanism(void)
{
	return "tracepoint syscalls/sys_exit_mmap + bpf_find_vma (executable mappings), "
	       "raw_tp sched_process_exec (binaries)";
}

int loader_sensor_ref(const struct vigil_loader *loader, uint32_t wakeup_batch, char *why, size_t why_size)
{
	struct loader_bpf *skel = NULL;
	int err = 0;

	pthread_mutex_lock(&ls.lock);
	if (ls.skel) {
		ls.refs++;
		goto out;
	}
	skel = loader_bpf__open();
	if (!skel) {
		err = -errno;
		snprintf(why, why_size, "open: %s", strerror(-err));
		goto out;
	}
	skel->rodata->wakeup_batch = wakeup_batch ? wakeup_batch : 1;
	/* the agent's ring buffer, exec map and counters */
	err = vigil_loader__reuse_shared_maps(loader, skel->obj);
	if (err) {
		snprintf(why, why_size, "reuse shared maps: %s", strerror(-err));
		goto out;
	}
	err = loader_bpf__load(skel);
	if (err) {
		snprintf(why, why_size, "load: %s (bpf_find_vma needs kernel 5.17)", strerror(-err));
		goto out;
	}
	err = loader_bpf__attach(skel);
	if (err) {
		snprintf(why, why_size, "attach: %s (needs the syscalls:sys_exit_mmap tracepoint)", strerror(-err));
		goto out;
	}
	ls.skel = skel;
	skel = NULL;
	ls.refs = 1;
out:
	loader_bpf__destroy(skel);
	pthread_mutex_unlock(&ls.lock);
	return err;
}

void loader_sensor_unref(void)
{
	pthread_mutex_lock(&ls.lock);
	if (ls.refs && !--ls.refs) {
		loader_bpf__destroy(ls.skel);
		ls.skel = NULL;
	}
	pthread_mutex_unlock(&ls.lock);
}
