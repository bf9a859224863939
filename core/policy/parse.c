/* parse.c - a TracingPolicy document: loading it with libyaml (one document, syntax errors
 * with libyaml's own words), its top-level keys and metadata, and the public entry points. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_internal.h"

#define API_VERSION "cilium.io/v1alpha1"

/* ---- metadata ---- */

static int meta_name(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_policy *p = obj;
	int err;

	err = policy_strdup(c, value, "name", &p->name);
	if (!err && !policy_dns1123_subdomain(p->name))
		err = policy_error(c, value,
				   "name \"%s\" is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', "
				   "at most 253 characters, starting and ending with a letter or digit)",
				   p->name);
	return err;
}

static int meta_namespace(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct vigil_policy *p = obj;
	int err;

	/* apimachinery's ValidateObjectMeta: a cluster-scoped object has no namespace */
	if (!p->namespaced)
		return policy_error(c, key, "namespace is only valid with kind TracingPolicyNamespaced");
	err = policy_strdup(c, value, "namespace", &p->namespace_);
	if (!err && !policy_dns1123_label(p->namespace_))
		err = policy_error(c, value,
				   "namespace \"%s\" is not a DNS-1123 label (lowercase letters, digits and '-', "
				   "at most 63 characters)",
				   p->namespace_);
	return err;
}

/* labels and annotations: kept by Kubernetes, meaningless to the agent; checked for shape. */
static int meta_strings(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	const char *field = (const char *)key->data.scalar.value;
	yaml_node_pair_t *pair;
	const char *s;
	int err;

	err = policy_expect(c, value, YAML_MAPPING_NODE, field);
	for (pair = value->data.mapping.pairs.start; !err && pair < value->data.mapping.pairs.top; pair++) {
		err = policy_str(c, policy_node(c, pair->key), field, &s);
		if (!err)
			err = policy_str(c, policy_node(c, pair->value), field, &s);
	}
	return err;
}

static const struct policy_field meta_fields[] = {
	POLICY_FN("name", meta_name, POLICY_REQUIRED),
	POLICY_FN("namespace", meta_namespace, 0),
	POLICY_FN("labels", meta_strings, 0),
	POLICY_FN("annotations", meta_strings, 0),
};

/* ---- top level ---- */

struct top {
	struct vigil_policy *policy;
	yaml_node_t *kind;
	yaml_node_t *metadata;
	yaml_node_t *spec;
};

static int top_api(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	const char *s;
	int err;

	err = policy_str(c, value, "apiVersion", &s);
	if (!err && strcmp(s, API_VERSION))
		err = policy_error(c, value, "apiVersion must be \"" API_VERSION "\", not \"%s\"", s);
	return err;
}

static int top_kind(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct top *t = obj;
	const char *s;
	int err;

	err = policy_str(c, value, "kind", &s);
	if (err)
		return err;
	t->kind = value;
	if (!strcmp(s, "TracingPolicyNamespaced"))
		t->policy->namespaced = true;
	else if (strcmp(s, "TracingPolicy"))
		return policy_error(c, value, "kind must be TracingPolicy or TracingPolicyNamespaced, not \"%s\"", s);
	return 0;
}

static int top_node(struct policy_ctx *c, yaml_node_t *value, const char *field, yaml_node_t **slot)
{
	*slot = value;
	return policy_expect(c, value, YAML_MAPPING_NODE, field);
}

static int top_metadata(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	return top_node(c, value, "metadata", &((struct top *)obj)->metadata);
}

static int top_spec(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	return top_node(c, value, "spec", &((struct top *)obj)->spec);
}

static const struct policy_field top_fields[] = {
	POLICY_FN("apiVersion", top_api, POLICY_REQUIRED),
	POLICY_FN("kind", top_kind, POLICY_REQUIRED),
	POLICY_FN("metadata", top_metadata, POLICY_REQUIRED),
	POLICY_FN("spec", top_spec, POLICY_REQUIRED),
};

/* kind decides what metadata may hold, so metadata and spec wait for the whole top level. */
static int parse_top(struct policy_ctx *c, yaml_node_t *root)
{
	struct vigil_policy *p = c->policy;
	struct top t = { p, NULL, NULL, NULL };
	size_t len;
	int err;

	err = policy_parse_map(c, root, "the document", top_fields, VIGIL_ARRAY_SIZE(top_fields), &t);
	if (err)
		return err;
	len = policy_path_key(c, "metadata");
	err = policy_parse_map(c, t.metadata, "metadata", meta_fields, VIGIL_ARRAY_SIZE(meta_fields), p);
	if (!err && p->namespaced && !p->namespace_)
		err = policy_error(c, t.metadata, "missing required field \"namespace\" (kind TracingPolicyNamespaced)");
	policy_path_pop(c, len);
	if (!err)
		err = policy_parse_spec(c, t.spec);
	return err;
}

/* ---- loading ---- */

/* Reader errors (bad UTF-8) carry a byte offset, not a mark. */
static void offset_to_mark(const char *data, size_t off, yaml_mark_t *m)
{
	size_t i;

	m->line = 0;
	m->column = 0;
	for (i = 0; i < off; i++) {
		if (data[i] == '\n') {
			m->line++;
			m->column = 0;
		} else {
			m->column++;
		}
	}
}

static int syntax_error(struct policy_ctx *c, const yaml_parser_t *parser, const char *data, size_t len)
{
	struct vigil_policy_error *e = c->err;
	yaml_mark_t m = parser->problem_mark;

	if (parser->error == YAML_MEMORY_ERROR)
		return policy_nomem(c);
	if (parser->error == YAML_READER_ERROR)
		offset_to_mark(data, parser->problem_offset < len ? parser->problem_offset : len, &m);
	e->line = (int)m.line + 1;
	e->col = (int)m.column + 1;
	if (parser->context)
		snprintf(e->reason, sizeof(e->reason), "YAML syntax error: %s (%s at line %d, column %d)",
			 parser->problem ? parser->problem : "unknown problem", parser->context,
			 (int)parser->context_mark.line + 1, (int)parser->context_mark.column + 1);
	else
		snprintf(e->reason, sizeof(e->reason), "YAML syntax error: %s",
			 parser->problem ? parser->problem : "unknown problem");
	return -EINVAL;
}

/* Load exactly one document and parse it into c->policy. */
static int load(struct policy_ctx *c, const char *data, size_t len)
{
	yaml_document_t doc, extra;
	bool have_doc = false, have_extra = false;
	yaml_parser_t parser;
	yaml_node_t *root;
	int err;

	if (!yaml_parser_initialize(&parser))
		return policy_nomem(c);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = syntax_error(c, &parser, data, len);
		goto out;
	}
	have_doc = true;
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root || policy_is_null(root)) {
		err = policy_error_bare(c, root, "empty document: expected a TracingPolicy");
		if (!root) {
			/* nothing but comments and blanks: point at the start */
			c->err->line = 1;
			c->err->col = 1;
		}
		goto out;
	}
	/* a stream of several policies would apply only the first: refuse it instead */
	if (!yaml_parser_load(&parser, &extra)) {
		err = syntax_error(c, &parser, data, len);
		goto out;
	}
	have_extra = true;
	if (yaml_document_get_root_node(&extra)) {
		c->err->line = (int)extra.start_mark.line + 1;
		c->err->col = (int)extra.start_mark.column + 1;
		snprintf(c->err->reason, sizeof(c->err->reason),
			 "more than one YAML document: put each policy in its own file");
		err = -EINVAL;
		goto out;
	}
	err = parse_top(c, root);
out:
	if (have_extra)
		yaml_document_delete(&extra);
	if (have_doc)
		yaml_document_delete(&doc);
	c->doc = NULL;
	yaml_parser_delete(&parser);
	return err;
}

int vigil_policy_parse(const char *file, const char *data, size_t len, struct vigil_policy **out,
		       struct vigil_policy_error *err)
{
	struct vigil_policy_error scratch;
	struct policy_ctx c = { 0 };
	struct vigil_policy *p = NULL;
	int ret;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	c.err = err;
	c.work = POLICY_WORK_BUDGET;
	if (!out || (!data && len)) {
		snprintf(err->reason, sizeof(err->reason), "invalid arguments");
		return -EINVAL;
	}
	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		ret = policy_nomem(&c);
		goto out;
	}
	p->mode = VIGIL_MODE_ENFORCE;
	p->file = strdup(file ? file : "");
	if (!p->file) {
		ret = policy_nomem(&c);
		goto out;
	}
	c.policy = p;
	ret = load(&c, data ? data : "", len);
out:
	if (ret) {
		vigil_policy_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

static int io_error(struct vigil_policy_error *e, const char *what, int err)
{
	snprintf(e->reason, sizeof(e->reason), "%s: %s", what, strerror(-err));
	return err;
}

int vigil_policy_parse_file(const char *path, struct vigil_policy **out, struct vigil_policy_error *err)
{
	struct vigil_policy_error scratch;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, ret = 0;

	if (!err)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path ? path : "");
	if (!path || !out) {
		ret = io_error(err, "cannot read", -EINVAL);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = io_error(err, "cannot open", -errno);
		goto out;
	}
	/* one byte past the limit tells "exactly 1 MiB" from "more" without trusting st_size */
	buf = malloc(POLICY_MAX_FILE + 1);
	if (!buf) {
		ret = io_error(err, "cannot read", -ENOMEM);
		goto out;
	}
	while (len < POLICY_MAX_FILE + 1) {
		n = read(fd, buf + len, POLICY_MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = io_error(err, "cannot read", -errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > POLICY_MAX_FILE) {
		ret = io_error(err, "policy file larger than 1 MiB", -EFBIG);
		goto out;
	}
	ret = vigil_policy_parse(path, buf, len, out, err);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

const char *vigil_policy_error_format(const struct vigil_policy_error *e, char *out, size_t size)
{
	if (!out || !size)
		return out;
	if (e->file[0] && e->line > 0)
		snprintf(out, size, "%s:%d:%d: %s", e->file, e->line, e->col, e->reason);
	else if (e->file[0])
		snprintf(out, size, "%s: %s", e->file, e->reason);
	else if (e->line > 0)
		snprintf(out, size, "%d:%d: %s", e->line, e->col, e->reason);
	else
		snprintf(out, size, "%s", e->reason);
	return out;
}
