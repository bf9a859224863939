/* generic.bpf.c - one policy hook: capture arguments, match selectors, act, post.
 *
 * Pipeline (one instance per hook, configured through read-only `cfg`):
 *   filter:  raw_syscalls hooks drop every syscall but the hook's own first, then the
 *            prefilter drops calls no selector can match, from the raw arguments;
 *   capture: read the arguments the policy declares into a per-CPU record;
 *   match:   evaluate the selectors in order; the first match wins; none = no event
 *            (a hook without selectors always posts);
 *   act:     Post (rate-limited) / NoPost / Sigkill / Signal / Override;
 *   post:    submit the used part of the record to the shared ring buffer.
 * Thin wrappers below adapt each attach mechanism; the loader autoloads exactly one.
 */
#include "vigil_bpf.h"
#include <bpf/bpf_endian.h>
#include "generic.h"

/* The hook's compiled configuration (core/sensors/compile*.c); frozen before load, so the
 * verifier prunes everything this hook does not use. */
const volatile struct vg_hook_config cfg = {};

#include "lib/process_maps.h"
#include "lib/output.h"
#include "lib/generic_maps.h"
#include "lib/dispatch_maps.h"
#include "lib/tpchain_maps.h"
#include "lib/args.h"
#include "lib/selectors.h"
#include "lib/prefilter.h"
#include "lib/actions.h"
#include "lib/stacks.h"

char LICENSE[] SEC("license") = "GPL";

/* Variants: libbpf copies every program of an object when it opens it (instructions, BTF,
 * line info: ~1.5 MiB here) and keeps the copy as long as the object lives, so each hook
 * opens a variant of this file built with VG_VARIANT (bpf/CMakeLists.txt) whose programs
 * for other mechanisms are empty stubs of the same names: one skeleton serves every
 * variant. Without VG_VARIANT every program is built whole. */
enum vg_variant {
	VG_V_TP_BTF_SYS = 1,	/* tp_btf/sys_enter, sys_exit */
	VG_V_RAW_TP_SYS,	/* raw_tp/sys_enter, sys_exit (also the dispatcher's targets) */
	VG_V_TRACEPOINT,	/* tracepoint, its sys_exit twin */
	VG_V_KPROBE,		/* kprobe, kretprobe */
	VG_V_FENTRY,		/* fentry, fexit, the i386 wrappers' */
	VG_V_FMOD_RET,		/* fmod_ret, fexit */
	VG_V_LSM,
	VG_V_UPROBE,		/* uprobe, uretprobe */
	VG_V_USDT,
	VG_V_CONNECT,		/* cgroup/connect4, connect6 */
	VG_V_TP_BTF,		/* tp_btf: raw tracepoints' hooks, alone or in a chain */
	VG_V_RAW_TP_SYS_ENTER,	/* raw_tp/sys_enter alone: an entry hook on raw_syscalls */
};

#ifdef VG_VARIANT
#define VG_BUILT(v) (VG_VARIANT == VG_V_##v)
#else
#define VG_BUILT(v) 1
#endif

static __always_inline bool uses_namespaces(void)
{
	int i;

	for (i = 0; i < VG_MAX_SELECTORS; i++) {
		if (i >= cfg.nselectors)
			break;
		if (cfg.sel[i].nns || cfg.sel[i].ns_changes_mask || cfg.sel[i].ncaps)
			return true;
	}
	return false;
}

/* Do the selectors read the process's vg_execs entry (namespace changes, capabilities gained
 * since exec)? No other selector does: the lookup is left out for them, once per hook a
 * firing (the five shipped exec policies had five). */
static __always_inline bool uses_exec_entry(void)
{
	int i;

	for (i = 0; i < VG_MAX_SELECTORS; i++) {
		if (i >= cfg.nselectors)
			break;
		if (cfg.sel[i].ns_changes_mask || cfg.sel[i].ncaps)
			return true;
	}
	return false;
}

/* The record's header for the current task; the arguments come next. */
static __always_inline void record_begin(struct generic_scratch *s, __u64 pid_tgid, __u64 proc_ktime)
{
	s->rec.hdr.op = VIGIL_OP_GENERIC;
	s->rec.hdr.ktime = bpf_ktime_get_boot_ns();
	s->rec.pid = pid_tgid >> 32;
	s->rec.tid = (__u32)pid_tgid;
	s->rec.hook_id = cfg.hook_id;
	s->rec.actions = 0;
	s->rec.monitored = 0;
	s->rec.override_err = 0;
	s->rec.proc_ktime = proc_ktime;
	s->rec.has_ima = 0;
	s->ima_wanted = 0;
	s->compat32 = 0;
}

/* Submit the used part of the record to the ring buffer (its size bounded for the verifier). */
static __always_inline void post_record(struct generic_scratch *s)
{
	__u32 size = s->rec.hdr.size;

	if (size > sizeof(s->rec))
		size = sizeof(s->rec);
	barrier_var(size);
	output_record(&s->rec, size);
}

/* Match the selectors in order, run the first match's actions, post the record when they
 * say so. Returns the error the operation must fail with (Override), else 0. task may be
 * NULL where the compiler keeps selectors from needing it (cgroup programs). */
static __always_inline int select_act_post(struct generic_scratch *s, void *ctx, struct task_struct *task,
					   __u32 tgid, struct vigil_exec_entry *e)
{
	__u32 matched = VG_MAX_SELECTORS;
	bool post = true;
	int override = 0, i;

	for (i = 0; i < VG_MAX_SELECTORS; i++) {
		if (i >= cfg.nselectors)
			break;
		if (match_selector(&cfg, s, &cfg.sel[i], task, tgid, e)) {
			matched = i;
			post = do_actions(s, ctx, &cfg.sel[i], i, &override);
			capture_stacks(s, ctx, post ? selector_stacks(&cfg.sel[i]) : 0);
			break;
		}
	}
	if (cfg.nselectors && matched == VG_MAX_SELECTORS)
		return 0;	/* no selector matched: nothing reaches user space */
	if (!post && cfg.is_return && cfg.ret_action) {
		/* NoPost at the entry: no event, but the returned sock is still (un)tracked */
		s->rec.ret_actions = VG_RET_SILENT;
		post = true;
	} else {
		s->rec.ret_actions = 0;
	}
	if (!cfg.nselectors) {
		s->rec.actions = 1u << VG_ACT_POST;
		capture_stacks(s, ctx, 0);
	}
	s->rec.selector = matched;
	s->rec.has_ret = 0;
	s->rec.ret_len = 0;
	if (cfg.is_return) {
		/* the exit program completes and posts the record */
		__u64 key = ((__u64)tgid << 32) | s->rec.tid;	/* the thread's pid_tgid */

		if (post && bpf_map_update_elem(&pending, &key, &s->rec, BPF_ANY))
			count_error(VIGIL_KERR_PENDING_FULL);
		return override;
	}
	if (post && cfg.ima_from && s->ima_wanted) {
		/* imaHash: generic_lsm_ima, the sleepable program that runs next on this hook,
		 * hashes the file, posts the record and fails the operation if Override said so
		 * (a non-zero return here would skip it) */
		__u64 key = ((__u64)tgid << 32) | s->rec.tid;

		emit_chunks(s);
		s->rec.has_ima = 1;
		if (!bpf_map_update_elem(&pending, &key, &s->rec, BPF_ANY))
			return 0;
		count_error(VIGIL_KERR_PENDING_FULL);	/* posted without its hash */
		s->rec.has_ima = 0;
		post_record(s);
		return override;
	}
	if (post) {
		emit_chunks(s);	/* maxData arguments' bytes go first (bpf/lib/maxdata.h) */
		post_record(s);
	}
	return override;
}

/* The dispatcher's verdicts on this call (vg_sys_regs pass and judged), NULL when the copy
 * there is not this call's: every later slot then runs, each prefiltering itself. */
static __always_inline struct vg_sys_regs *dispatched_verdicts(void *ctx)
{
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	if (c && c->regs == ctx_arg(ctx, 0) && c->nr == (__u16)cfg.syscall_nr)
		return c;
#endif
	return NULL;
}

/* Did the dispatcher run this hook's whole prefilter on this call, and pass it
 * (bpf/lib/syscall_prefilter.h)? Then it is not run again. */
static __always_inline bool dispatcher_judged(void *ctx)
{
	struct vg_sys_regs *c;

	if (cfg.fetch != VG_FETCH_RAW_SYSCALL || !cfg.dispatch_slot || !cfg.pf.on)
		return false;
	c = dispatched_verdicts(ctx);
	return c && (c->judged & (1u << ((cfg.dispatch_slot - 1) & 31)));
}

/* The later slots of this call that the dispatcher found worth running. */
static __always_inline __u32 dispatched_pass(void *ctx)
{
	struct vg_sys_regs *c = dispatched_verdicts(ctx);

	return c ? c->pass : VG_SPF_ALL;
}

/* The arguments into the record: read, or in a tracepoint's chain (bpf/tpchain.h) taken
 * from the hook before this one in the same firing when it declared the same arguments
 * (the shipped exec policies all read the binary). Nothing after the capture changes the
 * arguments of a hook that shares (no maxData, returnCopy or return probe: capture_sig 0),
 * and only the chain's hooks use its scratch. */
static __always_inline void capture_or_share(struct generic_scratch *s, void *ctx)
{
	__u32 zero = 0;
	__u64 *run;

	if (!cfg.chain_slot) {
		capture_args(s, ctx);
		return;
	}
	run = bpf_map_lookup_elem(&vg_tp_run, &zero);
	if (cfg.capture_sig && run && s->share_run == *run && s->share_sig == cfg.capture_sig) {
		s->rec.nargs = cfg.nargs;
		s->rec.hdr.size = s->share_size;
		return;
	}
	capture_args(s, ctx);
	/* a hook that may change its capture afterwards (signature 0) leaves none to take */
	s->share_sig = run ? cfg.capture_sig : 0;
	s->share_size = s->rec.hdr.size;
	s->share_run = run ? *run : 0;
}

/* The verdicts of the syscall's fentry dispatcher on this call (fentry_dispatch.bpf.c), NULL
 * when another call's replaced them: every later slot then runs, each prefiltering itself. */
static __always_inline struct vg_sys_regs *fentry_verdicts(void *ctx)
{
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	if (c && c->fentry_call == ctx_arg(ctx, 0))
		return c;
#endif
	return NULL;
}

/* Did the fentry dispatcher run this hook's whole prefilter on this call, and pass it? */
static __always_inline bool fentry_judged(void *ctx)
{
	struct vg_sys_regs *c;

	if (!cfg.dispatch_slot || !cfg.pf.on)
		return false;
	c = fentry_verdicts(ctx);
	return c && (c->judged & (1u << ((cfg.dispatch_slot - 1) & 31)));
}

/* The later slots of this call that the fentry dispatcher found worth running. */
static __always_inline __u32 fentry_pass(void *ctx)
{
	struct vg_sys_regs *c = fentry_verdicts(ctx);

	return c ? c->pass : VG_SPF_ALL;
}

static __always_inline int generic_run_ld(void *ctx, bool fentry_dispatched, enum vg_load ld);

/* Returns the error the hooked operation must fail with, 0 to let it proceed. */
static __always_inline int generic_run(void *ctx)
{
	return generic_run_ld(ctx, false, VG_LOAD_PROBE);
}

static __always_inline int generic_run_as(void *ctx, bool fentry_dispatched)
{
	return generic_run_ld(ctx, fentry_dispatched, VG_LOAD_PROBE);
}

/* fentry_dispatched: tail-called by its syscall's fentry dispatcher (fentry_dispatch.bpf.c),
 * which did vg_wrapper_compat's work and ran the prefilter once for all the syscall's hooks.
 * ld: how the current task is read (bpf/include/vigil_bpf.h): VG_LOAD_BTF only from a
 * program that may hold bpf_get_current_task_btf's typed pointer and load through it (tp_btf). */
static __always_inline int generic_run_ld(void *ctx, bool fentry_dispatched, enum vg_load ld)
{
	struct vigil_exec_entry *e;
	struct generic_scratch *s;
	struct task_struct *task;
	__u64 pid_tgid;
	__u32 tgid, zero = 0;
	int compat32 = 0;

	/* raw_syscalls: only the hook's own syscall (the dispatcher's table is by number) */
	if (cfg.fetch == VG_FETCH_RAW_SYSCALL && cfg.syscall_nr >= 0 && !cfg.dispatch_slot &&
	    ctx_arg(ctx, 1) != (__u64)cfg.syscall_nr)
		return 0;
	/* a syscall wrapper's hook also runs on __ia32_sys_X: a 32-bit call's registers are
	 * rewritten as its twin's before the prefilter reads them */
	if ((cfg.fetch == VG_FETCH_SYSCALL_CTX || cfg.fetch == VG_FETCH_SYSCALL_PTREGS) && cfg.syscall_nr >= 0 &&
	    !fentry_dispatched) {
		compat32 = vg_wrapper_compat(cfg.fetch == VG_FETCH_SYSCALL_CTX ?
					     (struct pt_regs *)ctx_arg(ctx, 0) :
					     (struct pt_regs *)PT_REGS_PARM1_CORE((struct pt_regs *)ctx),
					     cfg.syscall_nr);
		if (compat32 < 0)
			return 0;
	}
	/* most calls end here: no helper call before it (a dispatched hook's, in the dispatcher) */
	if (!(fentry_dispatched ? fentry_judged(ctx) : dispatcher_judged(ctx)) && !prefilter_pass(ctx))
		return 0;
	/* a 32-bit syscall of the same number is another syscall (syscalls:sys_enter_X skips
	 * them too); the dispatcher hands a 32-bit call to its x86-64 twin's hooks, registers
	 * rewritten (bpf/lib/dispatch_maps.h). Only the full pipeline pays for this check. */
	if (cfg.fetch == VG_FETCH_RAW_SYSCALL && cfg.syscall_nr >= 0) {
		compat32 = cfg.dispatch_slot ? dispatched_mine(ctx) : vg_compat_syscall() ? -1 : 0;
		if (compat32 < 0)
			return 0;
	} else if (cfg.fetch == VG_FETCH_SYSCALL_EXIT) {
		compat32 = dispatched_exit_mine(ctx);
		if (compat32 < 0)
			return 0;
	} else if (fentry_dispatched) {
		compat32 = wrapper_copy((struct pt_regs *)ctx_arg(ctx, 0)) != NULL;	/* the dispatcher's mark */
	}
	task = ld == VG_LOAD_BTF ? bpf_get_current_task_btf() : (struct task_struct *)bpf_get_current_task();
	pid_tgid = bpf_get_current_pid_tgid();
	tgid = pid_tgid >> 32;
	if (cfg.scope) {
		/* a scoped policy: only the cgroups of the workloads it selects */
		struct vigil_scope_key key = { .cgroup_id = bpf_get_current_cgroup_id(), .scope = cfg.scope };

		if (!bpf_map_lookup_elem(&vg_scopes, &key))
			return 0;
	}
	s = bpf_map_lookup_elem(&generic_heap, &zero);
	if (!s)
		return 0;
	e = uses_exec_entry() ? bpf_map_lookup_elem(&vg_execs, &tgid) : NULL;
	record_begin(s, pid_tgid, task_key(ld, task));
	s->compat32 = compat32 > 0;
	s->rec.syscall_id = cfg.fetch == VG_FETCH_RAW_SYSCALL ? (__u16)ctx_arg(ctx, 1) : 0;
	capture_or_share(s, ctx);
	if (uses_namespaces()) {
		__u64 caps[3] = {};

		task_namespaces(ld, task, s->ns);
		task_creds(ld, task, &(struct vigil_creds_raw){}, caps);
		s->caps[0] = caps[0];
		s->caps[1] = caps[1];
		s->caps[2] = caps[2];
	}
	return select_act_post(s, ctx, task, tgid, e);
}

/* returnCopy: read each such buffer now that the call filled it, as many bytes as it
 * returned (at most the room its entry kept); the pointer leaves the record. */
static __always_inline void copy_at_return(struct generic_scratch *s, __s64 ret)
{
	int i;

	for (i = 0; i < VG_MAX_ARGS; i++) {
		const volatile struct vg_arg_spec *a = &cfg.args[i];
		__u32 off = s->rec.arg_off[i], room = s->rec.arg_len[i] & ARG_LEN_MASK, n;

		if (i >= cfg.nargs)
			break;
		if (!a->return_copy)
			continue;
		n = ret <= 0 ? 0 : ret < room ? (__u32)ret : room;
		/* truncated only when the call returned more than the room */
		s->rec.arg_flags[i] &= ~VG_ARGF_TRUNCATED;
		if (ret > room)
			s->rec.arg_flags[i] |= VG_ARGF_TRUNCATED;
		if (n && read_buf(&s->rec.data[off & DATA_OFF_LIMIT], n & ARG_LEN_MASK, s->rec.arg_int[i], a->user))
			s->rec.arg_flags[i] |= VG_ARGF_ERROR, n = 0;
		s->rec.arg_len[i] = n & ARG_LEN_MASK;
		s->rec.arg_int[i] = 0;
	}
}

/* A sock returnArg: its vg_sock after everything else in the record (ret_len says so), the
 * pointer itself never leaving the kernel; returnArgAction (un)tracks it, whatever the
 * selectors say next, as Tetragon does. */
static __always_inline void return_sock(struct generic_scratch *s, __u64 ret)
{
	struct sock *sk = cfg.ret_type == VG_ARG_SOCKET ? BPF_CORE_READ((struct socket *)ret, sk) : (struct sock *)ret;
	__u32 off = (s->rec.hdr.size - offsetof(struct vg_generic_record, data) + 7) & ~7u;

	s->rec.ret_value = 0;
	if (cfg.ret_action)
		sock_track(s, (__u64)sk, cfg.ret_action == VG_ACT_TRACKSOCK);
	if (off > VG_DATA_MAX - sizeof(struct vg_sock)) {
		count_error(VIGIL_KERR_STACK_NO_ROOM);	/* the stacks took the room: no fields */
		return;
	}
	fill_sock((void *)&s->rec.data[off & (VG_DATA_MAX - 1)], sk);
	s->rec.ret_len = sizeof(struct vg_sock);
	s->rec.hdr.size = offsetof(struct vg_generic_record, data) + off + sizeof(struct vg_sock);
}

/* Return probes: pick up the record the entry kept, add the return value, run the
 * selector's matchReturnArgs and matchReturnActions, post. */
static __always_inline int generic_exit(__u64 ret)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct vg_generic_record *kept;
	struct generic_scratch *s;
	__u32 zero = 0;
	int override = 0, i;
	bool post = true, silent;

	kept = bpf_map_lookup_elem(&pending, &key);
	s = bpf_map_lookup_elem(&generic_heap, &zero);
	if (!kept || !s)
		return 0;
	bpf_probe_read_kernel(&s->rec, sizeof(s->rec), kept);
	bpf_map_delete_elem(&pending, &key);
	s->rec.ret_value = sign_extend(ret, cfg.ret_type);
	s->rec.has_ret = 1;
	silent = s->rec.ret_actions & VG_RET_SILENT;
	s->rec.ret_actions = 0;
	if (cfg.ret_type == VG_ARG_SOCK || cfg.ret_type == VG_ARG_SOCKET)
		return_sock(s, ret);
	copy_at_return(s, (__s64)ret);
	maxdata_at_return(s);
	for (i = 0; i < VG_MAX_SELECTORS; i++) {
		const volatile struct vg_selector *sel = &cfg.sel[i];

		if (i >= cfg.nselectors)
			break;
		if (i != s->rec.selector)
			continue;
		if (!match_return_args(s, sel))
			return 0;	/* the return value does not match: no event */
		post = run_actions(s, NULL, sel->ret_actions, sel->nret_actions, i, &s->rec.ret_actions, &override);
		break;
	}
	if (post && !silent) {
		emit_chunks(s);	/* maxData arguments' bytes go first (bpf/lib/maxdata.h) */
		post_record(s);
	}
	return 0;
}

/* raw_syscalls/sys_exit: only the hook's syscall, whose number the regs still hold */
static __always_inline int syscall_exit(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx_arg(ctx, 0);

	/* the dispatcher runs a hook's exit for its syscall only, a 32-bit call's for its twin
	 * (paired with the entry through `pending`) */
	if (cfg.syscall_nr >= 0 && !cfg.dispatch_slot &&
	    (VG_SYSCALL_NR_CORE(regs) != (__u64)cfg.syscall_nr || vg_compat_syscall()))
		return 0;
	return generic_exit(ctx_arg(ctx, 1));
}

/* Also the dispatcher's exit-table target (bpf/dispatch.h: the exit side is tp_btf): once
 * done, the next hook of the same syscall runs. A syscalls:sys_exit_X hook runs whole here
 * (no entry kept its record). */
SEC("tp_btf/sys_exit")
int generic_tp_btf_sys_exit(__u64 *ctx)
{
	if (!VG_BUILT(TP_BTF_SYS) && !VG_BUILT(RAW_TP_SYS))
		return 0;
	if (cfg.fetch == VG_FETCH_SYSCALL_EXIT)
		generic_run(ctx);
	else
		syscall_exit(ctx);
	if (cfg.dispatch_slot)
		dispatch_from(ctx, &vg_sys_exit, cfg.syscall_nr, cfg.dispatch_slot, VG_SPF_ALL);
	return 0;
}

SEC("raw_tp/sys_exit")
int generic_raw_tp_sys_exit(__u64 *ctx)
{
	if (!VG_BUILT(RAW_TP_SYS))
		return 0;
	syscall_exit(ctx);
	return 0;
}

/* syscalls:sys_exit_X: `long ret` follows the common fields and the syscall number */
SEC("tracepoint")
int generic_tracepoint_sys_exit(void *ctx)
{
	if (!VG_BUILT(TRACEPOINT))
		return 0;
	return generic_exit(*(long *)(ctx + 16));
}

SEC("fexit")
int generic_fexit(__u64 *ctx)
{
	if (!VG_BUILT(FENTRY) && !VG_BUILT(FMOD_RET))
		return 0;
	return generic_exit(ctx_arg(ctx, cfg.ret_index));
}

SEC("kretprobe")
int generic_kretprobe(struct pt_regs *ctx)
{
	if (!VG_BUILT(KPROBE))
		return 0;
	return generic_exit(PT_REGS_RC_CORE(ctx));
}

/* uprobe return probes: the user function's return value in the user registers */
SEC("uretprobe")
int generic_uretprobe(struct pt_regs *ctx)
{
	if (!VG_BUILT(UPROBE))
		return 0;
	return generic_exit(PT_REGS_RC_CORE(ctx));
}

SEC("tp_btf/sys_enter")
int generic_tp_btf_sys_enter(__u64 *ctx)
{
	if (!VG_BUILT(TP_BTF_SYS))
		return 0;
	generic_run(ctx);
	return 0;
}

SEC("raw_tp/sys_enter")
int generic_raw_tp_sys_enter(__u64 *ctx)
{
	if (!VG_BUILT(RAW_TP_SYS) && !VG_BUILT(RAW_TP_SYS_ENTER))
		return 0;
	generic_run(ctx);
	if (cfg.dispatch_slot)
		dispatch_from(ctx, &vg_sys_enter, cfg.syscall_nr, cfg.dispatch_slot, dispatched_pass(ctx));
	return 0;
}

SEC("tracepoint")
int generic_tracepoint(void *ctx)
{
	if (!VG_BUILT(TRACEPOINT))
		return 0;
	generic_run(ctx);
	return 0;
}

SEC("kprobe")
int generic_kprobe(struct pt_regs *ctx)
{
	if (!VG_BUILT(KPROBE))
		return 0;
	generic_run(ctx);
	return 0;
}

/* USDT probes: libbpf attaches it as a uprobe with a cookie naming the probe's argument
 * specs, which bpf_usdt_arg (lib/args.h) reads */
SEC("usdt")
int generic_usdt(struct pt_regs *ctx)
{
	if (!VG_BUILT(USDT))
		return 0;
	generic_run(ctx);
	return 0;
}

SEC("fentry")
int generic_fentry(__u64 *ctx)
{
	if (!VG_BUILT(FENTRY))
		return 0;
	generic_run(ctx);
	return 0;
}

/* raw: true tracepoints: the hook, then the next of its tracepoint's chain (bpf/tpchain.h;
 * chain_slot 0: attached alone) */
SEC("tp_btf")
int generic_tp_btf(__u64 *ctx)
{
	if (!VG_BUILT(TP_BTF))
		return 0;
	generic_run_ld(ctx, false, VG_LOAD_BTF);
	if (cfg.chain_slot)
		tp_chain_from(ctx, cfg.chain_slot);
	return 0;
}

/* generic_fentry in a syscall's fentry dispatcher (bpf/dispatch.h: vg_fentry): tail-called
 * by the one fentry program on __x64_sys_X, then on to the next hook of its chain that may
 * match. A program of its own: one that names a prog array ties the array to its kind (the
 * kernel checks it at load), and generic_fentry serves other functions and fexit too. The
 * hook's i386 wrappers keep programs of their own (below). */
SEC("fentry")
int generic_fentry_dispatched(__u64 *ctx)
{
	if (!VG_BUILT(FENTRY))
		return 0;
	generic_run_as(ctx, true);
	fentry_chain_from(ctx, (__u32)cfg.syscall_nr, cfg.dispatch_slot, fentry_pass(ctx));
	return 0;
}

/* The same hook on a syscall's i386 wrappers (__ia32_sys_X or __ia32_compat_sys_X, and those
 * of the i386 calls whose twin X is under another name: __ia32_sys_setuid16,
 * __ia32_compat_sys_socketcall...), a syscall hook's 32-bit calls: a trampoline program has one
 * target, so each wrapper takes its own (core/sensors/instance.c picks them by name, up to
 * VG_IA32_WRAPPERS). fmod_ret denies a 32-bit call with the 64-bit one's error. */
#define VG_IA32_PROGRAMS(sfx)							\
SEC("fentry")									\
int generic_fentry_ia32##sfx(__u64 *ctx)					\
{										\
	if (!VG_BUILT(FENTRY))							\
		return 0;							\
	generic_run(ctx);							\
	return 0;								\
}										\
SEC("fexit")									\
int generic_fexit_ia32##sfx(__u64 *ctx)						\
{										\
	if (!VG_BUILT(FENTRY) && !VG_BUILT(FMOD_RET))				\
		return 0;							\
	return generic_exit(ctx_arg(ctx, cfg.ret_index));			\
}										\
SEC("fmod_ret")									\
int generic_fmod_ret_ia32##sfx(__u64 *ctx)					\
{										\
	if (!VG_BUILT(FMOD_RET))						\
		return 0;							\
	return generic_run(ctx);						\
}
VG_IA32_PROGRAMS()
VG_IA32_PROGRAMS(_1)
VG_IA32_PROGRAMS(_2)
VG_IA32_PROGRAMS(_3)

/* A non-zero return skips the function and becomes its return value. */
SEC("fmod_ret")
int generic_fmod_ret(__u64 *ctx)
{
	if (!VG_BUILT(FMOD_RET))
		return 0;
	return generic_run(ctx);
}

/* BPF LSM: 0 allows, a negative errno denies. */
SEC("lsm")
int generic_lsm(__u64 *ctx)
{
	if (!VG_BUILT(LSM))
		return 0;
	return generic_run(ctx);
}

/* imaHash: runs right after generic_lsm on its hook. It is attached first, and the
 * trampoline runs the newest program first (__bpf_trampoline_link_prog adds to the head of
 * the hook's list). Sleepable, since bpf_ima_file_hash may read the whole file to hash it
 * (the kernel offers it to sleepable LSM programs only); so it keeps to the record
 * generic_lsm left for this thread in `pending`, not the per-CPU scratch another task may
 * take while it sleeps. It appends the hash, posts, and returns the Override's error. */
SEC("lsm.s")
int generic_lsm_ima(__u64 *ctx)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct vg_generic_record *kept;
	struct file *file;
	struct vg_ima *ima;
	__u64 size;	/* 64-bit: a u32's bound would be checked on a zero-extended copy */
	__u32 off;
	int err;

	if (!VG_BUILT(LSM))
		return 0;
	kept = bpf_map_lookup_elem(&pending, &key);
	if (!kept)
		return 0;
	if (cfg.ima_from == VG_IMA_BPRM)
		file = ((struct linux_binprm *)ctx[0])->file;
	else
		file = (struct file *)ctx[0];
	off = (kept->hdr.size - offsetof(struct vg_generic_record, data) + 7) & ~7u;
	barrier_var(off);	/* the bound checked below is the one used: clang would recompute it */
	if (off <= VG_DATA_MAX - sizeof(struct vg_ima)) {
		ima = (void *)&kept->data[off];
		ima->pad = 0;
		ima->algo = bpf_ima_file_hash(file, ima->digest, sizeof(ima->digest));
		if (ima->algo < 0)
			count_error(VIGIL_KERR_IMA_HASH_FAILED);	/* user space leaves ima_hash out */
		kept->hdr.size = offsetof(struct vg_generic_record, data) + off + sizeof(struct vg_ima);
	} else {
		count_error(VIGIL_KERR_STACK_NO_ROOM);	/* arguments filled the record */
		count_error(VIGIL_KERR_IMA_HASH_FAILED);
		kept->has_ima = 0;
	}
	size = kept->hdr.size;
	barrier_var(size);
	if (size > sizeof(*kept))
		size = sizeof(*kept);
	barrier_var(size);
	output_record(kept, size);
	err = kept->override_err;
	bpf_map_delete_elem(&pending, &key);
	return err;
}

/* uprobes: user-space function arguments in the user registers. */
SEC("uprobe")
int generic_uprobe(struct pt_regs *ctx)
{
	if (!VG_BUILT(UPROBE))
		return 0;
	generic_run(ctx);
	return 0;
}

/* ---- cgroup sock_addr: connect() denied before it leaves the host ----
 *
 * These programs run in the connecting task's context but may not use the tracing helpers
 * (no bpf_get_current_task, no bpf_send_signal): the compiler only routes hooks here whose
 * selectors need neither (binaries, pids, the destination address, port and family) and
 * whose actions are Post, NoPost and Override. */

/* v6 is a constant per program: connect4 may not even read user_ip6, and the reverse. */
static __always_inline void capture_destination(struct generic_scratch *s, struct bpf_sock_addr *ctx, bool v6)
{
	__u32 off = 0;
	int i;

	for (i = 0; i < VG_MAX_ARGS; i++) {
		const volatile struct vg_arg_spec *a = &cfg.args[i];

		if (i >= cfg.nargs)
			break;
		s->rec.arg_int[i] = 0;
		s->rec.arg_flags[i] = 0;
		s->rec.arg_full[i] = 0;
		s->rec.arg_orig[i] = 0;
		s->rec.arg_off[i] = off;
		s->rec.arg_len[i] = 0;
		if (a->class == VG_CLASS_SOCKADDR) {
			struct vg_sockaddr *sa = (void *)&s->rec.data[off & DATA_OFF_LIMIT];

			__builtin_memset(sa, 0, sizeof(*sa));
			sa->family = v6 ? AF_INET6 : AF_INET;
			sa->port = bpf_ntohs(ctx->user_port);
			if (!v6) {
				__u32 ip4 = ctx->user_ip4;

				__builtin_memcpy(sa->addr, &ip4, 4);
			} else {
				__u32 ip6[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};

				__builtin_memcpy(sa->addr, ip6, 16);
			}
			s->rec.arg_len[i] = sizeof(*sa);
			off += sizeof(*sa);
		} else {
			s->rec.arg_flags[i] = VG_ARGF_ERROR;	/* not visible from here */
		}
	}
	s->rec.nargs = cfg.nargs;
	s->rec.hdr.size = offsetof(struct vg_generic_record, data) + (off & (VG_DATA_MAX - 1));
}

/* 1 lets the connect proceed, 0 fails it with EPERM. */
static __always_inline int connect_run(struct bpf_sock_addr *ctx, bool v6)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, zero = 0;
	struct vigil_exec_entry *e = bpf_map_lookup_elem(&vg_execs, &tgid);
	struct generic_scratch *s = bpf_map_lookup_elem(&generic_heap, &zero);

	if (!s)
		return 1;
	record_begin(s, pid_tgid, e ? e->ktime : 0);
	capture_destination(s, ctx, v6);
	return select_act_post(s, ctx, NULL, tgid, e) ? 0 : 1;
}

SEC("cgroup/connect4")
int generic_connect4(struct bpf_sock_addr *ctx)
{
	if (!VG_BUILT(CONNECT))
		return 1;
	return connect_run(ctx, false);
}

SEC("cgroup/connect6")
int generic_connect6(struct bpf_sock_addr *ctx)
{
	if (!VG_BUILT(CONNECT))
		return 1;
	return connect_run(ctx, true);
}
