/* generic.bpf.c - one policy hook: capture arguments, match selectors, act, post.
 *
 * Pipeline (one instance per hook, configured through read-only `cfg`):
 *   filter:  raw_syscalls hooks drop every syscall but the hook's own first;
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

/* The hook's compiled configuration (core/policy/compile*.c); frozen before load, so the
 * verifier prunes everything this hook does not use. */
const volatile struct vg_hook_config cfg = {};

#include "lib/process_maps.h"
#include "lib/output.h"
#include "lib/generic_maps.h"
#include "lib/args.h"
#include "lib/selectors.h"
#include "lib/actions.h"

char LICENSE[] SEC("license") = "GPL";

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

/* Returns the error the hooked operation must fail with, 0 to let it proceed. */
static __always_inline int generic_run(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, zero = 0, matched = VG_MAX_SELECTORS;
	struct vigil_exec_entry *e;
	struct generic_scratch *s;
	bool post = true, guessed = false;
	int override = 0, i;

	if (cfg.fetch == VG_FETCH_RAW_SYSCALL && cfg.syscall_nr >= 0 && ctx_arg(ctx, 1) != (__u64)cfg.syscall_nr)
		return 0;
	s = bpf_map_lookup_elem(&generic_heap, &zero);
	if (!s)
		return 0;

	s->rec.hdr.op = VIGIL_OP_GENERIC;
	s->rec.hdr.ktime = bpf_ktime_get_boot_ns();
	s->rec.pid = tgid;
	s->rec.tid = (__u32)pid_tgid;
	s->rec.hook_id = cfg.hook_id;
	s->rec.actions = 0;
	s->rec.monitored = 0;
	s->rec.override_err = 0;
	s->rec.proc_ktime = task_ktime(task, tgid, &guessed);
	capture_args(s, ctx);

	e = bpf_map_lookup_elem(&vg_execs, &tgid);
	if (uses_namespaces()) {
		__u64 caps[3] = {};

		task_namespaces(task, s->ns);
		task_creds(task, &(struct vigil_creds_raw){}, caps);
		s->caps[0] = caps[0];
		s->caps[1] = caps[1];
		s->caps[2] = caps[2];
	}
	for (i = 0; i < VG_MAX_SELECTORS; i++) {
		if (i >= cfg.nselectors)
			break;
		if (match_selector(s, &cfg.sel[i], task, tgid, e)) {
			matched = i;
			post = do_actions(s, &cfg.sel[i], i, &override);
			break;
		}
	}
	if (cfg.nselectors && matched == VG_MAX_SELECTORS)
		return 0;	/* no selector matched: nothing reaches user space */
	if (!cfg.nselectors)
		s->rec.actions = 1u << VG_ACT_POST;
	s->rec.selector = matched;
	if (post) {
		__u32 size = s->rec.hdr.size;

		if (size > sizeof(s->rec))
			size = sizeof(s->rec);
		barrier_var(size);
		output_record(&s->rec, size);
	}
	return override;
}

SEC("tp_btf/sys_enter")
int generic_tp_btf_sys_enter(__u64 *ctx)
{
	generic_run(ctx);
	return 0;
}

SEC("raw_tp/sys_enter")
int generic_raw_tp_sys_enter(__u64 *ctx)
{
	generic_run(ctx);
	return 0;
}

SEC("tracepoint")
int generic_tracepoint(void *ctx)
{
	generic_run(ctx);
	return 0;
}

SEC("kprobe")
int generic_kprobe(struct pt_regs *ctx)
{
	generic_run(ctx);
	return 0;
}

SEC("fentry")
int generic_fentry(__u64 *ctx)
{
	generic_run(ctx);
	return 0;
}

/* A non-zero return skips the function and becomes its return value. */
SEC("fmod_ret")
int generic_fmod_ret(__u64 *ctx)
{
	return generic_run(ctx);
}

/* BPF LSM: 0 allows, a negative errno denies. */
SEC("lsm")
int generic_lsm(__u64 *ctx)
{
	return generic_run(ctx);
}

/* uprobes: user-space function arguments in the user registers. */
SEC("uprobe")
int generic_uprobe(struct pt_regs *ctx)
{
	generic_run(ctx);
	return 0;
}
