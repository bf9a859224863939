/* parse_args.c - one args, data or returnArg entry (the CRD's KProbeArg). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

struct arg_parse {
	struct vigil_policy_arg a;
	yaml_node_t *type;		/* the type value, NULL when absent */
	yaml_node_t *source;		/* the source key */
	const char *source_value;	/* borrowed from the document */
	bool max_data;
	yaml_node_t *max_data_key;
};

static int arg_type(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct arg_parse *ap = obj;
	const char *s;
	int err;

	err = policy_str(c, value, "type", &s);
	if (err)
		return err;
	ap->type = value;
	err = policy_arg_type_lookup(s, &ap->a.type);
	if (err)
		return policy_error(c, value, "unknown argument type \"%s\"", s);
	ap->a.type_name = strdup(s);
	return ap->a.type_name ? 0 : policy_nomem(c);
}

static int arg_source(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct arg_parse *ap = obj;

	ap->source = key;
	return policy_str(c, value, "source", &ap->source_value);
}

/* The CRD's maxData is a flag meaning "read as much as Tetragon can": we record the size. */
static int arg_max_data(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct arg_parse *ap = obj;
	int err;

	err = policy_bool(c, value, "maxData", &ap->max_data);
	ap->max_data_key = key;
	ap->a.max_data = ap->max_data ? POLICY_MAX_DATA_BYTES : 0;
	return err;
}

/* returnCopy: a buffer the call fills is read at its return (core/sensors checks the hook
 * returns and the type is char_buf). */
static int arg_return_copy(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct arg_parse *ap = obj;

	(void)key;
	return policy_bool(c, value, "returnCopy", &ap->a.return_copy);
}

/* BTF walks (resolve, btfType, btfTypeModule) are not in the kernel side yet: the argument
 * would be read as the pointer itself. */
static int arg_btf_walk(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	const char *s;
	int err;

	err = policy_str(c, value, (const char *)key->data.scalar.value, &s);
	if (!err)
		err = policy_error(c, key, "%s is not supported yet", (const char *)key->data.scalar.value);
	return err;
}

static const struct policy_field arg_fields[] = {
	POLICY_U32("index", struct arg_parse, a.index, POLICY_REQUIRED),
	POLICY_FN("type", arg_type, 0),
	POLICY_STR("label", struct arg_parse, a.label, 0),
	POLICY_U32("sizeArgIndex", struct arg_parse, a.size_arg_index, 0),
	POLICY_FN("returnCopy", arg_return_copy, 0),
	POLICY_FN("maxData", arg_max_data, 0),
	POLICY_STR("resolve", struct arg_parse, a.resolve, 0),
	POLICY_FN("source", arg_source, 0),
	POLICY_FN("btfType", arg_btf_walk, 0),
	POLICY_FN("btfTypeModule", arg_btf_walk, 0),
};

static const char *section_of(enum vigil_hook_kind kind)
{
	static const char *const names[] = {
		[VIGIL_HOOK_KPROBE] = "kprobes",
		[VIGIL_HOOK_TRACEPOINT] = "tracepoints",
		[VIGIL_HOOK_LSM] = "lsmhooks",
		[VIGIL_HOOK_UPROBE] = "uprobes",
		[VIGIL_HOOK_USDT] = "usdts",
	};

	return names[kind];
}

static int check_type(struct policy_ctx *c, yaml_node_t *n, enum vigil_hook_kind kind, struct arg_parse *ap)
{
	if (!ap->type) {
		/* the CRD defaults type to auto, which only a tracepoint's format file can resolve */
		if (kind != VIGIL_HOOK_TRACEPOINT)
			return policy_error(c, n, "missing required field \"type\"");
		ap->a.type = VIGIL_ARG_AUTO;
		ap->a.type_name = strdup("auto");
		return ap->a.type_name ? 0 : policy_nomem(c);
	}
	/* validateKprobeType: neither has a meaning outside a tracepoint */
	if (kind != VIGIL_HOOK_TRACEPOINT && (ap->a.type == VIGIL_ARG_AUTO || ap->a.type == VIGIL_ARG_SYSCALL64))
		return policy_error(c, ap->type, "type \"%s\" is not valid for %s", ap->a.type_name, section_of(kind));
	return 0;
}

static int check_source(struct policy_ctx *c, yaml_node_t *n, enum policy_arg_role role, struct arg_parse *ap)
{
	const char *s = ap->source_value;

	if (role != POLICY_DATA) {
		if (ap->source)
			return policy_error(c, ap->source, "source is only valid for data entries");
		return 0;
	}
	if (!s)
		return policy_error(c, n, "missing required field \"source\" (current_task or pt_regs)");
	if (strcmp(s, "current_task") && strcmp(s, "pt_regs"))
		return policy_error(c, ap->source, "source must be current_task or pt_regs, not \"%s\"", s);
	if (!ap->a.resolve || !ap->a.resolve[0])
		return policy_error(c, n, "data entries need \"resolve\" (the field to read from %s)", s);
	if (!strcmp(s, "pt_regs"))
		return policy_error(c, ap->source, "source pt_regs is not supported yet (current_task is)");
	ap->a.current_task = true;
	return 0;
}

static int check_arg(struct policy_ctx *c, yaml_node_t *n, enum vigil_hook_kind kind, enum policy_arg_role role,
		     struct arg_parse *ap)
{
	int err;

	err = check_type(c, n, kind, ap);
	if (!err)
		err = check_source(c, n, role, ap);
	if (err)
		return err;
	/* a BTF walk from an argument: the kernel function's BTF types it (kprobes, LSM hooks),
	 * the format file or btf_trace_ typedef (tracepoints), btfPath (uprobes); core/sensors */
	if (ap->a.resolve && role == POLICY_RETURN_ARG)
		return policy_error(c, n, "resolve is not supported on returnArg");
	if (ap->a.resolve && role == POLICY_ARG && kind == VIGIL_HOOK_USDT)
		return policy_error(c, n, "resolve on args is not supported on usdts (no BTF types a USDT "
				    "probe's operands)");
	/* functions get their first five arguments in registers, all a probe can read; a USDT
	 * probe names up to 12 (libbpf's BPF_USDT_MAX_ARG_CNT), each read where its note says */
	if (kind == VIGIL_HOOK_USDT && ap->a.index > 11)
		return policy_error(c, n, "index %u is out of range (0..11 for a USDT probe)", ap->a.index);
	if (kind != VIGIL_HOOK_TRACEPOINT && kind != VIGIL_HOOK_USDT && role != POLICY_RETURN_ARG) {
		if (ap->a.index > POLICY_MAX_ARG_INDEX)
			return policy_error(c, n, "index %u is out of range (0..%d)", ap->a.index, POLICY_MAX_ARG_INDEX);
		if (ap->a.size_arg_index > POLICY_MAX_ARG_INDEX + 1)
			return policy_error(c, n, "sizeArgIndex %u is out of range (1..%d, 0 for none)",
					    ap->a.size_arg_index, POLICY_MAX_ARG_INDEX + 1);
	}
	if (ap->max_data && ap->a.return_copy)
		return policy_error(c, ap->max_data_key, "maxData cannot be combined with returnCopy");
	return 0;
}

int policy_parse_arg(struct policy_ctx *c, yaml_node_t *n, enum vigil_hook_kind kind, enum policy_arg_role role,
		     struct vigil_policy_arg *a)
{
	struct arg_parse ap = { 0 };
	int err;

	ap.a.pos = policy_pos(n);
	err = policy_parse_map(c, n, NULL, arg_fields, VIGIL_ARRAY_SIZE(arg_fields), &ap);
	if (!err)
		err = check_arg(c, n, kind, role, &ap);
	ap.a.data = role == POLICY_DATA;
	/* the caller's slot owns whatever was built, so its destructor frees it either way */
	*a = ap.a;
	return err;
}
