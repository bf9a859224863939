/* actions.h - what a matching selector does: post (rate-limited), suppress, kill, signal,
 * fail the operation. In monitor mode the enforcement actions are recorded as what would
 * have happened and not done. */
#ifndef VIGIL_ACTIONS_H
#define VIGIL_ACTIONS_H

#include "generic_maps.h"
#include "socktrack.h"

/* A cheap digest of the arguments: two events with equal arguments share a rate slot. */
static __always_inline __u64 args_digest(struct generic_scratch *s)
{
	__u64 h = 0;
	int i;

	for (i = 0; i < VG_MAX_ARGS; i++) {
		__u64 head = 0;

		if (i >= cfg.nargs)
			break;
		bpf_probe_read_kernel(&head, sizeof(head), &s->rec.data[s->rec.arg_off[i] & DATA_OFF_LIMIT]);
		h = (h ^ s->rec.arg_int[i] ^ (head * (s->rec.arg_len[i] != 0))) * 0x100000001b3ULL;
	}
	return h;
}

/* True when this event must not be posted because an equal one was posted less than the
 * action's rateLimit ago. */
static __always_inline bool rate_limited(struct generic_scratch *s, const volatile struct vg_action_spec *a,
					 __u32 selector)
{
	struct rate_key k = {.selector = selector};
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 *last;

	if (!a->rate_limit_ns)
		return false;
	k.who = a->rate_scope == VG_RATE_THREAD ? s->rec.tid : a->rate_scope == VG_RATE_PROCESS ? s->rec.pid : 0;
	k.arg_hash = args_digest(s);
	last = bpf_map_lookup_elem(&rate_last, &k);
	if (last && now - *last < a->rate_limit_ns)
		return true;
	bpf_map_update_elem(&rate_last, &k, &now, BPF_ANY);
	return false;
}

/* Set: write v into USDT argument idx of the probe that fired, where its note says it lives
 * (libbpf's spec for this attach point, found by the cookie): only an argument in memory,
 * "-4@-20(%rbp)", which the compiler refused otherwise; as many bytes as the argument has.
 * bpf_probe_write_user writes the current task's own memory only. 0 or -errno. */
static __always_inline int usdt_set_arg(void *ctx, __u32 idx, __s32 v)
{
	struct __bpf_usdt_arg_spec *arg;
	struct __bpf_usdt_spec *spec;
	__u64 base, addr, val = (__u64)(__s64)v;
	int spec_id, n;

	if (cfg.fetch != VG_FETCH_USDT)
		return -EINVAL;
	spec_id = __bpf_usdt_spec_id(ctx);
	if (spec_id < 0)
		return -ESRCH;
	spec = bpf_map_lookup_elem(&__bpf_usdt_specs, &spec_id);
	if (!spec || idx >= BPF_USDT_MAX_ARG_CNT || idx >= spec->arg_cnt)
		return -ENOENT;
	arg = &spec->args[idx];
	if (arg->arg_type != BPF_USDT_ARG_REG_DEREF)
		return -EINVAL;
	if (bpf_probe_read_kernel(&base, sizeof(base), (void *)ctx + arg->reg_off))
		return -EFAULT;
	addr = base + arg->val_off;
	n = (64 - arg->arg_bitshift) / 8;
	if (n == 1)
		return bpf_probe_write_user((void *)addr, &val, 1);
	if (n == 2)
		return bpf_probe_write_user((void *)addr, &val, 2);
	if (n == 4)
		return bpf_probe_write_user((void *)addr, &val, 4);
	return bpf_probe_write_user((void *)addr, &val, 8);
}

/* Run a selector's actions (matchActions, or matchReturnActions at the return); returns
 * whether to post. Their bits go to *taken. *override gets an error to return from the
 * hooked operation when Override applies. */
static __always_inline bool run_actions(struct generic_scratch *s, void *ctx,
					const volatile struct vg_action_spec *acts, __u8 nacts, __u32 selector,
					__u32 *taken, int *override)
{
	bool post = true;
	int i;

	for (i = 0; i < VG_MAX_ACTIONS; i++) {
		const volatile struct vg_action_spec *a = &acts[i];
		__u32 bit;

		if (i >= nacts)
			break;
		bit = 1u << a->kind;
		switch (a->kind) {
		case VG_ACT_POST:
			if (rate_limited(s, a, selector))
				post = false;
			if (a->ima_hash)
				s->ima_wanted = 1;
			break;
		case VG_ACT_NOPOST:
			post = false;
			break;
		case VG_ACT_SIGKILL:
		case VG_ACT_SIGNAL:
			if (cfg.monitor) {
				s->rec.monitored |= bit;
				continue;
			}
			if (bpf_send_signal(a->kind == VG_ACT_SIGKILL ? SIGKILL : a->arg)) {
				count_error(VIGIL_KERR_SIGNAL_FAILED);
				continue;
			}
			break;
		case VG_ACT_OVERRIDE:
			if (cfg.monitor || !cfg.can_override) {
				s->rec.monitored |= bit;
				continue;
			}
			*override = a->arg;
			s->rec.override_err = a->arg;
			break;
		case VG_ACT_TRACKSOCK:
		case VG_ACT_UNTRACKSOCK:
			sock_track(s, s->sk[a->arg & ARG_SLOT_MASK], a->kind == VG_ACT_TRACKSOCK);
			break;
		case VG_ACT_SET:
			if (cfg.monitor) {
				s->rec.monitored |= bit;
				continue;
			}
			if (!ctx || usdt_set_arg(ctx, (__u32)a->set_arg_index, a->arg)) {
				count_error(VIGIL_KERR_SET_FAILED);
				continue;
			}
			break;
		}
		*taken |= bit;
	}
	return post;
}

static __always_inline bool do_actions(struct generic_scratch *s, void *ctx, const volatile struct vg_selector *sel,
				       __u32 selector, int *override)
{
	return run_actions(s, ctx, sel->actions, sel->nactions, selector, &s->rec.actions, override);
}

#endif
