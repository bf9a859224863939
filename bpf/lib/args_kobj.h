/* args_kobj.h - arguments that name kernel objects (bpf_attr, bpf_prog, bpf_map,
 * perf_event, user_namespace, load_info, module) read into one struct vg_kobj, and the
 * buffers behind an iovec array or an iov_iter. Included by args.h after its helpers.
 *
 * What each reads follows Tetragon's readers field for field, so events carry the same
 * values: bpf_attr {prog_type, insn_cnt, prog_name}, bpf_prog {type, len, aux->name},
 * bpf_map {map_type, key/value size, max_entries, name}, perf_event {attr.type,
 * attr.config, attr.probe_offset, the string at attr.kprobe_func}, user_namespace {level,
 * owner, group, ns.inum}, module {name, taints}, load_info {name, mod->taints, sig_ok}. */
#ifndef VIGIL_ARGS_KOBJ_H
#define VIGIL_ARGS_KOBJ_H

/* struct load_info is private to kernel/module/ and only in the BTF of kernels built with
 * modules: this flavour lets CO-RE find it there, and bpf_core_type_exists keeps the read
 * out of programs loaded where it is missing (this project's 6.18 machines). */
struct load_info___vg {
	const char *name;
	struct module *mod;
	bool sig_ok;
} __attribute__((preserve_access_index));

static __always_inline void read_kobj_name(char *dst, const void *src, bool user)
{
	if (user)
		bpf_probe_read_user_str(dst, VG_KOBJ_NAME, src);
	else
		bpf_probe_read_kernel_str(dst, VG_KOBJ_NAME, src);
}

static __always_inline void read_bpf_attr(struct vg_kobj *o, __u64 ptr, bool user)
{
	union bpf_attr *attr = (union bpf_attr *)ptr;

	/* 16 bytes (BPF_OBJ_NAME_LEN), NUL-padded by the caller of bpf(2) */
	if (user) {
		bpf_probe_read_user(&o->type, sizeof(o->type), &attr->prog_type);
		bpf_probe_read_user(&o->insn_cnt, sizeof(o->insn_cnt), &attr->insn_cnt);
		bpf_probe_read_user(o->name, sizeof(attr->prog_name), &attr->prog_name);
	} else {
		bpf_probe_read_kernel(&o->type, sizeof(o->type), &attr->prog_type);
		bpf_probe_read_kernel(&o->insn_cnt, sizeof(o->insn_cnt), &attr->insn_cnt);
		bpf_probe_read_kernel(o->name, sizeof(attr->prog_name), &attr->prog_name);
	}
	o->name[15] = '\0';
}

static __always_inline void read_perf_event(struct vg_kobj *o, struct perf_event *ev)
{
	const char *func = (const char *)BPF_CORE_READ(ev, attr.kprobe_func);

	o->type = BPF_CORE_READ(ev, attr.type);
	o->config = BPF_CORE_READ(ev, attr.config);
	o->probe_offset = BPF_CORE_READ(ev, attr.probe_offset);
	/* perf_event_open(2) keeps the caller's pointer to the function name */
	if (func && bpf_probe_read_user_str(o->name, VG_KOBJ_NAME, func) < 0)
		bpf_probe_read_kernel_str(o->name, VG_KOBJ_NAME, func);
}

static __always_inline void read_user_ns(struct vg_kobj *o, struct user_namespace *ns)
{
	o->level = BPF_CORE_READ(ns, level);
	o->uid = BPF_CORE_READ(ns, owner.val);
	o->gid = BPF_CORE_READ(ns, group.val);
	o->inum = BPF_CORE_READ(ns, ns.inum);
}

static __always_inline void read_load_info(struct vg_kobj *o, __u64 ptr, __u32 slot, struct generic_scratch *s)
{
	struct load_info___vg *info = (struct load_info___vg *)ptr;
	const char *name = NULL;
	bool ok = false;

	if (!bpf_core_type_exists(struct load_info___vg)) {
		s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
		return;
	}
	BPF_CORE_READ_INTO(&name, info, name);
	read_kobj_name(o->name, name, false);
	o->taints = BPF_CORE_READ(info, mod, taints);
	/* sig_ok exists only with CONFIG_MODULE_SIG */
	if (bpf_core_field_exists(info->sig_ok) && !BPF_CORE_READ_INTO(&ok, info, sig_ok))
		o->sig_ok = ok;
}

/* A kernel object argument, summarised. Returns bytes used. */
static __always_inline __u32 capture_kobj(struct generic_scratch *s, __u32 off, __u32 slot, __u64 raw, __u8 type,
					  bool user)
{
	struct vg_kobj *o = (void *)&s->rec.data[off & DATA_OFF_LIMIT];

	__builtin_memset(o, 0, sizeof(*o));
	o->sig_ok = VG_KOBJ_SIG_UNKNOWN;
	if (!raw) {
		s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
		return sizeof(*o);
	}
	switch (type) {
	case VG_ARG_BPF_ATTR:
		read_bpf_attr(o, raw, user);
		break;
	case VG_ARG_BPF_PROG: {
		struct bpf_prog *prog = (struct bpf_prog *)raw;

		o->type = BPF_CORE_READ(prog, type);
		o->insn_cnt = BPF_CORE_READ(prog, len);
		BPF_CORE_READ_STR_INTO(&o->name, prog, aux, name);
		break;
	}
	case VG_ARG_BPF_MAP: {
		struct bpf_map *map = (struct bpf_map *)raw;

		o->type = BPF_CORE_READ(map, map_type);
		o->key_size = BPF_CORE_READ(map, key_size);
		o->value_size = BPF_CORE_READ(map, value_size);
		o->max_entries = BPF_CORE_READ(map, max_entries);
		BPF_CORE_READ_STR_INTO(&o->name, map, name);
		break;
	}
	case VG_ARG_PERF_EVENT:
		read_perf_event(o, (struct perf_event *)raw);
		break;
	case VG_ARG_USER_NAMESPACE:
		read_user_ns(o, (struct user_namespace *)raw);
		break;
	case VG_ARG_MODULE: {
		struct module *mod = (struct module *)raw;

		BPF_CORE_READ_STR_INTO(&o->name, mod, name);
		o->taints = BPF_CORE_READ(mod, taints);
		break;
	}
	case VG_ARG_LOAD_INFO:
		read_load_info(o, raw, slot, s);
		break;
	}
	return sizeof(*o);
}

struct iov_iter___old {
	const struct iovec *iov;
} __attribute__((preserve_access_index));

struct iov_iter___new {
	const struct iovec *__iov;
} __attribute__((preserve_access_index));

/* The first segment of an iov_iter, as Tetragon reads one: a user buffer (ITER_UBUF, one
 * iovec in ITER_IOVEC) or a kernel one (ITER_KVEC); other kinds (pages) are not bytes in
 * memory we can read and report an error. Sets *base and *len; returns whether user memory. */
static __always_inline int iov_iter_segment(struct iov_iter *it, __u64 *base, __u64 *len)
{
	__u8 kind = BPF_CORE_READ(it, iter_type);

	if (bpf_core_enum_value_exists(enum iter_type, ITER_UBUF) && kind == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
		*base = (__u64)BPF_CORE_READ(it, ubuf);
		*len = BPF_CORE_READ(it, count);
		return 1;
	}
	if (kind == bpf_core_enum_value(enum iter_type, ITER_IOVEC)) {
		const struct iovec *iov;

		/* kernels before 6.4 call the iovec array `iov` (6.1: the vm lane); both names
		 * through flavours, so the object builds against either kernel's BTF */
		if (bpf_core_field_exists(((struct iov_iter___new *)it)->__iov))
			iov = BPF_CORE_READ((struct iov_iter___new *)it, __iov);
		else
			iov = BPF_CORE_READ((struct iov_iter___old *)it, iov);

		*base = (__u64)BPF_CORE_READ(iov, iov_base);
		*len = BPF_CORE_READ(iov, iov_len);
		return 1;
	}
	if (kind == bpf_core_enum_value(enum iter_type, ITER_KVEC)) {
		const struct kvec *kv = BPF_CORE_READ(it, kvec);

		*base = (__u64)BPF_CORE_READ(kv, iov_base);
		*len = BPF_CORE_READ(kv, iov_len);
		return 0;
	}
	return -1;
}

#define VG_IOVEC_MAX 8	/* iovec entries of a char_iovec read (Tetragon reads up to 8 too) */

/* char_iovec: the iovec array at ptr with cnt entries (sizeArgIndex), concatenated into
 * dst up to max bytes. Returns bytes used; flags a cut. */
/* A char_iovec: the segments' bytes one after the other, up to max; *total gets the sum of
 * the segments' lengths read (maxData: the chunks carry what max leaves out, so the cut is
 * not flagged here). */
static __always_inline __u32 capture_iovec(struct generic_scratch *s, __u32 off, __u32 slot, __u64 ptr, __u64 cnt,
					   __u32 max, bool user, bool big, __u64 *total)
{
	__u32 used = 0;
	int i;

	*total = 0;
	for (i = 0; i < VG_IOVEC_MAX; i++) {
		struct iovec v = {};
		__u64 n;

		if (i >= cnt)
			break;
		if (read_buf((char *)&v, sizeof(v), ptr + i * sizeof(v), user)) {
			s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
			break;
		}
		n = (__u64)v.iov_len;
		*total += n;
		if (used >= max)
			n = 0;
		if (n > max - used) {
			n = max - used;
			if (!big)
				s->rec.arg_flags[slot] |= VG_ARGF_TRUNCATED;
		}
		if (!n)
			continue;
		if (read_buf(&s->rec.data[(off + used) & DATA_OFF_LIMIT], n & ARG_LEN_MASK, (__u64)v.iov_base, user)) {
			s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
			break;
		}
		used += n & ARG_LEN_MASK;
	}
	if (cnt > VG_IOVEC_MAX)
		s->rec.arg_flags[slot] |= VG_ARGF_TRUNCATED;
	return used & ARG_LEN_MASK;
}

#endif
