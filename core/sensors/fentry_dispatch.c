/* fentry_dispatch.c - with BPF trampolines, one fentry program per hooked syscall function
 * (bpf/fentry_dispatch.bpf.c) tail-calling that syscall's fentry hooks through vg_fentry
 * (bpf/dispatch.h). A function's program is loaded when its syscall's first hook takes a slot
 * (so a hook that cannot have one keeps its own fentry, and says why, before it loads), and
 * attached while its chain holds a hook. The tables are the raw_syscalls dispatcher's
 * (dispatch_ref): every hook instance shares them. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/common.h"
#include "sensors_internal.h"
#include "fentry_dispatch.skel.h"

/* one syscall's dispatcher (on __x64_sys_X), by the syscall's number */
struct fentry_target {
	struct fentry_dispatch_bpf *skel;	/* loaded while a slot of its syscall is reserved */
	struct bpf_link *link;			/* attached while its chain holds a hook */
	struct fentry_dispatch_bpf *fast;	/* its chain's quick test as constants, in skel's
						 * vg_fentry_fast (fentry_dispatch.bpf.c) */
	char fn[64];				/* the function it is on */
	uint16_t in;				/* bit k: slot k of its chain holds a hook */
};

static struct {
	pthread_mutex_t lock;
	struct fentry_target t[VG_FENTRY_TARGETS];
	uint16_t taken[VG_SYSCALL_SLOTS];	/* bit k: slot k of syscall nr (dispatch_reserve's) held here */
} f = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The specialised instance out of t's vg_fentry_fast (the attached one walks the rows
 * again), before the chain changes: its constants say what the chain held. */
static void fast_drop(struct fentry_target *t)
{
	uint32_t zero = 0;

	if (!t->fast)
		return;
	if (bpf_map_delete_elem(bpf_map__fd(t->skel->maps.vg_fentry_fast), &zero) && errno != ENOENT)
		pr_warn("sensors: fentry dispatcher of %s: its specialised quick test stays: %s", t->fn, strerror(errno));
	fentry_dispatch_bpf__destroy(t->fast);
	t->fast = NULL;
	dispatch_unref();
}

static void unload(struct fentry_target *t)
{
	fast_drop(t);
	bpf_link__destroy(t->link);
	t->link = NULL;
	if (t->skel) {
		fentry_dispatch_bpf__destroy(t->skel);
		t->skel = NULL;
		dispatch_unref();
	}
}

/* quick's selectors as fentry_dispatch.bpf.c's sel_need: for each set m of its integer checks
 * that pass, what its selectors leave to do (as vg_spf_quick_maybe's loop over them): the
 * strings still needed, or VG_SPF_QPASS when a selector without strings passes. */
static void sel_table(const struct vg_spf_quick *q, uint32_t *need)
{
	uint32_t m, i, n;

	for (m = 0; m < 1u << VG_SPF_QINTS; m++) {
		n = 0;
		for (i = 0; i < q->nsel && i < VG_SPF_QSEL; i++) {
			if ((q->sel[i].ints & m) != q->sel[i].ints)
				continue;
			if (!q->sel[i].strs) {
				n = VG_SPF_QPASS;
				break;
			}
			n |= q->sel[i].strs;
		}
		need[m] = n;
	}
}

/* An instance of target i's program on fn, loaded on the shared tables, not attached
 * (quick: the specialised one, with its chain's quick test; NULL: the generic one). NULL on
 * failure, with why. */
static struct fentry_dispatch_bpf *load_instance(unsigned int i, const char *fn, const struct vg_spf_quick *quick,
						 char *why, size_t why_size)
{
	struct fentry_dispatch_bpf *skel;
	struct bpf_map *map;
	int err;

	skel = fentry_dispatch_bpf__open();
	if (!skel) {
		err = -errno;
		snprintf(why, why_size, "open the fentry dispatcher of %s: %s", fn, strerror(-err));
		errno = -err;
		return NULL;
	}
	/* of the shared maps only those it names (vg_fentry, its ends, the copy of the registers,
	 * the i386 table, the prefilter rows and quick tests): every map it reuses is a
	 * descriptor held */
	bpf_object__for_each_map(map, skel->obj)
		if (!bpf_map__is_internal(map) && map != skel->maps.vg_fentry && map != skel->maps.vg_fentry_ends &&
		    map != skel->maps.vg_sys_regs && map != skel->maps.vg_compat && map != skel->maps.vg_spf_chains &&
		    map != skel->maps.vg_spf_hooks && map != skel->maps.vg_spf_quick && map != skel->maps.vg_fentry_fast)
			bpf_map__set_autocreate(map, false);
	err = dispatch_ref(skel->obj);
	if (err) {
		fentry_dispatch_bpf__destroy(skel);
		snprintf(why, why_size, "the dispatcher's tables: %s", strerror(-err));
		errno = -err;
		return NULL;
	}
	skel->rodata->target = i;
	if (quick) {
		/* the slot it goes in (the attached instance's), not a table of its own */
		skel->rodata->specialised = 1;
		memcpy((void *)&skel->rodata->quick, quick, sizeof(*quick));
		sel_table(quick, (uint32_t *)skel->rodata->sel_need);
		err = bpf_map__reuse_fd(skel->maps.vg_fentry_fast, bpf_map__fd(f.t[i].skel->maps.vg_fentry_fast));
	}
	err = err ?: bpf_program__set_attach_target(skel->progs.fentry_dispatch, 0, fn) ?: fentry_dispatch_bpf__load(skel);
	if (err) {
		fentry_dispatch_bpf__destroy(skel);
		dispatch_unref();
		snprintf(why, why_size, "load the fentry dispatcher of %s: %s", fn, strerror(-err));
		errno = -err;
		return NULL;
	}
	return skel;
}

/* Target i's program on fn, loaded, not attached. 0 or -errno. */
static int load(unsigned int i, const char *fn, char *why, size_t why_size)
{
	if (f.t[i].skel)
		return 0;
	f.t[i].skel = load_instance(i, fn, NULL, why, why_size);
	if (!f.t[i].skel)
		return -errno;
	snprintf(f.t[i].fn, sizeof(f.t[i].fn), "%s", fn);
	return 0;
}

/* Target i's specialised instance for its chain as it is now, in vg_fentry_fast (the old one
 * dropped first); none while the chain has no quick test, or a hook without a row (it runs
 * whatever the rows say: the generic walk answers those). x86 only: elsewhere no row is
 * evaluated. With the lock. */
static void fast_load(unsigned int i)
{
	struct fentry_target *t = &f.t[i];
	struct vg_spf_quick q;
	uint32_t zero = 0;
	char why[160];
	int fd;

	fast_drop(t);
#if defined(__x86_64__)
	if (!t->skel || !t->in || !dispatch_prefilter_quick_of((int)i, &q))
		return;
	q.none &= t->in;	/* of the slots without a row, those that hold a hook */
	if (q.none)
		return;
	t->fast = load_instance(i, t->fn, &q, why, sizeof(why));
	if (!t->fast) {
		pr_warn("sensors: %s (its rows are walked)", why);
		return;
	}
	fd = bpf_program__fd(t->fast->progs.fentry_dispatch);
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.vg_fentry_fast), &zero, &fd, BPF_ANY)) {
		pr_warn("sensors: fentry dispatcher of %s: its specialised quick test: %s (its rows are walked)", t->fn,
			strerror(errno));
		fentry_dispatch_bpf__destroy(t->fast);
		t->fast = NULL;
		dispatch_unref();
	}
#else
	(void)q, (void)zero, (void)why, (void)fd;
#endif
}

int fentry_dispatch_reserve(int nr, const char *fn, char *why, size_t why_size)
{
	int slot, err;

	if (nr < 0 || nr >= VG_SYSCALL_SLOTS) {
		snprintf(why, why_size, "syscall number %d is outside the fentry dispatcher's table", nr);
		return -ERANGE;
	}
	pthread_mutex_lock(&f.lock);
	/* the raw_syscalls dispatcher's slot space: a slot names one hook of the syscall in both,
	 * and so its prefilter row (dispatch_prefilter_add) */
	slot = dispatch_reserve(nr);
	if (slot < 0) {
		snprintf(why, why_size, "%s has %d hooks in its dispatchers already", fn, VG_SYSCALL_CHAIN);
		goto out;
	}
	err = load((unsigned int)nr, fn, why, why_size);
	if (err) {
		dispatch_release(nr, slot);
		slot = err;
		goto out;
	}
	f.taken[nr] |= (uint16_t)(1u << slot);
out:
	pthread_mutex_unlock(&f.lock);
	return slot;
}

void fentry_dispatch_release(int nr, int slot)
{
	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || slot < 0 || slot >= VG_SYSCALL_CHAIN)
		return;
	pthread_mutex_lock(&f.lock);
	f.taken[nr] &= (uint16_t)~(1u << slot);
	dispatch_release(nr, slot);
	if (!f.taken[nr])
		unload(&f.t[nr]);
	pthread_mutex_unlock(&f.lock);
}

/* Target i's chain ends after its last filled slot (vg_fentry_ends); with the lock. */
static void set_end(unsigned int i)
{
	uint32_t end = 0;
	int k;

	for (k = 0; k < VG_SYSCALL_CHAIN; k++)
		if (f.t[i].in & (1u << k))
			end = (uint32_t)k + 1;
	if (bpf_map_update_elem(bpf_map__fd(f.t[i].skel->maps.vg_fentry_ends), &i, &end, BPF_ANY))
		pr_warn("sensors: fentry dispatcher chain end of target %u: %s", i, strerror(errno));
}

/* Slot k of target i emptied; the dispatcher detached when none is left. With the lock. */
static void take_out(unsigned int i, int k)
{
	struct fentry_target *t = &f.t[i];
	uint32_t key = i * VG_SYSCALL_CHAIN + (uint32_t)k;

	if (!t->skel || !(t->in & (1u << k)))
		return;
	bpf_map_delete_elem(bpf_map__fd(t->skel->maps.vg_fentry), &key);
	t->in &= (uint16_t)~(1u << k);
	set_end(i);
	if (!t->in) {
		/* no hook left: no program on the function, no trampoline on the syscall */
		bpf_link__destroy(t->link);
		t->link = NULL;
	}
}

/* prog_fd into slot k of target i, its dispatcher attached after (the hook runs from the
 * dispatcher's first call on). 0 or -errno. With the lock. */
static int put(unsigned int i, int k, int prog_fd)
{
	struct fentry_target *t = &f.t[i];
	uint32_t key = i * VG_SYSCALL_CHAIN + (uint32_t)k;
	int err;

	if (!t->skel)
		return -ENODEV;
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.vg_fentry), &key, &prog_fd, BPF_ANY))
		return -errno;
	t->in |= (uint16_t)(1u << k);
	set_end(i);
	if (t->link)
		return 0;
	t->link = bpf_program__attach(t->skel->progs.fentry_dispatch);
	if (t->link)
		return 0;
	err = -errno;
	take_out(i, k);
	return err;
}

int fentry_dispatch_add(int nr, int slot, int prog_fd, const struct vg_hook_config *cfg, char *why, size_t why_size)
{
	int err;

	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || slot < 0 || slot >= VG_SYSCALL_CHAIN)
		return -ERANGE;
	pthread_mutex_lock(&f.lock);
	/* the specialised quick test out first: it knows nothing of the hook, and may reject
	 * calls for the slot it held before (one removed since) */
	fast_drop(&f.t[nr]);
	/* the row first: a dispatcher that tail-calls the hook runs its prefilter too (a hook
	 * without one always runs) */
	dispatch_prefilter_add(nr, slot, cfg);
	err = put((unsigned int)nr, slot, prog_fd);
	if (err) {
		snprintf(why, why_size, "add to the fentry dispatcher of syscall %d: %s", nr, strerror(-err));
		dispatch_prefilter_remove(nr, slot);
	}
	fast_load((unsigned int)nr);
	pthread_mutex_unlock(&f.lock);
	return err;
}

void fentry_dispatch_remove(int nr, int slot)
{
	if (nr < 0 || nr >= VG_SYSCALL_SLOTS || slot < 0 || slot >= VG_SYSCALL_CHAIN)
		return;
	pthread_mutex_lock(&f.lock);
	fast_drop(&f.t[nr]);
	take_out((unsigned int)nr, slot);
	dispatch_prefilter_remove(nr, slot);
	fast_load((unsigned int)nr);
	pthread_mutex_unlock(&f.lock);
}
