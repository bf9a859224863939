/* test_policy_explain.c - vigil_policy_explain: the schema `vigil explain` prints is the
 * parser's own tables, reached through explain.c's example policies. Every object the parser
 * walks must be reachable (an example that stops parsing shows up here as missing paths),
 * and what it says of a field is what the parser does. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

struct found {
	char names[64][32];
	struct vigil_policy_field_info want;	/* the field looked for, copied */
	bool have;
	size_t n;
	const char *look_for;
};

static void collect(void *ctx, const struct vigil_policy_field_info *f)
{
	struct found *x = ctx;

	if (x->n < 64)
		snprintf(x->names[x->n++], sizeof(x->names[0]), "%s", f->name);
	if (x->look_for && !strcmp(f->name, x->look_for)) {
		x->want = *f;
		x->have = true;
	}
}

static bool has(const struct found *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (!strcmp(x->names[i], name))
			return true;
	return false;
}

static struct found explain(const char *path, const char *look_for)
{
	struct found x = {.look_for = look_for};
	int rc = vigil_policy_explain(path, collect, &x, NULL);

	if (rc)
		fail_msg("explain \"%s\": %d", path, rc);
	return x;
}

/* every object the parser walks, with one field each must list */
static void test_every_object_the_parser_walks_is_explained(void **state)
{
	static const struct {
		const char *path, *field;
	} objects[] = {
		{"", "apiVersion"}, {"metadata", "name"}, {"spec", "kprobes"}, {"spec.kprobes", "call"},
		{"spec.fentries", "call"}, {"spec.kprobes.ignore", "callNotFound"}, {"spec.kprobes.args", "index"},
		{"spec.kprobes.returnArg", "type"}, {"spec.kprobes.data", "source"}, {"spec.kprobes.selectors", "matchArgs"},
		{"spec.kprobes.selectors.matchPIDs", "followForks"}, {"spec.kprobes.selectors.matchArgs", "operator"},
		{"spec.kprobes.selectors.matchData", "values"}, {"spec.kprobes.selectors.matchReturnArgs", "index"},
		{"spec.kprobes.selectors.matchBinaries", "followChildren"},
		{"spec.kprobes.selectors.matchParentBinaries", "values"},
		{"spec.kprobes.selectors.matchNamespaces", "namespace"},
		{"spec.kprobes.selectors.matchNamespaceChanges", "operator"},
		{"spec.kprobes.selectors.matchCapabilities", "isNamespaceCapability"},
		{"spec.kprobes.selectors.matchCapabilityChanges", "type"},
		{"spec.kprobes.selectors.matchActions", "action"}, {"spec.kprobes.selectors.matchReturnActions", "action"},
		{"spec.tracepoints", "subsystem"}, {"spec.lsmhooks", "hook"}, {"spec.uprobes", "symbols"},
		{"spec.usdts", "provider"}, {"spec.lists", "pattern"}, {"spec.options", "value"},
		{"spec.enforcers", "calls"}, {"spec.podSelector", "matchLabels"},
		{"spec.podSelector.matchExpressions", "key"}, {"spec.containerSelector", "matchExpressions"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		struct found x = explain(objects[i].path, NULL);

		if (!has(&x, objects[i].field))
			fail_msg("explain \"%s\" lists no \"%s\"", objects[i].path, objects[i].field);
	}
}

static void test_a_field_says_its_type_and_whether_it_is_required(void **state)
{
	struct found call = explain("spec.kprobes", "call"), sel = explain("spec.kprobes", "selectors");
	struct found idx = explain("spec.kprobes.args", "index");
	const char *type = NULL;

	(void)state;
	assert_true(call.have && call.want.required);
	assert_string_equal(call.want.type, "string");
	assert_true(sel.have && sel.want.has_fields);
	assert_string_equal(sel.want.type, "[]object");
	assert_string_equal(idx.want.type, "integer");
	assert_int_equal(vigil_policy_explain("spec.kprobes", NULL, NULL, &type), 0);
	assert_string_equal(type, "[]object");
	/* a leaf: no fields of its own, its type still known */
	assert_int_equal(vigil_policy_explain("spec.kprobes.call", NULL, NULL, &type), -ENOENT);
	assert_string_equal(type, "string");
}

static void test_refused_and_ignored_fields_say_so_with_the_parsers_reason(void **state)
{
	struct found node = explain("spec", "nodeSelector"), wl = explain("spec.kprobes.selectors", "matchWorkloads");
	struct found validated = explain("spec.lists", "validated"), kp = explain("spec", "kprobes");
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;
	static const char doc[] = "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: x\n"
				  "spec:\n  nodeSelector: {matchLabels: {a: b}}\n";

	(void)state;
	assert_non_null(node.want.refused);
	assert_non_null(strstr(node.want.refused, "Kubernetes"));
	/* the parser refuses it with that same reason */
	assert_int_not_equal(vigil_policy_parse("x.yaml", doc, sizeof(doc) - 1, &p, &err), 0);
	assert_non_null(strstr(err.reason, node.want.refused));
	assert_non_null(wl.want.refused);
	assert_true(validated.have && validated.want.ignored && !validated.want.refused);
	assert_true(kp.have && !kp.want.refused && !kp.want.ignored);
}

static void test_a_path_the_parser_does_not_walk_is_enoent(void **state)
{
	const char *type = "x";

	(void)state;
	assert_int_equal(vigil_policy_explain("spec.nosuch", NULL, NULL, &type), -ENOENT);
	assert_null(type);
	assert_int_equal(vigil_policy_explain("spec.kprobes.selectors.matchArgs.nosuch.deeper", NULL, NULL, NULL), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_object_the_parser_walks_is_explained),
		cmocka_unit_test(test_a_field_says_its_type_and_whether_it_is_required),
		cmocka_unit_test(test_refused_and_ignored_fields_say_so_with_the_parsers_reason),
		cmocka_unit_test(test_a_path_the_parser_does_not_walk_is_enoent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
