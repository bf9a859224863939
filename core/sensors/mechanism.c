/* mechanism.c - choose, per hook, the best attach mechanism this kernel permits, and how
 * the program reads the hook's arguments there (DESIGN.md's table). */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "sensors_internal.h"

/* The kernel's copy of the argument types (bpf/generic.h enum vg_arg, which cannot include
 * policy.h) must keep the policy's numbers: a spec's type is cast across below. */
#define SAME_ARG(t) _Static_assert((int)VIGIL_ARG_##t == (int)VG_ARG_##t, "bpf/generic.h enum vg_arg: " #t)
SAME_ARG(NOP);
SAME_ARG(INT);
SAME_ARG(SINT8);
SAME_ARG(UINT8);
SAME_ARG(SINT16);
SAME_ARG(UINT16);
SAME_ARG(UINT32);
SAME_ARG(LONG);
SAME_ARG(ULONG);
SAME_ARG(SIZE_T);
SAME_ARG(STRING);
SAME_ARG(CHAR_BUF);
SAME_ARG(CHAR_IOVEC);
SAME_ARG(FD);
SAME_ARG(FILE);
SAME_ARG(PATH);
SAME_ARG(DENTRY);
SAME_ARG(LINUX_BINPRM);
SAME_ARG(FILENAME);
SAME_ARG(SOCK);
SAME_ARG(SOCKADDR);
SAME_ARG(SKB);
SAME_ARG(CRED);
SAME_ARG(CAPABILITY);
SAME_ARG(KERNEL_CAP_T);
SAME_ARG(SYSCALL64);
SAME_ARG(DATA_LOC);
SAME_ARG(CAP_INHERITABLE);
SAME_ARG(CAP_PERMITTED);
SAME_ARG(CAP_EFFECTIVE);
SAME_ARG(SOCKET);
SAME_ARG(NET_DEVICE);
SAME_ARG(SOCKADDR_UN);
SAME_ARG(BPF_ATTR);
SAME_ARG(BPF_CMD);
SAME_ARG(BPF_PROG);
SAME_ARG(BPF_MAP);
SAME_ARG(PERF_EVENT);
SAME_ARG(USER_NAMESPACE);
SAME_ARG(LOAD_INFO);
SAME_ARG(MODULE);
SAME_ARG(KIOCB);
SAME_ARG(IOV_ITER);
SAME_ARG(CONST_BUF);
#undef SAME_ARG

static const char *const mech_names[] = {
	[MECH_RAW_SYSCALL_TP_BTF] = "raw_syscalls/sys_enter (tp_btf) + syscall filter",
	[MECH_RAW_SYSCALL_RAW_TP] = "raw_syscalls/sys_enter (raw_tp) + syscall filter",
	[MECH_TRACEPOINT] = "tracepoint",
	[MECH_TP_BTF] = "tp_btf",
	[MECH_KPROBE] = "kprobe",
	[MECH_FENTRY] = "fentry",
	[MECH_FMOD_RET] = "fmod_ret",
	[MECH_LSM] = "lsm",
	[MECH_UPROBE] = "uprobe",
	[MECH_CGROUP_CONNECT] = "cgroup connect4/connect6",
	[MECH_SYSCALL_TRACEPOINT] = "syscalls:sys_enter_X tracepoint (runs on that syscall only)",
	[MECH_RAW_SYSCALL_DISPATCH] = "raw_syscalls dispatcher (raw_tp, tail call by syscall number)",
	[MECH_FANOTIFY] = "fanotify (opens of the watched paths only)",
	[MECH_USDT] = "usdt (uprobe at the probe's note)",
	[MECH_FEXIT] = "fexit",
	[MECH_TP_BTF_CHAIN] = "tp_btf, one program per tracepoint (tail call per hook)",
	[MECH_FENTRY_DISPATCH] = "fentry (dispatched)",
};

const char *sensor_mech_name(enum sensor_mech m)
{
	return m < VIGIL_ARRAY_SIZE(mech_names) ? mech_names[m] : "unknown";
}

enum vigil_mech sensor_mech_probed(enum sensor_mech m)
{
	switch (m) {
	case MECH_FENTRY:
	case MECH_FENTRY_DISPATCH:
	case MECH_FEXIT: return VIGIL_MECH_FENTRY;
	case MECH_KPROBE: return VIGIL_MECH_KPROBE;
	case MECH_FMOD_RET: return VIGIL_MECH_FMOD_RET;
	case MECH_LSM: return VIGIL_MECH_LSM;
	case MECH_TRACEPOINT:
	case MECH_SYSCALL_TRACEPOINT: return VIGIL_MECH_TRACEPOINT;
	case MECH_CGROUP_CONNECT: return VIGIL_MECH_CGROUP_SOCK_ADDR;
	default: return VIGIL_MECH_COUNT;
	}
}

static bool permits(struct compile_ctx *ctx, enum vigil_mech m)
{
	return ctx->probe->mech[m].ok && !(ctx->failed & (1u << m));
}

static const char *why_not(struct compile_ctx *ctx, enum vigil_mech m)
{
	if ((ctx->failed & (1u << m)) && ctx->failed_why[m])
		return ctx->failed_why[m];
	return ctx->probe->mech[m].reason;
}

/* Number of parameters of a kernel function per BTF; -ENOENT when it does not exist,
 * -EOPNOTSUPP when there is no BTF to ask. */
static int btf_func_params(struct compile_ctx *ctx, const char *name)
{
	const struct btf_type *t;
	int id;

	if (!ctx->vmlinux)
		return -EOPNOTSUPP;
	id = btf__find_by_name_kind(ctx->vmlinux, name, BTF_KIND_FUNC);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(ctx->vmlinux, btf__type_by_id(ctx->vmlinux, id)->type);
	return t ? btf_vlen(t) : -ENOENT;
}

static bool wants_override(const struct vigil_hook *hook)
{
	size_t i, j;

	for (i = 0; i < hook->nselectors; i++)
		for (j = 0; j < hook->selectors[i].nactions; j++)
			if (hook->selectors[i].actions[j].kind == VIGIL_ACTION_OVERRIDE)
				return true;
	return false;
}

/* The C type of a syscall's argument i, from its syscalls/sys_enter_ format file (the
 * arguments follow __syscall_nr there). NULL with the reason in ctx when there is none. */
static const char *syscall_arg_type(struct compile_ctx *ctx, const char *call, const struct vigil_policy_arg *a,
				    struct tp_field *fields, int max)
{
	const char *name = syscall_base_name(call);
	char event[96];
	int n, i;

	snprintf(event, sizeof(event), "sys_enter_%s", name ? name : call);
	n = tp_format_read("syscalls", event, fields, (size_t)max);
	for (i = 0; i < n && strcmp(fields[i].name, "__syscall_nr"); i++)
		;
	if (n < 0 || i + 1 + (int)a->index >= n) {
		sensor_error(ctx, a->pos, -ENOENT, "resolve: %s has no argument %u in syscalls/%s (its format types "
			     "a syscall's arguments)", call, a->index, event);
		return NULL;
	}
	return fields[i + 1 + a->index].type;
}

/* An argument with resolve: a walk from a pointer, typed by what knows the argument's type:
 * the function's BTF (kernel functions, LSM hooks), the format file (syscalls, tracepoints),
 * the btf_trace_ typedef (raw tracepoints), btfPath (uprobes). */
static int resolve_arg(struct compile_ctx *ctx, const struct vigil_hook *hook, const struct compiled_hook *out,
		       const struct vigil_policy_arg *a, struct vg_arg_spec *spec)
{
	struct tp_field fields[32];
	const char *type;
	char fn[192];
	int n;

	switch (hook->kind) {
	case VIGIL_HOOK_LSM:
		snprintf(fn, sizeof(fn), "bpf_lsm_%s", out->function_name);
		return resolve_arg_path(ctx, fn, a, spec);
	case VIGIL_HOOK_KPROBE:
		if (!hook->syscall)
			return resolve_arg_path(ctx, hook->call, a, spec);
		type = syscall_arg_type(ctx, hook->call, a, fields, VIGIL_ARRAY_SIZE(fields));
		return type ? resolve_arg_type(ctx, hook->call, type, a, spec, true) : -ENOENT;
	case VIGIL_HOOK_TRACEPOINT:
		if (hook->raw)
			return resolve_raw_tp_arg(ctx, hook->event, a, spec);
		n = tp_format_read(hook->subsystem, hook->event, fields, VIGIL_ARRAY_SIZE(fields));
		if (n < 0 || (int)a->index >= n)
			return sensor_error(ctx, a->pos, -ENOENT, "resolve: tracepoint %s/%s has no field %u",
					    hook->subsystem, hook->event, a->index);
		snprintf(fn, sizeof(fn), "%s/%s", hook->subsystem, hook->event);
		/* a syscall tracepoint's pointers point into the caller's memory */
		return resolve_arg_type(ctx, fn, fields[a->index].type, a, spec, !strcmp(hook->subsystem, "syscalls"));
	case VIGIL_HOOK_UPROBE:
		if (!hook->btf_path)
			return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve on an uprobe argument needs btfPath (the "
					    "BTF file describing %s's types)", hook->path);
		if (!hook->nsymbols)
			return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve on an uprobe argument needs the hook's "
					    "symbol (btfPath types functions by name), not an offset or address");
		return resolve_uprobe_arg(ctx, hook->btf_path, hook->symbols[0], a, spec);
	default:
		return sensor_error(ctx, a->pos, -EOPNOTSUPP, "resolve is not supported on %s arguments",
				    hook->kind == VIGIL_HOOK_USDT ? "USDT" : "these");
	}
}

/* The type the kernel side reads: a cred's capability sets are kernel_cap_t there, only
 * events name the set. */
static uint8_t kernel_arg_type(enum vigil_arg_type t)
{
	if (t == VIGIL_ARG_CAP_INHERITABLE || t == VIGIL_ARG_CAP_PERMITTED || t == VIGIL_ARG_CAP_EFFECTIVE)
		t = VIGIL_ARG_KERNEL_CAP_T;
	return (uint8_t)t;
}

/* The kernel-side argument specs, common to every mechanism; `user` marks syscall hooks,
 * whose pointers point into user memory. params is the function's parameter count where
 * the program reads a ctx array (-1: unchecked). */
static int fill_args(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out,
		     bool user, int params, int max_index)
{
	size_t i, j;

	out->cfg.nargs = (uint32_t)hook->nargs;
	for (i = 0; i < hook->nargs; i++) {
		const struct vigil_policy_arg *a = &hook->args[i];
		struct vg_arg_spec *spec = &out->cfg.args[i];

		if (a->type == VIGIL_ARG_AUTO)
			return sensor_error(ctx, a->pos, -EOPNOTSUPP, "argument type \"%s\" is not supported by vigil yet",
					    a->type_name ? a->type_name : vigil_arg_type_name(a->type));
		if (!a->current_task && ((params >= 0 && (int)a->index >= params) || (int)a->index > max_index))
			return sensor_error(ctx, a->pos, -EINVAL, "argument index %u: %s has %d argument%s", a->index,
					    out->target, params >= 0 ? params : max_index + 1,
					    (params >= 0 ? params : max_index + 1) == 1 ? "" : "s");
		spec->type = kernel_arg_type(a->type);
		spec->class = (uint8_t)vg_arg_class(spec->type);
		spec->index = (uint8_t)a->index;
		spec->user = user;
		spec->max_len = VG_ARG_STR_MAX - 1;
		if (a->current_task || a->resolve) {
			int err = a->current_task ? resolve_task_path(ctx, a, spec) : resolve_arg(ctx, hook, out, a, spec);

			if (err)
				return err;
		}
		if (a->max_data) {
			/* the record holds what it can; chunk records carry the rest (bpf/lib/maxdata.h) */
			if (a->type != VIGIL_ARG_CHAR_BUF && a->type != VIGIL_ARG_CONST_BUF && a->type != VIGIL_ARG_IOV_ITER &&
			    a->type != VIGIL_ARG_CHAR_IOVEC)
				return sensor_error(ctx, a->pos, -EOPNOTSUPP,
						    "maxData reads char_buf, const_buf, char_iovec and iov_iter arguments, "
						    "not %s", vigil_arg_type_name(a->type));
			/* a return probe reads the buffer at the return, from the address the entry
			 * kept: an iov_iter has been advanced past its bytes by then */
			if (hook->is_return && a->type == VIGIL_ARG_IOV_ITER)
				return sensor_error(ctx, a->pos, -EOPNOTSUPP,
						    "maxData on an iov_iter of a return probe: the call advances the "
						    "iterator past its bytes before the return");
			spec->max_data = 1;
		}
		if (a->return_copy && (!hook->is_return || a->type != VIGIL_ARG_CHAR_BUF || a->data))
			return sensor_error(ctx, a->pos, -EOPNOTSUPP,
					    "returnCopy reads a char_buf argument when the call returns: it needs "
					    "return: true and type char_buf");
		spec->return_copy = a->return_copy;
		if (a->size_arg_index) {
			for (j = 0; j < hook->nargs; j++)
				if (hook->args[j].index == a->size_arg_index - 1)
					spec->size_slot = (uint8_t)(j + 1);
			if (!spec->size_slot)
				return sensor_error(ctx, a->pos, -EINVAL,
						    "sizeArgIndex %u names an argument this hook does not declare",
						    a->size_arg_index);
		}
		if (a->label)
			snprintf(out->label[i], sizeof(out->label[i]), "%s", a->label);
		out->info.args[i].type = a->type;
		out->info.args[i].label = a->label ? out->label[i] : NULL;
		out->info.args[i].data = a->data;
	}
	out->info.nargs = hook->nargs;
	return 0;
}

/* options: override-method: fmod-ret asks for fmod_ret and nothing else. */
static bool fmod_ret_only(const struct vigil_policy *p)
{
	size_t i;

	for (i = 0; i < p->noptions; i++)
		if (!strcmp(p->options[i].name, "override-method"))
			return p->options[i].value && !strcmp(p->options[i].value, "fmod-ret");
	return false;
}

/* Override of connect() where no fmod_ret exists: the cgroup sock_addr programs see every
 * connect on the machine (attached to the cgroup v2 root) and can refuse it with EPERM;
 * not when the policy asked for fmod_ret only. */
static bool connect_like(struct compile_ctx *ctx, const char *call)
{
	const char *name = syscall_base_name(call);

	if (fmod_ret_only(ctx->policy))
		return false;
	return !strcmp(name, "connect") || !strcmp(call, "tcp_connect") || !strcmp(call, "security_socket_connect");
}

/* What the cgroup programs cannot do, said at the node that asks for it. */
static int check_cgroup_connect(struct compile_ctx *ctx, const struct vigil_hook *hook)
{
	size_t i, j;

	for (i = 0; i < hook->nargs; i++)
		if (hook->args[i].type == VIGIL_ARG_SOCK || hook->args[i].type == VIGIL_ARG_SOCKET)
			return sensor_error(ctx, hook->args[i].pos, -EOPNOTSUPP,
					    "Override of %s: no fmod_ret for it (%s), and the cgroup connect programs "
					    "vigil uses instead see the destination as a sockaddr, not a sock: declare "
					    "the argument as sockaddr", hook->call,
					    !permits(ctx, VIGIL_MECH_FMOD_RET) ? why_not(ctx, VIGIL_MECH_FMOD_RET) :
					    hook->syscall ? "on a syscall it needs the kernel's error-injection list" :
					    "it changes security_* functions only");
	for (i = 0; i < hook->nselectors; i++) {
		const struct vigil_selector *sel = &hook->selectors[i];

		if (sel->nnamespaces || sel->nns_changes || sel->ncaps || sel->ncap_changes)
			return sensor_error(ctx, sel->pos, -EOPNOTSUPP,
					    "cgroup connect programs (the Override mechanism here) cannot read "
					    "namespaces or capabilities");
		for (j = 0; j < sel->npids; j++)
			if (sel->pids[j].is_namespace_pid)
				return sensor_error(ctx, sel->pids[j].pos, -EOPNOTSUPP,
						    "cgroup connect programs cannot read namespace pids");
		for (j = 0; j < sel->nactions; j++)
			if (sel->actions[j].kind == VIGIL_ACTION_SIGKILL || sel->actions[j].kind == VIGIL_ACTION_SIGNAL)
				return sensor_error(ctx, sel->actions[j].pos, -EOPNOTSUPP,
						    "cgroup connect programs cannot send signals: use Override alone here");
			else if (sel->actions[j].kernel_stack || sel->actions[j].user_stack)
				return sensor_error(ctx, sel->actions[j].pos, -EOPNOTSUPP,
						    "cgroup connect programs (the Override mechanism here) cannot read "
						    "stack traces");
	}
	return 0;
}

static int cgroup_connect_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	int err = check_cgroup_connect(ctx, hook);

	if (err)
		return err;
	snprintf(out->target, sizeof(out->target), "connect");
	out->mech = MECH_CGROUP_CONNECT;
	out->cfg.fetch = VG_FETCH_SOCK_ADDR;
	out->cfg.can_override = 1;
	out->cfg.syscall_nr = -1;
	snprintf(out->note, sizeof(out->note),
		 "Override through cgroup connect4/6 on the cgroup v2 root: only the destination is visible");
	return fill_args(ctx, hook, out, true, -1, 11);
}

/* A connect hook that only observes (Post, NoPost) the destination (sockaddr arguments,
 * the binary, pids): the cgroup connect programs see it with no syscall hook at all, where
 * the alternative is a raw_syscalls or syscalls tracepoint hook (no kprobes, no fentry).
 * They see every inet connect that reaches the protocol, io_uring's and TCP Fast Open's
 * (sendto MSG_FASTOPEN) included, which no connect() syscall hook sees; not the calls the
 * socket layer turns away before it (a bad fd, a connected socket, a short address). */
static bool cgroup_observable(struct compile_ctx *ctx, const struct vigil_hook *hook,
			      const struct vigil_policy_arg *args, const char *name)
{
	size_t i, j;

	if (strcmp(name, "connect") || hook->is_return || fmod_ret_only(ctx->policy) ||
	    !permits(ctx, VIGIL_MECH_CGROUP_SOCK_ADDR) || permits(ctx, VIGIL_MECH_KPROBE) ||
	    permits(ctx, VIGIL_MECH_FENTRY))
		return false;
	for (i = 0; i < hook->nargs; i++)
		if (args[i].type != VIGIL_ARG_SOCKADDR || args[i].resolve || args[i].current_task)
			return false;
	for (i = 0; i < hook->nselectors; i++) {
		const struct vigil_selector *sel = &hook->selectors[i];

		if (sel->nnamespaces || sel->nns_changes || sel->ncaps || sel->ncap_changes || sel->nparent_binaries ||
		    sel->nreturn_args || sel->nreturn_actions)
			return false;
		for (j = 0; j < sel->npids; j++)
			if (sel->pids[j].is_namespace_pid)
				return false;
		for (j = 0; j < sel->nactions; j++)
			if ((sel->actions[j].kind != VIGIL_ACTION_POST && sel->actions[j].kind != VIGIL_ACTION_NOPOST) ||
			    sel->actions[j].kernel_stack || sel->actions[j].user_stack)
				return false;
	}
	return true;
}

static void cgroup_observe(struct compiled_hook *out)
{
	out->mech = MECH_CGROUP_CONNECT;
	out->cfg.fetch = VG_FETCH_SOCK_ADDR;
	out->cfg.syscall_nr = -1;
	snprintf(out->note, sizeof(out->note),
		 "observed from cgroup connect4/6 on the cgroup v2 root: every inet connect that reaches the protocol "
		 "(io_uring's and TCP Fast Open's too), no syscall hook");
}

/* The kernel's own per-syscall tracepoints: one probe on raw_syscalls/sys_enter tests a bitmap
 * of enabled syscall numbers and runs only the programs attached to that syscall's event, so
 * a hook here costs nothing on other syscalls (on raw_syscalls every program runs on every
 * syscall of the machine). The record is {common fields, int __syscall_nr, then one unsigned
 * long per argument from offset 16}; sys_exit_X has `long ret` at offset 16. */
#define SYSCALL_TP_ARGS_OFFSET 16

/* The event's and the entry function's name where the kernel defines the syscall under another
 * name (x86-64). */
static const char *syscall_event_name(const char *name)
{
	static const struct {
		const char *syscall, *event;
	} aliases[] = {
		{"stat", "newstat"}, {"fstat", "newfstat"}, {"lstat", "newlstat"},
		{"uname", "newuname"}, {"sendfile", "sendfile64"}, {"umount2", "umount"},
	};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(aliases); i++)
		if (!strcmp(name, aliases[i].syscall))
			return aliases[i].event;
	return name;
}

static bool syscall_tracepoint_exists(const char *name, bool is_return)
{
	struct tp_field fields[16];
	char event[96];

	snprintf(event, sizeof(event), "sys_enter_%s", name);
	if (tp_format_read("syscalls", event, fields, VIGIL_ARRAY_SIZE(fields)) < 0)
		return false;
	snprintf(event, sizeof(event), "sys_exit_%s", name);
	return !is_return || tp_format_read("syscalls", event, fields, VIGIL_ARRAY_SIZE(fields)) >= 0;
}

static int syscall_tracepoint_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out,
				   const char *name)
{
	size_t i;
	int err;

	out->mech = MECH_SYSCALL_TRACEPOINT;
	out->cfg.fetch = VG_FETCH_TRACEPOINT;
	snprintf(out->subsys, sizeof(out->subsys), "syscalls");
	snprintf(out->target, sizeof(out->target), "sys_enter_%s", name);
	snprintf(out->note, sizeof(out->note), "no kprobe or fentry here: Sigkill/Signal only, no Override");
	err = fill_args(ctx, hook, out, true, -1, 5);
	for (i = 0; !err && i < hook->nargs; i++) {
		out->cfg.args[i].tp_offset = (uint16_t)(SYSCALL_TP_ARGS_OFFSET + 8 * hook->args[i].index);
		out->cfg.args[i].tp_size = 8;
		out->cfg.args[i].tp_signed = 0;	/* sign_extend() applies the declared type */
	}
	return err;
}

/* The open syscalls fanotify sees: argument indexes of the file name and flags, as a kprobe
 * on the syscall numbers them (a syscalls:sys_enter_X tracepoint adds 5). */
static const struct {
	const char *name;
	int path, flags;
} fan_opens[] = {
	{"openat", 1, 2}, {"open", 0, 1}, {"creat", 0, -1},
};

/* On a kernel without trampolines or BPF LSM, a hook on an open syscall whose selectors only
 * name paths becomes fanotify marks on those paths: no program runs on any other open.
 * 1 when chosen; 0 with the reason in out->note when the hook keeps a syscall hook. */
static int fanotify_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out,
			 const char *name, int shift)
{
	char why[128];
	bool want = false, auto_ok = false;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(fan_opens); i++)
		if (!strcmp(name, fan_opens[i].name))
			break;
	if (i == VIGIL_ARRAY_SIZE(fan_opens))
		return 0;
	/* file-watch: syscall (the default), auto or fanotify: fanotify misses failed attempts
	 * (EACCES, missing files), which a sensitive-file policy exists to see, so it is asked
	 * for, never assumed */
	for (i = 0; i < ctx->policy->noptions; i++) {
		const char *oname = ctx->policy->options[i].name, *oval = ctx->policy->options[i].value;

		if (strcmp(oname, "file-watch") || !oval)
			continue;
		if (!strcmp(oval, "auto"))
			auto_ok = true;
		else if (!strcmp(oval, "fanotify"))
			want = true;
	}
	if (!want && !auto_ok) {
		snprintf(out->note, sizeof(out->note),
			 "not fanotify: file-watch is syscall unless the policy asks for auto or fanotify");
		return 0;
	}
	if (permits(ctx, VIGIL_MECH_LSM) || permits(ctx, VIGIL_MECH_FENTRY)) {
		if (want)
			return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "file-watch: fanotify: this kernel has "
					    "trampolines or BPF LSM, which vigil uses for open hooks instead");
		return 0;
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(fan_opens); i++)
		if (!strcmp(name, fan_opens[i].name))
			break;
	if (!fanwatch_plan(hook, fan_opens[i].path + shift, fan_opens[i].flags < 0 ? -1 : fan_opens[i].flags + shift,
			   ctx->mode != VIGIL_MODE_MONITOR, out, why, sizeof(why))) {
		if (want)
			return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "file-watch: fanotify: %s", why);
		snprintf(out->note, sizeof(out->note), "not fanotify: %s", why);
		return 0;
	}
	out->mech = MECH_FANOTIFY;
	out->cfg.syscall_nr = -1;
	out->cfg.can_override = out->fan_enforce;
	snprintf(out->note, sizeof(out->note),
		 "path as resolved (any name, relative too); flags unknown (0, marked error); tid is the "
		 "pid; Override: EPERM");
	return 1;
}

/* Without kprobes or fentry, a syscall's entry hooks go in the raw_syscalls dispatcher's
 * table (bpf/dispatch.h) rather than on syscalls:sys_enter_X: that tracepoint runs, for every
 * syscall of the machine, a perf probe beside the dispatcher the shipped policies keep
 * anyway (a module-load hook: no tracepoint of its own), and on X a perf buffer, a copy of
 * the arguments and a run of its program array (measured on the open storm: tests/bench/
 * README.md); in the table, X's hooks are tail calls. The dispatcher tail-calls raw_tp
 * programs: a tp_btf one may not share its table. */
static void dispatch_hook(struct compiled_hook *out, const char *name)
{
	char why_not_fanotify[sizeof(out->note)];
	int n;

	/* keep what fanotify_hook said of this hook after ours */
	snprintf(why_not_fanotify, sizeof(why_not_fanotify), "%s", out->note);
	out->mech = MECH_RAW_SYSCALL_DISPATCH;
	out->cfg.fetch = VG_FETCH_RAW_SYSCALL;
	/* what the table gives, then from note_keep on what holds alone on raw_syscalls too */
	n = snprintf(out->note, sizeof(out->note), "no kprobe or fentry here: runs on %s only (tail call by number), ",
		     name);
	out->note_keep = (uint8_t)(n < (int)sizeof(out->note) ? n : (int)sizeof(out->note) - 1);
	if (snprintf(out->note + out->note_keep, sizeof(out->note) - out->note_keep,
		     "Sigkill/Signal only, no Override%s%s", why_not_fanotify[0] ? "; " : "",
		     why_not_fanotify) >= (int)(sizeof(out->note) - out->note_keep))
		pr_debug("sensors: the note on %s's hook is cut", name);
}

/* Alone on raw_syscalls (instance.c take_dispatch_slot), every syscall runs the hook: say so,
 * and why, in place of what dispatch_hook said the table gives. */
void sensor_note_alone(const struct compiled_hook *h, const char *why, char *out, size_t size)
{
	snprintf(out, size, "no kprobe or fentry here, and %s: alone on raw_syscalls, so every syscall runs it "
		 "(a filter passes its own); %s", why, h->note + h->note_keep);
}

/* A syscall hook on __x64_sys_X (fentry, kprobe, fmod_ret) sees 64-bit calls only: the i386
 * table calls __ia32_compat_sys_X or __ia32_sys_X, and for some calls whose twin is X wrappers
 * of other names (ia32_wrappers.c), which any user reaches with int 0x80. The hook goes on those
 * wrappers too, its program rewriting the 32-bit call's registers as the x86-64 call's
 * (bpf/lib/dispatch_maps.h vg_wrapper_compat); with Override (fmod_ret) a 32-bit call is
 * denied as a 64-bit one is. The kernels that let fmod_ret change __x64_sys_X (its
 * error-injection list) list its __ia32_ wrappers there too (the same SYSCALL_DEFINE stub
 * marks both); one they refuse fails the hook's load, so it is refused, not loaded blind to
 * int 0x80. */
static void ia32_wrapper(struct compile_ctx *ctx, struct compiled_hook *out, const char *name)
{
#if defined(__x86_64__)
	size_t n = strlen(out->note), missed = 0;

	if (out->mech != MECH_FENTRY && out->mech != MECH_FEXIT && out->mech != MECH_KPROBE &&
	    out->mech != MECH_FMOD_RET)
		return;
	if (ia32_wrappers(ctx->vmlinux, name, out->ia32_target, &missed) == 0)
		snprintf(out->note + n, sizeof(out->note) - n, "%sno ia32 wrapper of %s: 32-bit calls not seen",
			 n ? "; " : "", name);
	else if (missed)
		snprintf(out->note + n, sizeof(out->note) - n, "%s%zu more ia32 wrappers of %s not attached: "
			 "some 32-bit calls not seen", n ? "; " : "", missed, name);
#else
	(void)ctx, (void)out, (void)name;
#endif
}

static int syscall_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	const char *name = syscall_base_name(hook->call);
	bool override = wants_override(hook), monitor = ctx->mode == VIGIL_MODE_MONITOR;
	int nr = syscall_nr(name), params, err;

	if (nr < 0)
		return sensor_error(ctx, hook->call_pos, -ENOENT, "unknown syscall \"%s\" on %s", hook->call,
				    syscall_arch_name);
	/* the function the syscall table calls: __x64_sys_stat exists too (i386's old stat),
	 * but a 64-bit stat runs __x64_sys_newstat, and a hook on the other would see nothing */
	snprintf(out->target, sizeof(out->target), "%s%s", syscall_sym_prefix, syscall_event_name(name));
	snprintf(out->function_name, sizeof(out->function_name), "%s%s", syscall_sym_prefix, name);
	out->cfg.syscall_nr = nr;
	params = btf_func_params(ctx, out->target);

	err = hook->is_return ? 0 : fanotify_hook(ctx, hook, out, name, 0);
	if (err)
		return err < 0 ? err : fill_args(ctx, hook, out, true, -1, 5);
	/* connect first: fmod_ret on a syscall also needs the kernel's error-injection list,
	 * which stock kernels often lack (Debian 12's cloud kernel among them) */
	if (override && connect_like(ctx, hook->call) && permits(ctx, VIGIL_MECH_CGROUP_SOCK_ADDR)) {
		return cgroup_connect_hook(ctx, hook, out);
	} else if (!override && cgroup_observable(ctx, hook, hook->args, name)) {
		cgroup_observe(out);
	} else if (override && permits(ctx, VIGIL_MECH_FMOD_RET) && params >= 0) {
		out->mech = MECH_FMOD_RET;
		out->cfg.fetch = VG_FETCH_SYSCALL_CTX;
		out->cfg.can_override = 1;
	} else if (override && !monitor) {
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP,
				    "Override on syscall %s needs fmod_ret, which this kernel does not permit (%s); "
				    "use Sigkill or monitor mode",
				    name, why_not(ctx, VIGIL_MECH_FMOD_RET));
	} else if (permits(ctx, VIGIL_MECH_FENTRY) && params >= 0) {
		out->mech = MECH_FENTRY;
		out->cfg.fetch = VG_FETCH_SYSCALL_CTX;
	} else if (permits(ctx, VIGIL_MECH_KPROBE)) {
		out->mech = MECH_KPROBE;
		out->cfg.fetch = VG_FETCH_SYSCALL_PTREGS;
	} else if (permits(ctx, VIGIL_MECH_RAW_TP)) {
		/* a return probe too: sys_exit_X would cost other syscalls' exits only a bitmap test
		 * where the dispatcher's exit program costs a BPF run each, but the kernel's syscall
		 * tracepoints skip 32-bit calls, which the dispatcher hands to their twins' hooks */
		dispatch_hook(out, name);
	} else if (permits(ctx, VIGIL_MECH_TRACEPOINT) &&
		   syscall_tracepoint_exists(syscall_event_name(name), hook->is_return)) {
		return syscall_tracepoint_hook(ctx, hook, out, syscall_event_name(name));
	} else if (permits(ctx, VIGIL_MECH_TP_BTF)) {
		out->mech = MECH_RAW_SYSCALL_TP_BTF;
		out->cfg.fetch = VG_FETCH_RAW_SYSCALL;
		snprintf(out->note, sizeof(out->note),
			 "no kprobe or fentry here: every syscall passes a filter for %s; Sigkill/Signal only, no Override",
			 name);
	} else {
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "no mechanism for syscall %s: kprobe %s; fentry %s; raw_tp %s",
				    name, why_not(ctx, VIGIL_MECH_KPROBE), why_not(ctx, VIGIL_MECH_FENTRY),
				    why_not(ctx, VIGIL_MECH_RAW_TP));
	}
	ia32_wrapper(ctx, out, name);
	return fill_args(ctx, hook, out, true, -1, 5);
}

/* An fentry hook on a syscall's function (__x64_sys_X: a syscall hook, or a syscalls:
 * sys_enter_X tracepoint on the syscall's arguments) may share the syscall's one fentry
 * program (fentry_dispatch.c) rather than take one of its own: an entry hook only (a return
 * probe's exit pairs with it through fexit, not dispatched), and not one pinned under
 * --keep-enforcing (a pin holds a link of its own, which a slot in a table is not). */
bool sensor_fentry_dispatchable(const struct compiled_hook *h)
{
	return h->mech == MECH_FENTRY && !h->cfg.is_return && h->cfg.fetch == VG_FETCH_SYSCALL_CTX &&
	       h->cfg.syscall_nr >= 0 && h->cfg.syscall_nr < VG_SYSCALL_SLOTS && !h->attach_alone;
}

/* call: "list:NAME" over a generated_syscalls list: every syscall. One program where every
 * syscall passes anyway (raw_syscalls/sys_enter without a syscall-id filter), not one per
 * syscall; the record carries the syscall's number and each event names its syscall. */
static int all_syscalls_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	if (wants_override(hook))
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP,
				    "Override on a generated_syscalls list: vigil hooks every syscall with one "
				    "raw_syscalls program, which cannot override; use Sigkill or Signal");
	snprintf(out->target, sizeof(out->target), "sys_enter");
	snprintf(out->function_name, sizeof(out->function_name), "%s", hook->call);
	out->cfg.syscall_nr = -1;
	out->cfg.fetch = VG_FETCH_RAW_SYSCALL;
	out->info.per_syscall = true;
	if (permits(ctx, VIGIL_MECH_TP_BTF))
		out->mech = MECH_RAW_SYSCALL_TP_BTF;
	else if (permits(ctx, VIGIL_MECH_RAW_TP))
		out->mech = MECH_RAW_SYSCALL_RAW_TP;
	else
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "no mechanism for every syscall: tp_btf %s; raw_tp %s",
				    why_not(ctx, VIGIL_MECH_TP_BTF), why_not(ctx, VIGIL_MECH_RAW_TP));
	snprintf(out->note, sizeof(out->note),
		 "generated_syscalls: one program on raw_syscalls for every syscall; Sigkill/Signal only, no Override");
	return fill_args(ctx, hook, out, true, -1, 5);
}

static int kprobe_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	bool override = wants_override(hook), monitor = ctx->mode == VIGIL_MODE_MONITOR;
	int params = btf_func_params(ctx, hook->call);

	snprintf(out->target, sizeof(out->target), "%s", hook->call);
	snprintf(out->function_name, sizeof(out->function_name), "%s", hook->call);
	out->cfg.syscall_nr = -1;
	if (params == -ENOENT)
		return sensor_error(ctx, hook->call_pos, -ENOENT, "unknown kernel function \"%s\"", hook->call);

	if (override && permits(ctx, VIGIL_MECH_FMOD_RET) && params >= 0 && !strncmp(hook->call, "security_", 9)) {
		out->mech = MECH_FMOD_RET;
		out->cfg.fetch = VG_FETCH_CTX;
		out->cfg.can_override = 1;
		return fill_args(ctx, hook, out, false, params, 11);
	}
	if (override && connect_like(ctx, hook->call) && permits(ctx, VIGIL_MECH_CGROUP_SOCK_ADDR))
		return cgroup_connect_hook(ctx, hook, out);
	if (override && !monitor)
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP,
				    "Override on %s needs fmod_ret on a security_* function; this kernel: fmod_ret %s",
				    hook->call, why_not(ctx, VIGIL_MECH_FMOD_RET));
	if (permits(ctx, VIGIL_MECH_FENTRY) && params >= 0) {
		out->mech = MECH_FENTRY;
		out->cfg.fetch = VG_FETCH_CTX;
		return fill_args(ctx, hook, out, false, params, 11);
	}
	if (permits(ctx, VIGIL_MECH_KPROBE)) {
		out->mech = MECH_KPROBE;
		out->cfg.fetch = VG_FETCH_REGS;
		return fill_args(ctx, hook, out, false, -1, 4);
	}
	return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "no mechanism for kernel function %s: kprobe %s; fentry %s",
			    hook->call, why_not(ctx, VIGIL_MECH_KPROBE), why_not(ctx, VIGIL_MECH_FENTRY));
}

static bool wants_ima(const struct vigil_hook *hook)
{
	size_t i, j;

	for (i = 0; i < hook->nselectors; i++)
		for (j = 0; j < hook->selectors[i].nactions; j++)
			if (hook->selectors[i].actions[j].ima_hash)
				return true;
	return false;
}

/* imaHash: the file the hook's first argument gives (a linux_binprm's or a file), per BTF. */
static int ima_source(struct compile_ctx *ctx, const struct vigil_hook *hook, const char *fn, struct compiled_hook *out)
{
	const struct btf_type *t = NULL;
	const char *name = NULL;
	int id = ctx->vmlinux ? btf__find_by_name_kind(ctx->vmlinux, fn, BTF_KIND_FUNC) : -ENOENT;

	if (id >= 0)
		t = btf__type_by_id(ctx->vmlinux, btf__type_by_id(ctx->vmlinux, id)->type);
	if (t && btf_vlen(t)) {
		t = btf__type_by_id(ctx->vmlinux, btf_params(t)[0].type);
		if (t && btf_is_ptr(t)) {
			t = btf__type_by_id(ctx->vmlinux, t->type);
			name = t && btf_is_struct(t) ? btf__name_by_offset(ctx->vmlinux, t->name_off) : NULL;
		}
	}
	if (name && !strcmp(name, "linux_binprm"))
		out->cfg.ima_from = VG_IMA_BPRM;
	else if (name && !strcmp(name, "file"))
		out->cfg.ima_from = VG_IMA_FILE;
	else
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "imaHash needs an LSM hook whose first argument is "
				    "a linux_binprm or a file; %s's is not", out->function_name);
	if (out->mech != MECH_LSM)
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "imaHash needs BPF LSM (bpf_ima_file_hash is "
				    "offered to sleepable LSM programs only; \"bpf\" in the kernel's lsm= list): lsm %s",
				    why_not(ctx, VIGIL_MECH_LSM));
	return 0;
}

static int lsm_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	const char *name = !strncmp(hook->call, "security_", 9) ? hook->call + 9 : hook->call;
	char fn[160];
	int params;

	snprintf(out->function_name, sizeof(out->function_name), "%s", name);
	out->cfg.syscall_nr = -1;
	out->cfg.fetch = VG_FETCH_CTX;
	out->cfg.can_override = 1;
	snprintf(fn, sizeof(fn), "bpf_lsm_%s", name);
	params = btf_func_params(ctx, fn);
	if (params == -ENOENT)
		return sensor_error(ctx, hook->call_pos, -ENOENT, "unknown LSM hook \"%s\"", name);
	if (permits(ctx, VIGIL_MECH_LSM)) {
		out->mech = MECH_LSM;
		snprintf(out->target, sizeof(out->target), "%s", name);
	} else if (permits(ctx, VIGIL_MECH_FMOD_RET)) {
		out->mech = MECH_FMOD_RET;
		snprintf(out->target, sizeof(out->target), "security_%s", name);
	} else {
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "no mechanism for LSM hook %s: lsm %s; fmod_ret %s", name,
				    why_not(ctx, VIGIL_MECH_LSM), why_not(ctx, VIGIL_MECH_FMOD_RET));
	}
	if (wants_ima(hook)) {
		int err = ima_source(ctx, hook, fn, out);

		if (err)
			return err;
	}
	return fill_args(ctx, hook, out, false, params, 11);
}

/* What a policy type `auto` stands for, from the field's C type. */
static enum vigil_arg_type auto_type(const struct tp_field *f)
{
	if (strstr(f->type, "char *") || strstr(f->type, "char*"))
		return VIGIL_ARG_STRING;
	if (strstr(f->type, "__data_loc"))
		return VIGIL_ARG_DATA_LOC;
	switch (f->size) {
	case 1: return f->is_signed ? VIGIL_ARG_SINT8 : VIGIL_ARG_UINT8;
	case 2: return f->is_signed ? VIGIL_ARG_SINT16 : VIGIL_ARG_UINT16;
	case 4: return f->is_signed ? VIGIL_ARG_INT : VIGIL_ARG_UINT32;
	default: return f->is_signed ? VIGIL_ARG_LONG : VIGIL_ARG_ULONG;
	}
}

/* syscalls:sys_enter_X (sys_exit_X) with BPF trampolines: fentry (fexit) on the syscall's
 * function, which runs on X only. The tracepoint would put every syscall of every task on the
 * kernel's slow path (the syscall work flag is set on all tasks while any syscall tracepoint is
 * enabled), run a perf probe on each of them to test X's bit, and on X copy the arguments into
 * a perf buffer before the program runs (tests/bench/README.md, "The storms in instructions"). */
static bool trampoline_tracepoint(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out,
				  const char *name, enum sensor_mech mech)
{
	snprintf(out->target, sizeof(out->target), "%s%s", syscall_sym_prefix, name);
	if (wants_override(hook) || !permits(ctx, VIGIL_MECH_FENTRY) || btf_func_params(ctx, out->target) < 0) {
		snprintf(out->target, sizeof(out->target), "%s", hook->event);
		return false;
	}
	out->mech = mech;
	out->cfg.fetch = VG_FETCH_SYSCALL_CTX;
	if (snprintf(out->note, sizeof(out->note), "%s on the syscall: runs on %s only, no syscall tracepoint",
		     sensor_mech_name(mech), name) >= (int)sizeof(out->note))
		pr_debug("sensors: the note on %s's hook is cut", name);
	ia32_wrapper(ctx, out, name);	/* and its 32-bit calls, which the tracepoint skipped */
	return true;
}

/* syscalls:sys_exit_X without arguments, or whose arguments are its number and return value
 * (fields 4 and 5, the shipped capability-gain's): fexit on X, which runs after the syscall as
 * the tracepoint does, with the task's credentials as X left them, and on X's i386 wrappers,
 * whose calls the tracepoint skips. The fexit's context is the dispatcher exit's (the
 * registers, then the return value), read the same way (VG_FETCH_SYSCALL_EXIT). */
static bool fexit_tracepoint(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	int nr = strncmp(hook->event, "sys_exit_", 9) ? -1 : syscall_nr(hook->event + 9);
	size_t i;

	for (i = 0; i < hook->nargs; i++)
		if ((hook->args[i].index != 4 && hook->args[i].index != 5) || hook->args[i].current_task ||
		    hook->args[i].resolve)
			return false;
	if (nr < 0 || !trampoline_tracepoint(ctx, hook, out, hook->event + 9, MECH_FEXIT))
		return false;
	out->cfg.syscall_nr = nr;
	if (hook->nargs)
		out->cfg.fetch = VG_FETCH_SYSCALL_EXIT;
	return true;
}

/* syscalls:sys_exit_X whose arguments are its number and return value (fields 4 and 5):
 * the same hook in the dispatcher's exit table, which also hands it 32-bit calls of X (the
 * kernel's syscall tracepoints skip those: any user could hide a setresuid's result behind
 * int 0x80). One BPF run per syscall exit of the machine instead of the tracepoint's bitmap
 * test (tests/bench/README.md), so only where the kernel runs 32-bit calls at all (the
 * compat_syscalls probe). false: keep the tracepoint. */
static bool dispatch_exit_tracepoint(struct compile_ctx *ctx, struct compiled_hook *out, const struct vigil_hook *hook,
				     const struct vigil_policy_arg *args)
{
	int nr = strncmp(hook->event, "sys_exit_", 9) ? -1 : syscall_nr(hook->event + 9);
	size_t i;

	if (nr < 0)
		return false;
	for (i = 0; i < hook->nargs; i++)
		if ((args[i].index != 4 && args[i].index != 5) || args[i].current_task || args[i].resolve)
			return false;
	if (!permits(ctx, VIGIL_MECH_COMPAT_SYSCALLS)) {
		if (snprintf(out->note, sizeof(out->note),
			     "no 32-bit syscalls on this kernel (int 0x80 refused): the tracepoint sees every %s, and "
			     "costs other syscalls' exits a bitmap test, not a BPF run",
			     hook->event + 9) >= (int)sizeof(out->note))
			pr_debug("sensors: the note on %s's hook is cut", hook->event);
		return false;
	}
	out->cfg.syscall_nr = nr;
	dispatch_hook(out, hook->event + 9);
	out->cfg.fetch = VG_FETCH_SYSCALL_EXIT;
	return true;
}

/* syscalls:sys_enter_X whose arguments are all the syscall's own (fields 5 to 10, after the
 * common ones and __syscall_nr): fentry on the syscall where trampolines work, else the same
 * hook in the dispatcher's table, each field read from the register it was copied from (args
 * renumbered in place). false: keep the tracepoint. */
static bool dispatch_tracepoint(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out,
				struct vigil_policy_arg *args)
{
	int nr = strncmp(hook->event, "sys_enter_", 10) ? -1 : syscall_nr(hook->event + 10);
	bool fentry;
	size_t i;

	if (nr < 0)
		return permits(ctx, VIGIL_MECH_RAW_TP) && !permits(ctx, VIGIL_MECH_KPROBE) &&
		       !permits(ctx, VIGIL_MECH_FENTRY) && dispatch_exit_tracepoint(ctx, out, hook, args);
	for (i = 0; i < hook->nargs; i++)
		if (args[i].index < 5 || args[i].index > 10 || args[i].current_task || args[i].resolve ||
		    (args[i].size_arg_index && args[i].size_arg_index < 6))
			return false;
	fentry = trampoline_tracepoint(ctx, hook, out, hook->event + 10, MECH_FENTRY);
	if (!fentry && (!permits(ctx, VIGIL_MECH_RAW_TP) || permits(ctx, VIGIL_MECH_KPROBE) ||
			permits(ctx, VIGIL_MECH_FENTRY)))
		return false;
	for (i = 0; i < hook->nargs; i++) {
		args[i].index -= 5;
		if (args[i].size_arg_index)	/* 1-based, as the policy writes it */
			args[i].size_arg_index -= 5;
	}
	out->cfg.syscall_nr = nr;
	if (fentry)
		return true;
	if (!wants_override(hook) && cgroup_observable(ctx, hook, args, hook->event + 10)) {
		cgroup_observe(out);
		return true;
	}
	dispatch_hook(out, hook->event + 10);
	return true;
}

static int tracepoint_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	struct tp_field fields[32];
	bool user = !strcmp(hook->subsystem, "syscalls");
	struct vigil_hook copy = *hook;
	struct vigil_policy_arg args[VIGIL_POLICY_MAX_ARGS];
	int n, err;
	size_t i;

	snprintf(out->subsys, sizeof(out->subsys), "%s", hook->subsystem);
	snprintf(out->target, sizeof(out->target), "%s", hook->event);
	snprintf(out->function_name, sizeof(out->function_name), "%s/%s", hook->subsystem, hook->event);
	out->cfg.syscall_nr = -1;
	if (hook->raw) {
		if (!permits(ctx, VIGIL_MECH_TP_BTF))
			return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "raw tracepoint %s needs tp_btf: %s",
					    hook->event, why_not(ctx, VIGIL_MECH_TP_BTF));
		out->mech = MECH_TP_BTF;
		out->cfg.fetch = VG_FETCH_CTX;
		return fill_args(ctx, hook, out, false, -1, 11);
	}
	err = user && !strncmp(hook->event, "sys_enter_", 10) ? fanotify_hook(ctx, hook, out, hook->event + 10, 5) : 0;
	if (err)
		return err < 0 ? err : fill_args(ctx, hook, out, true, -1, 31);
	if (!permits(ctx, VIGIL_MECH_TRACEPOINT))
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "tracepoints are not available: %s",
				    why_not(ctx, VIGIL_MECH_TRACEPOINT));
	n = tp_format_read(hook->subsystem, hook->event, fields, VIGIL_ARRAY_SIZE(fields));
	if (n < 0)
		return sensor_error(ctx, hook->call_pos, -ENOENT, "tracepoint %s/%s not found in this kernel (%s)",
				    hook->subsystem, hook->event, strerror(-n));
	out->mech = MECH_TRACEPOINT;
	out->cfg.fetch = VG_FETCH_TRACEPOINT;
	/* `auto` takes the type from the format file, so resolve it before the common checks */
	for (i = 0; i < hook->nargs && i < VIGIL_POLICY_MAX_ARGS; i++) {
		args[i] = hook->args[i];
		if ((int)args[i].index >= n)
			return sensor_error(ctx, args[i].pos, -EINVAL, "argument index %u: %s/%s has %d fields",
					    args[i].index, hook->subsystem, hook->event, n);
		if (args[i].type == VIGIL_ARG_AUTO)
			args[i].type = auto_type(&fields[args[i].index]);
	}
	copy.args = args;
	if (user && (dispatch_tracepoint(ctx, &copy, out, args) || fexit_tracepoint(ctx, &copy, out)))
		return fill_args(ctx, &copy, out, out->cfg.fetch != VG_FETCH_SYSCALL_EXIT, -1, 5);
	err = fill_args(ctx, &copy, out, user, n, 31);
	if (err)
		return err;
	for (i = 0; i < hook->nargs; i++) {
		const struct tp_field *f = &fields[args[i].index];

		out->cfg.args[i].tp_offset = f->offset;
		out->cfg.args[i].tp_size = f->size;
		out->cfg.args[i].tp_signed = f->is_signed;
		if (vg_arg_class(args[i].type) != VG_CLASS_STRING || args[i].type == VIGIL_ARG_DATA_LOC)
			continue;
		if (f->is_array) {
			/* the string is in the record: at most the field, its NUL included */
			out->cfg.args[i].tp_inline = 1;
			if (out->cfg.args[i].max_len > f->size - 1)
				out->cfg.args[i].max_len = (uint16_t)(f->size ? f->size - 1 : 0);
			/* a const_buf is the whole array, no NUL to leave room for */
			if (args[i].type == VIGIL_ARG_CONST_BUF)
				out->cfg.args[i].max_len = (uint16_t)f->size;
		} else if (f->size != sizeof(uint64_t)) {
			return sensor_error(ctx, args[i].pos, -EINVAL,
					    "argument index %u: field %s (%s, %u bytes) is neither a pointer nor a char "
					    "array: type \"%s\" cannot read it",
					    args[i].index, f->name, f->type, f->size, vigil_arg_type_name(args[i].type));
		}
	}
	return 0;
}

static int uprobe_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	if (hook->has_offset ? hook->nsymbols != 0 : hook->nsymbols != 1)
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "vigil attaches one symbol or offset per uprobe hook");
	snprintf(out->path, sizeof(out->path), "%s", hook->path);
	if (hook->has_offset && hook->offset_is_addr) {
		/* addrs: the address as the ELF names it, attached at its file offset */
		int err = uprobe_addr_offset(hook->path, hook->offset, &out->offset);

		if (err)
			return sensor_error(ctx, hook->call_pos, err,
					    "addrs: 0x%llx in %s: %s", (unsigned long long)hook->offset, hook->path,
					    err == -ERANGE ? "no executable segment of the file holds this address" :
					    err == -ENOEXEC ? "the file is not an ELF object" : strerror(-err));
		snprintf(out->function_name, sizeof(out->function_name), "0x%llx", (unsigned long long)hook->offset);
	} else if (hook->has_offset) {
		/* attached at a file offset: no symbol to name it by */
		out->offset = hook->offset;
		snprintf(out->function_name, sizeof(out->function_name), "0x%llx", (unsigned long long)hook->offset);
	} else {
		snprintf(out->target, sizeof(out->target), "%s", hook->symbols[0]);
		snprintf(out->function_name, sizeof(out->function_name), "%s", hook->symbols[0]);
	}
	/* btfPath serves resolve (resolve.c); a file that is no BTF is refused even without one */
	if (hook->btf_path) {
		struct btf *btf = btf__parse(hook->btf_path, NULL);
		int err = btf ? 0 : -errno;

		btf__free(btf);
		if (err)
			return sensor_error(ctx, hook->call_pos, err, "btfPath %s: not a BTF file (%s)", hook->btf_path,
					    strerror(-err));
	}
	out->ref_ctr_offset = hook->ref_ctr_offset;
	out->mech = MECH_UPROBE;
	out->cfg.fetch = VG_FETCH_REGS;
	out->cfg.syscall_nr = -1;
	return fill_args(ctx, hook, out, true, -1, 4);
}

/* A USDT probe: libbpf finds it in the binary's .note.stapsdt and attaches a uprobe there
 * (counting up its semaphore, if it has one); arguments are read where the note says. */
/* The kernel's lockdown mode ("none", "integrity", "confidentiality") into out, mounting
 * securityfs first where it is not (as the agent mounts bpffs and tracefs); 0 or -errno. */
static int lockdown_mode(char *out, size_t size)
{
	static const char file[] = "/sys/kernel/security/lockdown";
	char line[96], *open_b, *close_b;
	FILE *f = fopen(file, "re");

	if (!f && errno == ENOENT && !mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL))
		f = fopen(file, "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	/* "none [integrity] confidentiality": the mode in force is bracketed */
	open_b = strchr(line, '[');
	close_b = open_b ? strchr(open_b, ']') : NULL;
	if (!close_b)
		return -EINVAL;
	snprintf(out, size, "%.*s", (int)(close_b - open_b - 1), open_b + 1);
	return 0;
}

/* Set writes the argument where the probe's note places it: only memory can be written (a
 * register's value is gone once the probe returns; a constant is in the code). Said here,
 * from the binary, before anything loads. */
static int check_set(struct compile_ctx *ctx, const struct vigil_hook *hook)
{
	char operand[64], mode[32];
	size_t i, j;
	int err;

	for (i = 0; i < hook->nselectors; i++) {
		for (j = 0; j < hook->selectors[i].nactions; j++) {
			const struct vigil_action *a = &hook->selectors[i].actions[j];

			if (a->kind != VIGIL_ACTION_SET)
				continue;
			err = usdt_arg_operand(hook->path, hook->subsystem, hook->event, a->arg_index, operand,
					       sizeof(operand));
			if (err == -ERANGE)
				return sensor_error(ctx, a->pos, -EINVAL, "Set argIndex %u: probe %s:%s in %s has fewer "
						    "arguments", a->arg_index, hook->subsystem, hook->event, hook->path);
			if (err)
				return sensor_error(ctx, a->pos, err, "Set: cannot read probe %s:%s's arguments from %s: %s",
						    hook->subsystem, hook->event, hook->path, strerror(-err));
			if (!strchr(operand, '('))
				return sensor_error(ctx, a->pos, -EOPNOTSUPP, "Set argIndex %u: probe %s:%s keeps that "
						    "argument in %s (\"%s\"), not in memory: only an argument in memory "
						    "can be written", a->arg_index, hook->subsystem, hook->event,
						    strchr(operand, '$') ? "a constant" : "a register", operand);
			/* kernel lockdown takes bpf_probe_write_user away (LOCKDOWN_BPF_WRITE_USER, in
			 * integrity mode and above); in monitor mode nothing is written, so it loads */
			if (ctx->mode != VIGIL_MODE_MONITOR && !lockdown_mode(mode, sizeof(mode)) && strcmp(mode, "none"))
				return sensor_error(ctx, a->pos, -EPERM, "Set writes the process's memory with "
						    "bpf_probe_write_user, which this kernel's lockdown (%s) forbids", mode);
		}
	}
	return 0;
}

static int usdt_hook(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	int err;

	if (wants_override(hook))
		return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "Override is not possible at a USDT probe");
	snprintf(out->path, sizeof(out->path), "%s", hook->path);
	snprintf(out->subsys, sizeof(out->subsys), "%s", hook->subsystem);
	snprintf(out->target, sizeof(out->target), "%s", hook->event);
	snprintf(out->function_name, sizeof(out->function_name), "%s:%s", hook->subsystem, hook->event);
	err = check_set(ctx, hook);
	if (err)
		return err;
	out->mech = MECH_USDT;
	out->cfg.fetch = VG_FETCH_USDT;
	out->cfg.syscall_nr = -1;
	return fill_args(ctx, hook, out, true, -1, 11);
}

/* return: true on a kprobe hook: the entry program keeps the record, an exit program on the
 * same target (raw_syscalls/sys_exit, fexit, kretprobe) adds the return value and posts. */
static int return_probe(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	int params;

	if (!hook->has_return_arg)
		return sensor_error(ctx, hook->pos, -EINVAL, "return: true needs returnArg");
	if ((vg_arg_class(hook->return_arg.type) != VG_CLASS_INT && vg_arg_class(hook->return_arg.type) != VG_CLASS_SOCK) ||
	    hook->return_arg.type == VIGIL_ARG_NOP)
		return sensor_error(ctx, hook->return_arg.pos, -EOPNOTSUPP,
				    "returnArg type \"%s\" is not supported by vigil yet (integer types, sock and socket are)",
				    vigil_arg_type_name(hook->return_arg.type));
	if (vg_arg_class(hook->return_arg.type) == VG_CLASS_SOCK && (out->mech == MECH_UPROBE || hook->syscall))
		return sensor_error(ctx, hook->return_arg.pos, -EINVAL,
				    "returnArg type \"%s\": only a kernel function returns a sock (a syscall or a user "
				    "function returns a number)", vigil_arg_type_name(hook->return_arg.type));
	switch (out->mech) {
	case MECH_RAW_SYSCALL_TP_BTF:
	case MECH_RAW_SYSCALL_RAW_TP:
	case MECH_SYSCALL_TRACEPOINT:
	case MECH_RAW_SYSCALL_DISPATCH:
	case MECH_KPROBE:
	case MECH_UPROBE:	/* a uretprobe at the same symbol or offset */
		break;
	case MECH_FENTRY:
	case MECH_FMOD_RET:	/* fexit runs after fmod_ret too, and sees the value it forced */
		/* fexit finds the return value after the arguments */
		params = ctx->vmlinux ? btf_func_params(ctx, out->target) : -1;
		if (params < 0)
			return sensor_error(ctx, hook->call_pos, -EOPNOTSUPP, "no BTF for %s's return value", out->target);
		out->cfg.ret_index = (uint32_t)params;
		break;
	default:
		return sensor_error(ctx, hook->pos, -EOPNOTSUPP, "return probes on %s are not supported by vigil",
				    sensor_mech_name(out->mech));
	}
	out->cfg.is_return = 1;
	out->cfg.ret_type = kernel_arg_type(hook->return_arg.type);
	out->info.return_type = hook->return_arg.type;
	if (hook->has_return_arg_action)
		out->cfg.ret_action = hook->return_arg_action == VIGIL_ACTION_TRACKSOCK ? VG_ACT_TRACKSOCK : VG_ACT_UNTRACKSOCK;
	return 0;
}

int compile_mechanism(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *out)
{
	int err;

	switch (hook->kind) {
	case VIGIL_HOOK_KPROBE:
		err = hook->all_syscalls ? all_syscalls_hook(ctx, hook, out) :
		      hook->syscall ? syscall_hook(ctx, hook, out) : kprobe_hook(ctx, hook, out);
		if (!err && hook->is_return)
			err = return_probe(ctx, hook, out);
		return err;
	case VIGIL_HOOK_LSM:
		return lsm_hook(ctx, hook, out);
	case VIGIL_HOOK_TRACEPOINT:
		return tracepoint_hook(ctx, hook, out);
	case VIGIL_HOOK_USDT:
		return usdt_hook(ctx, hook, out);
	case VIGIL_HOOK_UPROBE:
		err = uprobe_hook(ctx, hook, out);
		if (!err && hook->is_return)
			err = return_probe(ctx, hook, out);
		return err;
	}
	return -EINVAL;
}
