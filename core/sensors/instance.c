/* instance.c - load one compiled hook as its own instance of bpf/generic.bpf.c: shared
 * maps reused, read-only config set, maps sized to what the selectors need and filled,
 * the one program for the mechanism loaded and attached. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/common.h"
#include "loader/loader_maps.h"
#include "sensors_internal.h"	/* generic.h: the skeleton's config type */
#include "generic.skel.h"

struct sensor {
	struct generic_bpf *skel;
	struct bpf_program *prog;
	struct bpf_program *prog2;	/* cgroup connect: the IPv6 twin; return probes: the exit */
	struct bpf_link *link;
	struct bpf_link *link2;
	/* a syscall hook's i386 wrappers (compiled_hook.ia32_target): trampolines take programs
	 * of their own, one a wrapper, a kprobe the same ones */
	char ia32_target[VG_IA32_WRAPPERS][64];
	size_t nia32;
	struct bpf_program *prog_ia32[VG_IA32_WRAPPERS], *prog2_ia32[VG_IA32_WRAPPERS];
	struct bpf_link *link_ia32[VG_IA32_WRAPPERS], *link2_ia32[VG_IA32_WRAPPERS];
	enum sensor_mech mech;
	char target[128];
	char subsys[64];
	char path[256];
	uint64_t offset;	/* uprobes without a symbol */
	uint64_t ref_ctr_offset;
	bool is_return;
	bool second_first;	/* prog2 attached before prog: a return probe's exit, imaHash's */
	bool keep_pins;		/* freed at shutdown under --keep-enforcing: the pins outlive us */
	bool dispatch_ref;	/* the instance's tables are the dispatcher's (dispatch_ref) */
	int nr;			/* the dispatcher: syscall number and slot; slot -1: not in it */
	char alone[200];	/* a dispatcher hook alone on raw_syscalls: why ("": it is not) */
	int slot;		/* (MECH_FENTRY_DISPATCH: the slot in its syscall's fentry chain) */
	bool in_table;		/* attached: in the dispatcher's table */
	int dir;		/* its program's table: 0 entry, 1 exit (a syscalls:sys_exit_X hook) */
	struct tpchain *chain;	/* a raw tracepoint's: its chain (tpchain.c), NULL alone */
	int chain_slot;
	bool in_chain;		/* attached: its program in the chain */
	const struct compiled_hook *fan_hook;	/* MECH_FANOTIFY: no program; the watch */
	struct fanwatch *fan;
	int execs_fd;		/* the opener's incarnation, looked up when its open is read */
};

static struct bpf_program *mech_program(struct generic_bpf *skel, enum sensor_mech m)
{
	switch (m) {
	case MECH_RAW_SYSCALL_TP_BTF: return skel->progs.generic_tp_btf_sys_enter;
	case MECH_RAW_SYSCALL_RAW_TP: return skel->progs.generic_raw_tp_sys_enter;
	case MECH_TRACEPOINT: return skel->progs.generic_tracepoint;
	case MECH_TP_BTF:
	case MECH_TP_BTF_CHAIN: return skel->progs.generic_tp_btf;
	case MECH_KPROBE: return skel->progs.generic_kprobe;
	case MECH_FENTRY:
	case MECH_FEXIT: return skel->progs.generic_fentry;	/* retargeted below */
	case MECH_FENTRY_DISPATCH: return skel->progs.generic_fentry_dispatched;	/* never compiled */
	case MECH_FMOD_RET: return skel->progs.generic_fmod_ret;
	case MECH_LSM: return skel->progs.generic_lsm;
	case MECH_UPROBE: return skel->progs.generic_uprobe;
	case MECH_USDT: return skel->progs.generic_usdt;
	case MECH_CGROUP_CONNECT: return skel->progs.generic_connect4;
	case MECH_SYSCALL_TRACEPOINT: return skel->progs.generic_tracepoint;
	case MECH_RAW_SYSCALL_DISPATCH: return skel->progs.generic_raw_tp_sys_enter;
	case MECH_FANOTIFY: return NULL;
	}
	return NULL;
}

/* The program that runs beside the main one: connect6 for cgroup connect, the exit for
 * return probes; NULL for the rest. */
static struct bpf_program *second_program(struct generic_bpf *skel, const struct compiled_hook *h)
{
	if (h->mech == MECH_CGROUP_CONNECT)
		return skel->progs.generic_connect6;
	if (h->mech == MECH_LSM && h->cfg.ima_from)
		return skel->progs.generic_lsm_ima;	/* imaHash */
	if (!h->cfg.is_return)
		return NULL;
	switch (h->mech) {
	case MECH_RAW_SYSCALL_TP_BTF: return skel->progs.generic_tp_btf_sys_exit;
	case MECH_RAW_SYSCALL_RAW_TP: return skel->progs.generic_raw_tp_sys_exit;
	case MECH_RAW_SYSCALL_DISPATCH: return skel->progs.generic_tp_btf_sys_exit;	/* the exit table's kind */
	case MECH_FENTRY:
	case MECH_FMOD_RET: return skel->progs.generic_fexit;
	case MECH_KPROBE: return skel->progs.generic_kretprobe;
	case MECH_UPROBE: return skel->progs.generic_uretprobe;
	case MECH_SYSCALL_TRACEPOINT: return skel->progs.generic_tracepoint_sys_exit;
	default: return NULL;
	}
}

static int fill_map(struct bpf_map *map, const struct key_list *keys)
{
	uint8_t one = 1;
	size_t i;

	for (i = 0; i < keys->n; i++)
		if (bpf_map_update_elem(bpf_map__fd(map), (char *)keys->keys + i * keys->size, &one, BPF_ANY))
			return -errno;
	return 0;
}

/* Exactly what the selectors need, plus room for run-time list additions when a list
 * feeds the map. */
static void size_map(struct bpf_map *map, const struct key_list *keys, bool grows)
{
	size_t n = keys->n + (grows ? LIST_HEADROOM : 0);

	bpf_map__set_max_entries(map, n ? (uint32_t)n : 1);
}

static bool has_list(const struct compiled_hook *h, uint8_t kind)
{
	size_t i;

	for (i = 0; i < h->nlists; i++)
		if (h->lists[i].kind == kind)
			return true;
	return false;
}

/* SubString's (filter, k) -> value entries into str_sub. */
static int fill_substrings(struct bpf_map *map, const struct key_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct substring_entry *e = (const struct substring_entry *)((const char *)l->keys + i * l->size);

		if (bpf_map_update_elem(bpf_map__fd(map), &e->key, &e->value, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* The instance's object: generic.bpf.c built for the hook's mechanism alone (variants.c),
 * or for hooks with SubString its twin built with the bpf_strnstr kfunc
 * (bpf/generic_strnstr.bpf.c, every mechanism in it: such hooks are rare). Both have
 * generic.bpf.c's maps, program names and data, so its skeleton serves them: only the ELF
 * bytes change. */
static const void *hook_elf(const struct compiled_hook *h, size_t *size)
{
	bool raw_tp = h->mech == MECH_RAW_SYSCALL_DISPATCH || h->mech == MECH_RAW_SYSCALL_RAW_TP;

	if (h->uses_strnstr)
		return sensor_strnstr_elf(size);
	/* an entry hook runs one program: libbpf keeps every whole one of an open object */
	if (raw_tp && !h->cfg.is_return && h->cfg.fetch != VG_FETCH_SYSCALL_EXIT)
		return sensor_raw_tp_entry_elf(size);
	return sensor_variant_elf(h->mech, size);
}

static struct generic_bpf *open_generic(const struct compiled_hook *h)
{
	struct generic_bpf *obj;
	size_t size = 0;
	const void *elf;
	int err;

	elf = hook_elf(h, &size);
	if (!elf) {
		errno = EINVAL;
		return NULL;
	}
	obj = calloc(1, sizeof(*obj));
	if (!obj)
		return NULL;
	err = generic_bpf__create_skeleton(obj);
	if (!err) {
		obj->skeleton->data = (void *)elf;
		obj->skeleton->data_sz = size;
		err = bpf_object__open_skeleton(obj->skeleton, NULL);
	}
	if (err) {
		generic_bpf__destroy(obj);
		errno = -err;
		return NULL;
	}
	return obj;
}

/* The selector value maps sized for what the hook's selectors hold (size_map). */
static void size_selector_maps(struct generic_bpf *skel, const struct compiled_hook *h)
{
	size_map(skel->maps.str_eq, &h->str_eq, has_list(h, VG_F_STR_EQ));
	size_map(skel->maps.str_prefix, &h->str_prefix, false);
	size_map(skel->maps.str_postfix, &h->str_postfix, false);
	size_map(skel->maps.int_set, &h->int_set, has_list(h, VG_F_INT_MAP) || has_list(h, VG_F_FILE_ID));
	size_map(skel->maps.addr4, &h->addr4, false);
	size_map(skel->maps.addr6, &h->addr6, false);
	size_map(skel->maps.str_sub, &h->str_sub, false);
}

/* ...and filled once loaded. 0 or -errno. */
static int fill_selector_maps(struct generic_bpf *skel, const struct compiled_hook *h)
{
	return fill_map(skel->maps.str_eq, &h->str_eq) ?: fill_map(skel->maps.str_prefix, &h->str_prefix) ?:
	       fill_map(skel->maps.str_postfix, &h->str_postfix) ?: fill_map(skel->maps.int_set, &h->int_set) ?:
	       fill_map(skel->maps.addr4, &h->addr4) ?: fill_map(skel->maps.addr6, &h->addr6) ?:
	       fill_substrings(skel->maps.str_sub, &h->str_sub);
}

/* The i386 wrappers' trampoline programs on their targets (fexit: the whole hook at the
 * return, the entry program retargeted). 0 or -errno. */
static int set_ia32_targets(struct sensor *s, bool fexit)
{
	int err = 0;
	size_t i;

	for (i = 0; i < s->nia32 && !err; i++) {
		if (fexit)
			bpf_program__set_expected_attach_type(s->prog_ia32[i], BPF_TRACE_FEXIT);
		err = bpf_program__set_attach_target(s->prog_ia32[i], 0, s->ia32_target[i]);
		if (!err && s->prog2_ia32[i])
			err = bpf_program__set_attach_target(s->prog2_ia32[i], 0, s->ia32_target[i]);
	}
	return err;
}

/* The BTF target of the mechanisms that attach by BTF id. 0 or -errno. */
static int set_attach_target(struct sensor *s, const struct compiled_hook *h)
{
	int err;

	switch (h->mech) {
	case MECH_FENTRY:
	case MECH_FMOD_RET:
		err = bpf_program__set_attach_target(s->prog, 0, h->target);
		if (!err && s->prog2)
			err = bpf_program__set_attach_target(s->prog2, 0, h->target);
		return err ?: set_ia32_targets(s, false);
	case MECH_LSM:
		err = bpf_program__set_attach_target(s->prog, 0, h->target);
		if (!err && s->prog2)
			err = bpf_program__set_attach_target(s->prog2, 0, h->target);
		return err;
	case MECH_TP_BTF:
		return bpf_program__set_attach_target(s->prog, 0, h->target);
	case MECH_FEXIT:	/* the whole hook at the function's return, not a return probe */
		bpf_program__set_expected_attach_type(s->prog, BPF_TRACE_FEXIT);
		err = bpf_program__set_attach_target(s->prog, 0, h->target);
		return err ?: set_ia32_targets(s, true);
	default:
		return 0;
	}
}

/* A raw_syscalls hook's slot in the dispatcher's table, in the rodata the load freezes;
 * without one it attaches alone on raw_syscalls, and s->alone says why. */
static void take_dispatch_slot(struct sensor *s, const struct compiled_hook *h)
{
	char failed[160];
	int slot = -1;

	s->nr = h->cfg.syscall_nr;
	if (s->dispatch_ref && !h->attach_alone)
		slot = dispatch_reserve(s->nr);
	if (slot >= 0)
		s->slot = slot;
	else if (!s->dispatch_ref && dispatch_failure(failed, sizeof(failed)))
		snprintf(s->alone, sizeof(s->alone), "the raw_syscalls dispatcher did not load (%.150s)", failed);
	else if (!s->dispatch_ref)
		snprintf(s->alone, sizeof(s->alone), "the raw_syscalls dispatcher's tables could not be shared");
	else if (h->attach_alone)
		snprintf(s->alone, sizeof(s->alone), "the hook is pinned by --keep-enforcing (a pin holds a link of "
			 "its own; a slot in the dispatcher's table is not one)");
	else if (slot == -ENOSPC)
		snprintf(s->alone, sizeof(s->alone), "its syscall's %d slots in the dispatcher's table are taken",
			 VG_SYSCALL_CHAIN);
	else
		snprintf(s->alone, sizeof(s->alone), "no slot in the dispatcher's table: %s", strerror(-slot));
	if (s->slot < 0)
		s->mech = MECH_RAW_SYSCALL_RAW_TP;
	s->skel->rodata->cfg.dispatch_slot = s->slot < 0 ? 0 : (uint32_t)s->slot + 1;
}

/* generic_<kind>_ia32[_i] of bpf/generic.bpf.c's VG_IA32_PROGRAMS */
static struct bpf_program *ia32_program(struct sensor *s, const char *kind, size_t i)
{
	char name[64];

	snprintf(name, sizeof(name), i ? "generic_%s_ia32_%zu" : "generic_%s_ia32", kind, i);
	return bpf_object__find_program_by_name(s->skel->obj, name);
}

/* The programs for the hook's i386 wrappers: a kprobe's are its own, a trampoline's copies. */
static void choose_ia32_programs(struct sensor *s, const struct compiled_hook *h)
{
	bool kprobe = h->mech == MECH_KPROBE;
	size_t i;

	if (!kprobe && h->mech != MECH_FENTRY && h->mech != MECH_FEXIT && h->mech != MECH_FMOD_RET)
		return;
	for (i = 0; i < VG_IA32_WRAPPERS && h->ia32_target[i][0]; i++) {
		snprintf(s->ia32_target[i], sizeof(s->ia32_target[i]), "%s", h->ia32_target[i]);
		s->prog_ia32[i] = kprobe ? s->prog : ia32_program(s, h->mech == MECH_FMOD_RET ? "fmod_ret" : "fentry", i);
		if (s->prog2)
			s->prog2_ia32[i] = kprobe ? s->prog2 : ia32_program(s, "fexit", i);
	}
	s->nia32 = i;
}

static bool is_ia32_program(const struct sensor *s, const struct bpf_program *p)
{
	size_t i;

	for (i = 0; i < s->nia32; i++)
		if (p == s->prog_ia32[i] || p == s->prog2_ia32[i])
			return true;
	return false;
}

/* A raw tracepoint's hook joins its tracepoint's chain (not when pinned: the pin holds a
 * link of its own); alone, its chain maps shrink to nothing. */
static void join_chain(struct sensor *s, const struct compiled_hook *h)
{
	struct generic_bpf *k = s->skel;
	int slot = -1;

	if (h->mech == MECH_TP_BTF && !h->attach_alone)
		slot = tpchain_join(h->target, k->obj, &s->chain);
	if (slot < 0) {
		s->chain = NULL;
		bpf_map__set_max_entries(k->maps.vg_tp_chain, 1);
		bpf_map__set_max_entries(k->maps.vg_tp_run, 1);
		return;
	}
	s->chain_slot = slot;
	s->mech = MECH_TP_BTF_CHAIN;
	k->rodata->cfg.chain_slot = (uint32_t)slot + 1;
	k->rodata->cfg.capture_sig = tpchain_capture_sig(&h->cfg);
}

/* An fentry hook on __x64_sys_X in that syscall's fentry dispatcher (fentry_dispatch.c): its
 * program becomes the one that goes on along the chain, its slot in the rodata; its i386
 * wrappers keep their programs. A hook that cannot have a slot keeps its own fentry program,
 * and says why. */
static void take_fentry_slot(struct sensor *s, const struct compiled_hook *h)
{
	char why[200];

	if (!sensor_fentry_dispatchable(h))
		return;
	if (!s->dispatch_ref) {
		pr_warn("sensors: %s keeps its own fentry program, not its syscall's dispatcher: the dispatcher's "
			"tables did not load", h->target);
		return;
	}
	s->nr = h->cfg.syscall_nr;
	s->slot = fentry_dispatch_reserve(s->nr, h->target, why, sizeof(why));
	if (s->slot < 0) {
		s->slot = -1;
		pr_warn("sensors: %s keeps its own fentry program, not its syscall's dispatcher: %s", h->target, why);
		return;
	}
	bpf_program__set_autoload(s->prog, false);
	s->prog = s->skel->progs.generic_fentry_dispatched;
	bpf_program__set_autoload(s->prog, true);
	s->mech = MECH_FENTRY_DISPATCH;
	s->skel->rodata->cfg.dispatch_slot = (uint32_t)s->slot + 1;
}

/* The hook's program (and its return or imaHash twin): only they load, and the maps only
 * they use are sized for them. */
static void choose_programs(struct sensor *s, const struct compiled_hook *h)
{
	struct bpf_program *p;

	s->prog = mech_program(s->skel, h->mech);
	if (h->cfg.fetch == VG_FETCH_SYSCALL_EXIT && h->mech != MECH_FEXIT) {
		/* syscalls:sys_exit_X in the dispatcher: its one program runs on the exit */
		s->prog = s->skel->progs.generic_tp_btf_sys_exit;
		s->dir = 1;
	}
	s->prog2 = second_program(s->skel, h);
	choose_ia32_programs(s, h);
	s->is_return = h->cfg.is_return;
	/* imaHash: generic_lsm_ima must run after generic_lsm, and the trampoline runs the
	 * program attached last first: it is attached first, as a return probe's exit is */
	s->second_first = h->cfg.is_return || (h->mech == MECH_LSM && h->cfg.ima_from);
	bpf_object__for_each_program(p, s->skel->obj)
		bpf_program__set_autoload(p, p == s->prog || p == s->prog2 || is_ia32_program(s, p));
	bpf_map__set_max_entries(s->skel->maps.pending, s->second_first ? VG_PENDING_MAX : 1);
	if (h->mech != MECH_USDT) {
		/* usdt.bpf.h's argument specs: only a USDT hook's are filled (by libbpf) */
		bpf_map__set_max_entries(s->skel->maps.__bpf_usdt_specs, 1);
		bpf_map__set_max_entries(s->skel->maps.__bpf_usdt_ip_to_spec_id, 1);
	}
}

/* The verifier's verdict, with why where the kernel is the reason. 0 or -errno. */
static int load_explained(struct sensor *s, const struct compiled_hook *h, char *why, size_t why_size)
{
	int err = generic_bpf__load(s->skel);

	if (err == -EINVAL && h->mech == MECH_FMOD_RET && strncmp(h->target, "security_", 9))
		/* the verifier lets fmod_ret change only security_* functions and those in the
		 * kernel's error-injection list, which is empty without CONFIG_FUNCTION_ERROR_INJECTION
		 * (Debian 12's cloud kernel): "%s() is not modifiable" */
		snprintf(why, why_size, "load (fmod_ret): %s: this kernel does not let BPF change %s's return%s%s "
			 "(not in its error-injection list: CONFIG_FUNCTION_ERROR_INJECTION)", strerror(-err), h->target,
			 s->nia32 ? " or that of its 32-bit wrapper " : "", s->nia32 ? s->ia32_target[0] : "");
	else if (err)
		snprintf(why, why_size, "load (%s): %s", sensor_mech_name(h->mech), strerror(-err));
	return err;
}

int sensor_load(const struct compiled_hook *h, const struct vigil_loader *loader, uint32_t wakeup_batch,
		struct sensor **out, char *why, size_t why_size)
{
	struct sensor *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->slot = -1;
	s->chain_slot = -1;
	s->mech = h->mech;
	snprintf(s->target, sizeof(s->target), "%s", h->target);
	snprintf(s->subsys, sizeof(s->subsys), "%s", h->subsys);
	snprintf(s->path, sizeof(s->path), "%s", h->path);
	s->offset = h->offset;
	s->ref_ctr_offset = h->ref_ctr_offset;
	if (h->mech == MECH_FANOTIFY) {
		s->fan_hook = h;	/* the marks are placed at attach */
		s->execs_fd = vigil_loader__execs_fd(loader);
		*out = s;
		return 0;
	}
	s->skel = open_generic(h);
	if (!s->skel) {
		err = -errno;
		snprintf(why, why_size, "open: %s", strerror(-err));
		goto err_out;
	}
	choose_programs(s, h);

	/* one ring buffer, one exec map, one set of counters for every program */
	err = vigil_loader__reuse_shared_maps(loader, s->skel->obj);
	if (err) {
		snprintf(why, why_size, "reuse shared maps: %s", strerror(-err));
		goto err_out;
	}
	/* the dispatcher's tables, so a raw_syscalls hook can be tail-called; other instances
	 * share them too rather than each creating two of its own. The fentry dispatchers'
	 * only where a hook may go there: a reused map is a descriptor held per instance. */
	if (!sensor_fentry_dispatchable(h)) {
		bpf_map__set_autocreate(s->skel->maps.vg_fentry, false);
		bpf_map__set_autocreate(s->skel->maps.vg_fentry_ends, false);
	}
	if (!dispatch_ref(s->skel->obj)) {
		s->dispatch_ref = true;
	} else {
		bpf_map__set_max_entries(s->skel->maps.vg_sys_enter, 1);
		bpf_map__set_max_entries(s->skel->maps.vg_sys_exit, 1);
		bpf_map__set_max_entries(s->skel->maps.vg_fentry, 1);
	}
	memcpy((void *)&s->skel->rodata->cfg, &h->cfg, sizeof(h->cfg));
	if (h->mech == MECH_RAW_SYSCALL_DISPATCH)
		take_dispatch_slot(s, h);
	else if (h->mech == MECH_FENTRY)
		take_fentry_slot(s, h);
	join_chain(s, h);
	s->skel->rodata->wakeup_batch = wakeup_batch;
	size_selector_maps(s->skel, h);
	err = set_attach_target(s, h);
	if (err) {
		snprintf(why, why_size, "attach target %s: %s", h->target, strerror(-err));
		goto err_out;
	}
	err = load_explained(s, h, why, why_size);
	if (err)
		goto err_out;
	err = fill_selector_maps(s->skel, h);
	if (err) {
		snprintf(why, why_size, "fill selector maps: %s", strerror(-err));
		goto err_out;
	}
	*out = s;
	return 0;

err_out:
	sensor_free(s);
	return err;
}

/* 1 when tracefs lists fn in available_filter_functions (ftrace, and with it kprobes and
 * trampolines, can patch its entry), 0 when it does not, -1 when the list cannot be read.
 * Read only to explain a failed attach. */
static int ftrace_traceable(const char *fn)
{
	static const char *const files[] = {
		"/sys/kernel/tracing/available_filter_functions",
		"/sys/kernel/debug/tracing/available_filter_functions",
	};
	size_t i, n = strlen(fn);
	char line[256];
	FILE *f = NULL;
	int found = 0;

	for (i = 0; i < VIGIL_ARRAY_SIZE(files) && !f; i++)
		f = fopen(files[i], "re");
	if (!f)
		return -1;
	/* "name" or "name [module]" */
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, fn, n) && (line[n] == '\n' || line[n] == ' ' || line[n] == '\0');
	fclose(f);
	return found;
}

/* connect4 and connect6 on the cgroup v2 root: every connect on the machine passes them. */
static int attach_cgroup(struct sensor *s, char *why, size_t why_size)
{
	char root[256];
	int fd, err;

	err = vigil_cgroup2_path(root, sizeof(root));
	if (err) {
		snprintf(why, why_size, "no cgroup v2 mount for the connect programs");
		return err;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_size, "open %s: %s", root, strerror(-err));
		return err;
	}
	s->link = bpf_program__attach_cgroup(s->prog, fd);
	err = s->link ? 0 : -errno;
	if (!err) {
		s->link2 = bpf_program__attach_cgroup(s->prog2, fd);
		err = s->link2 ? 0 : -errno;
	}
	close(fd);
	if (err) {
		snprintf(why, why_size, "attach cgroup connect programs at %s: %s", root, strerror(-err));
		sensor_detach(s);
	}
	return err;
}

/* why, for an attach the kernel refused with err. */
static void explain_attach_failure(const struct sensor *s, int err, char *why, size_t why_size)
{
	if (s->mech == MECH_USDT)
		snprintf(why, why_size, "attach usdt %s:%s in %s: %s", s->subsys, s->target, s->path, strerror(-err));
	else if (((err == -EBUSY && s->mech != MECH_KPROBE) || (err == -EINVAL && s->mech == MECH_KPROBE)) &&
		 ftrace_traceable(s->target) == 0)
		/* a function without an ftrace call site at its entry (notrace; every inline
		 * function is, so their out-of-line copies that BTF lists are too): the
		 * trampoline finds no nop to patch (bpf_arch_text_poke: EBUSY), and trace_kprobe
		 * refuses it ("Could not probe notrace function": EINVAL) */
		snprintf(why, why_size, "attach %s %s: %s (not in available_filter_functions: the kernel lets "
			 "neither kprobes nor trampolines patch a notrace function)", sensor_mech_name(s->mech),
			 s->target, strerror(-err));
	else if (err == -524)
		/* the kernel's internal ENOTSUPP, from arch_prepare_bpf_trampoline: x86-64's
		 * trampoline passes at most 6 arguments (Linux 6.1) */
		snprintf(why, why_size, "attach %s %s: ENOTSUPP (524: the kernel's trampoline cannot take this "
			 "function, e.g. one of more than 6 arguments)", sensor_mech_name(s->mech), s->target);
	else
		snprintf(why, why_size, "attach %s %s: %s", sensor_mech_name(s->mech), s->target, strerror(-err));
}

/* A raw_syscalls hook: its programs go in the dispatcher's table, the exit first. */
static int attach_in_dispatcher(struct sensor *s, char *why, size_t why_size)
{
	/* its prefilter, as the program was loaded with it (run by the dispatcher on entry) */
	const struct vg_hook_config *cfg = (const struct vg_hook_config *)&s->skel->rodata->cfg;
	int err = s->is_return ? dispatch_add(s->nr, s->slot, 1, bpf_program__fd(s->prog2), NULL) : 0;

	if (!err) {
		err = dispatch_add(s->nr, s->slot, s->dir, bpf_program__fd(s->prog), s->dir ? NULL : cfg);
		if (err && s->is_return)
			dispatch_remove(s->nr, s->slot, 1);
	}
	if (err)
		snprintf(why, why_size, "add %s to the raw_syscalls dispatcher: %s", s->target, strerror(-err));
	s->in_table = !err;
	return err;
}

/* A chained raw tracepoint's program goes in its chain, which attaches the head. */
static int attach_in_chain(struct sensor *s, char *why, size_t why_size)
{
	int err = tpchain_add(s->chain, s->chain_slot, bpf_program__fd(s->prog));

	if (err)
		snprintf(why, why_size, "add %s to its tracepoint's chain: %s", s->target, strerror(-err));
	s->in_chain = !err;
	return err;
}

static int attach_ia32(struct sensor *s, char *why, size_t why_size);

/* An fentry hook in its syscall's dispatcher: its program goes in the chain (its prefilter,
 * as the program was loaded with it, where the dispatcher runs it), then its i386 wrappers'
 * links as for any fentry hook. */
static int attach_in_fentry_dispatcher(struct sensor *s, char *why, size_t why_size)
{
	const struct vg_hook_config *cfg = (const struct vg_hook_config *)&s->skel->rodata->cfg;
	int err = fentry_dispatch_add(s->nr, s->slot, bpf_program__fd(s->prog), cfg, why, why_size);

	s->in_table = !err;
	return err ?: attach_ia32(s, why, why_size);
}

/* The second program: a return probe's exit, or imaHash's hashing program. 0 or -errno. */
static int attach_second(struct sensor *s, char *why, size_t why_size)
{
	char exit_event[128];
	int err;

	if (s->mech == MECH_KPROBE) {
		s->link2 = bpf_program__attach_kprobe(s->prog2, true, s->target);
	} else if (s->mech == MECH_UPROBE) {
		LIBBPF_OPTS(bpf_uprobe_opts, ro, .func_name = s->target[0] ? s->target : NULL, .retprobe = true,
			    .ref_ctr_offset = s->ref_ctr_offset);

		s->link2 = bpf_program__attach_uprobe_opts(s->prog2, -1, s->path, s->target[0] ? 0 : s->offset, &ro);
	} else if (s->mech == MECH_SYSCALL_TRACEPOINT) {
		/* sys_enter_X's twin is sys_exit_X */
		snprintf(exit_event, sizeof(exit_event), "sys_exit_%s", s->target + strlen("sys_enter_"));
		s->link2 = bpf_program__attach_tracepoint(s->prog2, s->subsys, exit_event);
	} else {
		s->link2 = bpf_program__attach(s->prog2);
	}
	if (s->link2)
		return 0;
	err = -errno;
	snprintf(why, why_size, "attach the return program of %s: %s", s->target, strerror(-err));
	return err;
}

/* One i386 wrapper's links, the return program's first as for the x86-64 one. */
static int attach_ia32_one(struct sensor *s, size_t i)
{
	bool kprobe = s->mech == MECH_KPROBE;

	if (s->prog2_ia32[i] && !s->link2_ia32[i]) {
		s->link2_ia32[i] = kprobe ? bpf_program__attach_kprobe(s->prog2_ia32[i], true, s->ia32_target[i]) :
					    bpf_program__attach(s->prog2_ia32[i]);
		if (!s->link2_ia32[i])
			return -errno;
	}
	if (!s->link_ia32[i]) {
		s->link_ia32[i] = kprobe ? bpf_program__attach_kprobe(s->prog_ia32[i], false, s->ia32_target[i]) :
					   bpf_program__attach(s->prog_ia32[i]);
		if (!s->link_ia32[i])
			return -errno;
	}
	return 0;
}

/* Every i386 wrapper's links. A failure fails the hook: a hook blind to int 0x80 is refused,
 * not loaded and silent. */
static int attach_ia32(struct sensor *s, char *why, size_t why_size)
{
	size_t i;
	int err;

	for (i = 0; i < s->nia32; i++) {
		err = attach_ia32_one(s, i);
		if (err) {
			snprintf(why, why_size, "attach %s %s (its 32-bit calls): %s", sensor_mech_name(s->mech),
				 s->ia32_target[i], strerror(-err));
			sensor_detach(s);
			return err;
		}
	}
	return 0;
}

int sensor_attach(struct sensor *s, char *why, size_t why_size)
{
	int err;

	if (s->link || s->in_table || s->in_chain || s->fan)
		return 0;
	if (s->mech == MECH_FANOTIFY)
		return fanwatch_start(s->fan_hook, s->execs_fd, &s->fan, why, why_size);
	if (s->mech == MECH_RAW_SYSCALL_DISPATCH)
		return attach_in_dispatcher(s, why, why_size);
	if (s->chain)
		return attach_in_chain(s, why, why_size);
	if (s->mech == MECH_FENTRY_DISPATCH)
		return attach_in_fentry_dispatcher(s, why, why_size);
	/* a return probe's exit goes first, so no call's record waits for an exit not yet there */
	if (s->second_first && !s->link2) {
		err = attach_second(s, why, why_size);
		if (err)
			return err;
	}
	switch (s->mech) {
	case MECH_TRACEPOINT:
	case MECH_SYSCALL_TRACEPOINT:
		s->link = bpf_program__attach_tracepoint(s->prog, s->subsys, s->target);
		break;
	case MECH_KPROBE:
		s->link = bpf_program__attach_kprobe(s->prog, false, s->target);
		break;
	case MECH_UPROBE: {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = s->target[0] ? s->target : NULL,
			    .ref_ctr_offset = s->ref_ctr_offset);

		s->link = bpf_program__attach_uprobe_opts(s->prog, -1, s->path, s->target[0] ? 0 : s->offset, &uo);
		break;
	}
	case MECH_CGROUP_CONNECT:
		return attach_cgroup(s, why, why_size);
	case MECH_USDT:
		/* every process that runs the binary; s->subsys is the provider */
		s->link = bpf_program__attach_usdt(s->prog, -1, s->path, s->subsys, s->target, NULL);
		break;
	default:
		s->link = bpf_program__attach(s->prog);
	}
	if (!s->link) {
		err = -errno;
		explain_attach_failure(s, err, why, why_size);
		return err;
	}
	return attach_ia32(s, why, why_size);
}

int sensor_map_fd(const struct sensor *s, uint8_t kind)
{
	if (!s->skel)
		return -1;
	if (kind == VG_F_STR_EQ)
		return bpf_map__fd(s->skel->maps.str_eq);
	if (kind == VG_F_INT_MAP || kind == VG_F_FILE_ID)
		return bpf_map__fd(s->skel->maps.int_set);
	return -1;
}

/* link as dir/name, unless pinned already. 0 or -errno. */
static int pin_once(struct bpf_link *link, const char *dir, const char *name)
{
	return link && !bpf_link__pin_path(link) ? vigil_pin_link(link, dir, name) : 0;
}

int sensor_pin(struct sensor *s, const char *dir, const char *name)
{
	char name2[128];
	size_t i;
	int err;

	/* no dots: bpffs refuses them in names before Linux 6.x's (EPERM on the vm lane's 6.1) */
	snprintf(name2, sizeof(name2), "%s_2", name);
	err = pin_once(s->link, dir, name) ?: pin_once(s->link2, dir, name2);
	/* the i386 wrappers' links too: the 32-bit calls stay enforced across a restart */
	for (i = 0; i < s->nia32 && !err; i++) {
		snprintf(name2, sizeof(name2), "%s_ia32_%zu", name, i);
		err = pin_once(s->link_ia32[i], dir, name2);
		snprintf(name2, sizeof(name2), "%s_ia32_%zu_2", name, i);
		err = err ?: pin_once(s->link2_ia32[i], dir, name2);
	}
	return err;
}

void sensor_keep_pins(struct sensor *s)
{
	if (s)
		s->keep_pins = true;
}

static void unpin(struct bpf_link *link)
{
	if (link && bpf_link__pin_path(link))
		bpf_link__unpin(link);
}

void sensor_detach(struct sensor *s)
{
	size_t i;

	fanwatch_stop(s->fan);
	s->fan = NULL;
	if (s->in_table && s->mech == MECH_FENTRY_DISPATCH) {
		fentry_dispatch_remove(s->nr, s->slot);
		s->in_table = false;
	} else if (s->in_table) {
		dispatch_remove(s->nr, s->slot, s->dir);
		if (s->is_return)
			dispatch_remove(s->nr, s->slot, 1);
		s->in_table = false;
	}
	if (s->in_chain) {
		tpchain_remove(s->chain, s->chain_slot);
		s->in_chain = false;
	}
	unpin(s->link);
	unpin(s->link2);
	bpf_link__destroy(s->link);
	bpf_link__destroy(s->link2);
	s->link = NULL;
	s->link2 = NULL;
	for (i = 0; i < s->nia32; i++) {
		unpin(s->link_ia32[i]);
		unpin(s->link2_ia32[i]);
		bpf_link__destroy(s->link_ia32[i]);
		bpf_link__destroy(s->link2_ia32[i]);
		s->link_ia32[i] = NULL;
		s->link2_ia32[i] = NULL;
	}
}

void sensor_free(struct sensor *s)
{
	size_t i;

	if (!s)
		return;
	fanwatch_stop(s->fan);	/* a watch holds no pin: it ends with the agent */
	s->fan = NULL;
	if (!s->keep_pins || s->in_table || s->in_chain)
		sensor_detach(s);
	bpf_link__destroy(s->link);	/* a pinned link stays attached: the pin holds it */
	bpf_link__destroy(s->link2);
	for (i = 0; i < s->nia32; i++) {	/* pinned with the others */
		bpf_link__destroy(s->link_ia32[i]);
		bpf_link__destroy(s->link2_ia32[i]);
	}
	generic_bpf__destroy(s->skel);
	if (s->slot >= 0 && s->mech == MECH_FENTRY_DISPATCH)
		fentry_dispatch_release(s->nr, s->slot);
	else if (s->slot >= 0)
		dispatch_release(s->nr, s->slot);
	tpchain_leave(s->chain, s->chain_slot);
	if (s->dispatch_ref)
		dispatch_unref();
	free(s);
}

bool sensor_chained(const struct sensor *s)
{
	return s && s->chain;
}

struct bpf_object *sensor_object(const struct sensor *s)
{
	return s && s->skel ? s->skel->obj : NULL;
}

enum sensor_mech sensor_mech_used(const struct sensor *s)
{
	return s->mech;
}

const char *sensor_alone(const struct sensor *s)
{
	return s->alone[0] ? s->alone : NULL;
}
