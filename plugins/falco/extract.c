/* extract.c - field extraction over the read-once view, and the event's text line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "falco_internal.h"

/* Another event than the last call's: the previous results may go, the ABIs keep them only
 * until here. Apart from the check for the same event so that check saves no registers. */
static __attribute__((noinline)) int begin_event(struct fp_state *st, const void *payload, size_t len,
						  uint64_t evtnum)
{
	int err = 0;

	arena_reset(&st->arena);
	st->event_gen++;
	st->cur = payload && len ? lookup_view(st, payload, len, evtnum) : NULL;
	if (!st->cur) {
		err = payload && len && errno == ENOMEM ? -ENOMEM : -EBADMSG;
		st->cnt.undecodable++;
		state_fail(st, "vigil: cannot extract fields: event payload of %zu bytes is not a vigil event (%s)", len,
			   strerror(-err));
	}
	return err;
}

int fp_extract__begin(struct fp_state *st, const void *payload, size_t len, uint64_t evtnum)
{
	const struct lookup *lk = &st->lookup;

	/* the same event as the last call (Falco asks field by field): its results stand */
	if (st->cur && lk->view == st->cur && payload == lk->data && len == lk->len && evtnum == lk->evtnum &&
	    evtnum != FP_NO_EVTNUM)
		return 0;
	return begin_event(st, payload, len, evtnum);
}

/* A field that reads one string or integer as it is, and finds one: answered here, without
 * the getters' machinery (most of every rule's fields). false: take the general way. */
static bool plain(struct fp_state *st, const struct fp_field *f, uint32_t field_id, struct fp_result *r)
{
	const char *s;
	uint32_t n;

	if (!(f->flags & (FIELD_TEXT | FIELD_UINT)))
		return false;
	if (!view_has(st->cur, fp_field_keys[field_id])) {
		/* absent: no values (most fields of most events) */
		r->v = (struct fp_values){ .type = f->type };
	} else if (f->flags & FIELD_TEXT) {
		if (!view_str(st->cur, fp_field_keys[field_id], &s, &n))
			return false;
		r->one.str = arena_strndup(&st->arena, s, n);
		if (!r->one.str)
			return false;	/* the general way reports it */
		/* a lone string or integer is what both flavours take as it is */
		r->v = (struct fp_values){ .type = f->type, .n = 1, .str = &r->one.str };
	} else if (view_uint(st->cur, fp_field_keys[field_id], &r->one.u64)) {
		r->v = (struct fp_values){ .type = f->type, .n = 1, .u64 = &r->one.u64 };
	} else {
		return false;
	}
	r->gen = st->event_gen;
	r->field_id = field_id;
	r->arg_present = false;
	r->arg_index = 0;
	return true;
}

/* A field not computed yet for this event: the getter, its result kept for the next rule.
 * Apart from the cached path so that path saves no registers. */
static __attribute__((noinline)) int compute(struct fp_state *st, const struct fp_field *f, uint32_t field_id,
					      struct fp_result *r, bool arg_present, uint64_t arg_index,
					      enum fp_flavour flavour, struct fp_values *out)
{
	struct fx x;
	int err = 0;

	if (st->cur && !arg_present && plain(st, f, field_id, r)) {
		*out = r->v;
		return 0;
	}
	*out = (struct fp_values){ .type = f->type };
	if (!st->cur)
		return 0;
	x = (struct fx){ .st = st, .v = st->cur, .type = f->type, .arg_present = arg_present, .arg_index = arg_index };
	/* an indexed field may be asked for twice in one call (args[0], args[1]): its values
	 * live in the arena, so another index does not overwrite what the first returned */
	if (!(f->flags & FIELD_INDEX))
		x.one = &r->one;
	f->get(&x, f);
	if (flavour == FP_FLAVOUR_V0)
		fx_flatten(&x);
	/* a scalar field reports one value even if a getter found more */
	if (!(f->flags & FIELD_LIST) && x.n > 1)
		x.n = 1;
	err = x.err;
	if (err) {
		r->gen = 0;
		state_fail(st, "vigil: extracting %s failed: %s", f->name, strerror(-err));
		return err;
	}
	out->type = x.type;
	out->n = x.n;
	out->str = x.str;
	*r = (struct fp_result){ .gen = st->event_gen, .field_id = field_id, .arg_index = arg_index,
				 .arg_present = arg_present, .v = *out, .one = r->one };
	return 0;
}

static __attribute__((noinline)) int no_field(struct fp_state *st, uint32_t field_id, struct fp_values *out)
{
	memset(out, 0, sizeof(*out));
	state_fail(st, "vigil: no field with id %u (the plugin has %zu)", field_id, fp_nfields);
	return -EINVAL;
}

int fp_extract__field(struct fp_state *st, uint32_t field_id, bool arg_present, uint64_t arg_index,
		      enum fp_flavour flavour, struct fp_values *out)
{
	const struct fp_field *f;
	struct fp_result *r;

	if (field_id >= fp_nfields)
		return no_field(st, field_id, out);
	f = &fp_fields[field_id];
	r = f->flags & FIELD_INDEX ? &st->indexed[(field_id * 7 + arg_index) % FP_INDEXED_RESULTS]
				   : &st->results[field_id];
	/* computed for this event already: the next rule asking for it gets the same values */
	if (r->gen == st->event_gen && st->cur && r->field_id == field_id && r->arg_present == arg_present &&
	    (!arg_present || r->arg_index == arg_index)) {
		*out = r->v;
		return 0;
	}
	return compute(st, f, field_id, r, arg_present, arg_index, flavour, out);
}

const char *fp_describe(struct fp_state *st, const void *payload, size_t len)
{
	const struct vigil_msg *m;
	int err;

	/* a full decode: only lines that are shown pay for it */
	vigil_msg__free(st->shown);
	st->shown = payload && len ? vigil_msg__decode(payload, len) : NULL;
	m = st->shown;
	err = m ? 0 : -EBADMSG;
	vigil_buf_reset(&st->text);
	if (m)
		err = vigil_msg__to_compact(m, NULL, &st->text);
	if (err) {
		vigil_buf_reset(&st->text);
		/* never NULL: sysdig prints what it gets */
		if (vigil_buf_printf(&st->text, "<vigil event of %zu bytes that cannot be shown: %s>", len,
				     strerror(-err)))
			return "<vigil event that cannot be shown>";
	}
	return st->text.data ? st->text.data : "";
}
