/* parse_actions.c - matchActions and matchReturnActions: the action, its arguments, and
 * the rules Tetragon checks when it loads them (Post-only options, what each action needs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_internal.h"

struct action_parse {
	struct vigil_action a;
	yaml_node_t *action;
	yaml_node_t *rate_limit;
	yaml_node_t *rate_scope;
	yaml_node_t *arg_error;
	yaml_node_t *arg_sig;
	yaml_node_t *arg_url;
	yaml_node_t *arg_fqdn;
	yaml_node_t *kernel_stack;
	yaml_node_t *user_stack;
	yaml_node_t *ima_hash;		/* the key, where a refusal points */
	yaml_node_t *arg_index, *arg_index_key;		/* Set */
	yaml_node_t *arg_value, *arg_value_key;
};

static int action_arg_index(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct action_parse *ap = obj;

	(void)c;
	ap->arg_index_key = key;
	ap->arg_index = value;
	return 0;
}

static int action_arg_value(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct action_parse *ap = obj;

	(void)c;
	ap->arg_value_key = key;
	ap->arg_value = value;
	return 0;
}

static int action_ima(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct action_parse *ap = obj;

	ap->ima_hash = key;
	return policy_bool(c, value, "imaHash", &ap->a.ima_hash);
}

static const struct policy_field action_fields[] = {
	POLICY_NODE("action", struct action_parse, action, POLICY_REQUIRED),
	POLICY_NODE("rateLimit", struct action_parse, rate_limit, 0),
	POLICY_NODE("rateLimitScope", struct action_parse, rate_scope, 0),
	POLICY_NODE("kernelStackTrace", struct action_parse, kernel_stack, 0),
	POLICY_NODE("userStackTrace", struct action_parse, user_stack, 0),
	POLICY_NODE("argError", struct action_parse, arg_error, 0),
	POLICY_NODE("argSig", struct action_parse, arg_sig, 0),
	POLICY_NODE("argUrl", struct action_parse, arg_url, 0),
	POLICY_NODE("argFqdn", struct action_parse, arg_fqdn, 0),
	/* an argument the action does not use is ignored, as Tetragon does (its examples put
	 * argError on Sigkill): the policy behaves the same on both */
	POLICY_U32("argSock", struct action_parse, a.arg_sock, 0),
	POLICY_U32("argFd", struct action_parse, a.arg_fd, 0),
	POLICY_U32("argName", struct action_parse, a.arg_name, 0),
	POLICY_FN("imaHash", action_ima, 0),
	/* Set (USDT); the uprobe-only Override variants */
	POLICY_FN("argIndex", action_arg_index, 0),
	POLICY_FN("argValue", action_arg_value, 0),
	POLICY_REFUSE("argRegs", "uprobe Override of registers is not supported yet"),
	POLICY_REFUSE("argNewSymbol", "uprobe Override to a new target is not supported yet"),
	POLICY_REFUSE("argNewAddr", "uprobe Override to a new target is not supported yet"),
	POLICY_REFUSE("argNewOffset", "uprobe Override to a new target is not supported yet"),
};

/* ---- Post ---- */

static const char *const scopes[] = {
	[VIGIL_RATE_THREAD] = "thread",
	[VIGIL_RATE_PROCESS] = "process",
	[VIGIL_RATE_GLOBAL] = "global",
};

static int post_only(struct policy_ctx *c, const struct action_parse *ap, const yaml_node_t *n, const char *field)
{
	if (n && ap->a.kind != VIGIL_ACTION_POST)
		return policy_error(c, n, "%s is only valid with Post, not %s", field, vigil_action_name(ap->a.kind));
	return 0;
}

static int post_options(struct policy_ctx *c, struct action_parse *ap)
{
	const char *s;
	size_t i;
	int err;

	err = post_only(c, ap, ap->rate_limit, "rateLimit");
	if (!err)
		err = post_only(c, ap, ap->rate_scope, "rateLimitScope");
	if (!err && ap->kernel_stack)
		err = policy_bool(c, ap->kernel_stack, "kernelStackTrace", &ap->a.kernel_stack);
	if (!err && ap->a.kernel_stack)
		err = post_only(c, ap, ap->kernel_stack, "kernelStackTrace");
	if (!err && ap->user_stack)
		err = policy_bool(c, ap->user_stack, "userStackTrace", &ap->a.user_stack);
	if (!err && ap->a.user_stack)
		err = post_only(c, ap, ap->user_stack, "userStackTrace");
	if (!err && ap->a.ima_hash)
		err = post_only(c, ap, ap->ima_hash, "imaHash");
	/* bpf_ima_file_hash is a helper of sleepable BPF LSM programs only, as in Tetragon */
	if (!err && ap->a.ima_hash && c->hook && c->hook->kind != VIGIL_HOOK_LSM)
		err = policy_error(c, ap->ima_hash, "imaHash works on lsmhooks only (the kernel computes it in a "
				   "sleepable BPF LSM program)");
	if (!err && ap->rate_limit) {
		err = policy_str(c, ap->rate_limit, "rateLimit", &s);
		if (!err && policy_parse_rate_limit(s, &ap->a.rate_limit_ms))
			err = policy_error(c, ap->rate_limit,
					   "rateLimit \"%s\" is not a duration (seconds, or a number with an s, m or h "
					   "suffix)", s);
	}
	if (err || !ap->rate_scope)
		return err;
	err = policy_str(c, ap->rate_scope, "rateLimitScope", &s);
	for (i = 0; !err && i < VIGIL_ARRAY_SIZE(scopes); i++) {
		if (!strcmp(s, scopes[i])) {
			ap->a.rate_scope = (enum vigil_rate_scope)i;
			return 0;
		}
	}
	return err ? err : policy_error(c, ap->rate_scope, "rateLimitScope must be thread, process or global, not \"%s\"", s);
}

/* ---- enforcement ---- */

static int arg_error(struct policy_ctx *c, struct action_parse *ap)
{
	const char *s;
	int err;

	err = policy_str(c, ap->arg_error, "argError", &s);
	if (!err && policy_parse_errno(s, &ap->a.arg_error))
		err = policy_error(c, ap->arg_error,
				   "argError must be an integer or an errno name such as EPERM, not \"%s\"", s);
	return err;
}

static int arg_sig(struct policy_ctx *c, struct action_parse *ap)
{
	const char *s;
	int err;

	err = policy_str(c, ap->arg_sig, "argSig", &s);
	if (!err && policy_parse_signal(s, &ap->a.arg_sig))
		err = policy_error(c, ap->arg_sig, "argSig must be a signal number (1..64) or a name such as SIGKILL, "
				   "not \"%s\"", s);
	return err;
}

static bool syscall_list(const struct policy_ctx *c, const char *call)
{
	const struct vigil_policy_list *l;

	if (strncmp(call, "list:", 5))
		return false;
	l = policy_list_find(c->policy, call + 5);
	return l && l->type != VIGIL_LIST_GENERATED_FTRACE;
}

/* Tetragon's validateOverride: bpf_override_return works on syscalls (error injection
 * points), fmod_ret on security_ functions; anything else fails at load. */
static int override_target(struct policy_ctx *c, const yaml_node_t *at)
{
	const struct vigil_hook *h = c->hook;

	if (h->kind == VIGIL_HOOK_TRACEPOINT)
		return policy_error(c, at, "Override is not possible on a tracepoint");
	if (h->kind != VIGIL_HOOK_KPROBE || h->syscall || !strncmp(h->call, "security_", 9) ||
	    syscall_list(c, h->call))
		return 0;
	return policy_error(c, at, "Override works only on syscalls (syscall: true) and security_ functions, not on "
			    "\"%s\"", h->call);
}

static int needs(struct policy_ctx *c, const struct action_parse *ap, const yaml_node_t *field, const char *name)
{
	if (!field)
		return policy_error(c, ap->action, "%s needs %s", vigil_action_name(ap->a.kind), name);
	return 0;
}

static int text_arg(struct policy_ctx *c, const struct action_parse *ap, const yaml_node_t *n, const char *name,
		    char **out)
{
	int err;

	err = needs(c, ap, n, name);
	if (!err)
		err = policy_strdup(c, n, name, out);
	if (!err && !(*out)[0])
		err = policy_error(c, n, "%s must not be empty", name);
	return err;
}

/* Set: argIndex names the probe's argument (USDT probes have at most 12), argValue the
 * 32-bit value Tetragon writes there. Where the argument lives is checked against the
 * binary's note when the hook is compiled (core/sensors/mechanism.c). */
static int set_args(struct policy_ctx *c, struct action_parse *ap)
{
	const char *s;
	char *end;
	long long v;
	int err;

	if (c->hook && c->hook->kind != VIGIL_HOOK_USDT)
		return policy_error(c, ap->action, "Set writes a USDT probe's argument: it works on usdts hooks only");
	err = needs(c, ap, ap->arg_index, "argIndex");
	if (!err)
		err = needs(c, ap, ap->arg_value, "argValue");
	if (!err)
		err = policy_u32(c, ap->arg_index, "argIndex", &ap->a.arg_index);
	if (!err && ap->a.arg_index >= 12)
		err = policy_error(c, ap->arg_index, "argIndex %u: a USDT probe has at most 12 arguments", ap->a.arg_index);
	if (!err)
		err = policy_str(c, ap->arg_value, "argValue", &s);
	if (err)
		return err;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v < INT32_MIN || v > UINT32_MAX)
		return policy_error(c, ap->arg_value, "argValue must be a 32-bit integer, not \"%s\"", s);
	ap->a.arg_value = (int32_t)v;
	return 0;
}

static int action_args(struct policy_ctx *c, struct action_parse *ap)
{
	int err = 0;

	if (ap->arg_error)
		err = arg_error(c, ap);
	if (!err && ap->arg_sig)
		err = arg_sig(c, ap);
	/* Set's own arguments: nothing else would use them */
	if (!err && ap->a.kind != VIGIL_ACTION_SET && (ap->arg_index || ap->arg_value))
		err = policy_error(c, ap->arg_index ? ap->arg_index_key : ap->arg_value_key, "%s belongs to the Set action, not %s",
				   ap->arg_index ? "argIndex" : "argValue", vigil_action_name(ap->a.kind));
	if (err)
		return err;
	switch (ap->a.kind) {
	case VIGIL_ACTION_SIGNAL:
		return needs(c, ap, ap->arg_sig, "argSig");
	case VIGIL_ACTION_OVERRIDE:
		err = needs(c, ap, ap->arg_error, "argError");
		return err ? err : override_target(c, ap->action);
	case VIGIL_ACTION_NOTIFY_ENFORCER:
		err = needs(c, ap, ap->arg_error ? ap->arg_error : ap->arg_sig, "argError or argSig");
		if (!err && !c->has_enforcers)
			err = policy_error(c, ap->action, "NotifyEnforcer needs an entry in spec.enforcers");
		/* Tetragon's enforcer overrides the listed syscalls' return (bpf_override_return
		 * or fmod_ret on each): neither works on syscalls of the kernels vigil runs on (no
		 * CONFIG_FUNCTION_ERROR_INJECTION), so the error form is refused; the signal form
		 * signals at the notifying hook, on the same syscall entry */
		if (!err && ap->arg_error && ap->a.arg_error)
			err = policy_error(c, ap->arg_error, "NotifyEnforcer with argError needs the enforcer to override "
					   "the listed syscalls' return (bpf_override_return or fmod_ret on them): that needs "
					   "CONFIG_FUNCTION_ERROR_INJECTION, which Debian 12's cloud kernel and "
					   "our 6.18 machines lack, so vigil has no such enforcer; argSig alone is supported");
		if (!err && !ap->arg_sig)
			err = needs(c, ap, NULL, "argSig (its signal form is the one vigil supports)");
		return err;
	case VIGIL_ACTION_GETURL:
		err = text_arg(c, ap, ap->arg_url, "argUrl", &ap->a.arg_url);
		/* the agent's client (core/canary) speaks http, and https through libcurl */
		if (!err && strncmp(ap->a.arg_url, "http://", 7) && strncmp(ap->a.arg_url, "https://", 8))
			err = policy_error(c, ap->arg_url, "argUrl must be an http:// or https:// URL");
		return err;
	case VIGIL_ACTION_DNSLOOKUP:
		err = text_arg(c, ap, ap->arg_fqdn, "argFqdn", &ap->a.arg_fqdn);
		if (!err && (strlen(ap->a.arg_fqdn) > 253 || strspn(ap->a.arg_fqdn, "abcdefghijklmnopqrstuvwxyz"
								     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") !=
									   strlen(ap->a.arg_fqdn)))
			err = policy_error(c, ap->arg_fqdn, "argFqdn \"%s\" is not a DNS name", ap->a.arg_fqdn);
		return err;
	case VIGIL_ACTION_SET:
		return set_args(c, ap);
	default:
		return 0;
	}
}

/* What the kernel side and the agent carry out; the rest of the CRD's actions parse (their
 * arguments are checked above) and are refused here, so no policy believes it acts. */
static int action_honoured(struct policy_ctx *c, const struct action_parse *ap)
{
	switch (ap->a.kind) {
	case VIGIL_ACTION_POST:
	case VIGIL_ACTION_NOPOST:
	case VIGIL_ACTION_SIGKILL:
	case VIGIL_ACTION_SIGNAL:
	case VIGIL_ACTION_OVERRIDE:
	case VIGIL_ACTION_TRACKSOCK:	/* argSock: core/sensors checks it names a sock argument */
	case VIGIL_ACTION_UNTRACKSOCK:
	case VIGIL_ACTION_GETURL:	/* the agent, off the event path (core/canary) */
	case VIGIL_ACTION_DNSLOOKUP:
	case VIGIL_ACTION_NOTIFY_ENFORCER:	/* its signal form (action_args) */
	case VIGIL_ACTION_SET:		/* usdts, an argument in memory (set_args, mechanism.c) */
		return 0;
	case VIGIL_ACTION_FOLLOWFD:
	case VIGIL_ACTION_UNFOLLOWFD:
	case VIGIL_ACTION_COPYFD:
		return policy_error(c, ap->action, "action %s is not supported (Tetragon deprecated it; fd "
				    "arguments resolve their path without it)", vigil_action_name(ap->a.kind));
	default:
		return policy_error(c, ap->action, "action %s is not supported yet", vigil_action_name(ap->a.kind));
	}
}

static int parse_action(struct policy_ctx *c, yaml_node_t *item, struct action_parse *ap)
{
	const char *s;
	int err;

	err = policy_parse_map(c, item, NULL, action_fields, VIGIL_ARRAY_SIZE(action_fields), ap);
	if (!err)
		err = policy_str(c, ap->action, "action", &s);
	if (err)
		return err;
	err = policy_action_lookup(s, &ap->a.kind);
	if (err == -ENOTSUP)
		return policy_error(c, ap->action, "action \"%s\" is not supported by vigil", s);
	if (err)
		return policy_error(c, ap->action, "unknown action \"%s\"", s);
	err = post_options(c, ap);
	if (!err)
		err = action_honoured(c, ap);
	if (!err)
		err = action_args(c, ap);
	return err;
}

int policy_parse_actions(struct policy_ctx *c, yaml_node_t *seq, struct vigil_action **out, size_t *count)
{
	struct action_parse ap;
	yaml_node_t *item;
	size_t i, n, len;
	int err;

	err = policy_expect(c, seq, YAML_SEQUENCE_NODE, NULL);
	if (err)
		return err;
	n = policy_seq_len(seq);
	/* MAX_ACTIONS in Tetragon's BPF: the action loop is unrolled that many times */
	if (n > VIGIL_POLICY_MAX_ACTIONS)
		return policy_error(c, policy_node(c, seq->data.sequence.items.start[VIGIL_POLICY_MAX_ACTIONS]),
				    "too many actions (max %d)", VIGIL_POLICY_MAX_ACTIONS);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return policy_nomem(c);
	for (i = 0; i < n && !err; i++) {
		item = policy_seq_item(c, seq, i);
		if (!item)
			return -EINVAL;
		len = policy_path_index(c, i);
		memset(&ap, 0, sizeof(ap));
		ap.a.pos = policy_pos(item);
		err = parse_action(c, item, &ap);
		(*out)[(*count)++] = ap.a;
		policy_path_pop(c, len);
	}
	return err;
}
