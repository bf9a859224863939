/* parse_spec.c - the spec mapping: its keys (and what vigil refuses), then what hooks refer
 * to (lists, options, enforcers, the selectorsMacros registry), then the hooks in the order
 * policy.h promises. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

struct spec {
	yaml_node_t *hooks[6];		/* in sections[] order */
	yaml_node_t *lists;
	yaml_node_t *options;
	yaml_node_t *enforcers;
	yaml_node_t *macros;
};

/* The hook sections, in the order vigil_policy.hooks lists them. */
struct section {
	const char *key;
	int (*parse)(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h);
};

static const struct section sections[] = {
	{ "kprobes", policy_parse_kprobe },
	{ "fentries", policy_parse_kprobe },	/* the same spec; how to attach is the loader's choice */
	{ "tracepoints", policy_parse_tracepoint },
	{ "lsmhooks", policy_parse_lsm },
	{ "uprobes", policy_parse_uprobe },
	{ "usdts", policy_parse_usdt },
};

/* ---- spec keys that are not lists ---- */

/* Tetragon's CRD allows only null and {} ("for now only ~ (none) and {} (all)"); {} limits
 * the policy to processes outside pods, which vigil cannot tell apart yet. */
static int spec_host_selector(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	if (c->policy->namespaced)
		return policy_error(c, key, "hostSelector is not allowed in a TracingPolicyNamespaced");
	if (value->type != YAML_MAPPING_NODE || value->data.mapping.pairs.top != value->data.mapping.pairs.start)
		return policy_error(c, value, "hostSelector must be {} or null: vigil does not select hosts by label");
	return policy_error(c, key, "hostSelector is not supported yet (vigil does not tell host processes "
			    "from pods)");
}

static int spec_pod_selector(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	return policy_parse_label_selector(c, key, value, &c->policy->pod_selector, "podSelector", false);
}

static int spec_container_selector(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	return policy_parse_label_selector(c, key, value, &c->policy->container_selector, "containerSelector", true);
}

/* loader: true asks for process_loader events (executable files mapped), as long as the
 * policy is loaded. */
static int spec_loader(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	(void)key;
	(void)obj;
	return policy_bool(c, value, "loader", &c->policy->loader);
}

static const struct policy_field spec_fields[] = {
	POLICY_NODE("kprobes", struct spec, hooks[0], 0),
	POLICY_NODE("fentries", struct spec, hooks[1], 0),
	POLICY_NODE("tracepoints", struct spec, hooks[2], 0),
	POLICY_NODE("lsmhooks", struct spec, hooks[3], 0),
	POLICY_NODE("uprobes", struct spec, hooks[4], 0),
	POLICY_NODE("usdts", struct spec, hooks[5], 0),
	POLICY_NODE("lists", struct spec, lists, 0),
	POLICY_NODE("options", struct spec, options, 0),
	POLICY_NODE("enforcers", struct spec, enforcers, 0),
	POLICY_NODE("selectorsMacros", struct spec, macros, 0),
	POLICY_FN("hostSelector", spec_host_selector, 0),
	POLICY_FN("loader", spec_loader, 0),
	/* workloads: pods through the node's container runtime (CRI), decided in the kernel */
	POLICY_FN("podSelector", spec_pod_selector, 0),
	POLICY_FN("containerSelector", spec_container_selector, 0),
	POLICY_REFUSE("nodeSelector", "vigil runs without Kubernetes: no nodes to select"),
};

/* ---- selectorsMacros: keys checked here, contents when a selector uses them ---- */

static int macro_keys(struct policy_ctx *c, yaml_node_t *macro)
{
	yaml_node_pair_t *p, *q;
	yaml_node_t *key;
	const char *name;
	int err;

	err = policy_expect(c, macro, YAML_MAPPING_NODE, NULL);
	for (p = macro->data.mapping.pairs.start; !err && p < macro->data.mapping.pairs.top; p++) {
		key = policy_node(c, p->key);
		err = policy_str(c, key, NULL, &name);
		if (err)
			break;
		if (!policy_field_find(policy_selector_fields, policy_selector_nfields, name))
			return policy_error_bare(c, key, "unknown key \"%s\" in %s", name, c->path);
		/* appendMacrosSelectors: "macro definition cannot use other macros" */
		if (!strcmp(name, "macros"))
			return policy_error(c, key, "a macro cannot use other macros");
		for (q = macro->data.mapping.pairs.start; q < p; q++)
			if (!strcmp((const char *)policy_node(c, q->key)->data.scalar.value, name))
				return policy_error_bare(c, key, "duplicate key \"%s\" in %s", name, c->path);
	}
	return err;
}

static int by_name(const void *a, const void *b)
{
	const yaml_node_t *x = *(yaml_node_t *const *)a, *y = *(yaml_node_t *const *)b;
	int d = strcmp((const char *)x->data.scalar.value, (const char *)y->data.scalar.value);

	/* equal names sort in document order, so the duplicate reported is the later one */
	return d ? d : (x->start_mark.index > y->start_mark.index) - (x->start_mark.index < y->start_mark.index);
}

static int parse_macros(struct policy_ctx *c, yaml_node_t *map)
{
	yaml_node_t **keys = NULL, *key;
	yaml_node_pair_t *p;
	size_t n, i = 0, len;
	const char *name;
	int err;

	err = policy_expect(c, map, YAML_MAPPING_NODE, "selectorsMacros");
	if (err)
		return err;
	n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return policy_nomem(c);
	for (p = map->data.mapping.pairs.start; !err && p < map->data.mapping.pairs.top; p++, i++) {
		key = keys[i] = policy_node(c, p->key);
		err = policy_str(c, key, "selectorsMacros", &name);
		if (err)
			break;
		len = policy_path_key(c, "selectorsMacros");
		policy_path_key(c, name);
		err = macro_keys(c, policy_node(c, p->value));
		policy_path_pop(c, len);
	}
	if (!err && n > 1) {
		/* names are looked up per selector: sort once to find duplicates in n log n */
		qsort(keys, n, sizeof(*keys), by_name);
		for (i = 1; i < n && !err; i++)
			if (!strcmp((const char *)keys[i]->data.scalar.value, (const char *)keys[i - 1]->data.scalar.value))
				err = policy_error(c, keys[i], "selectorsMacros: macro \"%s\" is defined twice",
						   (const char *)keys[i]->data.scalar.value);
	}
	free(keys);
	if (!err)
		c->macros = map;
	return err;
}

/* ---- hooks ---- */

/* How many hooks a list item becomes: one, or one per value of the syscalls list it calls. */
static size_t expansion(struct policy_ctx *c, const struct section *section, yaml_node_t *item)
{
	const struct vigil_policy_list *l;

	if (item && section->parse == policy_parse_uprobe)
		return policy_uprobe_symbol_count(c, item);
	l = item && section->parse == policy_parse_kprobe ? policy_kprobe_call_list(c, item) : NULL;
	return l ? l->nvalues : 1;
}

static int parse_hooks(struct policy_ctx *c, const struct spec *s)
{
	const struct vigil_policy_list *l;
	struct vigil_policy *p = c->policy;
	size_t i, j, k, n = 0, len, nsym;
	yaml_node_t *item;
	int err;

	for (i = 0; i < VIGIL_ARRAY_SIZE(sections); i++) {
		if (!s->hooks[i])
			continue;
		err = policy_expect(c, s->hooks[i], YAML_SEQUENCE_NODE, sections[i].key);
		if (err)
			return err;
		for (j = 0; j < policy_seq_len(s->hooks[i]); j++) {
			item = policy_node(c, s->hooks[i]->data.sequence.items.start[j]);
			n += expansion(c, &sections[i], item);
			if (n > POLICY_MAX_HOOKS)
				return policy_error_bare(c, item, "too many hooks (max %d, syscall lists and uprobe symbols "
							 "counted one by one)", POLICY_MAX_HOOKS);
		}
	}
	p->hooks = calloc(n ? n : 1, sizeof(*p->hooks));
	if (!p->hooks)
		return policy_nomem(c);
	/* every slot is zeroed, and a zeroed hook frees cleanly whatever fails */
	p->nhooks = n;
	n = 0;
	for (i = 0; i < VIGIL_ARRAY_SIZE(sections); i++) {
		for (j = 0; s->hooks[i] && j < policy_seq_len(s->hooks[i]); j++) {
			item = policy_seq_item(c, s->hooks[i], j);
			if (!item)
				return -EINVAL;
			len = policy_path_key(c, sections[i].key);
			policy_path_index(c, j);
			l = sections[i].parse == policy_parse_kprobe ? policy_kprobe_call_list(c, item) : NULL;
			nsym = sections[i].parse == policy_parse_uprobe ? policy_uprobe_symbol_count(c, item) : 1;
			if (nsym > 1) {
				/* several uprobe symbols: one hook per symbol */
				for (k = 0, err = 0; k < nsym && !err; k++) {
					c->symbol_pass = k + 1;
					err = sections[i].parse(c, item, &p->hooks[n++]);
				}
				c->symbol_pass = 0;
			} else if (!l) {
				err = sections[i].parse(c, item, &p->hooks[n++]);
			} else {
				/* call: "list:NAME": one hook per syscall of the list */
				for (k = 0, err = 0; k < l->nvalues && !err; k++) {
					c->call_override = l->values[k];
					err = sections[i].parse(c, item, &p->hooks[n++]);
				}
				c->call_override = NULL;
			}
			policy_path_pop(c, len);
			if (err)
				return err;
		}
	}
	return 0;
}

/* generated_ftrace lists name what this kernel can trace: read now, so a kprobe that calls
 * one becomes one hook per function like a syscalls list. One that cannot be read stays
 * empty; a kprobe that calls it says why (parse_hooks.c). */
static void expand_ftrace_lists(struct policy_ctx *c)
{
	char why[256];
	size_t i;

	for (i = 0; i < c->policy->nlists; i++)
		if (c->policy->lists[i].type == VIGIL_LIST_GENERATED_FTRACE)
			policy_ftrace_expand(&c->policy->lists[i], why, sizeof(why));
}

int policy_parse_spec(struct policy_ctx *c, yaml_node_t *node)
{
	struct spec s = { 0 };
	int err;

	err = policy_parse_map(c, node, "spec", spec_fields, VIGIL_ARRAY_SIZE(spec_fields), &s);
	/* what hooks refer to comes first: lists, then enforcers (NotifyEnforcer), macros */
	if (!err && s.lists)
		err = policy_parse_lists(c, s.lists);
	if (!err && s.lists)
		expand_ftrace_lists(c);
	if (!err && s.options)
		err = policy_parse_options(c, s.options);
	if (!err && s.enforcers)
		err = policy_parse_enforcers(c, s.enforcers);
	if (!err && s.macros)
		err = parse_macros(c, s.macros);
	if (!err)
		err = parse_hooks(c, &s);
	return err;
}
