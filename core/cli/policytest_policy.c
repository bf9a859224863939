/* policytest_policy.c - a policy test's policy in place: the agent's, when one of that name
 * is loaded, or the policy file renamed (metadata.name) to a temporary name, loaded over the
 * control socket and unloaded afterwards. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "encode/encode.h"
#include "policytest.h"

/* Adding a policy loads its BPF programs: as tracingpolicy add, allow a slow machine. */
#define PT_ADD_TIMEOUT_MS 120000

char *pt_dup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static int write_buf(void *data, unsigned char *buf, size_t size)
{
	return !vigil_buf_append(data, buf, size);
}

/* The value node of key in mapping id; 0 when absent. Ids, not pointers: adding a node to the
 * document may move every node. */
static int lookup(yaml_document_t *doc, int id, const char *key)
{
	yaml_node_t *m = yaml_document_get_node(doc, id), *k;
	yaml_node_pair_t *p;

	for (p = m && m->type == YAML_MAPPING_NODE ? m->data.mapping.pairs.start : NULL;
	     p && p < m->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
			return p->value;
	}
	return 0;
}

/* The policy file with metadata.name set to name, as YAML in out. 0 or 1 (said why). */
static int renamed_policy(const char *path, const char *name, struct vigil_buf *out)
{
	yaml_parser_t parser;
	yaml_emitter_t emitter;
	yaml_document_t doc;
	yaml_node_pair_t *p;
	yaml_node_t *meta;
	int rc = 1, fresh, old, meta_id;
	FILE *f = fopen(path, "re");

	if (!f) {
		fprintf(stderr, "vigil policytest: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(stderr, "vigil policytest: %s:%zu:%zu: %s\n", path, parser.problem_mark.line + 1,
			parser.problem_mark.column + 1, parser.problem ? parser.problem : "not YAML");
		goto out_parser;
	}
	meta_id = lookup(&doc, 1, "metadata");
	old = lookup(&doc, meta_id, "name");
	fresh = old ? yaml_document_add_scalar(&doc, NULL, (yaml_char_t *)name, (int)strlen(name),
					       YAML_DOUBLE_QUOTED_SCALAR_STYLE) : 0;
	if (!fresh) {
		fprintf(stderr, "vigil policytest: %s: no metadata.name to rename\n", path);
		yaml_document_delete(&doc);
		goto out_parser;
	}
	meta = yaml_document_get_node(&doc, meta_id);
	for (p = meta->data.mapping.pairs.start; p < meta->data.mapping.pairs.top; p++)
		if (p->value == old)
			p->value = fresh;
	yaml_emitter_initialize(&emitter);
	yaml_emitter_set_output(&emitter, write_buf, out);
	yaml_emitter_set_unicode(&emitter, 1);
	/* dump takes the document and frees it */
	rc = yaml_emitter_open(&emitter) && yaml_emitter_dump(&emitter, &doc) && yaml_emitter_close(&emitter) ? 0 : 1;
	if (rc)
		fprintf(stderr, "vigil policytest: cannot rename %s: %s\n", path, emitter.problem ? emitter.problem : "?");
	yaml_emitter_delete(&emitter);
out_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* ---- the agent ---- */

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* A request of string fields (key, value, ..., NULL): 0, or 1 with the agent's word in err. */
static int ask(const struct pt_opts *o, int timeout_ms, struct cli_reply *r, char **err, ...)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const msgpack_object *e;
	const char *k;
	va_list ap;
	size_t n = 0;
	int rc;

	va_start(ap, err);
	while (va_arg(ap, const char *))
		n++;
	va_end(ap);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n / 2);
	va_start(ap, err);
	while ((k = va_arg(ap, const char *)))
		pack_str(&pk, k);
	va_end(ap);
	/* tetra's --timeout (globals.c), when given, for every request */
	rc = cli_request_quiet(o->control, sb.data, sb.size, cli_globals.timeout_ms ? cli_globals.timeout_ms : timeout_ms, r);
	msgpack_sbuffer_destroy(&sb);
	if (!rc)
		return 0;
	e = rc == -EREMOTEIO ? vigil_msgpack_get(&r->up.data, "error") : NULL;
	if (e && e->type == MSGPACK_OBJECT_STR)
		*err = pt_dup_printf("%.*s", (int)e->via.str.size, e->via.str.ptr);
	else
		*err = pt_dup_printf("no answer from the agent at %s: %s", o->control,
				  rc == -ETIMEDOUT ? "timed out (is vigild running?)" : strerror(-rc));
	return 1;
}

/* Is the policy loaded? Its mode in *enforce. 1 yes, 0 no, -1 (said in err) no answer. */
static int policy_loaded(const struct pt_opts *o, const char *name, bool *enforce, char **err)
{
	const msgpack_object *pols, *n, *m;
	struct cli_reply r;
	uint32_t i;
	int found = 0;

	if (ask(o, 10000, &r, err, "cmd", "policy_list", NULL)) {
		cli_reply_free(&r);
		return -1;
	}
	pols = vigil_msgpack_get(r.root, "policies");
	for (i = 0; pols && pols->type == MSGPACK_OBJECT_ARRAY && i < pols->via.array.size; i++) {
		n = vigil_msgpack_get(&pols->via.array.ptr[i], "name");
		m = vigil_msgpack_get(&pols->via.array.ptr[i], "mode");
		if (!n || n->type != MSGPACK_OBJECT_STR || n->via.str.size != strlen(name) ||
		    memcmp(n->via.str.ptr, name, n->via.str.size))
			continue;
		found = 1;
		*enforce = m && m->type == MSGPACK_OBJECT_STR && m->via.str.size == 7 && !memcmp(m->via.str.ptr, "enforce", 7);
	}
	cli_reply_free(&r);
	return found;
}

char *pt_load_policy(const struct pt_opts *o, const struct pt_test *t, struct pt_policy *pol)
{
	struct vigil_buf yaml = {0};
	struct cli_reply r;
	char path[PATH_MAX], *err = NULL;
	int loaded;

	memset(pol, 0, sizeof(*pol));
	loaded = policy_loaded(o, t->policy, &pol->enforce, &err);
	if (loaded < 0)
		return err;
	if (loaded) {
		snprintf(pol->name, sizeof(pol->name), "%s", t->policy);
		return NULL;
	}
	if (geteuid() != 0)
		return pt_dup_printf("policy %s is not loaded, and loading it is root's (or load it first: "
				  "vigil tracingpolicy add)", t->policy);
	snprintf(path, sizeof(path), "%s/%s.yaml", o->policy_dir, t->policy);
	snprintf(pol->name, sizeof(pol->name), "%s-policytest-%d", t->policy, (int)getpid());
	if (pt_check_owner("policy", path) || renamed_policy(path, pol->name, &yaml)) {
		vigil_buf_free(&yaml);
		return pt_dup_printf("cannot use the policy file %s (said above)", path);
	}
	if (o->dump_policy_path) {
		FILE *f = fopen(o->dump_policy_path, "we");

		if (!f || fwrite(yaml.data, 1, yaml.len, f) != yaml.len)
			fprintf(stderr, "vigil policytest: cannot write %s: %s\n", o->dump_policy_path, strerror(errno));
		if (f)
			fclose(f);
	}
	pol->enforce = t->enforce && o->enforce && !o->monitor_mode;
	if (!ask(o, PT_ADD_TIMEOUT_MS, &r, &err, "cmd", "policy_add", "file", path, "yaml", yaml.data, "mode",
		 pol->enforce ? "enforce" : "monitor", NULL))
		pol->ours = true;
	cli_reply_free(&r);
	vigil_buf_free(&yaml);
	return pol->ours ? NULL : pt_dup_printf("loading %s: %s", path, err ? err : "?");
}

char *pt_unload_policy(const struct pt_opts *o, struct pt_policy *pol)
{
	struct cli_reply r;
	char *err = NULL;

	if (!pol->ours)
		return NULL;
	ask(o, 30000, &r, &err, "cmd", "policy_delete", "name", pol->name, NULL);
	cli_reply_free(&r);
	return err;
}

char *pt_agent_check(const struct pt_opts *o)
{
	struct cli_reply r;
	char *err = NULL;

	ask(o, 10000, &r, &err, "cmd", "policy_list", NULL);
	cli_reply_free(&r);
	return err;
}

/* "name{...,label=\"value\",...}": does the key carry label="value"? */
static bool has_label(const msgpack_object *k, const char *label, const char *value)
{
	char want[320];
	size_t n = (size_t)snprintf(want, sizeof(want), "%s=\"%s\"", label, value), i;

	for (i = 0; n < sizeof(want) && i + n <= k->via.str.size; i++)
		if (!memcmp(k->via.str.ptr + i, want, n) && (k->via.str.ptr[i - 1] == '{' || k->via.str.ptr[i - 1] == ','))
			return true;
	return false;
}

char *pt_action_counts(const struct pt_opts *o, const char *policy, uint64_t out[2 * PT_ACTIONS])
{
	static const char series[] = "vigil_policy_selector_actions_total{";
	const msgpack_object *metrics;
	struct cli_reply r;
	char *err = NULL, name[32];
	uint32_t i;
	size_t a;

	memset(out, 0, 2 * PT_ACTIONS * sizeof(*out));
	if (ask(o, 10000, &r, &err, "cmd", "status", NULL)) {
		cli_reply_free(&r);
		return err;
	}
	metrics = vigil_msgpack_get(r.root, "metrics");
	for (i = 0; metrics && metrics->type == MSGPACK_OBJECT_MAP && i < metrics->via.map.size; i++) {
		const msgpack_object *k = &metrics->via.map.ptr[i].key, *v = &metrics->via.map.ptr[i].val;

		if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    k->via.str.size < sizeof(series) - 1 || memcmp(k->via.str.ptr, series, sizeof(series) - 1) ||
		    !has_label(k, "policy", policy))
			continue;
		for (a = 0; a < 2 * PT_ACTIONS; a++) {
			snprintf(name, sizeof(name), "%s%s", a < PT_ACTIONS ? "" : "monitor_", pt_action_names[a % PT_ACTIONS]);
			if (has_label(k, "action", name))
				out[a] += v->via.u64;
		}
	}
	cli_reply_free(&r);
	return NULL;
}
