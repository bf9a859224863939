/* dispatch_prefilter.c - a dispatched hook's prefilter as the dispatcher evaluates it: its
 * row (bpf/dispatch.h, "The hooks' prefilters").
 *
 * The row is read from the hook's compiled configuration (the rodata its program was loaded
 * with), so it says what bpf/lib/prefilter.h checks there: each integer filter int_match
 * answers on sign_extend(register), its values rewritten as unsigned ranges (signed ones
 * with the sign bit flipped, which keeps their order) and Mask's values as one mask; each
 * selector's string values' first bytes, on the register of the hook's string argument.
 * What a row cannot hold it leaves out, only ever letting more calls through, and then is
 * not exact: the hook runs its own prefilter too. */
#include <string.h>

#include "sensors_internal.h"

#define SIGN (1ULL << 63)

/* The capture's sign_extend (bpf/lib/args.h) as shifts. */
static void extension(uint8_t type, struct vg_spf_int *c)
{
	switch (type) {
	case VG_ARG_INT: c->shift = 32, c->sext = 1; break;
	case VG_ARG_SINT8: c->shift = 56, c->sext = 1; break;
	case VG_ARG_UINT8: c->shift = 56; break;
	case VG_ARG_SINT16: c->shift = 48, c->sext = 1; break;
	case VG_ARG_UINT16: c->shift = 48; break;
	case VG_ARG_UINT32:
	case VG_ARG_CAPABILITY: c->shift = 32; break;
	default: break;
	}
}

struct ranges {
	unsigned int n;
	uint64_t lo[VG_MAX_VALUES], hi[VG_MAX_VALUES];
};

static void add_range(struct ranges *r, uint64_t lo, uint64_t hi)
{
	if (lo <= hi && r->n < VG_MAX_VALUES) {	/* lo > hi matches nothing: nothing to test */
		r->lo[r->n] = lo;
		r->hi[r->n++] = hi;
	}
}

/* The ranges in order, those that overlap or touch as one (Equal 0, 1, 2 is one range), into
 * the check; false: more than it holds. */
static bool put_ranges(struct ranges *r, struct vg_spf_int *c)
{
	unsigned int i, j;

	for (i = 1; i < r->n; i++)	/* insertion sort by lo: at most VG_MAX_VALUES */
		for (j = i; j > 0 && r->lo[j] < r->lo[j - 1]; j--) {
			uint64_t lo = r->lo[j], hi = r->hi[j];

			r->lo[j] = r->lo[j - 1], r->hi[j] = r->hi[j - 1];
			r->lo[j - 1] = lo, r->hi[j - 1] = hi;
		}
	for (i = 0; i < r->n; i++) {
		if (c->nranges && (c->span[c->nranges - 1] + c->lo[c->nranges - 1] == UINT64_MAX ||
				   r->lo[i] <= c->lo[c->nranges - 1] + c->span[c->nranges - 1] + 1)) {
			uint64_t end = c->lo[c->nranges - 1] + c->span[c->nranges - 1];

			if (r->hi[i] > end)
				c->span[c->nranges - 1] = r->hi[i] - c->lo[c->nranges - 1];
			continue;
		}
		if (c->nranges >= VG_SPF_RANGES)
			return false;
		c->lo[c->nranges] = r->lo[i];
		c->span[c->nranges++] = r->hi[i] - r->lo[i];
	}
	return true;
}

/* int_match's values (bpf/lib/selectors.h), value by value, as ranges of v ^ flip or the
 * mask; false: more ranges than the check holds. */
static bool int_ranges(const struct vg_arg_filter *f, struct vg_spf_int *c)
{
	uint64_t flip = f->is_signed && (f->int_op == VG_INT_GT || f->int_op == VG_INT_LT || f->int_op == VG_INT_RANGE) ?
			SIGN : 0;
	struct ranges r = {0};
	unsigned int i;

	c->flip = flip;
	for (i = 0; i < VG_MAX_VALUES && i < f->nvalues; i++) {
		uint64_t want = f->values[i] ^ flip;

		switch (f->int_op) {
		case VG_INT_EQ: add_range(&r, want, want); break;
		case VG_INT_GT: if (want != UINT64_MAX) add_range(&r, want + 1, UINT64_MAX); break;
		case VG_INT_LT: if (want) add_range(&r, 0, want - 1); break;
		case VG_INT_MASK: c->mask |= f->values[i]; break;
		case VG_INT_RANGE:
			/* as int_match: the pair's high end read even past nvalues */
			if (i + 1 < VG_MAX_VALUES)
				add_range(&r, want, f->values[i + 1] ^ flip);
			i++;
			break;
		default: return false;
		}
	}
	return put_ranges(&r, c);
}

/* c's index among the n checks of ints (max at most), appended when new; -1: no room. Equal
 * checks are one: two selectors' equal filters, or two rows', share it. */
static int intern_check(struct vg_spf_int *ints, uint8_t *n, size_t max, const struct vg_spf_int *c)
{
	int j;

	for (j = 0; j < *n; j++)
		if (!memcmp(&ints[j], c, sizeof(*c)))
			return j;
	if (*n >= max)
		return -1;
	ints[*n] = *c;
	return (*n)++;
}

/* Check j of the row for filter f, or -1 when the row cannot hold it. Two selectors' equal
 * filters share one check. */
static int int_check(const struct vg_hook_config *cfg, const struct vg_arg_filter *f, struct vg_spf_hook *row)
{
	const struct vg_arg_spec *a = &cfg->args[f->slot % VG_MAX_ARGS];
	struct vg_spf_int c;

	memset(&c, 0, sizeof(c));
	if (a->index >= VG_SPF_REGS || a->nsteps || a->type == VG_ARG_SYSCALL64)
		return -1;	/* not a register as it is */
	c.reg = a->index;
	c.negate = f->negate != 0;
	extension(a->type, &c);
	if (!int_ranges(f, &c))
		return -1;
	return intern_check(row->ints, &row->nints, VG_SPF_INTS, &c);
}

/* The string checks' register, or -1 when they are read otherwise. */
static int string_register(const struct vg_hook_config *cfg)
{
	const struct vg_arg_spec *a = &cfg->args[cfg->pf.str_slot % VG_MAX_ARGS];

	if (cfg->pf.str_slot >= VG_MAX_ARGS || a->index >= VG_SPF_REGS || a->nsteps || !a->user)
		return -1;
	return a->index;
}

bool dispatch_prefilter_row(const struct vg_hook_config *cfg, struct vg_spf_hook *row)
{
	int str_reg = string_register(cfg);
	uint32_t i, k;

	memset(row, 0, sizeof(*row));
	/* a raw_syscalls hook's arguments, or an fentry hook's on __x64_sys_X (its syscall's
	 * fentry dispatcher asks too: fentry_dispatch.bpf.c), are the registers by index */
	if ((cfg->fetch != VG_FETCH_RAW_SYSCALL && cfg->fetch != VG_FETCH_SYSCALL_CTX) || !cfg->pf.on ||
	    cfg->nselectors > VG_SPF_SELECTORS)
		return false;
	row->exact = 1;
	row->nsel = (uint8_t)cfg->nselectors;
	row->str_reg = str_reg < 0 ? 0 : (uint8_t)str_reg;
	for (i = 0; i < cfg->nselectors; i++) {
		const struct vg_pf_selector *ps = &cfg->pf.sel[i];
		struct vg_spf_selector *s = &row->sel[i];

		for (k = 0; k < ps->nint && k < VG_MAX_MATCH_ARGS; k++) {
			int j = int_check(cfg, &cfg->sel[i].args[ps->int_filter[k] % VG_MAX_MATCH_ARGS], row);

			if (j < 0)
				row->exact = 0;	/* left out: the selector passes more */
			else
				s->ints |= (uint8_t)(1u << j);
		}
		if (ps->nstr && (str_reg < 0 || ps->nstr > VG_SPF_STRS)) {
			row->exact = 0;
		} else if (ps->nstr) {
			s->nstr = ps->nstr;
			memcpy(s->str_word, ps->str_word, sizeof(uint64_t) * ps->nstr);
			memcpy(s->str_mask, ps->str_mask, sizeof(uint64_t) * ps->nstr);
		}
		if (!s->ints && !s->nstr)
			return false;	/* this selector passes every call: so does the hook */
	}
	return true;
}

/* Check c's index among q's, added if new (plain when it is a Mask alone on bits below those
 * the capture's extension rewrites: the register's own); -1: q holds no more. */
static int quick_int(struct vg_spf_quick *q, const struct vg_spf_int *c)
{
	struct vg_spf_int t = *c;

	t.plain = !c->nranges && !c->negate && (c->shift == 0 || c->mask >> (64 - c->shift) == 0);
	return intern_check(q->ints, &q->nints, VG_SPF_QINTS, &t);
}

/* The string's index among q's, added if new; -1: q holds no more. */
static int quick_str(struct vg_spf_quick *q, uint64_t word, uint64_t mask)
{
	int j;

	for (j = 0; j < q->nstr; j++)
		if (q->str_word[j] == word && q->str_mask[j] == mask)
			return j;
	if (q->nstr >= VG_SPF_QSTRS)
		return -1;
	q->str_word[q->nstr] = word;
	q->str_mask[q->nstr] = mask;
	return q->nstr++;
}

bool dispatch_prefilter_quick(const struct vg_spf_hook *const rows[VG_SYSCALL_CHAIN], struct vg_spf_quick *q)
{
	int str_reg = -1, k, i, j, m;

	memset(q, 0, sizeof(*q));
	q->none = UINT32_MAX;
	/* the strings of selectors without an integer check first: every call needs them, and
	 * the dispatcher stops after the last string a call needs (an open for reading, against
	 * openat's shipped hooks: monitor-sensitive-files' four, then no more) */
	for (k = 0; k < VG_SYSCALL_CHAIN; k++)
		for (i = 0; rows[k] && i < rows[k]->nsel && i < VG_SPF_SELECTORS; i++)
			for (j = 0; !rows[k]->sel[i].ints && j < rows[k]->sel[i].nstr && j < VG_SPF_STRS; j++)
				if (quick_str(q, rows[k]->sel[i].str_word[j], rows[k]->sel[i].str_mask[j]) < 0)
					return false;
	for (k = 0; k < VG_SYSCALL_CHAIN; k++) {
		const struct vg_spf_hook *h = rows[k];

		if (!h)
			continue;
		q->none &= ~(1u << k);
		for (i = 0; i < h->nsel && i < VG_SPF_SELECTORS; i++) {
			const struct vg_spf_selector *s = &h->sel[i];
			struct vg_spf_quick_sel *e;

			if (q->nsel >= VG_SPF_QSEL)
				return false;
			e = &q->sel[q->nsel++];
			for (j = 0; j < h->nints && j < VG_SPF_INTS; j++) {
				if (!(s->ints & (1u << j)))
					continue;
				m = quick_int(q, &h->ints[j]);
				if (m < 0)
					return false;
				e->ints |= (uint8_t)(1u << m);
			}
			if (!s->nstr)
				continue;
			if (str_reg >= 0 && str_reg != h->str_reg)
				return false;	/* strings on two registers: one read is not enough */
			str_reg = h->str_reg;
			for (j = 0; j < s->nstr && j < VG_SPF_STRS; j++) {
				m = quick_str(q, s->str_word[j], s->str_mask[j]);
				if (m < 0)
					return false;
				e->strs |= (uint16_t)(1u << m);
			}
		}
	}
	q->str_reg = str_reg < 0 ? 0 : (uint8_t)str_reg;
	return q->none != UINT32_MAX;
}
