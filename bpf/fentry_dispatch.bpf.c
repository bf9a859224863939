/* fentry_dispatch.bpf.c - with BPF trampolines, the one fentry program on a hooked syscall's
 * function (__x64_sys_X): it tail-calls the syscall's fentry hooks through vg_fentry
 * (bpf/dispatch.h), so the
 * trampoline calls one program, with one enter and exit bookkeeping, however many policies
 * hook the syscall, and it runs their prefilters itself, tail-calling only the hooks that
 * may match. One instance per function, loaded by core/sensors/fentry_dispatch.c. */
#include "vigil_bpf.h"
#include "lib/dispatch_maps.h"
#include "lib/syscall_prefilter.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target;	/* its syscall's number: its chain in vg_fentry */

/* The chain's quick test (bpf/dispatch.h) as constants. fentry_dispatch.c loads a second
 * instance of this program with them (specialised) and puts it in vg_fentry_fast, which the
 * attached one tail-calls first: there the verifier knows every field, so the program keeps
 * only the checks this chain has, not the loops over the map's entry (an open for reading
 * against openat's shipped chain: two flags masks and four compares of the path's first
 * bytes). The attached instance, alone until then or when the chain has no quick test, runs
 * the generic walk. */
const volatile __u8 specialised;
const volatile struct vg_spf_quick quick;
/* quick's selectors folded into one table by the loader (fentry_dispatch.c sel_table): for
 * each set of its integer checks that pass (bit j: ints[j]), the strings the call still needs
 * (bit s: str_word[s]), and VG_SPF_QPASS when a selector without strings passes. One load in
 * place of a test per selector (~12 BPF instructions each, four on openat's chain). */
const volatile __u32 sel_need[1 << VG_SPF_QINTS];

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} vg_fentry_fast SEC(".maps");

/* Every hook's prefilter at once (bpf/lib/syscall_prefilter.h) on the call's argument
 * registers (a 32-bit call's rewritten in c; a 64-bit call's read where the trampoline has
 * them), then, when some hook is to run, the registers copied into c (a 32-bit call's are
 * there already) and the slots whose hook may match, and those whose whole prefilter passed
 * here, said to the hooks (generic.bpf.c) with the call they are for. A call no hook may
 * match (the open storm's) writes nothing. Every slot when there is no copy. */
static __always_inline __u32 prefilter_all(struct vg_sys_regs *c, struct pt_regs *regs, __u32 nr, int compat)
{
#if defined(__TARGET_ARCH_x86)
	__u32 judged, pass;

	if (!c)
		return VG_SPF_ALL;
	if (compat) {
		pass = vg_syscall_prefilter(nr, &c->r, 0, &judged);
	} else {
		pass = vg_syscall_prefilter(nr, regs, 0, &judged);
		if (!pass)
			return 0;
		c->regs = 0;	/* r no longer the raw_syscalls dispatcher's copy */
		c->r.di = regs->di;
		c->r.si = regs->si;
		c->r.dx = regs->dx;
		c->r.r10 = regs->r10;
		c->r.r8 = regs->r8;
		c->r.r9 = regs->r9;
	}
	c->pass = pass;
	c->judged = judged;
	c->fentry_call = (__u64)regs;
	return pass;
#else
	return VG_SPF_ALL;
#endif
}

/* A lone hook in the chain's first slot prefilters itself: the rows' walk costs more than its
 * own check (596 against 341 instructions a run, vm lane). Its verdicts are forgotten, so the
 * hook finds none for this call and judges it alone. */
static __always_inline bool lone_hook(struct vg_sys_regs *c, __u32 nr)
{
	__u32 *end;

	end = nr < VG_FENTRY_TARGETS ? bpf_map_lookup_elem(&vg_fentry_ends, &nr) : NULL;
	if (!end || *end != 1)
		return false;
	if (c)
		c->fentry_call = 0;
	return true;
}

#if defined(__TARGET_ARCH_x86)
/* Argument register r of the call (r < VG_SPF_REGS): a load at the byte offset the
 * verifier knows r's (a constant index into a constant table), where vg_syscall_reg_typed's
 * switch made clang keep a pointer per register on the stack for every check. */
static const __u8 reg_off[VG_SPF_REGS] = {
	__builtin_offsetof(struct pt_regs, di), __builtin_offsetof(struct pt_regs, si),
	__builtin_offsetof(struct pt_regs, dx), __builtin_offsetof(struct pt_regs, r10),
	__builtin_offsetof(struct pt_regs, r8), __builtin_offsetof(struct pt_regs, r9),
};

static __always_inline __u64 fast_reg(const struct pt_regs *regs, __u32 r)
{
	return *(const __u64 *)((const char *)regs + reg_off[r]);
}

/* Can some row of the chain pass this 64-bit call? vg_spf_quick_maybe's answer on `quick`,
 * its loops unrolled so that each field is read at a constant offset, where the verifier
 * knows its value and hard-wires each branch on it. The verifier (6.1) keeps a hard-wired
 * test's instructions (the field's load, the jump) and removes nothing reachable, so: the
 * checks' loop stops at the first the chain does not have rather than testing all
 * VG_SPF_QINTS, a register read for one check serves the next on the same register
 * (openat's two flags masks), the selectors are one load from sel_need, and the strings'
 * loop tests only the bits of need. 1 yes (or cannot tell), 0 no. */
static __always_inline int fast_maybe(const struct pt_regs *regs)
{
	__u32 ints = 0, need = 0, i;
	__u64 word, v = 0;

#pragma unroll
	for (i = 0; i < VG_SPF_QINTS; i++) {
		if (i >= quick.nints)
			break;
		/* reg >= VG_SPF_REGS: never compiled so; the check passes (as spf_ints) */
		if (quick.ints[i].reg >= VG_SPF_REGS) {
			ints |= 1u << i;
			continue;
		}
		if (i == 0 || quick.ints[i].reg != quick.ints[i - 1].reg)
			v = fast_reg(regs, quick.ints[i].reg);
		if (spf_int_pass(&quick.ints[i], v))
			ints |= 1u << i;
	}
	need = sel_need[ints & ((1u << VG_SPF_QINTS) - 1)];
	if (need & VG_SPF_QPASS)
		return 1;
	if (!need)
		return 0;
	if (quick.str_reg >= VG_SPF_REGS || spf_read_word(fast_reg(regs, quick.str_reg), &word))
		return 1;
#pragma unroll
	for (i = 0; i < VG_SPF_QSTRS; i++) {
		if ((need & (1u << i)) && (word & quick.str_mask[i]) == quick.str_word[i])
			return 1;
		/* need's bits are strings of the chain (below nstr): no test of nstr */
		if (!(need >> i >> 1))
			break;	/* no string the call needs is left */
	}
	return 0;
}
#endif

/* ctx[0]: the syscall's struct pt_regs. On the open storm no hook's prefilter passes: the
 * call costs this program's tail call to the specialised instance, its checks, and no tail
 * call to a hook. vg_sys_regs is looked up once, and only when a hook may run (on 6.1 a
 * per-CPU array's lookup is a helper call). */
SEC("fentry")
int fentry_dispatch(__u64 *ctx)
{
	__u32 nr, pass, zero = 0;
	struct pt_regs *regs;
	struct vg_sys_regs *c;
	int compat;

	/* the tail call first: what the attached instance loads before it, it loads for nothing
	 * when the specialised one answers, and that one would load it too */
	if (!specialised)
		bpf_tail_call(ctx, &vg_fentry_fast, 0);	/* returns when there is none */
	regs = (struct pt_regs *)ctx[0];
#if defined(__TARGET_ARCH_x86)
	/* every row rejects (and every slot has one): no hook runs, nothing is written.
	 * vg_sys_regs' wrapper_regs may still name an earlier 32-bit call of the task: whatever
	 * reads it sets it first for its own call. No TS_COMPAT test before it (a helper call on
	 * 6.1): this program is on __x64_sys_X, which the i386 table never calls (it calls
	 * __ia32_sys_X or __ia32_compat_sys_X: core/sensors/mechanism.c ia32_wrapper), and the
	 * flag is set only while a 32-bit syscall runs, so the call here is a 64-bit one; a call
	 * the test passes still goes through vg_wrapper_compat_in below, as before. */
	if (specialised && !quick.none && !fast_maybe(regs))
		return 0;
#endif
	nr = target;
	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	/* what each hook's own would do, once for all of them: -1 no hook runs */
	compat = vg_wrapper_compat_in(c, regs, (int)nr);
	if (compat < 0)
		return 0;
	if (!compat && lone_hook(c, nr)) {
		fentry_chain_from(ctx, nr, 0, 1);
		return 0;
	}
	pass = prefilter_all(c, regs, nr, compat);
	if (pass)
		fentry_chain_from(ctx, target, 0, pass);
	return 0;
}
