/* selectors.h - evaluate a hook's selectors against the captured arguments and the
 * current process. Tetragon's semantics: filters inside a selector are ANDed, values
 * inside a filter are ORed (Not* operators: none of them), the first selector that
 * matches wins. Strings are matched with one map lookup each: hash for Equal, LPM trie
 * for Prefix, LPM trie over the reversed string for Postfix.
 *
 * The hook's configuration comes in as a parameter (never a global), so a test program can
 * run this library on records it builds itself (tests/unit/bpf/selectors_test.bpf.c). */
#ifndef VIGIL_SELECTORS_H
#define VIGIL_SELECTORS_H

#include "generic_maps.h"
#include "process_maps.h"
#include "record.h"
#include "task.h"

/* ---- strings ---- */

/* Is data[0..len) one of filter's Equal values? */
static __always_inline bool str_equal(struct generic_scratch *s, __u32 filter, const char *data, __u32 len)
{
	if (len > VG_STR_KEY - 1)
		return false;	/* longer than any value the compiler accepts */
	__builtin_memset(&s->key, 0, sizeof(s->key));
	s->key.filter_id = filter;
	s->key.len = len;
	barrier_var(len);	/* keep the mask: the verifier needs it, the compiler thinks not */
	bpf_probe_read_kernel(s->key.data, len & (VG_STR_KEY - 1), data);
	return bpf_map_lookup_elem(&str_eq, &s->key) != NULL;
}

static __always_inline bool str_prefix_match(struct generic_scratch *s, __u32 filter, const char *data, __u32 len)
{
	if (len > VG_PREFIX_KEY)
		len = VG_PREFIX_KEY;
	s->lpm.prefixlen = 32 + len * 8;
	s->lpm.filter_id = bpf_htonl(filter);
	barrier_var(len);
	bpf_probe_read_kernel(s->lpm.data, len & 0xff, data);
	return bpf_map_lookup_elem(&str_prefix, &s->lpm) != NULL;
}

struct reverse_ctx {
	struct generic_scratch *s;
	const char *data;
	__u32 len;
};

static long reverse_step(__u64 i, struct reverse_ctx *r)
{
	__u32 from;
	char c = 0;

	if (i >= VG_POSTFIX_KEY || i >= r->len)
		return 1;
	/* masked: older verifiers (6.1) cannot bound len - 1 - i from the comparison above */
	from = (r->len - 1 - (__u32)i) & (VG_POSTFIX_KEY - 1);
	bpf_probe_read_kernel(&c, 1, r->data + from);
	r->s->lpm.data[i & (VG_POSTFIX_KEY - 1)] = c;
	return 0;
}

static __always_inline bool str_postfix_match(struct generic_scratch *s, __u32 filter, const char *data, __u32 len)
{
	struct reverse_ctx r = {.s = s, .data = data, .len = len > VG_POSTFIX_KEY ? VG_POSTFIX_KEY : len};

	bpf_loop(VG_POSTFIX_KEY, reverse_step, &r, 0);
	s->lpm.prefixlen = 32 + r.len * 8;
	s->lpm.filter_id = bpf_htonl(filter);
	return bpf_map_lookup_elem(&str_postfix, &s->lpm) != NULL;
}

static __always_inline bool str_match(struct generic_scratch *s, __u8 kind, __u32 filter, const char *data, __u32 len)
{
	switch (kind) {
	case VG_F_STR_EQ: return str_equal(s, filter, data, len);
	case VG_F_STR_PREFIX: return str_prefix_match(s, filter, data, len);
	case VG_F_STR_POSTFIX: return str_postfix_match(s, filter, data, len);
	}
	return false;
}

/* SubString: is one of the filter's values inside data[0..len)? Only objects built with
 * VG_STRNSTR_KFUNC (bpf/generic_strnstr.bpf.c) call the kfunc: kernels before 6.17 lack it
 * and would refuse the whole program, so the compiler picks that object only for hooks
 * that use SubString, and refuses those where the kernel lacks bpf_strnstr. */
#ifdef VG_STRNSTR_KFUNC
extern int bpf_strnstr(const char *s1__ign, const char *s2__ign, size_t len) __ksym;

static __always_inline bool str_sub_match(const volatile struct vg_arg_filter *f, const char *data, __u32 len)
{
	struct vg_sub_key k = {.filter_id = f->filter_id};
	struct vg_str_key *v;
	int i;

	for (i = 0; i < VG_MAX_VALUES; i++) {
		if (i >= f->nvalues)
			break;
		k.index = i;
		v = bpf_map_lookup_elem(&str_sub, &k);
		if (v && bpf_strnstr(data, v->data, len) >= 0)
			return true;
	}
	return false;
}
#else
static __always_inline bool str_sub_match(const volatile struct vg_arg_filter *f, const char *data, __u32 len)
{
	return false;	/* never compiled into a hook: see above */
}
#endif

/* ---- binaries ---- */

struct ancestor_ctx {
	struct generic_scratch *s;
	__u32 pid;
	__u8 kind;
	__u32 filter;
	bool matched;
};

static long ancestor_binary_step(__u64 i, struct ancestor_ctx *c)
{
	struct vigil_exec_entry *e = bpf_map_lookup_elem(&vg_execs, &c->pid);

	if (!e)
		return 1;
	if (str_match(c->s, c->kind, c->filter, e->binary, e->binary_len)) {
		c->matched = true;
		return 1;
	}
	if (!e->ppid || e->ppid == c->pid)
		return 1;
	c->pid = e->ppid;
	return 0;
}

static __always_inline bool match_binary(struct generic_scratch *s, const volatile struct vg_binary_filter *f,
					 __u32 tgid)
{
	struct ancestor_ctx c = {.s = s, .pid = tgid, .kind = f->kind, .filter = f->filter_id};
	struct vigil_exec_entry *e;

	if (f->parent) {
		e = bpf_map_lookup_elem(&vg_execs, &tgid);
		if (!e)
			return f->negate;
		c.pid = e->ppid;
	}
	bpf_loop(f->follow ? VG_ANCESTOR_DEPTH : 1, ancestor_binary_step, &c, 0);
	return c.matched != f->negate;
}

/* ---- pids ---- */

struct pid_walk_ctx {
	const volatile struct vg_pid_filter *f;
	__u32 pid;
	bool matched;
};

static __always_inline bool pid_in(const volatile struct vg_pid_filter *f, __u32 pid)
{
	int i;

	for (i = 0; i < VG_MAX_VALUES; i++) {
		if (i >= f->nvalues)
			break;
		if (f->values[i] == pid)
			return true;
	}
	return false;
}

static long pid_walk_step(__u64 i, struct pid_walk_ctx *c)
{
	struct vigil_exec_entry *e;

	if (pid_in(c->f, c->pid)) {
		c->matched = true;
		return 1;
	}
	e = bpf_map_lookup_elem(&vg_execs, &c->pid);
	if (!e || !e->ppid || e->ppid == c->pid)
		return 1;
	c->pid = e->ppid;
	return 0;
}

static __always_inline __u32 ns_pid(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]);
	return upid.nr;
}

static __always_inline bool match_pids(const volatile struct vg_pid_filter *f, struct task_struct *task, __u32 tgid)
{
	struct pid_walk_ctx c = {.f = f, .pid = tgid};

	if (f->ns_pid)
		return pid_in(f, ns_pid(task)) != f->negate;
	if (!f->follow_forks)
		return pid_in(f, tgid) != f->negate;
	bpf_loop(VG_ANCESTOR_DEPTH, pid_walk_step, &c, 0);
	return c.matched != f->negate;
}

/* ---- namespaces and capabilities ---- */

static __always_inline bool match_ns(struct generic_scratch *s, const volatile struct vg_ns_filter *f)
{
	__u32 cur = s->ns[f->ns & (SCRATCH_NS_SLOTS - 1)];
	bool in = false;
	int i;

	for (i = 0; i < VG_MAX_NS_VALUES; i++) {
		if (i >= f->nvalues)
			break;
		in |= f->values[i] == cur;
	}
	return in != f->negate;
}

static __always_inline bool match_ns_changes(struct generic_scratch *s, const volatile struct vg_selector *sel,
					     struct vigil_exec_entry *e)
{
	__u32 changed = 0;
	int k;

	if (!e)
		return false;
	for (k = 0; k < VIGIL_NS_SLOTS; k++)
		if ((sel->ns_changes_mask & (1u << k)) && e->ns[k] && e->ns[k] != s->ns[k])
			changed |= 1u << k;
	return (changed != 0) != sel->ns_changes_negate;
}

/* The slot of caps[] (enum vigil_caps_slot) that holds a filter's set (enum vg_cap_set). */
static __always_inline __u32 caps_slot(__u8 set)
{
	switch (set) {
	case VG_CAPSET_EFFECTIVE: return VIGIL_CAPS_EFFECTIVE;
	case VG_CAPSET_INHERITABLE: return VIGIL_CAPS_INHERITABLE;
	default: return VIGIL_CAPS_PERMITTED;
	}
}

static __always_inline bool match_caps(const volatile struct vg_hook_config *cfg, struct generic_scratch *s,
				       const volatile struct vg_cap_filter *f, struct vigil_exec_entry *e)
{
	__u32 idx = caps_slot(f->set);
	__u64 cur = s->caps[idx];
	bool hit;

	if (f->ns_only && s->ns[VIGIL_NS_SLOT_USER] == cfg->host_user_ns)
		return false;
	if (f->changes) {
		if (!e)
			return false;
		cur &= ~e->caps[idx];	/* gained since exec */
	}
	hit = (cur & f->mask) != 0;
	return hit != f->negate;
}

/* ---- arguments ---- */

static __always_inline bool int_match(const volatile struct vg_arg_filter *f, __u64 v)
{
	bool any = false;
	int i;

	for (i = 0; i < VG_MAX_VALUES; i++) {
		__u64 want = f->values[i];

		if (i >= f->nvalues)
			break;
		switch (f->int_op) {
		case VG_INT_EQ: any |= v == want; break;
		case VG_INT_GT: any |= f->is_signed ? (__s64)v > (__s64)want : v > want; break;
		case VG_INT_LT: any |= f->is_signed ? (__s64)v < (__s64)want : v < want; break;
		case VG_INT_MASK: any |= (v & want) != 0; break;
		case VG_INT_RANGE:
			if (i + 1 < VG_MAX_VALUES) {
				__u64 hi = f->values[i + 1];

				any |= f->is_signed ? ((__s64)v >= (__s64)want && (__s64)v <= (__s64)hi)
						    : (v >= want && v <= hi);
			}
			i++;
			break;
		}
	}
	return any;
}

static __always_inline bool addr_match(struct generic_scratch *s, __u32 filter, __u16 family, const __u8 *addr)
{
	if (family == AF_INET) {
		struct vg_addr4_key k = {.prefixlen = 64, .filter_id = bpf_htonl(filter)};

		__builtin_memcpy(k.addr, addr, 4);
		return bpf_map_lookup_elem(&addr4, &k) != NULL;
	}
	if (family == AF_INET6) {
		struct vg_addr6_key k = {.prefixlen = 160, .filter_id = bpf_htonl(filter)};

		__builtin_memcpy(k.addr, addr, 16);
		return bpf_map_lookup_elem(&addr6, &k) != NULL;
	}
	return false;
}

/* The integer a field of a captured socket or address stands for. */
static __always_inline __u64 net_field(struct generic_scratch *s, __u8 class, __u32 slot, __u8 field)
{
	__u32 off = s->rec.arg_off[slot & ARG_SLOT_MASK] & DATA_OFF_LIMIT;

	if (class == VG_CLASS_SOCK || class == VG_CLASS_SKB) {	/* an skb opens with a vg_sock */
		struct vg_sock *sk = (void *)&s->rec.data[off];

		switch (field) {
		case VG_FIELD_SPORT: return sk->sport;
		case VG_FIELD_DPORT: return sk->dport;
		case VG_FIELD_FAMILY: return sk->family;
		case VG_FIELD_PROTOCOL: return sk->protocol;
		case VG_FIELD_STATE: return sk->state;
		}
	} else {
		struct vg_sockaddr *sa = (void *)&s->rec.data[off];

		switch (field) {
		case VG_FIELD_SPORT:
		case VG_FIELD_DPORT: return sa->port;
		case VG_FIELD_FAMILY: return sa->family;
		}
	}
	return 0;
}

/* A captured path's string: the bytes after its header. */
static __always_inline void skip_path_hdr(const char **data, __u32 *len)
{
	*data += sizeof(struct vg_path_hdr);
	*len = *len > sizeof(struct vg_path_hdr) ? *len - sizeof(struct vg_path_hdr) : 0;
}

static __always_inline bool match_arg(const volatile struct vg_hook_config *cfg, struct generic_scratch *s,
				      const volatile struct vg_arg_filter *f)
{
	__u32 slot = f->slot & ARG_SLOT_MASK;
	__u32 off = s->rec.arg_off[slot] & DATA_OFF_LIMIT;
	__u32 len = s->rec.arg_len[slot] & ARG_LEN_MASK;
	__u8 class = cfg->args[slot].class;
	const char *data = &s->rec.data[off];
	bool hit = false;

	if (s->rec.arg_flags[slot] & VG_ARGF_ERROR)
		return false;	/* an unreadable argument matches nothing, Not* included */
	switch (f->kind) {
	case VG_F_INT:
	case VG_F_PORT:
		if (f->field == VG_FIELD_VALUE)
			hit = int_match(f, s->rec.arg_int[slot]);
		else
			hit = int_match(f, net_field(s, class, slot, f->field));
		break;
	case VG_F_INT_MAP: {
		struct vg_int_key k = {.filter_id = f->filter_id, .value = s->rec.arg_int[slot]};

		hit = bpf_map_lookup_elem(&int_set, &k) != NULL;
		break;
	}
	case VG_F_STR_EQ:
	case VG_F_STR_PREFIX:
	case VG_F_STR_POSTFIX:
		if (class == VG_CLASS_PATH)
			skip_path_hdr(&data, &len);
		hit = str_match(s, f->kind, f->filter_id, data, len);
		break;
	case VG_F_STR_SUB:
		if (class == VG_CLASS_PATH)
			skip_path_hdr(&data, &len);
		hit = str_sub_match(f, data, len);
		break;
	case VG_F_FILE_TYPE: {
		struct vg_path_hdr *h = (void *)data;

		hit = len >= sizeof(*h) && (f->values[0] & (1ULL << ((h->mode >> 12) & 15)));
		break;
	}
	case VG_F_FILE_ID: {
		struct vg_path_hdr *h = (void *)data;
		struct vg_file_key k = {.filter_id = f->filter_id};

		if (len < sizeof(*h))
			break;
		k.dev = h->dev;
		k.ino = h->ino;
		hit = bpf_map_lookup_elem(&int_set, &k) != NULL;
		break;
	}
	case VG_F_CAPS_GAINED: {
		/* Tetragon's order, args: [a, b]: a capability b holds and a does not */
		__u32 other = f->values[0] & ARG_SLOT_MASK;

		if (!(s->rec.arg_flags[other] & VG_ARGF_ERROR))
			hit = (s->rec.arg_int[other] & ~s->rec.arg_int[slot]) != 0;
		break;
	}
	case VG_F_ADDR:
		if (class == VG_CLASS_SOCK || class == VG_CLASS_SKB) {
			struct vg_sock *sk = (void *)data;

			hit = addr_match(s, f->filter_id, sk->family, f->field == VG_FIELD_SADDR ? sk->saddr : sk->daddr);
		} else {
			struct vg_sockaddr *sa = (void *)data;

			hit = addr_match(s, f->filter_id, sa->family, sa->addr);
		}
		break;
	}
	return hit != f->negate;
}

/* ---- one selector ---- */

/* task may be NULL where the compiler keeps selectors from needing it (cgroup programs);
 * e is the process's vg_execs entry, NULL when unknown. */
static __always_inline bool match_selector(const volatile struct vg_hook_config *cfg, struct generic_scratch *s,
					   const volatile struct vg_selector *sel, struct task_struct *task,
					   __u32 tgid, struct vigil_exec_entry *e)
{
	int i;

	for (i = 0; i < VG_MAX_PID_FILTERS; i++) {
		if (i >= sel->npids)
			break;
		if (!match_pids(&sel->pids[i], task, tgid))
			return false;
	}
	for (i = 0; i < VG_MAX_NS_FILTERS; i++) {
		if (i >= sel->nns)
			break;
		if (!match_ns(s, &sel->ns[i]))
			return false;
	}
	if (sel->ns_changes_mask && !match_ns_changes(s, sel, e))
		return false;
	for (i = 0; i < VG_MAX_CAP_FILTERS; i++) {
		if (i >= sel->ncaps)
			break;
		if (!match_caps(cfg, s, &sel->caps[i], e))
			return false;
	}
	if (sel->has_binary && !match_binary(s, &sel->binary, tgid))
		return false;
	if (sel->has_parent_binary && !match_binary(s, &sel->parent_binary, tgid))
		return false;
	for (i = 0; i < VG_MAX_MATCH_ARGS; i++) {
		if (i >= sel->nargs)
			break;
		if (!match_arg(cfg, s, &sel->args[i]))
			return false;
	}
	return true;
}

/* ---- return values (matchReturnArgs) ---- */

/* Does the return value, sign-extended for its type, pass one matchReturnArgs filter? */
static __always_inline bool match_return(struct generic_scratch *s, const volatile struct vg_arg_filter *f)
{
	__u64 v = s->rec.ret_value;
	bool hit = false;

	if (f->kind == VG_F_INT) {
		hit = int_match(f, v);
	} else if (f->kind == VG_F_INT_MAP) {
		struct vg_int_key k = {.filter_id = f->filter_id, .value = v};

		hit = bpf_map_lookup_elem(&int_set, &k) != NULL;
	}
	return hit != f->negate;
}

/* All of a selector's matchReturnArgs (ANDed, as matchArgs). */
static __always_inline bool match_return_args(struct generic_scratch *s, const volatile struct vg_selector *sel)
{
	int j;

	for (j = 0; j < VG_MAX_RET_FILTERS; j++) {
		if (j >= sel->nret_args)
			break;
		if (!match_return(s, &sel->ret_args[j]))
			return false;
	}
	return true;
}

#endif
