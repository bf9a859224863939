/* parse_hooks.c - one kprobe/fentry, tracepoint, LSM hook or uprobe: its own keys, then
 * args and data (in that order, whatever the document's), returnArg, and last the
 * selectors, which refer to all of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* The hook is built here and moved into the policy's slot only when whole. */
struct hook_parse {
	struct vigil_hook h;
	yaml_node_t *args;
	yaml_node_t *data;
	yaml_node_t *return_arg;
	yaml_node_t *return_action;	/* returnArgAction's value, when given */
	yaml_node_t *selectors;
	yaml_node_t *offsets;		/* uprobes: the offsets or addrs key, when given */
	yaml_node_t *ref_ctr;		/* uprobes: refCtrOffsets' value, when given */
	bool ftrace;			/* kprobes: this pass is one function of a generated_ftrace list */
};

/* ---- fields every hook has ---- */

static int hook_message(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	const char *s;
	size_t len;
	int err;

	err = policy_str(c, value, "message", &s);
	if (err)
		return err;
	len = strlen(s);
	if (!len)
		return 0;	/* Tetragon: an empty message is no message */
	if (len < POLICY_MIN_TEXT)
		return policy_error(c, value, "message must be at least %d characters", POLICY_MIN_TEXT);
	if (len > VIGIL_POLICY_MAX_MESSAGE)
		return policy_error(c, value, "message is longer than %d characters", VIGIL_POLICY_MAX_MESSAGE);
	hp->h.message = strdup(s);
	return hp->h.message ? 0 : policy_nomem(c);
}

static int hook_tags(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	yaml_node_t *item;
	size_t i, len;
	int err;

	err = policy_strlist(c, value, "tags", &hp->h.tags, &hp->h.ntags);
	if (err)
		return err;
	if (hp->h.ntags > VIGIL_POLICY_MAX_TAGS)
		return policy_error(c, policy_node(c, value->data.sequence.items.start[VIGIL_POLICY_MAX_TAGS]),
				    "too many tags (max %d)", VIGIL_POLICY_MAX_TAGS);
	for (i = 0; i < hp->h.ntags; i++) {
		len = strlen(hp->h.tags[i]);
		if (len >= POLICY_MIN_TEXT && len <= POLICY_MAX_TAG)
			continue;
		item = policy_node(c, value->data.sequence.items.start[i]);
		return policy_error(c, item, "tags[%zu] must be %d to %d characters long", i, POLICY_MIN_TEXT,
				    POLICY_MAX_TAG);
	}
	return 0;
}

/* kprobe call, LSM hook, uprobe path: the value kernel-side refusals point back to. */
static int hook_name(struct policy_ctx *c, yaml_node_t *value, const char *field, char **out, struct vigil_hook *h)
{
	int err;

	err = policy_strdup(c, value, field, out);
	if (!err && !(*out)[0])
		err = policy_error(c, value, "%s must not be empty", field);
	h->call_pos = policy_pos(value);
	return err;
}

/* ---- kprobes and fentries ---- */

static int kprobe_call(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	const struct vigil_policy_list *l;
	const char *name;
	int err;

	err = hook_name(c, value, "call", &hp->h.call, &hp->h);
	if (err || strncmp(hp->h.call, "list:", 5))
		return err;
	l = policy_list_find(c->policy, hp->h.call + 5);
	if (!l)
		return policy_error(c, value, "list \"%s\" is not defined in spec.lists", hp->h.call + 5);
	if (l->type == VIGIL_LIST_GENERATED_SYSCALLS) {
		/* every syscall: one hook on raw_syscalls, not one per syscall (core/sensors) */
		hp->h.all_syscalls = true;
		return 0;
	}
	if (l->type == VIGIL_LIST_GENERATED_FTRACE) {
		char why[256];

		if (!c->call_override) {
			/* the list matched nothing here: say why (parse_spec.c expanded it) */
			struct vigil_policy_list copy = *l;

			copy.values = NULL;
			copy.nvalues = 0;
			if (!policy_ftrace_expand(&copy, why, sizeof(why))) {
				policy_strv_free(copy.values, copy.nvalues);
				snprintf(why, sizeof(why), "the list changed while the policy was read");
			}
			return policy_error(c, value, "call \"%s\": generated_ftrace list \"%s\": %s", hp->h.call, l->name,
					    why);
		}
		/* this pass is the hook of one function: a kernel function, not a syscall; one
		 * that cannot be hooked here (no BTF, not traceable) is left detached */
		hp->ftrace = true;
		hp->h.ignore_call_not_found = true;
		free(hp->h.call);
		hp->h.call = strdup(c->call_override);
		return hp->h.call ? 0 : policy_nomem(c);
	}
	/* this pass is the hook of one value: "sys_dup", "x64/sys_dup" */
	name = c->call_override;
	if (!strncmp(name, "x64/", 4))
		name += 4;
	else if (strchr(name, '/'))
		return policy_error(c, value, "call \"%s\": \"%s\" is not an x86-64 syscall; vigil hooks x64 ones only",
				    hp->h.call, name);
	free(hp->h.call);
	hp->h.call = strdup(name);
	return hp->h.call ? 0 : policy_nomem(c);
}

const struct vigil_policy_list *policy_kprobe_call_list(struct policy_ctx *c, yaml_node_t *item)
{
	const struct vigil_policy_list *l;
	yaml_node_pair_t *p;
	yaml_node_t *key, *value;

	if (item->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
		key = policy_node(c, p->key);
		value = policy_node(c, p->value);
		if (!key || !value || key->type != YAML_SCALAR_NODE || value->type != YAML_SCALAR_NODE ||
		    strcmp((const char *)key->data.scalar.value, "call") ||
		    strncmp((const char *)value->data.scalar.value, "list:", 5))
			continue;
		l = policy_list_find(c->policy, (const char *)value->data.scalar.value + 5);
		return l && (l->type == VIGIL_LIST_SYSCALLS || l->type == VIGIL_LIST_GENERATED_FTRACE) && l->nvalues ?
			       l : NULL;
	}
	return NULL;
}

/* TrackSock/UntrackSock on the returned sock (hook_finish checks there is one). */
static int kprobe_return_action(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	enum vigil_action_kind k;
	const char *s;
	int err;

	(void)key;
	err = policy_str(c, value, "returnArgAction", &s);
	if (!err && (policy_action_lookup(s, &k) || (k != VIGIL_ACTION_TRACKSOCK && k != VIGIL_ACTION_UNTRACKSOCK)))
		err = policy_error(c, value, "returnArgAction must be TrackSock or UntrackSock, not \"%s\"", s);
	if (!err) {
		hp->return_action = value;
		hp->h.has_return_arg_action = true;
		hp->h.return_arg_action = k;
	}
	return err;
}


static const struct policy_field ignore_fields[] = {
	POLICY_BOOL("callNotFound", struct vigil_hook, ignore_call_not_found),
};

static int kprobe_ignore(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	size_t len;
	int err;

	len = policy_path_key(c, "ignore");
	err = policy_parse_map(c, value, "ignore", ignore_fields, VIGIL_ARRAY_SIZE(ignore_fields), &hp->h);
	policy_path_pop(c, len);
	return err;
}

static const struct policy_field kprobe_fields[] = {
	POLICY_FN("call", kprobe_call, POLICY_REQUIRED),
	POLICY_BOOL("syscall", struct hook_parse, h.syscall),
	POLICY_BOOL("return", struct hook_parse, h.is_return),
	POLICY_NODE("returnArg", struct hook_parse, return_arg, 0),
	POLICY_FN("returnArgAction", kprobe_return_action, 0),
	POLICY_NODE("args", struct hook_parse, args, 0),
	POLICY_NODE("data", struct hook_parse, data, 0),
	POLICY_NODE("selectors", struct hook_parse, selectors, 0),
	POLICY_FN("message", hook_message, 0),
	POLICY_FN("tags", hook_tags, 0),
	POLICY_FN("ignore", kprobe_ignore, 0),
};

/* ---- tracepoints ---- */

static int tracepoint_event(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;

	return hook_name(c, value, "event", &hp->h.event, &hp->h);
}

static int tracepoint_subsystem(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	int err;

	err = policy_strdup(c, value, "subsystem", &hp->h.subsystem);
	if (!err && !hp->h.subsystem[0])
		err = policy_error(c, value, "subsystem must not be empty");
	return err;
}

static const struct policy_field tracepoint_fields[] = {
	POLICY_FN("subsystem", tracepoint_subsystem, POLICY_REQUIRED),
	POLICY_FN("event", tracepoint_event, POLICY_REQUIRED),
	POLICY_BOOL("raw", struct hook_parse, h.raw),
	POLICY_NODE("args", struct hook_parse, args, 0),
	POLICY_NODE("selectors", struct hook_parse, selectors, 0),
	POLICY_FN("message", hook_message, 0),
	POLICY_FN("tags", hook_tags, 0),
};

/* ---- LSM hooks ---- */

/* BPF-LSM programs attach to bpf_lsm_<hook>: the CRD names hooks without "security_", and
 * "security_file_open" would only fail later as bpf_lsm_security_file_open. */
static int lsm_hook(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	int err;

	err = hook_name(c, value, "hook", &hp->h.call, &hp->h);
	if (!err && !strncmp(hp->h.call, "security_", 9))
		err = policy_error(c, value, "hook \"%s\" must be named without its \"security_\" prefix (\"%s\")",
				   hp->h.call, hp->h.call + 9);
	return err;
}

static const struct policy_field lsm_fields[] = {
	POLICY_FN("hook", lsm_hook, POLICY_REQUIRED),
	POLICY_NODE("args", struct hook_parse, args, 0),
	POLICY_NODE("selectors", struct hook_parse, selectors, 0),
	POLICY_FN("message", hook_message, 0),
	POLICY_FN("tags", hook_tags, 0),
};

/* ---- uprobes ---- */

static int uprobe_path(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;

	return hook_name(c, value, "path", &hp->h.path, &hp->h);
}

static int uprobe_symbols(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	size_t i;
	int err;

	err = policy_strlist(c, value, "symbols", &hp->h.symbols, &hp->h.nsymbols);
	if (!err && !hp->h.nsymbols)
		err = policy_error(c, value, "symbols must not be empty");
	for (i = 0; !err && i < hp->h.nsymbols; i++)
		if (!hp->h.symbols[i][0])
			err = policy_error(c, policy_node(c, value->data.sequence.items.start[i]),
					   "symbols[%zu] must not be empty", i);
	/* several symbols: this pass keeps the one it stands for (see parse_spec.c) */
	if (!err && c->symbol_pass && c->symbol_pass <= hp->h.nsymbols) {
		char *keep = hp->h.symbols[c->symbol_pass - 1];

		hp->h.symbols[c->symbol_pass - 1] = NULL;
		policy_strv_free(hp->h.symbols, hp->h.nsymbols);
		hp->h.symbols = calloc(1, sizeof(*hp->h.symbols));
		if (!hp->h.symbols) {
			free(keep);
			hp->h.nsymbols = 0;
			return policy_nomem(c);
		}
		hp->h.symbols[0] = keep;
		hp->h.nsymbols = 1;
	}
	return err;
}

/* offsets (file offsets in the binary) or addrs (virtual addresses, which core/sensors turns
 * into file offsets through the ELF's program headers): each one hook; this pass keeps the
 * one it stands for. */
static int uprobe_places(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	const char *field = (const char *)key->data.scalar.value;
	struct hook_parse *hp = obj;
	size_t i, n, want;
	yaml_node_t *item;
	const char *s;
	uint64_t off;
	int err;

	if (hp->offsets)
		return policy_error(c, key, "an uprobe takes one of offsets and addrs, not both");
	err = policy_expect(c, value, YAML_SEQUENCE_NODE, field);
	if (err)
		return err;
	n = policy_seq_len(value);
	if (!n)
		return policy_error(c, value, "%s must not be empty", field);
	want = c->symbol_pass ? c->symbol_pass - 1 : 0;
	for (i = 0; i < n; i++) {
		item = policy_seq_item(c, value, i);
		if (!item)
			return -EINVAL;
		err = policy_str(c, item, field, &s);
		if (!err && policy_parse_u64(s, UINT64_MAX, &off))
			err = policy_error(c, item, "%s[%zu] \"%s\" is not %s", field, i, s,
					   strcmp(field, "addrs") ? "an offset" : "an address");
		if (err)
			return err;
		if (i == want)
			hp->h.offset = off;
	}
	hp->h.has_offset = true;
	hp->h.offset_is_addr = !strcmp(field, "addrs");
	hp->offsets = key;
	return 0;
}

/* refCtrOffsets: one per symbol or offset, in their order; this pass keeps its own. */
static int uprobe_ref_ctr(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	size_t i, n, want;
	yaml_node_t *item;
	const char *s;
	uint64_t off;
	int err;

	(void)key;
	err = policy_expect(c, value, YAML_SEQUENCE_NODE, "refCtrOffsets");
	if (err)
		return err;
	n = policy_seq_len(value);
	want = c->symbol_pass ? c->symbol_pass - 1 : 0;
	for (i = 0; i < n; i++) {
		item = policy_seq_item(c, value, i);
		if (!item)
			return -EINVAL;
		err = policy_str(c, item, "refCtrOffsets", &s);
		if (!err && policy_parse_u64(s, UINT64_MAX, &off))
			err = policy_error(c, item, "refCtrOffsets[%zu] \"%s\" is not an offset", i, s);
		if (err)
			return err;
		if (i == want)
			hp->h.ref_ctr_offset = off;
	}
	hp->ref_ctr = value;
	return 0;
}

size_t policy_uprobe_symbol_count(struct policy_ctx *c, yaml_node_t *item)
{
	yaml_node_pair_t *p;
	yaml_node_t *key, *value;

	if (item->type != YAML_MAPPING_NODE)
		return 1;
	for (p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
		key = policy_node(c, p->key);
		value = policy_node(c, p->value);
		if (key && value && key->type == YAML_SCALAR_NODE && value->type == YAML_SEQUENCE_NODE &&
		    (!strcmp((const char *)key->data.scalar.value, "symbols") ||
		     !strcmp((const char *)key->data.scalar.value, "offsets") ||
		     !strcmp((const char *)key->data.scalar.value, "addrs")) &&
		    policy_seq_len(value) > 1)
			return policy_seq_len(value);
	}
	return 1;
}

static int uprobe_return(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;

	(void)key;
	return policy_bool(c, value, "return", &hp->h.is_return);
}

static const struct policy_field uprobe_fields[] = {
	POLICY_FN("path", uprobe_path, POLICY_REQUIRED),
	POLICY_FN("symbols", uprobe_symbols, 0),
	POLICY_FN("offsets", uprobe_places, 0),
	POLICY_FN("addrs", uprobe_places, 0),
	POLICY_FN("return", uprobe_return, 0),
	POLICY_FN("refCtrOffsets", uprobe_ref_ctr, 0),
	POLICY_NODE("returnArg", struct hook_parse, return_arg, 0),
	POLICY_NODE("args", struct hook_parse, args, 0),
	POLICY_NODE("data", struct hook_parse, data, 0),
	POLICY_NODE("selectors", struct hook_parse, selectors, 0),
	POLICY_FN("message", hook_message, 0),
	POLICY_FN("tags", hook_tags, 0),
	POLICY_STR("btfPath", struct hook_parse, h.btf_path, 0),
	/* digests come later */
	POLICY_REFUSE("binaryDigests", "digest verification of the traced binary is not supported yet"),
	POLICY_REFUSE("ignore", "digest verification of the traced binary is not supported yet"),
};

/* ---- usdts ---- */

static int usdt_provider(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;
	int err;

	(void)key;
	err = policy_strdup(c, value, "provider", &hp->h.subsystem);
	if (!err && !hp->h.subsystem[0])
		err = policy_error(c, value, "provider must not be empty");
	return err;
}

static int usdt_name(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct hook_parse *hp = obj;

	(void)key;
	return hook_name(c, value, "name", &hp->h.event, &hp->h);
}

static const struct policy_field usdt_fields[] = {
	POLICY_FN("path", uprobe_path, POLICY_REQUIRED),
	POLICY_FN("provider", usdt_provider, POLICY_REQUIRED),
	POLICY_FN("name", usdt_name, POLICY_REQUIRED),
	POLICY_NODE("args", struct hook_parse, args, 0),
	POLICY_NODE("selectors", struct hook_parse, selectors, 0),
	POLICY_FN("message", hook_message, 0),
	POLICY_FN("tags", hook_tags, 0),
	/* USDT arguments are read where the probe's note says (libbpf's usdt.bpf.h) */
	POLICY_REFUSE("btfPath", "USDT arguments are read where the probe's ELF note places them, without BTF"),
};

/* ---- what every hook does after its own keys ---- */

static int parse_arg_list(struct policy_ctx *c, yaml_node_t *seq, const char *field, enum policy_arg_role role,
			  struct vigil_hook *h, size_t *slot)
{
	yaml_node_t *item;
	size_t i, len;
	int err = 0;

	for (i = 0; seq && i < policy_seq_len(seq) && !err; i++) {
		item = policy_seq_item(c, seq, i);
		if (!item)
			return -EINVAL;
		len = policy_path_key(c, field);
		policy_path_index(c, i);
		err = policy_parse_arg(c, item, h->kind, role, &h->args[(*slot)++]);
		policy_path_pop(c, len);
	}
	return err;
}

static int hook_args(struct policy_ctx *c, yaml_node_t *item, struct hook_parse *hp)
{
	struct vigil_hook *h = &hp->h;
	size_t nargs = 0, ndata = 0, slot = 0;
	yaml_node_t *extra;
	int err;

	if (hp->args) {
		err = policy_expect(c, hp->args, YAML_SEQUENCE_NODE, "args");
		if (err)
			return err;
		nargs = policy_seq_len(hp->args);
	}
	if (hp->data) {
		err = policy_expect(c, hp->data, YAML_SEQUENCE_NODE, "data");
		if (err)
			return err;
		ndata = policy_seq_len(hp->data);
	}
	/* one event carries at most 5 argument slots (MAX_POSSIBLE_ARGS in Tetragon's BPF) */
	if (nargs + ndata > VIGIL_POLICY_MAX_ARGS) {
		extra = nargs > VIGIL_POLICY_MAX_ARGS ?
				policy_node(c, hp->args->data.sequence.items.start[VIGIL_POLICY_MAX_ARGS]) :
				policy_node(c, hp->data->data.sequence.items.start[VIGIL_POLICY_MAX_ARGS - nargs]);
		return policy_error(c, extra, "too many arguments (max %d for args and data together)",
				    VIGIL_POLICY_MAX_ARGS);
	}
	h->args = calloc(nargs + ndata ? nargs + ndata : 1, sizeof(*h->args));
	if (!h->args)
		return policy_nomem(c);
	h->nargs = nargs + ndata;
	err = parse_arg_list(c, hp->args, "args", POLICY_ARG, h, &slot);
	if (!err)
		err = parse_arg_list(c, hp->data, "data", POLICY_DATA, h, &slot);
	return err;
}

static int hook_finish(struct policy_ctx *c, yaml_node_t *item, struct hook_parse *hp)
{
	struct vigil_hook *h = &hp->h;
	size_t len;
	int err;

	if (h->is_return && !hp->return_arg)
		return policy_error(c, item, "returnArg is required when return is true");
	/* the CRD's rule: at most one of symbols, addrs and offsets; vigil needs one */
	if (h->kind == VIGIL_HOOK_UPROBE && h->nsymbols && hp->offsets)
		return policy_error(c, hp->offsets, "an uprobe takes symbols or %s, not both",
				    (const char *)hp->offsets->data.scalar.value);
	if (h->kind == VIGIL_HOOK_UPROBE && !h->nsymbols && !hp->offsets)
		return policy_error(c, item, "an uprobe needs symbols, offsets or addrs");
	if (hp->ref_ctr && policy_seq_len(hp->ref_ctr) != policy_uprobe_symbol_count(c, item))
		return policy_error(c, hp->ref_ctr, "refCtrOffsets has %zu entries for %zu %s: one each",
				    policy_seq_len(hp->ref_ctr), policy_uprobe_symbol_count(c, item),
				    hp->offsets ? (const char *)hp->offsets->data.scalar.value : "symbols");
	err = hook_args(c, item, hp);
	if (!err && hp->return_arg) {
		len = policy_path_key(c, "returnArg");
		err = policy_parse_arg(c, hp->return_arg, h->kind, POLICY_RETURN_ARG, &h->return_arg);
		policy_path_pop(c, len);
		h->has_return_arg = !err;
	}
	if (!err && hp->return_action &&
	    (!h->is_return || (h->return_arg.type != VIGIL_ARG_SOCK && h->return_arg.type != VIGIL_ARG_SOCKET)))
		err = policy_error(c, hp->return_action, "returnArgAction acts on a returned sock: it needs return: true "
				   "and a returnArg of type sock or socket");
	if (!err && hp->selectors) {
		c->hook = h;
		c->hook_nspec_args = hp->args ? policy_seq_len(hp->args) : 0;
		len = policy_path_key(c, "selectors");
		err = policy_parse_selectors(c, hp->selectors);
		policy_path_pop(c, len);
		c->hook = NULL;
	}
	return err;
}

static int parse_hook(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *dst, enum vigil_hook_kind kind,
		      const struct policy_field *fields, size_t nfields)
{
	struct hook_parse hp = { 0 };
	int err;

	hp.h.kind = kind;
	hp.h.syscall = kind == VIGIL_HOOK_KPROBE;	/* the CRD's default for kprobes: true */
	hp.h.pos = policy_pos(item);
	err = policy_parse_map(c, item, NULL, fields, nfields, &hp);
	if (c->call_override || hp.h.all_syscalls)
		hp.h.syscall = !hp.ftrace;	/* a syscalls list names syscalls, whatever `syscall` says */
	if (!err)
		err = hook_finish(c, item, &hp);
	if (err) {
		policy_hook_free(&hp.h);
		return err;
	}
	*dst = hp.h;
	return 0;
}

int policy_parse_kprobe(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h)
{
	return parse_hook(c, item, h, VIGIL_HOOK_KPROBE, kprobe_fields, VIGIL_ARRAY_SIZE(kprobe_fields));
}

int policy_parse_tracepoint(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h)
{
	return parse_hook(c, item, h, VIGIL_HOOK_TRACEPOINT, tracepoint_fields, VIGIL_ARRAY_SIZE(tracepoint_fields));
}

int policy_parse_lsm(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h)
{
	return parse_hook(c, item, h, VIGIL_HOOK_LSM, lsm_fields, VIGIL_ARRAY_SIZE(lsm_fields));
}

int policy_parse_uprobe(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h)
{
	return parse_hook(c, item, h, VIGIL_HOOK_UPROBE, uprobe_fields, VIGIL_ARRAY_SIZE(uprobe_fields));
}

int policy_parse_usdt(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h)
{
	return parse_hook(c, item, h, VIGIL_HOOK_USDT, usdt_fields, VIGIL_ARRAY_SIZE(usdt_fields));
}
