/* dispatch.c - the raw_syscalls dispatcher (bpf/dispatch.h): one program per direction on
 * raw_syscalls, attached while some hook is registered in its table, tail-calling only the
 * hooks of the syscall that runs. One per process, shared by every hook instance. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/common.h"
#include "sensors_internal.h"
#include "dispatch.skel.h"

static struct {
	pthread_mutex_t lock;
	struct dispatch_bpf *skel;
	unsigned int refs;			/* instances whose maps are the tables */
	struct bpf_link *link[2];		/* enter, exit */
	unsigned int users[2];			/* hooks registered per direction */
	uint16_t taken[VG_SYSCALL_SLOTS];	/* bit k: slot k of syscall nr reserved */
	uint8_t filled[2][VG_SYSCALL_SLOTS];	/* hooks in the table per direction and nr */
	uint16_t in[2][VG_SYSCALL_SLOTS];	/* bit k: slot k of nr is in that table */
} d = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct bpf_map *table(int dir)
{
	return dir ? d.skel->maps.vg_sys_exit : d.skel->maps.vg_sys_enter;
}

/* The dispatcher's bitmap of hooked numbers (its .bss, mmapped): set once the slot is in
 * the table, cleared when the number's last hook leaves. */
static void mark(int dir, int nr, bool on)
{
	volatile __u64 *w = &d.skel->bss->vg_hooked[dir][nr / 64];
	__u64 bit = 1ULL << (nr % 64);

	*w = on ? *w | bit : *w & ~bit;
}

/* The chain of nr ends after its last filled slot (vg_sys_ends); called with the lock. */
static void set_end(int dir, int nr)
{
	uint32_t key = (uint32_t)(dir * VG_SYSCALL_SLOTS + nr), end = 0;
	int k;

	for (k = 0; k < VG_SYSCALL_CHAIN; k++)
		if (d.in[dir][nr] & (1u << k))
			end = (uint32_t)k + 1;
	if (bpf_map_update_elem(bpf_map__fd(d.skel->maps.vg_sys_ends), &key, &end, BPF_ANY))
		pr_warn("sensors: dispatcher chain end of syscall %d: %s", nr, strerror(errno));
}

int dispatch_ref(struct bpf_object *obj)
{
	int err = 0, dir;

	pthread_mutex_lock(&d.lock);
	if (!d.skel) {
		d.skel = dispatch_bpf__open_and_load();
		if (!d.skel) {
			err = -errno;
			pr_debug("sensors: raw_syscalls dispatcher unavailable: %s", strerror(-err));
			goto out;
		}
	}
	/* the two tables, their chains' ends and the copy of the registers (bpf/lib/dispatch_maps.h) */
	for (dir = 0; dir < 4 && !err; dir++) {
		struct bpf_map *shared = dir < 2 ? table(dir) : dir == 2 ? d.skel->maps.vg_sys_regs : d.skel->maps.vg_sys_ends;
		struct bpf_map *mine = bpf_object__find_map_by_name(obj, bpf_map__name(shared));

		if (mine)
			err = bpf_map__reuse_fd(mine, bpf_map__fd(shared));
	}
	if (!err)
		d.refs++;
out:
	if (err && d.skel && !d.refs) {
		dispatch_bpf__destroy(d.skel);
		d.skel = NULL;
	}
	pthread_mutex_unlock(&d.lock);
	return err;
}

void dispatch_unref(void)
{
	pthread_mutex_lock(&d.lock);
	if (d.refs && !--d.refs) {
		bpf_link__destroy(d.link[0]);
		bpf_link__destroy(d.link[1]);
		d.link[0] = d.link[1] = NULL;
		d.users[0] = d.users[1] = 0;
		memset(d.taken, 0, sizeof(d.taken));
		memset(d.filled, 0, sizeof(d.filled));
		memset(d.in, 0, sizeof(d.in));
		dispatch_bpf__destroy(d.skel);
		d.skel = NULL;
	}
	pthread_mutex_unlock(&d.lock);
}

int dispatch_reserve(int nr)
{
	int k, slot = -ENOSPC;

	if (nr < 0 || nr >= VG_SYSCALL_SLOTS)
		return -ERANGE;
	pthread_mutex_lock(&d.lock);
	for (k = 0; k < VG_SYSCALL_CHAIN; k++)
		if (!(d.taken[nr] & (1u << k))) {
			d.taken[nr] |= (uint16_t)(1u << k);
			slot = k;
			break;
		}
	pthread_mutex_unlock(&d.lock);
	return slot;
}

void dispatch_release(int nr, int slot)
{
	pthread_mutex_lock(&d.lock);
	if (nr >= 0 && nr < VG_SYSCALL_SLOTS && slot >= 0 && slot < VG_SYSCALL_CHAIN)
		d.taken[nr] &= (uint16_t)~(1u << slot);
	pthread_mutex_unlock(&d.lock);
}

int dispatch_add(int nr, int slot, int dir, int prog_fd)
{
	uint32_t key = (uint32_t)(nr * VG_SYSCALL_CHAIN + slot);
	struct bpf_program *p;
	int err = 0;

	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || dir < 0 || dir > 1)
		return -ERANGE;
	pthread_mutex_lock(&d.lock);
	if (!d.skel) {
		err = -ENODEV;
		goto out;
	}
	if (bpf_map_update_elem(bpf_map__fd(table(dir)), &key, &prog_fd, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	if (!d.link[dir]) {
		p = dir ? d.skel->progs.raw_tp_dispatch_exit : d.skel->progs.raw_tp_dispatch_enter;
		d.link[dir] = bpf_program__attach(p);
		if (!d.link[dir]) {
			err = -errno;
			bpf_map_delete_elem(bpf_map__fd(table(dir)), &key);
			goto out;
		}
	}
	d.users[dir]++;
	d.in[dir][nr] |= (uint16_t)(1u << slot);
	set_end(dir, nr);
	if (!d.filled[dir][nr]++)
		mark(dir, nr, true);
out:
	pthread_mutex_unlock(&d.lock);
	return err;
}

void dispatch_remove(int nr, int slot, int dir)
{
	uint32_t key = (uint32_t)(nr * VG_SYSCALL_CHAIN + slot);

	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || dir < 0 || dir > 1)
		return;
	pthread_mutex_lock(&d.lock);
	if (d.skel && d.users[dir]) {
		if (d.filled[dir][nr] && !--d.filled[dir][nr])
			mark(dir, nr, false);
		bpf_map_delete_elem(bpf_map__fd(table(dir)), &key);
		d.in[dir][nr] &= (uint16_t)~(1u << slot);
		set_end(dir, nr);
		/* the last hook gone: no program on raw_syscalls at all, no cost to any syscall */
		if (!--d.users[dir]) {
			bpf_link__destroy(d.link[dir]);
			d.link[dir] = NULL;
		}
	}
	pthread_mutex_unlock(&d.lock);
}
