/* loader.c - the process lifecycle programs: open, size, choose the mechanism, load,
 * attach, and the maps user space reads and seeds. */
#include <errno.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "loader_maps.h"
#include "events/events.h"
#include "loader_internal.h"
#include "process.h"
#include "process.skel.h"

/* 4 MiB: the reader wakes at least every --wakeup-us (2 ms) while records come, so this
 * holds ~100 ms of a 50k/s storm's records with the reader descheduled; its data pages are
 * mapped twice, so it is 8 MiB of the agent's RSS */
#define DEFAULT_RINGBUF_BYTES (4u << 20)
#define DEFAULT_EXEC_ENTRIES 32768u
#define DEFAULT_WAKEUP_BATCH 64u
#define DEFAULT_WAKEUP_US 2000

struct vigil_loader {
	struct process_bpf *skel;
	const char *mechanism;
	int ncpus;
	uint64_t wakeup_ns;	/* the time bound of wake-ups in effect; 0: none */
	volatile uint64_t *poll_by;	/* vg_reader's value, mapped; NULL: not mapped */
};

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Autoload exactly one set of wrappers: tp_btf where the kernel has it, else raw_tp. */
static int choose_mechanism(struct vigil_loader *l, const struct vigil_probe_report *probe)
{
	struct process_bpf *s = l->skel;
	bool btf = probe->mech[VIGIL_MECH_TP_BTF].ok;

	if (!btf && !probe->mech[VIGIL_MECH_RAW_TP].ok) {
		pr_warn("loader: no tracepoint mechanism for the process programs: tp_btf %s; raw_tp %s",
			probe->mech[VIGIL_MECH_TP_BTF].reason, probe->mech[VIGIL_MECH_RAW_TP].reason);
		return -EOPNOTSUPP;
	}
	bpf_program__set_autoload(s->progs.tp_btf_exec, btf);
	bpf_program__set_autoload(s->progs.tp_btf_fork, btf);
	bpf_program__set_autoload(s->progs.tp_btf_exit, btf);
	bpf_program__set_autoload(s->progs.raw_tp_exec, !btf);
	bpf_program__set_autoload(s->progs.raw_tp_fork, !btf);
	bpf_program__set_autoload(s->progs.raw_tp_exit, !btf);
	l->mechanism = btf ? "tp_btf" : "raw_tp";
	return 0;
}

/* The exec, fork and exit links, pinned: the pinned policies' matchBinaries keep reading a
 * current exec map while no agent runs. */
static int pin_links(struct vigil_loader *l, const char *dir)
{
	struct process_bpf *s = l->skel;
	struct bpf_link *links[] = {s->links.tp_btf_exec, s->links.tp_btf_fork, s->links.tp_btf_exit,
				    s->links.raw_tp_exec, s->links.raw_tp_fork, s->links.raw_tp_exit};
	static const char *const names[] = {"process_exec", "process_fork", "process_exit",
					    "process_exec", "process_fork", "process_exit"};
	size_t i;
	int err;

	for (i = 0; i < VIGIL_ARRAY_SIZE(links); i++) {
		if (!links[i])
			continue;	/* the mechanism not chosen */
		err = vigil_pin_link(links[i], dir, names[i]);
		if (err)
			return err;
	}
	return 0;
}

/* Every CPU's slot of vg_wake: no wake-up yet, the time bound (0: none). Before the
 * programs attach, so no record sees a slot without it. */
static int set_wakeup_bound(struct vigil_loader *l, uint64_t bound_ns)
{
	struct vigil_wake *slots = calloc(l->ncpus, sizeof(*slots));
	uint32_t zero = 0;
	int cpu, err = 0;

	if (!slots)
		return -ENOMEM;
	for (cpu = 0; cpu < l->ncpus; cpu++)
		slots[cpu].bound_ns = bound_ns;
	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.vg_wake), &zero, slots, BPF_ANY))
		err = -errno;
	free(slots);
	return err;
}

/* vg_reader's one value, mapped for vigil_loader__set_poll_by; without it (mapping refused)
 * the kernel's wake-ups go by their rules alone, as before there was a reader's promise. */
static void map_reader(struct vigil_loader *l)
{
	void *p = mmap(NULL, (size_t)getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(l->skel->maps.vg_reader), 0);

	if (p == MAP_FAILED) {
		pr_warn("loader: cannot map vg_reader (%s): every record after a wake-up's bound wakes the reader",
			strerror(errno));
		return;
	}
	l->poll_by = p;
}

void vigil_loader__set_poll_by(struct vigil_loader *l, uint64_t mono_ns)
{
	if (l->poll_by)
		__atomic_store_n(l->poll_by, mono_ns, __ATOMIC_RELAXED);
}

/* opts with the defaults where it leaves a field 0 (opts may be NULL). */
static struct vigil_loader_opts with_defaults(const struct vigil_loader_opts *opts)
{
	struct vigil_loader_opts o = {
		.ringbuf_bytes = DEFAULT_RINGBUF_BYTES,
		.exec_map_entries = DEFAULT_EXEC_ENTRIES,
		.wakeup_batch = DEFAULT_WAKEUP_BATCH,
	};

	if (opts) {
		if (opts->ringbuf_bytes)
			o.ringbuf_bytes = opts->ringbuf_bytes;
		if (opts->exec_map_entries)
			o.exec_map_entries = opts->exec_map_entries;
		if (opts->wakeup_batch)
			o.wakeup_batch = opts->wakeup_batch;
		o.pin_dir = opts->pin_dir;
		o.env_max = opts->env_max;
		o.cgroup_rate_events = opts->cgroup_rate_events;
		o.cgroup_rate_interval_ns = opts->cgroup_rate_interval_ns;
		o.wakeup_us = opts->wakeup_us;
	}
	if (!o.wakeup_us)
		o.wakeup_us = DEFAULT_WAKEUP_US;
	return o;
}

struct vigil_loader *vigil_loader__open(const struct vigil_loader_opts *opts, const struct vigil_probe_report *probe)
{
	struct vigil_loader_opts o = with_defaults(opts);
	struct vigil_loader *l;
	int err;

	if (!is_pow2(o.ringbuf_bytes) || o.ringbuf_bytes < (uint32_t)getpagesize()) {
		pr_warn("loader: ring buffer size %u is not a power of two >= page size", o.ringbuf_bytes);
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	loader_libbpf_print(false);
	l->ncpus = libbpf_num_possible_cpus();

	l->skel = process_bpf__open();
	if (!l->skel) {
		err = -errno;
		pr_warn("loader: cannot open the process programs: %s", strerror(-err));
		goto err_out;
	}
	err = choose_mechanism(l, probe);
	if (err)
		goto err_out;
	bpf_map__set_max_entries(l->skel->maps.vg_events, o.ringbuf_bytes);
	bpf_map__set_max_entries(l->skel->maps.vg_execs, o.exec_map_entries);
	l->skel->rodata->wakeup_batch = o.wakeup_batch;
	l->skel->rodata->env_max = o.env_max < VIGIL_ENV_MAX ? o.env_max : VIGIL_ENV_MAX - 1;
	l->skel->rodata->cgroup_rate_events = o.cgroup_rate_events;
	l->skel->rodata->cgroup_rate_interval = o.cgroup_rate_interval_ns;
	pr_info("loader: ring buffer %u bytes, exec map %u entries (%zu bytes each), wake-up every %u records "
		"or %d us", o.ringbuf_bytes, o.exec_map_entries, sizeof(struct vigil_exec_entry), o.wakeup_batch,
		o.wakeup_us);

	err = process_bpf__load(l->skel);
	if (err) {
		pr_warn("loader: cannot load the process programs (%s): %s", l->mechanism, strerror(-err));
		goto err_out;
	}
	l->wakeup_ns = o.wakeup_us < 0 ? 0 : (uint64_t)o.wakeup_us * 1000;
	err = set_wakeup_bound(l, l->wakeup_ns);
	if (err) {
		pr_warn("loader: cannot set the wake-up bound: %s", strerror(-err));
		goto err_out;
	}
	map_reader(l);
	err = process_bpf__attach(l->skel);
	if (err) {
		pr_warn("loader: cannot attach the process programs (%s): %s", l->mechanism, strerror(-err));
		goto err_out;
	}
	pr_info("loader: process programs attached with %s", l->mechanism);
	if (o.pin_dir) {
		err = pin_links(l, o.pin_dir);
		if (err)
			goto err_out;
	}
	return l;

err_out:
	vigil_loader__close(l);
	errno = -err;
	return NULL;
}

void vigil_loader__close(struct vigil_loader *l)
{
	if (!l)
		return;
	if (l->poll_by)
		munmap((void *)l->poll_by, (size_t)getpagesize());
	process_bpf__destroy(l->skel);
	free(l);
}

const char *vigil_loader__mechanism(const struct vigil_loader *l)
{
	return l->mechanism;
}

uint64_t vigil_loader__wakeup_ns(const struct vigil_loader *l)
{
	return l->wakeup_ns;
}

int vigil_loader__ringbuf_fd(const struct vigil_loader *l)
{
	return bpf_map__fd(l->skel->maps.vg_events);
}

int vigil_loader__execs_fd(const struct vigil_loader *l)
{
	return bpf_map__fd(l->skel->maps.vg_execs);
}

int vigil_loader__scopes_fd(const struct vigil_loader *l)
{
	return bpf_map__fd(l->skel->maps.vg_scopes);
}

int vigil_loader__cgrate_fd(const struct vigil_loader *l)
{
	return bpf_map__fd(l->skel->maps.vg_cgrate);
}

uint64_t vigil_loader__execs_count(const struct vigil_loader *l)
{
	int fd = vigil_loader__execs_fd(l);
	uint32_t key, next;
	uint64_t n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

int vigil_loader__seed(struct vigil_loader *l, const struct vigil_process *p, uint64_t *ktime_out)
{
	struct vigil_exec_entry e = {
		.ktime = p->ktime,
		.pktime = p->pktime,
		.ppid = p->ppid,
		.flags = VIGIL_KF_EXECVE | VIGIL_KF_PROCFS,
		.caps = {p->caps.permitted, p->caps.effective, p->caps.inheritable},
	};
	int fd = vigil_loader__execs_fd(l);
	size_t len = strlen(p->binary), k;

	if (len > sizeof(e.binary) - 1)
		len = sizeof(e.binary) - 1;
	memcpy(e.binary, p->binary, len);
	e.binary_len = (uint32_t)len;
	for (k = 0; k < VIGIL_NS_SLOTS && k < VIGIL_NS_COUNT; k++)
		e.ns[k] = p->ns[k];
	if (!bpf_map_update_elem(fd, &p->pid, &e, BPF_NOEXIST))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (ktime_out && !bpf_map_lookup_elem(fd, &p->pid, &e))
		*ktime_out = e.ktime;
	return -EEXIST;
}

int vigil_loader__unseed(struct vigil_loader *l, const struct vigil_process *p)
{
	int fd = vigil_loader__execs_fd(l);
	struct vigil_exec_entry e;

	if (bpf_map_lookup_elem(fd, &p->pid, &e))
		return -errno;
	if (!(e.flags & VIGIL_KF_PROCFS) || e.ktime != p->ktime)
		return -ENOENT;		/* the kernel's own entry: a new process took the pid */
	return bpf_map_delete_elem(fd, &p->pid) ? -errno : 0;
}

int vigil_loader__counters(const struct vigil_loader *l, struct vigil_kernel_counters *out)
{
	uint64_t *vals = calloc(l->ncpus, sizeof(uint64_t));
	uint64_t sums[VIGIL_KERR_MAX] = {0};
	int fd = bpf_map__fd(l->skel->maps.vg_errors);
	uint32_t key;
	int cpu, err = 0;

	if (!vals)
		return -ENOMEM;
	for (key = 0; key < VIGIL_KERR_MAX; key++) {
		if (bpf_map_lookup_elem(fd, &key, vals)) {
			err = -errno;
			break;
		}
		for (cpu = 0; cpu < l->ncpus; cpu++)
			sums[key] += vals[cpu];
	}
	free(vals);
	out->ringbuf_full = sums[VIGIL_KERR_RINGBUF_FULL];
	out->execs_full = sums[VIGIL_KERR_EXECS_FULL];
	out->path_read = sums[VIGIL_KERR_PATH_READ];
	out->args_read = sums[VIGIL_KERR_ARGS_READ];
	out->pending_full = sums[VIGIL_KERR_PENDING_FULL];
	out->ringbuf_full_exec = sums[VIGIL_KERR_RINGBUF_FULL_EXEC];
	out->signal_failed = sums[VIGIL_KERR_SIGNAL_FAILED];
	out->stack_no_room = sums[VIGIL_KERR_STACK_NO_ROOM];
	out->env_truncated = sums[VIGIL_KERR_ENV_TRUNCATED];
	out->throttled_exec = sums[VIGIL_KERR_THROTTLED_EXEC];
	out->throttled_exit = sums[VIGIL_KERR_THROTTLED_EXIT];
	out->throttled_clone = sums[VIGIL_KERR_THROTTLED_CLONE];
	out->set_failed = sums[VIGIL_KERR_SET_FAILED];
	out->ima_hash_failed = sums[VIGIL_KERR_IMA_HASH_FAILED];
	return err;
}

int vigil_loader__reuse_shared_maps(const struct vigil_loader *l, struct bpf_object *obj)
{
	static const char *const shared[] = {"vg_events", "vg_execs", "vg_errors", "vg_wake", "vg_reader", "vg_scopes",
					     "vg_socks", "vg_exec_path"};
	size_t i;
	int err;

	for (i = 0; i < VIGIL_ARRAY_SIZE(shared); i++) {
		struct bpf_map *mine = bpf_object__find_map_by_name(obj, shared[i]);
		struct bpf_map *theirs = bpf_object__find_map_by_name(l->skel->obj, shared[i]);

		if (!mine || !theirs)
			continue;
		err = bpf_map__reuse_fd(mine, bpf_map__fd(theirs));
		if (err)
			return err;
	}
	return 0;
}
