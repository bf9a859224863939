/* resolve.c - a data entry's resolve path ("mm.owner.real_parent.pid") into the steps the
 * kernel side walks from the current task (struct vg_arg_spec's step_off / step_deref), from
 * the kernel's BTF: member offsets, pointers followed, the last field read as a value or, for
 * an array such as comm, by its address. */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sensors_internal.h"

/* The member called name of the struct or union id, looking into anonymous members;
 * *bits is its offset from the start of id. Returns the member's type id, or -ENOENT. */
static int find_member(const struct btf *btf, int id, const char *name, unsigned int *bits, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	unsigned int i, inner;
	int found;

	if (!t || !btf_is_composite(t) || depth > 8)
		return -ENOENT;
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);

		if (btf_member_bitfield_size(t, i))
			continue;	/* bitfields cannot be read as whole bytes */
		if (mname && !strcmp(mname, name)) {
			*bits = btf_member_bit_offset(t, i);
			return (int)m->type;
		}
		if (!mname || !mname[0]) {
			found = find_member(btf, btf__resolve_type(btf, m->type), name, &inner, depth + 1);
			if (found >= 0) {
				*bits = btf_member_bit_offset(t, i) + inner;
				return found;
			}
		}
	}
	return -ENOENT;
}

/* Walk a->resolve from the struct id into spec's steps. */
static int walk(struct compile_ctx *ctx, const struct vigil_policy_arg *a, int id, struct vg_arg_spec *spec)
{
	char path[256], *field, *save = NULL;
	const struct btf_type *t;
	unsigned int bits;
	int mid, k = 0;
	bool last;

	snprintf(path, sizeof(path), "%s", a->resolve);
	for (field = strtok_r(path, ".", &save); field; field = strtok_r(NULL, ".", &save), k++) {
		if (k == VG_MAX_RESOLVE_STEPS)
			return sensor_error(ctx, a->pos, -E2BIG, "resolve \"%s\": more than %d fields", a->resolve,
					    VG_MAX_RESOLVE_STEPS);
		if (strchr(field, '['))
			return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve \"%s\": array indexes are not supported yet",
					    a->resolve);
		mid = find_member(ctx->vmlinux, id, field, &bits, 0);
		if (mid < 0)
			return sensor_error(ctx, a->pos, -EINVAL, "resolve \"%s\": %s has no field \"%s\" here", a->resolve,
					    btf__name_by_offset(ctx->vmlinux, btf__type_by_id(ctx->vmlinux, id)->name_off),
					    field);
		if (bits % 8 || bits / 8 > UINT16_MAX)
			return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve \"%s\": field \"%s\" is not byte-aligned",
					    a->resolve, field);
		spec->step_off[k] = (uint16_t)(bits / 8);
		mid = btf__resolve_type(ctx->vmlinux, mid);
		t = btf__type_by_id(ctx->vmlinux, mid);
		last = save == NULL || *save == '\0';
		if (!last && btf_is_ptr(t)) {
			spec->step_deref |= (uint8_t)(1u << k);		/* follow the pointer */
			id = btf__resolve_type(ctx->vmlinux, t->type);
		} else if (!last && btf_is_composite(t)) {
			id = mid;					/* an embedded struct */
		} else if (!last) {
			return sensor_error(ctx, a->pos, -EINVAL, "resolve \"%s\": field \"%s\" is not a struct or a pointer "
					    "to one", a->resolve, field);
		} else if (!btf_is_array(t) && !btf_is_composite(t)) {
			spec->step_deref |= (uint8_t)(1u << k);		/* the value itself */
		}
		/* an array (comm) or a struct (kernel_cap_t) is read at its address */
	}
	if (!k)
		return sensor_error(ctx, a->pos, -EINVAL, "resolve must name a field");
	spec->nsteps = (uint8_t)k;
	spec->user = 0;
	return 0;
}

int resolve_task_path(struct compile_ctx *ctx, const struct vigil_policy_arg *a, struct vg_arg_spec *spec)
{
	int id;

	if (!ctx->vmlinux)
		return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve needs the kernel's BTF, which this kernel lacks");
	id = btf__find_by_name_kind(ctx->vmlinux, "task_struct", BTF_KIND_STRUCT);
	if (id < 0)
		return sensor_error(ctx, a->pos, -ENOENT, "no struct task_struct in the kernel's BTF");
	return walk(ctx, a, id, spec);
}

int resolve_arg_path(struct compile_ctx *ctx, const char *fn, const struct vigil_policy_arg *a,
		     struct vg_arg_spec *spec)
{
	const struct btf_param *params;
	const struct btf_type *t;
	int id;

	if (!ctx->vmlinux)
		return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve needs the kernel's BTF, which this kernel lacks");
	id = btf__find_by_name_kind(ctx->vmlinux, fn, BTF_KIND_FUNC);
	t = id < 0 ? NULL : btf__type_by_id(ctx->vmlinux, btf__type_by_id(ctx->vmlinux, id)->type);
	if (!t || !btf_is_func_proto(t) || a->index >= btf_vlen(t))
		return sensor_error(ctx, a->pos, -EINVAL, "resolve: %s has no argument %u in the kernel's BTF", fn,
				    a->index);
	params = btf_params(t);
	t = btf__type_by_id(ctx->vmlinux, btf__resolve_type(ctx->vmlinux, params[a->index].type));
	if (!t || !btf_is_ptr(t))
		return sensor_error(ctx, a->pos, -EINVAL, "resolve: argument %u of %s is not a pointer to a struct",
				    a->index, fn);
	spec->steps_from_arg = 1;
	return walk(ctx, a, btf__resolve_type(ctx->vmlinux, t->type), spec);
}
