/* parse_lists.c - spec.lists (syscall and generated lists that calls and InMap values
 * name as "list:NAME") and spec.enforcers, which name calls and lists too. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* ---- lists ---- */

struct list_parse {
	struct vigil_policy_list l;
	yaml_node_t *type;
	yaml_node_t *values;
	yaml_node_t *pattern;
};

static const struct {
	const char *name;
	enum vigil_list_type type;
} list_types[] = {
	{ "syscalls", VIGIL_LIST_SYSCALLS },
	{ "generated_syscalls", VIGIL_LIST_GENERATED_SYSCALLS },
	{ "generated_ftrace", VIGIL_LIST_GENERATED_FTRACE },
	{ "values", VIGIL_LIST_VALUES },
	{ "files", VIGIL_LIST_FILES },
};

static int list_type(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct list_parse *lp = obj;
	const char *s;
	size_t i;
	int err;

	err = policy_str(c, value, "type", &s);
	if (err)
		return err;
	lp->type = value;
	for (i = 0; i < VIGIL_ARRAY_SIZE(list_types); i++) {
		if (!strcmp(s, list_types[i].name)) {
			lp->l.type = list_types[i].type;
			return 0;
		}
	}
	return policy_error(c, value, "list type must be syscalls, generated_syscalls, generated_ftrace, values or files, not \"%s\"",
			    s);
}

static int list_values(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct list_parse *lp = obj;

	lp->values = value;
	return policy_strlist(c, value, "values", &lp->l.values, &lp->l.nvalues);
}

static int list_pattern(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct list_parse *lp = obj;

	lp->pattern = key;
	return policy_strdup(c, value, "pattern", &lp->l.pattern);
}

/* type is optional in the CRD (a plain list of functions), but policy.h has no type for
 * that: we ask for it rather than guess. */
static const struct policy_field list_fields[] = {
	POLICY_STR("name", struct list_parse, l.name, POLICY_REQUIRED),
	POLICY_FN("type", list_type, POLICY_REQUIRED),
	POLICY_FN("values", list_values, 0),
	POLICY_FN("pattern", list_pattern, 0),
	POLICY_IGNORE("validated"),	/* Tetragon's own bookkeeping, in the CRD */
};

static int list_check(struct policy_ctx *c, yaml_node_t *item, const struct list_parse *lp)
{
	const struct vigil_policy_list *l = &lp->l;
	yaml_node_t *v;
	size_t i;

	if (!l->name[0])
		return policy_error(c, item, "list name must not be empty");
	/* lp was just stored last; the first list of that name must be that one */
	if (policy_list_find(c->policy, l->name) != &c->policy->lists[c->policy->nlists - 1])
		return policy_error(c, item, "list \"%s\" is defined twice", l->name);
	if (l->type == VIGIL_LIST_VALUES)
		return 0;	/* any strings: what they mean depends on the filters that use them */
	if (l->type == VIGIL_LIST_FILES) {
		for (i = 0; i < l->nvalues; i++) {
			if (l->values[i][0] == '/')
				continue;
			v = policy_seq_item(c, lp->values, i);
			return v ? policy_error(c, v, "\"%s\" is not an absolute path", l->values[i]) : -EINVAL;
		}
		return 0;
	}
	if (l->type != VIGIL_LIST_SYSCALLS && l->nvalues)
		return policy_error(c, lp->values, "a generated list takes no values");
	if (l->type == VIGIL_LIST_GENERATED_FTRACE && (!l->pattern || !l->pattern[0]))
		return policy_error(c, item, "a generated_ftrace list needs a pattern");
	if (l->type != VIGIL_LIST_GENERATED_FTRACE && l->pattern)
		return policy_error(c, lp->pattern, "pattern is only valid for generated_ftrace lists");
	for (i = 0; i < l->nvalues; i++) {
		if (policy_syscall_name_ok(l->values[i]))
			continue;
		v = policy_seq_item(c, lp->values, i);
		return v ? policy_error(c, v, "\"%s\" is not a syscall name", l->values[i]) : -EINVAL;
	}
	return 0;
}

int policy_parse_lists(struct policy_ctx *c, yaml_node_t *seq)
{
	struct vigil_policy *p = c->policy;
	struct list_parse lp;
	yaml_node_t *item;
	size_t i, n, len;
	int err;

	err = policy_expect(c, seq, YAML_SEQUENCE_NODE, "lists");
	if (err)
		return err;
	n = policy_seq_len(seq);
	p->lists = calloc(n ? n : 1, sizeof(*p->lists));
	if (!p->lists)
		return policy_nomem(c);
	for (i = 0; i < n && !err; i++) {
		item = policy_seq_item(c, seq, i);
		if (!item)
			return -EINVAL;
		len = policy_path_key(c, "lists");
		policy_path_index(c, i);
		memset(&lp, 0, sizeof(lp));
		lp.l.pos = policy_pos(item);
		err = policy_parse_map(c, item, "lists", list_fields, VIGIL_ARRAY_SIZE(list_fields), &lp);
		/* owned by the policy from here on, so a failure below frees it with the rest */
		p->lists[p->nlists++] = lp.l;
		if (!err)
			err = list_check(c, item, &lp);
		policy_path_pop(c, len);
	}
	return err;
}

const struct vigil_policy_list *policy_list_find(const struct vigil_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nlists; i++)
		if (p->lists[i].name && !strcmp(p->lists[i].name, name))
			return &p->lists[i];
	return NULL;
}

/* ---- enforcers: checked, then only remembered (policy.h has no place for them) ---- */

static int enforcer_calls(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	yaml_node_t *item;
	const char *s;
	size_t i;
	int err;

	err = policy_expect(c, value, YAML_SEQUENCE_NODE, "calls");
	for (i = 0; !err && i < policy_seq_len(value); i++) {
		item = policy_seq_item(c, value, i);
		if (!item)
			return -EINVAL;
		err = policy_str(c, item, "calls", &s);
		if (!err && !s[0])
			err = policy_error(c, item, "calls entries must not be empty");
		if (!err && !strncmp(s, "list:", 5) && !policy_list_find(c->policy, s + 5))
			err = policy_error(c, item, "list \"%s\" is not defined in spec.lists", s + 5);
	}
	return err;
}

static const struct policy_field enforcer_fields[] = {
	POLICY_FN("calls", enforcer_calls, POLICY_REQUIRED),
};

int policy_parse_enforcers(struct policy_ctx *c, yaml_node_t *seq)
{
	yaml_node_t *item;
	size_t len;
	int err;

	err = policy_expect(c, seq, YAML_SEQUENCE_NODE, "enforcers");
	if (err || !policy_seq_len(seq))
		return err;
	/* Tetragon attaches one enforcer program per policy */
	if (policy_seq_len(seq) > 1)
		return policy_error(c, policy_node(c, seq->data.sequence.items.start[1]),
				    "only one enforcers entry is supported");
	item = policy_seq_item(c, seq, 0);
	if (!item)
		return -EINVAL;
	len = policy_path_key(c, "enforcers[0]");
	err = policy_parse_map(c, item, "enforcers", enforcer_fields, VIGIL_ARRAY_SIZE(enforcer_fields), NULL);
	policy_path_pop(c, len);
	c->has_enforcers = !err;
	return err;
}
