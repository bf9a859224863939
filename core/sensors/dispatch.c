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
	int16_t twin[VG_COMPAT_SLOTS];		/* i386 nr -> x86-64 nr, -1: none */
	int16_t socketcall_twin[VG_SOCKETCALL_CALLS];	/* socketcall's call -> x86-64 nr */
	int socketcall_nr;			/* socketcall's i386 number, -1: none */
	int16_t ipc_twin[VG_IPC_CALLS];		/* ipc's call -> x86-64 nr */
	int ipc_nr;				/* ipc's i386 number, -1: none */
	uint8_t row[VG_SYSCALL_SLOTS][VG_SYSCALL_CHAIN];	/* each entry slot's prefilter row, 0: none */
	bool row_used[VG_SPF_ROWS];
	unsigned int next_row;			/* where the search for a free row starts */
	uint8_t quick[VG_SYSCALL_SLOTS];	/* each syscall's quick test, 0: none */
	bool quick_used[VG_SPF_QUICKS];
	unsigned int next_quick;		/* where the search for a free one starts */
	char failed[200];			/* why the dispatcher did not load, "": it did */
} d = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct bpf_map *table(int dir)
{
	return dir ? d.skel->maps.vg_sys_exit : d.skel->maps.vg_sys_enter;
}

static bool hooked(int dir, int nr)
{
	return nr >= 0 && nr < VG_SYSCALL_SLOTS && d.filled[dir][nr];
}

/* The dispatcher's bitmaps (its .bss, mmapped), after a number's first hook came or its last
 * left: vg_native the hooked x86-64 numbers, vg_compat_hooked the i386 numbers whose twin is
 * hooked (socketcall's and ipc's when one of their calls' is), vg_hooked their union, written last. */
static void mark(int dir)
{
	__u64 native[VG_SYSCALL_SLOTS / 64] = {0}, compat[VG_COMPAT_SLOTS / 64] = {0};
	int nr, k;

	for (nr = 0; nr < VG_SYSCALL_SLOTS; nr++)
		if (hooked(dir, nr))
			native[nr / 64] |= 1ULL << (nr % 64);
	for (nr = 0; nr < VG_COMPAT_SLOTS; nr++) {
		bool on = hooked(dir, d.twin[nr]);

		for (k = 0; nr == d.socketcall_nr && k < VG_SOCKETCALL_CALLS; k++)
			on = on || hooked(dir, d.socketcall_twin[k]);
		for (k = 0; nr == d.ipc_nr && k < VG_IPC_CALLS; k++)
			on = on || hooked(dir, d.ipc_twin[k]);
		if (on)
			compat[nr / 64] |= 1ULL << (nr % 64);
	}
	for (k = 0; k < VG_SYSCALL_SLOTS / 64; k++)
		((volatile __u64 *)d.skel->bss->vg_native[dir])[k] = native[k];
	for (k = 0; k < VG_COMPAT_SLOTS / 64; k++)
		((volatile __u64 *)d.skel->bss->vg_compat_hooked[dir])[k] = compat[k];
	for (k = 0; k < VG_SYSCALL_SLOTS / 64; k++)
		((volatile __u64 *)d.skel->bss->vg_hooked[dir])[k] = native[k] | (k < VG_COMPAT_SLOTS / 64 ? compat[k] : 0);
}

/* A multiplexer's calls (socketcall's, ipc's) into vg_compat from slot base on, their
 * twins into twins. */
static int load_calls(int fd, uint32_t base, int16_t *twins, uint32_t n,
		      int (*twin_of)(unsigned int call, struct vg_compat_entry *out))
{
	struct vg_compat_entry e;
	uint32_t call, slot;

	for (call = 0; call < n; call++) {
		twins[call] = -1;
		if (twin_of(call, &e))
			continue;
		twins[call] = e.nr;
		slot = base + call;
		if (bpf_map_update_elem(fd, &slot, &e, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* The i386 table (core/sensors/syscalls.c) into vg_compat and d.twin, once per load;
 * socketcall's and ipc's calls after it. */
static int load_compat_table(void)
{
	int fd = bpf_map__fd(d.skel->maps.vg_compat);
	struct vg_compat_entry e;
	uint32_t key;

	d.socketcall_nr = d.ipc_nr = -1;
	for (key = 0; key < VG_COMPAT_SLOTS; key++) {
		d.twin[key] = -1;
		if (compat_syscall_twin(key, &e, NULL))
			continue;
		d.twin[key] = e.nr;
		if (e.kind == VG_COMPAT_SOCKETCALL)
			d.socketcall_nr = (int)key;
		if (e.kind == VG_COMPAT_IPC)
			d.ipc_nr = (int)key;
		if (bpf_map_update_elem(fd, &key, &e, BPF_ANY))
			return -errno;
	}
	return load_calls(fd, VG_COMPAT_SLOTS, d.socketcall_twin, VG_SOCKETCALL_CALLS, compat_socketcall_twin) ?:
	       load_calls(fd, VG_COMPAT_SLOTS + VG_SOCKETCALL_CALLS, d.ipc_twin, VG_IPC_CALLS, compat_ipc_twin);
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

/* A free entry of a table of n (entry 0 unused), the one after the last taken first: one just
 * freed is reused last, so a dispatcher run still reading it meets it unchanged. 0: none. */
static unsigned int take(bool *used, unsigned int n, unsigned int *next)
{
	unsigned int i, r;

	for (i = 0; i < n - 1; i++) {
		r = 1 + (*next + i) % (n - 1);
		if (!used[r]) {
			used[r] = true;
			*next = r;
			return r;
		}
	}
	return 0;
}

/* nr's quick test from its rows as the map holds them, into a free entry; 0: none (the rows
 * are walked one by one). Called with the lock. */
static uint8_t write_quick(int nr)
{
	static struct vg_spf_hook rows[VG_SYSCALL_CHAIN];	/* ~14 KiB: off the stack; the lock's */
	const struct vg_spf_hook *of[VG_SYSCALL_CHAIN] = {0};
	struct vg_spf_quick q;
	uint32_t key;
	int k;

	for (k = 0; k < VG_SYSCALL_CHAIN; k++) {
		key = d.row[nr][k];
		if (!key)
			continue;
		if (bpf_map_lookup_elem(bpf_map__fd(d.skel->maps.vg_spf_hooks), &key, &rows[k]))
			return 0;
		of[k] = &rows[k];
	}
	if (!dispatch_prefilter_quick(of, &q))
		return 0;
	key = take(d.quick_used, VG_SPF_QUICKS, &d.next_quick);
	if (!key) {
		pr_debug("sensors: no quick prefilter test left for syscall %d: its rows are walked", nr);
		return 0;
	}
	if (bpf_map_update_elem(bpf_map__fd(d.skel->maps.vg_spf_quick), &key, &q, BPF_ANY)) {
		pr_warn("sensors: dispatcher quick prefilter test of syscall %d: %s", nr, strerror(errno));
		d.quick_used[key] = false;
		return 0;
	}
	return (uint8_t)key;
}

/* vg_spf_chains of nr from d.row, with a new quick test (the old one freed after the chain
 * no longer names it); called with the lock. */
static void write_chain(int nr)
{
	struct vg_spf_chain ch;
	uint32_t key = (uint32_t)nr;
	uint8_t old = d.quick[nr];
	int k;

	memset(&ch, 0, sizeof(ch));
	for (k = 0; k < VG_SYSCALL_CHAIN; k++) {
		ch.row[k] = d.row[nr][k];
		if (ch.row[k])
			ch.end = (uint8_t)(k + 1);
	}
	ch.quick = ch.end ? write_quick(nr) : 0;
	if (bpf_map_update_elem(bpf_map__fd(d.skel->maps.vg_spf_chains), &key, &ch, BPF_ANY)) {
		pr_warn("sensors: dispatcher prefilters of syscall %d: %s", nr, strerror(errno));
		if (ch.quick)
			d.quick_used[ch.quick] = false;
		return;
	}
	d.quick[nr] = ch.quick;
	if (old)
		d.quick_used[old] = false;
}

/* A free row; 0: none. */
static unsigned int take_row(void)
{
	return take(d.row_used, VG_SPF_ROWS, &d.next_row);
}

/* The hook's prefilter into a row the dispatcher evaluates, before its program goes in the
 * table (a hook without a row always runs: no row, no harm); called with the lock. */
static void add_row(int nr, int slot, const struct vg_hook_config *cfg)
{
	struct vg_spf_hook row;
	uint32_t r;

	if (!cfg || !dispatch_prefilter_row(cfg, &row))
		return;
	r = take_row();
	if (!r) {
		pr_debug("sensors: no dispatcher prefilter row left for syscall %d: the hook prefilters itself", nr);
		return;
	}
	if (bpf_map_update_elem(bpf_map__fd(d.skel->maps.vg_spf_hooks), &r, &row, BPF_ANY)) {
		pr_warn("sensors: dispatcher prefilter row of syscall %d: %s", nr, strerror(errno));
		d.row_used[r] = false;
		return;
	}
	d.row[nr][slot] = (uint8_t)r;
	write_chain(nr);
}

/* After the hook's program left the table; called with the lock. */
static void remove_row(int nr, int slot)
{
	if (!d.row[nr][slot])
		return;
	d.row_used[d.row[nr][slot]] = false;
	d.row[nr][slot] = 0;
	write_chain(nr);
}

/* The dispatcher did not load: every hook that would sit in its table attaches alone on
 * raw_syscalls instead, where every syscall of the machine runs it. Said once per reason
 * (each hook instance tries again); the hooks' status notes say it too (dispatch_failure). */
static void load_failed(const char *why)
{
	if (!strncmp(d.failed, why, sizeof(d.failed) - 1))
		return;
	snprintf(d.failed, sizeof(d.failed), "%s", why);
	pr_warn("sensors: the raw_syscalls dispatcher did not load (%s): its hooks attach alone on "
		"raw_syscalls, each run by every syscall of the machine", why);
}

bool dispatch_failure(char *why, size_t size)
{
	bool failed;

	pthread_mutex_lock(&d.lock);
	failed = d.failed[0] != 0;
	if (failed)
		snprintf(why, size, "%s", d.failed);
	pthread_mutex_unlock(&d.lock);
	return failed;
}

/* VIGIL_DISPATCHER=off in the agent's environment: no dispatcher, as where it does not load
 * (what the hooks then cost, and the fallback's warning and notes, can be seen anywhere) */
static bool off_knob(void)
{
	const char *knob = getenv("VIGIL_DISPATCHER");

	return knob && !strcmp(knob, "off");
}

void dispatch_prefilter_add(int nr, int slot, const struct vg_hook_config *cfg)
{
	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || slot < 0 || slot >= VG_SYSCALL_CHAIN)
		return;
	pthread_mutex_lock(&d.lock);
	if (d.skel)
		add_row(nr, slot, cfg);
	pthread_mutex_unlock(&d.lock);
}

void dispatch_prefilter_remove(int nr, int slot)
{
	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || slot < 0 || slot >= VG_SYSCALL_CHAIN)
		return;
	pthread_mutex_lock(&d.lock);
	if (d.skel)
		remove_row(nr, slot);
	pthread_mutex_unlock(&d.lock);
}

bool dispatch_prefilter_quick_of(int nr, struct vg_spf_quick *q)
{
	uint32_t key;
	bool ok;

	if (nr < 0 || nr >= VG_SYSCALL_SLOTS)
		return false;
	pthread_mutex_lock(&d.lock);
	key = d.skel ? d.quick[nr] : 0;
	/* under the lock: the entry is not freed for another syscall's while it is read */
	ok = key && !bpf_map_lookup_elem(bpf_map__fd(d.skel->maps.vg_spf_quick), &key, q);
	pthread_mutex_unlock(&d.lock);
	return ok;
}

int dispatch_ref(struct bpf_object *obj)
{
	int err = 0, dir;

	pthread_mutex_lock(&d.lock);
	if (!d.skel && off_knob()) {
		err = -ENODEV;
		load_failed("turned off by VIGIL_DISPATCHER=off");
		goto out;
	}
	if (!d.skel) {
		d.skel = dispatch_bpf__open_and_load();
		if (!d.skel) {
			err = -errno;
			load_failed(strerror(-err));
			goto out;
		}
		err = load_compat_table();
		if (err) {
			char why[120];

			snprintf(why, sizeof(why), "its i386 table: %s", strerror(-err));
			load_failed(why);
			goto out;
		}
		d.failed[0] = 0;
	}
	/* the two tables, their chains' ends, the copy of the registers, the i386 table, the
	 * fentry dispatchers' table and ends (bpf/lib/dispatch_maps.h) and the prefilter rows
	 * (bpf/lib/syscall_prefilter.h: the fentry dispatchers run them too) */
	for (dir = 0; dir < 10 && !err; dir++) {
		struct bpf_map *const maps[] = {table(0), table(1), d.skel->maps.vg_sys_regs, d.skel->maps.vg_sys_ends,
						d.skel->maps.vg_compat, d.skel->maps.vg_fentry,
						d.skel->maps.vg_fentry_ends, d.skel->maps.vg_spf_chains,
						d.skel->maps.vg_spf_hooks, d.skel->maps.vg_spf_quick};
		struct bpf_map *shared = maps[dir];
		struct bpf_map *mine = bpf_object__find_map_by_name(obj, bpf_map__name(shared));

		/* one the object will not create (bpf_map__set_autocreate: none of its programs
		 * names it) costs no descriptor */
		if (mine && bpf_map__autocreate(mine))
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
		memset(d.row, 0, sizeof(d.row));
		memset(d.row_used, 0, sizeof(d.row_used));
		memset(d.quick, 0, sizeof(d.quick));
		memset(d.quick_used, 0, sizeof(d.quick_used));
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

int dispatch_add(int nr, int slot, int dir, int prog_fd, const struct vg_hook_config *cfg)
{
	uint32_t key = (uint32_t)(nr * VG_SYSCALL_CHAIN + slot);
	struct bpf_program *p;
	int err = 0;

	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || slot < 0 || slot >= VG_SYSCALL_CHAIN || dir < 0 || dir > 1)
		return -ERANGE;
	pthread_mutex_lock(&d.lock);
	if (!d.skel) {
		err = -ENODEV;
		goto out;
	}
	if (!dir)
		add_row(nr, slot, cfg);
	if (bpf_map_update_elem(bpf_map__fd(table(dir)), &key, &prog_fd, BPF_ANY)) {
		err = -errno;
		if (!dir)
			remove_row(nr, slot);
		goto out;
	}
	if (!d.link[dir]) {
		p = dir ? d.skel->progs.tp_btf_dispatch_exit : d.skel->progs.raw_tp_dispatch_enter;
		d.link[dir] = bpf_program__attach(p);
		if (!d.link[dir]) {
			err = -errno;
			bpf_map_delete_elem(bpf_map__fd(table(dir)), &key);
			if (!dir)
				remove_row(nr, slot);
			goto out;
		}
	}
	d.users[dir]++;
	d.in[dir][nr] |= (uint16_t)(1u << slot);
	set_end(dir, nr);
	if (!d.filled[dir][nr]++)
		mark(dir);
out:
	pthread_mutex_unlock(&d.lock);
	return err;
}

void dispatch_remove(int nr, int slot, int dir)
{
	uint32_t key = (uint32_t)(nr * VG_SYSCALL_CHAIN + slot);

	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || slot < 0 || slot >= VG_SYSCALL_CHAIN || dir < 0 || dir > 1)
		return;
	pthread_mutex_lock(&d.lock);
	if (d.skel && d.users[dir]) {
		if (d.filled[dir][nr] && !--d.filled[dir][nr])
			mark(dir);
		bpf_map_delete_elem(bpf_map__fd(table(dir)), &key);
		if (!dir)
			remove_row(nr, slot);
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
