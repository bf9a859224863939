/* syscall_prefilter.h - which of a syscall's hooks may match this call: every hook's
 * prefilter at once, from one copy of the registers (bpf/dispatch.h, "The hooks' prefilters").
 *
 * vg_syscall_prefilter(nr, regs, dir, &judged) takes the syscall's x86-64 argument registers
 * (a 32-bit call's already rewritten as its twin's) and returns the mask of the slots whose
 * hook must run: bit k clear means slot k's prefilter rejects the call, so no selector of that
 * hook can match it and its tail call is not worth making. A string argument's first bytes
 * are read once for all the hooks that compare them. judged gets the passing slots whose row
 * is their hook's whole prefilter: that hook need not run its own again. Nothing here is
 * specific to the raw_syscalls dispatcher: any program that has the registers and runs a
 * syscall's hooks by slot can ask. A syscall's quick test (vg_spf_quick) first answers for
 * all its rows at once whether any can pass; the rows are walked one by one only when one
 * may. The tables are filled by core/sensors/dispatch.c. */
#ifndef VIGIL_LIB_SYSCALL_PREFILTER_H
#define VIGIL_LIB_SYSCALL_PREFILTER_H

#include "dispatch.h"

/* syscall nr -> the row of each of its entry slots (exit hooks have none: they all run) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, struct vg_spf_chain);
} vg_spf_chains SEC(".maps");

/* row -> a hook's prefilter as the dispatcher evaluates it (row 0 unused: "no row") */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_SPF_ROWS);
	__type(key, __u32);
	__type(value, struct vg_spf_hook);
} vg_spf_hooks SEC(".maps");

/* quick test -> a syscall's rows' selectors as one (the chain names its entry; 0 unused) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_SPF_QUICKS);
	__type(key, __u32);
	__type(value, struct vg_spf_quick);
} vg_spf_quick SEC(".maps");

/* One call as the rows see it: its arguments, and each string argument's first bytes once
 * read (bit a of `read`; of `unread`: the read failed, and the string checks pass, as a
 * hook's own prefilter leaves such a call to its pipeline). */
struct vg_spf_call {
	__u64 arg[VG_SPF_REGS];
	__u64 word[VG_SPF_REGS];
	__u32 read;
	__u32 unread;
	/* the masks the loops below build, kept here rather than in registers: a value read
	 * from memory is one the verifier does not follow, so it does not walk each of the
	 * masks' combinations as a path of its own (Linux 6.1 would, past its 1M steps) */
	__u32 pass;	/* vg_spf_slots' answer */
	__u32 judged;	/* and its second one */
	__u32 ints;	/* vg_spf_judge: the checks that passed */
	__u32 need_str;	/* and the selectors that still need their strings */
};

/* Does integer check c pass on argument a? What bpf/lib/prefilter.h's pf_ints_pass asks of
 * one filter: int_match(f, sign_extend(arg)) != negate, with int_match's values as ranges.
 * c may be a constant (fentry_dispatch.bpf.c's specialised quick test): volatile, so that each
 * field is read where the verifier sees its value, none folded to the zeros it starts as. */
static __always_inline bool spf_int_pass(const volatile struct vg_spf_int *c, __u64 a)
{
	__u32 sh = c->shift & 63, j;
	__u64 v, f;
	bool hit;

	if (c->plain)
		return (a & c->mask) != 0;
	v = a << sh;
	v = c->sext ? (__u64)((__s64)v >> sh) : v >> sh;
	hit = (v & c->mask) != 0;
	f = v ^ c->flip;
#pragma unroll
	for (j = 0; j < VG_SPF_RANGES; j++) {
		if (j >= c->nranges)
			break;
		hit |= f - c->lo[j] <= c->span[j];
	}
	return hit != (bool)c->negate;
}

/* The checks of ints[0 .. n) that pass on the call, as bits of call->ints (max: how many ints
 * holds; a row's and a quick test's alike). */
static __always_inline void spf_ints(const struct vg_spf_int *ints, __u32 n, __u32 max, struct vg_spf_call *call)
{
	__u32 i, r;

	call->ints = 0;
	for (i = 0; i < max; i++) {
		if (i >= n)
			break;
		r = ints[i].reg;
		/* r >= VG_SPF_REGS: never compiled so; the check passes (a bound for the verifier) */
		if (r >= VG_SPF_REGS || spf_int_pass(&ints[i], call->arg[r]))
			call->ints |= 1u << i;
	}
}

/* The first bytes of the string at p, for comparing with values' first bytes under their
 * masks. A hook's prefilter reads them with read_str (VG_PF_BYTES
 * + 1 into zeros); the rows read VG_SPF_BYTES as they are, a plain copy (cheaper than the
 * string copy's scan), which only differs past the string's end: there a value's mask has
 * no byte, since a mask covers the value's own bytes, none of them NUL, so a string that ends
 * before a value does differs from it at its NUL either way. A copy that faults (a string
 * ending just before unmapped memory) is retried as the string read, which stops at the
 * NUL. p: the string's address; 0, or -1: it cannot be read. */
static __always_inline int spf_read_word(__u64 p, __u64 *word)
{
	if (bpf_probe_read_user(word, sizeof(__u64), (void *)p)) {
		char first[VG_SPF_BYTES + 8] = {};

		if (bpf_probe_read_user_str(first, VG_SPF_BYTES + 1, (void *)p) <= 0)
			return -1;
		__builtin_memcpy(word, first, sizeof(__u64));
	}
	return 0;
}

/* spf_read_word of string argument r, once a call; false: it cannot be read. */
static __always_inline bool spf_first_bytes(struct vg_spf_call *call, __u32 r, __u64 *word)
{
	if (r >= VG_SPF_REGS)
		return false;
	if (!(call->read & (1u << r))) {
		call->read |= 1u << r;
		if (spf_read_word(call->arg[r], &call->word[r]))
			call->unread |= 1u << r;
	}
	if (call->unread & (1u << r))
		return false;
	*word = call->word[r];
	return true;
}

/* Can a selector of hook h match the call? 1 yes (or cannot tell), 0 no. A global function:
 * the verifier checks it once, not once per slot of the caller's loop. */
__noinline int vg_spf_judge(const struct vg_spf_hook *h, struct vg_spf_call *call)
{
	__u32 ints, need_str, i, k;
	__u64 word;

	if (!h || !call)
		return 1;
	spf_ints(h->ints, h->nints, VG_SPF_INTS, call);
	ints = call->ints;
	call->need_str = 0;
	for (i = 0; i < VG_SPF_SELECTORS; i++) {
		if (i >= h->nsel)
			break;
		if ((h->sel[i].ints & ints) != h->sel[i].ints)
			continue;
		if (!h->sel[i].nstr)
			return 1;
		call->need_str |= 1u << i;
	}
	need_str = call->need_str;
	if (!need_str)
		return 0;
	if (!spf_first_bytes(call, h->str_reg, &word))
		return 1;
	for (i = 0; i < VG_SPF_SELECTORS; i++) {
		const struct vg_spf_selector *s = &h->sel[i];

		if (!(need_str & (1u << i)))
			continue;
		for (k = 0; k < VG_SPF_STRS; k++) {
			if (k >= s->nstr)
				break;
			if ((word & s->str_mask[k]) == s->str_word[k])
				return 1;
		}
	}
	return 0;
}

/* Can some row of the chain pass the call? 1 yes (or cannot tell: then the rows are
 * walked), 0 no: the answer of the walk of q's rows (bpf/dispatch.h, vg_spf_quick), from one
 * pass over their checks. A global function, as vg_spf_judge. */
__noinline int vg_spf_quick_maybe(const struct vg_spf_quick *q, struct vg_spf_call *call)
{
	__u32 i;
	__u64 word;

	if (!q || !call)
		return 1;
	spf_ints(q->ints, q->nints, VG_SPF_QINTS, call);
	call->need_str = 0;
	for (i = 0; i < VG_SPF_QSEL; i++) {
		const struct vg_spf_quick_sel *s = &q->sel[i];

		if (i >= q->nsel)
			break;
		if ((s->ints & call->ints) != s->ints)
			continue;
		if (!s->strs)
			return 1;
		call->need_str |= s->strs;
	}
	if (!call->need_str)
		return 0;
	if (!spf_first_bytes(call, q->str_reg, &word))
		return 1;
	for (i = 0; i < VG_SPF_QSTRS; i++) {
		if (i >= q->nstr || !(call->need_str >> i))
			break;	/* no string the call needs is left */
		if ((call->need_str & (1u << i)) && (word & q->str_mask[i]) == q->str_word[i])
			return 1;
	}
	return 0;
}

/* The slots of chain ch whose hooks must run for the call; call->judged: those whose row is
 * their hook's whole prefilter. A global function too: to the caller its result is a number
 * it knows nothing of, not one of the 2^16 masks the loop can make, each a path to verify
 * through the tail calls after it. */
__noinline __u32 vg_spf_slots(const struct vg_spf_chain *ch, struct vg_spf_call *call)
{
	struct vg_spf_hook *h;
	__u32 k, row;

	if (!ch || !call)
		return VG_SPF_ALL;
	call->pass = VG_SPF_ALL;
	call->judged = 0;
	for (k = 0; k < VG_SYSCALL_CHAIN; k++) {
		if (k >= ch->end)
			break;
		row = ch->row[k];
		if (!row)
			continue;
		h = bpf_map_lookup_elem(&vg_spf_hooks, &row);
		if (!h)
			continue;
		if (!vg_spf_judge(h, call))
			call->pass &= ~(1u << k);
		else if (h->exact)
			call->judged |= 1u << k;
	}
	return call->pass;
}

/* The slots of syscall nr whose hooks must run for this call (regs: its x86-64 argument
 * registers, a copy or the trampoline's typed struct); judged: those of them whose hook's
 * prefilter was wholly evaluated here. dir 1 (exit): every slot, none judged. */
static __always_inline __u32 vg_syscall_prefilter(__u32 nr, const struct pt_regs *regs, __u32 dir, __u32 *judged)
{
	*judged = 0;
#if defined(__TARGET_ARCH_x86)
	struct vg_spf_call call = {};
	struct vg_spf_quick *q = NULL;
	struct vg_spf_chain *ch;
	__u32 pass, quick;

	if (dir || nr >= VG_SYSCALL_SLOTS)
		return VG_SPF_ALL;
	ch = bpf_map_lookup_elem(&vg_spf_chains, &nr);
	if (!ch || !ch->end)
		return VG_SPF_ALL;
	call.arg[0] = regs->di;
	call.arg[1] = regs->si;
	call.arg[2] = regs->dx;
	call.arg[3] = regs->r10;
	call.arg[4] = regs->r8;
	call.arg[5] = regs->r9;
	quick = ch->quick;
	if (quick)
		q = bpf_map_lookup_elem(&vg_spf_quick, &quick);
	if (q && !vg_spf_quick_maybe(q, &call))
		return q->none;	/* every row rejects the call; judged: none */
	pass = vg_spf_slots(ch, &call);
	*judged = call.judged;
	return pass;
#else
	return VG_SPF_ALL;
#endif
}

#endif
