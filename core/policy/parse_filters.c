/* parse_filters.c - a selector's process filters: matchPIDs, matchBinaries,
 * matchParentBinaries, matchNamespaces, matchNamespaceChanges, matchCapabilities and
 * matchCapabilityChanges. Each parses a list of entries into its vigil_selector array. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* A list of mappings into a zeroed array of elements, each parsed by one(); the array is
 * the caller's (and freeable) whatever fails. */
static int each_entry(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *seq, size_t max, size_t size,
		      void **arr, size_t *count, int (*one)(struct policy_ctx *c, yaml_node_t *item, void *elem))
{
	const char *field = (const char *)key->data.scalar.value;
	yaml_node_t *item;
	size_t i, n, len;
	int err;

	err = policy_expect(c, seq, YAML_SEQUENCE_NODE, field);
	if (err)
		return err;
	n = policy_seq_len(seq);
	if (n > max)
		return policy_error(c, policy_node(c, seq->data.sequence.items.start[max]),
				    "too many %s entries (max %zu)", field, max);
	*arr = calloc(n ? n : 1, size);
	if (!*arr)
		return policy_nomem(c);
	*count = n;
	for (i = 0; i < n && !err; i++) {
		item = policy_seq_item(c, seq, i);
		if (!item)
			return -EINVAL;
		len = policy_path_key(c, field);
		policy_path_index(c, i);
		err = one(c, item, (char *)*arr + i * size);
		policy_path_pop(c, len);
	}
	return err;
}

/* matchPIDs, matchNamespaces and matchCapabilities take In or NotIn, spelled so. */
static int in_op(struct policy_ctx *c, const yaml_node_t *n, enum vigil_op *op)
{
	const char *s;
	int err;

	err = policy_str(c, n, "operator", &s);
	if (err)
		return err;
	if (!strcmp(s, "In"))
		*op = VIGIL_OP_IN;
	else if (!strcmp(s, "NotIn"))
		*op = VIGIL_OP_NOT_IN;
	else
		return policy_error(c, n, "operator must be In or NotIn, not \"%s\"", s);
	return 0;
}

/* values: a non-empty list of at most max scalars. */
static int values_list(struct policy_ctx *c, const yaml_node_t *n, size_t max)
{
	int err;

	err = policy_expect(c, n, YAML_SEQUENCE_NODE, "values");
	if (err)
		return err;
	if (!policy_seq_len(n))
		return policy_error(c, n, "values must not be empty");
	if (policy_seq_len(n) > max)
		return policy_error(c, policy_node(c, n->data.sequence.items.start[max]), "too many values (max %zu)",
				    max);
	return 0;
}

/* ---- matchPIDs ---- */

struct pids_parse {
	struct vigil_match_pids m;
	yaml_node_t *op;
	yaml_node_t *values;
};

static const struct policy_field pids_fields[] = {
	POLICY_NODE("operator", struct pids_parse, op, POLICY_REQUIRED),
	POLICY_NODE("values", struct pids_parse, values, POLICY_REQUIRED),
	POLICY_BOOL("isNamespacePID", struct pids_parse, m.is_namespace_pid),
	POLICY_BOOL("followForks", struct pids_parse, m.follow_forks),
};

static int one_pids(struct policy_ctx *c, yaml_node_t *item, void *elem)
{
	struct pids_parse pp = { 0 };
	yaml_node_t *v;
	size_t i;
	int err;

	pp.m.pos = policy_pos(item);
	err = policy_parse_map(c, item, NULL, pids_fields, VIGIL_ARRAY_SIZE(pids_fields), &pp);
	if (!err)
		err = in_op(c, pp.op, &pp.m.op);
	if (!err)
		err = values_list(c, pp.values, VIGIL_POLICY_MAX_PIDS);
	for (i = 0; !err && i < policy_seq_len(pp.values); i++) {
		v = policy_seq_item(c, pp.values, i);
		err = v ? policy_u32(c, v, "values", &pp.m.values[i]) : -EINVAL;
		pp.m.nvalues = i + 1;
	}
	*(struct vigil_match_pids *)elem = pp.m;
	return err;
}

int policy_filter_pids(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;

	return each_entry(c, key, value, VIGIL_POLICY_MAX_PID_ENTRIES, sizeof(*s->pids), (void **)&s->pids, &s->npids,
			  one_pids);
}

/* ---- matchBinaries, matchParentBinaries ---- */

struct bin_parse {
	struct vigil_match_binaries m;
	yaml_node_t *op;
	yaml_node_t *values;
};

static const struct policy_field bin_fields[] = {
	POLICY_NODE("operator", struct bin_parse, op, POLICY_REQUIRED),
	POLICY_NODE("values", struct bin_parse, values, POLICY_REQUIRED),
	POLICY_BOOL("followChildren", struct bin_parse, m.follow_children),
};

static int bin_op(struct policy_ctx *c, struct bin_parse *bp)
{
	const char *s;
	int err;

	err = policy_str(c, bp->op, "operator", &s);
	if (err)
		return err;
	if (policy_op_lookup(s, &bp->m.op) ||
	    !(bp->m.op == VIGIL_OP_IN || bp->m.op == VIGIL_OP_NOT_IN || bp->m.op == VIGIL_OP_PREFIX ||
	      bp->m.op == VIGIL_OP_NOT_PREFIX || bp->m.op == VIGIL_OP_POSTFIX || bp->m.op == VIGIL_OP_NOT_POSTFIX))
		return policy_error(c, bp->op, "operator must be In, NotIn, Prefix, NotPrefix, Postfix or NotPostfix, "
				    "not \"%s\"", s);
	/* the children set is keyed by exact path (mbset): Tetragon has it for In/NotIn only */
	if (bp->m.follow_children && bp->m.op != VIGIL_OP_IN && bp->m.op != VIGIL_OP_NOT_IN)
		return policy_error(c, bp->op, "followChildren works only with In and NotIn, not %s",
				    vigil_op_name(bp->m.op));
	return 0;
}

static size_t bin_max(enum vigil_op op)
{
	switch (op) {
	case VIGIL_OP_PREFIX:
	case VIGIL_OP_NOT_PREFIX:
		return VIGIL_POLICY_MAX_PREFIX;
	case VIGIL_OP_POSTFIX:
	case VIGIL_OP_NOT_POSTFIX:
		return VIGIL_POLICY_MAX_POSTFIX;
	default:
		return VIGIL_POLICY_MAX_STRING;	/* execve_map keeps 255 bytes of the path */
	}
}

static int one_bin(struct policy_ctx *c, yaml_node_t *item, void *elem)
{
	struct bin_parse bp = { 0 };
	size_t i, max;
	int err;

	bp.m.pos = policy_pos(item);
	err = policy_parse_map(c, item, NULL, bin_fields, VIGIL_ARRAY_SIZE(bin_fields), &bp);
	if (!err)
		err = bin_op(c, &bp);
	if (!err)
		err = values_list(c, bp.values, SIZE_MAX);
	if (!err)
		err = policy_strlist(c, bp.values, "values", &bp.m.values, &bp.m.nvalues);
	max = bin_max(bp.m.op);
	for (i = 0; !err && i < bp.m.nvalues; i++) {
		if (bp.m.values[i][0] && strlen(bp.m.values[i]) <= max)
			continue;
		err = policy_error(c, policy_node(c, bp.values->data.sequence.items.start[i]),
				   "%s value must be 1 to %zu characters long", vigil_op_name(bp.m.op), max);
	}
	*(struct vigil_match_binaries *)elem = bp.m;
	return err;
}

int policy_filter_binaries(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;

	return each_entry(c, key, value, 1, sizeof(*s->binaries), (void **)&s->binaries, &s->nbinaries, one_bin);
}

int policy_filter_parent_binaries(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;

	return each_entry(c, key, value, 1, sizeof(*s->parent_binaries), (void **)&s->parent_binaries,
			  &s->nparent_binaries, one_bin);
}

/* ---- matchNamespaces ---- */

struct ns_parse {
	struct vigil_match_namespaces m;
	yaml_node_t *ns;
	yaml_node_t *op;
	yaml_node_t *values;
};

static const struct policy_field ns_fields[] = {
	POLICY_NODE("namespace", struct ns_parse, ns, POLICY_REQUIRED),
	POLICY_NODE("operator", struct ns_parse, op, POLICY_REQUIRED),
	POLICY_NODE("values", struct ns_parse, values, POLICY_REQUIRED),
};

static int ns_value(struct policy_ctx *c, yaml_node_t *v, struct vigil_match_namespaces *m)
{
	const char *s;
	uint64_t inum;
	int err;

	err = policy_str(c, v, "values", &s);
	if (err)
		return err;
	/* host_ns is resolved on the host, by the compiler (Tetragon reads /proc/1/ns) */
	if (!strcmp(s, "host_ns")) {
		m->host_ns = true;
		return 0;
	}
	if (strspn(s, "0123456789") != strlen(s) || policy_parse_u64(s, UINT32_MAX, &inum))
		return policy_error(c, v, "namespace values are inode numbers or \"host_ns\", not \"%s\"", s);
	m->values[m->nvalues++] = (uint32_t)inum;
	return 0;
}

static int one_ns(struct policy_ctx *c, yaml_node_t *item, void *elem)
{
	struct ns_parse np = { 0 };
	yaml_node_t *v;
	const char *s;
	size_t i;
	int err;

	np.m.pos = policy_pos(item);
	err = policy_parse_map(c, item, NULL, ns_fields, VIGIL_ARRAY_SIZE(ns_fields), &np);
	if (!err)
		err = policy_str(c, np.ns, "namespace", &s);
	if (!err && policy_ns_lookup(s, true, &np.m.ns))
		err = policy_error(c, np.ns, "namespace must be one of Uts, Ipc, Mnt, Pid, PidForChildren, Net, Time, "
				   "TimeForChildren, Cgroup, User, not \"%s\"", s);
	if (!err)
		err = in_op(c, np.op, &np.m.op);
	if (!err)
		err = values_list(c, np.values, VIGIL_POLICY_MAX_NS_VALUES);
	for (i = 0; !err && i < policy_seq_len(np.values); i++) {
		v = policy_seq_item(c, np.values, i);
		err = v ? ns_value(c, v, &np.m) : -EINVAL;
	}
	*(struct vigil_match_namespaces *)elem = np.m;
	return err;
}

int policy_filter_namespaces(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;

	return each_entry(c, key, value, POLICY_MAX_NS_ENTRIES, sizeof(*s->namespaces), (void **)&s->namespaces,
			  &s->nnamespaces, one_ns);
}

/* ---- matchNamespaceChanges ---- */

struct nsc_parse {
	struct vigil_match_ns_changes m;
	yaml_node_t *op;
	yaml_node_t *values;
};

static const struct policy_field nsc_fields[] = {
	POLICY_NODE("operator", struct nsc_parse, op, POLICY_REQUIRED),
	POLICY_NODE("values", struct nsc_parse, values, POLICY_REQUIRED),
};

static int one_nsc(struct policy_ctx *c, yaml_node_t *item, void *elem)
{
	struct nsc_parse np = { 0 };
	enum vigil_ns_kind ns;
	yaml_node_t *v;
	const char *s;
	size_t i;
	int err;

	np.m.pos = policy_pos(item);
	err = policy_parse_map(c, item, NULL, nsc_fields, VIGIL_ARRAY_SIZE(nsc_fields), &np);
	if (!err)
		err = in_op(c, np.op, &np.m.op);
	if (!err)
		err = values_list(c, np.values, SIZE_MAX);
	for (i = 0; !err && i < policy_seq_len(np.values); i++) {
		v = policy_seq_item(c, np.values, i);
		err = v ? policy_str(c, v, "values", &s) : -EINVAL;
		/* no CRD enum here: Tetragon lowercases, so any case goes */
		if (!err && policy_ns_lookup(s, false, &ns))
			err = policy_error(c, v, "unknown namespace \"%s\"", s);
		if (!err)
			np.m.ns_mask |= 1u << ns;
	}
	*(struct vigil_match_ns_changes *)elem = np.m;
	return err;
}

int policy_filter_ns_changes(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;

	return each_entry(c, key, value, 1, sizeof(*s->ns_changes), (void **)&s->ns_changes, &s->nns_changes,
			  one_nsc);
}

/* ---- matchCapabilities, matchCapabilityChanges ---- */

struct caps_parse {
	struct vigil_match_caps m;
	yaml_node_t *type;
	yaml_node_t *op;
	yaml_node_t *values;
};

static const struct policy_field caps_fields[] = {
	POLICY_NODE("type", struct caps_parse, type, 0),
	POLICY_NODE("operator", struct caps_parse, op, POLICY_REQUIRED),
	POLICY_BOOL("isNamespaceCapability", struct caps_parse, m.is_namespace_capability),
	POLICY_NODE("values", struct caps_parse, values, POLICY_REQUIRED),
};

static int caps_type(struct policy_ctx *c, const yaml_node_t *n, enum vigil_cap_set *out)
{
	static const char *const names[] = {
		[VIGIL_CAP_EFFECTIVE] = "Effective",
		[VIGIL_CAP_INHERITABLE] = "Inheritable",
		[VIGIL_CAP_PERMITTED] = "Permitted",
	};
	const char *s;
	size_t i;
	int err;

	if (!n) {
		*out = VIGIL_CAP_EFFECTIVE;	/* the CRD's default */
		return 0;
	}
	err = policy_str(c, n, "type", &s);
	for (i = 0; !err && i < VIGIL_ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum vigil_cap_set)i;
			return 0;
		}
	}
	return err ? err : policy_error(c, n, "type must be Effective, Inheritable or Permitted, not \"%s\"", s);
}

static int one_caps(struct policy_ctx *c, yaml_node_t *item, void *elem)
{
	struct caps_parse cp = { 0 };
	unsigned int cap;
	yaml_node_t *v;
	const char *s;
	size_t i;
	int err;

	cp.m.pos = policy_pos(item);
	err = policy_parse_map(c, item, NULL, caps_fields, VIGIL_ARRAY_SIZE(caps_fields), &cp);
	if (!err)
		err = caps_type(c, cp.type, &cp.m.type);
	if (!err)
		err = in_op(c, cp.op, &cp.m.op);
	if (!err)
		err = values_list(c, cp.values, SIZE_MAX);
	for (i = 0; !err && i < policy_seq_len(cp.values); i++) {
		v = policy_seq_item(c, cp.values, i);
		err = v ? policy_str(c, v, "values", &s) : -EINVAL;
		if (!err && policy_cap_lookup(s, &cap))
			err = policy_error(c, v, "unknown capability \"%s\"", s);
		if (!err)
			cp.m.mask |= 1ULL << cap;
	}
	*(struct vigil_match_caps *)elem = cp.m;
	return err;
}

int policy_filter_caps(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;

	return each_entry(c, key, value, VIGIL_POLICY_MAX_CAP_ENTRIES, sizeof(*s->caps), (void **)&s->caps, &s->ncaps,
			  one_caps);
}

int policy_filter_cap_changes(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_selector *s = ((struct policy_selector_parse *)obj)->s;

	return each_entry(c, key, value, VIGIL_POLICY_MAX_CAP_ENTRIES, sizeof(*s->cap_changes), (void **)&s->cap_changes,
			  &s->ncap_changes, one_caps);
}
