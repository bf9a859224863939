/* parse_yaml.c - walking the libyaml document: the path, errors at node marks, typed
 * scalars, and mappings parsed against const field tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

#define MAX_FIELDS 64		/* the seen/given masks are 64 bits */

/* ---- path ---- */

/* Account for n bytes printed at old; a path too deep to print is cut, never overrun. */
static size_t path_grew(struct policy_ctx *c, size_t old, int n)
{
	if (n < 0 || (size_t)n >= sizeof(c->path) - old)
		c->pathlen = sizeof(c->path) - 1;
	else
		c->pathlen = old + (size_t)n;
	return old;
}

size_t policy_path_key(struct policy_ctx *c, const char *key)
{
	size_t old = c->pathlen;

	return path_grew(c, old, snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", key));
}

size_t policy_path_index(struct policy_ctx *c, size_t i)
{
	size_t old = c->pathlen;

	return path_grew(c, old, snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i));
}

void policy_path_pop(struct policy_ctx *c, size_t len)
{
	c->pathlen = len;
	c->path[len] = '\0';
}

/* ---- errors ---- */

static int verror(struct policy_ctx *c, const yaml_node_t *at, bool with_path, const char *fmt, va_list ap)
{
	struct vigil_policy_error *e = c->err;
	size_t off = 0;
	int n;

	if (e->reason[0])
		return -EINVAL;		/* the first error is the one users see */
	e->line = at ? (int)at->start_mark.line + 1 : 0;
	e->col = at ? (int)at->start_mark.column + 1 : 0;
	if (with_path && c->pathlen) {
		n = snprintf(e->reason, sizeof(e->reason), "%s: ", c->path);
		off = n > 0 && (size_t)n < sizeof(e->reason) ? (size_t)n : 0;
	}
	vsnprintf(e->reason + off, sizeof(e->reason) - off, fmt, ap);
	return -EINVAL;
}

int policy_error(struct policy_ctx *c, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = verror(c, at, true, fmt, ap);
	va_end(ap);
	return err;
}

int policy_error_bare(struct policy_ctx *c, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = verror(c, at, false, fmt, ap);
	va_end(ap);
	return err;
}

int policy_nomem(struct policy_ctx *c)
{
	if (!c->err->reason[0])
		snprintf(c->err->reason, sizeof(c->err->reason), "out of memory");
	return -ENOMEM;
}

/* ---- nodes ---- */

static bool spend(struct policy_ctx *c, const yaml_node_t *at)
{
	if (c->work) {
		c->work--;
		return true;
	}
	policy_error_bare(c, at, "document too large once its aliases are expanded");
	return false;
}

yaml_node_t *policy_node(struct policy_ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

bool policy_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < VIGIL_ARRAY_SIZE(nulls); i++)
		if (!strcmp((const char *)n->data.scalar.value, nulls[i]))
			return true;
	return false;
}

const char *policy_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "list";
	case YAML_MAPPING_NODE:
		return "mapping";
	default:
		return "scalar";
	}
}

int policy_expect(struct policy_ctx *c, const yaml_node_t *n, yaml_node_type_t type, const char *field)
{
	const char *want = type == YAML_SEQUENCE_NODE ? "list" : type == YAML_MAPPING_NODE ? "mapping" : "scalar";

	if (n->type == type)
		return 0;
	if (field)
		return policy_error(c, n, "\"%s\" must be a %s, not a %s", field, want, policy_node_kind(n));
	return policy_error(c, n, "expected a %s, not a %s", want, policy_node_kind(n));
}

int policy_str(struct policy_ctx *c, const yaml_node_t *n, const char *field, const char **out)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE) {
		if (field)
			return policy_error(c, n, "\"%s\" must be a string, not a %s", field, policy_node_kind(n));
		return policy_error(c, n, "expected a string, not a %s", policy_node_kind(n));
	}
	s = (const char *)n->data.scalar.value;
	/* "\0" escapes put NULs inside a scalar; C strings would silently cut them */
	if (strlen(s) != n->data.scalar.length)
		return policy_error(c, n, "%s%scontains a NUL byte", field ? field : "", field ? " " : "");
	*out = s;
	return 0;
}

int policy_strdup(struct policy_ctx *c, const yaml_node_t *n, const char *field, char **out)
{
	const char *s;
	int err;

	err = policy_str(c, n, field, &s);
	if (err)
		return err;
	*out = strdup(s);
	return *out ? 0 : policy_nomem(c);
}

int policy_bool(struct policy_ctx *c, const yaml_node_t *n, const char *field, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	const char *s;
	size_t i;
	int err;

	err = policy_str(c, n, field, &s);
	if (err)
		return err;
	for (i = 0; i < VIGIL_ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return policy_error(c, n, "%s must be true or false, not \"%s\"", field ? field : "value", s);
}

int policy_u32(struct policy_ctx *c, const yaml_node_t *n, const char *field, uint32_t *out)
{
	const char *s;
	uint64_t v;
	int err;

	err = policy_str(c, n, field, &s);
	if (err)
		return err;
	if (policy_parse_u64(s, UINT32_MAX, &v))
		return policy_error(c, n, "%s must be an integer in 0..4294967295, not \"%s\"", field ? field : "value",
				    s);
	*out = (uint32_t)v;
	return 0;
}

size_t policy_seq_len(const yaml_node_t *seq)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *policy_seq_item(struct policy_ctx *c, const yaml_node_t *seq, size_t i)
{
	yaml_node_t *n = policy_node(c, seq->data.sequence.items.start[i]);

	return spend(c, n) ? n : NULL;
}

int policy_strlist(struct policy_ctx *c, const yaml_node_t *n, const char *field, char ***out, size_t *count)
{
	yaml_node_t *item;
	size_t i, len;
	int err;

	err = policy_expect(c, n, YAML_SEQUENCE_NODE, field);
	if (err)
		return err;
	len = policy_seq_len(n);
	*count = 0;
	*out = calloc(len ? len : 1, sizeof(**out));
	if (!*out)
		return policy_nomem(c);
	for (i = 0; i < len; i++) {
		item = policy_seq_item(c, n, i);
		if (!item)
			return -EINVAL;
		err = policy_strdup(c, item, NULL, &(*out)[i]);
		if (err)
			return err;
		*count = i + 1;
	}
	return 0;
}

/* ---- mappings against field tables ---- */

const struct policy_field *policy_field_find(const struct policy_field *fields, size_t nfields, const char *key)
{
	size_t i;

	for (i = 0; i < nfields; i++)
		if (!strcmp(fields[i].key, key))
			return &fields[i];
	return NULL;
}

static int store(struct policy_ctx *c, const struct policy_field *f, yaml_node_t *key, yaml_node_t *value,
		 void *obj)
{
	char *base = obj;

	switch (f->kind) {
	case POLICY_F_FN:
		return f->fn(c, key, value, obj);
	case POLICY_F_STR:
		return policy_strdup(c, value, f->key, (char **)(void *)(base + f->off));
	case POLICY_F_BOOL:
		return policy_bool(c, value, f->key, (bool *)(void *)(base + f->off));
	case POLICY_F_U32:
		return policy_u32(c, value, f->key, (uint32_t *)(void *)(base + f->off));
	case POLICY_F_NODE:
		*(yaml_node_t **)(void *)(base + f->off) = value;
		return 0;
	case POLICY_F_IGNORE:
		return 0;
	case POLICY_F_REFUSE:
		break;
	}
	return policy_error(c, key, "not supported by vigil: %s (%s)", f->key, f->why);
}

/* vigil_policy_explain's recorder (explain.c): every key the walk meets, with the table it
 * was found in. Thread-local: only explain's own parse of its examples is watched. */
static __thread policy_schema_fn schema_fn;
static __thread void *schema_ctx;

void policy_schema_watch(policy_schema_fn fn, void *ctx)
{
	schema_fn = fn;
	schema_ctx = ctx;
}

struct walk {
	const char *what;
	const struct policy_field *fields;
	size_t nfields;
	void *obj;
	uint64_t seen;		/* keys met, null or not: a second one is a duplicate */
	uint64_t given;		/* keys with a value: what "required" checks */
};

static int walk_pair(struct policy_ctx *c, struct walk *w, yaml_node_t *key, yaml_node_t *value)
{
	const struct policy_field *f;
	const char *name;
	uint64_t bit;

	if (!spend(c, key))
		return -EINVAL;
	if (key->type != YAML_SCALAR_NODE)
		return policy_error(c, key, "keys must be strings, not a %s", policy_node_kind(key));
	name = (const char *)key->data.scalar.value;
	f = policy_field_find(w->fields, w->nfields, name);
	if (!f)
		return policy_error_bare(c, key, "unknown key \"%s\" in %s", name, c->pathlen ? c->path : w->what);
	if (schema_fn)
		schema_fn(schema_ctx, c->doc, c->path, w->fields, w->nfields, name, value);
	bit = 1ULL << (f - w->fields);
	if (w->seen & bit)
		return policy_error_bare(c, key, "duplicate key \"%s\" in %s", name, c->pathlen ? c->path : w->what);
	w->seen |= bit;
	/* `key: ~` is how YAML says "absent", and how Kubernetes reads it too */
	if (policy_is_null(value))
		return 0;
	w->given |= bit;
	return store(c, f, key, value, w->obj);
}

static int walk_required(struct policy_ctx *c, const struct walk *w, yaml_node_t *map)
{
	size_t i;

	for (i = 0; i < w->nfields; i++)
		if ((w->fields[i].flags & POLICY_REQUIRED) && !(w->given & (1ULL << i)))
			return policy_error(c, map, "missing required field \"%s\"", w->fields[i].key);
	return 0;
}

int policy_parse_map(struct policy_ctx *c, yaml_node_t *map, const char *what, const struct policy_field *fields,
		     size_t nfields, void *obj)
{
	struct walk w = { what, fields, nfields, obj, 0, 0 };
	yaml_node_pair_t *p;
	int err;

	if (nfields > MAX_FIELDS)
		return policy_error(c, map, "internal: field table too large");
	err = policy_expect(c, map, YAML_MAPPING_NODE, NULL);
	if (err)
		return err;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		err = walk_pair(c, &w, policy_node(c, p->key), policy_node(c, p->value));
		if (err)
			return err;
	}
	return walk_required(c, &w, map);
}

int policy_parse_pairs(struct policy_ctx *c, yaml_node_t *map, const char *what, const struct policy_pair *pairs,
		       size_t npairs, const struct policy_field *fields, size_t nfields, void *obj)
{
	struct walk w = { what, fields, nfields, obj, 0, 0 };
	size_t i;
	int err;

	if (nfields > MAX_FIELDS)
		return policy_error(c, map, "internal: field table too large");
	for (i = 0; i < npairs; i++) {
		err = walk_pair(c, &w, pairs[i].key, pairs[i].value);
		if (err)
			return err;
	}
	return walk_required(c, &w, map);
}
