/* explain.c - the TracingPolicy schema as vigil's parser knows it, for `vigil explain` (tetra's
 * explain prints the CRD's OpenAPI schema; vigil has its parser's field tables instead).
 *
 * The tables are where the walk finds them: the example policies below, which together use
 * every object the parser walks, are parsed once with a recorder on (parse_yaml.c) that
 * notes, per path (indexes dropped), the table the walk used and the shape of each value met.
 * So what explain prints is what the parser accepts, refuses (with its reason) or ignores,
 * never a second list kept by hand; a field the examples do not use shows as <value>. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

#define HDR "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: explain\n"

/* Every object the parser walks, with a value for (nearly) every field: each must parse
 * (tests/unit/test_policy_explain.c checks that each object is reached). */
static const char *const examples[] = {
	"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\n"
	"metadata:\n  name: explain\n  namespace: ns\n  labels: {a: b}\n  annotations: {c: d}\n"
	"spec:\n"
	"  podSelector:\n    matchLabels: {app: x}\n"
	"    matchExpressions: [{key: app, operator: In, values: [x]}]\n"
	"  containerSelector: {matchLabels: {name: x}}\n"
	"  loader: true\n"
	"  options: [{name: policy-mode, value: monitor}]\n"
	"  lists: [{name: l, type: syscalls, values: [sys_openat], validated: true}]\n"
	"  enforcers: [{calls: [sys_openat]}]\n"
	"  selectorsMacros:\n    m: {matchBinaries: [{operator: In, values: [/bin/cat]}]}\n"
	"  kprobes:\n"
	"  - call: sys_openat\n"
	"    syscall: true\n"
	"    return: true\n"
	"    message: an open\n"
	"    tags: [t1]\n"
	"    ignore: {callNotFound: true}\n"
	"    args: [{index: 1, type: char_buf, label: buf, sizeArgIndex: 3, returnCopy: true}, {index: 2, type: size_t}]\n"
	"    returnArg: {index: 0, type: int}\n"
	"    data: [{index: 0, type: int, source: current_task, resolve: pid}]\n"
	"    selectors:\n"
	"    - macros: [m]\n"
	"    - label: s\n"
	"      matchPIDs: [{operator: NotIn, values: [1], isNamespacePID: false, followForks: true}]\n"
	"      matchArgs: [{index: 2, operator: Equal, values: [\"1\"]}]\n"
	"      matchData: [{index: 0, operator: Equal, values: [\"1\"]}]\n"
	"      matchReturnArgs: [{index: 0, operator: Equal, values: [\"0\"]}]\n"
	"      matchBinaries: [{operator: In, values: [/bin/cat], followChildren: true}]\n"
	"      matchParentBinaries: [{operator: In, values: [/bin/sh]}]\n"
	"      matchNamespaces: [{namespace: Pid, operator: In, values: [host_ns]}]\n"
	"      matchNamespaceChanges: [{operator: In, values: [Mnt]}]\n"
	"      matchCapabilities: [{type: Effective, operator: In, isNamespaceCapability: false, values: [CAP_SYS_ADMIN]}]\n"
	"      matchCapabilityChanges: [{type: Effective, operator: In, values: [CAP_SYS_ADMIN]}]\n"
	"      matchActions: [{action: Post, rateLimit: 1m, rateLimitScope: process, kernelStackTrace: true, "
	"userStackTrace: true, imaHash: false}]\n"
	"      matchReturnActions: [{action: Post}]\n",
	HDR "spec:\n"
	"  tracepoints:\n"
	"  - {subsystem: syscalls, event: sys_enter_openat, raw: false, message: an open, tags: [t1], "
	"args: [{index: 6, type: string}], selectors: [{matchArgs: [{index: 6, operator: Prefix, values: [/etc]}]}]}\n"
	"  lsmhooks:\n"
	"  - {hook: file_open, message: an open, tags: [t1], args: [{index: 0, type: file}], "
	"selectors: [{matchActions: [{action: Signal, argSig: 9}]}]}\n",
	HDR "spec:\n"
	"  fentries: [{call: sys_openat}]\n"
	"  uprobes:\n"
	"  - {path: /bin/true, symbols: [main], return: true, returnArg: {index: 0, type: int}, refCtrOffsets: [8], "
	"message: main ran, tags: [t1], args: [{index: 0, type: int}], "
	"data: [{index: 0, type: int, source: current_task, resolve: pid}], "
	"selectors: [{matchActions: [{action: Post}]}]}\n"
	"  usdts:\n"
	"  - {path: /bin/true, provider: p, name: n, message: hello, tags: [one], args: [{index: 0, type: int}], "
	"selectors: [{matchArgs: [{index: 0, operator: Equal, values: [\"1\"]}]}]}\n",
	HDR "spec:\n"
	"  kprobes:\n"
	"  - call: tcp_connect\n"
	"    syscall: false\n"
	"    args: [{index: 0, type: sock}]\n"
	"    selectors: [{matchArgs: [{args: [0], operator: DPort, values: [\"53\"]}], "
	"matchActions: [{action: Sigkill, argError: -1, argFd: 0, argName: 0, argSock: 0}, "
	"{action: GetUrl, argUrl: http://x}, {action: DnsLookup, argFqdn: x.example}]}]\n"
	"  - {call: inet_csk_accept, syscall: false, return: true, returnArg: {index: 0, type: sock}, "
	"returnArgAction: TrackSock}\n"
	"  - {call: sys_write, args: [{index: 1, type: char_buf, maxData: true}]}\n",
};

struct seen_value {
	const struct policy_field *fields;	/* the table the key was found in */
	char path[128];			/* the holding map's, indexes dropped */
	char key[64];
	char type[24];
};

struct seen_table {
	char path[128];
	const struct policy_field *fields;
	size_t nfields;
};

static struct {
	pthread_once_t once;
	struct seen_table *tables;
	size_t ntables;
	struct seen_value *values;
	size_t nvalues;
	int err;
} schema = {.once = PTHREAD_ONCE_INIT};

/* "spec.kprobes[0].selectors[1]" -> "spec.kprobes.selectors" */
static void strip_indexes(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++) {
		if (*in == '[') {
			while (*in && *in != ']')
				in++;
			if (!*in)
				break;
			continue;
		}
		out[n++] = *in;
	}
	out[n] = '\0';
}

static const char *scalar_type(const yaml_node_t *v)
{
	const char *s = (const char *)v->data.scalar.value;
	char *end;

	if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return "string";
	if (!strcmp(s, "true") || !strcmp(s, "false"))
		return "boolean";
	if (*s && (strtoll(s, &end, 0), !*end))
		return "integer";
	return "string";
}

static void value_type(const yaml_node_t *v, yaml_document_t *doc, char *out, size_t size)
{
	const yaml_node_t *item;

	switch (v->type) {
	case YAML_SCALAR_NODE:
		snprintf(out, size, "%s", scalar_type(v));
		return;
	case YAML_MAPPING_NODE:
		snprintf(out, size, "object");
		return;
	case YAML_SEQUENCE_NODE:
		item = v->data.sequence.items.start < v->data.sequence.items.top
			       ? yaml_document_get_node(doc, *v->data.sequence.items.start)
			       : NULL;
		snprintf(out, size, "[]%s", !item ? "string" : item->type == YAML_MAPPING_NODE ? "object"
							  : item->type == YAML_SCALAR_NODE ? scalar_type(item)
											 : "object");
		return;
	default:
		snprintf(out, size, "value");
	}
}

static const struct policy_field *top_table;

static void record(void *ctx, yaml_document_t *doc, const char *path, const struct policy_field *fields,
		   size_t nfields, const char *key, const yaml_node_t *value)
{
	char p[128];
	void *grown;
	size_t i;

	(void)ctx;
	/* the parser's paths leave "spec" out (errors say "kprobes[0]"): the document's table
	 * is the first one walked at "", spec's the other one there */
	if (!*path && !top_table)
		top_table = fields;
	if (!*path)
		snprintf(p, sizeof(p), "%s", fields == top_table ? "" : "spec");
	else if (!strncmp(path, "metadata", 8) && (!path[8] || path[8] == '.'))
		strip_indexes(path, p, sizeof(p));
	else {
		memcpy(p, "spec.", 5);
		strip_indexes(path, p + 5, sizeof(p) - 5);
	}
	for (i = 0; i < schema.ntables; i++)
		if (!strcmp(schema.tables[i].path, p))
			break;
	if (i == schema.ntables) {
		grown = realloc(schema.tables, (schema.ntables + 1) * sizeof(*schema.tables));
		if (!grown) {
			schema.err = -ENOMEM;
			return;
		}
		schema.tables = grown;
		snprintf(schema.tables[i].path, sizeof(schema.tables[i].path), "%s", p);
		schema.tables[i].fields = fields;
		schema.tables[i].nfields = nfields;
		schema.ntables++;
	}
	for (i = 0; i < schema.nvalues; i++)
		if (!strcmp(schema.values[i].path, p) && !strcmp(schema.values[i].key, key))
			return;
	grown = realloc(schema.values, (schema.nvalues + 1) * sizeof(*schema.values));
	if (!grown) {
		schema.err = -ENOMEM;
		return;
	}
	schema.values = grown;
	schema.values[i].fields = fields;
	snprintf(schema.values[i].path, sizeof(schema.values[i].path), "%s", p);
	snprintf(schema.values[i].key, sizeof(schema.values[i].key), "%s", key);
	value_type(value, doc, schema.values[i].type, sizeof(schema.values[i].type));
	schema.nvalues++;
}

static void build(void)
{
	struct vigil_policy_error err;
	struct vigil_policy *p;
	size_t i;
	int rc;

	for (i = 0; i < VIGIL_ARRAY_SIZE(examples) && !schema.err; i++) {
		policy_schema_watch(record, NULL);
		rc = vigil_policy_parse("explain.yaml", examples[i], strlen(examples[i]), &p, &err);
		policy_schema_watch(NULL, NULL);
		if (rc) {
			/* an example the parser refuses is this file's bug: say which */
			pr_warn("policy explain: example %zu does not parse: %d:%d: %s", i, err.line, err.col, err.reason);
			schema.err = rc;
			break;
		}
		vigil_policy_free(p);
	}
}

static const struct seen_table *table_at(const char *path)
{
	size_t i;

	for (i = 0; i < schema.ntables; i++)
		if (!strcmp(schema.tables[i].path, path))
			return &schema.tables[i];
	return NULL;
}

/* the type of key in the object at parent: as met there, else as met in the same table
 * elsewhere (selectors are one table under every kind of hook) */
static const char *type_of(const char *parent, const char *key)
{
	const struct seen_table *t = NULL;
	size_t i;

	for (i = 0; i < schema.nvalues; i++)
		if (!strcmp(schema.values[i].path, parent) && !strcmp(schema.values[i].key, key))
			return schema.values[i].type;
	for (i = 0; i < schema.ntables && !t; i++)
		if (!strcmp(schema.tables[i].path, parent))
			t = &schema.tables[i];
	for (i = 0; t && i < schema.nvalues; i++)
		if (schema.values[i].fields == t->fields && !strcmp(schema.values[i].key, key))
			return schema.values[i].type;
	return NULL;
}

int vigil_policy_explain(const char *path, vigil_policy_field_fn fn, void *ctx, const char **type)
{
	const struct seen_table *t;
	char parent[128], child[128], alias[128];
	const char *dot, *ty;
	size_t i;

	pthread_once(&schema.once, build);
	if (schema.err)
		return schema.err;
	/* spec.fentries are spec.kprobes to the parser (the same table, the same hook) */
	if (!strncmp(path, "spec.fentries", 13) && (!path[13] || path[13] == '.')) {
		snprintf(alias, sizeof(alias), "spec.kprobes%s", path + 13);
		path = alias;
	}
	t = table_at(path);
	if (type) {
		dot = strrchr(path, '.');
		snprintf(parent, sizeof(parent), "%.*s", dot ? (int)(dot - path) : 0, path);
		*type = *path ? type_of(parent, dot ? dot + 1 : path) : "object";
	}
	if (!t)
		return -ENOENT;
	for (i = 0; i < t->nfields; i++) {
		const struct policy_field *f = &t->fields[i];
		struct vigil_policy_field_info info = {.name = f->key};

		/* a path longer than any the examples record names no table */
		info.has_fields = snprintf(child, sizeof(child), "%s%s%s", path, *path ? "." : "", f->key) <
					  (int)sizeof(child) && table_at(child);
		ty = type_of(path, f->key);
		/* a map of strings the parser takes whole (labels, matchLabels) */
		if (ty && !strcmp(ty, "object") && !info.has_fields)
			ty = "map[string]string";
		info.type = ty ? ty : f->kind == POLICY_F_BOOL ? "boolean" : f->kind == POLICY_F_U32 ? "integer"
				    : f->kind == POLICY_F_STR ? "string" : "value";
		info.required = f->flags & POLICY_REQUIRED;
		info.refused = f->kind == POLICY_F_REFUSE ? f->why : NULL;
		info.ignored = f->kind == POLICY_F_IGNORE;
		if (fn)
			fn(ctx, &info);
	}
	return 0;
}
