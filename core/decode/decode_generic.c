/* decode_generic.c - a policy hook's record (bpf/generic.h) into a policy event. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "decode_internal.h"
#include "generic.h"
#include "pcache/pcache.h"
#include "sensors/sensors.h"
#include "stacks.h"

/* The strongest action in a set of vg_action bits, as Tetragon reports one. */
static enum vigil_event_action strongest(uint32_t bits)
{
	if (bits & (1u << VG_ACT_SIGKILL))
		return VIGIL_EVENT_ACTION_SIGKILL;
	if (bits & (1u << VG_ACT_OVERRIDE))
		return VIGIL_EVENT_ACTION_OVERRIDE;
	if (bits & (1u << VG_ACT_SIGNAL))
		return VIGIL_EVENT_ACTION_SIGNAL;
	if (bits & (1u << VG_ACT_SET))
		return VIGIL_EVENT_ACTION_SET;
	if (bits & (1u << VG_ACT_POST))
		return VIGIL_EVENT_ACTION_POST;
	return VIGIL_EVENT_ACTION_UNKNOWN;
}

/* The process of a record: its cached incarnation, the newest one of its pid, or a stand-in
 * that names only the pid (flag "unknown"). */
static struct vigil_process *record_process(struct vigil_decoder *d, const struct vg_generic_record *r)
{
	struct vigil_process *p = vigil_pcache__lookup(d->cache, r->pid, r->proc_ktime);

	if (!p)
		p = vigil_pcache__find_pid(d->cache, r->pid);
	return p ? p : decode_stand_in(d, r->pid, r->tid, r->proc_ktime);
}

static void decode_sock(const char *data, struct vigil_sock_info *out)
{
	struct vg_sock sk;

	memcpy(&sk, data, sizeof(sk));
	*out = (struct vigil_sock_info){
		.family = sk.family, .type = sk.type, .protocol = sk.protocol, .state = sk.state,
		.mark = sk.mark, .priority = sk.priority, .sport = sk.sport, .dport = sk.dport,
		.cookie = sk.cookie,
	};
	memcpy(out->saddr, sk.saddr, 16);
	memcpy(out->daddr, sk.daddr, 16);
}

/* An skb: its tuple in the arg's sock (as the kernel's filters read it), the rest in skb. */
static int decode_skb(const char *data, size_t len, struct vigil_event_arg *a)
{
	struct vg_skb skb;

	if (len < sizeof(skb))
		return a->flags & VIGIL_ARG_ERROR ? 0 : -EBADMSG;
	memcpy(&skb, data, sizeof(skb));
	decode_sock(data, &a->sock);
	a->skb = (struct vigil_skb_info){skb.hash, skb.len, skb.secpath_len, skb.secpath_olen};
	return 0;
}

/* A sock returnArg: the kernel put its vg_sock in the last ret_len bytes of the data. */
static int decode_return_sock(const struct vg_generic_record *r, size_t data_len, struct vigil_event_arg *ret)
{
	if (!r->ret_len)
		return 0;	/* no room was left for it: the return names no fields */
	if (r->ret_len != sizeof(struct vg_sock) || data_len < r->ret_len)
		return -EBADMSG;
	decode_sock(r->data + data_len - r->ret_len, &ret->sock);
	return 0;
}

/* imaHash: the kernel's enum hash_algo (include/uapi/linux/hash_info.h) and digest sizes. */
static const struct {
	const char *name;
	unsigned int len;
} hash_algos[] = {
	{"md4", 16}, {"md5", 16}, {"sha1", 20}, {"rmd160", 20}, {"sha256", 32}, {"sha384", 48}, {"sha512", 64},
	{"sha224", 28}, {"rmd128", 16}, {"rmd256", 32}, {"rmd320", 40}, {"wp256", 32}, {"wp384", 48},
	{"wp512", 64}, {"tgr128", 16}, {"tgr160", 20}, {"tgr192", 24}, {"sm3", 32}, {"streebog256", 32},
	{"streebog512", 64},
};

/* The struct vg_ima the kernel appended (the data's last bytes) as "algo:hex" into d's
 * buffer; NULL when the kernel could not hash the file (a negative errno for algo). */
static int decode_ima(struct vigil_decoder *d, const struct vg_generic_record *r, size_t data_len, const char **out)
{
	struct vg_ima ima;
	size_t i, n;

	*out = NULL;
	if (!r->has_ima)
		return 0;
	if (data_len < sizeof(ima))
		return -EBADMSG;
	memcpy(&ima, r->data + data_len - sizeof(ima), sizeof(ima));
	if (ima.algo < 0 || (size_t)ima.algo >= VIGIL_ARRAY_SIZE(hash_algos))
		return 0;
	n = (size_t)snprintf(d->ima_hash, sizeof(d->ima_hash), "%s:", hash_algos[ima.algo].name);
	for (i = 0; i < hash_algos[ima.algo].len && n + 2 < sizeof(d->ima_hash); i++, n += 2)
		snprintf(d->ima_hash + n, sizeof(d->ima_hash) - n, "%02x", ima.digest[i]);
	*out = d->ima_hash;
	return 0;
}

static int decode_arg(const struct vg_generic_record *r, size_t data_len, unsigned int i, int type,
		      struct vigil_event_arg *a)
{
	const char *data = r->data + r->arg_off[i];
	size_t len = r->arg_len[i];

	if ((size_t)r->arg_off[i] + len > data_len)
		return -EBADMSG;
	a->type = type;
	a->flags = (r->arg_flags[i] & VG_ARGF_TRUNCATED ? VIGIL_ARG_TRUNCATED : 0) |
		   (r->arg_flags[i] & VG_ARGF_ERROR ? VIGIL_ARG_ERROR : 0);
	a->value = r->arg_int[i];
	switch (vg_arg_class((unsigned int)type)) {
	case VG_CLASS_INT:
		break;
	case VG_CLASS_STRING:
		a->bytes = data;
		a->len = len;
		a->orig_len = r->arg_orig[i];
		break;
	case VG_CLASS_PATH: {
		struct vg_path_hdr h;

		if (len < sizeof(h)) {
			a->flags |= VIGIL_ARG_ERROR;
			break;
		}
		memcpy(&h, data, sizeof(h));
		a->mode = h.mode;
		a->file_flags = h.flags;
		a->bytes = data + sizeof(h);
		a->len = len - sizeof(h);
		break;
	}
	case VG_CLASS_SOCK:
		if (len < sizeof(struct vg_sock))
			return a->flags & VIGIL_ARG_ERROR ? 0 : -EBADMSG;
		decode_sock(data, &a->sock);
		break;
	case VG_CLASS_SKB:
		return decode_skb(data, len, a);
	case VG_CLASS_SOCKADDR: {
		const struct vg_sockaddr *sa = (const void *)data;

		if (len < sizeof(*sa))
			return a->flags & VIGIL_ARG_ERROR ? 0 : -EBADMSG;
		a->sockaddr.family = sa->family;
		a->sockaddr.port = sa->port;
		memcpy(a->sockaddr.addr, sa->addr, 16);
		/* the kernel reads at most sizeof(path) - 1 bytes into a zeroed buffer */
		a->sockaddr.path = memchr(sa->path, '\0', sizeof(sa->path)) ? sa->path : "";
		break;
	}
	case VG_CLASS_CRED: {
		struct vg_cred c;

		if (len < sizeof(c))
			return a->flags & VIGIL_ARG_ERROR ? 0 : -EBADMSG;
		memcpy(&c, data, sizeof(c));
		a->creds = (struct vigil_creds){c.uid, c.gid, c.euid, c.egid, c.suid, c.sgid, c.fsuid, c.fsgid};
		a->cred_caps = (struct vigil_caps){c.cap_permitted, c.cap_effective, c.cap_inheritable};
		break;
	}
	case VG_CLASS_KOBJ:
		if (len < sizeof(struct vg_kobj))
			return a->flags & VIGIL_ARG_ERROR ? 0 : -EBADMSG;
		decode_kobj(data, &a->kobj);
		break;
	}
	return 0;
}

/* maxData: the whole buffer from the chunk records that came before, when they all did;
 * else the record's own bytes, flagged truncated. Either cut is counted. */
static void take_chunks(struct vigil_decoder *d, const struct vg_generic_record *r, unsigned int i,
			struct vigil_event_arg *a)
{
	const char *whole = NULL;

	if (r->arg_full[i] > a->len && vg_arg_class((unsigned int)a->type) == VG_CLASS_STRING) {
		whole = decode_chunks_take(d, r->tid, r->hdr.ktime, i, r->arg_full[i]);
		if (whole) {
			a->bytes = whole;
			a->len = r->arg_full[i];
		} else {
			a->flags |= VIGIL_ARG_TRUNCATED;
		}
	}
	if ((r->arg_full[i] || r->arg_orig[i] > a->len) && (a->flags & VIGIL_ARG_TRUNCATED))
		d->stats.degraded[VIGIL_DEGRADED_ARG_TRUNCATED]++;
}

/* The record's stack traces, named. A stack area outside the record is malformed. */
static int decode_stacks(struct vigil_decoder *d, const struct vg_generic_record *r, size_t data_len,
			 struct vigil_event *ev)
{
	uint64_t addrs[VG_STACK_FRAMES];
	size_t klen = r->kstack_len, ulen = r->ustack_len;

	if (!klen && !ulen)
		return 0;
	if (klen % 8 || ulen % 8 || klen / 8 > VG_STACK_FRAMES || ulen / 8 > VG_STACK_FRAMES ||
	    (size_t)r->stack_off + klen + ulen > data_len)
		return -EBADMSG;
	if (!d->stacks)
		d->stacks = stack_symbols_new(d->proc_root, d->kallsyms_fd);
	if (!d->stacks)
		return 0;	/* no memory: the event goes out without its stacks */
	if (klen) {
		memcpy(addrs, r->data + r->stack_off, klen);
		ev->policy.kernel_stack = stack_symbols_kernel(d->stacks, addrs, klen / 8, &ev->policy.nkernel_stack);
	}
	if (ulen) {
		memcpy(addrs, r->data + r->stack_off + klen, ulen);
		ev->policy.user_stack = stack_symbols_user(d->stacks, r->pid, addrs, ulen / 8, &ev->policy.nuser_stack);
	}
	return 0;
}

int decode_generic(struct vigil_decoder *d, const void *data, size_t size, struct vigil_event *ev)
{
	const struct vg_generic_record *r = data;
	const struct vigil_hook_info *hook;
	struct vigil_process *p;
	size_t data_len, i;

	if (size < offsetof(struct vg_generic_record, data) || size > sizeof(*r) || r->nargs > VG_MAX_ARGS)
		return decode_bad(d);
	data_len = size - offsetof(struct vg_generic_record, data);
	hook = d->resolve ? d->resolve(d->resolve_ctx, r->hook_id) : NULL;
	if (!hook) {
		d->stats.unknown_hook++;
		d->stats.dropped[VIGIL_DROPPED_UNKNOWN_HOOK]++;
		return 0;
	}
	if (hook->nargs != r->nargs)
		return decode_bad(d);
	for (i = 0; i < r->nargs; i++) {
		ev->policy.args[i].label = hook->args[i].label;
		if (decode_arg(r, data_len, (unsigned int)i, hook->args[i].type, &ev->policy.args[i]))
			return decode_bad(d);
		take_chunks(d, r, (unsigned int)i, &ev->policy.args[i]);
	}
	if (decode_stacks(d, r, data_len, ev) || decode_ima(d, r, data_len, &ev->policy.ima_hash))
		return decode_bad(d);
	p = record_process(d, r);
	ev->type = hook->type;
	ev->time = r->hdr.ktime + d->boot_to_wall;
	ev->process = p;
	ev->parent = decode_parent(d, p);
	ev->policy.hook = hook;
	ev->policy.nargs = r->nargs;
	ev->policy.override_err = r->override_err;
	ev->policy.function_name = NULL;
	if (hook->per_syscall) {
		const char *name = vigil_syscall_name(r->syscall_id);

		if (name)
			snprintf(d->function_name, sizeof(d->function_name), "__x64_sys_%s", name);
		else
			snprintf(d->function_name, sizeof(d->function_name), "syscall %u", r->syscall_id);
		ev->policy.function_name = d->function_name;
	}
	ev->policy.selector = r->selector;
	if (r->has_ret) {
		ev->policy.has_return = true;
		ev->policy.ret.type = hook->return_type;
		ev->policy.ret.value = r->ret_value;
		if (vg_arg_class((unsigned int)hook->return_type) == VG_CLASS_SOCK &&
		    decode_return_sock(r, data_len, &ev->policy.ret))
			return decode_bad(d);
		ev->policy.return_action = r->ret_actions ? strongest(r->ret_actions) : VIGIL_EVENT_ACTION_POST;
	}
	if (r->monitored) {
		ev->policy.action = strongest(r->monitored);
		ev->policy.monitored = true;
	} else {
		ev->policy.action = strongest(r->actions);
	}
	/* a selector's GetUrl / DnsLookup (done by the agent) is the action Tetragon reports
	 * when nothing stronger than Post was taken */
	if (ev->policy.action == VIGIL_EVENT_ACTION_POST || ev->policy.action == VIGIL_EVENT_ACTION_UNKNOWN) {
		for (i = 0; i < hook->ncanaries; i++)
			if (hook->canaries[i].selector == r->selector)
				ev->policy.action = hook->canaries[i].kind ? VIGIL_EVENT_ACTION_DNSLOOKUP
									   : VIGIL_EVENT_ACTION_GETURL;
	}
	return 1;
}
