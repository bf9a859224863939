/* prefilter.h - the hook's prefilter (bpf/prefilter.h): reject before any capture. Needs
 * `cfg` and args.h / selectors.h (fetch_raw, sign_extend, read_str, int_match). */
#ifndef VIGIL_LIB_PREFILTER_H
#define VIGIL_LIB_PREFILTER_H

/* Do the selector's integer checks pass on the raw arguments? */
static __always_inline bool pf_ints_pass(void *ctx, __u32 i)
{
	const volatile struct vg_pf_selector *ps = &cfg.pf.sel[i];
	int j;

	for (j = 0; j < VG_MAX_MATCH_ARGS; j++) {
		const volatile struct vg_arg_filter *f;
		__u32 k = ps->int_filter[j], slot;
		__u64 v;

		if (j >= ps->nint)
			break;
		if (k >= VG_MAX_MATCH_ARGS)
			return true;	/* never compiled so: a bound for the verifier */
		f = &cfg.sel[i].args[k];
		slot = f->slot;
		if (slot >= VG_MAX_ARGS)
			return true;
		/* what capture_arg records for a plain integer */
		v = sign_extend(fetch_raw(ctx, slot), cfg.args[slot].type);
		if (int_match(f, v) == (bool)f->negate)
			return false;
	}
	return true;
}

static __always_inline bool pf_str_pass(__u32 i, __u64 word)
{
	const volatile struct vg_pf_selector *ps = &cfg.pf.sel[i];
	int k;

	for (k = 0; k < VG_PF_VALUES; k++) {
		if (k >= ps->nstr)
			break;
		if ((word & ps->str_mask[k]) == ps->str_word[k])
			return true;
	}
	return false;
}

/* false: no selector can match this call. */
static __always_inline bool prefilter_pass(void *ctx)
{
	__u32 need_str = 0, slot = cfg.pf.str_slot;
	char first[VG_PF_BYTES + 8] = {};
	__u64 word;
	int i;

	if (!cfg.pf.on)
		return true;
	for (i = 0; i < VG_MAX_SELECTORS; i++) {
		if (i >= cfg.nselectors)
			break;
		if (!pf_ints_pass(ctx, i))
			continue;
		if (!cfg.pf.sel[i].nstr)
			return true;
		need_str |= 1u << i;
	}
	if (!need_str)
		return false;
	if (slot >= VG_MAX_ARGS)
		return true;
	/* the same read capture_bytes makes, of the first bytes only; a read that fails here
	 * leaves the decision to the pipeline */
	if (read_str(first, VG_PF_BYTES + 1, fetch_raw(ctx, slot), cfg.args[slot].user) <= 0)
		return true;
	__builtin_memcpy(&word, first, sizeof(word));
	for (i = 0; i < VG_MAX_SELECTORS; i++) {
		if (i >= cfg.nselectors)
			break;
		if ((need_str & (1u << i)) && pf_str_pass(i, word))
			return true;
	}
	return false;
}

#endif
