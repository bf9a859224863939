/* prefilter.c - compile a hook's prefilter (bpf/prefilter.h): per selector, the checks
 * that can reject a call from its raw arguments before anything is read or recorded.
 *
 * Only checks that the selector's own filters imply are taken, so a call the prefilter
 * rejects is one no selector matches:
 *   - an integer filter (kind VG_F_INT on the value) of a plain integer argument, which
 *     the capture records as the raw value sign-extended (capability sets are read through
 *     a pointer instead: not taken);
 *   - one Prefix or Equal filter (not negated, no "list:" values, which change at run
 *     time) of a string argument read as-is (type string), on the hook's first such
 *     argument: its values' first VG_PF_BYTES bytes.
 * VIGIL_PREFILTER=off in the agent's environment compiles none: the same events, at the
 * full pipeline's cost (tests/host/test_prefilter.py compares the two). */
#include <stdlib.h>
#include <string.h>

#include "sensors_internal.h"

static bool plain_int(const struct vg_arg_spec *a)
{
	switch (a->type) {
	case VG_ARG_KERNEL_CAP_T:
	case VG_ARG_CAP_INHERITABLE:
	case VG_ARG_CAP_PERMITTED:
	case VG_ARG_CAP_EFFECTIVE:
		return false;
	}
	return a->class == VG_CLASS_INT && !a->return_copy;
}

static bool int_check(const struct vg_hook_config *cfg, const struct vg_arg_filter *f)
{
	return f->kind == VG_F_INT && f->field == VG_FIELD_VALUE && plain_int(&cfg->args[f->slot % VG_MAX_ARGS]);
}

/* The first bytes of each value, or false when the filter cannot be checked that way. */
static bool str_check(const struct vg_hook_config *cfg, const struct vg_arg_filter *f,
		      const struct vigil_match_arg *m, struct vg_pf_selector *ps)
{
	const struct vg_arg_spec *a = &cfg->args[f->slot % VG_MAX_ARGS];
	size_t i;

	if ((f->kind != VG_F_STR_PREFIX && f->kind != VG_F_STR_EQ) || f->negate)
		return false;
	if (a->type != VG_ARG_STRING || a->class != VG_CLASS_STRING || a->return_copy)
		return false;
	if (!m->nvalues || m->nvalues > VG_PF_VALUES)
		return false;
	for (i = 0; i < m->nvalues; i++)
		if (!strncmp(m->values[i], "list:", 5))
			return false;
	for (i = 0; i < m->nvalues; i++) {
		size_t n = strlen(m->values[i]);
		uint8_t ones[VG_PF_BYTES];

		if (n > VG_PF_BYTES)
			n = VG_PF_BYTES;
		memset(ones, 0xff, n);
		ps->str_word[i] = ps->str_mask[i] = 0;
		memcpy(&ps->str_word[i], m->values[i], n);	/* byte order as the program loads it */
		memcpy(&ps->str_mask[i], ones, n);
	}
	ps->nstr = (uint8_t)m->nvalues;
	return true;
}

void compile_prefilter(const struct vigil_hook *hook, struct compiled_hook *h)
{
	const char *knob = getenv("VIGIL_PREFILTER");
	struct vg_prefilter *pf = &h->cfg.pf;
	bool have_slot = false;
	size_t i, j;

	memset(pf, 0, sizeof(*pf));
	if (!h->cfg.nselectors || h->cfg.fetch == VG_FETCH_SOCK_ADDR || (knob && !strcmp(knob, "off")))
		return;
	for (i = 0; i < h->cfg.nselectors; i++) {
		const struct vg_selector *sel = &h->cfg.sel[i];
		struct vg_pf_selector *ps = &pf->sel[i];

		for (j = 0; j < sel->nargs; j++) {
			const struct vg_arg_filter *f = &sel->args[j];

			if (int_check(&h->cfg, f)) {
				ps->int_filter[ps->nint++] = (uint8_t)j;
				continue;
			}
			if (ps->nstr || (have_slot && f->slot != pf->str_slot))
				continue;
			if (str_check(&h->cfg, f, &hook->selectors[i].args[j], ps)) {
				pf->str_slot = f->slot;
				have_slot = true;
			}
		}
		if (!ps->nint && !ps->nstr) {
			memset(pf, 0, sizeof(*pf));	/* this selector passes everything */
			return;
		}
	}
	pf->on = 1;
}
