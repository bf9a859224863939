/* parse_options.c - spec.options: the names Tetragon knows, each value checked; policy-mode
 * sets the policy's mode, the others are kept for the loader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* ---- options ---- */

struct option_parse {
	char *name;
	char *value;
	yaml_node_t *name_node;
	yaml_node_t *value_node;
};

static int option_name(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct option_parse *op = obj;

	op->name_node = value;
	return policy_strdup(c, value, "name", &op->name);
}

static int option_value(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct option_parse *op = obj;

	op->value_node = value;
	return policy_strdup(c, value, "value", &op->value);
}

/* vigil: "refuse" (default, as Tetragon) or "skip": a hook this kernel cannot realise is
 * left out and reported, so one policy can ask for the best each kernel offers. */
static int opt_unsupported(struct policy_ctx *c, const char *v, yaml_node_t *at)
{
	if (strcmp(v, "refuse") && strcmp(v, "skip"))
		return policy_error(c, at, "on-unsupported-hook must be refuse or skip, not \"%s\"", v);
	return 0;
}

static const struct policy_field option_fields[] = {
	POLICY_FN("name", option_name, POLICY_REQUIRED),
	POLICY_FN("value", option_value, 0),
};

static int opt_mode(struct policy_ctx *c, const char *v, yaml_node_t *at)
{
	if (!strcmp(v, "enforce"))
		c->policy->mode = VIGIL_MODE_ENFORCE;
	else if (!strcmp(v, "monitor"))
		c->policy->mode = VIGIL_MODE_MONITOR;
	else
		return policy_error(c, at, "policy-mode must be enforce or monitor, not \"%s\"", v);
	c->policy->mode_set = true;
	return 0;
}

/* Go's strconv.ParseBool, which Tetragon reads these with. */
static int opt_bool(struct policy_ctx *c, const char *v, yaml_node_t *at)
{
	static const char *const ok[] = { "1", "t", "T", "TRUE", "true", "True",
					  "0", "f", "F", "FALSE", "false", "False" };
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(ok); i++)
		if (!strcmp(v, ok[i]))
			return 0;
	return policy_error(c, at, "option value must be true or false, not \"%s\"", v);
}

/* fmod-ret: the compiler then overrides through fmod_ret only (no cgroup connect programs);
 * vigil never calls bpf_override_return, so override-return is refused. */
static int opt_override(struct policy_ctx *c, const char *v, yaml_node_t *at)
{
	if (strcmp(v, "fmod-ret") && strcmp(v, "override-return"))
		return policy_error(c, at, "override-method must be fmod-ret or override-return, not \"%s\"", v);
	if (!strcmp(v, "override-return"))
		return policy_error(c, at, "override-method override-return is not supported (vigil overrides "
				    "through fmod_ret, BPF LSM or cgroup programs, never bpf_override_return)");
	return 0;
}

/* Tetragon's sleepable programs pre-read user memory; vigil has none to size. */
static int opt_positive(struct policy_ctx *c, const char *v, yaml_node_t *at)
{
	int64_t n;

	if (policy_parse_s64(v, 1, INT32_MAX, &n))
		return policy_error(c, at, "sleepable-preload-size must be a positive integer, not \"%s\"", v);
	return policy_error(c, at, "sleepable-preload-size is not supported yet (vigil has no sleepable programs)");
}

/* vigil: how open hooks that only name paths are watched. syscall (the default): the hook
 * sees every attempt, failed ones included, at the cost of a program on every open;
 * fanotify: marks on the named files, which see only successful opens (refused if the hook
 * cannot be watched so); auto: fanotify where it can, else the syscall hook. */
static int opt_file_watch(struct policy_ctx *c, const char *v, yaml_node_t *at)
{
	if (strcmp(v, "fanotify") && strcmp(v, "syscall") && strcmp(v, "auto"))
		return policy_error(c, at, "file-watch must be syscall, auto or fanotify, not \"%s\"", v);
	return 0;
}

/* pkg/sensors/tracing/options.go; sleepable-preload-size is Tetragon main's. */
static const struct {
	const char *name;
	int (*check)(struct policy_ctx *c, const char *value, yaml_node_t *at);
} option_defs[] = {
	{ "policy-mode", opt_mode },
	/* vigil attaches one link per function and never a multi link: honoured either way */
	{ "disable-kprobe-multi", opt_bool },
	{ "disable-uprobe-multi", opt_bool },
	{ "override-method", opt_override },
	{ "sleepable-preload-size", opt_positive },
	{ "on-unsupported-hook", opt_unsupported },	/* vigil */
	{ "file-watch", opt_file_watch },		/* vigil */
};

static int option_check(struct policy_ctx *c, yaml_node_t *item, const struct option_parse *op)
{
	yaml_node_t *at = op->value_node ? op->value_node : item;
	size_t i;

	for (i = 0; i < c->policy->noptions - 1; i++)
		if (!strcmp(c->policy->options[i].name, op->name))
			return policy_error(c, op->name_node, "option \"%s\" is set twice", op->name);
	for (i = 0; i < VIGIL_ARRAY_SIZE(option_defs); i++)
		if (!strcmp(op->name, option_defs[i].name))
			return option_defs[i].check(c, op->value ? op->value : "", at);
	return policy_error(c, op->name_node, "unknown option \"%s\"", op->name);
}

int policy_parse_options(struct policy_ctx *c, yaml_node_t *seq)
{
	struct vigil_policy *p = c->policy;
	struct option_parse op;
	yaml_node_t *item;
	size_t i, n, len;
	int err;

	err = policy_expect(c, seq, YAML_SEQUENCE_NODE, "options");
	if (err)
		return err;
	n = policy_seq_len(seq);
	p->options = calloc(n ? n : 1, sizeof(*p->options));
	if (!p->options)
		return policy_nomem(c);
	for (i = 0; i < n && !err; i++) {
		item = policy_seq_item(c, seq, i);
		if (!item)
			return -EINVAL;
		len = policy_path_key(c, "options");
		policy_path_index(c, i);
		memset(&op, 0, sizeof(op));
		err = policy_parse_map(c, item, "options", option_fields, VIGIL_ARRAY_SIZE(option_fields), &op);
		if (!err && !op.value) {
			op.value = strdup("");
			err = op.value ? 0 : policy_nomem(c);
		}
		p->options[p->noptions].name = op.name;
		p->options[p->noptions].value = op.value;
		p->noptions++;
		if (!err)
			err = option_check(c, item, &op);
		policy_path_pop(c, len);
	}
	return err;
}
