/* parse_workloads.c - which workloads a policy applies to: podSelector and
 * containerSelector (Kubernetes LabelSelectors: matchLabels, matchExpressions). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

static int add_req(struct policy_ctx *c, struct vigil_label_selector *sel, struct vigil_label_req **out)
{
	struct vigil_label_req *grown = realloc(sel->reqs, (sel->nreqs + 1) * sizeof(*grown));

	if (!grown)
		return policy_nomem(c);
	sel->reqs = grown;
	*out = &grown[sel->nreqs++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

/* matchLabels {k: v}: each is "k In (v)" */
static int match_labels(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_label_selector *sel = obj;
	struct vigil_label_req *r;
	yaml_node_pair_t *pair;
	int err;

	err = policy_expect(c, value, YAML_MAPPING_NODE, "matchLabels");
	for (pair = value->data.mapping.pairs.start; !err && pair < value->data.mapping.pairs.top; pair++) {
		err = add_req(c, sel, &r);
		if (err)
			break;
		r->op = VIGIL_LABEL_IN;
		err = policy_strdup(c, policy_node(c, pair->key), "matchLabels", &r->key);
		if (!err) {
			r->values = calloc(1, sizeof(*r->values));
			if (!r->values)
				return policy_nomem(c);
			r->nvalues = 1;
			err = policy_strdup(c, policy_node(c, pair->value), "matchLabels", &r->values[0]);
		}
	}
	return err;
}

struct expr {
	char *key;
	char *op;
	char **values;
	size_t nvalues;
	yaml_node_t *opnode, *valnode;
};

static int expr_op(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct expr *e = obj;

	e->opnode = value;
	return policy_strdup(c, value, "operator", &e->op);
}

static int expr_values(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct expr *e = obj;

	e->valnode = value;
	return policy_strlist(c, value, "values", &e->values, &e->nvalues);
}

static const struct policy_field expr_fields[] = {
	POLICY_STR("key", struct expr, key, POLICY_REQUIRED),
	POLICY_FN("operator", expr_op, POLICY_REQUIRED),
	POLICY_FN("values", expr_values, 0),
};

/* matchExpressions [{key, operator In|NotIn|Exists|DoesNotExist, values}] */
static int match_expressions(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	static const struct { const char *name; enum vigil_label_op op; bool values; } ops[] = {
		{ "In", VIGIL_LABEL_IN, true }, { "NotIn", VIGIL_LABEL_NOT_IN, true },
		{ "Exists", VIGIL_LABEL_EXISTS, false }, { "DoesNotExist", VIGIL_LABEL_DOES_NOT_EXIST, false },
	};
	struct vigil_label_selector *sel = obj;
	struct vigil_label_req *r;
	size_t i, k, len, outer = policy_path_key(c, "matchExpressions");
	int err;

	err = policy_expect(c, value, YAML_SEQUENCE_NODE, "matchExpressions");
	for (i = 0; !err && i < policy_seq_len(value); i++) {
		yaml_node_t *item = policy_seq_item(c, value, i);
		struct expr e = { 0 };

		if (!item)
			return -EINVAL;
		len = policy_path_index(c, i);
		err = policy_parse_map(c, item, "matchExpressions", expr_fields, VIGIL_ARRAY_SIZE(expr_fields), &e);
		for (k = 0; !err && k < VIGIL_ARRAY_SIZE(ops) && strcmp(ops[k].name, e.op); k++)
			;
		if (!err && k == VIGIL_ARRAY_SIZE(ops))
			err = policy_error(c, e.opnode, "operator must be In, NotIn, Exists or DoesNotExist, not \"%s\"", e.op);
		/* apimachinery: In and NotIn need values, Exists and DoesNotExist take none */
		if (!err && ops[k].values && !e.nvalues)
			err = policy_error(c, e.opnode, "operator %s needs values", e.op);
		if (!err && !ops[k].values && e.nvalues)
			err = policy_error(c, e.valnode, "operator %s takes no values", e.op);
		if (!err)
			err = add_req(c, sel, &r);
		if (!err) {
			r->op = ops[k].op;
			r->key = e.key;
			r->values = e.values;
			r->nvalues = e.nvalues;
			e.key = NULL;
			e.values = NULL;
			e.nvalues = 0;
		}
		free(e.key);
		free(e.op);
		for (k = 0; k < e.nvalues; k++)
			free(e.values[k]);
		free(e.values);
		policy_path_pop(c, len);
	}
	policy_path_pop(c, outer);
	return err;
}

static const struct policy_field selector_fields[] = {
	POLICY_FN("matchLabels", match_labels, 0),
	POLICY_FN("matchExpressions", match_expressions, 0),
};

int policy_parse_label_selector(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value,
				struct vigil_label_selector *sel, const char *what, bool name_only)
{
	size_t len = policy_path_key(c, what), i;
	int err;

	sel->present = true;
	err = policy_parse_map(c, value, what, selector_fields, VIGIL_ARRAY_SIZE(selector_fields), sel);
	/* Tetragon's CRD: a container has only the label "name" */
	for (i = 0; !err && name_only && i < sel->nreqs; i++)
		if (strcmp(sel->reqs[i].key, "name"))
			err = policy_error(c, value, "containerSelector selects by \"name\" only, not \"%s\"",
					   sel->reqs[i].key);
	policy_path_pop(c, len);
	return err;
}

void policy_free_label_selector(struct vigil_label_selector *sel)
{
	size_t i, k;

	for (i = 0; i < sel->nreqs; i++) {
		free(sel->reqs[i].key);
		for (k = 0; k < sel->reqs[i].nvalues; k++)
			free(sel->reqs[i].values[k]);
		free(sel->reqs[i].values);
	}
	free(sel->reqs);
	memset(sel, 0, sizeof(*sel));
}

/* ---- matching ---- */

static const char *lookup(const char *const *keys, const char *const *values, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(keys[i], key))
			return values[i];
	return NULL;
}

static bool one_of(const struct vigil_label_req *r, const char *v)
{
	size_t i;

	for (i = 0; v && i < r->nvalues; i++)
		if (!strcmp(r->values[i], v))
			return true;
	return false;
}

bool vigil_label_selector_match(const struct vigil_label_selector *sel, const char *const *keys,
				const char *const *values, size_t n)
{
	size_t i;

	for (i = 0; i < sel->nreqs; i++) {
		const struct vigil_label_req *r = &sel->reqs[i];
		const char *v = lookup(keys, values, n, r->key);

		switch (r->op) {
		case VIGIL_LABEL_IN: if (!one_of(r, v)) return false; break;
		case VIGIL_LABEL_NOT_IN: if (one_of(r, v)) return false; break;
		case VIGIL_LABEL_EXISTS: if (!v) return false; break;
		case VIGIL_LABEL_DOES_NOT_EXIST: if (v) return false; break;
		}
	}
	return true;
}

bool vigil_policy_is_scoped(const struct vigil_policy *p)
{
	return p->namespaced || p->pod_selector.present || p->container_selector.present;
}

uint32_t vigil_policy_scope_id(const struct vigil_policy *p)
{
	uint32_t h = 2166136261u;
	const char *s;

	if (!vigil_policy_is_scoped(p))
		return 0;
	for (s = p->name; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;	/* FNV-1a */
	return h ? h : 1;
}
