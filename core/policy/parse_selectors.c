/* parse_selectors.c - a hook's selectors: the macros they name merged in (a field set
 * twice is refused), then each field to its parser: process filters in parse_filters.c,
 * argument filters in parse_match.c, actions in parse_actions.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

static const char *key_name(const yaml_node_t *key)
{
	return (const char *)key->data.scalar.value;
}

/* ---- return filters and actions ---- */

static bool has_return(const struct vigil_hook *h)
{
	return h->is_return && h->has_return_arg;
}

static int sel_return_args(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;
	size_t n;
	int err;

	if (!has_return(c->hook))
		return policy_error(c, key, "matchReturnArgs needs return: true and a returnArg");
	err = policy_expect(c, value, YAML_SEQUENCE_NODE, "matchReturnArgs");
	if (err)
		return err;
	n = policy_seq_len(value);
	if (n > VIGIL_POLICY_MAX_MATCH_ARGS)
		return policy_error(c, policy_node(c, value->data.sequence.items.start[VIGIL_POLICY_MAX_MATCH_ARGS]),
				    "too many matchReturnArgs (max %d)", VIGIL_POLICY_MAX_MATCH_ARGS);
	s->return_args = calloc(n ? n : 1, sizeof(*s->return_args));
	if (!s->return_args)
		return policy_nomem(c);
	return policy_parse_match_args(c, value, POLICY_MATCH_RETURN_ARGS, s->return_args, &s->nreturn_args);
}

static int sel_actions(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;
	size_t len;
	int err;

	len = policy_path_key(c, "matchActions");
	err = policy_parse_actions(c, value, &s->actions, &s->nactions);
	policy_path_pop(c, len);
	return err;
}

static int sel_return_actions(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;
	size_t len;
	int err;

	if (!c->hook->is_return)
		return policy_error(c, key, "matchReturnActions needs return: true");
	len = policy_path_key(c, "matchReturnActions");
	err = policy_parse_actions(c, value, &s->return_actions, &s->nreturn_actions);
	policy_path_pop(c, len);
	return err;
}

/* Tetragon main's selector label names the selector in the per-selector action metrics
 * (vigil_policy_selector_actions_total's selector="<hook>[<label>]"). */
static int sel_label(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;
	int err;

	err = policy_strdup(c, value, "label", &s->label);
	if (!err && !s->label[0])
		err = policy_error(c, value, "label must not be empty");
	return err;
}


const struct policy_field policy_selector_fields[] = {
	POLICY_FN("matchPIDs", policy_filter_pids, 0),
	POLICY_NODE("matchArgs", struct policy_selector_parse, match_args, 0),
	POLICY_NODE("matchData", struct policy_selector_parse, match_data, 0),
	POLICY_FN("matchReturnArgs", sel_return_args, 0),
	POLICY_FN("matchBinaries", policy_filter_binaries, 0),
	POLICY_FN("matchParentBinaries", policy_filter_parent_binaries, 0),
	POLICY_FN("matchNamespaces", policy_filter_namespaces, 0),
	POLICY_FN("matchNamespaceChanges", policy_filter_ns_changes, 0),
	POLICY_FN("matchCapabilities", policy_filter_caps, 0),
	POLICY_FN("matchCapabilityChanges", policy_filter_cap_changes, 0),
	POLICY_FN("matchActions", sel_actions, 0),
	POLICY_FN("matchReturnActions", sel_return_actions, 0),
	POLICY_IGNORE("macros"),	/* merged before the walk */
	POLICY_FN("label", sel_label, 0),
	POLICY_REFUSE("matchWorkloads", "vigil runs without Kubernetes: no pods or containers to select"),
};
const size_t policy_selector_nfields = VIGIL_ARRAY_SIZE(policy_selector_fields);

/* ---- one selector ---- */

/* matchArgs and matchData share the five filter slots (Tetragon's ParseMatchArgs). */
static int match_lists(struct policy_ctx *c, const struct policy_selector_parse *sp)
{
	struct vigil_selector *s = sp->s;
	size_t nargs = 0, ndata = 0;
	yaml_node_t *extra;
	int err = 0;

	if (sp->match_args) {
		err = policy_expect(c, sp->match_args, YAML_SEQUENCE_NODE, "matchArgs");
		nargs = policy_seq_len(sp->match_args);
	}
	if (!err && sp->match_data) {
		err = policy_expect(c, sp->match_data, YAML_SEQUENCE_NODE, "matchData");
		ndata = policy_seq_len(sp->match_data);
	}
	if (err || nargs + ndata == 0)
		return err;
	if (nargs + ndata > VIGIL_POLICY_MAX_MATCH_ARGS) {
		extra = nargs > VIGIL_POLICY_MAX_MATCH_ARGS ?
				policy_node(c, sp->match_args->data.sequence.items.start[VIGIL_POLICY_MAX_MATCH_ARGS]) :
				policy_node(c, sp->match_data->data.sequence.items.start[VIGIL_POLICY_MAX_MATCH_ARGS - nargs]);
		return policy_error(c, extra, "too many matchArgs (max %d, matchData included)",
				    VIGIL_POLICY_MAX_MATCH_ARGS);
	}
	s->args = calloc(nargs + ndata, sizeof(*s->args));
	if (!s->args)
		return policy_nomem(c);
	if (sp->match_args)
		err = policy_parse_match_args(c, sp->match_args, POLICY_MATCH_ARGS, s->args, &s->nargs);
	if (!err && sp->match_data)
		err = policy_parse_match_args(c, sp->match_data, POLICY_MATCH_DATA, s->args, &s->nargs);
	return err;
}

static yaml_node_t *macro_find(struct policy_ctx *c, const char *name)
{
	yaml_node_pair_t *p;

	for (p = c->macros->data.mapping.pairs.start; p < c->macros->data.mapping.pairs.top; p++)
		if (!strcmp(key_name(policy_node(c, p->key)), name))
			return policy_node(c, p->value);
	return NULL;
}

struct merged {
	struct policy_pair *pairs;
	const char **origin;	/* the macro each pair came from, NULL for the selector's own */
	size_t n;
	size_t cap;
};

static int merge_add(struct policy_ctx *c, struct merged *m, yaml_node_t *map, const char *origin,
		     const yaml_node_t *at)
{
	size_t need = m->n + (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	struct policy_pair *pairs;
	const char **origins;
	yaml_node_pair_t *p;
	size_t i;

	if (need > m->cap) {
		pairs = realloc(m->pairs, need * sizeof(*pairs));
		if (!pairs)
			return policy_nomem(c);
		m->pairs = pairs;
		origins = realloc(m->origin, need * sizeof(*origins));
		if (!origins)
			return policy_nomem(c);
		m->origin = origins;
		m->cap = need;
	}
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *key = policy_node(c, p->key), *value = policy_node(c, p->value);

		/* useMacro: a filter set in two places is an error, not a silent merge */
		for (i = 0; origin && i < m->n; i++) {
			/* the selector's own keys are checked later; a macro's were checked in spec */
			if (m->pairs[i].key->type != YAML_SCALAR_NODE)
				continue;
			if (strcmp(key_name(m->pairs[i].key), key_name(key)) || policy_is_null(value) ||
			    policy_is_null(m->pairs[i].value))
				continue;
			if (m->origin[i])
				return policy_error(c, at, "field \"%s\" is set both in macro \"%s\" and in macro \"%s\"",
						    key_name(key), m->origin[i], origin);
			return policy_error(c, at, "field \"%s\" is set both in the selector and in macro \"%s\"",
					    key_name(key), origin);
		}
		m->pairs[m->n].key = key;
		m->pairs[m->n].value = value;
		m->origin[m->n++] = origin;
	}
	return 0;
}

static int merge_macros(struct policy_ctx *c, yaml_node_t *list, struct merged *m)
{
	yaml_node_t *item, *macro;
	const char *name;
	size_t i;
	int err;

	err = policy_expect(c, list, YAML_SEQUENCE_NODE, "macros");
	for (i = 0; !err && i < policy_seq_len(list); i++) {
		item = policy_seq_item(c, list, i);
		if (!item)
			return -EINVAL;
		err = policy_str(c, item, "macros", &name);
		if (err)
			break;
		macro = c->macros ? macro_find(c, name) : NULL;
		if (!macro)
			return policy_error(c, item, "macro \"%s\" is not defined in spec.selectorsMacros", name);
		if (!policy_is_null(macro))
			err = merge_add(c, m, macro, name, item);
	}
	return err;
}

static int parse_selector(struct policy_ctx *c, yaml_node_t *item, struct vigil_selector *s)
{
	struct policy_selector_parse sp = { s, NULL, NULL };
	struct merged m = { 0 };
	yaml_node_pair_t *p;
	yaml_node_t *key;
	int err;

	s->pos = policy_pos(item);
	err = policy_expect(c, item, YAML_MAPPING_NODE, NULL);
	if (!err)
		err = merge_add(c, &m, item, NULL, item);
	for (p = item->data.mapping.pairs.start; !err && p < item->data.mapping.pairs.top; p++) {
		key = policy_node(c, p->key);
		if (key->type == YAML_SCALAR_NODE && !strcmp(key_name(key), "macros") &&
		    !policy_is_null(policy_node(c, p->value)))
			err = merge_macros(c, policy_node(c, p->value), &m);
	}
	if (!err)
		err = policy_parse_pairs(c, item, NULL, m.pairs, m.n, policy_selector_fields, policy_selector_nfields,
					 &sp);
	if (!err)
		err = match_lists(c, &sp);
	free(m.pairs);
	free(m.origin);
	return err;
}

int policy_parse_selectors(struct policy_ctx *c, yaml_node_t *seq)
{
	struct vigil_hook *h = c->hook;
	yaml_node_t *item;
	size_t i, n, len;
	int err;

	err = policy_expect(c, seq, YAML_SEQUENCE_NODE, "selectors");
	if (err)
		return err;
	n = policy_seq_len(seq);
	/* VIGIL_POLICY_MAX_SELECTORS explains the limit */
	if (n > VIGIL_POLICY_MAX_SELECTORS)
		return policy_error(c, policy_node(c, seq->data.sequence.items.start[VIGIL_POLICY_MAX_SELECTORS]),
				    "too many selectors (max %d)", VIGIL_POLICY_MAX_SELECTORS);
	h->selectors = calloc(n ? n : 1, sizeof(*h->selectors));
	if (!h->selectors)
		return policy_nomem(c);
	h->nselectors = n;
	for (i = 0; i < n && !err; i++) {
		item = policy_seq_item(c, seq, i);
		if (!item)
			return -EINVAL;
		len = policy_path_index(c, i);
		err = parse_selector(c, item, &h->selectors[i]);
		policy_path_pop(c, len);
	}
	return err;
}
