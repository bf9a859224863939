/* resolve.c - a resolve path ("mm.owner.real_parent.pid") into the steps the kernel side
 * walks (struct vg_arg_spec's step_off / step_deref), from BTF: member offsets, pointers
 * followed, the last field read as a value or, for an array such as comm, by its address.
 * The walk starts at the current task (data entries) or at a pointer argument, whose struct
 * is named by the kernel function's BTF (kprobes, LSM hooks), the syscall's or tracepoint's
 * format file, the raw tracepoint's btf_trace_ typedef, or the BTF file that describes a
 * user binary (an uprobe's btfPath). */
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

/* Walk a->resolve from the struct id of btf into spec's steps; user: the pointers on the way
 * are user memory (a syscall's or a user function's argument). */
static int walk(struct compile_ctx *ctx, const struct btf *btf, const struct vigil_policy_arg *a, int id,
		struct vg_arg_spec *spec, bool user)
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
		mid = find_member(btf, id, field, &bits, 0);
		if (mid < 0)
			return sensor_error(ctx, a->pos, -EINVAL, "resolve \"%s\": %s has no field \"%s\" here", a->resolve,
					    btf__name_by_offset(btf, btf__type_by_id(btf, id)->name_off),
					    field);
		if (bits % 8 || bits / 8 > UINT16_MAX)
			return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve \"%s\": field \"%s\" is not byte-aligned",
					    a->resolve, field);
		spec->step_off[k] = (uint16_t)(bits / 8);
		mid = btf__resolve_type(btf, mid);
		t = btf__type_by_id(btf, mid);
		last = save == NULL || *save == '\0';
		if (!last && btf_is_ptr(t)) {
			spec->step_deref |= (uint8_t)(1u << k);		/* follow the pointer */
			id = btf__resolve_type(btf, t->type);
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
	spec->user = user;
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
	return walk(ctx, ctx->vmlinux, a, id, spec, false);
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
	return walk(ctx, ctx->vmlinux, a, btf__resolve_type(ctx->vmlinux, t->type), spec, false);
}

/* The struct or union a C type string points to ("const struct open_how *", as a format
 * file writes it): its id in btf, -ENOENT when it names none, -EINVAL when it is not one
 * pointer to a struct or union. */
static int pointed_struct(const struct btf *btf, const char *type)
{
	char copy[128], *tok, *save = NULL, *name = NULL;
	int kind = 0, stars = 0;

	snprintf(copy, sizeof(copy), "%s", type);
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		while (tok[0] && tok[strlen(tok) - 1] == '*') {	/* "open_how*" */
			tok[strlen(tok) - 1] = '\0';
			stars++;
		}
		if (!tok[0] || !strcmp(tok, "const") || !strcmp(tok, "volatile") || !strcmp(tok, "__user"))
			continue;
		if (!strcmp(tok, "struct"))
			kind = BTF_KIND_STRUCT;
		else if (!strcmp(tok, "union"))
			kind = BTF_KIND_UNION;
		else if (kind && !name)
			name = tok;
		else
			return -EINVAL;
	}
	if (!kind || !name || stars != 1)
		return -EINVAL;
	return btf__find_by_name_kind(btf, name, kind);
}

int resolve_arg_type(struct compile_ctx *ctx, const char *where, const char *type, const struct vigil_policy_arg *a,
		     struct vg_arg_spec *spec, bool user)
{
	int id;

	if (!ctx->vmlinux)
		return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve needs the kernel's BTF, which this kernel lacks");
	id = pointed_struct(ctx->vmlinux, type);
	if (id == -EINVAL)
		return sensor_error(ctx, a->pos, -EINVAL, "resolve: argument %u of %s is \"%s\", not a pointer to a "
				    "struct", a->index, where, type);
	if (id < 0)
		return sensor_error(ctx, a->pos, -ENOENT, "resolve: argument %u of %s is \"%s\", a type the kernel's "
				    "BTF does not have", a->index, where, type);
	spec->steps_from_arg = 1;
	return walk(ctx, ctx->vmlinux, a, id, spec, user);
}

/* The struct or union parameter `param` of the function prototype proto_id in btf points
 * to: its id, -ENOENT without such a parameter, -EINVAL when it is no such pointer. */
static int param_struct(const struct btf *btf, int proto_id, unsigned int param)
{
	const struct btf_type *t = btf__type_by_id(btf, proto_id);
	int id;

	if (!t || !btf_is_func_proto(t) || param >= btf_vlen(t))
		return -ENOENT;
	t = btf__type_by_id(btf, btf__resolve_type(btf, btf_params(t)[param].type));
	if (!t || !btf_is_ptr(t))
		return -EINVAL;
	id = btf__resolve_type(btf, t->type);
	t = id < 0 ? NULL : btf__type_by_id(btf, id);
	return t && btf_is_composite(t) ? id : -EINVAL;
}

/* A raw tracepoint's arguments are its btf_trace_<event> typedef's: a pointer to a prototype
 * whose first parameter is the tracepoint's private data, then the arguments in order. */
int resolve_raw_tp_arg(struct compile_ctx *ctx, const char *event, const struct vigil_policy_arg *a,
		       struct vg_arg_spec *spec)
{
	const struct btf_type *t;
	char name[160];
	int id;

	if (!ctx->vmlinux)
		return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve needs the kernel's BTF, which this kernel lacks");
	snprintf(name, sizeof(name), "btf_trace_%s", event);
	id = btf__find_by_name_kind(ctx->vmlinux, name, BTF_KIND_TYPEDEF);
	t = id < 0 ? NULL : btf__type_by_id(ctx->vmlinux, btf__resolve_type(ctx->vmlinux, id));
	if (!t || !btf_is_ptr(t))
		return sensor_error(ctx, a->pos, -ENOENT, "resolve: no %s in the kernel's BTF", name);
	id = param_struct(ctx->vmlinux, btf__resolve_type(ctx->vmlinux, t->type), a->index + 1);
	if (id < 0)
		return sensor_error(ctx, a->pos, -EINVAL, "resolve: argument %u of raw tracepoint %s is %s", a->index,
				    event, id == -ENOENT ? "not there" : "not a pointer to a struct");
	spec->steps_from_arg = 1;
	return walk(ctx, ctx->vmlinux, a, id, spec, false);
}

/* An uprobe's argument: function symbol's prototype in the BTF file btf_path, which the
 * policy names because user binaries carry no BTF the kernel knows of. */
int resolve_uprobe_arg(struct compile_ctx *ctx, const char *btf_path, const char *symbol,
		       const struct vigil_policy_arg *a, struct vg_arg_spec *spec)
{
	struct btf *btf = btf__parse(btf_path, NULL);
	int id, err;

	if (!btf) {
		err = -errno;
		return sensor_error(ctx, a->pos, err, "btfPath %s: not a BTF file (%s)", btf_path, strerror(-err));
	}
	id = btf__find_by_name_kind(btf, symbol, BTF_KIND_FUNC);
	if (id < 0) {
		err = sensor_error(ctx, a->pos, -ENOENT, "resolve: btfPath %s has no function %s", btf_path, symbol);
		goto out;
	}
	id = param_struct(btf, btf__type_by_id(btf, id)->type, a->index);
	if (id < 0) {
		err = sensor_error(ctx, a->pos, -EINVAL, "resolve: argument %u of %s in %s is %s", a->index, symbol,
				   btf_path, id == -ENOENT ? "not there" : "not a pointer to a struct");
		goto out;
	}
	spec->steps_from_arg = 1;
	err = walk(ctx, btf, a, id, spec, true);
out:
	btf__free(btf);
	return err;
}
