/* args.h - read a hook's arguments, whatever the mechanism, into the record.
 *
 * Two passes: every argument's raw value first (so a char_buf can use a size argument that
 * comes after it), then the captured form per type: integers stay in arg_int[], strings,
 * paths, sockets and addresses go into the data area. Reads never fail the hook: a failed
 * read sets VG_ARGF_ERROR on that argument and the event goes on. */
#ifndef VIGIL_ARGS_H
#define VIGIL_ARGS_H

#include <bpf/usdt.bpf.h>	/* bpf_usdt_arg, and the spec maps libbpf fills at attach */

#include "generic_maps.h"
#include "path.h"
#include "record.h"
#include "skb.h"
#include "socktrack.h"
#include "task.h"
#include "exec_path.h"


/* Syscall argument i from the user registers the entry saved (the syscall convention, not
 * the function call one: x86-64's fourth is r10, arm64's first is orig_x0). */
static __always_inline __u64 syscall_reg(struct pt_regs *regs, __u32 i)
{
	switch (i) {
	case 0: return PT_REGS_PARM1_CORE_SYSCALL(regs);
	case 1: return PT_REGS_PARM2_CORE_SYSCALL(regs);
	case 2: return PT_REGS_PARM3_CORE_SYSCALL(regs);
	case 3: return PT_REGS_PARM4_CORE_SYSCALL(regs);
	case 4: return PT_REGS_PARM5_CORE_SYSCALL(regs);
	default: return VG_SYSCALL_PARM6_CORE(regs);
	}
}

/* The same from a trampoline's first argument (vg_syscall_reg_typed, include/vigil_bpf.h). */
static __always_inline __u64 syscall_reg_btf(struct pt_regs *regs, __u32 i)
{
#if defined(__TARGET_ARCH_x86)
	return vg_syscall_reg_typed(regs, i);
#else
	return syscall_reg(regs, i);
#endif
}

static __always_inline __u64 kprobe_reg(struct pt_regs *regs, __u32 i)
{
	switch (i) {
	case 0: return PT_REGS_PARM1_CORE(regs);
	case 1: return PT_REGS_PARM2_CORE(regs);
	case 2: return PT_REGS_PARM3_CORE(regs);
	case 3: return PT_REGS_PARM4_CORE(regs);
	default: return PT_REGS_PARM5_CORE(regs);
	}
}

static __always_inline __u64 sign_extend(__u64 v, __u8 type)
{
	switch (type) {
	case VG_ARG_INT: return (__u64)(__s64)(__s32)v;
	case VG_ARG_SINT8: return (__u64)(__s64)(__s8)v;
	case VG_ARG_UINT8: return v & 0xff;
	case VG_ARG_SINT16: return (__u64)(__s64)(__s16)v;
	case VG_ARG_UINT16: return v & 0xffff;
	case VG_ARG_UINT32:
	case VG_ARG_CAPABILITY: return v & 0xffffffff;
	default: return v;
	}
}

/* Argument i of a tracing ctx (fentry, fmod_ret, lsm, tp_btf). The verifier allows ctx
 * loads only at a constant offset in the load instruction itself, and the compiler likes to
 * precompute ctx + offset: inline asm pins the form. */
#define CTX_LOAD(ctx, off)                                                            \
	({                                                                            \
		__u64 __v;                                                            \
		asm volatile("%0 = *(u64 *)(%1 + " #off ")" : "=r"(__v) : "r"(ctx)); \
		__v;                                                                  \
	})

static __always_inline __u64 ctx_arg(void *ctx, __u32 i)
{
	switch (i) {
	case 0: return CTX_LOAD(ctx, 0);
	case 1: return CTX_LOAD(ctx, 8);
	case 2: return CTX_LOAD(ctx, 16);
	case 3: return CTX_LOAD(ctx, 24);
	case 4: return CTX_LOAD(ctx, 32);
	case 5: return CTX_LOAD(ctx, 40);
	case 6: return CTX_LOAD(ctx, 48);
	case 7: return CTX_LOAD(ctx, 56);
	case 8: return CTX_LOAD(ctx, 64);
	case 9: return CTX_LOAD(ctx, 72);
	case 10: return CTX_LOAD(ctx, 80);
	default: return CTX_LOAD(ctx, 88);
	}
}

/* The dispatcher's copy of the registers of the syscall it tail-called this hook for
 * (bpf/lib/dispatch_maps.h); when another task's copy replaced it (preempted between), this
 * call's own, made here the same way, 32-bit or not. NULL: none. */
static __always_inline struct vg_sys_regs *dispatched_regs(void *ctx)
{
	__u64 regs = ctx_arg(ctx, 0);
	struct vg_sys_regs *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	if (!c)
		return NULL;
	if (c->regs != regs && vg_sys_regs_fill(c, regs, ctx_arg(ctx, 1), vg_compat_syscall(), true) < 0)
		return NULL;
	return c->regs == regs ? c : NULL;
}

/* Is this dispatched call one of the hook's syscall (the dispatcher hands a 32-bit call whose
 * number only collides with the hook's on unchecked: asked here, after the prefilter)? */
static __always_inline int dispatched_mine(void *ctx)
{
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c = dispatched_regs(ctx);

	if (!c)
		return vg_compat_syscall() ? -1 : 0;
	if (c->nr != (__u16)cfg.syscall_nr)
		return -1;
	if (c->compat) {
		if (c->unread)
			count_error(VIGIL_KERR_ARGS_READ);	/* its argument array: read as zeros */
		return 1;
	}
	return c->checked || !vg_compat_syscall() ? 0 : -1;
#else
	return 0;	/* arm64: no compat table (vg_compat_syscall) */
#endif
}

/* Is this exit one of the hook's syscall, a syscalls:sys_exit_X hook's (no entry paired
 * with it)? 1: a 32-bit call of its twin, 0: its own 64-bit call, -1: another syscall. The
 * dispatcher's exit said which (bpf/dispatch.bpf.c); attached alone, or when another task's
 * exit replaced what it said, the hook asks itself. */
static __always_inline int dispatched_exit_mine(void *ctx)
{
	__u64 regs = ctx_arg(ctx, 0), nr;
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	if (cfg.dispatch_slot && c && c->exit_regs == regs) {
		if (c->exit_nr != (__u16)cfg.syscall_nr)
			return -1;
		if (c->exit_compat)
			return 1;
		return c->exit_checked || !vg_compat_syscall() ? 0 : -1;
	}
	nr = VG_SYSCALL_NR_CORE((struct pt_regs *)regs);
	if (!vg_compat_syscall())
		return nr == (__u64)cfg.syscall_nr ? 0 : -1;
	if (!c || bpf_probe_read_kernel(&c->r, sizeof(c->r), (void *)regs))
		return -1;
	c->regs = 0;
	return vg_compat_args(c, nr) == cfg.syscall_nr ? 1 : -1;
#else
	nr = VG_SYSCALL_NR_CORE((struct pt_regs *)regs);
	return nr == (__u64)cfg.syscall_nr ? 0 : -1;
#endif
}

/* Argument i from a copy of the registers (an x86-64 call's, or a 32-bit one's rewritten). */
static __always_inline __u64 copied_reg(struct vg_sys_regs *c, __u32 i)
{
#if defined(__TARGET_ARCH_x86)
	switch (i) {
	case 0: return c->r.di;
	case 1: return c->r.si;
	case 2: return c->r.dx;
	case 3: return c->r.r10;
	case 4: return c->r.r8;
	default: return c->r.r9;
	}
#else
	return 0;
#endif
}

/* A syscall wrapper's call's registers as vg_wrapper_compat (dispatch_maps.h) rewrote them
 * (a 32-bit call), NULL for a 64-bit call: its own registers are read. */
static __always_inline struct vg_sys_regs *wrapper_copy(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&vg_sys_regs, &zero);
	if (c && c->wrapper_regs == (__u64)regs)
		return c;
#endif
	return NULL;
}

/* Argument i of a syscall the dispatcher tail-called this hook for: from its copy of the
 * registers, a 32-bit call's rewritten as its x86-64 twin's. */
static __always_inline __u64 dispatched_reg(void *ctx, __u32 i)
{
#if defined(__TARGET_ARCH_x86)
	struct vg_sys_regs *c = dispatched_regs(ctx);

	if (c)
		return copied_reg(c, i);
#endif
	return syscall_reg((struct pt_regs *)ctx_arg(ctx, 0), i);
}

/* A resolve path: the field at its end, from the current task or a pointer argument, as
 * the compiler laid it out from BTF; a pointer on the way that reads as 0 ends the walk at
 * 0. user: the structs are in user memory (a syscall's or a user function's argument). */
static __always_inline __u64 walk_path(const volatile struct vg_arg_spec *a, __u64 p, bool user)
{
	int k;

	for (k = 0; k < VG_MAX_RESOLVE_STEPS; k++) {
		if (k >= a->nsteps || !p)
			break;
		p += a->step_off[k];
		if (a->step_deref & (1u << k)) {
			__u64 next = 0;

			if (user)
				bpf_probe_read_user(&next, sizeof(next), (void *)p);
			else
				bpf_probe_read_kernel(&next, sizeof(next), (void *)p);
			p = next;
		}
	}
	return p;
}

/* The raw value of argument i: a register, a ctx slot or a tracepoint field. */
static __always_inline __u64 fetch_arg_raw(void *ctx, __u32 i)
{
	const volatile struct vg_arg_spec *a = &cfg.args[i];
	__u64 v = 0;

	if (a->type == VG_ARG_SYSCALL64 && cfg.fetch == VG_FETCH_RAW_SYSCALL) {
		/* a 32-bit call: its i386 number with bit 31 set, as Tetragon's IS_32BIT */
#if defined(__TARGET_ARCH_x86)
		if (cfg.dispatch_slot) {
			struct vg_sys_regs *c = dispatched_regs(ctx);

			if (c && c->compat)
				return c->nr32 | 0x80000000u;
		}
#endif
		return ctx_arg(ctx, 1);
	}
	switch (cfg.fetch) {
	case VG_FETCH_CTX:
		return ctx_arg(ctx, a->index);
	case VG_FETCH_REGS:
		return kprobe_reg(ctx, a->index);
	case VG_FETCH_SYSCALL_PTREGS: {
		struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1_CORE((struct pt_regs *)ctx);
		struct vg_sys_regs *c = wrapper_copy(regs);

		return c ? copied_reg(c, a->index) : syscall_reg(regs, a->index);
	}
	case VG_FETCH_RAW_SYSCALL:
		if (cfg.dispatch_slot)
			return dispatched_reg(ctx, a->index);
		return syscall_reg((struct pt_regs *)ctx_arg(ctx, 0), a->index);
	case VG_FETCH_SYSCALL_CTX: {
		/* ctx[0]: the struct pt_regs the trampoline's function takes (typed: plain loads) */
		struct pt_regs *regs = (struct pt_regs *)ctx_arg(ctx, 0);
		struct vg_sys_regs *c = cfg.syscall_nr >= 0 ? wrapper_copy(regs) : NULL;

		return c ? copied_reg(c, a->index) : syscall_reg_btf(regs, a->index);
	}
	case VG_FETCH_SYSCALL_EXIT:
		/* a 32-bit call's number is its twin's, as its arguments are */
		return a->index == 5 ? ctx_arg(ctx, 1) : (__u64)cfg.syscall_nr;
	case VG_FETCH_USDT: {
		long u = 0;

		bpf_usdt_arg(ctx, a->index, &u);
		return (__u64)u;
	}
	case VG_FETCH_TRACEPOINT:
		if (a->tp_inline)
			return (__u64)(long)(ctx + a->tp_offset);	/* read as a kernel string */
		if (a->type == VG_ARG_DATA_LOC) {
			__u32 loc = 0;

			bpf_probe_read_kernel(&loc, sizeof(loc), ctx + a->tp_offset);
			return loc;
		}
		/* a whole u64 field among the first 12 (every syscalls:sys_enter_X argument): one
		 * load, no helper call (the verifier allows ctx loads at constant offsets only) */
		if (a->tp_size == 8 && !(a->tp_offset & 7) && a->tp_offset >= 8 && a->tp_offset < 96)
			return ctx_arg(ctx, a->tp_offset / 8);
		bpf_probe_read_kernel(&v, a->tp_size & 15, ctx + a->tp_offset);
		if (a->tp_signed && a->tp_size == 4)
			v = (__u64)(__s64)(__s32)v;
		else if (a->tp_signed && a->tp_size == 2)
			v = (__u64)(__s64)(__s16)v;
		else if (a->tp_signed && a->tp_size == 1)
			v = (__u64)(__s64)(__s8)v;
		return v;
	}
	return 0;
}

/* fetch_arg_raw; a syscall64 argument of a 32-bit syscall (raw_syscalls' id: an i386
 * number) gets bit 31, as Tetragon's IS_32BIT: i386 open (5) is not x86-64 fstat. */
static __always_inline __u64 fetch_arg(void *ctx, __u32 i)
{
	__u64 v = fetch_arg_raw(ctx, i);

	if (cfg.args[i].type == VG_ARG_SYSCALL64 && !cfg.dispatch_slot &&
	    (cfg.fetch == VG_FETCH_RAW_SYSCALL || cfg.fetch == VG_FETCH_TRACEPOINT) && vg_compat_syscall())
		v |= 0x80000000u;
	return v;
}

/* What argument i stands for: the raw value, or the field its resolve path reaches from the
 * argument or from the current task. */
static __always_inline __u64 fetch_raw(void *ctx, __u32 i)
{
	const volatile struct vg_arg_spec *a = &cfg.args[i];

	if (!a->nsteps)
		return fetch_arg(ctx, i);
	if (!a->steps_from_arg)
		return walk_path(a, bpf_get_current_task(), false);
	return walk_path(a, fetch_arg(ctx, i), a->user);
}

static __always_inline long read_str(char *dst, __u32 size, __u64 ptr, bool user)
{
	return user ? bpf_probe_read_user_str(dst, size, (void *)ptr) : bpf_probe_read_kernel_str(dst, size, (void *)ptr);
}

static __always_inline long read_buf(char *dst, __u32 size, __u64 ptr, bool user)
{
	return user ? bpf_probe_read_user(dst, size, (void *)ptr) : bpf_probe_read_kernel(dst, size, (void *)ptr);
}

/* The struct file behind fd in the current task's table, or NULL. */
static __always_inline struct file *fd_file(__u64 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;

	if (fd >= max)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xffff]);
	return f;
}

/* Capture a path: header (mode, flags) then the bytes. Returns bytes used. */
static __always_inline __u32 capture_path(struct generic_scratch *s, __u32 off, __u32 slot,
					  const struct path *path, struct inode *inode, __u32 flags)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct vg_path_hdr hdr = {
		.mode = BPF_CORE_READ(inode, i_mode),
		.flags = flags,
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
		.uid = BPF_CORE_READ(inode, i_uid.val),
		.ino = BPF_CORE_READ(inode, i_ino),
	};
	struct vg_exec_path *once = NULL;
	struct path_result res;
	const char *src;
	bool hit = false;
	__u32 len;

	if (cfg.exec_path_once)
		once = exec_path_slot(VG_LOAD_PROBE, task, path, &hit);
	if (hit) {
		res = (struct path_result){.len = once->len, .truncated = once->truncated, .error = once->error};
		src = once->data;
	} else {
		/* task is a plain number here (bpf_get_current_task): every step is a probe read */
		struct fs_struct *fs = BPF_CORE_READ(task, fs);

		path_walk(VG_LOAD_PROBE, path, &fs->root, &s->path, &res);
		src = &s->path.data[res.start & (VIGIL_PATH_MAX - 1)];
		if (once)
			exec_path_keep(VG_LOAD_PROBE, once, task, path, src, res.len, res.truncated, res.error);
	}
	if (res.truncated)
		s->rec.arg_flags[slot] |= VG_ARGF_TRUNCATED;
	if (res.error)
		s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
	__builtin_memcpy(&s->rec.data[off & DATA_OFF_LIMIT], &hdr, sizeof(hdr));
	len = res.len & ARG_LEN_MASK;
	bpf_probe_read_kernel(&s->rec.data[(off + sizeof(hdr)) & DATA_OFF_LIMIT], len, src);
	return sizeof(hdr) + len;
}

static __always_inline __u32 capture_file(struct generic_scratch *s, __u32 off, __u32 slot, struct file *f)
{
	if (!f) {
		s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
		return 0;
	}
	return capture_path(s, off, slot, &f->f_path, BPF_CORE_READ(f, f_inode), BPF_CORE_READ(f, f_flags));
}

static __always_inline void fill_sock(struct vg_sock *out, struct sock *sk)
{
	__builtin_memset(out, 0, sizeof(*out));
	out->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	out->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	out->type = BPF_CORE_READ(sk, sk_type);
	out->protocol = BPF_CORE_READ(sk, sk_protocol);
	out->mark = BPF_CORE_READ(sk, sk_mark);
	out->priority = BPF_CORE_READ(sk, sk_priority);
	out->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	out->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	out->cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (out->family == AF_INET6) {
		bpf_core_read(out->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(out->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		bpf_core_read(out->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(out->daddr, 4, &sk->__sk_common.skc_daddr);
	}
}

static __always_inline __u32 capture_sock(struct generic_scratch *s, __u32 off, struct sock *sk)
{
	fill_sock((void *)&s->rec.data[off & DATA_OFF_LIMIT], sk);
	return sizeof(struct vg_sock);
}

static __always_inline __u32 capture_sockaddr(struct generic_scratch *s, __u32 off, __u32 slot, __u64 ptr,
					      bool user)
{
	struct vg_sockaddr *out = (void *)&s->rec.data[off & DATA_OFF_LIMIT];
	__u16 family = 0, port = 0;

	__builtin_memset(out, 0, sizeof(*out));
	if (read_buf((char *)&family, sizeof(family), ptr, user)) {
		s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
		return sizeof(*out);
	}
	out->family = family;
	if (family == AF_INET) {
		read_buf((char *)&port, 2, ptr + 2, user);
		read_buf((char *)out->addr, 4, ptr + 4, user);
	} else if (family == AF_INET6) {
		read_buf((char *)&port, 2, ptr + 2, user);
		read_buf((char *)out->addr, 16, ptr + 8, user);
	} else if (family == AF_UNIX) {
		read_buf(out->path, sizeof(out->path) - 1, ptr + 2, user);
		/* an abstract name starts with a NUL: shown with "@" as ss(8) and Tetragon do */
		if (!out->path[0] && out->path[1])
			out->path[0] = '@';
	}
	out->port = bpf_ntohs(port);
	return sizeof(*out);
}

static __always_inline __u32 capture_cred(struct generic_scratch *s, __u32 off, const struct cred *cred)
{
	struct vg_cred *out = (void *)&s->rec.data[off & DATA_OFF_LIMIT];

	/* vg_cred opens with the ids of vigil_creds_raw, then the three capability sets */
	_Static_assert(__builtin_offsetof(struct vg_cred, fsgid) == __builtin_offsetof(struct vigil_creds_raw, fsgid),
		       "vg_cred ids");
	_Static_assert(__builtin_offsetof(struct vg_cred, cap_inheritable) ==
			       __builtin_offsetof(struct vg_cred, cap_permitted) + 16,
		       "vg_cred caps");
	read_cred(VG_LOAD_PROBE, cred, (struct vigil_creds_raw *)out, &out->cap_permitted);
	out->user_ns = BPF_CORE_READ(cred, user_ns, ns.inum);
	return sizeof(*out);
}

#include "args_kobj.h"
#include "maxdata.h"

/* A string or buffer argument. Returns bytes used (without a NUL). */
static __always_inline __u32 capture_bytes(struct generic_scratch *s, void *ctx, __u32 off, __u32 slot)
{
	const volatile struct vg_arg_spec *a = &cfg.args[slot];
	char *dst = &s->rec.data[off & DATA_OFF_LIMIT];
	__u64 ptr = s->rec.arg_int[slot];
	__u32 max = a->max_len & ARG_LEN_MASK;
	long n;

	if (a->type == VG_ARG_FILENAME)
		ptr = (__u64)BPF_CORE_READ((struct filename *)ptr, name);
	if (a->type == VG_ARG_NET_DEVICE)	/* its name, char name[IFNAMSIZ] */
		ptr = (__u64)__builtin_preserve_access_index(&((struct net_device *)ptr)->name);
	if (a->type == VG_ARG_DATA_LOC)	/* low 16 bits: offset in the record; high: length */
		ptr = (__u64)ctx + (ptr & 0xffff);
	if (a->type == VG_ARG_CHAR_IOVEC && s->compat32) {
		/* a 32-bit call's iovecs are pairs of u32: not read as 64-bit ones, marked */
		s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
		count_error(VIGIL_KERR_ARGS_READ);
		return 0;
	}
	if (a->type == VG_ARG_CHAR_IOVEC) {
		__u64 cnt = a->size_slot ? s->rec.arg_int[(a->size_slot - 1) & 7] : 1, total;
		__u32 used = capture_iovec(s, off, slot, ptr, cnt, max, a->user, a->max_data, &total);

		if (a->max_data)
			note_big_iovec(s, slot, ptr, cnt, total, a->user, used);
		return used;
	}
	if (a->type == VG_ARG_IOV_ITER) {
		__u64 base = 0, len = 0;
		int user = iov_iter_segment((struct iov_iter *)ptr, &base, &len);

		if (user < 0) {
			s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
			return 0;
		}
		if (a->max_data)
			note_big(s, slot, base, len, user, max);
		if (len > max) {
			len = max;
			if (!a->max_data)
				s->rec.arg_flags[slot] |= VG_ARGF_TRUNCATED;
		}
		if (read_buf(dst, len & ARG_LEN_MASK, base, user)) {
			s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
			return 0;
		}
		return len & ARG_LEN_MASK;
	}
	if (a->type == VG_ARG_CHAR_BUF || a->type == VG_ARG_CONST_BUF) {
		__u64 size = a->size_slot ? s->rec.arg_int[(a->size_slot - 1) & 7] : max;

		if (a->max_data)
			note_big(s, slot, ptr, size, a->user && !a->tp_inline, max);
		if (size > max) {
			size = max;
			if (!a->max_data)	/* with maxData the chunks carry the rest */
				s->rec.arg_flags[slot] |= VG_ARGF_TRUNCATED;
		}
		if (a->return_copy)
			return size & ARG_LEN_MASK;	/* the room; filled at the return */
		if (read_buf(dst, size & ARG_LEN_MASK, ptr, a->user && !a->tp_inline)) {
			s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
			return 0;
		}
		return size & ARG_LEN_MASK;
	}
	n = read_str(dst, max + 1, ptr, a->user && a->type != VG_ARG_FILENAME && a->type != VG_ARG_DATA_LOC &&
				   a->type != VG_ARG_NET_DEVICE);
	if (n <= 0) {
		s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
		return 0;
	}
	if (n > max)
		s->rec.arg_flags[slot] |= VG_ARGF_TRUNCATED;
	return (n - 1) & ARG_LEN_MASK;
}

/* A dentry's path, walked up to the caller's root mount. */
static __always_inline __u32 capture_dentry(struct generic_scratch *s, __u32 o, __u32 slot, struct dentry *d)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct path p = {.dentry = d, .mnt = BPF_CORE_READ(task, fs, root.mnt)};

	return capture_path(s, o, slot, &p, BPF_CORE_READ(d, d_inode), 0);
}

/* A sock (or a socket's): its tuple, kept for TrackSock, and its owner if it is tracked. */
static __always_inline __u32 capture_sock_arg(struct generic_scratch *s, __u32 o, __u32 slot, struct sock *sk)
{
	__u32 used;

	s->sk[slot & ARG_SLOT_MASK] = (__u64)sk;
	used = capture_sock(s, o, sk);
	sock_owner_apply(s, (__u64)sk);	/* a tracked sock reports its owner */
	return used;
}

static __always_inline __u64 read_caps(__u64 ptr)
{
	__u64 caps = 0;

	bpf_probe_read_kernel(&caps, sizeof(caps), (void *)ptr);
	return caps;
}

/* Whether the data area still holds the largest fixed form at o; if not, the argument is
 * flagged truncated with nothing captured. */
static __always_inline bool arg_has_room(struct generic_scratch *s, const volatile struct vg_arg_spec *a,
					 __u32 slot, __u32 o)
{
	_Static_assert(sizeof(struct vg_kobj) <= sizeof(struct vg_sockaddr), "the largest fixed form");
	if (a->class == VG_CLASS_INT || o <= DATA_OFF_LIMIT - sizeof(struct vg_sockaddr))
		return true;
	s->rec.arg_flags[slot] |= VG_ARGF_TRUNCATED;	/* data area full */
	s->rec.arg_len[slot] = 0;
	return false;
}

/* Capture argument `slot` at *off; advance *off. */
static __always_inline void capture_arg(struct generic_scratch *s, void *ctx, __u32 slot, __u32 *off)
{
	const volatile struct vg_arg_spec *a = &cfg.args[slot];
	__u64 raw = s->rec.arg_int[slot];
	__u32 o = *off, used = 0;

	s->rec.arg_off[slot] = o;
	if (!arg_has_room(s, a, slot, o))
		return;
	switch (a->type) {
	case VG_ARG_STRING:
	case VG_ARG_FILENAME:
	case VG_ARG_DATA_LOC:
	case VG_ARG_CHAR_BUF:
	case VG_ARG_NET_DEVICE:
	case VG_ARG_CHAR_IOVEC:
	case VG_ARG_IOV_ITER:
	case VG_ARG_CONST_BUF:
		used = capture_bytes(s, ctx, o, slot);
		break;
	case VG_ARG_KIOCB:
		used = capture_file(s, o, slot, raw ? BPF_CORE_READ((struct kiocb *)raw, ki_filp) : NULL);
		break;
	case VG_ARG_BPF_ATTR:
	case VG_ARG_BPF_PROG:
	case VG_ARG_BPF_MAP:
	case VG_ARG_PERF_EVENT:
	case VG_ARG_USER_NAMESPACE:
	case VG_ARG_LOAD_INFO:
	case VG_ARG_MODULE:
		used = capture_kobj(s, o, slot, raw, a->type, a->user);
		break;
	case VG_ARG_FD:
		used = capture_file(s, o, slot, fd_file(raw));
		break;
	case VG_ARG_FILE:
		used = capture_file(s, o, slot, (struct file *)raw);
		break;
	case VG_ARG_PATH:
		used = capture_path(s, o, slot, (struct path *)raw, BPF_CORE_READ((struct path *)raw, dentry, d_inode), 0);
		break;
	case VG_ARG_DENTRY:
		used = capture_dentry(s, o, slot, (struct dentry *)raw);
		break;
	case VG_ARG_LINUX_BINPRM:
		used = capture_file(s, o, slot, BPF_CORE_READ((struct linux_binprm *)raw, file));
		break;
	case VG_ARG_SOCK:
	case VG_ARG_SOCKET:
		used = capture_sock_arg(s, o, slot, a->type == VG_ARG_SOCK ? (struct sock *)raw :
						    BPF_CORE_READ((struct socket *)raw, sk));
		break;
	case VG_ARG_SKB:
		used = capture_skb(s, o, slot, (struct sk_buff *)raw);
		break;
	case VG_ARG_SOCKADDR:
	case VG_ARG_SOCKADDR_UN:
		used = capture_sockaddr(s, o, slot, raw, a->user);
		break;
	case VG_ARG_CRED:
		used = capture_cred(s, o, (const struct cred *)raw);
		break;
	case VG_ARG_KERNEL_CAP_T:
	case VG_ARG_CAP_INHERITABLE:
	case VG_ARG_CAP_PERMITTED:
	case VG_ARG_CAP_EFFECTIVE:
		/* a pointer to the kernel_cap_t, except a tracepoint's own field (the value) */
		if (a->nsteps || (!a->user && cfg.fetch != VG_FETCH_TRACEPOINT))
			s->rec.arg_int[slot] = read_caps(raw);
		break;
	default:
		s->rec.arg_int[slot] = sign_extend(raw, a->type);
		break;
	}
	/* pointers stay in the kernel: only integer arguments report arg_int; returnCopy and a
	 * return probe's maxData keep theirs for the exit, which reads it and clears it */
	if (a->class != VG_CLASS_INT && !a->return_copy)
		s->rec.arg_int[slot] = cfg.is_return && a->max_data && s->rec.arg_full[slot] ? s->big_ptr[slot & 7] : 0;
	s->rec.arg_len[slot] = used;
	*off = o + used;
}

static __always_inline void capture_args(struct generic_scratch *s, void *ctx)
{
	__u32 off = 0;
	int i;

	for (i = 0; i < VG_MAX_ARGS; i++) {
		if (i >= cfg.nargs)
			break;
		s->rec.arg_int[i] = fetch_raw(ctx, i);
		s->rec.arg_flags[i] = 0;
		s->rec.arg_full[i] = 0;
		s->rec.arg_orig[i] = 0;
		if (s->compat32 && cfg.args[i].nsteps && cfg.args[i].steps_from_arg && cfg.args[i].user) {
			/* a resolve path through a 32-bit call's user structs: their pointers are
			 * 4 bytes, the walk reads 8: marked, not trusted */
			s->rec.arg_flags[i] |= VG_ARGF_ERROR;
			count_error(VIGIL_KERR_ARGS_READ);
		}
	}
	for (i = 0; i < VG_MAX_ARGS; i++) {
		if (i >= cfg.nargs)
			break;
		capture_arg(s, ctx, i, &off);
	}
	s->rec.nargs = cfg.nargs;
	s->rec.hdr.size = offsetof(struct vg_generic_record, data) + (off & (VG_DATA_MAX - 1));
}

#endif
